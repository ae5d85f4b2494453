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

/// A list cut to what a message can hold, with the number of items it stands for (counted
/// by the database, never the length of the cut list).
#[derive(Debug, Clone, PartialEq)]
pub struct Capped<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Capped { items: Vec::new(), total: 0 }
    }
}

impl<T> Capped<T> {
    /// How many of the total the list leaves out.
    pub fn hidden(&self) -> i64 {
        (self.total - self.items.len() as i64).max(0)
    }
}

/// How long ago an older breach happened (its deadline), for the SLA digest's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreachAge {
    UnderADay,
    OneToSevenDays,
    OneToFourWeeks,
    OverFourWeeks,
}

impl BreachAge {
    pub const ALL: [BreachAge; 4] = [
        BreachAge::UnderADay,
        BreachAge::OneToSevenDays,
        BreachAge::OneToFourWeeks,
        BreachAge::OverFourWeeks,
    ];

    /// The youngest age in the bucket (a breach exactly a day old is in "1–7 days").
    pub fn from_age(self) -> chrono::Duration {
        match self {
            BreachAge::UnderADay => chrono::Duration::zero(),
            BreachAge::OneToSevenDays => chrono::Duration::days(1),
            BreachAge::OneToFourWeeks => chrono::Duration::days(7),
            BreachAge::OverFourWeeks => chrono::Duration::days(28),
        }
    }
}

/// Older breaches counted per team and age: `(team, counts per [BreachAge::ALL])`.
pub type BreachTable = Vec<(String, [i64; 4])>;

/// The SLA digest as of its slot: what can still be saved first, then what broke since the
/// previous digest, then the older breaches as counts, then approvals waiting too long.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaReport {
    pub as_of: DateTime<Utc>,
    /// Breaches after this instant are new (the previous slot of the schedule).
    pub new_since: DateTime<Utc>,
    /// Open and at risk, not yet breached: nearest deadline first.
    pub at_risk: Capped<SlaItem>,
    /// Breached after `new_since`: most recent first.
    pub new_breaches: Capped<SlaItem>,
    /// Breached at or before `new_since`, per team and age.
    pub older_breaches: BreachTable,
    /// Pending approvals requested at least `approval_wait` before the slot: oldest first.
    pub approvals: Capped<SlaItem>,
    pub approval_wait: chrono::Duration,
}

impl SlaReport {
    /// Every breach, new and older.
    pub fn breached_total(&self) -> i64 {
        self.new_breaches.total + self.older_total()
    }

    pub fn older_total(&self) -> i64 {
        self.older_breaches.iter().flat_map(|(_, counts)| counts.iter()).sum()
    }

    pub fn is_clear(&self) -> bool {
        self.at_risk.total == 0 && self.breached_total() == 0 && self.approvals.total == 0
    }
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

/// One approver's approvals in one currency this calendar month (to the window's end),
/// against their monthly authority.
#[derive(Debug, Clone, PartialEq)]
pub struct ApproverTotal {
    pub approver: String,
    pub currency: String,
    pub count: i64,
    pub sum: Decimal,
    /// Their monthly limit in the currency (from the authority matrix), when they have one.
    pub monthly_limit: Option<Decimal>,
}

/// SLA attainment of a window: items resolved in it with an SLA outcome, and items whose
/// resolve deadline fell in it and that were still open at its end (missed: not resolving
/// must not look good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attainment {
    /// Resolved in the window within the resolve target.
    pub met: i64,
    /// Resolved in the window, with an SLA outcome (met or missed).
    pub resolved: i64,
    /// Still open at the window's end, their resolve deadline passed within the window.
    pub open_past_due: i64,
}

impl Attainment {
    /// `met / (resolved + open_past_due)`; `None` with nothing to measure.
    pub fn rate(&self) -> Option<f64> {
        let measured = self.resolved + self.open_past_due;
        (measured > 0).then(|| self.met as f64 / measured as f64)
    }
}

/// The figures of one window `[start, end)`, each as the database stood at `end`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowFigures {
    pub opened: i64,
    pub resolved: i64,
    /// Time to acknowledge (escalations) or accept (requests): opened → acknowledged, of the
    /// items acknowledged in the window (whenever they were opened).
    pub acknowledge: Percentiles,
    /// Opened in the window and not acknowledged by its end.
    pub unacknowledged: i64,
    /// Time to resolve: opened → resolved, of the items resolved in the window.
    pub resolve: Percentiles,
    /// Opened in the window and not resolved by its end.
    pub unresolved: i64,
    pub attainment: Attainment,
    /// Requests resolved by their first assignee without hand-off or reopen.
    pub first_contact_resolution: Option<f64>,
    /// Requests resolved in the window that had been reopened.
    pub reopen_rate: Option<f64>,
    pub credits: Vec<CurrencyTotal>,
}

impl WindowFigures {
    pub fn sla_attainment(&self) -> Option<f64> {
        self.attainment.rate()
    }
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
    pub previous_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub current: WindowFigures,
    pub previous: WindowFigures,
    pub backlog: Backlog,
    /// Items resolved in the window per owner/assignee, most first.
    pub per_person: Vec<(String, i64)>,
    pub approvals_pending: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    /// Month-to-date approvals per approver, from this instant (local month start).
    pub month_start: DateTime<Utc>,
    pub by_approver: Vec<ApproverTotal>,
    /// Escalations opened in the window per severity.
    pub by_severity: Vec<(String, i64)>,
    /// One point per whole local day of the window.
    pub trend: Vec<DayPoint>,
    pub targets: super::Targets,
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
    /// `None`: nobody owns it yet (approvals: see `approvers`).
    pub person: Option<String>,
    /// For a pending approval, everyone it waits on (listed once, naming them all).
    pub approvers: Vec<String>,
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
    /// An incident's action item owned by them, due today or earlier (`due`: the end of
    /// its day).
    ActionDue,
}

/// One team's standup.
#[derive(Debug, Clone, PartialEq)]
pub struct StandupTeam {
    pub team: String,
    pub team_name: String,
    pub yesterday: Vec<PersonDay>,
    pub on_shift: Vec<String>,
    /// What needs attention, nearest deadline first, with the team's total.
    pub attention: Capped<Attention>,
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
