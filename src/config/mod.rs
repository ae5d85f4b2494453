//! Typed settings: built-in defaults → TOML file → `STEWARD__SECTION__KEY` environment
//! variables. `config/default.toml` documents every key.
//!
//! Secrets (database passwords, platform tokens) are read from the environment only and are
//! wrapped in [`Secret`], whose `Debug` and `Display` never show the value.

mod access;
mod channels;
mod credit;
mod digest;
mod discord;
mod escalation;
mod incident;
mod intake;
mod load;
mod onboarding;
mod retention;
mod secret;
mod slack;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::domain::identity::{Account, Directory, Person, Role, Team};
use crate::domain::ids::{AccountKey, PersonKey, Platform, TeamKey};

pub use access::{
    ACCESS_WEBHOOK_SECRETS_ENV, AccessSettings, AccessSystemConfig, ReviewScheduleConfig,
    ReviewSettings, ReviewTimes, ReviewerRule, parse_access_webhook_secrets,
};
pub use credit::{AuthoritySettings, ChainLevelConfig, CreditPolicy, CreditSettings, LimitConfig};
pub use digest::{DigestConfig, DigestSettings};
pub use discord::{DISCORD_TOKEN_ENV, DiscordMode, DiscordSettings};
pub use escalation::{PolicyConfig, SlaSettings, TargetConfig, TierTargetConfig};
pub use incident::{Cadence, IncidentSettings, RoomMode};
pub use intake::{
    AssignmentConfig, INTAKE_SECRETS_ENV, KeywordConfig, RequestSettings, RequestTargetConfig,
    RequestTypeConfig, parse_intake_secrets,
};
pub use load::{ConfigError, ConfigSource, default_config_path, load};
pub use onboarding::{OnboardingSettings, PlanConfig, StepConfig};
pub use retention::RetentionSettings;
pub use secret::Secret;
pub use slack::{
    SLACK_APP_TOKEN_ENV, SLACK_BOT_TOKEN_ENV, SLACK_CLIENT_SECRET_ENV, SLACK_SIGNING_SECRETS_ENV,
    SlackSettings, SlackTransport, TOKEN_KEY_ENV, parse_signing_secrets,
};

