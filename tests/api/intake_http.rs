//! The signed intake endpoint through the real router: signatures, time window, rotation,
//! deduplication of retries (also concurrent), validation.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::future::join_all;
use http_body_util::BodyExt;
use steward::config::Secret;
use steward::http::intake::{IntakeState, PATH, routes, sign};
use steward::storage;
use tower::ServiceExt;

use crate::support::TestApp;

const SECRET: &str = "current-secret";
const OLD_SECRET: &str = "previous-secret";

fn router(app: &TestApp) -> axum::Router {
    routes(IntakeState {
        services: app.services.clone(),
        secrets: Arc::new(vec![Secret::new(SECRET), Secret::new(OLD_SECRET)]),
        window_seconds: 300,
    })
}

fn body(external_id: &str) -> String {
    serde_json::json!({
        "external_id": external_id,
        "source": "helpdesk",
        "account": "GLOBEX-7",
        "type": "billing",
        "summary": "Invoice total is wrong",
        "fields": { "invoice": "INV-9" },
    })
    .to_string()
}

fn signed(body: &str, secret: &str, timestamp: i64) -> Request<Body> {
    Request::post(PATH)
        .header("content-type", "application/json")
        .header("X-Steward-Timestamp", timestamp.to_string())
        .header("X-Steward-Signature", sign(secret, timestamp, body.as_bytes()))
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

async fn written(app: &TestApp) -> (i64, i64) {
    let requests = storage::requests::count(&app.pool).await.unwrap();
    let (outbox_pending, _) = {
        let counts = storage::outbox::counts(&app.pool).await.unwrap();
        (counts.pending, counts.failed)
    };
    (requests, outbox_pending)
}

#[tokio::test]
async fn a_signed_request_is_created_and_a_retry_returns_the_same_id() {
    let app = TestApp::spawn().await;
    let router = router(&app);
    let now = app.now().timestamp();
    let (status, reply) = send(&router, signed(&body("HD-1"), SECRET, now)).await;
    assert_eq!(
        (status, reply["id"].as_i64(), reply["created"].as_bool()),
        (StatusCode::CREATED, Some(1), Some(true))
    );
    // The very same delivery again (a replay inside the window, or the sender's retry).
    let (status, reply) = send(&router, signed(&body("HD-1"), SECRET, now)).await;
    assert_eq!(
        (status, reply["id"].as_i64(), reply["created"].as_bool()),
        (StatusCode::OK, Some(1), Some(false))
    );
    let r = storage::items::get::<steward::domain::request::Request>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.source.as_str(), r.external_id.as_deref()), ("helpdesk", Some("HD-1")));
    assert_eq!(r.assignee.as_ref().map(|a| a.as_str()), Some("alice"));
    assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 1);
}

