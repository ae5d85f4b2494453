//! More than one Slack workspace (issue 14 item 6): the workspace of an inbound event travels
//! with the work — onto the items it opens and every outbox row they cause — and each Web
//! API call goes out with its own workspace's bot token, read from `slack_installations`
//! (else the environment's). The fake records the bearer token of every call.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use steward::config::{PersonConfig, Secret, SlackTransport};
use steward::domain::ids::PersonKey;
use steward::platform::slack::http::{COMMANDS_PATH, EVENTS_PATH, SlackHttpState, routes};
use steward::platform::slack::team_tokens::TeamTokens;
use steward::platform::slack::{SlackApi, SlackChat, SlackInbound};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::storage;
use tower::ServiceExt;

use super::slack::{ALICE, CHANNEL, FORM, SlackStory, slack_settings};
use crate::support::slack_fake::{self, Failure, SlackFake};
use crate::support::{TestApp, demo_settings};

pub const TOKEN_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A Steward that installs into more workspaces, with the port and the install callback
/// sharing one set of tokens, as `serve` wires them. `env_token`: whether the environment
/// has a bot token (the default workspace's).
pub async fn multi_workspace_story(
    settings: steward::config::Settings,
    env_token: bool,
) -> SlackStory {
    let fake = SlackFake::start().await;
    let mut settings = settings;
    let default_workspace = settings.slack.default_workspace.clone();
    settings.slack = slack_settings(&fake, SlackTransport::Http);
    settings.slack.default_workspace = default_workspace;
    settings.slack.client_id = slack_fake::CLIENT_ID.into();
    settings.slack.client_secret = Some(Secret::new(slack_fake::CLIENT_SECRET));
    settings.slack.token_key = Some(Secret::new(TOKEN_KEY));
    settings.slack.public_url = "https://steward.acme.test".into();
    if !env_token {
        settings.slack.bot_token = None;
    }
    let app = TestApp::spawn_with(settings).await;
    let slack = &app.services.setup().settings.slack;
    let api = SlackApi::new(slack).unwrap();
    let tokens =
        Arc::new(TeamTokens::new(slack, app.pool.clone(), &api).with_clock(app.clock.clone()));
    let port: Arc<dyn ChatPort> = Arc::new(
        SlackChat::new(api.clone(), app.clock.clone(), Duration::from_secs(1))
            .with_tokens(tokens.clone()),
    );
    let inbound = SlackInbound::new(app.services.clone(), api).with_tokens(tokens);
    let router = routes(SlackHttpState::new(inbound.clone()));
    let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
    SlackStory { app, fake, inbound, router, dispatcher }
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, Option<String>) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (response.status(), location)
}

/// Installs the workspace that Slack grants for `code`, as an admin's browser would.
pub async fn install(story: &SlackStory, code: &str) {
    let (_, location) = get(&story.router, "/slack/install").await;
    let url = url::Url::parse(&location.unwrap()).unwrap();
    let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let (status, _) =
        get(&story.router, &format!("/slack/oauth/callback?code={code}&state={state}")).await;
    assert_eq!(status, StatusCode::OK);
}

