//! The request commands: `/request`, `/request show`, `/assign`, `/handoff`, `/workload`,
//! `/backlog`.

use super::Requests;
use super::actions::{known_person, transition_and_save as transition};
use super::open::{NewRequest, Opened, open_request};
use crate::domain::identity::Directory;
use crate::domain::ids::TeamKey;
use crate::domain::messages::request as text;
use crate::domain::reply::{Card, Reply};
use crate::domain::request::{Request, RequestAction};
use crate::domain::request_command::RequestCommand;
use crate::domain::triage::Priority;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::EventTx;
use crate::services::items::{self, direct_message};
use crate::storage;

pub async fn command(work: EventTx<'_, '_>, command: RequestCommand) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    let actor = event.actor;
    let now = event.now;
    match command {
        RequestCommand::Open { account, kind, summary, priority, fields } => {
            let new = NewRequest {
                account: account.to_string(),
                kind,
                summary,
                priority,
                fields,
                source: "chat".into(),
                external_id: None,
                requested_by: actor.key.to_string(),
                team: Some(actor.team.clone()),
                platform: Some(event.inbound.platform),
                workspace: event.inbound.workspace.clone(),
            };
            match open_request(setup, tx, effects, new, now).await? {
                Opened::Created(r) => Ok(Reply::private(text::opened(&r, &setup.directory))),
                Opened::Existing(id) | Opened::Different(id) => Err(AppError::Unexpected(
                    anyhow::anyhow!("chat request deduplicated as #{id} without an external id"),
                )),
            }
        }
        RequestCommand::Show { id } => items::show::<Requests>(setup, tx, event, id).await,
        RequestCommand::Assign { id, to } => {
            let to = known_person(setup, to.as_str())?;
            let current = storage::items::get_for_update::<Request>(tx.conn().await?, id)
                .await?
                .ok_or_else(|| AppError::NotFound(text::unknown_request(id)))?;
            let reason = text::manual_assignment_reason(&actor.display_name);
            let action = RequestAction::Assign { to, reason };
            let saved = transition(setup, tx, effects, actor, current, &action, now).await?;
            Ok(Reply::private(text::done(&action, saved.id, &setup.directory)))
        }
        RequestCommand::Handoff { to } => {
            let to = known_person(setup, to.as_str())?;
            if to == actor.key {
                return Err(AppError::Refused(text::handoff_to_self()));
            }
            let mine = storage::requests::open_assigned_to_for_update(
                tx.conn().await?,
                actor.key.as_str(),
            )
            .await?;
            if mine.is_empty() {
                return Err(AppError::Refused(text::nothing_to_hand_off()));
            }
            let action = RequestAction::Handoff { to: to.clone() };
            let mut moved = Vec::new();
            for current in mine {
                moved.push(transition(setup, tx, effects, actor, current, &action, now).await?);
            }
            // One summary to the receiver, on the platform the hand-off came from.
            let first = &moved[0];
            let receiver = setup.directory.person(&to).map(|p| p.display_name.clone());
            let summary = text::handoff_summary(&actor.display_name, &moved);
            let key = format!("handoff:{}:{}:{}", actor.key, to, now.timestamp_micros());
            let mut summary_to = first.clone();
            summary_to.living.platform = event.inbound.platform;
            effects.outbox.extend(direct_message(setup, &summary_to, &to, summary, key, now));
            Ok(Reply::private(text::handed_off(moved.len(), &receiver.unwrap_or_default())))
        }
        RequestCommand::Workload { team } => {
            let team = team_or_own(setup, team, &actor.team)?;
            let rows = storage::requests::workload(tx.conn().await?, team.as_str(), now).await?;
            let queued = rows.iter().filter(|r| r.assignee.is_none()).map(|r| r.open).sum();
            let people: Vec<text::WorkloadRow> = rows
                .into_iter()
                .filter_map(|row| {
                    let key = row.assignee?;
                    Some(text::WorkloadRow {
                        person: display_name(&setup.directory, &key),
                        open: row.open,
                        oldest: row.oldest,
                        at_risk: row.at_risk,
                    })
                })
                .collect();
            Ok(Reply::private_card(text::workload(team.as_str(), &people, queued, now)))
        }
        RequestCommand::Backlog { team } => {
            let team = team_or_own(setup, team, &actor.team)?;
            let rows = storage::requests::backlog(tx.conn().await?, team.as_str(), now).await?;
            let rows: Vec<(Priority, [i64; 4])> = rows
                .into_iter()
                .filter_map(|(p, a, b, c, d)| Some((Priority::parse(&p)?, [a, b, c, d])))
                .collect();
            let card: Card = text::backlog(team.as_str(), &rows);
            Ok(Reply::private_card(card))
        }
    }
}

fn team_or_own(setup: &Setup, team: Option<TeamKey>, own: &TeamKey) -> Result<TeamKey, AppError> {
    let team = team.unwrap_or_else(|| own.clone());
    match setup.directory.team(&team) {
        Some(_) => Ok(team),
        None => Err(AppError::NotFound(text::unknown_team(team.as_str()))),
    }
}

fn display_name(directory: &Directory, key: &str) -> String {
    crate::domain::ids::PersonKey::parse(key)
        .ok()
        .and_then(|k| directory.person(&k).map(|p| p.display_name.clone()))
        .unwrap_or_else(|| key.to_owned())
}
