//! Slash commands: the typed [`Command`] enum and the parser from command text.
//!
//! `/steward <sub> …` and the short form `/<sub> …` are the same command, so Slack and Discord
//! can register either. Every parse error carries the usage line of the command it was meant
//! to be, so the user sees how to say it right.

use super::ids::AccountKey;
use super::messages::escalation as esc_text;
use super::messages::{self, CommandHelp};
use super::page::{Page, take_page};
use super::request_command::{self, RequestCommand};
use super::severity::Severity;

/// A parsed command, ready for a service to handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/steward help`: list every command with its usage line.
    Help,
    /// `/steward whoami`: who Steward thinks you are.
    Whoami,
    /// `/steward status`: outbox and job queue health.
    Status,
    /// `/escalate <account> <severity> <summary>`.
    Escalate { account: AccountKey, severity: Severity, summary: String },
    /// `/escalations [mine|team|all] [open|at-risk|breached] [page N]`.
    Escalations { scope: ListScope, status: ListStatus, page: Page },
    /// `/sla <escalation-id>`.
    Sla { id: i64 },
    /// `/escalation show <escalation-id>`: the card again, privately.
    EscalationShow { id: i64 },
    /// `/credit …`, `/adjust …`, `/credits …` (see `credit_command`).
    Credit(super::credit_command::CreditCommand),
    /// `/audit <account>`: an account's audit history.
    Audit { account: AccountKey },
    /// Account requests: `/request`, `/assign`, `/handoff`, `/workload`, `/backlog`.
    Request(RequestCommand),
    /// `/mine`: what waits on me, what is mine, my team's queue.
    Mine,
    /// `/policy explain …`: who would be paged, who may approve.
    Policy(super::policy_command::PolicyQuestion),
    /// `/digest <name>`: an ephemeral preview of a configured digest.
    Digest { name: String },
    /// `/access request|mine|who|revoke|extend|show` (see `access::command`).
    Access(super::access::command::AccessCommand),
    /// `/onboard <account> <plan>`: start an account's onboarding checklist.
    Onboard { account: AccountKey, plan: String },
    /// `/onboarding [team]`: accounts in onboarding (default: the actor's team).
    Onboarding { team: Option<super::ids::TeamKey> },
    /// `/digest explain <name>`: how the digest's window and figures are defined.
    DigestExplain { name: String },
    /// Incident war rooms: `/incident …`, `/incidents` (see `incident_command`).
    Incident(super::incident_command::IncidentCommand),
}

/// Whose items a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    Mine,
    Team,
    All,
}

/// Which items by SLA standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    Open,
    AtRisk,
    Breached,
}

/// Why a command could not be parsed, with the usage line to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct UsageError {
    pub usage: &'static str,
    pub problem: String,
}

impl UsageError {
    fn new(help: &CommandHelp, problem: impl Into<String>) -> UsageError {
        UsageError { usage: help.usage, problem: problem.into() }
    }
}

/// The positive number a command names (`42` or `#42`: an item's id, a notice's number),
/// or the usage error of `help` saying it is `missing` or `invalid` in the command's words.
pub(crate) fn parse_positive<N>(
    help: &CommandHelp,
    raw: &str,
    missing: fn() -> String,
    invalid: fn(&str) -> String,
) -> Result<N, UsageError>
where
    N: std::str::FromStr + PartialOrd + Default,
{
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(UsageError::new(help, missing()));
    }
    raw.trim_start_matches('#')
        .parse::<N>()
        .ok()
        .filter(|n| *n > N::default())
        .ok_or_else(|| UsageError::new(help, invalid(raw)))
}

/// The name of the umbrella command under which every subcommand is also available.
pub const ROOT: &str = "steward";

/// Parses a slash command given its name (without `/`) and argument text.
pub fn parse(name: &str, args: &str) -> Result<Command, UsageError> {
    let name = name.trim().trim_start_matches('/').to_ascii_lowercase();
    let args = args.trim();
    if name == ROOT {
        let (sub, rest) = split_first_word(args);
        if sub.is_empty() {
            return Ok(Command::Help);
        }
        return parse_sub(&sub.to_ascii_lowercase(), rest);
    }
    parse_sub(&name, args)
}

