//! Bot tokens at rest: sealed with ChaCha20-Poly1305 under `STEWARD_TOKEN_KEY` (32 bytes as
//! 64 hex digits), a fresh random nonce per seal, the team id as associated data.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenKeyError {
    #[error("STEWARD_TOKEN_KEY must be 64 hex digits (32 bytes)")]
    BadKey,
    #[error("a stored token does not open under this key (another key, or tampered with)")]
    DoesNotOpen,
}

/// The sealing key.
pub struct TokenKey(ChaCha20Poly1305);

impl TokenKey {
    pub fn parse(hex_key: &str) -> Result<TokenKey, TokenKeyError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| TokenKeyError::BadKey)?;
        if bytes.len() != 32 {
            return Err(TokenKeyError::BadKey);
        }
        Ok(TokenKey(ChaCha20Poly1305::new(Key::from_slice(&bytes))))
    }

    /// `(nonce, sealed)` of `token` for `team`.
    pub fn seal(&self, team: &str, token: &str) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload { msg: token.as_bytes(), aad: team.as_bytes() };
        // Encryption cannot fail for inputs this size.
        let sealed = self.0.encrypt(Nonce::from_slice(&nonce), payload).unwrap_or_default();
        (nonce.to_vec(), sealed)
    }

    pub fn open(&self, team: &str, nonce: &[u8], sealed: &[u8]) -> Result<String, TokenKeyError> {
        if nonce.len() != 12 {
            return Err(TokenKeyError::DoesNotOpen);
        }
        let payload = Payload { msg: sealed, aad: team.as_bytes() };
        let plain = self
            .0
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| TokenKeyError::DoesNotOpen)?;
        String::from_utf8(plain).map_err(|_| TokenKeyError::DoesNotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_token_opens_only_for_its_team_and_key() {
        let key = TokenKey::parse(KEY).unwrap();
        let (nonce, sealed) = key.seal("T1", "xoxb-secret");
        assert!(!sealed.windows(4).any(|w| w == b"xoxb"), "no plaintext at rest");
        assert_eq!(key.open("T1", &nonce, &sealed).unwrap(), "xoxb-secret");
        assert_eq!(key.open("T2", &nonce, &sealed), Err(TokenKeyError::DoesNotOpen));
        let other = TokenKey::parse(&KEY.replace("00", "ff")).unwrap();
        assert_eq!(other.open("T1", &nonce, &sealed), Err(TokenKeyError::DoesNotOpen));
        assert!(TokenKey::parse("abcd").is_err());
    }
}
