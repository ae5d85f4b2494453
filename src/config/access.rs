//! Access requests: the systems people ask access to (`[access]`, `[[access.systems]]`), and
//! their translation into the domain's [`AccessCatalog`].

use chrono::Duration;
use chrono_tz::Tz;
use serde::Deserialize;

use super::Secret;
use super::Settings;
use super::escalation::KeyProblem;
use crate::domain::access::review::ClosePolicy;
use crate::domain::access::schedule::ReviewSchedule;
use crate::domain::access::{AccessCatalog, AccessSystem, Owner, Provisioning};
use crate::domain::digest::parse_schedule;
use crate::domain::duration::parse_duration;
use crate::domain::ids::Platform;

/// The environment variable holding the webhook signing secrets (comma-separated; the first
/// signs, so receivers can rotate by accepting both while it changes).
pub const ACCESS_WEBHOOK_SECRETS_ENV: &str = "STEWARD_ACCESS_WEBHOOK_SECRETS";

/// `[access]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessSettings {
    /// How long before a grant expires its holder is reminded, e.g. `["1d", "1h"]`.
    pub remind_before: Vec<String>,
    /// How long one webhook call may take before it counts as a failed attempt (retried with
    /// the outbox's backoff, up to `outbox.max_attempts`).
    pub webhook_timeout_seconds: u64,
    /// How long after a manual task's due time, if it is still open, the system's other
    /// owners and the task owner's supervisors are told (the owner is told at the due time).
    pub task_escalate_after: String,
    /// The systems: `[[access.systems]]`.
    pub systems: Vec<AccessSystemConfig>,
    /// Periodic reviews: `[access.review]`.
    pub review: ReviewSettings,
    /// From [`ACCESS_WEBHOOK_SECRETS_ENV`] only, never from a file.
    #[serde(skip)]
    pub webhook_secrets: Vec<Secret>,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            remind_before: vec!["1d".into(), "1h".into()],
            webhook_timeout_seconds: 10,
            task_escalate_after: "4h".into(),
            systems: Vec::new(),
            review: ReviewSettings::default(),
            webhook_secrets: Vec::new(),
        }
    }
}

/// `[access.review]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewSettings {
    /// Who reviews a grant: `owner` (the system's first owner other than the holder) or
    /// `supervisor` (the holder's supervisor); the other is the fallback.
    pub reviewer: ReviewerRule,
    /// How long a campaign runs when `/access review start` names no `due=`.
    pub default_due: String,
    /// How long before the due time reviewers with grants left are reminded: one duration
    /// or a series, e.g. `["7d", "1d", "2h"]`, each sent once (of several due together only
    /// the latest is sent).
    #[serde(deserialize_with = "one_or_many")]
    pub remind_before: Vec<String>,
    /// At close (`/access review close`, or by itself `close_after` the due time), grants
    /// nobody reviewed are `flag`ged or `revoke`d.
    pub close_policy: ClosePolicy,
    /// How long after the due time a campaign's open lists close by themselves, with the
    /// close policy; in between the reviewers' supervisors (told at the due time) may decide
    /// too. `"0s"` closes at the due time.
    pub close_after: String,
    /// Campaigns started by themselves: `[[access.review.schedules]]`.
    pub schedules: Vec<ReviewScheduleConfig>,
    /// Grants a list card shows with buttons (two each, plus "Certify all shown"; Discord
    /// allows 25 buttons a message, so at most 12).
    pub shown: usize,
}

/// Who reviews a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewerRule {
    Owner,
    Supervisor,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            reviewer: ReviewerRule::Owner,
            default_due: "7d".into(),
            remind_before: vec!["1d".into()],
            close_policy: ClosePolicy::Flag,
            close_after: "2d".into(),
            schedules: Vec::new(),
            shown: 10,
        }
    }
}