#[tokio::test]
async fn the_previous_secret_still_signs_during_rotation() {
    let app = TestApp::spawn().await;
    let (status, _) =
        send(&router(&app), signed(&body("HD-2"), OLD_SECRET, app.now().timestamp())).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn forged_stale_and_unsigned_requests_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let router = router(&app);
    let now = app.now().timestamp();
    let forged = signed(&body("HD-3"), "guessed-secret", now);
    let stale = signed(&body("HD-3"), SECRET, now - 301);
    let future = signed(&body("HD-3"), SECRET, now + 301);
    let mut tampered = signed(&body("HD-3"), SECRET, now);
    *tampered.body_mut() = Body::from(body("HD-3").replace("INV-9", "INV-0"));
    let unsigned = Request::post(PATH).body(Body::from(body("HD-3"))).unwrap();
    let no_timestamp = Request::post(PATH)
        .header("X-Steward-Signature", sign(SECRET, now, body("HD-3").as_bytes()))
        .body(Body::from(body("HD-3")))
        .unwrap();
    let bad_scheme = Request::post(PATH)
        .header("X-Steward-Timestamp", now.to_string())
        .header(
            "X-Steward-Signature",
            sign(SECRET, now, body("HD-3").as_bytes()).replace("v1=", "v0="),
        )
        .body(Body::from(body("HD-3")))
        .unwrap();
    for request in [forged, stale, future, tampered, unsigned, no_timestamp, bad_scheme] {
        let (status, reply) = send(&router, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(reply["error"].as_str().unwrap().contains("signature"));
    }
    assert_eq!(written(&app).await, (0, 0));
}

#[tokio::test]
async fn concurrent_deliveries_of_one_external_id_create_one_request() {
    let app = TestApp::spawn().await;
    let router = router(&app);
    let now = app.now().timestamp();
    let sends = (0..8).map(|_| {
        let router = router.clone();
        let request = signed(&body("HD-4"), SECRET, now);
        tokio::spawn(async move { send(&router, request).await })
    });
    let replies: Vec<_> = join_all(sends).await.into_iter().map(Result::unwrap).collect();
    let created = replies.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let repeated = replies.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!((created, repeated), (1, 7), "{replies:?}");
    let ids: std::collections::BTreeSet<_> =
        replies.iter().map(|(_, r)| r["id"].as_i64()).collect();
    assert_eq!(ids.len(), 1, "every delivery names the same request: {ids:?}");
    assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 1);
}

#[tokio::test]
async fn invalid_requests_are_refused_with_what_was_wrong() {
    let app = TestApp::spawn().await;
    let router = router(&app);
    let now = app.now().timestamp();
    let with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut value: serde_json::Value = serde_json::from_str(&body("HD-5")).unwrap();
        change(&mut value);
        value.to_string()
    };
    let cases = [
        (
            with(&|v| v["type"] = "refund".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`refund` is not a request type",
        ),
        (
            with(&|v| v["account"] = "NOPE-1".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no account `NOPE-1`",
        ),
        (
            with(&|v| v["fields"] = serde_json::json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs invoice",
        ),
        (
            with(&|v| v["priority"] = "urgent".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`urgent` is not a priority",
        ),
        (
            with(&|v| v["external_id"] = " ".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`external_id` is required",
        ),
        ("{not json".to_owned(), StatusCode::BAD_REQUEST, "not a valid request"),
    ];
    for (body, status, problem) in cases {
        let (got, reply) = send(&router, signed(&body, SECRET, now)).await;
        assert_eq!(got, status, "{body}");
        assert!(reply["error"].as_str().unwrap().contains(problem), "{reply}");
    }
    assert_eq!(written(&app).await, (0, 0));
}

#[tokio::test]
async fn an_overlong_summary_is_refused_with_422_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let long = serde_json::json!({
        "external_id": "HD-LONG",
        "source": "helpdesk",
        "account": "GLOBEX-7",
        "type": "billing",
        "summary": "x".repeat(20_000),
    })
    .to_string();
    let (status, reply) = send(&router(&app), signed(&long, SECRET, app.now().timestamp())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    let error = reply["error"].as_str().unwrap();
    assert_eq!(error, "The summary is too long: 20,000 characters, at most 2,000.");
    assert_eq!(written(&app).await, (0, 0));
}

#[tokio::test]
async fn a_body_over_the_configured_cap_is_answered_413_and_nothing_is_written() {
    let mut settings = crate::support::demo_settings();
    settings.server.intake_max_body_bytes = 4_096;
    let app = TestApp::spawn_with(settings).await;
    let router = router(&app);
    let now = app.now().timestamp();
    let mut big = body("HD-BIG");
    big.push_str(&" ".repeat(4_096));
    let response = router.clone().oneshot(signed(&big, SECRET, now)).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(written(&app).await, (0, 0));
    // Under the cap the same route still works.
    let (status, _) = send(&router, signed(&body("HD-SMALL"), SECRET, now)).await;
    assert_eq!(status, StatusCode::CREATED);
}
