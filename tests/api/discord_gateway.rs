//! The gateway way in: serenity connects to the fake gateway (URL from the fake REST API's
//! `GET /gateway`), identifies, receives an INTERACTION_CREATE dispatch, and answers it
//! through the REST callback — the same decode/answer path as the HTTP endpoint.

use serde_json::json;
use steward::config::DiscordMode;
use steward::platform::discord::gateway;
use tokio_util::sync::CancellationToken;

use crate::support::discord::{ALICE, CHANNEL, DiscordTest};
use crate::support::discord_fake::{APPLICATION_ID, TOKEN};

#[tokio::test]
async fn a_command_over_the_gateway_is_answered_through_the_callback() {
    let t = DiscordTest::spawn_with(|s| s.discord.mode = DiscordMode::Gateway).await;
    let shutdown = CancellationToken::new();
    let task =
        tokio::spawn(gateway::run(t.interactions.clone(), TOKEN.to_owned(), shutdown.clone()));
    t.fake.wait_identified().await;

    t.fake.dispatch(
        "INTERACTION_CREATE",
        json!({
            "id": "800000000000000001",
            "application_id": APPLICATION_ID.to_string(),
            "type": 2,
            "token": "gateway-token",
            "version": 1,
            "channel_id": CHANNEL,
            "user": { "id": ALICE, "username": "alice" },
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 8388608,
            "data": {
                "id": "900000000000000001",
                "name": "steward",
                "type": 1,
                "options": [{ "name": "whoami", "type": 1, "options": [] }],
            },
        }),
    );
    let calls = t
        .fake
        .wait_for("the interaction callback", |calls| {
            calls
                .iter()
                .any(|c| c.path.contains("/interactions/800000000000000001/gateway-token/callback"))
        })
        .await;
    let callback = calls.iter().find(|c| c.path.ends_with("/callback")).unwrap();
    assert_eq!(callback.body["type"], 4);
    assert_eq!(callback.body["data"]["flags"], 64);
    let text = callback.body["data"]["content"].as_str().unwrap();
    assert!(text.contains("You are Alice Archer (alice) on discord"), "{text}");
    assert_eq!(steward::storage::inbox::count(&t.app.pool).await.unwrap(), 1);

    shutdown.cancel();
    task.await.unwrap().unwrap();
}
