//! The neutral [`Message`]/[`Card`] → Block Kit: a header, the body and fields as sections,
//! context lines, and an actions block whose buttons keep their style and confirmation
//! dialog. A button that asks for text first carries its [`Prompt`] as JSON in `value`; the
//! click opens [`modal`] instead of acting. Every message also has plain `text`, which Slack
//! shows in notifications and where blocks cannot be shown.

use slack_morphism::prelude::*;

use super::decode::ModalRequest;
use crate::domain::messages::slack as text;
use crate::domain::reply::{Button, ButtonStyle, Card, Message, Prompt};

/// Slack allows at most this many fields per section block.
const FIELDS_PER_SECTION: usize = 10;
/// Block id of the single input in a prompt modal.
pub const PROMPT_BLOCK: &str = "prompt";

/// The message content: fallback text plus blocks for a card.
pub fn content(message: &Message) -> SlackMessageContent {
    let blocks = message.card.as_ref().map(blocks);
    let mut fallback = fallback_text(message);
    for attachment in &message.attachments {
        // Files are not uploaded (yet): their text fallback goes with the message.
        fallback.push('\n');
        fallback.push_str(&attachment.fallback);
    }
    SlackMessageContent::new().with_text(fallback).opt_blocks(blocks)
}

/// What notifications and screen readers show.
pub fn fallback_text(message: &Message) -> String {
    let mut parts = Vec::new();
    if let Some(text) = &message.text {
        parts.push(text.clone());
    }
    if let Some(card) = &message.card {
        parts.push(card.title.clone());
        parts.extend(card.fields.iter().map(|f| format!("{}: {}", f.label, f.value)));
    }
    parts.join("\n")
}

/// A card's blocks.
pub fn blocks(card: &Card) -> Vec<SlackBlock> {
    let mut blocks: Vec<SlackBlock> =
        vec![SlackHeaderBlock::new(SlackBlockPlainTextOnly::from(card.title.as_str())).into()];
    if let Some(body) = &card.body {
        blocks.push(SlackSectionBlock::new().with_text(md(body)).into());
    }
    for chunk in card.fields.chunks(FIELDS_PER_SECTION) {
        let fields = chunk.iter().map(|f| md(&format!("*{}*\n{}", f.label, f.value))).collect();
        blocks.push(SlackSectionBlock::new().with_fields(fields).into());
    }
    if !card.context.is_empty() {
        let elements = card
            .context
            .iter()
            .map(|line| {
                SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::from(line.as_str()))
            })
            .collect();
        blocks.push(SlackContextBlock::new(elements).into());
    }
    if !card.buttons.is_empty() {
        let elements =
            card.buttons.iter().map(|b| SlackActionBlockElement::Button(button(b))).collect();
        blocks.push(SlackActionsBlock::new(elements).into());
    }
    blocks
}

fn md(text: &str) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::from(text))
}

fn button(b: &Button) -> SlackBlockButtonElement {
    let style = match b.style {
        ButtonStyle::Default => None,
        ButtonStyle::Primary => Some(SlackBlockButtonStyle::Primary),
        ButtonStyle::Danger => Some(SlackBlockButtonStyle::Danger),
    };
    // The value is what the click sends back: the prompt to open, or the action id again.
    let value = match &b.prompt {
        Some(prompt) => serde_json::to_string(prompt).unwrap_or_else(|_| b.action.clone()),
        None => b.action.clone(),
    };
    let confirm = b.confirm.as_ref().map(|c| {
        let mut item = SlackBlockConfirmItem::new(
            SlackBlockPlainTextOnly::from(c.title.as_str()),
            SlackBlockText::Plain(SlackBlockPlainText::from(c.text.as_str())),
            SlackBlockPlainTextOnly::from(c.confirm.as_str()),
            SlackBlockPlainTextOnly::from(c.deny.as_str()),
        );
        if b.style == ButtonStyle::Danger {
            item = item.with_style("danger".into());
        }
        item
    });
    SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from(b.label.as_str()))
        .with_action_id(SlackActionId::new(b.action.clone()))
        .with_value(value)
        .opt_style(style)
        .opt_confirm(confirm)
}

