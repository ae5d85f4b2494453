//! The escalation workflow as the kernel sees it: clicked verbs, refusals, the transition
//! of a click (paging on "escalate now", a DM on reassignment) and the card.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::paging::page_step;
use super::{schedule_sla_check, sla_view, timers};
use crate::domain::escalation::{Escalation, EscalationAction, apply, may_own};
use crate::domain::identity::Person;
use crate::domain::ids::PersonKey;
use crate::domain::messages::escalation as text;
use crate::domain::reply::{Card, Choice};
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::items::{Change, Workflow, direct_message};
use crate::storage::Tx;
use crate::storage::effects::Effects;

/// The escalation workflow.
pub struct Escalations;

fn refused(
    setup: &Setup,
    actor: &Person,
    refusal: &crate::domain::escalation::Refusal,
) -> AppError {
    AppError::Refused(text::refusal(refusal, &setup.directory, actor.time_zone))
}

impl Workflow for Escalations {
    type Item = Escalation;
    type Action = EscalationAction;

    fn home_people(setup: &Setup, item: &Escalation) -> Vec<crate::domain::ids::PersonKey> {
        crate::services::items::owner_and_team(setup, item.owner.as_ref(), &item.team)
    }

    fn decode(setup: &Setup, verb: &str, typed: &str) -> Result<EscalationAction, AppError> {
        Ok(match verb {
            "acknowledge" => EscalationAction::Acknowledge,
            "claim" => EscalationAction::Claim,
            "escalate" => EscalationAction::EscalateNow,
            "wait" => EscalationAction::WaitOnCustomer,
            "resume" => EscalationAction::Resume,
            "reopen" => EscalationAction::Reopen,
            "war_room" => EscalationAction::OpenWarRoom,
            "resolve" => EscalationAction::Resolve { note: typed.to_owned() },
            "reassign" => {
                let key = PersonKey::parse(typed)
                    .ok()
                    .filter(|key| setup.directory.person(key).is_some())
                    .ok_or_else(|| AppError::Refused(text::unknown_person_key(typed)))?;
                EscalationAction::Reassign { to: key }
            }
            other => return Err(AppError::Refused(crate::domain::messages::unknown_button(other))),
        })
    }

    fn locks(action: &EscalationAction) -> bool {
        matches!(action, EscalationAction::OpenWarRoom)
    }

    fn unknown(id: i64) -> String {
        text::unknown_escalation(id)
    }

    fn check(
        setup: &Setup,
        e: &Escalation,
        actor: &Person,
        action: &EscalationAction,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        apply(e, actor, action, now).map(|_| ()).map_err(|r| refused(setup, actor, &r))
    }

    fn check_before_text(
        setup: &Setup,
        item: &Escalation,
        actor: &Person,
        verb: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        crate::domain::escalation::check_before_text(item, actor, verb, now)
            .map_err(|r| refused(setup, actor, &r))
    }

    fn choices(setup: &Setup, e: &Escalation, verb: &str) -> Vec<Choice> {
        match verb {
            "reassign" => text::owner_choices(e, &setup.directory),
            _ => Vec::new(),
        }
    }

    async fn transition(
        setup: &Setup,
        tx: &mut Tx,
        effects: &mut Effects,
        actor: &Person,
        current: Escalation,
        action: &EscalationAction,
        now: DateTime<Utc>,
    ) -> Result<Change<Escalation>, AppError> {
        if let EscalationAction::Reassign { to } = action {
            // The prompt offers only who may own it; a typed or forged key is held to the
            // same list (the current owner is left to `apply`, which says so).
            let person = setup.directory.person(to);
            let eligible = person.is_some_and(|p| may_own(&current, p));
            if !eligible && current.owner.as_ref() != Some(to) {
                let name = person.map_or(to.as_str(), |p| p.display_name.as_str());
                return Err(AppError::Refused(text::may_not_own(name, &current.team)));
            }
        }
        let next = apply(&current, actor, action, now).map_err(|r| refused(setup, actor, &r))?;
        let mut change = Change::new(current, next, actor.key.to_string(), action.verb())
            .line(text::thread_line(action, &actor.display_name, &setup.directory));
        let next = &mut change.after;
        match action {
            EscalationAction::EscalateNow => {
                if let Some(pages) = page_step(setup, next, now) {
                    next.paging = pages.names.clone();
                    change.lines.push(text::paged_line(pages.level, &pages.names, false));
                    change.messages.extend(pages.messages);
                }
                timers::schedule_step(effects, &change.after, now);
            }
            EscalationAction::Reassign { to } => {
                let dm = text::reassigned_to_you(next, &actor.display_name);
                let what = format!("assigned:v{}", next.version);
                change.messages.extend(direct_message(setup, next, to, dm, what, now));
            }
            EscalationAction::OpenWarRoom => {
                // Under the escalation's row lock (`locks`): concurrent clicks declare one
                // incident, and the others then see its war room.
                let before = &change.before;
                let incident = crate::services::incidents::declare_for_escalation(
                    setup, tx, effects, actor, before, now,
                )
                .await?;
                change.after.incident = Some(incident);
            }
            _ => {}
        }
        if change.after.acknowledged.is_some() {
            change.after.paging.clear(); // someone owns it: nobody is being paged any more
        }
        Ok(change)
    }

    fn done(_setup: &Setup, action: &EscalationAction, saved: &Escalation) -> String {
        match (action, saved.incident) {
            (EscalationAction::OpenWarRoom, Some(incident)) => {
                text::war_room_opened(saved.id, incident)
            }
            _ => text::done(action, saved.id),
        }
    }

    async fn card(
        setup: &Setup,
        _tx: &mut Tx,
        e: &Escalation,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        let view = sla_view(e, now)?;
        Ok(text::card(e, Some(&view), &setup.directory, zone))
    }

    fn stale(_setup: &Setup, e: &Escalation, _zone: Tz) -> String {
        text::stale_card(e.id)
    }

    fn after_save(
        _setup: &Setup,
        effects: &mut Effects,
        e: &Escalation,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        schedule_sla_check(effects, e, &sla_view(e, now)?, now);
        Ok(())
    }
}