fn parse_sub(sub: &str, args: &str) -> Result<Command, UsageError> {
    match sub {
        "help" => no_args(&messages::HELP_HELP, args, Command::Help),
        "whoami" => no_args(&messages::HELP_WHOAMI, args, Command::Whoami),
        "status" => no_args(&messages::HELP_STATUS, args, Command::Status),
        "escalate" => parse_escalate(args),
        "escalations" => parse_escalations(args),
        "sla" => parse_sla(args),
        "escalation" => parse_escalation(args),
        "credit" => super::credit_command::parse_credit(args),
        "adjust" => super::credit_command::parse_adjust(args),
        "credits" => super::credit_command::parse_credits(args),
        "audit" => super::credit_command::parse_audit(args),
        "digest" => parse_digest(args),
        "policy" => super::policy_command::parse(args),
        "mine" => no_args(&messages::mine::HELP_MINE, args, Command::Mine),
        "access" => super::access::command::parse(args).map(Command::Access),
        "onboard" => super::onboarding::command::parse_onboard(args),
        "onboarding" => super::onboarding::command::parse_onboarding(args),
        "incident" => super::incident_command::parse(args).map(Command::Incident),
        "incidents" => super::incident_command::parse_list(args).map(Command::Incident),
        name if request_command::NAMES.contains(&name) => {
            request_command::parse(name, args).map(Command::Request)
        }
        unknown => Err(UsageError {
            usage: messages::HELP_HELP.usage,
            problem: messages::unknown_command(unknown),
        }),
    }
}

fn parse_digest(args: &str) -> Result<Command, UsageError> {
    let help = &messages::digest::HELP_DIGEST;
    let (name, rest) = split_first_word(args);
    if name == "explain" {
        let help = &messages::digest::HELP_DIGEST_EXPLAIN;
        let (name, rest) = split_first_word(rest);
        if name.is_empty() {
            return Err(UsageError::new(help, messages::digest::missing_name()));
        }
        if !rest.trim().is_empty() {
            return Err(UsageError::new(help, messages::unexpected_arguments(rest.trim())));
        }
        return Ok(Command::DigestExplain { name: name.to_owned() });
    }
    if name.is_empty() {
        return Err(UsageError::new(help, messages::digest::missing_name()));
    }
    if !rest.trim().is_empty() {
        return Err(UsageError::new(help, messages::unexpected_arguments(rest.trim())));
    }
    Ok(Command::Digest { name: name.to_owned() })
}

fn no_args(help: &CommandHelp, args: &str, command: Command) -> Result<Command, UsageError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(UsageError::new(help, messages::unexpected_arguments(args)))
    }
}

fn parse_escalate(args: &str) -> Result<Command, UsageError> {
    let help = &esc_text::HELP_ESCALATE;
    let (account, rest) = split_first_word(args);
    if account.is_empty() {
        return Err(UsageError::new(help, esc_text::missing_account()));
    }
    let account = AccountKey::parse(account).map_err(|e| UsageError::new(help, e.0))?;
    let (severity, summary) = split_first_word(rest);
    if severity.is_empty() {
        return Err(UsageError::new(help, esc_text::missing_severity()));
    }
    let severity = Severity::parse(severity)
        .ok_or_else(|| UsageError::new(help, esc_text::unknown_severity(severity)))?;
    if summary.is_empty() {
        return Err(UsageError::new(help, esc_text::missing_summary()));
    }
    super::text_limit::check("summary", summary).map_err(|p| UsageError::new(help, p))?;
    Ok(Command::Escalate { account, severity, summary: summary.to_owned() })
}

