use std::sync::Arc;
use std::time::Duration;

use steward::domain::reply::{Card, Message};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ports::SendError;
use steward::storage::effects;
use steward::storage::outbox::{self, NewOutboxMessage, OutboxKind};

use crate::support::TestApp;
use crate::support::chat::{ChatCall, RecordingChat};

fn card(key: &str, title: &str) -> Message {
    Message::card(Card { living_key: Some(key.into()), title: title.into(), ..Card::default() })
}

async fn enqueue(app: &TestApp, dedupe: &str, message: Message) -> bool {
    let new = self::message(dedupe, message, app);
    let mut conn = app.pool.acquire().await.unwrap();
    outbox::enqueue(&mut conn, &new, app.now()).await.unwrap()
}

impl TestApp {
    fn dispatcher(&self, chat: &Arc<RecordingChat>) -> Dispatcher {
        Dispatcher::new(
            self.services.clone(),
            vec![chat.clone() as Arc<dyn steward::services::ChatPort>],
        )
    }
}

#[tokio::test]
async fn a_message_enqueued_twice_with_one_dedupe_key_is_sent_once() {
    let app = TestApp::spawn().await;
    assert!(enqueue(&app, "k1", Message::text("hello")).await);
    assert!(!enqueue(&app, "k1", Message::text("hello")).await);
    let chat = Arc::new(RecordingChat::default());
    app.dispatcher(&chat).flush().await.unwrap();
    assert_eq!(chat.calls().len(), 1);
    assert_eq!(outbox::counts(&app.pool).await.unwrap().sent, 1);
}

#[tokio::test]
async fn a_living_card_is_posted_once_then_updated_in_place() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    let dispatcher = app.dispatcher(&chat);
    enqueue(&app, "v1", card("esc:1", "Escalation v1")).await;
    dispatcher.flush().await.unwrap();
    enqueue(&app, "v2", card("esc:1", "Escalation v2")).await;
    dispatcher.flush().await.unwrap();
    let calls = chat.calls();
    assert!(matches!(&calls[0], ChatCall::Post { .. }), "{calls:?}");
    match &calls[1] {
        ChatCall::Update { at, message } => {
            assert_eq!(at.message_id, "m1");
            assert_eq!(message.card.as_ref().unwrap().title, "Escalation v2");
        }
        other => panic!("expected an update, got {other:?}"),
    }
}

#[tokio::test]
async fn a_newer_card_supersedes_unsent_versions_of_the_same_living_message() {
    let app = TestApp::spawn().await;
    for version in 1..=3 {
        enqueue(&app, &format!("v{version}"), card("esc:2", &format!("v{version}"))).await;
    }
    let chat = Arc::new(RecordingChat::default());
    app.dispatcher(&chat).flush().await.unwrap();
    let calls = chat.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        matches!(&calls[0], ChatCall::Post { message, .. } if message.card.as_ref().unwrap().title == "v3")
    );
}

#[tokio::test]
async fn retry_after_is_honoured_and_the_message_is_sent_after_the_wait() {
    let app = TestApp::spawn().await;
    enqueue(&app, "k", Message::text("rate limited")).await;
    let chat = Arc::new(RecordingChat::default());
    chat.fail_next([SendError::Retryable {
        reason: "ratelimited".into(),
        retry_after: Some(Duration::from_secs(30)),
    }]);
    let dispatcher = app.dispatcher(&chat);
    dispatcher.flush().await.unwrap();
    assert!(chat.calls().is_empty());
    app.clock.advance(chrono::Duration::seconds(29));
    assert_eq!(dispatcher.dispatch_once().await.unwrap(), 0, "must not send before Retry-After");
    app.clock.advance(chrono::Duration::seconds(1));
    dispatcher.flush().await.unwrap();
    assert_eq!(chat.calls().len(), 1);
}

#[tokio::test]
async fn pacing_defers_a_send_without_using_up_its_attempts() {
    let app = TestApp::spawn().await;
    enqueue(&app, "k", Message::text("busy channel")).await;
    let chat = Arc::new(RecordingChat::default());
    let max_attempts = app.services.setup().settings.outbox.max_attempts;
    let paced =
        (0..max_attempts + 2).map(|_| SendError::Paced { retry_after: Duration::from_secs(1) });
    chat.fail_next(paced);
    let dispatcher = app.dispatcher(&chat);
    for _ in 0..max_attempts + 2 {
        assert_eq!(dispatcher.dispatch_once().await.unwrap(), 1);
        assert_eq!(dispatcher.dispatch_once().await.unwrap(), 0, "must wait for the pacing");
        app.clock.advance(chrono::Duration::seconds(1));
    }
    dispatcher.flush().await.unwrap();
    assert_eq!(chat.calls().len(), 1);
    let counts = outbox::counts(&app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0));
}

#[tokio::test]
async fn a_permanent_error_marks_the_message_failed_with_the_reason() {
    let app = TestApp::spawn().await;
    enqueue(&app, "k", Message::text("to nowhere")).await;
    let chat = Arc::new(RecordingChat::default());
    chat.fail_next([SendError::Permanent { reason: "channel_not_found".into() }]);
    app.dispatcher(&chat).flush().await.unwrap();
    let counts = outbox::counts(&app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 1));
    assert_eq!(counts.last_error.as_deref(), Some("channel_not_found"));
    let status = app.command("ada", "/steward status").await;
    assert!(status.message.text.unwrap().contains("1 failed"));
}

