//! Configuration of SLA targets, team calendars, shifts and escalation policies, and its
//! translation into the domain's types.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Deserialize;

use super::Settings;
use crate::domain::calendar::Calendar;
use crate::domain::duration::parse_duration;
use crate::domain::identity::Person;
use crate::domain::ids::TeamKey;
use crate::domain::policy::{EscalationPolicy, Level, PageTarget, PolicyBook, PolicySelector};
use crate::domain::severity::Severity;
use crate::domain::sla_policy::{CalendarSpec, SlaRules, Targets};

/// `[sla]`: response targets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaSettings {
    /// Fraction of a target after which an item is "at risk" (0 < f ≤ 1).
    pub at_risk_fraction: f64,
    /// Targets per severity: `[sla.targets.sev1]`.
    pub targets: BTreeMap<Severity, TargetConfig>,
    /// Overrides for an account tier: `[[sla.tier_targets]]`.
    pub tier_targets: Vec<TierTargetConfig>,
}

impl Default for SlaSettings {
    fn default() -> Self {
        let target = |ack: &str, resolve: &str, always_open| TargetConfig {
            acknowledge: ack.into(),
            resolve: resolve.into(),
            always_open,
        };
        SlaSettings {
            at_risk_fraction: 0.75,
            targets: BTreeMap::from([
                (Severity::Sev1, target("15m", "4h", true)),
                (Severity::Sev2, target("1h", "8h", false)),
                (Severity::Sev3, target("4h", "24h", false)),
                (Severity::Sev4, target("8h", "80h", false)),
            ]),
            tier_targets: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Time to acknowledge, e.g. "15m".
    pub acknowledge: String,
    /// Time to resolve, e.g. "8h" (business time unless `always_open`).
    pub resolve: String,
    /// Count around the clock (24x7) instead of the team's working hours.
    #[serde(default)]
    pub always_open: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierTargetConfig {
    pub tier: String,
    pub severity: Severity,
    pub acknowledge: String,
    pub resolve: String,
    #[serde(default)]
    pub always_open: bool,
}

/// `[[escalation_policies]]`: one policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub name: String,
    /// Applies to these severities (empty: any).
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Applies to accounts of these tiers (empty: any).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Applies to these teams (empty: any).
    #[serde(default)]
    pub teams: Vec<TeamKey>,
    /// How many more times the whole sequence runs after the last level.
    #[serde(default)]
    pub repeat: u32,
    pub levels: Vec<LevelConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelConfig {
    /// How long this level has to acknowledge, e.g. "30m".
    pub wait: String,
    /// `person:<key>`, `role:<role>`, `shift`, `shift:<team>`, `channel:<name>`.
    pub notify: Vec<String>,
}

/// A problem with a key: (dotted key, message).
pub type KeyProblem = (String, String);

fn targets(ack: &str, resolve: &str, always_open: bool, key: &str) -> Result<Targets, KeyProblem> {
    let parse = |raw: &str, field: &str| {
        parse_duration(raw).map_err(|e| (format!("{key}.{field}"), e.to_string()))
    };
    Ok(Targets {
        acknowledge: parse(ack, "acknowledge")?,
        resolve: parse(resolve, "resolve")?,
        always_open,
    })
}

/// The built-in policy used when none is configured: whoever is on shift in the team, then
/// the team's supervisors, twice over.
fn default_policy() -> PolicyConfig {
    PolicyConfig {
        name: "default".into(),
        severities: Vec::new(),
        tiers: Vec::new(),
        teams: Vec::new(),
        repeat: 1,
        levels: vec![
            LevelConfig { wait: "30m".into(), notify: vec!["shift".into()] },
            LevelConfig { wait: "30m".into(), notify: vec!["role:supervisor".into()] },
        ],
    }
}

impl Settings {
    pub fn sla_rules(&self) -> Result<SlaRules, KeyProblem> {
        let fraction = self.sla.at_risk_fraction;
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(("sla.at_risk_fraction".into(), "must be above 0 and at most 1".into()));
        }
        let mut by_severity = BTreeMap::new();
        for severity in Severity::ALL {
            let key = format!("sla.targets.{severity}");
            let config = self
                .sla
                .targets
                .get(&severity)
                .ok_or_else(|| (key.clone(), "missing: every severity needs targets".into()))?;
            let parsed = targets(&config.acknowledge, &config.resolve, config.always_open, &key)?;
            by_severity.insert(severity, parsed);
        }
        let mut by_tier = BTreeMap::new();
        for (index, t) in self.sla.tier_targets.iter().enumerate() {
            let key = format!("sla.tier_targets[{index}]");
            let parsed = targets(&t.acknowledge, &t.resolve, t.always_open, &key)?;
            by_tier.insert((t.tier.clone(), t.severity), parsed);
        }
        Ok(SlaRules { at_risk_fraction: fraction, by_severity, by_tier })
    }

    /// The business calendar of a team (office hours in UTC for an unknown team).
    pub fn team_calendar(&self, team: &TeamKey) -> CalendarSpec {
        match self.teams.iter().find(|t| &t.key == team) {
            Some(team) => match &team.hours {
                Some(hours) => CalendarSpec {
                    time_zone: team.time_zone,
                    hours: hours.clone(),
                    holidays: team.holidays.clone(),
                },
                None => CalendarSpec {
                    holidays: team.holidays.clone(),
                    ..CalendarSpec::office_hours(team.time_zone)
                },
            },
            None => CalendarSpec::office_hours(Tz::UTC),
        }
    }

    /// When a person works: their own shift in their zone, else their team's hours.
    pub fn shift_calendar(&self, person: &Person) -> Option<Calendar> {
        let config = self.people.iter().find(|p| p.key == person.key)?;
        match &config.shift {
            Some(hours) => Calendar::from_weekly(person.time_zone, hours, &[]).ok(),
            None => self.team_calendar(&person.team).calendar().ok(),
        }
    }

    pub fn policy_book(&self) -> Result<PolicyBook, KeyProblem> {
        let configured = if self.escalation_policies.is_empty() {
            vec![default_policy()]
        } else {
            self.escalation_policies.clone()
        };
        let mut policies = Vec::new();
        for (index, config) in configured.iter().enumerate() {
            let key = format!("escalation_policies[{index}]");
            if config.levels.is_empty() {
                return Err((format!("{key}.levels"), "a policy needs at least one level".into()));
            }
            let mut levels = Vec::new();
            for (level_index, level) in config.levels.iter().enumerate() {
                let level_key = format!("{key}.levels[{level_index}]");
                let wait = parse_duration(&level.wait)
                    .map_err(|e| (format!("{level_key}.wait"), e.to_string()))?;
                if level.notify.is_empty() {
                    return Err((format!("{level_key}.notify"), "name at least one target".into()));
                }
                let targets = level
                    .notify
                    .iter()
                    .map(|raw| PageTarget::parse(raw))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| (format!("{level_key}.notify"), e))?;
                for target in &targets {
                    self.check_target(target).map_err(|e| (format!("{level_key}.notify"), e))?;
                }
                levels.push(Level { wait_seconds: wait.num_seconds(), targets });
            }
            let selector = PolicySelector {
                severities: config.severities.clone(),
                tiers: config.tiers.clone(),
                teams: config.teams.clone(),
            };
            let policy =
                EscalationPolicy { name: config.name.clone(), levels, repeat: config.repeat };
            policies.push((selector, policy));
        }
        let book = PolicyBook { policies };
        self.check_policy_coverage(&book)?;
        Ok(book)
    }

    fn check_target(&self, target: &PageTarget) -> Result<(), String> {
        match target {
            PageTarget::Person(key) if !self.people.iter().any(|p| &p.key == key) => {
                Err(format!("no person `{key}`"))
            }
            PageTarget::Shift(Some(team)) if !self.teams.iter().any(|t| &t.key == team) => {
                Err(format!("no team `{team}`"))
            }
            PageTarget::Channel(name) => self.check_channel(name),
            _ => Ok(()),
        }
    }

    /// Every team, severity and account tier must have a policy, so no escalation opens
    /// without someone to page.
    fn check_policy_coverage(&self, book: &PolicyBook) -> Result<(), KeyProblem> {
        let mut tiers: Vec<String> = self.accounts.iter().map(|a| a.tier.clone()).collect();
        tiers.sort();
        tiers.dedup();
        for team in &self.teams {
            for severity in Severity::ALL {
                for tier in &tiers {
                    if book.select(severity, tier, &team.key).is_none() {
                        return Err((
                            "escalation_policies".into(),
                            format!(
                                "no policy matches {severity} for team `{}` and tier `{tier}`; \
                                 add a catch-all policy (no severities, tiers or teams) last",
                                team.key
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
