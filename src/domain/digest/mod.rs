//! Scheduled digests: definitions, slots from a cron schedule, and the pure figures and
//! charts a digest is made of. The SQL that gathers the figures lives in
//! `storage::digests`; the wording in `messages::digest`.

pub mod as_of;
pub mod chart;
pub mod report;
pub mod slots;
pub mod targets;
pub mod window;

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;

use super::ids::{Platform, TeamKey};

pub use slots::{Slot, SlotPlan, plan_slots, slots_between};
pub use targets::Targets;
pub use window::{WindowSpec, Windows, windows_at};

/// What a digest reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestKind {
    /// Breached and at-risk items, grouped by team.
    Sla,
    /// Performance figures for the window against the previous one.
    Kpi,
    /// Per team: yesterday's work, today's roster, what needs attention.
    Standup,
}

impl DigestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DigestKind::Sla => "sla",
            DigestKind::Kpi => "kpi",
            DigestKind::Standup => "standup",
        }
    }
}

/// A validated `[[digests]]` entry.
#[derive(Debug, Clone)]
pub struct DigestDefinition {
    pub name: String,
    pub kind: DigestKind,
    /// The schedule as configured (for messages).
    pub schedule_source: String,
    pub schedule: cron::Schedule,
    pub time_zone: Tz,
    pub channels: BTreeMap<Platform, String>,
    /// Empty: every team.
    pub teams: Vec<TeamKey>,
    /// The reporting window, laid on the local calendar.
    pub window: WindowSpec,
    /// Targets per KPI (none configured: figures are shown without a target).
    pub targets: Targets,
}

impl DigestDefinition {
    /// Whether the digest covers `team`.
    pub fn covers(&self, team: &TeamKey) -> bool {
        self.teams.is_empty() || self.teams.contains(team)
    }
}

/// Parses a cron expression: the familiar 5-field crontab form (seconds = 0 prepended) or
/// cron 0.17's own 6/7-field form with seconds first.
pub fn parse_schedule(raw: &str) -> Result<cron::Schedule, String> {
    let fields = raw.split_whitespace().count();
    let expression = match fields {
        5 => format!("0 {}", raw.trim()),
        6 | 7 => raw.trim().to_owned(),
        _ => {
            return Err(format!(
                "`{raw}` has {fields} fields; write 5 (minute hour day month weekday) or 6 \
                 (with seconds first)"
            ));
        }
    };
    cron::Schedule::from_str(&expression)
        .map_err(|e| format!("`{raw}` is not a valid cron expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_field_crontab_lines_get_seconds_prepended() {
        let schedule = parse_schedule("30 8 * * Mon-Fri").unwrap();
        assert_eq!(schedule.source(), "0 30 8 * * Mon-Fri");
    }

    #[test]
    fn six_field_expressions_are_taken_as_they_are() {
        assert!(parse_schedule("15 30 8 * * *").is_ok());
    }

    #[test]
    fn wrong_field_counts_and_bad_fields_are_refused_with_the_reason() {
        assert!(parse_schedule("* * *").unwrap_err().contains("3 fields"));
        assert!(parse_schedule("0 99 * * *").unwrap_err().contains("not a valid cron"));
    }
}
