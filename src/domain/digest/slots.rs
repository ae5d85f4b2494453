//! Slots: the instants a digest is due, from its cron schedule read in its own time zone.
//!
//! The schedule is read on the local wall clock, then each local time is placed on the
//! time line:
//! - a local time that happens twice (autumn: clocks go back) is one slot, at its **first**
//!   occurrence, so the repeated hour fires once;
//! - a local time that does not exist (spring: clocks go forward) is **shifted forward by the
//!   length of the gap** (02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30), so a
//!   daily digest is never lost; if that instant is already a slot, it is one slot.
//!
//! Slots are UTC instants; the database claims each `(name, slot_at)` once.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Upper bound on the slots one call produces (a schedule firing every second over a long
/// downtime must not exhaust memory); callers handle the rest on their next call.
pub const MAX_SLOTS: usize = 10_000;

/// Slack on the local wall clock around the range, wider than any DST shift.
const MARGIN_HOURS: i64 = 26;

/// The slots in `(from, to]`, in order, at most [`MAX_SLOTS`].
pub fn slots_between(
    schedule: &cron::Schedule,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    if to <= from {
        return Vec::new();
    }
    let margin = Duration::hours(MARGIN_HOURS);
    let local_from = from.with_timezone(&zone).naive_local() - margin;
    let local_to = to.with_timezone(&zone).naive_local() + margin;
    let mut out = Vec::new();
    // Reading the schedule "in UTC" walks the naive wall-clock times without DST rules.
    for wall in schedule.after(&local_from.and_utc()).map(|at| at.naive_utc()) {
        if wall > local_to {
            break;
        }
        let at = place(zone, wall);
        if at > from && at <= to {
            out.push(at);
        }
        if out.len() > MAX_SLOTS * 2 {
            break;
        }
    }
    out.sort();
    out.dedup();
    out.truncate(MAX_SLOTS);
    out
}

/// Puts a local wall-clock time on the time line (see the module docs for DST).
pub fn place(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) => at.to_utc(),
        LocalResult::Ambiguous(first, _) => first.to_utc(),
        LocalResult::None => {
            // Read with the offset in force before the gap: that is the wall time shifted
            // forward by the gap's length.
            // Three hours of wall clock before the gap are before the change (gaps are an
            // hour, rarely two).
            let before = zone.from_local_datetime(&(wall - Duration::hours(3))).earliest();
            let offset = before.map(|at| chrono::Offset::fix(at.offset()).local_minus_utc());
            (wall - Duration::seconds(i64::from(offset.unwrap_or(0)))).and_utc()
        }
    }
}

/// How far [`nearest_slots`] looks either way: a schedule that fires less than once a year
/// has no neighbour named.
const NEAREST_SEARCH: [i64; 4] = [2, 9, 40, 400];

/// The nearest slots around `at`: the last one at or before it and the first one after it.
/// A manual run is posted only when `at` is itself a slot (`before == Some(at)`).
pub fn nearest_slots(
    schedule: &cron::Schedule,
    zone: Tz,
    at: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let before = NEAREST_SEARCH.iter().find_map(|days| {
        slots_between(schedule, zone, at - Duration::days(*days), at).last().copied()
    });
    let after = NEAREST_SEARCH.iter().find_map(|days| {
        slots_between(schedule, zone, at, at + Duration::days(*days)).first().copied()
    });
    (before, after)
}

/// The slot before `at` (strictly earlier): what "new since the previous digest" counts from.
pub fn previous_slot(
    schedule: &cron::Schedule,
    zone: Tz,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    nearest_slots(schedule, zone, at - Duration::seconds(1)).0
}

/// What the scheduler does with one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Due now (within `on_time` of its instant): post it.
    OnTime(DateTime<Utc>),
    /// Missed but within the grace period: post it, marked late.
    Late(DateTime<Utc>),
    /// Missed beyond the grace period: record it as skipped, post nothing.
    Skipped(DateTime<Utc>),
}

impl Slot {
    pub fn at(self) -> DateTime<Utc> {
        match self {
            Slot::OnTime(at) | Slot::Late(at) | Slot::Skipped(at) => at,
        }
    }
}

/// The inputs of one scheduler pass for one digest.
#[derive(Debug, Clone, Copy)]
pub struct SlotPlan {
    pub now: DateTime<Utc>,
    /// The newest slot already recorded for the digest, if any.
    pub last_recorded: Option<DateTime<Utc>>,
    pub grace: Duration,
    /// A slot handled within this long after its instant counts as on time.
    pub on_time: Duration,
}

