//! The composition root: database (own or configured), migrations, services, background
//! tasks and adapters, wired together for `serve` and `console`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::http::{self, HttpState};
use crate::local_pg::{LocalPgError, LocalPostgres, LocalPostgresOptions};
use crate::platform::console::{Console, ConsoleChat, ConsoleOutput};
use crate::scheduler::jobs::{JobRegistry, JobWorker};
use crate::scheduler::outbox::Dispatcher;
use crate::services::ChatPort;
use crate::services::Services;
use crate::services::ports::SystemClock;
use crate::storage;

/// The database Steward runs on, and the private cluster behind it when Steward started one.
pub struct Database {
    pub pool: PgPool,
    url: String,
    cluster: Option<LocalPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`/`[database] url`, or starts (or reuses) the private cluster
    /// in `[database] state_dir`; then applies pending migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Database> {
        let (url, cluster) = match &settings.database.url {
            Some(url) => (url.expose().to_owned(), None),
            None => {
                // A directory of its own: PostgreSQL's user must own it, the rest of the state
                // dir (the console log) stays ours.
                let state_dir = settings.database.state_dir.join("postgres");
                let cluster = tokio::task::spawn_blocking(move || start_private_cluster(state_dir))
                    .await?
                    .context("could not start Steward's private PostgreSQL")?;
                (cluster.url(), Some(cluster))
            }
        };
        let connect = Duration::from_secs(settings.database.connect_timeout_seconds);
        let acquire = Duration::from_millis(settings.database.acquire_timeout_ms);
        if let Some(migrate_url) = &settings.database.migrate_url {
            let owner = storage::connect(migrate_url.expose(), 1, acquire, connect)
                .await
                .context("could not connect with database.migrate_url")?;
            let granted = migrate_as_owner(&owner, &app_role(&url)?.0).await;
            owner.close().await;
            granted?;
        }
        let pool = storage::connect(&url, settings.database.max_connections, acquire, connect)
            .await
            .context("could not connect to the database")?;
        if settings.database.migrate_url.is_none() {
            storage::migrate(&pool).await.context("could not apply database migrations")?;
        }
        Ok(Database { pool, url, cluster })
    }

    /// The URL of another database on the same server (benchmarks use a scratch database).
    pub fn url_for(&self, database: &str) -> String {
        match &self.cluster {
            Some(cluster) => cluster.url_for(database),
            None => replace_database(&self.url, database),
        }
    }

    /// Closes the pool and stops the private cluster if this process started it.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(mut cluster) = self.cluster.take()
            && let Err(err) = tokio::task::spawn_blocking(move || cluster.stop()).await
        {
            tracing::warn!(error = %err, "could not stop the private PostgreSQL");
        }
    }
}

/// Migrates through the owner's pool, then grants the app role its privileges (new tables
/// included).
async fn migrate_as_owner(owner: &sqlx::PgPool, app: &str) -> anyhow::Result<()> {
    storage::migrate(owner).await.context("could not apply database migrations")?;
    let mut conn = owner.acquire().await?;
    storage::roles::grant_app(&mut conn, app).await.with_context(|| {
        format!("could not grant the app role `{app}` (create it with `steward db roles`)")
    })
}

/// The role and password of a connection URL (`postgres://steward_app:pw@db/steward`).
fn app_role(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let parsed = reqwest::Url::parse(url).context("database.url is not a URL")?;
    let user = percent_decode(parsed.username());
    anyhow::ensure!(!user.is_empty(), "database.url names no user: the app role is its user");
    Ok((user, parsed.password().map(percent_decode)))
}

/// `%40` → `@`: user names and passwords in URLs are percent-encoded.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `steward db roles`: through `database.migrate_url` (the owner, with CREATEROLE), migrates,
/// creates `database.url`'s role as a login role with that URL's password unless it exists,
/// and grants it the daemon's privileges. Idempotent.
pub async fn db_roles(settings: Settings) -> anyhow::Result<()> {
    let (Some(migrate_url), Some(url)) = (&settings.database.migrate_url, &settings.database.url)
    else {
        anyhow::bail!(
            "steward db roles needs database.migrate_url (the owner) and database.url (the app \
             role) — STEWARD__DATABASE__MIGRATE_URL and DATABASE_URL"
        );
    };
    let (app, password) = app_role(url.expose())?;
    let connect = Duration::from_secs(settings.database.connect_timeout_seconds);
    let acquire = Duration::from_millis(settings.database.acquire_timeout_ms);
    let owner = storage::connect(migrate_url.expose(), 1, acquire, connect)
        .await
        .context("could not connect with database.migrate_url")?;
    let result = async {
        let mut conn = owner.acquire().await?;
        let created = storage::roles::ensure_login_role(&mut conn, &app, password.as_deref())
            .await
            .with_context(|| format!("could not create the role `{app}`"))?;
        drop(conn);
        migrate_as_owner(&owner, &app).await?;
        anyhow::Ok(created)
    }
    .await;
    owner.close().await;
    println!("{}", crate::domain::messages::credit::app_role_granted(&app, result?));
    Ok(())
}

/// `postgres://u@h:5432/old?x=1` → `postgres://u@h:5432/<database>?x=1`.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{server}/{database}{query}")
}

