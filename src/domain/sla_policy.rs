//! SLA targets per severity (optionally per account tier) and the calendar they count on,
//! resolved into a [`SlaPlan`] that is snapshotted into each item when it opens.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, CalendarError};
use super::severity::Severity;
use super::sla::{self, Pause, SlaStatus, SlaTarget};

/// A team's business calendar as configured: zone, weekly hours (`mon` … `sun` →
/// `"09:00-17:30"`), holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    pub time_zone: Tz,
    pub hours: BTreeMap<String, String>,
    pub holidays: Vec<NaiveDate>,
}

impl CalendarSpec {
    pub fn calendar(&self) -> Result<Calendar, CalendarError> {
        Calendar::from_weekly(self.time_zone, &self.hours, &self.holidays)
    }

    /// Monday to Friday, 09:00–17:00.
    pub fn office_hours(time_zone: Tz) -> CalendarSpec {
        let hours = ["mon", "tue", "wed", "thu", "fri"]
            .into_iter()
            .map(|day| (day.to_owned(), "09:00-17:00".to_owned()))
            .collect();
        CalendarSpec { time_zone, hours, holidays: Vec::new() }
    }
}

/// Targets for one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub acknowledge: Duration,
    pub resolve: Duration,
    /// Count wall-clock time around the clock instead of business hours.
    pub always_open: bool,
}

/// The configured SLA rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaRules {
    pub at_risk_fraction: f64,
    pub by_severity: BTreeMap<Severity, Targets>,
    /// `(tier, severity)` overrides.
    pub by_tier: BTreeMap<(String, Severity), Targets>,
}

impl SlaRules {
    /// The plan for an item of `severity` on an account of `tier`, on `calendar`.
    pub fn plan(&self, severity: Severity, tier: &str, calendar: &CalendarSpec) -> Option<SlaPlan> {
        let targets = self
            .by_tier
            .get(&(tier.to_owned(), severity))
            .or_else(|| self.by_severity.get(&severity))?;
        Some(targets.plan(calendar, self.at_risk_fraction))
    }
}

impl Targets {
    /// These targets counted on `calendar`, at risk past `at_risk_fraction` of each: the
    /// plan an item keeps (escalations by severity, requests by priority alike).
    pub fn plan(&self, calendar: &CalendarSpec, at_risk_fraction: f64) -> SlaPlan {
        SlaPlan {
            calendar: calendar.clone(),
            always_open: self.always_open,
            acknowledge_seconds: self.acknowledge.num_seconds(),
            resolve_seconds: self.resolve.num_seconds(),
            at_risk_fraction,
        }
    }
}

/// Which of an item's two clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockKind {
    Acknowledge,
    Resolve,
}

/// The SLA terms snapshotted into an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaPlan {
    pub calendar: CalendarSpec,
    pub always_open: bool,
    pub acknowledge_seconds: i64,
    pub resolve_seconds: i64,
    pub at_risk_fraction: f64,
}

impl SlaPlan {
    /// The calendar the clocks count on (24x7 when the severity says so).
    pub fn calendar(&self) -> Result<Calendar, CalendarError> {
        if self.always_open {
            Ok(Calendar::always_open(self.calendar.time_zone))
        } else {
            self.calendar.calendar()
        }
    }

    pub fn target(&self, clock: ClockKind) -> SlaTarget {
        let seconds = match clock {
            ClockKind::Acknowledge => self.acknowledge_seconds,
            ClockKind::Resolve => self.resolve_seconds,
        };
        SlaTarget { target: Duration::seconds(seconds), at_risk_fraction: self.at_risk_fraction }
    }
}

/// One clock's standing at a moment: its status and, while running, its due and at-risk times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockView {
    pub status: SlaStatus,
    pub due: Option<DateTime<Utc>>,
    pub at_risk_at: Option<DateTime<Utc>>,
}

/// Computes a clock's view: started at `started`, stopped at `stopped`, minus `pauses`.
pub fn clock_view(
    calendar: &Calendar,
    target: &SlaTarget,
    started: DateTime<Utc>,
    pauses: &[Pause],
    stopped: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ClockView {
    let status = sla::status_at(calendar, started, target, pauses, stopped, now);
    // The due time as if never stopped, so "met/missed" can still show when it was due.
    let running = sla::clock_state(calendar, started, target, pauses, None);
    let (due, at_risk_at) = match running {
        sla::ClockState::Running { due, at_risk_at } => (Some(due), Some(at_risk_at)),
        _ => (None, None),
    };
    ClockView { status, due, at_risk_at }
}

/// The two clocks of an item opened at `opened`: the first one (acknowledge / first response)
/// stopped at `first_stop`, the resolve one minus `pauses` and stopped at `resolved`.
pub fn both_clocks(
    plan: &SlaPlan,
    opened: DateTime<Utc>,
    first_stop: Option<DateTime<Utc>>,
    pauses: &[Pause],
    resolved: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(ClockView, ClockView), CalendarError> {
    let calendar = plan.calendar()?;
    let first =
        clock_view(&calendar, &plan.target(ClockKind::Acknowledge), opened, &[], first_stop, now);
    let resolve =
        clock_view(&calendar, &plan.target(ClockKind::Resolve), opened, pauses, resolved, now);
    Ok((first, resolve))
}
