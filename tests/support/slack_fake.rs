//! A local Slack: the Web API over HTTP (records every call, checks the bearer token and the
//! fields each method requires, answers 429/5xx/`ok:false` on demand), `response_url`s, and a
//! Socket Mode WebSocket endpoint handed out by `apps.connections.open`. Files go the way
//! Slack takes them: `files.getUploadURLExternal` hands out an upload URL on the fake itself,
//! the bytes are POSTed there, and `files.completeUploadExternal` shares them
//! ([`SlackFake::shared_files`]). The real adapter is
//! pointed at it with `slack.api_url`. Like Slack, it answers `invalid_blocks` (recording
//! the broken limits under `_problems` in the call) when blocks or a view exceed a limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::platform_limits as limits;

pub const BOT_TOKEN: &str = "xoxb-test-bot";
pub const APP_TOKEN: &str = "xapp-test-app";
pub const SIGNING_SECRET: &str = "test-signing-secret";
/// The app's OAuth client, and what `oauth.v2.access` grants for [`INSTALL_CODE`].
pub const CLIENT_ID: &str = "1111.2222";
pub const CLIENT_SECRET: &str = "test-client-secret";
pub const INSTALL_CODE: &str = "code-from-slack";
pub const SECOND_TEAM: &str = "T0SECOND";
pub const SECOND_TEAM_TOKEN: &str = "xoxb-second-team";
/// A third workspace, installed with [`THIRD_INSTALL_CODE`].
pub const THIRD_INSTALL_CODE: &str = "code-from-third";
pub const THIRD_TEAM: &str = "T0THIRD";
pub const THIRD_TEAM_TOKEN: &str = "xoxb-third-team";
/// A workspace with token rotation on, installed with [`ROTATING_INSTALL_CODE`]: its
/// tokens (`xoxe.xoxb-rotating-<n>`) come with a refresh token (`xoxe-refresh-<n>`) and
/// expire in [`ROTATING_EXPIRES_IN`] seconds; refreshing hands out the next pair.
pub const ROTATING_INSTALL_CODE: &str = "code-from-rotating";
pub const ROTATING_TEAM: &str = "T0ROTATE";
pub const ROTATING_EXPIRES_IN: i64 = 43_200;

/// The bot token of a rotating workspace's `n`th grant (1 at install).
pub fn rotating_token(n: u32) -> String {
    format!("xoxe.xoxb-rotating-{n}")
}

pub fn rotating_refresh(n: u32) -> String {
    format!("xoxe-refresh-{n}")
}

/// One Web API call as the fake saw it.
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub method: String,
    /// Query string, form fields and JSON body merged.
    pub params: Value,
}

/// What the next call of a method answers instead of success.
#[derive(Debug, Clone)]
pub enum Failure {
    /// HTTP 429 with `Retry-After: seconds`.
    RateLimited(u64),
    /// HTTP 500.
    ServerError,
    /// `{"ok": false, "error": code}`.
    SlackError(&'static str),
    /// Any other HTTP status (e.g. 405 from a proxy in the way).
    Http(u16),
}

#[derive(Default)]
struct Inner {
    calls: Vec<ApiCall>,
    failures: HashMap<String, VecDeque<Failure>>,
    /// Messages per channel, newest last, as `conversations.history` shows them.
    history: HashMap<String, Vec<Value>>,
    next_ts: u64,
    /// Posts that were stored but answered with a 500 (the "outcome unknown" case).
    lose_next_response: HashMap<String, usize>,
    /// Thread replies per `(channel, parent ts)`, oldest first, as `conversations.replies`
    /// shows them (Slack keeps them out of `conversations.history`).
    replies: HashMap<(String, String), Vec<Value>>,
    /// Every `n`th call of a method answers 429 with `Retry-After: seconds` (a storm).
    storms: HashMap<String, (usize, u64)>,
    /// Calls per method so far (for the storms).
    counts: HashMap<String, usize>,
    /// Channels made with `conversations.create`, in order.
    channels: Vec<FakeChannel>,
    /// Files by id, from `files.getUploadURLExternal` on.
    files: HashMap<String, FakeFile>,
    /// Grants of the rotating workspace so far (the current token is the last one's).
    rotations: u32,
    /// Tokens Slack no longer takes (`token_expired`): replaced by a refresh and expired.
    expired: Vec<String>,
    /// Tokens revoked (`token_revoked`): the app was reinstalled elsewhere.
    revoked: Vec<String>,
    /// Every refresh is answered `invalid_refresh_token` (the app was uninstalled).
    refuse_refreshes: bool,
}

/// A channel made through the fake's `conversations.create`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeChannel {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
    /// Timestamps of pinned messages.
    pub pins: Vec<String>,
    pub archived: bool,
}

