//! Account-request stories through the neutral layer, against Postgres, on a controlled clock.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use steward::domain::inbound::{Inbound, InboundKind};
use steward::domain::reply::Prompt;
use steward::domain::request::RequestState;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card};
use crate::support::{TestApp, demo_settings, text_of};

async fn audit(app: &TestApp, id: i64) -> Vec<(String, serde_json::Value)> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("request:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| (r.entry.action, r.entry.after)).collect()
}

/// The Saturday before [`crate::support::t0`].
fn saturday() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z").unwrap().to_utc()
}

#[tokio::test]
async fn a_billing_request_goes_to_the_person_on_shift_with_the_skill_and_says_why() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    let reply =
        app.command("sam", "/request GLOBEX-7 billing Invoice total is wrong invoice=INV-7").await;
    assert_eq!(
        text_of(&reply),
        "Request #1 opened for GLOBEX-7 (billing, P3), assigned to Alice Archer. The card is in #emea-ops."
    );
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "req:1");
    assert_eq!(card.title, "Request #1 · P3 · billing · GLOBEX-7");
    assert_eq!(field(&card, "Assignee"), "Alice Archer");
    assert_eq!(
        field(&card, "Why"),
        "least loaded of 1 on shift with skill billing: Alice Archer, 0 open"
    );
    assert_eq!(field(&card, "invoice"), "INV-7");
    // P3: four business hours to the first response, from Monday 09:00 London.
    assert_eq!(field(&card, "First response by"), "Mon 23 Nov 13:00 GMT · on track");
    assert!(
        dms(&chat).iter().any(|(user, text)| user == "alice" && text.contains("Why: least loaded"))
    );
    let trail = audit(&app, 1).await;
    let actions: Vec<&str> = trail.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["open", "assign"]);
    assert_eq!(trail[1].1["reason"], field(&card, "Why"));
}

#[tokio::test]
async fn triage_takes_the_priority_from_type_tier_keywords_or_the_sender() {
    let app = TestApp::spawn().await;
    let opened = |reply: steward::domain::reply::Reply| text_of(&reply);
    // The dispute type is P2 and needs the disputes skill: Sam.
    let reply =
        opened(app.command("alice", "/request INITECH-99 dispute Chargeback on May invoice").await);
    assert!(reply.contains("(dispute, P2), assigned to Sam Sutherland"), "{reply}");
    // Enterprise accounts are P2; a keyword makes it P1; an explicit priority wins.
    let reply =
        opened(app.command("alice", "/request ACME-1042 access New starter needs a login").await);
    assert!(reply.contains("(access, P2)"), "{reply}");
    let reply =
        opened(app.command("alice", "/request GLOBEX-7 access Whole team locked out").await);
    assert!(reply.contains("(access, P1)"), "{reply}");
    let reply =
        opened(app.command("alice", "/request GLOBEX-7 access Whole team locked out p4").await);
    assert!(reply.contains("(access, P4)"), "{reply}");
}

