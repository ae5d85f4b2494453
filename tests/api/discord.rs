//! Discord stories through the HTTP interactions endpoint (signed requests to the real
//! router) and out through the real Discord port to the fake Discord REST API.

use serde_json::{Value, json};
use steward::storage;

use crate::support::discord::{
    ALICE, CHANNEL, DiscordTest, FRAN, SAM, STRANGER, autocomplete, command, component, control,
    modal_submit,
};

fn content(answer: &Value) -> &str {
    answer["data"]["content"].as_str().unwrap_or_default()
}

/// Alice escalates from Discord; returns the card as posted to the channel.
async fn escalate(t: &DiscordTest) -> Value {
    let payload = command(
        &t.next_id(),
        ALICE,
        "escalate",
        None,
        &[
            ("account", json!("ACME-1042")),
            ("severity", json!("sev2")),
            ("summary", json!("Invoices are not being generated")),
        ],
    );
    let (status, answer) = t.post(&payload).await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 4);
    assert!(content(&answer).contains("Escalation #1 opened"), "{answer:#}");
    t.flush().await;
    let posts = t.fake.calls_exact("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(posts.len(), 1, "the card is posted once");
    posts[0].body.clone()
}

async fn living_message_id(t: &DiscordTest, key: &str) -> String {
    storage::outbox::living_ref(&t.app.pool, "discord", key).await.unwrap().unwrap().message_id
}

fn field<'a>(message: &'a Value, label: &str) -> &'a str {
    message["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap_or_default().starts_with(label))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {label}: {message:#}"))
}

#[tokio::test]
async fn a_command_posts_a_card_and_a_button_click_edits_it_in_place() {
    let t = DiscordTest::spawn().await;
    let card = escalate(&t).await;
    assert_eq!(card["embeds"][0]["title"], "Escalation #1 · SEV2 · ACME-1042");
    assert_eq!(card["enforce_nonce"], true);
    assert!(card["nonce"].as_str().unwrap().starts_with("steward-"));
    let message_id = living_message_id(&t, "esc:1").await;

    let ack = control(&card, "Acknowledge");
    assert_eq!(ack, "a|esc:1:acknowledge:v1");
    let (status, answer) = t.post(&component(&t.next_id(), SAM, &ack, None)).await;
    assert_eq!(status, 200);
    assert_eq!(content(&answer), "Escalation #1 acknowledged.");
    assert_eq!(answer["data"]["flags"], 64, "the click's answer is private");

    t.flush().await;
    let edits = t.fake.calls_to("PATCH", &format!("/channels/{CHANNEL}/messages/{message_id}"));
    assert!(!edits.is_empty(), "the living card is edited in place");
    let edited = t.fake.message(&message_id).unwrap();
    assert!(field(&edited, "State").starts_with("Acknowledged"), "{edited:#}");
    assert_eq!(t.fake.calls_exact("POST", &format!("/channels/{CHANNEL}/messages")).len(), 1);
    // The item's history goes to a thread started from the card.
    let threads = t.fake.calls_to("POST", &format!("/messages/{message_id}/threads"));
    assert_eq!(threads.len(), 1);
    let lines = t.fake.calls_exact("POST", &format!("/channels/{message_id}/messages"));
    assert!(
        lines.iter().any(|c| c.body["content"].as_str().unwrap_or("").contains("acknowledged")),
        "{lines:#?}"
    );
    // Pages went out as DMs.
    assert!(!t.fake.calls_to("POST", "/users/@me/channels").is_empty());
}

#[tokio::test]
async fn a_missing_role_is_said_instead_of_opening_the_modal() {
    let t = DiscordTest::spawn().await;
    let card = escalate(&t).await;
    let resolve = control(&card, "Resolve");
    let (_, answer) = t.post(&component(&t.next_id(), FRAN, &resolve, None)).await;
    assert_eq!(answer["type"], 4, "a message, not a modal: {answer:#}");
    assert_eq!(answer["data"]["flags"], 64, "ephemeral");
    assert!(content(&answer).contains("you need one of these roles"), "{answer:#}");
    assert_eq!(storage::inbox::count(&t.app.pool).await.unwrap(), 1);
}

#[tokio::test]
async fn a_prompt_button_opens_a_modal_and_its_submission_resolves_the_item() {
    let t = DiscordTest::spawn().await;
    let card = escalate(&t).await;
    let resolve = control(&card, "Resolve");
    assert_eq!(resolve, "p|esc:1:resolve:v1");

    let (_, modal) = t.post(&component(&t.next_id(), ALICE, &resolve, None)).await;
    assert_eq!(modal["type"], 9, "{modal:#}");
    assert_eq!(modal["data"]["title"], "Resolve");
    assert_eq!(modal["data"]["custom_id"], "m|esc:1:resolve:v1");
    let input = &modal["data"]["components"][0]["components"][0];
    assert_eq!(
        (input["label"].as_str(), input["required"].as_bool()),
        (Some("resolution note"), Some(true))
    );
    assert_eq!(
        storage::inbox::count(&t.app.pool).await.unwrap(),
        1,
        "opening a modal writes nothing"
    );

    let submit =
        modal_submit(&t.next_id(), ALICE, "m|esc:1:resolve:v1", "Regenerated the invoices");
    let (_, answer) = t.post(&submit).await;
    assert_eq!(content(&answer), "Escalation #1 resolved.");
    t.flush().await;
    let message_id = living_message_id(&t, "esc:1").await;
    let edited = t.fake.message(&message_id).unwrap();
    assert!(field(&edited, "State").starts_with("Resolved"), "{edited:#}");
}

