//! The neutral [`Message`]/[`Card`] → Block Kit: a header, the body and fields as sections,
//! context lines, and an actions block whose buttons keep their style and confirmation
//! dialog. A button that asks for text first carries its [`Prompt`] as JSON in `value`; the
//! click opens [`modal`] instead of acting. Every message also has plain `text`, which Slack
//! shows in notifications and where blocks cannot be shown.
//!
//! Two rules hold for everything rendered here:
//! - Text in mrkdwn (sections, fields, context, the fallback `text`) is escaped (`&`, `<`,
//!   `>`), so user text can never become `<!here>`, `<!channel>`, `<!everyone>`, a user
//!   mention or a link. Steward's own channel references (`#C0123ABCD`) become channel links.
//!   `plain_text` objects (header, labels) are never parsed for mentions, so they are kept.
//! - Slack's limits (DESIGN.md §12) are kept by cutting with an ellipsis; a body or a field
//!   list cut short says "showing N of M". Slack refuses a whole message over any limit
//!   (`invalid_blocks`), so a card that is too big would otherwise never be posted.

use slack_morphism::prelude::*;

use super::decode::{PromptModal, PromptValue};
use crate::domain::messages::slack as text;
use crate::domain::reply::{Attachment, Button, ButtonStyle, Card, Choice, Message, Prompt};
use crate::platform::text::{clip, clip_pieces};

/// Slack allows at most this many fields per section block.
const FIELDS_PER_SECTION: usize = 10;
/// Block id of the single input in a prompt modal.
pub const PROMPT_BLOCK: &str = "prompt";

/// Slack's limits, from its Block Kit reference.
pub mod limits {
    /// Blocks in one message.
    pub const MESSAGE_BLOCKS: usize = 50;
    /// Characters of a message's top-level `text` Slack keeps.
    pub const TEXT: usize = 40_000;
    /// A section's text.
    pub const SECTION_TEXT: usize = 3000;
    /// A section field's text.
    pub const FIELD_TEXT: usize = 2000;
    /// A header's text.
    pub const HEADER: usize = 150;
    /// Elements of a context block, and characters of each.
    pub const CONTEXT_ELEMENTS: usize = 10;
    pub const CONTEXT_TEXT: usize = 2000;
    /// Elements of an actions block.
    pub const ACTIONS_ELEMENTS: usize = 25;
    /// A button's text, value and action id.
    pub const BUTTON_TEXT: usize = 75;
    pub const BUTTON_VALUE: usize = 2000;
    pub const ACTION_ID: usize = 255;
    /// Options of a static select; text and value of each.
    pub const OPTIONS: usize = 100;
    pub const OPTION_TEXT: usize = 75;
    pub const OPTION_VALUE: usize = 150;
    /// A modal's title, an input's label, a modal's private metadata.
    pub const MODAL_TITLE: usize = 24;
    pub const INPUT_LABEL: usize = 2000;
    pub const PRIVATE_METADATA: usize = 3000;
}

/// Field sections a card may use; the body gets the blocks left over.
const MAX_FIELD_SECTIONS: usize = 4;
/// What a prompt's label is cut to inside a button value (the modal shows it).
const PROMPT_LABEL_IN_VALUE: usize = 150;

/// The message content: fallback text plus blocks for a card.
pub fn content(message: &Message) -> SlackMessageContent {
    let blocks = message.card.as_ref().map(blocks);
    let mut fallback = fallback_text(message);
    for attachment in &message.attachments {
        // Files are uploaded after the message (`files`); their text fallback goes with it,
        // for notifications and in case Slack refuses the file.
        fallback.push('\n');
        fallback.push_str(&attachment.fallback);
    }
    SlackMessageContent::new().with_text(mrkdwn(&fallback, limits::TEXT)).opt_blocks(blocks)
}

/// What notifications and screen readers show (before escaping).
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

/// Text for a mrkdwn object: escaped, channel ids linked, cut to `max` characters.
pub fn mrkdwn(raw: &str, max: usize) -> String {
    clip_pieces(&pieces(raw), max)
}

/// `raw` as pieces that must not be cut apart: escaped entities, channel links, characters.
fn pieces(raw: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut previous: Option<char> = None;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        let after_boundary = previous.is_none_or(|p| !p.is_alphanumeric());
        if c == '#'
            && after_boundary
            && let Some(id) = channel_id(&rest[1..])
        {
            out.push(format!("<#{id}>"));
            rest = &rest[1 + id.len()..];
            previous = id.chars().last();
            continue;
        }
        out.push(match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            c => c.to_string(),
        });
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A Slack channel id at the start of `text`: `C` or `G`, then at least eight upper-case
/// letters and digits with at least one digit, ending at a word boundary.
fn channel_id(text: &str) -> Option<&str> {
    let end = text.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(text.len());
    let id = &text[..end];
    let shaped = id.len() >= 9
        && id.starts_with(['C', 'G'])
        && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && id.chars().any(|c| c.is_ascii_digit());
    shaped.then_some(id)
}

