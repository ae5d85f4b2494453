//! The audit hash chain, computed purely.
//!
//! Each subject (a workflow item such as `escalation:42`) has its own chain: record *n* of a
//! subject carries the hash of record *n − 1*. A single global chain would serialise every
//! write in the system behind one head row; per-subject chains only serialise writes to the
//! same item, whose row is locked by the transition anyway (DESIGN.md §6).

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit_key::{AuditKey, AuditKeys};

/// The `prev_hash` of the first record of every chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, before it is chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Person key, or `steward` for the system itself (timers, schedules).
    pub actor: String,
    /// The item the record is about, e.g. `escalation:42`.
    pub subject: String,
    /// The transition, e.g. `acknowledged`.
    pub action: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

impl AuditEntry {
    /// Timestamps are stored with microsecond precision; hash what will be stored.
    pub fn normalised(mut self) -> AuditEntry {
        self.at = self.at.trunc_subsecs(6);
        self
    }
}

/// A chained record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub entry: AuditEntry,
    /// Position in the subject's chain, starting at 1.
    pub subject_seq: i64,
    pub prev_hash: String,
    pub hash: String,
    /// The id of the key `hash` is an HMAC-SHA256 under; `None`: plain SHA-256 (no key was
    /// configured when the record was written).
    pub key_id: Option<String>,
}

/// The last record of a chain, kept by the subject's own row so that appending needs no
/// extra lookup (the row is locked by the transition anyway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl AuditRecord {
    pub fn head(&self) -> ChainHead {
        ChainHead { seq: self.subject_seq, hash: self.hash.clone() }
    }
}

/// The hash of a record: over a canonical JSON rendering of every field and the previous
/// hash, HMAC-SHA256 under `key` (whose id is part of the rendering, so a record cannot be
/// passed off as chained under another key) or plain SHA-256 without one; hex encoded.
pub fn record_hash(
    key: Option<AuditKey<'_>>,
    prev_hash: &str,
    subject_seq: i64,
    entry: &AuditEntry,
) -> String {
    // serde_json maps are sorted by key, so this rendering is canonical.
    let mut canonical = serde_json::json!({
        "prev_hash": prev_hash,
        "subject_seq": subject_seq,
        "at": entry.at.trunc_subsecs(6).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor": entry.actor,
        "subject": entry.subject,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
    });
    match key {
        Some(key) => {
            canonical["key_id"] = serde_json::Value::from(key.id);
            key.mac_hex(canonical.to_string().as_bytes())
        }
        None => hex::encode(Sha256::digest(canonical.to_string().as_bytes())),
    }
}

/// Why a record's stored hash does not hold, if it does not: recomputed under the key its
/// `key_id` names (which must be among `keys`), or as plain SHA-256 without one.
pub fn hash_problem(keys: &AuditKeys, record: &AuditRecord) -> Option<String> {
    let key = match &record.key_id {
        Some(id) => match keys.get(id) {
            Some(key) => Some(key),
            None => {
                return Some(format!(
                    "chained under audit key `{id}`, which was not supplied (set \
                     {} or {} to verify it)",
                    super::audit_key::AUDIT_KEY_ENV,
                    super::audit_key::AUDIT_KEYS_OLD_ENV
                ));
            }
        },
        None => None,
    };
    let recomputed = record_hash(key, &record.prev_hash, record.subject_seq, &record.entry);
    (recomputed != record.hash).then(|| "content does not match its hash (altered)".to_owned())
}

