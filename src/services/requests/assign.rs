//! One assignment decision: who is on shift now, the team's rotation point and their loads
//! (one query), then the pure strategy.
//!
//! Decisions for one team are not serialised: a team-wide lock held to commit would cap
//! intake at one request per commit. Two decisions at the same instant may therefore both
//! pick the same least-loaded person; the next decisions see both in the loads, so the skew
//! is at most the number of concurrent intakes and corrects itself.

use chrono::{DateTime, Utc};

use crate::domain::assignment::{Candidate, Decision, Load, NoAssignee, decide};
use crate::domain::identity::Role;
use crate::domain::ids::{PersonKey, TeamKey};
use crate::domain::triage::RequestType;
use crate::services::Services;
use crate::services::error::AppError;
use crate::storage::{self, Tx};

/// Decides who in `team` gets a request of `kind` at `now`. Writes nothing: the next
/// decision's rotation point is this request's assignee (see
/// `storage::requests::assignment_inputs`).
pub async fn choose(
    services: &Services,
    tx: &mut Tx,
    team: &TeamKey,
    kind: &RequestType,
    now: DateTime<Utc>,
) -> Result<Result<Decision, NoAssignee>, AppError> {
    let candidates: Vec<Candidate> = services
        .directory
        .people()
        .filter(|p| &p.team == team && (p.has_role(Role::Agent) || p.has_role(Role::Supervisor)))
        .filter(|p| services.policies.on_shift(&p.key, now))
        .map(|p| Candidate { key: p.key.clone(), skills: p.skills.clone() })
        .collect();
    if candidates.is_empty() {
        return Ok(Err(NoAssignee::NobodyOnShift));
    }
    let keys: Vec<&str> = candidates.iter().map(|c| c.key.as_str()).collect();
    let (cursor, loads) =
        storage::requests::assignment_inputs(&mut **tx, team.as_str(), &keys).await?;
    let cursor = cursor.and_then(|c| PersonKey::parse(&c).ok());
    let loads = loads
        .into_iter()
        .filter_map(|(key, open, weight)| {
            Some((PersonKey::parse(&key).ok()?, Load { open, weight }))
        })
        .collect();
    let strategy = services.policies.requests.strategy(team);
    Ok(decide(strategy, &candidates, &loads, cursor.as_ref(), &kind.skills))
}
