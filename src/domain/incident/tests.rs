use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::identity::fixtures::person;

fn t(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap().to_utc()
        + Duration::minutes(minutes)
}

fn key(k: &str) -> PersonKey {
    PersonKey::parse(k).unwrap()
}

fn acme() -> AccountKey {
    AccountKey::parse("ACME-1042").unwrap()
}

fn incident() -> Incident {
    let mut incident = Incident::declared(IncidentDeclaration {
        team: TeamKey::parse("ops").unwrap(),
        title: "Invoices not generated".into(),
        severity: Severity::Sev2,
        declared_by: key("alice"),
        declared_at: t(0),
        accounts: vec![(acme(), "enterprise".into())],
        escalation: None,
        cadence: Duration::hours(1),
        platform: Platform::Console,
        channel: "ops".into(),
    });
    incident.id = 1;
    incident
}

fn step(i: &Incident, who: &Person, action: IncidentAction, at: i64) -> Incident {
    apply(i, who, &action, t(at)).unwrap_or_else(|r| panic!("{action:?}: {r:?}")).0
}

#[test]
fn a_declared_incident_is_active_with_its_first_update_due_after_the_cadence() {
    let i = incident();
    assert_eq!(i.state, IncidentState::Active);
    assert_eq!(i.next_update_due, Some(t(60)));
    assert_eq!(i.responders, vec![key("alice")]);
    assert_eq!(i.accounts[0].tier, "enterprise");
}

#[test]
fn the_first_commander_acknowledges_and_a_second_one_does_not_move_the_time() {
    let alice = person("alice", "ops", &[]);
    let i = step(
        &incident(),
        &alice,
        IncidentAction::AssignRole { role: IncidentRole::Commander, to: key("sam") },
        3,
    );
    assert_eq!(i.commanded_at, Some(t(3)));
    assert!(i.is_member(&key("sam")));
    let again = apply(
        &i,
        &alice,
        &IncidentAction::AssignRole { role: IncidentRole::Commander, to: key("sam") },
        t(4),
    );
    assert_eq!(
        again.unwrap_err(),
        Refusal::AlreadyHolds { role: IncidentRole::Commander, person: key("sam") }
    );
    let (i, happening) = apply(
        &i,
        &alice,
        &IncidentAction::AssignRole { role: IncidentRole::Commander, to: key("bob") },
        t(9),
    )
    .unwrap();
    assert_eq!(i.commanded_at, Some(t(3)));
    assert_eq!(
        happening,
        Happening::Role {
            role: IncidentRole::Commander,
            to: key("bob"),
            previous: Some(key("sam"))
        }
    );
}

#[test]
fn an_update_sets_the_next_due_and_a_severity_change_recomputes_it_from_the_last_update() {
    let sam = person("sam", "ops", &[]);
    let i = step(
        &incident(),
        &sam,
        IncidentAction::Update { text: "Looking".into(), cadence: Duration::hours(1) },
        10,
    );
    assert_eq!(i.next_update_due, Some(t(70)));
    let i = step(
        &i,
        &sam,
        IncidentAction::Severity { to: Severity::Sev1, cadence: Duration::minutes(30) },
        20,
    );
    assert_eq!(i.next_update_due, Some(t(40)));
    assert_eq!(i.severity_changes.len(), 1);
    let same = apply(
        &i,
        &sam,
        &IncidentAction::Severity { to: Severity::Sev1, cadence: Duration::minutes(30) },
        t(21),
    );
    assert_eq!(same.unwrap_err(), Refusal::SameSeverity(Severity::Sev1));
}

#[test]
fn states_move_active_mitigated_resolved_and_back_on_reopen() {
    let sam = person("sam", "ops", &[]);
    let i = step(&incident(), &sam, IncidentAction::Mitigated, 30);
    assert_eq!(
        apply(&i, &sam, &IncidentAction::Mitigated, t(31)).unwrap_err(),
        Refusal::NotActive(IncidentState::Mitigated)
    );
    let i = step(&i, &sam, IncidentAction::Resolve { summary: "Cert".into() }, 60);
    assert_eq!(i.next_update_due, None);
    assert_eq!(apply(&i, &sam, &IncidentAction::Join, t(61)).unwrap_err(), Refusal::Resolved);
    assert_eq!(
        apply(&incident(), &sam, &IncidentAction::Reopen { cadence: Duration::hours(1) }, t(61))
            .unwrap_err(),
        Refusal::NotResolved
    );
    let i = step(&i, &sam, IncidentAction::Reopen { cadence: Duration::hours(1) }, 90);
    assert_eq!(
        (i.state, i.resolved.clone(), i.next_update_due),
        (IncidentState::Active, None, Some(t(150)))
    );
}

