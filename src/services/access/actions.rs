//! The access workflow as the kernel sees it: clicked verbs, four eyes checked server-side
//! under the row lock, the decision, and the card. Seeing a button grants nothing.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{follow_ups, holder_dm, system_of};
use crate::domain::access::{AccessAction, AccessRequest, Refusal};
use crate::domain::identity::{Person, Role};
use crate::domain::messages::access as text;
use crate::domain::reply::Card;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::items::{Change, Workflow};
use crate::storage::Tx;
use crate::storage::effects::Effects;

/// The access request workflow.
pub struct Access;

pub(crate) fn refused(setup: &Setup, a: &AccessRequest, refusal: Refusal) -> AppError {
    AppError::Refused(text::refusal(&refusal, &setup.directory, a))
}

/// Whether `actor` owns the item's system (admins count as owners for its tasks).
fn owns(setup: &Setup, a: &AccessRequest, actor: &Person) -> bool {
    actor.has_role(Role::Admin) || system_of(setup, a).is_some_and(|s| s.is_owner(actor))
}

fn task_within(setup: &Setup, a: &AccessRequest) -> Duration {
    system_of(setup, a).map(|s| s.task_within).unwrap_or_else(|| Duration::days(1))
}

impl Workflow for Access {
    type Item = AccessRequest;
    type Action = AccessAction;

    fn decode(_setup: &Setup, verb: &str, typed: &str) -> Result<AccessAction, AppError> {
        let typed = typed.to_owned();
        Ok(match verb {
            "approve" => AccessAction::Approve,
            "deny" => AccessAction::Deny { reason: typed },
            "ask" => AccessAction::Ask { question: typed },
            "done" => AccessAction::TaskDone,
            other => return Err(AppError::Refused(crate::domain::messages::unknown_button(other))),
        })
    }

    fn unknown(id: i64) -> String {
        text::unknown_access(id)
    }

    fn check(
        setup: &Setup,
        a: &AccessRequest,
        actor: &Person,
        action: &AccessAction,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let owner = owns(setup, a, actor);
        // A probe with a placeholder text: the check is about who and when, not the words.
        let probe = match action {
            AccessAction::Deny { .. } => AccessAction::Deny { reason: "-".into() },
            AccessAction::Ask { .. } => AccessAction::Ask { question: "-".into() },
            other => other.clone(),
        };
        a.apply(actor, &probe, owner, task_within(setup, a), now)
            .map(|_| ())
            .map_err(|r| refused(setup, a, r))
    }

    async fn transition(
        setup: &Setup,
        _tx: &mut Tx,
        _effects: &mut Effects,
        actor: &Person,
        current: AccessRequest,
        action: &AccessAction,
        now: DateTime<Utc>,
    ) -> Result<Change<AccessRequest>, AppError> {
        let owner = owns(setup, &current, actor);
        let within = task_within(setup, &current);
        let next = current
            .apply(actor, action, owner, within, now)
            .map_err(|r| refused(setup, &current, r))?;
        let mut change = Change::new(current, next, actor.key.to_string(), action.verb());
        let typed = match action {
            AccessAction::Deny { reason } => reason.as_str(),
            AccessAction::Ask { question } => question.as_str(),
            _ => "",
        };
        let line = text::decision_line(action.verb(), &actor.display_name, &change.after, typed);
        change.messages.extend(holder_dm(setup, &change.after, &line, now));
        Ok(change.line(line))
    }

    fn done(_setup: &Setup, action: &AccessAction, saved: &AccessRequest) -> String {
        text::done(action.verb(), saved)
    }

    async fn card(
        setup: &Setup,
        _tx: &mut Tx,
        a: &AccessRequest,
        zone: Tz,
        _now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        Ok(text::card(a, &setup.directory, zone))
    }

    fn stale(_setup: &Setup, a: &AccessRequest, _zone: Tz) -> String {
        text::stale_card(a)
    }

    fn after_save(
        setup: &Setup,
        effects: &mut Effects,
        a: &AccessRequest,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        follow_ups(setup, effects, a, now);
        Ok(())
    }
}