/// `[[access.review.schedules]]`: a campaign started by itself at every slot of a cron
/// schedule, once per slot however many replicas run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewScheduleConfig {
    /// Unique name, e.g. `quarterly` (part of each slot's job key).
    pub name: String,
    /// The system to review, or `all`.
    pub scope: String,
    /// Cron expression, read like a digest's: 5 fields (minute hour day month weekday) or 6
    /// with seconds first; e.g. quarterly on day 1 at 09:00 is `"0 9 1 1,4,7,10 *"`.
    pub schedule: String,
    /// The zone the schedule is read in: the team's, e.g. `Europe/London`.
    #[serde(default = "utc")]
    pub time_zone: Tz,
    /// How long after the slot the campaign is due (default: `default_due`).
    pub due_in: Option<String>,
    /// The platform the lists are posted on: each reviewer's team channel there…
    pub platform: Platform,
    /// …or this channel for a team that has none there.
    pub channel: String,
}

fn utc() -> Tz {
    Tz::UTC
}

/// Accepts `"1d"` as well as `["7d", "1d"]` (the key was a single duration before).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// The review settings' durations, checked.
#[derive(Debug, Clone)]
pub struct ReviewTimes {
    /// How long a campaign runs without `due=`.
    pub default_due: Duration,
    /// The reminders before the due time, longest first.
    pub remind_before: Vec<Duration>,
    /// How long after the due time open lists close by themselves.
    pub close_after: Duration,
}

/// One system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessSystemConfig {
    /// The name used in commands, e.g. `billing-admin` (lowercase).
    pub key: String,
    pub name: String,
    /// The roles one can ask for, e.g. `["viewer", "operator"]` (lowercase).
    pub roles: Vec<String>,
    /// Who owns the system: person keys, or `role:<steward role>` (e.g. `role:admin`). The
    /// owners and the requester's supervisors decide requests.
    pub owners: Vec<String>,
    /// The longest grant, e.g. `"30d"`; extensions never reach beyond it from now.
    pub max_duration: String,
    /// Two different people must approve.
    #[serde(default)]
    pub second_approver: bool,
    /// `webhook` (a signed POST to `webhook_url` for every grant change) or `manual` (a task
    /// for an owner, due within `task_within`).
    pub provisioning: Provisioning,
    /// Where grant changes are posted (`webhook` only): JSON with `event` (`provision`,
    /// `extend`, `revoke`), `access`, `system`, `role`, `person`, `expires_at`, signed like
    /// intake: `X-Steward-Timestamp` and `X-Steward-Signature: v1=<hex HMAC-SHA256 over
    /// "v1:<timestamp>:<body>">`.
    pub webhook_url: Option<String>,
    /// How long an owner has for a manual task.
    #[serde(default = "default_task_within")]
    pub task_within: String,
}

fn default_task_within() -> String {
    "1d".into()
}

/// Splits [`ACCESS_WEBHOOK_SECRETS_ENV`] into secrets (empty entries are ignored).
pub fn parse_access_webhook_secrets(raw: &str) -> Vec<Secret> {
    super::parse_intake_secrets(raw)
}

