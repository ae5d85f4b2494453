//! The HMAC-SHA256 audit chain (issue 17 item 7): a record rewritten with its SHA-256
//! recomputed and its head moved is detected, rotation by key id, a missing key named.

use std::process::{Command, Output};

use steward::domain::audit::record_hash;
use steward::domain::audit_key::AuditKeys;
use steward::services::audit::{VerifyOptions, verify_with};
use steward::storage::audit_log;

use crate::support::{TestApp, demo_settings};

const K1: &str = "k1:first-audit-secret-0123456789";
const K2: &str = "k2:second-audit-secret-0123456789";

fn keys(current: &str, old: &str) -> AuditKeys {
    AuditKeys::parse(Some(current), Some(old)).unwrap()
}

/// A credit (requested, then approved) written while `STEWARD_AUDIT_KEY` is `K1`.
async fn keyed_app() -> TestApp {
    let mut settings = demo_settings();
    settings.audit.keys = keys(K1, "");
    let app = TestApp::spawn_with(settings).await;
    app.command("alice", "/credit ACME-1042 250 USD goodwill").await;
    app.click("sam", "cr:1:approve:v1", None).await;
    app
}

fn steward_verify(app: &TestApp, env: &[(&str, &str)]) -> Output {
    let state_dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml", "audit", "verify"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", app.db.url())
        .env("STEWARD__LOG__FILTER", "warn")
        .env_remove("STEWARD_AUDIT_KEY")
        .env_remove("STEWARD_AUDIT_KEYS_OLD")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// What an insider with database access but no key does: rewrite credit:1's last record,
/// recompute its SHA-256 (as a plain record, or keeping the key id), move the head kept in
/// the credit's row to the new hash, all with the append-only trigger disabled.
async fn rewrite_with_recomputed_sha(app: &TestApp, keep_key_id: bool) {
    let mut records = audit_log::list_subject(&app.pool, "credit:1").await.unwrap();
    let mut record = records.pop().unwrap();
    assert_eq!(record.subject_seq, 2);
    record.entry.actor = "mallory".into();
    let hash = record_hash(None, &record.prev_hash, record.subject_seq, &record.entry);
    let key_id = if keep_key_id { record.key_id.clone() } else { None };
    let mut conn = app.pool.acquire().await.unwrap();
    let trigger = |on: &str| format!("ALTER TABLE audit_log {on} TRIGGER audit_log_append_only");
    sqlx::query(sqlx::AssertSqlSafe(trigger("DISABLE"))).execute(&mut *conn).await.unwrap();
    sqlx::query(
        "UPDATE audit_log SET actor = 'mallory', hash = $1, key_id = $2
         WHERE subject = 'credit:1' AND subject_seq = 2",
    )
    .bind(&hash)
    .bind(&key_id)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE credits SET doc = jsonb_set(doc, '{audit_head,hash}', to_jsonb($1::text))
         WHERE id = 1",
    )
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(trigger("ENABLE"))).execute(&mut *conn).await.unwrap();
}

#[tokio::test]
async fn records_are_chained_under_the_configured_key_and_verify_with_it() {
    let app = keyed_app().await;
    let records = audit_log::list_subject(&app.pool, "credit:1").await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.key_id.as_deref() == Some("k1")), "{records:?}");
    let options = VerifyOptions { keys: keys(K1, ""), accept_unkeyed: false, kept: vec![] };
    let report = verify_with(&app.pool, &options).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!((report.records, report.heads), (2, 1));
    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", K1)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[tokio::test]
async fn a_recomputed_sha_rewrite_detected() {
    let app = keyed_app().await;
    rewrite_with_recomputed_sha(&app, true).await;
    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", K1)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout.contains("credit:1 record 2: content does not match its hash (altered)"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_recomputed_sha_rewrite_passed_off_as_a_plain_record_is_detected() {
    let app = keyed_app().await;
    rewrite_with_recomputed_sha(&app, false).await;
    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", K1)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout.contains("credit:1 record 2: plain SHA-256 after records chained"), "{stdout}");
}

#[tokio::test]
async fn without_a_key_the_same_rewrite_passes_which_is_why_the_key_exists() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 250 USD goodwill").await;
    app.click("sam", "cr:1:approve:v1", None).await;
    rewrite_with_recomputed_sha(&app, false).await;
    let out = steward_verify(&app, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[tokio::test]
async fn after_rotation_old_records_verify_with_the_old_key_and_a_missing_key_is_named() {
    let mut app = keyed_app().await;
    // Rotate: k2 chains from now on, k1 stays for verification.
    app.services = app.services.clone().with_audit_keys(keys(K2, K1));
    app.command("alice", "/credit edit 1 260 USD goodwill").await;
    app.command("alice", "/credit GLOBEX-7 40 EUR promo").await;
    let ids: Vec<Option<String>> = sqlx::query_scalar("SELECT key_id FROM audit_log ORDER BY seq")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let ids: Vec<Option<&str>> = ids.iter().map(|id| id.as_deref()).collect();
    assert_eq!(ids[..2], [Some("k1"), Some("k1")]);
    assert!(ids[2..].iter().all(|id| *id == Some("k2")), "{ids:?}");

    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", K2), ("STEWARD_AUDIT_KEYS_OLD", K1)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", K2)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout.contains(
            "credit:1 record 1: chained under audit key `k1`, which was not supplied \
             (set STEWARD_AUDIT_KEY or STEWARD_AUDIT_KEYS_OLD to verify it)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("credit:2"), "credit:2 is all k2: {stdout}");
}

#[tokio::test]
async fn plain_records_from_before_the_key_are_refused_unless_accepted() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 250 USD goodwill").await;
    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", K1)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("plain SHA-256 while an audit key"));
    let options = VerifyOptions { keys: keys(K1, ""), accept_unkeyed: true, kept: vec![] };
    assert!(verify_with(&app.pool, &options).await.unwrap().intact());
    let state_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml", "audit", "verify", "--accept-unkeyed"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", app.db.url())
        .env("STEWARD_AUDIT_KEY", K1)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[tokio::test]
async fn a_malformed_key_stops_the_command_naming_the_variable() {
    let app = TestApp::spawn().await;
    let out = steward_verify(&app, &[("STEWARD_AUDIT_KEY", "k1:short")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("STEWARD_AUDIT_KEY"), "{stderr}");
    assert!(stderr.contains("at least 16"), "{stderr}");
}