/// Chains `entry` after the record whose hash is `prev` (or starts a chain), under the
/// current key of `keys` (plain SHA-256 without one).
pub fn chain(keys: &AuditKeys, prev: Option<(i64, &str)>, entry: AuditEntry) -> AuditRecord {
    let entry = entry.normalised();
    let (subject_seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let key = keys.current();
    let hash = record_hash(key, &prev_hash, subject_seq, &entry);
    let key_id = key.map(|k| k.id.to_owned());
    AuditRecord { entry, subject_seq, prev_hash, hash, key_id }
}

/// Chains `entry` after the chain head kept in a subject's own row, and moves the head.
pub fn chain_onto(
    keys: &AuditKeys,
    head: &mut Option<ChainHead>,
    entry: AuditEntry,
) -> AuditRecord {
    let record = chain(keys, head.as_ref().map(|h| (h.seq, h.hash.as_str())), entry);
    *head = Some(record.head());
    record
}

/// The first place a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("subject {subject}, record {subject_seq}: {problem}")]
pub struct ChainBreak {
    pub subject: String,
    pub subject_seq: i64,
    pub problem: String,
}

/// Checks one subject's records without keys (plain SHA-256 chains): see [`verify_subject_with`].
pub fn verify_subject(records: &[AuditRecord]) -> Result<(), ChainBreak> {
    verify_subject_with(&AuditKeys::none(), records)
}

/// Checks one subject's records, in stored order: consecutive positions, each linked to the
/// previous hash, each hash matching its content under the key it names.
pub fn verify_subject_with(keys: &AuditKeys, records: &[AuditRecord]) -> Result<(), ChainBreak> {
    let mut expected_prev = GENESIS_HASH.to_owned();
    for (index, record) in records.iter().enumerate() {
        let expected_seq = index as i64 + 1;
        let fail = |problem: &str| ChainBreak {
            subject: record.entry.subject.clone(),
            subject_seq: record.subject_seq,
            problem: problem.to_owned(),
        };
        if record.subject_seq != expected_seq {
            return Err(fail("a record is missing or out of order before this one"));
        }
        if record.prev_hash != expected_prev {
            return Err(fail("does not link to the previous record"));
        }
        if let Some(problem) = hash_problem(keys, record) {
            return Err(fail(&problem));
        }
        expected_prev = record.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            at: DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456789Z").unwrap().to_utc(),
            actor: "alice".into(),
            subject: "escalation:1".into(),
            action: action.into(),
            before: serde_json::json!({"state": "open"}),
            after: serde_json::json!({"state": "acknowledged"}),
        }
    }

    fn three() -> Vec<AuditRecord> {
        let keys = AuditKeys::none();
        let first = chain(&keys, None, entry("opened"));
        let second = chain(&keys, Some((first.subject_seq, &first.hash)), entry("acknowledged"));
        let third = chain(&keys, Some((second.subject_seq, &second.hash)), entry("resolved"));
        vec![first, second, third]
    }

    #[test]
    fn each_record_links_to_the_previous_hash() {
        let records = three();
        assert_eq!(records[0].prev_hash, GENESIS_HASH);
        assert_eq!(records[1].prev_hash, records[0].hash);
        assert_eq!(records[2].subject_seq, 3);
        assert_eq!(verify_subject(&records), Ok(()));
    }

    #[test]
    fn altering_content_is_detected_at_that_record() {
        let mut records = three();
        records[1].entry.actor = "mallory".into();
        assert_eq!(verify_subject(&records).unwrap_err().subject_seq, 2);
    }

    #[test]
    fn deleting_or_swapping_records_is_detected() {
        let mut records = three();
        records.remove(1);
        assert_eq!(verify_subject(&records).unwrap_err().subject_seq, 3);
        let mut records = three();
        records.swap(0, 1);
        assert!(verify_subject(&records).is_err());
    }

    #[test]
    fn hash_ignores_sub_microsecond_precision_that_storage_drops() {
        let a = entry("x");
        let mut b = a.clone();
        b.at = b.at.trunc_subsecs(6);
        assert_eq!(record_hash(None, GENESIS_HASH, 1, &a), record_hash(None, GENESIS_HASH, 1, &b));
    }

    fn keyed(current: &str, old: &str) -> AuditKeys {
        AuditKeys::parse(Some(current), Some(old)).unwrap()
    }

    #[test]
    fn keyed_records_name_their_key_and_verify_only_with_it() {
        let k1 = keyed("k1:first-secret-0123456789", "");
        let record = chain(&k1, None, entry("opened"));
        assert_eq!(record.key_id.as_deref(), Some("k1"));
        assert_ne!(record.hash, chain(&AuditKeys::none(), None, entry("opened")).hash);
        assert_eq!(verify_subject_with(&k1, std::slice::from_ref(&record)), Ok(()));
        // After rotation the old key still verifies it.
        let k2 = keyed("k2:second-secret-0123456789", "k1:first-secret-0123456789");
        assert_eq!(verify_subject_with(&k2, std::slice::from_ref(&record)), Ok(()));
        // Without k1 the record cannot be checked, and says which key it needs.
        let missing = verify_subject(std::slice::from_ref(&record)).unwrap_err();
        assert!(missing.problem.contains("audit key `k1`, which was not supplied"), "{missing}");
        // The same id with another secret is a forgery.
        let other = keyed("k1:not-the-same-secret-0000", "");
        let forged = verify_subject_with(&other, std::slice::from_ref(&record)).unwrap_err();
        assert!(forged.problem.contains("altered"), "{forged}");
    }

    #[test]
    fn a_keyed_record_recomputed_with_plain_sha_256_does_not_verify_under_the_key() {
        let keys = keyed("k1:first-secret-0123456789", "");
        let mut record = chain(&keys, None, entry("opened"));
        record.entry.actor = "mallory".into();
        record.hash = record_hash(None, &record.prev_hash, 1, &record.entry);
        assert!(verify_subject_with(&keys, std::slice::from_ref(&record)).is_err());
    }
}
