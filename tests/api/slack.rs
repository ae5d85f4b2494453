//! The Slack adapter over HTTP, end to end: signed requests through the real routes, the
//! services and PostgreSQL, and the real Slack client and `ChatPort` talking to the local
//! Slack fake (`tests/support/slack_fake.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::future::join_all;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use steward::config::{Secret, SlackSettings, SlackTransport};
use steward::domain::escalation::EscalationState;
use steward::platform::slack::http::{
    COMMANDS_PATH, EVENTS_PATH, INTERACTIVITY_PATH, SlackHttpState, routes,
};
use steward::platform::slack::verify::sign;
use steward::platform::slack::{SlackApi, SlackChat, SlackInbound};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::storage;
use tower::ServiceExt;

use crate::support::slack_fake::{self, ApiCall, Failure, SlackFake};
use crate::support::{TestApp, demo_settings};

pub const CHANNEL: &str = "C0OPS";
pub const ALICE: &str = "U0DEMOALICE";
pub const SAM: &str = "U0DEMOSAM";
pub const FRAN: &str = "U0DEMOFRAN";

/// `[slack]` pointed at the fake, with the fake's secrets.
pub fn slack_settings(fake: &SlackFake, transport: SlackTransport) -> SlackSettings {
    SlackSettings {
        enabled: true,
        transport,
        api_url: fake.api_url(),
        bot_token: Some(Secret::new(slack_fake::BOT_TOKEN)),
        app_token: Some(Secret::new(slack_fake::APP_TOKEN)),
        signing_secrets: vec![
            Secret::new("retired-secret"),
            Secret::new(slack_fake::SIGNING_SECRET),
        ],
        ..SlackSettings::default()
    }
}

/// A Steward with its Slack adapter, the fake Slack, and a dispatcher with the Slack port.
pub struct SlackStory {
    pub app: TestApp,
    pub fake: SlackFake,
    pub inbound: SlackInbound,
    pub router: axum::Router,
    pub dispatcher: Dispatcher,
}

impl SlackStory {
    pub async fn start(transport: SlackTransport) -> SlackStory {
        SlackStory::start_with(demo_settings(), transport).await
    }

    /// The story on other settings (their `[slack]` is pointed at the fake).
    pub async fn start_with(
        mut settings: steward::config::Settings,
        transport: SlackTransport,
    ) -> SlackStory {
        let fake = SlackFake::start().await;
        settings.slack = slack_settings(&fake, transport);
        let app = TestApp::spawn_with(settings).await;
        let api = SlackApi::new(&app.services.setup().settings.slack).unwrap();
        let port: Arc<dyn ChatPort> =
            Arc::new(SlackChat::new(api.clone(), app.clock.clone(), Duration::from_secs(1)));
        let inbound = SlackInbound::new(app.services.clone(), api);
        let router = routes(SlackHttpState::new(inbound.clone()));
        let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
        SlackStory { app, fake, inbound, router, dispatcher }
    }

    pub async fn flush(&self) {
        self.dispatcher.flush().await.unwrap();
    }

    /// Sends a request signed with the fake's secret at the test clock's time.
    pub async fn send(&self, path: &str, content_type: &str, body: String) -> (StatusCode, Value) {
        let timestamp = self.app.now().timestamp();
        let signature = sign(slack_fake::SIGNING_SECRET, timestamp, body.as_bytes());
        self.send_with(path, content_type, body, Some((timestamp, signature))).await
    }

    pub async fn send_with(
        &self,
        path: &str,
        content_type: &str,
        body: String,
        signed: Option<(i64, String)>,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(path).header("content-type", content_type);
        if let Some((timestamp, signature)) = signed {
            request = request
                .header("X-Slack-Request-Timestamp", timestamp.to_string())
                .header("X-Slack-Signature", signature);
        }
        let response =
            self.router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn slash(&self, user: &str, command: &str, text: &str) -> (StatusCode, Value) {
        self.send(COMMANDS_PATH, FORM, command_form(user, command, text)).await
    }

    pub async fn interact(&self, payload: Value) -> (StatusCode, Value) {
        self.send(INTERACTIVITY_PATH, FORM, interaction_form(&payload)).await
    }

    pub async fn inbox_rows(&self) -> i64 {
        storage::inbox::count(&self.app.pool).await.unwrap()
    }

    pub async fn escalations_in(&self, state: EscalationState) -> i64 {
        storage::escalations::count_in_state(&self.app.pool, state).await.unwrap()
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded";

pub fn command_form(user: &str, command: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "legacy"),
        ("team_id", "T0FAKE"),
        ("channel_id", CHANNEL),
        ("user_id", user),
        ("command", command),
        ("text", text),
        ("response_url", "http://127.0.0.1:1/unused"),
        ("trigger_id", &format!("trigger-{}", uuid::Uuid::new_v4())),
    ])
    .unwrap()
}

