//! Nothing lost under rate limits, outages and restarts (issue 17): waits never spend
//! attempts, a 429 pauses its method for every message, time budgets instead of quick tries,
//! an undeliverable page pages the next level, a bounded stop that hands back leased work,
//! and thread replies reconciled through `conversations.replies`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use steward::config::SlackTransport;
use steward::domain::ids::Platform;
use steward::domain::reply::{Card, Message, MessageRef};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::services::ports::{Delivery, SendError};
use steward::storage::outbox::{self, NewOutboxMessage, OutboxKind};
use tokio_util::sync::CancellationToken;

use crate::slack::{ALICE, CHANNEL, SAM, SlackStory, button, card_post, click_payload};
use crate::support::chat::{ChatCall, RecordingChat, dms, latest_card, thread_lines};
use crate::support::slack_fake::Failure;
use crate::support::{TestApp, text_of};

async fn enqueue(
    app: &TestApp,
    platform: &str,
    kind: OutboxKind,
    target: &str,
    key: &str,
    message: Message,
) {
    let new = NewOutboxMessage {
        platform: platform.into(),
        kind,
        target: target.into(),
        message,
        dedupe_key: key.into(),
        not_before: app.now(),
        workspace: None,
    };
    let mut conn = app.pool.acquire().await.unwrap();
    assert!(outbox::enqueue(&mut conn, &new, app.now()).await.unwrap());
}

async fn attempts(app: &TestApp, key: &str) -> i32 {
    sqlx::query_scalar("SELECT attempts FROM outbox WHERE dedupe_key = $1")
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn dispatcher(app: &TestApp, port: Arc<dyn ChatPort>) -> Dispatcher {
    Dispatcher::new(app.services.clone(), vec![port])
}

#[tokio::test]
async fn a_reply_waiting_for_its_parent_card_spends_no_attempts() {
    let app = TestApp::spawn().await;
    let mut line = Message::text("acknowledged by sam");
    line.thread_of = Some("esc:9".into());
    enqueue(&app, "console", OutboxKind::Post, "ops", "line", line).await;
    let chat = Arc::new(RecordingChat::default());
    let dispatcher = dispatcher(&app, chat.clone());
    for _ in 0..25 {
        dispatcher.dispatch_once().await.unwrap();
        app.clock.advance(chrono::Duration::seconds(1));
    }
    assert_eq!(attempts(&app, "line").await, 0, "25 waits for the parent, no attempt spent");
    let card = Message::card(Card { living_key: Some("esc:9".into()), ..Card::default() });
    enqueue(&app, "console", OutboxKind::Post, "ops", "card", card).await;
    dispatcher.flush().await.unwrap();
    app.clock.advance(chrono::Duration::seconds(1));
    dispatcher.flush().await.unwrap();
    assert_eq!(thread_lines(&chat), ["acknowledged by sam"]);
    assert_eq!(outbox::counts(&app.pool).await.unwrap().failed, 0);
}

#[tokio::test]
async fn temporary_failures_are_retried_for_the_whole_budget_not_ten_quick_tries() {
    let app = TestApp::spawn().await;
    enqueue(&app, "console", OutboxKind::Dm, "alice", "dm", Message::text("please approve")).await;
    let chat = Arc::new(RecordingChat::default());
    let down = || SendError::Retryable { reason: "HTTP 503".into(), retry_after: None };
    chat.fail_next((0..40).map(|_| down()));
    let dispatcher = dispatcher(&app, chat.clone());
    // Twenty failures over the first three hours: the old limit of ten is long past.
    for _ in 0..20 {
        dispatcher.flush().await.unwrap();
        app.clock.advance(chrono::Duration::minutes(10));
    }
    let counts = outbox::counts(&app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (1, 0), "{counts:?}");
    assert!(attempts(&app, "dm").await >= 20);
    // Past the DM budget (6 h), the next failure gives up.
    let budget = app.services.setup().settings.outbox.dm_budget_minutes as i64;
    app.clock.advance(chrono::Duration::minutes(budget));
    dispatcher.flush().await.unwrap();
    let counts = outbox::counts(&app.pool).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 1), "{counts:?}");
    assert!(counts.last_error.unwrap().contains("HTTP 503"));
    assert!(chat.calls().is_empty());
}

