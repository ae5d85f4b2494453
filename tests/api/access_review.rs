//! An access review campaign: lists per reviewer, certify and revoke, a reviewer never
//! certifying their own access, the overdue escalation, close with the flag policy, and the
//! export auditors get.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use steward::domain::access::review::{ReviewList, ReviewState, ReviewVerdict};
use steward::domain::access::{AccessRequest, AccessState};
use steward::services::audit::ExportFormat;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card};
use crate::support::{TestApp, text_of};

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

async fn grant(
    app: &TestApp,
    chat: &Arc<RecordingChat>,
    who: &str,
    role: &str,
    approver: &str,
    id: i64,
) {
    let reply =
        app.command(who, &format!("/access request billing-admin {role} 30d quarter close")).await;
    assert!(text_of(&reply).starts_with(&format!("Access #{id} requested")), "{reply:?}");
    app.flush_outbox(chat).await;
    let approve = button(&latest_card(chat, &format!("acc:{id}")), "Approve");
    assert_eq!(
        text_of(&app.click(approver, &approve, None).await),
        format!("Access #{id} approved.")
    );
}

async fn list(app: &TestApp, id: i64) -> ReviewList {
    storage::items::get::<ReviewList>(&app.pool, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_campaign_certifies_revokes_escalates_when_overdue_closes_and_exports_the_evidence() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    grant(&app, &chat, "alice", "viewer", "sam", 1).await;
    grant(&app, &chat, "sam", "operator", "fran", 2).await;
    grant(&app, &chat, "fran", "viewer", "sam", 3).await;

    let reply = app.command("alice", "/access review start billing-admin").await;
    assert_eq!(
        text_of(&reply),
        "You can't do that: only supervisors and admins start and close access reviews."
    );
    let reply = app.command("sam", "/access review start billing-admin due=2026-11-20").await;
    assert_eq!(text_of(&reply), "The due date 2026-11-20 has passed; give a later one.");
    let reply = app.command("sam", "/access review start billing-admin due=2026-11-30").await;
    assert_eq!(text_of(&reply), "Access review #1 started: 3 grants in 2 reviewer lists.");
    app.flush_outbox(&chat).await;

    // fran (the owner) reviews alice's and sam's grants; her own goes to sam, her supervisor.
    let frans = latest_card(&chat, "rev:1");
    assert_eq!(frans.title, "Access review #1 · Fran Fischer · list #1");
    assert!(
        field(&frans, "State").starts_with("Open: 2 of 2 left · due Mon 30 Nov 22:59 GMT"),
        "{frans:#?}"
    );
    assert!(field(&frans, "State").ends_with("showing 2 of 2"), "{frans:#?}");
    let labels: Vec<&str> = frans.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Certify #1", "Revoke #1", "Certify #2", "Revoke #2", "Certify all shown (2)"]
    );
    let sams = latest_card(&chat, "rev:2");
    assert!(
        field(&sams, "Grants").starts_with("#3 billing-admin viewer · Fran Fischer"),
        "{sams:#?}"
    );
    assert!(
        dms(&chat)
            .iter()
            .any(|(u, t)| u == "fran" && t.starts_with("Access review #1: 2 grants to review"))
    );

    // Only the list's reviewer decides on it.
    let reply = app.click("sam", &button(&frans, "Certify #1"), None).await;
    assert_eq!(
        text_of(&reply),
        "This list is Fran Fischer's to review (and their supervisor's once it is overdue)."
    );
    let reply = app.click("fran", &button(&frans, "Certify #1"), None).await;
    assert_eq!(text_of(&reply), "Access #1 certified.");

    // At the due time fran's list is overdue: sam is told and may decide — but not his own.
    app.clock.set(at("2026-12-01T00:00:00Z"));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let frans = latest_card(&chat, "rev:1");
    assert_eq!(field(&frans, "Overdue, escalated to"), "Sam Sutherland");
    assert!(dms(&chat).iter().any(|(u, t)| u == "sam"
        && t.starts_with("Access review #1 is overdue: Fran Fischer has 1 grant left")));
    let reply = app.click("sam", &button(&frans, "Certify #2"), None).await;
    assert_eq!(text_of(&reply), "Access #2 is your own: someone else certifies it.");
    let reply = app.click("sam", &button(&frans, "Certify all shown (1)"), None).await;
    assert_eq!(
        text_of(&reply),
        "Nothing shown is yours to certify: your own grants stay for someone else."
    );

    // sam revokes fran's grant on his list: the grant ends at once.
    let sams = latest_card(&chat, "rev:2");
    assert_eq!(
        text_of(&app.click("sam", &button(&sams, "Revoke #3"), None).await),
        "Access #3 revoked."
    );
    let revoked = storage::items::get::<AccessRequest>(&app.pool, 3).await.unwrap().unwrap();
    assert_eq!(revoked.state, AccessState::Revoked);
    assert_eq!(revoked.closed.unwrap().reason.as_deref(), Some("revoked in access review #1"));
    assert_eq!(list(&app, 2).await.state, ReviewState::Done);

    // Closing flags what nobody reviewed (the configured policy) and leaves the grant.
    assert_eq!(
        text_of(&app.command("sam", "/access review close 1").await),
        "Access review #1 closed (1 open list)."
    );
    let closed = list(&app, 1).await;
    assert_eq!(closed.state, ReviewState::Closed);
    assert_eq!(closed.entries[1].decision.as_ref().unwrap().verdict, ReviewVerdict::Flagged);
    let still = storage::items::get::<AccessRequest>(&app.pool, 2).await.unwrap().unwrap();
    assert_eq!(still.state, AccessState::Active);

    // The export: every decision with who, when and the audit chain's hashes.
    let mut out = Vec::new();
    let written =
        steward::services::access::review::export(&app.pool, 1, ExportFormat::Jsonl, &mut out)
            .await
            .unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(written, lines.len());
    let actions: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["subject"].as_str().unwrap(),
                l["action"].as_str().unwrap(),
                l["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("review:1", "start", "sam"),
            ("review:1", "certify", "fran"),
            ("review:2", "start", "sam"),
            ("review:1", "remind", "steward"),
            ("review:1", "overdue", "steward"),
            ("review:1", "close", "sam"),
            ("review:2", "remind", "steward"),
            ("review:2", "overdue", "steward"),
            ("review:2", "revoke", "sam"),
        ]
    );
    assert!(lines.iter().all(|l| l["hash"].as_str().is_some_and(|h| h.len() == 64)));
    for subject in ["review:1", "review:2"] {
        let records = storage::audit_log::list_subject(&app.pool, subject).await.unwrap();
        assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    }
    let mut csv = Vec::new();
    steward::services::access::review::export(&app.pool, 1, ExportFormat::Csv, &mut csv)
        .await
        .unwrap();
    assert!(
        String::from_utf8(csv).unwrap().starts_with("seq,at,actor,subject,subject_seq,action,")
    );
}

