//! Seeded account requests: opened as `/request` opens one (triage, the team's SLA plan for
//! the priority, the team's card channel), assigned, then taken through the real state
//! machine — accepted, sometimes reassigned or waiting on the customer, resolved, sometimes
//! reopened — at times drawn around the clocks' own due times.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::draw::{Draw, along, answered_and_resolved};
use super::world::World;
use crate::domain::identity::Person;
use crate::domain::item::LivingItem;
use crate::domain::request::{Request, RequestAction, RequestOpening, apply};
use crate::domain::triage::Priority;

const SALT: u64 = 0x5EED_4E05;

/// The request of row `row` of `count`, as it stands at the world's `now`; `None` when the
/// configuration has no targets for its priority (the services would refuse it too).
pub fn generate(world: &World, row: u64, count: u64) -> Option<Request> {
    let rules = &world.policies.requests;
    let mut draw = Draw::row(SALT, row);
    let opened_at = world.opened_at(row, count, &mut draw);
    let requester = *draw.pick(&world.people)?;
    let account = *draw.pick(&world.accounts)?;
    let kind = draw.pick(&rules.types)?;
    let fields: BTreeMap<String, String> = kind
        .required_fields
        .iter()
        .map(|field| (field.clone(), format!("{field}-{row}")))
        .collect();
    let summary = format!("Seeded request {row}");
    // A quarter come with a priority the sender chose; the rest are triaged.
    let explicit = draw.chance(0.25).then(|| Priority::ALL[draw.below(Priority::ALL.len())]);
    let (priority, priority_source) = rules.triage(kind, &account.tier, &summary, explicit);
    let team = world.request_team(account)?;
    let sla = rules.plan(priority, &world.calendar(&team))?;
    let (platform, channel) = world.place(&team);
    let mut request = Request::opened(RequestOpening {
        team: team.clone(),
        account: account.key.clone(),
        tier: account.tier.clone(),
        kind: kind.key.clone(),
        priority,
        priority_source,
        summary,
        fields,
        source: "chat".to_owned(),
        external_id: None,
        requested_by: requester.key.to_string(),
        opened_at,
        sla,
        platform,
        channel,
    });
    let clocks = request.sla_view(opened_at).ok()?;
    let workers = world.workers(&team);
    let assignee = *draw.pick(workers)?;
    let (accepted_at, resolved_at) = answered_and_resolved(
        &mut draw,
        opened_at,
        &request.sla,
        (clocks.first_response, clocks.resolve),
    );
    let within = |fraction: f64| along(accepted_at, resolved_at, fraction);
    let reason = "Seeded assignment".to_owned();
    let assign = RequestAction::Assign { to: assignee.key.clone(), reason };
    let mut steps: Vec<(DateTime<Utc>, Option<&Person>, RequestAction)> =
        vec![(opened_at, None, assign), (accepted_at, Some(assignee), RequestAction::Accept)];
    let mut resolver = assignee;
    if draw.chance(0.12)
        && let Some(other) = workers.iter().copied().find(|p| p.key != assignee.key)
    {
        // The assignee passes it on; the new one accepts it a little later.
        let to = other.key.clone();
        steps.push((within(0.2), Some(assignee), RequestAction::Reassign { to }));
        steps.push((within(0.3), Some(other), RequestAction::Accept));
        resolver = other;
    }
    if draw.chance(0.2) {
        steps.push((within(0.4), Some(resolver), RequestAction::NeedInfo));
        steps.push((within(0.7), Some(resolver), RequestAction::Resume));
    }
    // A few are never resolved: the backlog every team has.
    if draw.chance(0.97) {
        steps.push((resolved_at, Some(resolver), resolve()));
        if draw.chance(0.08) {
            let reopened_at = resolved_at + Duration::hours(1 + draw.below(48) as i64);
            steps.push((reopened_at, Some(resolver), RequestAction::Reopen));
            let again = reopened_at + (resolved_at - accepted_at) / 2;
            steps.push((again.max(reopened_at + Duration::minutes(5)), Some(resolver), resolve()));
        }
    }
    for (at, actor, action) in steps {
        if at > world.now {
            break;
        }
        let mut next = apply(&request, actor, &action, at).ok()?;
        next.bump_version();
        request = next;
    }
    Some(request)
}

fn resolve() -> RequestAction {
    RequestAction::Resolve { note: "Seeded resolution".to_owned() }
}
