//! The figures of each digest kind, as gathered by `storage::digests` and shown by
//! `messages::digest`. Durations are in seconds, rates are fractions (0–1).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// What kind of item an SLA or attention line is about (a pending approval is a credit).
pub use crate::domain::item::ItemKind;

/// A breached or at-risk item (or a pending approval) in the SLA digest.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaItem {
    pub kind: ItemKind,
    pub id: i64,
    pub team: String,
    /// Severity, priority or amount.
    pub label: String,
    pub account: String,
    pub owner: Option<String>,
    /// The deadline the item is measured against (approvals: when it was requested).
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
}

/// The SLA digest: every breached and at-risk item, oldest deadline first.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaReport {
    pub as_of: DateTime<Utc>,
    pub items: Vec<SlaItem>,
}

/// p50 and p90 of a duration, in seconds; `None` with no data.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

/// Credits granted in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencyTotal {
    pub currency: String,
    pub count: i64,
    pub sum: Decimal,
}

/// One approver's approvals in one currency, against their monthly authority.
#[derive(Debug, Clone, PartialEq)]
pub struct ApproverTotal {
    pub approver: String,
    pub currency: String,
    pub count: i64,
    pub sum: Decimal,
    /// Their monthly limit in the currency (from the authority matrix), when they have one.
    pub monthly_limit: Option<Decimal>,
}

/// The figures of one window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowFigures {
    pub opened: i64,
    pub resolved: i64,
    /// Time to acknowledge (escalations) or accept (requests), of items opened in the window.
    pub acknowledge: Percentiles,
    /// Time to resolve, of items resolved in the window.
    pub resolve: Percentiles,
    /// Resolved within the resolve target, of items resolved in the window.
    pub sla_attainment: Option<f64>,
    /// Requests resolved by their first assignee without hand-off or reopen.
    pub first_contact_resolution: Option<f64>,
    /// Requests resolved in the window that had been reopened.
    pub reopen_rate: Option<f64>,
    pub credits: Vec<CurrencyTotal>,
}

/// Open items as of the window's end, by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    pub under_1d: i64,
    pub from_1d_to_3d: i64,
    pub from_3d_to_7d: i64,
    pub over_7d: i64,
}

impl Backlog {
    pub fn total(&self) -> i64 {
        self.under_1d + self.from_1d_to_3d + self.from_3d_to_7d + self.over_7d
    }
}

/// Opened and resolved items on one day, for the trend chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPoint {
    pub day: NaiveDate,
    pub opened: i64,
    pub resolved: i64,
}

/// The KPI digest: the window against the one before it.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiReport {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub current: WindowFigures,
    pub previous: WindowFigures,
    pub backlog: Backlog,
    /// Items resolved in the window per owner/assignee, most first.
    pub per_person: Vec<(String, i64)>,
    pub approvals_pending: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub by_approver: Vec<ApproverTotal>,
    /// Escalations opened in the window per severity.
    pub by_severity: Vec<(String, i64)>,
    pub trend: Vec<DayPoint>,
    /// Onboardings: time to onboard and step breaches.
    pub onboarding: OnboardingFigures,
}

/// Onboarding in a KPI window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OnboardingFigures {
    /// Accounts that became active in the window.
    pub activated: i64,
    /// Start of onboarding (contract) → active, of those accounts.
    pub time_to_onboard: Percentiles,
    /// Steps closed after their target in those onboardings, plus onboardings still open
    /// whose running step is past due at the window's end.
    pub step_breaches: i64,
}

/// One person's day in the standup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDay {
    pub person: String,
    pub opened: i64,
    pub resolved: i64,
}

/// Something a person should look at today.
#[derive(Debug, Clone, PartialEq)]
pub struct Attention {
    /// `None`: nobody owns it yet.
    pub person: Option<String>,
    pub kind: ItemKind,
    pub id: i64,
    pub label: String,
    /// At risk or breached (items), waiting on them (accepts), or an approval awaiting them.
    pub reason: AttentionReason,
    pub due: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionReason {
    AtRisk,
    Breached,
    WaitingOnYou,
    ApprovalWaiting,
}

/// One team's standup.
#[derive(Debug, Clone, PartialEq)]
pub struct StandupTeam {
    pub team: String,
    pub team_name: String,
    pub yesterday: Vec<PersonDay>,
    pub on_shift: Vec<String>,
    pub attention: Vec<Attention>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StandupReport {
    pub day: NaiveDate,
    pub teams: Vec<StandupTeam>,
}

/// A digest's figures, whatever its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Sla(SlaReport),
    Kpi(Box<KpiReport>),
    Standup(StandupReport),
}