/// Starts (or reuses) the private cluster in `state_dir`. When Steward runs as root from a
/// directory the unprivileged PostgreSQL user cannot reach (anything under `/root`), the
/// cluster moves to a stable directory under the system temp dir instead, so the quick start
/// works from any checkout.
fn start_private_cluster(state_dir: PathBuf) -> Result<LocalPostgres, LocalPgError> {
    let options = |state_dir| LocalPostgresOptions {
        state_dir,
        ephemeral: false,
        database: "steward".into(),
    };
    match LocalPostgres::start(options(state_dir.clone())) {
        Err(LocalPgError::StateDirUnreachable { dir, user }) => {
            let absolute = std::path::absolute(&state_dir).unwrap_or(state_dir);
            let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
            let fallback =
                std::env::temp_dir().join(format!("steward-{}", &hex::encode(digest)[..12]));
            tracing::warn!(
                unreachable = %dir.display(),
                %user,
                fallback = %fallback.display(),
                "PostgreSQL's user cannot reach the state directory; using a temp directory"
            );
            LocalPostgres::start(options(fallback))
        }
        other => other,
    }
}

/// Builds the services on an open database: loads the directory and mirrors it into SQL.
pub async fn services(settings: &Settings, pool: PgPool) -> anyhow::Result<Services> {
    let directory = settings.directory().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let mut conn = pool.acquire().await?;
    storage::directory::sync_directory(&mut conn, &directory).await?;
    drop(conn);
    Services::new(pool, Arc::new(SystemClock), directory, settings.clone())
}

/// Job handlers for every job kind the workflows schedule.
pub fn job_registry() -> JobRegistry {
    let mut registry = JobRegistry::default();
    crate::services::escalations::register_jobs(&mut registry);
    crate::services::credits::register_jobs(&mut registry);
    crate::services::requests::register_jobs(&mut registry);
    crate::services::access::register_jobs(&mut registry);
    crate::services::onboarding::register_jobs(&mut registry);
    crate::services::incidents::register_jobs(&mut registry);
    crate::services::audit_checkpoint::register_jobs(&mut registry);
    crate::services::retention::register_jobs(&mut registry);
    crate::services::home::register_jobs(&mut registry);
    registry
}

