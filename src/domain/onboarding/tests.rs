use chrono::{TimeZone, Utc};
use chrono_tz::Europe::London;

use super::*;
use crate::domain::identity::fixtures::person;

/// Monday 23 November 2026, 09:00 London (office hours 09–17).
pub(crate) fn monday(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0).unwrap()
}

fn step(key: &str, role: Role, hours: i64, required: bool) -> PlanStep {
    PlanStep {
        key: key.into(),
        name: key.into(),
        owner_role: role,
        owner: None,
        target_seconds: hours * 3600,
        required,
    }
}

pub(crate) fn onboarding(in_order: bool) -> Onboarding {
    let plan = OnboardingPlan {
        key: "standard".into(),
        name: "Standard".into(),
        in_order,
        steps: vec![
            step("contract", Role::Agent, 2, true),
            step("kyc", Role::Agent, 4, true),
            step("invoice", Role::Finance, 8, false),
        ],
    };
    let alice = person("alice", "ops", &[Role::Agent]);
    Onboarding::opened(OnboardingOpening {
        account: AccountKey::parse("ACME-1").unwrap(),
        plan: &plan,
        calendar: CalendarSpec::office_hours(London),
        at_risk_fraction: 0.75,
        opened_by: &alice,
        account_owner: Some(&alice),
        team: TeamKey::parse("ops").unwrap(),
        platform: Platform::Console,
        channel: "ops".into(),
        now: monday(9),
    })
}

pub(crate) fn done(step: &str) -> StepAction {
    StepAction::Done { step: step.into() }
}

#[test]
fn an_ordered_plan_refuses_a_step_before_the_ones_it_waits_for() {
    let o = onboarding(true);
    let alice = person("alice", "ops", &[Role::Agent]);
    assert_eq!(
        o.apply(&alice, &done("kyc"), monday(10)),
        Err(Refusal::OutOfOrder { step: "kyc".into(), waiting_for: vec!["contract".into()] })
    );
    let next = o.apply(&alice, &done("contract"), monday(10)).unwrap();
    assert_eq!(next.steps[1].started_at, Some(monday(10)), "the next step's clock starts now");
    assert!(onboarding(false).apply(&alice, &done("kyc"), monday(10)).is_ok());
}

#[test]
fn the_account_is_active_when_every_required_step_is_done_and_required_steps_are_never_skipped() {
    let o = onboarding(true);
    let alice = person("alice", "ops", &[Role::Agent]);
    let na = |step: &str| StepAction::NotApplicable { step: step.into(), reason: "no".into() };
    assert_eq!(
        o.apply(&alice, &na("contract"), monday(10)),
        Err(Refusal::RequiredStep { step: "contract".into() })
    );
    let o = o.apply(&alice, &done("contract"), monday(10)).unwrap();
    let o = o.apply(&alice, &done("kyc"), monday(11)).unwrap();
    assert_eq!(o.state, OnboardingState::Active);
    assert_eq!(o.activated_at, Some(monday(11)));
    assert_eq!(o.apply(&alice, &done("invoice"), monday(12)), Err(Refusal::Active));
}

#[test]
fn a_step_clock_runs_in_business_hours_and_a_late_step_counts_as_a_breach() {
    let o = onboarding(true);
    let alice = person("alice", "ops", &[Role::Agent]);
    let contract = o.clock(&o.steps[0], monday(10)).unwrap().unwrap();
    assert_eq!(contract.view.due, Some(monday(11)));
    assert_eq!(contract.view.status, SlaStatus::OnTrack);
    assert_eq!(o.clock(&o.steps[1], monday(10)).unwrap(), None, "kyc has not started");
    assert_eq!(o.clock(&o.steps[0], monday(12)).unwrap().unwrap().view.status, SlaStatus::Breached);
    let late = o.apply(&alice, &done("contract"), monday(12)).unwrap();
    assert_eq!(late.breaches(monday(12)).unwrap(), 1);
    // kyc started at 12:00 with 4 business hours: due at 16:00, at risk from 15:00.
    let kyc = late.clock(&late.steps[1], monday(12)).unwrap().unwrap();
    assert_eq!((kyc.view.due, kyc.view.at_risk_at), (Some(monday(16)), Some(monday(15))));
    assert_eq!(
        late.projection().unwrap().get("steps_missed"),
        Some(&crate::domain::item::Cell::Int(1))
    );
}

#[test]
fn only_the_owner_role_works_a_step_and_blocking_needs_a_reason() {
    let o = onboarding(false);
    let fran = person("fran", "ops", &[Role::Finance]);
    let alice = person("alice", "ops", &[Role::Agent]);
    assert_eq!(
        o.apply(&fran, &done("kyc"), monday(10)),
        Err(Refusal::Role { step: "kyc".into(), role: Role::Agent })
    );
    let blocked = |reason: &str| StepAction::Blocked { step: "kyc".into(), reason: reason.into() };
    assert_eq!(o.apply(&alice, &blocked(" "), monday(10)), Err(Refusal::NeedsReason));
    let o = o.apply(&alice, &blocked("waiting for passport"), monday(10)).unwrap();
    assert_eq!(o.steps[1].state, StepState::Blocked { reason: "waiting for passport".into() });
    assert!(o.apply(&alice, &done("kyc"), monday(11)).is_ok(), "a blocked step can still be done");
}

#[test]
fn the_account_owner_works_the_steps_of_their_role_and_a_named_owner_wins() {
    let o = onboarding(true);
    let owners: Vec<Option<&str>> =
        o.steps.iter().map(|s| s.owner.as_ref().map(|k| k.as_str())).collect();
    // alice is an agent: the finance step is the team's.
    assert_eq!(owners, [Some("alice"), Some("alice"), None]);
    let mut plan_step = step("invoice", Role::Finance, 8, false);
    plan_step.owner = Some(PersonKey::parse("fran").unwrap());
    let plan = OnboardingPlan {
        key: "p".into(),
        name: "P".into(),
        in_order: false,
        steps: vec![plan_step],
    };
    let alice = person("alice", "ops", &[Role::Agent, Role::Finance]);
    let named = Onboarding::opened(OnboardingOpening {
        account: AccountKey::parse("ACME-1").unwrap(),
        plan: &plan,
        calendar: CalendarSpec::office_hours(London),
        at_risk_fraction: 0.75,
        opened_by: &alice,
        account_owner: Some(&alice),
        team: TeamKey::parse("ops").unwrap(),
        platform: Platform::Console,
        channel: "ops".into(),
        now: monday(9),
    });
    assert_eq!(named.steps[0].owner.as_ref().map(|k| k.as_str()), Some("fran"));
}
