//! The living-item kernel's use-case half (DESIGN.md §11): one click path and one save path
//! for every kind of item. A workflow implements [`Workflow`] — how to read a clicked verb,
//! its card, its refusals, its transition — and the kernel does the rest:
//!
//! ```text
//! click ─▶ decode verb ─▶ read row ─▶ version compare ─▶ stale? current card, privately
//!                                           └▶ workflow transition ─▶ save: audit record,
//!                                              compare-and-set row + projection, card update,
//!                                              thread lines, DMs, the workflow's timers
//!
//! The row is read without a lock and every write goes into the event's write set, written
//! in one statement that holds only if the row is still the version read (see `storage::Tx`);
//! otherwise the event is decided again, and then sees the other change.
//! ```

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::error::AppError;
use super::inbound::Event;
use super::{Services, Setup};
use crate::domain::action::ActionRef;
use crate::domain::audit::AuditEntry;
use crate::domain::identity::{Account, Person, Team};
use crate::domain::ids::{AccountKey, PersonKey, Platform, TeamKey};
use crate::domain::item::{LivingItem, Projection};
use crate::domain::reply::{Card, Choice, Message, Reply};
use crate::storage::effects::Effects;
use crate::storage::items::ItemWrite;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// Item rows a write set carries; a use case that writes more (an import, a review campaign
/// of many lists) writes the rest as it goes, inside its transaction. A click writes one or
/// two; the cap keeps one statement's parameters (12 or so per row) far below PostgreSQL's
/// 65,535 and its plan small.
const MAX_ITEMS_PER_WRITE_SET: usize = 16;

/// A change to persist: the item after a transition (version already bumped).
pub(crate) struct Change<T> {
    pub before: T,
    pub after: T,
    /// Person key, or [`SYSTEM_ACTOR`](crate::domain::item::SYSTEM_ACTOR) for timers.
    pub actor: String,
    /// The audit action, e.g. `acknowledge`.
    pub action: String,
    /// Lines for the card's thread.
    pub lines: Vec<String>,
    /// Further messages (pages, DMs).
    pub messages: Vec<NewOutboxMessage>,
}

impl<T: LivingItem> Change<T> {
    /// The change of `after` from `before` by `actor` doing `action`; bumps the version.
    pub fn new(before: T, mut after: T, actor: impl Into<String>, action: &str) -> Change<T> {
        after.bump_version();
        Change {
            before,
            after,
            actor: actor.into(),
            action: action.to_owned(),
            lines: Vec::new(),
            messages: Vec::new(),
        }
    }

    pub fn line(mut self, line: String) -> Self {
        self.lines.push(line);
        self
    }

    pub fn messages(mut self, messages: impl IntoIterator<Item = NewOutboxMessage>) -> Self {
        self.messages.extend(messages);
        self
    }
}

/// What a workflow tells the kernel about its items.
pub(crate) trait Workflow {
    type Item: LivingItem;
    type Action: Send + Sync;

    /// Reads a clicked verb, with the text typed into its prompt.
    fn decode(setup: &Setup, verb: &str, typed: &str) -> Result<Self::Action, AppError>;

    /// "There is no escalation #7."
    fn unknown(id: i64) -> String;

    /// Refuses `action` by `actor` if it makes no sense for `item` as it is, e.g. "already
    /// acknowledged by Sam", or a missing role: checked before a prompt asks for text, on a
    /// stale card, and again by the transition.
    fn check(
        setup: &Setup,
        item: &Self::Item,
        actor: &Person,
        action: &Self::Action,
        now: DateTime<Utc>,
    ) -> Result<(), AppError>;

    /// Refuses a prompted `verb` before its prompt asks for text: what does not depend on the
    /// text (roles, state). By default the verb is decoded with a stand-in text and checked;
    /// a workflow whose decode or check reads the text (a person to reassign to) says what
    /// to check instead.
    fn check_before_text(
        setup: &Setup,
        item: &Self::Item,
        actor: &Person,
        verb: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let action = Self::decode(setup, verb, "(to be typed)")?;
        Self::check(setup, item, actor, &action, now)
    }

