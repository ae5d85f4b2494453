//! Every user-visible string Steward produces, in one place to review tone and wording.
//!
//! Functions take the values they interpolate; nothing here does IO. Adapters may add
//! platform chrome (emoji, markup) but never their own wording.

pub mod access;
pub mod access_review;
pub mod cli;
pub mod credit;
pub mod digest;
pub mod discord;
pub mod escalation;
pub mod incident;
pub mod item;
pub mod mine;
pub mod onboarding;
pub mod policy;
pub mod request;
pub mod retention;
pub mod slack;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::identity::Person;
use super::ids::Platform;

/// One entry of the command catalogue: how to call a command and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHelp {
    pub usage: &'static str,
    pub summary: &'static str,
}

/// Declares a feature's entries of the command catalogue, each `NAME: "usage" => "summary";`
/// becoming a `pub const NAME: CommandHelp` (doc comments pass through), so that every
/// feature writes its help the same way and only its own words.
#[macro_export]
macro_rules! command_help {
    ($($(#[$meta:meta])* $name:ident: $usage:literal => $summary:literal;)*) => {
        $(
            $(#[$meta])*
            pub const $name: $crate::domain::messages::CommandHelp =
                $crate::domain::messages::CommandHelp { usage: $usage, summary: $summary };
        )*
    };
}

crate::command_help! {
    HELP_HELP: "/steward help"
        => "List every command with its usage line.";
    HELP_WHOAMI: "/steward whoami"
        => "Show who Steward thinks you are: person, team, roles, time zone.";
    HELP_STATUS: "/steward status"
        => "Show Steward's health: messages waiting to be sent, failed sends, failed jobs.";
}

/// Every chat command, in the order `/steward help` lists them.
pub const COMMANDS: &[CommandHelp] = &[
    HELP_HELP,
    HELP_WHOAMI,
    HELP_STATUS,
    escalation::HELP_ESCALATE,
    escalation::HELP_ESCALATIONS,
    escalation::HELP_SLA,
    escalation::HELP_SHOW,
    credit::HELP_CREDIT,
    credit::HELP_ADJUST,
    credit::HELP_CREDIT_EDIT,
    credit::HELP_CREDIT_CANCEL,
    credit::HELP_CREDIT_SHOW,
    credit::HELP_CREDITS,
    credit::HELP_AUDIT,
    request::HELP_REQUEST,
    request::HELP_SHOW,
    request::HELP_ASSIGN,
    request::HELP_HANDOFF,
    request::HELP_WORKLOAD,
    request::HELP_BACKLOG,
    digest::HELP_DIGEST,
    mine::HELP_MINE,
    policy::HELP_POLICY,
    policy::HELP_POLICY_CREDIT,
    access::HELP_REQUEST,
    access::HELP_MINE,
    access::HELP_WHO,
    access::HELP_REVOKE,
    access::HELP_EXTEND,
    access::HELP_SHOW,
    access_review::HELP_REVIEW,
    onboarding::HELP_ONBOARD,
    onboarding::HELP_ONBOARDING,
    digest::HELP_DIGEST_EXPLAIN,
    incident::HELP_DECLARE,
    incident::HELP_ROLE,
    incident::HELP_JOIN,
    incident::HELP_UPDATE,
    incident::HELP_NOTE,
    incident::HELP_SEVERITY,
    incident::HELP_ACCOUNT,
    incident::HELP_MITIGATED,
    incident::HELP_RESOLVE,
    incident::HELP_REOPEN,
    incident::HELP_NOTICE,
    incident::HELP_APPROVE,
    incident::HELP_SENT,
    incident::HELP_ACTION,
    incident::HELP_REVIEW,
    incident::HELP_SHOW,
    incident::HELP_LIST,
];

/// Commands only the local console understands.
pub const CONSOLE_COMMANDS: &[CommandHelp] = &[
    CommandHelp { usage: "/as <person>", summary: "Act as another person (console only)." },
    CommandHelp { usage: "<number> [text]", summary: "Press a button of the last card." },
    CommandHelp {
        usage: "/say <channel> <text>",
        summary: "Post a message into a console channel as the current person (e.g. an incident room).",
    },
    CommandHelp {
        usage: "/pin <message number>",
        summary: "Pin a said message: in an incident room it goes on the timeline.",
    },
    CommandHelp {
        usage: "/channel <name>",
        summary: "Type commands in this console channel (inside a room the incident id may be left out).",
    },
    CommandHelp { usage: "/quit", summary: "Leave the console." },
];

pub fn help() -> String {
    let mut out = String::from("Steward commands (each also works as /steward <command>):\n");
    out.push_str(&catalogue(COMMANDS));
    out
}

pub fn console_help() -> String {
    let mut out = String::from("Console commands:\n");
    out.push_str(&catalogue(CONSOLE_COMMANDS));
    out
}

/// Usage lines in one column, summaries aligned after the longest.
fn catalogue(commands: &[CommandHelp]) -> String {
    let width = commands.iter().map(|c| c.usage.chars().count()).max().unwrap_or(0);
    commands.iter().map(|c| format!("  {:<width$}  {}\n", c.usage, c.summary)).collect()
}

/// A typed text over the length limit; `what` is "summary", "note", "reason".
pub fn too_long(what: &str, chars: usize, max: usize) -> String {
    format!("The {what} is too long: {} characters, at most {}.", thousands(chars), thousands(max))
}

pub fn control_character(what: &str, c: char) -> String {
    format!(
        "The {what} contains a control character (U+{:04X}); remove it and try again.",
        c as u32
    )
}

pub fn too_many_fields(count: usize, max: usize) -> String {
    format!("Too many fields: {}, at most {}.", thousands(count), thousands(max))
}

/// A button id longer than any Steward makes (not echoed back: it could be huge).
pub fn action_too_long(chars: usize) -> String {
    format!(
        "That button is not one of Steward's (its id has {} characters). Run the command again for a fresh card.",
        thousands(chars)
    )
}

/// `10000` → `10,000`.
fn thousands(n: usize) -> String {
    group_digits(&n.to_string())
}

/// `"10000"` → `"10,000"`: the integer digits of any number, in groups of three.
pub(crate) fn group_digits(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 channel", "3 channels": a count with the noun in the right number.
pub fn count_of(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

pub fn usage_error(problem: &str, usage: &str) -> String {
    format!("{problem}\nUsage: {usage}")
}

pub fn unknown_command(name: &str) -> String {
    format!("I don't know the command `{name}`. Type /steward help for the list.")
}

pub fn unexpected_arguments(args: &str) -> String {
    format!("This command takes no arguments, but got `{args}`.")
}

pub fn invalid_key(what: &str, raw: &str) -> String {
    format!("`{raw}` is not a valid {what} key.")
}

pub fn whoami(person: &Person, team_name: &str, platform: Platform, user: &str) -> String {
    let roles: Vec<&str> = person.roles.iter().map(|r| r.as_str()).collect();
    let roles = if roles.is_empty() { "none".to_owned() } else { roles.join(", ") };
    format!(
        "You are {} ({}) on {platform} as `{user}`.\nTeam: {team_name}\nRoles: {roles}\nTime zone: {}",
        person.display_name, person.key, person.time_zone
    )
}

pub fn unknown_person(platform: Platform, user: &str) -> String {
    // The key is the platform's name in [[people]] (`slack = "U…"`, `discord = "…"`).
    format!(
        "Steward doesn't know {platform} user `{user}` yet. Ask an admin to add \
         `{platform} = \"{user}\"` to your [[people]] entry in Steward's configuration, then \
         try /steward whoami."
    )
}

pub fn unknown_console_person(name: &str, known: &[String]) -> String {
    format!("There is no person `{name}`. Known people: {}.", known.join(", "))
}

pub fn console_now_acting_as(person: &Person) -> String {
    format!("You are now {} ({}).", person.display_name, person.key)
}

pub fn console_no_card() -> String {
    "There is no card with buttons to press yet.".to_owned()
}

pub fn console_no_such_button(number: usize, count: usize) -> String {
    format!("The last card has buttons 1 to {count}; there is no button {number}.")
}

pub fn console_prompt_required(label: &str) -> String {
    format!("That button needs text: type the number followed by the {label}.")
}

pub fn console_prompt(title: &str, label: &str, choices: &[String]) -> String {
    if choices.is_empty() {
        format!("{title}: type the {label} on the next line.")
    } else {
        format!("{title}: type the {label} on the next line ({}).", choices.join(", "))
    }
}

pub fn console_confirm(title: &str, text: &str) -> String {
    format!("{title}: {text} [y/N]")
}

pub fn console_cancelled() -> String {
    "Cancelled; nothing was sent.".to_owned()
}

pub fn console_post_heading(channel: &str, message_id: &str) -> String {
    format!("[#{channel}] message {message_id}")
}

pub fn console_thread_heading(channel: &str, parent_id: &str) -> String {
    format!("[#{channel} · thread of message {parent_id}]")
}

pub fn console_update_heading(channel: &str, message_id: &str) -> String {
    format!("[#{channel}] message {message_id} (updated)")
}

pub fn console_dm_heading(user: &str) -> String {
    format!("[direct message to @{user}]")
}

/// A person's message said into a console channel.
pub fn console_said(author: &str, text: &str) -> String {
    format!("{author}: {text}")
}

pub fn console_say_usage() -> String {
    "Say it like this: /say <channel> <text>, e.g. /say inc-1 Found the failing job.".to_owned()
}

pub fn console_no_such_message(raw: &str) -> String {
    format!(
        "There is no message `{raw}` said in this console: /pin takes the number printed above a /say message."
    )
}

pub fn console_now_in_channel(channel: &str) -> String {
    format!("Commands now come from #{channel}.")
}

pub fn console_not_a_command() -> String {
    "Commands start with /. Type /steward help for the list.".to_owned()
}

pub fn console_welcome(person: &Person) -> String {
    format!(
        "Steward console. You are {} ({}). Type /steward help, or /quit to leave.",
        person.display_name, person.key
    )
}

/// The operator's view of Steward's queues.
pub struct StatusFigures {
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    pub jobs_pending: i64,
    pub jobs_dead: i64,
    pub last_failure: Option<String>,
    /// Pages given up (each escalated to the next level at once).
    pub pages_failed: i64,
}

pub fn status(figures: &StatusFigures) -> String {
    let mut out = format!(
        "Outbox: {} waiting, {} failed.\nJobs: {} scheduled, {} dead.",
        figures.outbox_pending, figures.outbox_failed, figures.jobs_pending, figures.jobs_dead
    );
    if let Some(failure) = &figures.last_failure {
        out.push_str(&format!("\nLast failure: {failure}"));
    }
    if figures.pages_failed > 0 {
        out.push_str(&format!(
            "\nPages not delivered: {} (each paged the next level at once).",
            figures.pages_failed
        ));
    }
    out
}

/// Others kept changing what the event changes, attempt after attempt; nothing was changed.
pub fn changed_meanwhile() -> String {
    "This changed while you acted, several times over; nothing was changed. Look again and retry."
        .to_owned()
}

pub fn already_handled() -> String {
    "Already done: that request was handled before.".to_owned()
}

/// The database did not answer in time; nothing was changed.
pub fn database_unavailable() -> String {
    "Steward can't reach its database; try again in a minute.".to_owned()
}

/// An unexpected failure; the reference lets an operator find the full error in the log.
pub fn internal_error(reference: &str) -> String {
    format!("Something went wrong on Steward's side; nothing was changed. Reference: {reference}.")
}

pub fn unknown_button(action: &str) -> String {
    format!(
        "That button (`{action}`) is not valid any more. Run the command again for a fresh card."
    )
}

pub fn forbidden(reason: &str) -> String {
    format!("You can't do that: {reason}")
}

/// A time in the reader's zone, e.g. `Mon 23 Nov 14:05 GMT`.
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%a %d %b %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_usage_line() {
        let text = help();
        for entry in COMMANDS {
            assert!(text.contains(entry.usage), "{} missing from help", entry.usage);
        }
    }

    #[test]
    fn digits_are_grouped_in_threes_from_the_right_sign_kept_apart() {
        assert_eq!(group_digits("7"), "7");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(group_digits("1000"), "1,000");
        assert_eq!(group_digits("1234567"), "1,234,567");
        assert_eq!(group_digits("-1234"), "-1,234");
    }

    #[test]
    fn a_declared_help_entry_keeps_its_usage_and_summary() {
        crate::command_help! {
            /// An entry declared here only.
            HELP_EXAMPLE: "/example <id>" => "Show an example.";
        }
        assert_eq!(
            HELP_EXAMPLE,
            CommandHelp { usage: "/example <id>", summary: "Show an example." }
        );
    }

    #[test]
    fn local_time_uses_the_readers_zone() {
        let at = DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z").unwrap().to_utc();
        assert_eq!(local_time(at, chrono_tz::Europe::Berlin), "Wed 01 Jul 14:00 CEST");
        assert_eq!(local_time(at, chrono_tz::America::New_York), "Wed 01 Jul 08:00 EDT");
    }
}
