//! KPI figures against small hand-computed fixtures: an empty window, a window with one item,
//! and a mixed week compared with the week before.
//!
//! Fixture rows are inserted with the columns the services keep beside their documents (the
//! figures are aggregates over those columns; the documents are not read).

use rust_decimal::Decimal;
use steward::domain::digest::DigestKind;
use steward::domain::digest::report::{Backlog, KpiReport, Report};
use steward::services::digests::{compute, definition};

use crate::digests::{digest, settings_with, utc};
use crate::support::{TestApp, t0};

async fn kpi_app() -> TestApp {
    let settings =
        settings_with(vec![digest("kpi", DigestKind::Kpi, "0 9 * * Mon", chrono_tz::UTC)], "2h");
    TestApp::spawn_with(settings).await
}

async fn kpi(app: &TestApp) -> KpiReport {
    let definition = definition(&app.services, "kpi").unwrap();
    match compute(&app.services, &definition, t0()).await.unwrap() {
        Report::Kpi(report) => *report,
        other => panic!("not a KPI report: {other:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn escalation(
    app: &TestApp,
    severity: &str,
    owner: &str,
    opened: &str,
    acked: Option<&str>,
    resolved: Option<&str>,
    within_sla: Option<bool>,
) {
    let state = match (acked, resolved) {
        (_, Some(_)) => "resolved",
        (Some(_), None) => "acknowledged",
        _ => "open",
    };
    sqlx::query(
        "INSERT INTO escalations (version, team_key, account_key, severity, state, owner_key,
             opened_by, opened_at, acknowledged_at, resolved_at, resolved_within_sla, doc,
             updated_at)
         VALUES (1, 'accounts-emea', 'ACME-1042', $1, $2, $3, $3, $4, $5, $6, $7, '{}', $4)",
    )
    .bind(severity)
    .bind(state)
    .bind(owner)
    .bind(utc(opened))
    .bind(acked.map(utc))
    .bind(resolved.map(utc))
    .bind(within_sla)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[allow(clippy::too_many_arguments)]
async fn request(
    app: &TestApp,
    assignee: &str,
    opened: &str,
    accepted: &str,
    resolved: Option<&str>,
    fcr: bool,
    reopened: bool,
) {
    let state = if resolved.is_some() { "resolved" } else { "in_progress" };
    let doc =
        serde_json::json!({ "accepted": { "by": assignee, "at": accepted }, "reopened": reopened });
    sqlx::query(
        "INSERT INTO requests (version, team_key, account_key, request_type, priority, weight,
             state, assignee_key, source, opened_at, resolved_at, first_contact_resolution,
             resolved_within_sla, doc, updated_at, accepted_at, reopened)
         VALUES (1, 'accounts-emea', 'GLOBEX-7', 'billing', 'p3', 2, $1, $2, 'chat', $3, $4, $5,
                 CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE true END, $6, $3, $7, $8)",
    )
    .bind(state)
    .bind(assignee)
    .bind(utc(opened))
    .bind(resolved.map(utc))
    .bind(fcr)
    .bind(doc)
    .bind(utc(accepted))
    .bind(reopened)
    .execute(&app.pool)
    .await
    .unwrap();
}

async fn credit(app: &TestApp, state: &str, amount: i64, at: &str, approver: Option<&str>) {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO credits (version, kind, account_key, amount, currency, reason, state,
             requested_by, requested_at, team_key, doc, updated_at, expires_at, closed_at)
         VALUES (1, 'credit', 'ACME-1042', $1, 'USD', 'goodwill', $2, 'alice', $3,
                 'accounts-emea', '{}', $3, $3 + interval '72 hours',
                 CASE WHEN $2 <> 'pending' THEN $3 END) RETURNING id",
    )
    .bind(Decimal::from(amount))
    .bind(state)
    .bind(utc(at))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    if let Some(approver) = approver {
        sqlx::query(
            "INSERT INTO credit_approvals (credit_id, approver, currency, amount, decided_at)
             VALUES ($1, $2, 'USD', $3, $4)",
        )
        .bind(id)
        .bind(approver)
        .bind(Decimal::from(amount))
        .bind(utc(at))
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

fn close(actual: Option<f64>, expected: f64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() < 1e-6)
}

#[tokio::test]
async fn an_empty_window_has_no_figures_and_says_so() {
    let app = kpi_app().await;
    let report = kpi(&app).await;
    assert_eq!(report.current.opened, 0);
    assert_eq!(report.current.resolved, 0);
    assert_eq!(report.current.acknowledge.p50, None);
    assert_eq!(report.current.resolve.p90, None);
    assert_eq!(report.current.sla_attainment(), None);
    assert_eq!(report.current.first_contact_resolution, None);
    assert!(report.current.credits.is_empty());
    assert_eq!(report.backlog, Backlog::default());
    assert_eq!(report.approvals_pending, 0);
    // The window is the last whole week, Mon 16 Nov 00:00 – Mon 23 Nov 00:00: seven days.
    assert_eq!(
        (report.start, report.end),
        (utc("2026-11-16T00:00:00Z"), utc("2026-11-23T00:00:00Z"))
    );
    assert_eq!(report.trend.len(), 7);
    assert!(report.trend.iter().all(|d| d.opened == 0 && d.resolved == 0));
    let reply = app.command("sam", "/digest kpi").await;
    let body = reply.message.card.unwrap().body.unwrap();
    assert!(body.contains("Time to acknowledge: p50 – · p90 –"), "{body}");
    assert!(body.contains("Credits granted: none"), "{body}");
}

#[tokio::test]
async fn a_window_with_one_item_has_that_item_as_every_percentile() {
    let app = kpi_app().await;
    escalation(
        &app,
        "sev2",
        "sam",
        "2026-11-17T09:00:00Z",
        Some("2026-11-17T09:10:00Z"),
        Some("2026-11-17T13:00:00Z"),
        Some(true),
    )
    .await;
    let report = kpi(&app).await;
    let c = &report.current;
    assert_eq!((c.opened, c.resolved), (1, 1));
    assert!(close(c.acknowledge.p50, 600.0) && close(c.acknowledge.p90, 600.0), "{c:?}");
    assert!(close(c.resolve.p50, 14400.0) && close(c.resolve.p90, 14400.0), "{c:?}");
    assert!(close(c.sla_attainment(), 1.0));
    // No requests: first-contact resolution and reopen rate have nothing to count.
    assert_eq!(c.first_contact_resolution, None);
    assert_eq!(c.reopen_rate, None);
    assert_eq!(report.per_person, vec![("sam".to_owned(), 1)]);
    assert_eq!(report.by_severity, vec![("sev2".to_owned(), 1)]);
    assert_eq!(report.previous.opened, 0);
}

#[tokio::test]
async fn a_mixed_week_matches_the_hand_computed_figures_and_the_week_before() {
    let app = kpi_app().await;
    // Window: Mon 2026-11-16 00:00 – Mon 11-23 00:00; the previous one the week before.
    escalation(
        &app,
        "sev2",
        "sam",
        "2026-11-17T09:00:00Z",
        Some("2026-11-17T09:10:00Z"),
        Some("2026-11-17T13:00:00Z"),
        Some(true),
    )
    .await;
    escalation(
        &app,
        "sev3",
        "alice",
        "2026-11-18T10:00:00Z",
        Some("2026-11-18T10:30:00Z"),
        Some("2026-11-19T10:00:00Z"),
        Some(false),
    )
    .await;
    escalation(&app, "sev1", "alice", "2026-11-20T09:00:00Z", None, None, None).await;
    request(
        &app,
        "alice",
        "2026-11-21T09:00:00Z",
        "2026-11-21T09:20:00Z",
        Some("2026-11-22T09:00:00Z"),
        true,
        false,
    )
    .await;
    request(
        &app,
        "sam",
        "2026-11-10T09:00:00Z",
        "2026-11-10T10:00:00Z",
        Some("2026-11-10T11:00:00Z"),
        false,
        true,
    )
    .await;
    request(&app, "sam", "2026-11-15T09:00:00Z", "2026-11-15T09:05:00Z", None, false, false).await;
    credit(&app, "approved", 250, "2026-11-18T12:00:00Z", Some("sam")).await;
    credit(&app, "pending", 80, "2026-11-21T09:00:00Z", None).await;

    let report = kpi(&app).await;
    let c = &report.current;
    assert_eq!((c.opened, c.resolved), (4, 3));
    // Acknowledge: 600, 1200, 1800 s → p50 1200, p90 1200 + 0.8 × 600 = 1680.
    assert!(close(c.acknowledge.p50, 1200.0) && close(c.acknowledge.p90, 1680.0), "{c:?}");
    // Resolve: 14400, 86400, 86400 s.
    assert!(close(c.resolve.p50, 86400.0) && close(c.resolve.p90, 86400.0), "{c:?}");
    assert!(close(c.sla_attainment(), 2.0 / 3.0), "{c:?}");
    assert!(close(c.first_contact_resolution, 1.0));
    assert!(close(c.reopen_rate, 0.0));
    assert_eq!(c.credits.len(), 1);
    assert_eq!((c.credits[0].count, c.credits[0].sum), (1, Decimal::from(250)));

    let p = &report.previous;
    assert_eq!((p.opened, p.resolved), (2, 1));
    // Accepts after 3600 and 300 s → p50 1950.
    assert!(close(p.acknowledge.p50, 1950.0), "{p:?}");
    assert!(close(p.resolve.p50, 7200.0));
    assert!(close(p.first_contact_resolution, 0.0));
    assert!(close(p.reopen_rate, 1.0));

    // Open at the window's end (Mon 23 Nov 00:00): the sev1 (2 days 15 hours old) and the
    // November 15 request (7 days 15 hours).
    assert_eq!(
        report.backlog,
        Backlog { under_1d: 0, from_1d_to_3d: 1, from_3d_to_7d: 0, over_7d: 1 }
    );
    assert_eq!(report.per_person, vec![("alice".to_owned(), 2), ("sam".to_owned(), 1)]);
    assert_eq!(
        report.by_severity,
        vec![("sev1".to_owned(), 1), ("sev2".to_owned(), 1), ("sev3".to_owned(), 1)]
    );
    assert_eq!(report.approvals_pending, 1);
    assert_eq!(report.oldest_pending, Some(utc("2026-11-21T09:00:00Z")));
    assert_eq!(report.by_approver.len(), 1);
    let sam = &report.by_approver[0];
    assert_eq!((sam.approver.as_str(), sam.count, sam.sum), ("sam", 1, Decimal::from(250)));
    // Sam is a supervisor: 5000 USD a month in the demo authority matrix.
    assert_eq!(sam.monthly_limit, Some(Decimal::from(5000)));
    let day = |d: &str| report.trend.iter().find(|p| p.day.to_string() == d).copied().unwrap();
    assert_eq!((day("2026-11-17").opened, day("2026-11-17").resolved), (1, 1));
    assert_eq!((day("2026-11-22").opened, day("2026-11-22").resolved), (0, 1));

    let body = steward::domain::messages::digest::kpi_body(&report, chrono_tz::UTC, "kpi");
    assert!(
        body.contains(
            "SLA attainment: 66.7% ▼; previous 100.0% · 2 met of 3 resolved + 0 open past due"
        ),
        "{body}"
    );
    assert!(body.contains("Opened: 4 ▲; previous 2"), "{body}");
    assert!(body.contains("sam: 1 credit · 250 USD of 5,000 USD monthly authority"), "{body}");
    assert!(body.contains("Credits granted: 1 credit · 250 USD"), "{body}");
    assert!(body.contains("Definitions: time to acknowledge"), "{body}");
}