    /// Everything a prompted `verb` on `item` offers to choose from (the people who may own
    /// it), for an adapter that loads a long list while the person types (Slack's
    /// `external_select`). The same list the card's prompt carries; a submitted choice is
    /// still checked by the transition. Verbs without choices offer none.
    fn choices(_setup: &Setup, _item: &Self::Item, _verb: &str) -> Vec<Choice> {
        Vec::new()
    }

    /// The transition of a click on the current card: the pure decision plus what the
    /// workflow adds (pages, DMs, authority bookkeeping). The kernel saves the change.
    async fn transition(
        setup: &Setup,
        tx: &mut Tx,
        effects: &mut Effects,
        actor: &Person,
        current: Self::Item,
        action: &Self::Action,
        now: DateTime<Utc>,
    ) -> Result<Change<Self::Item>, AppError>;

    /// Whether `action` runs under the item's row lock rather than being decided again when
    /// someone wrote first: one that creates other items (a war room's incident), so that
    /// racing clicks wait for the first instead of each reserving an id that the losers
    /// would leave unused (a gap in the numbers people see).
    fn locks(_action: &Self::Action) -> bool {
        false
    }

    /// What the clicker is told once it is saved.
    fn done(setup: &Setup, action: &Self::Action, saved: &Self::Item) -> String;

    /// The item's card as a reader in `zone` sees it.
    async fn card(
        setup: &Setup,
        tx: &mut Tx,
        item: &Self::Item,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Card, AppError>;

    /// "This changed since you looked", with whatever the workflow says of the current item.
    fn stale(setup: &Setup, item: &Self::Item, zone: Tz) -> String;

    /// Further channels the card is kept in besides the item's own (an incident's room
    /// channel): a copy posted once there and updated in place with every save, under its
    /// own living key ([`mirror_key`]).
    fn mirrors(_item: &Self::Item) -> Vec<String> {
        Vec::new()
    }

    /// The people whose home view (`/mine`, the Slack App Home) shows this item: its owner,
    /// who must decide it, its team's queue. Their homes are republished, debounced, when
    /// it is created or changes (`services::home`), as it was before and after the change.
    fn home_people(_setup: &Setup, _item: &Self::Item) -> Vec<PersonKey> {
        Vec::new()
    }

    /// The workflow's own follow-ups of every save (e.g. the next SLA check).
    fn after_save(
        _setup: &Setup,
        _effects: &mut Effects,
        _item: &Self::Item,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        Ok(())
    }
}

/// Handles a click on `<prefix>:<id>:<verb>:v<version>` of a `W` item.
pub(crate) async fn handle_click<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    action_ref: &ActionRef,
    typed: Option<&str>,
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    let action = W::decode(setup, &action_ref.verb, typed.map(str::trim).unwrap_or(""))?;
    // Read without a lock (from this process's copy when it holds the clicked version): the
    // save writes the row only if it is still this version (see `storage::Tx`), else the
    // whole event is decided again. An action that says it locks waits for the row instead.
    let (id, version) = (action_ref.id, action_ref.version);
    let read = match W::locks(&action) {
        true => storage::items::get_for_update(tx.conn().await?, id).await,
        false => storage::items::get_expecting(tx, id, version).await,
    };
    let current: W::Item = read?.ok_or_else(|| AppError::NotFound(W::unknown(id)))?;
    if version != current.version() {
        // The card was out of date (someone else acted first). If the action makes no sense
        // any more, say why; otherwise show the current card to decide again.
        W::check(setup, &current, actor, &action, now)?;
        return stale_reply::<W>(setup, tx, &current, actor.time_zone, now).await;
    }
    let change = W::transition(setup, tx, effects, actor, current, &action, now).await?;
    let saved = save::<W>(setup, tx, effects, change, now).await?;
    Ok(Reply::private(W::done(setup, &action, &saved)))
}

