use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::domain::identity::Role;
use crate::domain::identity::fixtures::person;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn system(second_approver: bool, provisioning: Provisioning) -> AccessSystem {
    AccessSystem {
        key: "billing-admin".into(),
        name: "Billing admin".into(),
        roles: vec!["viewer".into(), "operator".into()],
        owners: vec![Owner::Person(PersonKey::parse("olga").unwrap())],
        max_duration: Duration::days(30),
        second_approver,
        provisioning,
        task_within: Duration::hours(4),
    }
}

fn request(second_approver: bool, provisioning: Provisioning) -> AccessRequest {
    let system = system(second_approver, provisioning);
    let holder = person("alice", "ops", &[Role::Agent]);
    let mut a = AccessRequest::opened(AccessOpening {
        system: &system,
        role: "viewer".into(),
        holder: &holder,
        deciders: vec![PersonKey::parse("olga").unwrap(), PersonKey::parse("sam").unwrap()],
        duration: Duration::days(7),
        reason: "month end".into(),
        platform: Platform::Console,
        channel: "ops".into(),
        now: now(),
    });
    a.id = 1;
    a
}

const TASK: Duration = Duration::hours(4);

#[test]
fn one_approval_grants_for_the_asked_duration_and_starts_the_webhook() {
    let a = request(false, Provisioning::Webhook);
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let next = a.apply(&sam, &AccessAction::Approve, false, TASK, now()).unwrap();
    assert_eq!(next.state, AccessState::Active);
    assert_eq!(next.grant, Some(Grant { starts_at: now(), expires_at: now() + Duration::days(7) }));
    assert_eq!(next.delivery_to_send().map(|d| (d.change, d.seq)), Some((Change::Provision, 1)));
    let done = next.delivered(1, Ok(()), now()).unwrap();
    assert!(matches!(done.deliveries[0].status, DeliveryStatus::Done { .. }));
    assert_eq!(done.delivered(1, Ok(()), now()), None, "an outcome is recorded once");
}

#[test]
fn the_holder_and_strangers_never_decide_and_nobody_approves_twice() {
    let a = request(true, Provisioning::Webhook);
    let alice = person("alice", "ops", &[Role::Agent, Role::Supervisor]);
    let bob = person("bob", "ops", &[Role::Agent]);
    let sam = person("sam", "ops", &[Role::Supervisor]);
    assert_eq!(a.apply(&alice, &AccessAction::Approve, true, TASK, now()), Err(Refusal::OwnAccess));
    assert_eq!(a.apply(&bob, &AccessAction::Approve, false, TASK, now()), Err(Refusal::NotDecider));
    let once = a.apply(&sam, &AccessAction::Approve, false, TASK, now()).unwrap();
    assert_eq!(once.state, AccessState::Pending, "the second approver is still needed");
    assert_eq!(
        once.apply(&sam, &AccessAction::Approve, false, TASK, now()),
        Err(Refusal::AlreadyDecided)
    );
    let olga = person("olga", "it", &[]);
    let twice = once.apply(&olga, &AccessAction::Approve, true, TASK, now()).unwrap();
    assert_eq!(twice.state, AccessState::Active);
}

#[test]
fn a_denial_needs_a_reason_and_closes_the_request() {
    let a = request(false, Provisioning::Manual);
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let deny = |reason: &str| AccessAction::Deny { reason: reason.into() };
    assert_eq!(a.apply(&sam, &deny("  "), false, TASK, now()), Err(Refusal::NeedsReason));
    let denied = a.apply(&sam, &deny("not needed"), false, TASK, now()).unwrap();
    assert_eq!(denied.state, AccessState::Denied);
    assert_eq!(
        denied.apply(&sam, &AccessAction::Approve, false, TASK, now()),
        Err(Refusal::NothingPending(AccessState::Denied))
    );
}

#[test]
fn a_manual_grant_is_a_task_only_an_owner_marks_done() {
    let a = request(false, Provisioning::Manual);
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let olga = person("olga", "it", &[]);
    let granted = a.apply(&sam, &AccessAction::Approve, false, TASK, now()).unwrap();
    assert_eq!(granted.deliveries[0].status, DeliveryStatus::Task { due: now() + TASK });
    assert_eq!(granted.delivery_to_send(), None, "no webhook for a manual system");
    assert_eq!(
        granted.apply(&sam, &AccessAction::TaskDone, false, TASK, now()),
        Err(Refusal::NotOwner)
    );
    let done = granted.apply(&olga, &AccessAction::TaskDone, true, TASK, now()).unwrap();
    assert_eq!(done.open_task(), None);
}

#[test]
fn an_extension_goes_through_approval_and_stays_within_the_maximum() {
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let alice = person("alice", "ops", &[Role::Agent]);
    let granted = request(false, Provisioning::Webhook)
        .apply(&sam, &AccessAction::Approve, false, TASK, now())
        .unwrap();
    let max = Duration::days(30);
    assert_eq!(
        granted.request_extension(&alice, Duration::days(24), "more", max, now()),
        Err(Refusal::TooLong { max })
    );
    assert_eq!(
        granted.request_extension(&sam, Duration::days(1), "more", max, now()),
        Err(Refusal::NotHolder)
    );
    let asked = granted.request_extension(&alice, Duration::days(23), "more", max, now()).unwrap();
    assert!(asked.awaits_decision());
    assert_eq!(
        asked.apply(&alice, &AccessAction::Approve, false, TASK, now()),
        Err(Refusal::OwnAccess)
    );
    let extended = asked.apply(&sam, &AccessAction::Approve, false, TASK, now()).unwrap();
    assert_eq!(extended.grant.unwrap().expires_at, now() + Duration::days(30));
    assert_eq!(extended.delivery_to_send().map(|d| d.change), Some(Change::Extend));
}

#[test]
fn revoking_ends_the_grant_now_and_starts_the_revocation() {
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let granted = request(false, Provisioning::Webhook)
        .apply(&sam, &AccessAction::Approve, false, TASK, now())
        .unwrap();
    let later = now() + Duration::days(1);
    let revoked =
        granted.end(AccessState::Revoked, "sam", Some("left the team"), TASK, later).unwrap();
    assert_eq!(revoked.grant.unwrap().expires_at, later);
    assert_eq!(revoked.delivery_to_send().map(|d| (d.change, d.seq)), Some((Change::Revoke, 2)));
    assert_eq!(
        revoked.end(AccessState::Expired, "steward", None, TASK, later),
        Err(Refusal::NotActive(AccessState::Revoked))
    );
}

#[test]
fn an_overdue_task_alert_is_raised_once_per_stage_and_never_for_a_task_done_or_not_yet_due() {
    use super::task::TaskAlertStage::{Escalated, Owner};
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let granted = request(false, Provisioning::Manual)
        .apply(&sam, &AccessAction::Approve, false, TASK, now())
        .unwrap();
    let due = now() + TASK;
    assert_eq!(granted.raise_task_alert(1, Owner, due - Duration::seconds(1)), None, "not due");
    let told = granted.raise_task_alert(1, Owner, due).unwrap();
    assert_eq!(told.raise_task_alert(1, Owner, due), None, "once");
    assert!(told.raise_task_alert(1, Escalated, due + TASK).is_some());
    let olga = person("olga", "ops", &[Role::Agent]);
    let done = granted.apply(&olga, &AccessAction::TaskDone, true, TASK, now()).unwrap();
    assert_eq!(done.raise_task_alert(1, Owner, due), None, "done in time");
}