/// The slots a scheduler pass handles: everything after the last recorded slot up to `now`,
/// classified as on time, late or skipped. A digest with no recorded slot (just configured)
/// starts with the slots of the last `on_time`: it missed nothing before it existed.
pub fn plan_slots(schedule: &cron::Schedule, zone: Tz, plan: SlotPlan) -> Vec<Slot> {
    let from = match plan.last_recorded {
        Some(last) => last,
        None => plan.now - plan.on_time - Duration::seconds(1),
    };
    slots_between(schedule, zone, from, plan.now)
        .into_iter()
        .map(|at| {
            let lateness = plan.now - at;
            if lateness <= plan.on_time {
                Slot::OnTime(at)
            } else if lateness <= plan.grace {
                Slot::Late(at)
            } else {
                Slot::Skipped(at)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::digest::parse_schedule;

    fn utc(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
    }

    fn london() -> Tz {
        chrono_tz::Europe::London
    }

    #[test]
    fn a_daily_schedule_fires_once_a_day_at_local_time() {
        let schedule = parse_schedule("30 8 * * *").unwrap();
        let slots = slots_between(
            &schedule,
            london(),
            utc("2026-07-01T00:00:00Z"),
            utc("2026-07-03T23:00:00Z"),
        );
        // 08:30 BST is 07:30 UTC.
        assert_eq!(
            slots,
            vec![
                utc("2026-07-01T07:30:00Z"),
                utc("2026-07-02T07:30:00Z"),
                utc("2026-07-03T07:30:00Z")
            ]
        );
    }

    #[test]
    fn the_repeated_hour_on_the_autumn_change_fires_once_at_its_first_occurrence() {
        // London goes back from 02:00 BST to 01:00 GMT on 2026-10-25: 01:30 happens twice.
        let schedule = parse_schedule("30 1 * * *").unwrap();
        let slots = slots_between(
            &schedule,
            london(),
            utc("2026-10-24T12:00:00Z"),
            utc("2026-10-25T12:00:00Z"),
        );
        assert_eq!(slots, vec![utc("2026-10-25T00:30:00Z")]);
    }

    #[test]
    fn an_hourly_schedule_over_the_autumn_change_has_one_slot_per_distinct_local_time() {
        let schedule = parse_schedule("0 * * * *").unwrap();
        let slots = slots_between(
            &schedule,
            london(),
            utc("2026-10-24T23:30:00Z"), // 00:30 BST
            utc("2026-10-25T03:30:00Z"), // 03:30 GMT
        );
        // Local 01:00 (first, BST) 02:00 03:00: the second 01:00 (GMT) is the same local time.
        assert_eq!(
            slots,
            vec![
                utc("2026-10-25T00:00:00Z"),
                utc("2026-10-25T02:00:00Z"),
                utc("2026-10-25T03:00:00Z")
            ]
        );
    }

    #[test]
    fn a_local_time_in_the_spring_gap_is_shifted_forward_by_the_gap() {
        // New York jumps from 02:00 EST to 03:00 EDT on 2026-03-08: 02:30 does not exist.
        let ny = chrono_tz::America::New_York;
        let schedule = parse_schedule("30 2 * * *").unwrap();
        let slots =
            slots_between(&schedule, ny, utc("2026-03-07T12:00:00Z"), utc("2026-03-09T12:00:00Z"));
        assert_eq!(
            slots,
            vec![
                // 03:30 EDT on the change day, 02:30 EDT on the next.
                utc("2026-03-08T07:30:00Z"),
                utc("2026-03-09T06:30:00Z"),
            ]
        );
    }

    #[test]
    fn a_shifted_gap_slot_that_meets_a_real_slot_is_one_slot() {
        let ny = chrono_tz::America::New_York;
        let schedule = parse_schedule("30 2,3 * * *").unwrap();
        let slots =
            slots_between(&schedule, ny, utc("2026-03-08T00:00:00Z"), utc("2026-03-08T12:00:00Z"));
        assert_eq!(slots, vec![utc("2026-03-08T07:30:00Z")]);
    }

    #[test]
    fn the_range_is_open_at_the_start_and_closed_at_the_end() {
        let schedule = parse_schedule("0 9 * * *").unwrap();
        let at = utc("2026-11-23T09:00:00Z");
        assert!(slots_between(&schedule, Tz::UTC, at, at + Duration::hours(1)).is_empty());
        assert_eq!(slots_between(&schedule, Tz::UTC, at - Duration::hours(1), at), vec![at]);
    }

    #[test]
    fn after_downtime_slots_within_grace_are_late_and_older_ones_skipped() {
        let schedule = parse_schedule("0 * * * *").unwrap();
        let plan = SlotPlan {
            now: utc("2026-11-23T12:10:00Z"),
            last_recorded: Some(utc("2026-11-23T08:00:00Z")),
            grace: Duration::hours(2),
            on_time: Duration::minutes(5),
        };
        let planned = plan_slots(&schedule, Tz::UTC, plan);
        assert_eq!(
            planned,
            vec![
                Slot::Skipped(utc("2026-11-23T09:00:00Z")),
                Slot::Skipped(utc("2026-11-23T10:00:00Z")),
                Slot::Late(utc("2026-11-23T11:00:00Z")),
                Slot::Late(utc("2026-11-23T12:00:00Z")),
            ]
        );
    }

    #[test]
    fn the_nearest_slots_are_named_either_side_and_a_slot_is_its_own_nearest() {
        let schedule = parse_schedule("0 8 * * Mon-Fri").unwrap();
        // Saturday noon: Friday 08:00 before, Monday 08:00 after.
        let (before, after) = nearest_slots(&schedule, Tz::UTC, utc("2026-11-28T12:00:00Z"));
        assert_eq!(before, Some(utc("2026-11-27T08:00:00Z")));
        assert_eq!(after, Some(utc("2026-11-30T08:00:00Z")));
        let slot = utc("2026-11-30T08:00:00Z");
        assert_eq!(nearest_slots(&schedule, Tz::UTC, slot).0, Some(slot));
        assert_eq!(previous_slot(&schedule, Tz::UTC, slot), Some(utc("2026-11-27T08:00:00Z")));
    }

    #[test]
    fn a_first_start_handles_only_the_slot_due_now() {
        let schedule = parse_schedule("0 * * * *").unwrap();
        let plan = SlotPlan {
            now: utc("2026-11-23T12:00:30Z"),
            last_recorded: None,
            grace: Duration::hours(2),
            on_time: Duration::minutes(1),
        };
        let planned = plan_slots(&schedule, Tz::UTC, plan);
        assert_eq!(planned, vec![Slot::OnTime(utc("2026-11-23T12:00:00Z"))]);
    }
}