#[tokio::test]
async fn bad_requests_get_the_usage_line_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "/request GLOBEX-7 refund Money back",
            "`refund` is not a request type. Known types: onboarding, access, billing, dispute, closure.",
        ),
        ("/request NOPE-1 access Login", "There is no account `NOPE-1`."),
        (
            "/request GLOBEX-7 billing Wrong total",
            "A billing request needs invoice: add invoice=….",
        ),
        ("/request GLOBEX-7 access Login p9", "`p9` is not a priority. Use p1, p2, p3 or p4."),
        ("/request GLOBEX-7", "Name the request type"),
        ("/assign x sam", "`x` is not a request id"),
    ];
    for (line, problem) in cases {
        let text = text_of(&app.command("alice", line).await);
        assert!(text.starts_with(problem), "{line}: {text}");
        assert!(text.contains("Usage: /"), "{line}: {text}");
    }
    assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 0);
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn with_nobody_on_shift_a_request_waits_in_the_queue_until_someone_comes_on() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.clock.set(saturday());
    let reply = app.command("sam", "/request GLOBEX-7 onboarding New entity setup").await;
    assert!(text_of(&reply).contains("waiting in the team queue"), "{}", text_of(&reply));
    app.flush_outbox(&chat).await;
    assert_eq!(field(&latest_card(&chat, "req:1"), "State"), "Waiting in the team queue");
    assert!(
        dms(&chat).iter().any(|(user, text)| user == "sam"
            && text.contains("waits in the team queue: nobody on shift")),
        "{:?}",
        dms(&chat)
    );
    // Retries over the weekend find nobody and keep it queued.
    app.clock.advance(Duration::minutes(5));
    let o = app.run_due_jobs().await;
    assert_eq!(o.len(), 1);
    let r = storage::items::get::<steward::domain::request::Request>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.state, RequestState::Queued);
    // Monday 09:00: Alice (onboarding) is on shift; the next retry assigns it to her.
    app.clock.set(crate::support::t0());
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let r = storage::items::get::<steward::domain::request::Request>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.state, r.assignee.as_ref().map(|a| a.as_str())),
        (RequestState::Assigned, Some("alice"))
    );
    assert_eq!(field(&latest_card(&chat, "req:1"), "Assignee"), "Alice Archer");
    let actions: Vec<String> = audit(&app, 1).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["open", "queue", "assign"]);
}

#[tokio::test]
async fn out_of_office_people_are_not_assigned() {
    let mut settings = demo_settings();
    let alice = settings.people.iter_mut().find(|p| p.key.as_str() == "alice").unwrap();
    alice.out_of_office = vec![crate::support::t0().date_naive()];
    let app = TestApp::spawn_with(settings).await;
    let reply = app.command("sam", "/request GLOBEX-7 billing Wrong total invoice=INV-1").await;
    assert!(text_of(&reply).contains("waiting in the team queue"), "{}", text_of(&reply));
    let trail = audit(&app, 1).await;
    assert_eq!(trail[1].1["reason"], "nobody on shift with skill billing");
}

#[tokio::test]
async fn accept_need_info_resolve_records_first_contact_resolution() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("sam", "/request GLOBEX-7 billing Wrong total invoice=INV-1").await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "req:1");
    let reply = app.click("alice", &button(&card, "Accept"), None).await;
    assert_eq!(text_of(&reply), "Request #1 is yours; the first-response clock has stopped.");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "req:1");
    assert_eq!(field(&card, "First response by"), "Mon 23 Nov 13:00 GMT · met");
    app.clock.advance(Duration::minutes(30));
    app.click("alice", &button(&card, "Need info"), None).await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "req:1");
    assert_eq!(field(&card, "Resolve by"), "paused (waiting on customer)");
    app.clock.advance(Duration::hours(2));
    app.click("alice", &button(&card, "Customer replied"), None).await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "req:1");
    // 24 business hours would end Wednesday 16:00; the two paused hours move it to Thursday.
    assert_eq!(field(&card, "Resolve by"), "Thu 26 Nov 09:30 GMT · on track");
    let resolve = button(&card, "Resolve");
    let reply = app.click("alice", &resolve, Some("Credit note issued")).await;
    assert_eq!(text_of(&reply), "Request #1 resolved.");
    let r = storage::items::get::<steward::domain::request::Request>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert!(r.first_contact_resolution);
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "req:1");
    assert!(field(&card, "State").ends_with("Credit note issued (first contact)"), "{card:#?}");
    assert_eq!(card.buttons.len(), 1, "only Reopen");
    let actions: Vec<String> = audit(&app, 1).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["open", "assign", "accept", "needinfo", "resume", "resolve"]);
    assert_eq!(Prompt::FIELD, "text");
}

