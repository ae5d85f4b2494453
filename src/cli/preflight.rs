//! Input checks for every command, run right after the configuration loads and before any
//! set-up: no logging, no runtime, no database. A refusal is one line and exit status 2, so
//! a typo never starts (or stops) PostgreSQL and never prints a backtrace.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::{AuditCommand, BenchCommand, Commands, DigestCommand, DiscordCommand};
use crate::bench::seed::SeedArgs;
use crate::config::Settings;
use crate::domain::messages::cli as text;

/// A refused command line: which command, and the one-line problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub command: &'static str,
    pub problem: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&text::refusal(self.command, &self.problem))
    }
}

/// Checks the command's arguments against the configuration.
pub fn check(command: &Commands, settings: &Settings) -> Result<(), Refusal> {
    let refuse = |command: &'static str| move |problem| Refusal { command, problem };
    match command {
        Commands::Console { act_as } => {
            console_person(settings, act_as.as_deref()).map_err(refuse("console"))
        }
        Commands::Digest(DigestCommand::Run { name, at, dry_run }) => {
            digest_run(settings, name, at.as_deref(), *dry_run).map_err(refuse("digest run"))
        }
        Commands::Audit(AuditCommand::Export { from, to, .. }) if from > to => {
            let problem = crate::domain::messages::credit::export_range_problem(
                &from.to_string(),
                &to.to_string(),
            );
            Err(refuse("audit export")(problem))
        }
        // A dry run sends nothing, so it needs no token.
        Commands::Discord(DiscordCommand::Register { dry_run: false, .. }) => {
            discord_register(settings).map_err(refuse("discord register"))
        }
        Commands::Seed(args) => seed(settings, args).map_err(refuse("seed")),
        Commands::Bench(bench) => bench_args(settings, bench).map_err(refuse("bench")),
        _ => Ok(()),
    }
}

/// The person the console starts as: `--as`, else `[console] person`, else the first one.
fn console_person(settings: &Settings, act_as: Option<&str>) -> Result<(), String> {
    let known: Vec<&str> = settings.people.iter().map(|p| p.key.as_str()).collect();
    match act_as.or(settings.console.person.as_deref()) {
        Some(name) if !known.contains(&name) => Err(text::unknown_person(name, &known)),
        None if known.is_empty() => Err(text::no_people()),
        _ => Ok(()),
    }
}

fn digest_run(
    settings: &Settings,
    name: &str,
    at: Option<&str>,
    dry_run: bool,
) -> Result<(), String> {
    let Some(digest) = settings.digests.iter().find(|d| d.name == name) else {
        let known: Vec<&str> = settings.digests.iter().map(|d| d.name.as_str()).collect();
        return Err(text::unknown_digest(name, &known));
    };
    let Some(at) = at.map(|raw| parse_time(raw, digest.time_zone)).transpose()? else {
        return Ok(());
    };
    // A posting run is refused at an instant that is no slot, before a database is opened.
    let definitions = settings.digest_definitions().unwrap_or_default();
    match definitions.iter().find(|d| d.name == name) {
        Some(definition) if !dry_run => {
            let nearest = crate::domain::digest::slots::nearest_slots(
                &definition.schedule,
                definition.time_zone,
                at,
            );
            if nearest.0 == Some(at) {
                Ok(())
            } else {
                Err(crate::domain::messages::digest::run_not_a_slot(
                    name,
                    at,
                    definition.time_zone,
                    nearest,
                ))
            }
        }
        _ => Ok(()),
    }
}

fn discord_register(settings: &Settings) -> Result<(), String> {
    if settings.discord.bot_token.is_none() {
        return Err(text::not_set(crate::config::DISCORD_TOKEN_ENV));
    }
    if settings.discord.application_id.is_none_or(|id| id == 0) {
        return Err(text::not_set("discord.application_id"));
    }
    Ok(())
}

fn seed(settings: &Settings, args: &SeedArgs) -> Result<(), String> {
    at_least("escalations", args.escalations, 0)?;
    at_least("requests", args.requests, 0)?;
    at_least("credits", args.credits, 0)?;
    at_least("days", args.days, 1)?;
    // Seeding copies items opened as a configured person on a configured account.
    if settings.people.is_empty() {
        return Err(text::no_people());
    }
    Ok(())
}

