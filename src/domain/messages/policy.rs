//! Words of `/policy explain`: which escalation policy applies and why, who is paged at each
//! level now; which approval chain a credit gets and who may approve each level.

use rust_decimal::Decimal;

use super::escalation::clock_duration;
use super::item::person_name;
use crate::domain::duration::format_duration;
use crate::domain::identity::{Directory, Role};
use crate::domain::ids::PersonKey;
use crate::domain::money::Currency;
use crate::domain::policy::{EscalationPolicy, PolicySelector};
use crate::domain::severity::Severity;

crate::command_help! {
    HELP_POLICY: "/policy explain <account> <sev1|sev2|sev3|sev4>"
        => "Who would be paged, and when: the escalation policy that applies and why, each level's waits and who is on shift now.";
    HELP_POLICY_CREDIT: "/policy explain credit <account> <amount> <currency>"
        => "Who may approve a credit: the chain for the amount, its thresholds, and each approver's remaining authority.";
}

pub fn missing_question() -> String {
    "Say what to explain: `/policy explain <account> <severity>` or `/policy explain credit <account> <amount> <currency>`.".to_owned()
}

pub fn unknown_subcommand(word: &str) -> String {
    format!("`{word}` is not a /policy subcommand; use `explain`.")
}

pub fn escalation_title(account: &str, severity: Severity) -> String {
    format!("Escalation policy for {severity} on {account}")
}

/// Why the policy was chosen: the first in the configured order whose conditions match.
pub fn chosen_because(
    policy: &EscalationPolicy,
    selector: &PolicySelector,
    position: usize,
    severity: Severity,
    tier: &str,
    team: &str,
) -> String {
    let list =
        |items: Vec<String>| if items.is_empty() { "any".to_owned() } else { items.join(", ") };
    format!(
        "`{}` (policy {} in the configured order) is the first whose conditions match {severity}, \
         tier {tier}, team {team}: severities {}; tiers {}; teams {}.",
        policy.name,
        position + 1,
        list(selector.severities.iter().map(|s| s.to_string()).collect()),
        list(selector.tiers.clone()),
        list(selector.teams.iter().map(|t| t.to_string()).collect()),
    )
}

pub fn no_policy(severity: Severity, team: &str) -> String {
    format!(
        "No escalation policy matches {severity} for team {team}: such an escalation can't be opened."
    )
}

pub fn sla_targets(acknowledge_seconds: i64, resolve_seconds: i64, always_open: bool) -> String {
    let counted = if always_open { "around the clock" } else { "on the team's calendar" };
    format!(
        "Acknowledge within {}, resolve within {}, counted {counted}.",
        clock_duration(acknowledge_seconds, always_open),
        clock_duration(resolve_seconds, always_open)
    )
}

/// One level: its wait before the next, what it pages and who that is now.
pub fn level_line(
    number: usize,
    wait_seconds: i64,
    targets: &str,
    now_paged: &[String],
    channels: &[String],
    last: bool,
) -> String {
    let who = match (now_paged.is_empty(), channels.is_empty()) {
        (true, true) => "nobody reachable now".to_owned(),
        _ => now_paged.iter().chain(channels.iter()).cloned().collect::<Vec<_>>().join(", "),
    };
    let wait = if last {
        format!("{} to acknowledge", format_duration(chrono::Duration::seconds(wait_seconds)))
    } else {
        format!(
            "{} before the next level",
            format_duration(chrono::Duration::seconds(wait_seconds))
        )
    };
    format!("Level {number}: pages {targets} · {wait} · now: {who}")
}

pub fn repeats(repeat: u32) -> String {
    match repeat {
        0 => "After the last level nobody more is paged.".to_owned(),
        1 => "After the last level the levels are paged once more.".to_owned(),
        n => format!("After the last level the levels are paged {n} more times."),
    }
}

pub fn credit_title(account: &str, amount: Decimal, currency: &Currency) -> String {
    format!("Approval chain for {amount} {} on {account}", currency.code())
}

/// Why a level applies: always, or above a threshold in the currency.
pub fn level_applies(above: Option<Decimal>, currency: &Currency) -> String {
    match above {
        None => "always".to_owned(),
        Some(threshold) => format!("above {threshold} {}", currency.code()),
    }
}

/// What one approver could do at the authority level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// A review level: the role is enough.
    Reviewer,
    /// Within per-request and remaining monthly authority.
    Within {
        per_request: Decimal,
        remaining: Decimal,
    },
    AbovePerRequest {
        per_request: Decimal,
    },
    AboveRemaining {
        remaining: Decimal,
    },
    NoAuthority,
    /// The person asking: nobody approves their own request.
    Requester,
}

pub fn approver_line(
    directory: &Directory,
    key: &PersonKey,
    standing: &Standing,
    currency: &Currency,
) -> String {
    let name = person_name(directory, key);
    let code = currency.code();
    match standing {
        Standing::Reviewer => format!("{name}: may review"),
        Standing::Within { per_request, remaining } => {
            format!(
                "{name}: may approve (per request up to {per_request} {code}, {remaining} {code} left this month)"
            )
        }
        Standing::AbovePerRequest { per_request } => {
            format!("{name}: can't, above their per-request limit of {per_request} {code}")
        }
        Standing::AboveRemaining { remaining } => {
            format!("{name}: can't, only {remaining} {code} left of their monthly authority")
        }
        Standing::NoAuthority => format!("{name}: can't, no authority in {code}"),
        Standing::Requester => format!("{name} (you): can't approve your own request"),
    }
}

pub fn chain_level_heading(
    number: usize,
    roles: &[Role],
    applies: &str,
    authority: bool,
) -> String {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let what = if authority { "approves with authority" } else { "reviews" };
    format!("Level {number} ({applies}): {} {what}", roles.join(" or "))
}

pub fn nobody_holds_role() -> String {
    "nobody holds these roles".to_owned()
}

pub fn unfinishable(currency: &Currency) -> String {
    format!(
        "Nobody can approve this amount in {} at the authority level now: a request would \
         wait (or, with no authority in {} at all, be refused).",
        currency.code(),
        currency.code()
    )
}
