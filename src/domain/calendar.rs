//! Business hours: which instants count as working time in a time zone, and arithmetic on
//! business time (add a duration, measure between two instants, list the windows crossed).
//!
//! A [`Calendar`] has at most one open window per local weekday, closed weekdays and closed
//! local dates (holidays). Windows are local wall-clock times in the calendar's zone, turned
//! into UTC instants per date, so daylight-saving changes are handled per day: `09:00-17:00` is
//! 8 hours of business time on a spring-forward or fall-back day too. A local time that does
//! not exist (the skipped hour) maps forward to the first instant that exists; an ambiguous
//! local time (the repeated hour) maps to its earliest instant.
//!
//! Arithmetic walks day by day (never minute by minute) and looks at most
//! [`SEARCH_LIMIT_DAYS`] local dates past the start, so a calendar that is (almost) never open
//! cannot make it loop. A 24x7 calendar ([`Calendar::always_open`], or every day
//! `00:00-24:00` with no holidays) is exact plain UTC arithmetic with no limit.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

/// How many local dates past the start the business-time walk looks at (about ten years).
/// [`Calendar::add_business_time`] returns [`DateTime::<Utc>::MAX_UTC`] ("never") when the
/// duration is not used up within them, and [`Calendar::business_time_between`] counts only
/// windows on those dates.
pub const SEARCH_LIMIT_DAYS: u64 = 3660;

/// The configuration keys of the weekdays, index 0 = Monday … 6 = Sunday.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const DAY_NAMES: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// Working hours of one weekday, local time, `start < end` (no overnight windows in v1).
///
/// `end == 00:00` means midnight at the end of the day (written `24:00`), so
/// `00:00-24:00` (`start == end == 00:00`, [`WorkingHours::ALL_DAY`]) is the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkingHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WorkingHours {
    /// `00:00-24:00`.
    pub const ALL_DAY: WorkingHours = WorkingHours { start: NaiveTime::MIN, end: NaiveTime::MIN };

    /// Whether `end` is midnight at the end of the day (`24:00`).
    pub fn ends_at_midnight(&self) -> bool {
        self.end == NaiveTime::MIN
    }

    /// Whether the window is non-empty: `start < end`, or it ends at `24:00`.
    pub fn is_valid(&self) -> bool {
        self.start < self.end || self.ends_at_midnight()
    }

    /// Whether this is `00:00-24:00`.
    pub fn is_all_day(&self) -> bool {
        *self == Self::ALL_DAY
    }
}

impl fmt::Display for WorkingHours {
    /// `09:00-17:30`, `00:00-24:00`; seconds only when not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn time(t: NaiveTime) -> String {
            if t.second() == 0 && t.nanosecond() == 0 {
                t.format("%H:%M").to_string()
            } else {
                t.format("%H:%M:%S").to_string()
            }
        }
        let end = if self.ends_at_midnight() { "24:00".to_owned() } else { time(self.end) };
        write!(f, "{}-{end}", time(self.start))
    }
}

/// What is wrong with a working-hours string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursProblem {
    /// Not of the form `HH:MM-HH:MM`.
    Malformed,
    /// The window is empty or overnight.
    StartNotBeforeEnd,
}

impl fmt::Display for HoursProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HoursProblem::Malformed => "expected HH:MM-HH:MM, e.g. 09:00-17:30",
            HoursProblem::StartNotBeforeEnd => "start must be before end (no overnight hours)",
        })
    }
}

/// Why a calendar or its working hours are not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working hours {raw:?}: {problem}")]
    InvalidHours { raw: String, problem: HoursProblem },
    /// Hours of one day; `day` is the key as written (or `mon`…`sun` from [`Calendar::new`]).
    #[error("working hours for {day} ({raw:?}): {problem}")]
    InvalidDay { day: String, raw: String, problem: HoursProblem },
    #[error("unknown day {key:?} in working hours (expected mon, tue, wed, thu, fri, sat or sun)")]
    UnknownDay { key: String },
    #[error("day {key:?} is given more than once in working hours")]
    DuplicateDay { key: String },
    #[error("working hours have no open day")]
    NeverOpen,
}

/// An open window crossed by a business-time walk, clipped to the part that was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedWindow {
    /// The local date (in the calendar's zone) whose working hours this window is.
    pub local_date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// `to - from`.
    pub counted: Duration,
}

