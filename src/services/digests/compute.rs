//! Gathering a digest's figures: SQL aggregates from `storage::digests`, run concurrently on
//! the pool, plus what only configuration knows (authority limits, shifts, team names).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use super::as_of::{changed_since, onboardings_changed_since, undone_since};
use crate::domain::digest::report::{
    Attention, AttentionReason, BreachAge, Capped, DayPoint, ItemKind, KpiReport, PersonDay,
    Report, SlaReport, StandupReport, StandupTeam,
};
use crate::domain::digest::slots::{place, previous_slot};
use crate::domain::digest::window::{day_starts, month_start};
use crate::domain::digest::{DigestDefinition, DigestKind, Windows, windows_at};
use crate::domain::identity::Role;
use crate::domain::ids::PersonKey;
use crate::domain::messages::digest as text;
use crate::domain::money::Currency;
use crate::services::Services;
use crate::storage::digests as store;

/// At most this many lines per SLA list (the message budget cuts further; counts are totals).
const SLA_LIST_LIMIT: i64 = 15;
/// At most this many attention lines per team in the standup (totals are counted apart).
const ATTENTION_LIMIT: i64 = 25;
/// Pending approvals loaded whole for the standup (to decide whom each waits on).
const APPROVALS_LIMIT: i64 = 100;
/// People listed in "resolved per person".
const PEOPLE_LIMIT: i64 = 10;

/// The figures of `definition` as of `at` (the slot): every figure is what the database
/// knew at `at`, so a replay reproduces what was (or would have been) posted.
pub async fn compute(
    services: &Services,
    definition: &DigestDefinition,
    at: DateTime<Utc>,
) -> anyhow::Result<Report> {
    let teams: Vec<String> = definition.teams.iter().map(|t| t.to_string()).collect();
    Ok(match definition.kind {
        DigestKind::Sla => Report::Sla(sla(services, definition, &teams, at).await?),
        DigestKind::Kpi => Report::Kpi(Box::new(kpi(services, definition, &teams, at).await?)),
        DigestKind::Standup => Report::Standup(standup(services, definition, &teams, at).await?),
    })
}

async fn sla(
    services: &Services,
    definition: &DigestDefinition,
    teams: &[String],
    at: DateTime<Utc>,
) -> anyhow::Result<SlaReport> {
    // A pending approval is listed once its approvers are reminded.
    let approval_wait =
        Duration::hours(i64::from(services.setup().settings.credits.remind_after_hours));
    let new_since = previous_slot(&definition.schedule, definition.time_zone, at)
        .unwrap_or(at - Duration::days(1));
    let age_bounds = [
        at - BreachAge::OneToSevenDays.from_age(),
        at - BreachAge::OneToFourWeeks.from_age(),
        at - BreachAge::OverFourWeeks.from_age(),
    ];
    let pool = services.pool();
    let changed = changed_since(pool, at).await?;
    let (counts, (at_risk, new_breaches), (approvals, approvals_total)) = tokio::try_join!(
        store::sla_counts(pool, teams, at, &changed, new_since, age_bounds),
        store::sla_lists(pool, teams, at, &changed, new_since, SLA_LIST_LIMIT),
        store::approvals_waiting(pool, teams, at, at - approval_wait, SLA_LIST_LIMIT),
    )?;
    Ok(SlaReport {
        as_of: at,
        new_since,
        at_risk: Capped { items: at_risk, total: counts.iter().map(|c| c.at_risk).sum() },
        new_breaches: Capped {
            items: new_breaches,
            total: counts.iter().map(|c| c.new_breaches).sum(),
        },
        older_breaches: counts
            .iter()
            .map(|c| {
                (c.team_key.clone(), [c.under_1d, c.from_1d_to_7d, c.from_7d_to_28d, c.over_28d])
            })
            .collect(),
        approvals: Capped { items: approvals, total: approvals_total },
        approval_wait,
    })
}