#[tokio::test]
async fn an_undeliverable_page_pages_the_next_level_at_once_and_shows_in_status() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    chat.fail_every_dm(SendError::Permanent { reason: "cannot_dm_bot".into() });
    app.command("alice", "/escalate ACME-1042 sev2 Invoices are not being generated").await;
    app.flush_outbox(&chat).await;
    assert!(latest_card(&chat, "esc:1").fields.iter().any(|f| f.value.starts_with("level 1 of 3")));
    // No minutes pass: the failed page itself moves paging on.
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    let paging = card.fields.iter().find(|f| f.label.starts_with("Paging")).unwrap();
    assert!(paging.value.starts_with("level 2 of 3"), "{card:#?}");
    let lines = thread_lines(&chat);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("The level 1 page could not be delivered (cannot_dm_bot)")),
        "{lines:?}"
    );
    let status = text_of(&app.command("ada", "/steward status").await);
    assert!(status.contains("Pages not delivered:"), "{status}");
    assert!(dms(&chat).is_empty());
}

#[tokio::test]
async fn a_page_that_reached_someone_on_its_level_does_not_move_paging_on() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate ACME-1042 sev2 Invoices are not being generated").await;
    app.flush_outbox(&chat).await;
    let delivered = dms(&chat).len();
    assert!(delivered >= 1);
    // A second page of the same step that failed must not skip a level somebody was told of.
    let page_key = "esc:1:page:0:ghost";
    enqueue(&app, "console", OutboxKind::Dm, "ghost", page_key, Message::text("page")).await;
    chat.fail_every_dm(SendError::Permanent { reason: "user_not_found".into() });
    app.flush_outbox(&chat).await;
    assert!(app.run_due_jobs().await.is_empty(), "no early step job");
}

/// A port that counts sends, asks for a stop after `stop_after` of them, and never answers
/// the one after (a send hanging at shutdown).
struct StoppingChat {
    sent: Arc<std::sync::Mutex<Vec<i64>>>,
    stop_after: usize,
    calls: AtomicUsize,
    shutdown: CancellationToken,
    /// When the stop was asked for: the bound runs from here.
    stopped_at: std::sync::Mutex<Option<Instant>>,
}

#[async_trait]
impl ChatPort for StoppingChat {
    fn platform(&self) -> Platform {
        Platform::Console
    }

    async fn post(
        &self,
        delivery: Delivery,
        channel: &str,
        _message: &Message,
        _thread: Option<&MessageRef>,
    ) -> Result<MessageRef, SendError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call == self.stop_after {
            *self.stopped_at.lock().unwrap() = Some(Instant::now());
            self.shutdown.cancel();
            std::future::pending::<()>().await;
        }
        self.sent.lock().unwrap().push(delivery.outbox_id);
        Ok(MessageRef { channel: channel.into(), message_id: format!("m{}", delivery.outbox_id) })
    }

    async fn update(&self, _: Delivery, _: &MessageRef, _: &Message) -> Result<(), SendError> {
        unreachable!("no cards in this test")
    }

    async fn direct_message(
        &self,
        _: Delivery,
        _: &str,
        _: &Message,
    ) -> Result<MessageRef, SendError> {
        unreachable!("no DMs in this test")
    }
}

#[tokio::test]
async fn a_stop_with_1000_queued_messages_ends_within_the_bound_and_the_next_start_sends_the_rest_once()
 {
    let mut settings = crate::support::demo_settings();
    settings.server.shutdown_timeout_seconds = 2;
    settings.outbox.batch_size = 50;
    let app = TestApp::spawn_with(settings).await;
    for i in 0..1000 {
        let key = format!("m{i}");
        enqueue(
            &app,
            "console",
            OutboxKind::Post,
            &format!("c{}", i % 7),
            &key,
            Message::text(key.clone()),
        )
        .await;
    }
    let shutdown = CancellationToken::new();
    let first = Arc::new(StoppingChat {
        sent: Arc::default(),
        stop_after: 120,
        calls: AtomicUsize::new(0),
        shutdown: shutdown.clone(),
        stopped_at: std::sync::Mutex::new(None),
    });
    // The 120 sends before the stop take what the machine gives them; the bound is on the
    // time from the stop to the end of the run.
    let run = dispatcher(&app, first.clone()).run(shutdown.clone());
    tokio::time::timeout(Duration::from_secs(60), run).await.expect("the run ends");
    let stopped_at = first.stopped_at.lock().unwrap().expect("the stop was asked for");
    assert!(stopped_at.elapsed() < Duration::from_secs(2), "stopped within the bound");
    let sent_before = first.sent.lock().unwrap().clone();
    assert_eq!(sent_before.len(), 120);
    let leased: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND locked_until IS NOT NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leased, 0, "everything claimed but not sent was handed back");

    // The next start, at once (no lease to wait for): the rest, each exactly once.
    let second = Arc::new(RecordingChat::default());
    dispatcher(&app, second.clone()).flush().await.unwrap();
    let counts = outbox::counts(&app.pool).await.unwrap();
    assert_eq!((counts.sent, counts.pending, counts.failed), (1000, 0, 0));
    let mut texts: Vec<String> = second
        .calls()
        .into_iter()
        .map(|c| match c {
            ChatCall::Post { message, .. } => message.text.unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts.len() + sent_before.len(), 1000, "nothing sent twice");
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 880);
}