pub fn interaction_form(payload: &Value) -> String {
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

/// A `block_actions` payload for a click on `button` of the card at `message_ts`.
pub fn click_payload(user: &str, button: &Value, message_ts: &str, response_url: &str) -> Value {
    json!({
        "type": "block_actions",
        "team": { "id": "T0FAKE" },
        "user": { "id": user },
        "api_app_id": "A0FAKE",
        "container": { "type": "message", "message_ts": message_ts, "channel_id": CHANNEL },
        "trigger_id": format!("trigger-{}", uuid::Uuid::new_v4()),
        "channel": { "id": CHANNEL },
        "response_url": response_url,
        "actions": [{
            "type": "button",
            "action_id": button["action_id"],
            "block_id": "b",
            "value": button["value"],
        }],
    })
}

/// The buttons of a posted or updated card.
pub fn buttons(call: &ApiCall) -> Vec<Value> {
    let blocks = call.params["blocks"].as_array().cloned().unwrap_or_default();
    blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn button(call: &ApiCall, label: &str) -> Value {
    buttons(call)
        .into_iter()
        .find(|b| b["text"]["text"] == label)
        .unwrap_or_else(|| panic!("no {label} button in {:?}", call.params))
}

fn text(call: &ApiCall) -> String {
    call.params["text"].as_str().unwrap_or_default().to_owned()
}

/// The escalation card's `chat.postMessage` to the channel.
pub fn card_post(fake: &SlackFake) -> ApiCall {
    fake.calls_of("chat.postMessage")
        .into_iter()
        .find(|c| c.params["channel"] == CHANNEL && c.params["blocks"].is_array())
        .expect("the card was posted to the channel")
}

#[tokio::test]
async fn slash_command_posts_a_card_and_a_signed_click_updates_it_in_place() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let (status, body) = story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response_type"], "ephemeral");
    assert!(body["text"].as_str().unwrap().contains("Escalation #1 opened"), "{body}");

    story.flush().await;
    let card = card_post(&story.fake);
    assert_eq!(card.params["blocks"][0]["type"], "header");
    assert_eq!(card.params["metadata"]["event_type"], "steward_outbox");
    assert!(card.params["metadata"]["event_payload"]["outbox_id"].is_string());
    let posted_ts = card.params["_ts"].as_str().unwrap().to_owned();

    let ack = button(&card, "Acknowledge");
    assert_eq!(ack["style"], "primary");
    let payload = click_payload(SAM, &ack, &posted_ts, &story.fake.response_url("click-1"));
    let (status, _) = story.interact(payload).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(story.escalations_in(EscalationState::Acknowledged).await, 1);

    story.flush().await;
    let updates = story.fake.calls_of("chat.update");
    assert_eq!(updates.len(), 1, "the card is updated, not posted again");
    assert_eq!(updates[0].params["channel"], CHANNEL);
    assert_eq!(updates[0].params["ts"], posted_ts.as_str());
    assert!(text(&updates[0]).contains("Acknowledged by Sam Sutherland"), "{}", text(&updates[0]));
    let posts_to_channel = story
        .fake
        .calls_of("chat.postMessage")
        .iter()
        .filter(|c| c.params["channel"] == CHANNEL && c.params["thread_ts"].is_null())
        .count();
    assert_eq!(posts_to_channel, 1);

    // The clicker's private answer goes to the interaction's response_url.
    let replies = story.fake.wait_for("response_url", 1).await;
    assert!(text(&replies[0]).contains("acknowledged"), "{:?}", replies[0].params);
    assert_eq!(replies[0].params["response_id"], "click-1");
}

#[tokio::test]
async fn a_double_click_is_one_intent() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/steward", "escalate ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let card = card_post(&story.fake);
    let ack = button(&card, "Acknowledge");
    let payload = click_payload(SAM, &ack, "1.0", &story.fake.response_url("c"));
    let replies = join_all((0..3).map(|_| story.interact(payload.clone()))).await;
    assert!(replies.iter().all(|(status, _)| *status == StatusCode::OK));
    // One open + one click in the inbox; one acknowledgement; one audit-visible change.
    assert_eq!(story.inbox_rows().await, 2);
    assert_eq!(story.escalations_in(EscalationState::Acknowledged).await, 1);
    story.flush().await;
    assert_eq!(story.fake.calls_of("chat.update").len(), 1);
}

