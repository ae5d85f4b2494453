//! Triage of account requests: request types and their required fields, the priority a
//! request gets (explicit, type, account tier, keywords) and the SLA plan of each priority.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::assignment::Strategy;
use super::ids::TeamKey;
use super::sla_policy::{CalendarSpec, SlaPlan, Targets};

/// How urgent a request is; `P1` is the most urgent (and sorts first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "p1",
            Priority::P2 => "p2",
            Priority::P3 => "p3",
            Priority::P4 => "p4",
        }
    }

    /// `p1`…`p4`, any case.
    pub fn parse(raw: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(raw.trim()))
    }

    /// How much an open item weighs in "least loaded": a P1 keeps a person as busy as eight
    /// P4s. Stored in each row so the load is one indexed sum.
    pub fn weight(self) -> i32 {
        match self {
            Priority::P1 => 8,
            Priority::P2 => 4,
            Priority::P3 => 2,
            Priority::P4 => 1,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of request (onboarding, access, billing, …) as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestType {
    pub key: String,
    pub name: String,
    /// Fields a request of this type must carry (`invoice`, `amount`, …).
    pub required_fields: Vec<String>,
    /// Skills an assignee needs under the skill-match strategy.
    pub skills: Vec<String>,
    pub priority: Option<Priority>,
}

/// Summary words that raise the priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordRule {
    /// Lowercase words or phrases, matched case-insensitively anywhere in the summary.
    pub words: Vec<String>,
    pub priority: Priority,
}

/// Where a request's priority came from (shown on the card, kept in the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "value")]
pub enum PrioritySource {
    Explicit,
    Type(String),
    Tier(String),
    Keyword(String),
    Default,
}

/// Everything configured about requests, parsed once.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRules {
    pub types: Vec<RequestType>,
    pub default_priority: Priority,
    pub tier_priority: BTreeMap<String, Priority>,
    pub keywords: Vec<KeywordRule>,
    pub targets: BTreeMap<Priority, Targets>,
    pub at_risk_fraction: f64,
    pub strategies: BTreeMap<TeamKey, Strategy>,
    /// How long a queued request waits before assignment is tried again.
    pub retry_seconds: i64,
}

impl RequestRules {
    pub fn request_type(&self, key: &str) -> Option<&RequestType> {
        self.types.iter().find(|t| t.key.eq_ignore_ascii_case(key))
    }

    pub fn type_keys(&self) -> Vec<&str> {
        self.types.iter().map(|t| t.key.as_str()).collect()
    }

    /// The required fields of `kind` that `fields` lacks (or has empty).
    pub fn missing_fields(
        &self,
        kind: &RequestType,
        fields: &BTreeMap<String, String>,
    ) -> Vec<String> {
        kind.required_fields
            .iter()
            .filter(|f| fields.get(*f).is_none_or(|v| v.trim().is_empty()))
            .cloned()
            .collect()
    }

    /// The priority of a request: an explicit one wins; otherwise the most urgent of what
    /// the type, the account tier and the summary's keywords say; otherwise the default.
    pub fn triage(
        &self,
        kind: &RequestType,
        tier: &str,
        summary: &str,
        explicit: Option<Priority>,
    ) -> (Priority, PrioritySource) {
        if let Some(priority) = explicit {
            return (priority, PrioritySource::Explicit);
        }
        let lower = summary.to_lowercase();
        let mut found: Vec<(Priority, PrioritySource)> = Vec::new();
        if let Some(p) = kind.priority {
            found.push((p, PrioritySource::Type(kind.key.clone())));
        }
        if let Some(p) = self.tier_priority.get(tier) {
            found.push((*p, PrioritySource::Tier(tier.to_owned())));
        }
        for rule in &self.keywords {
            if let Some(word) = rule.words.iter().find(|w| lower.contains(w.as_str())) {
                found.push((rule.priority, PrioritySource::Keyword(word.clone())));
            }
        }
        // `min_by_key` keeps the first of equals: type before tier before keywords.
        found
            .into_iter()
            .min_by_key(|(p, _)| *p)
            .unwrap_or((self.default_priority, PrioritySource::Default))
    }

    /// The SLA plan of a priority on a team's calendar: first response is the "acknowledge"
    /// clock of the shared SLA machinery.
    pub fn plan(&self, priority: Priority, calendar: &CalendarSpec) -> Option<SlaPlan> {
        Some(self.targets.get(&priority)?.plan(calendar, self.at_risk_fraction))
    }

    pub fn strategy(&self, team: &TeamKey) -> Strategy {
        self.strategies.get(team).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn rules() -> RequestRules {
        let kind = |key: &str, priority| RequestType {
            key: key.into(),
            name: key.into(),
            required_fields: if key == "billing" { vec!["invoice".into()] } else { vec![] },
            skills: vec![key.into()],
            priority,
        };
        let targets = Targets {
            acknowledge: Duration::hours(1),
            resolve: Duration::hours(8),
            always_open: false,
        };
        RequestRules {
            types: vec![kind("billing", None), kind("dispute", Some(Priority::P2))],
            default_priority: Priority::P3,
            tier_priority: [("enterprise".to_owned(), Priority::P2)].into(),
            keywords: vec![KeywordRule {
                words: vec!["outage".into(), "fraud".into()],
                priority: Priority::P1,
            }],
            targets: Priority::ALL.into_iter().map(|p| (p, targets)).collect(),
            at_risk_fraction: 0.75,
            strategies: BTreeMap::new(),
            retry_seconds: 300,
        }
    }

    #[test]
    fn an_explicit_priority_wins_over_every_rule() {
        let rules = rules();
        let kind = rules.request_type("dispute").unwrap();
        let (p, source) = rules.triage(kind, "enterprise", "Fraud outage", Some(Priority::P4));
        assert_eq!((p, source), (Priority::P4, PrioritySource::Explicit));
    }

    #[test]
    fn the_most_urgent_of_type_tier_and_keywords_applies() {
        let rules = rules();
        let billing = rules.request_type("billing").unwrap();
        let dispute = rules.request_type("DISPUTE").unwrap();
        assert_eq!(
            rules.triage(billing, "smb", "Invoice wrong", None),
            (Priority::P3, PrioritySource::Default)
        );
        assert_eq!(
            rules.triage(billing, "enterprise", "Invoice wrong", None),
            (Priority::P2, PrioritySource::Tier("enterprise".into()))
        );
        assert_eq!(
            rules.triage(dispute, "enterprise", "x", None),
            (Priority::P2, PrioritySource::Type("dispute".into()))
        );
        assert_eq!(
            rules.triage(billing, "smb", "Suspected FRAUD on card", None),
            (Priority::P1, PrioritySource::Keyword("fraud".into()))
        );
    }

    #[test]
    fn missing_required_fields_are_listed() {
        let rules = rules();
        let billing = rules.request_type("billing").unwrap();
        assert_eq!(rules.missing_fields(billing, &BTreeMap::new()), vec!["invoice".to_owned()]);
        let fields = [("invoice".to_owned(), "INV-1".to_owned())].into();
        assert!(rules.missing_fields(billing, &fields).is_empty());
    }

    #[test]
    fn priorities_parse_in_any_case_and_weigh_by_urgency() {
        assert_eq!(Priority::parse("P2"), Some(Priority::P2));
        assert_eq!(Priority::parse("p5"), None);
        assert!(Priority::P1.weight() > Priority::P2.weight());
        assert!(Priority::P1 < Priority::P4, "p1 sorts first");
    }
}
