//! The write set of one transaction, written in a single statement.
//!
//! A transition produces audit records, outgoing messages and timers, and an inbound event
//! also its inbox row with the reply. Writing them one statement each costs a round trip
//! apiece; collected into [`Effects`] they go to Postgres as one statement of data-modifying
//! CTEs over arrays, so a whole transition costs about as many round trips as the bare
//! "two inserts and an update" it is measured against (see `steward bench`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;

use super::authority::AuthorityClaim;
use super::items::ItemWrite;
use super::jobs::NewJob;
use super::outbox::NewOutboxMessage;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::audit::AuditRecord;
use crate::domain::audit_key::AuditKeys;
use crate::domain::reply::{Message, Reply};

/// Everything a transition writes: its item rows, authority claim, audit records, messages,
/// timers.
#[derive(Debug)]
pub struct Effects {
    /// Item rows to insert or compare-and-set, at most one write per item.
    pub items: Vec<ItemWrite>,
    /// An approval's claim on its approver's monthly authority, compare-and-set like the
    /// item rows.
    pub authority: Option<AuthorityClaim>,
    /// Chained records for subjects whose chain head lives in their own row.
    pub audit: Vec<AuditRecord>,
    pub outbox: Vec<NewOutboxMessage>,
    pub jobs: Vec<NewJob>,
    /// Home views to republish, scheduled in the same statement as the rest.
    pub homes: Option<HomeRepublish>,
    /// The keys the audit records are chained under. No `Default`: a write set made without
    /// the configured keys would chain plain SHA-256 records, so it comes from
    /// `Services::effects`.
    pub keys: Arc<AuditKeys>,
}

impl Effects {
    /// An empty write set whose audit records are chained under `keys`.
    pub fn new(keys: Arc<AuditKeys>) -> Effects {
        Effects {
            items: Vec::new(),
            authority: None,
            audit: Vec::new(),
            outbox: Vec::new(),
            jobs: Vec::new(),
            homes: None,
            keys,
        }
    }

    /// Adds an item row to write. An item written twice in one write set is written once,
    /// with the later content (see [`ItemWrite::then`]).
    pub fn write_item(&mut self, write: ItemWrite) {
        let same = |w: &&mut ItemWrite| (w.kind, w.id) == (write.kind, write.id);
        match self.items.iter_mut().find(same) {
            Some(earlier) => earlier.then(write),
            None => self.items.push(write),
        }
    }

    /// Adds `people` to the homes to republish in the debounce window that `homes` names
    /// (one window per write set: the first change's).
    pub fn republish_homes(&mut self, homes: HomeRepublish) {
        match &mut self.homes {
            Some(pending) => pending.people.extend(homes.people),
            None => self.homes = Some(homes),
        }
    }

    /// Whether the write set holds a write of item `id` of `kind`.
    pub fn holds_item(&self, kind: crate::domain::item::ItemKind, id: i64) -> bool {
        self.items.iter().any(|w| w.kind == kind && w.id == id)
    }

    /// Adds an approval's claim on authority (one per write set: one approval per click).
    pub fn claim_authority(&mut self, claim: AuthorityClaim) {
        self.authority = Some(claim);
    }

    pub fn send(&mut self, message: NewOutboxMessage) {
        self.outbox.push(message);
    }

    pub fn schedule(&mut self, job: NewJob) {
        self.jobs.push(job);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.authority.is_none()
            && self.audit.is_empty()
            && self.outbox.is_empty()
            && self.jobs.is_empty()
            && self.homes.is_none()
    }
}

/// The republish of the home views of `people` (person keys): job `kind` for each of them
/// who opened their home, one per viewer and debounce `window` (dedupe key
/// `home:<platform>:[<workspace>:]<user>:<window>`), due at `run_at`, the window's end.
#[derive(Debug, Clone)]
pub struct HomeRepublish {
    pub kind: &'static str,
    pub people: BTreeSet<String>,
    pub window: i64,
    pub run_at: DateTime<Utc>,
}

/// The inbox row of the inbound event that caused the effects.
#[derive(Debug)]
pub struct InboxRecord<'a> {
    pub dedupe_key: &'a str,
    pub platform: &'a str,
    pub actor: &'a str,
    pub summary: &'a str,
    pub reply: &'a Reply,
}

/// How a write set fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// All of it is written.
    Done,
    /// None of it: the inbox row's dedupe key was already recorded, the event is a duplicate.
    Duplicate,
    /// None of it: an item row was no longer the version it was read at (someone else
    /// wrote it first), or PostgreSQL broke a deadlock by aborting the statement (two
    /// approvals by one approver in two zones each hold the running total the other
    /// needs). Decide again on what is there now.
    Conflict,
}

/// The SQLSTATEs the statement fails itself with (see the `write_set_abort` migration).
const DUPLICATE: &str = "SWDUP";
const CONFLICT: &str = "SWCAS";
/// `deadlock_detected`: the statement was the victim, and none of it was written.
const DEADLOCK: &str = "40P01";

