//! The REST client: serenity's `Http` built with `discord.api_url` as its proxy (which only
//! works with serenity's own ratelimiter disabled), and Steward's own pacing in its place.
//!
//! Requests are built by serenity (`Request::build`: route, proxy, token header) and sent
//! on our `reqwest` client, so every response's status, rate-limit headers and JSON error
//! code are visible. Pacing per route (from `X-RateLimit-Remaining`/`-Reset-After`) and the
//! 50 requests/s global limit say "wait" before a request goes out ([`SendError::Paced`]),
//! so Steward never sends a burst that Discord would answer with 429s. A 429 that happens
//! anyway blocks its bucket (or everything, for the global limit) in the pacer and comes back
//! as [`SendError::Paced`]: the outbox waits without spending the message's attempts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use serenity::builder::CreateAttachment;
use serenity::http::{Http, HttpBuilder, LightMethod, Multipart, MultipartUpload, Request, Route};

use crate::config::DiscordSettings;
use crate::services::ports::{Clock, SendError};

/// Discord's global limit for a bot.
const GLOBAL_PER_SECOND: usize = 50;
/// How long every request waits after Discord refused the bot token.
const INVALID_TOKEN_PAUSE: Duration = Duration::from_secs(60);
/// How long a request may take before it counts as a connection problem.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Discord error codes Steward treats specially.
pub mod codes {
    pub const UNKNOWN_CHANNEL: i64 = 10003;
    pub const UNKNOWN_MESSAGE: i64 = 10008;
    pub const MISSING_ACCESS: i64 = 50001;
    /// A file larger than the channel's upload limit.
    pub const ENTITY_TOO_LARGE: i64 = 40005;
    pub const THREAD_ALREADY_CREATED: i64 = 160004;
}

/// A failed call, with Discord's JSON error code when it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub error: SendError,
    pub code: Option<i64>,
}

impl From<SendError> for CallError {
    fn from(error: SendError) -> CallError {
        CallError { error, code: None }
    }
}

/// Per-route and global pacing state, on Steward's clock (so tests run it on a manual one).
#[derive(Default)]
struct Pacer {
    /// Route key → (requests left, when the window resets).
    routes: HashMap<String, (u32, DateTime<Utc>)>,
    /// Send times within the last second, for the global limit.
    recent: VecDeque<DateTime<Utc>>,
    /// A global 429 blocks every route until then.
    global_until: Option<DateTime<Utc>>,
}

impl Pacer {
    /// `Some(wait)` when a request on `route` must not go out yet; otherwise counts it.
    fn admit(&mut self, route: &str, now: DateTime<Utc>) -> Option<Duration> {
        let until = |at: DateTime<Utc>| (at - now).to_std().ok().filter(|d| !d.is_zero());
        if let Some(wait) = self.global_until.and_then(until) {
            return Some(wait);
        }
        let second_ago = now - chrono::Duration::seconds(1);
        while self.recent.front().is_some_and(|t| *t <= second_ago) {
            self.recent.pop_front();
        }
        if self.recent.len() >= GLOBAL_PER_SECOND {
            let oldest = self.recent.front().copied().unwrap_or(now);
            return Some(
                until(oldest + chrono::Duration::seconds(1)).unwrap_or(Duration::from_millis(20)),
            );
        }
        if let Some((remaining, reset)) = self.routes.get_mut(route)
            && let Some(wait) = until(*reset)
        {
            if *remaining == 0 {
                return Some(wait);
            }
            // Count this request against the window until the response says more.
            *remaining -= 1;
        }
        self.recent.push_back(now);
        None
    }

    fn learn(&mut self, route: &str, headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.parse::<u32>().ok());
        let reset_after = header("x-ratelimit-reset-after").and_then(|v| v.parse::<f64>().ok());
        if let (Some(remaining), Some(reset_after)) = (remaining, reset_after) {
            let reset = now + chrono::Duration::milliseconds((reset_after * 1000.0).ceil() as i64);
            self.routes.insert(route.to_owned(), (remaining, reset));
        }
    }

    fn blocked(&mut self, route: &str, global: bool, until: DateTime<Utc>) {
        if global {
            self.global_until = Some(until);
        } else {
            self.routes.insert(route.to_owned(), (0, until));
        }
    }
}

/// Discord's REST API as Steward uses it.
pub struct Rest {
    http: Arc<Http>,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    pacer: Mutex<Pacer>,
}

impl Rest {
    /// Builds serenity's client for `settings.api_url` with `token` (`Bot ` is added when
    /// missing).
    pub fn new(settings: &DiscordSettings, token: &str, clock: Arc<dyn Clock>) -> Rest {
        let http = serenity_http(settings, token);
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Rest { http: Arc::new(http), client, clock, pacer: Mutex::default() }
    }

    /// serenity's client (the gateway uses it).
    pub fn http(&self) -> Arc<Http> {
        self.http.clone()
    }

