//! Appending to and reading the per-subject audit hash chains.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::domain::audit::{self, AuditEntry, AuditRecord};
use crate::domain::audit_key::AuditKeys;

/// Appends a record to its subject's chain. Locks the subject's head row until the
/// transaction ends, which orders concurrent appends to the same subject and nothing else.
/// The record is chained under the current key of `keys` (plain SHA-256 without one).
pub async fn append(
    conn: &mut PgConnection,
    keys: &AuditKeys,
    entry: AuditEntry,
) -> sqlx::Result<AuditRecord> {
    sqlx::query(
        "INSERT INTO audit_heads (subject, subject_seq, hash) VALUES ($1, 0, $2)
         ON CONFLICT (subject) DO NOTHING",
    )
    .bind(&entry.subject)
    .bind(audit::GENESIS_HASH)
    .execute(&mut *conn)
    .await?;
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT subject_seq, hash FROM audit_heads WHERE subject = $1 FOR UPDATE")
            .bind(&entry.subject)
            .fetch_one(&mut *conn)
            .await?;
    let prev = (seq > 0).then_some((seq, hash.as_str()));
    let record = audit::chain(keys, prev, entry);
    let e = &record.entry;
    sqlx::query(
        "INSERT INTO audit_log (at, actor, subject, subject_seq, action, before, after, prev_hash,
                                hash, key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.at)
    .bind(&e.actor)
    .bind(&e.subject)
    .bind(record.subject_seq)
    .bind(&e.action)
    .bind(Json(&e.before))
    .bind(Json(&e.after))
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .bind(&record.key_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_heads SET subject_seq = $2, hash = $3 WHERE subject = $1")
        .bind(&e.subject)
        .bind(record.subject_seq)
        .bind(&record.hash)
        .execute(&mut *conn)
        .await?;
    Ok(record)
}

#[derive(FromRow)]
struct AuditRow {
    at: DateTime<Utc>,
    actor: String,
    subject: String,
    subject_seq: i64,
    action: String,
    before: Json<serde_json::Value>,
    after: Json<serde_json::Value>,
    prev_hash: String,
    hash: String,
    key_id: Option<String>,
}

impl From<AuditRow> for AuditRecord {
    fn from(row: AuditRow) -> AuditRecord {
        AuditRecord {
            entry: AuditEntry {
                at: row.at,
                actor: row.actor,
                subject: row.subject,
                action: row.action,
                before: row.before.0,
                after: row.after.0,
            },
            subject_seq: row.subject_seq,
            prev_hash: row.prev_hash,
            hash: row.hash,
            key_id: row.key_id,
        }
    }
}

/// A subject's records in chain order (storage order, which `verify_subject` checks).
pub async fn list_subject(
    executor: impl PgExecutor<'_>,
    subject: &str,
) -> sqlx::Result<Vec<AuditRecord>> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT at, actor, subject, subject_seq, action, before, after, prev_hash, hash, key_id
         FROM audit_log WHERE subject = $1 ORDER BY seq",
    )
    .bind(subject)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(AuditRecord::from).collect())
}
