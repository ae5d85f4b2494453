use std::sync::Arc;
use std::time::Duration;

use steward::domain::reply::{Card, Message};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ports::SendError;
use steward::storage::outbox::{self, NewOutboxMessage, OutboxKind};

use crate::support::TestApp;
use crate::support::chat::{ChatCall, RecordingChat};

fn card(key: &str, title: &str) -> Message {
    Message::card(Card { living_key: Some(key.into()), title: title.into(), ..Card::default() })
}

async fn enqueue(app: &TestApp, dedupe: &str, message: Message) -> bool {
    let new = NewOutboxMessage {
        platform: "console".into(),
        kind: OutboxKind::Post,
        target: "ops".into(),
        message,
        dedupe_key: dedupe.into(),
        not_before: app.now(),
        workspace: None,
    };
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
    let max_attempts = app.services.settings.outbox.max_attempts;
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
