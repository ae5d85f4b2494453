//! Incident war rooms made on the platforms through the outbox: the Slack room channel
//! (created once across lost responses and two dispatchers, responders invited in batches,
//! the card copy pinned, archived after resolve), on the Slack fake.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use futures::future::join;
use serde_json::{Value, json};
use steward::config::{PersonConfig, SlackTransport};
use steward::domain::ids::{PersonKey, Platform, TeamKey};
use steward::domain::incident::room::{MAX_CHANNEL_NAME, channel_name};
use steward::domain::incident::{Incident, Room};
use steward::platform::slack::client::SlackApi;
use steward::platform::slack::http::COMMANDS_PATH;
use steward::platform::slack::port::SlackChat;
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::storage;

use crate::slack::{FORM, SAM, SlackStory};
use crate::support::slack_fake::{self, SlackFake};

/// More responders than one invite batch holds (100), and a second batch that is not full.
const RESPONDERS: usize = 150;

/// The demo organisation with [`RESPONDERS`] more people in the demo team, each on Slack.
fn with_responders() -> steward::config::Settings {
    let mut settings = crate::support::demo_settings();
    for n in 0..RESPONDERS {
        settings.people.push(PersonConfig {
            key: PersonKey::parse(&format!("resp{n:03}")).unwrap(),
            name: format!("Responder {n}"),
            team: TeamKey::parse("accounts-emea").unwrap(),
            roles: Vec::new(),
            time_zone: None,
            skills: Vec::new(),
            slack: Some(format!("U0RESP{n:03}")),
            discord: None,
            console: None,
            shift: None,
            out_of_office: Vec::new(),
        });
    }
    settings
}

/// A second dispatcher with its own Slack port: another replica of Steward.
fn replica(story: &SlackStory) -> Dispatcher {
    let api = SlackApi::new(&story.app.services.setup().settings.slack).unwrap();
    let port: Arc<dyn ChatPort> =
        Arc::new(SlackChat::new(api, story.app.clock.clone(), Duration::from_secs(1)));
    Dispatcher::new(story.app.services.clone(), vec![port])
}

/// Sends what is due through both replicas at once, moving the clock past each wait
/// (channel pacing, retry backoff) until nothing is left.
async fn settle(story: &SlackStory, other: &Dispatcher) {
    for _ in 0..20 {
        let (a, b) = join(story.dispatcher.flush(), other.flush()).await;
        a.unwrap();
        b.unwrap();
        story.app.clock.advance(chrono::Duration::seconds(30));
    }
}

/// `/incident <text>` typed by `user` in `channel`.
async fn slash_in(story: &SlackStory, channel: &str, user: &str, text: &str) -> String {
    let form = serde_urlencoded::to_string([
        ("team_id", "T0FAKE"),
        ("channel_id", channel),
        ("user_id", user),
        ("command", "/incident"),
        ("text", text),
        ("response_url", "http://127.0.0.1:1/unused"),
        ("trigger_id", &format!("trigger-{}", uuid::Uuid::new_v4())),
    ])
    .unwrap();
    let (status, body) = story.send(COMMANDS_PATH, FORM, form).await;
    assert_eq!(status, StatusCode::OK);
    body.to_string()
}

async fn incident(story: &SlackStory) -> Incident {
    storage::items::get::<Incident>(&story.app.pool, 1).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_slack_incident_gets_one_room_channel_with_responders_invited_in_batches_and_the_card_pinned()
 {
    let story = SlackStory::start_with(with_responders(), SlackTransport::Http).await;
    let other = replica(&story);
    let title = "Checkout DOWN for ÄLL customers: payments & invoices failing since the 09:00 \
                 deploy of billing-service v2.14.7 (EU region, all tiers)";
    let reply =
        slash_in(&story, crate::slack::CHANNEL, SAM, &format!("declare sev1 {title}")).await;
    assert!(reply.contains("Declared incident #1 (SEV1)"), "{reply}");
    let name = channel_name("inc-", 1, title);
    assert!(name.len() <= MAX_CHANNEL_NAME && name.starts_with("inc-1-checkout-down-for-"));
    for n in 0..RESPONDERS {
        let joined = story.app.command(&format!("resp{n:03}"), "/incident join 1").await;
        assert!(!joined.ephemeral || !crate::support::text_of(&joined).contains("refused"));
    }

    // The first create makes the channel but its answer is lost; the retry (on whichever
    // replica claims it) meets `name_taken` and finds the channel instead of making another.
    story.fake.lose_next_response_of("conversations.create");
    settle(&story, &other).await;
    let channels = story.fake.channels();
    assert_eq!(channels.len(), 1, "one room channel: {channels:?}");
    let room = &channels[0];
    assert_eq!(room.name, name);
    assert_eq!(story.fake.calls_of("conversations.create").len(), 2);
    assert!(!story.fake.calls_of("conversations.list").is_empty());
    let recorded = incident(&story).await.room;
    assert_eq!(recorded, Some(Room { platform: Platform::Slack, channel: room.id.clone() }));

    // Everybody in, in batches of at most 100, nobody twice.
    let mut expected: Vec<String> = (0..RESPONDERS).map(|n| format!("U0RESP{n:03}")).collect();
    expected.push(SAM.to_owned());
    expected.sort();
    let batches: Vec<usize> = story
        .fake
        .calls_of("conversations.invite")
        .iter()
        .map(|call| match &call.params["users"] {
            Value::Array(users) => users.len(),
            other => other.as_str().map_or(0, |u| u.split(',').count()),
        })
        .collect();
    assert_eq!(batches, [100, RESPONDERS + 1 - 100], "batches: {batches:?}");
    let mut members = room.members.clone();
    members.sort();
    assert_eq!(members, expected);

    // The card's copy in the room, posted once and pinned once.
    let copies: Vec<Value> = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["channel"] == room.id.as_str())
        .filter(|c| c.params["blocks"].to_string().contains("Incident #1"))
        .map(|c| c.params)
        .collect();
    assert_eq!(copies.len(), 1, "the card is posted into the room once");
    assert_eq!(room.pins, [copies[0]["_ts"].as_str().unwrap().to_owned()]);
    assert_eq!(story.fake.calls_of("pins.add").len(), 1);

    // Someone who joins later is invited on their own.
    let joined = slash_in(&story, &room.id, crate::slack::ALICE, "join").await;
    assert!(joined.contains("#1"), "{joined}");
    settle(&story, &other).await;
    let invites = story.fake.calls_of("conversations.invite");
    assert_eq!(invites.len(), 3);
    assert_eq!(invites[2].params["users"], json!([crate::slack::ALICE]));

    // In the room the id may be left out; a change updates the copy in place.
    let noted = slash_in(&story, &room.id, SAM, "note Rolled back the deploy").await;
    assert!(noted.contains("Noted on incident #1"), "{noted}");
    settle(&story, &other).await;
    let updated = story.fake.calls_of("chat.update");
    assert!(
        updated
            .iter()
            .any(|c| c.params["channel"] == room.id.as_str() && c.params["ts"] == copies[0]["_ts"]),
        "the room's copy is updated: {updated:?}"
    );
}

