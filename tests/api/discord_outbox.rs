//! The Discord port under the outbox dispatcher: 429 waits (on the manual clock), 5xx is
//! retried, permanent errors are recorded, nonces make a retried create idempotent, and
//! command registration is a bulk overwrite.

use std::time::Duration;

use serde_json::json;
use steward::domain::reply::Message;
use steward::platform::discord::commands::Catalogue;
use steward::services::ChatPort;
use steward::services::ports::{Delivery, SendError};
use steward::storage;

use crate::support::discord::{ALICE, CHANNEL, DiscordTest, command};
use crate::support::discord_fake::Failure;

async fn open_escalation(t: &DiscordTest) {
    let payload = command(
        &t.next_id(),
        ALICE,
        "escalate",
        None,
        &[
            ("account", json!("GLOBEX-7")),
            ("severity", json!("sev3")),
            ("summary", json!("Portal login loops")),
        ],
    );
    let (_, answer) = t.post(&payload).await;
    assert!(answer["data"]["content"].as_str().unwrap().contains("opened"), "{answer:#}");
}

fn card_posts(t: &DiscordTest) -> Vec<u16> {
    t.fake
        .calls_exact("POST", &format!("/channels/{CHANNEL}/messages"))
        .iter()
        .map(|c| c.status)
        .collect()
}

#[tokio::test]
async fn a_rate_limited_card_is_delivered_after_the_wait_and_not_before() {
    let t = DiscordTest::spawn().await;
    open_escalation(&t).await;
    t.fake.fail_next_on(
        "POST",
        &format!("/channels/{CHANNEL}/messages"),
        [Failure::RateLimited { retry_after: 30.0 }],
    );
    t.flush().await;
    let before = card_posts(&t);
    assert_eq!(before.first(), Some(&429), "{:#?}", t.fake.calls());
    assert!(!before.contains(&200));

    // Still within the wait: nothing is sent, not even a probe.
    t.app.clock.advance(chrono::Duration::seconds(29));
    t.flush().await;
    assert_eq!(card_posts(&t), before);

    t.app.clock.advance(chrono::Duration::seconds(1));
    t.flush().await;
    let after = card_posts(&t);
    assert_eq!(after.iter().filter(|s| **s == 200).count(), 1, "{after:?}");
    assert_eq!(storage::outbox::counts(&t.app.pool).await.unwrap().pending, 0);
}

#[tokio::test]
async fn server_errors_are_retried_and_missing_access_fails_for_good() {
    let t = DiscordTest::spawn().await;
    let delivery = Delivery { outbox_id: 1, attempt: 1, workspace: None };
    let message = Message::text("hello");
    t.fake.fail_next([Failure::ServerError]);
    let err = t.port.post(delivery.clone(), CHANNEL, &message, None).await.unwrap_err();
    assert!(matches!(err, SendError::Retryable { retry_after: None, .. }), "{err:?}");
    t.fake.fail_next([Failure::Error { status: 403, code: 50001 }]);
    let err = t.port.post(delivery.clone(), CHANNEL, &message, None).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { reason } if reason.contains("50001")), "{err:?}");
    t.fake.fail_next([Failure::RateLimited { retry_after: 2.5 }]);
    let err = t.port.post(delivery.clone(), CHANNEL, &message, None).await.unwrap_err();
    // A 429 is a refusal, so a wait rather than a spent attempt.
    assert_eq!(err, SendError::Paced { retry_after: Duration::from_millis(2500) });
    // The route is known to be exhausted: the next try is paced locally, not sent.
    let calls = t.fake.calls().len();
    let err = t.port.post(delivery.clone(), CHANNEL, &message, None).await.unwrap_err();
    assert!(matches!(err, SendError::Paced { .. }), "{err:?}");
    assert_eq!(t.fake.calls().len(), calls);
}

#[tokio::test]
async fn a_retried_create_with_the_same_nonce_posts_once() {
    let t = DiscordTest::spawn().await;
    let message = Message::text("only once");
    let first = t
        .port
        .post(Delivery { outbox_id: 7, attempt: 1, workspace: None }, CHANNEL, &message, None)
        .await
        .unwrap();
    let again = t
        .port
        .post(Delivery { outbox_id: 7, attempt: 2, workspace: None }, CHANNEL, &message, None)
        .await
        .unwrap();
    assert_eq!(first, again);
    let other = t
        .port
        .post(Delivery { outbox_id: 8, attempt: 1, workspace: None }, CHANNEL, &message, None)
        .await
        .unwrap();
    assert_ne!(first.message_id, other.message_id);
}

#[tokio::test]
async fn registration_overwrites_every_command_in_the_guild() {
    let t = DiscordTest::spawn().await;
    let settings = t.app.services.setup().settings.clone();
    let count = steward::platform::discord::register(&t.rest, &settings, Some(300000000000000001))
        .await
        .unwrap();
    let calls = t.fake.calls_to("PUT", "/guilds/300000000000000001/commands");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body, Catalogue::new(&settings).registration());
    assert_eq!(count, calls[0].body.as_array().unwrap().len());
    assert!(calls[0].body.as_array().unwrap().iter().any(|c| c["name"] == "escalate"));
}

#[tokio::test]
async fn a_refused_token_pauses_every_send_instead_of_a_burst_of_401s() {
    let t = DiscordTest::spawn().await;
    let settings = t.app.services.setup().settings.clone();
    let rest = std::sync::Arc::new(steward::platform::discord::Rest::new(
        &settings.discord,
        "not-the-token",
        t.app.clock.clone(),
    ));
    let port = steward::platform::discord::DiscordChat::new(rest);
    let message = Message::text("hello");
    let err = port
        .post(Delivery { outbox_id: 1, attempt: 1, workspace: None }, CHANNEL, &message, None)
        .await;
    assert!(
        matches!(err, Err(SendError::Retryable { retry_after: Some(d), .. }) if d == Duration::from_secs(60)),
        "{err:?}"
    );
    let err = port
        .direct_message(Delivery { outbox_id: 2, attempt: 1, workspace: None }, ALICE, &message)
        .await;
    assert!(matches!(err, Err(SendError::Paced { .. })), "{err:?}");
    assert_eq!(t.fake.calls().len(), 1, "only the first request went out");
}