#[tokio::test]
async fn two_supervisors_reassigning_at_once_get_one_result_and_the_other_is_told() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("sam", "/request GLOBEX-7 billing Wrong total invoice=INV-1").await;
    app.flush_outbox(&chat).await;
    let reassign = button(&latest_card(&chat, "req:1"), "Reassign");
    let clicks = [("sam", "sam"), ("ada", "ada")].map(|(user, to)| {
        let services = app.services.clone();
        let inbound = Inbound {
            dedupe_key: Inbound::click_dedupe_key(
                steward::domain::ids::Platform::Console,
                user,
                &reassign,
            ),
            platform: steward::domain::ids::Platform::Console,
            workspace: None,
            actor: user.to_owned(),
            channel: "emea-ops".into(),
            kind: InboundKind::Submission {
                action: reassign.clone(),
                fields: [(Prompt::FIELD.to_owned(), to.to_owned())].into(),
            },
        };
        tokio::spawn(async move { services.handle_inbound(inbound).await })
    });
    let replies: Vec<String> =
        join_all(clicks).await.into_iter().map(|r| text_of(&r.unwrap())).collect();
    let winners = replies.iter().filter(|t| t.starts_with("Request #1 reassigned to")).count();
    let told = replies.iter().filter(|t| t.contains("changed since you looked")).count();
    assert_eq!((winners, told), (1, 1), "{replies:#?}");
    let r = storage::items::get::<steward::domain::request::Request>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.version, 2, "exactly one reassignment was written");
    assert!(r.reassigned);
}

#[tokio::test]
async fn handoff_moves_every_open_item_with_one_summary_to_the_receiver() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("sam", "/request GLOBEX-7 billing Wrong total invoice=INV-1").await;
    app.command("sam", "/request GLOBEX-7 onboarding New entity").await;
    app.flush_outbox(&chat).await;
    let before = dms(&chat).len();
    let reply = app.command("alice", "/handoff sam").await;
    assert_eq!(
        text_of(&reply),
        "Handed 2 open requests to Sam Sutherland; they got one summary message."
    );
    app.flush_outbox(&chat).await;
    let new_dms: Vec<_> = dms(&chat).into_iter().skip(before).collect();
    assert_eq!(new_dms.len(), 1, "{new_dms:?}");
    assert!(new_dms[0].1.starts_with("Alice Archer handed 2 open requests to you:"));
    for id in [1, 2] {
        let r = storage::items::get::<steward::domain::request::Request>(&app.pool, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.assignee.as_ref().map(|a| a.as_str()), Some("sam"));
        assert_eq!(r.assignment.unwrap().reason, "handed off by Alice Archer at shift end");
    }
    assert_eq!(
        text_of(&app.command("alice", "/handoff sam").await),
        "You have no open requests to hand off."
    );
}

#[tokio::test]
async fn assign_is_for_supervisors_and_workload_and_backlog_show_the_team() {
    let app = TestApp::spawn().await;
    app.command("sam", "/request GLOBEX-7 billing Wrong total invoice=INV-1").await;
    app.command("sam", "/request INITECH-99 dispute Chargeback").await;
    let refused = text_of(&app.command("alice", "/assign 1 sam").await);
    assert!(refused.contains("you need one of these roles: supervisor, admin"), "{refused}");
    assert_eq!(
        text_of(&app.command("sam", "/assign 1 sam").await),
        "Request #1 assigned to Sam Sutherland."
    );
    app.clock.advance(Duration::days(2));
    let workload = app.command("sam", "/workload").await;
    let body = workload.message.card.unwrap().body.unwrap();
    assert!(body.contains("Sam Sutherland: 2 open · oldest 2d"), "{body}");
    assert!(body.contains("Team queue: 0 waiting"), "{body}");
    let backlog = app.command("sam", "/backlog accounts-emea").await.message.card.unwrap();
    assert_eq!(backlog.title, "Backlog · accounts-emea: 2 open");
    let body = backlog.body.unwrap();
    assert!(body.contains("P2          0 |        1 |"), "dispute is P2, 2 days old: {body}");
    assert!(
        text_of(&app.command("sam", "/workload nowhere").await)
            .contains("There is no team `nowhere`")
    );
    let shown = app.command("alice", "/request show 2").await.message.card.unwrap();
    assert_eq!(shown.title, "Request #2 · P2 · dispute · INITECH-99");
}