#[tokio::test]
async fn the_room_channel_is_archived_once_the_configured_delay_after_resolve() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let other = replica(&story);
    let reply = slash_in(&story, crate::slack::CHANNEL, SAM, "declare sev2 Invoices late").await;
    assert!(reply.contains("Declared incident #1"), "{reply}");
    settle(&story, &other).await;
    let room = story.fake.channels()[0].id.clone();
    let resolved = slash_in(&story, &room, SAM, "resolve Expired certificate").await;
    assert!(resolved.contains("#1"), "{resolved}");
    settle(&story, &other).await;

    // Not before `archive_after` (24 h by default) has passed since the resolve.
    let archive_after = story.app.services.setup().settings.incident.archive_after;
    story.app.clock.advance(archive_after - chrono::Duration::minutes(30));
    story.app.run_due_jobs().await;
    settle(&story, &other).await;
    assert!(story.fake.calls_of("conversations.archive").is_empty());
    story.app.clock.advance(chrono::Duration::minutes(30));
    story.app.run_due_jobs().await;
    settle(&story, &other).await;
    let archived = story.fake.calls_of("conversations.archive");
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].params["channel"], room.as_str());
    assert!(story.fake.channels()[0].archived);
    let saved = incident(&story).await;
    assert!(saved.room_archived_at.is_some());
    let timeline = storage::incidents::timeline(&story.app.pool, 1).await.unwrap();
    assert!(format!("{timeline:?}").contains("RoomArchived"), "{timeline:?}");

    // Later changes keep the team channel's card current and leave the archived room alone.
    let posts_to_room = |story: &SlackStory| {
        story
            .fake
            .calls()
            .into_iter()
            .filter(|c| c.method.starts_with("chat.") && c.params["channel"] == room.as_str())
            .count()
    };
    let before = posts_to_room(&story);
    let noted =
        slash_in(&story, crate::slack::CHANNEL, SAM, "note 1 Customer confirmed the fix").await;
    assert!(noted.contains("Noted on incident #1"), "{noted}");
    story.app.run_due_jobs().await;
    settle(&story, &other).await;
    assert_eq!(posts_to_room(&story), before);
    assert_eq!(story.fake.calls_of("conversations.archive").len(), 1);
}