#[tokio::test]
async fn a_confirm_button_asks_first_and_cancel_sends_nothing() {
    let t = DiscordTest::spawn().await;
    let card = escalate(&t).await;
    let escalate_now = control(&card, "Escalate now");
    assert_eq!(escalate_now, "c|esc:1:escalate:v1");
    let (_, question) = t.post(&component(&t.next_id(), SAM, &escalate_now, None)).await;
    assert_eq!(question["type"], 4);
    assert_eq!(question["data"]["flags"], 64);
    assert!(content(&question).contains("Escalate now?"), "{question:#}");
    let buttons = &question["data"]["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], "a|esc:1:escalate:v1");
    let (_, cancelled) = t.post(&component(&t.next_id(), SAM, "x|", None)).await;
    assert_eq!(cancelled["type"], 7);
    assert_eq!(storage::inbox::count(&t.app.pool).await.unwrap(), 1, "only the command");
}

#[tokio::test]
async fn a_select_menu_choice_is_the_prompt_answer() {
    let t = DiscordTest::spawn().await;
    let card = escalate(&t).await;
    let reassign = control(&card, "Reassign");
    assert_eq!(reassign, "s|esc:1:reassign:v1");
    let (_, answer) = t.post(&component(&t.next_id(), SAM, &reassign, Some(&["sam"]))).await;
    assert!(content(&answer).starts_with("Escalation #1"), "{answer:#}");
    t.flush().await;
    let edited = t.fake.message(&living_message_id(&t, "esc:1").await).unwrap();
    assert!(edited["embeds"][0].to_string().contains("Sam Sutherland"), "{edited:#}");
}

/// A team of 500 (issue 14 item 2): the card Discord takes, a Reassign that cannot be a
/// 25-option menu asks for the key in a modal, and the key is held to who may own it.
#[tokio::test]
async fn a_team_of_500_gets_a_card_within_limits_and_reassign_asks_for_the_key() {
    let t = DiscordTest::spawn_with(|settings| {
        let alice = settings.people.iter().find(|p| p.key.as_str() == "alice").unwrap().clone();
        for n in 0..500 {
            settings.people.push(steward::config::PersonConfig {
                key: steward::domain::ids::PersonKey::parse(&format!("agent-{n:03}")).unwrap(),
                name: format!("Agent Number {n:03} With A Fairly Long Display Name"),
                slack: None,
                discord: None,
                console: None,
                ..alice.clone()
            });
        }
    })
    .await;
    let card = escalate(&t).await;
    let problems = crate::support::platform_limits::discord_message(&card);
    assert!(problems.is_empty(), "Discord would refuse the card: {problems:?}");
    let reassign = control(&card, "Reassign");
    assert_eq!(reassign, "p|esc:1:reassign:v1", "a button to a modal, not a menu of 500");

    let (_, modal) = t.post(&component(&t.next_id(), SAM, &reassign, None)).await;
    assert_eq!(modal["type"], 9, "{modal:#}");
    let problems = crate::support::platform_limits::discord_callback(&modal);
    assert!(problems.is_empty(), "Discord would refuse the modal: {problems:?}");
    let submit = |key: &str| modal_submit(&t.next_id(), SAM, "m|esc:1:reassign:v1", key);
    let (_, refused) = t.post(&submit("fran")).await;
    assert!(content(&refused).contains("Fran Fischer cannot own it"), "{refused:#}");
    let (_, answer) = t.post(&submit("agent-321")).await;
    assert_eq!(content(&answer), "Escalation #1 reassigned.");
    t.flush().await;
    let edited = t.fake.message(&living_message_id(&t, "esc:1").await).unwrap();
    assert!(edited["embeds"][0].to_string().contains("Agent Number 321"), "{edited:#}");
}

#[tokio::test]
async fn autocomplete_answers_from_the_database() {
    let t = DiscordTest::spawn().await;
    let (_, accounts) =
        t.post(&autocomplete(&t.next_id(), ALICE, "escalate", "account", "acm")).await;
    assert_eq!(accounts["type"], 8);
    let values: Vec<&str> = accounts["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["value"].as_str())
        .collect();
    assert_eq!(values, ["ACME-1042"]);
    let (_, people) = t.post(&autocomplete(&t.next_id(), ALICE, "assign", "person", "Sut")).await;
    assert_eq!(people["data"]["choices"][0]["value"], "sam");
    let (_, stranger) =
        t.post(&autocomplete(&t.next_id(), STRANGER, "escalate", "account", "")).await;
    assert_eq!(stranger["data"]["choices"], json!([]), "strangers see nothing");
}

#[tokio::test]
async fn forged_missing_and_stale_signatures_get_401_and_nothing_is_written() {
    let t = DiscordTest::spawn().await;
    let body = command(
        &t.next_id(),
        ALICE,
        "escalate",
        None,
        &[
            ("account", json!("ACME-1042")),
            ("severity", json!("sev1")),
            ("summary", json!("Forged")),
        ],
    )
    .to_string();
    let now = t.app.now().timestamp();
    let forged = t.forged_signature(now, &body);
    assert_eq!(t.post_with(&body, Some((now, forged))).await.0, 401);
    assert_eq!(t.post_with(&body, None).await.0, 401);
    let stale = now - 3600;
    assert_eq!(t.post_with(&body, Some((stale, t.sign(stale, &body)))).await.0, 401);
    let tampered = body.replace("Forged", "Tampered");
    assert_eq!(t.post_with(&tampered, Some((now, t.sign(now, &body)))).await.0, 401);
    assert_eq!(storage::inbox::count(&t.app.pool).await.unwrap(), 0);
    assert_eq!(storage::outbox::counts(&t.app.pool).await.unwrap().pending, 0);
    // A correctly signed PING is answered with PONG.
    let (status, pong) = t.post(&json!({ "id": "1", "type": 1, "token": "t" })).await;
    assert_eq!((status.as_u16(), pong), (200, json!({ "type": 1 })));
}

#[tokio::test]
async fn the_same_interaction_delivered_twice_has_one_effect() {
    let t = DiscordTest::spawn().await;
    let payload = command(
        &t.next_id(),
        ALICE,
        "escalate",
        None,
        &[
            ("account", json!("ACME-1042")),
            ("severity", json!("sev2")),
            ("summary", json!("Twice")),
        ],
    );
    let (_, first) = t.post(&payload).await;
    let (_, second) = t.post(&payload).await;
    assert_eq!(first, second);
    assert_eq!(storage::inbox::count(&t.app.pool).await.unwrap(), 1);
    t.flush().await;
    assert_eq!(t.fake.calls_exact("POST", &format!("/channels/{CHANNEL}/messages")).len(), 1);

    // A double click (two interactions, same person, same button) is one intent too.
    let card = t.fake.calls_exact("POST", &format!("/channels/{CHANNEL}/messages"))[0].body.clone();
    let ack = control(&card, "Acknowledge");
    let (_, a) = t.post(&component(&t.next_id(), SAM, &ack, None)).await;
    let (_, b) = t.post(&component(&t.next_id(), SAM, &ack, None)).await;
    assert_eq!(content(&a), content(&b));
    assert_eq!(storage::inbox::count(&t.app.pool).await.unwrap(), 2);
}

#[tokio::test]
async fn an_unknown_discord_user_is_told_how_to_get_registered() {
    let t = DiscordTest::spawn().await;
    let payload = command(&t.next_id(), STRANGER, "steward", Some("whoami"), &[]);
    let (_, answer) = t.post(&payload).await;
    assert_eq!(answer["data"]["flags"], 64);
    assert!(content(&answer).contains(&format!("discord user `{STRANGER}`")), "{answer:#}");
    assert!(content(&answer).contains("discord = \""), "{answer:#}");
    assert_eq!(storage::inbox::count(&t.app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn a_slow_interaction_is_deferred_and_its_reply_edits_the_original() {
    let t = DiscordTest::spawn_with(|s| s.discord.defer_after_ms = 100).await;
    let card = escalate(&t).await;
    let ack = control(&card, "Acknowledge");
    // Hold the escalation's row so the click cannot finish before the deadline.
    let mut blocker = t.app.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM escalations WHERE id = 1 FOR UPDATE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let id = t.next_id();
    let (_, answer) = t.post(&component(&id, SAM, &ack, None)).await;
    assert_eq!(answer["type"], 5, "{answer:#}");
    assert_eq!(answer["data"]["flags"], 64);
    blocker.rollback().await.unwrap();
    let calls = t
        .fake
        .wait_for("the deferred reply", |calls| {
            calls.iter().any(|c| c.method == "PATCH" && c.path.ends_with("/messages/@original"))
        })
        .await;
    let edit = calls.iter().find(|c| c.path.ends_with("/messages/@original")).unwrap();
    assert!(edit.path.contains(&format!("token-{id}")));
    assert_eq!(edit.body["content"], "Escalation #1 acknowledged.");
}

#[tokio::test]
async fn a_policy_channel_is_paged_at_its_discord_id_from_the_logical_channel_map() {
    let t = DiscordTest::spawn().await;
    escalate(&t).await;
    // `channel:emea-escalations` in the demo policy; `[channels.emea-escalations]` maps it.
    let pages = t.fake.calls_exact("POST", "/channels/200000000000000002/messages");
    assert_eq!(pages.len(), 1, "{:?}", t.fake.calls());
    assert!(pages[0].body["content"].as_str().unwrap_or_default().contains("#1"), "{:?}", pages[0]);
}
