use futures::future::join_all;
use steward::domain::reply::{Message, Reply};
use steward::storage;
use steward::storage::effects::InboxRecord;
use steward::storage::outbox::{NewOutboxMessage, OutboxKind};

use crate::support::{TestApp, command_inbound, t0, text_of};

#[tokio::test]
async fn a_duplicate_delivery_returns_the_stored_reply_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let first =
        app.services.handle_inbound(command_inbound("evt-1", "alice", "/steward whoami")).await;
    // The same event id delivered again, this time claiming to be someone else's text.
    let again =
        app.services.handle_inbound(command_inbound("evt-1", "alice", "/steward help")).await;
    assert_eq!(first, again);
    assert!(text_of(&first).contains("Alice Archer"));
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_duplicates_produce_one_inbox_row_and_identical_replies() {
    let app = TestApp::spawn().await;
    let deliveries = (0..16).map(|_| {
        let services = app.services.clone();
        tokio::spawn(async move {
            services.handle_inbound(command_inbound("evt-race", "sam", "/steward whoami")).await
        })
    });
    let replies: Vec<_> = join_all(deliveries).await.into_iter().map(Result::unwrap).collect();
    assert!(replies.iter().all(|r| r == &replies[0]), "{replies:#?}");
    assert!(text_of(&replies[0]).contains("Sam Sutherland"));
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 1);
}

#[tokio::test]
async fn racing_transactions_on_one_key_apply_their_effect_once() {
    let app = TestApp::spawn().await;
    let reply = Reply::private("done");
    let attempts = (0..16).map(|i| {
        let (pool, reply) = (app.pool.clone(), reply.clone());
        let mut effects = app.services.effects();
        tokio::spawn(async move {
            // Each attempt does its work (here: a message only the winner may send), then
            // records the event, as `handle_inbound` does.
            effects.send(NewOutboxMessage {
                platform: "console".into(),
                kind: OutboxKind::Post,
                target: "ops".into(),
                message: Message::text(format!("effect {i}")),
                dedupe_key: format!("effect-{i}"),
                not_before: t0(),
                workspace: None,
            });
            let record = InboxRecord {
                dedupe_key: "evt-effect",
                platform: "console",
                actor: "alice",
                summary: "/x",
                reply: &reply,
            };
            let mut tx = pool.begin().await.unwrap();
            let written =
                storage::effects::write(&mut tx, &effects, Some(record), t0()).await.unwrap();
            let fresh = written == storage::effects::Written::Done;
            if fresh {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
            fresh
        })
    });
    let winners = join_all(attempts).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(winners, 1);
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().pending, 1);
    assert_eq!(storage::inbox::get_reply(&app.pool, "evt-effect").await.unwrap(), Some(reply));
}

#[tokio::test]
async fn bad_input_writes_nothing() {
    let app = TestApp::spawn().await;
    let reply = app.command("alice", "/steward whoami --verbose").await;
    assert!(reply.ephemeral);
    assert!(text_of(&reply).contains("Usage: /steward whoami"), "{}", text_of(&reply));
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn unknown_people_are_told_how_to_register_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let reply = app.command("mallory", "/steward whoami").await;
    assert!(reply.ephemeral);
    assert!(text_of(&reply).contains("doesn't know console user `mallory`"), "{}", text_of(&reply));
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}