/// A Web API call straight to the fake, as JSON.
async fn call_fake(fake: &SlackFake, method: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/{method}", fake.api_url()))
        .header("authorization", format!("Bearer {}", slack_fake::BOT_TOKEN))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_slack_fake_refuses_channel_names_and_invites_as_slack_does() {
    let fake = SlackFake::start().await;
    let create = |name: String| call_fake(&fake, "conversations.create", json!({ "name": name }));
    assert_eq!(create("a".repeat(81)).await["error"], "invalid_name_maxlength");
    assert_eq!(create("Inc-1".into()).await["error"], "invalid_name_specials");
    assert_eq!(create("inc 1".into()).await["error"], "invalid_name_specials");
    assert_eq!(create(String::new()).await["error"], "invalid_name_required");
    let made = create("a".repeat(80)).await;
    assert_eq!(made["ok"], true, "{made}");
    assert_eq!(create("a".repeat(80)).await["error"], "name_taken");
    let channel = made["channel"]["id"].clone();
    let users = |n: usize| (0..n).map(|i| format!("U{i}")).collect::<Vec<_>>().join(",");
    let invite = |n: usize| {
        call_fake(&fake, "conversations.invite", json!({ "channel": channel, "users": users(n) }))
    };
    assert_eq!(invite(1001).await["error"], "too_many_users");
    assert_eq!(invite(1000).await["ok"], true);
    assert_eq!(invite(3).await["error"], "already_in_channel");
}

/// The audit actions of `subject`, whose chain must verify.
async fn audit_actions(pool: &sqlx::PgPool, subject: &str) -> Vec<String> {
    let records = storage::audit_log::list_subject(pool, subject).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

#[tokio::test]
async fn open_war_room_on_an_escalation_card_declares_one_incident_under_double_and_concurrent_clicks()
 {
    use crate::support::TestApp;
    use crate::support::chat::{RecordingChat, button, field, latest_card};
    use crate::support::text_of;
    use futures::future::join_all;
    use steward::domain::escalation::Escalation;
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate ACME-1042 sev2 Invoices are not being generated").await;
    app.flush_outbox(&chat).await;
    let open = button(&latest_card(&chat, "esc:1"), "Open war room");

    // Alice double-clicks while Sam clicks too: one incident, whoever came first.
    let clicks = [("alice", &open), ("alice", &open), ("sam", &open)];
    let replies: Vec<String> = join_all(clicks.map(|(who, action)| app.click(who, action, None)))
        .await
        .iter()
        .map(text_of)
        .collect();
    let declared = replies.iter().filter(|r| r.contains("Declared incident #1 for escalation #1"));
    let shown = replies.iter().filter(|r| r.contains("war room is incident #1 already"));
    assert_eq!(declared.count() + shown.count(), 3, "{replies:?}");
    assert!(replies.iter().any(|r| r.contains("Declared incident #1")), "{replies:?}");
    assert!(storage::items::get::<Incident>(&app.pool, 2).await.unwrap().is_none());
    let incident = storage::items::get::<Incident>(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(incident.escalation, Some(1));
    assert_eq!(incident.accounts.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["ACME-1042"]);
    assert_eq!(incident.severity.as_str(), "sev2");
    assert!(incident.title.contains("Invoices are not being generated"), "{}", incident.title);
    let escalation = storage::items::get::<Escalation>(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(escalation.incident, Some(1));
    assert_eq!(audit_actions(&app.pool, "escalation:1").await.last().unwrap(), "war_room");
    assert_eq!(audit_actions(&app.pool, "incident:1").await, ["declare"]);

    // The card now names its war room and offers no second one; a click on the old card
    // shows the incident there is.
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    assert_eq!(field(&card, "War room"), "incident #1");
    assert!(!card.buttons.iter().any(|b| b.label == "Open war room"));
    let again = text_of(&app.click("ada", &open, None).await);
    assert!(again.contains("incident #1"), "{again}");
    assert!(storage::items::get::<Incident>(&app.pool, 2).await.unwrap().is_none());
}

#[tokio::test]
async fn notice_buttons_approve_with_four_eyes_then_mark_sent_on_the_summary_card() {
    use crate::support::TestApp;
    use crate::support::chat::{RecordingChat, button, latest_card};
    use crate::support::text_of;
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    let incident = |app: &TestApp| {
        let pool = app.pool.clone();
        async move { storage::items::get::<Incident>(&pool, 1).await.unwrap().unwrap() }
    };
    app.command("alice", "/incident declare sev2 Invoices late accounts=ACME-1042").await;
    let drafted =
        text_of(&app.command("alice", "/incident notice 1 ACME-1042 We are investigating").await);
    assert!(drafted.contains("1"), "{drafted}");
    app.flush_outbox(&chat).await;
    let approve = button(&latest_card(&chat, "inc:1"), "Approve notice 1");

    // Four eyes, server side: the author and someone without the comms role are refused,
    // and nothing is written.
    let version = incident(&app).await.version;
    let own = text_of(&app.click("alice", &approve, None).await);
    assert!(own.contains("You wrote this notice"), "{own}");
    let not_comms = text_of(&app.click("fran", &approve, None).await);
    assert!(not_comms.contains("comms role"), "{not_comms}");
    assert_eq!(incident(&app).await.version, version);

    let approved = text_of(&app.click("ada", &approve, None).await);
    assert!(approved.contains("Notice 1 of incident #1 approved"), "{approved}");
    let stale = text_of(&app.click("sam", &approve, None).await);
    assert!(stale.contains("Notice 1 is already approved"), "{stale}");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "inc:1");
    assert!(!card.buttons.iter().any(|b| b.label == "Approve notice 1"));
    let sent = text_of(&app.click("ada", &button(&card, "Mark notice 1 sent"), None).await);
    assert!(sent.contains("Notice 1 of incident #1 marked sent"), "{sent}");
    let saved = incident(&app).await;
    let stamp = saved.notices[0].sent.as_ref().expect("sent");
    assert_eq!((stamp.by.as_str(), stamp.at), ("ada", app.now()));
    assert!(saved.accounts[0].next_customer_update_by.is_some());
    app.flush_outbox(&chat).await;
    assert!(!latest_card(&chat, "inc:1").buttons.iter().any(|b| b.label.contains("notice")));

    // Many drafts: the oldest four have their button, the rest are approved by command.
    for n in 0..6 {
        app.command("alice", &format!("/incident notice 1 ACME-1042 Update {n}")).await;
    }
    app.flush_outbox(&chat).await;
    let labels: Vec<String> = latest_card(&chat, "inc:1")
        .buttons
        .iter()
        .filter(|b| b.label.contains("notice"))
        .map(|b| b.label.clone())
        .collect();
    assert_eq!(
        labels,
        ["Approve notice 2", "Approve notice 3", "Approve notice 4", "Approve notice 5"]
    );
}

/// The body of `/digest standup` as Sam previews it.
async fn standup_body(app: &crate::support::TestApp) -> String {
    let reply = app.command("sam", "/digest standup").await;
    reply.message.card.and_then(|c| c.body).unwrap_or_default()
}

#[tokio::test]
async fn the_standup_lists_incident_action_items_due_by_their_owner() {
    use crate::support::TestApp;
    use crate::support::text_of;
    // Monday 2026-11-23: one action due today, one overdue, one next week.
    let app = TestApp::spawn().await;
    app.command("alice", "/incident declare sev2 Invoices late accounts=ACME-1042").await;
    for line in [
        "/incident action 1 fran 2026-11-23 Renew the billing certificate",
        "/incident action 1 sam 2026-11-20 Write the RCA",
        "/incident action 1 alice 2026-11-30 Add an alert on the invoice job",
    ] {
        let reply = text_of(&app.command("alice", line).await);
        assert!(reply.contains("#1"), "{line}: {reply}");
    }
    let standup = standup_body(&app).await;
    assert!(
        standup.contains(
            "Fran Fischer: Incident #1 (action 1: Renew the billing certificate), action item due"
        ),
        "{standup}"
    );
    assert!(
        standup.contains(
            "Sam Sutherland: Incident #1 (action 2: Write the RCA), action item due, breached"
        ),
        "{standup}"
    );
    assert!(!standup.contains("Add an alert"), "not due yet: {standup}");

    // A week later the third is due too.
    app.clock.advance(chrono::Duration::days(7));
    let standup = standup_body(&app).await;
    assert!(standup.contains("Alice Archer: Incident #1 (action 3: Add an alert"), "{standup}");
}

/// An `/incident …` command typed on Discord by `user` in `channel`.
async fn discord_incident(
    t: &crate::support::discord::DiscordTest,
    user: &str,
    channel: &str,
    args: &str,
) -> String {
    let mut inbound =
        crate::support::command_inbound(&format!("discord:{}", t.next_id()), user, "/incident");
    inbound.platform = Platform::Discord;
    inbound.channel = channel.to_owned();
    inbound.kind = steward::domain::inbound::InboundKind::Command {
        name: "incident".into(),
        args: args.into(),
    };
    crate::support::text_of(&t.app.services.handle_inbound(inbound).await)
}

#[tokio::test]
async fn on_discord_the_room_is_a_thread_on_the_card_that_comes_late_once_after_a_long_429() {
    use crate::support::discord::{ALICE, CHANNEL, DiscordTest, FRAN, SAM};
    use crate::support::discord_fake::Failure;
    let t = DiscordTest::spawn().await;
    let declared = discord_incident(&t, SAM, CHANNEL, "declare sev1 Checkout down").await;
    assert!(declared.contains("Declared incident #1"), "{declared}");
    discord_incident(&t, FRAN, CHANNEL, "join 1").await;

    // Thread creation answers 429 with a `retry_after` of five minutes: nothing is lost and
    // no attempt is spent; the room comes once the wait is over.
    t.fake.fail_next_on("POST", "/threads", [Failure::RateLimited { retry_after: 300.0 }]);
    // The thread waits for its card to be posted (a second), then meets the 429.
    t.flush().await;
    t.app.clock.advance(chrono::Duration::seconds(2));
    t.flush().await;
    let refused = t.fake.calls_to("POST", "/threads");
    assert_eq!(refused.iter().map(|c| c.status).collect::<Vec<_>>(), [429]);
    assert!(t.fake.threads().is_empty());
    assert!(incident_of(&t.app).await.room.is_none());
    t.app.clock.advance(chrono::Duration::minutes(4));
    t.flush().await;
    assert!(t.fake.threads().is_empty(), "not before retry_after");
    t.app.clock.advance(chrono::Duration::minutes(2));
    t.flush().await;
    let threads = t.fake.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    let (thread, members) = threads.into_iter().next().unwrap();
    let card = storage::outbox::living_ref(&t.app.pool, "discord", "inc:1").await.unwrap().unwrap();
    assert_eq!(thread, card.message_id, "the thread starts from the summary card");
    let recorded = incident_of(&t.app).await.room;
    assert_eq!(recorded, Some(Room { platform: Platform::Discord, channel: thread.clone() }));
    assert_eq!(members, [SAM, FRAN], "members added one by one");
    assert_eq!(t.fake.calls_to("PUT", "/thread-members/").len(), 2);
    let room_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'room' AND state = 'sent' AND attempts = 1",
    )
    .fetch_one(&t.app.pool)
    .await
    .unwrap();
    assert_eq!(room_rows, 3, "thread + two members, each sent on its one attempt");

    // In the thread the id may be left out; whoever joins there is added to it.
    let joined = discord_incident(&t, ALICE, &thread, "join").await;
    assert!(joined.contains("You joined incident #1"), "{joined}");
    t.flush().await;
    assert_eq!(t.fake.threads()[&thread], [SAM, FRAN, ALICE]);
    assert_eq!(t.fake.calls_to("POST", "/threads").len(), 2, "the 429 and the one thread");
}

async fn incident_of(app: &crate::support::TestApp) -> Incident {
    storage::items::get::<Incident>(&app.pool, 1).await.unwrap().unwrap()
}

#[tokio::test]
async fn on_slack_an_edit_in_the_room_updates_its_entry_and_a_delete_marks_it_once() {
    use steward::domain::incident::timeline::Happening;
    use steward::platform::slack::http::EVENTS_PATH;
    let story = SlackStory::start(SlackTransport::Http).await;
    let other = replica(&story);
    slash_in(&story, crate::slack::CHANNEL, SAM, "declare sev2 Invoices late").await;
    settle(&story, &other).await;
    let room = story.fake.channels()[0].id.clone();
    let json = "application/json";
    let callback = |id: &str, event: Value| {
        json!({ "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
            "event_id": id, "event": event })
        .to_string()
    };
    const TS: &str = "1795424160.000000";
    let pinned = callback(
        "Ev1",
        json!({ "type": "pin_added", "user": SAM, "channel_id": room, "item": { "type": "message",
            "message": { "user": SAM, "text": "Rolled back the deploy", "ts": TS } } }),
    );
    assert_eq!(story.send(EVENTS_PATH, json, pinned).await.0, StatusCode::OK);
    let captured = |story: &SlackStory| {
        let pool = story.app.pool.clone();
        async move {
            let timeline = storage::incidents::timeline(&pool, 1).await.unwrap();
            timeline
                .into_iter()
                .filter(|e| matches!(e.happening, Happening::Captured { .. }))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(captured(&story).await.len(), 1);

    // The edit, delivered twice, and an edit of another message and of Steward's own card.
    let edit = |id: &str, ts: &str, bot: bool| {
        let mut message = json!({ "type": "message", "user": SAM, "text": "Rolled back deploy 2.14.7",
            "ts": ts, "edited": { "user": SAM, "ts": "1795424200.000000" } });
        if bot {
            message["bot_id"] = json!("B0STEWARD");
        }
        callback(
            id,
            json!({ "type": "message", "subtype": "message_changed", "channel": room,
            "hidden": true, "message": message, "ts": "1795424200.000100" }),
        )
    };
    for body in [
        edit("Ev2", TS, false),
        edit("Ev2", TS, false),
        edit("Ev3", "1795424170.000000", false),
        edit("Ev4", TS, true),
    ] {
        assert_eq!(story.send(EVENTS_PATH, json, body).await.0, StatusCode::OK);
    }
    let entries = captured(&story).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].happening,
        Happening::Captured { text: "Rolled back deploy 2.14.7".into() }
    );
    assert!(entries[0].edited_at.is_some() && entries[0].deleted_at.is_none());
    assert_eq!(entries[0].at.timestamp(), 1_795_424_160, "the entry keeps the message's time");

    let deleted = callback(
        "Ev5",
        json!({ "type": "message", "subtype": "message_deleted", "channel": room, "hidden": true,
            "deleted_ts": TS, "previous_message": { "type": "message", "user": SAM,
            "text": "Rolled back deploy 2.14.7", "ts": TS } }),
    );
    assert_eq!(story.send(EVENTS_PATH, json, deleted).await.0, StatusCode::OK);
    let entries = captured(&story).await;
    assert_eq!(entries.len(), 1, "a deleted message stays on the timeline, marked");
    assert!(entries[0].deleted_at.is_some());
}

#[tokio::test]
async fn a_pin_reaction_on_the_discord_gateway_in_the_room_thread_goes_on_the_timeline_once() {
    use crate::support::discord::{ALICE, CHANNEL, DiscordTest, SAM};
    use crate::support::discord_fake::TOKEN;
    use steward::config::DiscordMode;
    use steward::domain::incident::timeline::Happening;
    use steward::platform::discord::gateway;
    use tokio_util::sync::CancellationToken;
    let t = DiscordTest::spawn_with(|s| s.discord.mode = DiscordMode::Gateway).await;
    discord_incident(&t, SAM, CHANNEL, "declare sev1 Checkout down").await;
    t.flush().await;
    t.app.clock.advance(chrono::Duration::seconds(2));
    t.flush().await;
    let thread = incident_of(&t.app).await.room.expect("the room thread").channel;

    let shutdown = CancellationToken::new();
    let task =
        tokio::spawn(gateway::run(t.interactions.clone(), TOKEN.to_owned(), shutdown.clone()));
    t.fake.wait_identified().await;
    const MESSAGE: &str = "1300000000000000000";
    let reaction = |channel: &str, emoji: &str| {
        json!({ "user_id": SAM, "channel_id": channel, "message_id": MESSAGE,
            "guild_id": "300000000000000001", "message_author_id": ALICE,
            "emoji": { "id": null, "name": emoji }, "burst": false, "type": 0 })
    };
    // The pin three times (a redelivery after a resume, say), another emoji, another channel.
    for _ in 0..3 {
        t.fake.dispatch("MESSAGE_REACTION_ADD", reaction(&thread, "📌"));
    }
    t.fake.dispatch("MESSAGE_REACTION_ADD", reaction(&thread, "🎉"));
    t.fake.dispatch("MESSAGE_REACTION_ADD", reaction(CHANNEL, "📌"));
    let captured = || async {
        let timeline = storage::incidents::timeline(&t.app.pool, 1).await.unwrap();
        timeline
            .into_iter()
            .filter(|e| matches!(e.happening, Happening::Captured { .. }))
            .collect::<Vec<_>>()
    };
    // Each reaction is handled on its own task: wait (without sleeping) for all five to be
    // in the inbox, then look.
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let handled: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM inbox WHERE dedupe_key LIKE 'discord:reaction:%'",
            )
            .fetch_one(&t.app.pool)
            .await
            .unwrap();
            if handled >= 1 && !captured().await.is_empty() {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the pin reaction is captured");
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let entries = captured().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].author, "Alice Archer", "the message's author, not the reacting one");
    assert_eq!(
        entries[0].at.timestamp_millis(),
        (1_300_000_000_000_000_000_i64 >> 22) + 1_420_070_400_000
    );
}

