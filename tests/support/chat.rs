//! A recording [`ChatPort`] for tests of the outbox machinery. (Slack and Discord are faked
//! at the network boundary instead, in their own support modules.)

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use steward::domain::ids::Platform;
use steward::domain::reply::{Message, MessageRef};
use steward::services::ports::{ChatPort, SendError};

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
}

impl RecordingChat {
    /// The next sends fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SendError>) {
        self.failures.lock().unwrap().extend(errors);
    }

    pub fn calls(&self) -> Vec<ChatCall> {
        self.calls.lock().unwrap().clone()
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

    async fn update(&self, at: &MessageRef, message: &Message) -> Result<(), SendError> {
        self.answer(ChatCall::Update { at: at.clone(), message: message.clone() }, &at.channel)
            .map(|_| ())
    }

    async fn direct_message(&self, user: &str, message: &Message) -> Result<MessageRef, SendError> {
        self.answer(ChatCall::Dm { user: user.into(), message: message.clone() }, user)
    }
}
