//! Gathering a digest's figures: SQL aggregates from `storage::digests`, run concurrently on
//! the pool, plus what only configuration knows (authority limits, shifts, team names).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::domain::digest::report::{
    Attention, AttentionReason, DayPoint, ItemKind, KpiReport, PersonDay, Report, SlaReport,
    StandupReport, StandupTeam,
};
use crate::domain::digest::slots::place;
use crate::domain::digest::{DigestDefinition, DigestKind};
use crate::domain::identity::Role;
use crate::domain::ids::PersonKey;
use crate::domain::money::Currency;
use crate::services::Services;
use crate::storage::digests as store;

/// At most this many lines per list (SLA items, attention lines).
const LIST_LIMIT: i64 = 200;
/// People listed in "resolved per person".
const PEOPLE_LIMIT: i64 = 10;

/// The figures of `definition` as of `at` (the slot).
pub async fn compute(
    services: &Services,
    definition: &DigestDefinition,
    at: DateTime<Utc>,
) -> anyhow::Result<Report> {
    let teams: Vec<String> = definition.teams.iter().map(|t| t.to_string()).collect();
    Ok(match definition.kind {
        DigestKind::Sla => Report::Sla(sla(services, &teams, at).await?),
        DigestKind::Kpi => Report::Kpi(Box::new(kpi(services, definition, &teams, at).await?)),
        DigestKind::Standup => Report::Standup(standup(services, definition, &teams, at).await?),
    })
}

async fn sla(
    services: &Services,
    teams: &[String],
    at: DateTime<Utc>,
) -> anyhow::Result<SlaReport> {
    // A pending approval is at risk once its approvers are reminded.
    let remind = Duration::hours(i64::from(services.settings.credits.remind_after_hours));
    let items = store::sla_items(&services.pool, teams, at, at - remind, LIST_LIMIT).await?;
    Ok(SlaReport { as_of: at, items })
}

async fn kpi(
    services: &Services,
    definition: &DigestDefinition,
    teams: &[String],
    end: DateTime<Utc>,
) -> anyhow::Result<KpiReport> {
    let pool = &services.pool;
    let start = end - definition.window;
    let previous_start = start - definition.window;
    let zone = definition.time_zone.name();
    let (current, previous, backlog, per_person, pending, mut by_approver, by_severity, trend) = tokio::try_join!(
        store::window_figures(pool, teams, start, end),
        store::window_figures(pool, teams, previous_start, start),
        store::backlog(pool, teams, end),
        store::resolved_per_person(pool, teams, start, end, PEOPLE_LIMIT),
        store::approvals_pending(pool, teams, end),
        store::approvals_by_approver(pool, teams, start, end),
        store::escalations_by_severity(pool, teams, start, end),
        store::daily_trend(pool, teams, start, end, zone),
    )?;
    for total in &mut by_approver {
        total.monthly_limit = monthly_limit(services, &total.approver, &total.currency);
    }
    let first_day = start.with_timezone(&definition.time_zone).date_naive();
    let last_day = (end - Duration::seconds(1)).with_timezone(&definition.time_zone).date_naive();
    Ok(KpiReport {
        start,
        end,
        current,
        previous,
        backlog,
        per_person,
        approvals_pending: pending.0,
        oldest_pending: pending.1,
        by_approver,
        by_severity,
        trend: fill_days(&trend, first_day, last_day),
        onboarding: crate::storage::onboarding::kpi(pool, teams, start, end).await?,
    })
}

/// The approver's monthly authority in `currency`, from any of their roles.
fn monthly_limit(
    services: &Services,
    approver: &str,
    currency: &str,
) -> Option<rust_decimal::Decimal> {
    let person = services.directory.person(&PersonKey::parse(approver).ok()?)?;
    let roles: Vec<Role> = person.roles.iter().copied().collect();
    let currency = Currency::parse(currency)?;
    services.policies.credit.authority.limit_for(person, &roles, &currency).map(|l| l.monthly)
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
    let pool = &services.pool;
    let (days, attention, approvals) = tokio::try_join!(
        store::day_per_person(pool, teams, midnight(yesterday), midnight(today)),
        store::attention(pool, teams, at, LIST_LIMIT),
        store::pending_approvals(pool, teams, LIST_LIMIT),
    )?;
    let mut out = Vec::new();
    for team in services.directory.teams().filter(|t| definition.covers(&t.key)) {
        let key = team.key.as_str();
        let members: Vec<_> = services.directory.people().filter(|p| p.team == team.key).collect();
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
        let mut needs: Vec<Attention> = attention
            .iter()
            .filter(|a| a.team_key == key)
            .map(|a| Attention {
                person: a.person.clone(),
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
        for approval in approvals.iter().filter(|a| a.team.as_str() == key) {
            let label = format!("{} {}", approval.payload.amount, approval.payload.currency.code());
            for person in crate::services::credits::approvers(services, approval) {
                needs.push(Attention {
                    person: Some(person.key.to_string()),
                    kind: ItemKind::Credit,
                    id: approval.id,
                    label: label.clone(),
                    reason: AttentionReason::ApprovalWaiting,
                    due: Some(approval.expires_at),
                });
            }
        }
        out.push(StandupTeam {
            team: key.to_owned(),
            team_name: team.name.clone(),
            yesterday: yesterday_rows,
            on_shift,
            attention: needs,
        });
    }
    Ok(StandupReport { day: yesterday, teams: out })
}

/// Whether the person has shift hours on `day` (their own calendar) and is not away.
fn works_on(services: &Services, person: &PersonKey, day: NaiveDate) -> bool {
    services
        .policies
        .rosters
        .get(person)
        .is_some_and(|r| r.shift.window_on(day).is_some() && !r.out_of_office.contains(&day))
}
