//! Configuration of account requests: types, triage rules, SLA targets per priority,
//! assignment strategy per team, and the intake endpoint's secrets (environment only).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::escalation::KeyProblem;
use super::{Secret, Settings};
use crate::domain::assignment::Strategy;
use crate::domain::duration::parse_duration;
use crate::domain::ids::TeamKey;
use crate::domain::sla_policy::Targets;
use crate::domain::triage::{KeywordRule, Priority, RequestRules, RequestType};

/// The environment variable with the intake endpoint's HMAC secrets, comma-separated (more
/// than one while rotating: senders may sign with any of them).
pub const INTAKE_SECRETS_ENV: &str = "STEWARD_INTAKE_SECRETS";

/// `[requests]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestSettings {
    /// Priority when no rule says otherwise.
    pub default_priority: Priority,
    /// Priority by account tier, e.g. `{ enterprise = "p2" }`.
    pub tier_priority: BTreeMap<String, Priority>,
    /// How often a queued request looks for someone on shift again, e.g. "5m".
    pub retry_every: String,
    /// Accepted clock skew of signed intake requests, in seconds either way.
    pub signature_window_seconds: i64,
    /// `[[requests.types]]`.
    pub types: Vec<RequestTypeConfig>,
    /// `[[requests.keywords]]`.
    pub keywords: Vec<KeywordConfig>,
    /// `[requests.targets.p1]` …: first response and resolution per priority.
    pub targets: BTreeMap<Priority, RequestTargetConfig>,
    /// `[[requests.assignment]]`: strategy per team (default least loaded).
    pub assignment: Vec<AssignmentConfig>,
    /// HMAC secrets of `POST /intake/requests`, from `STEWARD_INTAKE_SECRETS` only.
    #[serde(skip)]
    pub intake_secrets: Vec<Secret>,
}

impl Default for RequestSettings {
    fn default() -> Self {
        let kind = |key: &str, name: &str| RequestTypeConfig {
            key: key.into(),
            name: name.into(),
            required_fields: Vec::new(),
            skills: vec![key.into()],
            priority: None,
        };
        let target = |first_response: &str, resolve: &str, always_open| RequestTargetConfig {
            first_response: first_response.into(),
            resolve: resolve.into(),
            always_open,
        };
        RequestSettings {
            default_priority: Priority::P3,
            tier_priority: BTreeMap::new(),
            retry_every: "5m".into(),
            signature_window_seconds: 300,
            types: vec![
                kind("onboarding", "Onboarding"),
                kind("access", "Access"),
                kind("billing", "Billing question"),
                kind("dispute", "Dispute"),
                kind("closure", "Account closure"),
            ],
            keywords: Vec::new(),
            targets: BTreeMap::from([
                (Priority::P1, target("30m", "4h", true)),
                (Priority::P2, target("2h", "16h", false)),
                (Priority::P3, target("4h", "40h", false)),
                (Priority::P4, target("8h", "80h", false)),
            ]),
            assignment: Vec::new(),
            intake_secrets: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestTypeConfig {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub required_fields: Vec<String>,
    /// Skills an assignee needs under `skill_match`.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Priority of every request of this type (unless a rule says more urgent).
    pub priority: Option<Priority>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordConfig {
    pub words: Vec<String>,
    pub priority: Priority,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestTargetConfig {
    pub first_response: String,
    pub resolve: String,
    #[serde(default)]
    pub always_open: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentConfig {
    pub team: TeamKey,
    pub strategy: Strategy,
}

/// Splits `STEWARD_INTAKE_SECRETS` into secrets (empty entries are ignored).
pub fn parse_intake_secrets(raw: &str) -> Vec<Secret> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Secret::new).collect()
}

impl Settings {
    /// The dates a person is out of office (local dates in their own zone).
    pub fn out_of_office(&self, person: &crate::domain::ids::PersonKey) -> &[chrono::NaiveDate] {
        self.people
            .iter()
            .find(|p| &p.key == person)
            .map(|p| p.out_of_office.as_slice())
            .unwrap_or(&[])
    }

    /// The request rules, checked: durations, references to teams, unique type keys.
    pub fn request_rules(&self) -> Result<RequestRules, KeyProblem> {
        let r = &self.requests;
        let duration =
            |raw: &str, key: String| parse_duration(raw).map_err(|e| (key, e.to_string()));
        let retry = duration(&r.retry_every, "requests.retry_every".into())?;
        if r.signature_window_seconds <= 0 {
            return Err((
                "requests.signature_window_seconds".into(),
                "must be greater than zero".into(),
            ));
        }
        let mut targets = BTreeMap::new();
        for priority in Priority::ALL {
            let key = format!("requests.targets.{priority}");
            let config = r
                .targets
                .get(&priority)
                .ok_or_else(|| (key.clone(), "missing: every priority needs targets".into()))?;
            targets.insert(
                priority,
                Targets {
                    acknowledge: duration(&config.first_response, format!("{key}.first_response"))?,
                    resolve: duration(&config.resolve, format!("{key}.resolve"))?,
                    always_open: config.always_open,
                },
            );
        }
        let mut types: Vec<RequestType> = Vec::new();
        for (index, t) in r.types.iter().enumerate() {
            let key = t.key.trim().to_ascii_lowercase();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err((format!("requests.types[{index}].key"), "must be one word".into()));
            }
            if types.iter().any(|other| other.key == key) {
                return Err((
                    format!("requests.types[{index}].key"),
                    format!("`{key}` is defined twice"),
                ));
            }
            types.push(RequestType {
                key,
                name: t.name.clone(),
                required_fields: t.required_fields.iter().map(|f| f.to_ascii_lowercase()).collect(),
                skills: t.skills.clone(),
                priority: t.priority,
            });
        }
        let mut strategies = BTreeMap::new();
        for (index, a) in r.assignment.iter().enumerate() {
            if !self.teams.iter().any(|t| t.key == a.team) {
                return Err((
                    format!("requests.assignment[{index}].team"),
                    format!("no team `{}`", a.team),
                ));
            }
            strategies.insert(a.team.clone(), a.strategy);
        }
        Ok(RequestRules {
            types,
            default_priority: r.default_priority,
            tier_priority: r.tier_priority.clone(),
            keywords: r
                .keywords
                .iter()
                .map(|k| KeywordRule {
                    words: k.words.iter().map(|w| w.to_lowercase()).collect(),
                    priority: k.priority,
                })
                .collect(),
            targets,
            at_risk_fraction: self.sla.at_risk_fraction,
            strategies,
            retry_seconds: retry.num_seconds().max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_secrets_split_on_commas_and_never_print() {
        let secrets = parse_intake_secrets(" new-secret , old-secret,,");
        assert_eq!(secrets.len(), 2);
        assert_eq!(secrets[1].expose(), "old-secret");
        assert!(!format!("{secrets:?}").contains("secret"));
    }

    #[test]
    fn an_assignment_for_an_unknown_team_is_rejected() {
        let mut settings = Settings::default();
        settings.requests.assignment.push(AssignmentConfig {
            team: TeamKey::parse("nobody").unwrap(),
            strategy: Strategy::RoundRobin,
        });
        let (key, problem) = settings.request_rules().unwrap_err();
        assert_eq!(key, "requests.assignment[0].team");
        assert!(problem.contains("nobody"));
    }
}
