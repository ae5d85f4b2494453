//! The audit hash chain, computed purely.
//!
//! Each subject (a workflow item such as `escalation:42`) has its own chain: record *n* of a
//! subject carries the hash of record *n − 1*. A single global chain would serialise every
//! write in the system behind one head row; per-subject chains only serialise writes to the
//! same item, whose row is locked by the transition anyway (DESIGN.md §6).

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// The hash of a record: SHA-256 over a canonical JSON rendering of every field and the
/// previous hash, hex encoded.
pub fn record_hash(prev_hash: &str, subject_seq: i64, entry: &AuditEntry) -> String {
    // serde_json maps are sorted by key, so this rendering is canonical.
    let canonical = serde_json::json!({
        "prev_hash": prev_hash,
        "subject_seq": subject_seq,
        "at": entry.at.trunc_subsecs(6).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor": entry.actor,
        "subject": entry.subject,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Chains `entry` after the record whose hash is `prev` (or starts a chain).
pub fn chain(prev: Option<(i64, &str)>, entry: AuditEntry) -> AuditRecord {
    let entry = entry.normalised();
    let (subject_seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let hash = record_hash(&prev_hash, subject_seq, &entry);
    AuditRecord { entry, subject_seq, prev_hash, hash }
}

/// Chains `entry` after the chain head kept in a subject's own row, and moves the head.
pub fn chain_onto(head: &mut Option<ChainHead>, entry: AuditEntry) -> AuditRecord {
    let record = chain(head.as_ref().map(|h| (h.seq, h.hash.as_str())), entry);
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

/// Checks one subject's records, in stored order: consecutive positions, each linked to the
/// previous hash, each hash matching its content.
pub fn verify_subject(records: &[AuditRecord]) -> Result<(), ChainBreak> {
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
        if record_hash(&record.prev_hash, record.subject_seq, &record.entry) != record.hash {
            return Err(fail("content does not match its hash (altered)"));
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
        let first = chain(None, entry("opened"));
        let second = chain(Some((first.subject_seq, &first.hash)), entry("acknowledged"));
        let third = chain(Some((second.subject_seq, &second.hash)), entry("resolved"));
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
        assert_eq!(record_hash(GENESIS_HASH, 1, &a), record_hash(GENESIS_HASH, 1, &b));
    }
}
