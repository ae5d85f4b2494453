//! `steward audit verify` and `export`, and tampering with the log behind the trigger's back.

use std::process::{Command, Output};

use steward::services::audit::verify;
use steward::services::audit_checkpoint::{Sealed, schedule, seal_now};

use crate::support::TestApp;

/// Two credits (one approved, one edited) and an escalation: three chains.
async fn app_with_history() -> TestApp {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 250 USD goodwill").await;
    app.click("sam", "cr:1:approve:v1", None).await;
    app.command("alice", "/credit GLOBEX-7 40 EUR promo").await;
    app.command("alice", "/credit edit 2 45 EUR promo").await;
    app.command("alice", "/escalate ACME-1042 sev3 Statement missing").await;
    app
}

async fn tamper(app: &TestApp, statements: &[&str]) {
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        .execute(&mut *conn)
        .await
        .unwrap();
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut *conn).await.unwrap();
    }
}

fn steward(app: &TestApp, args: &[&str]) -> Output {
    let state_dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", app.db.url())
        .env("STEWARD__LOG__FILTER", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn an_intact_log_verifies_with_every_chain_matching_its_head() {
    let app = app_with_history().await;
    let report = verify(&app.pool).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!((report.subjects, report.records, report.heads), (3, 5, 3));
}

#[tokio::test]
async fn an_altered_record_is_named() {
    let app = app_with_history().await;
    tamper(
        &app,
        &["UPDATE audit_log SET after = jsonb_set(after, '{amount}', '\"25.00\"') \
                    WHERE subject = 'credit:1' AND subject_seq = 2"],
    )
    .await;
    let report = verify(&app.pool).await.unwrap();
    assert_eq!(report.breaks.len(), 1, "{report:?}");
    let found = &report.breaks[0];
    assert_eq!((found.subject.as_str(), found.subject_seq), ("credit:1", 2));
    assert!(found.problem.contains("altered"), "{found:?}");
}

#[tokio::test]
async fn deleting_the_last_record_of_a_chain_is_caught_by_the_head_in_the_credit_row() {
    let app = app_with_history().await;
    tamper(&app, &["DELETE FROM audit_log WHERE subject = 'credit:2' AND subject_seq = 2"]).await;
    let report = verify(&app.pool).await.unwrap();
    assert_eq!(report.breaks.len(), 1, "{report:?}");
    assert_eq!((report.breaks[0].subject.as_str(), report.breaks[0].subject_seq), ("credit:2", 2));
    assert!(report.breaks[0].problem.contains("deleted"));
}

#[tokio::test]
async fn deleting_a_middle_record_or_swapping_two_is_caught_at_the_first_broken_link() {
    let app = app_with_history().await;
    // Swap the positions of credit:1's two records (via a free position, as the pair is unique).
    tamper(
        &app,
        &[
            "UPDATE audit_log SET subject_seq = 99 WHERE subject = 'credit:1' AND subject_seq = 1",
            "UPDATE audit_log SET subject_seq = 1 WHERE subject = 'credit:1' AND subject_seq = 2",
            "UPDATE audit_log SET subject_seq = 2 WHERE subject = 'credit:1' AND subject_seq = 99",
            "DELETE FROM audit_log WHERE subject = 'escalation:1'",
        ],
    )
    .await;
    let report = verify(&app.pool).await.unwrap();
    let found: Vec<_> = report.breaks.iter().map(|b| (b.subject.as_str(), b.subject_seq)).collect();
    assert_eq!(found, [("credit:1", 1), ("escalation:1", 1)], "{report:?}");
    assert!(report.breaks[1].problem.contains("every record is missing"));
}

#[tokio::test]
async fn the_cli_exits_zero_when_intact_and_one_naming_the_record_when_broken() {
    let app = app_with_history().await;
    let out = steward(&app, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout.contains("Checked 5 records in 3 chains against 3 recorded heads: intact."));

    tamper(
        &app,
        &["UPDATE audit_log SET actor = 'mallory' WHERE subject = 'credit:1' AND subject_seq = 2"],
    )
    .await;
    let out = steward(&app, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout.contains("credit:1 record 2: content does not match its hash (altered)"),
        "{stdout}"
    );
}

#[tokio::test]
async fn export_writes_every_record_of_the_range_with_its_hashes() {
    let app = app_with_history().await;
    // The test clock is Monday 23 November 2026.
    let out = steward(
        &app,
        &["audit", "export", "--from", "2026-11-23", "--to", "2026-11-23", "--format", "jsonl"],
    );
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["subject"], "credit:1");
    assert_eq!(lines[0]["action"], "request");
    assert_eq!(lines[0]["after"]["amount"], "250.00");
    assert_eq!(lines[0]["hash"].as_str().unwrap().len(), 64);

    let out = steward(&app, &["audit", "export", "--from", "2026-11-23", "--to", "2026-11-23"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with(
        "seq,at,actor,subject,subject_seq,action,before,after,prev_hash,hash,key_id\n"
    ));
    assert_eq!(csv.lines().count(), 6);
    let out = steward(&app, &["audit", "export", "--from", "2026-11-24", "--to", "2026-11-30"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "header only");
    let out = steward(&app, &["audit", "export", "--from", "2026-11-30", "--to", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn deleting_a_requests_last_audit_record_is_caught_by_the_head_in_the_request_row() {
    let app = app_with_history().await;
    app.command("sam", "/request GLOBEX-7 billing Invoice total is wrong invoice=INV-7").await;
    tamper(&app, &["DELETE FROM audit_log WHERE subject = 'request:1' AND subject_seq = 2"]).await;
    let out = steward(&app, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout.contains("request:1 record 2: deleted: the chain ends at 1, its head at 2"),
        "{stdout}"
    );
}

async fn checkpoint_now(app: &TestApp) -> Sealed {
    seal_now(&app.pool, app.now()).await.unwrap().expect("something to seal")
}

async fn sealed_subjects(app: &TestApp, checkpoint: i64) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT subject, subject_seq FROM audit_checkpoint_entries WHERE checkpoint_seq = $1
         ORDER BY subject",
    )
    .bind(checkpoint)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn deleting_a_whole_credit_after_a_checkpoint_is_named_by_the_checkpoint() {
    let app = app_with_history().await;
    assert_eq!(checkpoint_now(&app).await.entries, 3);
    // Its records, its approvals and its row (with the head kept there): nothing of credit:2
    // is left for the per-subject chains to notice.
    tamper(
        &app,
        &[
            "DELETE FROM audit_log WHERE subject = 'credit:2'",
            "DELETE FROM credit_approvals WHERE credit_id = 2",
            "DELETE FROM credits WHERE id = 2",
        ],
    )
    .await;
    let report = verify(&app.pool).await.unwrap();
    assert_eq!((report.subjects, report.records, report.heads), (2, 3, 2));
    let found: Vec<_> = report.breaks.iter().map(|b| (b.subject.as_str(), b.subject_seq)).collect();
    assert_eq!(found, [("credit:2", 2)], "{report:?}");

    let out = steward(&app, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout
            .contains("credit:2 record 2: sealed at checkpoint 1 up to record 2, records missing"),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_intact_log_with_checkpoints_verifies_and_counts_them() {
    let app = app_with_history().await;
    let first = checkpoint_now(&app).await;
    app.command("alice", "/credit ACME-1042 10 USD goodwill").await;
    let second = checkpoint_now(&app).await;
    assert_eq!(second.checkpoint.prev_hash, first.checkpoint.hash);
    assert_eq!(sealed_subjects(&app, 2).await, [("credit:3".to_owned(), 1)]);

    let report = verify(&app.pool).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!((report.subjects, report.records, report.heads, report.checkpoints), (4, 6, 4, 2));

    let out = steward(&app, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains(
            "Checked 6 records in 4 chains against 4 recorded heads and 2 checkpoints: intact."
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Last checkpoint: #2 at "), "{stdout}");
    assert!(stdout.contains(&second.checkpoint.hash), "{stdout}");
}

#[tokio::test]
async fn tampering_with_a_checkpoint_entry_breaks_the_checkpoint_chain() {
    let app = app_with_history().await;
    checkpoint_now(&app).await;
    let mut conn = app.pool.acquire().await.unwrap();
    let refused = sqlx::query("UPDATE audit_checkpoint_entries SET subject_seq = 1")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    sqlx::query(
        "ALTER TABLE audit_checkpoint_entries DISABLE TRIGGER audit_checkpoint_entries_append_only",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    // Pretend credit:2 was sealed before its edit, so deleting the edit would pass.
    sqlx::query("UPDATE audit_checkpoint_entries SET subject_seq = 1 WHERE subject = 'credit:2'")
        .execute(&mut *conn)
        .await
        .unwrap();
    let report = verify(&app.pool).await.unwrap();
    let found: Vec<_> = report.breaks.iter().map(|b| (b.subject.as_str(), b.subject_seq)).collect();
    assert_eq!(found, [("audit_checkpoints", 1)], "{report:?}");
    assert!(report.breaks[0].problem.contains("altered"), "{report:?}");
}

#[tokio::test]
async fn the_checkpoint_job_reschedules_itself_and_seals_only_what_changed() {
    let app = app_with_history().await;
    schedule(&app.services).await.unwrap();
    let count = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_checkpoints")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        n
    };
    assert!(app.run_due_jobs().await.is_empty(), "the first slot is 09:05");
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(app.run_due_jobs().await.len(), 1);
    assert_eq!(count().await, 1);
    assert_eq!(sealed_subjects(&app, 1).await.len(), 3);

    // Nothing moved: the next slot's run writes no checkpoint.
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(app.run_due_jobs().await.len(), 1);
    assert_eq!(count().await, 1);

    app.command("alice", "/credit edit 2 50 EUR promo").await;
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(app.run_due_jobs().await.len(), 1);
    assert_eq!(count().await, 2);
    assert_eq!(sealed_subjects(&app, 2).await, [("credit:2".to_owned(), 3)]);
    let pending: Vec<String> =
        sqlx::query_scalar("SELECT dedupe_key FROM jobs WHERE state = 'pending'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(
        pending.contains(&"audit.checkpoint:2026-11-23T09:20:00+00:00".to_owned()),
        "{pending:?}"
    );
}