#[tokio::test]
async fn on_slack_people_unknown_to_steward_put_messages_on_the_timeline_but_cannot_command() {
    use steward::domain::incident::timeline::Happening;
    use steward::platform::slack::http::EVENTS_PATH;
    let story = SlackStory::start(SlackTransport::Http).await;
    let other = replica(&story);
    slash_in(&story, crate::slack::CHANNEL, SAM, "declare sev2 Invoices late").await;
    settle(&story, &other).await;
    let room = story.fake.channels()[0].id.clone();
    // A vendor's engineer and a guest, in the room but in nobody's [[people]] entry.
    const VENDOR: &str = "U0VENDOR";
    const GUEST: &str = "U0GUEST";
    let json = "application/json";
    let send = |id: &str, event: Value| {
        let body = json!({ "type": "event_callback", "team_id": "T0FAKE",
            "api_app_id": "A0FAKE", "event_id": id, "event": event })
        .to_string();
        story.send(EVENTS_PATH, json, body)
    };
    const PINNED: &str = "1795424160.000000";
    const REACTED: &str = "1795424170.000000";
    let pin = json!({ "type": "pin_added", "user": VENDOR, "channel_id": room,
        "item": { "type": "message", "message": { "user": VENDOR, "text": "Our cert expired",
            "ts": PINNED, "user_profile": { "display_name": "", "real_name": "Pat Vendor" } } } });
    let reaction = json!({ "type": "reaction_added", "user": VENDOR, "reaction": "pushpin",
        "item_user": GUEST, "item": { "type": "message", "channel": room, "ts": REACTED } });
    for (id, event) in [("EvU1", &pin), ("EvU1", &pin), ("EvU2", &reaction)] {
        assert_eq!(send(id, event.clone()).await.0, StatusCode::OK);
    }
    let captured = || async {
        let timeline = storage::incidents::timeline(&story.app.pool, 1).await.unwrap();
        timeline
            .into_iter()
            .filter(|e| matches!(e.happening, Happening::Captured { .. }))
            .collect::<Vec<_>>()
    };
    let entries = captured().await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].author, "Pat Vendor", "the name the message carries on Slack");
    assert_eq!(entries[0].at.timestamp(), 1_795_424_160);
    assert_eq!(entries[1].author, GUEST, "no name in the event: the platform id");

    // The vendor edits the pinned message, then deletes it (each delivered twice).
    let edit = json!({ "type": "message", "subtype": "message_changed", "channel": room,
        "hidden": true, "ts": "1795424200.000100", "message": { "type": "message",
            "user": VENDOR, "text": "Our cert expired at 08:55", "ts": PINNED,
            "edited": { "user": VENDOR, "ts": "1795424200.000000" } } });
    let delete = json!({ "type": "message", "subtype": "message_deleted", "channel": room,
        "hidden": true, "deleted_ts": PINNED, "previous_message": { "type": "message",
            "user": VENDOR, "text": "Our cert expired at 08:55", "ts": PINNED } });
    for (id, event) in [("EvU3", &edit), ("EvU3", &edit)] {
        assert_eq!(send(id, event.clone()).await.0, StatusCode::OK);
    }
    let entries = captured().await;
    assert_eq!(
        entries[0].happening,
        Happening::Captured { text: "Our cert expired at 08:55".into() }
    );
    assert!(entries[0].edited_at.is_some() && entries[0].deleted_at.is_none());
    for (id, event) in [("EvU4", &delete), ("EvU4", &delete)] {
        assert_eq!(send(id, event.clone()).await.0, StatusCode::OK);
    }
    let entries = captured().await;
    assert_eq!(entries.len(), 2);
    assert!(entries[0].deleted_at.is_some() && entries[1].deleted_at.is_none());

    // A command still needs a known person: the vendor's note is refused, nothing written.
    let before = storage::incidents::timeline(&story.app.pool, 1).await.unwrap().len();
    let reply = slash_in(&story, &room, VENDOR, "note Restarting billing").await;
    assert!(reply.contains("doesn't know slack user `U0VENDOR`"), "{reply}");
    assert_eq!(storage::incidents::timeline(&story.app.pool, 1).await.unwrap().len(), before);
}

