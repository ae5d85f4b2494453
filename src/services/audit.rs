//! The audit trail as a whole: `steward audit verify`, `steward audit export` and the
//! `/audit <account>` chat command.

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::Setup;
use super::error::AppError;
use super::inbound::Event;
use crate::domain::audit::AuditRecord;
use crate::domain::audit_checkpoint::CheckpointVerifier;
use crate::domain::audit_external::{ExternalCheck, ExternalCheckpoint};
use crate::domain::audit_key::AuditKeys;
use crate::domain::audit_verify::{ChainVerifier, VerifyReport};
use crate::domain::identity::Role;
use crate::domain::ids::AccountKey;
use crate::domain::messages::credit as text;
use crate::domain::reply::{Card, Reply};
use crate::storage::{self, Tx};

/// Most records `/audit` shows (the most recent).
const HISTORY_LIMIT: i64 = 50;

/// Roles that may read an account's audit history in chat.
const READERS: &[Role] = &[Role::Auditor, Role::Admin, Role::Supervisor, Role::Finance];

/// Recomputes every chain and compares each with its recorded head, recomputes the
/// checkpoint chain and checks that each subject's last sealed record is still there. The
/// heads are read first, then the checkpoints, then the log: a chain that grows meanwhile
/// shows as "appended", never as a false deletion, and every sealed record committed before
/// its checkpoint, so the log read afterwards holds it.
pub async fn verify(pool: &PgPool) -> anyhow::Result<VerifyReport> {
    verify_with(pool, &VerifyOptions::default()).await
}

/// What `steward audit verify` checks with, beyond the database itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The keys keyed records are checked with (`STEWARD_AUDIT_KEY`, `STEWARD_AUDIT_KEYS_OLD`).
    pub keys: AuditKeys,
    /// Accept plain SHA-256 records although keys are given (`--accept-unkeyed`): for a log
    /// whose older records predate the key.
    pub accept_unkeyed: bool,
    /// Checkpoints as kept outside the database (the `steward::audit_checkpoint` log lines,
    /// the webhook's bodies): each must match the database's checkpoint of that number.
    pub kept: Vec<ExternalCheckpoint>,
}

/// [`verify`], with keys.
pub async fn verify_with(pool: &PgPool, options: &VerifyOptions) -> anyhow::Result<VerifyReport> {
    let heads = storage::audit_trail::recorded_heads(pool).await?;
    let mut checkpoints = CheckpointVerifier::default();
    let mut external = ExternalCheck::new(&options.kept);
    storage::audit_checkpoints::for_each_row(pool, |c, entry| {
        external.push(&c);
        checkpoints.push(c, entry)
    })
    .await?;
    let mut verifier = ChainVerifier::with_checkpoints(checkpoints.finish())
        .keyed(options.keys.clone(), options.accept_unkeyed);
    storage::audit_trail::for_each_record(pool, |record| verifier.push(&record)).await?;
    let mut report = verifier.finish(&heads);
    report.kept_checkpoints = external.len();
    report.breaks.extend(external.finish());
    report.breaks.sort_by(|a, b| a.subject.cmp(&b.subject));
    Ok(report)
}

/// The extract's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

const CSV_HEADER: &str =
    "seq,at,actor,subject,subject_seq,action,before,after,prev_hash,hash,key_id";

fn csv_field(raw: &str) -> String {
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw.to_owned()
    }
}

fn export_line(seq: i64, r: &AuditRecord, format: ExportFormat) -> String {
    let at = r.entry.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    match format {
        ExportFormat::Jsonl => serde_json::json!({
            "seq": seq,
            "at": at,
            "actor": r.entry.actor,
            "subject": r.entry.subject,
            "subject_seq": r.subject_seq,
            "action": r.entry.action,
            "before": r.entry.before,
            "after": r.entry.after,
            "prev_hash": r.prev_hash,
            "hash": r.hash,
            "key_id": r.key_id,
        })
        .to_string(),
        ExportFormat::Csv => [
            seq.to_string(),
            at,
            r.entry.actor.clone(),
            r.entry.subject.clone(),
            r.subject_seq.to_string(),
            r.entry.action.clone(),
            r.entry.before.to_string(),
            r.entry.after.to_string(),
            r.prev_hash.clone(),
            r.hash.clone(),
            r.key_id.clone().unwrap_or_default(),
        ]
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(","),
    }
}

/// Writes the records from the start of `from` to the end of `to` (UTC days, inclusive).
/// Each record carries its hashes, so an auditor can recompute the chains from the extract.
pub async fn export(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    format: ExportFormat,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let start: DateTime<Utc> = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = to.succ_opt().unwrap_or(to).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    let mut count = 0;
    storage::audit_trail::for_each_in_range(pool, start, end, |seq, record| {
        count += 1;
        writeln!(out, "{}", export_line(seq, &record, format))
    })
    .await?;
    out.flush()?;
    Ok(count)
}

/// Writes `records` (already in order) as an extract, numbered from 1, each with its hashes.
pub fn write_records(
    records: &[AuditRecord],
    format: ExportFormat,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    for (index, record) in records.iter().enumerate() {
        writeln!(out, "{}", export_line(index as i64 + 1, record, format))?;
    }
    out.flush()?;
    Ok(records.len())
}

/// `/audit <account>`: the account's credits and escalations as recorded in the audit log.
pub async fn history(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    account: &AccountKey,
) -> Result<Reply, AppError> {
    let actor = event.actor;
    if !READERS.iter().any(|role| actor.has_role(*role)) {
        return Err(AppError::Forbidden(text::audit_forbidden()));
    }
    if setup.directory.account(account).is_none() {
        return Err(AppError::NotFound(text::unknown_account(account.as_str())));
    }
    let records =
        storage::audit_trail::account_history(tx.conn().await?, account.as_str(), HISTORY_LIMIT)
            .await?;
    let lines: Vec<String> =
        records.iter().map(|r| text::audit_line(r, &setup.directory, actor.time_zone)).collect();
    let body = if lines.is_empty() { text::audit_empty() } else { lines.join("\n") };
    Ok(Reply::private_card(Card {
        title: text::audit_title(account.as_str(), records.len()),
        body: Some(body),
        ..Card::default()
    }))
}
