//! Seeded credit and adjustment requests: requested as `/credit` requests one (the approval
//! chain the configured rules compute for the amount, the configured expiry), then decided
//! through the real state machine — approved level by level by people who hold the role and
//! the authority, rejected, cancelled by the requester, or expired. Approvals at the
//! authority level count against the approver's monthly limit, as live ones do.

use crate::domain::item::Living;
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::draw::{Draw, along};
use super::world::World;
use crate::domain::credit::{
    ChainLevel, Credit, CreditAction, CreditKind, CreditState, Payload, check_authority,
    compute_chain, month_bounds, payload_hash,
};
use crate::domain::identity::Person;
use crate::domain::ids::PersonKey;
use crate::domain::item::{LivingItem, SYSTEM_ACTOR};

const SALT: u64 = 0xC4ED_17A5;

/// Seeded approvals use at most this share of a monthly limit, so that live approvals in the
/// current month still have room after a large seed.
const SEEDED_SHARE_OF_MONTHLY: Decimal = Decimal::from_parts(5, 0, 0, false, 1);

/// An approval that used authority, for `credit_approvals`.
#[derive(Debug, Clone)]
pub struct UsedAuthority {
    pub approver: PersonKey,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
}

/// Authority used so far in the run, per approver, currency and month (in the approver's
/// zone). Rows are generated in time order, so each approval sees what came before it.
#[derive(Debug, Default)]
pub struct Usage(HashMap<(PersonKey, String, DateTime<Utc>), Decimal>);

impl Usage {
    fn key(
        person: &Person,
        currency: &str,
        at: DateTime<Utc>,
    ) -> (PersonKey, String, DateTime<Utc>) {
        (person.key.clone(), currency.to_owned(), month_bounds(at, person.time_zone).0)
    }

    fn used(&self, person: &Person, currency: &str, at: DateTime<Utc>) -> Decimal {
        self.0.get(&Usage::key(person, currency, at)).copied().unwrap_or_default()
    }

    fn add(&mut self, person: &Person, currency: &str, at: DateTime<Utc>, amount: Decimal) {
        *self.0.entry(Usage::key(person, currency, at)).or_default() += amount;
    }
}

/// How a seeded request ends (unless `now` comes first).
enum Fate {
    Approve,
    Reject,
    Expire,
    Cancel,
}

/// The credit request of row `row` of `count`, as it stands at the world's `now`, with the
/// authority its approval used; `None` when no chain applies to it (the services would refuse
/// it too).
pub fn generate(
    world: &World,
    usage: &mut Usage,
    row: u64,
    count: u64,
) -> Option<(Credit, Option<UsedAuthority>)> {
    let mut draw = Draw::row(SALT, row);
    let requested_at = world.opened_at(row, count, &mut draw);
    let requester = *draw.pick(&world.people)?;
    let account = *draw.pick(&world.accounts)?;
    let currency = draw.pick(&world.currencies)?.clone();
    let reason = draw.pick(&world.settings.credits.reason_codes)?.clone();
    let kind = if draw.chance(0.1) { CreditKind::Adjustment } else { CreditKind::Credit };
    // Mostly small amounts, a long tail up to about 2,000.
    let magnitude = 5.0 + draw.unit().powi(3) * 2000.0;
    let scale = currency.minor_units();
    let minor = (magnitude * 10f64.powi(scale as i32)).round() as i64;
    let negative = kind == CreditKind::Adjustment && draw.chance(0.5);
    let amount = Decimal::new(if negative { -minor } else { minor }, scale);
    let chain = compute_chain(&world.policies.credit.chain, amount, &currency);
    if chain.is_empty() {
        return None;
    }
    let expire_after = Duration::hours(i64::from(world.settings.credits.expire_after_hours));
    let (platform, channel) = world.place(&requester.team);
    let mut credit = Credit {
        id: 0,
        version: 1,
        kind,
        account: account.key.clone(),
        payload_hash: payload_hash(&account.key, amount, &currency, &reason),
        payload: Payload { amount, currency, reason, note: None },
        requested_by: requester.key.clone(),
        requested_at,
        team: requester.team.clone(),
        state: CreditState::Pending,
        chain,
        decisions: Vec::new(),
        voided: Vec::new(),
        round: 1,
        expires_at: requested_at + expire_after,
        reminded: false,
        closed: None,
        living: Living::new(platform, channel, None),
    };
    let fate = match draw.weighted(&[75, 12, 7, 6]) {
        0 => Fate::Approve,
        1 => Fate::Reject,
        2 => Fate::Expire,
        _ => Fate::Cancel,
    };
    // Decided within the expiry window; the levels of a chain one after the other.
    let decided_at =
        along(requested_at + Duration::minutes(10), credit.expires_at, draw.between(0.0, 0.9));
    let mut used = None;
    let rotation = draw.below(world.people.len());
    match fate {
        Fate::Approve => match approvers(world, usage, &credit, decided_at, rotation) {
            Some(approvers) => {
                let levels = approvers.len();
                for (level, approver) in approvers.into_iter().enumerate() {
                    let at = along(requested_at, decided_at, (level + 1) as f64 / levels as f64);
                    if at > world.now {
                        break;
                    }
                    credit = decide(&credit, approver, CreditAction::Approve, at)?;
                    if level + 1 == levels {
                        let magnitude = credit.payload.amount.abs();
                        usage.add(approver, credit.payload.currency.code(), at, magnitude);
                        used = Some(UsedAuthority {
                            approver: approver.key.clone(),
                            amount: magnitude,
                            at,
                        });
                    }
                }
            }
            // Nobody could approve it within their authority: it runs out.
            None => credit = expire(credit, world.now),
        },
        Fate::Reject => {
            let rejector = *deciders(world, &credit, &credit.chain[0], rotation).first()?;
            if decided_at <= world.now {
                let action = CreditAction::Reject { reason: "Seeded rejection".to_owned() };
                credit = decide(&credit, rejector, action, decided_at)?;
            }
        }
        Fate::Expire => credit = expire(credit, world.now),
        Fate::Cancel => {
            if decided_at <= world.now {
                let mut next = credit.cancel(requester, decided_at).ok()?;
                next.bump_version();
                credit = next;
            }
        }
    }
    // Reminded if it was still pending when the reminder was due.
    let closed_at = credit.closed.as_ref().map(|c| c.at);
    let decided_at = credit.decisions.last().filter(|_| credit.state != CreditState::Pending);
    let pending_until = closed_at.or(decided_at.map(|d| d.at)).unwrap_or(world.now);
    let remind_after = Duration::hours(i64::from(world.settings.credits.remind_after_hours));
    credit.reminded = pending_until - requested_at >= remind_after;
    Some((credit, used))
}

