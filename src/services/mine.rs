//! `/mine` and the Slack App Home: one read of what waits on a person, rendered as one card
//! (a Slack home view, a Discord or console reply).

use chrono::{DateTime, Utc};

use super::Services;
use super::credits::approvers;
use super::error::AppError;
use crate::domain::identity::Person;
use crate::domain::messages::mine::{self as text, Mine};
use crate::domain::page::Page;
use crate::domain::reply::Card;
use crate::storage;
use crate::storage::escalations::{Scope, StatusFilter};
use crate::storage::requests::Queue;

/// Pending credits looked at for "waiting on your approval" (who may decide is the domain's
/// rule, so they are filtered here); beyond this the card points to `/credits pending`.
const PENDING_LOOKED_AT: i64 = 500;

/// The card of what waits on `person` at `now`, times in their zone.
pub async fn card(
    services: &Services,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<Card, AppError> {
    let pool = services.pool();
    let me = person.key.to_string();
    let pending = storage::credits::pending(pool, PENDING_LOOKED_AT).await?;
    let approvals_cut = pending.len() as i64 == PENDING_LOOKED_AT;
    let approvals: Vec<_> = pending
        .into_iter()
        .filter(|c| approvers(services.setup(), c).iter().any(|p| p.key == person.key))
        .collect();
    let escalations = storage::escalations::list(
        pool,
        &Scope::OwnedBy(me.clone()),
        StatusFilter::Open,
        now,
        Page::FIRST,
    )
    .await?;
    let requests = storage::requests::list_open(pool, &Queue::AssignedTo(me), Page::FIRST).await?;
    let team = person.team.to_string();
    let team_escalations_unowned = storage::escalations::count_unowned_open(pool, &team).await?;
    let queue = Queue::Unassigned { team };
    let team_requests_unassigned =
        storage::requests::list_open(pool, &queue, Page::FIRST).await?.total;
    let mine = Mine {
        display_name: &person.display_name,
        approvals: &approvals,
        approvals_cut,
        escalations: &escalations,
        requests: &requests,
        team_escalations_unowned,
        team_requests_unassigned,
    };
    Ok(text::card(&mine, &services.setup().directory, person.time_zone, now))
}