fn key_ok(raw: &str) -> bool {
    !raw.is_empty()
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Settings {
    /// The configured systems, checked: keys, roles, owners, durations and webhook URLs.
    pub fn access_catalog(&self) -> Result<AccessCatalog, KeyProblem> {
        let mut systems: Vec<AccessSystem> = Vec::new();
        for (index, s) in self.access.systems.iter().enumerate() {
            let at = |field: &str| format!("access.systems[{index}].{field}");
            if !key_ok(&s.key) {
                return Err((at("key"), "use lowercase letters, digits, - and _".into()));
            }
            if systems.iter().any(|other| other.key == s.key) {
                return Err((at("key"), format!("`{}` is defined twice", s.key)));
            }
            if s.roles.is_empty() || !s.roles.iter().all(|r| key_ok(r)) {
                return Err((at("roles"), "name at least one role, in lowercase".into()));
            }
            let mut owners = Vec::new();
            for raw in &s.owners {
                let owner = Owner::parse(raw).map_err(|bad| {
                    (at("owners"), format!("`{bad}` is neither a person nor a role"))
                })?;
                if let Owner::Person(key) = &owner
                    && !self.people.iter().any(|p| &p.key == key)
                {
                    return Err((at("owners"), format!("no person `{key}`")));
                }
                owners.push(owner);
            }
            if owners.is_empty() {
                return Err((at("owners"), "name at least one owner".into()));
            }
            let duration = |field: &str, raw: &str| -> Result<Duration, KeyProblem> {
                parse_duration(raw).map_err(|e| (at(field), e.to_string()))
            };
            let url_ok = s.webhook_url.as_deref().is_some_and(|u| url::Url::parse(u).is_ok());
            if s.provisioning == Provisioning::Webhook && !url_ok {
                return Err((at("webhook_url"), "a webhook system needs an http(s) URL".into()));
            }
            systems.push(AccessSystem {
                key: s.key.clone(),
                name: s.name.clone(),
                roles: s.roles.clone(),
                owners,
                max_duration: duration("max_duration", &s.max_duration)?,
                second_approver: s.second_approver,
                provisioning: s.provisioning,
                task_within: duration("task_within", &s.task_within)?,
            });
        }
        Ok(AccessCatalog { systems })
    }

    /// How long before expiry holders are reminded, longest first.
    pub fn access_reminders(&self) -> Result<Vec<Duration>, KeyProblem> {
        let mut reminders = self
            .access
            .remind_before
            .iter()
            .map(|raw| {
                parse_duration(raw).map_err(|e| ("access.remind_before".into(), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        reminders.sort_by(|a, b| b.cmp(a));
        Ok(reminders)
    }

    /// The review settings' durations, checked.
    pub fn review_durations(&self) -> Result<ReviewTimes, KeyProblem> {
        let review = &self.access.review;
        if review.shown == 0 || review.shown > 12 {
            return Err(("access.review.shown".into(), "must be between 1 and 12".into()));
        }
        let parse = |key: &str, raw: &str| {
            parse_duration(raw).map_err(|e| (format!("access.review.{key}"), e.to_string()))
        };
        let mut remind_before = review
            .remind_before
            .iter()
            .map(|raw| parse("remind_before", raw))
            .collect::<Result<Vec<_>, _>>()?;
        remind_before.sort_by(|a, b| b.cmp(a));
        remind_before.dedup();
        Ok(ReviewTimes {
            default_due: parse("default_due", &review.default_due)?,
            remind_before,
            close_after: parse("close_after", &review.close_after)?,
        })
    }

    /// The review schedules, checked: names, scopes, cron expressions and durations.
    pub fn review_schedules(&self) -> Result<Vec<ReviewSchedule>, KeyProblem> {
        let default_due = self.review_durations()?.default_due;
        let mut out: Vec<ReviewSchedule> = Vec::new();
        for (index, s) in self.access.review.schedules.iter().enumerate() {
            let at = |field: &str| format!("access.review.schedules[{index}].{field}");
            if !key_ok(&s.name) {
                return Err((at("name"), "use lowercase letters, digits, - and _".into()));
            }
            if out.iter().any(|other| other.name == s.name) {
                return Err((at("name"), format!("`{}` is defined twice", s.name)));
            }
            if s.scope != "all" && !self.access.systems.iter().any(|sys| sys.key == s.scope) {
                return Err((at("scope"), format!("no system `{}` (or write all)", s.scope)));
            }
            if s.channel.trim().is_empty() {
                return Err((at("channel"), "name a channel".into()));
            }
            let due_in = match &s.due_in {
                Some(raw) => parse_duration(raw)
                    .ok()
                    .filter(|d| d.num_seconds() > 0)
                    .ok_or_else(|| (at("due_in"), format!("`{raw}` is not a duration")))?,
                None => default_due,
            };
            out.push(ReviewSchedule {
                name: s.name.clone(),
                scope: s.scope.clone(),
                schedule: parse_schedule(&s.schedule).map_err(|e| (at("schedule"), e))?,
                time_zone: s.time_zone,
                due_in,
                platform: s.platform,
                channel: s.channel.clone(),
            });
        }
        Ok(out)
    }

    /// `[access] task_escalate_after`, checked.
    pub fn access_task_escalation(&self) -> Result<Duration, KeyProblem> {
        let raw = &self.access.task_escalate_after;
        parse_duration(raw).map_err(|e| ("access.task_escalate_after".into(), e.to_string()))
    }

    /// The webhook URL of `system`, if it has one.
    pub fn access_webhook_url(&self, system: &str) -> Option<&str> {
        self.access.systems.iter().find(|s| s.key == system)?.webhook_url.as_deref()
    }
}
