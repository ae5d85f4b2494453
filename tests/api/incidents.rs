//! Incident war rooms through the neutral layer and the console, against Postgres, on a
//! controlled clock: declare, roles, updates on a cadence, notices with four eyes, capture
//! from the room, nags, the review.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use futures::future::join_all;
use steward::domain::incident::{Incident, IncidentState};
use steward::platform::console::{Console, ConsoleChat, ConsoleOutput};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card};
use crate::support::{TestApp, text_of};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn run_console(app: &TestApp, input: &str) -> String {
    let captured = Captured::default();
    let output = ConsoleOutput::new(Box::new(captured.clone()));
    let port: Arc<dyn ChatPort> = Arc::new(ConsoleChat::new(output.clone()));
    let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
    let console = Console::new(app.services.clone(), dispatcher, output, false).unwrap();
    console.run(input.as_bytes()).await.unwrap();
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

async fn incident(app: &TestApp, id: i64) -> Incident {
    storage::items::get::<Incident>(&app.pool, id).await.unwrap().unwrap()
}

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("incident:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

async fn timeline_len(app: &TestApp, id: i64) -> usize {
    storage::incidents::timeline(&app.pool, id).await.unwrap().len()
}

/// The script of issue 13, in one console session. `/say` prints message 4: the card (1) and
/// the room's first message (2) of the declaration, the role's thread line (3; the card's
/// update keeps its number), then the `/say` itself.
const SCRIPT: &str = "\
/incident declare sev2 Invoices not generated accounts=ACME-1042
/incident role 1 commander sam
/as sam
/say inc-1 Found the failing job
/pin 4
/incident update 1 Mitigation in progress
/incident notice 1 ACME-1042 We are investigating delayed invoices
/as ada
/incident approve 1 1
/incident sent 1 1
/as sam
/incident mitigated 1
/incident resolve 1 Expired certificate on the billing job
/incident review 1
";

#[tokio::test]
async fn the_issue_console_script_ends_in_a_review_with_the_pinned_message_durations_commander_and_notice()
 {
    let app = TestApp::spawn().await;
    let out = run_console(&app, SCRIPT).await;
    assert!(out.contains("[#inc-1] message 4\nSam Sutherland: Found the failing job"), "{out}");
    assert!(out.contains("Pinned to incident #1's timeline."), "{out}");
    let review = &out[out.find("Post-incident review").expect("a review")..];
    for line in [
        "Post-incident review · incident #1 · SEV2 · Invoices not generated",
        // Dated timeline, with the pinned message under its author.
        "2026-11-23 10:00 CET · Alice Archer · declared SEV2 \"Invoices not generated\"",
        "2026-11-23 10:00 CET · Sam Sutherland · pinned from the room: \"Found the failing job\"",
        "2026-11-23 10:00 CET · Ada Admin · customer notice 1 for ACME-1042 approved",
        // Durations, each with its definition.
        "Time to acknowledge: 0m (declared → someone took the commander role)",
        "Time to resolve: 0m (declared → resolved)",
        "Time to first customer notice: 0m (declared → the first notice marked sent)",
        "Commander: Sam Sutherland",
        "notice 1 by Sam Sutherland, approved by Ada Admin · sent 2026-11-23 10:00 CET by Ada Admin: \"We are investigating delayed invoices\"",
    ] {
        assert!(review.contains(line), "{line} missing from:\n{review}");
    }
    assert_eq!(incident(&app, 1).await.state, IncidentState::Resolved);
    let actions = audit_actions(&app, 1).await;
    assert_eq!(
        actions,
        [
            "declare",
            "role",
            "update",
            "notice",
            "notice_approve",
            "notice_sent",
            "mitigated",
            "resolve"
        ]
    );
}

/// Settings with a second team and a person in it (`olga`), who is no member of the demo
/// team's incidents until she joins.
fn with_other_team() -> steward::config::Settings {
    use steward::config::{PersonConfig, TeamConfig};
    use steward::domain::ids::{PersonKey, TeamKey};
    let mut settings = crate::support::demo_settings();
    settings.teams.push(TeamConfig {
        key: TeamKey::parse("accounts-apac").unwrap(),
        name: "Accounts APAC".into(),
        time_zone: chrono_tz::Asia::Singapore,
        channels: Default::default(),
        hours: None,
        holidays: Vec::new(),
    });
    settings.people.push(PersonConfig {
        key: PersonKey::parse("olga").unwrap(),
        name: "Olga Ong".into(),
        team: TeamKey::parse("accounts-apac").unwrap(),
        roles: Vec::new(),
        time_zone: None,
        skills: Vec::new(),
        slack: None,
        discord: None,
        console: None,
        shift: None,
        out_of_office: Vec::new(),
    });
    settings
}

/// A console command typed in channel `channel` (e.g. an incident's room).
async fn command_in(app: &TestApp, channel: &str, user: &str, line: &str) -> String {
    let key = format!("test:{}", uuid::Uuid::new_v4());
    let mut inbound = crate::support::command_inbound(&key, user, line);
    inbound.channel = channel.into();
    text_of(&app.services.handle_inbound(inbound).await)
}

async fn declare(app: &TestApp) {
    let reply = app
        .command("alice", "/incident declare sev2 Invoices not generated accounts=ACME-1042")
        .await;
    assert!(text_of(&reply).contains("Declared incident #1 (SEV2)"), "{}", text_of(&reply));
}

#[tokio::test]
async fn durations_follow_the_clock_and_the_review_lists_severity_changes_credits_and_actions() {
    let app = TestApp::spawn().await;
    declare(&app).await;
    app.clock.advance(Duration::minutes(4));
    app.command("alice", "/incident role 1 commander sam").await;
    app.clock.advance(Duration::minutes(6));
    app.command("sam", "/incident severity 1 sev1").await;
    let credit =
        app.command("alice", "/credit ACME-1042 250.00 USD goodwill Invoice run failed").await;
    assert!(text_of(&credit).contains("#1"), "{}", text_of(&credit));
    app.command("sam", "/incident notice 1 ACME-1042 We are investigating").await;
    app.clock.advance(Duration::minutes(5));
    app.command("ada", "/incident approve 1 1").await;
    app.command("ada", "/incident sent 1 1").await;
    app.clock.advance(Duration::minutes(15));
    app.command("sam", "/incident mitigated 1").await;
    app.clock.advance(Duration::minutes(30));
    app.command("sam", "/incident resolve 1 Expired certificate").await;
    let action =
        app.command("sam", "/incident action 1 alice 2026-11-30 Monitor certificate expiry").await;
    assert!(
        text_of(&action).contains("Action item 1 for Alice Archer (due 2026-11-30)"),
        "{}",
        text_of(&action)
    );

    let review = text_of(&app.command("alice", "/incident review 1").await);
    for line in [
        "Time to acknowledge: 4m",
        "Time to first customer notice: 15m",
        "Time to mitigate: 30m",
        "Time to resolve: 1h",
        "SEV2 → SEV1 by Sam Sutherland",
        "· ACME-1042 · 250.00 USD · pending · requested 2026-11-23 09:10 GMT: goodwill",
        "1. Monitor certificate expiry · owner Alice Archer · due 2026-11-30",
        "2026-11-23 09:10 GMT · Sam Sutherland · severity SEV2 → SEV1",
    ] {
        assert!(review.contains(line), "{line} missing from:\n{review}");
    }
    audit_actions(&app, 1).await;
}

#[tokio::test]
async fn bad_input_gets_a_precise_private_answer_and_writes_nothing() {
    let app = TestApp::spawn_with(with_other_team()).await;
    let unknown_account = app.command("alice", "/incident declare sev1 Down accounts=NOPE-1").await;
    assert!(
        text_of(&unknown_account).contains("There is no account `NOPE-1`"),
        "{}",
        text_of(&unknown_account)
    );
    assert!(storage::incidents::list(&app.pool, true, 10).await.unwrap().is_empty());

    declare(&app).await;
    let before = (audit_actions(&app, 1).await.len(), timeline_len(&app, 1).await);
    let cases = [
        ("/incident note 9 Hello", "There is no incident #9."),
        ("/incident note Hello", "Which incident? Give its number"),
        ("/incident role 1 commander nobody", "There is no person `nobody`"),
        (
            "/incident role 1 scribe olga",
            "Olga Ong is not in this incident's team and has not joined it",
        ),
        ("/incident account 1 add NOPE-1", "There is no account `NOPE-1`"),
        ("/incident account 1 remove GLOBEX-7", "GLOBEX-7 is not an affected account"),
        ("/incident notice 1 GLOBEX-7 Hello", "GLOBEX-7 is not an affected account"),
        ("/incident approve 1 1", "This incident has no notice 1."),
        ("/incident reopen 1", "not resolved"),
        ("/incident severity 1 sev2", "already SEV2"),
        ("/incident action 1 nobody 2026-12-01 Fix", "There is no person `nobody`"),
        ("/incident role 1 boss sam", "Usage: /incident role <id>"),
    ];
    for (line, expected) in cases {
        let reply = app.command("alice", line).await;
        assert!(reply.ephemeral, "{line}");
        assert!(text_of(&reply).contains(expected), "{line}: {}", text_of(&reply));
    }
    assert_eq!((audit_actions(&app, 1).await.len(), timeline_len(&app, 1).await), before);

    // Four eyes: the author of a notice may not approve it, even holding the comms role.
    app.command("ada", "/incident notice 1 ACME-1042 We are investigating").await;
    let own = app.command("ada", "/incident approve 1 1").await;
    assert!(text_of(&own).contains("You wrote this notice"), "{}", text_of(&own));
    let no_role = app.command("alice", "/incident approve 1 1").await;
    assert!(
        text_of(&no_role).contains("Only the incident's comms holder"),
        "{}",
        text_of(&no_role)
    );
    assert_eq!(incident(&app, 1).await.notices[0].approved, None);

    // Once she joined, a member of another team may hold a role.
    app.command("olga", "/incident join 1").await;
    let role = app.command("alice", "/incident role 1 scribe olga").await;
    assert!(text_of(&role).contains("Olga Ong is now the scribe"), "{}", text_of(&role));
}

#[tokio::test]
async fn inside_the_room_the_id_may_be_left_out() {
    let app = TestApp::spawn().await;
    declare(&app).await;
    let reply = command_in(&app, "inc-1", "sam", "/incident note Restarted the invoice job").await;
    assert!(reply.contains("Noted on incident #1's timeline."), "{reply}");
    let reply = command_in(&app, "inc-1", "sam", "/steward incident severity 1").await;
    assert!(reply.contains("Incident #1 is now SEV1."), "{reply}");
    let elsewhere = command_in(&app, "emea-ops", "sam", "/incident note Hello").await;
    assert!(elsewhere.contains("Which incident?"), "{elsewhere}");
}

#[tokio::test]
async fn the_card_claims_command_once_even_for_double_and_concurrent_clicks() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    declare(&app).await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "inc:1");
    assert_eq!(field(&card, "Commander"), "unassigned");
    let claim = button(&card, "I'm commander");
    let join = button(&card, "Join");

    // Four people press "I'm commander" at once: one takes command, the others see the card.
    let clicks = ["sam", "fran", "ada", "alice"].map(|user| {
        let services = app.services.clone();
        let claim = claim.clone();
        tokio::spawn(async move {
            let inbound = steward::domain::inbound::Inbound {
                dedupe_key: steward::domain::inbound::Inbound::click_dedupe_key(
                    steward::domain::ids::Platform::Console,
                    user,
                    &claim,
                ),
                platform: steward::domain::ids::Platform::Console,
                workspace: None,
                actor: user.into(),
                channel: "emea-ops".into(),
                kind: steward::domain::inbound::InboundKind::Action { action: claim },
            };
            text_of(&services.handle_inbound(inbound).await)
        })
    });
    let replies: Vec<String> = join_all(clicks).await.into_iter().map(Result::unwrap).collect();
    let won = replies.iter().filter(|r| r.contains("You are now the commander")).count();
    assert_eq!(won, 1, "{replies:#?}");
    let commander = incident(&app, 1).await.roles.commander.unwrap();

    // A double click by the winner is one intent: the same answer, nothing more written.
    let again = text_of(&app.click(commander.as_str(), &claim, None).await);
    assert!(again.contains("You are now the commander"), "{again}");
    assert_eq!(audit_actions(&app, 1).await, ["declare", "role"]);

    // "Join" on the old card is stale: the current card comes back privately. The joiner is
    // one who lost the race (the declarer and the commander are members already).
    let joiner = ["sam", "fran", "ada"].into_iter().find(|p| *p != commander.as_str()).unwrap();
    let stale = app.click(joiner, &join, None).await;
    assert!(text_of(&stale).contains("changed since this card was shown"), "{}", text_of(&stale));
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "inc:1");
    assert!(card.buttons.iter().all(|b| b.label != "I'm commander"), "{card:#?}");
    let joined = app.click(joiner, &button(&card, "Join"), None).await;
    assert!(text_of(&joined).contains("You joined incident #1."), "{}", text_of(&joined));
}

