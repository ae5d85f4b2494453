//! Access request stories on a controlled clock: "alice asks for billing-admin viewer for 7
//! days; sam approves; the system's webhook receives the signed provision call; a day and an
//! hour before expiry alice is reminded; at expiry the revoke call arrives, signed too".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Duration;
use steward::config::{Secret, Settings};
use steward::domain::access::{AccessRequest, AccessState};
use steward::http::signature::VersionedHmac;
use steward::scheduler::webhooks::WebhookDispatcher;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card, thread_lines};
use crate::support::{TestApp, demo_settings, text_of};

const SECRET: &str = "webhook-test-secret";

/// One call the receiving system got.
#[derive(Debug, Clone)]
struct Received {
    body: serde_json::Value,
    signed: bool,
    delivery: String,
}

/// A local HTTP server standing in for the billing system: it checks every call's signature
/// as a receiver would, records it, and answers with queued statuses first, then 200.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<StatusCode>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let router =
            axum::Router::new().route("/access", post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/access", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (receiver, url)
    }

    fn calls(&self) -> Vec<Received> {
        self.calls.lock().unwrap().clone()
    }

    fn answer_next(&self, status: StatusCode) {
        self.statuses.lock().unwrap().push_back(status);
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = VersionedHmac("v1").matches(
        &[Secret::new(SECRET)],
        header("x-steward-timestamp"),
        header("x-steward-signature"),
        &body,
    );
    receiver.calls.lock().unwrap().push(Received {
        body: serde_json::from_slice(&body).unwrap(),
        signed,
        delivery: header("x-steward-delivery").to_owned(),
    });
    receiver.statuses.lock().unwrap().pop_front().unwrap_or(StatusCode::OK)
}

/// The demo organisation with billing-admin provisioned by webhook at `url`.
fn webhook_settings(url: &str) -> Settings {
    let mut settings = demo_settings();
    let system = settings.access.systems.iter_mut().find(|s| s.key == "billing-admin").unwrap();
    system.provisioning = steward::domain::access::Provisioning::Webhook;
    system.webhook_url = Some(url.to_owned());
    settings.access.webhook_secrets = vec![Secret::new(SECRET)];
    settings
}

async fn access(app: &TestApp, id: i64) -> AccessRequest {
    storage::items::get::<AccessRequest>(&app.pool, id).await.unwrap().unwrap()
}

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("access:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

async fn flush_webhooks(app: &TestApp) {
    WebhookDispatcher::new(app.services.clone()).unwrap().flush().await.unwrap();
}

#[tokio::test]
async fn a_request_is_approved_provisioned_by_signed_webhook_reminded_and_revoked_at_expiry() {
    let (receiver, url) = Receiver::start().await;
    let app = TestApp::spawn_with(webhook_settings(&url)).await;
    let chat = Arc::new(RecordingChat::default());
    let reply = app
        .command("alice", "/access request billing-admin viewer 7d Month-end invoice checks")
        .await;
    assert_eq!(
        text_of(&reply),
        "Access #1 requested: billing-admin viewer for 7d. The card is in #emea-ops."
    );
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert_eq!(card.title, "Access #1 · billing-admin viewer · Alice Archer");
    assert_eq!(
        field(&card, "State"),
        "Pending: approval 1 of 1 from one of: Fran Fischer, Sam Sutherland"
    );
    let asked: Vec<String> = dms(&chat).into_iter().map(|(user, _)| user).collect();
    assert_eq!(asked, ["fran", "sam"], "the owner and alice's supervisor are asked, never alice");

    // Four eyes, server-side: alice crafts the click on her own request.
    let reply = app.click("alice", &button(&card, "Approve"), None).await;
    assert!(text_of(&reply).starts_with("You can't decide your own access"), "{reply:?}");
    let reply = app.click("ada", &button(&card, "Approve"), None).await;
    assert_eq!(
        text_of(&reply),
        "Only owners of billing-admin and Alice Archer's supervisor decide this request."
    );

    let reply = app.click("sam", &button(&card, "Approve"), None).await;
    assert_eq!(text_of(&reply), "Access #1 approved.");
    let granted = access(&app, 1).await;
    assert_eq!(granted.state, AccessState::Active);
    let expires_at = app.now() + Duration::days(7);
    assert_eq!(granted.grant.unwrap().expires_at, expires_at);

    // The system answers 503 first: the call is retried after its backoff, then delivered.
    receiver.answer_next(StatusCode::SERVICE_UNAVAILABLE);
    flush_webhooks(&app).await;
    assert_eq!(receiver.calls().len(), 1);
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(
        field(&latest_card(&chat, "acc:1"), "Provisioning"),
        "Grant: webhook sent, waiting for the system's answer"
    );
    app.clock.advance(Duration::seconds(10));
    flush_webhooks(&app).await;
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.signed), "every call is signed: {calls:?}");
    assert_eq!(calls[0].delivery, calls[1].delivery, "a retry is the same delivery");
    assert_eq!(calls[1].body["event"], "provision");
    assert_eq!(calls[1].body["person"], "alice");
    assert_eq!(calls[1].body["role"], "viewer");
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert!(field(&card, "State").starts_with("Active until Mon 30 Nov"), "{card:#?}");
    assert!(
        field(&card, "Provisioning").starts_with("Grant: done: the system confirmed at "),
        "{card:#?}"
    );
    assert!(card.buttons.is_empty());
    flush_webhooks(&app).await;
    assert_eq!(receiver.calls().len(), 2, "a delivered call is never sent again");

    // A day and an hour before expiry alice is reminded; nothing else changes.
    app.clock.set(expires_at - Duration::days(1));
    app.run_due_jobs().await;
    app.clock.set(expires_at - Duration::hours(1));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let reminders: Vec<String> = dms(&chat)
        .into_iter()
        .filter(|(user, text)| {
            user == "alice" && text.starts_with("Your billing-admin viewer access")
        })
        .map(|(_, text)| text)
        .collect();
    assert_eq!(reminders.len(), 2, "{reminders:?}");
    assert!(reminders[0].contains("expires in 1d"), "{}", reminders[0]);
    assert!(reminders[1].contains("expires in 1h"), "{}", reminders[1]);

    // At expiry the grant ends and the revoke call goes out, signed.
    app.clock.set(expires_at);
    app.run_due_jobs().await;
    assert_eq!(access(&app, 1).await.state, AccessState::Expired);
    flush_webhooks(&app).await;
    let revoke = receiver.calls().last().cloned().unwrap();
    assert!(revoke.signed);
    assert_eq!(revoke.body["event"], "revoke");
    assert_eq!(revoke.body["access"], 1);
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert!(field(&card, "State").starts_with("Expired by Steward"), "{card:#?}");
    assert!(field(&card, "Provisioning").contains("Revocation: done"), "{card:#?}");
    assert!(thread_lines(&chat).iter().any(|l| l == "The grant expired; its revocation runs now."));
    assert_eq!(
        audit_actions(&app, 1).await,
        ["request", "approve", "webhook", "expire", "webhook"]
    );
}

