//! Application errors, translated once into a reply for the user and a log line for operators.

use crate::domain::command::UsageError;
use crate::domain::ids::Platform;
use crate::domain::messages;
use crate::domain::reply::Reply;

/// What can go wrong while handling an inbound event.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user said it wrong: show what and how to say it right.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The user may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Something the user named does not exist; the message says what.
    #[error("not found: {0}")]
    NotFound(String),
    /// The actor's platform identity belongs to no configured person.
    #[error("unknown {platform} user {user}")]
    UnknownPerson { platform: Platform, user: String },
    /// Refused for a reason the message explains (unknown account, not allowed now).
    #[error("refused: {0}")]
    Refused(String),
    /// The item changed under the user (lost a race): the message says what happened.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database did not answer in time (stopped, restarting, unreachable): expected
    /// during an outage, so it carries the cause's text only (no backtrace is captured).
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// A bug or an outage; the user sees a reference, the log the cause.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        if is_outage(&err) {
            return AppError::DatabaseUnavailable(err.to_string());
        }
        AppError::Unexpected(err.into())
    }
}

/// Whether `err` means the database cannot be reached, rather than that a statement failed.
pub fn is_outage(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    ) || matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("57P")))
}

impl AppError {
    /// The ephemeral reply the user sees. `reference` identifies the log line of an
    /// unexpected error.
    pub fn to_reply(&self, reference: &str) -> Reply {
        match self {
            AppError::Usage(err) => Reply::private(messages::usage_error(&err.problem, err.usage)),
            AppError::Forbidden(reason) => Reply::private(messages::forbidden(reason)),
            AppError::UnknownPerson { platform, user } => {
                Reply::private(messages::unknown_person(*platform, user))
            }
            AppError::NotFound(text) | AppError::Conflict(text) | AppError::Refused(text) => {
                Reply::private(text.clone())
            }
            AppError::DatabaseUnavailable(_) => Reply::private(messages::database_unavailable()),
            AppError::Unexpected(_) => Reply::private(messages::internal_error(reference)),
        }
    }
}
