//! One PostgreSQL server per test process; one fresh database per test, cloned from a
//! migrated template so each test starts in milliseconds.

use std::sync::OnceLock;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use steward::local_pg::{LocalPostgres, LocalPostgresOptions};
use tokio::sync::OnceCell;

struct Server {
    /// Connection options for the server, database to be filled in.
    options: PgConnectOptions,
    /// Whether databases must be dropped after tests (a shared DATABASE_URL server); a private
    /// cluster is deleted whole when the test process exits.
    shared: bool,
    _cluster: Option<LocalPostgres>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Server {
            options: url.parse().expect("DATABASE_URL is a valid PostgreSQL URL"),
            shared: true,
            _cluster: None,
        },
        _ => {
            let state_dir = std::env::temp_dir().join(format!(
                "steward-test-pg-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            let cluster = LocalPostgres::start(LocalPostgresOptions {
                state_dir,
                ephemeral: true,
                database: "steward".into(),
            })
            .expect("private PostgreSQL for tests starts (is PostgreSQL installed?)");
            Server {
                options: cluster.url().parse().expect("cluster URL parses"),
                shared: false,
                _cluster: Some(cluster),
            }
        }
    })
}

fn options_for(database: &str) -> PgConnectOptions {
    server().options.clone().database(database)
}

/// The migrated template database, created once per test process.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("steward_template_{}", std::process::id());
            let admin_pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options_for("postgres"))
                .await
                .unwrap();
            steward::storage::drop_database(&admin_pool, &name).await.unwrap();
            steward::storage::create_database(&admin_pool, &name, None).await.unwrap();
            admin_pool.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options_for(&name))
                .await
                .unwrap();
            steward::storage::migrate(&pool).await.expect("migrations apply");
            pool.close().await;
            name
        })
        .await
}

/// A fresh, migrated database for one test.
pub struct TestDb {
    pub name: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let template = template().await;
        let name = format!("steward_test_{}", uuid::Uuid::new_v4().simple());
        let admin_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options_for("postgres"))
            .await
            .unwrap();
        steward::storage::create_database(&admin_pool, &name, Some(template))
            .await
            .expect("create test database");
        admin_pool.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(24)
            .connect_with(options_for(&name))
            .await
            .expect("connect to test database");
        TestDb { name, pool }
    }

    /// The URL of this test's database (for running the binary against it).
    pub fn url(&self) -> String {
        let options = options_for(&self.name);
        let user = options.get_username();
        let host = options.get_host();
        let port = options.get_port();
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let (base, _) = url.rsplit_once('/').expect("DATABASE_URL has a database name");
                format!("{base}/{}", self.name)
            }
            _ => format!("postgres://{user}@{host}:{port}/{}", self.name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !server().shared {
            return;
        }
        // Drop the database on a shared server; Drop cannot be async, so use a short-lived
        // runtime on its own thread.
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(options_for("postgres"))
                    .await
                    .ok()?;
                steward::storage::drop_database(&pool, &name).await.ok()
            })
        })
        .join();
    }
}