/// Writes `effects` (and the inbox row, if given) in one statement, all of it or nothing:
/// when the inbox row's dedupe key is taken, or an item row moved on, the statement fails
/// itself and says which ([`Written`]). So the statement needs no transaction around it to
/// be atomic (see [`Tx`](super::Tx)); inside one, the caller rolls back on anything but
/// [`Written::Done`]. A concurrent duplicate or writer blocks on the key or row until the
/// first ends.
///
/// The statement holds only the parts that have rows: a data-modifying CTE costs its table
/// and every index opened and locked even when it inserts nothing, which is most of the cost
/// of a small write set. The few shapes this makes are each prepared once per connection.
/// The messages go to `outbox_fanouts` as one row (see its migration).
pub async fn write(
    conn: &mut PgConnection,
    effects: &Effects,
    inbox: Option<InboxRecord<'_>>,
    now: DateTime<Utc>,
) -> sqlx::Result<Written> {
    match write_statement(conn, effects, inbox, now).await {
        Ok(()) => Ok(Written::Done),
        Err(err) => match err.as_database_error().and_then(|e| e.code()).as_deref() {
            Some(DUPLICATE) => Ok(Written::Duplicate),
            Some(CONFLICT | DEADLOCK) => Ok(Written::Conflict),
            _ => Err(err),
        },
    }
}

/// Writes `effects` (no inbox row) in one statement, all of it or nothing. An item row that
/// moved on fails it with the database error `SWCAS` — for a job, one more attempt.
pub async fn write_all(
    conn: &mut PgConnection,
    effects: &Effects,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    write_statement(conn, effects, None, now).await
}

