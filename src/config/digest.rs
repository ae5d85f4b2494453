//! `[[digests]]` and `[digest]`: scheduled SLA, KPI and standup digests.

use std::collections::BTreeMap;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::Deserialize;

use super::Settings;
use crate::domain::digest::{DigestDefinition, DigestKind, Targets, WindowSpec, parse_schedule};
use crate::domain::duration::parse_duration;
use crate::domain::ids::{Platform, TeamKey};

/// `[digest]`: settings shared by every digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestSettings {
    /// How late a missed slot may still be posted (marked late), e.g. "2h"; older missed
    /// slots are recorded as skipped.
    pub grace_period: String,
    /// How often the scheduler looks for due slots.
    pub poll_interval_ms: u64,
}

impl Default for DigestSettings {
    fn default() -> Self {
        DigestSettings { grace_period: "2h".into(), poll_interval_ms: 15_000 }
    }
}

/// `[[digests]]`: one scheduled digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    /// Unique name, used by `/digest <name>` and `steward digest run <name>`.
    pub name: String,
    /// `sla`, `kpi` or `standup`.
    pub kind: DigestKind,
    /// Cron expression: 5 fields (minute hour day month weekday; seconds = 0 are prepended)
    /// or 6 fields with seconds first. Sunday is 1 (cron 0.17), day-of-month and weekday
    /// combine with AND.
    pub schedule: String,
    /// The zone the schedule is read in (and the standup's "yesterday"/"today").
    #[serde(default = "utc")]
    pub time_zone: Tz,
    /// Where to post, per platform: `{ console = "ops", slack = "C0123" }`.
    pub channels: BTreeMap<Platform, String>,
    /// Teams the digest covers; empty: every team.
    #[serde(default)]
    pub teams: Vec<TeamKey>,
    /// The reporting window (KPI: compared with the one before it), e.g. "7d". Whole days
    /// are local calendar days in `time_zone`, ending at the last local midnight at or
    /// before the slot ("1d": yesterday); "7d" is the last whole week starting on
    /// `week_starts` at 00:00 local. Shorter windows ("12h") end at the slot.
    #[serde(default = "one_day")]
    pub window: String,
    /// The weekday a "7d" window starts on (default Mon).
    #[serde(default = "monday")]
    pub week_starts: String,
    /// KPI targets; each figure is shown against its target (✓/✗) when one is set.
    #[serde(default)]
    pub targets: TargetsConfig,
}

/// `[digests.targets]`: what a KPI digest's figures are held to. Durations are at most,
/// rates ("95%") are at least, except the reopen rate (at most).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsConfig {
    /// Time to acknowledge / accept, p50 and p90, e.g. "1h".
    pub tta_p50: Option<String>,
    pub tta_p90: Option<String>,
    /// Time to resolve, p50 and p90, e.g. "3d".
    pub ttr_p50: Option<String>,
    pub ttr_p90: Option<String>,
    /// SLA attainment, at least, e.g. "95%".
    pub attainment: Option<String>,
    /// First-contact resolution, at least, e.g. "70%".
    pub first_contact_resolution: Option<String>,
    /// Reopen rate, at most, e.g. "5%".
    pub reopen_rate: Option<String>,
}

impl TargetsConfig {
    /// The targets, checked; the error names the key and the problem.
    fn parse(&self) -> Result<Targets, (&'static str, String)> {
        let duration = |key: &'static str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| {
                    parse_duration(raw)
                        .ok()
                        .filter(|d| d.num_seconds() > 0)
                        .ok_or((key, format!("`{raw}` is not a duration")))
                })
                .transpose()
        };
        let rate = |key: &'static str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| {
                    parse_percent(raw)
                        .ok_or((key, format!("`{raw}` is not a percentage like \"95%\"")))
                })
                .transpose()
        };
        Ok(Targets {
            tta_p50: duration("tta_p50", &self.tta_p50)?,
            tta_p90: duration("tta_p90", &self.tta_p90)?,
            ttr_p50: duration("ttr_p50", &self.ttr_p50)?,
            ttr_p90: duration("ttr_p90", &self.ttr_p90)?,
            attainment: rate("attainment", &self.attainment)?,
            first_contact_resolution: rate(
                "first_contact_resolution",
                &self.first_contact_resolution,
            )?,
            reopen_rate: rate("reopen_rate", &self.reopen_rate)?,
        })
    }
}

