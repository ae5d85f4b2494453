//! SLA clocks: a target of business time on a [`Calendar`], paused while waiting on the
//! customer, stopped when acknowledged or resolved.
//!
//! The clock starts at `started`. Business time counts only inside the calendar's open
//! windows and outside pauses. `due` is the earliest instant at which the counted time reaches
//! the target; `at_risk_at` the earliest at which it reaches `at_risk_fraction × target`.
//!
//! Pauses are normalised before use: a pause is clipped so it starts no earlier than
//! `started`, empty or reversed pauses are ignored, and overlapping or touching pauses are
//! merged (an open pause, `end: None`, absorbs every pause after its start).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, CountedWindow};
use super::duration::format_duration;

/// Why an SLA target is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SlaError {
    #[error("SLA target must be greater than zero")]
    TargetNotPositive,
    #[error("at-risk fraction {fraction} must be greater than 0 and at most 1")]
    FractionOutOfRange { fraction: f64 },
}

/// How much business time is allowed, and from which fraction of it the clock is at risk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaTarget {
    pub target: Duration,
    /// `0 < f <= 1`; out-of-range values are clamped into `(0, 1]` when used (NaN = 1).
    pub at_risk_fraction: f64,
}

impl SlaTarget {
    /// A validated target: `target > 0` and `0 < at_risk_fraction <= 1`.
    pub fn new(target: Duration, at_risk_fraction: f64) -> Result<SlaTarget, SlaError> {
        if target <= Duration::zero() {
            return Err(SlaError::TargetNotPositive);
        }
        if !(at_risk_fraction > 0.0 && at_risk_fraction <= 1.0) {
            return Err(SlaError::FractionOutOfRange { fraction: at_risk_fraction });
        }
        Ok(SlaTarget { target, at_risk_fraction })
    }

    /// `at_risk_fraction × target`, to the millisecond.
    pub fn at_risk_after(&self) -> Duration {
        let fraction = if self.at_risk_fraction.is_nan() {
            1.0
        } else {
            self.at_risk_fraction.clamp(f64::MIN_POSITIVE, 1.0)
        };
        let millis = (self.target.num_milliseconds() as f64 * fraction).round();
        // The product is at most the target's own milliseconds, so the cast cannot overflow.
        Duration::milliseconds(millis as i64).min(self.target)
    }
}

/// A pause of the clock (waiting on customer): `[start, end)`; `end` None = still paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// Where a clock stands, independent of the current time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Counting (or waiting for the next open window); `due` may be in the past.
    Running { due: DateTime<Utc>, at_risk_at: DateTime<Utc> },
    /// An open pause: no due time. `remaining` = target − elapsed at the pause start, ≥ 0.
    Paused { remaining: Duration },
    /// Stopped at `at`; `met` when `at <= due`.
    Stopped { at: DateTime<Utc>, met: bool },
}

/// The state of a clock as seen at some `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    /// Running, before `at_risk_at`.
    OnTrack,
    /// Running, at or after `at_risk_at`, at or before `due`.
    AtRisk,
    /// Not stopped and after `due` (also while paused after the target was used up).
    Breached,
    /// Stopped at or before `due`.
    Met,
    /// Stopped after `due`.
    Missed,
    /// In an open pause with target time left.
    Paused,
}

impl SlaStatus {
    /// A stable key: `on_track`, `at_risk`, `breached`, `met`, `missed`, `paused`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SlaStatus::OnTrack => "on_track",
            SlaStatus::AtRisk => "at_risk",
            SlaStatus::Breached => "breached",
            SlaStatus::Met => "met",
            SlaStatus::Missed => "missed",
            SlaStatus::Paused => "paused",
        }
    }
}

impl std::fmt::Display for SlaStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Computes a clock started at `started` against `target` on `calendar`, excluding pauses,
/// stopped at `stopped` (e.g. acknowledged/resolved) if Some.
///
/// When stopped, pauses are cut at the stop (a pause still open then ends there) and the clock
/// is `met` when `stopped <= due`. Otherwise an open pause makes it `Paused`, even if the
/// target was used up before the pause (then `remaining` is zero).
pub fn clock_state(
    calendar: &Calendar,
    started: DateTime<Utc>,
    target: &SlaTarget,
    pauses: &[Pause],
    stopped: Option<DateTime<Utc>>,
) -> ClockState {
    if let Some(at) = stopped {
        let pauses = normalize(started, pauses, Some(at));
        let met = match reach(calendar, started, target.target, &pauses) {
            Reach::At(due) => at <= due,
            // Unreachable: every pause is closed at `at`. Time was left, so it was met.
            Reach::Paused => true,
        };
        return ClockState::Stopped { at, met };
    }
    let pauses = normalize(started, pauses, None);
    if let Some(open) = pauses.last().filter(|p| p.end.is_none()) {
        let used = elapsed_normalized(calendar, started, &pauses, open.start);
        return ClockState::Paused { remaining: (target.target - used).max(Duration::zero()) };
    }
    running(calendar, started, target, &pauses)
}

