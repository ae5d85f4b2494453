//! Role separation (issue 17 item 7): migrations as the owner (`database.migrate_url`), the
//! daemon as an app role that may only INSERT and SELECT the audit log and owns nothing.

use std::process::{Command, Output};

use sqlx::PgPool;
use steward::services::Services;

use crate::support::{TestApp, command_inbound, demo_settings};

const APP_ROLE: &str = "steward_app";
const APP_PASSWORD: &str = "steward-app-test-password";

/// The test database's URL with the app role's credentials.
fn app_url(app: &TestApp) -> String {
    let mut url = reqwest::Url::parse(&app.db.url()).unwrap();
    url.set_username(APP_ROLE).unwrap();
    url.set_password(Some(APP_PASSWORD)).unwrap();
    url.to_string()
}

/// The binary with the app role as `database.url` and the test's owner as `migrate_url`.
fn steward(app: &TestApp, args: &[&str]) -> Output {
    let state_dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", app_url(app))
        .env("STEWARD__DATABASE__MIGRATE_URL", app.db.url())
        .env("STEWARD__LOG__FILTER", "warn")
        .env_remove("STEWARD_AUDIT_KEY")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_app_role_may_only_insert_and_select_the_audit_log() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 250 USD goodwill").await;
    let first = steward(&app, &["db", "roles"]);
    assert!(first.status.success(), "{first:?}");
    let again = steward(&app, &["db", "roles"]);
    assert!(again.status.success(), "idempotent: {again:?}");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("Role `steward_app` already existed"),
        "{again:?}"
    );

    // The daemon's work goes through as the app role: a transition appends audit records.
    let pool = PgPool::connect(&app_url(&app)).await.unwrap();
    let settings = demo_settings();
    let directory = settings.directory().unwrap();
    let services = Services::new(pool.clone(), app.clock.clone(), directory, settings).unwrap();
    let reply = services
        .handle_inbound(command_inbound("roles-1", "alice", "/credit GLOBEX-7 40 EUR promo"))
        .await;
    let records: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&pool).await.unwrap();
    assert_eq!(records, 2, "{reply:?}");

    // What an insider holding the daemon's credentials cannot do.
    for (sql, refusal) in [
        ("UPDATE audit_log SET actor = 'mallory'", "permission denied for table audit_log"),
        ("DELETE FROM audit_log", "permission denied for table audit_log"),
        ("TRUNCATE audit_log", "permission denied for table audit_log"),
        (
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "must be owner of table audit_log",
        ),
        ("ALTER TABLE audit_log DISABLE TRIGGER USER", "must be owner of table audit_log"),
        (
            "DELETE FROM audit_checkpoint_entries",
            "permission denied for table audit_checkpoint_entries",
        ),
        ("DROP TABLE audit_log", "must be owner of table audit_log"),
        ("DELETE FROM _sqlx_migrations", "permission denied for table _sqlx_migrations"),
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err().to_string();
        assert!(err.contains(refusal), "{sql}: {err}");
    }
    pool.close().await;

    // The daemon's start-up path with both URLs: migrate as owner, connect as the app role.
    let out = steward(&app, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
