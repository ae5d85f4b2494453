//! Access review campaigns: `/access review start` gives each reviewer a living list of the
//! current grants they review; Certify / Revoke / "Certify all shown" go through the kernel,
//! a revoke also ends the grant (its own item, saved in the same transaction); a reminder
//! before the due time; at the due time the reviewer's supervisors are told and may decide;
//! `/access review close` applies the close policy.

use crate::domain::item::Living;
use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::Access;
use crate::config::ReviewerRule;
use crate::domain::access::review::{
    ClosePolicy, ReviewAction, ReviewEntry, ReviewList, ReviewState, ReviewVerdict,
};
use crate::domain::access::schedule::reminder_still_useful;
use crate::domain::access::{AccessRequest, AccessState};
use crate::domain::identity::{Person, Role};
use crate::domain::ids::PersonKey;
use crate::domain::item::{ItemKind, LivingItem, SYSTEM_ACTOR};
use crate::domain::messages::access_review as text;
use crate::domain::reply::{Card, Reply};
use crate::services::error::AppError;
use crate::services::inbound::Event;
use crate::services::items::{self, Change, Workflow, audit, direct_message, name_of, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::services::{Services, Setup};
use crate::storage::effects::Effects;
use crate::storage::jobs::{Job, NewJob};
use crate::storage::{self, Tx};

/// The reminder (job kind `review.remind`) and the overdue escalation (`review.overdue`).
pub const REMIND: &str = "remind";
pub const OVERDUE: &str = "overdue";
/// The automatic close, `close_after` the due time (job kind `review.close`).
pub const CLOSE: &str = "close";

/// The review list workflow.
pub struct Reviews;

fn shown(setup: &Setup) -> usize {
    setup.settings.access.review.shown
}

fn refused(setup: &Setup, l: &ReviewList, r: crate::domain::access::review::Refusal) -> AppError {
    AppError::Refused(text::refusal(&r, l, &setup.directory))
}

/// Ends `access` as revoked by `by` (a review decision or the close policy), if still active.
async fn revoke_grant(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    access: i64,
    by: &str,
    campaign: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(current) =
        storage::items::get_for_update::<AccessRequest>(tx.conn().await?, access).await?
    else {
        return Ok(());
    };
    let within =
        super::system_of(setup, &current).map(|s| s.task_within).unwrap_or(Duration::days(1));
    let reason = text::revoked_by_review(campaign);
    let Ok(next) = current.end(AccessState::Revoked, by, Some(&reason), within, now) else {
        return Ok(());
    };
    let line = crate::domain::messages::access::revoked_line(&name_of_raw(setup, by), &reason);
    let mut change = Change::new(current, next, by, "revoke");
    change.messages.extend(super::holder_dm(setup, &change.after, &line, now));
    items::save::<Access>(setup, tx, effects, change.line(line), now).await?;
    Ok(())
}

fn name_of_raw(setup: &Setup, raw: &str) -> String {
    PersonKey::parse(raw).map(|k| name_of(setup, &k)).unwrap_or_else(|_| raw.to_owned())
}

impl Workflow for Reviews {
    type Item = ReviewList;
    type Action = ReviewAction;

    fn decode(_setup: &Setup, verb: &str, _typed: &str) -> Result<ReviewAction, AppError> {
        let unknown = || AppError::Refused(crate::domain::messages::unknown_button(verb));
        if verb == "certify-shown" {
            return Ok(ReviewAction::CertifyShown);
        }
        let (verb, id) = verb.split_once('.').ok_or_else(unknown)?;
        let access = id.parse::<i64>().map_err(|_| unknown())?;
        match verb {
            "certify" => Ok(ReviewAction::Certify { access }),
            "revoke" => Ok(ReviewAction::Revoke { access }),
            _ => Err(unknown()),
        }
    }

    fn unknown(id: i64) -> String {
        text::unknown_list(id)
    }

    fn check(
        setup: &Setup,
        l: &ReviewList,
        actor: &Person,
        action: &ReviewAction,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        l.apply(actor, action, shown(setup), now).map(|_| ()).map_err(|r| refused(setup, l, r))
    }

    async fn transition(
        setup: &Setup,
        tx: &mut Tx,
        effects: &mut Effects,
        actor: &Person,
        current: ReviewList,
        action: &ReviewAction,
        now: DateTime<Utc>,
    ) -> Result<Change<ReviewList>, AppError> {
        let next = current
            .apply(actor, action, shown(setup), now)
            .map_err(|r| refused(setup, &current, r))?;
        if let ReviewAction::Revoke { access } = action {
            revoke_grant(setup, tx, effects, *access, actor.key.as_str(), current.campaign, now)
                .await?;
        }
        let line = text::decision_line(&actor.display_name, action);
        Ok(Change::new(current, next, actor.key.to_string(), action.verb()).line(line))
    }

    fn done(_setup: &Setup, action: &ReviewAction, saved: &ReviewList) -> String {
        text::done(action, saved)
    }

    async fn card(
        setup: &Setup,
        _tx: &mut Tx,
        l: &ReviewList,
        zone: Tz,
        _now: DateTime<Utc>,
    ) -> Result<Card, AppError> {
        Ok(text::card(l, shown(setup), &setup.directory, zone))
    }

    fn stale(_setup: &Setup, l: &ReviewList, _zone: Tz) -> String {
        text::stale_card(l)
    }
}

/// Who reviews `grant`: by the configured rule, never its holder; `None` if nobody can.
fn reviewer_of<'a>(setup: &'a Setup, grant: &AccessRequest) -> Option<&'a Person> {
    let directory = &setup.directory;
    let holder = directory.person(&grant.holder)?;
    let owners = || {
        super::system_of(setup, grant)
            .into_iter()
            .flat_map(|s| s.owners(directory))
            .find(|p| p.key != grant.holder)
    };
    let supervisors = || directory.supervisors(&holder.team).find(|p| p.key != grant.holder);
    let admins = || directory.people().find(|p| p.has_role(Role::Admin) && p.key != grant.holder);
    match setup.settings.access.review.reviewer {
        ReviewerRule::Owner => owners().or_else(supervisors),
        ReviewerRule::Supervisor => supervisors().or_else(owners),
    }
    .or_else(admins)
}

