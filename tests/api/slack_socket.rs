//! The Slack adapter over Socket Mode: the real slack-morphism listener connects to the fake's
//! WebSocket (found through `apps.connections.open` under `slack.api_url`), envelopes are
//! acknowledged only after their transaction committed, and slash command replies travel in
//! the ack.

use serde_json::{Value, json};
use steward::config::SlackTransport;
use steward::domain::escalation::EscalationState;
use steward::platform::slack::socket_mode::SocketMode;

use crate::slack::{ALICE, CHANNEL, SAM, SlackStory, button, card_post, click_payload};

fn command_envelope(id: &str, user: &str, command: &str, text: &str) -> Value {
    json!({
        "envelope_id": id,
        "type": "slash_commands",
        "accepts_response_payload": true,
        "payload": {
            "token": "legacy", "team_id": "T0FAKE", "team_domain": "fake",
            "channel_id": CHANNEL, "channel_name": "ops", "user_id": user, "user_name": "u",
            "command": command, "text": text,
            "response_url": "http://127.0.0.1:1/unused",
            "trigger_id": format!("trigger-{id}"), "api_app_id": "A0FAKE",
        },
    })
}

#[tokio::test]
async fn socket_mode_command_click_and_modal_submit() {
    let story = SlackStory::start(SlackTransport::Socket).await;
    let socket = SocketMode::start(story.inbound.clone()).await.unwrap();
    story.fake.wait_for("apps.connections.open", 1).await;

    story.fake.push_envelope(command_envelope(
        "env-1",
        ALICE,
        "/escalate",
        "ACME-1042 sev2 Checkout is down",
    ));
    let ack = story.fake.next_ack().await;
    assert_eq!(ack["envelope_id"], "env-1");
    assert!(ack["payload"]["text"].as_str().unwrap().contains("Escalation #1 opened"), "{ack}");
    // Acked only after the transaction committed.
    assert_eq!(story.inbox_rows().await, 1);
    assert_eq!(story.escalations_in(EscalationState::Open).await, 1);

    story.flush().await;
    let card = card_post(&story.fake);
    let ack_button = button(&card, "Acknowledge");
    let ts = card.params["_ts"].as_str().unwrap().to_owned();
    let click = click_payload(SAM, &ack_button, &ts, &story.fake.response_url("s-1"));
    story.fake.push_envelope(json!({
        "envelope_id": "env-2", "type": "interactive", "accepts_response_payload": false,
        "payload": click,
    }));
    assert_eq!(story.fake.next_ack().await["envelope_id"], "env-2");
    assert_eq!(story.escalations_in(EscalationState::Acknowledged).await, 1);
    story.flush().await;
    let updates = story.fake.calls_of("chat.update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].params["ts"], ts.as_str());
    story.fake.wait_for("response_url", 1).await;

    // Resolve: the click opens a modal, the submit resolves.
    let updated = updates[0].clone();
    let resolve = button(&updated, "Resolve");
    let click = click_payload(SAM, &resolve, &ts, &story.fake.response_url("s-2"));
    story.fake.push_envelope(json!({
        "envelope_id": "env-3", "type": "interactive", "accepts_response_payload": false,
        "payload": click,
    }));
    assert_eq!(story.fake.next_ack().await["envelope_id"], "env-3");
    let opened = story.fake.calls_of("views.open");
    assert_eq!(opened.len(), 1);
    let metadata = opened[0].params["view"]["private_metadata"].clone();
    story.fake.push_envelope(json!({
        "envelope_id": "env-4", "type": "interactive", "accepts_response_payload": true,
        "payload": {
            "type": "view_submission",
            "team": { "id": "T0FAKE" },
            "user": { "id": SAM },
            "view": {
                "id": "V0FAKE", "team_id": "T0FAKE", "type": "modal", "hash": "h",
                "title": { "type": "plain_text", "text": "Resolve" },
                "blocks": [],
                "private_metadata": metadata,
                "state": { "values": { "prompt": { "text": {
                    "type": "plain_text_input", "value": "Rolled back" } } } },
            },
        },
    }));
    assert_eq!(story.fake.next_ack().await["envelope_id"], "env-4");
    assert_eq!(story.escalations_in(EscalationState::Resolved).await, 1);
    socket.shutdown().await;
}

#[tokio::test]
async fn socket_mode_event_redelivered_four_times_has_one_effect() {
    let story = SlackStory::start(SlackTransport::Socket).await;
    let socket = SocketMode::start(story.inbound.clone()).await.unwrap();
    for (n, id) in ["env-a", "env-b", "env-c", "env-d"].iter().enumerate() {
        story.fake.push_envelope(json!({
            "envelope_id": id, "type": "events_api", "accepts_response_payload": false,
            "retry_attempt": n, "retry_reason": if n == 0 { "" } else { "timeout" },
            "payload": {
                "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
                "event_id": "Ev0SOCKET", "event_time": 1_700_000_000,
                "event": { "type": "app_mention", "user": ALICE, "channel": CHANNEL,
                    "text": "<@U0STEWARD> escalate ACME-1042 sev3 Slow exports", "ts": "1.0" },
            },
        }));
    }
    for _ in 0..4 {
        story.fake.next_ack().await;
    }
    assert_eq!(story.escalations_in(EscalationState::Open).await, 1);
    assert_eq!(story.inbox_rows().await, 1);
    socket.shutdown().await;
}