async fn write_statement(
    conn: &mut PgConnection,
    effects: &Effects,
    inbox: Option<InboxRecord<'_>>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if effects.is_empty() && inbox.is_none() {
        return Ok(());
    }
    let (audit, outbox, jobs) = (&effects.audit, &effects.outbox, &effects.jobs);
    let homes = effects.homes.as_ref().filter(|h| !h.people.is_empty());
    let mut parts: Vec<String> = Vec::new();
    // The item writes first, each returning a row if it held; the audit records are inserted
    // only if all held, so a writer that lost the race never takes the next place in an
    // item's chain (which would fail on the chain's unique key instead).
    let mut first = FIXED_PARAMETERS + 1;
    let mut held = Vec::new();
    for (index, item) in effects.items.iter().enumerate() {
        let name = format!("item_{index}");
        parts.push(item.cte(&name, first));
        first += item.parameters();
        held.push(format!("(SELECT count(*) FROM {name})"));
    }
    let claim = effects.authority.as_ref();
    if claim.is_some() {
        held.push("(SELECT count(*) FROM claim_total)".to_owned());
    }
    let all_held = match held.len() {
        0 => None,
        n => Some(format!("{} = {n}", held.join(" + "))),
    };
    if let (Some(_), Some(held)) = (claim, &all_held) {
        parts.extend(AuthorityClaim::ctes(first, held));
    }
    if inbox.is_some() {
        parts.push(
            "inbox_row AS (
                 INSERT INTO inbox (dedupe_key, platform, actor, summary, received_at, reply)
                 VALUES ($2, $3, $4, $5, $1, $6)
                 ON CONFLICT (dedupe_key) DO NOTHING
                 RETURNING 1)"
                .to_owned(),
        );
    }
    if !audit.is_empty() {
        let gate = all_held.as_deref().map_or(String::new(), |held| format!(" WHERE {held}"));
        parts.push(format!(
            "audit_rows AS (
                 INSERT INTO audit_log (at, actor, subject, subject_seq, action, before, after,
                                        prev_hash, hash, key_id)
                 SELECT * FROM UNNEST($7::timestamptz[], $8::text[], $9::text[], $10::bigint[],
                                      $11::text[], $12::jsonb[], $13::jsonb[], $14::text[],
                                      $15::text[], $16::text[]) AS a{gate})"
        ));
    }
    if !outbox.is_empty() {
        parts.push(
            "outbox_row AS (
                 INSERT INTO outbox_fanouts (platforms, kinds, targets, payloads, payload_of,
                                             living_keys, dedupe_keys, not_befores,
                                             workspaces, created_at)
                 VALUES ($17, $18, $19, $20, $34, $21, $22, $23, $33, $1))"
                .to_owned(),
        );
    }
    // Timers and home republishes are both job rows: one insert for both, so the statement
    // opens the jobs table and its indexes once.
    let mut job_sources = Vec::new();
    if !jobs.is_empty() {
        job_sources.push(
            "SELECT k, p, d, r, m
             FROM UNNEST($24::text[], $25::jsonb[], $26::text[], $27::timestamptz[],
                         $28::integer[]) AS j(k, p, d, r, m)",
        );
    }
    if homes.is_some() {
        job_sources.push(
            "SELECT $29, jsonb_build_object('platform', platform, 'user', user_id,
                                            'workspace', NULLIF(workspace, '')),
                    'home:' || platform || ':'
                        || CASE WHEN workspace = '' THEN '' ELSE workspace || ':' END
                        || user_id || ':' || $31::bigint, $32, 3
             FROM home_viewers WHERE person_key = ANY($30::text[])",
        );
    }
    if !job_sources.is_empty() {
        parts.push(format!(
            "job_rows AS (
                 INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at)
                 SELECT k, p, d, r, m, $1 FROM ({}) AS due(k, p, d, r, m)
                 ON CONFLICT (dedupe_key) DO NOTHING)",
            job_sources.join("\n UNION ALL ")
        ));
    }
    if parts.is_empty() {
        return Ok(());
    }
    // The duplicate first: a redelivery whose item has moved on is still a redelivery.
    let mut refusals = Vec::new();
    if inbox.is_some() {
        refusals.push(format!(
            "WHEN (SELECT count(*) FROM inbox_row) = 0 THEN steward_abort_write_set('{DUPLICATE}')"
        ));
    }
    if let Some(held) = &all_held {
        refusals.push(format!("WHEN NOT ({held}) THEN steward_abort_write_set('{CONFLICT}')"));
    }
    let result = match refusals.is_empty() {
        true => "1::bigint".to_owned(),
        false => format!("CASE {} ELSE 1 END", refusals.join(" ")),
    };
    let sql = format!("WITH {} SELECT {result}", parts.join(",\n"));
    // Placeholders keep their numbers whichever parts are present; a part left out leaves
    // its parameters unused, and they are still bound (empty arrays, text nulls) with the
    // types sqlx declares, so every shape takes the same parameter list.
    let payloads = SharedPayloads::of(outbox);
    let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(now);
    query = match &inbox {
        Some(i) => query
            .bind(i.dedupe_key)
            .bind(i.platform)
            .bind(i.actor)
            .bind(i.summary)
            .bind(Json(i.reply)),
        None => query
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>),
    };
    query = query
        .bind(audit.iter().map(|r| r.entry.at).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.entry.actor.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.entry.subject.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.subject_seq).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.entry.action.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| Json(&r.entry.before)).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| Json(&r.entry.after)).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.prev_hash.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.hash.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|r| r.key_id.as_deref()).collect::<Vec<_>>())
        .bind(outbox.iter().map(|m| m.platform.as_str()).collect::<Vec<_>>())
        .bind(outbox.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>())
        .bind(outbox.iter().map(|m| m.target.as_str()).collect::<Vec<_>>())
        .bind(payloads.distinct.iter().map(|m| Json::<&Message>(m)).collect::<Vec<_>>())
        .bind(outbox.iter().map(|m| m.message.living_key()).collect::<Vec<_>>())
        .bind(outbox.iter().map(|m| m.dedupe_key.as_str()).collect::<Vec<_>>())
        .bind(outbox.iter().map(|m| m.not_before).collect::<Vec<_>>())
        .bind(jobs.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>())
        .bind(jobs.iter().map(|j| Json(&j.payload)).collect::<Vec<_>>())
        .bind(jobs.iter().map(|j| j.dedupe_key.as_deref()).collect::<Vec<_>>())
        .bind(jobs.iter().map(|j| j.run_at).collect::<Vec<_>>())
        .bind(jobs.iter().map(|j| j.max_attempts).collect::<Vec<_>>())
        .bind(homes.map_or("", |h| h.kind))
        .bind(
            homes
                .map(|h| h.people.iter().map(String::as_str).collect::<Vec<_>>())
                .unwrap_or_default(),
        )
        .bind(homes.map_or(0, |h| h.window))
        .bind(homes.map_or(now, |h| h.run_at))
        .bind(outbox.iter().map(|m| m.workspace.as_deref()).collect::<Vec<_>>())
        .bind(payloads.of);
    for item in &effects.items {
        query = item.bind(query);
    }
    if let Some(claim) = claim {
        query = claim.bind(query);
    }
    query.fetch_one(conn).await.map(|_| ())
}

/// The parameters every shape binds (`$1` … `$34`); the item writes' follow, then the
/// authority claim's.
const FIXED_PARAMETERS: usize = 34;

/// The write set's message payloads, each distinct one once (a credit asks every approver
/// with the same text: one payload, not one per approver), and for each message the 1-based
/// position of its payload, as `outbox_fanouts` stores them.
struct SharedPayloads<'a> {
    distinct: Vec<&'a Message>,
    of: Vec<i32>,
}

impl<'a> SharedPayloads<'a> {
    fn of(outbox: &'a [NewOutboxMessage]) -> SharedPayloads<'a> {
        let mut shared =
            SharedPayloads { distinct: Vec::new(), of: Vec::with_capacity(outbox.len()) };
        for message in outbox {
            // A write set holds a few distinct messages: a linear search beats hashing them.
            let position = match shared.distinct.iter().position(|m| **m == message.message) {
                Some(position) => position,
                None => {
                    shared.distinct.push(&message.message);
                    shared.distinct.len() - 1
                }
            };
            shared.of.push(position as i32 + 1);
        }
        shared
    }
}