fn may_run_reviews(actor: &Person) -> bool {
    actor.has_role(Role::Supervisor) || actor.has_role(Role::Admin)
}

pub async fn start(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    scope: &str,
    due: Option<chrono::NaiveDate>,
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    if !may_run_reviews(actor) {
        return Err(AppError::Forbidden(text::forbidden()));
    }
    let system = if scope == "all" {
        None
    } else {
        let catalog = &setup.policies.access;
        let known = catalog.system(scope).ok_or_else(|| {
            AppError::Refused(crate::domain::messages::access::unknown_system(
                scope,
                &catalog.keys(),
            ))
        })?;
        Some(known.key.as_str())
    };
    let times = review_times(setup)?;
    let due_at = match due {
        // The end of the due day in the actor's zone.
        Some(date) => {
            let end = date.and_hms_opt(23, 59, 59).unwrap_or_default();
            let at = end.and_local_timezone(actor.time_zone).earliest().map(|t| t.to_utc());
            at.filter(|at| *at > now).ok_or_else(|| AppError::Refused(text::due_in_past(date)))?
        }
        None => now + times.default_due,
    };
    let plan = CampaignPlan {
        scope,
        system,
        due_at,
        started_by: &actor.key,
        platform: event.inbound.platform,
        fallback_channel: crate::domain::incident::room::bare_channel(&event.inbound.channel),
    };
    let opened = open_campaign(setup, tx, effects, &plan, now).await?;
    let Some(Opened { campaign, lists, grants }) = opened else {
        return Err(AppError::Refused(text::nothing_to_review(scope)));
    };
    Ok(Reply::private(text::started(campaign, lists, grants)))
}

