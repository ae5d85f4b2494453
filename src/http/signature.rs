//! What every signed webhook shares: reading the timestamp and signature headers, refusing
//! timestamps outside the window (replays), and the HMAC-SHA256 scheme over
//! `<version>:<timestamp>:<raw body>` that Slack (`v0`) and Steward's intake (`v1`) both use.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// Why signed headers were not usable (before any signature is checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// A header is missing, or the timestamp is not a number.
    Missing,
    /// The timestamp is outside the window around `now`.
    Stale,
}

/// The trimmed timestamp and signature header values, with the timestamp (unix seconds)
/// within `window_seconds` of `now`.
pub fn fresh_headers<'h>(
    headers: &'h HeaderMap,
    timestamp_header: &str,
    signature_header: &str,
    now: i64,
    window_seconds: i64,
) -> Result<(&'h str, &'h str), Unusable> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let (Some(timestamp), Some(signature)) = (header(timestamp_header), header(signature_header))
    else {
        return Err(Unusable::Missing);
    };
    let sent_at = timestamp.parse::<i64>().map_err(|_| Unusable::Missing)?;
    if (now - sent_at).abs() > window_seconds {
        return Err(Unusable::Stale);
    }
    Ok((timestamp, signature))
}

/// HMAC-SHA256 of `<version>:<timestamp>:<body>`, sent as `<version>=<hex>`.
#[derive(Debug, Clone, Copy)]
pub struct VersionedHmac(pub &'static str);

impl VersionedHmac {
    /// The signature header value for `body` sent at `timestamp` (senders, tests, benchmarks).
    pub fn sign(&self, secret: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(secret, &timestamp.to_string(), body);
        format!("{}={}", self.0, hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `signature` signs `body` at `timestamp` with one of `secrets` (rotation),
    /// compared in constant time.
    pub fn matches(
        &self,
        secrets: &[Secret],
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> bool {
        let Some(Ok(signature)) =
            signature.strip_prefix(self.0).and_then(|rest| rest.strip_prefix('=')).map(hex::decode)
        else {
            return false;
        };
        // `verify_slice` compares in constant time.
        secrets.iter().any(|secret| {
            self.mac(secret.expose(), timestamp, body).verify_slice(&signature).is_ok()
        })
    }

    fn mac(&self, secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(self.0.as_bytes());
        mac.update(b":");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac
    }
}
