//! Reading and layering configuration, with errors that name the file, the key and the problem.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::{Secret, Settings};
use crate::domain::audit_key::{AUDIT_KEY_ENV, AUDIT_KEYS_OLD_ENV, AuditKeys};

/// Prefix of environment variables that override configuration keys:
/// `STEWARD__SERVER__LISTEN=0.0.0.0:8080` sets `server.listen`.
pub const ENV_PREFIX: &str = "STEWARD__";

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Defaults,
    File(PathBuf),
    Env(String),
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Defaults => f.write_str("built-in defaults"),
            ConfigSource::File(path) => write!(f, "{}", path.display()),
            ConfigSource::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

/// A configuration problem: where, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {}{problem}", key_prefix(.key))]
pub struct ConfigError {
    pub origin: ConfigSource,
    /// Dotted key path, e.g. `people[2].team`; empty for whole-file problems.
    pub key: String,
    pub problem: String,
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() { String::new() } else { format!("key `{key}`: ") }
}

/// The file read when `--config` is not given: `config/steward.toml` when it exists (a
/// deployment's own), otherwise the demo organisation in `config/demo.toml`, otherwise none.
pub fn default_config_path() -> Option<PathBuf> {
    ["config/steward.toml", "config/demo.toml"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// Loads settings from an optional file plus the given environment (pass `std::env::vars()`).
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let file_source =
        file.map(|p| ConfigSource::File(p.to_owned())).unwrap_or(ConfigSource::Defaults);
    let mut tree = match file {
        Some(path) => read_file(path)?,
        None => toml::Table::new(),
    };
    let mut env_keys = BTreeMap::new();
    let mut database_url = None;
    let mut intake_secrets = Vec::new();
    let mut discord_token = None;
    let mut slack_secrets = Vec::new();
    let mut access_secrets = Vec::new();
    let (mut audit_key, mut audit_keys_old) = (None, None);
    for (var, raw) in env {
        if var == "DATABASE_URL" && !raw.is_empty() {
            database_url = Some(raw);
        } else if var == super::INTAKE_SECRETS_ENV {
            intake_secrets = super::parse_intake_secrets(&raw);
        } else if var == super::ACCESS_WEBHOOK_SECRETS_ENV {
            access_secrets = super::parse_access_webhook_secrets(&raw);
        } else if var == AUDIT_KEY_ENV {
            audit_key = Some(raw);
        } else if var == AUDIT_KEYS_OLD_ENV {
            audit_keys_old = Some(raw);
        } else if var == super::DISCORD_TOKEN_ENV && !raw.trim().is_empty() {
            discord_token = Some(Secret::new(raw.trim()));
        } else if let Some(secret) = slack_secret(&var, &raw) {
            slack_secrets.push(secret);
        } else if let Some(path) = var.strip_prefix(ENV_PREFIX) {
            let segments: Vec<String> = path.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut tree, &segments, env_value(&raw)).map_err(|problem| ConfigError {
                origin: ConfigSource::Env(var.clone()),
                key: segments.join("."),
                problem,
            })?;
            env_keys.insert(segments.join("."), var);
        }
    }
    let mut settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(tree))
        .map_err(|err| {
            let key = err.path().to_string();
            let key = if key == "." { String::new() } else { key };
            let problem = err.into_inner().message().to_owned();
            let source = env_origin(&env_keys, &key)
                .map(|var| ConfigSource::Env(var.to_owned()))
                .unwrap_or_else(|| file_source.clone());
            ConfigError { origin: source, key, problem }
        })?;
    if let Some(url) = database_url {
        settings.database.url = Some(Secret::new(url));
    }
    settings.requests.intake_secrets = intake_secrets;
    settings.discord.bot_token = discord_token;
    settings.access.webhook_secrets = access_secrets;
    settings.audit.keys = AuditKeys::parse(audit_key.as_deref(), audit_keys_old.as_deref())
        .map_err(|problem| {
            let var = if problem.starts_with(AUDIT_KEYS_OLD_ENV) {
                AUDIT_KEYS_OLD_ENV
            } else {
                AUDIT_KEY_ENV
            };
            ConfigError { origin: ConfigSource::Env(var.to_owned()), key: String::new(), problem }
        })?;
    for secret in slack_secrets {
        secret.apply(&mut settings.slack);
    }
    validate(&settings).map_err(|(key, problem)| ConfigError {
        origin: env_keys.get(&key).cloned().map(ConfigSource::Env).unwrap_or(file_source),
        key,
        problem,
    })?;
    Ok(settings)
}

