//! Review campaigns on a schedule (`[[access.review.schedules]]`): which slots a schedule
//! has, when a campaign started at a slot is due, and which of a list's reminders still
//! make sense when their time comes. Pure: the slots come from the digests' cron reading
//! (`domain::digest::slots`, with its DST rules); the job that starts a campaign once per
//! slot lives in `services::access::review`.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::digest::slots::nearest_slots;
use crate::domain::ids::Platform;

/// A validated schedule entry.
#[derive(Debug, Clone)]
pub struct ReviewSchedule {
    /// Unique name; it is part of each slot's job key.
    pub name: String,
    /// A system key, or `all`.
    pub scope: String,
    pub schedule: cron::Schedule,
    /// The zone the schedule is read in (the team's).
    pub time_zone: Tz,
    /// A campaign started at a slot is due this long after the slot.
    pub due_in: Duration,
    /// Where the lists are posted: each reviewer's team channel on this platform…
    pub platform: Platform,
    /// …or this channel for a team with none there.
    pub channel: String,
}

impl ReviewSchedule {
    /// The first slot strictly after `at` (none within a year and a bit: never).
    pub fn next_slot(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        nearest_slots(&self.schedule, self.time_zone, at).1
    }

    /// The due time of the campaign of `slot`.
    pub fn due_at(&self, slot: DateTime<Utc>) -> DateTime<Utc> {
        slot + self.due_in
    }
}

/// Whether the reminder `before` the due time should still be sent at `now`: not when a
/// later reminder of the series (a shorter `before`) is due too, so a list whose reminders
/// all came due at once (a late start, downtime) gets one reminder, the latest, not a burst.
pub fn reminder_still_useful(
    due_at: DateTime<Utc>,
    series: &[Duration],
    before: Duration,
    now: DateTime<Utc>,
) -> bool {
    !series.iter().any(|other| *other < before && due_at - *other <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn quarterly() -> ReviewSchedule {
        ReviewSchedule {
            name: "quarterly".into(),
            scope: "all".into(),
            schedule: crate::domain::digest::parse_schedule("0 9 1 1,4,7,10 *").unwrap(),
            time_zone: chrono_tz::Europe::London,
            due_in: Duration::days(14),
            platform: Platform::Console,
            channel: "ops".into(),
        }
    }

    #[test]
    fn a_quarterly_schedule_fires_on_day_one_at_nine_local_time() {
        let s = quarterly();
        let after = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        // 1 January is winter time (GMT = UTC)…
        assert_eq!(s.next_slot(after), Some(Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap()));
        // …1 April is summer time (BST = UTC+1): 09:00 local is 08:00 UTC.
        let april = s.next_slot(Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap());
        assert_eq!(april, Some(Utc.with_ymd_and_hms(2027, 4, 1, 8, 0, 0).unwrap()));
        assert_eq!(s.due_at(april.unwrap()), Utc.with_ymd_and_hms(2027, 4, 15, 8, 0, 0).unwrap());
    }

    #[test]
    fn only_the_latest_of_the_reminders_due_together_is_sent() {
        let due = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
        let series = [Duration::days(7), Duration::days(1), Duration::hours(2)];
        // Eight days before: the 7-day reminder only.
        let early = due - Duration::days(7);
        assert!(reminder_still_useful(due, &series, Duration::days(7), early));
        // Twelve hours before: the 7-day one (if late) gives way to the 1-day one.
        let late = due - Duration::hours(12);
        assert!(!reminder_still_useful(due, &series, Duration::days(7), late));
        assert!(reminder_still_useful(due, &series, Duration::days(1), late));
        // On the day, two hours before: only the last.
        let last = due - Duration::hours(2);
        assert!(!reminder_still_useful(due, &series, Duration::days(1), last));
        assert!(reminder_still_useful(due, &series, Duration::hours(2), last));
    }
}
