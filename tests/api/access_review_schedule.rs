//! Review campaigns that run by themselves: started on a configured schedule once per slot
//! however many replicas queue it, reminded in a series (each once, of several due together
//! only the latest), escalated when overdue, and closed at `close_after` the due time with
//! the configured policy.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use steward::config::{ReviewScheduleConfig, Settings};
use steward::domain::access::review::{ClosePolicy, ReviewList, ReviewState, ReviewVerdict};
use steward::domain::access::{AccessRequest, AccessState};
use steward::domain::ids::Platform;
use steward::services::access::review_schedule::schedule_all;
use steward::services::audit::ExportFormat;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card};
use crate::support::{TestApp, demo_settings, text_of};

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

/// alice holds billing-admin viewer (access #1), approved by sam; fran owns the system.
async fn alices_grant(app: &TestApp, chat: &Arc<RecordingChat>) {
    let reply = app.command("alice", "/access request billing-admin viewer 30d month end").await;
    assert!(text_of(&reply).starts_with("Access #1 requested"), "{reply:?}");
    app.flush_outbox(chat).await;
    let approve = button(&latest_card(chat, "acc:1"), "Approve");
    assert_eq!(text_of(&app.click("sam", &approve, None).await), "Access #1 approved.");
}

async fn list(app: &TestApp, id: i64) -> Option<ReviewList> {
    storage::items::get::<ReviewList>(&app.pool, id).await.unwrap()
}

fn quarterly(settings: &mut Settings) {
    settings.access.review.schedules = vec![ReviewScheduleConfig {
        name: "quarterly".into(),
        scope: "billing-admin".into(),
        // Day 1 of Mar, Jun, Sep and Dec at 09:00 London time.
        schedule: "0 9 1 3,6,9,12 *".into(),
        time_zone: chrono_tz::Europe::London,
        due_in: Some("14d".into()),
        platform: Platform::Console,
        channel: "emea-ops".into(),
    }];
}