fn parse_escalations(args: &str) -> Result<Command, UsageError> {
    let help = &esc_text::HELP_ESCALATIONS;
    let (words, page) =
        take_page(args).map_err(|raw| UsageError::new(help, messages::item::invalid_page(&raw)))?;
    let mut scope = ListScope::Team;
    let mut status = ListStatus::Open;
    for word in words {
        match word.to_ascii_lowercase().as_str() {
            "mine" => scope = ListScope::Mine,
            "team" => scope = ListScope::Team,
            "all" => scope = ListScope::All,
            "open" => status = ListStatus::Open,
            "at-risk" | "atrisk" | "at_risk" => status = ListStatus::AtRisk,
            "breached" => status = ListStatus::Breached,
            _ => {
                return Err(UsageError::new(help, esc_text::invalid_list_filter(word)));
            }
        }
    }
    Ok(Command::Escalations { scope, status, page })
}

/// `/escalation show <id>`.
fn parse_escalation(args: &str) -> Result<Command, UsageError> {
    let (word, rest) = args.trim().split_once(char::is_whitespace).unwrap_or((args.trim(), ""));
    if word != "show" {
        let problem = esc_text::unknown_escalation_subcommand(word);
        return Err(UsageError::new(&esc_text::HELP_SHOW, problem));
    }
    let usage = |problem| UsageError::new(&esc_text::HELP_SHOW, problem);
    let raw = rest.trim().trim_start_matches('#');
    if raw.is_empty() {
        return Err(usage(esc_text::missing_escalation_id()));
    }
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(|id| Command::EscalationShow { id })
        .ok_or_else(|| usage(esc_text::invalid_escalation_id(rest.trim())))
}

fn parse_sla(args: &str) -> Result<Command, UsageError> {
    if args.trim().is_empty() {
        return Err(UsageError::new(&esc_text::HELP_SLA, esc_text::missing_escalation_id()));
    }
    let raw = args.trim().trim_start_matches('#');
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(|id| Command::Sla { id }).ok_or_else(|| {
        UsageError::new(&esc_text::HELP_SLA, esc_text::invalid_escalation_id(args.trim()))
    })
}

