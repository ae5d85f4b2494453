//! `/access request|mine|who|revoke|extend|show`.

use chrono::Duration;

use super::actions::refused;
use super::{Access, decider_dms, holder_dm, system_of};
use crate::domain::access::command::AccessCommand;
use crate::domain::access::{AccessOpening, AccessRequest, AccessState};
use crate::domain::identity::Role;
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::access as text;
use crate::domain::reply::{Card, Reply};
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::{Event, EventTx};
use crate::services::items::{self, Change, audit};
use crate::storage::effects::Effects;
use crate::storage::{self, Tx};

pub async fn command(work: EventTx<'_, '_>, command: AccessCommand) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    match command {
        AccessCommand::Request { system, role, duration, reason } => {
            request(setup, tx, effects, event, &system, &role, duration, reason).await
        }
        AccessCommand::Mine => {
            let rows =
                storage::access::open_of_holder(tx.conn().await?, event.actor.key.as_str()).await?;
            Ok(list(setup, event, "mine", &rows))
        }
        AccessCommand::Who { system } => {
            known_system(setup, &system)?;
            let rows = storage::access::active_of_system(tx.conn().await?, &system).await?;
            Ok(list(setup, event, &system, &rows))
        }
        AccessCommand::Revoke { id, reason } => {
            revoke(setup, tx, effects, event, id, &reason).await
        }
        AccessCommand::Extend { id, duration, reason } => {
            extend(setup, tx, effects, event, id, duration, &reason).await
        }
        AccessCommand::Show { id } => items::show::<Access>(setup, tx, event, id).await,
        AccessCommand::ReviewStart { scope, due } => {
            super::review::start(setup, tx, effects, event, &scope, due).await
        }
        AccessCommand::ReviewClose { campaign } => {
            super::review::close(setup, tx, effects, event, campaign).await
        }
    }
}

fn known_system<'a>(
    setup: &'a Setup,
    key: &str,
) -> Result<&'a crate::domain::access::AccessSystem, AppError> {
    let catalog = &setup.policies.access;
    catalog.system(key).ok_or_else(|| AppError::Refused(text::unknown_system(key, &catalog.keys())))
}

#[allow(clippy::too_many_arguments)]
async fn request(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    system: &str,
    role: &str,
    duration: Duration,
    reason: String,
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    let system = known_system(setup, system)?;
    if !system.roles.iter().any(|r| r == role) {
        return Err(AppError::Refused(text::unknown_role(system, role)));
    }
    if duration > system.max_duration {
        return Err(AppError::Refused(text::too_long(system, duration)));
    }
    let deciders = system.deciders(&setup.directory, actor);
    if deciders.len() < system.approvals_needed() {
        return Err(AppError::Refused(text::no_deciders(system)));
    }
    let team = items::team_of(setup, &actor.team)?;
    let (platform, channel) = items::home_of(team, event);
    let mut access = AccessRequest::opened(AccessOpening {
        system,
        role: role.to_owned(),
        holder: actor,
        deciders,
        duration,
        reason,
        platform,
        channel,
        now,
    });
    access.living.workspace = event.inbound.workspace.clone();
    access.id = storage::items::next_id(tx.read().await?, ItemKind::AccessRequest).await?;
    let after = access.snapshot();
    let actor_key = actor.key.to_string();
    audit(effects, &mut access, actor_key, "request", serde_json::Value::Null, after, now);
    let dms = decider_dms(setup, &access, now);
    items::create::<Access>(setup, tx, effects, &access, &[], dms, now).await?;
    Ok(Reply::private(text::requested(&access)))
}

async fn load_for_update(tx: &mut Tx, id: i64) -> Result<AccessRequest, AppError> {
    storage::items::get_for_update(tx.conn().await?, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_access(id)))
}

async fn revoke(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    id: i64,
    reason: &str,
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    let current = load_for_update(tx, id).await?;
    let system = system_of(setup, &current);
    if !actor.has_role(Role::Admin) && !system.is_some_and(|s| s.is_owner(actor)) {
        return Err(AppError::Forbidden(text::revoke_forbidden(&current.system)));
    }
    let within = system.map(|s| s.task_within).unwrap_or_else(|| Duration::days(1));
    let key = actor.key.to_string();
    let next = current
        .end(AccessState::Revoked, &key, Some(reason), within, now)
        .map_err(|r| refused(setup, &current, r))?;
    let line = text::revoked_line(&actor.display_name, reason);
    let mut change = Change::new(current, next, key, "revoke");
    change.messages.extend(holder_dm(setup, &change.after, &line, now));
    let saved = items::save::<Access>(setup, tx, effects, change.line(line), now).await?;
    Ok(Reply::private(text::revoked(&saved)))
}

async fn extend(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    id: i64,
    by: Duration,
    reason: &str,
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    let current = load_for_update(tx, id).await?;
    let max = system_of(setup, &current).map(|s| s.max_duration).unwrap_or_default();
    let next = current
        .request_extension(actor, by, reason, max, now)
        .map_err(|r| refused(setup, &current, r))?;
    let line = text::extension_line(&actor.display_name, by, reason);
    let mut change = Change::new(current, next, actor.key.to_string(), "extend");
    change.messages.extend(decider_dms(setup, &change.after, now));
    let saved = items::save::<Access>(setup, tx, effects, change.line(line), now).await?;
    Ok(Reply::private(text::extension_requested(&saved)))
}

fn list(setup: &Setup, event: &Event<'_>, what: &str, rows: &[AccessRequest]) -> Reply {
    let zone = event.actor.time_zone;
    let lines: Vec<String> =
        rows.iter().map(|a| text::list_line(a, &setup.directory, zone)).collect();
    let body = if lines.is_empty() { text::empty_list() } else { lines.join("\n") };
    Reply::private_card(Card {
        title: text::list_title(what, rows.len()),
        body: Some(body),
        ..Card::default()
    })
}
