//! Files with messages (issue 14 item 4): a digest's PNG chart goes to Slack in the three
//! steps Slack takes files in, and to Discord as `multipart/form-data`, through the outbox,
//! once; a file the platform refuses leaves the message with its fallback text.

use std::sync::Arc;

use serde_json::Value;

use chrono::NaiveDate;
use steward::config::SlackTransport;
use steward::domain::digest::chart::trend_png;
use steward::domain::digest::report::DayPoint;
use steward::domain::reply::{Attachment, Card, Message};
use steward::platform::slack::{SlackApi, SlackChat};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::services::ports::Delivery;
use steward::services::uploads::PgUploads;
use steward::storage::outbox::{self, NewOutboxMessage, OutboxKind};

use crate::slack::{CHANNEL, SlackStory};
use crate::support::discord::{self, DiscordTest};
use crate::support::discord_fake::MAX_UPLOAD_BYTES;
use crate::support::slack_fake::Failure;

const FALLBACK: &str = "Opened ▁▄█  Resolved ▂▅▇";

fn chart() -> Vec<u8> {
    let day = |d: u32, opened: i64, resolved: i64| DayPoint {
        day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
        opened,
        resolved,
    };
    trend_png(&[day(1, 3, 1), day(2, 5, 4), day(3, 9, 6)]).unwrap()
}

fn digest_with(data: Vec<u8>) -> Message {
    let card = Card { title: "KPI digest".into(), body: Some("figures".into()), ..Card::default() };
    Message {
        attachments: vec![Attachment {
            filename: "kpi-trend.png".into(),
            title: "Opened and resolved per day".into(),
            media_type: "image/png".into(),
            data,
            fallback: FALLBACK.into(),
        }],
        ..Message::card(card)
    }
}

/// The Slack story with a dispatcher whose port records uploads in PostgreSQL (as `serve`
/// wires it), and the digest message queued for `CHANNEL`.
async fn slack_with_digest(message: Message) -> (SlackStory, Dispatcher) {
    let story = SlackStory::start(SlackTransport::Http).await;
    let app = &story.app;
    let api = SlackApi::new(&app.services.setup().settings.slack).unwrap();
    let uploads = Arc::new(PgUploads::new(app.pool.clone(), app.clock.clone()));
    let port: Arc<dyn ChatPort> = Arc::new(
        SlackChat::new(api, app.clock.clone(), std::time::Duration::from_secs(1))
            .with_uploads(uploads),
    );
    let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
    let new = NewOutboxMessage {
        platform: "slack".into(),
        kind: OutboxKind::Post,
        target: CHANNEL.into(),
        message,
        dedupe_key: "digest:kpi:test:slack".into(),
        not_before: app.now(),
        workspace: None,
    };
    let mut conn = app.pool.acquire().await.unwrap();
    assert!(outbox::enqueue(&mut conn, &new, app.now()).await.unwrap());
    (story, dispatcher)
}

