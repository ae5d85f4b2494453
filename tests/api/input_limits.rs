//! Free text has a length limit (2,000 characters): a summary, note or reason over it is
//! refused with a clear message before anything is written.

use steward::domain::escalation::EscalationState;
use steward::storage;

use crate::support::{TestApp, text_of};

#[tokio::test]
async fn an_overlong_summary_or_note_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(10_000);
    let lines = [
        format!("/escalate ACME-1042 sev3 {long}"),
        format!("/request GLOBEX-7 onboarding {long}"),
        format!("/credit ACME-1042 250 USD goodwill {long}"),
    ];
    for line in &lines {
        let reply = app.command("alice", line).await;
        let text = text_of(&reply);
        assert!(reply.ephemeral, "{text}");
        assert!(text.contains("is too long: 10,000 characters, at most 2,000."), "{text}");
        assert!(text.contains("\nUsage: /"), "{text}");
    }
    assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 0);
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn an_overlong_resolution_note_is_refused_and_the_escalation_stays_open() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let reply = app.click("alice", "esc:1:resolve:v1", Some(&"n".repeat(2_001))).await;
    assert_eq!(text_of(&reply), "The text is too long: 2,001 characters, at most 2,000.");
    let open = storage::escalations::count_in_state(&app.pool, EscalationState::Open);
    assert_eq!(open.await.unwrap(), 1);
    let reply = app.click("alice", "esc:1:resolve:v1", Some(&"n".repeat(2_000))).await;
    assert!(!text_of(&reply).contains("too long"), "{}", text_of(&reply));
    let open = storage::escalations::count_in_state(&app.pool, EscalationState::Open);
    assert_eq!(open.await.unwrap(), 0);
}
