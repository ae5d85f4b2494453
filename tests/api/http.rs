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