/// Elapsed business time (excluding pauses) at `now`: business time in `[started, now)` that
/// is not inside a pause. Zero when `now <= started`. Use
/// `elapsed / target` for the fraction of the target used.
pub fn elapsed(
    calendar: &Calendar,
    started: DateTime<Utc>,
    pauses: &[Pause],
    now: DateTime<Utc>,
) -> Duration {
    elapsed_normalized(calendar, started, &normalize(started, pauses, None), now)
}

/// The fraction of the target used at `now` (0 for a non-positive target); above 1 when over.
pub fn fraction_used(
    calendar: &Calendar,
    started: DateTime<Utc>,
    target: &SlaTarget,
    pauses: &[Pause],
    now: DateTime<Utc>,
) -> f64 {
    let target_ms = target.target.num_milliseconds();
    if target_ms <= 0 {
        return 0.0;
    }
    elapsed(calendar, started, pauses, now).num_milliseconds() as f64 / target_ms as f64
}

/// The status at `now`. Only what has happened by `now` counts: a stop after `now` is
/// ignored, a pause starting after `now` is ignored, and a pause ending after `now` is still
/// open. Breached (after `due`) wins over Paused, and Paused over AtRisk.
pub fn status_at(
    calendar: &Calendar,
    started: DateTime<Utc>,
    target: &SlaTarget,
    pauses: &[Pause],
    stopped: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaStatus {
    if let Some(at) = stopped.filter(|at| *at <= now) {
        return match clock_state(calendar, started, target, pauses, Some(at)) {
            ClockState::Stopped { met: false, .. } => SlaStatus::Missed,
            _ => SlaStatus::Met,
        };
    }
    let pauses = normalize(started, &as_known_at(pauses, now), None);
    let paused_now = pauses.last().is_some_and(|p| p.end.is_none());
    match reach(calendar, started, target.target, &pauses) {
        Reach::At(due) if now > due => SlaStatus::Breached,
        _ if paused_now => SlaStatus::Paused,
        Reach::At(_) => match reach(calendar, started, target.at_risk_after(), &pauses) {
            Reach::At(at_risk_at) if now < at_risk_at => SlaStatus::OnTrack,
            _ => SlaStatus::AtRisk,
        },
        // Not reached: only with an open pause, handled above.
        Reach::Paused => SlaStatus::Paused,
    }
}

/// A duration as whole seconds plus its compact text (`format_duration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedDuration {
    pub seconds: i64,
    pub text: String,
}

impl From<Duration> for ExplainedDuration {
    fn from(d: Duration) -> Self {
        ExplainedDuration { seconds: d.num_seconds(), text: format_duration(d) }
    }
}

/// An open window that counted toward the target (clipped to the counted part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedWindow {
    /// The calendar-local date whose working hours this is.
    pub local_date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub counted: ExplainedDuration,
}

impl From<CountedWindow> for ExplainedWindow {
    fn from(w: CountedWindow) -> Self {
        ExplainedWindow {
            local_date: w.local_date,
            from: w.from,
            to: w.to,
            counted: w.counted.into(),
        }
    }
}

/// A (normalised) pause and the business time it kept off the clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedPause {
    pub start: DateTime<Utc>,
    /// None while still paused at `now`.
    pub end: Option<DateTime<Utc>>,
    /// Business time inside the pause (up to `now` if it is still open).
    pub excluded: ExplainedDuration,
}

/// A structured explanation of a clock at `now`, for rendering or `--json`. Times are
/// RFC 3339 UTC; durations are `{ "seconds": …, "text": "1h 30m" }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// IANA name, e.g. `"Europe/London"`.
    pub time_zone: Tz,
    pub always_open: bool,
    pub started: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub target: ExplainedDuration,
    pub at_risk_fraction: f64,
    /// `at_risk_fraction × target`.
    pub at_risk_after: ExplainedDuration,
    /// Business time counted by `now`.
    pub elapsed: ExplainedDuration,
    /// `target − elapsed`, never negative.
    pub remaining: ExplainedDuration,
    pub status: SlaStatus,
    /// The windows counted toward the target, in order: up to `due`, or up to the start of the
    /// open pause when paused. Windows cut by a pause appear in parts.
    pub windows: Vec<ExplainedWindow>,
    /// Holidays (local dates) between the start and the end of `windows` that were skipped.
    pub holidays_skipped: Vec<NaiveDate>,
    pub pauses: Vec<ExplainedPause>,
    /// Start of the open pause, when paused at `now`.
    pub paused_since: Option<DateTime<Utc>>,
    /// None while paused.
    pub at_risk_at: Option<DateTime<Utc>>,
    /// None while paused.
    pub due: Option<DateTime<Utc>>,
}

