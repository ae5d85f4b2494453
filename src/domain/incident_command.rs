//! Parsing of the incident commands: `/incident <sub> …` and `/incidents [open|all]`.
//! `command.rs` only dispatches here.
//!
//! Typed inside an incident's room the `<id>` may be left out: a first word that is a number
//! (`7` or `#7`) is the id, anything else starts the arguments.

use chrono::NaiveDate;

use super::command::{UsageError, split_first_word};
use super::ids::{AccountKey, PersonKey};
use super::incident::IncidentRole;
use super::messages::CommandHelp;
use super::messages::incident as text;
use super::severity::Severity;

/// A parsed incident command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentCommand {
    /// `/incident declare <sev> <title> [accounts=KEY,KEY…]`.
    Declare { severity: Severity, title: String, accounts: Vec<AccountKey> },
    /// A change to incident `id` (`None`: the room it was typed in).
    Act { id: Option<i64>, act: Act },
    /// `/incident review [id]`.
    Review { id: Option<i64> },
    /// `/incident show [id]`.
    Show { id: Option<i64> },
    /// `/incidents [open|all]`.
    List { all: bool },
}

/// A change asked for by command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Role { role: IncidentRole, person: PersonKey },
    Join,
    Update { text: String },
    Note { text: String },
    Severity { to: Severity },
    AccountAdd { account: AccountKey },
    AccountRemove { account: AccountKey },
    Mitigated,
    Resolve { summary: String },
    Reopen,
    Notice { account: AccountKey, text: String },
    Approve { notice: u32 },
    Sent { notice: u32 },
    Action { owner: PersonKey, due: NaiveDate, text: String },
}

fn usage(help: &CommandHelp, problem: impl Into<String>) -> UsageError {
    UsageError { usage: help.usage, problem: problem.into() }
}

/// `/incidents [open|all]`.
pub fn parse_list(args: &str) -> Result<IncidentCommand, UsageError> {
    match args.trim().to_ascii_lowercase().as_str() {
        "" | "open" => Ok(IncidentCommand::List { all: false }),
        "all" => Ok(IncidentCommand::List { all: true }),
        other => Err(usage(&text::HELP_LIST, text::invalid_list_filter(other))),
    }
}

/// `/incident <sub> …`.
pub fn parse(args: &str) -> Result<IncidentCommand, UsageError> {
    let (sub, rest) = split_first_word(args);
    let sub = sub.to_ascii_lowercase();
    let act = |act| Ok(IncidentCommand::Act { id: None, act });
    // `numeric` subcommands take a number as their argument: a lone number is then that
    // argument (`/incident severity 2` in a room), not the id.
    let (help, numeric) = match sub.as_str() {
        "declare" => return parse_declare(rest),
        "role" => (&text::HELP_ROLE, false),
        "join" => (&text::HELP_JOIN, false),
        "update" => (&text::HELP_UPDATE, false),
        "note" => (&text::HELP_NOTE, false),
        "severity" => (&text::HELP_SEVERITY, true),
        "account" => (&text::HELP_ACCOUNT, false),
        "mitigated" => (&text::HELP_MITIGATED, false),
        "resolve" => (&text::HELP_RESOLVE, false),
        "reopen" => (&text::HELP_REOPEN, false),
        "notice" => (&text::HELP_NOTICE, false),
        "approve" => (&text::HELP_APPROVE, true),
        "sent" => (&text::HELP_SENT, true),
        "action" => (&text::HELP_ACTION, false),
        "review" => (&text::HELP_REVIEW, false),
        "show" => (&text::HELP_SHOW, false),
        "" => return Err(usage(&text::HELP_DECLARE, text::missing_subcommand())),
        other => return Err(usage(&text::HELP_DECLARE, text::unknown_subcommand(other))),
    };
    let (id, rest) = take_id(help, rest, numeric)?;
    let with_id = |command: Result<IncidentCommand, UsageError>| {
        command.map(|command| match command {
            IncidentCommand::Act { act, .. } => IncidentCommand::Act { id, act },
            other => other,
        })
    };
    let no_more = |rest: &str| -> Result<(), UsageError> {
        match rest.trim() {
            "" => Ok(()),
            extra => Err(usage(help, super::messages::unexpected_arguments(extra))),
        }
    };
    with_id(match sub.as_str() {
        "role" => {
            let (role, person) = split_first_word(rest);
            let role =
                IncidentRole::parse(role).ok_or_else(|| usage(help, text::invalid_role(role)))?;
            act(Act::Role { role, person: parse_person(help, person)? })
        }
        "join" => no_more(rest).and_then(|()| act(Act::Join)),
        "update" => act(Act::Update { text: parse_text(help, "update", rest)? }),
        "note" => act(Act::Note { text: parse_text(help, "note", rest)? }),
        "severity" => act(Act::Severity { to: parse_severity(help, rest)? }),
        "account" => {
            let (verb, key) = split_first_word(rest);
            let account = parse_account(help, key)?;
            match verb.to_ascii_lowercase().as_str() {
                "add" => act(Act::AccountAdd { account }),
                "remove" => act(Act::AccountRemove { account }),
                other => Err(usage(help, text::invalid_account_verb(other))),
            }
        }
        "mitigated" => no_more(rest).and_then(|()| act(Act::Mitigated)),
        "resolve" => act(Act::Resolve { summary: parse_text(help, "summary", rest)? }),
        "reopen" => no_more(rest).and_then(|()| act(Act::Reopen)),
        "notice" => {
            let (account, body) = split_first_word(rest);
            let account = parse_account(help, account)?;
            act(Act::Notice { account, text: parse_text(help, "notice", body)? })
        }
        "approve" => act(Act::Approve { notice: parse_notice(help, rest)? }),
        "sent" => act(Act::Sent { notice: parse_notice(help, rest)? }),
        "action" => {
            let (owner, rest) = split_first_word(rest);
            let owner = parse_person(help, owner)?;
            let (due, body) = split_first_word(rest);
            let due = NaiveDate::parse_from_str(due, "%Y-%m-%d")
                .map_err(|_| usage(help, text::invalid_due_date(due)))?;
            act(Act::Action { owner, due, text: parse_text(help, "action", body)? })
        }
        "review" => no_more(rest).map(|()| IncidentCommand::Review { id }),
        _ => no_more(rest).map(|()| IncidentCommand::Show { id }),
    })
}

