//! Parsing `/access …`. Systems, roles and maximum durations are checked against the
//! configuration by the service (the parser is pure and knows no configuration).

use chrono::Duration;

use crate::domain::command::{UsageError, split_first_word};
use crate::domain::duration::parse_duration;
use crate::domain::messages::CommandHelp;
use crate::domain::messages::access as text;

/// What an `/access` command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessCommand {
    Request {
        system: String,
        role: String,
        duration: Duration,
        reason: String,
    },
    Mine,
    Who {
        system: String,
    },
    Revoke {
        id: i64,
        reason: String,
    },
    Extend {
        id: i64,
        duration: Duration,
        reason: String,
    },
    Show {
        id: i64,
    },
    /// `/access review start <system|all> [due=YYYY-MM-DD]`.
    ReviewStart {
        scope: String,
        due: Option<chrono::NaiveDate>,
    },
    /// `/access review close <campaign>`.
    ReviewClose {
        campaign: i64,
    },
}

fn usage(help: &CommandHelp, problem: impl Into<String>) -> UsageError {
    UsageError { usage: help.usage, problem: problem.into() }
}

pub fn parse(args: &str) -> Result<AccessCommand, UsageError> {
    let (sub, rest) = split_first_word(args);
    match sub.to_ascii_lowercase().as_str() {
        "request" => parse_request(rest),
        "mine" if rest.is_empty() => Ok(AccessCommand::Mine),
        "mine" => Err(usage(&text::HELP_MINE, crate::domain::messages::unexpected_arguments(rest))),
        "who" => {
            let (system, extra) = split_first_word(rest);
            if system.is_empty() || !extra.is_empty() {
                return Err(usage(&text::HELP_WHO, text::missing_system()));
            }
            Ok(AccessCommand::Who { system: system.to_ascii_lowercase() })
        }
        "revoke" => {
            let help = &text::HELP_REVOKE;
            let (id, reason) = split_first_word(rest);
            let id = parse_id(help, id)?;
            Ok(AccessCommand::Revoke { id, reason: parse_reason(help, reason)? })
        }
        "extend" => {
            let help = &text::HELP_EXTEND;
            let (id, rest) = split_first_word(rest);
            let id = parse_id(help, id)?;
            let (duration, reason) = split_first_word(rest);
            let duration = parse_length(help, duration)?;
            Ok(AccessCommand::Extend { id, duration, reason: parse_reason(help, reason)? })
        }
        "show" => Ok(AccessCommand::Show { id: parse_id(&text::HELP_SHOW, rest)? }),
        "review" => parse_review(rest),
        "" => Err(usage(&text::HELP_REQUEST, text::missing_subcommand())),
        other => Err(usage(&text::HELP_REQUEST, text::unknown_subcommand(other))),
    }
}

fn parse_request(args: &str) -> Result<AccessCommand, UsageError> {
    let help = &text::HELP_REQUEST;
    let (system, rest) = split_first_word(args);
    if system.is_empty() {
        return Err(usage(help, text::missing_system()));
    }
    let (role, rest) = split_first_word(rest);
    if role.is_empty() {
        return Err(usage(help, text::missing_role()));
    }
    let (duration, reason) = split_first_word(rest);
    let duration = parse_length(help, duration)?;
    Ok(AccessCommand::Request {
        system: system.to_ascii_lowercase(),
        role: role.to_ascii_lowercase(),
        duration,
        reason: parse_reason(help, reason)?,
    })
}

fn parse_review(args: &str) -> Result<AccessCommand, UsageError> {
    use crate::domain::messages::access_review as review;
    let (sub, rest) = split_first_word(args);
    match sub {
        "start" => {
            let help = &review::HELP_START;
            let (scope, rest) = split_first_word(rest);
            if scope.is_empty() {
                return Err(usage(help, review::missing_scope()));
            }
            let due = match split_first_word(rest) {
                ("", _) => None,
                (word, "") => {
                    let raw = word
                        .strip_prefix("due=")
                        .ok_or_else(|| usage(help, review::bad_due(word)))?;
                    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                        .map_err(|_| usage(help, review::bad_due(word)))?;
                    Some(date)
                }
                (_, extra) => {
                    return Err(usage(help, crate::domain::messages::unexpected_arguments(extra)));
                }
            };
            Ok(AccessCommand::ReviewStart { scope: scope.to_ascii_lowercase(), due })
        }
        "close" => {
            Ok(AccessCommand::ReviewClose { campaign: parse_id(&review::HELP_CLOSE, rest)? })
        }
        _ => Err(usage(&review::HELP_START, review::unknown_subcommand(sub))),
    }
}

fn parse_length(help: &CommandHelp, raw: &str) -> Result<Duration, UsageError> {
    if raw.is_empty() {
        return Err(usage(help, text::missing_duration()));
    }
    parse_duration(raw).map_err(|err| usage(help, err.to_string()))
}

fn parse_reason(help: &CommandHelp, raw: &str) -> Result<String, UsageError> {
    if raw.trim().is_empty() {
        return Err(usage(help, text::missing_reason()));
    }
    crate::domain::text_limit::check("reason", raw).map_err(|p| usage(help, p))?;
    Ok(raw.trim().to_owned())
}

fn parse_id(help: &CommandHelp, raw: &str) -> Result<i64, UsageError> {
    crate::domain::command::parse_positive(help, raw, text::missing_id, text::invalid_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_system_role_duration_and_reason() {
        assert_eq!(
            parse("request billing-admin Viewer 7d Month-end invoice checks"),
            Ok(AccessCommand::Request {
                system: "billing-admin".into(),
                role: "viewer".into(),
                duration: Duration::days(7),
                reason: "Month-end invoice checks".into(),
            })
        );
        assert_eq!(
            parse("extend #4 2d still checking"),
            Ok(AccessCommand::Extend {
                id: 4,
                duration: Duration::days(2),
                reason: "still checking".into()
            })
        );
        assert_eq!(parse("mine"), Ok(AccessCommand::Mine));
        assert_eq!(parse("who CRM"), Ok(AccessCommand::Who { system: "crm".into() }));
    }

    #[test]
    fn bad_input_names_what_is_missing_with_the_usage_line() {
        let cases = [
            ("request", "Name the system"),
            ("request crm", "Name the role"),
            ("request crm viewer", "Give the duration"),
            ("request crm viewer soon why", "is not valid"),
            ("request crm viewer 7d", "Give a reason"),
            ("revoke", "Give the access number"),
            ("revoke x reason", "`x` is not an access number"),
            ("revoke 3", "Give a reason"),
            ("frobnicate", "`frobnicate`"),
        ];
        for (args, problem) in cases {
            let err = parse(args).unwrap_err();
            assert!(err.problem.contains(problem), "{args}: {}", err.problem);
            assert!(err.usage.starts_with("/access"), "{args}: {}", err.usage);
        }
    }
}