async fn outbox_state(story: &SlackStory) -> String {
    sqlx::query_scalar("SELECT state FROM outbox WHERE dedupe_key = 'digest:kpi:test:slack'")
        .fetch_one(&story.app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_chart_reaches_slack_as_a_png_shared_into_the_channel() {
    let png = chart();
    let (story, dispatcher) = slack_with_digest(digest_with(png.clone())).await;
    dispatcher.flush().await.unwrap();

    let asked = story.fake.calls_of("files.getUploadURLExternal");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].params["filename"], "kpi-trend.png");
    assert_eq!(asked[0].params["length"], png.len().to_string());
    let shared = story.fake.shared_files();
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert_eq!(&shared[0].bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(shared[0].bytes, png);
    assert_eq!(shared[0].channel, CHANNEL);
    assert_eq!(shared[0].title, "Opened and resolved per day");
    assert_eq!(shared[0].thread_ts, None);
    assert_eq!(story.fake.calls_of("chat.postMessage").len(), 1);
    assert_eq!(outbox_state(&story).await, "sent");
}

#[tokio::test]
async fn a_retry_after_the_upload_completes_the_recorded_file_and_posts_nothing_twice() {
    let (story, dispatcher) = slack_with_digest(digest_with(chart())).await;
    story.fake.fail_next("files.completeUploadExternal", [Failure::ServerError]);
    dispatcher.dispatch_once().await.unwrap();
    assert!(story.fake.shared_files().is_empty());
    assert_eq!(outbox_state(&story).await, "pending", "the 500 is retried");
    let recorded: (String, bool) = sqlx::query_as(
        "SELECT file_id, shared_at IS NOT NULL FROM outbox_files WHERE position = 0",
    )
    .fetch_one(&story.app.pool)
    .await
    .unwrap();
    assert!(!recorded.1, "uploaded, not shared yet");

    story.app.clock.advance(chrono::Duration::minutes(10));
    dispatcher.flush().await.unwrap();
    assert_eq!(story.fake.calls_of("chat.postMessage").len(), 1, "the retry found its message");
    assert_eq!(story.fake.calls_of("files.getUploadURLExternal").len(), 1, "no second upload");
    assert_eq!(story.fake.calls_of("upload").len(), 1);
    assert_eq!(story.fake.calls_of("files.completeUploadExternal").len(), 2);
    let shared = story.fake.shared_files();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].file_id, recorded.0);
    assert_eq!(outbox_state(&story).await, "sent");

    // A later pass over the same row (say, a lost response) finds the file shared.
    let again = SlackChat::new(
        SlackApi::new(&story.app.services.setup().settings.slack).unwrap(),
        story.app.clock.clone(),
        std::time::Duration::from_secs(1),
    )
    .with_uploads(Arc::new(PgUploads::new(story.app.pool.clone(), story.app.clock.clone())));
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM outbox").fetch_one(&story.app.pool).await.unwrap();
    story.app.clock.advance(chrono::Duration::minutes(1));
    again
        .post(
            Delivery { outbox_id: id, attempt: 3, workspace: None },
            CHANNEL,
            &digest_with(chart()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(story.fake.shared_files().len(), 1);
    assert_eq!(story.fake.calls_of("chat.postMessage").len(), 1);
}

#[tokio::test]
async fn a_file_slack_refuses_leaves_the_message_with_its_fallback_text() {
    let (story, dispatcher) = slack_with_digest(digest_with(chart())).await;
    story.fake.fail_next("files.getUploadURLExternal", [Failure::SlackError("missing_scope")]);
    dispatcher.flush().await.unwrap();
    assert!(story.fake.shared_files().is_empty());
    let posts = story.fake.calls_of("chat.postMessage");
    assert_eq!(posts.len(), 1);
    assert!(posts[0].params["text"].as_str().unwrap().contains(FALLBACK), "{:?}", posts[0]);
    assert_eq!(outbox_state(&story).await, "sent", "the message itself went out");
}

/// Slack shows a message's blocks, not its `text`: a card whose chart was refused shows the
/// sparkline in its blocks, in place of the file.
#[tokio::test]
async fn a_card_whose_chart_slack_refuses_shows_the_sparkline_in_its_blocks() {
    let (story, dispatcher) = slack_with_digest(digest_with(chart())).await;
    story.fake.fail_next("files.getUploadURLExternal", [Failure::SlackError("missing_scope")]);
    dispatcher.flush().await.unwrap();
    assert!(story.fake.shared_files().is_empty());
    let post = story.fake.calls_of("chat.postMessage").pop().unwrap();
    let updates = story.fake.calls_of("chat.update");
    assert_eq!(updates.len(), 1, "the card is updated once: {updates:?}");
    let update = &updates[0].params;
    assert!(update.get("_problems").is_none(), "Slack would refuse it: {update}");
    assert_eq!(update["ts"], post.params["_ts"]);
    assert_eq!(update["channel"], CHANNEL);
    let blocks = update["blocks"].as_array().unwrap();
    let shown: Vec<&Value> = blocks
        .iter()
        .filter(|b| b["type"] == "section" && b.to_string().contains(FALLBACK))
        .collect();
    assert_eq!(shown.len(), 1, "{blocks:?}");
    assert!(shown[0].to_string().contains("Opened and resolved per day"));
    assert_eq!(blocks[0]["type"], "header", "still the card: {blocks:?}");
    assert_eq!(update["metadata"]["event_payload"], post.params["metadata"]["event_payload"]);
    assert_eq!(outbox_state(&story).await, "sent");
}

#[tokio::test]
async fn a_chart_slack_takes_leaves_the_card_as_posted() {
    let (story, dispatcher) = slack_with_digest(digest_with(chart())).await;
    dispatcher.flush().await.unwrap();
    assert_eq!(story.fake.shared_files().len(), 1);
    assert!(story.fake.calls_of("chat.update").is_empty(), "the chart stands in for its text");
    let post = story.fake.calls_of("chat.postMessage").pop().unwrap();
    let blocks = post.params["blocks"].to_string();
    assert!(!blocks.contains(FALLBACK), "{blocks}");
}

#[tokio::test]
async fn the_chart_reaches_discord_as_files_0_with_its_attachment_in_payload_json() {
    let t = DiscordTest::spawn().await;
    let png = chart();
    let delivery = Delivery { outbox_id: 7, attempt: 1, workspace: None };
    let posted = t.port.post(delivery, discord::CHANNEL, &digest_with(png.clone()), None).await;
    posted.unwrap();
    let calls = t.fake.calls_to("POST", "/messages");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].status, 200);
    assert_eq!(calls[0].files.len(), 1);
    assert_eq!(calls[0].files[0].0, "files[0]");
    assert_eq!(&calls[0].files[0].1[..4], b"\x89PNG");
    assert_eq!(calls[0].files[0].1, png);
    let body = &calls[0].body;
    assert_eq!(body["attachments"][0]["id"], 0);
    assert_eq!(body["attachments"][0]["filename"], "kpi-trend.png");
    assert_eq!(body["nonce"], "steward-7");
    assert_eq!(body["enforce_nonce"], true);
    assert!(!body.to_string().contains(FALLBACK), "the chart stands in for its text: {body}");
    assert_eq!(body["embeds"][0]["title"], "KPI digest");
}

