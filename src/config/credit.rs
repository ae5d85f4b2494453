//! Configuration of credit approvals: reason codes, timers, the approval chain rules
//! (`[credits]`, `[[credits.chain]]`) and the authority matrix (`[authority]`), and its
//! translation into the domain's types.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::Settings;
use super::escalation::KeyProblem;
use crate::domain::credit::{AuthorityMatrix, ChainRule, Limit};
use crate::domain::identity::Role;
use crate::domain::ids::PersonKey;
use crate::domain::money::Currency;

/// `[credits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreditSettings {
    /// Reason codes a request may give (lowercase words).
    pub reason_codes: Vec<String>,
    /// Hours after a request (or edit) when the approvers of the waiting level are reminded.
    pub remind_after_hours: u32,
    /// Hours after a request (or edit) when a still-pending request expires.
    pub expire_after_hours: u32,
    /// How far back the card lists the account's other requests.
    pub recent_days: u32,
    /// The approval chain rules, in order: `[[credits.chain]]`.
    pub chain: Vec<ChainLevelConfig>,
}

impl Default for CreditSettings {
    fn default() -> Self {
        let threshold = |amount: i64| {
            ["USD", "EUR", "GBP"].iter().map(|c| (c.to_string(), Decimal::from(amount))).collect()
        };
        CreditSettings {
            reason_codes: ["goodwill", "billing-error", "service-outage"]
                .map(String::from)
                .to_vec(),
            remind_after_hours: 24,
            expire_after_hours: 72,
            recent_days: 90,
            chain: vec![
                ChainLevelConfig {
                    roles: vec![Role::Supervisor, Role::Finance],
                    above: BTreeMap::new(),
                },
                ChainLevelConfig { roles: vec![Role::Finance], above: threshold(1000) },
            ],
        }
    }
}

/// One chain rule: who decides the level, and above which amount per currency it applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainLevelConfig {
    pub roles: Vec<Role>,
    /// `{ USD = "1000" }`: applies when |amount| is above; empty: always.
    #[serde(default)]
    pub above: BTreeMap<String, Decimal>,
}

/// `[authority]`: limits per role and per person, per currency.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthoritySettings {
    /// `[authority.roles.supervisor.USD]`. Keyed by the role's name, parsed by `credit_policy`,
    /// so that an error inside a role's table names the role (a map keyed by an enum shows `?`).
    pub roles: BTreeMap<String, BTreeMap<String, LimitConfig>>,
    /// `[authority.people.sam.USD]`: replaces the role limit for that person and currency.
    pub people: BTreeMap<PersonKey, BTreeMap<String, LimitConfig>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    /// Largest single amount (magnitude) the person may approve.
    pub per_request: Decimal,
    /// Largest sum of approvals per calendar month in the approver's time zone.
    pub monthly: Decimal,
}

/// The credit rules, parsed once.
#[derive(Debug, Clone, Default)]
pub struct CreditPolicy {
    pub authority: AuthorityMatrix,
    pub chain: Vec<ChainRule>,
}

fn currency(raw: &str, key: &str) -> Result<Currency, KeyProblem> {
    Currency::parse(raw)
        .ok_or_else(|| (key.to_owned(), format!("`{raw}` is not a known ISO 4217 currency")))
}

fn limits(
    table: &BTreeMap<String, LimitConfig>,
    key: &str,
) -> Result<BTreeMap<Currency, Limit>, KeyProblem> {
    let mut out = BTreeMap::new();
    for (code, limit) in table {
        let key = format!("{key}.{code}");
        let parsed = currency(code, &key)?;
        if limit.per_request <= Decimal::ZERO || limit.monthly <= Decimal::ZERO {
            return Err((key, "limits must be greater than zero".into()));
        }
        if limit.per_request > limit.monthly {
            return Err((format!("{key}.per_request"), "must not exceed monthly".into()));
        }
        out.insert(parsed, Limit { per_request: limit.per_request, monthly: limit.monthly });
    }
    Ok(out)
}

impl Settings {
    pub fn credit_policy(&self) -> Result<CreditPolicy, KeyProblem> {
        let credits = &self.credits;
        if credits.reason_codes.is_empty() {
            return Err(("credits.reason_codes".into(), "list at least one reason code".into()));
        }
        for (index, code) in credits.reason_codes.iter().enumerate() {
            let slug = !code.is_empty()
                && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug {
                return Err((
                    format!("credits.reason_codes[{index}]"),
                    format!("`{code}`: use lowercase letters, digits and -"),
                ));
            }
        }
        if credits.expire_after_hours == 0 || credits.remind_after_hours == 0 {
            return Err(("credits.expire_after_hours".into(), "must be greater than zero".into()));
        }
        if credits.remind_after_hours >= credits.expire_after_hours {
            return Err((
                "credits.remind_after_hours".into(),
                "must be less than credits.expire_after_hours".into(),
            ));
        }
        if credits.chain.is_empty() {
            return Err(("credits.chain".into(), "a chain needs at least one level".into()));
        }
        let mut chain = Vec::new();
        for (index, level) in credits.chain.iter().enumerate() {
            let key = format!("credits.chain[{index}]");
            if level.roles.is_empty() {
                return Err((format!("{key}.roles"), "name at least one role".into()));
            }
            let mut above = BTreeMap::new();
            for (code, threshold) in &level.above {
                let parsed = currency(code, &format!("{key}.above.{code}"))?;
                if *threshold < Decimal::ZERO {
                    return Err((format!("{key}.above.{code}"), "must not be negative".into()));
                }
                above.insert(parsed, *threshold);
            }
            chain.push(ChainRule { roles: level.roles.clone(), above });
        }
        if !credits.chain[0].above.is_empty() {
            return Err((
                "credits.chain[0].above".into(),
                "the first level must apply to every amount (no `above`)".into(),
            ));
        }
        let mut authority = AuthorityMatrix::default();
        for (name, table) in &self.authority.roles {
            let key = format!("authority.roles.{name}");
            let role = Role::parse(name).ok_or_else(|| {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                (key.clone(), format!("`{name}` is not a role: use {}", roles.join(", ")))
            })?;
            authority.roles.insert(role, limits(table, &key)?);
        }
        for (person, table) in &self.authority.people {
            let key = format!("authority.people.{person}");
            if !self.people.iter().any(|p| &p.key == person) {
                return Err((key, format!("no person `{person}`")));
            }
            authority.people.insert(person.clone(), limits(table, &key)?);
        }
        Ok(CreditPolicy { authority, chain })
    }
}