/// Explains the clock at `now` (not stopped; pauses as known at `now`, as in [`status_at`]).
pub fn explain(
    calendar: &Calendar,
    started: DateTime<Utc>,
    target: &SlaTarget,
    pauses: &[Pause],
    now: DateTime<Utc>,
) -> Explanation {
    let pauses = normalize(started, &as_known_at(pauses, now), None);
    let elapsed = elapsed_normalized(calendar, started, &pauses, now);
    let status = status_at(calendar, started, target, &pauses, None, now);
    let (due, at_risk_at) = match clock_state(calendar, started, target, &pauses, None) {
        ClockState::Running { due, at_risk_at } => (Some(due), Some(at_risk_at)),
        _ => (None, None),
    };
    let windows = counted_windows(calendar, started, target.target, &pauses);
    let walk_end = windows.last().map_or(started, |w| w.to);
    let holidays_skipped = calendar
        .holidays
        .range(calendar.local_date(started)..=calendar.local_date(walk_end))
        .copied()
        .collect();
    let explained_pauses = pauses
        .iter()
        .map(|p| ExplainedPause {
            start: p.start,
            end: p.end,
            excluded: calendar.business_time_between(p.start, p.end.unwrap_or(now)).into(),
        })
        .collect();
    Explanation {
        time_zone: calendar.time_zone,
        always_open: calendar.is_always_open(),
        started,
        now,
        target: target.target.into(),
        at_risk_fraction: target.at_risk_fraction,
        at_risk_after: target.at_risk_after().into(),
        elapsed: elapsed.into(),
        remaining: (target.target - elapsed).max(Duration::zero()).into(),
        status,
        windows: windows.into_iter().map(ExplainedWindow::from).collect(),
        holidays_skipped,
        pauses: explained_pauses,
        paused_since: pauses.last().filter(|p| p.end.is_none()).map(|p| p.start),
        at_risk_at,
        due,
    }
}

