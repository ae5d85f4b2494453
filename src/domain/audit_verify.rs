//! Verifying every audit chain at once (`steward audit verify`), purely.
//!
//! Records arrive ordered by subject and position. Recomputing each chain finds altered,
//! reordered and missing records *inside* a chain; comparing each chain's last record with
//! the head recorded elsewhere (the `audit_heads` table, the head kept in a workflow row)
//! finds records deleted from the end of a chain, or a whole chain deleted. Comparing each
//! subject's last sealed entry of the checkpoint chain (`audit_checkpoint`) with its records
//! finds a subject deleted together with its row and head.

use std::collections::BTreeMap;

use super::audit::{AuditRecord, ChainBreak, GENESIS_HASH, hash_problem};
use super::audit_checkpoint::{CheckedCheckpoints, Checkpoint, Seal};
use super::audit_key::AuditKeys;

/// A chain head recorded outside `audit_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedHead {
    pub subject: String,
    pub seq: i64,
    pub hash: String,
}

/// The outcome: how much was checked and the first break of each broken chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub subjects: usize,
    pub records: usize,
    pub heads: usize,
    /// Checkpoints in the checkpoint chain, and the last one (an operator may keep its hash
    /// elsewhere: it vouches for everything sealed up to then).
    pub checkpoints: usize,
    pub last_checkpoint: Option<Checkpoint>,
    /// Checkpoints compared with copies kept outside the database (`--checkpoint`).
    pub kept_checkpoints: usize,
    pub breaks: Vec<ChainBreak>,
}

impl VerifyReport {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

#[derive(Debug)]
struct Tail {
    seq: i64,
    hash: String,
    broken: bool,
    /// Whether a record so far was chained under a key: a plain record after one is a
    /// downgrade (someone without the key rewrote the rest of the chain).
    keyed: bool,
}

/// A subject's last seal, and whether its sealed record has been seen yet.
#[derive(Debug)]
struct Expected {
    seal: Seal,
    seen: bool,
}

/// Feeds records one by one (so the log never has to fit in memory), then the heads.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    tails: BTreeMap<String, Tail>,
    sealed: BTreeMap<String, Expected>,
    report: VerifyReport,
    keys: AuditKeys,
    accept_unkeyed: bool,
}

impl ChainVerifier {
    /// A verifier that also checks the checkpoint chain's seals (verified beforehand).
    pub fn with_checkpoints(checked: CheckedCheckpoints) -> ChainVerifier {
        let mut verifier = ChainVerifier::default();
        verifier.report.checkpoints = checked.count;
        verifier.report.last_checkpoint = checked.last;
        verifier.report.breaks.extend(checked.broken);
        verifier.sealed = checked
            .seals
            .into_iter()
            .map(|(subject, seal)| (subject, Expected { seal, seen: false }))
            .collect();
        verifier
    }

    /// Verifies keyed records with `keys`. With keys supplied, a plain SHA-256 record is a
    /// break (anyone with database access can compute one) unless `accept_unkeyed` (records
    /// written before a key was configured); a plain record after a keyed one in the same
    /// chain is a break either way.
    pub fn keyed(mut self, keys: AuditKeys, accept_unkeyed: bool) -> ChainVerifier {
        self.keys = keys;
        self.accept_unkeyed = accept_unkeyed;
        self
    }

    fn plain_problem(&self, tail: &Tail) -> Option<String> {
        if tail.keyed {
            Some("plain SHA-256 after records chained under a key (downgraded)".to_owned())
        } else if !self.keys.is_empty() && !self.accept_unkeyed {
            Some(
                "plain SHA-256 while an audit key is configured (pass --accept-unkeyed for \
                 records written before the key)"
                    .to_owned(),
            )
        } else {
            None
        }
    }