#[tokio::test]
async fn a_file_over_discords_upload_limit_goes_as_fallback_text_once() {
    let t = DiscordTest::spawn().await;
    let mut data = chart();
    data.resize(MAX_UPLOAD_BYTES + 1, 0);
    let delivery = Delivery { outbox_id: 8, attempt: 1, workspace: None };
    t.port.post(delivery, discord::CHANNEL, &digest_with(data), None).await.unwrap();
    let calls = t.fake.calls_to("POST", "/messages");
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [413, 200]);
    assert!(calls[1].files.is_empty());
    assert!(calls[1].body["content"].as_str().unwrap().contains(FALLBACK), "{:?}", calls[1].body);
}

#[tokio::test]
async fn a_posted_weekly_kpi_slot_shares_its_trend_chart_into_the_digest_channel() {
    let mut settings = crate::support::demo_settings();
    let kpi = crate::digests::digest(
        "kpi",
        steward::domain::digest::DigestKind::Kpi,
        "0 9 * * Mon",
        chrono_tz::UTC,
    );
    settings.digests = vec![kpi];
    let story = SlackStory::start_with(settings, SlackTransport::Http).await;
    let services = &story.app.services;
    let definition = steward::services::digests::definition(services, "kpi").unwrap();
    let slot = story.app.now();
    steward::services::digests::post_slot(services, &definition, slot, false, "test")
        .await
        .unwrap();
    story.flush().await;
    let shared = story.fake.shared_files();
    assert_eq!(shared.len(), 1, "{:?}", story.fake.calls());
    assert_eq!(shared[0].channel, "C0DIGEST");
    assert_eq!(shared[0].filename, "kpi-trend.png");
    assert_eq!(&shared[0].bytes[..8], b"\x89PNG\r\n\x1a\n");
}
