//! Escalation policies: who is paged, in which order, how long each level waits, how often the
//! whole sequence repeats. A policy is chosen when an escalation opens and snapshotted into it,
//! so later configuration edits never change an escalation in flight.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::identity::Role;
use super::ids::{PersonKey, TeamKey};
use super::severity::Severity;

/// Whom one level pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum PageTarget {
    /// A named person.
    Person(PersonKey),
    /// Everyone with this role in the escalation's team.
    Role(Role),
    /// Whoever is on shift when the level fires, in this team (or the escalation's own team).
    Shift(Option<TeamKey>),
    /// A channel (by name or platform id) where the page is posted.
    Channel(String),
}

impl PageTarget {
    /// Parses `person:sam`, `role:supervisor`, `shift` (the escalation's team),
    /// `shift:accounts-emea`, `channel:emea-ops`.
    pub fn parse(raw: &str) -> Result<PageTarget, String> {
        if raw == "shift" {
            return Ok(PageTarget::Shift(None));
        }
        let (kind, value) = raw.split_once(':').ok_or_else(|| {
            format!(
                "`{raw}` should look like person:<key>, role:<role>, shift:<team> or channel:<name>"
            )
        })?;
        match kind {
            "person" => PersonKey::parse(value).map(PageTarget::Person).map_err(|e| e.0),
            "role" => serde_json::from_value(serde_json::Value::String(value.to_owned()))
                .map(PageTarget::Role)
                .map_err(|_| {
                    format!("`{value}` is not a role (agent, supervisor, finance, admin, auditor, comms)")
                }),
            "shift" => TeamKey::parse(value).map(|t| PageTarget::Shift(Some(t))).map_err(|e| e.0),
            "channel" if !value.is_empty() => Ok(PageTarget::Channel(value.to_owned())),
            _ => {
                Err(format!("`{raw}`: unknown target kind `{kind}` (person, role, shift, channel)"))
            }
        }
    }
}

impl fmt::Display for PageTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageTarget::Person(key) => write!(f, "person:{key}"),
            PageTarget::Role(role) => write!(f, "role:{role}"),
            PageTarget::Shift(Some(team)) => write!(f, "shift:{team}"),
            PageTarget::Shift(None) => f.write_str("shift"),
            PageTarget::Channel(name) => write!(f, "channel:{name}"),
        }
    }
}

/// One level of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// How long this level has to acknowledge before the next level is paged, in seconds.
    pub wait_seconds: i64,
    pub targets: Vec<PageTarget>,
}

/// A policy as snapshotted into an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    pub name: String,
    pub levels: Vec<Level>,
    /// How many times the whole sequence runs again after the last level.
    pub repeat: u32,
}

impl EscalationPolicy {
    /// Total number of paging steps: every level, once per pass.
    pub fn total_steps(&self) -> u32 {
        self.levels.len() as u32 * (self.repeat + 1)
    }

    /// The level paged at `step` (0-based across passes), or `None` once exhausted.
    pub fn level_at(&self, step: u32) -> Option<(usize, &Level)> {
        if step >= self.total_steps() || self.levels.is_empty() {
            return None;
        }
        let index = step as usize % self.levels.len();
        Some((index, &self.levels[index]))
    }

    /// Which pass (0-based) `step` belongs to.
    pub fn pass_of(&self, step: u32) -> u32 {
        step / self.levels.len().max(1) as u32
    }
}

/// When a policy applies. Empty lists match anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicySelector {
    pub severities: Vec<Severity>,
    pub tiers: Vec<String>,
    pub teams: Vec<TeamKey>,
}

impl PolicySelector {
    pub fn matches(&self, severity: Severity, tier: &str, team: &TeamKey) -> bool {
        (self.severities.is_empty() || self.severities.contains(&severity))
            && (self.tiers.is_empty() || self.tiers.iter().any(|t| t == tier))
            && (self.teams.is_empty() || self.teams.contains(team))
    }
}

/// The configured policies in order; the first whose selector matches wins.
#[derive(Debug, Clone, Default)]
pub struct PolicyBook {
    pub policies: Vec<(PolicySelector, EscalationPolicy)>,
}

impl PolicyBook {
    pub fn select(
        &self,
        severity: Severity,
        tier: &str,
        team: &TeamKey,
    ) -> Option<&EscalationPolicy> {
        self.select_explained(severity, tier, team).map(|(_, _, policy)| policy)
    }

    /// The chosen policy with why: its position in the configured order and its conditions.
    pub fn select_explained(
        &self,
        severity: Severity,
        tier: &str,
        team: &TeamKey,
    ) -> Option<(usize, &PolicySelector, &EscalationPolicy)> {
        self.policies
            .iter()
            .enumerate()
            .find(|(_, (selector, _))| selector.matches(severity, tier, team))
            .map(|(position, (selector, policy))| (position, selector, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(levels: usize, repeat: u32) -> EscalationPolicy {
        let level = Level { wait_seconds: 600, targets: vec![PageTarget::Channel("ops".into())] };
        EscalationPolicy { name: "p".into(), levels: vec![level; levels], repeat }
    }

    #[test]
    fn steps_walk_the_levels_then_repeat_then_stop() {
        let p = policy(2, 1);
        assert_eq!(p.total_steps(), 4);
        let indexes: Vec<_> = (0..5).map(|s| p.level_at(s).map(|(i, _)| i)).collect();
        assert_eq!(indexes, vec![Some(0), Some(1), Some(0), Some(1), None]);
        assert_eq!(p.pass_of(2), 1);
    }

    #[test]
    fn targets_parse_and_print_back() {
        for raw in
            ["person:sam", "role:supervisor", "shift", "shift:accounts-emea", "channel:emea-ops"]
        {
            assert_eq!(PageTarget::parse(raw).unwrap().to_string(), raw);
        }
        assert!(PageTarget::parse("role:king").unwrap_err().contains("not a role"));
        assert!(PageTarget::parse("pager:sam").unwrap_err().contains("unknown target kind"));
        assert!(PageTarget::parse("sam").is_err());
    }

    #[test]
    fn the_first_matching_policy_wins_and_empty_selectors_match_anything() {
        let team = TeamKey::parse("ops").unwrap();
        let book = PolicyBook {
            policies: vec![
                (
                    PolicySelector { severities: vec![Severity::Sev1], ..Default::default() },
                    policy(1, 0),
                ),
                (PolicySelector::default(), policy(2, 0)),
            ],
        };
        assert_eq!(book.select(Severity::Sev1, "smb", &team).unwrap().levels.len(), 1);
        assert_eq!(book.select(Severity::Sev3, "smb", &team).unwrap().levels.len(), 2);
    }
}