/// Business hours in a time zone. Build it with [`Calendar::new`], [`Calendar::from_weekly`]
/// or [`Calendar::always_open`]; the fields are public for reading, and a hand-built calendar
/// with invalid windows treats those days as closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub time_zone: Tz,
    /// Index 0 = Monday … 6 = Sunday; None = closed all day.
    pub week: [Option<WorkingHours>; 7],
    /// Local dates closed all day.
    pub holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A validated calendar: every window non-empty and at least one open weekday.
    pub fn new(
        time_zone: Tz,
        week: [Option<WorkingHours>; 7],
        holidays: BTreeSet<NaiveDate>,
    ) -> Result<Calendar, CalendarError> {
        for (index, hours) in week.iter().enumerate() {
            if let Some(hours) = hours
                && !hours.is_valid()
            {
                return Err(CalendarError::InvalidDay {
                    day: DAY_KEYS[index].to_owned(),
                    raw: hours.to_string(),
                    problem: HoursProblem::StartNotBeforeEnd,
                });
            }
        }
        if week.iter().all(Option::is_none) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(Calendar { time_zone, week, holidays })
    }

    /// 24x7: every day `00:00-24:00`, no holidays; arithmetic is plain UTC addition.
    pub fn always_open(time_zone: Tz) -> Calendar {
        Calendar { time_zone, week: [Some(WorkingHours::ALL_DAY); 7], holidays: BTreeSet::new() }
    }

    /// Builds a calendar from configuration: keys `mon` … `sun` (or `monday` … `sunday`, any
    /// case), values `"09:00-17:30"` or `"closed"`; a day not given is closed. Errors name the
    /// offending key as written.
    pub fn from_weekly(
        time_zone: Tz,
        hours: &BTreeMap<String, String>,
        holidays: &[NaiveDate],
    ) -> Result<Calendar, CalendarError> {
        let mut week: [Option<WorkingHours>; 7] = [None; 7];
        let mut seen = [false; 7];
        for (key, raw) in hours {
            let normalized = key.trim().to_ascii_lowercase();
            let Some(index) = DAY_KEYS
                .iter()
                .position(|k| *k == normalized)
                .or_else(|| DAY_NAMES.iter().position(|k| *k == normalized))
            else {
                return Err(CalendarError::UnknownDay { key: key.clone() });
            };
            if std::mem::replace(&mut seen[index], true) {
                return Err(CalendarError::DuplicateDay { key: key.clone() });
            }
            if raw.trim().eq_ignore_ascii_case("closed") {
                continue;
            }
            week[index] = Some(parse_window(raw).map_err(|problem| CalendarError::InvalidDay {
                day: key.clone(),
                raw: raw.clone(),
                problem,
            })?);
        }
        Calendar::new(time_zone, week, holidays.iter().copied().collect())
    }

    /// Parses `"09:00-17:30"` style windows (`H:MM` or `HH:MM`, spaces around `-` allowed,
    /// end may be `24:00`).
    pub fn parse_hours(raw: &str) -> Result<WorkingHours, CalendarError> {
        parse_window(raw)
            .map_err(|problem| CalendarError::InvalidHours { raw: raw.to_owned(), problem })
    }

    /// Whether every day is `00:00-24:00` and there are no holidays.
    pub fn is_always_open(&self) -> bool {
        self.holidays.is_empty() && self.week.iter().all(|h| h.is_some_and(|h| h.is_all_day()))
    }

    /// The local date of an instant in the calendar's zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        let utc = at.naive_utc();
        let offset = self.time_zone.offset_from_utc_datetime(&utc).fix();
        utc.checked_add_offset(offset).map_or(utc.date(), |local| local.date())
    }

    /// The working hours that apply on a local date: None on a holiday, a closed weekday, or
    /// when the configured window is invalid.
    pub fn hours_on(&self, date: NaiveDate) -> Option<WorkingHours> {
        if self.holidays.contains(&date) {
            return None;
        }
        self.week[date.weekday().num_days_from_monday() as usize].filter(WorkingHours::is_valid)
    }

    /// The open window of a local date as UTC instants `[open, close)`, None when closed or
    /// when daylight saving leaves nothing of it.
    pub fn window_on(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let hours = self.hours_on(date)?;
        let open = resolve_local(self.time_zone, date.and_time(hours.start))?;
        let close = if hours.ends_at_midnight() {
            resolve_local(self.time_zone, date.succ_opt()?.and_time(NaiveTime::MIN))?
        } else {
            resolve_local(self.time_zone, date.and_time(hours.end))?
        };
        (close > open).then_some((open, close))
    }

    /// Whether `at` is inside an open window (open time inclusive, close time exclusive).
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        if self.is_always_open() {
            return true;
        }
        let date = self.local_date(at);
        [date.pred_opt(), Some(date)]
            .into_iter()
            .flatten()
            .filter_map(|d| self.window_on(d))
            .any(|(open, close)| open <= at && at < close)
    }

    /// The instant when `duration` of business time has elapsed after `start`: the earliest
    /// such instant, so it may be a window's close. Returns `start` for a zero or negative
    /// duration (even when closed), and [`DateTime::<Utc>::MAX_UTC`] when the duration is not
    /// used up within [`SEARCH_LIMIT_DAYS`].
    pub fn add_business_time(&self, start: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        if duration <= Duration::zero() {
            return start;
        }
        if self.is_always_open() {
            return start.checked_add_signed(duration).unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        let mut remaining = duration;
        for window in self.windows_from(start) {
            if remaining <= window.counted {
                return window.from + remaining;
            }
            remaining -= window.counted;
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// Business time between two instants (zero if `b <= a`). Only windows on the first
    /// [`SEARCH_LIMIT_DAYS`] local dates from `a` count (except 24x7, which is exact).
    pub fn business_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        if b <= a {
            return Duration::zero();
        }
        if self.is_always_open() {
            return b - a;
        }
        self.windows_between(a, b).iter().fold(Duration::zero(), |sum, w| sum + w.counted)
    }

    /// The open windows that `add_business_time(start, duration)` crosses, each clipped to the
    /// part counted; the counted parts add up to `duration` (unless the search limit is hit).
    /// Empty for a zero or negative duration. A 24x7 calendar yields one window per local day.
    pub fn windows_crossed(&self, start: DateTime<Utc>, duration: Duration) -> Vec<CountedWindow> {
        let mut crossed = Vec::new();
        let mut remaining = duration;
        if remaining <= Duration::zero() {
            return crossed;
        }
        for mut window in self.windows_from(start) {
            if remaining <= window.counted {
                window.to = window.from + remaining;
                window.counted = remaining;
                crossed.push(window);
                break;
            }
            remaining -= window.counted;
            crossed.push(window);
        }
        crossed
    }

    /// The open windows inside `[a, b)`, each clipped to it (within [`SEARCH_LIMIT_DAYS`]).
    pub fn windows_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Vec<CountedWindow> {
        self.windows_from(a)
            .take_while(|w| w.from < b)
            .map(|mut w| {
                if w.to > b {
                    w.to = b;
                    w.counted = b - w.from;
                }
                w
            })
            .collect()
    }

    /// Non-empty windows from `from` on, clipped to start at `from`, in order.
    fn windows_from(&self, from: DateTime<Utc>) -> Windows<'_> {
        let local = self.local_date(from);
        // A window of the previous local date can still be open (it may end at 24:00).
        let first = local.pred_opt().unwrap_or(local);
        let last =
            local.checked_add_days(chrono::Days::new(SEARCH_LIMIT_DAYS)).unwrap_or(NaiveDate::MAX);
        Windows { calendar: self, next: Some(first), last, from }
    }
}

