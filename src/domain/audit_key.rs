//! The keys of the HMAC audit chain (issue 17 item 7), parsed purely.
//!
//! With plain SHA-256 anyone who can write to the database can rewrite a record, recompute
//! its hash and the hashes after it, move the recorded head, and `steward audit verify`
//! passes. Under HMAC-SHA256 the hash needs a secret the database never sees: it lives in
//! the environment of the processes that write (`serve`) and verify (`audit verify`).
//!
//! Rotation by key id: each record stores the id of the key it was chained under. The
//! current key (`STEWARD_AUDIT_KEY=<id>:<secret>`) chains new records; older keys
//! (`STEWARD_AUDIT_KEYS_OLD=<id>:<secret>,<id>:<secret>`) only verify the records chained
//! under them. To rotate: move the current key to the old list, set a new current key with a
//! new id, restart.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the current key, `<key id>:<secret>`.
pub const AUDIT_KEY_ENV: &str = "STEWARD_AUDIT_KEY";
/// The environment variable holding older keys for verification, comma separated.
pub const AUDIT_KEYS_OLD_ENV: &str = "STEWARD_AUDIT_KEYS_OLD";

/// Shortest secret accepted, in bytes: HMAC-SHA256 with a short secret is guessable offline
/// from any one record.
pub const MIN_SECRET_BYTES: usize = 16;

/// The audit chain's keys: the one new records are chained under (if any) and every key
/// records may be verified with. Without keys, records are chained with plain SHA-256.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuditKeys {
    current: Option<String>,
    secrets: BTreeMap<String, Vec<u8>>,
}

impl fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&String> = self.secrets.keys().collect();
        write!(f, "AuditKeys {{ current: {:?}, ids: {ids:?}, secrets: [redacted] }}", self.current)
    }
}

/// One key, as the chain uses it.
#[derive(Clone, Copy)]
pub struct AuditKey<'a> {
    pub id: &'a str,
    secret: &'a [u8],
}

impl AuditKey<'_> {
    /// HMAC-SHA256 of `message` under this key, hex encoded.
    pub fn mac_hex(&self, message: &[u8]) -> String {
        // new_from_slice accepts a key of any length for HMAC.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret).expect("HMAC takes any key");
        mac.update(message);
        hex::encode(mac.finalize().into_bytes())
    }
}

impl AuditKeys {
    /// No keys: plain SHA-256 chaining, as before keys existed.
    pub fn none() -> AuditKeys {
        AuditKeys::default()
    }

    /// Parses the current key and the older ones (the two environment variables' values).
    /// An id may appear in both only with the same secret.
    pub fn parse(current: Option<&str>, old: Option<&str>) -> Result<AuditKeys, String> {
        let mut keys = AuditKeys::default();
        if let Some(raw) = current.map(str::trim).filter(|raw| !raw.is_empty()) {
            let (id, secret) = parse_one(raw).map_err(|p| format!("{AUDIT_KEY_ENV}: {p}"))?;
            keys.current = Some(id.clone());
            keys.secrets.insert(id, secret);
        }
        for raw in old.unwrap_or("").split(',').map(str::trim).filter(|raw| !raw.is_empty()) {
            let (id, secret) = parse_one(raw).map_err(|p| format!("{AUDIT_KEYS_OLD_ENV}: {p}"))?;
            if keys.secrets.get(&id).is_some_and(|known| known != &secret) {
                return Err(format!("{AUDIT_KEYS_OLD_ENV}: key id `{id}` is given twice"));
            }
            keys.secrets.insert(id, secret);
        }
        Ok(keys)
    }

    /// The key new records are chained under.
    pub fn current(&self) -> Option<AuditKey<'_>> {
        let id = self.current.as_deref()?;
        self.get(id)
    }

    /// The key with id `id`, if it was supplied.
    pub fn get<'a>(&'a self, id: &str) -> Option<AuditKey<'a>> {
        self.secrets.get_key_value(id).map(|(id, secret)| AuditKey { id, secret })
    }

    /// Whether any key was supplied (then plain records are suspect).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// `<key id>:<secret>`: the id is 1–32 letters, digits, `-`, `_` or `.`; the secret is the
/// rest, at least [`MIN_SECRET_BYTES`] bytes.
fn parse_one(raw: &str) -> Result<(String, Vec<u8>), String> {
    let Some((id, secret)) = raw.split_once(':') else {
        return Err("expected `<key id>:<secret>`".to_owned());
    };
    let id_ok = (1..=32).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !id_ok {
        return Err(format!(
            "key id `{id}` must be 1-32 letters, digits, `-`, `_` or `.` (then `:` and the secret)"
        ));
    }
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the secret of key `{id}` is {} bytes; at least {MIN_SECRET_BYTES} are needed",
            secret.len()
        ));
    }
    Ok((id.to_owned(), secret.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_key_signs_and_old_keys_only_verify() {
        let keys = AuditKeys::parse(
            Some("k2:second-secret-0123456789"),
            Some("k1:first-secret-0123456789, k0:zeroth-secret-0123456"),
        )
        .unwrap();
        assert_eq!(keys.current().unwrap().id, "k2");
        assert!(keys.get("k1").is_some() && keys.get("k0").is_some());
        assert!(keys.get("k9").is_none());
        let mac = keys.get("k1").unwrap().mac_hex(b"x");
        assert_eq!(mac.len(), 64);
        assert_ne!(mac, keys.get("k2").unwrap().mac_hex(b"x"));
    }

    #[test]
    fn bad_keys_are_refused_with_the_variable_named() {
        let err = AuditKeys::parse(Some("nocolon"), None).unwrap_err();
        assert!(err.starts_with("STEWARD_AUDIT_KEY: expected"), "{err}");
        let err = AuditKeys::parse(Some("k1:short"), None).unwrap_err();
        assert!(err.contains("at least 16"), "{err}");
        let err = AuditKeys::parse(Some("k 1:0123456789abcdef"), None).unwrap_err();
        assert!(err.contains("key id `k 1`"), "{err}");
        let err =
            AuditKeys::parse(Some("k1:0123456789abcdef"), Some("k1:fedcba9876543210")).unwrap_err();
        assert!(err.starts_with("STEWARD_AUDIT_KEYS_OLD: key id `k1` is given twice"), "{err}");
    }

    #[test]
    fn no_keys_and_debug_never_prints_a_secret() {
        assert!(AuditKeys::parse(None, Some("")).unwrap().current().is_none());
        let keys = AuditKeys::parse(Some("k1:hunter2hunter2hunter2"), None).unwrap();
        assert!(!format!("{keys:?}").contains("hunter2"));
    }
}
