use super::*;
use crate::domain::escalation::tests::{agent, escalation, t};
use crate::domain::escalation::{EscalationAction as A, apply};
use crate::domain::identity::Role;
use crate::domain::identity::fixtures::person;
use crate::domain::ids::PersonKey;

/// An escalation on a 24x7 plan opened at `t(0)`: acknowledge within 1 hour, resolve within
/// 8 hours, at risk after three quarters of each (45 minutes, 6 hours).
fn opened() -> Escalation {
    let mut e = escalation();
    e.sla.always_open = true;
    e
}

fn step(e: &Escalation, action: A, minute: i64) -> Escalation {
    apply(e, &agent("bob"), &action, t(minute)).unwrap()
}

#[test]
fn a_reassignment_after_the_instant_leaves_the_owner_of_then() {
    let acked = step(&opened(), A::Acknowledge, 5);
    let to = PersonKey::parse("carol").unwrap();
    let reassigned = step(&acked, A::Reassign { to }, 60);
    // The first record after t(30) is the reassignment: it started from `acked`.
    let then = escalation_at(&reassigned, &acked.snapshot(), t(30)).unwrap();
    assert_eq!(then.person.as_deref(), Some("bob"));
    assert!(then.open);
    assert_eq!(then.first_at, Some(t(5)));
    // The acknowledge clock had stopped: only the resolve clock ran.
    assert_eq!((then.due, then.risk), (Some(t(480)), Some(t(360))));
}

#[test]
fn an_acknowledgement_after_the_instant_leaves_the_acknowledge_clock_running() {
    let acked = step(&opened(), A::Acknowledge, 50);
    let then = escalation_at(&acked, &opened().snapshot(), t(30)).unwrap();
    assert_eq!((then.person, then.first_at), (None, None));
    assert_eq!((then.due, then.risk), (Some(t(60)), Some(t(45))));
}

#[test]
fn an_item_resolved_then_and_reopened_since_was_not_open() {
    let acked = step(&opened(), A::Acknowledge, 5);
    let resolved = step(&acked, A::Resolve { note: "fixed".into() }, 100);
    let lead = person("sam", "ops", &[Role::Supervisor]);
    let reopened = apply(&resolved, &lead, &A::Reopen, t(200)).unwrap();
    assert!(!escalation_at(&reopened, &resolved.snapshot(), t(150)).unwrap().open);
    // Opened after the instant: not open then either.
    assert!(!escalation_at(&acked, &serde_json::Value::Null, t(-1)).unwrap().open);
}

#[test]
fn a_clock_paused_then_and_resumed_since_had_no_resolve_deadline_then() {
    let acked = step(&opened(), A::Acknowledge, 5);
    let waiting = step(&acked, A::WaitOnCustomer, 60);
    let resumed = step(&waiting, A::Resume, 180);
    // Two hours paused: the resolve clock is due two hours later now.
    let now = resumed.projection().unwrap();
    assert_eq!(now.get("due_at"), Some(&crate::domain::item::Cell::Time(Some(t(600)))));
    // At t(120) it was paused: no running clock, so neither at risk nor breached.
    let then = escalation_at(&resumed, &waiting.snapshot(), t(120)).unwrap();
    assert!(then.open);
    assert_eq!((then.due, then.risk), (None, None));
    // At t(30), before the pause, it was due at t(480) (at risk from t(360)).
    let before = escalation_at(&resumed, &acked.snapshot(), t(30)).unwrap();
    assert_eq!((before.due, before.risk), (Some(t(480)), Some(t(360))));
    // After the resume, the pause counts: t(600).
    assert_eq!(escalation_at(&resumed, &resumed.snapshot(), t(200)).unwrap().due, Some(t(600)));
}

#[test]
fn a_clock_paused_since_ran_at_the_instant() {
    let acked = step(&opened(), A::Acknowledge, 5);
    let waiting = step(&acked, A::WaitOnCustomer, 400);
    // Paused now (no deadline); at t(370) it was running and at risk, due at t(480).
    let then = escalation_at(&waiting, &acked.snapshot(), t(370)).unwrap();
    assert_eq!((then.due, then.risk), (Some(t(480)), Some(t(360))));
}

#[test]
fn a_resolution_a_reopen_undid_is_found_with_its_standing_then() {
    let acked = step(&opened(), A::Acknowledge, 5);
    // Due at t(480); waiting t(60)–t(120) moves it to t(540); resolved at t(500): in time.
    let waited = step(&step(&acked, A::WaitOnCustomer, 60), A::Resume, 120);
    let resolved = step(&waited, A::Resolve { note: "fixed".into() }, 500);
    let lead = person("sam", "ops", &[Role::Supervisor]);
    let reopened = apply(&resolved, &lead, &A::Reopen, t(700)).unwrap();
    let undone = escalation_undone(&reopened, &resolved.snapshot(), t(600)).unwrap().unwrap();
    assert_eq!((undone.resolved_at, undone.within_sla), (t(500), true));
    assert_eq!((undone.person.as_deref(), undone.acknowledged_at), (Some("bob"), Some(t(5))));
    // The 200 minutes spent resolved are a pause too: due at t(740) now.
    assert_eq!(undone.resolve_due_now, Some(t(740)));
    // Open at the instant (before the resolution): nothing was undone.
    assert_eq!(escalation_undone(&reopened, &waited.snapshot(), t(400)).unwrap(), None);
}

#[test]
fn an_onboarding_then_has_the_steps_closed_since_open_and_no_activation() {
    use crate::domain::onboarding::tests::{done, monday, onboarding};
    let alice = person("alice", "ops", &[Role::Agent]);
    // Contract (2 business hours) done at 10:00, KYC (4 hours, from then) at 12:00: the
    // required steps are done, so it is active since 12:00.
    let contract = onboarding(true).apply(&alice, &done("contract"), monday(10)).unwrap();
    let active = contract.apply(&alice, &done("kyc"), monday(12)).unwrap();
    assert_eq!(active.state.as_str(), "active");
    let at = |hour| onboarding_at(&active, monday(hour)).unwrap();
    let nine = at(9).unwrap();
    assert_eq!(
        (nine.state.as_str(), nine.current_step.as_deref()),
        ("onboarding", Some("contract"))
    );
    assert_eq!((nine.due_at, nine.activated_at), (Some(monday(11)), None));
    let eleven = at(11).unwrap();
    assert_eq!((eleven.current_step.as_deref(), eleven.due_at), (Some("kyc"), Some(monday(14))));
    assert_eq!(at(12).unwrap().activated_at, Some(monday(12)));
    // Not started yet at 08:00.
    assert_eq!(at(8), None);
}