#[tokio::test]
async fn a_429_pauses_its_method_for_every_message_not_just_the_refused_one() {
    let story = SlackStory::start(SlackTransport::Http).await;
    for i in 0..5 {
        let key = format!("k{i}");
        enqueue(
            &story.app,
            "slack",
            OutboxKind::Post,
            &format!("C0CH{i}"),
            &key,
            Message::text(key.clone()),
        )
        .await;
    }
    story.fake.fail_next("chat.postMessage", [Failure::RateLimited(5)]);
    story.flush().await;
    assert_eq!(story.fake.calls_of("chat.postMessage").len(), 1, "one 429, then everyone waits");
    story.app.clock.advance(chrono::Duration::seconds(4));
    story.flush().await;
    assert_eq!(story.fake.calls_of("chat.postMessage").len(), 1, "still within Retry-After");
    story.app.clock.advance(chrono::Duration::seconds(1));
    story.flush().await;
    assert_eq!(story.fake.answered_calls_of("chat.postMessage").len(), 5);
    for i in 0..5 {
        assert_eq!(attempts(&story.app, &format!("k{i}")).await, 1, "the 429 was no attempt");
    }
}

#[tokio::test]
async fn a_429_storm_loses_nothing_and_duplicates_nothing() {
    let story = SlackStory::start(SlackTransport::Http).await;
    for method in ["chat.postMessage", "chat.update", "conversations.open", "conversations.history"]
    {
        story.fake.rate_limit_every(method, 3, 1);
    }
    // Fifteen escalations: cards, page DMs; then acknowledgements: thread lines, updates.
    for i in 0..15 {
        story.slash(ALICE, "/escalate", &format!("ACME-1042 sev2 Outage number {i}")).await;
    }
    let drain = async || {
        for _ in 0..200 {
            story.flush().await;
            let counts = outbox::counts(&story.app.pool).await.unwrap();
            if counts.pending == 0 {
                return counts;
            }
            story.app.clock.advance(chrono::Duration::seconds(1));
        }
        panic!("the outbox did not drain");
    };
    drain().await;
    let cards: Vec<_> = story
        .fake
        .answered_calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["channel"] == CHANNEL && c.params["blocks"].is_array())
        .collect();
    assert_eq!(cards.len(), 15, "every card posted once");
    for card in &cards {
        let payload =
            click_payload(SAM, &button(card, "Acknowledge"), "x", &story.fake.response_url("a"));
        story.interact(payload).await;
    }
    let counts = drain().await;
    assert_eq!(counts.failed, 0, "{counts:?}");
    assert!(story.fake.calls().iter().any(|c| c.params["_status"] == 429), "there was a storm");
    // Each outbox row reached Slack exactly once (by the metadata every post carries).
    let mut per_row: HashMap<String, usize> = HashMap::new();
    for post in story.fake.answered_calls_of("chat.postMessage") {
        let id = post.params["metadata"]["event_payload"]["outbox_id"].as_str().unwrap().to_owned();
        *per_row.entry(id).or_default() += 1;
    }
    assert!(per_row.values().all(|n| *n == 1), "{per_row:?}");
    let posted_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE state = 'sent' AND platform_ref IS NOT NULL",
    )
    .fetch_one(&story.app.pool)
    .await
    .unwrap();
    assert_eq!(per_row.len() as i64, posted_rows);
}

#[tokio::test]
async fn dm_channels_are_opened_once_per_person() {
    let story = SlackStory::start(SlackTransport::Http).await;
    for i in 0..10 {
        enqueue(&story.app, "slack", OutboxKind::Dm, SAM, &format!("dm{i}"), Message::text("hi"))
            .await;
        story.flush().await;
        story.app.clock.advance(chrono::Duration::seconds(1));
    }
    assert_eq!(story.fake.answered_calls_of("chat.postMessage").len(), 10);
    assert_eq!(story.fake.calls_of("conversations.open").len(), 1);
}

