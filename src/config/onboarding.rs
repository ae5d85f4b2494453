//! Onboarding plans (`[onboarding]`, `[[onboarding.plans]]`, `[[onboarding.plans.steps]]`)
//! and their translation into the domain's [`OnboardingPlan`]s.

use serde::Deserialize;

use super::Settings;
use super::escalation::KeyProblem;
use crate::domain::duration::parse_duration;
use crate::domain::identity::Role;
use crate::domain::ids::PersonKey;
use crate::domain::onboarding::{OnboardingPlan, PlanStep};

/// `[onboarding]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnboardingSettings {
    /// The fraction of a step's target after which it is at risk (0 < f ≤ 1).
    pub at_risk_fraction: f64,
    /// The plans: `[[onboarding.plans]]`.
    pub plans: Vec<PlanConfig>,
}

impl Default for OnboardingSettings {
    fn default() -> Self {
        OnboardingSettings { at_risk_fraction: 0.75, plans: Vec::new() }
    }
}

/// One plan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// The name in `/onboard <account> <plan>` (lowercase).
    pub key: String,
    pub name: String,
    /// The account tiers the plan is for; empty: every tier.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Each step waits for the steps before it (done or n/a); its clock starts then.
    #[serde(default = "yes")]
    pub in_order: bool,
    /// The steps, in order: `[[onboarding.plans.steps]]`.
    pub steps: Vec<StepConfig>,
}

/// One step of a plan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// Lowercase, at most 32 characters (it is part of the buttons' action ids).
    pub key: String,
    pub name: String,
    /// The Steward role that works the step (supervisors and admins may too).
    pub owner_role: Role,
    /// The person who works it, by key (default: the account's owner when they hold
    /// `owner_role`, else the team); the standup lists the step under them.
    #[serde(default)]
    pub owner: Option<String>,
    /// Business time on the team's calendar, e.g. `"4h"`.
    pub target: String,
    /// The account is active when every required step is done; only optional steps can be
    /// marked not applicable.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

fn key_ok(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 32
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Settings {
    /// The configured plans, checked.
    pub fn onboarding_plans(&self) -> Result<Vec<OnboardingPlan>, KeyProblem> {
        let fraction = self.onboarding.at_risk_fraction;
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(("onboarding.at_risk_fraction".into(), "must be in (0, 1]".into()));
        }
        let mut plans: Vec<OnboardingPlan> = Vec::new();
        for (index, plan) in self.onboarding.plans.iter().enumerate() {
            let at = |field: &str| format!("onboarding.plans[{index}].{field}");
            if !key_ok(&plan.key) || plans.iter().any(|p| p.key == plan.key) {
                return Err((
                    at("key"),
                    "use a unique lowercase key of at most 32 characters".into(),
                ));
            }
            if !plan.steps.iter().any(|s| s.required) {
                return Err((at("steps"), "name at least one required step".into()));
            }
            let mut steps: Vec<PlanStep> = Vec::new();
            for (n, step) in plan.steps.iter().enumerate() {
                let at = |field: &str| format!("onboarding.plans[{index}].steps[{n}].{field}");
                if !key_ok(&step.key) || steps.iter().any(|s| s.key == step.key) {
                    return Err((
                        at("key"),
                        "use a unique lowercase key of at most 32 characters".into(),
                    ));
                }
                let target =
                    parse_duration(&step.target).map_err(|e| (at("target"), e.to_string()))?;
                let owner = match &step.owner {
                    Some(raw) => Some(
                        PersonKey::parse(raw)
                            .ok()
                            .filter(|k| self.people.iter().any(|p| &p.key == k))
                            .ok_or_else(|| (at("owner"), format!("no person `{raw}`")))?,
                    ),
                    None => None,
                };
                steps.push(PlanStep {
                    key: step.key.clone(),
                    name: step.name.clone(),
                    owner_role: step.owner_role,
                    owner,
                    target_seconds: target.num_seconds(),
                    required: step.required,
                });
            }
            plans.push(OnboardingPlan {
                key: plan.key.clone(),
                name: plan.name.clone(),
                in_order: plan.in_order,
                steps,
            });
        }
        Ok(plans)
    }

    /// The tiers plan `key` is for (empty: every tier).
    pub fn onboarding_tiers(&self, key: &str) -> &[String] {
        self.onboarding
            .plans
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.tiers.as_slice())
            .unwrap_or(&[])
    }
}