/// Slack's rule for channel names: at most 80 characters, lowercase letters, digits, `-`
/// and `_` only. The error codes are Slack's.
fn channel_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("invalid_name_required")
    } else if name.chars().count() > 80 {
        Some("invalid_name_maxlength")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
    {
        Some("invalid_name_specials")
    } else {
        None
    }
}

/// A list parameter sent as a comma-separated string (form) or an array (JSON body).
fn list_param(params: &Value, field: &str) -> Vec<String> {
    match params.get(field) {
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        Some(Value::String(raw)) => {
            raw.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

/// A file as the fake keeps it: announced, uploaded to its URL, shared by completions.
#[derive(Debug, Clone, Default)]
struct FakeFile {
    filename: String,
    length: usize,
    bytes: Option<Vec<u8>>,
}

/// A file shared into a channel by `files.completeUploadExternal` (one per share: a file
/// completed twice is shared twice, so duplicates show).
#[derive(Debug, Clone)]
pub struct SharedFile {
    pub file_id: String,
    pub filename: String,
    pub title: String,
    pub channel: String,
    pub thread_ts: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct SlackFake {
    inner: Arc<Mutex<Inner>>,
    shares: Arc<Mutex<Vec<SharedFile>>>,
    changed: Arc<Notify>,
    pub base_url: String,
    /// Envelopes to push to the connected Socket Mode client.
    socket_out: mpsc::UnboundedSender<Value>,
    /// Frames the Socket Mode client sent (acks).
    socket_in: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>>,
}

impl SlackFake {
    pub async fn start() -> SlackFake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let ws_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}/socket", ws_listener.local_addr().unwrap());
        let (socket_out, out_rx) = mpsc::unbounded_channel();
        let (in_tx, socket_in) = mpsc::unbounded_channel();
        let fake = SlackFake {
            inner: Arc::default(),
            shares: Arc::default(),
            changed: Arc::default(),
            base_url,
            socket_out,
            socket_in: Arc::new(tokio::sync::Mutex::new(socket_in)),
        };
        let state = (fake.clone(), ws_url);
        let app = Router::new()
            .route("/api/{method}", any(api))
            .route("/response/{id}", post(response_url))
            .route("/upload/{file_id}", post(upload))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        tokio::spawn(socket_server(ws_listener, out_rx, in_tx));
        fake
    }

    pub fn api_url(&self) -> String {
        format!("{}/api", self.base_url)
    }

    pub fn response_url(&self, id: &str) -> String {
        format!("{}/response/{id}", self.base_url)
    }

    /// The next calls of `method` fail like this, in order.
    pub fn fail_next(&self, method: &str, failures: impl IntoIterator<Item = Failure>) {
        let mut inner = self.inner.lock().unwrap();
        inner.failures.entry(method.to_owned()).or_default().extend(failures);
    }

    /// From now on every `every`th call of `method` answers 429 with `Retry-After: seconds`;
    /// the refused calls are recorded with `_status: 429`.
    pub fn rate_limit_every(&self, method: &str, every: usize, seconds: u64) {
        self.inner.lock().unwrap().storms.insert(method.to_owned(), (every, seconds));
    }

    /// Calls of `method` that Slack answered (not refused with a 429).
    pub fn answered_calls_of(&self, method: &str) -> Vec<ApiCall> {
        self.calls_of(method).into_iter().filter(|c| c.params["_status"] != 429).collect()
    }

    /// The next `chat.postMessage` is stored but its response is lost (HTTP 500).
    pub fn lose_next_post_response(&self) {
        *self
            .inner
            .lock()
            .unwrap()
            .lose_next_response
            .entry("chat.postMessage".into())
            .or_default() += 1;
    }

    /// The next response of `method` is lost (HTTP 500) after the call took effect.
    pub fn lose_next_response_of(&self, method: &str) {
        *self.inner.lock().unwrap().lose_next_response.entry(method.into()).or_default() += 1;
    }

    /// Whether the call just made took effect but its response is to be lost.
    fn response_lost(&self, method: &str) -> bool {
        let mut inner = self.inner.lock().unwrap();
        match inner.lose_next_response.get_mut(method) {
            Some(lost) if *lost > 0 => {
                *lost -= 1;
                true
            }
            _ => false,
        }
    }

    /// The channels made with `conversations.create`.
    pub fn channels(&self) -> Vec<FakeChannel> {
        self.inner.lock().unwrap().channels.clone()
    }

    /// A channel made outside Steward (someone took the name first).
    pub fn add_channel(&self, name: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("C0ROOM{}", inner.channels.len() + 1);
        inner.channels.push(FakeChannel {
            id: id.clone(),
            name: name.to_owned(),
            ..Default::default()
        });
        id
    }

    /// Every file shared into a channel so far.
    pub fn shared_files(&self) -> Vec<SharedFile> {
        self.shares.lock().unwrap().clone()
    }

    pub fn calls(&self) -> Vec<ApiCall> {
        self.inner.lock().unwrap().calls.clone()
    }

    pub fn calls_of(&self, method: &str) -> Vec<ApiCall> {
        self.calls().into_iter().filter(|c| c.method == method).collect()
    }

    /// Waits (up to 10 s) until `method` was called at least `count` times.
    pub async fn wait_for(&self, method: &str, count: usize) -> Vec<ApiCall> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.changed.notified();
            let calls = self.calls_of(method);
            if calls.len() >= count {
                return calls;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {count} × {method}; saw {:?}", self.calls());
            }
        }
    }

    /// Sends a Socket Mode envelope to the connected client.
    pub fn push_envelope(&self, envelope: Value) {
        self.socket_out.send(envelope).unwrap();
    }

    /// The next frame the Socket Mode client sent (an ack), within 10 s.
    pub async fn next_ack(&self) -> Value {
        let mut rx = self.socket_in.lock().await;
        tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("an ack within 10 s")
            .expect("socket open")
    }

    /// The bearer token each call of `method` came with, in order.
    pub fn tokens_of(&self, method: &str) -> Vec<String> {
        self.calls_of(method)
            .iter()
            .map(|c| c.params["_token"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// How many times the rotating workspace's token was granted (1 after its install).
    pub fn rotations(&self) -> u32 {
        self.inner.lock().unwrap().rotations
    }

    /// From now on every refresh is answered `invalid_refresh_token`.
    pub fn refuse_refreshes(&self) {
        self.inner.lock().unwrap().refuse_refreshes = true;
    }

    /// Expires every token of the rotating workspace handed out so far except the newest:
    /// Slack then answers `token_expired` for them. With `newest` the current one too.
    pub fn expire_rotated_tokens(&self, newest: bool) {
        let mut inner = self.inner.lock().unwrap();
        let last = inner.rotations + u32::from(newest);
        inner.expired = (1..last).map(rotating_token).collect();
    }

    /// Slack answers `token_revoked` for `token` from now on.
    pub fn revoke_token(&self, token: &str) {
        self.inner.lock().unwrap().revoked.push(token.to_owned());
    }

    /// Records a call; returns its index (to add what the fake answered).
    fn record(&self, method: &str, params: Value) -> usize {
        let mut inner = self.inner.lock().unwrap();
        inner.calls.push(ApiCall { method: method.to_owned(), params });
        self.changed.notify_waiters();
        inner.calls.len() - 1
    }
}

fn merge_params(query: Option<String>, headers: &HeaderMap, body: &[u8]) -> Value {
    let mut params = serde_json::Map::new();
    let mut add_form = |raw: &str| {
        for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(raw).unwrap_or_default() {
            params.insert(k, Value::String(v));
        }
    };
    if let Some(query) = query {
        add_form(&query);
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            params.extend(map);
        }
    } else {
        add_form(std::str::from_utf8(body).unwrap_or(""));
    }
    Value::Object(params)
}

fn ok(mut body: Value) -> Response {
    body["ok"] = json!(true);
    axum::Json(body).into_response()
}

fn slack_error(code: &str) -> Response {
    axum::Json(json!({ "ok": false, "error": code })).into_response()
}

async fn api(
    State((fake, ws_url)): State<(SlackFake, String)>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = merge_params(query, &headers, &body);
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let token = bearer.strip_prefix("Bearer ").unwrap_or_default().to_owned();
    params["_token"] = json!(token);
    let index = fake.record(&method, params.clone());
    if method == "oauth.v2.access" {
        return oauth_access(&fake, &headers, &params);
    }
    if method == "apps.connections.open" {
        if token != APP_TOKEN {
            return slack_error("invalid_auth");
        }
    } else if let Some(problem) = fake.bot_token_problem(&token) {
        return slack_error(problem);
    }
    let failure = {
        let mut inner = fake.inner.lock().unwrap();
        let count = inner.counts.entry(method.clone()).or_default();
        *count += 1;
        let count = *count;
        let storm = inner.storms.get(&method).copied();
        match storm {
            Some((every, seconds)) if count % every == 0 => {
                inner.calls[index].params["_status"] = json!(429);
                Some(Failure::RateLimited(seconds))
            }
            _ => inner.failures.get_mut(&method).and_then(|q| q.pop_front()),
        }
    };
    if matches!(failure, Some(Failure::RateLimited(_))) {
        fake.inner.lock().unwrap().calls[index].params["_status"] = json!(429);
    }
    match failure {
        Some(Failure::RateLimited(seconds)) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", seconds.to_string())], "")
                .into_response();
        }
        Some(Failure::ServerError) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Failure::SlackError(code)) => return slack_error(code),
        Some(Failure::Http(status)) => {
            return StatusCode::from_u16(status).unwrap().into_response();
        }
        None => {}
    }
    // Slack checks Block Kit against its limits and refuses the whole call.
    let too_big = match method.as_str() {
        "chat.postMessage" | "chat.update" | "chat.postEphemeral" => limits::slack_message(&params),
        "views.open" | "views.publish" | "views.update" => limits::slack_view(&view_of(&params)),
        _ => Vec::new(),
    };
    if !too_big.is_empty() {
        fake.inner.lock().unwrap().calls[index].params["_problems"] = json!(too_big);
        return slack_error("invalid_blocks");
    }
    let has = |field: &str| params.get(field).is_some_and(|v| !v.is_null() && v != "");
    let str_of = |field: &str| params.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
    match method.as_str() {
        "chat.postMessage" => {
            if !has("channel") || !(has("text") || has("blocks")) {
                return slack_error("invalid_arguments");
            }
            let channel = str_of("channel");
            let mut inner = fake.inner.lock().unwrap();
            if inner.channels.iter().any(|c| c.id == channel && c.archived) {
                return slack_error("is_archived");
            }
            inner.next_ts += 1;
            let ts = format!("1700000000.{:06}", inner.next_ts);
            let mut message =
                json!({ "ts": ts, "text": params.get("text").cloned().unwrap_or_default() });
            if let Some(metadata) = params.get("metadata") {
                // Sent as a JSON string in a form, or as an object in a JSON body.
                message["metadata"] = match metadata {
                    Value::String(raw) => serde_json::from_str(raw).unwrap_or(Value::Null),
                    other => other.clone(),
                };
            }
            // A reply goes to its parent's thread only, as with Slack (no `reply_broadcast`).
            match params.get("thread_ts").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                Some(parent) => {
                    message["thread_ts"] = json!(parent);
                    let key = (channel.clone(), parent.to_owned());
                    inner.replies.entry(key).or_default().push(message.clone());
                }
                None => inner.history.entry(channel.clone()).or_default().push(message.clone()),
            }
            // Tests find a post's ts under `_ts` in its recorded call.
            inner.calls[index].params["_ts"] = json!(ts);
            if let Some(lost) = inner.lose_next_response.get_mut("chat.postMessage")
                && *lost > 0
            {
                *lost -= 1;
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            ok(json!({ "channel": channel, "ts": ts, "message": message }))
        }
        "chat.update" => {
            if !has("channel") || !has("ts") || !(has("text") || has("blocks")) {
                return slack_error("invalid_arguments");
            }
            ok(json!({ "channel": str_of("channel"), "ts": str_of("ts"),
                "message": { "text": params.get("text").cloned().unwrap_or_default() } }))
        }
        "chat.postEphemeral" => {
            if !has("channel") || !has("user") {
                return slack_error("invalid_arguments");
            }
            ok(json!({ "message_ts": "1700000000.999999" }))
        }
        "conversations.open" => {
            if !has("users") {
                return slack_error("invalid_arguments");
            }
            let users = match params.get("users") {
                Some(Value::Array(users)) => {
                    users.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")
                }
                _ => str_of("users"),
            };
            ok(json!({ "channel": { "id": format!("D{users}") } }))
        }
        "conversations.history" => {
            if !has("channel") {
                return slack_error("invalid_arguments");
            }
            let inner = fake.inner.lock().unwrap();
            let mut messages = inner.history.get(&str_of("channel")).cloned().unwrap_or_default();
            messages.reverse();
            ok(json!({ "messages": messages, "has_more": false }))
        }
        "conversations.replies" => {
            if !has("channel") || !has("ts") {
                return slack_error("invalid_arguments");
            }
            let inner = fake.inner.lock().unwrap();
            let key = (str_of("channel"), str_of("ts"));
            let Some(parent) = inner
                .history
                .get(&key.0)
                .and_then(|h| h.iter().find(|m| m["ts"] == key.1.as_str()))
                .cloned()
            else {
                return slack_error("thread_not_found");
            };
            // Metadata only when asked for, as with Slack.
            let strip = |mut m: Value| {
                if params.get("include_all_metadata").and_then(Value::as_str) != Some("true") {
                    m.as_object_mut().map(|o| o.remove("metadata"));
                }
                m
            };
            let mut messages = vec![strip(parent)];
            messages.extend(
                inner.replies.get(&key).cloned().unwrap_or_default().into_iter().map(strip),
            );
            ok(json!({ "messages": messages, "has_more": false }))
        }
        "views.open" => {
            if !has("trigger_id") || !has("view") {
                return slack_error("invalid_arguments");
            }
            let mut view = params["view"].clone();
            view["id"] = json!("V0FAKE");
            view["team_id"] = json!("T0FAKE");
            view["hash"] = json!("h");
            ok(json!({ "view": view }))
        }
        "conversations.create" => {
            let name = str_of("name");
            if let Some(problem) = channel_name_problem(&name) {
                return slack_error(problem);
            }
            // Checked and made under one lock: two concurrent creates make one channel.
            let id = {
                let mut inner = fake.inner.lock().unwrap();
                if inner.channels.iter().any(|c| c.name == name) {
                    return slack_error("name_taken");
                }
                let id = format!("C0ROOM{}", inner.channels.len() + 1);
                let channel =
                    FakeChannel { id: id.clone(), name: name.clone(), ..Default::default() };
                inner.channels.push(channel);
                id
            };
            if fake.response_lost("conversations.create") {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            ok(json!({ "channel": { "id": id, "name": name, "created": 1_700_000_000 } }))
        }
        "conversations.list" => {
            // The cursor is the offset of the next page, as an opaque string.
            let limit: usize = str_of("limit").parse().unwrap_or(100);
            let offset: usize = str_of("cursor").parse().unwrap_or(0);
            let channels = fake.channels();
            let page: Vec<Value> = channels
                .iter()
                .skip(offset)
                .take(limit)
                .map(|c| {
                    json!({ "id": c.id, "name": c.name, "created": 1_700_000_000,
                    "is_archived": c.archived })
                })
                .collect();
            let next = offset + page.len();
            let next_cursor = if next < channels.len() { next.to_string() } else { String::new() };
            ok(json!({ "channels": page, "response_metadata": { "next_cursor": next_cursor } }))
        }
        "conversations.invite" => {
            let users = list_param(&params, "users");
            if users.is_empty() {
                return slack_error("no_user");
            }
            // Slack takes up to 1,000 user ids per call.
            if users.len() > 1000 {
                return slack_error("too_many_users");
            }
            let mut inner = fake.inner.lock().unwrap();
            let Some(channel) = inner.channels.iter_mut().find(|c| c.id == str_of("channel"))
            else {
                return slack_error("channel_not_found");
            };
            if channel.archived {
                return slack_error("is_archived");
            }
            let new: Vec<String> =
                users.into_iter().filter(|u| !channel.members.contains(u)).collect();
            if new.is_empty() {
                return slack_error("already_in_channel");
            }
            channel.members.extend(new);
            ok(
                json!({ "channel": { "id": channel.id, "name": channel.name, "created": 1_700_000_000 } }),
            )
        }
        "pins.add" => {
            let (id, ts) = (str_of("channel"), str_of("timestamp"));
            let mut inner = fake.inner.lock().unwrap();
            let posted =
                inner.history.get(&id).is_some_and(|h| h.iter().any(|m| m["ts"] == ts.as_str()));
            let Some(channel) = inner.channels.iter_mut().find(|c| c.id == id) else {
                return slack_error("channel_not_found");
            };
            if !posted {
                return slack_error("message_not_found");
            }
            if channel.pins.contains(&ts) {
                return slack_error("already_pinned");
            }
            channel.pins.push(ts);
            ok(json!({}))
        }
        "conversations.archive" => {
            let mut inner = fake.inner.lock().unwrap();
            let Some(channel) = inner.channels.iter_mut().find(|c| c.id == str_of("channel"))
            else {
                return slack_error("channel_not_found");
            };
            if channel.archived {
                return slack_error("already_archived");
            }
            channel.archived = true;
            ok(json!({}))
        }
        "files.getUploadURLExternal" => {
            let length = str_of("length").parse::<usize>().unwrap_or(0);
            if !has("filename") || length == 0 {
                return slack_error("invalid_arguments");
            }
            let mut inner = fake.inner.lock().unwrap();
            let file_id = format!("F{:08}", inner.files.len() + 1);
            let file = FakeFile { filename: str_of("filename"), length, bytes: None };
            inner.files.insert(file_id.clone(), file);
            let upload_url = format!("{}/upload/{file_id}", fake.base_url);
            ok(json!({ "upload_url": upload_url, "file_id": file_id }))
        }
        "files.completeUploadExternal" => {
            // `files` is a JSON array, or a JSON string of one in a form.
            let files = match &params["files"] {
                Value::String(raw) => serde_json::from_str(raw).unwrap_or(Value::Null),
                other => other.clone(),
            };
            let Some(files) = files.as_array().filter(|f| !f.is_empty()).cloned() else {
                return slack_error("invalid_arguments");
            };
            let thread_ts = params.get("thread_ts").and_then(Value::as_str).map(str::to_owned);
            let inner = fake.inner.lock().unwrap();
            let mut shared = Vec::new();
            for file in &files {
                let id = file["id"].as_str().unwrap_or_default();
                // Slack completes only files whose bytes arrived in full.
                let Some(known) = inner.files.get(id) else {
                    return slack_error("file_not_found");
                };
                let Some(bytes) = known.bytes.clone() else {
                    return slack_error("file_not_found");
                };
                shared.push(SharedFile {
                    file_id: id.to_owned(),
                    filename: known.filename.clone(),
                    title: file["title"].as_str().unwrap_or_default().to_owned(),
                    channel: str_of("channel_id"),
                    thread_ts: thread_ts.clone(),
                    bytes,
                });
            }
            drop(inner);
            let answer: Vec<Value> =
                shared.iter().map(|f| json!({ "id": f.file_id, "title": f.title })).collect();
            fake.shares.lock().unwrap().extend(shared);
            fake.changed.notify_waiters();
            ok(json!({ "files": answer }))
        }
        "views.publish" => {
            if !has("user_id") || !has("view") {
                return slack_error("invalid_arguments");
            }
            let mut view = view_of(&params);
            view["id"] = json!("V0HOME");
            view["team_id"] = json!("T0FAKE");
            view["hash"] = json!("h");
            ok(json!({ "view": view }))
        }
        "apps.connections.open" => ok(json!({ "url": ws_url })),
        _ => slack_error("unknown_method"),
    }
}

impl SlackFake {
    /// Why Slack would refuse a bot token, if it would: the environment's token, the
    /// installed teams' and the rotating team's current ones are good.
    fn bot_token_problem(&self, token: &str) -> Option<&'static str> {
        let inner = self.inner.lock().unwrap();
        if inner.expired.iter().any(|t| t == token) {
            return Some("token_expired");
        }
        if inner.revoked.iter().any(|t| t == token) {
            return Some("token_revoked");
        }
        let rotating = (1..=inner.rotations).any(|n| rotating_token(n) == token);
        let good = [BOT_TOKEN, SECOND_TEAM_TOKEN, THIRD_TEAM_TOKEN].contains(&token) || rotating;
        (!good).then_some("invalid_auth")
    }
}

