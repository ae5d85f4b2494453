//! Verifying that an interaction came from Discord: an Ed25519 signature, with the
//! application's public key, over the `X-Signature-Timestamp` header followed by the raw
//! body. Discord probes endpoints with bad signatures; those get 401 before anything else.

use axum::http::HeaderMap;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::http::signature::fresh_headers;

pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// Reads the hex public key from the configuration.
pub fn public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "the public key must be 64 hex digits".to_owned())?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

/// Whether the headers carry a valid signature of `body`, made within `window_seconds` of
/// `now` (unix seconds). Discord's own check has no age limit; ours refuses replays of old
/// deliveries too.
pub fn verify(
    key: &VerifyingKey,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    window_seconds: i64,
) -> bool {
    let Ok((timestamp, signature)) =
        fresh_headers(headers, TIMESTAMP_HEADER, SIGNATURE_HEADER, now, window_seconds)
    else {
        return false;
    };
    let Some(signature) = hex::decode(signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
    else {
        return false;
    };
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify(&message, &signature).is_ok()
}

/// The signature header value Discord would send (tests and the benchmark sign with a key
/// of their own).
pub fn sign(key: &SigningKey, timestamp: i64, body: &[u8]) -> String {
    let mut message = timestamp.to_string().into_bytes();
    message.extend_from_slice(body);
    hex::encode(key.sign(&message).to_bytes())
}

/// A signing key from 32 seed bytes, with its public key as hex (for test configuration).
pub fn test_key(seed: [u8; 32]) -> (SigningKey, String) {
    let key = SigningKey::from_bytes(&seed);
    let public = hex::encode(key.verifying_key().to_bytes());
    (key, public)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(timestamp: i64, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TIMESTAMP_HEADER, timestamp.to_string().parse().unwrap());
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        headers
    }

    #[test]
    fn a_signature_is_checked_over_timestamp_and_body_and_must_be_fresh() {
        let (signing, public) = test_key([7; 32]);
        let key = public_key(&public).unwrap();
        let body = br#"{"type":1}"#;
        let good = sign(&signing, 1000, body);
        assert!(verify(&key, &headers(1000, &good), body, 1010, 300));
        assert!(!verify(&key, &headers(1000, &good), b"{\"type\":2}", 1010, 300));
        assert!(!verify(&key, &headers(1001, &good), body, 1010, 300), "timestamp is signed");
        assert!(!verify(&key, &headers(1000, &good), body, 1400, 300), "stale");
        let (other, _) = test_key([8; 32]);
        assert!(!verify(&key, &headers(1000, &sign(&other, 1000, body)), body, 1000, 300));
        assert!(!verify(&key, &headers(1000, "zz"), body, 1000, 300));
        assert!(!verify(&key, &HeaderMap::new(), body, 1000, 300));
    }
}