#[tokio::test]
async fn with_slack_room_thread_the_room_is_the_card_thread_no_channel_is_made() {
    use steward::config::RoomMode;
    use steward::domain::incident::room::thread_room_parts;
    use steward::domain::incident::timeline::Happening;
    use steward::domain::item::LivingItem;
    use steward::platform::slack::http::EVENTS_PATH;
    let mut settings = crate::support::demo_settings();
    settings.incident.slack_room = RoomMode::Thread;
    let story = SlackStory::start_with(settings, SlackTransport::Http).await;
    let other = replica(&story);
    slash_in(&story, crate::slack::CHANNEL, SAM, "declare sev2 Invoices late").await;
    settle(&story, &other).await;
    for method in ["conversations.create", "conversations.invite", "pins.add"] {
        assert!(story.fake.calls_of(method).is_empty(), "{method} called in thread mode");
    }
    let incident = incident(&story).await;
    let card = storage::outbox::living_ref(&story.app.pool, "slack", &incident.card_key())
        .await
        .unwrap()
        .expect("the summary card is posted");
    let room = incident.room.clone().expect("the room is recorded").channel;
    assert_eq!(thread_room_parts(&room), Some((crate::slack::CHANNEL, card.message_id.as_str())));

    // A status update goes into the card's thread (besides the card's own history line
    // there, and the stakeholder channel).
    slash_in(&story, crate::slack::CHANNEL, SAM, "update 1 Rolled back the deploy").await;
    settle(&story, &other).await;
    let in_thread = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["thread_ts"] == card.message_id.as_str())
        .filter(|c| c.params["text"].as_str().unwrap_or_default().starts_with("Status update"))
        .count();
    assert_eq!(in_thread, 1, "the update is posted once in the room thread");

    // Pins in the thread are captured (twice delivered: once); a pin elsewhere in the team
    // channel is not the room's.
    let json = "application/json";
    let pin = |id: &str, ts: &str, thread: Option<&str>| {
        let mut message = json!({ "user": SAM, "text": format!("message {ts}"), "ts": ts });
        if let Some(thread) = thread {
            message["thread_ts"] = json!(thread);
        }
        json!({ "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
            "event_id": id, "event": { "type": "pin_added", "user": SAM,
                "channel_id": crate::slack::CHANNEL,
                "item": { "type": "message", "message": message } } })
        .to_string()
    };
    const REPLY: &str = "1795424160.000000";
    for body in [
        pin("EvT1", REPLY, Some(&card.message_id)),
        pin("EvT1", REPLY, Some(&card.message_id)),
        pin("EvT2", "1795424170.000000", None),
        pin("EvT3", "1795424180.000000", Some("1795424100.000000")),
    ] {
        assert_eq!(story.send(EVENTS_PATH, json, body).await.0, StatusCode::OK);
    }
    let timeline = storage::incidents::timeline(&story.app.pool, 1).await.unwrap();
    let captured: Vec<_> =
        timeline.iter().filter(|e| matches!(e.happening, Happening::Captured { .. })).collect();
    assert_eq!(captured.len(), 1, "{captured:?}");
    assert_eq!(captured[0].happening, Happening::Captured { text: format!("message {REPLY}") });
    assert_eq!(captured[0].at.timestamp(), 1_795_424_160);
}