async fn kpi(
    services: &Services,
    definition: &DigestDefinition,
    teams: &[String],
    at: DateTime<Utc>,
) -> anyhow::Result<KpiReport> {
    let pool = services.pool();
    let zone = definition.time_zone;
    let Windows { previous_start, start, end } = windows_at(definition.window, zone, at);
    let month_start = month_start(zone, end);
    let days = day_starts(zone, start, end);
    // What changed since each window's end, as it stood then: resolutions a reopen since
    // undid, and the onboardings.
    let (undone_at_end, undone_at_start, onboardings_then) = tokio::try_join!(
        undone_since(pool, end),
        undone_since(pool, start),
        onboardings_changed_since(pool, end)
    )?;
    let (current, previous, backlog, per_person, pending, mut by_approver, by_severity, trend) = tokio::try_join!(
        store::window_figures(pool, teams, start, end, &undone_at_end),
        store::window_figures(pool, teams, previous_start, start, &undone_at_start),
        store::backlog(pool, teams, end, &undone_at_end),
        store::resolved_per_person(pool, teams, start, end, PEOPLE_LIMIT, &undone_at_end),
        store::approvals_pending(pool, teams, end),
        store::approvals_by_approver(pool, teams, month_start, end),
        store::escalations_by_severity(pool, teams, start, end),
        store::daily_trend(pool, teams, &days, end, &undone_at_end),
    )?;
    for total in &mut by_approver {
        total.monthly_limit = monthly_limit(services, &total.approver, &total.currency);
    }
    let first_day = start.with_timezone(&zone).date_naive();
    let last_day = (end - Duration::seconds(1)).with_timezone(&zone).date_naive();
    Ok(KpiReport {
        previous_start,
        start,
        end,
        current,
        previous,
        backlog,
        per_person,
        approvals_pending: pending.0,
        oldest_pending: pending.1,
        month_start,
        by_approver,
        by_severity,
        trend: fill_days(&trend, first_day, last_day),
        onboarding: crate::storage::onboarding::kpi(pool, teams, start, end, &onboardings_then)
            .await?,
        targets: definition.targets,
    })
}

/// The approver's monthly authority in `currency`, from any of their roles.
fn monthly_limit(
    services: &Services,
    approver: &str,
    currency: &str,
) -> Option<rust_decimal::Decimal> {
    let person = services.setup().directory.person(&PersonKey::parse(approver).ok()?)?;
    let roles: Vec<Role> = person.roles.iter().copied().collect();
    let currency = Currency::parse(currency)?;
    services
        .setup()
        .policies
        .credit
        .authority
        .limit_for(person, &roles, &currency)
        .map(|l| l.monthly)
}

/// Every day from `first` to `last`, zero where the database had no events.
fn fill_days(points: &[DayPoint], first: NaiveDate, last: NaiveDate) -> Vec<DayPoint> {
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| {
            points.iter().find(|p| p.day == day).copied().unwrap_or(DayPoint {
                day,
                opened: 0,
                resolved: 0,
            })
        })
        .collect()
}

