//! A fake Discord at the network boundary: the REST API (v10 paths, as serenity builds them)
//! and a gateway WebSocket. The real adapter is pointed at it with `discord.api_url`.
//!
//! REST: records every call, checks `Authorization: Bot <token>`, creates messages (honouring
//! `nonce` + `enforce_nonce`; with files as `multipart/form-data`, refusing one over
//! [`MAX_UPLOAD_BYTES`] with 40005), edits them, starts threads, opens DM channels, takes
//! interaction callbacks and webhook edits, echoes command registrations, and answers with
//! queued failures on demand (429 with `retry_after` JSON and headers, 5xx, error codes).
//! Like Discord, it refuses a body that breaks the documented rules (`50035 Invalid Form
//! Body`): a duplicate command name in a bulk overwrite, too long a text, too many controls.
//! Gateway: `GET /gateway[/bot]` returns the fake's `ws://` URL; the socket sends Hello,
//! answers Identify with READY, acks heartbeats and pushes dispatches from the test.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast};
use tokio_tungstenite_021::tungstenite::Message as WsMessage;

use super::platform_limits as limits;

pub const TOKEN: &str = "fake-bot-token";
/// The guild the fake's forums are in.
pub const GUILD: &str = "300000000000000001";
pub const APPLICATION_ID: u64 = 4_000_000_000_000_001;

/// One REST call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Path after `/api/v10`, e.g. `/channels/1/messages`.
    pub path: String,
    pub body: Value,
    /// The status the fake answered with.
    pub status: u16,
    /// Files of a `multipart/form-data` call: (form field, e.g. `files[0]`, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

/// Discord's upload limit for a bot in a server without boosts.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// A failure to answer the next matching call with.
#[derive(Debug, Clone)]
pub enum Failure {
    RateLimited {
        retry_after: f64,
    },
    ServerError,
    Error {
        status: u16,
        code: i64,
    },
    /// The call is carried out, but its answer is lost on the way (a 502 instead).
    LostResponse,
}

/// (method, part of the path) a queued failure applies to.
type Filter = (String, String);

#[derive(Default)]
struct FakeState {
    calls: Mutex<Vec<Call>>,
    /// Failures to answer with, each for any call or for calls matching (method, path part).
    failures: Mutex<VecDeque<(Option<Filter>, Failure)>>,
    next_id: AtomicU64,
    /// (channel, nonce) → created message, for `enforce_nonce`.
    nonces: Mutex<HashMap<(String, String), Value>>,
    /// Messages by id (latest body).
    messages: Mutex<HashMap<String, Value>>,
    /// Threads started from a message (the thread's id is the message's), with their
    /// members in the order they were added.
    threads: Mutex<HashMap<String, Vec<String>>>,
    /// Forum channels by id, with their tag ids.
    forums: Mutex<HashMap<String, Vec<String>>>,
    /// Posts started in forums: (forum, request body, thread id).
    forum_posts: Mutex<Vec<(String, Value, String)>>,
    changed: Notify,
    gateway_url: Mutex<String>,
    dispatches: Mutex<Option<broadcast::Sender<Value>>>,
    identified: Notify,
    identifies: AtomicU64,
}

pub struct DiscordFake {
    pub url: String,
    state: Arc<FakeState>,
}

impl DiscordFake {
    pub async fn start() -> DiscordFake {
        let state = Arc::new(FakeState {
            next_id: AtomicU64::new(5_000_000_000_000_000),
            ..FakeState::default()
        });
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        *state.gateway_url.lock().unwrap() = format!("ws://{}", ws.local_addr().unwrap());
        let (sender, _) = broadcast::channel(64);
        *state.dispatches.lock().unwrap() = Some(sender);
        tokio::spawn(gateway(ws, state.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        // No body limit of its own: Discord's upload limit is the fake's to answer (40005).
        let app = Router::new()
            .fallback(rest)
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        DiscordFake { url: format!("http://{addr}"), state }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Calls whose method and path match, e.g. ("POST", "/channels/").
    pub fn calls_to(&self, method: &str, path_contains: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.path.contains(path_contains))
            .collect()
    }

    /// Calls with exactly this method and path.
    pub fn calls_exact(&self, method: &str, path: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.method == method && c.path == path).collect()
    }

    /// The next calls fail like this, in order.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.state.failures.lock().unwrap().extend(failures.into_iter().map(|f| (None, f)));
    }