/// A slash command typed in workspace `team`; its reply (the acknowledgement's body).
pub async fn slash_in(
    story: &SlackStory,
    team: &str,
    user: &str,
    command: &str,
    text: &str,
) -> serde_json::Value {
    let body = serde_urlencoded::to_string([
        ("team_id", team),
        ("channel_id", CHANNEL),
        ("user_id", user),
        ("command", command),
        ("text", text),
        ("response_url", "http://127.0.0.1:1/unused"),
        ("trigger_id", &format!("trigger-{}", uuid::Uuid::new_v4())),
    ])
    .unwrap();
    let (status, reply) = story.send(COMMANDS_PATH, FORM, body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply
}

/// The bearer tokens of the Web API calls after the first `from` calls.
fn tokens_since(fake: &SlackFake, from: usize) -> Vec<(String, String)> {
    fake.calls()[from..]
        .iter()
        .filter(|c| c.method != "oauth.v2.access")
        .map(|c| (c.method.clone(), c.params["_token"].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test]
async fn each_workspaces_cards_and_pages_go_out_with_its_own_token() {
    let story = multi_workspace_story(demo_settings(), true).await;
    install(&story, slack_fake::INSTALL_CODE).await;
    install(&story, slack_fake::THIRD_INSTALL_CODE).await;

    let teams = [
        (slack_fake::SECOND_TEAM, slack_fake::SECOND_TEAM_TOKEN),
        (slack_fake::THIRD_TEAM, slack_fake::THIRD_TEAM_TOKEN),
        // Never installed: the environment's token, the default workspace's.
        ("T0FAKE", slack_fake::BOT_TOKEN),
    ];
    for (n, (team, token)) in teams.into_iter().enumerate() {
        // Past the channel's pacing slot of the card before.
        story.app.clock.advance(chrono::Duration::seconds(2));
        let from = story.fake.calls().len();
        let summary = format!("checkout down in {team}");
        slash_in(&story, team, ALICE, "/escalate", &format!("ACME-1042 sev2 {summary}")).await;
        story.flush().await;
        let calls = tokens_since(&story.fake, from);
        let cards = story.fake.calls_of("chat.postMessage");
        let card = cards.iter().rev().find(|c| c.params["channel"] == "C0ESCALATE");
        let card = card.unwrap_or_else(|| panic!("the card of {team} was posted: {calls:?}"));
        assert!(card.params.to_string().contains(&summary), "{:?}", card.params);
        assert_eq!(card.params["_token"], token, "the card of {team}");
        for (method, used) in &calls {
            assert_eq!(used, token, "{method} for {team}");
        }
        let id = n as i64 + 1;
        let recorded: Option<String> =
            sqlx::query_scalar("SELECT workspace FROM escalations WHERE id = $1")
                .bind(id)
                .fetch_one(&story.app.pool)
                .await
                .unwrap();
        assert_eq!(recorded.as_deref(), Some(team), "the item records its workspace");
        let rows: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT workspace FROM outbox WHERE starts_with(dedupe_key, $1) ORDER BY id",
        )
        .bind(format!("esc:{id}:"))
        .fetch_all(&story.app.pool)
        .await
        .unwrap();
        assert!(rows.len() >= 2, "a card and its pages: {rows:?}");
        assert!(rows.iter().all(|w| w.as_deref() == Some(team)), "{rows:?}");
    }
}

#[tokio::test]
async fn a_workspace_never_installed_without_an_environment_token_fails_once_and_says_why() {
    let story = multi_workspace_story(demo_settings(), false).await;
    install(&story, slack_fake::INSTALL_CODE).await;
    slash_in(&story, "T0NEVER", ALICE, "/escalate", "ACME-1042 sev2 checkout down").await;
    // Flushing ends: nothing is left to retry.
    story.flush().await;
    assert!(story.fake.calls_of("chat.postMessage").is_empty());
    let counts = storage::outbox::counts(&story.app.pool).await.unwrap();
    assert_eq!(counts.pending, 0, "not retried forever: {counts:?}");
    assert!(counts.failed >= 1, "{counts:?}");
    let why = counts.last_error.unwrap_or_default();
    assert!(why.contains("T0NEVER") && why.contains("not installed"), "{why}");

    // The installed workspace is served all the same.
    slash_in(&story, slack_fake::SECOND_TEAM, ALICE, "/escalate", "ACME-1042 sev2 down").await;
    story.flush().await;
    let posted = story.fake.tokens_of("chat.postMessage");
    assert!(!posted.is_empty());
    assert!(posted.iter().all(|t| t == slack_fake::SECOND_TEAM_TOKEN), "{posted:?}");
}

#[tokio::test]
async fn a_reinstall_replaces_the_cached_token_and_a_refused_token_is_read_again() {
    let story = multi_workspace_story(demo_settings(), true).await;
    install(&story, slack_fake::INSTALL_CODE).await;
    slash_in(&story, slack_fake::SECOND_TEAM, ALICE, "/escalate", "ACME-1042 sev2 one").await;
    story.flush().await;
    // Another replica stores a token this process has not seen: the cached one is refused
    // once, read again, and the call repeated with the stored one.
    let key = steward::platform::slack::tokens::TokenKey::parse(TOKEN_KEY).unwrap();
    let (nonce, sealed) = key.seal(slack_fake::SECOND_TEAM, slack_fake::THIRD_TEAM_TOKEN);
    sqlx::query(
        "UPDATE slack_installations SET token_nonce = $2, token_sealed = $3 WHERE team_id = $1",
    )
    .bind(slack_fake::SECOND_TEAM)
    .bind(nonce)
    .bind(sealed)
    .execute(&story.app.pool)
    .await
    .unwrap();
    story.fake.revoke_token(slack_fake::SECOND_TEAM_TOKEN);
    story.app.clock.advance(chrono::Duration::seconds(2));
    let from = story.fake.calls().len();
    slash_in(&story, slack_fake::SECOND_TEAM, ALICE, "/escalate", "ACME-1042 sev2 two").await;
    story.flush().await;
    let calls = tokens_since(&story.fake, from);
    let posts: Vec<&String> =
        calls.iter().filter(|(m, _)| m == "chat.postMessage").map(|(_, t)| t).collect();
    assert_eq!(posts.first().map(|t| t.as_str()), Some(slack_fake::SECOND_TEAM_TOKEN));
    assert!(
        posts.iter().skip(1).all(|t| t.as_str() == slack_fake::THIRD_TEAM_TOKEN),
        "after the refusal, the stored token: {posts:?}"
    );
    let counts = storage::outbox::counts(&story.app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0), "{counts:?}");
}

/// The demo organisation plus `U0SAME` of the second workspace (Sam's double) and of the
/// third (Fran's), and the default workspace named.
fn same_user_in_two_workspaces() -> steward::config::Settings {
    let mut settings = demo_settings();
    let template = settings.people.iter().find(|p| p.key.as_str() == "alice").unwrap().clone();
    for (key, name, team) in [
        ("sami", "Sami Second", slack_fake::SECOND_TEAM),
        ("tess", "Tess Third", slack_fake::THIRD_TEAM),
    ] {
        settings.people.push(PersonConfig {
            key: PersonKey::parse(key).unwrap(),
            name: name.into(),
            slack: Some(format!("{team}:U0SAME")),
            discord: None,
            console: None,
            ..template.clone()
        });
    }
    settings
}

#[tokio::test]
async fn the_same_user_id_in_two_workspaces_is_two_people() {
    let mut settings = same_user_in_two_workspaces();
    settings.slack.default_workspace = "T0FAKE".into();
    let story = multi_workspace_story(settings, true).await;
    install(&story, slack_fake::INSTALL_CODE).await;
    install(&story, slack_fake::THIRD_INSTALL_CODE).await;
    let whoami = |team: &'static str, user: &'static str| {
        let story = &story;
        async move {
            let reply = slash_in(story, team, user, "/steward", "whoami").await;
            reply["text"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert!(whoami(slack_fake::SECOND_TEAM, "U0SAME").await.contains("Sami Second"));
    assert!(whoami(slack_fake::THIRD_TEAM, "U0SAME").await.contains("Tess Third"));
    // Nobody is U0SAME of the default workspace, or of a fourth one.
    assert!(whoami("T0FAKE", "U0SAME").await.contains("doesn't know"));
    assert!(whoami("T0FOURTH", "U0SAME").await.contains("doesn't know"));
    // Plain ids belong to the default workspace only once it is named.
    assert!(whoami("T0FAKE", ALICE).await.contains("Alice"));
    let alice_elsewhere = whoami(slack_fake::SECOND_TEAM, ALICE).await;
    assert!(alice_elsewhere.contains("doesn't know"), "{alice_elsewhere}");

    // Each opens their own home, published with their own workspace's token.
    for team in [slack_fake::SECOND_TEAM, slack_fake::THIRD_TEAM] {
        let event = serde_json::json!({
            "type": "event_callback", "team_id": team, "api_app_id": "A0FAKE",
            "event_id": format!("Ev{}", uuid::Uuid::new_v4().simple()),
            "event": { "type": "app_home_opened", "user": "U0SAME", "tab": "home" },
        });
        let (status, _) = story.send(EVENTS_PATH, "application/json", event.to_string()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let homes = story.fake.wait_for("views.publish", 2).await;
    let mut published: Vec<(String, String)> = homes
        .iter()
        .map(|c| {
            let view = c.params["view"].to_string();
            let who = if view.contains("Sami") {
                "sami"
            } else if view.contains("Tess") {
                "tess"
            } else {
                "?"
            };
            (c.params["_token"].as_str().unwrap_or_default().to_owned(), who.to_owned())
        })
        .collect();
    published.sort();
    let expected_homes = [
        (slack_fake::SECOND_TEAM_TOKEN.to_owned(), "sami".to_owned()),
        (slack_fake::THIRD_TEAM_TOKEN.to_owned(), "tess".to_owned()),
    ];
    assert_eq!(published, expected_homes);
    let viewers: Vec<(String, String)> = sqlx::query_as(
        "SELECT workspace, person_key FROM home_viewers WHERE user_id = 'U0SAME' ORDER BY workspace",
    )
    .fetch_all(&story.app.pool)
    .await
    .unwrap();
    let expected_viewers = [
        (slack_fake::SECOND_TEAM.to_owned(), "sami".to_owned()),
        (slack_fake::THIRD_TEAM.to_owned(), "tess".to_owned()),
    ];
    assert_eq!(viewers, expected_viewers, "two viewers, one per workspace");

    // The database's copy of the directory keeps them apart too.
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT workspace, platform_user_id, person_key FROM person_identities
         WHERE platform = 'slack' AND platform_user_id = 'U0SAME' ORDER BY workspace",
    )
    .fetch_all(&story.app.pool)
    .await
    .unwrap();
    let expected = [
        (slack_fake::SECOND_TEAM.to_owned(), "U0SAME".to_owned(), "sami".to_owned()),
        (slack_fake::THIRD_TEAM.to_owned(), "U0SAME".to_owned(), "tess".to_owned()),
    ];
    assert_eq!(rows, expected);
}

/// The card posts of the story so far, with the token each came with.
fn card_tokens(fake: &SlackFake) -> Vec<String> {
    fake.calls_of("chat.postMessage")
        .iter()
        .filter(|c| c.params["channel"] == "C0ESCALATE" && c.params["_status"] != 429)
        .map(|c| c.params["_token"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotating_token_is_refreshed_before_it_expires_once_across_dispatchers() {
    let story = multi_workspace_story(demo_settings(), true).await;
    install(&story, slack_fake::ROTATING_INSTALL_CODE).await;
    let team = slack_fake::ROTATING_TEAM;
    let (expires_at, sealed): (chrono::DateTime<chrono::Utc>, Vec<u8>) = sqlx::query_as(
        "SELECT token_expires_at, refresh_sealed FROM slack_installations WHERE team_id = $1",
    )
    .bind(team)
    .fetch_one(&story.app.pool)
    .await
    .unwrap();
    assert_eq!(
        expires_at,
        story.app.now() + chrono::Duration::seconds(slack_fake::ROTATING_EXPIRES_IN)
    );
    assert!(!sealed.windows(4).any(|w| w == b"xoxe"), "the refresh token is sealed");

    slash_in(&story, team, ALICE, "/escalate", "ACME-1042 sev2 before expiry").await;
    story.flush().await;
    assert_eq!(card_tokens(&story.fake), [slack_fake::rotating_token(1)]);

    // Four minutes before expiry: within the five minutes, so the next call refreshes. Two
    // replicas ask at once; the row lock lets one refresh and the other find its token.
    story.app.clock.set(expires_at - chrono::Duration::minutes(4));
    let slack = &story.app.services.setup().settings.slack;
    let api = SlackApi::new(slack).unwrap();
    let replica =
        || TeamTokens::new(slack, story.app.pool.clone(), &api).with_clock(story.app.clock.clone());
    let (a, b) = (replica(), replica());
    let (token_a, token_b) = tokio::join!(a.token(Some(team)), b.token(Some(team)));
    let fresh = slack_fake::rotating_token(2);
    assert_eq!(token_a.unwrap().token_value.0, fresh);
    assert_eq!(token_b.unwrap().token_value.0, fresh);
    assert_eq!(story.fake.rotations(), 2, "refreshed once");
    let refreshes: Vec<_> = story
        .fake
        .calls_of("oauth.v2.access")
        .into_iter()
        .filter(|c| c.params["grant_type"] == "refresh_token")
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(refreshes[0].params["refresh_token"], slack_fake::rotating_refresh(1));

    // The dispatcher's own cached token is due too: under the lock it finds the new one.
    slash_in(&story, team, ALICE, "/escalate", "ACME-1042 sev2 after refresh").await;
    story.flush().await;
    assert_eq!(card_tokens(&story.fake), [slack_fake::rotating_token(1), fresh]);
    assert_eq!(story.fake.rotations(), 2, "still refreshed once");
}

#[tokio::test]
async fn a_token_slack_calls_expired_is_refreshed_and_the_call_repeated() {
    let story = multi_workspace_story(demo_settings(), true).await;
    install(&story, slack_fake::ROTATING_INSTALL_CODE).await;
    // Slack expired it early (its clock, not ours, says so).
    story.fake.expire_rotated_tokens(true);
    slash_in(&story, slack_fake::ROTATING_TEAM, ALICE, "/escalate", "ACME-1042 sev2 down").await;
    story.flush().await;
    let fresh = slack_fake::rotating_token(2);
    // The first call (whichever message went first) was refused; it was repeated with the
    // refreshed token, and everything after went out with that one.
    let calls = tokens_since(&story.fake, 0);
    assert_eq!(calls[0].1, slack_fake::rotating_token(1), "{calls:?}");
    assert_eq!(calls[1], (calls[0].0.clone(), fresh.clone()), "the same call again");
    assert!(calls[1..].iter().all(|(_, t)| *t == fresh), "{calls:?}");
    assert_eq!(card_tokens(&story.fake), std::slice::from_ref(&fresh));
    assert_eq!(story.fake.rotations(), 2);
    let counts = storage::outbox::counts(&story.app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0), "{counts:?}");
    assert!(story.fake.tokens_of("conversations.open").iter().all(|t| *t == fresh));
}

#[tokio::test]
async fn a_refresh_slack_refuses_is_counted_for_alerting_and_the_messages_wait() {
    let metrics = steward::telemetry::metrics::handle().expect("Steward's recorder");
    let story = multi_workspace_story(demo_settings(), true).await;
    install(&story, slack_fake::ROTATING_INSTALL_CODE).await;
    let team = slack_fake::ROTATING_TEAM;
    // The app was uninstalled there: Slack refuses the token and then its refresh.
    story.fake.refuse_refreshes();
    story.fake.expire_rotated_tokens(true);
    slash_in(&story, team, ALICE, "/escalate", "ACME-1042 sev2 down").await;
    story.flush().await;
    assert_eq!(story.fake.rotations(), 1, "no new token was granted");
    let rendered = metrics.render();
    let counted = rendered.lines().any(|l| {
        l.starts_with("steward_token_refresh_failures_total{")
            && l.contains("platform=\"slack\"")
            && l.contains(&format!("team=\"{team}\""))
    });
    assert!(counted, "{rendered}");
    // The messages wait for a token; none is given up on.
    let counts = storage::outbox::counts(&story.app.pool).await.unwrap();
    assert!(counts.pending > 0, "{counts:?}");
    assert_eq!(counts.failed, 0, "{counts:?}");
}

#[tokio::test]
async fn a_rate_limit_in_one_workspace_does_not_hold_back_another() {
    let story = multi_workspace_story(demo_settings(), true).await;
    install(&story, slack_fake::INSTALL_CODE).await;
    install(&story, slack_fake::THIRD_INSTALL_CODE).await;
    let answered_with = |token: &str| {
        let calls = story.fake.answered_calls_of("chat.postMessage");
        calls.iter().filter(|c| c.params["_token"] == token).count()
    };
    // Slack counts limits per workspace: a 429 in the second pauses its posts only.
    story.fake.fail_next("chat.postMessage", [Failure::RateLimited(30)]);
    slash_in(&story, slack_fake::SECOND_TEAM, ALICE, "/escalate", "ACME-1042 sev2 two").await;
    story.flush().await;
    assert_eq!(answered_with(slack_fake::SECOND_TEAM_TOKEN), 0);

    story.app.clock.advance(chrono::Duration::seconds(2));
    slash_in(&story, slack_fake::THIRD_TEAM, ALICE, "/escalate", "ACME-1042 sev2 three").await;
    story.flush().await;
    assert!(card_tokens(&story.fake).contains(&slack_fake::THIRD_TEAM_TOKEN.to_owned()));
    assert_eq!(answered_with(slack_fake::SECOND_TEAM_TOKEN), 0, "the second still waits");
    let pending = storage::outbox::counts(&story.app.pool).await.unwrap().pending;
    assert!(pending >= 1, "the second's messages wait for their pause");

    story.app.clock.advance(chrono::Duration::seconds(30));
    story.flush().await;
    assert!(answered_with(slack_fake::SECOND_TEAM_TOKEN) >= 1);
    let counts = storage::outbox::counts(&story.app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0), "{counts:?}");
}
