//! Retention: old handled events, finished messages and finished jobs are pruned in
//! batches; pending work, living cards and the button look-up survive it.

use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use steward::services::retention::{self, PRUNE_JOB};
use steward::storage::retention::Pruned;

use crate::support::chat::{ChatCall, RecordingChat, button, field, latest_card};
use crate::support::{TestApp, TestDb, demo_settings};

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn insert_inbox(pool: &PgPool, key: &str, received_at: DateTime<Utc>) {
    sqlx::query(
        "INSERT INTO inbox (dedupe_key, platform, actor, summary, received_at)
         VALUES ($1, 'console', 'alice', 'test', $2)",
    )
    .bind(key)
    .bind(received_at)
    .execute(pool)
    .await
    .unwrap();
}

async fn insert_outbox(
    pool: &PgPool,
    key: &str,
    state: &str,
    living_key: Option<&str>,
    created_at: DateTime<Utc>,
) {
    sqlx::query(
        "INSERT INTO outbox (platform, kind, target, payload, living_key, dedupe_key, not_before,
                             state, created_at)
         VALUES ('console', 'post', 'ops', '{\"text\": \"hi\"}', $1, $2, $3, $4, $3)",
    )
    .bind(living_key)
    .bind(key)
    .bind(created_at)
    .bind(state)
    .execute(pool)
    .await
    .unwrap();
}

async fn insert_job(pool: &PgPool, key: &str, state: &str, at: DateTime<Utc>) {
    let finished = matches!(state, "done" | "dead").then_some(at);
    sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, run_at, state, max_attempts, created_at,
                           finished_at)
         VALUES ('test.kind', '{}', $1, $2, $3, 3, $2, $4)",
    )
    .bind(key)
    .bind(at)
    .bind(state)
    .bind(finished)
    .execute(pool)
    .await
    .unwrap();
}

async fn keys(pool: &PgPool, sql: &'static str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
}

#[tokio::test]
async fn pruning_removes_only_old_finished_rows_in_each_table() {
    let app = TestApp::spawn().await;
    let pool = &app.pool;
    let now = app.now();
    let (days_8, days_31, days_2) =
        (now - Duration::days(8), now - Duration::days(31), now - Duration::days(2));
    insert_inbox(pool, "old-event", days_8).await;
    insert_inbox(pool, "recent-event", days_2).await;
    insert_outbox(pool, "old-sent", "sent", None, days_31).await;
    insert_outbox(pool, "old-failed", "failed", None, days_31).await;
    insert_outbox(pool, "old-pending", "pending", None, days_31).await;
    insert_outbox(pool, "recent-sent", "sent", None, days_8).await;
    insert_job(pool, "old-done", "done", days_31).await;
    insert_job(pool, "old-dead", "dead", days_31).await;
    insert_job(pool, "old-pending", "pending", days_31).await;
    insert_job(pool, "recent-done", "done", days_8).await;

    let report = retention::prune(&app.services, false).await.unwrap();

    assert_eq!(report.removed(Pruned::Inbox), 1, "{report:?}");
    assert_eq!(report.removed(Pruned::Outbox), 2, "{report:?}");
    assert_eq!(report.removed(Pruned::Jobs), 2, "{report:?}");
    assert_eq!(keys(pool, "SELECT dedupe_key FROM inbox").await, ["recent-event"]);
    assert_eq!(
        keys(pool, "SELECT dedupe_key FROM outbox ORDER BY id").await,
        ["old-pending", "recent-sent"],
        "pending messages stay whatever their age"
    );
    assert_eq!(
        keys(pool, "SELECT dedupe_key FROM jobs ORDER BY id").await,
        ["old-pending", "recent-done"],
        "pending jobs stay whatever their age"
    );
}

#[tokio::test]
async fn pruning_deletes_in_batches_until_a_batch_comes_back_short() {
    let mut settings = demo_settings();
    settings.retention.batch_size = 100;
    let app = TestApp::spawn_with(settings).await;
    sqlx::query(
        "INSERT INTO inbox (dedupe_key, platform, actor, summary, received_at)
         SELECT 'old-' || g, 'console', 'alice', 'test', $1 FROM generate_series(1, 250) g",
    )
    .bind(app.now() - Duration::days(10))
    .execute(&app.pool)
    .await
    .unwrap();
    insert_inbox(&app.pool, "recent-event", app.now()).await;

    let report = retention::prune(&app.services, false).await.unwrap();

    let inbox = report.tables.iter().find(|t| t.table == Pruned::Inbox).unwrap();
    assert_eq!((inbox.removed, inbox.batches), (250, 3), "{report:?}");
    assert_eq!(count(&app.pool, "SELECT count(*) FROM inbox").await, 1);
}

