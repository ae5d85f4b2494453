//! One assignment decision: who is on shift now, the team's rotation point and their loads
//! (one query), then the pure strategy.
//!
//! Decisions for one team are not serialised: a team-wide lock held to commit would cap
//! intake at one request per commit. Two decisions at the same instant may therefore both
//! pick the same least-loaded person; the next decisions see both in the loads, so the skew
//! is at most the number of concurrent intakes and corrects itself.

use chrono::{DateTime, Utc};

use crate::domain::assignment::{Candidate, Decision, Load, NoAssignee, decide};
use crate::domain::identity::{Person, Role};
use crate::domain::ids::{PersonKey, TeamKey};
use crate::domain::triage::RequestType;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::requests::loads::TeamInputs;
use crate::storage::{self, Tx};

/// Decides who in `team` gets a request of `kind` weighing `weight` at `now`. Writes
/// nothing: the next decision's rotation point is this request's assignee (see
/// `storage::requests::assignment_inputs`), and the loads come from [`LoadCache`] when this
/// process read them less than a second ago.
pub async fn choose(
    setup: &Setup,
    tx: &mut Tx,
    team: &TeamKey,
    kind: &RequestType,
    weight: i64,
    now: DateTime<Utc>,
) -> Result<Result<Decision, NoAssignee>, AppError> {
    let members: Vec<&Person> = setup
        .directory
        .people()
        .filter(|p| &p.team == team && (p.has_role(Role::Agent) || p.has_role(Role::Supervisor)))
        .collect();
    let candidates: Vec<Candidate> = members
        .iter()
        .filter(|p| setup.policies.on_shift(&p.key, now))
        .map(|p| Candidate { key: p.key.clone(), skills: p.skills.clone() })
        .collect();
    if candidates.is_empty() {
        return Ok(Err(NoAssignee::NobodyOnShift));
    }
    let inputs = match setup.loads.fresh(team, now) {
        Some(inputs) => inputs,
        None => {
            let keys: Vec<&str> = members.iter().map(|p| p.key.as_str()).collect();
            let (cursor, loads) =
                storage::requests::assignment_inputs(tx.conn().await?, team.as_str(), &keys)
                    .await?;
            let inputs = TeamInputs {
                cursor: cursor.and_then(|c| PersonKey::parse(&c).ok()),
                loads: loads
                    .into_iter()
                    .filter_map(|(key, open, weight)| {
                        Some((PersonKey::parse(&key).ok()?, Load { open, weight }))
                    })
                    .collect(),
            };
            setup.loads.store(team, now, inputs.clone());
            inputs
        }
    };
    let strategy = setup.policies.requests.strategy(team);
    let decision =
        decide(strategy, &candidates, &inputs.loads, inputs.cursor.as_ref(), &kind.skills);
    if let Ok(decision) = &decision {
        setup.loads.assigned(team, &decision.person, weight);
    }
    Ok(decision)
}
