//! `/mine` and the Slack App Home: one read of what waits on a person, rendered as one card
//! (a Slack home view, a Discord or console reply).

use chrono::{DateTime, Utc};

use super::credits::approvers;
use super::error::AppError;
use super::{Services, Setup};
use crate::domain::identity::Person;
use crate::domain::messages::mine::{self as text, Mine};
use crate::domain::page::Page;
use crate::domain::reply::Card;
use crate::storage::escalations::{Scope, StatusFilter};
use crate::storage::requests::Queue;
use crate::storage::{self, Tx};

/// Pending credits looked at for "waiting on your approval" (who may decide is the domain's
/// rule, so they are filtered here); beyond this the card points to `/credits pending`.
const PENDING_LOOKED_AT: i64 = 500;

/// The card of what waits on `person` at `now`, times in their zone, read in a unit of work
/// of its own (for the drivers that have none: the home view and its republish job).
pub async fn card_now(
    services: &Services,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<Card, AppError> {
    card(services.setup(), &mut Tx::new(services.pool()), person, now).await
}

/// The card of what waits on `person` at `now`, times in their zone. Display reads only,
/// each its own snapshot, on the unit's one connection.
pub async fn card(
    setup: &Setup,
    tx: &mut Tx,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<Card, AppError> {
    let me = person.key.to_string();
    let pending = storage::credits::pending(tx.read().await?, PENDING_LOOKED_AT).await?;
    let approvals_cut = pending.len() as i64 == PENDING_LOOKED_AT;
    let approvals: Vec<_> = pending
        .into_iter()
        .filter(|c| approvers(setup, c).iter().any(|p| p.key == person.key))
        .collect();
    let escalations = storage::escalations::list(
        tx.read().await?,
        &Scope::OwnedBy(me.clone()),
        StatusFilter::Open,
        now,
        Page::FIRST,
    )
    .await?;
    let mine_queue = Queue::AssignedTo(me);
    let requests = storage::requests::list_open(tx.read().await?, &mine_queue, Page::FIRST).await?;
    let team = person.team.to_string();
    let team_escalations_unowned =
        storage::escalations::count_unowned_open(tx.read().await?, &team).await?;
    let queue = Queue::Unassigned { team };
    let team_requests_unassigned =
        storage::requests::list_open(tx.read().await?, &queue, Page::FIRST).await?.total;
    let mine = Mine {
        display_name: &person.display_name,
        approvals: &approvals,
        approvals_cut,
        escalations: &escalations,
        requests: &requests,
        team_escalations_unowned,
        team_requests_unassigned,
    };
    Ok(text::card(&mine, &setup.directory, person.time_zone, now))
}