/// People who hold a role of `level` and may decide on `credit` (not its requester), starting
/// at a drawn place in the list so the work is spread.
fn deciders<'a>(
    world: &World<'a>,
    credit: &Credit,
    level: &ChainLevel,
    rotation: usize,
) -> Vec<&'a Person> {
    let people = &world.people;
    (0..people.len())
        .map(|offset| people[(rotation + offset) % people.len()])
        .filter(|p| p.key != credit.requested_by)
        .filter(|p| level.roles.iter().any(|role| p.has_role(*role)))
        .collect()
}

/// One approver per level, each a different person: the authority level's first, among those
/// whose per-request limit covers the amount and whose monthly limit (this run's share of it)
/// has room at `at`; `None` when some level has nobody.
fn approvers<'a>(
    world: &World<'a>,
    usage: &Usage,
    credit: &Credit,
    at: DateTime<Utc>,
    rotation: usize,
) -> Option<Vec<&'a Person>> {
    let (last, reviews) = credit.chain.split_last()?;
    let matrix = &world.policies.credit.authority;
    let payload = &credit.payload;
    let code = payload.currency.code();
    let authority = deciders(world, credit, last, rotation).into_iter().find(|p| {
        let used = usage.used(p, code, at);
        let within_share = matrix
            .limit_for(p, &last.roles, &payload.currency)
            .is_some_and(|l| used + payload.amount.abs() <= l.monthly * SEEDED_SHARE_OF_MONTHLY);
        within_share
            && check_authority(matrix, p, last, payload.amount, &payload.currency, used).is_ok()
    })?;
    let mut chosen: Vec<&Person> = Vec::new();
    for level in reviews {
        let reviewer = deciders(world, credit, level, rotation)
            .into_iter()
            .find(|p| p.key != authority.key && chosen.iter().all(|c| c.key != p.key))?;
        chosen.push(reviewer);
    }
    chosen.push(authority);
    Some(chosen)
}

fn decide(
    credit: &Credit,
    actor: &Person,
    action: CreditAction,
    at: DateTime<Utc>,
) -> Option<Credit> {
    let mut next = credit.decide(actor, &action, at).ok()?;
    next.bump_version();
    Some(next)
}

/// The expiry timer's work, if it has run by `now`.
fn expire(credit: Credit, now: DateTime<Utc>) -> Credit {
    if credit.expires_at > now {
        return credit;
    }
    match credit.expire(credit.expires_at, SYSTEM_ACTOR) {
        Some(mut next) => {
            next.bump_version();
            next
        }
        None => credit,
    }
}
