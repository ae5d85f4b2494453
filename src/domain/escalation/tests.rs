use crate::domain::item::Living;
use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::identity::fixtures::person;
use crate::domain::policy::{Level, PageTarget};
use crate::domain::sla_policy::CalendarSpec;

pub(crate) fn t(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap().to_utc()
        + Duration::minutes(minutes)
}

pub(crate) fn escalation() -> Escalation {
    let level = Level { wait_seconds: 600, targets: vec![PageTarget::Shift(None)] };
    Escalation {
        id: 7,
        version: 1,
        team: TeamKey::parse("ops").unwrap(),
        account: AccountKey::parse("ACME-1").unwrap(),
        tier: "standard".into(),
        severity: Severity::Sev2,
        summary: "Invoices missing".into(),
        opened_by: PersonKey::parse("alice").unwrap(),
        opened_at: t(0),
        state: EscalationState::Open,
        owner: None,
        acknowledged: None,
        resolved: None,
        step: 0,
        paging: vec![],
        policy: EscalationPolicy {
            name: "p".into(),
            levels: vec![level.clone(), level],
            repeat: 0,
        },
        sla: SlaPlan {
            calendar: CalendarSpec::office_hours(chrono_tz::Europe::London),
            always_open: false,
            acknowledge_seconds: 3600,
            resolve_seconds: 8 * 3600,
            at_risk_fraction: 0.75,
        },
        pauses: vec![],
        alerts: SlaAlerts::default(),
        incident: None,
        living: Living::new(Platform::Console, "ops".into(), None),
    }
}

pub(crate) fn agent(key: &str) -> Person {
    person(key, "ops", &[Role::Agent])
}

#[test]
fn acknowledging_sets_owner_and_stamp() {
    let next = apply(&escalation(), &agent("bob"), &EscalationAction::Acknowledge, t(5)).unwrap();
    assert_eq!(next.state, EscalationState::Acknowledged);
    assert_eq!(next.owner.unwrap().as_str(), "bob");
    assert_eq!(next.acknowledged.unwrap().at, t(5));
}

#[test]
fn a_second_acknowledgement_is_told_who_was_first() {
    let first = apply(&escalation(), &agent("bob"), &EscalationAction::Acknowledge, t(5)).unwrap();
    let err = apply(&first, &agent("carol"), &EscalationAction::Acknowledge, t(6)).unwrap_err();
    assert_eq!(
        err,
        Refusal::AlreadyAcknowledged(Stamp { by: PersonKey::parse("bob").unwrap(), at: t(5) })
    );
}

#[test]
fn a_war_room_is_opened_once_and_only_by_people_who_work_escalations() {
    let open = EscalationAction::OpenWarRoom;
    assert!(apply(&escalation(), &agent("bob"), &open, t(1)).is_ok());
    let with_room = Escalation { incident: Some(7), ..escalation() };
    assert_eq!(apply(&with_room, &agent("bob"), &open, t(2)), Err(Refusal::WarRoomOpen(7)));
    let auditor = person("audrey", "ops", &[Role::Auditor]);
    let err = apply(&escalation(), &auditor, &open, t(1)).unwrap_err();
    assert!(matches!(err, Refusal::Role { action: "war_room", .. }));
}

#[test]
fn people_without_a_working_role_cannot_act() {
    let auditor = person("audrey", "ops", &[Role::Auditor]);
    let err = apply(&escalation(), &auditor, &EscalationAction::Acknowledge, t(1)).unwrap_err();
    assert!(matches!(err, Refusal::Role { action: "acknowledge", .. }));
}

#[test]
fn only_leads_or_the_owner_reassign() {
    let to = EscalationAction::Reassign { to: PersonKey::parse("carol").unwrap() };
    assert!(matches!(apply(&escalation(), &agent("bob"), &to, t(1)), Err(Refusal::Role { .. })));
    let lead = person("sam", "ops", &[Role::Supervisor]);
    assert_eq!(apply(&escalation(), &lead, &to, t(1)).unwrap().owner.unwrap().as_str(), "carol");
    let owned = apply(&escalation(), &agent("bob"), &EscalationAction::Claim, t(1)).unwrap();
    assert!(apply(&owned, &agent("bob"), &to, t(2)).is_ok());
}