#[tokio::test]
async fn bad_requests_get_precise_answers_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let inbox = storage::inbox::count(&app.pool).await.unwrap();
    let cases = [
        (
            "/access request billing viewer 7d x",
            "There is no system `billing`. Systems: billing-admin, crm.",
        ),
        (
            "/access request billing-admin admin 7d x",
            "billing-admin has no role `admin`. Roles: viewer, operator.",
        ),
        (
            "/access request billing-admin viewer 31d x",
            "billing-admin grants last at most 30d; 31d is longer. Ask for less and extend later if needed.",
        ),
        ("/access request billing-admin viewer 7d", "Give a reason: the owners decide on it."),
        ("/access who payroll", "There is no system `payroll`. Systems: billing-admin, crm."),
        ("/access revoke 9 gone", "There is no access request #9."),
    ];
    for (line, expected) in cases {
        let reply = app.command("alice", line).await;
        assert!(text_of(&reply).starts_with(expected), "{line}: {}", text_of(&reply));
    }
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), inbox, "refusals write nothing");
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().pending, 0);
}

#[tokio::test]
async fn a_manual_grant_is_an_owner_task_and_extend_and_revoke_go_through_the_rules() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/access request billing-admin operator 2d Dispute backlog").await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    // A double click is one decision.
    let approve = button(&card, "Approve");
    let first = app.click("fran", &approve, None).await;
    let second = app.click("fran", &approve, None).await;
    assert_eq!(text_of(&first), "Access #1 approved.");
    assert_eq!(text_of(&second), text_of(&first));
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert!(
        field(&card, "Provisioning").starts_with("Grant: manual task for an owner, due "),
        "{card:#?}"
    );
    assert!(dms(&chat).iter().any(|(u, t)| u == "fran" && t.contains("needs a hand")));
    // sam (supervisor, not an owner) cannot mark the task; fran can.
    let done = button(&card, "Access set up");
    assert!(
        text_of(&app.click("sam", &done, None).await)
            .starts_with("Only owners of billing-admin mark")
    );
    assert_eq!(text_of(&app.click("fran", &done, None).await), "Access #1: task marked done.");

    // Extending past the maximum is refused; within it, it needs an approval again.
    let reply = app.command("alice", "/access extend 1 29d more disputes").await;
    assert!(text_of(&reply).contains("at most 30d from now"), "{}", text_of(&reply));
    let reply = app.command("sam", "/access extend 1 1d more disputes").await;
    assert!(
        text_of(&reply).starts_with("Only the holder, Alice Archer, asks"),
        "{}",
        text_of(&reply)
    );
    let reply = app.command("alice", "/access extend 1 1d more disputes").await;
    assert_eq!(text_of(&reply), "Access #1: your extension waits for approval.");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert!(field(&card, "Extension waiting").starts_with("1d more — more disputes"), "{card:#?}");
    assert!(
        text_of(&app.click("alice", &button(&card, "Approve"), None).await)
            .starts_with("You can't decide your own access")
    );
    app.click("sam", &button(&card, "Approve"), None).await;
    let extended = access(&app, 1).await;
    assert_eq!(extended.grant.unwrap().expires_at, app.now() + Duration::days(3));

    let listed = text_of(&app.command("alice", "/access mine").await);
    assert!(listed.contains("Access · mine · 1"), "{listed}");
    let who = app.command("sam", "/access who billing-admin").await;
    let body = who.message.card.unwrap().body.unwrap();
    assert!(body.starts_with("#1 billing-admin operator · Alice Archer · active until "), "{body}");

    // Only owners and admins revoke; the revocation is an owner task again.
    let reply = app.command("sam", "/access revoke 1 left the team").await;
    assert_eq!(
        text_of(&reply),
        "You can't do that: only owners of billing-admin and admins revoke its grants."
    );
    assert_eq!(
        text_of(&app.command("ada", "/access revoke 1 left the team").await),
        "Access #1 revoked."
    );
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert!(field(&card, "State").starts_with("Revoked by Ada Admin"), "{card:#?}");
    assert_eq!(
        card.buttons.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(),
        ["Access removed"]
    );
    assert_eq!(
        audit_actions(&app, 1).await,
        ["request", "approve", "done", "extend", "approve", "revoke"]
    );
    // The expiry timers of the old expiries find nothing to do.
    app.clock.advance(Duration::days(4));
    app.run_due_jobs().await;
    assert_eq!(access(&app, 1).await.state, AccessState::Revoked);
}

