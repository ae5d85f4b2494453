use crate::domain::item::Living;
use std::str::FromStr;

use super::*;
use crate::domain::identity::fixtures::person;

fn dec(raw: &str) -> Decimal {
    Decimal::from_str(raw).unwrap()
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn rules() -> Vec<ChainRule> {
    vec![
        ChainRule { roles: vec![Role::Supervisor, Role::Finance], above: BTreeMap::new() },
        ChainRule { roles: vec![Role::Finance], above: [(usd(), dec("1000"))].into() },
    ]
}

fn matrix() -> AuthorityMatrix {
    let limit = |p: &str, m: &str| [(usd(), Limit { per_request: dec(p), monthly: dec(m) })].into();
    AuthorityMatrix {
        roles: [
            (Role::Supervisor, limit("500", "5000")),
            (Role::Finance, limit("50000", "200000")),
        ]
        .into(),
        people: [(PersonKey::parse("sam").unwrap(), limit("700", "900"))].into(),
    }
}

fn request(amount: &str) -> Credit {
    let account = AccountKey::parse("ACME-1").unwrap();
    let amount = dec(amount);
    let now = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap().to_utc();
    Credit {
        id: 1,
        version: 1,
        kind: CreditKind::Credit,
        payload_hash: payload_hash(&account, amount, &usd(), "goodwill"),
        account,
        payload: Payload { amount, currency: usd(), reason: "goodwill".into(), note: None },
        requested_by: PersonKey::parse("alice").unwrap(),
        requested_at: now,
        team: TeamKey::parse("ops").unwrap(),
        state: CreditState::Pending,
        chain: compute_chain(&rules(), amount, &usd()),
        decisions: Vec::new(),
        voided: Vec::new(),
        round: 1,
        expires_at: now + chrono::Duration::hours(72),
        reminded: false,
        closed: None,
        living: Living::new(crate::domain::ids::Platform::Console, "ops".into(), None),
    }
}

#[test]
fn amounts_above_the_threshold_need_two_levels_and_the_last_carries_authority() {
    let one = compute_chain(&rules(), dec("1000.00"), &usd());
    assert_eq!(one.len(), 1);
    assert!(one[0].authority);
    let two = compute_chain(&rules(), dec("-1000.01"), &usd());
    assert_eq!(two.len(), 2);
    assert_eq!((two[0].authority, two[1].authority), (false, true));
    assert_eq!(two[1].roles, vec![Role::Finance]);
    // A currency the threshold does not name errs on the safe side: both levels.
    let gbp = Currency::parse("GBP").unwrap();
    assert_eq!(compute_chain(&rules(), dec("1"), &gbp).len(), 2);
}

#[test]
fn the_requester_never_decides_and_nobody_decides_twice() {
    let alice = person("alice", "ops", &[Role::Supervisor]);
    assert_eq!(request("10").check_decider(&alice), Err(Refusal::OwnRequest));
    let fran = person("fran", "ops", &[Role::Finance]);
    let now = Utc::now();
    let after_first = request("2000").decide(&fran, &CreditAction::Approve, now).unwrap();
    assert_eq!(after_first.state, CreditState::Pending);
    assert_eq!(after_first.check_decider(&fran), Err(Refusal::AlreadyDecided { level: 0 }));
    let sam = person("sam", "ops", &[Role::Supervisor]);
    assert_eq!(
        after_first.check_decider(&sam),
        Err(Refusal::Role { level: 1, roles: vec![Role::Finance] })
    );
    let agent = person("bob", "ops", &[Role::Agent]);
    assert!(matches!(request("10").check_decider(&agent), Err(Refusal::Role { level: 0, .. })));
}

#[test]
fn authority_allows_exactly_the_limit_and_refuses_one_minor_unit_more() {
    let matrix = matrix();
    let level = ChainLevel { roles: vec![Role::Supervisor], authority: true };
    let bob = person("bob", "ops", &[Role::Supervisor]);
    let check = |amount: &str, used: &str| {
        check_authority(&matrix, &bob, &level, dec(amount), &usd(), dec(used))
    };
    assert_eq!(check("500.00", "0"), Ok(()));
    assert!(matches!(check("500.01", "0"), Err(Refusal::PerRequest { .. })));
    assert_eq!(check("100.00", "4900.00"), Ok(()));
    assert!(matches!(check("100.00", "4900.01"), Err(Refusal::Monthly { .. })));
    // Negative adjustments use their magnitude.
    assert!(matches!(check("-500.01", "0"), Err(Refusal::PerRequest { .. })));
    let eur = Currency::parse("EUR").unwrap();
    assert_eq!(
        check_authority(&matrix, &bob, &level, dec("1"), &eur, Decimal::ZERO),
        Err(Refusal::NoAuthority { currency: eur })
    );
}

#[test]
fn a_personal_override_replaces_the_role_limit() {
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let limit = matrix().limit_for(&sam, &[Role::Supervisor], &usd()).unwrap();
    assert_eq!(limit.per_request, dec("700"));
}

#[test]
fn the_month_is_the_approvers_own_calendar_month() {
    let berlin = chrono_tz::Europe::Berlin;
    // 23:30 UTC on 30 November is already 1 December in Berlin.
    let at = DateTime::parse_from_rfc3339("2026-11-30T23:30:00Z").unwrap().to_utc();
    let (start, end) = month_bounds(at, berlin);
    assert_eq!(start.to_rfc3339(), "2026-11-30T23:00:00+00:00");
    assert_eq!(end.to_rfc3339(), "2026-12-31T23:00:00+00:00");
    let (start, _) = month_bounds(at, chrono_tz::America::New_York);
    assert_eq!(start.to_rfc3339(), "2026-11-01T04:00:00+00:00");
}

#[test]
fn an_edit_voids_approvals_restarts_the_chain_and_rebinds_the_hash() {
    let fran = person("fran", "ops", &[Role::Finance]);
    let alice = person("alice", "ops", &[Role::Agent]);
    let approved_once = request("2000").decide(&fran, &CreditAction::Approve, Utc::now()).unwrap();
    let payload =
        Payload { amount: dec("300"), currency: usd(), reason: "goodwill".into(), note: None };
    let chain = compute_chain(&rules(), payload.amount, &usd());
    let account = approved_once.account.clone();
    let expires = approved_once.expires_at;
    assert_eq!(
        approved_once.edit(&fran, account.clone(), payload.clone(), chain.clone(), expires),
        Err(Refusal::NotRequester)
    );
    let edited = approved_once.edit(&alice, account, payload, chain, expires).unwrap();
    assert!(edited.decisions.is_empty());
    assert_eq!(edited.voided.len(), 1);
    assert_eq!(edited.chain.len(), 1);
    assert_eq!(edited.round, 2);
    assert_ne!(edited.payload_hash, approved_once.payload_hash);
    // fran may decide again: the voided decision was on another payload.
    assert!(edited.check_decider(&fran).is_ok());
}

#[test]
fn rejecting_needs_a_reason_and_closes_the_request() {
    let sam = person("sam", "ops", &[Role::Supervisor]);
    let blank = CreditAction::Reject { reason: "  ".into() };
    assert_eq!(request("10").decide(&sam, &blank, Utc::now()), Err(Refusal::ReasonRequired));
    let reject = CreditAction::Reject { reason: "duplicate".into() };
    let rejected = request("10").decide(&sam, &reject, Utc::now()).unwrap();
    assert_eq!(rejected.state, CreditState::Rejected);
    let fran = person("fran", "ops", &[Role::Finance]);
    assert!(matches!(rejected.check_decider(&fran), Err(Refusal::Closed { .. })));
}

#[test]
fn a_currency_the_authority_level_cannot_approve_above_a_threshold_is_a_gap() {
    use super::gaps::{ChainGap, chain_gaps};
    let gbp = Currency::parse("GBP").unwrap();
    let mut matrix = matrix();
    // Supervisors may approve small GBP credits; finance holds no GBP authority.
    matrix
        .roles
        .get_mut(&Role::Supervisor)
        .unwrap()
        .insert(gbp.clone(), Limit { per_request: dec("500"), monthly: dec("5000") });
    let mut with_gbp = rules();
    with_gbp[1].above.insert(gbp.clone(), dec("800"));
    let people =
        [person("sam", "ops", &[Role::Supervisor]), person("fran", "ops", &[Role::Finance])];
    assert_eq!(
        chain_gaps(&with_gbp, &matrix, &people),
        [ChainGap { currency: gbp, above: Some(dec("800")), roles: vec![Role::Finance] }]
    );
    assert_eq!(chain_gaps(&rules(), &super::tests::matrix(), &people), []);
}
