//! A recording [`ChatPort`] for tests of the outbox machinery. (Slack and Discord are faked
//! at the network boundary instead, in their own support modules.)

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use steward::domain::ids::Platform;
use steward::domain::reply::{Card, Message, MessageRef};
use steward::services::ports::{ChatPort, Delivery, SendError};

/// One call the dispatcher made.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatCall {
    Post { channel: String, message: Message, thread: Option<MessageRef> },
    Update { at: MessageRef, message: Message },
    Dm { user: String, message: Message },
}

/// Records every call; answers with queued failures first, then success.
#[derive(Default)]
pub struct RecordingChat {
    pub calls: Mutex<Vec<ChatCall>>,
    failures: Mutex<VecDeque<SendError>>,
    next_id: Mutex<u64>,
    /// Every direct message fails with this (a platform that refuses DMs).
    dm_failure: Mutex<Option<SendError>>,
}

impl RecordingChat {
    /// The next sends fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SendError>) {
        self.failures.lock().unwrap().extend(errors);
    }

    pub fn calls(&self) -> Vec<ChatCall> {
        self.calls.lock().unwrap().clone()
    }

    /// From now on every direct message fails with `error`; posts and updates go through.
    pub fn fail_every_dm(&self, error: SendError) {
        *self.dm_failure.lock().unwrap() = Some(error);
    }

    fn answer(&self, call: ChatCall, channel: &str) -> Result<MessageRef, SendError> {
        if let Some(error) = self.failures.lock().unwrap().pop_front() {
            return Err(error);
        }
        self.calls.lock().unwrap().push(call);
        let mut id = self.next_id.lock().unwrap();
        *id += 1;
        Ok(MessageRef { channel: channel.to_owned(), message_id: format!("m{id}") })
    }
}

#[async_trait]
impl ChatPort for RecordingChat {
    fn platform(&self) -> Platform {
        Platform::Console
    }

    async fn post(
        &self,
        _delivery: Delivery,
        channel: &str,
        message: &Message,
        thread: Option<&MessageRef>,
    ) -> Result<MessageRef, SendError> {
        let call = ChatCall::Post {
            channel: channel.into(),
            message: message.clone(),
            thread: thread.cloned(),
        };
        self.answer(call, channel)
    }

    async fn update(
        &self,
        _delivery: Delivery,
        at: &MessageRef,
        message: &Message,
    ) -> Result<(), SendError> {
        self.answer(ChatCall::Update { at: at.clone(), message: message.clone() }, &at.channel)
            .map(|_| ())
    }

    async fn direct_message(
        &self,
        _delivery: Delivery,
        user: &str,
        message: &Message,
    ) -> Result<MessageRef, SendError> {
        if let Some(error) = self.dm_failure.lock().unwrap().clone() {
            return Err(error);
        }
        self.answer(ChatCall::Dm { user: user.into(), message: message.clone() }, user)
    }
}

/// The latest version of the card with living key `key` that `chat` posted or updated.
pub fn latest_card(chat: &RecordingChat, key: &str) -> Card {
    chat.calls()
        .into_iter()
        .rev()
        .find_map(|call| match call {
            ChatCall::Post { message, .. } | ChatCall::Update { message, .. } => {
                message.card.filter(|c| c.living_key.as_deref() == Some(key))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no card {key}"))
}

/// The value of the card's field whose label starts with `label`.
pub fn field<'a>(card: &'a Card, label: &str) -> &'a str {
    &card
        .fields
        .iter()
        .find(|f| f.label.starts_with(label))
        .unwrap_or_else(|| panic!("no {label}: {card:#?}"))
        .value
}

/// The action id of the card's button labelled `label`.
pub fn button(card: &Card, label: &str) -> String {
    card.buttons
        .iter()
        .find(|b| b.label == label)
        .unwrap_or_else(|| panic!("no {label}: {card:#?}"))
        .action
        .clone()
}

/// Every direct message sent: (platform user, text).
pub fn dms(chat: &RecordingChat) -> Vec<(String, String)> {
    chat.calls()
        .into_iter()
        .filter_map(|call| match call {
            ChatCall::Dm { user, message } => Some((user, message.text.unwrap_or_default())),
            _ => None,
        })
        .collect()
}

/// Every line posted into a card's thread.
pub fn thread_lines(chat: &RecordingChat) -> Vec<String> {
    chat.calls()
        .into_iter()
        .filter_map(|call| match call {
            ChatCall::Post {
                message: Message { text: Some(text), thread_of: Some(_), .. },
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}
