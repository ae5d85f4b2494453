//! `/steward help`, `/steward whoami`, `/steward status`.

use super::Setup;
use super::error::AppError;
use super::inbound::Event;
use crate::domain::messages::{self, StatusFigures};
use crate::domain::reply::Reply;
use crate::storage::{self, Tx};

pub fn help() -> Reply {
    Reply::private(messages::help())
}

pub fn whoami(setup: &Setup, event: &Event<'_>) -> Reply {
    let person = event.actor;
    let team_name = setup.directory.team(&person.team).map(|t| t.name.as_str()).unwrap_or("(none)");
    Reply::private(messages::whoami(
        person,
        team_name,
        event.inbound.platform,
        &event.inbound.actor,
    ))
}

pub async fn status(tx: &mut Tx) -> Result<Reply, AppError> {
    let outbox = storage::outbox::counts(tx.conn().await?).await?;
    let (jobs_pending, jobs_dead) = storage::jobs::counts(tx.conn().await?).await?;
    let pattern = super::escalations::page_key_pattern();
    let pages_failed = storage::outbox::count_failed_like(tx.conn().await?, &pattern).await?;
    Ok(Reply::private(messages::status(&StatusFigures {
        outbox_pending: outbox.pending,
        outbox_failed: outbox.failed,
        jobs_pending,
        jobs_dead,
        last_failure: outbox.last_error,
        pages_failed,
    })))
}
