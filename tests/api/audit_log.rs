use chrono::Duration;
use futures::future::join_all;
use steward::domain::audit::{AuditEntry, GENESIS_HASH, verify_subject};
use steward::domain::audit_key::AuditKeys;
use steward::storage::audit_log;

use crate::support::{TestApp, t0};

fn entry(subject: &str, action: &str, minute: i64) -> AuditEntry {
    AuditEntry {
        at: t0() + Duration::minutes(minute),
        actor: "sam".into(),
        subject: subject.into(),
        action: action.into(),
        before: serde_json::json!({"n": minute}),
        after: serde_json::json!({"n": minute + 1}),
    }
}

#[tokio::test]
async fn each_subject_has_its_own_chain_linked_by_hashes() {
    let app = TestApp::spawn().await;
    let mut conn = app.pool.acquire().await.unwrap();
    let a1 = audit_log::append(&mut conn, &AuditKeys::none(), entry("escalation:1", "opened", 0))
        .await
        .unwrap();
    let b1 = audit_log::append(&mut conn, &AuditKeys::none(), entry("credit:7", "requested", 1))
        .await
        .unwrap();
    let a2 =
        audit_log::append(&mut conn, &AuditKeys::none(), entry("escalation:1", "acknowledged", 2))
            .await
            .unwrap();
    assert_eq!(a1.prev_hash, GENESIS_HASH);
    assert_eq!(b1.prev_hash, GENESIS_HASH);
    assert_eq!(a2.prev_hash, a1.hash);
    assert_eq!(a2.subject_seq, 2);
    let stored = audit_log::list_subject(&app.pool, "escalation:1").await.unwrap();
    assert_eq!(stored, vec![a1, a2]);
    assert_eq!(verify_subject(&stored), Ok(()));
}

#[tokio::test]
async fn concurrent_appends_to_one_subject_form_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let appends = (0..20).map(|i| {
        let pool = app.pool.clone();
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            audit_log::append(&mut tx, &AuditKeys::none(), entry("escalation:9", "touched", i))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
    });
    for result in join_all(appends).await {
        result.unwrap();
    }
    let stored = audit_log::list_subject(&app.pool, "escalation:9").await.unwrap();
    assert_eq!(stored.len(), 20);
    assert_eq!(verify_subject(&stored), Ok(()));
}

#[tokio::test]
async fn the_log_refuses_truncate() {
    let app = TestApp::spawn().await;
    let mut conn = app.pool.acquire().await.unwrap();
    audit_log::append(&mut conn, &AuditKeys::none(), entry("escalation:1", "opened", 0))
        .await
        .unwrap();
    let truncate = sqlx::query("TRUNCATE audit_log").execute(&app.pool).await;
    assert!(truncate.unwrap_err().to_string().contains("append-only (TRUNCATE refused)"));
    assert_eq!(audit_log::list_subject(&app.pool, "escalation:1").await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let app = TestApp::spawn().await;
    let mut conn = app.pool.acquire().await.unwrap();
    audit_log::append(&mut conn, &AuditKeys::none(), entry("escalation:1", "opened", 0))
        .await
        .unwrap();
    let update = sqlx::query("UPDATE audit_log SET actor = 'mallory'").execute(&app.pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(&app.pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn tampering_behind_the_triggers_back_is_detected() {
    let app = TestApp::spawn().await;
    let mut conn = app.pool.acquire().await.unwrap();
    for (i, action) in ["opened", "acknowledged", "resolved"].iter().enumerate() {
        audit_log::append(&mut conn, &AuditKeys::none(), entry("escalation:3", action, i as i64))
            .await
            .unwrap();
    }
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE subject_seq = 2")
        .execute(&app.pool)
        .await
        .unwrap();
    let stored = audit_log::list_subject(&app.pool, "escalation:3").await.unwrap();
    assert_eq!(verify_subject(&stored).unwrap_err().subject_seq, 2);
}