    fn pacer(&self) -> std::sync::MutexGuard<'_, Pacer> {
        self.pacer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A paced call: `route_key` names the rate-limit route (method + path template with
    /// its major parameter), e.g. `POST channels/123/messages`.
    pub async fn call(
        &self,
        route_key: &str,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        if let Some(retry_after) = self.pacer().admit(route_key, self.clock.now()) {
            return Err(SendError::Paced { retry_after }.into());
        }
        self.send(route_key, route, method, body).await
    }

    /// An unpaced call: interaction callbacks and webhook edits, which Discord does not count
    /// against the bot's global limit.
    pub async fn call_unpaced(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        self.send("interaction", route, method, body).await
    }

    /// A paced call with files: `multipart/form-data` with each file as `files[n]` and
    /// `payload` as `payload_json` (whose `attachments` name the files by `id`).
    pub async fn call_with_files(
        &self,
        route_key: &str,
        route: Route<'_>,
        method: LightMethod,
        payload: &Value,
        files: Vec<CreateAttachment>,
    ) -> Result<Value, CallError> {
        if let Some(retry_after) = self.pacer().admit(route_key, self.clock.now()) {
            return Err(SendError::Paced { retry_after }.into());
        }
        let multipart = Multipart {
            upload: MultipartUpload::Attachments(files),
            fields: Vec::new(),
            payload_json: Some(payload.to_string()),
        };
        let request = Request::new(route, method).multipart(Some(multipart));
        self.exchange(route_key, request).await
    }

    async fn send(
        &self,
        route_key: &str,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        self.exchange(route_key, Request::new(route, method).body(bytes)).await
    }

    /// Sends a built request and maps Discord's answer (pacing, 429, 401, error codes).
    async fn exchange(&self, route_key: &str, request: Request<'_>) -> Result<Value, CallError> {
        let request = request
            .build(&self.client, self.http.token(), self.http.proxy.as_deref())
            .map_err(|e| SendError::Permanent { reason: format!("cannot build request: {e}") })?;
        let response = match request.send().await {
            Ok(response) => response,
            // The request may or may not have arrived: retrying is safe because creates
            // carry a nonce that Discord enforces.
            Err(err) => {
                return Err(SendError::Retryable {
                    reason: format!("connection: {err}"),
                    retry_after: None,
                }
                .into());
            }
        };
        let status = response.status().as_u16();
        let now = self.clock.now();
        let headers = response.headers().clone();
        self.pacer().learn(route_key, &headers, now);
        let text = response.text().await.unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let code = json.get("code").and_then(Value::as_i64);
        let message = json.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
        if status == 429 {
            let seconds = json
                .get("retry_after")
                .and_then(Value::as_f64)
                .or_else(|| headers.get("retry-after")?.to_str().ok()?.parse().ok())
                .unwrap_or(1.0);
            let retry_after = Duration::from_secs_f64(seconds.max(0.0));
            let global = json.get("global").and_then(Value::as_bool).unwrap_or(false)
                || headers.get("x-ratelimit-global").is_some();
            let until = now + chrono::Duration::from_std(retry_after).unwrap_or_default();
            self.pacer().blocked(route_key, global, until);
            tracing::info!(route = route_key, global, ?retry_after, "discord rate limit");
            crate::telemetry::metrics::rate_limited(
                "discord",
                if global { "global" } else { "route" },
            );
            // Refused before anything happened, and every request on the bucket (or all of
            // them, for a global limit) now waits in the pacer: a wait, not an attempt.
            return Err(CallError { error: SendError::Paced { retry_after }, code });
        }
        if status == 401 {
            // A bad token makes every request invalid: stop everything for a while instead
            // of failing each message with a burst of 401s (Discord bans such bursts).
            let until = now + chrono::Duration::from_std(INVALID_TOKEN_PAUSE).unwrap_or_default();
            self.pacer().blocked(route_key, true, until);
            let reason = format!("HTTP 401 on {route_key}: the bot token was refused");
            return Err(CallError {
                error: SendError::Retryable { reason, retry_after: Some(INVALID_TOKEN_PAUSE) },
                code,
            });
        }
        let reason = match code {
            Some(code) => format!("HTTP {status} on {route_key}: {code} {message}"),
            None => format!("HTTP {status} on {route_key}"),
        };
        let error = if status >= 500 {
            SendError::Retryable { reason, retry_after: None }
        } else {
            SendError::Permanent { reason }
        };
        Err(CallError { error, code })
    }
}

/// serenity's client for `settings.api_url` (its proxy setting, which only works with its
/// ratelimiter disabled) and `token` (`Bot ` is added when missing).
pub fn serenity_http(settings: &DiscordSettings, token: &str) -> Http {
    let mut builder = HttpBuilder::new(token).ratelimiter_disabled(true);
    // serenity rewrites `https://discord.com` to the proxy; the real URL needs none.
    let api_url = settings.api_url.trim_end_matches('/');
    if api_url != "https://discord.com" {
        builder = builder.proxy(api_url);
    }
    if let Some(id) = settings.application_id.filter(|id| *id != 0) {
        builder = builder.application_id(id.into());
    }
    builder.build()
}

/// A snowflake from text, or a permanent error naming what it was meant to be.
pub fn snowflake(raw: &str, what: &str) -> Result<u64, CallError> {
    raw.trim().parse::<u64>().ok().filter(|id| *id != 0).ok_or_else(|| {
        SendError::Permanent { reason: format!("`{raw}` is not a Discord {what} id") }.into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_global_limit_paces_the_fifty_first_request_within_a_second() {
        let mut pacer = Pacer::default();
        let now = Utc::now();
        for _ in 0..GLOBAL_PER_SECOND {
            assert_eq!(pacer.admit("POST channels/1/messages", now), None);
        }
        let wait = pacer.admit("POST channels/1/messages", now).unwrap();
        assert!(wait <= Duration::from_secs(1) && !wait.is_zero());
        assert_eq!(
            pacer.admit("POST channels/1/messages", now + chrono::Duration::seconds(1)),
            None
        );
    }

    #[test]
    fn an_exhausted_route_waits_for_its_reset() {
        let mut pacer = Pacer::default();
        let now = Utc::now();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset-after", "2.5".parse().unwrap());
        pacer.learn("PATCH channels/1/messages", &headers, now);
        assert_eq!(
            pacer.admit("PATCH channels/1/messages", now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(pacer.admit("POST channels/2/messages", now), None, "other routes go on");
        let later = now + chrono::Duration::milliseconds(2500);
        assert_eq!(pacer.admit("PATCH channels/1/messages", later), None);
    }
}
