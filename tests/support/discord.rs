//! The Discord adapter under test: the demo organisation with `[discord]` pointed at the
//! fake (`discord.api_url`), the real `/discord/interactions` router, signed requests, and
//! the outbox dispatcher with the real Discord port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use steward::config::{DiscordMode, Secret, Settings};
use steward::platform::discord::http::{DiscordHttpState, PATH, routes};
use steward::platform::discord::verify::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use steward::platform::discord::{DiscordChat, Interactions, Rest};
use steward::services::ChatPort;
use tower::ServiceExt;

use super::discord_fake::{APPLICATION_ID, DiscordFake, TOKEN};
use super::{TestApp, demo_settings};

pub const ALICE: &str = "100000000000000001";
pub const SAM: &str = "100000000000000002";
pub const FRAN: &str = "100000000000000003";
pub const STRANGER: &str = "100000000000000999";
pub const CHANNEL: &str = "200000000000000001";

pub struct DiscordTest {
    pub app: TestApp,
    pub fake: DiscordFake,
    pub router: axum::Router,
    pub interactions: Interactions,
    pub rest: Arc<Rest>,
    pub port: Arc<DiscordChat>,
    key: SigningKey,
    next_id: AtomicU64,
}

/// The demo settings with Discord on, pointed at `fake`, in `mode`.
pub fn discord_settings(fake: &DiscordFake, public_key: String, mode: DiscordMode) -> Settings {
    let mut settings = demo_settings();
    settings.discord.enabled = true;
    settings.discord.mode = mode;
    settings.discord.api_url = fake.url.clone();
    settings.discord.application_id = Some(APPLICATION_ID);
    settings.discord.public_key = Some(public_key);
    settings.discord.bot_token = Some(Secret::new(TOKEN));
    settings
}

impl DiscordTest {
    pub async fn spawn() -> DiscordTest {
        DiscordTest::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> DiscordTest {
        let fake = DiscordFake::start().await;
        let (key, public) = verify::test_key([42; 32]);
        let mut settings = discord_settings(&fake, public, DiscordMode::Http);
        adjust(&mut settings);
        let app = TestApp::spawn_with(settings.clone()).await;
        let rest = Arc::new(Rest::new(&settings.discord, TOKEN, app.clock.clone()));
        let interactions = Interactions::new(app.services.clone(), Some(rest.clone()));
        let state = DiscordHttpState::new(interactions.clone()).unwrap();
        let port = Arc::new(DiscordChat::new(rest.clone()));
        DiscordTest {
            app,
            fake,
            router: routes(state),
            interactions,
            rest,
            port,
            key,
            next_id: AtomicU64::new(700_000_000_000_000_000),
        }
    }

    /// A fresh interaction id.
    pub fn next_id(&self) -> String {
        self.next_id.fetch_add(1, Ordering::SeqCst).to_string()
    }

    /// Posts `body` signed at the test clock's time.
    pub async fn post(&self, payload: &Value) -> (StatusCode, Value) {
        let body = payload.to_string();
        let timestamp = self.app.now().timestamp();
        let signature = verify::sign(&self.key, timestamp, body.as_bytes());
        self.post_with(&body, Some((timestamp, signature))).await
    }

    /// Posts `body` with the given (timestamp, signature) headers, or none.
    pub async fn post_with(
        &self,
        body: &str,
        signed: Option<(i64, String)>,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(PATH).header("content-type", "application/json");
        if let Some((timestamp, signature)) = signed {
            request = request
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signature);
        }
        let request = request.body(Body::from(body.to_owned())).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// A signature made with another key.
    pub fn forged_signature(&self, timestamp: i64, body: &str) -> String {
        let (other, _) = verify::test_key([9; 32]);
        verify::sign(&other, timestamp, body.as_bytes())
    }

    pub fn sign(&self, timestamp: i64, body: &str) -> String {
        verify::sign(&self.key, timestamp, body.as_bytes())
    }

    /// Sends everything due in the outbox through the real Discord port.
    pub async fn flush(&self) {
        let port: Arc<dyn ChatPort> = self.port.clone();
        steward::scheduler::outbox::Dispatcher::new(self.app.services.clone(), vec![port])
            .flush()
            .await
            .unwrap();
    }
}

fn envelope(id: &str, kind: u64, user: &str, data: Value) -> Value {
    json!({
        "id": id,
        "application_id": APPLICATION_ID.to_string(),
        "type": kind,
        "token": format!("token-{id}"),
        "version": 1,
        "guild_id": "300000000000000001",
        "channel_id": CHANNEL,
        "member": { "user": { "id": user, "username": "someone" }, "roles": [] },
        "data": data,
    })
}

/// An application command: `options` as (name, value) leaves, under `sub` when given.
pub fn command(
    id: &str,
    user: &str,
    name: &str,
    sub: Option<&str>,
    options: &[(&str, Value)],
) -> Value {
    let leaves: Vec<Value> = options
        .iter()
        .map(|(n, v)| json!({ "name": n, "type": if v.is_i64() { 4 } else { 3 }, "value": v }))
        .collect();
    let options = match sub {
        Some(sub) => json!([{ "name": sub, "type": 1, "options": leaves }]),
        None => Value::Array(leaves),
    };
    envelope(id, 2, user, json!({ "id": "1", "name": name, "type": 1, "options": options }))
}

/// A component click (button, or select menu with `values`).
pub fn component(id: &str, user: &str, custom_id: &str, values: Option<&[&str]>) -> Value {
    let mut data = json!({ "custom_id": custom_id, "component_type": 2 });
    if let Some(values) = values {
        data["component_type"] = json!(3);
        data["values"] = json!(values);
    }
    envelope(id, 3, user, data)
}

/// A modal submit with one text input.
pub fn modal_submit(id: &str, user: &str, custom_id: &str, text: &str) -> Value {
    envelope(
        id,
        5,
        user,
        json!({ "custom_id": custom_id, "components": [
            { "type": 1, "components": [{ "type": 4, "custom_id": "text", "value": text }] }
        ]}),
    )
}

/// An autocomplete request with `option` focused.
pub fn autocomplete(id: &str, user: &str, name: &str, option: &str, typed: &str) -> Value {
    envelope(
        id,
        4,
        user,
        json!({ "id": "1", "name": name, "type": 1, "options": [
            { "name": option, "type": 3, "value": typed, "focused": true }
        ]}),
    )
}

/// Every component custom id of a message body, in order.
pub fn custom_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
        .collect()
}

/// The custom id of the button labelled `label` (or the select menu with that placeholder).
pub fn control(message: &Value, label: &str) -> String {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["label"] == label || c["placeholder"] == label)
        .and_then(|c| c["custom_id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no control {label} in {message:#}"))
}