#[test]
fn a_notice_needs_four_eyes_from_someone_with_the_comms_role() {
    let sam = person("sam", "ops", &[]);
    let ada = person("ada", "ops", &[Role::Comms]);
    let bob = person("bob", "ops", &[]);
    let i = step(
        &incident(),
        &ada,
        IncidentAction::DraftNotice { account: acme(), text: "We are investigating".into() },
        5,
    );
    assert_eq!(
        apply(&i, &ada, &IncidentAction::ApproveNotice { number: 1 }, t(6)).unwrap_err(),
        Refusal::OwnNotice
    );
    assert_eq!(
        apply(&i, &bob, &IncidentAction::ApproveNotice { number: 1 }, t(6)).unwrap_err(),
        Refusal::NotComms
    );
    let sent = IncidentAction::MarkNoticeSent { number: 1, next_update_in: Duration::hours(2) };
    assert_eq!(apply(&i, &ada, &sent, t(6)).unwrap_err(), Refusal::NoticeNotApproved(1));
    // The incident's comms holder may approve without the organisation's role.
    let i =
        step(&i, &ada, IncidentAction::AssignRole { role: IncidentRole::Comms, to: key("sam") }, 6);
    let i = step(&i, &sam, IncidentAction::ApproveNotice { number: 1 }, 7);
    assert_eq!(
        apply(&i, &sam, &IncidentAction::ApproveNotice { number: 1 }, t(8)).unwrap_err(),
        Refusal::NoticeAlreadyApproved(1)
    );
    let i = step(&i, &ada, sent.clone(), 8);
    assert_eq!(i.accounts[0].next_customer_update_by, Some(t(128)));
    assert_eq!(apply(&i, &ada, &sent, t(9)).unwrap_err(), Refusal::NoticeAlreadySent(1));
    assert_eq!(
        apply(&i, &ada, &IncidentAction::ApproveNotice { number: 9 }, t(9)).unwrap_err(),
        Refusal::UnknownNotice(9)
    );
}

#[test]
fn accounts_are_added_once_removed_only_when_affected_and_kept_once_they_have_notices() {
    let sam = person("sam", "ops", &[]);
    let globex = AccountKey::parse("GLOBEX-7").unwrap();
    let add = IncidentAction::AddAccount { account: globex.clone(), tier: "standard".into() };
    let i = step(&incident(), &sam, add.clone(), 1);
    assert_eq!(apply(&i, &sam, &add, t(2)).unwrap_err(), Refusal::AlreadyAffected(globex.clone()));
    let i = step(&i, &sam, IncidentAction::RemoveAccount { account: globex.clone() }, 3);
    let remove = IncidentAction::RemoveAccount { account: globex.clone() };
    assert_eq!(apply(&i, &sam, &remove, t(4)).unwrap_err(), Refusal::NotAffected(globex.clone()));
    let draft = IncidentAction::DraftNotice { account: globex.clone(), text: "x".into() };
    assert_eq!(apply(&i, &sam, &draft, t(4)).unwrap_err(), Refusal::NotAffected(globex));
    let i = step(&i, &sam, IncidentAction::DraftNotice { account: acme(), text: "x".into() }, 5);
    let remove = IncidentAction::RemoveAccount { account: acme() };
    assert_eq!(apply(&i, &sam, &remove, t(6)).unwrap_err(), Refusal::HasNotices(acme()));
}

#[test]
fn review_durations_are_measured_from_the_declaration() {
    let sam = person("sam", "ops", &[Role::Comms]);
    let ada = person("ada", "ops", &[Role::Comms]);
    let i = step(
        &incident(),
        &sam,
        IncidentAction::AssignRole { role: IncidentRole::Commander, to: key("sam") },
        4,
    );
    let i = step(&i, &sam, IncidentAction::DraftNotice { account: acme(), text: "x".into() }, 10);
    let i = step(&i, &ada, IncidentAction::ApproveNotice { number: 1 }, 12);
    let i = step(
        &i,
        &ada,
        IncidentAction::MarkNoticeSent { number: 1, next_update_in: Duration::hours(2) },
        15,
    );
    let i = step(&i, &sam, IncidentAction::Mitigated, 40);
    let i = step(&i, &sam, IncidentAction::Resolve { summary: "done".into() }, 90);
    let d = review::Durations::of(&i);
    assert_eq!(d.to_commander, Some(Duration::minutes(4)));
    assert_eq!(d.to_first_notice, Some(Duration::minutes(15)));
    assert_eq!(d.to_mitigated, Some(Duration::minutes(40)));
    assert_eq!(d.to_resolved, Some(Duration::minutes(90)));
    assert_eq!(review::Durations::of(&incident()).to_commander, None);
}

#[test]
fn the_projection_names_the_room_for_lookups() {
    let mut i = incident();
    assert_eq!(
        i.projection().unwrap().get("room_channel"),
        Some(&crate::domain::item::Cell::Text(None))
    );
    i.room = Some(Room { platform: Platform::Console, channel: "inc-1".into() });
    assert_eq!(
        i.projection().unwrap().get("room_channel"),
        Some(&crate::domain::item::Cell::Text(Some("console:inc-1".into())))
    );
}