/// The body as sections of at most 3,000 characters, split between lines; at most
/// `max_sections`, and how many of the body's lines they show.
fn body_sections(body: &str, max_sections: usize) -> (Vec<String>, usize, usize) {
    let lines: Vec<&str> = body.lines().collect();
    let mut sections: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut shown = 0;
    for line in &lines {
        let line = mrkdwn(line, limits::SECTION_TEXT);
        let joined = current.chars().count() + 1 + line.chars().count();
        if !current.is_empty() && joined > limits::SECTION_TEXT {
            if sections.len() + 1 == max_sections {
                break;
            }
            sections.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
        shown += 1;
    }
    if !current.is_empty() {
        sections.push(current);
    }
    (sections, shown, lines.len())
}

/// The message content once Slack refused some of its files: as [`content`], with the
/// `refused` files' fallbacks (a chart's sparkline) in a section of the card, before its
/// small print and buttons, so that they are seen where the file would have been and not
/// only in notifications. A message without a card shows its `text`, which has them already.
pub fn content_without_files(message: &Message, refused: &[&Attachment]) -> SlackMessageContent {
    let content = content(message);
    let Some(card) = message.card.as_ref().filter(|_| !refused.is_empty()) else {
        return content;
    };
    let mut blocks = card_blocks(card, limits::MESSAGE_BLOCKS - 1);
    let lines: Vec<String> =
        refused.iter().map(|a| format!("{}\n{}", a.title, a.fallback)).collect();
    let section =
        SlackSectionBlock::new().with_text(md(mrkdwn(&lines.join("\n\n"), limits::SECTION_TEXT)));
    let at = blocks
        .iter()
        .position(|b| matches!(b, SlackBlock::Context(_) | SlackBlock::Actions(_)))
        .unwrap_or(blocks.len());
    blocks.insert(at, section.into());
    content.with_blocks(blocks)
}

/// A card's blocks, within Slack's limits for one message.
pub fn blocks(card: &Card) -> Vec<SlackBlock> {
    card_blocks(card, limits::MESSAGE_BLOCKS)
}

/// A card's blocks, at most `max_blocks` of them.
fn card_blocks(card: &Card, max_blocks: usize) -> Vec<SlackBlock> {
    let title = clip(&card.title, limits::HEADER);
    let mut blocks: Vec<SlackBlock> =
        vec![SlackHeaderBlock::new(SlackBlockPlainTextOnly::from(title)).into()];
    let mut notes = Vec::new();
    let field_chunks: Vec<_> =
        card.fields.chunks(FIELDS_PER_SECTION).take(MAX_FIELD_SECTIONS).collect();
    let fields_shown: usize = field_chunks.iter().map(|c| c.len()).sum();
    if fields_shown < card.fields.len() {
        notes.push(text::showing(fields_shown, card.fields.len(), "fields"));
    }
    let buttons: Vec<&Button> = card
        .buttons
        .iter()
        .filter(|b| {
            let fits = b.action.chars().count() <= limits::ACTION_ID;
            if !fits {
                tracing::warn!(action = %b.action, "action id too long for Slack");
            }
            fits
        })
        .take(limits::ACTIONS_ELEMENTS)
        .collect();
    // Header, fields, context (always reserved: a cut body needs it) and actions come first.
    let fixed = 1 + field_chunks.len() + 1 + usize::from(!buttons.is_empty());
    // Slack refuses a section with empty text.
    if let Some(body) = card.body.as_ref().filter(|b| !b.trim().is_empty()) {
        let (sections, shown, total) = body_sections(body, max_blocks - fixed);
        if shown < total {
            notes.push(text::showing(shown, total, "lines"));
        }
        blocks
            .extend(sections.into_iter().map(|s| SlackSectionBlock::new().with_text(md(s)).into()));
    }
    for chunk in field_chunks {
        let fields = chunk.iter().map(|f| md(field_text(&f.label, &f.value))).collect();
        blocks.push(SlackSectionBlock::new().with_fields(fields).into());
    }
    // The notes first: they must survive when the context is cut.
    let lines: Vec<&str> =
        notes.iter().map(String::as_str).chain(card.context.iter().map(String::as_str)).collect();
    if !lines.is_empty() {
        blocks.push(SlackContextBlock::new(context_elements(&lines)).into());
    }
    if !buttons.is_empty() {
        let elements =
            buttons.into_iter().map(|b| SlackActionBlockElement::Button(button(b))).collect();
        blocks.push(SlackActionsBlock::new(elements).into());
    }
    blocks
}

/// `*label*` over the value, within a field's 2,000 characters.
fn field_text(label: &str, value: &str) -> String {
    let label = mrkdwn(label, 200);
    let room = limits::FIELD_TEXT - label.chars().count() - 3;
    format!("*{label}*\n{}", mrkdwn(value, room))
}

/// Context lines as elements: at most ten, the last one taking whatever is left over.
fn context_elements(lines: &[&str]) -> Vec<SlackContextBlockElement> {
    let keep = limits::CONTEXT_ELEMENTS - 1;
    let mut texts: Vec<String> = lines.iter().take(keep).map(|l| l.to_string()).collect();
    if lines.len() > keep {
        texts.push(lines[keep..].join(" · "));
    }
    texts
        .iter()
        .map(|line| {
            let line = mrkdwn(line, limits::CONTEXT_TEXT);
            SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::from(line))
        })
        .collect()
}