#[tokio::test]
async fn nags_go_to_the_supervisor_without_a_commander_then_to_comms_and_commander_when_an_update_is_overdue()
 {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    declare(&app).await;
    app.clock.advance(Duration::minutes(4));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert!(dms(&chat).is_empty(), "too early: {:?}", dms(&chat));
    app.clock.advance(Duration::minutes(1));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let nagged = dms(&chat);
    assert_eq!(nagged.len(), 1, "{nagged:?}");
    assert_eq!(nagged[0].0, "sam");
    assert!(nagged[0].1.contains("has had no commander for 5m"), "{nagged:?}");

    app.command("alice", "/incident role 1 commander sam").await;
    app.command("alice", "/incident role 1 comms ada").await;
    // The first update was due an hour after declare: comms is reminded once, then the commander.
    app.clock.advance(Duration::minutes(56));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let after_due: Vec<_> = dms(&chat).into_iter().skip(1).collect();
    assert_eq!(after_due.len(), 1, "{after_due:?}");
    assert_eq!(after_due[0].0, "ada");
    assert!(after_due[0].1.contains("was due 2026-11-23 10:00 GMT"), "{after_due:?}");
    app.clock.advance(Duration::minutes(10));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let after_due: Vec<String> = dms(&chat).into_iter().skip(1).map(|(user, _)| user).collect();
    assert_eq!(after_due, ["ada", "sam"]);
    // An update moves the due time; nothing more is sent for the old one.
    app.command("ada", "/incident update 1 Still on it").await;
    app.clock.advance(Duration::minutes(30));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(dms(&chat).len(), 3, "{:?}", dms(&chat));
}