    /// The next calls with this method and a path containing `path` fail like this.
    pub fn fail_next_on(
        &self,
        method: &str,
        path: &str,
        failures: impl IntoIterator<Item = Failure>,
    ) {
        let filter = Some((method.to_owned(), path.to_owned()));
        self.state
            .failures
            .lock()
            .unwrap()
            .extend(failures.into_iter().map(|f| (filter.clone(), f)));
    }

    /// Makes `forum` a forum channel with these tag ids.
    pub fn add_forum(&self, forum: &str, tags: &[&str]) {
        let tags = tags.iter().map(|t| t.to_string()).collect();
        self.state.forums.lock().unwrap().insert(forum.to_owned(), tags);
    }

    /// The posts started in forums: (forum, request body, thread id).
    pub fn forum_posts(&self) -> Vec<(String, Value, String)> {
        self.state.forum_posts.lock().unwrap().clone()
    }

    /// The threads started so far, each with its members.
    pub fn threads(&self) -> HashMap<String, Vec<String>> {
        self.state.threads.lock().unwrap().clone()
    }

    /// The current body of a message created through the fake.
    pub fn message(&self, id: &str) -> Option<Value> {
        self.state.messages.lock().unwrap().get(id).cloned()
    }

    /// Waits (at most 10 s) until `check` holds for the recorded calls.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.state.changed.notified();
            let calls = self.calls();
            if check(&calls) {
                return calls;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {what}; calls: {calls:#?}");
            }
        }
    }

    /// Waits until a gateway client has identified.
    pub async fn wait_identified(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.state.identified.notified();
            if self.state.identifies.load(Ordering::SeqCst) > 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no gateway client identified");
            }
        }
    }

    /// Pushes a dispatch (`t`, `d`) to connected gateway clients.
    pub fn dispatch(&self, event: &str, data: Value) {
        let sender = self.state.dispatches.lock().unwrap().clone().unwrap();
        let _ = sender.send(json!({ "op": 0, "t": event, "d": data }));
    }
}

fn id(state: &FakeState) -> String {
    state.next_id.fetch_add(1, Ordering::SeqCst).to_string()
}

fn rate_headers(remaining: u32, reset_after: f64) -> [(String, String); 4] {
    [
        ("x-ratelimit-limit".into(), "5".into()),
        ("x-ratelimit-remaining".into(), remaining.to_string()),
        ("x-ratelimit-reset-after".into(), format!("{reset_after:.3}")),
        ("x-ratelimit-bucket".into(), "fakebucket".into()),
    ]
}

fn respond(status: StatusCode, headers: [(String, String); 4], body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}

async fn rest(
    State(state): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/api/v10").unwrap_or(uri.path()).to_owned();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    // With files, the JSON body travels as the `payload_json` part of a form.
    let (body, files): (Value, Vec<(String, Vec<u8>)>) =
        if content_type.starts_with("multipart/form-data") {
            let parts = form_parts(content_type, &body);
            let payload = parts.iter().find(|(name, _)| name == "payload_json");
            let json = payload.and_then(|(_, raw)| serde_json::from_slice(raw).ok());
            let files = parts.iter().filter(|(name, _)| name.starts_with("files[")).cloned();
            (json.unwrap_or(Value::Null), files.collect())
        } else {
            (serde_json::from_slice(&body).unwrap_or(Value::Null), Vec::new())
        };
    let response = if auth == format!("Bot {TOKEN}") {
        match file_problem(&body, &files) {
            Some(problem) => problem,
            None => answer(&state, &method, &path, &body),
        }
    } else {
        respond(
            StatusCode::UNAUTHORIZED,
            rate_headers(5, 1.0),
            json!({ "code": 0, "message": "401: Unauthorized" }),
        )
    };
    let status = response.status().as_u16();
    let call = Call { method: method.to_string(), path, body, status, files };
    state.calls.lock().unwrap().push(call);
    state.changed.notify_waiters();
    response
}

