//! The only module with SQL. Functions take `impl PgExecutor` so the same function serves a
//! pool or a transaction; callers decide the transaction boundaries (services).

pub mod access;
pub mod access_reviews;
pub mod audit_checkpoints;
pub mod audit_log;
pub mod audit_trail;
pub mod authority;
pub mod bench;
pub mod credits;
pub mod digests;
pub mod directory;
pub mod effects;
pub mod escalations;
pub mod home_viewers;
pub mod inbox;
pub mod incidents;
pub mod item_cache;
pub mod items;
pub mod jobs;
pub mod lookup;
pub mod onboarding;
pub mod outbox;
pub mod outbox_files;
pub mod requests;
pub mod retention;
pub mod roles;
pub mod seed;
pub mod slack_installations;
mod unit;

pub use unit::Tx;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgPool};

/// The embedded migrations in `./migrations`, applied at start and by `steward migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Memory a query's sorts and work tables may take before spilling to disk, per session.
/// PostgreSQL's 4 MB default spills the digests' as-of sets at a million items (tens of
/// thousands of old breaches); 32 MB keeps them in memory. `PGOPTIONS` in the environment
/// overrides it (e.g. `PGOPTIONS="-c work_mem=64MB"`).
const SESSION_WORK_MEM: &str = "32MB";

/// A pooled connection idle longer than this is checked (one `Sync` round trip) before it is
/// handed out; a busier one was checked when it came back to the pool, which sqlx always
/// does, so checking it again would only add a round trip to every unit of work.
const RECHECK_IDLE_AFTER: Duration = Duration::from_secs(5);

/// Opens a pool. Statement logging is at debug level so `info` logs stay readable.
///
/// Two timeouts: at start the database may still be coming up, so the first connection is
/// awaited for `connect_timeout`; afterwards every acquire gives up after `acquire_timeout`
/// (below the platforms' 3 s deadline), so an outage is answered in time instead of hanging.
/// The pool reconnects on its own when the database is back.
pub async fn connect(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    connect_timeout: Duration,
) -> Result<PgPool, sqlx::Error> {
    let mut options: PgConnectOptions = url.parse()?;
    options = options.log_statements(log::LevelFilter::Debug);
    if std::env::var_os("PGOPTIONS").is_none() {
        options = options.options([("work_mem", SESSION_WORK_MEM)]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= RECHECK_IDLE_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options);
    let deadline = tokio::time::Instant::now() + connect_timeout;
    loop {
        match ping(&pool).await {
            Ok(()) => return Ok(pool),
            Err(err) if tokio::time::Instant::now() >= deadline => return Err(err),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Cheap liveness probe for `/readyz`.
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}

/// Creates a database on the server `pool` is connected to, optionally from a template.
/// Database names cannot be bind parameters, so the name is checked and quoted here.
pub async fn create_database(
    pool: &PgPool,
    name: &str,
    template: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
    if let Some(template) = template {
        sql.push_str(&format!(" TEMPLATE {}", quote_ident(template)));
    }
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await.map(|_| ())
}

pub async fn drop_database(pool: &PgPool, name: &str) -> Result<(), sqlx::Error> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await.map(|_| ())
}

pub async fn database_exists(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(pool)
        .await
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