#[test]
fn its_teams_agents_and_supervisors_but_not_its_owner_may_own_it() {
    let e = escalation();
    assert!(may_own(&e, &agent("bob")));
    assert!(may_own(&e, &person("sam", "ops", &[Role::Supervisor])));
    assert!(!may_own(&e, &person("fran", "ops", &[Role::Finance])), "no working role");
    assert!(!may_own(&e, &person("ann", "billing", &[Role::Agent])), "another team");
    let owned = apply(&e, &agent("bob"), &EscalationAction::Claim, t(1)).unwrap();
    assert!(!may_own(&owned, &agent("bob")), "already owns it");
}

#[test]
fn waiting_pauses_and_resuming_closes_the_pause() {
    let acked = apply(&escalation(), &agent("bob"), &EscalationAction::Acknowledge, t(1)).unwrap();
    let waiting = apply(&acked, &agent("bob"), &EscalationAction::WaitOnCustomer, t(10)).unwrap();
    assert_eq!(waiting.pauses, vec![PauseSpan { start: t(10), end: None }]);
    let resumed = apply(&waiting, &agent("bob"), &EscalationAction::Resume, t(70)).unwrap();
    assert_eq!(resumed.state, EscalationState::Acknowledged);
    assert_eq!(resumed.pauses, vec![PauseSpan { start: t(10), end: Some(t(70)) }]);
}

#[test]
fn waiting_needs_an_acknowledged_escalation() {
    let err =
        apply(&escalation(), &agent("bob"), &EscalationAction::WaitOnCustomer, t(1)).unwrap_err();
    assert_eq!(err, Refusal::NotInState { action: "wait", state: EscalationState::Open });
}

#[test]
fn resolving_needs_a_note_and_then_refuses_everything_but_reopen() {
    let blank = EscalationAction::Resolve { note: "  ".into() };
    assert_eq!(
        apply(&escalation(), &agent("bob"), &blank, t(1)).unwrap_err(),
        Refusal::NoteRequired
    );
    let resolve = EscalationAction::Resolve { note: "Re-ran invoicing".into() };
    let resolved = apply(&escalation(), &agent("bob"), &resolve, t(30)).unwrap();
    assert_eq!(resolved.state, EscalationState::Resolved);
    assert!(resolved.acknowledged.is_some(), "resolving also stops the acknowledge clock");
    let err = apply(&resolved, &agent("carol"), &EscalationAction::Claim, t(31)).unwrap_err();
    assert!(matches!(err, Refusal::AlreadyResolved(_)));
}

#[test]
fn reopening_excludes_the_resolved_interval_from_the_resolve_clock() {
    let resolve = EscalationAction::Resolve { note: "done".into() };
    let resolved = apply(&escalation(), &agent("bob"), &resolve, t(30)).unwrap();
    let err = apply(&resolved, &agent("bob"), &EscalationAction::Reopen, t(60)).unwrap_err();
    assert!(matches!(err, Refusal::Role { .. }), "bob neither opened it nor leads");
    let reopened = apply(&resolved, &agent("alice"), &EscalationAction::Reopen, t(60)).unwrap();
    assert_eq!(reopened.state, EscalationState::Acknowledged);
    assert_eq!(reopened.pauses, vec![PauseSpan { start: t(30), end: Some(t(60)) }]);
}

#[test]
fn escalating_past_the_last_level_is_refused() {
    let once = apply(&escalation(), &agent("bob"), &EscalationAction::EscalateNow, t(1)).unwrap();
    assert_eq!(once.step, 1);
    let err = apply(&once, &agent("bob"), &EscalationAction::EscalateNow, t(2)).unwrap_err();
    assert_eq!(err, Refusal::NoFurtherLevels);
}

#[test]
fn closing_the_open_pause_ends_only_the_one_still_running() {
    let mut pauses =
        vec![PauseSpan { start: t(1), end: Some(t(2)) }, PauseSpan { start: t(5), end: None }];
    PauseSpan::close_open(&mut pauses, t(9));
    assert_eq!(pauses[0], PauseSpan { start: t(1), end: Some(t(2)) });
    assert_eq!(pauses[1], PauseSpan { start: t(5), end: Some(t(9)) });
    PauseSpan::close_open(&mut pauses, t(12));
    assert_eq!(pauses[1].end, Some(t(9)), "a closed pause is not moved again");
}
