//! The inbound path (DESIGN.md §3) after verification and decoding: resolve the actor, parse
//! the intent, route it to a use case, then write its effects together with the inbox row
//! (dedupe key + reply) and commit — all in one transaction.

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::access::{self, Access};
use super::credits::Credits;
use super::error::AppError;
use super::escalations::Escalations;
use super::incidents::{self, Incidents};
use super::items::{self, handle_click};
use super::onboarding::{self, Onboardings};
use super::requests::Requests;
use super::{Services, Setup};
use super::{audit, credits, digests, escalations, policy_explain, requests, steward_commands};
use crate::domain::command::{self, Command};
use crate::domain::credit_command::CreditCommand;
use crate::domain::identity::Person;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::item::{ItemKind, parse_action_id};
use crate::domain::messages;
use crate::domain::reply::Reply;
use crate::storage::effects::{Effects, InboxRecord, Written};
use crate::storage::{self, Tx};

/// How often an event is decided again when an item it changes was changed meanwhile.
/// Each attempt sees the others' changes, so a second conflict needs a third writer racing.
const MAX_ATTEMPTS: u32 = 3;

/// What one attempt at an inbound event came to.
enum Attempt {
    Done(Box<Reply>),
    /// An item changed between reading and writing it: nothing was written.
    Conflict,
}

/// One inbound event being handled: who, what, when.
pub struct Event<'a> {
    pub actor: &'a Person,
    pub inbound: &'a Inbound,
    pub now: DateTime<Utc>,
}

/// What the router hands a command that changes state: the read-only setup, the event's
/// transaction with its write set, and the event. Never the pool: everything the command
/// writes commits with the event's inbox row or not at all.
pub struct EventTx<'a, 'e> {
    pub setup: &'a Setup,
    pub tx: &'a mut Tx,
    pub effects: &'a mut Effects,
    pub event: &'a Event<'e>,
}