#[tokio::test]
async fn a_thread_reply_is_posted_under_its_parent_card() {
    let app = TestApp::spawn().await;
    enqueue(&app, "card", card("esc:3", "Escalation")).await;
    let mut reply = Message::text("acknowledged by sam");
    reply.thread_of = Some("esc:3".into());
    enqueue(&app, "line", reply).await;
    let chat = Arc::new(RecordingChat::default());
    app.dispatcher(&chat).flush().await.unwrap();
    match &chat.calls()[1] {
        ChatCall::Post { thread: Some(parent), .. } => assert_eq!(parent.message_id, "m1"),
        other => panic!("expected a threaded post, got {other:?}"),
    }
}

#[tokio::test]
async fn two_dispatchers_never_send_the_same_message_twice() {
    let app = TestApp::spawn().await;
    for i in 0..40 {
        enqueue(&app, &format!("k{i}"), Message::text(format!("message {i}"))).await;
    }
    let chat = Arc::new(RecordingChat::default());
    let (a, b) = (app.dispatcher(&chat), app.dispatcher(&chat));
    let (ra, rb) = tokio::join!(a.flush(), b.flush());
    ra.unwrap();
    rb.unwrap();
    let mut texts: Vec<String> = chat
        .calls()
        .into_iter()
        .map(|c| match c {
            ChatCall::Post { message, .. } => message.text.unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 40);
    assert_eq!(chat.calls().len(), 40);
}

/// A console message to `target` with `dedupe`, as a transition writes it.
fn message(dedupe: &str, message: Message, app: &TestApp) -> NewOutboxMessage {
    NewOutboxMessage {
        platform: "console".into(),
        kind: OutboxKind::Post,
        target: "ops".into(),
        message,
        dedupe_key: dedupe.into(),
        not_before: app.now(),
        workspace: None,
    }
}

async fn write_set(app: &TestApp, messages: Vec<NewOutboxMessage>) {
    let mut effects = app.services.effects();
    for m in messages {
        effects.send(m);
    }
    let mut conn = app.pool.acquire().await.unwrap();
    effects::write_all(&mut conn, &effects, app.now()).await.unwrap();
}

async fn outbox_keys(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT dedupe_key FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn write_sets_fan_out_in_the_order_they_were_written_and_a_repeated_key_sends_once() {
    let app = TestApp::spawn().await;
    for version in 1..=3 {
        let title = format!("v{version}");
        write_set(
            &app,
            vec![
                message(&format!("card:v{version}"), card("esc:9", &title), &app),
                NewOutboxMessage {
                    workspace: Some("T0PAGED".into()),
                    ..message("page:once", Message::text("you are paged"), &app)
                },
            ],
        )
        .await;
    }
    // Not fanned out yet, and still counted as waiting to be sent.
    assert!(outbox_keys(&app).await.is_empty());
    assert_eq!(outbox::counts(&app.pool).await.unwrap().pending, 6);

    assert_eq!(outbox::fan_out(&app.pool).await.unwrap(), 4);
    assert_eq!(outbox_keys(&app).await, ["card:v1", "page:once", "card:v2", "card:v3"]);
    // Each message keeps its workspace (whose token sends it).
    let workspaces: Vec<Option<String>> =
        sqlx::query_scalar("SELECT workspace FROM outbox ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(workspaces, [None, Some("T0PAGED".into()), None, None]);
    let chat = Arc::new(RecordingChat::default());
    app.dispatcher(&chat).flush().await.unwrap();
    let calls = chat.calls();
    let titles: Vec<&str> = calls
        .iter()
        .filter_map(|c| match c {
            ChatCall::Post { message, .. } => Some(match &message.card {
                Some(card) => card.title.as_str(),
                None => message.text.as_deref().unwrap_or(""),
            }),
            _ => None,
        })
        .collect();
    // The newest card supersedes the unsent older ones; the page goes once.
    assert_eq!(titles, ["you are paged", "v3"], "{calls:?}");
}

#[tokio::test]
async fn concurrent_dispatchers_fan_out_every_write_set_once_in_write_order() {
    let app = TestApp::spawn().await;
    // More than one dispatcher's share (500 write sets per turn), so turns follow each other.
    let written: Vec<String> = (0..1_200).map(|n| format!("k{n}")).collect();
    for key in &written {
        write_set(&app, vec![message(key, Message::text(key.clone()), &app)]).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let pool = app.pool.clone();
        tasks.spawn(async move {
            let mut made = 0;
            // Until nothing waits: a dispatcher that finds another fanning out goes on.
            while sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM outbox_fanouts)")
                .fetch_one(&pool)
                .await
                .unwrap()
            {
                made += outbox::fan_out(&pool).await.unwrap();
                tokio::task::yield_now().await;
            }
            made
        });
    }
    let made: u64 = tasks.join_all().await.into_iter().sum();
    assert_eq!(made, 1_200);
    assert_eq!(outbox_keys(&app).await, written);
}
