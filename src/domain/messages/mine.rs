//! Words of `/mine` and the Slack App Home: what waits on me, what is mine, my team's queue.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::item::{clock_text, count};
use super::{credit, escalation, local_time};
use crate::domain::credit::Credit;
use crate::domain::escalation::Escalation;
use crate::domain::identity::Directory;
use crate::domain::page::Listing;
use crate::domain::reply::{Button, Card};
use crate::domain::request::Request;

crate::command_help! {
    HELP_MINE: "/mine"
        => "What waits on you: approvals with their buttons, your open items (most urgent first), your team's queue.";
}

/// Approvals with buttons on the card (Slack and Discord hold 25 buttons; three each).
pub const APPROVALS_WITH_BUTTONS: usize = 5;

/// What `/mine` shows, read at one instant.
pub struct Mine<'a> {
    pub display_name: &'a str,
    /// Pending credits whose current level may be decided by me, soonest to expire first.
    pub approvals: &'a [Credit],
    /// All pending credits looked at, when the look was cut short.
    pub approvals_cut: bool,
    pub escalations: &'a Listing<Escalation>,
    pub requests: &'a Listing<Request>,
    pub team_escalations_unowned: i64,
    pub team_requests_unassigned: i64,
}

fn heading(what: &str, shown: usize, total: i64) -> String {
    if shown as i64 == total {
        format!("*{what}* ({})", count(total))
    } else {
        format!("*{what}* ({} of {})", count(shown as i64), count(total))
    }
}

fn request_line(r: &Request, zone: Tz, now: DateTime<Utc>) -> String {
    let due = match r.sla_view(now) {
        Ok(view) if view.first_response.due.is_some() && r.accepted.is_none() => {
            format!(" · respond by {}", clock_text(&view.first_response, zone))
        }
        Ok(view) => format!(" · resolve by {}", clock_text(&view.resolve, zone)),
        Err(_) => String::new(),
    };
    format!(
        "Request #{} {} {} {} · {}{due}",
        r.id,
        r.priority.as_str(),
        r.kind,
        r.account,
        r.state.as_str()
    )
}

fn approval_line(c: &Credit, directory: &Directory, zone: Tz) -> String {
    format!("{} · expires {}", credit::list_line(c, directory), local_time(c.expires_at, zone))
}

/// The card: sections in the order a person acts on them, each cut list saying so.
pub fn card(mine: &Mine<'_>, directory: &Directory, zone: Tz, now: DateTime<Utc>) -> Card {
    let mut lines = Vec::new();
    let approvals = mine.approvals.len() as i64;
    if approvals > 0 {
        lines.push(heading("Waiting on your approval", mine.approvals.len(), approvals));
        lines.extend(mine.approvals.iter().map(|c| approval_line(c, directory, zone)));
        if mine.approvals_cut {
            lines.push("More may wait: see `/credits pending`.".to_owned());
        }
    }
    let escalations = &mine.escalations;
    lines.push(heading("Your escalations", escalations.items.len(), escalations.total));
    if escalations.items.is_empty() {
        lines.push("None open.".to_owned());
    }
    lines.extend(
        escalations
            .items
            .iter()
            .map(|e| escalation::list_line(e, e.sla_view(now).ok().as_ref(), directory, now)),
    );
    if escalations.has_next() {
        lines.push("The rest: `/escalations mine page 2`".to_owned());
    }
    let requests = &mine.requests;
    lines.push(heading("Your requests", requests.items.len(), requests.total));
    if requests.items.is_empty() {
        lines.push("None open.".to_owned());
    }
    lines.extend(requests.items.iter().map(|r| request_line(r, zone, now)));
    lines.push(format!(
        "*Your team's queue*: {} unowned escalations, {} unassigned requests (`/escalations team`, `/backlog`).",
        count(mine.team_escalations_unowned),
        count(mine.team_requests_unassigned)
    ));
    let buttons: Vec<Button> = mine
        .approvals
        .iter()
        .take(APPROVALS_WITH_BUTTONS)
        .flat_map(|c| {
            credit::buttons(c)
                .into_iter()
                .map(move |b| Button { label: format!("{} #{}", b.label, c.id), ..b })
        })
        .collect();
    Card {
        title: format!("Your Steward, {}", mine.display_name),
        body: Some(lines.join("\n")),
        buttons,
        ..Card::default()
    }
}
