//! `/mine` and the Slack App Home: what waits on a person, with the buttons to act on it.

use serde_json::{Value, json};
use steward::config::SlackTransport;
use steward::domain::credit::CreditState;
use steward::platform::slack::http::EVENTS_PATH;

use crate::slack::{ALICE, SAM, SlackStory};
use crate::support::{TestApp, text_of};

#[tokio::test]
async fn mine_lists_approvals_waiting_on_me_with_buttons_my_items_and_the_team_queue() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 300 USD goodwill").await;
    app.command("alice", "/credit ACME-1042 900 USD goodwill").await; // above Sam's 500
    app.command("alice", "/escalate ACME-1042 sev3 Statement missing").await;
    app.command("alice", "/escalate GLOBEX-7 sev2 Portal down").await;
    app.click("sam", "esc:2:claim:v1", None).await;

    let card = app.command("sam", "/mine").await.message.card.unwrap();
    assert_eq!(card.title, "Your Steward, Sam Sutherland");
    let body = card.body.unwrap();
    assert!(body.contains("*Waiting on your approval* (1)"), "{body}");
    assert!(body.contains("#1 credit ACME-1042 300.00 USD"), "{body}");
    assert!(!body.contains("#2 credit"), "900 USD is above Sam's limit: {body}");
    assert!(body.contains("*Your escalations* (1)") && body.contains("#2 sev2 GLOBEX-7"), "{body}");
    assert!(body.contains("1 unowned escalations"), "{body}");
    let labels: Vec<&str> = card.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["Approve #1", "Reject #1", "Ask for info #1"]);
    assert_eq!(card.buttons[0].action, "cr:1:approve:v1");

    let bad = text_of(&app.command("sam", "/mine now").await);
    assert!(bad.contains("/mine"), "{bad}");
}

fn home_opened(user: &str) -> String {
    json!({
        "type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
        "event_id": format!("Ev{}", uuid::Uuid::new_v4().simple()),
        "event": { "type": "app_home_opened", "user": user, "tab": "home" },
    })
    .to_string()
}

fn home_text(call: &Value) -> String {
    call["view"]["blocks"].to_string()
}

#[tokio::test]
async fn the_app_home_shows_my_approvals_and_a_click_there_acts_and_republishes() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/credit", "ACME-1042 300 USD goodwill").await;
    story.send(EVENTS_PATH, "application/json", home_opened(SAM)).await;
    let published = story.fake.wait_for("views.publish", 1).await;
    assert_eq!(published[0].params["user_id"], SAM);
    assert_eq!(published[0].params["view"]["type"], "home");
    assert!(home_text(&published[0].params).contains("Waiting on your approval"));

    let approve = published[0].params["view"]["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["text"]["text"] == "Approve #1")
        .expect("an Approve button on the home");
    let click = json!({
        "type": "block_actions",
        "team": { "id": "T0FAKE" },
        "user": { "id": SAM },
        "api_app_id": "A0FAKE",
        "container": { "type": "view", "view_id": "V0HOME" },
        "view": { "id": "V0HOME", "type": "home" },
        "trigger_id": "trigger-home",
        "actions": [{ "type": "button", "action_id": approve["action_id"], "block_id": "b" }],
    });
    story.interact(click).await;
    let published = story.fake.wait_for("views.publish", 2).await;
    let again = home_text(&published[1].params);
    assert!(again.contains("Credit #1 approved."), "the answer on top: {again}");
    assert!(!again.contains("Waiting on your approval"), "{again}");
    let pool = &story.app.pool;
    let state: String =
        sqlx::query_scalar("SELECT state FROM credits WHERE id = 1").fetch_one(pool).await.unwrap();
    assert_eq!(state, CreditState::Approved.as_str());
}

#[tokio::test]
async fn a_burst_of_twenty_changes_republishes_the_home_once_with_the_latest_content() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.send(EVENTS_PATH, "application/json", home_opened(SAM)).await;
    story.fake.wait_for("views.publish", 1).await;
    for n in 1..=20 {
        story.slash(ALICE, "/credit", &format!("ACME-1042 {} USD goodwill", 100 + n)).await;
    }
    let pool = &story.app.pool;
    let jobs: Vec<Value> =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'home.republish'")
            .fetch_all(pool)
            .await
            .unwrap();
    // In the workspace Sam opened it in (the fake's events name `T0FAKE`).
    let sams = json!({ "platform": "slack", "user": SAM, "workspace": "T0FAKE" });
    assert_eq!(jobs, [sams], "one job, only for Sam");

    // Nothing before the debounce window ends.
    story.app.run_due_jobs().await;
    story.flush().await;
    assert_eq!(story.fake.calls_of("views.publish").len(), 1);

    story.app.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(story.app.run_due_jobs().await.len(), 1);
    story.flush().await;
    let published = story.fake.calls_of("views.publish");
    assert_eq!(published.len(), 2, "{published:?}");
    assert_eq!(published[1].params["user_id"], SAM);
    let home = home_text(&published[1].params);
    assert!(home.contains("#20 credit ACME-1042 120.00 USD"), "the latest content: {home}");

    // A change that takes an approval away from Sam republishes it again, without it.
    story.app.command("sam", "/credits pending").await;
    story.app.click("sam", "cr:20:approve:v1", None).await;
    story.app.clock.advance(chrono::Duration::seconds(10));
    story.app.run_due_jobs().await;
    story.flush().await;
    let published = story.fake.calls_of("views.publish");
    assert_eq!(published.len(), 3);
    let home = home_text(&published[2].params);
    assert!(!home.contains("#20 credit"), "{home}");
    assert!(home.contains("#19 credit"), "{home}");
}
