//! Installing into more workspaces (issue 14 item 6): `/slack/install` redirects to Slack's
//! authorize page with a signed, expiring state; the callback refuses bad or old states,
//! exchanges the code with `oauth.v2.access` on the fake, and stores the team's bot token
//! sealed under `STEWARD_TOKEN_KEY`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use steward::config::{Secret, SlackTransport};
use steward::platform::slack::http::{SlackHttpState, routes};
use steward::platform::slack::manifest::BOT_SCOPES;
use steward::platform::slack::oauth::team_token;
use steward::platform::slack::{SlackApi, SlackInbound};
use tower::ServiceExt;

use crate::slack::slack_settings;
use crate::support::slack_fake::{self, SlackFake};
use crate::support::{TestApp, demo_settings};

const TOKEN_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

struct Install {
    app: TestApp,
    fake: SlackFake,
    router: axum::Router,
}

async fn install_story() -> Install {
    let fake = SlackFake::start().await;
    let mut settings = demo_settings();
    settings.slack = slack_settings(&fake, SlackTransport::Http);
    settings.slack.client_id = slack_fake::CLIENT_ID.into();
    settings.slack.client_secret = Some(Secret::new(slack_fake::CLIENT_SECRET));
    settings.slack.token_key = Some(Secret::new(TOKEN_KEY));
    settings.slack.public_url = "https://steward.acme.test".into();
    let app = TestApp::spawn_with(settings).await;
    let api = SlackApi::new(&app.services.setup().settings.slack).unwrap();
    let router = routes(SlackHttpState::new(SlackInbound::new(app.services.clone(), api)));
    Install { app, fake, router }
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, location, String::from_utf8_lossy(&body).into_owned())
}

/// The `state` of a fresh install redirect, after checking the redirect itself.
async fn state_from_install(router: &axum::Router) -> String {
    let (status, location, _) = get(router, "/slack/install").await;
    assert_eq!(status, StatusCode::FOUND);
    let url = url::Url::parse(&location.unwrap()).unwrap();
    assert_eq!(url.as_str().split('?').next().unwrap(), "https://slack.com/oauth/v2/authorize");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], slack_fake::CLIENT_ID);
    assert_eq!(query["scope"], BOT_SCOPES.join(","));
    assert_eq!(query["redirect_uri"], "https://steward.acme.test/slack/oauth/callback");
    query["state"].clone()
}

async fn installations(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM slack_installations")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_install_stores_the_teams_token_sealed_and_it_opens_with_the_key() {
    let t = install_story().await;
    let state = state_from_install(&t.router).await;
    let uri = format!("/slack/oauth/callback?code={}&state={state}", slack_fake::INSTALL_CODE);
    let (status, _, body) = get(&t.router, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Second Workspace"), "{body}");
    let exchanged = t.fake.calls_of("oauth.v2.access");
    assert_eq!(exchanged.len(), 1);
    assert_eq!(exchanged[0].params["code"], slack_fake::INSTALL_CODE);

    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT token_sealed FROM slack_installations WHERE team_id = $1")
            .bind(slack_fake::SECOND_TEAM)
            .fetch_one(&t.app.pool)
            .await
            .unwrap();
    assert!(!sealed.windows(4).any(|w| w == b"xoxb"), "the token is not stored in the clear");
    let settings = &t.app.services.setup().settings.slack;
    let token = team_token(&t.app.pool, settings, slack_fake::SECOND_TEAM).await.unwrap();
    assert_eq!(token.unwrap().expose(), slack_fake::SECOND_TEAM_TOKEN);
    assert!(team_token(&t.app.pool, settings, "T0NEVER").await.unwrap().is_none());
}

#[tokio::test]
async fn a_forged_expired_or_missing_state_is_refused_before_slack_is_asked() {
    let t = install_story().await;
    let code = slack_fake::INSTALL_CODE;
    let state = state_from_install(&t.router).await;
    // The signature's last digit changed (to another digit, whatever it was).
    let flipped = if state.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}", &state[..state.len() - 1]);
    for uri in [
        format!("/slack/oauth/callback?code={code}&state={forged}"),
        format!("/slack/oauth/callback?code={code}"),
        format!("/slack/oauth/callback?code={code}&state=1.2.3"),
    ] {
        assert_eq!(get(&t.router, &uri).await.0, StatusCode::UNAUTHORIZED, "{uri}");
    }
    t.app.clock.advance(chrono::Duration::minutes(10));
    let uri = format!("/slack/oauth/callback?code={code}&state={state}");
    assert_eq!(get(&t.router, &uri).await.0, StatusCode::UNAUTHORIZED, "expired");
    assert!(t.fake.calls_of("oauth.v2.access").is_empty());
    assert_eq!(installations(&t.app).await, 0);

    // A valid state with a code Slack does not know: nothing stored.
    let state = state_from_install(&t.router).await;
    let uri = format!("/slack/oauth/callback?code=stale&state={state}");
    assert_eq!(get(&t.router, &uri).await.0, StatusCode::BAD_GATEWAY);
    assert_eq!(installations(&t.app).await, 0);
}

#[tokio::test]
async fn without_a_client_id_there_is_one_workspace_and_no_install_route() {
    let fake = SlackFake::start().await;
    let mut settings = demo_settings();
    settings.slack = slack_settings(&fake, SlackTransport::Http);
    let app = TestApp::spawn_with(settings).await;
    let api = SlackApi::new(&app.services.setup().settings.slack).unwrap();
    let router = routes(SlackHttpState::new(SlackInbound::new(app.services.clone(), api)));
    assert_eq!(get(&router, "/slack/install").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&router, "/slack/oauth/callback?code=x&state=y").await.0, StatusCode::NOT_FOUND);
}