/// Refuses a click on a `W` item's prompted button before the prompt is shown (see
/// [`Workflow::check_before_text`]).
pub(crate) async fn check_before_text<W: Workflow>(
    services: &Services,
    actor: &Person,
    action_ref: &ActionRef,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let setup = services.setup();
    let item: W::Item = storage::items::get(services.pool(), action_ref.id)
        .await?
        .ok_or_else(|| AppError::NotFound(W::unknown(action_ref.id)))?;
    W::check_before_text(setup, &item, actor, &action_ref.verb, now)
}

/// The choices of a prompted verb on a `W` item that match `typed` (see
/// [`Workflow::choices`]), at most `limit`. Read without a lock: nothing is written.
pub(crate) async fn choices<W: Workflow>(
    services: &Services,
    action_ref: &ActionRef,
    typed: &str,
    limit: usize,
) -> Result<Vec<Choice>, AppError> {
    let setup = services.setup();
    let item: W::Item = storage::items::get(services.pool(), action_ref.id)
        .await?
        .ok_or_else(|| AppError::NotFound(W::unknown(action_ref.id)))?;
    let all = W::choices(setup, &item, &action_ref.verb);
    Ok(crate::domain::reply::matching(all, typed, limit))
}

/// A team the directory must know (an actor's, an owner's): missing is a broken
/// configuration, not the user's doing.
pub(crate) fn team_of<'a>(setup: &'a Setup, key: &TeamKey) -> Result<&'a Team, AppError> {
    setup
        .directory
        .team(key)
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("team {key} missing")))
}

/// The account a command names: unknown is the user's mistake, told in the shared words.
pub(crate) fn account_of<'a>(setup: &'a Setup, key: &AccountKey) -> Result<&'a Account, AppError> {
    setup.directory.account(key).ok_or_else(|| {
        AppError::Refused(crate::domain::messages::item::unknown_account(key.as_str()))
    })
}

/// Where a new item of `team` lives: on the event's platform, in the team's channel there,
/// else in the channel the command came from.
pub(crate) fn home_of(team: &Team, event: &Event<'_>) -> (Platform, String) {
    let platform = event.inbound.platform;
    let from = crate::domain::incident::room::bare_channel(&event.inbound.channel);
    let channel = team.channels.get(&platform).cloned().unwrap_or_else(|| from.to_owned());
    (platform, channel)
}

/// Saves a timer's change with `effects` (which may already hold follow-ups) in the job's
/// transaction; a failure is retried like any job failure.
pub(crate) async fn save_in_job<W: Workflow>(
    services: &Services,
    tx: &mut Tx,
    mut effects: Effects,
    change: Change<W::Item>,
) -> Result<(), super::jobs::JobError> {
    let setup = services.setup();
    use super::jobs::JobError;
    let now = services.clock().now();
    save::<W>(setup, tx, &mut effects, change, now).await.map_err(JobError::retry)?;
    storage::effects::write_all(tx.conn().await?, &effects, now).await.map_err(JobError::retry)
}

/// `<kind> show <id>`: the item's card, privately, times in the reader's zone.
pub(crate) async fn show<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    id: i64,
) -> Result<Reply, AppError> {
    let item: W::Item = storage::items::get(tx.read().await?, id)
        .await?
        .ok_or_else(|| AppError::NotFound(W::unknown(id)))?;
    let mut card = W::card(setup, tx, &item, event.actor.time_zone, event.now).await?;
    card.living_key = None;
    Ok(Reply { ephemeral: true, message: Message::card(card) })
}

/// The current card, privately, with the workflow's "this changed" line.
async fn stale_reply<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    current: &W::Item,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    let mut card = W::card(setup, tx, current, zone, now).await?;
    card.living_key = None;
    let text = W::stale(setup, current, zone);
    Ok(Reply { ephemeral: true, message: Message { text: Some(text), ..Message::card(card) } })
}

