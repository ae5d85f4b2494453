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

use super::jobs::NewJob;
use super::outbox::NewOutboxMessage;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::audit::AuditRecord;
use crate::domain::audit_key::AuditKeys;
use crate::domain::reply::{Message, Reply};

/// Everything a transition writes besides its aggregate row.
#[derive(Debug)]
pub struct Effects {
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
        Effects { audit: Vec::new(), outbox: Vec::new(), jobs: Vec::new(), homes: None, keys }
    }

    /// Adds `people` to the homes to republish in the debounce window that `homes` names
    /// (one window per write set: the first change's).
    pub fn republish_homes(&mut self, homes: HomeRepublish) {
        match &mut self.homes {
            Some(pending) => pending.people.extend(homes.people),
            None => self.homes = Some(homes),
        }
    }

    pub fn send(&mut self, message: NewOutboxMessage) {
        self.outbox.push(message);
    }

    pub fn schedule(&mut self, job: NewJob) {
        self.jobs.push(job);
    }

    pub fn is_empty(&self) -> bool {
        self.audit.is_empty()
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

/// Writes `effects` (and the inbox row, if given) in one statement. Returns `false` when the
/// inbox row's dedupe key was already recorded: the event is a duplicate and the caller must
/// roll back. A concurrent duplicate blocks on the key until the first transaction ends.
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
) -> sqlx::Result<bool> {
    if effects.is_empty() && inbox.is_none() {
        return Ok(true);
    }
    let (audit, outbox, jobs) = (&effects.audit, &effects.outbox, &effects.jobs);
    let homes = effects.homes.as_ref().filter(|h| !h.people.is_empty());
    let mut parts: Vec<&str> = Vec::new();
    if inbox.is_some() {
        parts.push(
            "inbox_row AS (
                 INSERT INTO inbox (dedupe_key, platform, actor, summary, received_at, reply)
                 VALUES ($2, $3, $4, $5, $1, $6)
                 ON CONFLICT (dedupe_key) DO NOTHING
                 RETURNING 1)",
        );
    }
    if !audit.is_empty() {
        parts.push(
            "audit_rows AS (
                 INSERT INTO audit_log (at, actor, subject, subject_seq, action, before, after,
                                        prev_hash, hash, key_id)
                 SELECT * FROM UNNEST($7::timestamptz[], $8::text[], $9::text[], $10::bigint[],
                                      $11::text[], $12::jsonb[], $13::jsonb[], $14::text[],
                                      $15::text[], $16::text[]))",
        );
    }
    if !outbox.is_empty() {
        parts.push(
            "outbox_row AS (
                 INSERT INTO outbox_fanouts (platforms, kinds, targets, payloads, living_keys,
                                             dedupe_keys, not_befores, workspaces, created_at)
                 VALUES ($17, $18, $19, $20, $21, $22, $23, $33, $1))",
        );
    }
    if !jobs.is_empty() {
        parts.push(
            "job_rows AS (
                 INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at)
                 SELECT k, p, d, r, m, $1
                 FROM UNNEST($24::text[], $25::jsonb[], $26::text[], $27::timestamptz[],
                             $28::integer[]) AS j(k, p, d, r, m)
                 ON CONFLICT (dedupe_key) DO NOTHING)",
        );
    }
    if homes.is_some() {
        parts.push(
            "home_rows AS (
                 INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at)
                 SELECT $29, jsonb_build_object('platform', platform, 'user', user_id,
                                                'workspace', NULLIF(workspace, '')),
                        'home:' || platform || ':'
                            || CASE WHEN workspace = '' THEN '' ELSE workspace || ':' END
                            || user_id || ':' || $31::bigint, $32, 3, $1
                 FROM home_viewers WHERE person_key = ANY($30::text[])
                 ON CONFLICT (dedupe_key) DO NOTHING)",
        );
    }
    if parts.is_empty() {
        return Ok(true);
    }
    let result = if inbox.is_some() { "count(*) FROM inbox_row" } else { "1::bigint" };
    let sql = format!("WITH {} SELECT {result}", parts.join(",\n"));
    // Placeholders keep their numbers whichever parts are present; a part left out leaves
    // its parameters unused, and they are still bound (empty arrays, text nulls) with the
    // types sqlx declares, so every shape takes the same parameter list.
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
        .bind(outbox.iter().map(|m| Json::<&Message>(&m.message)).collect::<Vec<_>>())
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
        .bind(outbox.iter().map(|m| m.workspace.as_deref()).collect::<Vec<_>>());
    let inserted = query.fetch_one(conn).await?;
    Ok(inbox.is_none() || inserted == 1)
}
