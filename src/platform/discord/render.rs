//! The neutral Card/Message/Reply → Discord's JSON: an embed (title, fields, body, context
//! in the footer) plus action rows of components.
//!
//! Custom ids carry only the action id with a one-letter prefix saying what the control does
//! (`a` send the click, `p` open a text modal first, `c` ask for confirmation first, `s` a
//! select menu whose value is the prompt's answer, `m` the modal's submit, `x` cancel). They
//! are never trusted: the service checks who clicked and whether the card version is current.
//!
//! Discord has no confirm dialog: a `confirm` button answers with an ephemeral message that
//! repeats the question and offers the real button (plus Cancel). A prompt with choices is
//! rendered as a select menu right on the card (choosing is the click); a prompt without
//! choices opens a modal with one text input.

use serde_json::{Value, json};

use crate::domain::messages::discord as text;
use crate::domain::reply::{Button, ButtonStyle, Card, Confirm, Message, Prompt, Reply};

/// Discord's limit on custom ids.
pub const MAX_CUSTOM_ID: usize = 100;
/// Ephemeral message flag.
pub const EPHEMERAL: u64 = 64;
/// Discord's limits.
const MAX_BUTTONS_PER_ROW: usize = 5;
const MAX_ROWS: usize = 5;
const MAX_CONTENT: usize = 2000;
const MAX_FIELD_VALUE: usize = 1024;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 4096;
const MAX_MODAL_TITLE: usize = 45;
const MAX_LABEL: usize = 80;

/// Interaction callback types.
pub mod callback {
    pub const PONG: u8 = 1;
    pub const MESSAGE: u8 = 4;
    pub const DEFERRED_MESSAGE: u8 = 5;
    pub const UPDATE_MESSAGE: u8 = 7;
    pub const AUTOCOMPLETE: u8 = 8;
    pub const MODAL: u8 = 9;
}

/// What a control does when used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// Send the click.
    Act,
    /// Open a text modal first.
    Prompt,
    /// Ask for confirmation first.
    Confirm,
    /// A select menu: the chosen value is the prompt's answer.
    Select,
    /// A modal's submit.
    Modal,
    /// Cancel a confirmation step.
    Cancel,
}

impl ControlKind {
    fn prefix(self) -> char {
        match self {
            ControlKind::Act => 'a',
            ControlKind::Prompt => 'p',
            ControlKind::Confirm => 'c',
            ControlKind::Select => 's',
            ControlKind::Modal => 'm',
            ControlKind::Cancel => 'x',
        }
    }
}

/// `a|esc:42:ack:v3`; `None` when it would not fit Discord's 100 characters.
pub fn custom_id(kind: ControlKind, action: &str) -> Option<String> {
    let id = format!("{}|{action}", kind.prefix());
    (id.len() <= MAX_CUSTOM_ID).then_some(id)
}

pub fn parse_custom_id(id: &str) -> Option<(ControlKind, &str)> {
    let (prefix, action) = id.split_once('|')?;
    let kind = match prefix {
        "a" => ControlKind::Act,
        "p" => ControlKind::Prompt,
        "c" => ControlKind::Confirm,
        "s" => ControlKind::Select,
        "m" => ControlKind::Modal,
        "x" => ControlKind::Cancel,
        _ => return None,
    };
    (!action.is_empty() || kind == ControlKind::Cancel).then_some((kind, action))
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max - 1).collect();
    clipped.push('…');
    clipped
}

fn style(style: ButtonStyle) -> u8 {
    match style {
        ButtonStyle::Primary => 1,
        ButtonStyle::Default => 2,
        ButtonStyle::Danger => 4,
    }
}