#[tokio::test]
async fn a_resolve_note_is_asked_in_a_modal_and_its_submit_resolves_the_escalation() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let card = card_post(&story.fake);
    let resolve = button(&card, "Resolve");
    let payload = click_payload(SAM, &resolve, "1.0", &story.fake.response_url("r"));
    let (status, _) = story.interact(payload.clone()).await;
    assert_eq!(status, StatusCode::OK);
    // The click opened a modal and changed nothing yet.
    let opened = story.fake.calls_of("views.open");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].params["trigger_id"], payload["trigger_id"]);
    let view = &opened[0].params["view"];
    assert_eq!(view["type"], "modal");
    assert_eq!(view["blocks"][0]["element"]["type"], "plain_text_input");
    assert_eq!(story.escalations_in(EscalationState::Resolved).await, 0);

    let submit = json!({
        "type": "view_submission",
        "team": { "id": "T0FAKE" },
        "user": { "id": SAM },
        "view": {
            "id": "V0FAKE",
            "type": "modal",
            "private_metadata": view["private_metadata"],
            "state": { "values": { "prompt": { "text": {
                "type": "plain_text_input", "value": "Rolled back the deploy" } } } },
        },
    });
    let (status, _) = story.interact(submit).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(story.escalations_in(EscalationState::Resolved).await, 1);
    story.flush().await;
    let updates = story.fake.calls_of("chat.update");
    assert!(text(updates.last().unwrap()).contains("Rolled back the deploy"));
    let ephemeral = story.fake.wait_for("chat.postEphemeral", 1).await;
    assert_eq!(ephemeral[0].params["user"], SAM);
    assert_eq!(ephemeral[0].params["channel"], CHANNEL);
}

#[tokio::test]
async fn a_missing_role_is_said_before_the_modal_asks_for_a_note() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let card = card_post(&story.fake);
    for label in ["Resolve", "Reassign"] {
        let payload =
            click_payload(FRAN, &button(&card, label), "1.0", &story.fake.response_url(label));
        let (status, _) = story.interact(payload).await;
        assert_eq!(status, StatusCode::OK);
    }
    let answers = story.fake.wait_for("response_url", 2).await;
    for answer in &answers {
        let said = answer.params["text"].as_str().unwrap_or_default();
        assert!(said.contains("you need one of these roles"), "{said}");
    }
    assert!(story.fake.calls_of("views.open").is_empty(), "no modal for someone who may not act");
    assert_eq!(story.inbox_rows().await, 1, "only the escalation itself was handled");
}

#[tokio::test]
async fn a_refused_modal_is_not_blamed_on_time_but_an_expired_trigger_is() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let resolve = button(&card_post(&story.fake), "Resolve");
    story.fake.fail_next(
        "views.open",
        [Failure::SlackError("invalid_arguments"), Failure::SlackError("expired_trigger_id")],
    );
    let said = |answer: Value| answer["text"].as_str().unwrap_or_default().to_owned();
    let (_, refused) = story.interact(click_payload(SAM, &resolve, "1.0", "http://x/r")).await;
    assert!(said(refused.clone()).starts_with("Steward could not open the form"), "{refused}");
    let (_, expired) = story.interact(click_payload(SAM, &resolve, "1.0", "http://x/r")).await;
    assert!(said(expired.clone()).contains("in time"), "{expired}");
}

#[tokio::test]
async fn forged_stale_and_unsigned_requests_get_401_and_nothing_is_written() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let now = story.app.now().timestamp();
    let body = command_form(ALICE, "/escalate", "ACME-1042 sev2 forged");
    let forged = (now, sign("not-the-secret", now, body.as_bytes()));
    let stale = (now - 301, sign(slack_fake::SIGNING_SECRET, now - 301, body.as_bytes()));
    let future = (now + 301, sign(slack_fake::SIGNING_SECRET, now + 301, body.as_bytes()));
    let tampered = (now, sign(slack_fake::SIGNING_SECRET, now, b"text=something+else"));
    for path in [COMMANDS_PATH, INTERACTIVITY_PATH, EVENTS_PATH] {
        for signed in [
            Some(forged.clone()),
            Some(stale.clone()),
            Some(future.clone()),
            Some(tampered.clone()),
            None,
        ] {
            let (status, _) = story.send_with(path, FORM, body.clone(), signed).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        }
    }
    assert_eq!(story.inbox_rows().await, 0);
    assert_eq!(story.escalations_in(EscalationState::Open).await, 0);
    assert!(story.fake.calls().is_empty(), "no outbound call: {:?}", story.fake.calls());
    // The retired secret still verifies during rotation.
    let (status, _) = story
        .send_with(
            COMMANDS_PATH,
            FORM,
            body.clone(),
            Some((now, sign("retired-secret", now, body.as_bytes()))),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(story.inbox_rows().await, 1);
}

