//! The local console chat: an interactive (or piped) terminal front end that speaks the same
//! neutral model as Slack and Discord, so every workflow can be tried without tokens.
//!
//! Lines starting with `/` are slash commands; a number presses a button of the last card
//! (`2 some text` also fills the button's prompt); `/as <person>` switches identity. With
//! piped input the console exits at end of input, after the outbox is flushed.
//!
//! `/say <channel> <text>` posts a person's message into a console channel (numbered like
//! Steward's), `/pin <number>` pins it — in an incident's room that puts it on the timeline —
//! and `/channel <name>` makes commands come from that channel, as if typed in the room.

mod port;
pub mod render;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

pub use port::{ConsoleChat, ConsoleOutput};
pub use render::render_message;

use crate::domain::command::split_first_word;
use crate::domain::identity::Person;
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::incident::timeline::{CaptureHow, RoomChange, RoomMessage};
use crate::domain::messages;
use crate::domain::reply::{Button, Prompt};
use crate::scheduler::outbox::Dispatcher;
use crate::services::Services;

/// A button press waiting for more input.
enum Pending {
    /// The button's prompt asks for text.
    Text(Button),
    /// The button asks for confirmation (`y` to go ahead).
    Confirm(Button, Option<String>),
}

/// One console session.
pub struct Console {
    services: Services,
    dispatcher: Dispatcher,
    output: Arc<ConsoleOutput>,
    person: Person,
    pending: Option<Pending>,
    interactive: bool,
    /// The channel commands come from (`[console] channel`, or `/channel`).
    channel: String,
    /// Messages said with `/say`, by number, for `/pin`.
    said: BTreeMap<u64, RoomMessage>,
}

impl Console {
    /// A console acting as `[console] person`, or the first configured person.
    pub fn new(
        services: Services,
        dispatcher: Dispatcher,
        output: Arc<ConsoleOutput>,
        interactive: bool,
    ) -> anyhow::Result<Console> {
        let directory = &services.setup().directory;
        let known: Vec<&str> = directory.people().map(|p| p.key.as_str()).collect();
        let person = match &services.setup().settings.console.person {
            Some(key) => directory
                .people()
                .find(|p| p.key.as_str() == key)
                .ok_or_else(|| messages::cli::unknown_person(key, &known)),
            None => directory.people().next().ok_or_else(messages::cli::no_people),
        }
        .cloned()
        .map_err(anyhow::Error::msg)?;
        let channel = services.setup().settings.console.channel.clone();
        Ok(Console {
            services,
            dispatcher,
            output,
            person,
            pending: None,
            interactive,
            channel,
            said: BTreeMap::new(),
        })
    }

    /// Reads lines until end of input or `/quit`, then flushes the outbox.
    pub async fn run(mut self, input: impl AsyncBufRead + Unpin) -> anyhow::Result<()> {
        if self.interactive {
            self.output.write(&messages::console_welcome(&self.person));
        }
        let mut lines = input.lines();
        loop {
            if self.interactive {
                self.output.prompt(&format!("{}> ", self.person.key));
            }
            let Some(line) = lines.next_line().await? else { break };
            if !self.handle_line(line.trim()).await? {
                break;
            }
        }
        self.dispatcher.flush().await
    }

    /// Handles one line; `false` means the user asked to leave.
    async fn handle_line(&mut self, line: &str) -> anyhow::Result<bool> {
        if let Some(pending) = self.pending.take() {
            self.continue_pending(pending, line).await?;
            return Ok(true);
        }
        if line.is_empty() {
            return Ok(true);
        }
        let (word, rest) = split_first_word(line);
        match word {
            "/quit" | "/exit" => return Ok(false),
            "/as" => self.switch_person(rest),
            "/say" => self.say(rest),
            "/pin" => self.pin(rest).await?,
            "/channel" if !rest.is_empty() => {
                self.channel = rest.trim_start_matches('#').to_owned();
                self.output.write(&messages::console_now_in_channel(&self.channel));
            }
            "/help" => {
                self.output.write(&messages::help());
                self.output.write(&messages::console_help());
            }
            _ if word.starts_with('/') => {
                let name = word.trim_start_matches('/').to_owned();
                let kind = InboundKind::Command { name, args: rest.to_owned() };
                let dedupe = format!("console:command:{}", uuid::Uuid::new_v4());
                self.send(dedupe, kind).await?;
            }
            _ => match word.parse::<usize>() {
                Ok(number) => self.press(number, rest).await?,
                Err(_) => self.output.write(&messages::console_not_a_command()),
            },
        }
        Ok(true)
    }

    fn switch_person(&mut self, name: &str) {
        let directory = &self.services.setup().directory;
        let found = directory
            .resolve(Platform::Console, name)
            .or_else(|| directory.people().find(|p| p.key.as_str() == name));
        match found {
            Some(person) => {
                self.person = person.clone();
                self.output.write(&messages::console_now_acting_as(person));
            }
            None => {
                let known: Vec<String> = directory.people().map(|p| p.key.to_string()).collect();
                self.output.write(&messages::unknown_console_person(name, &known));
            }
        }
    }