/// What Discord answers to files it will not take: a file over the upload limit (40005),
/// or `attachments` that name no `files[n]` part of the form (50035).
fn file_problem(body: &Value, files: &[(String, Vec<u8>)]) -> Option<Response> {
    if files.iter().any(|(_, bytes)| bytes.len() > MAX_UPLOAD_BYTES) {
        return Some(respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            rate_headers(4, 1.0),
            json!({ "message": "Request entity too large", "code": 40005 }),
        ));
    }
    let named = body["attachments"].as_array().cloned().unwrap_or_default();
    let missing = named.iter().any(|a| {
        let field = format!("files[{}]", a["id"].as_u64().unwrap_or(u64::MAX));
        !files.iter().any(|(name, _)| *name == field)
    });
    missing.then(|| {
        respond(
            StatusCode::BAD_REQUEST,
            rate_headers(4, 1.0),
            json!({ "message": "Invalid Form Body", "code": INVALID_FORM_BODY,
                "errors": ["attachments name a file the form does not carry"] }),
        )
    })
}

/// The parts of a `multipart/form-data` body: (field name, content).
fn form_parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else { return Vec::new() };
    let delimiter = format!("--{}", boundary.trim_matches('"')).into_bytes();
    let find = |haystack: &[u8], needle: &[u8]| {
        haystack.windows(needle.len()).position(|window| window == needle)
    };
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, &delimiter) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, &delimiter).unwrap_or(rest.len());
        let part = &rest[..end];
        let Some(split) = find(part, b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let name = headers.split("name=\"").nth(1).and_then(|r| r.split('"').next());
        parts.push((name.unwrap_or_default().to_owned(), content.to_vec()));
    }
    parts
}

