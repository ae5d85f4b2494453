//! People lists longer than a Slack menu holds (issue 14 item 2): the Reassign prompt of an
//! escalation with 500 eligible owners opens a modal with an `external_select`, whose options
//! Slack loads from Steward while the person types (`block_suggestion`, signed like every
//! interaction), filtered by name or key, at most 100, within Block Kit's limits; the
//! selected option is submitted like a static select's and reassigns the escalation.

use axum::http::StatusCode;
use serde_json::{Value, json};
use steward::platform::slack::http::{INTERACTIVITY_PATH, OPTIONS_PATH};

use super::slack::{
    ALICE, FORM, SAM, SlackStory, button, card_post, click_payload, interaction_form,
};
use super::slack_workspace::story_with_named_agents;
use crate::support::platform_limits;

/// Agents whose names repeat: 200 of the 500 have "ali" in their name (Alicia, Natalia).
fn agent_name(n: usize) -> String {
    let first = ["Alicia", "Natalia", "Bob", "Chen", "Dana"][n % 5];
    format!("{first} Agent {n:03}")
}

/// Alice's escalation on a team with 500 more agents, and the modal Sam's Reassign click
/// opened (the `views.open` view).
async fn reassign_modal() -> (SlackStory, Value) {
    let story = story_with_named_agents(500, agent_name).await;
    let (status, _) = story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    assert_eq!(status, StatusCode::OK);
    story.flush().await;
    let card = card_post(&story.fake);
    assert!(card.params.get("_problems").is_none(), "Slack would refuse the card: {card:?}");
    let reassign = button(&card, "Reassign");
    let value = reassign["value"].as_str().unwrap();
    assert!(value.chars().count() <= 2000, "button value of {} characters", value.len());
    assert!(!value.contains("agent-"), "the value carries no list of people: {value}");
    story.interact(click_payload(SAM, &reassign, "1.0", &story.fake.response_url("r"))).await;
    let view = story.fake.calls_of("views.open").pop().expect("the modal was opened");
    (story, view.params["view"].clone())
}

fn suggestion(view: &Value, user: &str, typed: &str) -> Value {
    json!({
        "type": "block_suggestion",
        "team": { "id": "T0FAKE" },
        "user": { "id": user },
        "api_app_id": "A0FAKE",
        "action_id": "text",
        "block_id": "prompt",
        "value": typed,
        "container": { "type": "view", "view_id": "V0FAKE" },
        "view": { "id": "V0FAKE", "type": "modal", "private_metadata": view["private_metadata"] },
    })
}

