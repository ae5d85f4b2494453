//! The incident workflow as the kernel sees it: clicked verbs ("I'm commander", "Join"),
//! refusals, the transition with its timeline entry, the summary card.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::timers;
use crate::domain::identity::Person;
use crate::domain::ids::AccountKey;
use crate::domain::incident::{Incident, IncidentAction, Refusal, apply};
use crate::domain::messages::incident::{self as text, AccountFacts};
use crate::domain::messages::unknown_button;
use crate::domain::reply::Card;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::items::{Change, Workflow};
use crate::storage::effects::Effects;
use crate::storage::incidents::NewTimelineEntry;
use crate::storage::{self, Tx};

/// The incident workflow.
pub struct Incidents;

pub(super) fn refused(setup: &Setup, refusal: &Refusal) -> AppError {
    AppError::Refused(text::refusal(refusal, &setup.directory))
}

impl Workflow for Incidents {
    type Item = Incident;
    type Action = IncidentAction;

    fn decode(setup: &Setup, verb: &str, _typed: &str) -> Result<IncidentAction, AppError> {
        // The notice buttons carry their notice's number: `notice_approve_2`, `notice_sent_2`.
        let number = |prefix: &str| verb.strip_prefix(prefix).and_then(|n| n.parse::<u32>().ok());
        Ok(match verb {
            "commander" => IncidentAction::TakeCommand,
            "join" => IncidentAction::Join,
            _ if let Some(number) = number(text::APPROVE_NOTICE_VERB) => {
                IncidentAction::ApproveNotice { number }
            }
            _ if let Some(number) = number(text::NOTICE_SENT_VERB) => {
                let next_update_in = setup.settings.incident.customer_update_every;
                IncidentAction::MarkNoticeSent { number, next_update_in }
            }
            other => return Err(AppError::Refused(unknown_button(other))),
        })
    }

    fn unknown(id: i64) -> String {
        text::unknown_incident(id)
    }

    fn check(
        setup: &Setup,
        incident: &Incident,
        actor: &Person,
        action: &IncidentAction,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        apply(incident, actor, action, now).map(|_| ()).map_err(|r| refused(setup, &r))
    }

    async fn transition(
        setup: &Setup,
        tx: &mut Tx,
        _effects: &mut Effects,
        actor: &Person,
        current: Incident,
        action: &IncidentAction,
        now: DateTime<Utc>,
    ) -> Result<Change<Incident>, AppError> {
        transition(setup, tx, actor, current, action, now).await
    }

    fn done(setup: &Setup, action: &IncidentAction, saved: &Incident) -> String {
        text::done(action, saved, &setup.directory)
    }

    async fn card(
        setup: &Setup,
        tx: &mut Tx,
        incident: &Incident,
        zone: Tz,
        _now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        let keys: Vec<String> = incident.accounts.iter().map(|a| a.key.to_string()).collect();
        let rows = storage::incidents::open_items_per_account(tx.conn().await?, &keys).await?;
        let facts: Vec<(AccountKey, AccountFacts)> = rows
            .into_iter()
            .filter_map(|(key, open_escalations, open_requests)| {
                Some((
                    AccountKey::parse(&key).ok()?,
                    AccountFacts { open_escalations, open_requests },
                ))
            })
            .collect();
        Ok(text::card(incident, &facts, &setup.directory, zone))
    }

    fn stale(_setup: &Setup, incident: &Incident, _zone: Tz) -> String {
        text::stale_card(incident.id)
    }

    fn mirrors(incident: &Incident) -> Vec<String> {
        super::room::card_mirrors(incident)
    }

    fn after_save(
        setup: &Setup,
        effects: &mut Effects,
        incident: &Incident,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        timers::schedule_update_due(effects, incident);
        super::room::schedule_archive(setup, effects, incident);
        super::reminders::schedule(setup, effects, incident);
        Ok(())
    }
}

/// Applies `action` by `actor` to a locked incident: the change with its thread line, and
/// its timeline entry written in the same transaction.
pub(super) async fn transition(
    setup: &Setup,
    tx: &mut Tx,
    actor: &Person,
    current: Incident,
    action: &IncidentAction,
    now: DateTime<Utc>,
) -> Result<Change<Incident>, AppError> {
    let (next, happening) = apply(&current, actor, action, now).map_err(|r| refused(setup, &r))?;
    let line = format!("{}: {}", actor.display_name, text::happening(&happening, &setup.directory));
    let entry = NewTimelineEntry {
        at: now,
        author_key: Some(actor.key.to_string()),
        author_name: actor.display_name.clone(),
        happening,
        source_key: None,
    };
    storage::incidents::insert_entries(tx.conn().await?, current.id, &[entry]).await?;
    let invite = super::room::invite_newcomers(setup, &current, &next, now);
    Ok(Change::new(current, next, actor.key.to_string(), action.verb())
        .line(line)
        .messages(invite.into_iter().flatten()))
}
