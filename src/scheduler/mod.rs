//! Background work: job workers (timers, tasks) and the outbox dispatcher. Both claim rows
//! with `FOR UPDATE SKIP LOCKED` and a lease, so any number of replicas can run them.

pub mod digests;
pub mod jobs;
pub mod outbox;
pub mod webhooks;

use std::time::Duration;

/// Exponential backoff: `base · 2^(attempt−1)`, capped at `max`.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exponent = attempt.clamp(1, 30) as u32 - 1;
    base.saturating_mul(2u32.saturating_pow(exponent)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(60);
        assert_eq!(backoff(1, base, max), Duration::from_secs(5));
        assert_eq!(backoff(3, base, max), Duration::from_secs(20));
        assert_eq!(backoff(10, base, max), max);
        assert_eq!(backoff(i32::MAX, base, max), max);
    }
}