/// Everything Steward can be configured with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub jobs: JobSettings,
    pub outbox: OutboxSettings,
    pub console: ConsoleSettings,
    pub sla: SlaSettings,
    pub escalation_policies: Vec<PolicyConfig>,
    pub teams: Vec<TeamConfig>,
    pub people: Vec<PersonConfig>,
    pub accounts: Vec<AccountConfig>,
    /// Credit and adjustment approvals: `[credits]`, `[[credits.chain]]`.
    pub credits: CreditSettings,
    /// Delegated authority per role and person: `[authority]`.
    pub authority: AuthoritySettings,
    /// Account requests: types, triage, targets, assignment (`[requests]`).
    pub requests: RequestSettings,
    /// The Discord adapter: `[discord]`.
    pub discord: DiscordSettings,
    /// Scheduled digests: `[[digests]]`, and `[digest]` for what they share.
    pub digests: Vec<DigestConfig>,
    pub digest: DigestSettings,
    /// The Slack adapter (`[slack]`).
    pub slack: SlackSettings,
    /// The audit trail's checkpoint chain: `[audit]`.
    pub audit: AuditSettings,
    /// How long inbox, outbox and job rows are kept (`[retention]`).
    pub retention: RetentionSettings,
    /// Logical channels named by policies, each with its id per platform: `[channels.<name>]`.
    pub channels: std::collections::BTreeMap<String, channels::ChannelMap>,
    /// Access requests and grants: `[access]`, `[[access.systems]]`.
    pub access: AccessSettings,
    /// Account onboarding plans: `[onboarding]`, `[[onboarding.plans]]`.
    pub onboarding: OnboardingSettings,
    /// Incident war rooms: cadence, rooms, capture, nags (`[incident]`).
    pub incident: IncidentSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address of the HTTP server (health checks, platform webhooks).
    pub listen: SocketAddr,
    /// Largest request body any endpoint accepts, in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// Largest body `POST /intake/requests` accepts, in bytes (a request is a few KB); a
    /// larger one is answered 413 before its signature is checked.
    pub intake_max_body_bytes: usize,
    /// How long a graceful stop (SIGTERM, Ctrl-C) may take, in seconds: new work stops at
    /// once, sends and jobs under way get half of this to finish, the rest is released for
    /// the next start, and the process exits within this bound.
    pub shutdown_timeout_seconds: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 262_144,
            intake_max_body_bytes: 65_536,
            shutdown_timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// Connection URL; `DATABASE_URL` in the environment wins. Unset: private cluster.
    pub url: Option<Secret>,
    /// Where migrations run, as the role that owns the tables (`STEWARD__DATABASE__MIGRATE_URL`).
    /// When set, start-up migrates through it, then grants `url`'s role (the app role) what the
    /// daemon needs — only INSERT/SELECT on the audit tables, and no ownership, so it cannot
    /// disable their triggers — and the daemon connects with `url`. Unset: one URL does both.
    pub migrate_url: Option<Secret>,
    /// Where the private PostgreSQL cluster lives when no URL is set.
    pub state_dir: PathBuf,
    pub max_connections: u32,
    /// How long start-up waits for the first connection (the database may be starting too).
    pub connect_timeout_seconds: u64,
    /// How long a request waits for a pooled connection before it is answered "Steward
    /// can't reach its database", in milliseconds; below Slack's 3 s deadline.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            migrate_url: None,
            state_dir: PathBuf::from(".steward"),
            max_connections: 20,
            connect_timeout_seconds: 10,
            acquire_timeout_ms: 2000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `tracing` env-filter directives; `RUST_LOG` wins.
    pub filter: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { filter: "info".into(), format: LogFormat::Pretty }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobSettings {
    /// Concurrent job workers per process.
    pub workers: usize,
    /// How often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// How long a worker owns a job before another may take it over.
    pub lease_seconds: u64,
    /// Due jobs one worker claims at once and runs side by side, each in its own transaction
    /// and on its own database connection: `workers × batch_size` connections at most.
    pub batch_size: i64,
    /// Attempts before a failing job is dead-lettered.
    pub max_attempts: i32,
    /// Backoff after the first failure; doubles per attempt, capped at `backoff_max_seconds`.
    pub backoff_base_seconds: u64,
    pub backoff_max_seconds: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            workers: 2,
            poll_interval_ms: 500,
            lease_seconds: 60,
            batch_size: 4,
            max_attempts: 8,
            backoff_base_seconds: 5,
            backoff_max_seconds: 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// How often the checkpoint job seals the audit chain heads that moved into the global
    /// checkpoint chain, in minutes. A subject deleted whole before its first checkpoint is
    /// not detected, so this bounds the window for undetected deletion.
    pub checkpoint_every_minutes: u64,
    /// The HMAC keys of the audit chain: only from the environment (`STEWARD_AUDIT_KEY`,
    /// `STEWARD_AUDIT_KEYS_OLD`, see `domain::audit_key`), never from a file.
    #[serde(skip)]
    pub keys: crate::domain::audit_key::AuditKeys,
    /// Where each sealed checkpoint is also POSTed (JSON `{checkpoint, hash, prev_hash, at,
    /// entries}`), signed like the access webhooks with `STEWARD_ACCESS_WEBHOOK_SECRETS`,
    /// through the outbox (once per checkpoint, retried). Unset: the log line only.
    pub checkpoint_webhook_url: Option<String>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            checkpoint_every_minutes: 5,
            keys: crate::domain::audit_key::AuditKeys::none(),
            checkpoint_webhook_url: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// How often the idle dispatcher looks for messages to send.
    pub poll_interval_ms: u64,
    /// Messages claimed per round.
    pub batch_size: i64,
    /// How long a dispatcher owns a claimed message.
    pub lease_seconds: u64,
    /// Fewest real attempts (sends that reached the platform and failed) before a message
    /// may be given up; waits for pacing, rate limits or a parent card never count.
    pub max_attempts: i32,
    /// How long a channel post or card update keeps being retried after temporary failures
    /// (5xx, timeouts), counted from when it was enqueued, in minutes.
    pub post_budget_minutes: u64,
    /// The same for direct messages (pages, approver and assignee DMs), in minutes. A page
    /// given up after this escalates to the next level at once.
    pub dm_budget_minutes: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            poll_interval_ms: 250,
            batch_size: 20,
            lease_seconds: 30,
            max_attempts: 10,
            post_budget_minutes: 24 * 60,
            dm_budget_minutes: 6 * 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Person the console acts as at start; default: the first person configured.
    pub person: Option<String>,
    /// Channel name the console's own commands come from.
    pub channel: String,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings { person: None, channel: "console".into() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub key: TeamKey,
    pub name: String,
    pub time_zone: Tz,
    /// Channel per platform for the team's cards, e.g. `{ console = "ops", slack = "C0123" }`.
    #[serde(default)]
    pub channels: BTreeMap<Platform, String>,
    /// Working hours per weekday (`mon` … `sun` → `"09:00-17:30"`); default Mon–Fri 09–17.
    pub hours: Option<BTreeMap<String, String>>,
    /// Local dates the team does not work.
    #[serde(default)]
    pub holidays: Vec<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonConfig {
    pub key: PersonKey,
    pub name: String,
    pub team: TeamKey,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Defaults to the team's time zone.
    pub time_zone: Option<Tz>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Slack user id (`U…`), or `T…:U…` for a user of another installed workspace than
    /// `slack.default_workspace`.
    pub slack: Option<String>,
    /// Discord user id (snowflake).
    pub discord: Option<String>,
    /// Console name; defaults to the person key.
    pub console: Option<String>,
    /// Weekly shift in the person's own time zone (`mon` → `"08:00-16:00"`); default: the
    /// team's working hours.
    pub shift: Option<BTreeMap<String, String>>,
    /// Local dates (in the person's zone) they are away: never assigned requests then.
    #[serde(default)]
    pub out_of_office: Vec<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub key: AccountKey,
    pub name: String,
    #[serde(default = "default_tier")]
    pub tier: String,
    pub owner: Option<PersonKey>,
}

fn default_tier() -> String {
    "standard".into()
}

impl Settings {
    /// Builds the people/teams/accounts directory from the configuration.
    pub fn directory(&self) -> Result<Directory, crate::domain::identity::DirectoryError> {
        let teams = self
            .teams
            .iter()
            .map(|t| Team {
                key: t.key.clone(),
                name: t.name.clone(),
                time_zone: t.time_zone,
                channels: t.channels.clone(),
            })
            .collect();
        let team_zone = |key: &TeamKey| {
            self.teams.iter().find(|t| &t.key == key).map(|t| t.time_zone).unwrap_or(Tz::UTC)
        };
        let people = self
            .people
            .iter()
            .map(|p| {
                let mut identities = BTreeMap::new();
                let console = p.console.clone().unwrap_or_else(|| p.key.to_string());
                identities.insert(Platform::Console, console);
                if let Some(id) = &p.slack {
                    identities.insert(Platform::Slack, id.clone());
                }
                if let Some(id) = &p.discord {
                    identities.insert(Platform::Discord, id.clone());
                }
                Person {
                    key: p.key.clone(),
                    display_name: p.name.clone(),
                    team: p.team.clone(),
                    roles: p.roles.iter().copied().collect(),
                    time_zone: p.time_zone.unwrap_or_else(|| team_zone(&p.team)),
                    skills: p.skills.iter().cloned().collect(),
                    identities,
                }
            })
            .collect();
        let accounts = self
            .accounts
            .iter()
            .map(|a| Account {
                key: a.key.clone(),
                name: a.name.clone(),
                tier: a.tier.clone(),
                owner: a.owner.clone(),
            })
            .collect();
        let default_workspace = Some(self.slack.default_workspace.clone());
        Ok(Directory::new(teams, people, accounts)?.with_default_workspace(default_workspace))
    }
}