/// The domain's projection; a failure is a broken configuration, not the user's doing.
fn projection<T: LivingItem>(item: &T) -> Result<Projection, AppError> {
    item.projection()
        .map_err(|err| AppError::Unexpected(anyhow::anyhow!("{} {}: {err}", T::KIND, item.id())))
}

/// Chains an audit record onto `item` into `effects`.
pub(crate) fn audit<T: LivingItem>(
    effects: &mut Effects,
    item: &mut T,
    actor: impl Into<String>,
    action: &str,
    before: serde_json::Value,
    after: serde_json::Value,
    now: DateTime<Utc>,
) {
    let entry = AuditEntry {
        at: now,
        actor: actor.into(),
        subject: item.subject(),
        action: action.to_owned(),
        before,
        after,
    };
    let record = item.chain_audit(&effects.keys, entry);
    effects.audit.push(record);
}

/// Persists a change: the audit record, the compare-and-set write of the row with its
/// projection, the card update, thread lines, messages and the workflow's follow-ups, all
/// into `effects` (whose write fails as a whole if the row moved on).
pub(crate) async fn save<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    change: Change<W::Item>,
    now: DateTime<Utc>,
) -> Result<W::Item, AppError> {
    let mut people = W::home_people(setup, &change.before);
    let mut item = change.after;
    let (before, after) = (change.before.snapshot(), item.snapshot());
    audit(effects, &mut item, change.actor, &change.action, before, after, now);
    if defers(effects, &item) {
        effects.write_item(item_write(ItemWrite::update(&item, projection(&item)?), &item)?);
    } else if !storage::items::update(tx.conn().await?, &item, &projection(&item)?, now).await? {
        let zone = team_zone(setup, &item);
        return Err(AppError::Conflict(W::stale(setup, &item, zone)));
    }
    publish::<W>(setup, tx, effects, &item, &change.lines, change.messages, now).await?;
    people.extend(W::home_people(setup, &item));
    super::home::changed(setup, effects, people, now);
    Ok(item)
}

/// Writes a new item, whose first audit records are already chained onto it (see
/// [`audit`]), and publishes its card, all with the rest of `effects`. For an item whose only
/// key is the id reserved for it; one with a key of its own uses [`create_once`].
pub(crate) async fn create<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    item: &W::Item,
    lines: &[String],
    messages: Vec<NewOutboxMessage>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if defers(effects, item) {
        effects.write_item(item_write(ItemWrite::new_row(item, projection(item)?), item)?);
    } else {
        storage::items::insert(tx.conn().await?, item, &projection(item)?, now).await?;
    }
    announce::<W>(setup, tx, effects, item, lines, messages, now).await
}

/// [`create`] for an item with a unique key of its own (a request's source and external
/// id, an incident's room): its row is written now, and `false`, writing nothing else, says
/// a unique constraint refused it (a duplicate; a concurrent one waits for the first).
pub(crate) async fn create_once<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    item: &W::Item,
    lines: &[String],
    messages: Vec<NewOutboxMessage>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if !storage::items::insert(tx.conn().await?, item, &projection(item)?, now).await? {
        return Ok(false);
    }
    announce::<W>(setup, tx, effects, item, lines, messages, now).await?;
    Ok(true)
}

/// What follows a new item's row: its card, lines and messages, and the homes it appears on.
async fn announce<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    item: &W::Item,
    lines: &[String],
    messages: Vec<NewOutboxMessage>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    publish::<W>(setup, tx, effects, item, lines, messages, now).await?;
    super::home::changed(setup, effects, W::home_people(setup, item), now);
    Ok(())
}

/// Whether `item`'s row goes into the write set rather than being written now: while the set
/// has room, and always when it already holds the row (which is not written yet).
fn defers<T: LivingItem>(effects: &Effects, item: &T) -> bool {
    effects.items.len() < MAX_ITEMS_PER_WRITE_SET || effects.holds_item(T::KIND, item.id())
}