/// Options for `typed` through the options load URL: (value, text) of each.
async fn options(story: &SlackStory, view: &Value, typed: &str) -> Vec<(String, String)> {
    let form = interaction_form(&suggestion(view, SAM, typed));
    let (status, body) = story.send(OPTIONS_PATH, FORM, form).await;
    assert_eq!(status, StatusCode::OK);
    let problems = platform_limits::slack_options(&body);
    assert!(problems.is_empty(), "Slack would refuse the options: {problems:?}");
    body["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_str().unwrap().into(), o["text"]["text"].as_str().unwrap().into()))
        .collect()
}

fn submit(view: &Value, user: &str, key: &str) -> Value {
    json!({
        "type": "view_submission", "team": { "id": "T0FAKE" }, "user": { "id": user },
        "view": { "id": "V0FAKE", "type": "modal", "private_metadata": view["private_metadata"],
            "state": { "values": { "prompt": { "text": {
                "type": "external_select",
                "selected_option": { "text": { "type": "plain_text", "text": key },
                                     "value": key } } } } } },
    })
}

#[tokio::test]
async fn five_hundred_eligible_people_get_an_external_select_within_slacks_limits() {
    let (_story, view) = reassign_modal().await;
    assert!(view.get("_problems").is_none(), "Slack would refuse the modal: {view}");
    assert_eq!(platform_limits::slack_view(&view), Vec::<String>::new());
    let element = &view["blocks"][0]["element"];
    assert_eq!(element["type"], "external_select", "{view}");
    assert_eq!(element["action_id"], "text");
    assert_eq!(element["min_query_length"], 0);
    assert!(element.get("options").is_none());
}

#[tokio::test]
async fn a_block_suggestion_answers_at_most_100_eligible_people_matching_the_typed_text() {
    let (story, view) = reassign_modal().await;
    let inbox_before = story.inbox_rows().await;

    let found = options(&story, &view, "ali").await;
    assert_eq!(found.len(), 100, "200 Alicias and Natalias match; a menu shows 100");
    for (value, text) in &found {
        assert!(text.to_lowercase().contains("ali"), "{text} does not match");
        assert!(text.ends_with(value.as_str()), "{text} shows its key {value}");
    }
    // The key matches too, ignoring case; the whole list opens with nothing typed.
    let by_key = options(&story, &view, "AGENT-042").await;
    assert_eq!(by_key, [("agent-042".to_owned(), "Bob Agent 042 · agent-042".to_owned())]);
    assert_eq!(options(&story, &view, "").await.len(), 100);
    // The same list the service checks: Fran (finance) may not own it, nobody is "zed".
    assert!(options(&story, &view, "fran").await.is_empty());
    assert!(options(&story, &view, "zed").await.is_empty());
    // The interactivity URL answers the same (an app may point both at one URL).
    let form = interaction_form(&suggestion(&view, SAM, "agent-042"));
    let (status, body) = story.send(INTERACTIVITY_PATH, FORM, form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["options"][0]["value"], "agent-042");
    // Someone Steward does not know gets no people.
    let form = interaction_form(&suggestion(&view, "U0STRANGER", "ali"));
    let (_, body) = story.send(OPTIONS_PATH, FORM, form).await;
    assert_eq!(body["options"], json!([]));
    assert_eq!(story.inbox_rows().await, inbox_before, "looking up options writes nothing");
}

#[tokio::test]
async fn submitting_a_selected_option_reassigns_and_someone_off_the_list_is_refused() {
    let (story, view) = reassign_modal().await;
    // A forged option outside the list is held to it on submit.
    let (status, _) = story.interact(submit(&view, SAM, "fran")).await;
    assert_eq!(status, StatusCode::OK);
    let told = story.fake.wait_for("chat.postEphemeral", 1).await;
    assert!(told[0].params.to_string().contains("Fran Fischer cannot own it"), "{told:?}");

    let (status, _) = story.interact(submit(&view, SAM, "agent-123")).await;
    assert_eq!(status, StatusCode::OK);
    story.flush().await;
    let update = story.fake.calls_of("chat.update").pop().expect("the card was updated");
    assert!(update.params.to_string().contains("Chen Agent 123"), "{:?}", update.params);
}

#[tokio::test]
async fn an_unsigned_or_forged_block_suggestion_gets_401_and_no_options() {
    let (story, view) = reassign_modal().await;
    let form = interaction_form(&suggestion(&view, SAM, "ali"));
    for path in [OPTIONS_PATH, INTERACTIVITY_PATH] {
        let (status, body) = story.send_with(path, FORM, form.clone(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, Value::Null);
        let timestamp = story.app.now().timestamp();
        let forged = Some((timestamp, format!("v0={}", "0".repeat(64))));
        let (status, _) = story.send_with(path, FORM, form.clone(), forged).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn over_socket_mode_the_options_travel_in_the_envelopes_ack() {
    use steward::config::SlackTransport;
    use steward::platform::slack::socket_mode::SocketMode;

    let story = SlackStory::start(SlackTransport::Socket).await;
    let socket = SocketMode::start(story.inbound.clone()).await.unwrap();
    story.fake.wait_for("apps.connections.open", 1).await;
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let reassign = button(&card_post(&story.fake), "Reassign");
    story.fake.push_envelope(json!({
        "envelope_id": "env-1", "type": "interactive", "accepts_response_payload": false,
        "payload": click_payload(SAM, &reassign, "1.0", &story.fake.response_url("s")),
    }));
    story.fake.next_ack().await;
    // Slack sends the whole view with a suggestion; slack-morphism reads it strictly.
    let mut view = story.fake.calls_of("views.open").pop().unwrap().params["view"].clone();
    view["id"] = json!("V0FAKE");
    let mut payload = suggestion(&view, SAM, "ALI");
    payload["view"] = view;
    story.fake.push_envelope(json!({
        "envelope_id": "env-2", "type": "interactive", "accepts_response_payload": true,
        "payload": payload,
    }));
    let ack = story.fake.next_ack().await;
    assert_eq!(ack["envelope_id"], "env-2");
    assert_eq!(platform_limits::slack_options(&ack["payload"]), Vec::<String>::new());
    let values: Vec<&Value> =
        ack["payload"]["options"].as_array().unwrap().iter().map(|o| &o["value"]).collect();
    assert_eq!(values, [&json!("alice")], "{ack}");
    socket.shutdown().await;
}