fn parse_declare(args: &str) -> Result<IncidentCommand, UsageError> {
    let help = &text::HELP_DECLARE;
    let (severity, rest) = split_first_word(args);
    let severity = parse_severity(help, severity)?;
    let mut accounts = Vec::new();
    let mut title = Vec::new();
    for word in rest.split_whitespace() {
        match word.split_once('=') {
            Some((key, list)) if key.eq_ignore_ascii_case("accounts") => {
                for raw in list.split(',').filter(|raw| !raw.is_empty()) {
                    let account = parse_account(help, raw)?;
                    if !accounts.contains(&account) {
                        accounts.push(account);
                    }
                }
            }
            _ => title.push(word),
        }
    }
    let title = parse_text(help, "title", &title.join(" "))?;
    Ok(IncidentCommand::Declare { severity, title, accounts })
}

/// The id in front of the arguments: a first word that is a number (`7`, `#7`), unless the
/// subcommand's own argument is a number and nothing follows it.
fn take_id<'a>(
    help: &CommandHelp,
    args: &'a str,
    numeric: bool,
) -> Result<(Option<i64>, &'a str), UsageError> {
    let (first, rest) = split_first_word(args);
    let number = first.trim_start_matches('#');
    let is_number = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit());
    if !is_number || (numeric && first == number && rest.is_empty()) {
        return Ok((None, args.trim()));
    }
    let id = number.parse::<i64>().ok().filter(|id| *id > 0);
    let id = id.ok_or_else(|| usage(help, text::invalid_incident_id(first)))?;
    Ok((Some(id), rest))
}

fn parse_text(help: &CommandHelp, what: &str, raw: &str) -> Result<String, UsageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(usage(help, text::missing_text(what)));
    }
    super::text_limit::check(what, raw).map_err(|p| usage(help, p))?;
    Ok(raw.to_owned())
}

fn parse_severity(help: &CommandHelp, raw: &str) -> Result<Severity, UsageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(usage(help, text::missing_severity()));
    }
    Severity::parse(raw).ok_or_else(|| usage(help, text::invalid_severity(raw)))
}

fn parse_account(help: &CommandHelp, raw: &str) -> Result<AccountKey, UsageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(usage(help, text::missing_account()));
    }
    AccountKey::parse(raw).map_err(|e| usage(help, e.0))
}

fn parse_person(help: &CommandHelp, raw: &str) -> Result<PersonKey, UsageError> {
    let raw = raw.trim().trim_start_matches('@');
    if raw.is_empty() {
        return Err(usage(help, text::missing_person()));
    }
    if raw.split_whitespace().count() > 1 {
        return Err(usage(help, super::messages::unexpected_arguments(raw)));
    }
    PersonKey::parse(raw).map_err(|e| usage(help, e.0))
}

