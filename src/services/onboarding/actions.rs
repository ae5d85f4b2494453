//! The onboarding workflow as the kernel sees it: step verbs (`done.kyc`, `blocked.kyc`,
//! `na.invoice`), the order and role rules under the row lock, and the checklist card.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::schedule_clocks;
use crate::domain::identity::Person;
use crate::domain::messages::onboarding as text;
use crate::domain::onboarding::{Onboarding, StepAction};
use crate::domain::reply::Card;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::items::{Change, Workflow};
use crate::storage::Tx;
use crate::storage::effects::Effects;

/// The onboarding workflow.
pub struct Onboardings;

fn refused(o: &Onboarding, refusal: crate::domain::onboarding::Refusal) -> AppError {
    AppError::Refused(text::refusal(&refusal, o))
}

impl Workflow for Onboardings {
    type Item = Onboarding;
    type Action = StepAction;

    fn decode(_setup: &Setup, verb: &str, typed: &str) -> Result<StepAction, AppError> {
        let unknown = || AppError::Refused(crate::domain::messages::unknown_button(verb));
        let (verb, step) = verb.split_once('.').ok_or_else(unknown)?;
        let (step, reason) = (step.to_owned(), typed.to_owned());
        Ok(match verb {
            "done" => StepAction::Done { step },
            "blocked" => StepAction::Blocked { step, reason },
            "na" => StepAction::NotApplicable { step, reason },
            _ => return Err(unknown()),
        })
    }

    fn unknown(id: i64) -> String {
        text::unknown_onboarding(id)
    }

    fn check(
        _setup: &Setup,
        o: &Onboarding,
        actor: &Person,
        action: &StepAction,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        o.check(actor, action).map(|_| ()).map_err(|r| refused(o, r))
    }

    async fn transition(
        _setup: &Setup,
        _tx: &mut Tx,
        _effects: &mut Effects,
        actor: &Person,
        current: Onboarding,
        action: &StepAction,
        now: DateTime<Utc>,
    ) -> Result<Change<Onboarding>, AppError> {
        let next = current.apply(actor, action, now).map_err(|r| refused(&current, r))?;
        let audit_action = format!("{}:{}", action.verb(), action.step());
        let mut change = Change::new(current, next, actor.key.to_string(), &audit_action);
        let line = text::step_line_of(&actor.display_name, action, &change.after);
        change.lines.push(line);
        Ok(change)
    }

    fn done(_setup: &Setup, action: &StepAction, saved: &Onboarding) -> String {
        text::done(action, saved)
    }

    async fn card(
        setup: &Setup,
        _tx: &mut Tx,
        o: &Onboarding,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        Ok(text::card(o, &setup.directory, zone, now))
    }

    fn stale(_setup: &Setup, o: &Onboarding, _zone: Tz) -> String {
        text::stale_card(o)
    }

    fn after_save(
        _setup: &Setup,
        effects: &mut Effects,
        o: &Onboarding,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        schedule_clocks(effects, o, now);
        Ok(())
    }
}