#[tokio::test]
async fn an_event_delivered_four_times_some_concurrently_has_one_effect() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let event = json!({
        "type": "event_callback",
        "team_id": "T0FAKE",
        "api_app_id": "A0FAKE",
        "event_id": "Ev0MENTION1",
        "event_time": 1_700_000_000,
        "event": {
            "type": "app_mention", "user": ALICE, "channel": CHANNEL,
            "text": "<@U0STEWARD> escalate ACME-1042 sev2 Checkout is down", "ts": "1.0",
        },
    })
    .to_string();
    let first_two =
        join_all((0..2).map(|_| story.send(EVENTS_PATH, "application/json", event.clone()))).await;
    let retries = [
        story.send(EVENTS_PATH, "application/json", event.clone()).await,
        story.send(EVENTS_PATH, "application/json", event.clone()).await,
    ];
    assert!(first_two.iter().chain(retries.iter()).all(|(status, _)| *status == StatusCode::OK));
    assert_eq!(story.escalations_in(EscalationState::Open).await, 1);
    assert_eq!(story.inbox_rows().await, 1);
    // The answer goes to the mentioner; the two later redeliveries do not repeat it.
    story.fake.wait_for("chat.postEphemeral", 1).await;
    assert!(story.fake.calls_of("chat.postEphemeral").len() <= 2);
    story.flush().await;
    let cards = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["channel"] == CHANNEL && c.params["blocks"].is_array())
        .count();
    assert_eq!(cards, 1);
}

#[tokio::test]
async fn url_verification_answers_the_challenge() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let body = json!({ "type": "url_verification", "challenge": "3eZbrw1aB" }).to_string();
    let (status, reply) = story.send(EVENTS_PATH, "application/json", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["challenge"], "3eZbrw1aB");
}

#[tokio::test]
async fn an_unknown_slack_user_is_told_how_to_get_registered() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let (status, body) = story.slash("U0STRANGER", "/steward", "whoami").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response_type"], "ephemeral");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("U0STRANGER") && text.contains("whoami"), "{text}");
    assert_eq!(story.inbox_rows().await, 0);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_and_not_before() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.fake.fail_next("chat.postMessage", [Failure::RateLimited(30)]);
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let to_channel = |fake: &SlackFake| {
        fake.calls_of("chat.postMessage")
            .into_iter()
            .filter(|c| c.params["channel"] == CHANNEL)
            .count()
    };
    assert_eq!(to_channel(&story.fake), 1, "the first try was refused with 429");

    story.app.clock.advance(chrono::Duration::seconds(29));
    story.flush().await;
    assert_eq!(to_channel(&story.fake), 1, "nothing is sent before Retry-After");

    story.app.clock.advance(chrono::Duration::seconds(2));
    story.flush().await;
    assert_eq!(to_channel(&story.fake), 2, "sent once Retry-After passed");
    card_post(&story.fake);
    // A 429 is a refusal, not an attempt whose outcome is unknown: no look-up needed.
    assert!(story.fake.calls_of("conversations.history").is_empty());
}

#[tokio::test]
async fn a_post_whose_response_was_lost_is_found_by_its_metadata_not_posted_twice() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.fake.lose_next_post_response();
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    story.app.clock.advance(chrono::Duration::seconds(600));
    story.flush().await;
    let cards = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["channel"] == CHANNEL && c.params["blocks"].is_array())
        .count();
    assert_eq!(cards, 1, "the retry found the first post by its metadata");
    assert_eq!(story.fake.calls_of("conversations.history").len(), 1);
    // The found message is the living card: a click updates it.
    let card = card_post(&story.fake);
    let payload =
        click_payload(SAM, &button(&card, "Acknowledge"), "x", &story.fake.response_url("a"));
    story.interact(payload).await;
    story.flush().await;
    assert_eq!(story.fake.calls_of("chat.update")[0].params["ts"], card.params["_ts"]);
}

#[tokio::test]
async fn permanent_slack_errors_fail_the_message_with_the_reason() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.fake.fail_next("chat.postMessage", [Failure::SlackError("channel_not_found")]);
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let counts = storage::outbox::counts(&story.app.pool).await.unwrap();
    assert!(counts.failed >= 1, "{counts:?}");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.fake.fail_next("chat.postMessage", [Failure::ServerError]);
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    assert_eq!(storage::outbox::counts(&story.app.pool).await.unwrap().failed, 0);
    story.app.clock.advance(chrono::Duration::seconds(600));
    story.flush().await;
    card_post(&story.fake);
}