/// The checked review durations (validated at load, so a failure here is unexpected).
pub(crate) fn review_times(setup: &Setup) -> Result<crate::config::ReviewTimes, AppError> {
    setup
        .settings
        .review_durations()
        .map_err(|(k, p)| AppError::Unexpected(anyhow::anyhow!("{k}: {p}")))
}

/// What a campaign is started with, by a command or by its schedule.
pub(crate) struct CampaignPlan<'a> {
    /// `billing-admin` or `all`, as shown.
    pub scope: &'a str,
    /// The system reviewed (`None`: every system).
    pub system: Option<&'a str>,
    pub due_at: DateTime<Utc>,
    pub started_by: &'a PersonKey,
    /// Lists are posted in each reviewer's team channel on this platform, or in
    /// `fallback_channel` for a team with none there.
    pub platform: crate::domain::ids::Platform,
    pub fallback_channel: &'a str,
}

/// A started campaign: its number, lists and grants.
pub(crate) struct Opened {
    pub campaign: i64,
    pub lists: usize,
    pub grants: usize,
}

/// Starts a campaign over every current grant in scope: one list per reviewer, each with its
/// reminders, its overdue escalation and its automatic close as jobs. `None`: nothing to
/// review, nothing written.
pub(crate) async fn open_campaign(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    plan: &CampaignPlan<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Opened>, AppError> {
    let times = review_times(setup)?;
    let due_at = plan.due_at;
    let grants = storage::access_reviews::active_grants(tx.conn().await?, plan.system).await?;
    if grants.is_empty() {
        return Ok(None);
    }
    let mut by_reviewer: BTreeMap<PersonKey, Vec<ReviewEntry>> = BTreeMap::new();
    for grant in &grants {
        let Some(reviewer) = reviewer_of(setup, grant) else { continue };
        by_reviewer.entry(reviewer.key.clone()).or_default().push(ReviewEntry {
            access: grant.id,
            holder: grant.holder.clone(),
            system: grant.system.clone(),
            role: grant.role.clone(),
            expires_at: grant.grant.map(|g| g.expires_at),
            decision: None,
        });
    }
    let campaign = storage::access_reviews::next_campaign(tx.conn().await?).await?;
    let platform = plan.platform;
    let lists = by_reviewer.len();
    for (reviewer, entries) in by_reviewer {
        let Some(person) = setup.directory.person(&reviewer) else { continue };
        let Some(team) = setup.directory.team(&person.team) else { continue };
        let channel = team.channels.get(&platform).cloned();
        let channel = channel.unwrap_or_else(|| plan.fallback_channel.to_owned());
        let mut list = ReviewList {
            id: storage::items::next_id(tx.read().await?, ItemKind::AccessReview).await?,
            version: 1,
            campaign,
            scope: plan.scope.to_owned(),
            reviewer,
            started_by: plan.started_by.clone(),
            started_at: now,
            due_at,
            entries,
            state: ReviewState::Open,
            reminded: false,
            reminders_sent: Vec::new(),
            escalated_to: Vec::new(),
            closed_at: None,
            team: team.key.clone(),
            living: Living::new(platform, channel, None),
        };
        let after = list.snapshot();
        audit(
            effects,
            &mut list,
            plan.started_by.to_string(),
            "start",
            serde_json::Value::Null,
            after,
            now,
        );
        let zone = person.time_zone;
        let dm = text::list_assigned(&list, due_at, zone);
        let dms = direct_message(setup, &list, &list.reviewer, dm, "assigned", now);
        items::create::<Reviews>(setup, tx, effects, &list, &[], dms.into_iter().collect(), now)
            .await?;
        let job = |timer: &str, key: String, payload: serde_json::Value, run_at| NewJob {
            kind: ItemKind::AccessReview.job_kind(timer),
            payload,
            run_at,
            dedupe_key: Some(list.key(key)),
            max_attempts: 10,
        };
        let list_only = serde_json::json!({ "list": list.id });
        for before in &times.remind_before {
            let run_at = due_at - *before;
            if run_at > now {
                let secs = before.num_seconds();
                let payload = serde_json::json!({ "list": list.id, "before_seconds": secs });
                effects.schedule(job(REMIND, format!("{REMIND}:{secs}"), payload, run_at));
            }
        }
        effects.schedule(job(OVERDUE, OVERDUE.to_owned(), list_only.clone(), due_at));
        let close_at = due_at + times.close_after;
        effects.schedule(job(CLOSE, CLOSE.to_owned(), list_only, close_at));
    }
    Ok(Some(Opened { campaign, lists, grants: grants.len() }))
}

pub async fn close(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    campaign: i64,
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    if !may_run_reviews(actor) {
        return Err(AppError::Forbidden(text::forbidden()));
    }
    let ids = storage::access_reviews::list_ids(tx.conn().await?, campaign).await?;
    if ids.is_empty() {
        return Err(AppError::NotFound(text::unknown_campaign(campaign)));
    }
    let mut closed = 0;
    for id in ids {
        let Some(current) =
            storage::items::get_for_update::<ReviewList>(tx.conn().await?, id).await?
        else {
            continue;
        };
        if close_list(setup, tx, effects, current, actor.key.as_str(), now).await? {
            closed += 1;
        }
    }
    Ok(Reply::private(text::closed(campaign, closed)))
}

/// Closes one list (locked by the caller) by the close policy: what nobody reviewed is
/// flagged, or revoked (each grant ended in the same transaction). `false`: it was not open.
async fn close_list(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    current: ReviewList,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let policy = setup.settings.access.review.close_policy;
    let Some(next) = current.close(policy, by, now) else { return Ok(false) };
    if policy == ClosePolicy::Revoke {
        let left: Vec<i64> = current.undecided().map(|e| e.access).collect();
        for access in left {
            revoke_grant(setup, tx, effects, access, by, current.campaign, now).await?;
        }
    }
    let word = match policy {
        ClosePolicy::Flag => ReviewVerdict::Flagged.as_str(),
        ClosePolicy::Revoke => ReviewVerdict::Revoked.as_str(),
    };
    let change = Change::new(current, next, by, "close").line(text::closed_line(word));
    items::save::<Reviews>(setup, tx, effects, change, now).await?;
    Ok(true)
}

#[derive(Debug, Deserialize)]
struct ListTimer {
    list: i64,
    /// A reminder's place in the series (absent in reminders queued before the series).
    #[serde(default)]
    before_seconds: Option<i64>,
}

async fn open_list(tx: &mut Tx, job: &Job) -> Result<Option<ReviewList>, JobError> {
    let ListTimer { list, .. } = payload(job)?;
    let current = storage::items::get_for_update::<ReviewList>(tx.conn().await?, list)
        .await
        .map_err(JobError::retry)?;
    Ok(current.filter(|l| l.state == ReviewState::Open))
}

async fn save(
    services: &Services,
    tx: &mut Tx,
    change: Change<ReviewList>,
) -> Result<(), JobError> {
    items::save_in_job::<Reviews>(services, tx, services.effects(), change).await
}

/// Reminds the reviewer, once per reminder of the series (`remind_before`), while the list
/// is open; of reminders due together only the latest is sent.
pub struct RemindTimer;

#[async_trait]
impl JobHandler for RemindTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(current) = open_list(tx, job).await? else { return Ok(()) };
        let before_seconds = payload::<ListTimer>(job)?.before_seconds;
        let now = services.clock().now();
        let sent = match before_seconds {
            Some(secs) => current.reminders_sent.contains(&secs),
            None => current.reminded,
        };
        if sent {
            return Ok(());
        }
        if let Some(secs) = before_seconds {
            let series = review_times(setup).map_err(JobError::retry)?.remind_before;
            let before = Duration::seconds(secs);
            if !reminder_still_useful(current.due_at, &series, before, now) {
                return Ok(());
            }
        }
        let zone = setup
            .directory
            .person(&current.reviewer)
            .map(|p| p.time_zone)
            .unwrap_or(team_zone(setup, &current));
        let mut next = current.clone();
        next.reminded = true;
        next.reminders_sent.extend(before_seconds);
        let what = match before_seconds {
            Some(secs) => format!("reminder:{secs}"),
            None => "reminder".to_owned(),
        };
        let dm =
            direct_message(setup, &next, &next.reviewer, text::reminder(&next, zone), what, now);
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "remind");
        change.messages.extend(dm);
        save(services, tx, change).await
    }
}