#[tokio::test]
async fn with_slack_room_thread_a_mention_in_the_card_thread_names_the_incident() {
    use steward::config::RoomMode;
    use steward::platform::slack::http::EVENTS_PATH;
    let mut settings = crate::support::demo_settings();
    settings.incident.slack_room = RoomMode::Thread;
    let story = SlackStory::start_with(settings, SlackTransport::Http).await;
    let other = replica(&story);
    slash_in(&story, crate::slack::CHANNEL, SAM, "declare sev2 Invoices late").await;
    settle(&story, &other).await;
    let room = incident(&story).await.room.expect("the room thread").channel;
    let (_, card_ts) = steward::domain::incident::room::thread_room_parts(&room).unwrap();
    let mention = |id: &str, thread: Option<&str>| {
        let mut event = json!({ "type": "app_mention", "user": SAM,
            "channel": crate::slack::CHANNEL, "ts": "1795424190.000000",
            "text": "<@U0STEWARD> incident note Billing job restarted" });
        if let Some(thread) = thread {
            event["thread_ts"] = json!(thread);
        }
        json!({ "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
            "event_id": id, "event": event })
        .to_string()
    };
    let notes = || async {
        storage::incidents::timeline(&story.app.pool, 1)
            .await
            .unwrap()
            .iter()
            .filter(|e| format!("{:?}", e.happening).contains("Billing job restarted"))
            .count()
    };
    // In the team channel, outside the thread, the id is needed: nothing written.
    let json = "application/json";
    assert_eq!(story.send(EVENTS_PATH, json, mention("EvM1", None)).await.0, StatusCode::OK);
    assert_eq!(notes().await, 0);
    assert_eq!(
        story.send(EVENTS_PATH, json, mention("EvM2", Some(card_ts))).await.0,
        StatusCode::OK
    );
    assert_eq!(notes().await, 1, "the note typed in the card's thread is the incident's");
}