#[tokio::test]
async fn a_room_message_goes_on_the_timeline_once_and_follows_its_edits_and_delete() {
    use steward::domain::inbound::{Inbound, InboundKind};
    use steward::domain::incident::timeline::{CaptureHow, Happening, RoomChange, RoomMessage};
    let app = TestApp::spawn().await;
    declare(&app).await;
    let posted_at = app.now() - Duration::minutes(3);
    let event = |key: &str, change: RoomChange, text: &str| Inbound {
        dedupe_key: key.into(),
        platform: steward::domain::ids::Platform::Console,
        workspace: None,
        actor: "sam".into(),
        channel: "inc-1".into(),
        kind: InboundKind::RoomMessage(RoomMessage {
            channel: "inc-1".into(),
            message_id: "17".into(),
            author: "vendor-bot".into(),
            author_name: Some("Vendor Bot".into()),
            text: text.into(),
            posted_at,
            change,
        }),
    };
    let pin = RoomChange::Captured(CaptureHow::Pin);
    let first = app.services.handle_inbound(event("e1", pin, "Certificate expired")).await;
    assert!(text_of(&first).contains("Pinned to incident #1's timeline."));
    // The same event redelivered, and a second capture (a reaction) of the same message.
    app.services.handle_inbound(event("e1", pin, "Certificate expired")).await;
    let reaction = RoomChange::Captured(CaptureHow::Reaction);
    let second = app.services.handle_inbound(event("e2", reaction, "Certificate expired")).await;
    assert!(text_of(&second).contains("already on incident #1's timeline"));
    assert_eq!(timeline_len(&app, 1).await, 2);

    app.services
        .handle_inbound(event("e3", RoomChange::Edited, "Certificate expired at 08:55"))
        .await;
    app.services.handle_inbound(event("e4", RoomChange::Deleted, "")).await;
    let timeline = storage::incidents::timeline(&app.pool, 1).await.unwrap();
    // Kept at its own time (before the declaration's entry) and by its platform name.
    let entry = &timeline[0];
    assert_eq!((entry.at, entry.author.as_str()), (posted_at, "Vendor Bot"));
    assert_eq!(
        entry.happening,
        Happening::Captured { text: "Certificate expired at 08:55".into() }
    );
    assert!(entry.edited_at.is_some() && entry.deleted_at.is_some());

    let outside = Inbound { channel: "emea-ops".into(), ..event("e5", pin, "x") };
    let outside = Inbound {
        kind: match outside.kind {
            InboundKind::RoomMessage(m) => {
                InboundKind::RoomMessage(RoomMessage { channel: "emea-ops".into(), ..m })
            }
            other => other,
        },
        ..outside
    };
    let refused = app.services.handle_inbound(outside).await;
    assert!(
        text_of(&refused).contains("#emea-ops is not an incident's room"),
        "{}",
        text_of(&refused)
    );
}

