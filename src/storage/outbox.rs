//! The outbox: messages written with the state change that caused them, sent later by the
//! dispatcher (`scheduler::outbox`).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgExecutor, PgPool};

use crate::domain::reply::{Message, MessageRef};

/// How a message is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    /// To a channel; a card with a living key is posted once and then updated in place.
    Post,
    /// A direct message to a platform user id.
    Dm,
    /// A signed HTTP call to an outside system (`scheduler::webhooks`), under the platform
    /// [`WEBHOOK_PLATFORM`]: the message text is the JSON body, `thread_of` the item the
    /// outcome is reported to, the target the system's key.
    Webhook,
    /// A step of making or closing a war room (`domain::incident::RoomOp`, as JSON in the
    /// message text) through the platform's `ChatPort::room`.
    Room,
    /// A person's home view (Slack's App Home, `views.publish`): the target is the platform
    /// user, the message's card the whole view.
    Home,
}

/// The outbox "platform" of webhook calls: no chat dispatcher claims it.
pub const WEBHOOK_PLATFORM: &str = "webhook";

impl OutboxKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Post => "post",
            OutboxKind::Dm => "dm",
            OutboxKind::Webhook => "webhook",
            OutboxKind::Room => "room",
            OutboxKind::Home => "home",
        }
    }

    fn parse(raw: &str) -> OutboxKind {
        match raw {
            "dm" => OutboxKind::Dm,
            "webhook" => OutboxKind::Webhook,
            "room" => OutboxKind::Room,
            "home" => OutboxKind::Home,
            _ => OutboxKind::Post,
        }
    }
}

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewOutboxMessage {
    pub platform: String,
    pub kind: OutboxKind,
    /// Channel id or platform user id.
    pub target: String,
    pub message: Message,
    /// Unique per intended message: enqueueing the same key twice sends once.
    pub dedupe_key: String,
    pub not_before: DateTime<Utc>,
    /// The workspace it is sent in (Slack's team id: whose token sends it); `None` for the
    /// default workspace, the environment's token.
    pub workspace: Option<String>,
}

/// A claimed message, ready to send.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    pub platform: String,
    pub kind: OutboxKind,
    pub target: String,
    pub message: Message,
    /// Claims that reached the platform (or may have): pacing and rate-limit waits are
    /// handed back with [`defer`] and do not count.
    pub attempts: i32,
    /// What it was enqueued as (a page's key names its escalation and step).
    pub dedupe_key: String,
    /// When it was enqueued: its time budget for retries counts from here.
    pub created_at: DateTime<Utc>,
    /// The workspace it is sent in ([`NewOutboxMessage::workspace`]).
    pub workspace: Option<String>,
}

#[derive(FromRow)]
struct OutboxRow {
    id: i64,
    platform: String,
    kind: String,
    target: String,
    payload: Json<Message>,
    attempts: i32,
    dedupe_key: String,
    created_at: DateTime<Utc>,
    workspace: Option<String>,
}

/// Enqueues a message; returns `false` if its dedupe key was already used.
pub async fn enqueue(
    conn: &mut sqlx::PgConnection,
    new: &NewOutboxMessage,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO outbox (platform, kind, target, payload, living_key, dedupe_key, not_before,
                             created_at, workspace)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&new.platform)
    .bind(new.kind.as_str())
    .bind(&new.target)
    .bind(Json(&new.message))
    .bind(new.message.living_key())
    .bind(&new.dedupe_key)
    .bind(new.not_before)
    .bind(now)
    .bind(&new.workspace)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Marks a claimed living card superseded if a newer version of it is waiting, so a burst
/// of changes produces one update, not a stream of them. Done at send time rather than at
/// enqueue time, so that writers never scan the outbox.
pub async fn supersede_if_newer(
    executor: impl PgExecutor<'_>,
    id: i64,
    platform: &str,
    living_key: &str,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE outbox SET state = 'superseded', locked_until = NULL
         WHERE id = $1 AND EXISTS (
             SELECT 1 FROM outbox n
             WHERE n.platform = $2 AND n.living_key = $3 AND n.state = 'pending' AND n.id > $1)",
    )
    .bind(id)
    .bind(platform)
    .bind(living_key)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The advisory lock that makes one dispatcher at a time fan out (see [`fan_out`]).
const FAN_OUT_LOCK: i64 = 0x5354_4557_4f55_5401;
/// Most write sets fanned out in one transaction.
const FAN_OUT_LIMIT: i64 = 500;

