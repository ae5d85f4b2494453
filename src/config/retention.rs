//! `[retention]`: how long handled events, sent messages and finished jobs are kept.

use serde::Deserialize;

/// `[retention]`: the daily prune job (`services::retention`) and `steward prune`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Days an inbox row (a handled event's dedupe key and stored reply) is kept. Longer than
    /// any platform redelivers an event (Slack retries delayed events for up to 24 hours): a
    /// redelivery after its row is gone would be handled again.
    pub inbox_days: u32,
    /// Days a sent, failed or superseded outbox message is kept. Pending messages are never
    /// pruned, nor the newest message of each living card (the button look-up reads it).
    pub outbox_days: u32,
    /// Days a finished (done or dead) job is kept. Pending and running jobs are never pruned.
    pub jobs_days: u32,
    /// Rows deleted per statement; each batch is its own short transaction, so pruning
    /// never holds locks for long.
    pub batch_size: i64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings { inbox_days: 7, outbox_days: 30, jobs_days: 30, batch_size: 5000 }
    }
}

impl RetentionSettings {
    /// Every key must be positive.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let keys = [
            ("retention.inbox_days", i64::from(self.inbox_days)),
            ("retention.outbox_days", i64::from(self.outbox_days)),
            ("retention.jobs_days", i64::from(self.jobs_days)),
            ("retention.batch_size", self.batch_size),
        ];
        match keys.into_iter().find(|(_, value)| *value <= 0) {
            Some((key, _)) => Err((key.into(), "must be greater than zero".into())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_is_refused_by_name() {
        assert_eq!(RetentionSettings::default().validate(), Ok(()));
        let zero_days = RetentionSettings { outbox_days: 0, ..RetentionSettings::default() };
        assert_eq!(zero_days.validate().unwrap_err().0, "retention.outbox_days");
        let negative_batch = RetentionSettings { batch_size: -1, ..RetentionSettings::default() };
        assert_eq!(negative_batch.validate().unwrap_err().0, "retention.batch_size");
    }
}