/// Already escaped and cut mrkdwn.
fn md(text: String) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::from(text))
}

/// What a prompting button's click sends back: the prompt, small enough for a button value.
/// A menu of choices goes with it only while it fits Slack's 100 options and the value's
/// 2,000 characters (60 eligible owners do not); otherwise the value leaves the choices out
/// and marks the prompt `external`: its modal has an `external_select`, whose options Slack
/// loads while the person types (`block_suggestion`, [`options`]). The button's action id
/// names the item and the verb, so nothing else needs to travel.
pub fn prompt_value(prompt: &Prompt) -> String {
    let label = clip(&prompt.label, PROMPT_LABEL_IN_VALUE);
    let compact = Prompt {
        title: clip(&prompt.title, limits::MODAL_TITLE),
        label,
        required: prompt.required,
        // The menu shows no more of a label than this anyway.
        choices: prompt
            .choices
            .iter()
            .map(|c| Choice { value: c.value.clone(), label: clip(&c.label, limits::OPTION_TEXT) })
            .collect(),
    };
    let menu_fits = prompt.choices.len() <= limits::OPTIONS
        && prompt.choices.iter().all(|c| c.value.chars().count() <= limits::OPTION_VALUE);
    let with_menu = PromptValue { prompt: compact.clone(), external: false };
    if menu_fits
        && let Ok(value) = serde_json::to_string(&with_menu)
        && value.chars().count() <= limits::BUTTON_VALUE
    {
        return value;
    }
    let external =
        PromptValue { prompt: Prompt { choices: Vec::new(), ..compact }, external: true };
    serde_json::to_string(&external).unwrap_or_default()
}

/// The answer to a `block_suggestion`: `choices` as options (at most 100), each shown as its
/// label and key within 75 characters; a choice whose key is longer than an option value may
/// be (150) is left out, as it could not be sent back.
pub fn options(choices: &[Choice]) -> SlackBlockSuggestionResponse {
    let items = choices
        .iter()
        .filter(|c| c.value.chars().count() <= limits::OPTION_VALUE)
        .take(limits::OPTIONS)
        .map(|c| {
            let key = clip(&c.value, limits::OPTION_TEXT / 2);
            let room = limits::OPTION_TEXT - key.chars().count() - 3;
            let shown = format!("{} · {key}", clip(&c.label, room));
            SlackBlockChoiceItem::new(SlackBlockPlainTextOnly::from(shown), c.value.clone())
        })
        .collect();
    SlackBlockSuggestionResponse::Options(SlackBlockSuggestionOptions::new(items))
}

fn button(b: &Button) -> SlackBlockButtonElement {
    let style = match b.style {
        ButtonStyle::Default => None,
        ButtonStyle::Primary => Some(SlackBlockButtonStyle::Primary),
        ButtonStyle::Danger => Some(SlackBlockButtonStyle::Danger),
    };
    // The value is what the click sends back: the prompt to open, or the action id again.
    let value = match &b.prompt {
        Some(prompt) => prompt_value(prompt),
        None => b.action.clone(),
    };
    let confirm = b.confirm.as_ref().map(|c| {
        let mut item = SlackBlockConfirmItem::new(
            SlackBlockPlainTextOnly::from(clip(&c.title, 100)),
            SlackBlockText::Plain(SlackBlockPlainText::from(clip(&c.text, 300))),
            SlackBlockPlainTextOnly::from(clip(&c.confirm, 30)),
            SlackBlockPlainTextOnly::from(clip(&c.deny, 30)),
        );
        if b.style == ButtonStyle::Danger {
            item = item.with_style("danger".into());
        }
        item
    });
    SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from(clip(&b.label, limits::BUTTON_TEXT)))
        .with_action_id(SlackActionId::new(b.action.clone()))
        .with_value(value)
        .opt_style(style)
        .opt_confirm(confirm)
}

