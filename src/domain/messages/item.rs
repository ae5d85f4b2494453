//! Words every living item's messages share: people by name, account look-ups, SLA clock
//! lines and the refusals every workflow can give. Each workflow's messages module keeps
//! its own words and calls these for the common ones.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::local_time;
use crate::domain::escalation::Resolution;
use crate::domain::identity::{Directory, Role};
use crate::domain::ids::PersonKey;
use crate::domain::item::LivingItem;
use crate::domain::page::{Listing, Page};
use crate::domain::reply::{Button, ButtonStyle, Field};
use crate::domain::sla::SlaStatus;
use crate::domain::sla_policy::ClockView;

/// What a living item's own words module starts from (`use super::item::prelude::*`): the
/// card's buttons and fields, people by name, clock lines and the shared refusals, so each
/// workflow's words name only what is its own.
pub mod prelude {
    pub use super::super::local_time;
    pub use super::{
        already_resolved, button, clock_text, not_in_state, opened_field, person_name, roles_needed,
    };
}

/// A plain button of `item`'s card that sends `verb` (its action id carries the card's
/// version, so a click on an old card is recognised as stale).
pub fn button(item: &impl LivingItem, label: &str, verb: &str, style: ButtonStyle) -> Button {
    Button::new(label, item.action_id(verb), style)
}

/// A card's field saying who opened (requested, started) the item and when, in `zone`:
/// "Opened: by Ana at 09:12".
pub fn opened_field(label: &str, who: String, at: DateTime<Utc>, zone: Tz) -> Field {
    Field::new(label, format!("by {who} at {}", local_time(at, zone)))
}

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

/// A count with thousands separators: 2,014.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn invalid_page(raw: &str) -> String {
    if raw.is_empty() {
        "Say which page, e.g. `page 2`.".to_owned()
    } else {
        format!("`{raw}` is not a page number; pages count from 1, e.g. `page 2`.")
    }
}

/// How many a list title shows: "2" when all fit, "25 of 2,014" or "26–50 of 2,014" when cut.
pub fn listed<T>(listing: &Listing<T>) -> String {
    let shown = listing.items.len() as i64;
    if shown == listing.total && listing.page == Page::FIRST {
        return count(shown);
    }
    if listing.page == Page::FIRST {
        return format!("{} of {}", count(shown), count(listing.total));
    }
    let first = listing.first_position();
    if shown == 1 {
        return format!("item {} of {}", count(first), count(listing.total));
    }
    format!("{}–{} of {}", count(first), count(first + shown - 1), count(listing.total))
}

/// The last line of a cut list: which page this is and the command for the next one.
/// `command` is the list's command without its page, e.g. `/escalations all open`.
pub fn page_footer<T>(listing: &Listing<T>, command: &str) -> Option<String> {
    if listing.pages() == 1 {
        return None;
    }
    let position = format!("Page {} of {}.", listing.page.number(), listing.pages());
    Some(if listing.has_next() {
        format!("{position} Next: `{command} page {}`", listing.page.number() + 1)
    } else {
        position
    })
}

pub fn page_past_end(page: Page, command: &str) -> String {
    format!("Page {} is past the end of the list. Start at `{command}`.", page.number())
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(2_014), "2,014");
        assert_eq!(count(-1_234_567), "-1,234,567");
    }

    #[test]
    fn a_cut_list_says_how_many_of_how_many() {
        let whole = Listing { items: vec![1, 2], total: 2, page: Page::FIRST };
        assert_eq!(listed(&whole), "2");
        assert_eq!(page_footer(&whole, "/escalations"), None);
        let first = Listing { items: vec![0; 25], total: 2_014, page: Page::FIRST };
        assert_eq!(listed(&first), "25 of 2,014");
        assert_eq!(
            page_footer(&first, "/escalations all open").unwrap(),
            "Page 1 of 81. Next: `/escalations all open page 2`"
        );
        let second = Listing { items: vec![0; 25], total: 2_014, page: Page::new(2).unwrap() };
        assert_eq!(listed(&second), "26–50 of 2,014");
    }
}
