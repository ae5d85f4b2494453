//! Slack request signatures (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256(secret,
//! "v0:{timestamp}:{raw body}")>` with `X-Slack-Request-Timestamp` within the window around
//! the services' clock. Checked against every configured signing secret (rotation), in
//! constant time, before anything else looks at the request. There is deliberately no switch
//! to turn this off: tests and benchmarks sign their requests.

use crate::config::Secret;
use crate::http::signature::{Unusable, VersionedHmac, fresh_headers};
use axum::http::HeaderMap;

pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const SIGNATURE_HEADER: &str = "x-slack-signature";

/// Why a request was refused (logged, never shown to the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("signature or timestamp header missing")]
    Missing,
    #[error("timestamp outside the accepted window")]
    Stale,
    #[error("signature does not match any signing secret")]
    Mismatch,
}

/// Slack's scheme: HMAC-SHA256 over `v0:{timestamp}:{raw body}`.
const SCHEME: VersionedHmac = VersionedHmac("v0");

/// The `X-Slack-Signature` value for `body` sent at `timestamp` (tests, benchmarks).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    SCHEME.sign(secret, timestamp, body)
}

/// Checks the headers against `body`; `now` is unix seconds from the services' clock.
pub fn verify(
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    window_seconds: i64,
) -> Result<(), VerifyError> {
    let (timestamp, signature) =
        fresh_headers(headers, TIMESTAMP_HEADER, SIGNATURE_HEADER, now, window_seconds).map_err(
            |unusable| match unusable {
                Unusable::Missing => VerifyError::Missing,
                Unusable::Stale => VerifyError::Stale,
            },
        )?;
    if SCHEME.matches(secrets, timestamp, signature, body) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
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
    fn slacks_documented_example_verifies() {
        // From Slack's "Verifying requests from Slack" guide.
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign(secret, 1531420618, body), expected);
        let secrets = [Secret::new("old"), Secret::new(secret)];
        assert_eq!(verify(&secrets, &headers(1531420618, expected), body, 1531420618, 300), Ok(()));
    }

    #[test]
    fn stale_forged_and_unsigned_requests_are_refused() {
        let secrets = [Secret::new("s3cret")];
        let body = b"payload";
        let good = sign("s3cret", 1000, body);
        assert_eq!(
            verify(&secrets, &headers(1000, &good), body, 1301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(verify(&secrets, &headers(1000, &good), body, 700, 300), Ok(()));
        let forged = sign("guess", 1000, body);
        assert_eq!(
            verify(&secrets, &headers(1000, &forged), body, 1000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&secrets, &headers(1000, &good), b"payload!", 1000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(verify(&secrets, &HeaderMap::new(), body, 1000, 300), Err(VerifyError::Missing));
    }
}