    /// Records must come ordered by subject, then by `subject_seq`.
    pub fn push(&mut self, record: &AuditRecord) {
        self.report.records += 1;
        let subject = &record.entry.subject;
        if !self.tails.contains_key(subject) {
            self.report.subjects += 1;
            let genesis =
                Tail { seq: 0, hash: GENESIS_HASH.to_owned(), broken: false, keyed: false };
            self.tails.insert(subject.clone(), genesis);
        }
        let Some(tail) = self.tails.get(subject) else { return };
        if tail.broken {
            return;
        }
        let plain = if record.key_id.is_none() { self.plain_problem(tail) } else { None };
        let Some(tail) = self.tails.get_mut(subject) else { return };
        let sealed =
            self.sealed.get_mut(subject).filter(|s| s.seal.subject_seq == record.subject_seq);
        let problem = if record.subject_seq != tail.seq + 1 {
            Some("a record is missing or out of order before this one".to_owned())
        } else if record.prev_hash != tail.hash {
            Some("does not link to the previous record (reordered or replaced)".to_owned())
        } else if let Some(problem) = hash_problem(&self.keys, record) {
            Some(problem)
        } else if plain.is_some() {
            plain
        } else if let Some(sealed) = sealed {
            sealed.seen = true;
            (sealed.seal.hash != record.hash).then(|| {
                format!(
                    "sealed at checkpoint {} with another hash (replaced)",
                    sealed.seal.checkpoint
                )
            })
        } else {
            None
        };
        match problem {
            Some(problem) => {
                tail.broken = true;
                self.report.breaks.push(ChainBreak {
                    subject: subject.clone(),
                    subject_seq: record.subject_seq,
                    problem,
                });
            }
            None => {
                tail.seq = record.subject_seq;
                tail.hash = record.hash.clone();
                tail.keyed |= record.key_id.is_some();
            }
        }
    }

