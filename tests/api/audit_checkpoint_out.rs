//! Checkpoints written out (issue 17 item 7): the `steward::audit_checkpoint` log line, the
//! signed checkpoint webhook through the outbox, and `audit verify --checkpoint` catching a
//! rewrite of the database alone.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use steward::config::Secret;
use steward::domain::audit::record_hash;
use steward::domain::audit_checkpoint::{SealedEntry, checkpoint_hash};
use steward::http::signature::VersionedHmac;
use steward::scheduler::webhooks::WebhookDispatcher;
use steward::services::audit::verify;
use steward::services::audit_checkpoint::schedule;
use steward::storage::audit_log;

use crate::support::{TestApp, demo_settings};

const SECRET: &str = "checkpoint-webhook-secret";

async fn with_history(app: &TestApp) {
    app.command("alice", "/credit ACME-1042 250 USD goodwill").await;
    app.click("sam", "cr:1:approve:v1", None).await;
    app.command("alice", "/credit GLOBEX-7 40 EUR promo").await;
}

fn steward(app: &TestApp, args: &[&str]) -> Output {
    let state_dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", app.db.url())
        .env("STEWARD__LOG__FORMAT", "json")
        .env("STEWARD__LOG__FILTER", "warn,steward::audit_checkpoint=info")
        .env_remove("STEWARD_AUDIT_KEY")
        .output()
        .unwrap()
}

/// An insider's rewrite of the database alone: credit:1's sealed last record gets another
/// actor, and every hash depending on it is recomputed — the record, the head in the credit's
/// row, the checkpoint entry, and checkpoint 1 itself — with the triggers disabled.
async fn rewrite_everything_in_the_database(app: &TestApp) {
    let mut record = audit_log::list_subject(&app.pool, "credit:1").await.unwrap().pop().unwrap();
    record.entry.actor = "mallory".into();
    let hash = record_hash(None, &record.prev_hash, record.subject_seq, &record.entry);
    let mut conn = app.pool.acquire().await.unwrap();
    for table in ["audit_log", "audit_checkpoints", "audit_checkpoint_entries"] {
        let sql = format!("ALTER TABLE {table} DISABLE TRIGGER USER");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await.unwrap();
    }
    for sql in [
        "UPDATE audit_log SET actor = 'mallory', hash = $1
         WHERE subject = 'credit:1' AND subject_seq = 2",
        "UPDATE credits SET doc = jsonb_set(doc, '{audit_head,hash}', to_jsonb($1::text))
         WHERE id = 1",
        "UPDATE audit_checkpoint_entries SET hash = $1 WHERE subject = 'credit:1'",
    ] {
        sqlx::query(sql).bind(&hash).execute(&mut *conn).await.unwrap();
    }
    let entries: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT subject, subject_seq, hash FROM audit_checkpoint_entries WHERE checkpoint_seq = 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let entries: Vec<SealedEntry> = entries
        .into_iter()
        .map(|(subject, subject_seq, hash)| SealedEntry { subject, subject_seq, hash })
        .collect();
    let (prev, at): (String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT prev_hash, at FROM audit_checkpoints WHERE seq = 1")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    sqlx::query("UPDATE audit_checkpoints SET hash = $1 WHERE seq = 1")
        .bind(checkpoint_hash(&prev, 1, at, &entries))
        .execute(&mut *conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rewrite_of_the_database_alone_is_caught_by_the_checkpoint_kept_outside() {
    let app = TestApp::spawn().await;
    with_history(&app).await;
    let sealed = steward(&app, &["audit", "checkpoint"]);
    assert!(sealed.status.success(), "{sealed:?}");
    let log = String::from_utf8_lossy(&sealed.stderr).into_owned();
    let line: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["target"] == "steward::audit_checkpoint")
        .unwrap_or_else(|| panic!("no checkpoint log line in {log}"));
    assert_eq!(line["fields"]["checkpoint"], 1);
    assert_eq!(line["fields"]["entries"], 2);
    let hash = line["fields"]["hash"].as_str().unwrap().to_owned();
    let stored: String = sqlx::query_scalar("SELECT hash FROM audit_checkpoints WHERE seq = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(hash, stored);
    let kept = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(kept.path(), &log).unwrap();
    let kept_path = kept.path().to_str().unwrap();

    let out = steward(&app, &["audit", "verify", "--checkpoint", kept_path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("1 checkpoint (1 compared with copies kept outside): intact"),
        "{stdout}"
    );

    rewrite_everything_in_the_database(&app).await;
    // The database alone now vouches for the rewrite…
    assert!(verify(&app.pool).await.unwrap().intact());
    // …the copy kept outside does not.
    let out = steward(&app, &["audit", "verify", "--checkpoint", kept_path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout.contains("audit_checkpoints record 1: the database has hash "), "{stdout}");
    assert!(stdout.contains(&format!("the copy kept outside {hash} (rewritten)")), "{stdout}");
    let out = steward(&app, &["audit", "verify", "--checkpoint", &format!("1:{hash}")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = steward(&app, &["audit", "verify", "--checkpoint", "no-such-file"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// The receiving end of the checkpoint webhook: checks the signature, records the body and
/// the delivery id, and answers 503 to the first call.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(serde_json::Value, bool, String)>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = VersionedHmac("v1").matches(
        &[Secret::new(SECRET)],
        header("x-steward-timestamp"),
        header("x-steward-signature"),
        &body,
    );
    let mut calls = r.calls.lock().unwrap();
    calls.push((
        serde_json::from_slice(&body).unwrap(),
        signed,
        header("x-steward-delivery").into(),
    ));
    if calls.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
}

#[tokio::test]
async fn each_checkpoint_is_posted_signed_once_through_the_outbox_and_retried() {
    let receiver = Receiver::default();
    let router = axum::Router::new()
        .route("/checkpoints", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/checkpoints", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut settings = demo_settings();
    settings.audit.checkpoint_webhook_url = Some(url);
    settings.access.webhook_secrets = vec![Secret::new(SECRET)];
    let app = TestApp::spawn_with(settings).await;
    with_history(&app).await;
    schedule(&app.services).await.unwrap();
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(app.run_due_jobs().await.len(), 1);
    // Run again at the same slot: the checkpoint job does not run twice, nothing is re-sent.
    assert!(app.run_due_jobs().await.is_empty());

    let dispatcher = WebhookDispatcher::new(app.services.clone()).unwrap();
    dispatcher.flush().await.unwrap();
    assert_eq!(receiver.calls.lock().unwrap().len(), 1, "the first call got 503");
    app.clock.advance(chrono::Duration::minutes(15));
    dispatcher.flush().await.unwrap();
    dispatcher.flush().await.unwrap();

    let calls = receiver.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "retried once after the 503, then done: {calls:?}");
    assert!(calls.iter().all(|(_, signed, _)| *signed), "{calls:?}");
    assert_eq!(calls[0].2, calls[1].2, "one delivery id for both tries");
    let stored: String = sqlx::query_scalar("SELECT hash FROM audit_checkpoints WHERE seq = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let body = &calls[1].0;
    assert_eq!(
        (body["checkpoint"].as_i64(), body["hash"].as_str()),
        (Some(1), Some(stored.as_str()))
    );
    assert_eq!(body["entries"], 2);
    // The webhook's body is a checkpoint kept outside as `verify --checkpoint` reads it.
    let kept = steward::domain::audit_external::parse_lines(&body.to_string());
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].hash, stored);
}
