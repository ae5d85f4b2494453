//! `steward seed`: generated history looks like the services' own rows, so the app reads its
//! documents and the digests count it.

use steward::bench::seed::{SeedArgs, seed};
use steward::domain::digest::report::Report;
use steward::services::digests::{compute, definition};

use crate::support::TestApp;

#[tokio::test]
async fn seeded_history_is_read_by_the_app_and_counted_by_the_digests() {
    let app = TestApp::spawn().await;
    let args = SeedArgs { requests: 3000, escalations: 2000, credits: 500, days: 30 };
    let figures = seed(&app.services, &args, app.now()).await.unwrap();
    // One template of each kind opened through the services, plus the generated rows.
    assert_eq!(figures.escalations, 2001);
    assert_eq!(figures.requests, 3001);
    assert_eq!(figures.credits, 501);
    assert!(figures.credit_approvals > 100, "{figures:?}");
    // What the run inserted is reported apart from the table sizes.
    let inserted = figures.inserted;
    assert_eq!((inserted.escalations, inserted.requests, inserted.credits), (2000, 3000, 500));
    assert_eq!(inserted.credit_approvals, figures.credit_approvals);
    assert!(figures.summary().starts_with("Seeded 2000 escalations, 3000 requests, 500 credits"));

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
    let attainment = kpi.current.sla_attainment.unwrap();
    assert!(attainment > 0.3 && attainment < 1.0, "{attainment}");
    assert!(!kpi.current.credits.is_empty());
}