fn parse_notice(help: &CommandHelp, raw: &str) -> Result<u32, UsageError> {
    crate::domain::command::parse_positive(help, raw, text::missing_notice, text::invalid_notice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::command::{Command, parse as parse_command};

    fn incident(args: &str) -> Result<IncidentCommand, UsageError> {
        parse(args)
    }

    fn key(raw: &str) -> AccountKey {
        AccountKey::parse(raw).unwrap()
    }

    #[test]
    fn declare_parses_severity_title_and_accounts_anywhere() {
        assert_eq!(
            incident("declare sev2 Invoices not generated accounts=ACME-1042,GLOBEX-7"),
            Ok(IncidentCommand::Declare {
                severity: Severity::Sev2,
                title: "Invoices not generated".into(),
                accounts: vec![key("ACME-1042"), key("GLOBEX-7")],
            })
        );
        assert_eq!(
            parse_command("steward", "incident declare 1 Down"),
            Ok(Command::Incident(IncidentCommand::Declare {
                severity: Severity::Sev1,
                title: "Down".into(),
                accounts: vec![],
            }))
        );
    }

    #[test]
    fn the_id_may_be_left_out_inside_a_room() {
        let act = |id, act| Ok(IncidentCommand::Act { id, act });
        assert_eq!(
            incident("update 1 Mitigation in progress"),
            act(Some(1), Act::Update { text: "Mitigation in progress".into() })
        );
        assert_eq!(
            incident("update Mitigation in progress"),
            act(None, Act::Update { text: "Mitigation in progress".into() })
        );
        assert_eq!(incident("severity 2"), act(None, Act::Severity { to: Severity::Sev2 }));
        assert_eq!(
            incident("severity #3 sev1"),
            act(Some(3), Act::Severity { to: Severity::Sev1 })
        );
        assert_eq!(incident("approve 2"), act(None, Act::Approve { notice: 2 }));
        assert_eq!(incident("approve 1 2"), act(Some(1), Act::Approve { notice: 2 }));
        assert_eq!(incident("join"), act(None, Act::Join));
        assert_eq!(incident("join 4"), act(Some(4), Act::Join));
        assert_eq!(incident("review"), Ok(IncidentCommand::Review { id: None }));
        assert_eq!(incident("show 9"), Ok(IncidentCommand::Show { id: Some(9) }));
        assert_eq!(
            incident("role 1 commander @sam"),
            act(
                Some(1),
                Act::Role {
                    role: IncidentRole::Commander,
                    person: PersonKey::parse("sam").unwrap()
                }
            )
        );
        assert_eq!(
            incident("action 1 sam 2026-12-04 Renew the certificate"),
            act(
                Some(1),
                Act::Action {
                    owner: PersonKey::parse("sam").unwrap(),
                    due: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
                    text: "Renew the certificate".into(),
                }
            )
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_usage_line_of_the_subcommand() {
        let cases = [
            ("", "/incident declare", "Say what to do"),
            ("frobnicate 1", "/incident declare", "`frobnicate`"),
            ("declare", "/incident declare", "Name the severity"),
            ("declare sev9 Down", "/incident declare", "`sev9` is not a severity"),
            ("declare sev1", "/incident declare", "title is empty"),
            ("declare sev1 Down accounts=ACME!1", "/incident declare", "not a valid account key"),
            ("role 1 boss sam", "/incident role", "`boss` is not an incident role"),
            ("role 1 commander", "/incident role", "Name the person"),
            ("update 1", "/incident update", "update is empty"),
            ("account 1 drop ACME-1", "/incident account", "`drop`"),
            ("notice 1 ACME-1", "/incident notice", "notice is empty"),
            ("approve 1 x", "/incident approve", "`x` is not a notice number"),
            ("action 1 sam tomorrow Fix", "/incident action", "`tomorrow` is not a date"),
            ("mitigated 1 now", "/incident mitigated", "`now`"),
        ];
        for (args, usage_start, problem) in cases {
            let err = incident(args).unwrap_err();
            assert!(err.usage.starts_with(usage_start), "{args}: {}", err.usage);
            assert!(err.problem.contains(problem), "{args}: {}", err.problem);
        }
        assert_eq!(parse_list("all"), Ok(IncidentCommand::List { all: true }));
        assert!(parse_list("closed").unwrap_err().problem.contains("`closed`"));
    }
}
