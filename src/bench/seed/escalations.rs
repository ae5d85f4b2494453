//! Seeded escalations: opened as `/escalate` opens one (the policy and SLA plan the
//! configuration selects), then taken through the real state machine — acknowledged,
//! sometimes waiting on the customer, resolved, sometimes reopened — at times drawn around
//! the clocks' own due times, so business-hours teams answer in business hours.

use chrono::{DateTime, Duration, Utc};

use super::draw::{Draw, along, answered_and_resolved};
use super::world::World;
use crate::domain::escalation::{
    Escalation, EscalationAction, EscalationOpening, SlaAlerts, SlaView, apply,
};
use crate::domain::identity::Person;
use crate::domain::item::LivingItem;
use crate::domain::severity::Severity;

const SALT: u64 = 0xE5CA_1A7E;
/// How often each severity is opened: sev1 rare, sev3 the usual.
const SEVERITY_WEIGHTS: [u32; 4] = [1, 2, 3, 2];

/// The escalation of row `row` of `count`, as it stands at the world's `now`; `None` when the
/// configuration selects no policy or targets for it (the services would refuse it too).
pub fn generate(world: &World, row: u64, count: u64) -> Option<Escalation> {
    let mut draw = Draw::row(SALT, row);
    let opened_at = world.opened_at(row, count, &mut draw);
    let opener = *draw.pick(&world.people)?;
    let account = *draw.pick(&world.accounts)?;
    let severity = Severity::ALL[draw.weighted(&SEVERITY_WEIGHTS)];
    let team = opener.team.clone();
    let policy = world.policies.escalation.select(severity, &account.tier, &team)?.clone();
    let sla = world.policies.sla.plan(severity, &account.tier, &world.calendar(&team))?;
    let (platform, channel) = world.place(&team);
    let mut escalation = Escalation::opened(EscalationOpening {
        team: team.clone(),
        account: account.key.clone(),
        tier: account.tier.clone(),
        severity,
        summary: format!("Seeded escalation {row}"),
        opened_by: opener.key.clone(),
        opened_at,
        policy,
        sla,
        platform,
        channel,
    });
    let clocks = escalation.sla_view(opened_at).ok()?;
    let responder = *draw.pick(world.workers(&team))?;
    let (acknowledged_at, resolved_at) = answered_and_resolved(
        &mut draw,
        opened_at,
        &escalation.sla,
        (clocks.acknowledge, clocks.resolve),
    );
    let mut steps = vec![(acknowledged_at, responder, EscalationAction::Acknowledge)];
    if draw.chance(0.2) {
        let (wait, resume) = (draw.between(0.1, 0.4), draw.between(0.5, 0.8));
        steps.push((
            along(acknowledged_at, resolved_at, wait),
            responder,
            EscalationAction::WaitOnCustomer,
        ));
        steps.push((
            along(acknowledged_at, resolved_at, resume),
            responder,
            EscalationAction::Resume,
        ));
    }
    // A few are never resolved: the backlog every team has.
    if draw.chance(0.97) {
        steps.push((resolved_at, responder, resolve()));
        if draw.chance(0.05) {
            let reopened_at = resolved_at + Duration::hours(1 + draw.below(48) as i64);
            // Whoever opened it may reopen it.
            steps.push((reopened_at, opener, EscalationAction::Reopen));
            let again = reopened_at + (resolved_at - acknowledged_at) / 2;
            steps.push((again.max(reopened_at + Duration::minutes(5)), responder, resolve()));
        }
    }
    for (at, actor, action) in steps {
        if at > world.now {
            break;
        }
        escalation = act(&escalation, actor, &action, at)?;
    }
    escalation.alerts = alerts(&escalation, world.now)?;
    Some(escalation)
}

fn resolve() -> EscalationAction {
    EscalationAction::Resolve { note: "Seeded resolution".to_owned() }
}

fn act(
    current: &Escalation,
    actor: &Person,
    action: &EscalationAction,
    at: DateTime<Utc>,
) -> Option<Escalation> {
    let mut next = apply(current, actor, action, at).ok()?;
    next.bump_version();
    Some(next)
}

/// The SLA notifications the timers would have sent by `now` (so none is sent again).
fn alerts(escalation: &Escalation, now: DateTime<Utc>) -> Option<SlaAlerts> {
    let resolved_at = escalation.resolved.as_ref().map(|r| r.at);
    let SlaView { acknowledge, resolve } = escalation.sla_view(resolved_at.unwrap_or(now)).ok()?;
    let acknowledge_stop = escalation.acknowledged.as_ref().map_or(now, |a| a.at);
    let resolve_stop = resolved_at.unwrap_or(now);
    let passed = |instant: Option<DateTime<Utc>>, stop| instant.is_some_and(|at| at <= stop);
    Some(SlaAlerts {
        acknowledge_at_risk: passed(acknowledge.at_risk_at, acknowledge_stop),
        acknowledge_breached: passed(acknowledge.due, acknowledge_stop),
        resolve_at_risk: passed(resolve.at_risk_at, resolve_stop),
        resolve_breached: passed(resolve.due, resolve_stop),
    })
}
