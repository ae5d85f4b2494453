//! Every renderer within every documented limit (DESIGN.md §12), with maximal inputs:
//! 2,000-character texts, 500 people to choose from, lists of 1,000 items, more fields,
//! context lines and buttons than fit. Both platforms; cards, lists, modals, confirmation
//! steps and autocomplete. The checks are the ones the fakes refuse with.

use serde_json::Value;
use steward::domain::reply::{
    Attachment, Button, ButtonStyle, Card, Choice, Confirm, Field, Message, Prompt, Reply,
};
use steward::platform::discord::render as discord;
use steward::platform::slack::decode::{ModalMetadata, PromptModal};
use steward::platform::slack::render as slack;

use crate::support::platform_limits;

fn long(n: usize) -> String {
    // Mixed with the characters Slack escapes, which make text longer.
    "a<b>&c ".chars().cycle().take(n).collect()
}

/// `n` people with display names of `name` characters.
fn people(n: usize, name: usize) -> Vec<Choice> {
    (0..n).map(|i| Choice { value: format!("agent-{i:03}"), label: long(name) }).collect()
}

fn prompt(choices: Vec<Choice>) -> Prompt {
    Prompt { title: long(2000), label: long(2000), required: true, choices }
}

fn button(i: usize) -> Button {
    Button {
        label: long(2000),
        action: format!("esc:{i}:verb:v1"),
        style: ButtonStyle::Danger,
        confirm: Some(Confirm {
            title: long(2000),
            text: long(2000),
            confirm: long(500),
            deny: long(500),
        }),
        prompt: match i % 3 {
            0 => Some(prompt(people(500, 2000))),
            1 => Some(prompt(people(20, 40))),
            _ => None,
        },
    }
}

/// A card with everything too big: title, body, 60 fields, 30 context lines, 30 buttons.
fn maximal_card() -> Card {
    Card {
        living_key: Some("esc:1".into()),
        title: long(2000),
        fields: (0..60).map(|_| Field::new(long(2000), long(2000))).collect(),
        body: Some(long(2000)),
        context: (0..30).map(|_| long(2000)).collect(),
        buttons: (0..30).map(button).collect(),
    }
}

/// A list of 1,000 items, as `/escalations all` renders it: one line each in the body.
fn list_card() -> Card {
    let lines: Vec<String> = (0..1000)
        .map(|i| format!("#{i} sev2 ACME-{i} · Agent {i} · age 3h · at risk — {}", long(120)))
        .collect();
    Card {
        title: format!("Escalations (all, open): 1000 {}", long(300)),
        body: Some(lines.join("\n")),
        ..Card::default()
    }
}

fn slack_message(message: &Message) -> Value {
    serde_json::to_value(slack::content(message)).unwrap()
}

fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what} breaks limits:\n{}", problems.join("\n"));
}

#[test]
fn slack_cards_and_lists_stay_within_every_limit() {
    for card in [maximal_card(), list_card()] {
        let message = Message { text: Some(long(50_000)), ..Message::card(card) };
        let json = slack_message(&message);
        assert_none(platform_limits::slack_message(&json), "slack message");
        assert_none(platform_limits::slack_pings(&json), "slack message");
    }
}

#[test]
fn a_slack_card_showing_a_refused_files_fallback_stays_within_every_limit() {
    let attachment = Attachment {
        filename: "kpi-trend.png".into(),
        title: long(300),
        media_type: "image/png".into(),
        data: vec![0; 8],
        fallback: format!("▁▄█ sparkline {}", long(5000)),
    };
    for card in [maximal_card(), list_card()] {
        let message = Message { attachments: vec![attachment.clone()], ..Message::card(card) };
        let content = slack::content_without_files(&message, &[&attachment]);
        let json = serde_json::to_value(content).unwrap();
        assert_none(platform_limits::slack_message(&json), "slack card with a file's fallback");
        assert_none(platform_limits::slack_pings(&json), "slack card with a file's fallback");
        assert!(json["blocks"].to_string().contains("▁▄█ sparkline"), "the fallback is shown");
    }
}

#[test]
fn the_slack_app_home_stays_within_the_home_tab_limits() {
    for card in [maximal_card(), list_card()] {
        let view = serde_json::to_value(slack::home(&card)).unwrap();
        assert_eq!(view["type"], "home");
        assert_none(platform_limits::slack_view(&view), "slack home view");
        assert_none(platform_limits::slack_pings(&view), "slack home view");
    }
}

#[test]
fn a_cut_slack_list_says_how_much_it_shows() {
    let json = slack_message(&Message::card(list_card()));
    let text = json["blocks"].to_string();
    assert!(text.contains("Showing ") && text.contains(" of 1000 lines"), "{text}");
    let json = slack_message(&Message::card(maximal_card()));
    assert!(json["blocks"].to_string().contains("of 60 fields"));
}