/// Normalised pauses: sorted, disjoint, non-empty, starting at or after `started`; with `cut`,
/// nothing at or after it (pauses still open at `cut` end there).
fn normalize(started: DateTime<Utc>, pauses: &[Pause], cut: Option<DateTime<Utc>>) -> Vec<Pause> {
    let mut sorted: Vec<Pause> = pauses
        .iter()
        .filter_map(|p| {
            let start = p.start.max(started);
            let end = match (p.end, cut) {
                (Some(end), Some(cut)) => Some(end.min(cut)),
                (None, Some(cut)) => Some(cut),
                (end, None) => end,
            };
            match end {
                Some(end) if end <= start => None,
                _ => Some(Pause { start, end }),
            }
        })
        .collect();
    sorted.sort_by_key(|p| p.start);
    let mut merged: Vec<Pause> = Vec::with_capacity(sorted.len());
    for pause in sorted {
        match merged.last_mut() {
            Some(last) if last.end.is_none_or(|end| pause.start <= end) => {
                last.end = match (last.end, pause.end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(pause),
        }
    }
    merged
}

/// Pauses as known at `now`: those starting after `now` dropped, those ending after it open.
fn as_known_at(pauses: &[Pause], now: DateTime<Utc>) -> Vec<Pause> {
    pauses
        .iter()
        .filter(|p| p.start <= now)
        .map(|p| Pause { start: p.start, end: p.end.filter(|end| *end <= now) })
        .collect()
}

/// Elapsed business time at `now` with normalised pauses.
fn elapsed_normalized(
    calendar: &Calendar,
    started: DateTime<Utc>,
    pauses: &[Pause],
    now: DateTime<Utc>,
) -> Duration {
    let mut total = Duration::zero();
    let mut cursor = started;
    for pause in pauses {
        if pause.start >= now {
            break;
        }
        total += calendar.business_time_between(cursor, pause.start);
        match pause.end {
            Some(end) => cursor = end,
            None => return total,
        }
    }
    total + calendar.business_time_between(cursor, now)
}

/// Where a business-time goal is reached.
enum Reach {
    At(DateTime<Utc>),
    /// An open pause starts before the goal is reached.
    Paused,
}

/// Walks from `started`, skipping normalised pauses, until `goal` of business time is counted.
fn reach(calendar: &Calendar, started: DateTime<Utc>, goal: Duration, pauses: &[Pause]) -> Reach {
    let mut remaining = goal;
    let mut cursor = started;
    for pause in pauses {
        if remaining <= Duration::zero() {
            return Reach::At(cursor);
        }
        let segment = calendar.business_time_between(cursor, pause.start);
        if segment >= remaining {
            return Reach::At(calendar.add_business_time(cursor, remaining));
        }
        remaining -= segment;
        match pause.end {
            Some(end) => cursor = end,
            None => return Reach::Paused,
        }
    }
    Reach::At(calendar.add_business_time(cursor, remaining))
}

/// The windows counted toward `goal`, skipping normalised pauses, up to where it is reached
/// (or up to an open pause).
fn counted_windows(
    calendar: &Calendar,
    started: DateTime<Utc>,
    goal: Duration,
    pauses: &[Pause],
) -> Vec<CountedWindow> {
    let mut windows = Vec::new();
    let mut remaining = goal;
    let mut cursor = started;
    for pause in pauses {
        if remaining <= Duration::zero() {
            return windows;
        }
        let segment = calendar.business_time_between(cursor, pause.start);
        if segment >= remaining {
            break;
        }
        windows.extend(calendar.windows_between(cursor, pause.start));
        remaining -= segment;
        match pause.end {
            Some(end) => cursor = end,
            None => return windows,
        }
    }
    windows.extend(calendar.windows_crossed(cursor, remaining));
    windows
}

/// Running state from normalised, closed pauses.
fn running(
    calendar: &Calendar,
    started: DateTime<Utc>,
    target: &SlaTarget,
    pauses: &[Pause],
) -> ClockState {
    let at = |goal| match reach(calendar, started, goal, pauses) {
        Reach::At(at) => at,
        Reach::Paused => DateTime::<Utc>::MAX_UTC,
    };
    ClockState::Running { due: at(target.target), at_risk_at: at(target.at_risk_after()) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::calendar::DAY_KEYS;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn h(hours: i64) -> Duration {
        Duration::hours(hours)
    }

    fn m(minutes: i64) -> Duration {
        Duration::minutes(minutes)
    }

    const LONDON: Tz = chrono_tz::Europe::London;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn calendar_with(tz: Tz, days: &[&str], window: &str, holidays: &[&str]) -> Calendar {
        let map: BTreeMap<String, String> =
            days.iter().map(|d| (d.to_string(), window.to_string())).collect();
        let holidays: Vec<NaiveDate> = holidays.iter().map(|d| d.parse().unwrap()).collect();
        Calendar::from_weekly(tz, &map, &holidays).unwrap()
    }

    /// London, Monday to Friday 09:00-17:00 (January is GMT, so local = UTC).
    fn office() -> Calendar {
        calendar_with(LONDON, &DAY_KEYS[..5], "09:00-17:00", &[])
    }

    /// 4h, at risk after 3h.
    fn four_hours() -> SlaTarget {
        SlaTarget::new(h(4), 0.75).unwrap()
    }

    fn pause(start: &str, end: &str) -> Pause {
        Pause { start: utc(start), end: Some(utc(end)) }
    }

    fn open_pause(start: &str) -> Pause {
        Pause { start: utc(start), end: None }
    }

    fn running(due: &str, at_risk_at: &str) -> ClockState {
        ClockState::Running { due: utc(due), at_risk_at: utc(at_risk_at) }
    }

    #[test]
    fn a_clock_without_pauses_is_due_after_the_target_in_business_time() {
        let state = clock_state(&office(), utc("2026-01-05T10:00:00Z"), &four_hours(), &[], None);
        assert_eq!(state, running("2026-01-05T14:00:00Z", "2026-01-05T13:00:00Z"));
    }

    #[test]
    fn a_clock_started_friday_afternoon_is_due_monday() {
        let state = clock_state(&office(), utc("2026-01-09T15:00:00Z"), &four_hours(), &[], None);
        assert_eq!(state, running("2026-01-12T11:00:00Z", "2026-01-12T10:00:00Z"));
    }

    #[test]
    fn a_clock_started_outside_hours_counts_from_the_next_opening() {
        let state = clock_state(&office(), utc("2026-01-10T12:00:00Z"), &four_hours(), &[], None);
        assert_eq!(state, running("2026-01-12T13:00:00Z", "2026-01-12T12:00:00Z"));
    }

    #[test]
    fn pause_over_the_weekend_excludes_no_business_time() {
        let pauses = [pause("2026-01-09T17:30:00Z", "2026-01-12T08:00:00Z")];
        let started = utc("2026-01-09T15:00:00Z");
        let state = clock_state(&office(), started, &four_hours(), &pauses, None);
        assert_eq!(state, running("2026-01-12T11:00:00Z", "2026-01-12T10:00:00Z"));
        let explanation =
            explain(&office(), started, &four_hours(), &pauses, utc("2026-01-12T09:30:00Z"));
        assert_eq!(explanation.pauses[0].excluded.seconds, 0);
        assert_eq!(explanation.elapsed.seconds, 2 * 3600 + 1800);
    }

    #[test]
    fn pause_in_business_hours_pushes_due_and_at_risk_back() {
        let pauses = [pause("2026-01-05T11:00:00Z", "2026-01-05T12:30:00Z")];
        let state =
            clock_state(&office(), utc("2026-01-05T10:00:00Z"), &four_hours(), &pauses, None);
        assert_eq!(state, running("2026-01-05T15:30:00Z", "2026-01-05T14:30:00Z"));
    }

    #[test]
    fn pause_while_closed_changes_nothing() {
        let pauses = [pause("2026-01-05T18:00:00Z", "2026-01-06T08:00:00Z")];
        let started = utc("2026-01-05T16:00:00Z");
        let with = clock_state(&office(), started, &four_hours(), &pauses, None);
        let without = clock_state(&office(), started, &four_hours(), &[], None);
        assert_eq!(with, without);
        assert_eq!(with, running("2026-01-06T12:00:00Z", "2026-01-06T11:00:00Z"));
    }

    #[test]
    fn pause_spanning_a_weekend_excludes_only_the_weekday_hours_inside_it() {
        // Paused Friday 16:00 to Monday 10:00: excludes Fri 1h and Mon 1h.
        let pauses = [pause("2026-01-09T16:00:00Z", "2026-01-12T10:00:00Z")];
        let started = utc("2026-01-09T14:00:00Z");
        let state = clock_state(&office(), started, &four_hours(), &pauses, None);
        // Fri 14:00-16:00 = 2h, then Mon from 10:00: 2h more -> 12:00; 3h -> 11:00.
        assert_eq!(state, running("2026-01-12T12:00:00Z", "2026-01-12T11:00:00Z"));
        let explanation =
            explain(&office(), started, &four_hours(), &pauses, utc("2026-01-12T11:00:00Z"));
        assert_eq!(explanation.pauses[0].excluded, ExplainedDuration::from(h(2)));
    }

    #[test]
    fn an_open_pause_has_no_due_time_and_keeps_the_remaining_target() {
        let pauses = [open_pause("2026-01-05T11:30:00Z")];
        let started = utc("2026-01-05T10:00:00Z");
        let state = clock_state(&office(), started, &four_hours(), &pauses, None);
        assert_eq!(state, ClockState::Paused { remaining: h(2) + m(30) });
        assert_eq!(elapsed(&office(), started, &pauses, utc("2026-01-07T15:00:00Z")), m(90));
        assert_eq!(
            status_at(
                &office(),
                started,
                &four_hours(),
                &pauses,
                None,
                utc("2026-01-07T15:00:00Z")
            ),
            SlaStatus::Paused
        );
    }

    #[test]
    fn resuming_an_open_pause_gives_a_due_time_again() {
        let started = utc("2026-01-05T10:00:00Z");
        let resumed = [pause("2026-01-05T11:30:00Z", "2026-01-06T09:00:00Z")];
        // 1h30m on Monday, 2h30m from Tuesday 09:00.
        assert_eq!(
            clock_state(&office(), started, &four_hours(), &resumed, None),
            running("2026-01-06T11:30:00Z", "2026-01-06T10:30:00Z")
        );
    }

    #[test]
    fn overlapping_and_early_pauses_are_merged_and_clipped_to_the_start() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [
            pause("2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z"),
            pause("2026-01-05T09:00:00Z", "2026-01-05T10:30:00Z"),
            pause("2026-01-05T10:30:00Z", "2026-01-05T11:30:00Z"),
            // Reversed: ignored.
            pause("2026-01-05T14:00:00Z", "2026-01-05T13:00:00Z"),
        ];
        // Paused 10:00-12:00, so 4h from 12:00.
        assert_eq!(
            clock_state(&office(), started, &four_hours(), &pauses, None),
            running("2026-01-05T16:00:00Z", "2026-01-05T15:00:00Z")
        );
        let explanation =
            explain(&office(), started, &four_hours(), &pauses, utc("2026-01-05T13:00:00Z"));
        assert_eq!(
            explanation.pauses,
            vec![ExplainedPause {
                start: started,
                end: Some(utc("2026-01-05T12:00:00Z")),
                excluded: h(2).into()
            }]
        );
    }

    #[test]
    fn an_open_pause_absorbs_later_pauses() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [
            open_pause("2026-01-05T11:00:00Z"),
            pause("2026-01-05T12:00:00Z", "2026-01-05T13:00:00Z"),
        ];
        assert_eq!(
            clock_state(&office(), started, &four_hours(), &pauses, None),
            ClockState::Paused { remaining: h(3) }
        );
    }

    #[test]
    fn status_moves_from_on_track_to_at_risk_to_breached() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [pause("2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z")];
        // due 15:00, at risk 14:00.
        let at = |now: &str| status_at(&office(), started, &four_hours(), &pauses, None, utc(now));
        assert_eq!(at("2026-01-05T09:00:00Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T10:30:00Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T11:00:00Z"), SlaStatus::Paused);
        assert_eq!(at("2026-01-05T11:59:59Z"), SlaStatus::Paused);
        assert_eq!(at("2026-01-05T12:00:00Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T13:59:59Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T14:00:00Z"), SlaStatus::AtRisk);
        assert_eq!(at("2026-01-05T15:00:00Z"), SlaStatus::AtRisk);
        assert_eq!(at("2026-01-05T15:00:01Z"), SlaStatus::Breached);
        assert_eq!(at("2026-01-10T12:00:00Z"), SlaStatus::Breached);
    }

    #[test]
    fn stopping_at_or_before_due_is_met_and_after_due_is_missed() {
        let started = utc("2026-01-05T10:00:00Z");
        let target = four_hours();
        let stop = |at: &str| clock_state(&office(), started, &target, &[], Some(utc(at)));
        assert_eq!(
            stop("2026-01-05T14:00:00Z"),
            ClockState::Stopped { at: utc("2026-01-05T14:00:00Z"), met: true }
        );
        assert_eq!(
            stop("2026-01-05T14:00:01Z"),
            ClockState::Stopped { at: utc("2026-01-05T14:00:01Z"), met: false }
        );
        let status = |stopped: &str, now: &str| {
            status_at(&office(), started, &target, &[], Some(utc(stopped)), utc(now))
        };
        assert_eq!(status("2026-01-05T12:00:00Z", "2026-01-05T16:00:00Z"), SlaStatus::Met);
        assert_eq!(status("2026-01-05T15:00:00Z", "2026-01-05T16:00:00Z"), SlaStatus::Missed);
        // A stop after `now` has not happened yet.
        assert_eq!(status("2026-01-05T16:00:00Z", "2026-01-05T15:00:00Z"), SlaStatus::Breached);
        assert_eq!(status("2026-01-05T16:00:00Z", "2026-01-05T11:00:00Z"), SlaStatus::OnTrack);
    }

    #[test]
    fn stopping_on_saturday_after_a_friday_closing_due_is_missed() {
        // Due Friday 17:00 exactly; no business time passes over the weekend, but the stop is
        // after the due instant.
        let started = utc("2026-01-09T13:00:00Z");
        let state =
            clock_state(&office(), started, &four_hours(), &[], Some(utc("2026-01-10T10:00:00Z")));
        assert_eq!(state, ClockState::Stopped { at: utc("2026-01-10T10:00:00Z"), met: false });
    }

    #[test]
    fn stopping_during_an_open_pause_with_time_left_is_met() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [open_pause("2026-01-05T11:00:00Z")];
        let at = utc("2026-01-08T10:00:00Z");
        assert_eq!(
            clock_state(&office(), started, &four_hours(), &pauses, Some(at)),
            ClockState::Stopped { at, met: true }
        );
        assert_eq!(
            status_at(&office(), started, &four_hours(), &pauses, Some(at), at),
            SlaStatus::Met
        );
    }

    #[test]
    fn a_pause_after_the_stop_does_not_matter() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [pause("2026-01-05T15:00:00Z", "2026-01-06T15:00:00Z")];
        let at = utc("2026-01-05T14:30:00Z");
        assert_eq!(
            clock_state(&office(), started, &four_hours(), &pauses, Some(at)),
            ClockState::Stopped { at, met: false }
        );
    }

    #[test]
    fn a_pause_after_the_breach_leaves_the_clock_breached() {
        let started = utc("2026-01-05T10:00:00Z");
        let target = SlaTarget::new(h(1), 0.5).unwrap();
        let pauses = [open_pause("2026-01-05T12:00:00Z")];
        assert_eq!(
            clock_state(&office(), started, &target, &pauses, None),
            ClockState::Paused { remaining: Duration::zero() }
        );
        assert_eq!(
            status_at(&office(), started, &target, &pauses, None, utc("2026-01-05T12:30:00Z")),
            SlaStatus::Breached
        );
    }

    #[test]
    fn a_future_pause_is_ignored_until_it_starts() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [open_pause("2026-01-05T13:00:00Z")];
        let at = |now: &str| status_at(&office(), started, &four_hours(), &pauses, None, utc(now));
        assert_eq!(at("2026-01-05T12:00:00Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T12:59:59Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T13:00:00Z"), SlaStatus::Paused);
        // Once ended, it is a normal pause again.
        let pauses = [pause("2026-01-05T13:00:00Z", "2026-01-05T14:00:00Z")];
        let at = |now: &str| status_at(&office(), started, &four_hours(), &pauses, None, utc(now));
        assert_eq!(at("2026-01-05T12:59:59Z"), SlaStatus::OnTrack);
        assert_eq!(at("2026-01-05T14:00:00Z"), SlaStatus::AtRisk);
    }

    #[test]
    fn at_risk_fraction_one_puts_at_risk_at_due() {
        let target = SlaTarget::new(h(2), 1.0).unwrap();
        assert_eq!(
            clock_state(&office(), utc("2026-01-05T16:00:00Z"), &target, &[], None),
            running("2026-01-06T10:00:00Z", "2026-01-06T10:00:00Z")
        );
    }

    #[test]
    fn at_risk_fraction_is_applied_to_the_millisecond() {
        let target = SlaTarget::new(h(1), 0.8).unwrap();
        assert_eq!(target.at_risk_after(), m(48));
        let target = SlaTarget::new(Duration::seconds(10), 1.0 / 3.0).unwrap();
        assert_eq!(target.at_risk_after(), Duration::milliseconds(3333));
    }

    #[test]
    fn invalid_targets_are_refused() {
        assert_eq!(SlaTarget::new(Duration::zero(), 0.5), Err(SlaError::TargetNotPositive));
        assert_eq!(SlaTarget::new(-h(1), 0.5), Err(SlaError::TargetNotPositive));
        assert_eq!(SlaTarget::new(h(1), 0.0), Err(SlaError::FractionOutOfRange { fraction: 0.0 }));
        assert_eq!(SlaTarget::new(h(1), 1.5), Err(SlaError::FractionOutOfRange { fraction: 1.5 }));
        assert!(SlaTarget::new(h(1), f64::NAN).is_err());
    }

    #[test]
    fn a_zero_target_is_due_at_the_start() {
        let target = SlaTarget { target: Duration::zero(), at_risk_fraction: 0.5 };
        let started = utc("2026-01-10T12:00:00Z");
        assert_eq!(
            clock_state(&office(), started, &target, &[], None),
            ClockState::Running { due: started, at_risk_at: started }
        );
    }

    #[test]
    fn a_holiday_delays_the_due_time() {
        let calendar = calendar_with(LONDON, &DAY_KEYS[..5], "09:00-17:00", &["2026-01-06"]);
        let started = utc("2026-01-05T15:00:00Z");
        assert_eq!(
            clock_state(&calendar, started, &four_hours(), &[], None),
            running("2026-01-07T11:00:00Z", "2026-01-07T10:00:00Z")
        );
        let explanation = explain(&calendar, started, &four_hours(), &[], started);
        assert_eq!(explanation.holidays_skipped, vec!["2026-01-06".parse::<NaiveDate>().unwrap()]);
    }

    #[test]
    fn always_open_clocks_are_plain_elapsed_time_minus_pauses() {
        let calendar = Calendar::always_open(NEW_YORK);
        let target = SlaTarget::new(h(24), 0.5).unwrap();
        let started = utc("2026-03-07T20:00:00Z");
        let pauses = [pause("2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z")];
        assert_eq!(
            clock_state(&calendar, started, &target, &pauses, None),
            running("2026-03-08T22:00:00Z", "2026-03-08T10:00:00Z")
        );
        assert_eq!(elapsed(&calendar, started, &pauses, utc("2026-03-08T10:00:00Z")), h(12));
    }

    #[test]
    fn london_spring_forward_clock_keeps_business_hours() {
        let calendar = calendar_with(LONDON, &DAY_KEYS, "09:00-17:00", &[]);
        // Saturday 2026-03-28 16:00 GMT; Sunday opens 09:00 BST = 08:00Z.
        let target = SlaTarget::new(h(4), 0.5).unwrap();
        let pauses = [pause("2026-03-29T09:00:00Z", "2026-03-29T10:00:00Z")];
        assert_eq!(
            clock_state(&calendar, utc("2026-03-28T16:00:00Z"), &target, &pauses, None),
            running("2026-03-29T12:00:00Z", "2026-03-29T09:00:00Z")
        );
    }

    #[test]
    fn london_fall_back_clock_keeps_business_hours() {
        let calendar = calendar_with(LONDON, &DAY_KEYS, "09:00-17:00", &[]);
        // Saturday 2026-10-24 15:00Z is 16:00 BST; Sunday opens 09:00 GMT = 09:00Z.
        let target = SlaTarget::new(h(9), 0.5).unwrap();
        assert_eq!(
            clock_state(&calendar, utc("2026-10-24T15:00:00Z"), &target, &[], None),
            running("2026-10-25T17:00:00Z", "2026-10-25T12:30:00Z")
        );
    }

    #[test]
    fn new_york_dst_clocks_keep_business_hours() {
        let calendar = calendar_with(NEW_YORK, &DAY_KEYS, "09:00-17:00", &[]);
        let target = SlaTarget::new(h(2), 0.5).unwrap();
        // Spring: Saturday 16:00 EST (21:00Z) + 2h -> Sunday 10:00 EDT (14:00Z).
        assert_eq!(
            clock_state(&calendar, utc("2026-03-07T21:00:00Z"), &target, &[], None),
            running("2026-03-08T14:00:00Z", "2026-03-07T22:00:00Z")
        );
        // Fall: Saturday 16:00 EDT (20:00Z) + 2h -> Sunday 10:00 EST (15:00Z).
        assert_eq!(
            clock_state(&calendar, utc("2026-10-31T20:00:00Z"), &target, &[], None),
            running("2026-11-01T15:00:00Z", "2026-10-31T21:00:00Z")
        );
    }

    #[test]
    fn elapsed_at_due_equals_the_target_for_many_starts_and_pauses() {
        let calendars =
            [office(), calendar_with(NEW_YORK, &DAY_KEYS, "08:30-12:15", &["2026-03-10"])];
        let target = SlaTarget::new(h(6), 0.6).unwrap();
        for calendar in &calendars {
            let mut started = utc("2026-03-02T00:00:00Z");
            while started < utc("2026-03-20T00:00:00Z") {
                let pauses = [
                    Pause { start: started + m(50), end: Some(started + h(3)) },
                    Pause { start: started + h(20), end: Some(started + h(47)) },
                ];
                let ClockState::Running { due, at_risk_at } =
                    clock_state(calendar, started, &target, &pauses, None)
                else {
                    panic!("not running")
                };
                assert_eq!(elapsed(calendar, started, &pauses, due), target.target, "{started}");
                assert!(
                    elapsed(calendar, started, &pauses, due - Duration::seconds(1)) < target.target
                );
                assert_eq!(elapsed(calendar, started, &pauses, at_risk_at), target.at_risk_after());
                let explanation = explain(calendar, started, &target, &pauses, due);
                assert_eq!(explanation.due, Some(due));
                let counted: i64 = explanation.windows.iter().map(|w| w.counted.seconds).sum();
                assert_eq!(counted, target.target.num_seconds());
                assert_eq!(explanation.windows.last().map(|w| w.to), Some(due));
                assert_eq!(
                    fraction_used(calendar, started, &target, &pauses, due),
                    1.0,
                    "{started}"
                );
                started += h(5) + m(11);
            }
        }
    }

    #[test]
    fn the_explanation_serialises_with_rfc3339_times_and_second_durations() {
        let started = utc("2026-01-09T15:00:00Z");
        let pauses = [pause("2026-01-09T16:00:00Z", "2026-01-09T16:30:00Z")];
        let explanation =
            explain(&office(), started, &four_hours(), &pauses, utc("2026-01-09T16:45:00Z"));
        let json = serde_json::to_value(&explanation).unwrap();
        let expected = serde_json::json!({
            "time_zone": "Europe/London",
            "always_open": false,
            "started": "2026-01-09T15:00:00Z",
            "now": "2026-01-09T16:45:00Z",
            "target": { "seconds": 14400, "text": "4h" },
            "at_risk_fraction": 0.75,
            "at_risk_after": { "seconds": 10800, "text": "3h" },
            "elapsed": { "seconds": 4500, "text": "1h 15m" },
            "remaining": { "seconds": 9900, "text": "2h 45m" },
            "status": "on_track",
            "windows": [
                {
                    "local_date": "2026-01-09",
                    "from": "2026-01-09T15:00:00Z",
                    "to": "2026-01-09T16:00:00Z",
                    "counted": { "seconds": 3600, "text": "1h" }
                },
                {
                    "local_date": "2026-01-09",
                    "from": "2026-01-09T16:30:00Z",
                    "to": "2026-01-09T17:00:00Z",
                    "counted": { "seconds": 1800, "text": "30m" }
                },
                {
                    "local_date": "2026-01-12",
                    "from": "2026-01-12T09:00:00Z",
                    "to": "2026-01-12T11:30:00Z",
                    "counted": { "seconds": 9000, "text": "2h 30m" }
                }
            ],
            "holidays_skipped": [],
            "pauses": [
                {
                    "start": "2026-01-09T16:00:00Z",
                    "end": "2026-01-09T16:30:00Z",
                    "excluded": { "seconds": 1800, "text": "30m" }
                }
            ],
            "paused_since": null,
            "at_risk_at": "2026-01-12T10:30:00Z",
            "due": "2026-01-12T11:30:00Z"
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn the_explanation_of_a_paused_clock_stops_at_the_pause() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [open_pause("2026-01-05T11:30:00Z")];
        let now = utc("2026-01-05T15:00:00Z");
        let explanation = explain(&office(), started, &four_hours(), &pauses, now);
        assert_eq!(explanation.status, SlaStatus::Paused);
        assert_eq!(explanation.due, None);
        assert_eq!(explanation.at_risk_at, None);
        assert_eq!(explanation.paused_since, Some(utc("2026-01-05T11:30:00Z")));
        assert_eq!(explanation.elapsed, m(90).into());
        assert_eq!(explanation.remaining, (h(2) + m(30)).into());
        assert_eq!(
            explanation.windows,
            vec![ExplainedWindow {
                local_date: "2026-01-05".parse().unwrap(),
                from: started,
                to: utc("2026-01-05T11:30:00Z"),
                counted: m(90).into()
            }]
        );
        assert_eq!(
            explanation.pauses,
            vec![ExplainedPause {
                start: utc("2026-01-05T11:30:00Z"),
                end: None,
                excluded: (h(3) + m(30)).into()
            }]
        );
    }

    #[test]
    fn a_pause_that_has_ended_by_now_is_explained_as_closed_and_one_ending_later_as_open() {
        let started = utc("2026-01-05T10:00:00Z");
        let pauses = [pause("2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z")];
        let during =
            explain(&office(), started, &four_hours(), &pauses, utc("2026-01-05T11:30:00Z"));
        assert_eq!(during.status, SlaStatus::Paused);
        assert_eq!(during.pauses[0].end, None);
        assert_eq!(during.pauses[0].excluded, m(30).into());
        let after =
            explain(&office(), started, &four_hours(), &pauses, utc("2026-01-05T12:30:00Z"));
        assert_eq!(after.pauses[0].end, Some(utc("2026-01-05T12:00:00Z")));
        assert_eq!(after.due, Some(utc("2026-01-05T15:00:00Z")));
    }
}