/// A failure to serialise an item is a bug, not the user's doing.
fn item_write<T: LivingItem>(
    write: serde_json::Result<ItemWrite>,
    item: &T,
) -> Result<ItemWrite, AppError> {
    write.map_err(|err| AppError::Unexpected(anyhow::anyhow!("{} {}: {err}", T::KIND, item.id())))
}

/// The card (posted once, then updated in place), its thread lines, the messages and the
/// workflow's follow-ups.
async fn publish<W: Workflow>(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    item: &W::Item,
    lines: &[String],
    messages: Vec<NewOutboxMessage>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let card = W::card(setup, tx, item, team_zone(setup, item), now).await?;
    let post_to = |target: &str, message: Message, dedupe_key: String| NewOutboxMessage {
        platform: item.platform().as_str().to_owned(),
        kind: OutboxKind::Post,
        target: target.to_owned(),
        message,
        dedupe_key,
        not_before: now,
        workspace: item.workspace().map(str::to_owned),
    };
    let post = |message: Message, dedupe_key: String| post_to(item.channel(), message, dedupe_key);
    let version = item.version();
    for channel in W::mirrors(item) {
        let copy =
            Card { living_key: Some(mirror_key(&item.card_key(), &channel)), ..card.clone() };
        let dedupe_key = item.key(format_args!("card:v{version}@{channel}"));
        effects.send(post_to(&channel, Message::card(copy), dedupe_key));
    }
    effects.send(post(Message::card(card), item.key(format_args!("card:v{version}"))));
    for (index, line) in lines.iter().enumerate() {
        let message = Message { thread_of: Some(item.card_key()), ..Message::text(line.clone()) };
        effects.send(post(message, item.key(format_args!("line:v{version}:{index}"))));
    }
    effects.outbox.extend(messages);
    W::after_save(setup, effects, item, now)
}

/// The living key of the copy of card `card_key` kept in `channel` (see
/// [`Workflow::mirrors`]).
pub(crate) fn mirror_key(card_key: &str, channel: &str) -> String {
    format!("{card_key}@{channel}")
}

/// The team's zone: cards are read by the whole channel.
pub(crate) fn team_zone<T: LivingItem>(setup: &Setup, item: &T) -> Tz {
    setup.directory.team(item.team()).map(|t| t.time_zone).unwrap_or(Tz::UTC)
}

/// A direct message about `item` to a person on the item's platform; nothing if they have
/// no identity there. `what` completes the dedupe key `<prefix>:<id>:<what>`.
pub(crate) fn direct_message<T: LivingItem>(
    setup: &Setup,
    item: &T,
    to: &PersonKey,
    text: String,
    what: impl std::fmt::Display,
    now: DateTime<Utc>,
) -> Option<NewOutboxMessage> {
    let user = setup.directory.person(to)?.user_on(item.platform())?;
    Some(NewOutboxMessage {
        platform: item.platform().as_str().to_owned(),
        kind: OutboxKind::Dm,
        target: user.to_owned(),
        message: Message::text(text),
        dedupe_key: item.key(what),
        not_before: now,
        workspace: item.workspace().map(str::to_owned),
    })
}

/// An item's owner (if any) and everyone in its team (whose home shows the team's queue):
/// the usual [`Workflow::home_people`].
pub(crate) fn owner_and_team(
    setup: &Setup,
    owner: Option<&PersonKey>,
    team: &TeamKey,
) -> Vec<PersonKey> {
    let members = setup.directory.people().filter(|p| &p.team == team).map(|p| p.key.clone());
    owner.cloned().into_iter().chain(members).collect()
}

/// The display name of a person key (the key itself for someone unknown).
pub(crate) fn name_of(setup: &Setup, key: &PersonKey) -> String {
    setup.directory.person(key).map(|p| p.display_name.clone()).unwrap_or_else(|| key.to_string())
}
