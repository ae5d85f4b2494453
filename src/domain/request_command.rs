//! Parsing of the request commands: `/request`, `/request show`, `/assign`, `/handoff`,
//! `/workload`, `/backlog`. `command.rs` only dispatches here.

use std::collections::BTreeMap;

use super::command::{UsageError, split_first_word};
use super::ids::{AccountKey, PersonKey, TeamKey};
use super::messages::CommandHelp;
use super::messages::request as text;
use super::triage::Priority;

/// A parsed request command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCommand {
    /// `/request <account> <type> <summary> [key=value …] [p1|p2|p3|p4]`.
    Open {
        account: AccountKey,
        kind: String,
        summary: String,
        priority: Option<Priority>,
        fields: BTreeMap<String, String>,
    },
    /// `/request show <id>`.
    Show { id: i64 },
    /// `/assign <id> <person>`.
    Assign { id: i64, to: PersonKey },
    /// `/handoff <person>`.
    Handoff { to: PersonKey },
    /// `/workload [team]`.
    Workload { team: Option<TeamKey> },
    /// `/backlog [team]`.
    Backlog { team: Option<TeamKey> },
}

/// The command names this module parses.
pub const NAMES: &[&str] = &["request", "assign", "handoff", "workload", "backlog"];

fn usage(help: &CommandHelp, problem: impl Into<String>) -> UsageError {
    UsageError { usage: help.usage, problem: problem.into() }
}

pub fn parse(name: &str, args: &str) -> Result<RequestCommand, UsageError> {
    match name {
        "request" => match split_first_word(args) {
            (show, rest) if show.eq_ignore_ascii_case("show") => {
                Ok(RequestCommand::Show { id: parse_id(&text::HELP_SHOW, rest)? })
            }
            _ => parse_open(args),
        },
        "assign" => {
            let (id, rest) = split_first_word(args);
            let id = parse_id(&text::HELP_ASSIGN, id)?;
            Ok(RequestCommand::Assign { id, to: parse_person(&text::HELP_ASSIGN, rest)? })
        }
        "handoff" => Ok(RequestCommand::Handoff { to: parse_person(&text::HELP_HANDOFF, args)? }),
        "workload" => {
            Ok(RequestCommand::Workload { team: parse_team(&text::HELP_WORKLOAD, args)? })
        }
        _ => Ok(RequestCommand::Backlog { team: parse_team(&text::HELP_BACKLOG, args)? }),
    }
}

fn parse_open(args: &str) -> Result<RequestCommand, UsageError> {
    let help = &text::HELP_REQUEST;
    let (account, rest) = split_first_word(args);
    if account.is_empty() {
        return Err(usage(help, text::missing_account()));
    }
    let account = AccountKey::parse(account).map_err(|e| usage(help, e.0))?;
    let (kind, rest) = split_first_word(rest);
    if kind.is_empty() {
        return Err(usage(help, text::missing_type()));
    }
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    // A last word that looks like a priority must be one.
    let mut priority = None;
    if let Some(last) = words.last().copied()
        && looks_like_priority(last)
    {
        priority =
            Some(Priority::parse(last).ok_or_else(|| usage(help, text::invalid_priority(last)))?);
        words.pop();
    }
    let mut fields = BTreeMap::new();
    let mut summary = Vec::new();
    for word in words {
        match word.split_once('=') {
            Some((key, value)) if !key.is_empty() && key.chars().all(is_field_char) => {
                fields.insert(key.to_ascii_lowercase(), value.to_owned());
            }
            _ => summary.push(word),
        }
    }
    if summary.is_empty() {
        return Err(usage(help, text::missing_summary()));
    }
    let summary = summary.join(" ");
    super::text_limit::check("summary", &summary).map_err(|p| usage(help, p))?;
    for (key, value) in &fields {
        super::text_limit::check(key, value).map_err(|p| usage(help, p))?;
    }
    Ok(RequestCommand::Open { account, kind: kind.to_ascii_lowercase(), summary, priority, fields })
}

fn is_field_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn looks_like_priority(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('p' | 'P')) && {
        let rest = chars.as_str();
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
    }
}

fn parse_id(help: &CommandHelp, raw: &str) -> Result<i64, UsageError> {
    crate::domain::command::parse_positive(
        help,
        raw,
        text::missing_request_id,
        text::invalid_request_id,
    )
}

fn parse_person(help: &CommandHelp, raw: &str) -> Result<PersonKey, UsageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(usage(help, text::missing_person()));
    }
    if raw.split_whitespace().count() > 1 {
        return Err(usage(help, crate::domain::messages::unexpected_arguments(raw)));
    }
    PersonKey::parse(raw).map_err(|e| usage(help, e.0))
}

fn parse_team(help: &CommandHelp, raw: &str) -> Result<Option<TeamKey>, UsageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    TeamKey::parse(raw).map(Some).map_err(|e| usage(help, e.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::command::{Command, parse as parse_command};

    fn request(args: &str) -> Result<RequestCommand, UsageError> {
        parse("request", args)
    }

    #[test]
    fn request_parses_account_type_summary_fields_and_priority() {
        assert_eq!(
            request("ACME-1042 Billing Invoice is wrong invoice=INV-7 p2"),
            Ok(RequestCommand::Open {
                account: AccountKey::parse("ACME-1042").unwrap(),
                kind: "billing".into(),
                summary: "Invoice is wrong".into(),
                priority: Some(Priority::P2),
                fields: [("invoice".to_owned(), "INV-7".to_owned())].into(),
            })
        );
        let Ok(RequestCommand::Open { priority, .. }) = request("ACME-1 access Need a login")
        else {
            panic!()
        };
        assert_eq!(priority, None);
    }

    #[test]
    fn request_refuses_bad_input_with_the_usage_line() {
        let cases = [
            ("", "Name the account"),
            ("ACME!1 billing x", "not a valid account key"),
            ("ACME-1", "Name the request type"),
            ("ACME-1 billing", "summary is empty"),
            ("ACME-1 billing p2", "summary is empty"),
            ("ACME-1 billing Wrong invoice p7", "`p7` is not a priority"),
        ];
        for (args, problem) in cases {
            let err = request(args).unwrap_err();
            assert_eq!(err.usage, text::HELP_REQUEST.usage);
            assert!(err.problem.contains(problem), "{args}: {}", err.problem);
        }
    }

    #[test]
    fn the_other_request_commands_parse_through_the_command_parser() {
        let id = |raw| PersonKey::parse(raw).unwrap();
        assert_eq!(
            parse_command("request", "show #12"),
            Ok(Command::Request(RequestCommand::Show { id: 12 }))
        );
        assert_eq!(
            parse_command("steward", "assign 12 bob"),
            Ok(Command::Request(RequestCommand::Assign { id: 12, to: id("bob") }))
        );
        assert_eq!(
            parse_command("handoff", "sam"),
            Ok(Command::Request(RequestCommand::Handoff { to: id("sam") }))
        );
        assert_eq!(
            parse_command("workload", ""),
            Ok(Command::Request(RequestCommand::Workload { team: None }))
        );
        assert!(parse_command("backlog", "accounts-emea").is_ok());
        assert!(parse_command("assign", "twelve bob").unwrap_err().problem.contains("twelve"));
        assert!(parse_command("handoff", "").unwrap_err().problem.contains("Name the person"));
    }
}