/// `close_after` the due time: the list closes by itself with the close policy, as if
/// `/access review close` had been run for it by Steward.
pub struct CloseTimer;

#[async_trait]
impl JobHandler for CloseTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(current) = open_list(tx, job).await? else { return Ok(()) };
        let now = services.clock().now();
        let mut effects = services.effects();
        close_list(setup, tx, &mut effects, current, SYSTEM_ACTOR, now)
            .await
            .map_err(JobError::retry)?;
        storage::effects::write_all(tx.conn().await?, &effects, now)
            .await
            .map(|_| ())
            .map_err(JobError::retry)
    }
}

/// At the due time: the reviewer's supervisors are told and may decide too.
pub struct OverdueTimer;

#[async_trait]
impl JobHandler for OverdueTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(current) = open_list(tx, job).await? else { return Ok(()) };
        if !current.escalated_to.is_empty() {
            return Ok(());
        }
        let directory = &setup.directory;
        let Some(reviewer) = directory.person(&current.reviewer) else { return Ok(()) };
        let supervisors: Vec<PersonKey> = directory
            .supervisors(&reviewer.team)
            .filter(|p| p.key != reviewer.key)
            .map(|p| p.key.clone())
            .collect();
        let escalated_to = if supervisors.is_empty() {
            directory
                .people()
                .filter(|p| p.has_role(Role::Admin) && p.key != reviewer.key)
                .map(|p| p.key.clone())
                .collect()
        } else {
            supervisors
        };
        if escalated_to.is_empty() {
            return Ok(());
        }
        let now = services.clock().now();
        let mut next = current.clone();
        next.escalated_to = escalated_to;
        let body = text::overdue(&next, &reviewer.display_name);
        let names: Vec<String> = next.escalated_to.iter().map(|k| name_of(setup, k)).collect();
        let dms: Vec<_> = next
            .escalated_to
            .iter()
            .filter_map(|k| {
                direct_message(setup, &next, k, body.clone(), format!("overdue:{k}"), now)
            })
            .collect();
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "overdue")
            .line(text::overdue_line(&names.join(", ")));
        change.messages.extend(dms);
        save(services, tx, change).await
    }
}

/// `steward access review export <campaign>`: every audit record of the campaign's lists
/// (by time, then list, then chain order), with their hashes. Returns how many were written.
pub async fn export(
    pool: &sqlx::PgPool,
    campaign: i64,
    format: crate::services::audit::ExportFormat,
    out: &mut impl std::io::Write,
) -> anyhow::Result<usize> {
    let ids = storage::access_reviews::list_ids(pool, campaign).await?;
    anyhow::ensure!(!ids.is_empty(), text::unknown_campaign(campaign));
    let mut records = Vec::new();
    for id in ids {
        records.extend(
            storage::audit_log::list_subject(pool, &ItemKind::AccessReview.subject(id)).await?,
        );
    }
    // By time, then by list, each list's records in chain order.
    records.sort_by(|a, b| {
        (a.entry.at, &a.entry.subject, a.subject_seq).cmp(&(
            b.entry.at,
            &b.entry.subject,
            b.subject_seq,
        ))
    });
    crate::services::audit::write_records(&records, format, out)
}
