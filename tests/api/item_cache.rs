//! The copy each process keeps of the items it committed (`storage::item_cache`): a click on
//! a card it just published is decided without reading the row, and a copy that another
//! process or a job has overtaken never decides anything.

use chrono::Duration;
use steward::domain::escalation::Escalation;
use steward::domain::ids::Platform;
use steward::domain::inbound::{Inbound, InboundKind};
use steward::domain::item::ItemKind;
use steward::services::Services;
use steward::storage;

use crate::support::{TestApp, demo_settings, text_of};

/// A second daemon on the same database, with its own copy of what it commits.
fn other_process(app: &TestApp) -> Services {
    let settings = demo_settings();
    let directory = settings.directory().unwrap();
    Services::new(app.pool.clone(), app.clock.clone(), directory, settings).unwrap()
}

fn click(user: &str, action: &str) -> Inbound {
    Inbound {
        dedupe_key: Inbound::click_dedupe_key(Platform::Console, user, action),
        platform: Platform::Console,
        workspace: None,
        actor: user.to_owned(),
        channel: "emea-ops".to_owned(),
        kind: InboundKind::Action { action: action.to_owned() },
    }
}

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("escalation:{id}")).await.unwrap();
    records.into_iter().map(|r| r.entry.action).collect()
}

#[tokio::test]
async fn a_click_on_a_card_another_process_acted_on_meanwhile_is_decided_again_on_the_row() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let cache = app.services.item_cache();
    assert!(cache.get(ItemKind::Escalation, 1, 1).is_some(), "the opening process keeps v1");

    // The other daemon takes the acknowledgement: this process's copy is now behind.
    let other = other_process(&app);
    let reply = other.handle_inbound(click("alice", "esc:1:acknowledge:v1")).await;
    assert_eq!(text_of(&reply), "Escalation #1 acknowledged.");

    // A claim on the v1 card reaches this process: decided on its copy, the write finds the
    // row moved on, and the second attempt reads the row and answers with the current card.
    let reply = app.services.handle_inbound(click("sam", "esc:1:claim:v1")).await;
    assert!(text_of(&reply).contains("changed since you looked"), "{}", text_of(&reply));
    let card = reply.message.card.as_ref().expect("the current card");
    assert!(card.buttons.iter().any(|b| b.action == "esc:1:claim:v2"), "{card:?}");
    assert_eq!(audit_actions(&app, 1).await, ["open", "acknowledge"]);
    assert!(cache.get(ItemKind::Escalation, 1, 1).is_none(), "the overtaken copy is dropped");

    // Acting on the current card works, and this process keeps what it wrote.
    let reply = app.services.handle_inbound(click("sam", "esc:1:claim:v2")).await;
    assert_eq!(text_of(&reply), "Escalation #1 is yours now.");
    let stored: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
    assert!(cache.get(ItemKind::Escalation, 1, 3).is_some());
    assert_eq!(audit_actions(&app, 1).await, ["open", "acknowledge", "claim"]);
}

#[tokio::test]
async fn a_click_on_the_card_a_timer_updated_reads_the_row_the_timer_wrote() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    // The paging timer changes the escalation in a job, which this process's copy of v1
    // does not see.
    app.clock.advance(Duration::minutes(10));
    assert!(!app.run_due_jobs().await.is_empty());
    let paged: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    assert!(paged.version > 1, "the timer wrote a new version");
    assert!(app.services.item_cache().get(ItemKind::Escalation, 1, 1).is_some());

    let action = format!("esc:1:acknowledge:v{}", paged.version);
    let reply = app.services.handle_inbound(click("alice", &action)).await;
    assert_eq!(text_of(&reply), "Escalation #1 acknowledged.");
    assert_eq!(audit_actions(&app, 1).await.last().map(String::as_str), Some("acknowledge"));
}
