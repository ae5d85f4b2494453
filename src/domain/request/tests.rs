use crate::domain::item::Living;
use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::identity::fixtures::person;
use crate::domain::sla::SlaStatus;
use crate::domain::sla_policy::CalendarSpec;

fn t(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap().to_utc()
        + Duration::minutes(minutes)
}

fn key(k: &str) -> PersonKey {
    PersonKey::parse(k).unwrap()
}

fn request() -> Request {
    Request {
        id: 3,
        version: 1,
        team: TeamKey::parse("ops").unwrap(),
        account: AccountKey::parse("ACME-1").unwrap(),
        tier: "standard".into(),
        kind: "billing".into(),
        priority: Priority::P3,
        priority_source: PrioritySource::Default,
        summary: "Invoice wrong".into(),
        fields: BTreeMap::new(),
        source: "chat".into(),
        external_id: None,
        requested_by: "sam".into(),
        opened_at: t(0),
        state: RequestState::Queued,
        assignee: None,
        assignment: None,
        first_assignee: None,
        reassigned: false,
        reopened: false,
        accepted: None,
        resolved: None,
        first_contact_resolution: false,
        sla: SlaPlan {
            calendar: CalendarSpec::office_hours(chrono_tz::Europe::London),
            always_open: false,
            acknowledge_seconds: 3600,
            resolve_seconds: 8 * 3600,
            at_risk_fraction: 0.75,
        },
        pauses: vec![],
        living: Living::new(Platform::Console, "ops".into(), None),
    }
}

fn assigned_to(k: &str) -> Request {
    let auto = RequestAction::Assign { to: key(k), reason: "least loaded".into() };
    apply(&request(), None, &auto, t(0)).unwrap()
}

#[test]
fn automatic_assignment_records_the_reason_and_the_first_assignee() {
    let r = assigned_to("alice");
    assert_eq!(r.state, RequestState::Assigned);
    assert_eq!(r.first_assignee, Some(key("alice")));
    let assignment = r.assignment.unwrap();
    assert_eq!((assignment.by.as_str(), assignment.reason.as_str()), ("steward", "least loaded"));
}

#[test]
fn resolved_by_the_first_assignee_counts_as_first_contact_resolution() {
    let alice = person("alice", "ops", &[Role::Agent]);
    let r = assigned_to("alice");
    let r = apply(&r, Some(&alice), &RequestAction::Accept, t(5)).unwrap();
    let r =
        apply(&r, Some(&alice), &RequestAction::Resolve { note: "fixed".into() }, t(30)).unwrap();
    assert!(r.first_contact_resolution);
    assert_eq!(r.accepted.unwrap().at, t(5));
}

#[test]
fn a_reassigned_request_is_not_first_contact_resolution() {
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let bob = person("bob", "ops", &[Role::Agent]);
    let r = assigned_to("alice");
    let r = apply(&r, Some(&sam), &RequestAction::Reassign { to: key("bob") }, t(5)).unwrap();
    assert!(r.reassigned);
    let r = apply(&r, Some(&bob), &RequestAction::Resolve { note: "done".into() }, t(9)).unwrap();
    assert!(!r.first_contact_resolution);
}

#[test]
fn only_leads_or_the_assignee_may_reassign_and_only_the_assignee_hands_off() {
    let bob = person("bob", "ops", &[Role::Agent]);
    let alice = person("alice", "ops", &[Role::Agent]);
    let r = assigned_to("alice");
    let reassign = RequestAction::Reassign { to: key("bob") };
    assert!(matches!(apply(&r, Some(&bob), &reassign, t(1)), Err(Refusal::Role { .. })));
    assert!(apply(&r, Some(&alice), &reassign, t(1)).is_ok());
    let handoff = RequestAction::Handoff { to: key("alice") };
    assert_eq!(
        apply(&r, Some(&bob), &handoff, t(1)),
        Err(Refusal::NotAssignee(Some(key("alice"))))
    );
    let to_self = RequestAction::Reassign { to: key("alice") };
    assert_eq!(
        apply(&r, Some(&alice), &to_self, t(1)),
        Err(Refusal::AlreadyAssignee(key("alice")))
    );
}

#[test]
fn need_info_pauses_the_resolution_clock_until_resumed() {
    let alice = person("alice", "ops", &[Role::Agent]);
    let r = assigned_to("alice");
    let r = apply(&r, Some(&alice), &RequestAction::Accept, t(0)).unwrap();
    let waiting = apply(&r, Some(&alice), &RequestAction::NeedInfo, t(60)).unwrap();
    assert_eq!(waiting.state, RequestState::WaitingOnCustomer);
    assert_eq!(waiting.sla_view(t(600)).unwrap().resolve.status, SlaStatus::Paused);
    // Unpaused it is due at 17:00; resumed after two hours, the two business hours it lost
    // carry over to Tuesday morning.
    assert_eq!(r.sla_view(t(0)).unwrap().resolve.due.unwrap(), t(8 * 60));
    let resumed = apply(&waiting, Some(&alice), &RequestAction::Resume, t(180)).unwrap();
    assert_eq!(resumed.state, RequestState::InProgress);
    let due = resumed.sla_view(t(180)).unwrap().resolve.due.unwrap();
    assert_eq!(due, t(24 * 60 + 2 * 60));
}

#[test]
fn a_resolved_request_refuses_everything_but_reopen() {
    let alice = person("alice", "ops", &[Role::Agent]);
    let r = assigned_to("alice");
    let r = apply(&r, Some(&alice), &RequestAction::Resolve { note: "ok".into() }, t(10)).unwrap();
    assert!(matches!(
        apply(&r, Some(&alice), &RequestAction::Accept, t(11)),
        Err(Refusal::AlreadyResolved(_))
    ));
    let reopened = apply(&r, Some(&alice), &RequestAction::Reopen, t(20)).unwrap();
    assert_eq!(reopened.state, RequestState::InProgress);
    assert!(reopened.reopened && !reopened.first_contact_resolution);
}

#[test]
fn resolving_needs_a_note() {
    let alice = person("alice", "ops", &[Role::Agent]);
    let r = assigned_to("alice");
    assert_eq!(
        apply(&r, Some(&alice), &RequestAction::Resolve { note: "  ".into() }, t(1)),
        Err(Refusal::NoteRequired)
    );
}