#[tokio::test]
async fn imported_grants_are_reviewed_too_and_a_bad_file_imports_nothing() {
    use steward::services::access::import::import;
    let app = TestApp::spawn().await;
    let header = "person,system,role,granted_at,expires_at";
    let bad = format!(
        "{header}\nalice,crm,viewer,2026-01-05T09:00:00Z,\nbob,crm,viewer,2026-01-05T09:00:00Z,\n"
    );
    let err = import(&app.services, &bad).await.unwrap_err().to_string();
    assert_eq!(err, "Line 3: there is no person `bob`.");
    let bad_role = format!("{header}\nalice,crm,owner,2026-01-05T09:00:00Z,\n");
    let err = import(&app.services, &bad_role).await.unwrap_err().to_string();
    assert_eq!(err, "Line 2: crm has no role `owner`. Roles: viewer, editor.");
    assert!(
        storage::items::get::<AccessRequest>(&app.pool, 1).await.unwrap().is_none(),
        "nothing imported"
    );

    let good = format!(
        "{header}\nalice,crm,viewer,2026-01-05T09:00:00Z,\nsam,billing-admin,operator,2026-06-01T09:00:00Z,2026-12-01T09:00:00Z\n"
    );
    assert_eq!(import(&app.services, &good).await.unwrap(), "Imported 2 grants.");
    let sams = storage::items::get::<AccessRequest>(&app.pool, 2).await.unwrap().unwrap();
    assert_eq!(sams.state, AccessState::Active);
    let who = app.command("sam", "/access who crm").await.message.card.unwrap().body.unwrap();
    assert!(who.starts_with("#1 crm viewer · Alice Archer · active until "), "{who}");

    let reply = app.command("ada", "/access review start all").await;
    assert_eq!(text_of(&reply), "Access review #1 started: 2 grants in 2 reviewer lists.");
    // The imported grant expires like any other: its revoke runs.
    app.clock.set(at("2026-12-01T09:00:00Z"));
    app.run_due_jobs().await;
    let sams = storage::items::get::<AccessRequest>(&app.pool, 2).await.unwrap().unwrap();
    assert_eq!(sams.state, AccessState::Expired);
}
