//! Reporting windows: adjacent local calendar periods in the digest's zone, so that a
//! week across a DST change is the week people lived (167 or 169 hours), no hour falls in
//! no window, and a digest's "previous" window is exactly the window the digest before it
//! reported.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::slots::place;

/// How a digest's window is laid on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSpec {
    /// `n` local days, each from local midnight to local midnight, ending at the last
    /// midnight at or before the slot ("1d": yesterday).
    Days(u32),
    /// The last whole local week, starting on the weekday at 00:00 local.
    Week(Weekday),
    /// A fixed length ending at the slot itself, for windows shorter than a day ("12h").
    Fixed(Duration),
}

impl WindowSpec {
    /// The spec for a configured length: whole days become calendar days (seven of them a
    /// calendar week starting `week_starts`), anything shorter or uneven stays fixed.
    pub fn from_length(length: Duration, week_starts: Weekday) -> WindowSpec {
        let whole_days = length.num_seconds() % 86_400 == 0 && length.num_days() >= 1;
        match length.num_days() {
            7 if whole_days => WindowSpec::Week(week_starts),
            days if whole_days => WindowSpec::Days(u32::try_from(days).unwrap_or(u32::MAX)),
            _ => WindowSpec::Fixed(length),
        }
    }

    /// Whether the window spans at least a week (digests of a week or more get the chart).
    pub fn spans_a_week(self) -> bool {
        match self {
            WindowSpec::Days(days) => days >= 7,
            WindowSpec::Week(_) => true,
            WindowSpec::Fixed(length) => length >= Duration::days(7),
        }
    }
}

/// The current window `[start, end)` and the one before it `[previous_start, start)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub previous_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The windows a digest posted at `at` reports on.
pub fn windows_at(spec: WindowSpec, zone: Tz, at: DateTime<Utc>) -> Windows {
    let midnight = |day: NaiveDate| place(zone, day.and_time(NaiveTime::MIN));
    let today = at.with_timezone(&zone).date_naive();
    let back = |day: NaiveDate, days: u32| day - Duration::days(i64::from(days));
    match spec {
        WindowSpec::Days(days) => Windows {
            previous_start: midnight(back(today, days.saturating_mul(2))),
            start: midnight(back(today, days)),
            end: midnight(today),
        },
        WindowSpec::Week(starts) => {
            let since_start =
                (7 + today.weekday().num_days_from_monday() - starts.num_days_from_monday()) % 7;
            let end_day = back(today, since_start);
            Windows {
                previous_start: midnight(back(end_day, 14)),
                start: midnight(back(end_day, 7)),
                end: midnight(end_day),
            }
        }
        WindowSpec::Fixed(length) => {
            Windows { previous_start: at - length - length, start: at - length, end: at }
        }
    }
}

/// The start of the local calendar month that contains the instant just before `end`
/// (month-to-date figures run from there to `end`).
pub fn month_start(zone: Tz, end: DateTime<Utc>) -> DateTime<Utc> {
    let last = (end - Duration::seconds(1)).with_timezone(&zone).date_naive();
    let first = last.with_day(1).unwrap_or(last);
    place(zone, first.and_time(NaiveTime::MIN))
}