/// The environment variable behind a deserialisation error at `key`, if one is: the error is
/// at the variable's key, inside its value (`people[0]…`), or at a section on its path (a
/// misspelt section such as `STEWARD__SERVR__LISTEN` fails at `servr`).
fn env_origin<'a>(env_keys: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    let related = |path: &str| {
        let under = |outer: &str, inner: &str| {
            inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with(['.', '[']))
        };
        !key.is_empty() && (key == path || under(path, key) || under(key, path))
    };
    env_keys.iter().find(|(path, _)| related(path)).map(|(_, var)| var.as_str())
}

/// A Slack secret from the environment (never from a file).
enum SlackSecret {
    Bot(Secret),
    App(Secret),
    Signing(Vec<Secret>),
    ClientSecret(Secret),
    TokenKey(Secret),
}

impl SlackSecret {
    fn apply(self, slack: &mut super::SlackSettings) {
        match self {
            SlackSecret::Bot(token) => slack.bot_token = Some(token),
            SlackSecret::App(token) => slack.app_token = Some(token),
            SlackSecret::Signing(secrets) => slack.signing_secrets = secrets,
            SlackSecret::ClientSecret(secret) => slack.client_secret = Some(secret),
            SlackSecret::TokenKey(key) => slack.token_key = Some(key),
        }
    }
}