#[tokio::test]
async fn with_a_discord_forum_the_room_is_a_forum_post_tagged_with_the_severity_once_after_a_429() {
    use crate::support::discord::{CHANNEL, DiscordTest, FRAN, SAM};
    use crate::support::discord_fake::Failure;
    use steward::domain::severity::Severity;
    const FORUM: &str = "400000000000000001";
    const SEV1_TAG: &str = "410000000000000001";
    const SEV2_TAG: &str = "410000000000000002";
    let t = DiscordTest::spawn_with(|s| {
        s.incident.discord_forum = Some(FORUM.into());
        s.incident.discord_forum_tags.insert(Severity::Sev1, SEV1_TAG.into());
        s.incident.discord_forum_tags.insert(Severity::Sev2, SEV2_TAG.into());
    })
    .await;
    t.fake.add_forum(FORUM, &[SEV1_TAG, SEV2_TAG]);
    discord_incident(&t, SAM, CHANNEL, "declare sev1 Checkout down").await;
    discord_incident(&t, FRAN, CHANNEL, "join 1").await;
    t.fake.fail_next_on("POST", "/threads", [Failure::RateLimited { retry_after: 120.0 }]);
    t.flush().await;
    assert!(t.fake.forum_posts().is_empty(), "the 429 made nothing");
    t.app.clock.advance(chrono::Duration::minutes(3));
    t.flush().await;

    let posts = t.fake.forum_posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let (forum, body, thread) = &posts[0];
    assert_eq!(forum, FORUM);
    assert_eq!(body["applied_tags"], json!([SEV1_TAG]), "the severity's tag");
    assert!(body["name"].as_str().unwrap().starts_with("inc-1-checkout-down"), "{body}");
    let opening = body["message"]["content"].as_str().unwrap();
    assert!(opening.contains("incident #1 (SEV1): Checkout down"), "{opening}");
    let recorded = incident_of(&t.app).await.room;
    assert_eq!(recorded, Some(Room { platform: Platform::Discord, channel: thread.clone() }));
    assert_eq!(t.fake.threads()[thread], [SAM, FRAN], "members added one by one");
    // The card stays in the team channel (its history thread is not the room).
    let card = storage::outbox::living_ref(&t.app.pool, "discord", "inc:1").await.unwrap().unwrap();
    assert_eq!(card.channel, CHANNEL);
    assert_ne!(*thread, card.message_id);
    let tries = t.fake.calls_exact("POST", &format!("/channels/{FORUM}/threads"));
    assert_eq!(tries.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);

    // Typed in the post, the id may be left out.
    let noted = discord_incident(&t, SAM, thread, "note Rolled back").await;
    assert!(noted.contains("#1"), "{noted}");
}

#[tokio::test]
async fn a_forum_post_for_the_longest_title_stays_within_discords_limits_and_pings_nobody() {
    use crate::support::discord::{CHANNEL, DiscordTest, SAM};
    const FORUM: &str = "400000000000000001";
    let t = DiscordTest::spawn_with(|s| s.incident.discord_forum = Some(FORUM.into())).await;
    t.fake.add_forum(FORUM, &[]);
    // The longest title a person may type, with a mass mention in it.
    let title = format!("@everyone {}", "x".repeat(1_990));
    discord_incident(&t, SAM, CHANNEL, &format!("declare sev1 {title}")).await;
    t.flush().await;

    let posts = t.fake.forum_posts();
    assert_eq!(posts.len(), 1, "the fake refuses content over 2,000 characters: {posts:?}");
    let (_, body, _) = &posts[0];
    assert!(body["name"].as_str().unwrap().chars().count() <= 100, "{}", body["name"]);
    let opening = body["message"]["content"].as_str().unwrap();
    assert!(opening.chars().count() <= 2_000, "{} characters", opening.chars().count());
    assert_eq!(body["message"]["allowed_mentions"], json!({ "parse": [] }));
}

