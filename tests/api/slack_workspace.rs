//! Slack as a real workspace sees it: user text that cannot ping, person arguments written as
//! mentions, a card for a team of 60 that Slack accepts (its Reassign menu loaded as typed,
//! see `slack_select`), `ssl_check`. The fake refuses
//! `invalid_blocks` like Slack (tests/support/platform_limits.rs), so a post that went
//! through is one Slack would take.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use steward::config::{PersonConfig, SlackTransport};
use steward::domain::identity::Role;
use steward::domain::ids::{PersonKey, TeamKey};
use steward::platform::slack::http::{COMMANDS_PATH, SlackHttpState, routes};
use steward::platform::slack::{SlackApi, SlackChat, SlackInbound};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;

use super::slack::{
    ALICE, CHANNEL, FORM, SAM, SlackStory, button, card_post, click_payload, slack_settings,
};
use crate::support::platform_limits;
use crate::support::slack_fake::SlackFake;
use crate::support::{TestApp, demo_settings};

/// The demo organisation plus `extra` agents in Alice's team, on the Slack fake.
async fn story_with_agents(extra: usize) -> SlackStory {
    story_with_named_agents(extra, |n| {
        format!("Agent Number {n:03} With A Fairly Long Display Name")
    })
    .await
}

/// The same, with the `n`th agent (key `agent-nnn`, Slack id `U0AGENTnnn`) named `name(n)`.
pub async fn story_with_named_agents(extra: usize, name: fn(usize) -> String) -> SlackStory {
    let fake = SlackFake::start().await;
    let mut settings = demo_settings();
    settings.slack = slack_settings(&fake, SlackTransport::Http);
    let template = settings.people.iter().find(|p| p.key.as_str() == "alice").unwrap().clone();
    for n in 0..extra {
        settings.people.push(PersonConfig {
            key: PersonKey::parse(&format!("agent-{n:03}")).unwrap(),
            name: name(n),
            team: TeamKey::parse(template.team.as_str()).unwrap(),
            roles: vec![Role::Agent],
            slack: Some(format!("U0AGENT{n:03}")),
            discord: None,
            console: None,
            ..template.clone()
        });
    }
    let app = TestApp::spawn_with(settings).await;
    let api = SlackApi::new(&app.services.setup().settings.slack).unwrap();
    let port: Arc<dyn ChatPort> =
        Arc::new(SlackChat::new(api.clone(), app.clock.clone(), Duration::from_secs(1)));
    let inbound = SlackInbound::new(app.services.clone(), api);
    let router = routes(SlackHttpState::new(inbound.clone()));
    let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
    SlackStory { app, fake, inbound, router, dispatcher }
}

fn all_text(value: &Value) -> String {
    value.to_string()
}

#[tokio::test]
async fn user_text_never_pings_and_a_mention_in_it_names_the_person() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let summary = "<!here> <!channel> checkout & payments down, ask <@U0DEMOSAM> or <!everyone>";
    let (status, _) = story.slash(ALICE, "/escalate", &format!("ACME-1042 sev3 {summary}")).await;
    assert_eq!(status, StatusCode::OK);
    story.flush().await;
    let card = card_post(&story.fake);
    assert_eq!(platform_limits::slack_pings(&card.params), Vec::<String>::new());
    let shown = all_text(&card.params);
    assert!(shown.contains("&lt;!here&gt;"), "{shown}");
    assert!(shown.contains("&amp; payments"), "{shown}");
    // The mention became the person, not a vanished word or a ping.
    assert!(shown.contains("ask @sam"), "{shown}");
}

#[tokio::test]
async fn a_mention_to_the_bot_keeps_the_rest_of_the_text() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let body = json!({
        "type": "event_callback", "event_id": "Ev42", "team_id": "T0FAKE",
        "event": { "type": "app_mention", "user": ALICE, "channel": CHANNEL,
                   "text": "<@U0BOT> escalate GLOBEX-7 sev3 <!here> checkout down for <@U0DEMOSAM>" },
    });
    let (status, _) = story
        .send(steward::platform::slack::http::EVENTS_PATH, "application/json", body.to_string())
        .await;
    assert_eq!(status, StatusCode::OK);
    story.fake.wait_for("chat.postEphemeral", 1).await;
    story.flush().await;
    let card = card_post(&story.fake);
    assert_eq!(platform_limits::slack_pings(&card.params), Vec::<String>::new());
    assert!(all_text(&card.params).contains("checkout down for @sam"), "{:?}", card.params);
}