fn answer(state: &FakeState, method: &Method, path: &str, body: &Value) -> Response {
    let ok = |body: Value| respond(StatusCode::OK, rate_headers(4, 1.0), body);
    if path.starts_with("/gateway") {
        let url = state.gateway_url.lock().unwrap().clone();
        return ok(json!({
            "url": url, "shards": 1,
            "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1 },
        }));
    }
    let failure = {
        let mut failures = state.failures.lock().unwrap();
        let position = failures.iter().position(|(filter, _)| match filter {
            None => true,
            Some((m, p)) => m == method.as_str() && path.contains(p.as_str()),
        });
        position.and_then(|i| failures.remove(i)).map(|(_, f)| f)
    };
    if let Some(Failure::LostResponse) = failure {
        let _done = answer(state, method, path, body);
        return respond(
            StatusCode::BAD_GATEWAY,
            rate_headers(4, 1.0),
            json!({ "message": "lost" }),
        );
    }
    if let Some(failure) = failure {
        return match failure {
            Failure::LostResponse => unreachable!("answered above"),
            Failure::RateLimited { retry_after } => {
                let mut response = respond(
                    StatusCode::TOO_MANY_REQUESTS,
                    rate_headers(0, retry_after),
                    json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": false }),
                );
                response
                    .headers_mut()
                    .insert("retry-after", format!("{}", retry_after.ceil()).parse().unwrap());
                response
            }
            Failure::ServerError => respond(
                StatusCode::BAD_GATEWAY,
                rate_headers(4, 1.0),
                json!({ "message": "upstream trouble", "code": 0 }),
            ),
            Failure::Error { status, code } => respond(
                StatusCode::from_u16(status).unwrap(),
                rate_headers(4, 1.0),
                json!({ "message": format!("error {code}"), "code": code }),
            ),
        };
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let Some(problems) = invalid_form(method.as_str(), &segments, body) {
        return respond(
            StatusCode::BAD_REQUEST,
            rate_headers(4, 1.0),
            json!({ "message": "Invalid Form Body", "code": INVALID_FORM_BODY, "errors": problems }),
        );
    }
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["channels", channel, "messages"]) => {
            let nonce = body.get("nonce").and_then(Value::as_str).map(str::to_owned);
            let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
            if let (Some(nonce), true) = (&nonce, enforce)
                && let Some(existing) =
                    state.nonces.lock().unwrap().get(&(channel.to_string(), nonce.clone()))
            {
                return ok(existing.clone());
            }
            let mut message = body.clone();
            let id = id(state);
            message["id"] = json!(id);
            message["channel_id"] = json!(channel);
            state.messages.lock().unwrap().insert(id.clone(), message.clone());
            if let (Some(nonce), true) = (nonce, enforce) {
                state.nonces.lock().unwrap().insert((channel.to_string(), nonce), message.clone());
            }
            ok(message)
        }
        ("PATCH", ["channels", channel, "messages", message]) => {
            let mut stored = state.messages.lock().unwrap();
            let Some(existing) = stored.get_mut(*message) else {
                return respond(
                    StatusCode::NOT_FOUND,
                    rate_headers(4, 1.0),
                    json!({ "message": "Unknown Message", "code": 10008 }),
                );
            };
            for (key, value) in body.as_object().cloned().unwrap_or_default() {
                existing[key] = value;
            }
            existing["channel_id"] = json!(channel);
            ok(existing.clone())
        }
        ("POST", ["channels", _, "messages", message, "threads"]) => {
            // A message has at most one thread, as with Discord.
            let mut threads = state.threads.lock().unwrap();
            if threads.contains_key(*message) {
                return respond(
                    StatusCode::BAD_REQUEST,
                    rate_headers(4, 1.0),
                    json!({ "message": "A thread has already been created for this message", "code": 160004 }),
                );
            }
            threads.insert(message.to_string(), Vec::new());
            ok(json!({ "id": message, "type": 11, "name": body["name"] }))
        }
        ("POST", ["channels", forum, "threads"]) => {
            // As Discord: a forum post needs its first message and at most 5 of the forum's
            // own tags; it is a thread whose id is also its first message's.
            let Some(tags) = state.forums.lock().unwrap().get(*forum).cloned() else {
                return respond(
                    StatusCode::NOT_FOUND,
                    rate_headers(4, 1.0),
                    json!({ "message": "Unknown Channel", "code": 10003 }),
                );
            };
            let applied: Vec<String> = body["applied_tags"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let content = body["message"]["content"].as_str().unwrap_or_default();
            let valid = !content.is_empty()
                && content.chars().count() <= 2000
                && body["name"].as_str().is_some_and(|n| (1..=100).contains(&n.chars().count()))
                && applied.len() <= 5
                && applied.iter().all(|t| tags.contains(t));
            if !valid {
                return respond(
                    StatusCode::BAD_REQUEST,
                    rate_headers(4, 1.0),
                    json!({ "message": "Invalid Form Body", "code": INVALID_FORM_BODY }),
                );
            }
            let thread = id(state);
            state.threads.lock().unwrap().insert(thread.clone(), Vec::new());
            let first = json!({ "id": thread, "channel_id": thread, "content": content });
            state.messages.lock().unwrap().insert(thread.clone(), first);
            state.forum_posts.lock().unwrap().push((
                forum.to_string(),
                body.clone(),
                thread.clone(),
            ));
            ok(json!({ "id": thread, "type": 11, "parent_id": forum, "name": body["name"],
                "applied_tags": applied }))
        }
        ("GET", ["channels", channel]) if state.forums.lock().unwrap().contains_key(*channel) => {
            ok(json!({ "id": channel, "type": 15, "guild_id": GUILD }))
        }
        ("GET", ["guilds", _, "threads", "active"]) => {
            let threads: Vec<Value> = state
                .forum_posts
                .lock()
                .unwrap()
                .iter()
                .map(|(forum, body, id)| {
                    json!({ "id": id, "type": 11, "parent_id": forum, "name": body["name"] })
                })
                .collect();
            ok(json!({ "threads": threads, "members": [] }))
        }
        ("PUT", ["channels", thread, "thread-members", user]) => {
            let mut threads = state.threads.lock().unwrap();
            let Some(members) = threads.get_mut(*thread) else {
                return respond(
                    StatusCode::NOT_FOUND,
                    rate_headers(4, 1.0),
                    json!({ "message": "Unknown Channel", "code": 10003 }),
                );
            };
            if !members.iter().any(|m| m == user) {
                members.push(user.to_string());
            }
            StatusCode::NO_CONTENT.into_response()
        }
        ("POST", ["users", "@me", "channels"]) => ok(json!({ "id": id(state), "type": 1 })),
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) => ok(body.clone()),
        ("DELETE", ["webhooks", _, _, "messages", "@original"]) => {
            StatusCode::NO_CONTENT.into_response()
        }
        ("POST", ["webhooks", _, _]) => ok(json!({ "id": id(state) })),
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => ok(body.clone()),
        _ => respond(
            StatusCode::NOT_FOUND,
            rate_headers(4, 1.0),
            json!({ "message": "404: Not Found", "code": 0 }),
        ),
    }
}

