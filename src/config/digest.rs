//! `[[digests]]` and `[digest]`: scheduled SLA, KPI and standup digests.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Deserialize;

use super::Settings;
use crate::domain::digest::{DigestDefinition, DigestKind, parse_schedule};
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
    /// The reporting window (KPI: compared with the one before it), e.g. "7d".
    #[serde(default = "one_day")]
    pub window: String,
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
            if out.iter().any(|d| d.name == config.name) {
                return Err((key("name"), format!("`{}` is defined twice", config.name)));
            }
            let schedule = parse_schedule(&config.schedule).map_err(|e| (key("schedule"), e))?;
            let window = parse_duration(&config.window)
                .ok()
                .filter(|w| w.num_seconds() > 0)
                .ok_or_else(|| (key("window"), format!("`{}` is not a duration", config.window)))?;
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
                window,
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