fn bench_args(settings: &Settings, bench: &BenchCommand) -> Result<(), String> {
    let counts = |clients: usize, count: usize| {
        at_least("clients", clients as i64, 1)?;
        at_least("count", count as i64, 1)
    };
    match bench {
        BenchCommand::Slack { clients, count }
        | BenchCommand::Incident { clients, count }
        | BenchCommand::Escalations { clients, count }
        | BenchCommand::Credits { clients, count }
        | BenchCommand::Discord { clients, count }
        | BenchCommand::Rss { clients, count } => counts(*clients, *count),
        BenchCommand::Assignment { people, open, decisions, clients, count } => {
            at_least("people", *people as i64, 1)?;
            at_least("open", *open, 0)?;
            at_least("decisions", *decisions as i64, 1)?;
            counts(*clients, *count)
        }
        BenchCommand::Timers { count, workers, spread_seconds } => {
            at_least("count", *count as i64, 1)?;
            at_least("workers", *workers as i64, 1)?;
            at_least("spread-seconds", *spread_seconds as i64, 1)
        }
        BenchCommand::Digest { seed: args, runs } => {
            at_least("runs", *runs as i64, 1)?;
            seed(settings, args)
        }
    }
}

fn at_least(option: &str, value: i64, min: i64) -> Result<(), String> {
    if value < min { Err(text::too_small(option, value, min)) } else { Ok(()) }
}

/// Parses RFC 3339, or a local "YYYY-MM-DD HH:MM" in `zone`.
pub fn parse_time(raw: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.to_utc());
    }
    let local =
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M").map_err(|_| text::not_a_time(raw))?;
    local
        .and_local_timezone(zone)
        .earliest()
        .map(|at| at.to_utc())
        .ok_or_else(|| text::time_in_gap(raw, zone.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Settings {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml");
        let env = Vec::<(String, String)>::new();
        crate::config::load(Some(std::path::Path::new(file)), env).unwrap()
    }

    #[test]
    fn an_unknown_console_person_is_named_with_the_configured_ones() {
        let settings = demo();
        let err = check(&Commands::Console { act_as: Some("nobody".into()) }, &settings);
        let err = err.unwrap_err();
        assert_eq!(err.command, "console");
        assert!(err.problem.starts_with("no person `nobody`; configured: alice, "), "{err}");
        assert!(check(&Commands::Console { act_as: Some("alice".into()) }, &settings).is_ok());
    }

    #[test]
    fn digest_run_refuses_an_unknown_name_and_a_bad_time() {
        let settings = demo();
        let run = |name: &str, at: Option<&str>| {
            let (name, at) = (name.to_owned(), at.map(str::to_owned));
            check(&Commands::Digest(DigestCommand::Run { name, at, dry_run: true }), &settings)
        };
        let first = settings.digests[0].name.clone();
        assert!(run(&first, None).is_ok());
        let err = run("nosuch", None).unwrap_err();
        assert!(err.to_string().starts_with("steward digest run: no digest `nosuch`; "), "{err}");
        assert!(err.problem.contains(&first), "{err}");
        assert!(run(&first, Some("yesterday")).unwrap_err().problem.contains("is not a time"));
    }

    #[test]
    fn a_posting_digest_run_off_the_schedule_is_refused_naming_the_nearest_slots() {
        let settings = demo();
        let run = |at: &str, dry_run: bool| {
            let (name, at) = ("sla-morning".to_owned(), Some(at.to_owned()));
            check(&Commands::Digest(DigestCommand::Run { name, at, dry_run }), &settings)
        };
        // "30 8 * * Mon-Fri" in London: Monday 23 November 08:30 GMT is a slot.
        assert!(run("2026-11-23 08:30", false).is_ok());
        assert!(run("2026-11-23 08:31", true).is_ok());
        let err = run("2026-11-23 08:31", false).unwrap_err();
        assert!(err.problem.contains("is not a slot of digest `sla-morning`"), "{err}");
        assert!(err.problem.contains("before Mon 23 Nov 2026 08:30 GMT"), "{err}");
        assert!(err.problem.contains("after Tue 24 Nov 2026 08:30 GMT"), "{err}");
    }

    #[test]
    fn counts_below_one_are_refused() {
        let settings = demo();
        let bench = Commands::Bench(BenchCommand::Slack { clients: 0, count: 10 });
        assert_eq!(
            check(&bench, &settings).unwrap_err().problem,
            "--clients must be at least 1, not 0"
        );
    }

    #[test]
    fn local_times_in_a_daylight_saving_gap_are_refused() {
        let zone = chrono_tz::Europe::London;
        assert!(parse_time("2026-03-29 01:30", zone).unwrap_err().contains("daylight-saving gap"));
        let at = parse_time("2026-11-27 15:00", zone).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-27T15:00:00+00:00");
    }
}
