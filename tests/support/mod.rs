//! Test harness: a PostgreSQL server for the run (DATABASE_URL, or a private throw-away
//! cluster), a fresh migrated database per test, and a `TestApp` with a controlled clock.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod chat;
pub mod discord;
pub mod discord_fake;
pub mod platform_limits;
pub mod postgres;
pub mod slack_fake;
pub mod tcp_proxy;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use steward::config::{self, Settings};
use steward::domain::ids::Platform;
use steward::domain::inbound::{Inbound, InboundKind};
use steward::domain::reply::Reply;
use steward::services::Services;
use steward::services::ports::ManualClock;

pub use postgres::TestDb;

/// A fixed, ordinary Monday morning in November 2026.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap().to_utc()
}

/// The demo organisation from `config/demo.toml`.
pub fn demo_settings() -> Settings {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml");
    config::load(Some(&path), Vec::new()).expect("demo config loads")
}

/// Services on a fresh database with the demo organisation and a manual clock at [`t0`].
pub struct TestApp {
    pub services: Services,
    pub clock: Arc<ManualClock>,
    pub pool: PgPool,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(demo_settings()).await
    }

    pub async fn spawn_with(settings: Settings) -> TestApp {
        let db = TestDb::create().await;
        let pool = db.pool.clone();
        let clock = Arc::new(ManualClock::new(t0()));
        let directory = settings.directory().expect("valid directory");
        let mut conn = pool.acquire().await.unwrap();
        steward::storage::directory::sync_directory(&mut conn, &directory).await.unwrap();
        drop(conn);
        let services = Services::new(pool.clone(), clock.clone(), directory, settings).unwrap();
        TestApp { services, clock, pool, db }
    }

    /// The test clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        use steward::services::ports::Clock;
        self.clock.now()
    }

    /// Runs every job that is due at the test clock's time, as the daemon's workers would.
    pub async fn run_due_jobs(&self) -> Vec<steward::scheduler::jobs::JobOutcome> {
        let registry = Arc::new(steward::startup::job_registry());
        let worker = steward::scheduler::jobs::JobWorker::new(
            self.services.clone(),
            registry,
            "test-worker",
        );
        let mut outcomes = Vec::new();
        while let Some(outcome) = worker.run_one().await.unwrap() {
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Sends everything due in the outbox through `chat`.
    pub async fn flush_outbox(&self, chat: &Arc<chat::RecordingChat>) {
        let port: Arc<dyn steward::services::ChatPort> = chat.clone();
        steward::scheduler::outbox::Dispatcher::new(self.services.clone(), vec![port])
            .flush()
            .await
            .unwrap();
    }

    /// Presses a button as a console user (the dedupe key is the click's, as in production).
    pub async fn click(&self, user: &str, action: &str, text: Option<&str>) -> Reply {
        let kind = match text {
            Some(text) => InboundKind::Submission {
                action: action.to_owned(),
                fields: [(steward::domain::reply::Prompt::FIELD.to_owned(), text.to_owned())]
                    .into(),
            },
            None => InboundKind::Action { action: action.to_owned() },
        };
        let inbound = Inbound {
            dedupe_key: Inbound::click_dedupe_key(Platform::Console, user, action),
            platform: Platform::Console,
            workspace: None,
            actor: user.to_owned(),
            channel: "emea-ops".to_owned(),
            kind,
        };
        self.services.handle_inbound(inbound).await
    }

    /// Runs a slash command as a console user, e.g. `app.command("alice", "/steward whoami")`.
    pub async fn command(&self, user: &str, line: &str) -> Reply {
        let key = format!("test:{}", uuid::Uuid::new_v4());
        self.services.handle_inbound(command_inbound(&key, user, line)).await
    }
}

/// A console command event with a given dedupe key (to simulate redelivery).
pub fn command_inbound(dedupe_key: &str, user: &str, line: &str) -> Inbound {
    let (name, args) = line.trim_start_matches('/').split_once(' ').unwrap_or((line, ""));
    Inbound {
        dedupe_key: dedupe_key.to_owned(),
        platform: Platform::Console,
        workspace: None,
        actor: user.to_owned(),
        channel: "console".to_owned(),
        kind: InboundKind::Command {
            name: name.trim_start_matches('/').to_owned(),
            args: args.to_owned(),
        },
    }
}

/// The text of a reply (message text plus card title), for assertions.
pub fn text_of(reply: &Reply) -> String {
    let mut text = reply.message.text.clone().unwrap_or_default();
    if let Some(card) = &reply.message.card {
        text.push('\n');
        text.push_str(&card.title);
    }
    text
}