#[tokio::test]
async fn a_living_card_older_than_the_retention_is_still_updated_in_place() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    app.click("sam", &button(&card, "Acknowledge"), None).await;
    app.flush_outbox(&chat).await;
    let card_rows = "SELECT count(*) FROM outbox WHERE living_key = 'esc:1'";
    let before = count(&app.pool, card_rows).await;
    assert!(before >= 2, "posted, then updated");

    app.clock.advance(Duration::days(31));
    let report = retention::prune(&app.services, false).await.unwrap();

    assert!(report.removed(Pruned::Outbox) >= 1, "{report:?}");
    assert_eq!(count(&app.pool, card_rows).await, 1, "only the card's newest row is kept");
    // The current card's prompt is still found (Discord's modals read it from that row).
    let card = latest_card(&chat, "esc:1");
    let resolve = button(&card, "Resolve");
    let shown = steward::services::lookup::button(&app.services, &resolve).await.unwrap();
    assert!(shown.and_then(|b| b.prompt).is_some(), "the Resolve prompt is still found");

    app.click("sam", &resolve, Some("Corrected the VAT rate")).await;
    app.flush_outbox(&chat).await;
    let calls = chat.calls();
    let card_calls: Vec<&ChatCall> = calls
        .iter()
        .filter(|c| match c {
            ChatCall::Post { message, .. } | ChatCall::Update { message, .. } => {
                message.living_key() == Some("esc:1")
            }
            ChatCall::Dm { .. } => false,
        })
        .collect();
    assert!(matches!(card_calls[0], ChatCall::Post { .. }), "{card_calls:?}");
    match card_calls.last().unwrap() {
        ChatCall::Update { at, message } => {
            assert_eq!(at.message_id, "m1", "the original message is edited");
            let state = field(message.card.as_ref().unwrap(), "State");
            assert!(state.starts_with("Resolved"), "{message:?}");
        }
        other => panic!("expected an update in place, got {other:?}"),
    }
}

/// The plan of `sql` (with `$1` replaced by a literal) when sequential scans are avoided.
async fn plan(pool: &PgPool, sql: &str, action: &str) -> String {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off").execute(&mut *conn).await.unwrap();
    let explain = format!("EXPLAIN {}", sql.replace("$1", &format!("'{action}'")));
    let lines: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(explain)).fetch_all(&mut *conn).await.unwrap();
    lines.join("\n")
}

#[tokio::test]
async fn the_button_lookup_reads_an_index_instead_of_scanning_messages() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    app.flush_outbox(&chat).await;
    let resolve = button(&latest_card(&chat, "esc:1"), "Resolve");

    let outbox_plan = plan(&app.pool, steward::storage::lookup::OUTBOX_BUTTON_SQL, &resolve).await;
    assert!(outbox_plan.contains("outbox_asked_actions_idx"), "{outbox_plan}");
    let inbox_plan = plan(&app.pool, steward::storage::lookup::INBOX_BUTTON_SQL, &resolve).await;
    assert!(inbox_plan.contains("inbox_asked_actions_idx"), "{inbox_plan}");

    let shown = steward::services::lookup::button(&app.services, &resolve).await.unwrap();
    assert_eq!(shown.and_then(|b| b.prompt).map(|p| p.title).as_deref(), Some("Resolve"));
    let acknowledge = button(&latest_card(&chat, "esc:1"), "Acknowledge");
    let plain = steward::services::lookup::button(&app.services, &acknowledge).await.unwrap();
    assert_eq!(plain, None, "a button without prompt or confirmation is not indexed");
}

#[tokio::test]
async fn the_prune_job_runs_daily_and_queues_the_next_day_once() {
    let app = TestApp::spawn().await;
    insert_inbox(&app.pool, "old-event", app.now() - Duration::days(8)).await;
    retention::schedule(&app.services, app.now()).await.unwrap();
    retention::schedule(&app.services, app.now()).await.unwrap();
    let pending =
        "SELECT dedupe_key FROM jobs WHERE kind = 'retention.prune' AND state = 'pending'";
    assert_eq!(keys(&app.pool, pending).await, [format!("{PRUNE_JOB}:2026-11-23")]);

    app.run_due_jobs().await;

    assert_eq!(count(&app.pool, "SELECT count(*) FROM inbox").await, 0);
    assert_eq!(keys(&app.pool, pending).await, [format!("{PRUNE_JOB}:2026-11-24")]);
    app.clock.advance(Duration::days(1));
    app.run_due_jobs().await;
    assert_eq!(keys(&app.pool, pending).await, [format!("{PRUNE_JOB}:2026-11-25")]);
}

fn steward_prune(url: &str, dry_run: bool) -> (bool, String) {
    let state_dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--config", "config/demo.toml", "prune"];
    if dry_run {
        args.push("--dry-run");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn steward_prune_dry_run_reports_and_deletes_nothing_then_prune_deletes() {
    let db = TestDb::create().await;
    // The binary runs on the real clock: age the rows relative to it.
    let old = Utc::now() - Duration::days(40);
    insert_inbox(&db.pool, "old-event", old).await;
    insert_outbox(&db.pool, "old-sent", "sent", None, old).await;
    insert_job(&db.pool, "old-done", "done", old).await;
    let total = "SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM outbox)
                        + (SELECT count(*) FROM jobs)";

    let (ok, stdout) = steward_prune(&db.url(), true);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("inbox: would remove 1 row older than 7 days"), "{stdout}");
    assert!(stdout.contains("outbox: would remove 1 row older than 30 days"), "{stdout}");
    assert!(stdout.contains("jobs: would remove 1 row older than 30 days"), "{stdout}");
    assert!(stdout.contains("nothing was deleted"), "{stdout}");
    assert_eq!(count(&db.pool, total).await, 3, "a dry run deletes nothing");

    let (ok, stdout) = steward_prune(&db.url(), false);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("inbox: removed 1 row older than 7 days (1 batch)"), "{stdout}");
    assert_eq!(count(&db.pool, total).await, 0);
}
