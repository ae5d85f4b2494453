//! Verifying every audit chain at once (`steward audit verify`), purely.
//!
//! Records arrive ordered by subject and position. Recomputing each chain finds altered,
//! reordered and missing records *inside* a chain; comparing each chain's last record with
//! the head recorded elsewhere (the `audit_heads` table, the head kept in a workflow row)
//! finds records deleted from the end of a chain, or a whole chain deleted.

use std::collections::BTreeMap;

use super::audit::{AuditRecord, ChainBreak, GENESIS_HASH, record_hash};

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
}

/// Feeds records one by one (so the log never has to fit in memory), then the heads.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    tails: BTreeMap<String, Tail>,
    report: VerifyReport,
}

impl ChainVerifier {
    /// Records must come ordered by subject, then by `subject_seq`.
    pub fn push(&mut self, record: &AuditRecord) {
        self.report.records += 1;
        let subject = &record.entry.subject;
        if !self.tails.contains_key(subject) {
            self.report.subjects += 1;
            let genesis = Tail { seq: 0, hash: GENESIS_HASH.to_owned(), broken: false };
            self.tails.insert(subject.clone(), genesis);
        }
        let Some(tail) = self.tails.get_mut(subject) else { return };
        if tail.broken {
            return;
        }
        let problem = if record.subject_seq != tail.seq + 1 {
            Some("a record is missing or out of order before this one")
        } else if record.prev_hash != tail.hash {
            Some("does not link to the previous record (reordered or replaced)")
        } else if record_hash(&record.prev_hash, record.subject_seq, &record.entry) != record.hash {
            Some("content does not match its hash (altered)")
        } else {
            None
        };
        match problem {
            Some(problem) => {
                tail.broken = true;
                self.report.breaks.push(ChainBreak {
                    subject: subject.clone(),
                    subject_seq: record.subject_seq,
                    problem: problem.to_owned(),
                });
            }
            None => {
                tail.seq = record.subject_seq;
                tail.hash = record.hash.clone();
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
            out.push(chain(prev, entry));
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
}