/// The App Home tab: the card's blocks (a message's 50 at most, within the home's 100).
pub fn home(card: &Card) -> SlackView {
    SlackView::Home(SlackHomeView::new(blocks(card)))
}

/// The modal a prompting button opens: one text input, or a select when the prompt has
/// choices. `private_metadata` carries the action and channel back on submit.
pub fn modal(request: &PromptModal) -> SlackView {
    let prompt = &request.prompt;
    let element = if request.external { external_select() } else { input_element(prompt) };
    let label = clip(&prompt.label, limits::INPUT_LABEL);
    let input = SlackInputBlock::new(SlackBlockPlainTextOnly::from(label), element)
        .with_block_id(SlackBlockId::new(PROMPT_BLOCK.into()))
        .with_optional(!prompt.required);
    let metadata = serde_json::to_string(&request.metadata).unwrap_or_default();
    let title = clip(&prompt.title, limits::MODAL_TITLE);
    SlackView::Modal(
        SlackModalView::new(SlackBlockPlainTextOnly::from(title), vec![input.into()])
            .with_submit(SlackBlockPlainTextOnly::from(text::MODAL_SUBMIT))
            .with_close(SlackBlockPlainTextOnly::from(text::MODAL_CANCEL))
            .with_private_metadata(metadata),
    )
}

/// A select whose options Slack asks Steward for (`block_suggestion`), from the first
/// keystroke on: with `min_query_length` 0 the menu lists the first 100 when opened.
fn external_select() -> SlackInputBlockElement {
    SlackInputBlockElement::ExternalSelect(
        SlackBlockExternalSelectElement::new()
            .with_action_id(SlackActionId::new(Prompt::FIELD.into()))
            .with_placeholder(SlackBlockPlainTextOnly::from(text::SELECT_PLACEHOLDER))
            .with_min_query_length(0),
    )
}

fn input_element(prompt: &Prompt) -> SlackInputBlockElement {
    let action_id = SlackActionId::new(Prompt::FIELD.into());
    // A menu only within Slack's limits (an old or hand-made value may carry more).
    let menu = !prompt.choices.is_empty()
        && prompt.choices.len() <= limits::OPTIONS
        && prompt.choices.iter().all(|c| c.value.chars().count() <= limits::OPTION_VALUE);
    if !menu {
        return SlackInputBlockElement::PlainTextInput(
            SlackBlockPlainTextInputElement::new().with_action_id(action_id).with_multiline(true),
        );
    }
    let options = prompt
        .choices
        .iter()
        .map(|c| {
            SlackBlockChoiceItem::new(
                SlackBlockPlainTextOnly::from(clip(&c.label, limits::OPTION_TEXT)),
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
    fn user_text_is_escaped_and_channel_ids_are_links() {
        let card = Card {
            title: "<!here> title".into(),
            body: Some("<!channel> & <@U1> in #C0123ABCD9, not #general or x#C0123ABCD9".into()),
            fields: vec![Field::new("<b>", "<!everyone>")],
            ..Card::default()
        };
        let json = serde_json::to_value(content(&Message::card(card))).unwrap();
        assert_eq!(
            json["blocks"][1]["text"]["text"],
            "&lt;!channel&gt; &amp; &lt;@U1&gt; in <#C0123ABCD9>, not #general or x#C0123ABCD9"
        );
        assert_eq!(json["blocks"][2]["fields"][0]["text"], "*&lt;b&gt;*\n&lt;!everyone&gt;");
        assert!(json["text"].as_str().unwrap().starts_with("&lt;!here&gt; title"));
    }

    #[test]
    fn a_prompt_with_choices_becomes_a_select_in_a_modal() {
        let request = PromptModal {
            prompt: Prompt {
                title: "Resolve".into(),
                label: "Outcome".into(),
                required: true,
                choices: vec![Choice { value: "fixed".into(), label: "Fixed".into() }],
            },
            metadata: ModalMetadata { action: "esc:1:resolve:v2".into(), channel: "C1".into() },
            external: false,
        };
        let json = serde_json::to_value(modal(&request)).unwrap();
        assert_eq!(json["type"], "modal");
        assert_eq!(json["blocks"][0]["element"]["type"], "static_select");
        assert_eq!(json["blocks"][0]["element"]["action_id"], "text");
        assert!(json["private_metadata"].as_str().unwrap().contains("esc:1:resolve:v2"));
    }
}
