//! The credit workflow as the kernel sees it: clicked verbs, four eyes and authority checked
//! server-side on what is stored, the decision, and the card with the account's recent
//! credits. Seeing a button grants nothing: everything is checked here.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{approver_dms, requester_dm};
use crate::domain::credit::{
    Credit, CreditAction, CreditState, Refusal, check_authority, month_bounds,
};
use crate::domain::identity::Person;
use crate::domain::messages::credit as text;
use crate::domain::reply::Card;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::items::{Change, Workflow};
use crate::storage::authority::AuthorityClaim;
use crate::storage::effects::Effects;
use crate::storage::{self, Tx};

/// Most other requests the card lists for the account.
const RECENT_LIMIT: i64 = 5;

/// The credit and adjustment workflow.
pub struct Credits;

fn refused(setup: &Setup, actor: &Person, refusal: Refusal) -> AppError {
    AppError::Refused(text::refusal(&refusal, &setup.directory, actor.time_zone))
}

impl Workflow for Credits {
    type Item = Credit;
    type Action = CreditAction;

    /// Who may decide the waiting level: the approval appears on their home, and goes away
    /// once decided (the people before the change are republished too).
    fn home_people(setup: &Setup, item: &Credit) -> Vec<crate::domain::ids::PersonKey> {
        super::approvers(setup, item).into_iter().map(|p| p.key.clone()).collect()
    }

    fn decode(_setup: &Setup, verb: &str, typed: &str) -> Result<CreditAction, AppError> {
        let typed = typed.to_owned();
        Ok(match verb {
            "approve" => CreditAction::Approve,
            "reject" => CreditAction::Reject { reason: typed },
            "ask" => CreditAction::AskInfo { question: typed },
            other => return Err(AppError::Refused(crate::domain::messages::unknown_button(other))),
        })
    }

    fn unknown(id: i64) -> String {
        text::unknown_credit(id)
    }

    fn check(
        setup: &Setup,
        c: &Credit,
        actor: &Person,
        _action: &CreditAction,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        c.check_decider(actor).map(|_| ()).map_err(|r| refused(setup, actor, r))
    }

    async fn transition(
        setup: &Setup,
        tx: &mut Tx,
        effects: &mut Effects,
        actor: &Person,
        current: Credit,
        action: &CreditAction,
        now: DateTime<Utc>,
    ) -> Result<Change<Credit>, AppError> {
        let level = current.check_decider(actor).map_err(|r| refused(setup, actor, r))?.clone();
        // Read the authority used this month, decide, then claim the amount in the write
        // set, which holds only if the total is still the one read: two approvals cannot
        // both fit the last of a limit (the loser is decided again on the new total).
        let uses_authority = *action == CreditAction::Approve && level.authority;
        let (who, payload) = (actor.key.as_str(), &current.payload);
        let mut claim = None;
        if uses_authority {
            let (from, to) = month_bounds(now, actor.time_zone);
            let currency = payload.currency.code();
            let read = storage::authority::used(tx.read().await?, who, currency, from, to).await?;
            let matrix = &setup.policies.credit.authority;
            check_authority(matrix, actor, &level, payload.amount, &payload.currency, read)
                .map_err(|r| refused(setup, actor, r))?;
            claim = Some(AuthorityClaim {
                credit_id: current.id,
                approver: who.to_owned(),
                currency: currency.to_owned(),
                from,
                to,
                amount: payload.amount.abs(),
                read,
            });
        }
        let next = current.decide(actor, action, now).map_err(|r| refused(setup, actor, r))?;
        if let Some(claim) = claim {
            effects.claim_authority(claim);
        }
        let mut change = Change::new(current, next, actor.key.to_string(), action.verb());
        let line = text::decision_line(action, &actor.display_name, &change.after);
        change.messages.extend(requester_dm(setup, &change.after, &line, now));
        if *action == CreditAction::Approve && change.after.state == CreditState::Pending {
            change.messages.extend(approver_dms(setup, &change.after, now, false));
        }
        Ok(change.line(line))
    }

    fn done(_setup: &Setup, action: &CreditAction, saved: &Credit) -> String {
        text::done(action, saved)
    }

    /// The card as of `c`, with the account's recent requests.
    async fn card(
        setup: &Setup,
        tx: &mut Tx,
        c: &Credit,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        let days = setup.settings.credits.recent_days;
        let since = now - Duration::days(i64::from(days));
        let account = c.account.as_str();
        // Display only: outside the transaction when none is open (a new request's card).
        let recent = storage::credits::recent_for_account(
            tx.read().await?,
            account,
            since,
            c.id,
            RECENT_LIMIT,
        )
        .await?;
        Ok(text::card(c, &recent, days, &setup.directory, zone))
    }

    fn stale(setup: &Setup, c: &Credit, zone: Tz) -> String {
        text::stale_card(c, &setup.directory, zone)
    }
}
