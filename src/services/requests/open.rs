//! Opening a request, from chat (`/request`) or the intake endpoint: validate, deduplicate
//! by the sender's id, triage, start the SLA clocks, assign (or queue), post the card.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Requests;
use crate::domain::assignment::Decision;
use crate::domain::command::UsageError;
use crate::domain::identity::Person;
use crate::domain::ids::{AccountKey, Platform, TeamKey};
use crate::domain::item::{ItemKind, LivingItem, SYSTEM_ACTOR};
use crate::domain::messages::request as text;
use crate::domain::request::{Request, RequestAction, RequestOpening, apply};
use crate::domain::triage::Priority;
use crate::services::error::AppError;
use crate::services::items::{self, audit, direct_message};
use crate::services::{Services, Setup};
use crate::storage::effects::Effects;
use crate::storage::jobs::NewJob;
use crate::storage::outbox::NewOutboxMessage;
use crate::storage::{self, Tx};

/// What a sender (a person in chat, or a system over HTTP) asks for.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub account: String,
    pub kind: String,
    pub summary: String,
    pub priority: Option<Priority>,
    pub fields: BTreeMap<String, String>,
    /// `chat`, or the intake source (`helpdesk`, `crm`, …).
    pub source: String,
    pub external_id: Option<String>,
    /// Person key, or the source.
    pub requested_by: String,
    /// The team whose queue it joins; default: the account owner's team, else the first.
    pub team: Option<TeamKey>,
    /// Where the card goes; default: the team's first configured channel.
    pub platform: Option<Platform>,
    /// The workspace of that platform (Slack's team id); `None` for the default one.
    pub workspace: Option<String>,
}

/// The outcome of opening.
#[derive(Debug)]
pub enum Opened {
    Created(Box<Request>),
    /// The sender delivered this `(source, external_id)` before: the request's id. Roll back.
    Existing(i64),
    /// The sender delivered this `(source, external_id)` before with a different account,
    /// type, summary or fields: the existing request's id. Roll back; nothing is changed.
    Different(i64),
}

fn invalid(problem: String) -> AppError {
    AppError::Usage(UsageError { usage: text::HELP_REQUEST.usage, problem })
}

/// Opens a request in `tx`; the audit records, card, messages and jobs go into `effects`.
pub async fn open_request(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    new: NewRequest,
    now: DateTime<Utc>,
) -> Result<Opened, AppError> {
    // Everything the sender could have said wrong is checked before the database.
    let rules = &setup.policies.requests;
    let kind = rules
        .request_type(new.kind.trim())
        .ok_or_else(|| invalid(text::unknown_type(new.kind.trim(), &rules.type_keys())))?
        .clone();
    let account = AccountKey::parse(&new.account)
        .ok()
        .and_then(|key| setup.directory.account(&key))
        .ok_or_else(|| invalid(text::unknown_account(new.account.trim())))?
        .clone();
    let missing = rules.missing_fields(&kind, &new.fields);
    if !missing.is_empty() {
        return Err(invalid(text::missing_fields(&kind.key, &missing)));
    }
    let summary = new.summary.trim().to_owned();
    if summary.is_empty() {
        return Err(invalid(text::missing_summary()));
    }
    if let Some(external_id) = &new.external_id
        && let Some(id) =
            storage::requests::find_external(tx.conn().await?, &new.source, external_id).await?
    {
        let first = storage::items::get::<Request>(tx.conn().await?, id).await?;
        let same = first.is_some_and(|r| {
            r.account == account.key
                && r.kind == kind.key
                && r.summary == summary
                && r.fields == new.fields
        });
        return Ok(if same { Opened::Existing(id) } else { Opened::Different(id) });
    }
    let team_key = new
        .team
        .clone()
        .or_else(|| {
            let owner = account.owner.as_ref()?;
            setup.directory.person(owner).map(|p| p.team.clone())
        })
        .or_else(|| setup.directory.teams().next().map(|t| t.key.clone()))
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("no team configured")))?;
    let team = setup
        .directory
        .team(&team_key)
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("team {team_key} missing")))?;
    let (platform, channel) = match new.platform {
        Some(platform) => (platform, team.channels.get(&platform).cloned()),
        None => match team.channels.iter().next() {
            Some((platform, channel)) => (*platform, Some(channel.clone())),
            None => (Platform::Console, None),
        },
    };
    let channel = channel.unwrap_or_else(|| team.key.to_string());
    let (priority, priority_source) = rules.triage(&kind, &account.tier, &summary, new.priority);
    let calendar = setup.settings.team_calendar(&team.key);
    let sla = rules
        .plan(priority, &calendar)
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("no targets for {priority}")))?;
    let mut request = Request::opened(RequestOpening {
        team: team.key.clone(),
        account: account.key.clone(),
        tier: account.tier.clone(),
        kind: kind.key.clone(),
        priority,
        priority_source,
        summary,
        fields: new.fields,
        source: new.source,
        external_id: new.external_id,
        requested_by: new.requested_by,
        opened_at: now,
        sla,
        platform,
        channel,
    });
    request.living.workspace = new.workspace;
    request.id = storage::items::next_id(tx.read().await?, ItemKind::Request).await?;
    let after = serde_json::json!({
        "account": request.account.as_str(),
        "type": request.kind,
        "summary": request.summary,
        "fields": request.fields,
        "source": request.source,
        "external_id": request.external_id,
        "priority": request.priority.as_str(),
        "priority_source": request.priority_source,
    });
    let requested_by = request.requested_by.clone();
    audit(effects, &mut request, requested_by, "open", serde_json::Value::Null, after, now);
    let mut lines = Vec::new();
    let mut messages = Vec::new();
    let weight = i64::from(request.priority.weight());
    match super::choose(setup, tx, &team.key, &kind, weight, now).await? {
        Ok(decision) => {
            let (assigned, message) = assign_decided(setup, effects, &request, &decision, now)?;
            request = assigned;
            messages.extend(message);
        }
        Err(why) => {
            let why = text::queued_reason(&why);
            lines.push(text::queued_line(&why));
            messages.extend(tell_supervisors(setup, &request, &why, now));
            schedule_retry(setup, effects, &request, now);
            let after = serde_json::json!({ "state": "queued", "reason": why });
            audit(
                effects,
                &mut request,
                SYSTEM_ACTOR,
                "queue",
                serde_json::Value::Null,
                after,
                now,
            );
        }
    }
    if !items::create_once::<Requests>(setup, tx, effects, &request, &lines, messages, now).await? {
        // A concurrent delivery of the same (source, external_id) committed first.
        let existing = match &request.external_id {
            Some(external_id) => {
                storage::requests::find_external(tx.conn().await?, &request.source, external_id)
                    .await?
            }
            None => None,
        };
        return existing
            .map(Opened::Existing)
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("request insert conflicted")));
    }
    Ok(Opened::Created(Box::new(request)))
}