    /// Prints a person's message into a channel under its own number and remembers it.
    fn say(&mut self, args: &str) {
        let (channel, text) = split_first_word(args);
        let channel = channel.trim_start_matches('#');
        if channel.is_empty() || text.is_empty() {
            self.output.write(&messages::console_say_usage());
            return;
        }
        let number = self.output.next_message_id();
        let heading = messages::console_post_heading(channel, &number.to_string());
        self.output.write(&heading);
        self.output.write(&messages::console_said(&self.person.display_name, text));
        let message = RoomMessage {
            channel: channel.to_owned(),
            message_id: number.to_string(),
            author: self.actor(),
            author_name: Some(self.person.display_name.clone()),
            text: text.to_owned(),
            posted_at: self.services.clock().now(),
            change: RoomChange::Captured(CaptureHow::Pin),
        };
        self.said.insert(number, message);
    }

    /// Pins a said message: Steward puts it on the timeline of the room's incident.
    async fn pin(&mut self, raw: &str) -> anyhow::Result<()> {
        let found = raw.trim().parse::<u64>().ok().and_then(|n| self.said.get(&n)).cloned();
        let Some(message) = found else {
            self.output.write(&messages::console_no_such_message(raw.trim()));
            return Ok(());
        };
        let dedupe = format!("console:pin:{}", uuid::Uuid::new_v4());
        self.send(dedupe, InboundKind::RoomMessage(message)).await
    }

    async fn press(&mut self, number: usize, text: &str) -> anyhow::Result<()> {
        let Some(card) = self.output.last_card() else {
            self.output.write(&messages::console_no_card());
            return Ok(());
        };
        let Some(button) = number.checked_sub(1).and_then(|i| card.buttons.get(i)).cloned() else {
            self.output.write(&messages::console_no_such_button(number, card.buttons.len()));
            return Ok(());
        };
        let text = (!text.is_empty()).then(|| text.to_owned());
        match (&button.prompt, text) {
            (Some(prompt), None) if prompt.required => {
                let actor = self.actor();
                let services = &self.services;
                if let Some(refusal) = services
                    .refuse_before_prompt(Platform::Console, None, &actor, &button.action)
                    .await
                {
                    self.output.show(None, &refusal.message);
                    return Ok(());
                }
                let choices: Vec<String> =
                    prompt.choices.iter().map(|c| format!("{} = {}", c.value, c.label)).collect();
                self.output.write(&messages::console_prompt(
                    &prompt.title,
                    &prompt.label,
                    &choices,
                ));
                self.pending = Some(Pending::Text(button));
                Ok(())
            }
            (_, text) => self.confirm_then_click(button, text).await,
        }
    }

    async fn continue_pending(&mut self, pending: Pending, line: &str) -> anyhow::Result<()> {
        match pending {
            Pending::Text(button) if line.is_empty() => {
                let label = button.prompt.as_ref().map(|p| p.label.clone()).unwrap_or_default();
                self.output.write(&messages::console_prompt_required(&label));
                Ok(())
            }
            Pending::Text(button) => self.confirm_then_click(button, Some(line.to_owned())).await,
            Pending::Confirm(button, text) => {
                if matches!(line.to_ascii_lowercase().as_str(), "y" | "yes") {
                    self.click(&button, text).await
                } else {
                    self.output.write(&messages::console_cancelled());
                    Ok(())
                }
            }
        }
    }

    async fn confirm_then_click(
        &mut self,
        button: Button,
        text: Option<String>,
    ) -> anyhow::Result<()> {
        if let Some(confirm) = &button.confirm {
            self.output.write(&messages::console_confirm(&confirm.title, &confirm.text));
            self.pending = Some(Pending::Confirm(button, text));
            return Ok(());
        }
        self.click(&button, text).await
    }

    async fn click(&mut self, button: &Button, text: Option<String>) -> anyhow::Result<()> {
        let actor = self.actor();
        let dedupe = Inbound::click_dedupe_key(Platform::Console, &actor, &button.action);
        let kind = match text {
            Some(text) => InboundKind::Submission {
                action: button.action.clone(),
                fields: BTreeMap::from([(Prompt::FIELD.to_owned(), text)]),
            },
            None => InboundKind::Action { action: button.action.clone() },
        };
        self.send(dedupe, kind).await
    }

    fn actor(&self) -> String {
        self.person
            .identities
            .get(&Platform::Console)
            .cloned()
            .unwrap_or_else(|| self.person.key.to_string())
    }

    /// Hands an inbound event to the services, prints the reply, then sends whatever the
    /// event put in the outbox so cards appear right after the reply.
    async fn send(&mut self, dedupe_key: String, kind: InboundKind) -> anyhow::Result<()> {
        let inbound = Inbound {
            dedupe_key,
            platform: Platform::Console,
            workspace: None,
            actor: self.actor(),
            channel: self.channel.clone(),
            kind,
        };
        let reply = self.services.handle_inbound(inbound).await;
        self.output.show(None, &reply.message);
        self.dispatcher.flush().await
    }
}
