//! The neutral output model: what Steward says, independent of any chat platform.
//!
//! Adapters render a [`Message`] into Block Kit, Discord embeds or console text. Nothing here
//! knows about a platform; if a platform needs something this model cannot express, the model
//! grows (for every platform), not the adapter.

use serde::{Deserialize, Serialize};

/// An answer to an inbound event, shown to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Only the actor sees an ephemeral reply.
    pub ephemeral: bool,
    pub message: Message,
}

impl Reply {
    /// A private text answer: usage errors, refusals, confirmations.
    pub fn private(text: impl Into<String>) -> Reply {
        Reply { ephemeral: true, message: Message::text(text) }
    }

    /// A card visible to the channel.
    pub fn card(card: Card) -> Reply {
        Reply { ephemeral: false, message: Message::card(card) }
    }

    /// A card only the actor sees (previews, lists).
    pub fn private_card(card: Card) -> Reply {
        Reply { ephemeral: true, message: Message::card(card) }
    }
}

/// A chat message: some text, a card, or both, optionally in the thread of a living message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Message {
    pub text: Option<String>,
    pub card: Option<Card>,
    /// Post into the thread of the living message with this key (an item's history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_of: Option<String>,
    /// Files that go with the message (a digest's chart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file sent with a message. Platforms that can upload files show it; the others (the
/// console) print `fallback` instead, e.g. a text sparkline for a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub title: String,
    /// MIME type, e.g. `image/png`.
    pub media_type: String,
    /// The file's bytes, base64 in the stored JSON.
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
    /// What to show where files cannot be shown.
    pub fallback: String,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

impl Message {
    pub fn text(text: impl Into<String>) -> Message {
        Message { text: Some(text.into()), ..Message::default() }
    }

    pub fn card(card: Card) -> Message {
        Message { card: Some(card), ..Message::default() }
    }

    /// The key of the living message this message *is* (not the one it threads under).
    pub fn living_key(&self) -> Option<&str> {
        self.card.as_ref().and_then(|card| card.living_key.as_deref())
    }
}

/// A structured message about one item, with buttons.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Card {
    /// When set, this card is the one living message for an item (e.g. `esc:42`): later cards
    /// with the same key update it in place instead of posting anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub living_key: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Small print under the card: ids, "updated 10:42 by bob".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// A labelled value on a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

impl Field {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field { label: label.into(), value: value.into() }
    }
}

/// A button. Its `action` names the item, the verb and the card version it was shown on
/// (e.g. `esc:42:ack:v3`); it grants nothing by itself, the service checks who clicked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub action: String,
    #[serde(default)]
    pub style: ButtonStyle,
    /// Ask "are you sure?" before sending the click (destructive actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<Confirm>,
    /// Ask for a line of text before sending the click (a modal on Slack/Discord).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
}

impl Button {
    /// A plain button: no confirmation, no prompt.
    pub fn new(label: &str, action: String, style: ButtonStyle) -> Button {
        Button { label: label.to_owned(), action, style, confirm: None, prompt: None }
    }

    /// This button asking for a required line of text before the click is sent: the
    /// dialog's `title` and its field's `label` (a resolution note, a reason).
    pub fn asking(self, title: &str, label: &str) -> Button {
        self.asking_one_of(title, label, Vec::new())
    }

    /// Like [`Button::asking`], the answer being one of `choices` (a select menu) when
    /// there are any.
    pub fn asking_one_of(self, title: &str, label: &str, choices: Vec<Choice>) -> Button {
        let prompt =
            Prompt { title: title.to_owned(), label: label.to_owned(), required: true, choices };
        Button { prompt: Some(prompt), ..self }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ButtonStyle {
    #[default]
    Default,
    Primary,
    Danger,
}

/// A confirmation dialog shown before a destructive click is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    pub confirm: String,
    pub deny: String,
}

/// A request for text input that accompanies a click (reject reason, resolution note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// Dialog title.
    pub title: String,
    /// Label of the single text field; its value arrives under [`Prompt::FIELD`].
    pub label: String,
    pub required: bool,
    /// When not empty, the answer is one of these (a select menu on Slack and Discord).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

/// One option of a [`Prompt`] with choices: the value sent back and the label shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The `choices` whose value (a key) or label contains `typed`, ignoring case, in their
/// order, at most `limit`: what a person typing into a long menu sees.
pub fn matching(choices: Vec<Choice>, typed: &str, limit: usize) -> Vec<Choice> {
    let typed = typed.trim().to_lowercase();
    choices
        .into_iter()
        .filter(|c| {
            typed.is_empty()
                || c.value.to_lowercase().contains(&typed)
                || c.label.to_lowercase().contains(&typed)
        })
        .take(limit)
        .collect()
}

impl Prompt {
    /// The field name under which the entered text arrives in a submission.
    pub const FIELD: &'static str = "text";
}

/// Where a sent message lives on its platform (Slack channel + ts, Discord channel + message
/// id, console channel + sequence number), kept so it can be updated in place later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    pub channel: String,
    pub message_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(value: &str, label: &str) -> Choice {
        Choice { value: value.into(), label: label.into() }
    }

    #[test]
    fn an_asking_button_keeps_its_action_and_requires_the_text() {
        let plain = Button::new("Resolve", "esc:1:resolve:v2".into(), ButtonStyle::Default);
        assert_eq!((plain.confirm.clone(), plain.prompt.clone()), (None, None));
        let asking = plain.clone().asking("Resolve", "resolution note");
        let prompt = asking.prompt.clone().expect("a prompt");
        assert_eq!(
            (asking.label.as_str(), asking.action.as_str()),
            ("Resolve", "esc:1:resolve:v2")
        );
        assert_eq!((prompt.title.as_str(), prompt.label.as_str()), ("Resolve", "resolution note"));
        assert!(prompt.required && prompt.choices.is_empty());
        let menu = plain.asking_one_of("Reassign", "person", vec![choice("sam", "Sam")]);
        assert_eq!(menu.prompt.expect("a prompt").choices, vec![choice("sam", "Sam")]);
    }

    #[test]
    fn matching_choices_contain_the_typed_text_in_key_or_name_ignoring_case() {
        let all = vec![
            choice("alice", "Alice Archer"),
            choice("nat", "Natalia Ortiz"),
            choice("bob", "Bob Brown"),
            choice("kalid", "Kal Idris"),
        ];
        let keys = |found: Vec<Choice>| found.into_iter().map(|c| c.value).collect::<Vec<_>>();
        assert_eq!(keys(matching(all.clone(), " ALI ", 10)), ["alice", "nat", "kalid"]);
        assert_eq!(keys(matching(all.clone(), "ali", 2)), ["alice", "nat"]);
        assert_eq!(keys(matching(all.clone(), "", 3)), ["alice", "nat", "bob"]);
        assert!(matching(all, "zed", 10).is_empty());
    }
}