/// Applies Steward's assignment after a decision: the transition, its audit record (with
/// the reason) into `effects`, and the direct message to the new assignee. The version is not
/// bumped (the caller does for an existing row; a new row starts at 1).
pub(crate) fn assign_decided(
    setup: &Setup,
    effects: &mut Effects,
    request: &Request,
    decision: &Decision,
    now: DateTime<Utc>,
) -> Result<(Request, Option<NewOutboxMessage>), AppError> {
    let reason = text::assignment_reason(decision, &setup.directory);
    let action = RequestAction::Assign { to: decision.person.clone(), reason: reason.clone() };
    let before = request.snapshot();
    let mut next = apply(request, None, &action, now).map_err(|refusal| {
        AppError::Unexpected(anyhow::anyhow!("automatic assignment refused: {refusal:?}"))
    })?;
    let after = serde_json::json!({
        "assignee": decision.person.as_str(),
        "reason": reason,
        "strategy": decision.strategy.as_str(),
        "considered": decision.considered,
    });
    audit(effects, &mut next, SYSTEM_ACTOR, "assign", before, after, now);
    let dm = text::assigned_to_you(&next, &reason);
    let what = format!("assigned:{}:{}", decision.person, now.timestamp());
    let message = direct_message(setup, &next, &decision.person, dm, what, now);
    Ok((next, message))
}

/// Tells the team's supervisors that a request waits in the queue.
fn tell_supervisors(
    setup: &Setup,
    r: &Request,
    why: &str,
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    let supervisors = setup.directory.supervisors(&r.team);
    let dm = |p: &Person| {
        let what = format!("queued:v{}:{}", r.version, p.key);
        direct_message(setup, r, &p.key, text::queued_for_supervisor(r, why), what, now)
    };
    supervisors.filter_map(dm).collect()
}

/// Schedules the next attempt to assign a queued request.
pub(crate) fn schedule_retry(
    setup: &Setup,
    effects: &mut Effects,
    r: &Request,
    now: DateTime<Utc>,
) {
    let at = now + chrono::Duration::seconds(setup.policies.requests.retry_seconds);
    effects.schedule(NewJob {
        kind: ItemKind::Request.job_kind(super::ASSIGN_RETRY),
        payload: serde_json::json!({ "request": r.id }),
        run_at: at,
        dedupe_key: Some(r.key(format_args!("assign:{}", at.timestamp()))),
        max_attempts: 5,
    });
}

/// What the intake endpoint answers: the request's id, and whether this delivery created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeOutcome {
    pub id: i64,
    pub created: bool,
    /// The key was delivered before with another payload: `id` is the first delivery's
    /// request, and this delivery changed nothing.
    pub conflict: bool,
}

/// Opens a request delivered by another system, in a transaction of its own. A retry of the
/// same `(source, external_id)` — even a concurrent one — gets the first delivery's id.
pub async fn intake(services: &Services, new: NewRequest) -> Result<IntakeOutcome, AppError> {
    let setup = services.setup();
    let now = services.clock().now();
    let mut tx = crate::storage::Tx::begin(services.pool()).await?;
    let mut effects = services.effects();
    match open_request(setup, &mut tx, &mut effects, new, now).await {
        Ok(Opened::Created(request)) => {
            storage::effects::write_all(tx.conn().await?, &effects, now).await?;
            tx.commit().await?;
            Ok(IntakeOutcome { id: request.id, created: true, conflict: false })
        }
        Ok(Opened::Existing(id)) => {
            tx.rollback().await?;
            Ok(IntakeOutcome { id, created: false, conflict: false })
        }
        Ok(Opened::Different(id)) => {
            tx.rollback().await?;
            Ok(IntakeOutcome { id, created: false, conflict: true })
        }
        Err(err) => {
            tx.rollback().await?;
            Err(err)
        }
    }
}
