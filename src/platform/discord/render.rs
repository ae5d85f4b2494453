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
//! choices opens a modal with one text input. A prompt with more choices than a select
//! menu holds (25) opens the modal too, where the key is typed.
//!
//! Discord's limits (DESIGN.md §12) are kept by cutting with an ellipsis; a description or a
//! field list cut short says "showing N of M" in the footer. Steward's channel references
//! (`#1234…`, a snowflake) become channel links (`<#1234…>`); mentions never ping, since
//! every message says `allowed_mentions: {parse: []}`.

use serde_json::{Value, json};

use crate::domain::messages::discord as text;
use crate::domain::reply::{Button, ButtonStyle, Card, Confirm, Message, Prompt, Reply};
use crate::platform::text::{clip, clip_pieces};

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
const MAX_FIELDS: usize = 25;
const MAX_FOOTER: usize = 2048;
/// Characters of all embeds of one message together.
const MAX_EMBED_TOTAL: usize = 6000;
/// What the footer (context and "showing" notes) may use of the embed total.
const FOOTER_BUDGET: usize = 600;
/// Options of a select menu.
const MAX_OPTIONS: usize = 25;
const MAX_TEXT_INPUT_LABEL: usize = 45;
/// An attachment's description (its alt text).
const MAX_ATTACHMENT_DESCRIPTION: usize = 1024;

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

/// Text cut to `max` characters, with Steward's channel references as channel links.
fn linked(raw: &str, max: usize) -> String {
    clip_pieces(&pieces(raw), max)
}

/// `raw` as pieces that must stay whole: `<#id>` links for `#` + a snowflake, characters.
fn pieces(raw: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut previous: Option<char> = None;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        let boundary = previous.is_none_or(|p| !p.is_alphanumeric());
        let digits = match c {
            '#' => rest[1..].find(|d: char| !d.is_ascii_digit()).unwrap_or(rest.len() - 1),
            _ => 0,
        };
        if boundary && (17..=20).contains(&digits) {
            out.push(format!("<#{}>", &rest[1..1 + digits]));
            rest = &rest[1 + digits..];
            previous = Some('0');
            continue;
        }
        out.push(c.to_string());
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The first lines of `body` that fit in `max` characters, and how many of how many.
fn first_lines(body: &str, max: usize) -> (String, usize, usize) {
    let lines: Vec<&str> = body.lines().collect();
    if body.chars().count() <= max {
        return (linked(body, max), lines.len(), lines.len());
    }
    let mut out = String::new();
    let mut shown = 0;
    for line in &lines {
        let line = linked(line, max);
        let needed = out.chars().count() + usize::from(!out.is_empty()) + line.chars().count();
        if needed > max {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown == 0 {
        // One line longer than the room: show its beginning.
        return (linked(body, max), 1, lines.len().max(1));
    }
    (out, shown, lines.len())
}

fn style(style: ButtonStyle) -> u8 {
    match style {
        ButtonStyle::Primary => 1,
        ButtonStyle::Default => 2,
        ButtonStyle::Danger => 4,
    }
}

/// The embed of a card, within the embed limits and the 6,000 characters of a message.
pub fn embed(card: &Card) -> Value {
    let title = clip(&card.title, MAX_TITLE);
    let mut embed = json!({ "title": title });
    let mut budget = MAX_EMBED_TOTAL - title.chars().count() - FOOTER_BUDGET;
    let mut notes = Vec::new();
    if let Some(body) = card.body.as_ref().filter(|b| !b.trim().is_empty()) {
        // Leave the fields room when there are any.
        let room = if card.fields.is_empty() { budget } else { budget / 2 };
        let (description, shown, total) = first_lines(body, room.min(MAX_DESCRIPTION));
        if shown < total {
            notes.push(text::showing(shown, total, "lines"));
        }
        budget -= description.chars().count();
        embed["description"] = json!(description);
    }
    let mut fields = Vec::new();
    for f in card.fields.iter().take(MAX_FIELDS) {
        let name = clip(if f.label.is_empty() { "—" } else { &f.label }, MAX_TITLE);
        let value = linked(if f.value.is_empty() { "—" } else { &f.value }, MAX_FIELD_VALUE);
        let cost = name.chars().count() + value.chars().count();
        if cost > budget {
            break;
        }
        budget -= cost;
        fields.push(json!({ "name": name, "value": value, "inline": true }));
    }
    if fields.len() < card.fields.len() {
        notes.push(text::showing(fields.len(), card.fields.len(), "fields"));
    }
    if !fields.is_empty() {
        embed["fields"] = fields.into();
    }
    let footer: Vec<&str> =
        card.context.iter().map(String::as_str).chain(notes.iter().map(String::as_str)).collect();
    if !footer.is_empty() {
        // Notes last, and they must survive the cut: cut the context, not the notes.
        let notes_len: usize = notes.iter().map(|n| n.chars().count() + 3).sum();
        let context = clip(&card.context.join(" · "), FOOTER_BUDGET.saturating_sub(notes_len));
        let text: Vec<&str> = std::iter::once(context.as_str())
            .filter(|c| !c.is_empty())
            .chain(notes.iter().map(String::as_str))
            .collect();
        embed["footer"] = json!({ "text": clip(&text.join(" · "), FOOTER_BUDGET.min(MAX_FOOTER)) });
    }
    embed
}

/// One control for a button: a button, or a select menu for a prompt with choices (which
/// needs a row of its own).
fn control(button: &Button) -> Option<Value> {
    // More choices than a menu holds: the button opens the text modal instead.
    let menu = |p: &&Prompt| !p.choices.is_empty() && p.choices.len() <= MAX_OPTIONS;
    if let Some(prompt) = button.prompt.as_ref().filter(menu) {
        return Some(json!({
            "type": 3,
            "custom_id": custom_id(ControlKind::Select, &button.action)?,
            "placeholder": clip(&button.label, 150),
            "options": prompt.choices.iter().map(|c| json!({
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

/// The body of a create call that uploads `message`'s first file as `files[0]`: the file
/// stands in for its fallback text, and `attachments` names it (serenity numbers every file
/// of a form 0, so one file per message; further ones keep their fallback text).
pub fn message_with_file(message: &Message) -> Value {
    let Some((file, others)) = message.attachments.split_first() else {
        return self::message(message);
    };
    let rest = Message { attachments: others.to_vec(), ..message.clone() };
    let mut body = self::message(&rest);
    body["attachments"] = json!([{
        "id": 0,
        "filename": file.filename,
        "description": clip(&file.title, MAX_ATTACHMENT_DESCRIPTION),
    }]);
    body
}

/// The body of a create/edit message call (and of an interaction's message answer).
/// Files are not sent here ([`message_with_file`] does): their fallback text is appended to
/// the content.
pub fn message(message: &Message) -> Value {
    let mut content = message.text.clone().unwrap_or_default();
    for attachment in &message.attachments {
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str(&attachment.fallback);
    }
    let mut body = json!({
        "content": linked(&content, MAX_CONTENT),
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
    let label = match prompt {
        // Its choices did not fit a menu (see `control`): the key is typed.
        Some(p) if !p.choices.is_empty() => text::typed_choice_label(&p.label),
        Some(p) => p.label.clone(),
        None => text::prompt_fallback_label(),
    };
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
                "label": clip(&label, MAX_TEXT_INPUT_LABEL),
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