#[tokio::test]
async fn on_slack_a_signed_click_grants_and_the_expiry_revokes_through_the_signed_webhook() {
    use crate::slack::{ALICE, CHANNEL, SAM, SlackStory, button as slack_button, click_payload};
    use steward::config::SlackTransport;

    let (receiver, url) = Receiver::start().await;
    let story = SlackStory::start_with(webhook_settings(&url), SlackTransport::Http).await;
    let (status, body) = story
        .slash(ALICE, "/access", "request billing-admin viewer 7d Month-end invoice checks")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response_type"], "ephemeral");
    assert!(body["text"].as_str().unwrap().starts_with("Access #1 requested"), "{body}");
    story.flush().await;
    let card = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .find(|c| c.params["channel"] == CHANNEL && c.params["blocks"].is_array())
        .expect("the access card was posted to the channel");
    let ts = card.params["_ts"].as_str().unwrap().to_owned();

    // alice's own click is refused on the server; sam's grants.
    let approve = slack_button(&card, "Approve");
    let response_url = story.fake.response_url("alice-click");
    story.interact(click_payload(ALICE, &approve, &ts, &response_url)).await;
    assert_eq!(access(&story.app, 1).await.state, AccessState::Pending);
    let response_url = story.fake.response_url("sam-click");
    let (status, _) = story.interact(click_payload(SAM, &approve, &ts, &response_url)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(access(&story.app, 1).await.state, AccessState::Active);

    flush_webhooks(&story.app).await;
    story.app.run_due_jobs().await;
    story.flush().await;
    let update = story.fake.calls_of("chat.update").last().cloned().expect("the card is updated");
    assert_eq!(update.params["ts"], ts.as_str());
    assert!(update.params.to_string().contains("the system confirmed"), "{:?}", update.params);

    story.app.clock.advance(Duration::days(7));
    story.app.run_due_jobs().await;
    flush_webhooks(&story.app).await;
    let events: Vec<(String, bool)> = receiver
        .calls()
        .into_iter()
        .map(|c| (c.body["event"].as_str().unwrap().to_owned(), c.signed))
        .collect();
    assert_eq!(events, [("provision".to_owned(), true), ("revoke".to_owned(), true)]);
    assert_eq!(access(&story.app, 1).await.state, AccessState::Expired);
}

#[tokio::test]
async fn a_refused_webhook_call_fails_visibly_on_the_card_and_in_the_outbox() {
    let (receiver, url) = Receiver::start().await;
    let app = TestApp::spawn_with(webhook_settings(&url)).await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/access request billing-admin viewer 1d Audit sample").await;
    app.flush_outbox(&chat).await;
    // Two approvers at once: one decision wins, the other sees it was decided.
    let approve = button(&latest_card(&chat, "acc:1"), "Approve");
    let (sam, fran) =
        tokio::join!(app.click("sam", &approve, None), app.click("fran", &approve, None));
    let answers = [text_of(&sam), text_of(&fran)];
    assert_eq!(answers.iter().filter(|t| *t == "Access #1 approved.").count(), 1, "{answers:?}");
    receiver.answer_next(StatusCode::BAD_REQUEST);
    flush_webhooks(&app).await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "acc:1");
    assert!(field(&card, "Provisioning").contains("FAILED at "), "{card:#?}");
    assert!(field(&card, "Provisioning").ends_with(": HTTP 400"), "{card:#?}");
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().failed, 1);
    assert_eq!(receiver.calls().len(), 1, "a 4xx is final, not retried");
}
