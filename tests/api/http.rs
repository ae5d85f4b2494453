use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use steward::http::{HttpState, router};
use tower::ServiceExt;

use crate::support::TestApp;

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let response =
        app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn health_and_readiness_answer_when_the_database_is_up() {
    let app = TestApp::spawn().await;
    let router = router(HttpState { pool: app.pool.clone() });
    assert_eq!(get(&router, "/healthz").await, (StatusCode::OK, "ok".into()));
    assert_eq!(get(&router, "/readyz").await, (StatusCode::OK, "ready".into()));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let router = router(HttpState { pool: app.pool.clone() });
    app.pool.close().await;
    assert_eq!(get(&router, "/readyz").await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(get(&router, "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn metrics_are_served_in_prometheus_text_with_queues_sampled_from_the_database() {
    let app = TestApp::spawn().await;
    let router = router(HttpState { pool: app.pool.clone() });
    // Installs the recorder before anything is recorded (the daemon does so at start).
    assert_eq!(get(&router, "/metrics").await.0, StatusCode::OK);
    app.command("alice", "/escalate ACME-1042 sev2 Checkout is down").await;
    app.command("alice", "/escalate NOPE-1 sev2 no such account").await;
    let (status, body) = get(&router, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let line = |prefix: &str, labels: &[&str]| {
        body.lines().any(|l| l.starts_with(prefix) && labels.iter().all(|x| l.contains(x)))
    };
    let console = "platform=\"console\"";
    assert!(
        line("steward_inbound_events_total{", &[console, "kind=\"command\"", "outcome=\"ok\""]),
        "{body}"
    );
    assert!(line("steward_inbound_events_total{", &[console, "outcome=\"refused\""]), "{body}");
    assert!(line("steward_ack_seconds_bucket{", &[console, "le=\"3\""]), "{body}");
    assert!(line("steward_outbox_messages{", &[console, "state=\"pending\""]), "{body}");
    assert!(line("steward_outbox_oldest_pending_seconds{", &[console]), "{body}");
    assert!(line("steward_jobs{", &["kind=\"escalation.step\"", "state=\"pending\""]), "{body}");
    assert!(line("steward_db_pool_connections{", &["state=\"in_use\""]), "{body}");
}
