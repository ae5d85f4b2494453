//! The console's [`ChatPort`]: messages sent to any channel are printed with the channel's
//! name, and living messages are "updated" by printing the new version with a note.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::render::render_message;
use crate::domain::ids::Platform;
use crate::domain::messages;
use crate::domain::reply::{Card, Message, MessageRef};
use crate::services::ports::{ChatPort, Delivery, SendError};

/// Where console text goes (stdout, or a buffer in tests), shared by the prompt loop and the
/// outbox dispatcher so their lines never interleave. It also remembers the last card with
/// buttons, which typed numbers press.
pub struct ConsoleOutput {
    writer: Mutex<Box<dyn Write + Send>>,
    last_card: Mutex<Option<Card>>,
    /// Message numbers: one sequence for Steward's posts and people's `/say`, so every
    /// message in any console channel has a number of its own.
    next_id: AtomicU64,
}

impl ConsoleOutput {
    pub fn new(writer: Box<dyn Write + Send>) -> Arc<ConsoleOutput> {
        Arc::new(ConsoleOutput {
            writer: Mutex::new(writer),
            last_card: Mutex::new(None),
            next_id: AtomicU64::new(1),
        })
    }

    pub fn stdout() -> Arc<ConsoleOutput> {
        ConsoleOutput::new(Box::new(std::io::stdout()))
    }

    /// Writes text as is (a newline is added when missing).
    pub fn write(&self, text: &str) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writer.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = writer.write_all(b"\n");
        }
        let _ = writer.flush();
    }

    /// Writes without a newline (the interactive prompt).
    pub fn prompt(&self, text: &str) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writer.write_all(text.as_bytes());
        let _ = writer.flush();
    }

    /// Renders a message, remembering its card if it has buttons.
    pub fn show(&self, heading: Option<&str>, message: &Message) {
        if let Some(card) = &message.card
            && !card.buttons.is_empty()
        {
            *self.last_card.lock().unwrap_or_else(|e| e.into_inner()) = Some(card.clone());
        }
        let mut text = heading.map(|h| format!("{h}\n")).unwrap_or_default();
        text.push_str(&render_message(message));
        self.write(&text);
    }

    /// The next message number.
    pub fn next_message_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn last_card(&self) -> Option<Card> {
        self.last_card.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Prints outbox messages; message ids are the output's per-process sequence.
pub struct ConsoleChat {
    output: Arc<ConsoleOutput>,
}

impl ConsoleChat {
    pub fn new(output: Arc<ConsoleOutput>) -> ConsoleChat {
        ConsoleChat { output }
    }

    fn next_ref(&self, channel: &str) -> MessageRef {
        let id = self.output.next_message_id();
        MessageRef { channel: channel.to_owned(), message_id: id.to_string() }
    }
}

#[async_trait]
impl ChatPort for ConsoleChat {
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
        let sent = self.next_ref(channel);
        let heading = match thread {
            Some(parent) => messages::console_thread_heading(channel, &parent.message_id),
            None => messages::console_post_heading(channel, &sent.message_id),
        };
        self.output.show(Some(&heading), message);
        Ok(sent)
    }

    async fn update(
        &self,
        _delivery: Delivery,
        at: &MessageRef,
        message: &Message,
    ) -> Result<(), SendError> {
        let heading = messages::console_update_heading(&at.channel, &at.message_id);
        self.output.show(Some(&heading), message);
        Ok(())
    }

    async fn direct_message(
        &self,
        _delivery: Delivery,
        user: &str,
        message: &Message,
    ) -> Result<MessageRef, SendError> {
        let sent = self.next_ref(&format!("@{user}"));
        self.output.show(Some(&messages::console_dm_heading(user)), message);
        Ok(sent)
    }
}
