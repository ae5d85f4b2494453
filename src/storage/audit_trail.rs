//! Reading the audit log as a whole: every chain for verification, the heads recorded
//! outside the log, extracts by time for auditors, and an account's history.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::types::Json;
use sqlx::{FromRow, PgExecutor, PgPool};

use crate::domain::audit::{AuditEntry, AuditRecord};
use crate::domain::audit_verify::RecordedHead;
use crate::domain::item::ItemKind;

#[derive(FromRow)]
struct Row {
    seq: i64,
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

impl Row {
    fn into_record(self) -> (i64, AuditRecord) {
        let record = AuditRecord {
            entry: AuditEntry {
                at: self.at,
                actor: self.actor,
                subject: self.subject,
                action: self.action,
                before: self.before.0,
                after: self.after.0,
            },
            subject_seq: self.subject_seq,
            prev_hash: self.prev_hash,
            hash: self.hash,
            key_id: self.key_id,
        };
        (self.seq, record)
    }
}

const COLUMNS: &str =
    "seq, at, actor, subject, subject_seq, action, before, after, prev_hash, hash, key_id";

/// Streams every record ordered by subject and position, calling `each` per record; the log
/// never has to fit in memory.
pub async fn for_each_record(pool: &PgPool, mut each: impl FnMut(AuditRecord)) -> sqlx::Result<()> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY subject, subject_seq, seq");
    let mut rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).fetch(pool);
    while let Some(row) = rows.try_next().await? {
        each(row.into_record().1);
    }
    Ok(())
}

/// Every chain head recorded outside the log: `audit_heads`, and the heads kept in the rows
/// of every living-item table (each kind's table from `storage::items::table`, subjects
/// `<noun>:<id>`), so a new workflow's chains are verified without another list to keep.
pub async fn recorded_heads(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<RecordedHead>> {
    let mut sql =
        "SELECT subject, subject_seq, hash FROM audit_heads WHERE subject_seq > 0".to_owned();
    for kind in ItemKind::ALL {
        let (table, prefix) = (super::items::table(kind), kind.noun());
        sql.push_str(&format!(
            "\n UNION ALL SELECT '{prefix}:' || id, (doc->'audit_head'->>'seq')::bigint,
                    doc->'audit_head'->>'hash'
             FROM {table} WHERE jsonb_typeof(doc->'audit_head') = 'object'"
        ));
    }
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(executor).await?;
    Ok(rows.into_iter().map(|(subject, seq, hash)| RecordedHead { subject, seq, hash }).collect())
}

/// Streams the records with `from <= at < to` in log order, with their log sequence number.
pub async fn for_each_in_range(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut each: impl FnMut(i64, AuditRecord) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE at >= $1 AND at < $2 ORDER BY seq");
    let mut rows =
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let (seq, record) = row.into_record();
        each(seq, record)?;
    }
    Ok(())
}

/// The audit records of an account's credits and escalations, newest last, at most `limit`
/// (the most recent ones).
pub async fn account_history(
    executor: impl PgExecutor<'_>,
    account: &str,
    limit: i64,
) -> sqlx::Result<Vec<AuditRecord>> {
    let sql = format!(
        "SELECT * FROM (
             SELECT {COLUMNS} FROM audit_log
             WHERE subject IN (SELECT 'credit:' || id FROM credits WHERE account_key = $1
                               UNION ALL
                               SELECT 'escalation:' || id FROM escalations WHERE account_key = $1)
             ORDER BY at DESC, seq DESC LIMIT $2) recent
         ORDER BY at, seq"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    Ok(rows.into_iter().map(|r| r.into_record().1).collect())
}