/// The local calendar days that `[start, end)` covers in `zone`, each with the instant it
/// begins there (the first one at `start`): the buckets of a per-day chart. Computed here,
/// once, so that SQL never converts a time zone row by row (a day across a DST change is
/// 23 or 25 hours, and this is where that is known).
pub fn day_starts(
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(NaiveDate, DateTime<Utc>)> {
    let mut days = Vec::new();
    let mut day = start.with_timezone(&zone).date_naive();
    let mut begins = start;
    while begins < end {
        days.push((day, begins));
        let Some(next) = day.succ_opt() else { break };
        day = next;
        begins = place(zone, day.and_time(NaiveTime::MIN));
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::London};

    fn utc(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
    }

    #[test]
    fn lengths_of_whole_days_are_calendar_days_and_a_week_starts_on_its_weekday() {
        assert_eq!(WindowSpec::from_length(Duration::days(1), Weekday::Mon), WindowSpec::Days(1));
        assert_eq!(
            WindowSpec::from_length(Duration::days(7), Weekday::Sun),
            WindowSpec::Week(Weekday::Sun)
        );
        assert_eq!(WindowSpec::from_length(Duration::days(28), Weekday::Mon), WindowSpec::Days(28));
        assert_eq!(
            WindowSpec::from_length(Duration::hours(12), Weekday::Mon),
            WindowSpec::Fixed(Duration::hours(12))
        );
    }

    #[test]
    fn a_daily_window_is_yesterday_from_local_midnight_to_local_midnight() {
        // 08:00 BST on Tue 14 Jul 2026: yesterday is 13 Jul 00:00 BST (23:00Z on the 12th).
        let w = windows_at(WindowSpec::Days(1), London, utc("2026-07-14T07:00:00Z"));
        assert_eq!(w.end, utc("2026-07-13T23:00:00Z"));
        assert_eq!(w.start, utc("2026-07-12T23:00:00Z"));
        assert_eq!(w.previous_start, utc("2026-07-11T23:00:00Z"));
    }

    #[test]
    fn a_slot_exactly_at_midnight_reports_the_day_that_just_ended() {
        let w = windows_at(WindowSpec::Days(1), Tz::UTC, utc("2026-07-14T00:00:00Z"));
        assert_eq!((w.start, w.end), (utc("2026-07-13T00:00:00Z"), utc("2026-07-14T00:00:00Z")));
        // One second earlier it is still the 13th: the window before.
        let w = windows_at(WindowSpec::Days(1), Tz::UTC, utc("2026-07-13T23:59:59Z"));
        assert_eq!((w.start, w.end), (utc("2026-07-12T00:00:00Z"), utc("2026-07-13T00:00:00Z")));
    }

    #[test]
    fn the_london_week_of_the_october_change_has_169_hours_and_touches_its_neighbours() {
        // Clocks go back at 02:00 BST on Sun 25 Oct 2026. Monday 08:00 GMT on 26 Oct reports
        // Mon 19 Oct 00:00 BST – Mon 26 Oct 00:00 GMT.
        let w = windows_at(WindowSpec::Week(Weekday::Mon), London, utc("2026-10-26T08:00:00Z"));
        assert_eq!(w.start, utc("2026-10-18T23:00:00Z"));
        assert_eq!(w.end, utc("2026-10-26T00:00:00Z"));
        assert_eq!(w.end - w.start, Duration::hours(169));
        // The next week's digest has this week as its previous window: no hour is lost.
        let next = windows_at(WindowSpec::Week(Weekday::Mon), London, utc("2026-11-02T08:00:00Z"));
        assert_eq!((next.previous_start, next.start), (w.start, w.end));
        assert_eq!(next.end - next.start, Duration::hours(168));
    }

    #[test]
    fn the_london_week_of_the_march_change_has_167_hours() {
        // Clocks go forward at 01:00 GMT on Sun 29 Mar 2026.
        let w = windows_at(WindowSpec::Week(Weekday::Mon), London, utc("2026-03-30T07:00:00Z"));
        assert_eq!(w.start, utc("2026-03-23T00:00:00Z"));
        assert_eq!(w.end, utc("2026-03-29T23:00:00Z"));
        assert_eq!(w.end - w.start, Duration::hours(167));
    }

    #[test]
    fn new_york_weeks_across_both_changes_start_on_the_configured_weekday() {
        // Sunday-started weeks. Spring forward Sun 8 Mar 2026 02:00 EST: the week from Sun 8
        // Mar 00:00 EST (05:00Z) to Sun 15 Mar 00:00 EDT (04:00Z) is 167 hours.
        let spring =
            windows_at(WindowSpec::Week(Weekday::Sun), New_York, utc("2026-03-16T13:00:00Z"));
        assert_eq!(spring.start, utc("2026-03-08T05:00:00Z"));
        assert_eq!(spring.end, utc("2026-03-15T04:00:00Z"));
        assert_eq!(spring.end - spring.start, Duration::hours(167));
        // Fall back Sun 1 Nov 2026 02:00 EDT: Sun 1 Nov 00:00 EDT (04:00Z) to Sun 8 Nov 00:00
        // EST (05:00Z) is 169 hours.
        let autumn =
            windows_at(WindowSpec::Week(Weekday::Sun), New_York, utc("2026-11-08T05:00:00Z"));
        assert_eq!(autumn.start, utc("2026-11-01T04:00:00Z"));
        assert_eq!(autumn.end, utc("2026-11-08T05:00:00Z"));
        assert_eq!(autumn.end - autumn.start, Duration::hours(169));
    }

    #[test]
    fn the_daily_window_of_the_change_day_is_23_or_25_hours() {
        let short = windows_at(WindowSpec::Days(1), New_York, utc("2026-03-09T12:00:00Z"));
        assert_eq!(short.end - short.start, Duration::hours(23));
        let long = windows_at(WindowSpec::Days(1), New_York, utc("2026-11-02T12:00:00Z"));
        assert_eq!(long.end - long.start, Duration::hours(25));
    }

    #[test]
    fn a_fixed_window_ends_at_the_slot() {
        let at = utc("2026-07-14T07:00:00Z");
        let w = windows_at(WindowSpec::Fixed(Duration::hours(12)), London, at);
        assert_eq!(
            (w.previous_start, w.start, w.end),
            (at - Duration::hours(24), at - Duration::hours(12), at)
        );
    }

    #[test]
    fn the_month_to_date_starts_at_local_midnight_on_the_first() {
        assert_eq!(month_start(London, utc("2026-07-14T07:00:00Z")), utc("2026-06-30T23:00:00Z"));
        // A window ending at midnight on the 1st belongs to the month before.
        assert_eq!(month_start(Tz::UTC, utc("2026-08-01T00:00:00Z")), utc("2026-07-01T00:00:00Z"));
    }

    #[test]
    fn the_days_of_a_week_across_the_october_change_begin_at_local_midnight() {
        // The week of Mon 21 to Sun 27 October 2024; London leaves summer time on the 27th.
        let start = utc("2024-10-20T23:00:00Z");
        let end = utc("2024-10-28T00:00:00Z");
        let days = day_starts(London, start, end);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0], (NaiveDate::from_ymd_opt(2024, 10, 21).unwrap(), start));
        assert_eq!(days[6].0, NaiveDate::from_ymd_opt(2024, 10, 27).unwrap());
        assert_eq!(days[6].1, utc("2024-10-26T23:00:00Z"), "midnight in summer time");
        assert_eq!(end - days[6].1, Duration::hours(25), "the last day has 25 hours");
    }
}
