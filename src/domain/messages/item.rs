//! Words every living item's messages share: people by name, account look-ups, SLA clock
//! lines and the refusals every workflow can give. Each workflow's messages module keeps
//! its own words and calls these for the common ones.

use chrono_tz::Tz;

use super::local_time;
use crate::domain::escalation::Resolution;
use crate::domain::identity::{Directory, Role};
use crate::domain::ids::PersonKey;
use crate::domain::sla::SlaStatus;
use crate::domain::sla_policy::ClockView;

/// A person's display name (the key for someone the directory does not know).
pub fn person_name(directory: &Directory, key: &PersonKey) -> String {
    directory.person(key).map(|p| p.display_name.clone()).unwrap_or_else(|| key.to_string())
}

pub fn missing_account() -> String {
    "Name the account, e.g. ACME-1042.".to_owned()
}

pub fn unknown_account(key: &str) -> String {
    format!("There is no account `{key}`. Check the key (e.g. ACME-1042).")
}

/// A clock on a card: its due time in `zone` and its standing.
pub fn clock_text(view: &ClockView, zone: Tz) -> String {
    let status = match view.status {
        SlaStatus::OnTrack => "on track",
        SlaStatus::AtRisk => "AT RISK",
        SlaStatus::Breached => "BREACHED",
        SlaStatus::Met => "met",
        SlaStatus::Missed => "missed",
        SlaStatus::Paused => return "paused (waiting on customer)".to_owned(),
    };
    match view.due {
        Some(due) => format!("{} · {status}", local_time(due, zone)),
        None => status.to_owned(),
    }
}

/// `the_item` is the item with its article: "an escalation", "a request".
pub fn not_in_state(action: &str, the_item: &str, state: &str) -> String {
    format!("You can't {action} {the_item} that is {state}.")
}

pub fn roles_needed(action: &str, the_item: &str, needs: &[Role]) -> String {
    let roles: Vec<&str> = needs.iter().map(|r| r.as_str()).collect();
    format!("To {action} {the_item} you need one of these roles: {}.", roles.join(", "))
}

pub fn already_resolved(resolution: &Resolution, directory: &Directory, zone: Tz) -> String {
    format!(
        "Already resolved by {} at {}. Reopen it first if it needs more work.",
        person_name(directory, &resolution.by),
        local_time(resolution.at, zone)
    )
}