fn steward(args: &[&str], url: &str, stdin: &str) -> std::process::Output {
    use std::process::{Command, Stdio};
    let state_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_binary_runs_the_script_on_a_fresh_database_and_prints_the_review_as_markdown() {
    let db = crate::support::TestDb::create().await;
    let url = db.url();
    let console = steward(&["console"], &url, SCRIPT);
    let stdout = String::from_utf8_lossy(&console.stdout);
    assert!(console.status.success(), "{console:?}");
    assert!(stdout.contains("Pinned to incident #1's timeline."), "{stdout}");

    let review = steward(&["incident", "review", "1", "--format", "markdown"], &url, "");
    let text = String::from_utf8_lossy(&review.stdout);
    assert!(review.status.success(), "{review:?}");
    for line in [
        "# Post-incident review · incident #1 · SEV2 · Invoices not generated",
        "## Durations (each measured from the declaration)",
        "- Time to acknowledge: ",
        "- Commander: Sam Sutherland",
        "Sam Sutherland · pinned from the room: \"Found the failing job\"",
        "approved by Ada Admin · sent ",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    let unknown = steward(&["incident", "review", "7"], &url, "");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("There is no incident #7."),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn action_items_remind_their_owner_before_and_when_due_and_a_customer_owed_an_update_is_chased()
 {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    declare(&app).await;
    app.command("alice", "/incident role 1 commander sam").await;
    app.command("sam", "/incident notice 1 ACME-1042 We are investigating").await;
    app.command("ada", "/incident approve 1 1").await;
    app.command("ada", "/incident sent 1 1").await;
    app.command("sam", "/incident action 1 alice 2026-11-25 Renew the certificate").await;
    let reminders = |chat: &RecordingChat| -> Vec<(String, String)> { dms(chat) };

    // The customer was owed the next update two hours after the notice went out.
    app.clock.advance(Duration::minutes(119));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert!(reminders(&chat).iter().all(|(_, t)| !t.contains("owed")), "{:?}", reminders(&chat));
    app.clock.advance(Duration::minutes(1));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let owed: Vec<_> = reminders(&chat).into_iter().filter(|(_, t)| t.contains("owed")).collect();
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(owed[0].0, "sam", "no comms holder: the commander is chased");
    assert!(
        owed[0].1.contains("ACME-1042 was owed its next customer update by 2026-11-23 11:00 GMT")
    );

    // A day before 09:00 on the due date, then on it; once each.
    app.clock.set(crate::support::t0() + Duration::days(1));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let to_alice = |chat: &RecordingChat| -> Vec<String> {
        dms(chat).into_iter().filter(|(u, _)| u == "alice").map(|(_, t)| t).collect()
    };
    assert_eq!(to_alice(&chat).len(), 1, "{:?}", to_alice(&chat));
    assert!(to_alice(&chat)[0].contains("Action item 1 of incident #1 \"Invoices not generated\" is due soon (2026-11-25): Renew the certificate"));
    app.clock.set(crate::support::t0() + Duration::days(2));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(to_alice(&chat).len(), 2);
    assert!(to_alice(&chat)[1].contains("is due today"));
}

/// A `reaction_added` event on message `ts` of channel `room`.
fn reaction_event(event_id: &str, user: &str, emoji: &str, room: &str, ts: &str) -> String {
    serde_json::json!({
        "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
        "event_id": event_id, "event_time": 1_763_888_400,
        "event": {
            "type": "reaction_added", "user": user, "reaction": emoji, "item_user": "U0VENDOR",
            "item": { "type": "message", "channel": room, "ts": ts }, "event_ts": ts,
        },
    })
    .to_string()
}

#[tokio::test]
async fn on_slack_pins_and_pin_reactions_in_the_room_go_on_the_timeline_once_and_forged_events_are_401()
 {
    use crate::slack::{FORM, SAM, SlackStory};
    use axum::http::StatusCode;
    use steward::config::SlackTransport;
    use steward::domain::ids::Platform;
    use steward::domain::incident::Room;
    use steward::platform::slack::http::{COMMANDS_PATH, EVENTS_PATH};
    // The room channel Steward makes on the fake (its first channel).
    const ROOM: &str = "C0ROOM1";
    let story = SlackStory::start(SlackTransport::Http).await;
    let (status, body) =
        story.slash(SAM, "/incident", "declare sev1 Checkout down accounts=ACME-1042").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.to_string().contains("Declared incident #1 (SEV1)"), "{body}");
    story.flush().await;
    let cards: Vec<_> = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["blocks"].to_string().contains("Incident #1"))
        .filter(|c| c.params["channel"] == crate::slack::CHANNEL)
        .collect();
    assert_eq!(cards.len(), 1, "the summary card is posted once");
    // The room as its creation reports it (again: a retry must not record it again).
    for _ in 0..2 {
        let mut tx = steward::storage::Tx::begin(&story.app.pool).await.unwrap();
        let mut effects = story.app.services.effects();
        let room = Room { platform: Platform::Slack, channel: ROOM.into() };
        let now = story.app.now();
        steward::services::incidents::room_opened(
            story.app.services.setup(),
            &mut tx,
            &mut effects,
            1,
            room,
            now,
        )
        .await
        .unwrap();
        steward::storage::effects::write_all(tx.conn().await.unwrap(), &effects, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(audit_actions(&story.app, 1).await, ["declare", "room"]);
    let entries_before = timeline_len(&story.app, 1).await;

    let json = "application/json";
    let pin = reaction_event("Ev1", SAM, "pushpin", ROOM, "1795424100.000200");
    for _ in 0..3 {
        assert_eq!(story.send(EVENTS_PATH, json, pin.clone()).await.0, StatusCode::OK);
    }
    // Another person's pin reaction on the same message, another emoji, another channel.
    let same = reaction_event("Ev2", crate::slack::ALICE, "pushpin", ROOM, "1795424100.000200");
    let tada = reaction_event("Ev3", SAM, "tada", ROOM, "1795424101.000000");
    let elsewhere = reaction_event("Ev4", SAM, "pushpin", "C0OPS", "1795424102.000000");
    for event in [same, tada, elsewhere] {
        assert_eq!(story.send(EVENTS_PATH, json, event).await.0, StatusCode::OK);
    }
    let pinned = serde_json::json!({
        "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "event_id": "Ev5",
        "event": { "type": "pin_added", "user": SAM, "channel_id": ROOM, "item": { "type": "message",
            "message": { "user": "U0VENDOR", "text": "Rolled back the deploy", "ts": "1795424160.000000" } } },
    })
    .to_string();
    assert_eq!(story.send(EVENTS_PATH, json, pinned.clone()).await.0, StatusCode::OK);
    let forged = (story.app.now().timestamp(), "v0=forged".to_owned());
    let (status, _) =
        story.send_with(EVENTS_PATH, json, pinned.replace("Ev5", "Ev6"), Some(forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(timeline_len(&story.app, 1).await, entries_before + 2);

    // Typed in the room, the review needs no id; the entries keep their own times and the
    // author's Slack id (someone Steward does not know).
    let form = serde_urlencoded::to_string([
        ("team_id", "T0FAKE"),
        ("channel_id", ROOM),
        ("user_id", SAM),
        ("command", "/incident"),
        ("text", "review"),
        ("response_url", "http://127.0.0.1:1/unused"),
        ("trigger_id", "trigger-review"),
    ])
    .unwrap();
    let (_, review) = story.send(COMMANDS_PATH, FORM, form).await;
    let review = review.to_string();
    assert!(
        review.contains("U0VENDOR · pinned from the room: \\\"Rolled back the deploy\\\""),
        "{review}"
    );
    assert!(
        review.contains("2026-11-23 09:55 CET · U0VENDOR · pinned a message in the room"),
        "the reaction's message keeps its time: {review}"
    );
}
