//! The global checkpoint chain over the per-subject audit chains, computed purely
//! (DESIGN.md §6).
//!
//! Per-subject chains and their recorded heads catch altered, reordered and truncated
//! records, but someone who deletes a whole subject (its records, its row and the head kept
//! there) leaves nothing behind to compare with. So a periodic job seals the chain heads that
//! moved since the previous checkpoint: checkpoint *n* lists its sealed
//! `(subject, subject_seq, hash)` entries and carries the hash of checkpoint *n − 1*.
//! `steward audit verify` recomputes this chain and checks that the last sealed record of
//! every subject still exists with the sealed hash. Checking the last one suffices: a record's
//! hash covers every earlier record of its chain through `prev_hash`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use super::audit::{ChainBreak, GENESIS_HASH};

/// The name a break of the checkpoint chain itself is reported under.
pub const CHECKPOINT_SUBJECT: &str = "audit_checkpoints";

/// A chain head as sealed by a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SealedEntry {
    pub subject: String,
    pub subject_seq: i64,
    pub hash: String,
}

/// A checkpoint as stored; its entries are stored next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// 1, 2, 3 … without gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the previous hash, the position, the time and the sealed entries sorted by
/// subject, as canonical JSON (hex encoded). Sorting here, not in SQL, keeps the hash
/// independent of the database's collation.
pub fn checkpoint_hash(
    prev_hash: &str,
    seq: i64,
    at: DateTime<Utc>,
    entries: &[SealedEntry],
) -> String {
    let mut sorted: Vec<&SealedEntry> = entries.iter().collect();
    sorted.sort();
    let entries: Vec<serde_json::Value> =
        sorted.iter().map(|e| serde_json::json!([e.subject, e.subject_seq, e.hash])).collect();
    // serde_json maps are sorted by key, so this rendering is canonical.
    let canonical = serde_json::json!({
        "prev_hash": prev_hash,
        "seq": seq,
        "at": at.trunc_subsecs(6).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "entries": entries,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The checkpoint after `prev` (or the first) sealing `entries`, which come back sorted.
pub fn seal(
    prev: Option<&Checkpoint>,
    at: DateTime<Utc>,
    mut entries: Vec<SealedEntry>,
) -> (Checkpoint, Vec<SealedEntry>) {
    entries.sort();
    // Stored with microsecond precision: hash what will be stored.
    let at = at.trunc_subsecs(6);
    let (seq, prev_hash) = match prev {
        Some(p) => (p.seq + 1, p.hash.clone()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let hash = checkpoint_hash(&prev_hash, seq, at, &entries);
    (Checkpoint { seq, at, prev_hash, hash }, entries)
}

/// A current chain tail and the position of the subject's last sealed entry, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailToCompare {
    pub tail: SealedEntry,
    pub sealed_seq: Option<i64>,
}

/// The tails a new checkpoint seals: those that moved past their last sealed entry. A tail
/// at or behind its sealed position is left out: unchanged, or its records were removed or
/// replaced, which must not be sealed over (`verify` reports it).
pub fn to_seal(tails: Vec<TailToCompare>) -> Vec<SealedEntry> {
    tails
        .into_iter()
        .filter(|t| t.sealed_seq.is_none_or(|sealed| t.tail.subject_seq > sealed))
        .map(|t| t.tail)
        .collect()
}

/// Where the sealer starts looking for moved chains: records at or after the previous
/// checkpoint's time minus `grace`. The log's `seq` is not commit order (a transaction that
/// took its number earlier may commit later), and `at` is the writer's clock when the
/// transition happened, before its commit; the grace window covers both that delay and clock
/// skew between replicas. `None`: no checkpoint yet, look at every subject.
pub fn scan_from(prev: Option<&Checkpoint>, grace: Duration) -> Option<DateTime<Utc>> {
    prev.map(|p| p.at - grace)
}

/// The start of the interval slot after `now` (slots are aligned on the Unix epoch, so every
/// replica computes the same slot and the job's dedupe key makes one run per slot).
pub fn next_slot(now: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let step = every.num_seconds().max(1);
    let slot = now.timestamp().div_euclid(step) * step + step;
    DateTime::from_timestamp(slot, 0).unwrap_or(now + every)
}

/// The last trustworthy seal of one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub checkpoint: i64,
    pub subject_seq: i64,
    pub hash: String,
}

/// The checkpoint chain as verified: how many checkpoints, the last one, its first break, and
/// the last seal of every subject sealed before that break.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedCheckpoints {
    pub count: usize,
    pub last: Option<Checkpoint>,
    pub broken: Option<ChainBreak>,
    pub seals: BTreeMap<String, Seal>,
}

/// Feeds stored checkpoint rows (one per entry, or one without an entry for an empty
/// checkpoint), ordered by checkpoint, then returns what was found.
#[derive(Debug, Default)]
pub struct CheckpointVerifier {
    open: Option<(Checkpoint, Vec<SealedEntry>)>,
    checked: CheckedCheckpoints,
}

impl CheckpointVerifier {
    pub fn push(&mut self, checkpoint: Checkpoint, entry: Option<SealedEntry>) {
        if self.open.as_ref().is_none_or(|(open, _)| open.seq != checkpoint.seq) {
            self.close();
            self.open = Some((checkpoint, Vec::new()));
        }
        if let (Some((_, entries)), Some(entry)) = (self.open.as_mut(), entry) {
            entries.push(entry);
        }
    }

    pub fn finish(mut self) -> CheckedCheckpoints {
        self.close();
        self.checked
    }

    fn close(&mut self) {
        let Some((checkpoint, entries)) = self.open.take() else { return };
        let checked = &mut self.checked;
        checked.count += 1;
        let (expected_seq, expected_prev) = match &checked.last {
            Some(last) => (last.seq + 1, last.hash.as_str()),
            None => (1, GENESIS_HASH),
        };
        let problem = if checkpoint.seq != expected_seq {
            Some("a checkpoint is missing or out of order before this one")
        } else if checkpoint.prev_hash != expected_prev {
            Some("does not link to the previous checkpoint (reordered or replaced)")
        } else if checkpoint_hash(&checkpoint.prev_hash, checkpoint.seq, checkpoint.at, &entries)
            != checkpoint.hash
        {
            Some("content does not match its hash (altered)")
        } else {
            None
        };
        if checked.broken.is_none() {
            match problem {
                // Seals after a break are not evidence of anything: they are not used.
                Some(problem) => {
                    checked.broken = Some(ChainBreak {
                        subject: CHECKPOINT_SUBJECT.to_owned(),
                        subject_seq: checkpoint.seq,
                        problem: problem.to_owned(),
                    })
                }
                None => {
                    for e in entries {
                        let seal = Seal {
                            checkpoint: checkpoint.seq,
                            subject_seq: e.subject_seq,
                            hash: e.hash,
                        };
                        checked.seals.insert(e.subject, seal);
                    }
                }
            }
        }
        checked.last = Some(checkpoint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-23T10:{minute:02}:00.1234567Z"))
            .unwrap()
            .to_utc()
    }

    fn entry(subject: &str, seq: i64) -> SealedEntry {
        SealedEntry { subject: subject.into(), subject_seq: seq, hash: format!("h{subject}{seq}") }
    }

    fn feed(chain: &[(Checkpoint, Vec<SealedEntry>)]) -> CheckedCheckpoints {
        let mut verifier = CheckpointVerifier::default();
        for (checkpoint, entries) in chain {
            if entries.is_empty() {
                verifier.push(checkpoint.clone(), None);
            }
            for e in entries {
                verifier.push(checkpoint.clone(), Some(e.clone()));
            }
        }
        verifier.finish()
    }

    fn two() -> Vec<(Checkpoint, Vec<SealedEntry>)> {
        let first = seal(None, at(0), vec![entry("credit:2", 1), entry("credit:1", 2)]);
        let second = seal(Some(&first.0), at(5), vec![entry("credit:2", 3)]);
        vec![first, second]
    }

    #[test]
    fn the_hash_does_not_depend_on_entry_order() {
        let a = [entry("a", 1), entry("b", 2)];
        let b = [entry("b", 2), entry("a", 1)];
        assert_eq!(checkpoint_hash("p", 1, at(0), &a), checkpoint_hash("p", 1, at(0), &b));
        assert_ne!(checkpoint_hash("p", 1, at(0), &a), checkpoint_hash("p", 2, at(0), &a));
    }

    #[test]
    fn an_intact_chain_yields_the_last_seal_of_each_subject() {
        let chain = two();
        assert_eq!(chain[1].0.prev_hash, chain[0].0.hash);
        let checked = feed(&chain);
        assert_eq!((checked.count, checked.broken.clone()), (2, None));
        assert_eq!(checked.seals["credit:2"].subject_seq, 3);
        assert_eq!(checked.seals["credit:2"].checkpoint, 2);
        assert_eq!(checked.seals["credit:1"].checkpoint, 1);
    }

    #[test]
    fn an_altered_entry_breaks_its_checkpoint_and_its_seals_are_not_trusted() {
        let mut chain = two();
        chain[1].1[0].hash = "forged".into();
        let checked = feed(&chain);
        let broken = checked.broken.unwrap();
        assert_eq!((broken.subject.as_str(), broken.subject_seq), (CHECKPOINT_SUBJECT, 2));
        assert!(broken.problem.contains("altered"));
        assert_eq!(checked.seals["credit:2"].subject_seq, 1, "only the first checkpoint counts");
    }

    #[test]
    fn a_missing_checkpoint_is_a_gap() {
        let mut chain = two();
        chain.remove(0);
        let broken = feed(&chain).broken.unwrap();
        assert_eq!(broken.subject_seq, 2);
        assert!(broken.problem.contains("missing"));
    }

    #[test]
    fn only_tails_that_moved_past_their_seal_are_sealed() {
        let tails = vec![
            TailToCompare { tail: entry("new", 1), sealed_seq: None },
            TailToCompare { tail: entry("moved", 4), sealed_seq: Some(2) },
            TailToCompare { tail: entry("same", 2), sealed_seq: Some(2) },
            TailToCompare { tail: entry("truncated", 1), sealed_seq: Some(3) },
        ];
        let sealed: Vec<String> = to_seal(tails).into_iter().map(|e| e.subject).collect();
        assert_eq!(sealed, ["new", "moved"]);
    }

    #[test]
    fn slots_are_aligned_and_strictly_after_now() {
        let every = Duration::minutes(5);
        let slot = next_slot(at(7), every);
        assert_eq!(slot.to_rfc3339(), "2026-11-23T10:10:00+00:00");
        assert_eq!(next_slot(slot, every).to_rfc3339(), "2026-11-23T10:15:00+00:00");
    }

    #[test]
    fn the_scan_starts_a_grace_window_before_the_previous_checkpoint() {
        let first = &two()[0].0;
        assert_eq!(
            scan_from(Some(first), Duration::minutes(10)),
            Some(first.at - Duration::minutes(10))
        );
        assert_eq!(scan_from(None, Duration::minutes(10)), None);
    }
}
