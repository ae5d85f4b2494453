//! The write set as one statement (`storage::effects::write`): all of it or nothing, with no
//! transaction around it, whichever part refuses.

use futures::future::join_all;
use steward::domain::escalation::Escalation;
use steward::domain::item::LivingItem;
use steward::domain::reply::{Message, Reply};
use steward::storage;
use steward::storage::effects::{Effects, InboxRecord, Written};
use steward::storage::items::ItemWrite;
use steward::storage::outbox::{NewOutboxMessage, OutboxKind};

use crate::support::{TestApp, t0};

/// A write set that moves escalation `e` on by one version, with a message and (unless the
/// escalation is left out) its row.
fn moved_on(app: &TestApp, e: &Escalation, tag: &str) -> Effects {
    let mut effects = app.services.effects();
    let mut next = e.clone();
    next.bump_version();
    next.summary = format!("changed by {tag}");
    effects.write_item(ItemWrite::update(&next, next.projection().unwrap()).unwrap());
    effects.send(NewOutboxMessage {
        platform: "console".into(),
        kind: OutboxKind::Post,
        target: "ops".into(),
        message: Message::text(format!("from {tag}")),
        dedupe_key: format!("msg-{tag}"),
        not_before: t0(),
        workspace: None,
    });
    effects
}

async fn counts(app: &TestApp) -> (i64, i64) {
    let fanouts: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(cardinality(dedupe_keys)), 0)::int8 FROM outbox_fanouts",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let inbox = storage::inbox::count(&app.pool).await.unwrap();
    (fanouts, inbox)
}

#[tokio::test]
async fn racing_writers_of_one_item_version_write_once_and_the_losers_write_nothing() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev2 Payments portal slow").await;
    let read: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    let (messages_before, inbox_before) = counts(&app).await;
    let reply = Reply::private("done");
    let writers = (0..12).map(|i| {
        let (pool, reply) = (app.pool.clone(), reply.clone());
        let effects = moved_on(&app, &read, &format!("w{i}"));
        tokio::spawn(async move {
            let key = format!("evt-w{i}");
            let record = InboxRecord {
                dedupe_key: &key,
                platform: "console",
                actor: "alice",
                summary: "/x",
                reply: &reply,
            };
            // On its own connection, outside any transaction: the statement is the unit.
            let mut conn = pool.acquire().await.unwrap();
            storage::effects::write(&mut conn, &effects, Some(record), t0()).await.unwrap()
        })
    });
    let outcomes: Vec<Written> = join_all(writers).await.into_iter().map(Result::unwrap).collect();
    let done = outcomes.iter().filter(|o| **o == Written::Done).count();
    assert_eq!(done, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Written::Done | Written::Conflict)));
    let stored: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(stored.version, read.version + 1);
    let (messages, inbox) = counts(&app).await;
    assert_eq!(messages, messages_before + 1, "only the winner's message");
    assert_eq!(inbox, inbox_before + 1, "only the winner's inbox row");
}

#[tokio::test]
async fn a_duplicate_event_writes_none_of_its_set_even_its_item_row() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev2 Payments portal slow").await;
    let read: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    let reply = Reply::private("done");
    let record = || InboxRecord {
        dedupe_key: "evt-once",
        platform: "console",
        actor: "alice",
        summary: "/x",
        reply: &reply,
    };
    let mut conn = app.pool.acquire().await.unwrap();
    let nothing_else = app.services.effects();
    let first = storage::effects::write(&mut conn, &nothing_else, Some(record()), t0()).await;
    assert_eq!(first.unwrap(), Written::Done);
    let (messages_before, inbox_before) = counts(&app).await;
    // The redelivery would move the item on: it is a duplicate first, and writes nothing.
    let again = moved_on(&app, &read, "again");
    let second = storage::effects::write(&mut conn, &again, Some(record()), t0()).await.unwrap();
    assert_eq!(second, Written::Duplicate);
    let stored: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(stored.version, read.version, "the item row is not written");
    assert_eq!(counts(&app).await, (messages_before, inbox_before));
}