async fn pending_slot_jobs(app: &TestApp) -> Vec<DateTime<Utc>> {
    sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE kind = 'review.scheduled' AND state = 'pending'
         ORDER BY run_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_scheduled_review_starts_once_per_slot_however_many_replicas_queue_it() {
    let mut settings = demo_settings();
    quarterly(&mut settings);
    let app = TestApp::spawn_with(settings).await;
    let chat = Arc::new(RecordingChat::default());
    alices_grant(&app, &chat).await;

    // Two replicas start: one job for the next slot, 1 December 09:00 London (= UTC).
    assert_eq!(schedule_all(&app.services).await.unwrap(), 1);
    assert_eq!(schedule_all(&app.services).await.unwrap(), 0, "the slot is queued once");
    assert_eq!(pending_slot_jobs(&app).await, [at("2026-12-01T09:00:00Z")]);

    // A minute early nothing starts.
    app.clock.set(at("2026-12-01T08:59:00Z"));
    app.run_due_jobs().await;
    assert!(list(&app, 1).await.is_none());

    app.clock.set(at("2026-12-01T09:00:00Z"));
    app.run_due_jobs().await;
    let started = list(&app, 1).await.expect("the slot started a campaign");
    assert_eq!(started.campaign, 1);
    assert_eq!(started.scope, "billing-admin");
    assert_eq!(started.reviewer.as_str(), "fran");
    assert_eq!(started.started_by.as_str(), "steward");
    assert_eq!(started.due_at, at("2026-12-15T09:00:00Z"), "due_in after the slot");
    assert_eq!(started.living.channel, "emea-ops");
    app.flush_outbox(&chat).await;
    assert!(
        dms(&chat)
            .iter()
            .any(|(u, t)| u == "fran" && t.starts_with("Access review #1: 1 grant to review"))
    );

    // The job queued the next slot (1 March, still winter time); a replica restarting now,
    // and the workers running again, start nothing more.
    assert_eq!(pending_slot_jobs(&app).await, [at("2027-03-01T09:00:00Z")]);
    assert_eq!(schedule_all(&app.services).await.unwrap(), 0);
    app.run_due_jobs().await;
    assert!(list(&app, 2).await.is_none(), "one campaign for the slot");
    assert!(storage::access_reviews::list_ids(&app.pool, 2).await.unwrap().is_empty());
}

#[tokio::test]
async fn reminders_come_in_a_series_then_the_overdue_list_closes_itself_revoking_what_is_left() {
    let mut settings = demo_settings();
    settings.access.review.remind_before = vec!["7d".into(), "1d".into(), "2h".into()];
    settings.access.review.close_policy = ClosePolicy::Revoke;
    settings.access.review.close_after = "1d".into();
    let app = TestApp::spawn_with(settings).await;
    let chat = Arc::new(RecordingChat::default());
    alices_grant(&app, &chat).await;
    // Due at the end of 4 December in sam's zone (Berlin): 22:59:59 UTC.
    let reply = app.command("sam", "/access review start billing-admin due=2026-12-04").await;
    assert_eq!(text_of(&reply), "Access review #1 started: 1 grant in 1 reviewer list.");
    let reminders = |chat: &RecordingChat| {
        dms(chat).into_iter().filter(|(u, t)| u == "fran" && t.starts_with("Reminder:")).count()
    };

    // Seven days before: the first reminder, once however often the workers run.
    app.clock.set(at("2026-11-28T00:00:00Z"));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(reminders(&chat), 1);

    // Two hours before, the 1-day and the 2-hour reminders are both due: only the latest.
    app.clock.set(at("2026-12-04T22:00:00Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(reminders(&chat), 2);
    assert_eq!(list(&app, 1).await.unwrap().reminders_sent, [7 * 86_400, 2 * 3_600]);

    // Overdue: fran's supervisor sam is told; the list stays open for a day.
    app.clock.set(at("2026-12-05T00:00:00Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(list(&app, 1).await.unwrap().state, ReviewState::Open);
    assert!(dms(&chat).iter().any(|(u, t)| u == "sam" && t.contains("is overdue")));
    assert_eq!(field(&latest_card(&chat, "rev:1"), "Overdue, escalated to"), "Sam Sutherland");

    // A day after the due time it closes by itself: the grant nobody reviewed is revoked.
    app.clock.set(at("2026-12-05T22:59:58Z"));
    app.run_due_jobs().await;
    assert_eq!(list(&app, 1).await.unwrap().state, ReviewState::Open, "not a second early");
    app.clock.set(at("2026-12-05T22:59:59Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let closed = list(&app, 1).await.unwrap();
    assert_eq!(closed.state, ReviewState::Closed);
    let decision = closed.entries[0].decision.as_ref().unwrap();
    assert_eq!((decision.verdict, decision.by.as_str()), (ReviewVerdict::Revoked, "steward"));
    let grant = storage::items::get::<AccessRequest>(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(grant.state, AccessState::Revoked);
    assert_eq!(grant.closed.unwrap().reason.as_deref(), Some("revoked in access review #1"));
    let card = latest_card(&chat, "rev:1");
    assert_eq!(field(&card, "State"), "Closed");
    assert!(card.buttons.is_empty(), "{card:#?}");
    assert!(dms(&chat).iter().any(|(u, t)| u == "alice" && t.contains("revoked in access review")));

    // The evidence: each reminder, the escalation and the close, in one verified chain.
    let mut out = Vec::new();
    steward::services::access::review::export(&app.pool, 1, ExportFormat::Jsonl, &mut out)
        .await
        .unwrap();
    let actions: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let l: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{} {}", l["action"].as_str().unwrap(), l["actor"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        actions,
        ["start sam", "remind steward", "remind steward", "overdue steward", "close steward"]
    );
    let records = storage::audit_log::list_subject(&app.pool, "review:1").await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
}