/// Iterator over the open windows of consecutive local dates.
struct Windows<'a> {
    calendar: &'a Calendar,
    next: Option<NaiveDate>,
    last: NaiveDate,
    from: DateTime<Utc>,
}

impl Iterator for Windows<'_> {
    type Item = CountedWindow;

    fn next(&mut self) -> Option<CountedWindow> {
        loop {
            let date = self.next.filter(|d| *d <= self.last)?;
            self.next = date.succ_opt();
            let Some((open, close)) = self.calendar.window_on(date) else { continue };
            let from = open.max(self.from);
            if close > from {
                return Some(CountedWindow {
                    local_date: date,
                    from,
                    to: close,
                    counted: close - from,
                });
            }
        }
    }
}

/// Parses `HH:MM-HH:MM`.
fn parse_window(raw: &str) -> Result<WorkingHours, HoursProblem> {
    let (start, end) = raw.trim().split_once('-').ok_or(HoursProblem::Malformed)?;
    let start = parse_time(start.trim(), false).ok_or(HoursProblem::Malformed)?;
    let end = parse_time(end.trim(), true).ok_or(HoursProblem::Malformed)?;
    let hours = WorkingHours { start, end };
    if hours.is_valid() { Ok(hours) } else { Err(HoursProblem::StartNotBeforeEnd) }
}

/// Parses `H:MM` / `HH:MM`; `24:00` (as 00:00) only when `is_end`.
fn parse_time(raw: &str, is_end: bool) -> Option<NaiveTime> {
    let (h, m) = raw.split_once(':')?;
    let digits = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (h, m) = (digits(h, 2)?, digits(m, 2).filter(|_| m.len() == 2)?);
    if is_end && h == 24 && m == 0 {
        return Some(NaiveTime::MIN);
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// The instant of a local time in `tz`: the earliest one when ambiguous, the first instant
/// that exists after it when it falls in a gap. None only at the edges of chrono's range.
fn resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.to_utc()),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).to_utc()),
        LocalResult::None => first_after_gap(tz, local),
    }
}