#[tokio::test]
async fn a_write_set_postgres_aborts_to_break_a_deadlock_is_a_conflict_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev2 Payments portal slow").await;
    let read: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    let (messages_before, inbox_before) = counts(&app).await;
    // Another transaction holds the escalation's row, and waits longer than the write set
    // before looking for a deadlock, so the write set is the one PostgreSQL aborts.
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL deadlock_timeout = '20s'").execute(&mut *other).await.unwrap();
    sqlx::query("SELECT 1 FROM escalations WHERE id = 1 FOR UPDATE")
        .execute(&mut *other)
        .await
        .unwrap();
    // The write set inserts its inbox key, then waits for the row.
    let effects = moved_on(&app, &read, "victim");
    let pool = app.pool.clone();
    let writer = tokio::spawn(async move {
        let reply = Reply::private("done");
        let record = InboxRecord {
            dedupe_key: "evt-deadlock",
            platform: "console",
            actor: "alice",
            summary: "/x",
            reply: &reply,
        };
        let mut conn = pool.acquire().await.unwrap();
        storage::effects::write(&mut conn, &effects, Some(record), t0()).await
    });
    let waiting = "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'
                     AND query LIKE 'WITH%')";
    while !sqlx::query_scalar::<_, bool>(waiting).fetch_one(&app.pool).await.unwrap() {
        tokio::task::yield_now().await;
    }
    // Now the other transaction wants the write set's inbox key: each waits for the other.
    sqlx::query(
        "INSERT INTO inbox (dedupe_key, platform, actor, summary, received_at, reply)
         VALUES ('evt-deadlock', 'console', 'bob', '/y', now(), '{}')",
    )
    .execute(&mut *other)
    .await
    .expect("the write set is the deadlock's victim, so this insert goes through");
    other.rollback().await.unwrap();
    let written = writer.await.unwrap().expect("a deadlock's victim is not an error");
    assert_eq!(written, Written::Conflict);
    let stored: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!(stored.version, read.version, "the item row is not written");
    assert_eq!(counts(&app).await, (messages_before, inbox_before));
}

#[tokio::test]
async fn an_item_saved_twice_in_one_set_is_written_once_over_the_version_read() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev2 Payments portal slow").await;
    let read: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    let mut effects = app.services.effects();
    let mut once = read.clone();
    once.bump_version();
    effects.write_item(ItemWrite::update(&once, once.projection().unwrap()).unwrap());
    let mut twice = once.clone();
    twice.bump_version();
    twice.summary = "the later content".into();
    effects.write_item(ItemWrite::update(&twice, twice.projection().unwrap()).unwrap());
    assert_eq!(effects.items.len(), 1);
    let mut conn = app.pool.acquire().await.unwrap();
    storage::effects::write_all(&mut conn, &effects, t0()).await.unwrap();
    let stored: Escalation = storage::items::get(&app.pool, 1).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.summary.as_str()), (read.version + 2, "the later content"));
}

/// A DM to each of `targets`, the first, third, … saying one thing and the others another.
fn two_texts(app: &TestApp, targets: &[&str]) -> Effects {
    let mut effects = app.services.effects();
    for (i, target) in targets.iter().enumerate() {
        effects.send(NewOutboxMessage {
            platform: "console".into(),
            kind: OutboxKind::Dm,
            target: (*target).to_owned(),
            message: Message::text(if i % 2 == 0 { "even" } else { "odd" }),
            dedupe_key: format!("shared-{i}"),
            not_before: t0(),
            workspace: None,
        });
    }
    effects
}

/// Each outbox row's target and text, in id order.
async fn outbox_rows(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT target, payload->>'text' FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn messages_saying_the_same_store_their_payload_once_and_each_fans_out_with_its_own() {
    let app = TestApp::spawn().await;
    let targets = ["ann", "bob", "cy", "dee", "ed"];
    let mut conn = app.pool.acquire().await.unwrap();
    storage::effects::write_all(&mut conn, &two_texts(&app, &targets), t0()).await.unwrap();
    let stored: i32 = sqlx::query_scalar("SELECT cardinality(payloads) FROM outbox_fanouts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2, "two distinct payloads for five messages");
    assert_eq!(storage::outbox::fan_out(&app.pool).await.unwrap(), 5);
    let expected: Vec<(String, String)> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| ((*t).to_owned(), if i % 2 == 0 { "even" } else { "odd" }.to_owned()))
        .collect();
    assert_eq!(outbox_rows(&app).await, expected);
}

#[tokio::test]
async fn a_write_set_stored_before_payloads_were_shared_fans_out_one_payload_per_message() {
    let app = TestApp::spawn().await;
    // The row shape before `payload_of`: one payload per message, in order.
    sqlx::query(
        "INSERT INTO outbox_fanouts (platforms, kinds, targets, payloads, living_keys,
                                     dedupe_keys, not_befores, created_at)
         VALUES ('{console,console}', '{dm,dm}', '{ann,bob}',
                 ARRAY['{\"text\": \"first\"}', '{\"text\": \"second\"}']::jsonb[],
                 ARRAY[NULL, NULL]::text[], '{old-1,old-2}', ARRAY[now(), now()], now())",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(storage::outbox::fan_out(&app.pool).await.unwrap(), 2);
    let expected = vec![("ann".into(), "first".into()), ("bob".into(), "second".into())];
    assert_eq!(outbox_rows(&app).await, expected);
}