impl Services {
    /// Handles one inbound event and returns the reply for the actor. Never fails: errors
    /// become clear ephemeral replies, and nothing is written unless the event succeeds.
    pub async fn handle_inbound(&self, inbound: Inbound) -> Reply {
        let span = tracing::info_span!(
            "inbound",
            platform = %inbound.platform,
            actor = %inbound.actor,
            command = %inbound.summary(),
            dedupe_key = %inbound.dedupe_key,
        );
        let started = std::time::Instant::now();
        let kind = match &inbound.kind {
            InboundKind::Command { .. } => "command",
            InboundKind::Action { .. } => "click",
            InboundKind::Submission { .. } => "submission",
            InboundKind::RoomMessage(_) => "room_message",
        };
        let platform = inbound.platform;
        async move {
            let reply = self.handle_inbound_inner(&inbound).await;
            let outcome = match &reply {
                Ok(_) => "ok",
                Err(AppError::DatabaseUnavailable(_)) => "database_unavailable",
                Err(AppError::Unexpected(_)) => "error",
                Err(_) => "refused",
            };
            let seconds = started.elapsed().as_secs_f64();
            crate::telemetry::metrics::inbound(platform.as_str(), kind, outcome, seconds);
            match reply {
                Ok(reply) => reply,
                Err(err) => {
                    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
                    match &err {
                        // `{:#}`: the cause chain on one line, never a backtrace.
                        AppError::Unexpected(cause) => {
                            tracing::error!(reference, error = %format!("{cause:#}"), "inbound event failed")
                        }
                        AppError::DatabaseUnavailable(cause) => {
                            tracing::warn!(reference, error = %cause, "inbound event: database unavailable")
                        }
                        other => {
                            tracing::info!(reference, outcome = %other, "inbound event refused")
                        }
                    }
                    err.to_reply(&reference)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Whether an event with this dedupe key was already handled (adapters that answer out of
    /// band use it not to show a redelivery's answer twice). A failed lookup counts as no.
    pub async fn already_handled(&self, dedupe_key: &str) -> bool {
        storage::inbox::get_reply(self.pool(), dedupe_key).await.ok().flatten().is_some()
    }

    /// Before a button's prompt asks for text: the refusal to show instead, if the actor may
    /// not take the action as the item stands (a missing role, a closed item). Nobody types a
    /// note only to hear they may not resolve. Reads only; the click itself checks again.
    pub async fn refuse_before_prompt(
        &self,
        platform: crate::domain::ids::Platform,
        workspace: Option<&str>,
        user: &str,
        action: &str,
    ) -> Option<Reply> {
        let checked = self.check_before_prompt(platform, workspace, user, action).await;
        checked.err().map(|err| {
            if let AppError::Unexpected(cause) = &err {
                tracing::error!(error = ?cause, %action, "prompt check failed");
            }
            err.to_reply(&uuid::Uuid::new_v4().simple().to_string()[..8])
        })
    }

    async fn check_before_prompt(
        &self,
        platform: crate::domain::ids::Platform,
        workspace: Option<&str>,
        user: &str,
        action: &str,
    ) -> Result<(), AppError> {
        let actor = self
            .setup()
            .directory
            .resolve_in(platform, workspace, user)
            .ok_or_else(|| AppError::UnknownPerson { platform, user: user.to_owned() })?;
        let Some((kind, r)) = parse_action_id(action) else {
            return Err(AppError::Refused(messages::unknown_button(action)));
        };
        let now = self.clock().now();
        match kind {
            ItemKind::Escalation => {
                items::check_before_text::<Escalations>(self, actor, &r, now).await
            }
            ItemKind::Request => items::check_before_text::<Requests>(self, actor, &r, now).await,
            ItemKind::Credit => items::check_before_text::<Credits>(self, actor, &r, now).await,
            ItemKind::Incident => items::check_before_text::<Incidents>(self, actor, &r, now).await,
            ItemKind::AccessRequest => {
                items::check_before_text::<Access>(self, actor, &r, now).await
            }
            ItemKind::AccessReview => {
                items::check_before_text::<access::review::Reviews>(self, actor, &r, now).await
            }
            ItemKind::Onboarding => {
                items::check_before_text::<Onboardings>(self, actor, &r, now).await
            }
        }
    }

    /// The choices of the prompt behind `action` that match `typed` (at most `limit`), for
    /// `user` typing into a long menu (Slack's `external_select`). Someone Steward does not
    /// know, or an action that is not a known item's, gets none: nothing is written, and
    /// the submit is checked as any click is.
    pub async fn prompt_choices(
        &self,
        platform: crate::domain::ids::Platform,
        workspace: Option<&str>,
        user: &str,
        action: &str,
        typed: &str,
        limit: usize,
    ) -> Vec<crate::domain::reply::Choice> {
        let (Some(_actor), Some((kind, r))) =
            (self.setup().directory.resolve_in(platform, workspace, user), parse_action_id(action))
        else {
            return Vec::new();
        };
        let found = match kind {
            ItemKind::Escalation => items::choices::<Escalations>(self, &r, typed, limit).await,
            ItemKind::Request => items::choices::<Requests>(self, &r, typed, limit).await,
            ItemKind::Credit => items::choices::<Credits>(self, &r, typed, limit).await,
            ItemKind::Incident => items::choices::<Incidents>(self, &r, typed, limit).await,
            ItemKind::AccessRequest => items::choices::<Access>(self, &r, typed, limit).await,
            ItemKind::AccessReview => {
                items::choices::<access::review::Reviews>(self, &r, typed, limit).await
            }
            ItemKind::Onboarding => items::choices::<Onboardings>(self, &r, typed, limit).await,
        };
        found.unwrap_or_else(|err| {
            tracing::warn!(error = ?err, %action, "prompt choices not loaded");
            Vec::new()
        })
    }

    async fn handle_inbound_inner(&self, inbound: &Inbound) -> Result<Reply, AppError> {
        // The same user id in two workspaces is two people.
        let workspace = inbound.workspace.as_deref();
        let actor = self.setup().directory.resolve_in(inbound.platform, workspace, &inbound.actor);
        // A room capture (pin, reaction, edit, delete) is taken from anyone in the room, known
        // to Steward or not: the entry keeps the message's own author (issue 13). Commands and
        // clicks need a known person.
        let is_capture = matches!(inbound.kind, InboundKind::RoomMessage(_));
        let unknown =
            || AppError::UnknownPerson { platform: inbound.platform, user: inbound.actor.clone() };
        if actor.is_none() && !is_capture {
            return Err(unknown());
        }
        // Parse before touching the database: bad input writes nothing.
        let mut intent = Intent::parse(inbound)?;
        let now = self.clock().now();
        // Items are read without a lock and written only if unchanged (compare-and-set, see
        // `storage::Tx`): when someone else wrote one in between, nothing of this attempt
        // was written, and it is decided again on what is there now — which then sees the
        // other change (a stale card, "already acknowledged").
        for attempt in 1.. {
            match self.attempt(inbound, actor, intent, now).await? {
                Attempt::Done(reply) => return Ok(*reply),
                Attempt::Conflict if attempt < MAX_ATTEMPTS => {
                    tracing::info!(attempt, "an item changed meanwhile; deciding again");
                    intent = Intent::parse(inbound)?;
                }
                Attempt::Conflict => break,
            }
        }
        Err(AppError::Conflict(messages::changed_meanwhile()))
    }

    /// One attempt at an inbound event, in one unit of work.
    async fn attempt(
        &self,
        inbound: &Inbound,
        actor: Option<&Person>,
        intent: Intent,
        now: DateTime<Utc>,
    ) -> Result<Attempt, AppError> {
        let unknown =
            || AppError::UnknownPerson { platform: inbound.platform, user: inbound.actor.clone() };
        let mut tx = Tx::new(self.pool()).with_item_cache(self.item_cache().clone());
        let mut effects = self.effects();
        let routed = match (actor, intent) {
            (_, Intent::RoomMessage(message)) => {
                incidents::capture(self.setup(), &mut tx, inbound.platform, now, &message).await
            }
            (Some(actor), intent) => {
                let event = Event { actor, inbound, now };
                self.route(&mut tx, &mut effects, &event, intent).await
            }
            (None, _) => Err(unknown()),
        };
        let reply = match routed {
            Ok(reply) => reply,
            Err(err) => {
                tx.rollback().await?;
                // A refusal may only mean this is a redelivery of an intent that already
                // succeeded (a double click sees its own change); answer as the first time.
                if !matches!(err, AppError::Unexpected(_) | AppError::DatabaseUnavailable(_))
                    && let Some(stored) =
                        storage::inbox::get_reply(self.pool(), &inbound.dedupe_key).await?
                {
                    tracing::info!("duplicate delivery; answering with the stored reply");
                    return Ok(Attempt::Done(Box::new(stored)));
                }
                return Err(err);
            }
        };
        // The inbox row goes last, with the reply, in the same statement as the effects: a
        // duplicate (even a concurrent one) finds the key taken and none of its work is
        // written.
        let record = InboxRecord {
            dedupe_key: &inbound.dedupe_key,
            platform: inbound.platform.as_str(),
            actor: &inbound.actor,
            summary: &inbound.summary(),
            reply: &reply,
        };
        match storage::effects::write(tx.last().await?, &effects, Some(record), now).await? {
            Written::Done => {
                tx.commit().await?;
                self.item_cache().remember(&effects.items);
                Ok(Attempt::Done(Box::new(reply)))
            }
            Written::Duplicate => {
                tx.rollback().await?;
                tracing::info!("duplicate delivery; answering with the stored reply");
                let stored = storage::inbox::get_reply(self.pool(), &inbound.dedupe_key).await?;
                let reply = stored.unwrap_or_else(|| Reply::private(messages::already_handled()));
                Ok(Attempt::Done(Box::new(reply)))
            }
            Written::Conflict => {
                tx.rollback().await?;
                // One of the rows moved on since this process wrote it: read them afresh.
                self.item_cache().forget(&effects.items);
                Ok(Attempt::Conflict)
            }
        }
    }

    async fn route(
        &self,
        tx: &mut Tx,
        effects: &mut Effects,
        event: &Event<'_>,
        intent: Intent,
    ) -> Result<Reply, AppError> {
        // A command that changes state gets the setup with the event's transaction and write set.
        let setup = self.setup();
        macro_rules! work {
            () => {
                EventTx { setup, tx, effects, event }
            };
        }
        let command = match intent {
            Intent::Click { action, text } => {
                return self.route_click(tx, effects, event, &action, text.as_deref()).await;
            }
            Intent::Command(command) => command,
            Intent::RoomMessage(message) => {
                let platform = event.inbound.platform;
                return incidents::capture(setup, tx, platform, event.now, &message).await;
            }
        };
        match command {
            Command::Help => Ok(steward_commands::help()),
            Command::Whoami => Ok(steward_commands::whoami(setup, event)),
            Command::Status => steward_commands::status(tx).await,
            Command::Escalate { account, severity, summary } => {
                escalations::open(work!(), &account, severity, &summary).await
            }
            Command::Escalations { scope, status, page } => {
                escalations::list(setup, tx, event, scope, status, page).await
            }
            Command::Sla { id } => escalations::explain(tx, event, id).await,
            Command::EscalationShow { id } => {
                items::show::<Escalations>(setup, tx, event, id).await
            }
            Command::Credit(command) => self.route_credit(tx, effects, event, command).await,
            Command::Audit { account } => audit::history(setup, tx, event, &account).await,
            Command::Digest { name } => digests::preview(self, &name).await,
            Command::Mine => {
                let card = super::mine::card(setup, tx, event.actor, event.now).await?;
                Ok(Reply::private_card(card))
            }
            Command::Policy(question) => policy_explain::explain(setup, tx, event, &question).await,
            Command::DigestExplain { name } => digests::explain(self, &name),
            Command::Request(command) => requests::command(work!(), command).await,
            Command::Access(command) => access::command(work!(), command).await,
            Command::Onboard { account, plan } => onboarding::open(work!(), &account, &plan).await,
            Command::Onboarding { team } => onboarding::list(setup, tx, event, team.as_ref()).await,
            Command::Incident(command) => incidents::command(work!(), command).await,
        }
    }

    /// A click on any item's card: one match on the item kind of its action id.
    async fn route_click(
        &self,
        tx: &mut Tx,
        effects: &mut Effects,
        event: &Event<'_>,
        action: &str,
        typed: Option<&str>,
    ) -> Result<Reply, AppError> {
        let Some((kind, action_ref)) = parse_action_id(action) else {
            tracing::info!(%action, "click on an unknown action");
            return Err(AppError::Refused(messages::unknown_button(action)));
        };
        let (setup, r) = (self.setup(), &action_ref);
        match kind {
            ItemKind::Escalation => {
                handle_click::<Escalations>(setup, tx, effects, event, r, typed).await
            }
            ItemKind::Request => {
                handle_click::<Requests>(setup, tx, effects, event, r, typed).await
            }
            ItemKind::Credit => handle_click::<Credits>(setup, tx, effects, event, r, typed).await,
            ItemKind::AccessRequest => {
                handle_click::<Access>(setup, tx, effects, event, r, typed).await
            }
            ItemKind::AccessReview => {
                handle_click::<access::review::Reviews>(setup, tx, effects, event, r, typed).await
            }
            ItemKind::Onboarding => {
                handle_click::<Onboardings>(setup, tx, effects, event, r, typed).await
            }
            ItemKind::Incident => {
                handle_click::<Incidents>(setup, tx, effects, event, r, typed).await
            }
        }
    }

    async fn route_credit(
        &self,
        tx: &mut Tx,
        effects: &mut Effects,
        event: &Event<'_>,
        command: CreditCommand,
    ) -> Result<Reply, AppError> {
        // A command that changes state gets the setup with the event's transaction and write set.
        let setup = self.setup();
        macro_rules! work {
            () => {
                EventTx { setup, tx, effects, event }
            };
        }
        match command {
            CreditCommand::Open { kind, account, details } => {
                credits::open(work!(), kind, &account, details).await
            }
            CreditCommand::Edit { id, details } => credits::edit(work!(), id, details).await,
            CreditCommand::Cancel { id } => credits::cancel(work!(), id).await,
            CreditCommand::Show { id } => items::show::<Credits>(setup, tx, event, id).await,
            CreditCommand::List { filter, page } => {
                credits::list(setup, tx, event, &filter, page).await
            }
        }
    }
}

/// What the actor wants, parsed from the inbound event.
enum Intent {
    Command(Command),
    /// A button click, with the text entered in its prompt, if any.
    Click {
        action: String,
        text: Option<String>,
    },
    /// A room message for an incident's timeline.
    RoomMessage(crate::domain::incident::timeline::RoomMessage),
}

impl Intent {
    fn parse(inbound: &Inbound) -> Result<Intent, AppError> {
        use crate::domain::text_limit;
        // Control characters and oversized button ids are refused before anything else.
        let action = match &inbound.kind {
            InboundKind::Action { action } | InboundKind::Submission { action, .. } => Some(action),
            InboundKind::Command { .. } | InboundKind::RoomMessage(_) => None,
        };
        if let Some(action) = action {
            let chars = action.chars().count();
            if chars > text_limit::MAX_ACTION_CHARS {
                return Err(AppError::Refused(crate::domain::messages::action_too_long(chars)));
            }
            text_limit::check_control("button id", action).map_err(AppError::Refused)?;
        }
        if let InboundKind::Command { args, .. } = &inbound.kind {
            text_limit::check_control("command", args).map_err(AppError::Refused)?;
        }
        Ok(match &inbound.kind {
            InboundKind::Command { name, args } => Intent::Command(command::parse(name, args)?),
            InboundKind::Action { action } => Intent::Click { action: action.clone(), text: None },
            InboundKind::Submission { action, fields } => {
                let text = fields.get(crate::domain::reply::Prompt::FIELD).cloned();
                // A prompt's note or reason: refused before the database, like a bad command.
                let checked =
                    crate::domain::text_limit::check("text", text.as_deref().unwrap_or(""));
                checked.map_err(AppError::Refused)?;
                Intent::Click { action: action.clone(), text }
            }
            InboundKind::RoomMessage(message) => Intent::RoomMessage(message.clone()),
        })
    }
}
