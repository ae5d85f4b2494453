//! `steward seed`: generated history looks like the services' own rows, so the app reads its
//! documents and the digests count it.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use rust_decimal::Decimal;
use steward::bench::seed::{SeedArgs, seed};
use steward::domain::credit::{Credit, CreditState, compute_chain, month_bounds};
use steward::domain::digest::report::Report;
use steward::domain::escalation::Escalation;
use steward::domain::item::{Cell, LivingItem};
use steward::domain::request::{Request, RequestState};
use steward::services::digests::{compute, definition};

use crate::support::TestApp;

#[tokio::test]
async fn seeded_history_is_read_by_the_app_and_counted_by_the_digests() {
    let app = TestApp::spawn().await;
    let args = SeedArgs { requests: 3000, escalations: 2000, credits: 500, days: 30 };
    let figures = seed(&app.services, &args, app.now()).await.unwrap();
    // What was inserted: the generated rows only, no template items.
    assert_eq!(figures.escalations, 2000);
    assert_eq!(figures.requests, 3000);
    assert_eq!(figures.credits, 500);
    assert!(figures.credit_approvals > 100, "{figures:?}");

    // The documents deserialize into the aggregates, with the generated fields.
    let newest: i64 =
        sqlx::query_scalar("SELECT max(id) FROM escalations").fetch_one(&app.pool).await.unwrap();
    let escalation =
        steward::storage::items::get::<steward::domain::escalation::Escalation>(&app.pool, newest)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(escalation.id, newest);
    assert!(escalation.summary.starts_with("Seeded escalation"));
    let request_id: i64 =
        sqlx::query_scalar("SELECT max(id) FROM requests").fetch_one(&app.pool).await.unwrap();
    let reply = app.command("sam", &format!("/request show {request_id}")).await;
    assert!(reply.message.card.is_some(), "{reply:?}");

    // Several tiers and currencies, and most of the history resolved.
    let currencies: i64 = sqlx::query_scalar("SELECT count(DISTINCT currency) FROM credits")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(currencies, 3);
    let report =
        compute(&app.services, &definition(&app.services, "weekly-kpi").unwrap(), app.now())
            .await
            .unwrap();
    let Report::Kpi(kpi) = report else { panic!("not a KPI report") };
    assert!(kpi.current.opened > 500, "{:?}", kpi.current);
    assert!(kpi.current.resolved > 300, "{:?}", kpi.current);
    let attainment = kpi.current.sla_attainment().unwrap();
    assert!(attainment > 0.3 && attainment < 1.0, "{attainment}");
    assert!(!kpi.current.credits.is_empty());
}

/// Every seeded row, read back column by column (`to_jsonb` of the whole row), ordered by id.
async fn rows(app: &TestApp, table: &str) -> Vec<serde_json::Value> {
    let sql = format!("SELECT to_jsonb(t) FROM {table} t ORDER BY id");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&app.pool).await.unwrap()
}

fn time(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|raw| DateTime::parse_from_rfc3339(raw).unwrap().to_utc())
}

/// Decodes each row's document and checks that every stored projection column equals what
/// the item's own `projection()` computes from that document.
fn stored_items<T: LivingItem>(rows: &[serde_json::Value]) -> Vec<T> {
    rows.iter()
        .map(|row| {
            let (id, version) = (row["id"].as_i64().unwrap(), row["version"].as_i64().unwrap());
            assert_eq!(row["doc"]["id"].as_i64(), Some(id), "{row}");
            assert_eq!(row["doc"]["version"].as_i64(), Some(version), "{row}");
            let mut item: T = serde_json::from_value(row["doc"].clone()).unwrap();
            item.set_stored(id, version as i32);
            for (column, cell) in item.projection().unwrap().cells {
                let stored = &row[column];
                let same = match &cell {
                    Cell::Text(value) => stored.as_str() == value.as_deref(),
                    Cell::Time(value) => time(stored) == *value,
                    Cell::Flag(value) => stored.as_bool() == *value,
                    Cell::Int(value) => stored.as_i64() == Some(i64::from(*value)),
                    Cell::Amount(value) => {
                        stored.to_string().parse::<Decimal>().ok() == Some(*value)
                    }
                };
                assert!(same, "{} {id}: column {column} = {stored}, projection {cell:?}", T::KIND);
            }
            item
        })
        .collect()
}

/// Inside the demo team's working hours (Europe/London, Mon–Thu 09:00–17:30, Fri
/// 09:00–16:00), end of a window included.
fn in_emea_working_hours(at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&chrono_tz::Europe::London);
    let minutes = local.hour() * 60 + local.minute();
    let close = match local.weekday() {
        Weekday::Sat | Weekday::Sun => return false,
        Weekday::Fri => 16 * 60,
        _ => 17 * 60 + 30,
    };
    (9 * 60..=close).contains(&minutes)
}