    /// Compares each recorded head with its chain's last record and returns the report.
    pub fn finish(mut self, heads: &[RecordedHead]) -> VerifyReport {
        self.report.heads = heads.len();
        for head in heads {
            let fail = |seq: i64, problem: String| ChainBreak {
                subject: head.subject.clone(),
                subject_seq: seq,
                problem,
            };
            let found = match self.tails.get(&head.subject) {
                None => Some(fail(
                    1,
                    format!("every record is missing (the recorded head is at {})", head.seq),
                )),
                Some(tail) if tail.broken => None,
                Some(tail) if tail.seq < head.seq => Some(fail(
                    tail.seq + 1,
                    format!("deleted: the chain ends at {}, its head at {}", tail.seq, head.seq),
                )),
                Some(tail) if tail.seq > head.seq => Some(fail(
                    head.seq + 1,
                    format!("appended behind Steward's back: the head is at {}", head.seq),
                )),
                Some(tail) if tail.hash != head.hash => {
                    Some(fail(head.seq, "does not match the recorded head (replaced)".to_owned()))
                }
                Some(_) => None,
            };
            if let Some(found) = found {
                self.report.breaks.push(found);
            }
        }
        // A sealed record never seen: the chain lost it. Named once per subject, only when
        // nothing else already names the subject.
        for (subject, expected) in std::mem::take(&mut self.sealed) {
            let named = self.report.breaks.iter().any(|b| b.subject == subject);
            if expected.seen || named {
                continue;
            }
            let Seal { checkpoint, subject_seq, .. } = expected.seal;
            self.report.breaks.push(ChainBreak {
                subject,
                subject_seq,
                problem: format!(
                    "sealed at checkpoint {checkpoint} up to record {subject_seq}, records missing"
                ),
            });
        }
        self.report.breaks.sort_by(|a, b| a.subject.cmp(&b.subject));
        self.report
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::audit::{AuditEntry, chain};

    fn records(subject: &str, n: usize) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let entry = AuditEntry {
                at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc(),
                actor: "sam".into(),
                subject: subject.into(),
                action: format!("step{i}"),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "i": i }),
            };
            let prev = out.last().map(|r| (r.subject_seq, r.hash.as_str()));
            out.push(chain(&AuditKeys::none(), prev, entry));
        }
        out
    }

    fn head(r: &AuditRecord) -> RecordedHead {
        RecordedHead { subject: r.entry.subject.clone(), seq: r.subject_seq, hash: r.hash.clone() }
    }

    fn verify(records: &[AuditRecord], heads: &[RecordedHead]) -> VerifyReport {
        let mut verifier = ChainVerifier::default();
        records.iter().for_each(|r| verifier.push(r));
        verifier.finish(heads)
    }

    #[test]
    fn intact_chains_with_matching_heads_verify() {
        let mut all = records("credit:1", 3);
        all.extend(records("credit:2", 2));
        let heads = [head(&all[2]), head(&all[4])];
        let report = verify(&all, &heads);
        assert!(report.intact(), "{report:?}");
        assert_eq!((report.subjects, report.records, report.heads), (2, 5, 2));
    }

    #[test]
    fn deleting_the_last_record_is_caught_by_the_head() {
        let all = records("credit:1", 3);
        let report = verify(&all[..2], &[head(&all[2])]);
        assert_eq!(report.breaks.len(), 1);
        assert_eq!(report.breaks[0].subject_seq, 3);
        let report = verify(&[], &[head(&all[2])]);
        assert!(report.breaks[0].problem.contains("every record is missing"));
    }

    #[test]
    fn an_altered_record_is_named() {
        let mut all = records("credit:1", 3);
        let heads = [head(&all[2])];
        all[1].entry.actor = "mallory".into();
        let report = verify(&all, &heads);
        assert_eq!(report.breaks[0].subject_seq, 2);
        assert!(report.breaks[0].problem.contains("altered"));
    }

    fn sealed(records: &[AuditRecord]) -> CheckedCheckpoints {
        let entries = records
            .iter()
            .map(|r| crate::domain::audit_checkpoint::SealedEntry {
                subject: r.entry.subject.clone(),
                subject_seq: r.subject_seq,
                hash: r.hash.clone(),
            })
            .collect();
        let (checkpoint, entries) =
            crate::domain::audit_checkpoint::seal(None, records[0].entry.at, entries);
        let mut verifier = crate::domain::audit_checkpoint::CheckpointVerifier::default();
        entries.into_iter().for_each(|e| verifier.push(checkpoint.clone(), Some(e)));
        verifier.finish()
    }

    #[test]
    fn a_whole_subject_deleted_with_its_head_is_named_by_its_seal() {
        let mut all = records("credit:1", 2);
        all.extend(records("credit:2", 2));
        let checked = sealed(&[all[1].clone(), all[3].clone()]);
        let mut verifier = ChainVerifier::with_checkpoints(checked);
        all[..2].iter().for_each(|r| verifier.push(r));
        let report = verifier.finish(&[head(&all[1])]);
        assert_eq!(report.checkpoints, 1);
        assert_eq!(report.breaks.len(), 1, "{report:?}");
        let found = &report.breaks[0];
        assert_eq!((found.subject.as_str(), found.subject_seq), ("credit:2", 2));
        assert_eq!(found.problem, "sealed at checkpoint 1 up to record 2, records missing");
    }

    #[test]
    fn a_sealed_record_rewritten_with_a_fresh_hash_is_caught() {
        let all = records("credit:1", 2);
        let checked = sealed(&all[1..]);
        let mut rewritten = all.clone();
        rewritten[1].entry.actor = "mallory".into();
        rewritten[1] = crate::domain::audit::chain(
            &AuditKeys::none(),
            Some((1, all[0].hash.as_str())),
            rewritten[1].entry.clone(),
        );
        let mut verifier = ChainVerifier::with_checkpoints(checked);
        rewritten.iter().for_each(|r| verifier.push(r));
        let report = verifier.finish(&[head(&rewritten[1])]);
        assert_eq!(report.breaks.len(), 1, "{report:?}");
        assert!(report.breaks[0].problem.contains("another hash"), "{report:?}");
    }

    fn keys() -> AuditKeys {
        AuditKeys::parse(Some("k1:first-secret-0123456789"), None).unwrap()
    }

    #[test]
    fn with_a_key_configured_plain_records_break_unless_accepted() {
        let all = records("credit:1", 2);
        let heads = [head(&all[1])];
        let run = |accept: bool| {
            let mut verifier = ChainVerifier::default().keyed(keys(), accept);
            all.iter().for_each(|r| verifier.push(r));
            verifier.finish(&heads)
        };
        let strict = run(false);
        assert_eq!(strict.breaks.len(), 1, "{strict:?}");
        assert_eq!(strict.breaks[0].subject_seq, 1);
        assert!(strict.breaks[0].problem.contains("plain SHA-256 while an audit key"));
        assert!(run(true).intact());
    }

    #[test]
    fn a_plain_record_after_a_keyed_one_is_a_downgrade() {
        let keys = keys();
        let first = chain(&keys, None, records("credit:1", 1).remove(0).entry);
        let mut second_entry = first.entry.clone();
        second_entry.action = "edit".into();
        let second = chain(&AuditKeys::none(), Some((1, first.hash.as_str())), second_entry);
        let mut verifier = ChainVerifier::default().keyed(keys, true);
        [&first, &second].iter().for_each(|r| verifier.push(r));
        let report = verifier.finish(&[head(&second)]);
        assert_eq!(report.breaks.len(), 1, "{report:?}");
        assert_eq!(report.breaks[0].subject_seq, 2);
        assert!(report.breaks[0].problem.contains("downgraded"), "{report:?}");
    }
}