/// Discord's answer to a body that breaks its rules (a duplicate command name, too long a
/// field, too many components); the whole request is refused.
pub const INVALID_FORM_BODY: i64 = 50035;

/// What Discord would refuse in this request's body, if anything.
fn invalid_form(method: &str, segments: &[&str], body: &Value) -> Option<Vec<String>> {
    let problems = match (method, segments) {
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => limits::discord_commands(body),
        ("POST", ["channels", _, "messages"])
        | ("PATCH", ["channels", _, "messages", _])
        | ("PATCH", ["webhooks", _, _, "messages", "@original"])
        | ("POST", ["webhooks", _, _]) => limits::discord_message(body),
        ("POST", ["interactions", _, _, "callback"]) => limits::discord_callback(body),
        _ => Vec::new(),
    };
    (!problems.is_empty()).then_some(problems)
}

/// The fake gateway: Hello, READY after Identify, heartbeat acks, pushed dispatches.
async fn gateway(listener: tokio::net::TcpListener, state: Arc<FakeState>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(socket) = tokio_tungstenite_021::accept_async(stream).await else { return };
            let (mut sink, mut stream) = socket.split();
            let hello = json!({ "op": 10, "d": { "heartbeat_interval": 41250 } });
            if sink.send(WsMessage::Text(hello.to_string())).await.is_err() {
                return;
            }
            let mut dispatches = state.dispatches.lock().unwrap().as_ref().unwrap().subscribe();
            let mut sequence = 1u64;
            loop {
                tokio::select! {
                    incoming = stream.next() => {
                        let Some(Ok(message)) = incoming else { return };
                        let text = match message {
                            WsMessage::Text(text) => text,
                            WsMessage::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                            WsMessage::Close(_) => return,
                            _ => continue,
                        };
                        let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                        let reply = match payload["op"].as_u64() {
                            Some(1) => json!({ "op": 11 }),
                            Some(2) => {
                                sequence += 1;
                                json!({ "op": 0, "t": "READY", "s": sequence, "d": {
                                    "v": 10,
                                    "user": { "id": "4000000000000002", "username": "steward", "bot": true },
                                    "guilds": [],
                                    "session_id": "fake-session",
                                    "resume_gateway_url": state.gateway_url.lock().unwrap().clone(),
                                    "shard": [0, 1],
                                    "application": { "id": APPLICATION_ID.to_string(), "flags": 0 },
                                }})
                            }
                            _ => continue,
                        };
                        let identified = payload["op"].as_u64() == Some(2);
                        if sink.send(WsMessage::Text(reply.to_string())).await.is_err() {
                            return;
                        }
                        if identified {
                            state.identifies.fetch_add(1, Ordering::SeqCst);
                            state.identified.notify_waiters();
                        }
                    }
                    pushed = dispatches.recv() => {
                        let Ok(mut dispatch) = pushed else { return };
                        sequence += 1;
                        dispatch["s"] = json!(sequence);
                        if sink.send(WsMessage::Text(dispatch.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}