#[tokio::test]
async fn a_thread_reply_whose_response_was_lost_is_found_among_the_replies_not_posted_twice() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let card = card_post(&story.fake);
    story.app.clock.advance(chrono::Duration::seconds(5));
    story.fake.lose_next_post_response();
    let payload =
        click_payload(SAM, &button(&card, "Acknowledge"), "x", &story.fake.response_url("a"));
    story.interact(payload).await;
    story.flush().await;
    story.app.clock.advance(chrono::Duration::seconds(600));
    story.flush().await;
    let replies: Vec<_> = story
        .fake
        .calls_of("chat.postMessage")
        .into_iter()
        .filter(|c| c.params["thread_ts"] == card.params["_ts"])
        .collect();
    assert_eq!(replies.len(), 1, "the retry found the reply in the thread: {replies:#?}");
    assert_eq!(story.fake.calls_of("conversations.replies").len(), 1);
    assert!(story.fake.calls_of("conversations.history").is_empty());
    assert_eq!(outbox::counts(&story.app.pool).await.unwrap().pending, 0);
}

#[tokio::test]
async fn a_failed_look_up_before_a_retry_is_retried_not_a_permanent_failure() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.fake.lose_next_post_response();
    story.fake.fail_next("conversations.history", [Failure::Http(405)]);
    enqueue(&story.app, "slack", OutboxKind::Post, CHANNEL, "k", Message::text("hello")).await;
    for _ in 0..3 {
        story.flush().await;
        story.app.clock.advance(chrono::Duration::seconds(600));
    }
    let counts = outbox::counts(&story.app.pool).await.unwrap();
    assert_eq!((counts.sent, counts.failed), (1, 0), "{counts:?}");
    assert_eq!(story.fake.answered_calls_of("chat.postMessage").len(), 1, "found, not re-posted");
}

#[tokio::test]
async fn a_click_reply_refused_with_a_429_is_sent_again_after_retry_after() {
    let story = SlackStory::start(SlackTransport::Http).await;
    story.slash(ALICE, "/escalate", "ACME-1042 sev2 Checkout is down").await;
    story.flush().await;
    let card = card_post(&story.fake);
    story.fake.fail_next("response_url", [Failure::RateLimited(1)]);
    let payload =
        click_payload(SAM, &button(&card, "Acknowledge"), "x", &story.fake.response_url("r1"));
    story.interact(payload).await;
    let replies = story.fake.wait_for("response_url", 2).await;
    assert_eq!(replies[0].params["text"], replies[1].params["text"]);
    assert!(replies[1].params["text"].as_str().unwrap().contains("acknowledged"), "{replies:?}");
}

/// A job handler that writes, then asks for a stop and never finishes (a job under way at
/// SIGTERM).
struct HangingJob {
    shutdown: CancellationToken,
}

#[async_trait]
impl steward::scheduler::jobs::JobHandler for HangingJob {
    async fn run(
        &self,
        _: &steward::services::Services,
        job: &steward::storage::jobs::Job,
        tx: &mut steward::storage::Tx,
    ) -> Result<(), steward::scheduler::jobs::JobError> {
        // A write that must not survive the cut-off.
        let new = steward::storage::jobs::NewJob {
            kind: "hang.effect".into(),
            payload: serde_json::json!({ "from": job.id }),
            run_at: chrono::Utc::now(),
            dedupe_key: Some("hang-effect".into()),
            max_attempts: 1,
        };
        steward::storage::jobs::enqueue(tx.conn().await.unwrap(), &new, chrono::Utc::now())
            .await
            .unwrap();
        self.shutdown.cancel();
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_job_under_way_at_a_stop_is_cut_off_in_time_rolled_back_and_released() {
    let mut settings = crate::support::demo_settings();
    settings.server.shutdown_timeout_seconds = 2;
    let app = TestApp::spawn_with(settings).await;
    let job = steward::storage::jobs::NewJob {
        kind: "hang".into(),
        payload: serde_json::json!({}),
        run_at: app.now(),
        dedupe_key: Some("hang".into()),
        max_attempts: 3,
    };
    let id = steward::storage::jobs::enqueue(&app.pool, &job, app.now()).await.unwrap().unwrap();
    let shutdown = CancellationToken::new();
    let mut registry = steward::scheduler::jobs::JobRegistry::default();
    registry.register("hang", Arc::new(HangingJob { shutdown: shutdown.clone() }));
    let worker =
        steward::scheduler::jobs::JobWorker::new(app.services.clone(), Arc::new(registry), "w1");
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(2), worker.run(shutdown))
        .await
        .expect("the worker stopped within the bound");
    assert!(started.elapsed() < Duration::from_secs(2));
    let status = steward::storage::jobs::status(&app.pool, id).await.unwrap().unwrap();
    assert_eq!((status.state.as_str(), status.attempts), ("pending", 0), "{status:?}");
    let (scheduled, _) = steward::storage::jobs::counts(&app.pool).await.unwrap();
    assert_eq!(scheduled, 1, "the cut-off job's own write was rolled back");
}