#[test]
fn slack_modals_from_every_button_stay_within_every_limit() {
    let card = maximal_card();
    for b in &card.buttons {
        let Some(p) = &b.prompt else { continue };
        // What the click sends back is what the modal is built from.
        let value = slack::prompt_value(p);
        assert!(
            value.chars().count() <= 2000,
            "button value of {} characters",
            value.chars().count()
        );
        let metadata = ModalMetadata { action: b.action.clone(), channel: "C0OPS".into() };
        let request = PromptModal::from_value(&value, metadata).unwrap();
        let view = serde_json::to_value(slack::modal(&request)).unwrap();
        assert_none(platform_limits::slack_view(&view), "slack modal");
        // Too many people for a menu: loaded while typing; a team of 20 keeps its menu.
        let kind = view["blocks"][0]["element"]["type"].as_str().unwrap().to_owned();
        let expected = if p.choices.len() > 100 { "external_select" } else { "static_select" };
        assert_eq!(kind, expected);
        if p.choices.len() > 100 {
            assert!(!value.contains("agent-"), "the value names no person: {value}");
            assert_eq!(view["blocks"][0]["element"]["min_query_length"], 0);
        }
    }
    // Even a forged value with 500 choices opens a modal Slack accepts.
    let request = PromptModal {
        prompt: prompt(people(500, 2000)),
        metadata: ModalMetadata { action: "esc:1:reassign:v1".into(), channel: "C0OPS".into() },
        external: false,
    };
    let view = serde_json::to_value(slack::modal(&request)).unwrap();
    assert_none(platform_limits::slack_view(&view), "slack modal from 500 choices");
}

#[test]
fn slack_options_for_500_people_stay_within_the_options_limits() {
    for name in [1, 40, 2000] {
        let answer = serde_json::to_value(slack::options(&people(500, name))).unwrap();
        assert_none(platform_limits::slack_options(&answer), "block_suggestion answer");
        assert_eq!(answer["options"].as_array().unwrap().len(), 100);
        assert_eq!(answer["options"][0]["value"], "agent-000");
        assert!(answer["options"][0]["text"]["text"].as_str().unwrap().ends_with("agent-000"));
    }
}

#[test]
fn discord_cards_and_lists_stay_within_every_limit() {
    for card in [maximal_card(), list_card()] {
        let message = Message { text: Some(long(5000)), ..Message::card(card) };
        assert_none(
            platform_limits::discord_message(&discord::message(&message)),
            "discord message",
        );
        let reply = Reply { ephemeral: true, message };
        assert_none(platform_limits::discord_callback(&discord::reply(&reply)), "discord reply");
    }
    let list = discord::message(&Message::card(list_card()));
    let footer = list["embeds"][0]["footer"]["text"].as_str().unwrap();
    assert!(footer.contains(" of 1000 lines"), "{footer}");
}

#[test]
fn discord_modals_confirmations_and_autocomplete_stay_within_every_limit() {
    let card = maximal_card();
    for b in &card.buttons {
        if let Some(modal) = discord::modal(&b.action, b.prompt.as_ref()) {
            assert_none(platform_limits::discord_callback(&modal), "discord modal");
        }
        if let Some(step) = discord::confirm_step(b, b.confirm.as_ref().unwrap()) {
            assert_none(platform_limits::discord_callback(&step), "discord confirmation");
        }
    }
    let choices: Vec<(String, String)> =
        (0..500).map(|i| (long(300), format!("agent-{i}"))).collect();
    assert_none(
        platform_limits::discord_callback(&discord::autocomplete(&choices)),
        "autocomplete",
    );
}

#[test]
fn more_people_than_a_discord_menu_holds_get_the_typed_modal() {
    let mut many = button(0);
    many.confirm = None;
    let rows = discord::components(&[many.clone()]);
    let control = &rows[0]["components"][0];
    assert_eq!(control["type"], 2, "a button, not a select of 500: {control}");
    assert!(control["custom_id"].as_str().unwrap().starts_with("p|"));
    let mut few = button(1);
    few.confirm = None;
    let rows = discord::components(&[few]);
    assert_eq!(rows[0]["components"][0]["type"], 3, "a team of 20 keeps its menu");
    assert_eq!(rows[0]["components"][0]["options"].as_array().unwrap().len(), 20);
}

#[test]
fn channel_references_render_as_links() {
    let message = Message::text("The card is in #C0123ABCD9 and #emea-ops; a&b");
    let json = slack_message(&message);
    assert_eq!(json["text"], "The card is in <#C0123ABCD9> and #emea-ops; a&amp;b");
    let body = discord::message(&Message::text("The card is in #200000000000000001."));
    assert_eq!(body["content"], "The card is in <#200000000000000001>.");
}
