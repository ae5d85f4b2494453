//! The request workflow as the kernel sees it: clicked verbs, refusals, the transition (with
//! the assignment reason and the DM to a new assignee, shared by `/assign` and `/handoff`)
//! and the card.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::sla_view;
use crate::domain::identity::Person;
use crate::domain::ids::PersonKey;
use crate::domain::messages::request as text;
use crate::domain::messages::unknown_button;
use crate::domain::reply::Card;
use crate::domain::request::{Refusal, Request, RequestAction, apply};
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::items::{self, Change, Workflow, direct_message};
use crate::storage::Tx;
use crate::storage::effects::Effects;

/// The account-request workflow.
pub struct Requests;

fn refused(setup: &Setup, actor: &Person, refusal: &Refusal) -> AppError {
    AppError::Refused(text::refusal(refusal, &setup.directory, actor.time_zone))
}

impl Workflow for Requests {
    type Item = Request;
    type Action = RequestAction;

    fn home_people(setup: &Setup, item: &Request) -> Vec<crate::domain::ids::PersonKey> {
        crate::services::items::owner_and_team(setup, item.assignee.as_ref(), &item.team)
    }

    fn decode(setup: &Setup, verb: &str, typed: &str) -> Result<RequestAction, AppError> {
        Ok(match verb {
            "accept" => RequestAction::Accept,
            "needinfo" => RequestAction::NeedInfo,
            "resume" => RequestAction::Resume,
            "reopen" => RequestAction::Reopen,
            "resolve" => RequestAction::Resolve { note: typed.to_owned() },
            "reassign" => RequestAction::Reassign { to: known_person(setup, typed)? },
            other => return Err(AppError::Refused(unknown_button(other))),
        })
    }

    fn unknown(id: i64) -> String {
        text::unknown_request(id)
    }

    fn check(
        setup: &Setup,
        r: &Request,
        actor: &Person,
        action: &RequestAction,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        apply(r, Some(actor), action, now).map(|_| ()).map_err(|e| refused(setup, actor, &e))
    }

    fn check_before_text(
        setup: &Setup,
        item: &Request,
        actor: &Person,
        verb: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        crate::domain::request::check_before_text(item, actor, verb, now)
            .map_err(|r| refused(setup, actor, &r))
    }

    async fn transition(
        setup: &Setup,
        _tx: &mut Tx,
        _effects: &mut Effects,
        actor: &Person,
        current: Request,
        action: &RequestAction,
        now: DateTime<Utc>,
    ) -> Result<Change<Request>, AppError> {
        transition(setup, actor, current, action, now)
    }

    fn done(setup: &Setup, action: &RequestAction, saved: &Request) -> String {
        text::done(action, saved.id, &setup.directory)
    }

    async fn card(
        setup: &Setup,
        _tx: &mut Tx,
        r: &Request,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        let view = sla_view(r, now)?;
        Ok(text::card(r, Some(&view), &setup.directory, zone))
    }

    fn stale(_setup: &Setup, r: &Request, _zone: Tz) -> String {
        text::stale_card(r.id)
    }

    fn after_save(
        setup: &Setup,
        _effects: &mut Effects,
        r: &Request,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        // Accepts, reassignments and resolutions move loads in ways the cache does not follow.
        setup.loads.invalidate(&r.team);
        Ok(())
    }
}

/// Applies `action` by `actor` to a locked request: the change with its thread line, the
/// assignment reason and the direct message to a new assignee.
fn transition(
    setup: &Setup,
    actor: &Person,
    current: Request,
    action: &RequestAction,
    now: DateTime<Utc>,
) -> Result<Change<Request>, AppError> {
    let next = apply(&current, Some(actor), action, now).map_err(|r| refused(setup, actor, &r))?;
    let reason = match action {
        RequestAction::Assign { reason, .. } => Some(reason.clone()),
        RequestAction::Reassign { .. } => Some(text::manual_assignment_reason(&actor.display_name)),
        RequestAction::Handoff { .. } => Some(text::handoff_reason(&actor.display_name)),
        RequestAction::Accept if current.assignee.as_ref() != Some(&actor.key) => {
            Some(text::accepted_reason())
        }
        _ => None,
    };
    let reason_text = reason.clone().unwrap_or_default();
    let line = text::thread_line(action, &actor.display_name, &reason_text, &setup.directory);
    let mut change = Change::new(current, next, actor.key.to_string(), action.verb()).line(line);
    let next = &mut change.after;
    if let (Some(reason), Some(assignment)) = (reason, next.assignment.as_mut()) {
        assignment.reason = reason;
    }
    // A hand-off sends one summary for all items instead (see `/handoff`).
    if let RequestAction::Assign { to, .. } | RequestAction::Reassign { to } = action {
        let dm = text::assigned_to_you(next, &reason_text);
        let what = format!("assigned:v{}", next.version);
        change.messages.extend(direct_message(setup, &change.after, to, dm, what, now));
    }
    Ok(change)
}

/// Applies and saves `action` by `actor` on a locked request (`/assign`, `/handoff`).
pub(crate) async fn transition_and_save(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    actor: &Person,
    current: Request,
    action: &RequestAction,
    now: DateTime<Utc>,
) -> Result<Request, AppError> {
    let change = transition(setup, actor, current, action, now)?;
    items::save::<Requests>(setup, tx, effects, change, now).await
}

/// A person key that names someone in the directory.
pub(crate) fn known_person(setup: &Setup, raw: &str) -> Result<PersonKey, AppError> {
    PersonKey::parse(raw)
        .ok()
        .filter(|key| setup.directory.person(key).is_some())
        .ok_or_else(|| AppError::Refused(text::unknown_person(raw)))
}