/// Starts the job workers and the outbox dispatcher as tasks in `tasks`.
pub fn spawn_background(
    services: &Services,
    ports: Vec<Arc<dyn ChatPort>>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> Dispatcher {
    let registry = Arc::new(job_registry());
    let first_checkpoint = services.clone();
    tasks.spawn(async move {
        // Each run schedules the next; this starts the cycle (once per slot across replicas).
        if let Err(err) = crate::services::audit_checkpoint::schedule(&first_checkpoint).await {
            tracing::error!(error = %err, "audit checkpoint job not scheduled");
        }
    });
    let first_reviews = services.clone();
    tasks.spawn(async move {
        // Each scheduled review's slot job queues the next; this starts the chains (once per
        // slot across replicas: the dedupe key names the slot).
        if let Err(err) =
            crate::services::access::review_schedule::schedule_all(&first_reviews).await
        {
            tracing::error!(error = %err, "scheduled access reviews not queued");
        }
    });
    let host = std::process::id();
    for index in 0..services.setup().settings.jobs.workers {
        let worker = JobWorker::new(services.clone(), registry.clone(), format!("{host}-{index}"));
        tasks.spawn(worker.run(shutdown.clone()));
    }
    if !services.setup().settings.digests.is_empty() {
        match crate::scheduler::digests::DigestScheduler::new(services.clone(), format!("{host}")) {
            Ok(scheduler) => {
                tasks.spawn(scheduler.run(shutdown.clone()));
            }
            Err(err) => tracing::error!(error = %err, "digest scheduler not started"),
        }
    }
    let dispatcher = Dispatcher::new(services.clone(), ports);
    tasks.spawn(dispatcher.clone().run(shutdown.clone()));
    // Signed webhook calls (access provisioning) leave through the outbox too.
    match crate::scheduler::webhooks::WebhookDispatcher::new(services.clone()) {
        Ok(webhooks) => {
            tasks.spawn(webhooks.run(shutdown.clone()));
        }
        Err(err) => tracing::error!(error = %err, "webhook dispatcher not started"),
    }
    dispatcher
}

/// `steward serve`: HTTP server, adapters and background work until SIGINT/SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Record from the first event on, not from the first scrape of /metrics.
    crate::telemetry::metrics::handle();
    let database = Database::open(&settings).await?;
    let services = services(&settings, database.pool.clone()).await?;
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    // Each enabled platform adapter contributes its ChatPort (and its HTTP routes below).
    let slack = crate::platform::slack::startup::start(&services).await?;
    let discord = crate::platform::discord::start(&services, &mut tasks, &shutdown).await?;
    let mut ports: Vec<Arc<dyn ChatPort>> = slack.ports();
    ports.extend(discord.port.clone());
    spawn_background(&services, ports, &mut tasks, &shutdown);
    // The daily prune re-queues itself; this starts the chain (once a day, by its dedupe key).
    crate::services::retention::schedule(&services, services.clock().now()).await?;
    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| format!("could not listen on {}", settings.server.listen))?;
    tracing::info!(address = %listener.local_addr()?, "steward is serving");
    if settings.requests.intake_secrets.is_empty() {
        tracing::warn!(
            variable = crate::config::INTAKE_SECRETS_ENV,
            "no intake secrets: POST /intake/requests will refuse every call with 401"
        );
    }
    let router = http::router(HttpState { pool: database.pool.clone() })
        .merge(http::intake::routes(http::intake::IntakeState::new(services.clone())))
        .merge(slack.routes())
        .merge(discord.routes.unwrap_or_default());
    let router = http::with_body_limit(router, settings.server.max_body_bytes);
    let server = tokio::spawn(http::serve(listener, router, shutdown.clone()));
    wait_for_signal().await;
    let bound = Duration::from_secs(settings.server.shutdown_timeout_seconds);
    tracing::info!(timeout = ?bound, "shutting down");
    shutdown.cancel();
    // Every loop looks at the token between units of work and bounds the unit under way by
    // half of `bound`; the timeout here is the backstop, so the process always exits in time.
    let stopped = tokio::time::timeout(bound, async {
        let served = server.await;
        slack.shutdown().await;
        while tasks.join_next().await.is_some() {}
        served
    })
    .await;
    match stopped {
        Ok(served) => served??,
        Err(_) => {
            tracing::warn!(timeout = ?bound, "background work did not stop in time; leaving it");
            tasks.abort_all();
        }
    }
    database.close().await;
    Ok(())
}

/// `steward console`: the local chat on stdin/stdout.
pub async fn console(settings: Settings, act_as: Option<String>) -> anyhow::Result<()> {
    let mut settings = settings;
    if act_as.is_some() {
        settings.console.person = act_as;
    }
    let database = Database::open(&settings).await?;
    let services = services(&settings, database.pool.clone()).await?;
    let output = ConsoleOutput::stdout();
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let port: Arc<dyn ChatPort> = Arc::new(ConsoleChat::new(output.clone()));
    let dispatcher = spawn_background(&services, vec![port], &mut tasks, &shutdown);
    let interactive = std::io::stdin().is_terminal();
    let console = Console::new(services, dispatcher, output, interactive)?;
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    let result = tokio::select! {
        result = console.run(input) => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    database.close().await;
    result
}

/// `steward prune`: one retention run now; prints what it removed (or would remove).
pub async fn prune(settings: Settings, dry_run: bool) -> anyhow::Result<()> {
    let database = Database::open(&settings).await?;
    let result = async {
        let services = services(&settings, database.pool.clone()).await?;
        crate::services::retention::prune(&services, dry_run).await
    }
    .await;
    database.close().await;
    println!("{}", result?.summary());
    Ok(())
}

/// `steward migrate`: apply migrations and report the schema version.
pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let database = Database::open(&settings).await?;
    let latest = storage::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    println!("Database is migrated (schema version {latest}).");
    database.close().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