#[tokio::test]
async fn on_the_discord_gateway_an_edit_updates_a_captured_message_and_a_delete_marks_it_once() {
    use crate::support::discord::{ALICE, DiscordTest, SAM};
    use crate::support::discord_fake::TOKEN;
    use steward::config::DiscordMode;
    use steward::domain::incident::timeline::Happening;
    use steward::platform::discord::gateway;
    use tokio_util::sync::CancellationToken;
    let t = DiscordTest::spawn_with(|s| s.discord.mode = DiscordMode::Gateway).await;
    discord_incident(&t, SAM, crate::support::discord::CHANNEL, "declare sev1 Checkout down").await;
    t.flush().await;
    t.app.clock.advance(chrono::Duration::seconds(2));
    t.flush().await;
    let thread = incident_of(&t.app).await.room.expect("the room thread").channel;
    let shutdown = CancellationToken::new();
    let task =
        tokio::spawn(gateway::run(t.interactions.clone(), TOKEN.to_owned(), shutdown.clone()));
    t.fake.wait_identified().await;

    const MESSAGE: &str = "1300000000000000000";
    const OTHER: &str = "1300000000000000001";
    let handled = |prefix: &'static str| {
        let pool = t.app.pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE dedupe_key LIKE $1")
                .bind(format!("{prefix}%"))
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    // Events are handled on their own tasks: wait (without sleeping) for the inbox.
    let wait_until = |prefix: &'static str, count: i64| {
        let handled = &handled;
        async move {
            tokio::time::timeout(Duration::from_secs(10), async {
                while handled(prefix).await < count {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .expect("the gateway events are handled")
        }
    };
    t.fake.dispatch(
        "MESSAGE_REACTION_ADD",
        json!({ "user_id": SAM, "channel_id": thread, "message_id": MESSAGE,
            "guild_id": "300000000000000001", "message_author_id": ALICE,
            "emoji": { "id": null, "name": "📌" }, "burst": false, "type": 0 }),
    );
    wait_until("discord:reaction:", 1).await;
    let author = json!({ "id": ALICE, "username": "alice", "discriminator": "0",
        "global_name": null, "avatar": null });
    let update = |id: &str, content: &str, edited: Option<&str>| {
        json!({ "id": id, "channel_id": thread, "guild_id": "300000000000000001",
            "author": author, "content": content, "edited_timestamp": edited })
    };
    // The edit twice (a resume redelivers it), an embed unfurl (no edit time), an edit of a
    // message not on the timeline.
    const EDITED: &str = "2026-11-23T09:05:00.123000+00:00";
    t.fake.dispatch("MESSAGE_UPDATE", update(MESSAGE, "Rolled back 2.14.7", Some(EDITED)));
    t.fake.dispatch("MESSAGE_UPDATE", update(MESSAGE, "Rolled back 2.14.7", Some(EDITED)));
    t.fake.dispatch("MESSAGE_UPDATE", update(MESSAGE, "Unfurled", None));
    t.fake.dispatch("MESSAGE_UPDATE", update(OTHER, "Not pinned", Some(EDITED)));
    wait_until("discord:edit:", 2).await; // this message and the other one
    let captured = || async {
        let timeline = storage::incidents::timeline(&t.app.pool, 1).await.unwrap();
        timeline
            .into_iter()
            .filter(|e| matches!(e.happening, Happening::Captured { .. }))
            .collect::<Vec<_>>()
    };
    let delete =
        |id: &str| json!({ "id": id, "channel_id": thread, "guild_id": "300000000000000001" });
    for _ in 0..2 {
        t.fake.dispatch("MESSAGE_DELETE", delete(MESSAGE));
    }
    wait_until("discord:delete:", 1).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let entries = captured().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].happening, Happening::Captured { text: "Rolled back 2.14.7".into() });
    assert!(entries[0].edited_at.is_some() && entries[0].deleted_at.is_some());
    let edits: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE dedupe_key LIKE $1")
        .bind(format!("discord:edit:{thread}:{MESSAGE}:%"))
        .fetch_one(&t.app.pool)
        .await
        .unwrap();
    assert_eq!(edits, 1, "the redelivered edit is one event; the unfurl is none");
}

#[tokio::test]
async fn a_discord_forum_post_whose_answer_was_lost_is_found_on_retry_not_made_twice() {
    use crate::support::discord::{CHANNEL, DiscordTest, SAM};
    use crate::support::discord_fake::Failure;
    const FORUM: &str = "400000000000000001";
    let t = DiscordTest::spawn_with(|s| s.incident.discord_forum = Some(FORUM.into())).await;
    t.fake.add_forum(FORUM, &[]);
    discord_incident(&t, SAM, CHANNEL, "declare sev3 Slow exports").await;
    let path = format!("/channels/{FORUM}/threads");
    t.fake.fail_next_on("POST", &path, [Failure::LostResponse]);
    t.flush().await;
    assert_eq!(t.fake.forum_posts().len(), 1, "the post was made, its answer lost");
    assert!(incident_of(&t.app).await.room.is_none());
    for _ in 0..5 {
        t.app.clock.advance(chrono::Duration::minutes(1));
        t.flush().await;
    }
    let posts = t.fake.forum_posts();
    assert_eq!(posts.len(), 1, "found on the retry, never a second post");
    assert_eq!(posts[0].1["applied_tags"], json!([]), "no tag configured for sev3");
    let room = incident_of(&t.app).await.room.expect("the room is recorded");
    assert_eq!(room.channel, posts[0].2);
    assert_eq!(t.fake.calls_exact("POST", &path).len(), 1);
}