/// The embed of a card.
pub fn embed(card: &Card) -> Value {
    let mut embed = json!({ "title": clip(&card.title, MAX_TITLE) });
    if let Some(body) = &card.body {
        embed["description"] = json!(clip(body, MAX_DESCRIPTION));
    }
    if !card.fields.is_empty() {
        embed["fields"] = card
            .fields
            .iter()
            .take(25)
            .map(|f| {
                json!({
                    "name": clip(&f.label, MAX_TITLE),
                    "value": clip(if f.value.is_empty() { "—" } else { &f.value }, MAX_FIELD_VALUE),
                    "inline": true,
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    if !card.context.is_empty() {
        embed["footer"] = json!({ "text": clip(&card.context.join(" · "), 2048) });
    }
    embed
}

/// One control for a button: a button, or a select menu for a prompt with choices (which
/// needs a row of its own).
fn control(button: &Button) -> Option<Value> {
    if let Some(prompt) = button.prompt.as_ref().filter(|p| !p.choices.is_empty()) {
        return Some(json!({
            "type": 3,
            "custom_id": custom_id(ControlKind::Select, &button.action)?,
            "placeholder": clip(&button.label, 150),
            "options": prompt.choices.iter().take(25).map(|c| json!({
                "label": clip(&c.label, 100),
                "value": clip(&c.value, 100),
            })).collect::<Vec<_>>(),
        }));
    }
    let kind = if button.prompt.is_some() {
        ControlKind::Prompt
    } else if button.confirm.is_some() {
        ControlKind::Confirm
    } else {
        ControlKind::Act
    };
    Some(json!({
        "type": 2,
        "style": style(button.style),
        "label": clip(&button.label, MAX_LABEL),
        "custom_id": custom_id(kind, &button.action)?,
    }))
}

/// Action rows: buttons five to a row, then each select menu on a row of its own.
pub fn components(buttons: &[Button]) -> Vec<Value> {
    let mut rows: Vec<Vec<Value>> = Vec::new();
    let mut selects: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for button in buttons {
        let Some(control) = control(button) else {
            tracing::warn!(action = %button.action, "action id too long for a Discord custom id");
            continue;
        };
        if control["type"] == 3 {
            selects.push(vec![control]);
            continue;
        }
        current.push(control);
        if current.len() == MAX_BUTTONS_PER_ROW {
            rows.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        rows.push(current);
    }
    // Buttons first, then the select menus, each on its own row.
    rows.into_iter()
        .chain(selects)
        .take(MAX_ROWS)
        .map(|components| json!({ "type": 1, "components": components }))
        .collect()
}

/// The body of a create/edit message call (and of an interaction's message answer).
/// Attachments are not uploaded yet: their fallback text is appended to the content.
pub fn message(message: &Message) -> Value {
    let mut content = message.text.clone().unwrap_or_default();
    for attachment in &message.attachments {
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str(&attachment.fallback);
    }
    let mut body = json!({
        "content": clip(&content, MAX_CONTENT),
        "embeds": message.card.iter().map(embed).collect::<Vec<_>>(),
        "components": message.card.as_ref().map(|c| components(&c.buttons)).unwrap_or_default(),
        // Never ping anyone by accident from text that quotes user input.
        "allowed_mentions": { "parse": [] },
    });
    if content.is_empty() {
        body.as_object_mut().map(|o| o.remove("content"));
    }
    body
}

/// A message answer to an interaction (type 4), ephemeral when the reply is.
pub fn reply(reply: &Reply) -> Value {
    json!({ "type": callback::MESSAGE, "data": reply_data(reply) })
}

/// The `data` of a reply: the message body with the ephemeral flag when it applies.
pub fn reply_data(reply: &Reply) -> Value {
    let mut data = message(&reply.message);
    if reply.ephemeral {
        data["flags"] = json!(EPHEMERAL);
    }
    data
}

/// "Thinking…": the answer follows by editing `@original`.
pub fn deferred(ephemeral: bool) -> Value {
    let flags = if ephemeral { EPHEMERAL } else { 0 };
    json!({ "type": callback::DEFERRED_MESSAGE, "data": { "flags": flags } })
}

pub fn pong() -> Value {
    json!({ "type": callback::PONG })
}

/// A private text answer.
pub fn private_text(text: impl Into<String>) -> Value {
    reply(&Reply::private(text))
}

/// Replaces the message the component was on (used to close a confirmation step).
pub fn update_text(text: impl Into<String>) -> Value {
    json!({
        "type": callback::UPDATE_MESSAGE,
        "data": { "content": text.into(), "embeds": [], "components": [] },
    })
}

/// A modal with one text input for a prompt (or a fallback when the prompt is unknown).
pub fn modal(action: &str, prompt: Option<&Prompt>) -> Option<Value> {
    let title = prompt.map(|p| p.title.clone()).unwrap_or_else(text::prompt_fallback_title);
    let label = prompt.map(|p| p.label.clone()).unwrap_or_else(text::prompt_fallback_label);
    let required = prompt.is_none_or(|p| p.required);
    Some(json!({
        "type": callback::MODAL,
        "data": {
            "custom_id": custom_id(ControlKind::Modal, action)?,
            "title": clip(&title, MAX_MODAL_TITLE),
            "components": [{ "type": 1, "components": [{
                "type": 4,
                "custom_id": Prompt::FIELD,
                "style": 2,
                "label": clip(&label, 45),
                "required": required,
                "max_length": 1000,
            }]}],
        },
    }))
}

/// The confirmation step: an ephemeral question with the real button and Cancel.
pub fn confirm_step(button: &Button, confirm: &Confirm) -> Option<Value> {
    // The confirmed click may still need its prompt.
    let kind = if button.prompt.is_some() { ControlKind::Prompt } else { ControlKind::Act };
    let go = json!({
        "type": 2,
        "style": style(ButtonStyle::Danger),
        "label": clip(&confirm.confirm, MAX_LABEL),
        "custom_id": custom_id(kind, &button.action)?,
    });
    let cancel = json!({
        "type": 2,
        "style": style(ButtonStyle::Default),
        "label": clip(&confirm.deny, MAX_LABEL),
        "custom_id": custom_id(ControlKind::Cancel, "")?,
    });
    Some(json!({
        "type": callback::MESSAGE,
        "data": {
            "content": clip(&text::confirm_question(&confirm.title, &confirm.text), MAX_CONTENT),
            "components": [{ "type": 1, "components": [go, cancel] }],
            "flags": EPHEMERAL,
            "allowed_mentions": { "parse": [] },
        },
    }))
}

/// Autocomplete choices (at most 25).
pub fn autocomplete(choices: &[(String, String)]) -> Value {
    json!({
        "type": callback::AUTOCOMPLETE,
        "data": { "choices": choices.iter().take(25).map(|(name, value)| json!({
            "name": clip(name, 100),
            "value": clip(value, 100),
        })).collect::<Vec<_>>() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reply::{Choice, Field};

    fn button(label: &str, action: &str) -> Button {
        Button {
            label: label.into(),
            action: action.into(),
            style: ButtonStyle::Primary,
            confirm: None,
            prompt: None,
        }
    }

    #[test]
    fn a_card_becomes_an_embed_with_buttons_carrying_only_action_ids() {
        let mut reject = button("Reject", "cr:1:reject:v1");
        reject.style = ButtonStyle::Danger;
        reject.prompt = Some(Prompt {
            title: "Reject".into(),
            label: "Reason".into(),
            required: true,
            choices: vec![],
        });
        let card = Card {
            title: "Credit #1".into(),
            fields: vec![Field::new("Amount", "USD 10.00")],
            context: vec!["v1".into()],
            buttons: vec![button("Approve", "cr:1:approve:v1"), reject],
            ..Card::default()
        };
        let body = message(&Message::card(card));
        assert_eq!(body["embeds"][0]["title"], "Credit #1");
        assert_eq!(body["embeds"][0]["fields"][0]["value"], "USD 10.00");
        let row = &body["components"][0]["components"];
        assert_eq!(row[0]["custom_id"], "a|cr:1:approve:v1");
        assert_eq!(
            (row[1]["custom_id"].as_str(), row[1]["style"].as_u64()),
            (Some("p|cr:1:reject:v1"), Some(4))
        );
        assert!(body.get("content").is_none());
    }

    #[test]
    fn a_prompt_with_choices_is_a_select_menu_on_its_own_row() {
        let mut pick = button("Reassign", "req:3:reassign:v2");
        pick.prompt = Some(Prompt {
            title: "Reassign".into(),
            label: "Person".into(),
            required: true,
            choices: vec![Choice { value: "sam".into(), label: "Sam".into() }],
        });
        let rows = components(&[button("Accept", "req:3:accept:v2"), pick]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["components"][0]["type"], 3);
        assert_eq!(rows[1]["components"][0]["custom_id"], "s|req:3:reassign:v2");
    }

    #[test]
    fn custom_ids_round_trip_and_overlong_ones_are_refused() {
        let id = custom_id(ControlKind::Confirm, "esc:1:resolve:v2").unwrap();
        assert_eq!(parse_custom_id(&id), Some((ControlKind::Confirm, "esc:1:resolve:v2")));
        assert_eq!(custom_id(ControlKind::Act, &"x".repeat(99)), None);
        assert_eq!(parse_custom_id("zz"), None);
    }

    #[test]
    fn ephemeral_replies_carry_flag_64() {
        assert_eq!(reply(&Reply::private(String::from("hi")))["data"]["flags"], 64);
        assert!(reply(&Reply::card(Card::default()))["data"].get("flags").is_none());
    }
}
