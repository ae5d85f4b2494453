//! Slack's rate limits are per method and workspace: a 429 on `chat.postMessage` says
//! nothing about `chat.update`, but it does say that *every* `chat.postMessage` from this
//! token must wait. One [`MethodPauses`] per workspace (`SlackChat` keeps one for each
//! workspace it sends in) remembers until when
//! each method was paused, so a 429 to one message holds back all the others instead of
//! each message finding out with a 429 of its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// How long a 429 without `Retry-After` pauses its method (Slack always sends one; this is
/// the fallback if a proxy drops it).
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// Until when each Web API method is paused after a 429.
#[derive(Default)]
pub struct MethodPauses {
    until: Mutex<HashMap<&'static str, DateTime<Utc>>>,
}

impl MethodPauses {
    /// How long `method` must still wait at `now`, if it is paused.
    pub fn wait(&self, method: &'static str, now: DateTime<Utc>) -> Option<Duration> {
        let until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let at = until.get(method)?;
        (*at - now).to_std().ok().filter(|d| !d.is_zero())
    }

    /// Pauses `method` for `retry_after` from `now` (never shortening a longer pause).
    pub fn pause(&self, method: &'static str, retry_after: Duration, now: DateTime<Utc>) {
        let at = now + chrono::Duration::from_std(retry_after).unwrap_or_default();
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let entry = until.entry(method).or_insert(at);
        *entry = (*entry).max(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_holds_its_method_only_and_ends_on_time() {
        let pauses = MethodPauses::default();
        let now = Utc::now();
        pauses.pause("chat.postMessage", Duration::from_secs(30), now);
        assert_eq!(pauses.wait("chat.postMessage", now), Some(Duration::from_secs(30)));
        assert_eq!(pauses.wait("chat.update", now), None, "other methods go on");
        let later = now + chrono::Duration::seconds(30);
        assert_eq!(pauses.wait("chat.postMessage", later), None);
    }

    #[test]
    fn a_shorter_pause_does_not_cut_a_longer_one() {
        let pauses = MethodPauses::default();
        let now = Utc::now();
        pauses.pause("chat.update", Duration::from_secs(30), now);
        pauses.pause("chat.update", Duration::from_secs(1), now);
        assert_eq!(pauses.wait("chat.update", now), Some(Duration::from_secs(30)));
    }
}
