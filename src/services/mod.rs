//! Use cases. Each inbound event is handled in one transaction that covers dedupe (inbox),
//! the state change, audit records, outgoing messages (outbox) and timers (jobs).

pub mod error;
pub mod inbound;
pub mod ports;
mod steward_commands;

pub use ports::ChatPort;

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Settings;
use crate::domain::identity::Directory;
use ports::Clock;

/// What every use case needs: the database, the time, who is who, and the settings.
#[derive(Clone)]
pub struct Services {
    pub pool: PgPool,
    pub clock: Arc<dyn Clock>,
    pub directory: Arc<Directory>,
    pub settings: Arc<Settings>,
}

impl Services {
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        directory: Directory,
        settings: Settings,
    ) -> Services {
        Services { pool, clock, directory: Arc::new(directory), settings: Arc::new(settings) }
    }
}