/// The modal a prompting button opens: one text input, or a select when the prompt has
/// choices. `private_metadata` carries the action and channel back on submit.
pub fn modal(request: &ModalRequest) -> SlackView {
    let prompt = &request.prompt;
    let element = input_element(prompt);
    let input = SlackInputBlock::new(SlackBlockPlainTextOnly::from(prompt.label.as_str()), element)
        .with_block_id(SlackBlockId::new(PROMPT_BLOCK.into()))
        .with_optional(!prompt.required);
    let metadata = serde_json::to_string(&request.metadata).unwrap_or_default();
    // Slack limits modal titles to 24 characters.
    let title: String = prompt.title.chars().take(24).collect();
    SlackView::Modal(
        SlackModalView::new(SlackBlockPlainTextOnly::from(title), vec![input.into()])
            .with_submit(SlackBlockPlainTextOnly::from(text::MODAL_SUBMIT))
            .with_close(SlackBlockPlainTextOnly::from(text::MODAL_CANCEL))
            .with_private_metadata(metadata),
    )
}

fn input_element(prompt: &Prompt) -> SlackInputBlockElement {
    let action_id = SlackActionId::new(Prompt::FIELD.into());
    if prompt.choices.is_empty() {
        return SlackInputBlockElement::PlainTextInput(
            SlackBlockPlainTextInputElement::new().with_action_id(action_id).with_multiline(true),
        );
    }
    let options = prompt
        .choices
        .iter()
        .map(|c| {
            SlackBlockChoiceItem::new(
                SlackBlockPlainTextOnly::from(c.label.as_str()),
                c.value.clone(),
            )
        })
        .collect();
    SlackInputBlockElement::StaticSelect(
        SlackBlockStaticSelectElement::new().with_action_id(action_id).with_options(options),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::reply::{Choice, Confirm, Field};
    use crate::platform::slack::decode::ModalMetadata;

    fn card() -> Card {
        Card {
            living_key: Some("cr:7".into()),
            title: "Credit #7: 250.00 USD".into(),
            fields: vec![Field::new("Account", "ACME-1042")],
            body: None,
            context: vec!["updated by sam".into()],
            buttons: vec![
                Button {
                    label: "Approve".into(),
                    action: "cr:7:approve:v1".into(),
                    style: ButtonStyle::Primary,
                    confirm: None,
                    prompt: None,
                },
                Button {
                    label: "Reject".into(),
                    action: "cr:7:reject:v1".into(),
                    style: ButtonStyle::Danger,
                    confirm: Some(Confirm {
                        title: "Reject?".into(),
                        text: "This ends the request.".into(),
                        confirm: "Reject".into(),
                        deny: "Keep".into(),
                    }),
                    prompt: Some(Prompt {
                        title: "Reject credit".into(),
                        label: "Reason".into(),
                        required: true,
                        choices: vec![],
                    }),
                },
            ],
        }
    }

    #[test]
    fn a_card_becomes_header_fields_context_and_styled_buttons() {
        let json = serde_json::to_value(content(&Message::card(card()))).unwrap();
        let kinds: Vec<_> =
            json["blocks"].as_array().unwrap().iter().map(|b| b["type"].clone()).collect();
        assert_eq!(
            kinds,
            vec![json!("header"), json!("section"), json!("context"), json!("actions")]
        );
        assert_eq!(json["blocks"][0]["text"]["text"], "Credit #7: 250.00 USD");
        assert_eq!(json["blocks"][1]["fields"][0]["text"], "*Account*\nACME-1042");
        let buttons = &json["blocks"][3]["elements"];
        assert_eq!(buttons[0]["action_id"], "cr:7:approve:v1");
        assert_eq!(buttons[0]["style"], "primary");
        assert_eq!(buttons[1]["style"], "danger");
        assert_eq!(buttons[1]["confirm"]["deny"]["text"], "Keep");
        let prompt: Prompt = serde_json::from_str(buttons[1]["value"].as_str().unwrap()).unwrap();
        assert_eq!(prompt.label, "Reason");
        assert!(json["text"].as_str().unwrap().contains("Account: ACME-1042"));
    }

    #[test]
    fn a_prompt_with_choices_becomes_a_select_in_a_modal() {
        let request = ModalRequest {
            prompt: Prompt {
                title: "Resolve".into(),
                label: "Outcome".into(),
                required: true,
                choices: vec![Choice { value: "fixed".into(), label: "Fixed".into() }],
            },
            metadata: ModalMetadata { action: "esc:1:resolve:v2".into(), channel: "C1".into() },
        };
        let json = serde_json::to_value(modal(&request)).unwrap();
        assert_eq!(json["type"], "modal");
        assert_eq!(json["blocks"][0]["element"]["type"], "static_select");
        assert_eq!(json["blocks"][0]["element"]["action_id"], "text");
        assert!(json["private_metadata"].as_str().unwrap().contains("esc:1:resolve:v2"));
    }
}
