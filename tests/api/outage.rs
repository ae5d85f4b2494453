//! The database away (issue 17 item 4): a request is answered "Steward can't reach its
//! database" within Slack's 3 s, `/readyz` says 503 at once, and the pool reconnects on its
//! own when the database is back.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use steward::http::{HttpState, router};
use steward::services::Services;
use tower::ServiceExt;

use crate::support::tcp_proxy::TcpProxy;
use crate::support::{TestApp, command_inbound, demo_settings, text_of};

/// Services on the test database, reached through a proxy that can be stopped.
async fn behind_proxy(app: &TestApp) -> (Services, TcpProxy) {
    let url: url::Url = app.db.url().parse().unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let target = tokio::net::lookup_host(target).await.unwrap().next().unwrap();
    let proxy = TcpProxy::start(target).await;
    let mut proxied = url.clone();
    proxied.set_port(Some(proxy.addr.port())).unwrap();
    let settings = demo_settings();
    let acquire = Duration::from_millis(settings.database.acquire_timeout_ms);
    let pool = steward::storage::connect(proxied.as_str(), 4, acquire, Duration::from_secs(5))
        .await
        .unwrap();
    let directory = settings.directory().unwrap();
    let services = Services::new(pool, app.clock.clone(), directory, settings).unwrap();
    (services, proxy)
}

async fn whoami(services: &Services, n: u32) -> String {
    let reply = services
        .handle_inbound(command_inbound(&format!("k{n}"), "alice", "/steward whoami"))
        .await;
    text_of(&reply)
}

#[tokio::test]
async fn a_stopped_database_gets_a_reply_within_three_seconds_and_readyz_says_503_at_once() {
    let app = TestApp::spawn().await;
    let (services, proxy) = behind_proxy(&app).await;
    assert!(!whoami(&services, 1).await.contains("database"), "works while the database is up");
    let ready = router(HttpState { pool: services.pool().clone() });

    proxy.stop().await;
    let started = Instant::now();
    let reply = whoami(&services, 2).await;
    let waited = started.elapsed();
    assert_eq!(reply.trim(), "Steward can't reach its database; try again in a minute.");
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}");

    let started = Instant::now();
    let response =
        ready.clone().oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(1), "readyz took {:?}", started.elapsed());

    // Back on its own: no restart, the next request is served.
    proxy.resume().await;
    let reply = whoami(&services, 3).await;
    assert!(!reply.contains("database"), "{reply}");
    let response =
        ready.oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