#[tokio::test]
async fn a_card_for_a_team_of_sixty_is_posted_and_reassign_loads_its_people_as_typed() {
    let story = story_with_agents(60).await;
    let long = "x".repeat(1990);
    let (status, _) = story.slash(ALICE, "/escalate", &format!("ACME-1042 sev2 {long}")).await;
    assert_eq!(status, StatusCode::OK);
    story.flush().await;
    let posts = story.fake.calls_of("chat.postMessage");
    let refused: Vec<&Value> = posts.iter().filter_map(|c| c.params.get("_problems")).collect();
    assert!(refused.is_empty(), "Slack would refuse: {refused:?}");
    let card = card_post(&story.fake);
    let reassign = button(&card, "Reassign");
    assert!(reassign["value"].as_str().unwrap().chars().count() <= 2000);

    let payload = click_payload(SAM, &reassign, "1.0", &story.fake.response_url("r"));
    story.interact(payload).await;
    let opened = story.fake.calls_of("views.open");
    assert_eq!(opened.len(), 1);
    let view = &opened[0].params["view"];
    assert!(view.get("_problems").is_none());
    // 60 people do not fit the button value: Slack asks for them while Sam types.
    assert_eq!(view["blocks"][0]["element"]["type"], "external_select");
    let submit = json!({
        "type": "view_submission", "team": { "id": "T0FAKE" }, "user": { "id": SAM },
        "view": { "id": "V0FAKE", "type": "modal", "private_metadata": view["private_metadata"],
            "state": { "values": { "prompt": { "text": {
                "type": "external_select",
                "selected_option": { "text": { "type": "plain_text", "text": "Agent 042" },
                                     "value": "agent-042" } } } } } },
    });
    let (status, _) = story.interact(submit).await;
    assert_eq!(status, StatusCode::OK);
    story.flush().await;
    let update = story.fake.calls_of("chat.update").pop().expect("the card was updated");
    assert!(all_text(&update.params).contains("Agent Number 042"), "{:?}", update.params);
}

#[tokio::test]
async fn ssl_check_gets_200_and_touches_nothing() {
    let story = SlackStory::start(SlackTransport::Http).await;
    let body = "ssl_check=1&token=legacy".to_owned();
    let (status, _) = story.send_with(COMMANDS_PATH, FORM, body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(story.inbox_rows().await, 0);
    assert!(story.fake.calls().is_empty());
    // Anything else unsigned is still refused.
    let (status, _) = story.send_with(COMMANDS_PATH, FORM, "ssl_check=0".into(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_fake_refuses_blocks_over_slacks_limits_like_slack() {
    let fake = SlackFake::start().await;
    let post = |blocks: Value| {
        let url = format!("{}/chat.postMessage", fake.api_url());
        async move {
            let body = json!({ "channel": CHANNEL, "text": "t", "blocks": blocks });
            let response = reqwest::Client::new()
                .post(url)
                .header(
                    "authorization",
                    format!("Bearer {}", crate::support::slack_fake::BOT_TOKEN),
                )
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap()
        }
    };
    let section = |n: usize| json!({ "type": "section", "text": { "type": "mrkdwn", "text": "x".repeat(n) } });
    assert_eq!(post(json!([section(3000)])).await["ok"], true);
    assert_eq!(post(json!([section(3001)])).await["error"], "invalid_blocks");
    let many: Vec<Value> = (0..51).map(|_| section(1)).collect();
    assert_eq!(post(Value::Array(many)).await["error"], "invalid_blocks");
    let value = json!([{ "type": "actions", "elements": [{ "type": "button", "action_id": "a",
        "text": { "type": "plain_text", "text": "Go" }, "value": "v".repeat(2001) }] }]);
    assert_eq!(post(value).await["error"], "invalid_blocks");
}