/// `oauth.v2.access`: the client authenticates with HTTP Basic (id:secret). The code of
/// [`INSTALL_CODE`] grants the second team's bot token, [`THIRD_INSTALL_CODE`] the third's,
/// [`ROTATING_INSTALL_CODE`] the rotating team's first token and refresh token; any other
/// code is `invalid_code`. `grant_type=refresh_token` with the rotating team's current
/// refresh token grants the next pair (an older refresh token is `invalid_refresh_token`, and
/// so is every one after [`SlackFake::refuse_refreshes`]).
fn oauth_access(fake: &SlackFake, headers: &HeaderMap, params: &Value) -> Response {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let in_form = params["client_id"] == CLIENT_ID && params["client_secret"] == CLIENT_SECRET;
    if auth != format!("Basic {basic}") && !in_form {
        return slack_error("invalid_client_id");
    }
    let grant = |token: &str, team: &str, name: &str| {
        json!({
            "access_token": token, "token_type": "bot",
            "scope": "commands,chat:write", "bot_user_id": "U0BOT2", "app_id": "A0FAKE",
            "team": { "id": team, "name": name },
            "authed_user": { "id": "U0ADMIN2" },
        })
    };
    let rotate = |fake: &SlackFake| {
        let mut inner = fake.inner.lock().unwrap();
        inner.rotations += 1;
        let n = inner.rotations;
        let mut body = grant(&rotating_token(n), ROTATING_TEAM, "Rotating Workspace");
        body["refresh_token"] = json!(rotating_refresh(n));
        body["expires_in"] = json!(ROTATING_EXPIRES_IN);
        body
    };
    if params["grant_type"] == "refresh_token" {
        let (current, refused) = {
            let inner = fake.inner.lock().unwrap();
            (rotating_refresh(inner.rotations), inner.refuse_refreshes)
        };
        if refused || params["refresh_token"] != current.as_str() {
            return slack_error("invalid_refresh_token");
        }
        return ok(rotate(fake));
    }
    match params["code"].as_str() {
        Some(INSTALL_CODE) => ok(grant(SECOND_TEAM_TOKEN, SECOND_TEAM, "Second Workspace")),
        Some(THIRD_INSTALL_CODE) => ok(grant(THIRD_TEAM_TOKEN, THIRD_TEAM, "Third Workspace")),
        Some(ROTATING_INSTALL_CODE) => ok(rotate(fake)),
        _ => slack_error("invalid_code"),
    }
}