/// The first existing local time after `local` (which is in a gap), as an instant. Gap edges
/// are whole seconds, so a search over whole seconds from the truncated time is exact.
fn first_after_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let exists = |t: NaiveDateTime| !matches!(tz.from_local_datetime(&t), LocalResult::None);
    let base = local.with_nanosecond(0)?;
    // Gaps are at most a day long (Samoa skipped 2011-12-30); look two days ahead by hours.
    let mut lo: i64 = 0;
    let mut hi = (1..=48i64)
        .map(|h| h * 3600)
        .find(|s| base.checked_add_signed(Duration::seconds(*s)).is_some_and(exists))?;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if base.checked_add_signed(Duration::seconds(mid)).is_some_and(exists) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    match tz.from_local_datetime(&base.checked_add_signed(Duration::seconds(hi))?) {
        LocalResult::Single(t) => Some(t.to_utc()),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).to_utc()),
        LocalResult::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn h(hours: i64) -> Duration {
        Duration::hours(hours)
    }

    fn m(minutes: i64) -> Duration {
        Duration::minutes(minutes)
    }

    fn hours(raw: &str) -> WorkingHours {
        Calendar::parse_hours(raw).unwrap()
    }

    fn weekly(tz: Tz, days: &[(&str, &str)], holidays: &[&str]) -> Calendar {
        let map = days.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let holidays: Vec<NaiveDate> = holidays.iter().map(|d| date(d)).collect();
        Calendar::from_weekly(tz, &map, &holidays).unwrap()
    }

    /// Monday to Friday 09:00-17:00.
    fn office(tz: Tz) -> Calendar {
        let days: Vec<(&str, &str)> = DAY_KEYS[..5].iter().map(|d| (*d, "09:00-17:00")).collect();
        weekly(tz, &days, &[])
    }

    /// Every day with the same hours.
    fn daily(tz: Tz, window: &str) -> Calendar {
        let days: Vec<(&str, &str)> = DAY_KEYS.iter().map(|d| (*d, window)).collect();
        weekly(tz, &days, &[])
    }

    const LONDON: Tz = chrono_tz::Europe::London;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    #[test]
    fn the_2026_test_dates_fall_on_the_expected_weekdays() {
        use chrono::Weekday::*;
        assert_eq!(date("2026-01-05").weekday(), Mon);
        assert_eq!(date("2026-01-09").weekday(), Fri);
        assert_eq!(date("2026-03-08").weekday(), Sun);
        assert_eq!(date("2026-03-29").weekday(), Sun);
        assert_eq!(date("2026-10-25").weekday(), Sun);
        assert_eq!(date("2026-11-01").weekday(), Sun);
    }

    #[test]
    fn hours_parse_with_and_without_leading_zeros_and_24_00() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let half_five = NaiveTime::from_hms_opt(17, 30, 0).unwrap();
        assert_eq!(hours("09:00-17:30"), WorkingHours { start: nine, end: half_five });
        assert_eq!(hours(" 9:00 - 17:30 "), WorkingHours { start: nine, end: half_five });
        assert_eq!(hours("00:00-24:00"), WorkingHours::ALL_DAY);
        assert_eq!(hours("18:00-24:00").to_string(), "18:00-24:00");
        assert_eq!(hours("09:00-17:30").to_string(), "09:00-17:30");
    }

    #[test]
    fn malformed_or_overnight_hours_are_refused() {
        for raw in ["", "9-17", "09:00", "09:00-", "09:0-17:00", "25:00-26:00", "09:60-10:00"] {
            assert_eq!(
                Calendar::parse_hours(raw),
                Err(CalendarError::InvalidHours {
                    raw: raw.to_owned(),
                    problem: HoursProblem::Malformed
                }),
                "{raw:?}"
            );
        }
        assert_eq!(
            Calendar::parse_hours("24:00-24:00"),
            Err(CalendarError::InvalidHours {
                raw: "24:00-24:00".to_owned(),
                problem: HoursProblem::Malformed
            })
        );
        for raw in ["17:00-09:00", "09:00-09:00", "22:00-02:00"] {
            assert_eq!(
                Calendar::parse_hours(raw),
                Err(CalendarError::InvalidHours {
                    raw: raw.to_owned(),
                    problem: HoursProblem::StartNotBeforeEnd
                }),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn weekly_configuration_errors_name_the_day_key() {
        let build = |pairs: &[(&str, &str)]| {
            let map: BTreeMap<String, String> =
                pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Calendar::from_weekly(LONDON, &map, &[])
        };
        let err = build(&[("mon", "09:00-17:00"), ("tue", "nine to five")]).unwrap_err();
        assert_eq!(
            err,
            CalendarError::InvalidDay {
                day: "tue".into(),
                raw: "nine to five".into(),
                problem: HoursProblem::Malformed
            }
        );
        assert!(err.to_string().contains("tue"), "{err}");
        assert_eq!(
            build(&[("Wed", "17:00-09:00")]).unwrap_err(),
            CalendarError::InvalidDay {
                day: "Wed".into(),
                raw: "17:00-09:00".into(),
                problem: HoursProblem::StartNotBeforeEnd
            }
        );
        assert_eq!(
            build(&[("funday", "09:00-17:00")]).unwrap_err(),
            CalendarError::UnknownDay { key: "funday".into() }
        );
        assert_eq!(
            build(&[("mon", "09:00-17:00"), ("monday", "10:00-11:00")]).unwrap_err(),
            CalendarError::DuplicateDay { key: "monday".into() }
        );
        assert_eq!(build(&[]).unwrap_err(), CalendarError::NeverOpen);
        assert_eq!(build(&[("sat", "closed")]).unwrap_err(), CalendarError::NeverOpen);
    }

    #[test]
    fn weekly_configuration_accepts_full_names_closed_days_and_holidays() {
        let calendar = weekly(
            LONDON,
            &[("Monday", "09:00-17:30"), ("tue", "closed"), ("fri", "10:00-12:00")],
            &["2026-01-05"],
        );
        assert_eq!(calendar.week[0], Some(hours("09:00-17:30")));
        assert_eq!(calendar.week[1], None);
        assert_eq!(calendar.week[4], Some(hours("10:00-12:00")));
        assert_eq!(calendar.week[6], None);
        assert!(calendar.holidays.contains(&date("2026-01-05")));
        assert!(!calendar.is_always_open());
    }

    #[test]
    fn a_week_without_an_open_day_or_with_an_empty_window_is_refused() {
        assert_eq!(
            Calendar::new(LONDON, [None; 7], BTreeSet::new()),
            Err(CalendarError::NeverOpen)
        );
        let backwards = WorkingHours {
            start: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        };
        let mut week = [None; 7];
        week[2] = Some(backwards);
        assert_eq!(
            Calendar::new(LONDON, week, BTreeSet::new()),
            Err(CalendarError::InvalidDay {
                day: "wed".into(),
                raw: "17:00-09:00".into(),
                problem: HoursProblem::StartNotBeforeEnd
            })
        );
    }

    #[test]
    fn time_inside_a_window_adds_within_the_same_day() {
        let calendar = office(LONDON);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T10:00:00Z"), h(2)),
            utc("2026-01-05T12:00:00Z")
        );
    }

    #[test]
    fn friday_afternoon_plus_two_hours_lands_on_monday_morning() {
        let calendar = office(LONDON);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-09T16:00:00Z"), h(2)),
            utc("2026-01-12T10:00:00Z")
        );
        assert_eq!(
            calendar.windows_crossed(utc("2026-01-09T16:00:00Z"), h(2)),
            vec![
                CountedWindow {
                    local_date: date("2026-01-09"),
                    from: utc("2026-01-09T16:00:00Z"),
                    to: utc("2026-01-09T17:00:00Z"),
                    counted: h(1),
                },
                CountedWindow {
                    local_date: date("2026-01-12"),
                    from: utc("2026-01-12T09:00:00Z"),
                    to: utc("2026-01-12T10:00:00Z"),
                    counted: h(1),
                },
            ]
        );
    }

    #[test]
    fn a_start_on_the_weekend_counts_from_monday_opening() {
        let calendar = office(LONDON);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-10T12:00:00Z"), m(30)),
            utc("2026-01-12T09:30:00Z")
        );
    }

    #[test]
    fn a_start_before_opening_counts_from_opening() {
        let calendar = office(LONDON);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T07:00:00Z"), h(1)),
            utc("2026-01-05T10:00:00Z")
        );
    }

    #[test]
    fn a_start_after_or_at_closing_counts_from_the_next_opening() {
        let calendar = office(LONDON);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T18:00:00Z"), h(1)),
            utc("2026-01-06T10:00:00Z")
        );
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T17:00:00Z"), h(1)),
            utc("2026-01-06T10:00:00Z")
        );
    }

    #[test]
    fn a_duration_ending_exactly_at_closing_returns_the_closing_instant() {
        let calendar = office(LONDON);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-09T16:00:00Z"), h(1)),
            utc("2026-01-09T17:00:00Z")
        );
    }

    #[test]
    fn multi_day_durations_skip_nights_and_weekends() {
        let calendar = office(LONDON);
        // 20h from Thursday 13:00: Thu 4h, Fri 8h, Mon 8h -> Monday 17:00.
        assert_eq!(
            calendar.add_business_time(utc("2026-01-08T13:00:00Z"), h(20)),
            utc("2026-01-12T17:00:00Z")
        );
        assert_eq!(
            calendar
                .business_time_between(utc("2026-01-08T13:00:00Z"), utc("2026-01-12T17:00:00Z")),
            h(20)
        );
    }

    #[test]
    fn a_holiday_is_skipped_like_a_weekend() {
        let days: Vec<(&str, &str)> = DAY_KEYS[..5].iter().map(|d| (*d, "09:00-17:00")).collect();
        let calendar = weekly(LONDON, &days, &["2026-01-06"]);
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T16:00:00Z"), h(2)),
            utc("2026-01-07T10:00:00Z")
        );
        assert!(!calendar.is_open_at(utc("2026-01-06T12:00:00Z")));
        assert_eq!(
            calendar
                .business_time_between(utc("2026-01-06T00:00:00Z"), utc("2026-01-07T00:00:00Z")),
            Duration::zero()
        );
    }

    #[test]
    fn holidays_are_local_dates_in_the_calendar_zone() {
        // Tokyo Tuesday 2026-01-06 is a holiday; its window 09:00-17:00 JST is 00:00-08:00Z.
        let tokyo = chrono_tz::Asia::Tokyo;
        let days: Vec<(&str, &str)> = DAY_KEYS[..5].iter().map(|d| (*d, "09:00-17:00")).collect();
        let calendar = weekly(tokyo, &days, &["2026-01-06"]);
        // Monday 16:00 JST (07:00Z) + 2h -> 1h Monday, 1h Wednesday 09:00-10:00 JST.
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T07:00:00Z"), h(2)),
            utc("2026-01-07T01:00:00Z")
        );
    }

    #[test]
    fn is_open_at_includes_opening_and_excludes_closing() {
        let calendar = office(LONDON);
        assert!(!calendar.is_open_at(utc("2026-01-05T08:59:59Z")));
        assert!(calendar.is_open_at(utc("2026-01-05T09:00:00Z")));
        assert!(calendar.is_open_at(utc("2026-01-05T16:59:59Z")));
        assert!(!calendar.is_open_at(utc("2026-01-05T17:00:00Z")));
        assert!(!calendar.is_open_at(utc("2026-01-10T12:00:00Z")));
    }

    #[test]
    fn a_window_ending_at_midnight_carries_across_the_local_date_change() {
        // New York evenings 18:00-24:00 every day; EST is UTC-5, so 23:00Z-05:00Z.
        let calendar = daily(NEW_YORK, "18:00-24:00");
        // Monday 22:00 EST (Tue 03:00Z) + 3h: 2h to midnight, then 1h from Tuesday 18:00.
        assert_eq!(
            calendar.add_business_time(utc("2026-01-06T03:00:00Z"), h(3)),
            utc("2026-01-07T00:00:00Z")
        );
        assert!(calendar.is_open_at(utc("2026-01-06T04:59:59Z")));
        assert!(!calendar.is_open_at(utc("2026-01-06T05:00:00Z")));
    }

    #[test]
    fn weekday_all_day_hours_cross_midnight_but_not_into_the_weekend() {
        let days: Vec<(&str, &str)> = DAY_KEYS[..5].iter().map(|d| (*d, "00:00-24:00")).collect();
        let calendar = weekly(LONDON, &days, &[]);
        assert!(!calendar.is_always_open());
        assert_eq!(
            calendar.add_business_time(utc("2026-01-05T23:00:00Z"), h(2)),
            utc("2026-01-06T01:00:00Z")
        );
        assert_eq!(
            calendar.add_business_time(utc("2026-01-09T23:00:00Z"), h(2)),
            utc("2026-01-12T01:00:00Z")
        );
    }

    #[test]
    fn london_spring_forward_day_still_has_eight_business_hours() {
        let calendar = daily(LONDON, "09:00-17:00");
        // Saturday 2026-03-28 is GMT (09:00Z-17:00Z); Sunday 03-29 is BST (08:00Z-16:00Z).
        assert_eq!(
            calendar.window_on(date("2026-03-28")),
            Some((utc("2026-03-28T09:00:00Z"), utc("2026-03-28T17:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-03-29")),
            Some((utc("2026-03-29T08:00:00Z"), utc("2026-03-29T16:00:00Z")))
        );
        assert_eq!(
            calendar
                .business_time_between(utc("2026-03-29T00:00:00Z"), utc("2026-03-30T00:00:00Z")),
            h(8)
        );
        assert_eq!(
            calendar.add_business_time(utc("2026-03-28T16:00:00Z"), h(2)),
            utc("2026-03-29T09:00:00Z")
        );
    }

    #[test]
    fn london_fall_back_day_still_has_eight_business_hours() {
        let calendar = daily(LONDON, "09:00-17:00");
        assert_eq!(
            calendar.window_on(date("2026-10-24")),
            Some((utc("2026-10-24T08:00:00Z"), utc("2026-10-24T16:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-10-25")),
            Some((utc("2026-10-25T09:00:00Z"), utc("2026-10-25T17:00:00Z")))
        );
        assert_eq!(
            calendar.add_business_time(utc("2026-10-24T15:00:00Z"), h(9)),
            utc("2026-10-25T17:00:00Z")
        );
    }

    #[test]
    fn new_york_spring_forward_and_fall_back_days_keep_eight_hours() {
        let calendar = daily(NEW_YORK, "09:00-17:00");
        assert_eq!(
            calendar.window_on(date("2026-03-07")),
            Some((utc("2026-03-07T14:00:00Z"), utc("2026-03-07T22:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-03-08")),
            Some((utc("2026-03-08T13:00:00Z"), utc("2026-03-08T21:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-10-31")),
            Some((utc("2026-10-31T13:00:00Z"), utc("2026-10-31T21:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-11-01")),
            Some((utc("2026-11-01T14:00:00Z"), utc("2026-11-01T22:00:00Z")))
        );
        // Saturday 21:00Z (16:00 EST) + 2h -> 1h Saturday, 1h Sunday from 09:00 EDT.
        assert_eq!(
            calendar.add_business_time(utc("2026-03-07T21:00:00Z"), h(2)),
            utc("2026-03-08T14:00:00Z")
        );
        // Saturday 20:00Z (16:00 EDT) + 2h -> Sunday 10:00 EST.
        assert_eq!(
            calendar.add_business_time(utc("2026-10-31T20:00:00Z"), h(2)),
            utc("2026-11-01T15:00:00Z")
        );
    }

    #[test]
    fn a_window_edge_in_the_skipped_hour_moves_forward_to_the_first_valid_instant() {
        // London skips 01:00-02:00 on 2026-03-29: 01:30 does not exist, it becomes 02:00 BST.
        let calendar = daily(LONDON, "01:30-03:00");
        assert_eq!(
            calendar.window_on(date("2026-03-29")),
            Some((utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-03-28")),
            Some((utc("2026-03-28T01:30:00Z"), utc("2026-03-28T03:00:00Z")))
        );
        // New York skips 02:00-03:00 on 2026-03-08; a window 02:00-03:00 vanishes that day.
        let calendar = daily(NEW_YORK, "02:00-03:00");
        assert_eq!(calendar.window_on(date("2026-03-08")), None);
        assert_eq!(
            calendar.add_business_time(utc("2026-03-07T07:30:00Z"), h(1)),
            utc("2026-03-09T06:30:00Z")
        );
        // An end in the gap moves forward too: 01:30-02:30 is 01:30 EST to 03:00 EDT.
        let calendar = daily(NEW_YORK, "01:30-02:30");
        assert_eq!(
            calendar.window_on(date("2026-03-08")),
            Some((utc("2026-03-08T06:30:00Z"), utc("2026-03-08T07:00:00Z")))
        );
    }

    #[test]
    fn a_window_edge_in_the_repeated_hour_takes_the_earliest_instant() {
        // London repeats 01:00-02:00 on 2026-10-25 (first BST, then GMT).
        let calendar = daily(LONDON, "01:30-03:00");
        assert_eq!(
            calendar.window_on(date("2026-10-25")),
            Some((utc("2026-10-25T00:30:00Z"), utc("2026-10-25T03:00:00Z")))
        );
        let calendar = daily(LONDON, "00:30-01:30");
        assert_eq!(
            calendar.window_on(date("2026-10-25")),
            Some((utc("2026-10-24T23:30:00Z"), utc("2026-10-25T00:30:00Z")))
        );
        // New York repeats 01:00-02:00 on 2026-11-01 (first EDT, then EST).
        let calendar = daily(NEW_YORK, "01:30-03:00");
        assert_eq!(
            calendar.window_on(date("2026-11-01")),
            Some((utc("2026-11-01T05:30:00Z"), utc("2026-11-01T08:00:00Z")))
        );
    }

    #[test]
    fn all_day_hours_on_dst_days_are_23_and_25_hours() {
        let mut calendar = daily(LONDON, "00:00-24:00");
        calendar.holidays.insert(date("2026-12-25"));
        assert!(!calendar.is_always_open());
        let between = |a, b| calendar.business_time_between(utc(a), utc(b));
        assert_eq!(between("2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z"), h(48));
        assert_eq!(
            calendar.window_on(date("2026-03-29")),
            Some((utc("2026-03-29T00:00:00Z"), utc("2026-03-29T23:00:00Z")))
        );
        assert_eq!(
            calendar.window_on(date("2026-10-25")),
            Some((utc("2026-10-24T23:00:00Z"), utc("2026-10-26T00:00:00Z")))
        );
    }

    #[test]
    fn always_open_is_plain_utc_arithmetic_across_dst() {
        let calendar = Calendar::always_open(NEW_YORK);
        assert!(calendar.is_always_open());
        assert!(calendar.is_open_at(utc("2026-03-08T07:30:00Z")));
        assert_eq!(
            calendar.add_business_time(utc("2026-03-07T20:00:00Z"), h(24)),
            utc("2026-03-08T20:00:00Z")
        );
        assert_eq!(
            calendar
                .business_time_between(utc("2026-10-31T12:00:00Z"), utc("2026-11-01T12:00:00Z")),
            h(24)
        );
        let windows = calendar.windows_crossed(utc("2026-03-07T20:00:00Z"), h(24));
        assert_eq!(windows.iter().fold(Duration::zero(), |s, w| s + w.counted), h(24));
        assert_eq!(windows.last().unwrap().to, utc("2026-03-08T20:00:00Z"));
        assert_eq!(
            windows.iter().map(|w| w.local_date).collect::<Vec<_>>(),
            vec![date("2026-03-07"), date("2026-03-08")]
        );
    }

    #[test]
    fn all_day_every_day_from_configuration_is_always_open() {
        let calendar = daily(LONDON, "00:00-24:00");
        assert!(calendar.is_always_open());
        assert_eq!(calendar, Calendar::always_open(LONDON));
    }

    #[test]
    fn the_day_walk_agrees_with_plain_arithmetic_for_an_all_day_calendar() {
        // A holiday far away makes the calendar not "always open", forcing the day walk.
        let mut walked = Calendar::always_open(LONDON);
        walked.holidays.insert(date("2030-01-01"));
        let exact = Calendar::always_open(LONDON);
        let mut start = utc("2026-03-27T00:17:00Z");
        while start < utc("2026-04-01T00:00:00Z") {
            for d in [m(1), h(5), h(23), h(49)] {
                assert_eq!(walked.add_business_time(start, d), exact.add_business_time(start, d));
            }
            start += m(97);
        }
    }

    #[test]
    fn zero_or_negative_duration_returns_the_start_even_when_closed() {
        let calendar = office(LONDON);
        let saturday = utc("2026-01-10T12:00:00Z");
        assert_eq!(calendar.add_business_time(saturday, Duration::zero()), saturday);
        assert_eq!(calendar.add_business_time(saturday, -h(3)), saturday);
        assert!(calendar.windows_crossed(saturday, Duration::zero()).is_empty());
    }

    #[test]
    fn business_time_between_is_zero_for_reversed_or_equal_instants() {
        let calendar = office(LONDON);
        let a = utc("2026-01-05T10:00:00Z");
        assert_eq!(calendar.business_time_between(a, a), Duration::zero());
        assert_eq!(calendar.business_time_between(a, a - h(1)), Duration::zero());
    }

    #[test]
    fn a_hand_built_never_open_calendar_gives_never_instead_of_looping() {
        let calendar = Calendar { time_zone: LONDON, week: [None; 7], holidays: BTreeSet::new() };
        let start = utc("2026-01-05T10:00:00Z");
        assert_eq!(calendar.add_business_time(start, m(1)), DateTime::<Utc>::MAX_UTC);
        assert_eq!(calendar.business_time_between(start, start + h(24 * 365)), Duration::zero());
        assert!(calendar.windows_crossed(start, m(1)).is_empty());
        assert!(!calendar.is_open_at(start));
    }

    #[test]
    fn durations_beyond_the_search_limit_give_never() {
        let calendar = office(LONDON);
        let start = utc("2026-01-05T10:00:00Z");
        // 8h a day, ~5/7 of days: 100,000 hours needs far more than 3660 days.
        assert_eq!(calendar.add_business_time(start, h(100_000)), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let calendars = [office(chrono_tz::Pacific::Kiritimati), Calendar::always_open(LONDON)];
        for calendar in &calendars {
            for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
                let _ = calendar.is_open_at(at);
                let _ = calendar.add_business_time(at, h(1));
                let _ = calendar.business_time_between(at, DateTime::<Utc>::MAX_UTC);
                let _ = calendar.windows_crossed(at, h(1));
            }
        }
    }

    #[test]
    fn business_time_between_inverts_add_business_time_over_many_starts() {
        let calendars = [
            office(LONDON),
            daily(LONDON, "01:30-03:00"),
            daily(NEW_YORK, "18:00-24:00"),
            daily(NEW_YORK, "02:00-03:00"),
            weekly(
                NEW_YORK,
                &[("mon", "08:00-12:00"), ("wed", "00:00-24:00"), ("sat", "10:30-11:15")],
                &["2026-03-11", "2026-11-04"],
            ),
        ];
        let durations = [m(1), m(45), h(3), h(8), h(13), h(40)];
        for calendar in &calendars {
            // Starts every 3h07m across both DST changes of 2026 (and the days around them).
            for (first, last) in [
                ("2026-03-04T00:00:00Z", "2026-04-02T00:00:00Z"),
                ("2026-10-21T00:00:00Z", "2026-11-05T00:00:00Z"),
            ] {
                let mut start = utc(first);
                while start < utc(last) {
                    for d in durations {
                        let end = calendar.add_business_time(start, d);
                        assert!(end > start, "{start} + {d}");
                        assert_eq!(calendar.business_time_between(start, end), d, "{start} + {d}");
                        // The earliest such instant: a second less is not enough.
                        let before =
                            calendar.business_time_between(start, end - Duration::seconds(1));
                        assert!(before < d, "{start} + {d} = {end} is not the earliest");
                        let counted = calendar.windows_crossed(start, d);
                        assert_eq!(counted.iter().fold(Duration::zero(), |s, w| s + w.counted), d);
                        assert_eq!(counted.last().map(|w| w.to), Some(end));
                        // And add inverts between.
                        let b = start + d * 3;
                        let elapsed = calendar.business_time_between(start, b);
                        let back = calendar.add_business_time(start, elapsed);
                        assert!(back <= b, "{start} .. {b}");
                        assert_eq!(calendar.business_time_between(start, back), elapsed);
                    }
                    start += h(3) + m(7);
                }
            }
        }
    }
}
