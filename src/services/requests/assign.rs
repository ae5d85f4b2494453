//! One assignment decision: the team's rotation cursor, who is on shift now, their loads,
//! then the pure strategy.
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

/// Decides who in `team` gets a request of `kind` at `now`, and moves the team's rotation
/// cursor to them (outside `tx`: see `storage::requests::advance_cursor`).
pub async fn choose(
    services: &Services,
    tx: &mut Tx,
    team: &TeamKey,
    kind: &RequestType,
    now: DateTime<Utc>,
) -> Result<Result<Decision, NoAssignee>, AppError> {
    let cursor = storage::requests::read_cursor(&mut **tx, team.as_str()).await?;
    let cursor = cursor.and_then(|c| PersonKey::parse(&c).ok());
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
    let loads = storage::requests::open_loads(&mut **tx, &keys)
        .await?
        .into_iter()
        .filter_map(|(key, open, weight)| {
            Some((PersonKey::parse(&key).ok()?, Load { open, weight }))
        })
        .collect();
    let strategy = services.policies.requests.strategy(team);
    let decision = decide(strategy, &candidates, &loads, cursor.as_ref(), &kind.skills);
    if let Ok(decision) = &decision {
        storage::requests::advance_cursor(&services.pool, team.as_str(), decision.person.as_str())
            .await?;
    }
    Ok(decision)
}
