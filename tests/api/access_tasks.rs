//! An overdue manual provisioning task: its owner is told once at the due time, then, if it
//! is still open `task_escalate_after` later, the owner's supervisor — each once, however
//! often the workers run, and on the card's record.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use steward::domain::access::AccessRequest;
use steward::domain::access::task::TaskAlertStage;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, latest_card};
use crate::support::{TestApp, text_of};

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

fn overdue_dms(chat: &RecordingChat) -> Vec<(String, String)> {
    dms(chat).into_iter().filter(|(_, t)| t.contains("is still open")).collect()
}

#[tokio::test]
async fn an_overdue_manual_task_tells_its_owner_once_then_their_supervisor_once() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/access request billing-admin viewer 7d month end").await;
    app.flush_outbox(&chat).await;
    // sam approves at 09:00; fran, the owner, has 4 h for the manual task (due 13:00).
    let approve = button(&latest_card(&chat, "acc:1"), "Approve");
    assert_eq!(text_of(&app.click("sam", &approve, None).await), "Access #1 approved.");

    app.clock.set(at("2026-11-23T12:59:59Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert!(overdue_dms(&chat).is_empty(), "not due yet");

    app.clock.set(at("2026-11-23T13:00:00Z"));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let told = overdue_dms(&chat);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, "fran");
    assert!(
        told[0].1.starts_with(
            "Access #1 (billing-admin viewer): the grant task was due Mon 23 Nov 13:00"
        ),
        "{}",
        told[0].1
    );

    // Four hours later it is still open: fran's supervisor hears of it, once.
    app.clock.set(at("2026-11-23T16:59:59Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(overdue_dms(&chat).len(), 1);
    app.clock.set(at("2026-11-23T17:00:00Z"));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let told = overdue_dms(&chat);
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[1].0, "sam");
    assert!(told[1].1.contains("Fran Fischer's grant task was due"), "{}", told[1].1);

    let a = storage::items::get::<AccessRequest>(&app.pool, 1).await.unwrap().unwrap();
    let stages: Vec<_> = a.task_alerts.iter().map(|t| (t.seq, t.stage)).collect();
    assert_eq!(stages, [(1, TaskAlertStage::Owner), (1, TaskAlertStage::Escalated)]);
    let records = storage::audit_log::list_subject(&app.pool, "access:1").await.unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "task-overdue").count(), 2, "{actions:?}");
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));

    // A task done in time raises nothing: fran revokes the grant (a removal task, due
    // 21:00) and marks it done at once; past its due time and its escalation, no one is told.
    let done = button(&latest_card(&chat, "acc:1"), "Access set up");
    assert_eq!(text_of(&app.click("fran", &done, None).await), "Access #1: task marked done.");
    let reply = app.command("fran", "/access revoke 1 no longer needed").await;
    assert!(text_of(&reply).contains("#1"), "{reply:?}");
    app.flush_outbox(&chat).await;
    let removed = button(&latest_card(&chat, "acc:1"), "Access removed");
    assert_eq!(text_of(&app.click("fran", &removed, None).await), "Access #1: task marked done.");
    app.clock.set(at("2026-11-24T09:00:00Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(overdue_dms(&chat).len(), 2);
    let a = storage::items::get::<AccessRequest>(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(a.task_alerts.len(), 2, "none for the removal task");
}