/// Splits off the first whitespace-separated word.
pub fn split_first_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_positive_number_may_carry_a_hash_and_zero_or_words_are_invalid() {
        let help = &messages::HELP_HELP;
        let missing = || "missing".to_owned();
        let invalid = |raw: &str| format!("invalid {raw}");
        assert_eq!(parse_positive::<i64>(help, " #42 ", missing, invalid), Ok(42));
        assert_eq!(parse_positive::<u32>(help, "7", missing, invalid), Ok(7));
        for (raw, problem) in
            [("", "missing"), ("0", "invalid 0"), ("-3", "invalid -3"), ("x", "invalid x")]
        {
            let err = parse_positive::<i64>(help, raw, missing, invalid).unwrap_err();
            assert_eq!((err.usage, err.problem.as_str()), (help.usage, problem));
        }
    }

    #[test]
    fn root_and_short_forms_are_the_same_command() {
        assert_eq!(parse("steward", "whoami"), Ok(Command::Whoami));
        assert_eq!(parse("/whoami", ""), Ok(Command::Whoami));
        assert_eq!(parse("steward", "  HELP "), Ok(Command::Help));
    }

    #[test]
    fn bare_root_command_shows_help() {
        assert_eq!(parse("steward", ""), Ok(Command::Help));
    }

    #[test]
    fn unknown_command_points_to_help() {
        let err = parse("steward", "frobnicate now").unwrap_err();
        assert!(err.problem.contains("frobnicate"), "{err:?}");
        assert_eq!(err.usage, messages::HELP_HELP.usage);
    }

    #[test]
    fn extra_arguments_are_refused_with_the_usage_line() {
        let err = parse("steward", "whoami please").unwrap_err();
        assert_eq!(err.usage, messages::HELP_WHOAMI.usage);
        assert!(err.problem.contains("please"), "{err:?}");
    }

    #[test]
    fn escalate_parses_account_severity_and_summary() {
        assert_eq!(
            parse("escalate", "ACME-1042 sev1 Invoices are not generated"),
            Ok(Command::Escalate {
                account: AccountKey::parse("ACME-1042").unwrap(),
                severity: Severity::Sev1,
                summary: "Invoices are not generated".into(),
            })
        );
        assert_eq!(parse("steward", "escalate ACME-1 2 x").map(|_| ()), Ok(()));
    }

    #[test]
    fn escalate_refuses_bad_input_with_the_usage_line() {
        let cases = [
            ("", "Name the account"),
            ("ACME!1 sev1 x", "not a valid account key"),
            ("ACME-1 sev9 x", "`sev9` is not a severity"),
            ("ACME-1 sev1", "summary is empty"),
            ("ACME-1 sev1    ", "summary is empty"),
        ];
        for (args, problem) in cases {
            let err = parse("escalate", args).unwrap_err();
            assert_eq!(err.usage, esc_text::HELP_ESCALATE.usage);
            assert!(err.problem.contains(problem), "{args}: {}", err.problem);
        }
    }

    #[test]
    fn escalations_filters_parse_in_any_order() {
        assert_eq!(
            parse("escalations", "breached all"),
            Ok(Command::Escalations {
                scope: ListScope::All,
                status: ListStatus::Breached,
                page: Page::FIRST
            })
        );
        assert_eq!(
            parse("escalations", "all page 3"),
            Ok(Command::Escalations {
                scope: ListScope::All,
                status: ListStatus::Open,
                page: Page::new(3).unwrap()
            })
        );
        assert!(parse("escalations", "page zero").unwrap_err().problem.contains("`zero`"));
        assert_eq!(
            parse("escalations", ""),
            Ok(Command::Escalations {
                scope: ListScope::Team,
                status: ListStatus::Open,
                page: Page::FIRST
            })
        );
        assert!(parse("escalations", "closed").unwrap_err().problem.contains("`closed`"));
    }

    #[test]
    fn sla_takes_a_positive_escalation_id() {
        assert_eq!(parse("sla", "#42"), Ok(Command::Sla { id: 42 }));
        assert_eq!(parse("escalation", "show #7"), Ok(Command::EscalationShow { id: 7 }));
        assert!(parse("escalation", "show").unwrap_err().problem.contains("number"));
        assert!(parse("escalation", "close 7").unwrap_err().problem.contains("`close`"));
        assert!(parse("sla", "forty-two").is_err());
        assert!(parse("sla", "0").is_err());
        assert!(parse("sla", "").is_err());
    }

    #[test]
    fn a_missing_argument_is_named_never_shown_as_empty_backticks() {
        let cases = [
            "escalate",
            "escalate ACME-1",
            "escalate ACME-1 sev2",
            "sla",
            "credit",
            "credit ACME-1",
            "credit ACME-1 250",
            "credit ACME-1 250 USD",
            "credit edit",
            "credit edit 4",
            "credit cancel",
            "credit show",
            "adjust ACME-1",
            "credits account",
            "audit",
            "request",
            "request ACME-1",
            "request ACME-1 billing",
            "request show",
            "assign",
            "assign 4",
            "handoff",
            "digest",
            "digest explain",
        ];
        for line in cases {
            let (name, args) = split_first_word(line);
            let err = parse(name, args).unwrap_err();
            assert!(!err.problem.contains("``"), "{line}: {}", err.problem);
            assert!(!err.problem.is_empty() && err.usage.starts_with('/'), "{line}: {err:?}");
            assert!(err.usage.contains(name), "{line}: usage {}", err.usage);
        }
    }

    #[test]
    fn every_catalogued_command_parses_from_its_usage_line() {
        for help in messages::COMMANDS {
            let line = help.usage.trim_start_matches('/');
            let (name, args) = split_first_word(line);
            // Only argument-less usage lines can be parsed verbatim.
            if !args.contains('<') && !args.contains('[') {
                assert!(parse(name, args).is_ok(), "{}", help.usage);
            }
        }
    }
}
