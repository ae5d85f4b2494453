//! Slash commands: the typed [`Command`] enum and the parser from command text.
//!
//! `/steward <sub> …` and the short form `/<sub> …` are the same command, so Slack and Discord
//! can register either. Every parse error carries the usage line of the command it was meant
//! to be, so the user sees how to say it right.

use super::messages::{self, CommandHelp};

/// A parsed command, ready for a service to handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/steward help`: list every command with its usage line.
    Help,
    /// `/steward whoami`: who Steward thinks you are.
    Whoami,
    /// `/steward status`: outbox and job queue health.
    Status,
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
        unknown => Err(UsageError {
            usage: messages::HELP_HELP.usage,
            problem: messages::unknown_command(unknown),
        }),
    }
}

fn no_args(help: &CommandHelp, args: &str, command: Command) -> Result<Command, UsageError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(UsageError::new(help, messages::unexpected_arguments(args)))
    }
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