/// A view parameter, sent as a JSON object or as a JSON string in a form.
fn view_of(params: &Value) -> Value {
    match &params["view"] {
        Value::String(raw) => serde_json::from_str(raw).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

async fn response_url(
    State((fake, _)): State<(SlackFake, String)>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = merge_params(None, &headers, &body);
    params["response_id"] = json!(id);
    let problems = limits::slack_message(&params);
    let refused = !problems.is_empty();
    if refused {
        params["_problems"] = json!(problems);
    }
    fake.record("response_url", params);
    let failure =
        fake.inner.lock().unwrap().failures.get_mut("response_url").and_then(|q| q.pop_front());
    if let Some(Failure::RateLimited(seconds)) = failure {
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", seconds.to_string())], "")
            .into_response();
    }
    if refused {
        return slack_error("invalid_blocks");
    }
    ok(json!({}))
}

/// The upload URL `files.getUploadURLExternal` handed out: takes the file's bytes (as many as
/// announced, like Slack) and answers in plain text.
async fn upload(
    State((fake, _)): State<(SlackFake, String)>,
    Path(file_id): Path<String>,
    body: Bytes,
) -> Response {
    fake.record("upload", json!({ "file_id": file_id, "length": body.len() }));
    let failure = fake.inner.lock().unwrap().failures.get_mut("upload").and_then(|q| q.pop_front());
    if failure.is_some() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut inner = fake.inner.lock().unwrap();
    match inner.files.get_mut(&file_id) {
        Some(file) if file.length == body.len() => {
            file.bytes = Some(body.to_vec());
            format!("OK - {}", body.len()).into_response()
        }
        _ => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// Accepts Socket Mode connections: says hello, forwards pushed envelopes, reports acks.
async fn socket_server(
    listener: TcpListener,
    out: mpsc::UnboundedReceiver<Value>,
    acks: mpsc::UnboundedSender<Value>,
) {
    let out = Arc::new(tokio::sync::Mutex::new(out));
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        let (out, acks) = (out.clone(), acks.clone());
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
            let (mut sink, mut stream) = ws.split();
            let hello = json!({ "type": "hello", "num_connections": 1,
                "connection_info": { "app_id": "A0FAKE" },
                "debug_info": { "host": "fake" } });
            if sink.send(WsMessage::text(hello.to_string())).await.is_err() {
                return;
            }
            // Only one connection at a time gets the envelopes (as with Slack).
            let mut out = out.lock().await;
            loop {
                tokio::select! {
                    envelope = out.recv() => {
                        let Some(envelope) = envelope else { return };
                        if sink.send(WsMessage::text(envelope.to_string())).await.is_err() {
                            return;
                        }
                    }
                    frame = stream.next() => match frame {
                        Some(Ok(WsMessage::Text(text))) => {
                            if let Ok(value) = serde_json::from_str(text.as_str()) {
                                let _ = acks.send(value);
                            }
                        }
                        Some(Ok(WsMessage::Ping(data))) => { let _ = sink.send(WsMessage::Pong(data)).await; }
                        Some(Ok(_)) => {}
                        _ => return,
                    }
                }
            }
        });
    }
}