fn slack_secret(var: &str, raw: &str) -> Option<SlackSecret> {
    let token = || Secret::new(raw.trim());
    match var {
        _ if raw.trim().is_empty() => None,
        super::SLACK_BOT_TOKEN_ENV => Some(SlackSecret::Bot(token())),
        super::SLACK_APP_TOKEN_ENV => Some(SlackSecret::App(token())),
        super::SLACK_CLIENT_SECRET_ENV => Some(SlackSecret::ClientSecret(token())),
        super::TOKEN_KEY_ENV => Some(SlackSecret::TokenKey(token())),
        super::SLACK_SIGNING_SECRETS_ENV => {
            Some(SlackSecret::Signing(super::parse_signing_secrets(raw)))
        }
        _ => None,
    }
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let error = |problem: String| ConfigError {
        origin: ConfigSource::File(path.to_owned()),
        key: String::new(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
    text.parse::<toml::Table>().map_err(|e| error(format!("not valid TOML: {e}")))
}

/// Environment values are TOML literals when they parse as one (`8`, `true`, `["a"]`),
/// otherwise plain strings, so `STEWARD__LOG__FILTER=debug` needs no quotes.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(tree: &mut toml::Table, segments: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = segments.split_last().ok_or("empty key")?;
    let mut table = tree;
    for segment in parents {
        let entry =
            table.entry(segment.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| format!("`{segment}` is not a section"))?;
    }
    table.insert(last.clone(), value);
    Ok(())
}

/// Checks that go beyond types: references between sections and sane numbers.
fn validate(settings: &Settings) -> Result<(), (String, String)> {
    let positive = [
        ("jobs.workers", settings.jobs.workers as u64),
        ("jobs.poll_interval_ms", settings.jobs.poll_interval_ms),
        ("jobs.lease_seconds", settings.jobs.lease_seconds),
        ("jobs.max_attempts", settings.jobs.max_attempts.max(0) as u64),
        ("outbox.poll_interval_ms", settings.outbox.poll_interval_ms),
        ("outbox.batch_size", settings.outbox.batch_size.max(0) as u64),
        ("outbox.lease_seconds", settings.outbox.lease_seconds),
        ("outbox.max_attempts", settings.outbox.max_attempts.max(0) as u64),
        ("database.max_connections", u64::from(settings.database.max_connections)),
        ("audit.checkpoint_every_minutes", settings.audit.checkpoint_every_minutes),
        ("server.max_body_bytes", settings.server.max_body_bytes as u64),
    ];
    for (key, value) in positive {
        if value == 0 {
            return Err((key.into(), "must be greater than zero".into()));
        }
    }
    if settings.jobs.backoff_max_seconds < settings.jobs.backoff_base_seconds {
        return Err((
            "jobs.backoff_max_seconds".into(),
            "must not be smaller than jobs.backoff_base_seconds".into(),
        ));
    }
    for (index, person) in settings.people.iter().enumerate() {
        if !settings.teams.iter().any(|t| t.key == person.team) {
            return Err((format!("people[{index}].team"), format!("no team `{}`", person.team)));
        }
    }
    for (index, account) in settings.accounts.iter().enumerate() {
        if let Some(owner) = &account.owner
            && !settings.people.iter().any(|p| &p.key == owner)
        {
            return Err((format!("accounts[{index}].owner"), format!("no person `{owner}`")));
        }
    }
    if let Some(person) = &settings.console.person
        && !settings.people.iter().any(|p| p.key.as_str() == person)
    {
        return Err(("console.person".into(), format!("no person `{person}`")));
    }
    let mut seen = BTreeSet::new();
    for (index, person) in settings.people.iter().enumerate() {
        if !seen.insert(&person.key) {
            return Err((
                format!("people[{index}].key"),
                format!("`{}` is defined twice", person.key),
            ));
        }
    }
    for (index, team) in settings.teams.iter().enumerate() {
        if let Err(err) = settings.team_calendar(&team.key).calendar() {
            return Err((format!("teams[{index}].hours"), err.to_string()));
        }
    }
    for (index, person) in settings.people.iter().enumerate() {
        if let Some(shift) = &person.shift {
            let zone = person.time_zone.unwrap_or(chrono_tz::UTC);
            crate::domain::calendar::Calendar::from_weekly(zone, shift, &[])
                .map_err(|e| (format!("people[{index}].shift"), e.to_string()))?;
        }
    }
    settings.discord.validate()?;
    settings.sla_rules()?;
    settings.check_channel_map()?;
    settings.policy_book()?;
    settings.credit_policy()?;
    settings.request_rules()?;
    settings.access_catalog()?;
    settings.access_reminders()?;
    settings.review_durations()?;
    settings.review_schedules()?;
    settings.access_task_escalation()?;
    settings.onboarding_plans()?;
    settings.digest_definitions()?;
    settings.digest_grace()?;
    if settings.digest.poll_interval_ms == 0 {
        return Err(("digest.poll_interval_ms".into(), "must be greater than zero".into()));
    }
    settings.slack.validate()?;
    settings.retention.validate()?;
    settings.incident.validate()?;
    settings.directory().map(|_| ()).map_err(|e| ("people".into(), e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        file
    }

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let settings = load(None, no_env()).unwrap();
        assert_eq!(settings.server.listen.port(), 8080);
        assert_eq!(settings.jobs.workers, 2);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = write("[server]\nlisten = \"127.0.0.1:9000\"\n[log]\nfilter = \"warn\"\n");
        let env = vec![
            ("STEWARD__SERVER__LISTEN".to_owned(), "127.0.0.1:9100".to_owned()),
            ("STEWARD__JOBS__WORKERS".to_owned(), "4".to_owned()),
        ];
        let settings = load(Some(file.path()), env).unwrap();
        assert_eq!(settings.server.listen.port(), 9100);
        assert_eq!(settings.jobs.workers, 4);
        assert_eq!(settings.log.filter, "warn");
    }

    #[test]
    fn unknown_keys_are_rejected_naming_file_and_key() {
        let file = write("[server]\nlisten = \"127.0.0.1:9000\"\nlisten_port = 3\n");
        let err = load(Some(file.path()), no_env()).unwrap_err();
        assert_eq!(err.origin, ConfigSource::File(file.path().to_owned()));
        assert!(err.to_string().contains("listen_port"), "{err}");
        assert!(err.to_string().contains(&file.path().display().to_string()), "{err}");
    }

    #[test]
    fn invalid_values_name_the_key() {
        let file = write("[jobs]\nworkers = \"many\"\n");
        let err = load(Some(file.path()), no_env()).unwrap_err();
        assert_eq!(err.key, "jobs.workers");
    }

    #[test]
    fn a_misspelt_environment_key_names_the_variable_not_the_defaults() {
        for var in ["STEWARD__SERVER__LISTN", "STEWARD__NOSUCH__X", "STEWARD__SERVR__LISTEN"] {
            let err = load(None, vec![(var.to_owned(), "1".to_owned())]).unwrap_err();
            assert_eq!(err.origin, ConfigSource::Env(var.into()), "{err}");
            assert!(err.to_string().starts_with(&format!("environment variable {var}")), "{err}");
        }
    }

    #[test]
    fn an_error_inside_a_role_limit_names_the_role() {
        let file = write("[authority.roles.supervisor.EUR]\nper_request = 100\n");
        let err = load(Some(file.path()), no_env()).unwrap_err();
        assert_eq!(err.key, "authority.roles.supervisor.EUR", "{err}");
        let file = write("[authority.roles.boss.EUR]\nper_request = 100\nmonthly = 200\n");
        let err = load(Some(file.path()), no_env()).unwrap_err();
        assert_eq!(err.key, "authority.roles.boss", "{err}");
        assert!(err.problem.contains("`boss` is not a role"), "{err}");
    }

    #[test]
    fn invalid_environment_values_name_the_variable() {
        let env = vec![("STEWARD__SERVER__LISTEN".to_owned(), "not-an-address".to_owned())];
        let err = load(None, env).unwrap_err();
        assert_eq!(err.origin, ConfigSource::Env("STEWARD__SERVER__LISTEN".into()));
        assert_eq!(err.key, "server.listen");
    }

    #[test]
    fn dangling_team_reference_is_rejected() {
        let file = write(
            "[[teams]]\nkey = \"ops\"\nname = \"Ops\"\ntime_zone = \"Europe/London\"\n\
             [[people]]\nkey = \"al\"\nname = \"Al\"\nteam = \"sales\"\n",
        );
        let err = load(Some(file.path()), no_env()).unwrap_err();
        assert_eq!(err.key, "people[0].team");
        assert!(err.problem.contains("sales"));
    }

    #[test]
    fn bad_time_zone_is_rejected() {
        let file =
            write("[[teams]]\nkey = \"ops\"\nname = \"Ops\"\ntime_zone = \"Mars/Olympus\"\n");
        let err = load(Some(file.path()), no_env()).unwrap_err();
        assert_eq!(err.key, "teams[0].time_zone");
    }

    #[test]
    fn database_url_comes_from_the_environment_and_never_prints() {
        let env = vec![("DATABASE_URL".to_owned(), "postgres://u:hunter2@h/db".to_owned())];
        let settings = load(None, env).unwrap();
        assert_eq!(settings.database.url.as_ref().unwrap().expose(), "postgres://u:hunter2@h/db");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn shipped_files_are_valid_and_default_toml_matches_the_built_in_defaults() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let defaults = load(Some(&root.join("config/default.toml")), no_env()).unwrap();
        assert_eq!(format!("{defaults:?}"), format!("{:?}", load(None, no_env()).unwrap()));
        let demo = load(Some(&root.join("config/demo.toml")), no_env()).unwrap();
        assert!(demo.directory().unwrap().people().count() >= 3);
    }

    #[test]
    fn review_schedules_and_reminder_series_are_checked_naming_the_key() {
        // The single duration of earlier configurations still reads, as a series of one.
        let file = write("[access.review]\nremind_before = \"1d\"\n");
        let settings = load(Some(file.path()), no_env()).unwrap();
        assert_eq!(settings.access.review.remind_before, ["1d"]);
        let schedule = |scope: &str, cron: &str| {
            write(&format!(
                "[[access.review.schedules]]\nname = \"q\"\nscope = \"{scope}\"\n\
                 schedule = \"{cron}\"\nplatform = \"console\"\nchannel = \"ops\"\n"
            ))
        };
        let err = load(Some(schedule("nosuch", "0 9 1 1,4,7,10 *").path()), no_env()).unwrap_err();
        assert_eq!(err.key, "access.review.schedules[0].scope");
        let err = load(Some(schedule("all", "0 9 *").path()), no_env()).unwrap_err();
        assert_eq!(err.key, "access.review.schedules[0].schedule");
        let ok = load(Some(schedule("all", "0 9 1 1,4,7,10 *").path()), no_env()).unwrap();
        assert_eq!(ok.review_schedules().unwrap()[0].due_in, chrono::Duration::days(7));
    }
}