#[tokio::test]
async fn seeded_rows_are_aggregates_with_their_own_projection_on_the_configured_calendars() {
    let app = TestApp::spawn().await;
    let args = SeedArgs { requests: 2500, escalations: 2500, credits: 1500, days: 60 };
    let figures = seed(&app.services, &args, app.now()).await.unwrap();
    assert_eq!((figures.escalations, figures.requests, figures.credits), (2500, 2500, 1500));
    let services = &app.services;

    // Escalations: the configured SLA plan and policy, times in order, projection stored.
    let escalations: Vec<Escalation> = stored_items(&rows(&app, "escalations").await);
    assert_eq!(escalations.len(), 2500);
    assert!(escalations.windows(2).all(|w| w[0].opened_at <= w[1].opened_at));
    let mut business_hours_dues = 0;
    for escalation in &escalations {
        let calendar = services.setup().settings.team_calendar(&escalation.team);
        let plan =
            services.setup().policies.sla.plan(escalation.severity, &escalation.tier, &calendar);
        assert_eq!(Some(&escalation.sla), plan.as_ref(), "escalation {}", escalation.id);
        let policy = services.setup().policies.escalation.select(
            escalation.severity,
            &escalation.tier,
            &escalation.team,
        );
        assert_eq!(Some(&escalation.policy), policy, "escalation {}", escalation.id);
        let due = escalation.projection().unwrap().get("due_at").cloned();
        if let (false, Some(Cell::Time(Some(due)))) = (escalation.sla.always_open, due) {
            assert!(in_emea_working_hours(due), "escalation {} due {due}", escalation.id);
            business_hours_dues += 1;
        }
    }
    assert!(business_hours_dues > 10, "{business_hours_dues} open business-hours escalations");

    // Requests: the team's targets for the priority, due inside working hours.
    let requests: Vec<Request> = stored_items(&rows(&app, "requests").await);
    assert_eq!(requests.len(), 2500);
    assert!(requests.windows(2).all(|w| w[0].opened_at <= w[1].opened_at));
    let mut business_hours_dues = 0;
    for request in &requests {
        let calendar = services.setup().settings.team_calendar(&request.team);
        let plan = services.setup().policies.requests.plan(request.priority, &calendar);
        assert_eq!(Some(&request.sla), plan.as_ref(), "request {}", request.id);
        let due = request.projection().unwrap().get("due_at").cloned();
        if let (false, Some(Cell::Time(Some(due)))) = (request.sla.always_open, due) {
            assert!(in_emea_working_hours(due), "request {} due {due}", request.id);
            business_hours_dues += 1;
        }
    }
    assert!(business_hours_dues > 10, "{business_hours_dues} open business-hours requests");
    let states = |wanted: RequestState| requests.iter().filter(|r| r.state == wanted).count();
    assert!(states(RequestState::Resolved) > 2000, "most of the history is resolved");
    assert!(states(RequestState::InProgress) + states(RequestState::Assigned) > 0);
    assert!(requests.iter().any(|r| r.reopened) && requests.iter().any(|r| r.reassigned));

    // Credits: the configured chain; each approved one approved by people with the role,
    // its authority decision recorded once, within the approver's monthly limit.
    let credits: Vec<Credit> = stored_items(&rows(&app, "credits").await);
    assert_eq!(credits.len(), 1500);
    let approvals: Vec<(i64, String, String, Decimal, DateTime<Utc>)> = sqlx::query_as(
        "SELECT credit_id, approver, currency, amount, decided_at FROM credit_approvals",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let approved: Vec<&Credit> =
        credits.iter().filter(|c| c.state == CreditState::Approved).collect();
    assert!(approved.len() > 500, "{} approved", approved.len());
    assert_eq!(approvals.len(), approved.len());
    assert_eq!(figures.credit_approvals, approved.len() as i64);
    let mut monthly: BTreeMap<(String, String, DateTime<Utc>), Decimal> = BTreeMap::new();
    for credit in &credits {
        let chain = compute_chain(
            &services.setup().policies.credit.chain,
            credit.payload.amount,
            &credit.payload.currency,
        );
        assert_eq!(credit.chain, chain, "credit {}", credit.id);
    }
    for credit in approved {
        let last = credit.decisions.last().unwrap();
        assert_eq!(credit.decisions.len(), credit.chain.len());
        let recorded = approvals.iter().find(|a| a.0 == credit.id).expect("approval row");
        assert_eq!((recorded.1.as_str(), recorded.4), (last.by.as_str(), last.at));
        assert_eq!(recorded.3, credit.payload.amount.abs());
        assert_ne!(last.by, credit.requested_by);
        let approver = services.setup().directory.person(&last.by).unwrap();
        let level = credit.chain.last().unwrap();
        let limit = services
            .setup()
            .policies
            .credit
            .authority
            .limit_for(approver, &level.roles, &credit.payload.currency)
            .expect("the approver holds authority in the currency");
        assert!(recorded.3 <= limit.per_request);
        let month = month_bounds(last.at, approver.time_zone).0;
        let used = monthly.entry((recorded.1.clone(), recorded.2.clone(), month)).or_default();
        *used += recorded.3;
        assert!(*used <= limit.monthly, "{} over the monthly limit", recorded.1);
    }

    // History only: nothing to send, nothing scheduled, no audit records.
    for table in ["outbox", "jobs", "audit_log", "living_messages"] {
        let sql = format!("SELECT count(*) FROM {table}");
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&app.pool).await.unwrap();
        assert_eq!(count, 0, "{table}");
    }
}