async fn standup(
    services: &Services,
    definition: &DigestDefinition,
    teams: &[String],
    at: DateTime<Utc>,
) -> anyhow::Result<StandupReport> {
    let zone = definition.time_zone;
    let today = at.with_timezone(&zone).date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let midnight = |day: NaiveDate| place(zone, day.and_time(NaiveTime::MIN));
    let pool = services.pool();
    // Action items are due by day: the day after today's UTC midnight covers every zone's
    // "today" once the days are compared in the digest's zone.
    let tomorrow = today.succ_opt().unwrap_or(today).and_time(NaiveTime::MIN).and_utc();
    let (changed, onboardings) =
        tokio::try_join!(changed_since(pool, at), onboardings_changed_since(pool, at))?;
    // The teams the standup shows, named: the attention list is counted and cut per team.
    let covered: Vec<String> = services
        .setup()
        .directory
        .teams()
        .filter(|t| definition.covers(&t.key))
        .map(|t| t.key.as_str().to_owned())
        .collect();
    let (days, attention, (approvals, approvals_per_team), incidents) = tokio::try_join!(
        store::day_per_person(pool, teams, midnight(yesterday), midnight(today)),
        // "Due today" is the digest's local calendar day, to its next local midnight.
        store::attention(
            pool,
            &covered,
            (at, &changed, &onboardings),
            midnight(today.succ_opt().unwrap_or(today)),
            ATTENTION_LIMIT
        ),
        store::pending_approvals(pool, teams, at, APPROVALS_LIMIT),
        crate::storage::incidents::with_actions_due_before(pool, tomorrow + Duration::days(1)),
    )?;
    let mut out = Vec::new();
    for team in services.setup().directory.teams().filter(|t| definition.covers(&t.key)) {
        let key = team.key.as_str();
        let members: Vec<_> =
            services.setup().directory.people().filter(|p| p.team == team.key).collect();
        let on_shift = members
            .iter()
            .filter(|p| works_on(services, &p.key, today))
            .map(|p| p.display_name.clone())
            .collect();
        let yesterday_rows = days
            .iter()
            .filter(|d| d.team_key == key)
            .map(|d| PersonDay { person: d.person.clone(), opened: d.opened, resolved: d.resolved })
            .collect();
        let team_rows: Vec<_> = attention.iter().filter(|a| a.team_key == key).collect();
        let items_total = team_rows.first().map_or(0, |a| a.team_total);
        let mut needs: Vec<Attention> = team_rows
            .iter()
            .map(|a| Attention {
                person: a.person.clone(),
                approvers: Vec::new(),
                kind: match a.kind.as_str() {
                    "escalation" => ItemKind::Escalation,
                    "onboarding" => ItemKind::Onboarding,
                    _ => ItemKind::Request,
                },
                id: a.id,
                label: a.label.clone(),
                reason: match a.reason.as_str() {
                    "breached" => AttentionReason::Breached,
                    "at_risk" => AttentionReason::AtRisk,
                    _ => AttentionReason::WaitingOnYou,
                },
                due: a.due,
            })
            .collect();
        // One line per approval, naming everyone it waits on.
        for approval in approvals.iter().filter(|a| a.team.as_str() == key) {
            let approvers = crate::services::credits::approvers(services.setup(), approval)
                .into_iter()
                .map(|person| person.key.to_string())
                .collect();
            needs.push(Attention {
                person: None,
                approvers,
                kind: ItemKind::Credit,
                id: approval.id,
                label: format!(
                    "{}, {}",
                    text::amount(approval.payload.amount, approval.payload.currency.code()),
                    approval.account
                ),
                reason: AttentionReason::ApprovalWaiting,
                due: Some(approval.expires_at),
            });
        }
        // The incident action items the team's people own, due today or earlier.
        let mut actions_total = 0;
        for incident in &incidents {
            for action in incident.actions_due_by(today) {
                let Some(owner) = members.iter().find(|p| p.key == action.owner) else { continue };
                actions_total += 1;
                let end_of_day = action.due.succ_opt().unwrap_or(action.due);
                needs.push(Attention {
                    person: Some(owner.display_name.clone()),
                    approvers: Vec::new(),
                    kind: ItemKind::Incident,
                    id: incident.id,
                    label: text::action_item_label(action.number, &action.text),
                    reason: AttentionReason::ActionDue,
                    due: Some(midnight(end_of_day)),
                });
            }
        }
        let approvals_total =
            approvals_per_team.iter().find(|(t, _)| t == key).map_or(0, |(_, n)| *n);
        out.push(StandupTeam {
            team: key.to_owned(),
            team_name: team.name.clone(),
            yesterday: yesterday_rows,
            on_shift,
            attention: Capped {
                items: needs,
                total: items_total + approvals_total + actions_total,
            },
        });
    }
    Ok(StandupReport { day: yesterday, teams: out })
}

/// Whether the person has shift hours on `day` (their own calendar) and is not away.
fn works_on(services: &Services, person: &PersonKey, day: NaiveDate) -> bool {
    services
        .setup()
        .policies
        .rosters
        .get(person)
        .is_some_and(|r| r.shift.window_on(day).is_some() && !r.out_of_office.contains(&day))
}