/// Turns the write sets in `outbox_fanouts` into outbox rows, one per message, in the order
/// they were written (each with its payload: `payloads[payload_of[i]]`, or `payloads[i]` in
/// rows from before payloads were shared); returns how many rows were made. A message whose dedupe key is already
/// in the outbox is dropped, as it was when write sets inserted their messages directly.
///
/// One dispatcher at a time (an advisory lock; the others go on to claim), so that rows get
/// their ids in write-set order: the claim's per-card ordering (`id`) then is the order in
/// which the changes were made, because two changes of one item are serialised by its row
/// lock and the later write set is written only after the earlier one committed.
pub async fn fan_out(pool: &PgPool) -> sqlx::Result<u64> {
    let waiting: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox_fanouts)").fetch_one(pool).await?;
    if !waiting {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(FAN_OUT_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !ours {
        return Ok(0);
    }
    let made = sqlx::query(
        "WITH taken AS (
             DELETE FROM outbox_fanouts
             WHERE id IN (SELECT id FROM outbox_fanouts ORDER BY id LIMIT $1)
             RETURNING *)
         INSERT INTO outbox (platform, kind, target, payload, living_key, dedupe_key,
                             not_before, workspace, created_at)
         SELECT m.platform, m.kind, m.target,
                t.payloads[coalesce(m.payload_of, m.position)], m.living_key, m.dedupe_key,
                m.not_before, m.workspace, t.created_at
         FROM taken t,
              UNNEST(t.platforms, t.kinds, t.targets, t.payload_of, t.living_keys,
                     t.dedupe_keys, t.not_befores, t.workspaces)
                  WITH ORDINALITY AS m(platform, kind, target, payload_of, living_key,
                                       dedupe_key, not_before, workspace, position)
         ORDER BY t.id, m.position
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(FAN_OUT_LIMIT)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(made)
}

/// Claims up to `limit` due messages for `platforms` with a lease until `lease_until`, after
/// fanning out the write sets waiting (see [`fan_out`]). A message waits while an earlier
/// message for the same living key is pending, so a card is never updated before it was
/// posted, and two dispatchers never post the same card twice.
pub async fn claim_due(
    pool: &PgPool,
    platforms: &[String],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<OutboxMessage>> {
    fan_out(pool).await?;
    let rows: Vec<OutboxRow> = sqlx::query_as(
        "UPDATE outbox SET locked_until = $3, attempts = attempts + 1
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE o.state = 'pending' AND o.not_before <= $2 AND o.platform = ANY($1)
               AND (o.locked_until IS NULL OR o.locked_until < $2)
               AND NOT EXISTS (
                   SELECT 1 FROM outbox e
                   WHERE o.living_key IS NOT NULL AND e.platform = o.platform
                     AND e.living_key = o.living_key AND e.state = 'pending' AND e.id < o.id)
             ORDER BY o.not_before, o.id
             LIMIT $4
             FOR UPDATE SKIP LOCKED)
         RETURNING id, platform, kind, target, payload, attempts, dedupe_key, created_at,
             workspace",
    )
    .bind(platforms)
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    // RETURNING has no order; send in the order the messages were meant to go out.
    let mut rows = rows;
    rows.sort_by_key(|row| row.id);
    Ok(rows
        .into_iter()
        .map(|row| OutboxMessage {
            id: row.id,
            platform: row.platform,
            kind: OutboxKind::parse(&row.kind),
            target: row.target,
            message: row.payload.0,
            attempts: row.attempts,
            dedupe_key: row.dedupe_key,
            created_at: row.created_at,
            workspace: row.workspace,
        })
        .collect())
}

pub async fn mark_sent(
    executor: impl PgExecutor<'_>,
    id: i64,
    platform_ref: Option<&MessageRef>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $3, platform_ref = $2, locked_until = NULL,
             last_error = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(platform_ref.map(Json))
    .bind(now)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Puts a message back to be tried again no earlier than `not_before`.
pub async fn mark_retry(
    executor: impl PgExecutor<'_>,
    id: i64,
    not_before: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET not_before = $2, last_error = $3, locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(not_before)
    .bind(error)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Puts a message back unsent because the platform's pacing said wait: this claim does not
/// count as an attempt.
pub async fn defer(
    executor: impl PgExecutor<'_>,
    id: i64,
    not_before: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET not_before = $2, attempts = attempts - 1, locked_until = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(not_before)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Hands claimed messages back at shutdown so the next dispatcher (this process after a
/// restart, or another replica) takes them at once instead of after the lease. `tried`:
/// the send was under way, so its outcome is unknown and the attempt stays counted (the
/// next try then looks for the earlier one before posting); otherwise it never left.
pub async fn release(executor: impl PgExecutor<'_>, ids: &[i64], tried: bool) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET locked_until = NULL,
             attempts = CASE WHEN $2 THEN attempts ELSE greatest(attempts - 1, 0) END
         WHERE id = ANY($1) AND state = 'pending'",
    )
    .bind(ids)
    .bind(tried)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Whether any message whose dedupe key starts with `prefix` was sent (e.g. any page of
/// one escalation step reached somebody).
pub async fn any_sent_with_prefix(
    executor: impl PgExecutor<'_>,
    prefix: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox
                        WHERE starts_with(dedupe_key, $1) AND state = 'sent')",
    )
    .bind(prefix)
    .fetch_one(executor)
    .await
}

/// Gives up on a message, recording why.
pub async fn mark_failed(executor: impl PgExecutor<'_>, id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'failed', last_error = $2, locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Where the living message with `key` was posted, if it was.
pub async fn living_ref(
    executor: impl PgExecutor<'_>,
    platform: &str,
    key: &str,
) -> sqlx::Result<Option<MessageRef>> {
    let found: Option<Json<MessageRef>> = sqlx::query_scalar(
        "SELECT platform_ref FROM living_messages WHERE platform = $1 AND living_key = $2",
    )
    .bind(platform)
    .bind(key)
    .fetch_optional(executor)
    .await?;
    Ok(found.map(|Json(r)| r))
}

pub async fn set_living_ref(
    executor: impl PgExecutor<'_>,
    platform: &str,
    key: &str,
    platform_ref: &MessageRef,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO living_messages (platform, living_key, platform_ref, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, living_key) DO UPDATE
             SET platform_ref = EXCLUDED.platform_ref, updated_at = EXCLUDED.updated_at",
    )
    .bind(platform)
    .bind(key)
    .bind(Json(platform_ref))
    .bind(now)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Message counts by state, and the newest failure reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub last_error: Option<String>,
}

pub async fn counts(executor: impl PgExecutor<'_>) -> sqlx::Result<OutboxCounts> {
    // Messages of write sets not fanned out yet are pending too.
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'pending')
                    + (SELECT coalesce(sum(cardinality(dedupe_keys)), 0)::bigint
                       FROM outbox_fanouts) AS pending,
                count(*) FILTER (WHERE state = 'sent') AS sent,
                count(*) FILTER (WHERE state = 'failed') AS failed,
                (SELECT last_error FROM outbox WHERE state = 'failed' ORDER BY id DESC LIMIT 1)
                    AS last_error
         FROM outbox",
    )
    .fetch_one(executor)
    .await
}

/// Failed messages whose dedupe key matches the SQL `LIKE` pattern (e.g. every page).
pub async fn count_failed_like(executor: impl PgExecutor<'_>, pattern: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state = 'failed' AND dedupe_key LIKE $1")
        .bind(pattern)
        .fetch_one(executor)
        .await
}

/// Whether anything is pending and due by `now` (the console flushes until this is false).
pub async fn has_due(
    executor: impl PgExecutor<'_>,
    platforms: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND platform = ANY($1)
                        AND not_before <= $2)
                OR EXISTS (SELECT 1 FROM outbox_fanouts)",
    )
    .bind(platforms)
    .bind(now)
    .fetch_one(executor)
    .await
}

/// Messages waiting or given up, per platform and state, with the oldest one's enqueue time
/// (for `/metrics`; sent messages are counted as they are sent instead).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct OutboxDepth {
    pub platform: String,
    pub state: String,
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

pub async fn depth(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<OutboxDepth>> {
    sqlx::query_as(
        "SELECT platform, state, count(*) AS count, min(created_at) AS oldest
         FROM (SELECT platform, state, created_at FROM outbox
               WHERE state IN ('pending', 'failed')
               UNION ALL
               SELECT UNNEST(platforms), 'pending', created_at FROM outbox_fanouts) waiting
         GROUP BY platform, state",
    )
    .fetch_all(executor)
    .await
}
