//! Checking the database against checkpoints kept outside it (issue 17 item 7).
//!
//! Someone who can write to the database can rewrite a record, recompute every hash after it
//! — the chain, the recorded head, the checkpoint entries and the checkpoint chain — and the
//! database alone verifies again. Each checkpoint is therefore also written out when it is
//! sealed (a log line with target `steward::audit_checkpoint`, and optionally a signed
//! webhook). `steward audit verify --checkpoint <seq>:<hash>` (or a file of those log lines or
//! webhook bodies) then compares the database's checkpoint chain with the copies kept
//! elsewhere: a checkpoint whose hash differs, or that is gone, names the rewrite.

use std::collections::BTreeMap;

use super::audit::ChainBreak;
use super::audit_checkpoint::{CHECKPOINT_SUBJECT, Checkpoint};

/// A checkpoint as kept outside the database: its position and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalCheckpoint {
    pub seq: i64,
    pub hash: String,
}

/// The fields of a checkpoint as written out (log line fields and webhook body keys).
pub const SEQ_FIELD: &str = "checkpoint";
pub const HASH_FIELD: &str = "hash";

/// Parses `<seq>:<hash>` (the hash 64 hex digits).
pub fn parse_pair(raw: &str) -> Option<ExternalCheckpoint> {
    let (seq, hash) = raw.trim().split_once(':')?;
    let seq = seq.trim().parse().ok().filter(|seq| *seq > 0)?;
    let hash = hash.trim();
    let hex = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit());
    hex.then(|| ExternalCheckpoint { seq, hash: hash.to_ascii_lowercase() })
}

/// The checkpoints in a file of kept copies: one per line, either `<seq>:<hash>` or a JSON
/// object with `checkpoint` and `hash` at the top (a webhook body) or under `fields` (a
/// JSON log line). Other lines (other log lines) are skipped.
pub fn parse_lines(text: &str) -> Vec<ExternalCheckpoint> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<ExternalCheckpoint> {
    if let Some(pair) = parse_pair(line) {
        return Some(pair);
    }
    let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    [&value, &value["fields"]].into_iter().find_map(|object| {
        let seq = object[SEQ_FIELD].as_i64()?;
        parse_pair(&format!("{seq}:{}", object[HASH_FIELD].as_str()?))
    })
}

/// Collects the stored checkpoints that copies were kept of, then compares.
#[derive(Debug, Default)]
pub struct ExternalCheck {
    wanted: BTreeMap<i64, String>,
    stored: BTreeMap<i64, String>,
}

impl ExternalCheck {
    pub fn new(kept: &[ExternalCheckpoint]) -> ExternalCheck {
        let wanted = kept.iter().map(|k| (k.seq, k.hash.clone())).collect();
        ExternalCheck { wanted, stored: BTreeMap::new() }
    }

    /// Feeds each stored checkpoint (repeats of one checkpoint are harmless).
    pub fn push(&mut self, checkpoint: &Checkpoint) {
        if self.wanted.contains_key(&checkpoint.seq) {
            self.stored.insert(checkpoint.seq, checkpoint.hash.clone());
        }
    }

    /// How many kept copies there are to compare.
    pub fn len(&self) -> usize {
        self.wanted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wanted.is_empty()
    }

    /// A break per kept copy the database does not match.
    pub fn finish(self) -> Vec<ChainBreak> {
        let mut breaks = Vec::new();
        for (seq, kept) in self.wanted {
            let problem = match self.stored.get(&seq) {
                None => format!("kept outside with hash {kept}, missing from the database"),
                Some(stored) if *stored != kept => format!(
                    "the database has hash {stored}, the copy kept outside {kept} (rewritten)"
                ),
                Some(_) => continue,
            };
            breaks.push(ChainBreak {
                subject: CHECKPOINT_SUBJECT.to_owned(),
                subject_seq: seq,
                problem,
            });
        }
        breaks
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    const H1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const H2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    fn stored(seq: i64, hash: &str) -> Checkpoint {
        let at = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
        Checkpoint { seq, at, prev_hash: String::new(), hash: hash.to_owned() }
    }

    #[test]
    fn kept_copies_are_read_from_pairs_log_lines_and_webhook_bodies() {
        let text = format!(
            "3:{H1}\n\
             {{\"timestamp\":\"…\",\"target\":\"steward::audit_checkpoint\",\"fields\":{{\"checkpoint\":4,\"hash\":\"{H2}\"}}}}\n\
             {{\"checkpoint\":5,\"hash\":\"{H1}\",\"at\":\"2026-11-23T10:00:00Z\"}}\n\
             {{\"fields\":{{\"message\":\"something else\"}}}}\n\
             not a checkpoint"
        );
        let seqs: Vec<i64> = parse_lines(&text).iter().map(|k| k.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(parse_pair("0:abc"), None);
        assert_eq!(parse_pair(&format!("2:{}", &H1[1..])), None);
    }

    #[test]
    fn a_differing_or_missing_checkpoint_is_a_break_and_a_matching_one_is_not() {
        let kept = [
            ExternalCheckpoint { seq: 1, hash: H1.into() },
            ExternalCheckpoint { seq: 2, hash: H1.into() },
            ExternalCheckpoint { seq: 9, hash: H1.into() },
        ];
        let mut check = ExternalCheck::new(&kept);
        [stored(1, H1), stored(2, H2), stored(3, H1)].iter().for_each(|c| check.push(c));
        let breaks = check.finish();
        let found: Vec<(i64, bool)> =
            breaks.iter().map(|b| (b.subject_seq, b.problem.contains("rewritten"))).collect();
        assert_eq!(found, [(2, true), (9, false)], "{breaks:?}");
        assert!(breaks[1].problem.contains("missing from the database"));
    }
}