/// "95%" or "99.5 %" → 0.95 / 0.995 (0–100 %).
fn parse_percent(raw: &str) -> Option<f64> {
    let number: f64 = raw.trim().strip_suffix('%')?.trim().parse().ok()?;
    (0.0..=100.0).contains(&number).then_some(number / 100.0)
}

fn monday() -> String {
    "Mon".into()
}

fn utc() -> Tz {
    Tz::UTC
}

fn one_day() -> String {
    "1d".into()
}

impl Settings {
    /// The digest definitions, checked: schedule, window, teams, channels, unique names.
    pub fn digest_definitions(&self) -> Result<Vec<DigestDefinition>, (String, String)> {
        let mut out: Vec<DigestDefinition> = Vec::new();
        for (index, config) in self.digests.iter().enumerate() {
            let key = |field: &str| format!("digests[{index}].{field}");
            if config.name.trim().is_empty() || config.name.contains(char::is_whitespace) {
                return Err((key("name"), "must be one word".into()));
            }
            if config.name == "explain" {
                return Err((key("name"), "`explain` is taken by `/digest explain <name>`".into()));
            }
            if out.iter().any(|d| d.name == config.name) {
                return Err((key("name"), format!("`{}` is defined twice", config.name)));
            }
            let schedule = parse_schedule(&config.schedule).map_err(|e| (key("schedule"), e))?;
            let window = parse_duration(&config.window)
                .ok()
                .filter(|w| w.num_seconds() > 0)
                .ok_or_else(|| (key("window"), format!("`{}` is not a duration", config.window)))?;
            let week_starts: Weekday = config.week_starts.parse().map_err(|_| {
                (
                    key("week_starts"),
                    format!("`{}` is not a weekday (Mon … Sun)", config.week_starts),
                )
            })?;
            let targets = config
                .targets
                .parse()
                .map_err(|(field, problem)| (key(&format!("targets.{field}")), problem))?;
            if config.channels.is_empty() {
                return Err((key("channels"), "name at least one channel".into()));
            }
            for team in &config.teams {
                if !self.teams.iter().any(|t| &t.key == team) {
                    return Err((key("teams"), format!("no team `{team}`")));
                }
            }
            out.push(DigestDefinition {
                name: config.name.clone(),
                kind: config.kind,
                schedule_source: config.schedule.clone(),
                schedule,
                time_zone: config.time_zone,
                channels: config.channels.clone(),
                teams: config.teams.clone(),
                window: WindowSpec::from_length(window, week_starts),
                targets,
            });
        }
        Ok(out)
    }

    /// `[digest] grace_period`, checked.
    pub fn digest_grace(&self) -> Result<chrono::Duration, (String, String)> {
        let raw = &self.digest.grace_period;
        parse_duration(raw)
            .map_err(|_| ("digest.grace_period".to_owned(), format!("`{raw}` is not a duration")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_read_as_fractions_and_nonsense_is_refused() {
        assert_eq!(parse_percent("95%"), Some(0.95));
        assert_eq!(parse_percent(" 99.5 % "), Some(0.995));
        assert_eq!(parse_percent("95"), None);
        assert_eq!(parse_percent("120%"), None);
    }

    #[test]
    fn a_bad_target_names_its_key() {
        let targets = TargetsConfig { tta_p90: Some("soon".into()), ..TargetsConfig::default() };
        let (key, problem) = targets.parse().unwrap_err();
        assert_eq!(key, "tta_p90");
        assert!(problem.contains("`soon`"), "{problem}");
        let targets = TargetsConfig { attainment: Some("95%".into()), ..TargetsConfig::default() };
        assert_eq!(targets.parse().unwrap().attainment, Some(0.95));
    }
}
