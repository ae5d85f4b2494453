//! Words of access review campaigns: help entries, refusals, the reviewer's list card,
//! thread lines and direct messages.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::item::person_name;
use super::local_time;
use crate::domain::access::review::{Refusal, ReviewAction, ReviewEntry, ReviewList, ReviewState};
use crate::domain::identity::Directory;
use crate::domain::item::LivingItem;
use crate::domain::reply::{Button, ButtonStyle, Card, Field};

crate::command_help! {
    /// The catalogue's one entry for both (Discord registers `/access review` once, as one
    /// subcommand with free text); the usage errors name the exact form.
    HELP_REVIEW: "/access review start <system|all> [due=YYYY-MM-DD] | close <campaign>"
        => "Start an access review (each reviewer certifies or revokes their list), or close one.";
    HELP_START: "/access review start <system|all> [due=YYYY-MM-DD]"
        => "Start an access review: each reviewer gets a list to certify or revoke.";
    HELP_CLOSE: "/access review close <campaign>"
        => "Close a review; what nobody reviewed is flagged or revoked (configured policy).";
}

pub fn missing_scope() -> String {
    "Name the system to review, or all.".to_owned()
}

pub fn bad_due(raw: &str) -> String {
    format!("`{raw}` is not a due date: write due=YYYY-MM-DD.")
}

pub fn unknown_subcommand(raw: &str) -> String {
    format!("`{raw}` is not an /access review command: use start or close.")
}

pub fn forbidden() -> String {
    "only supervisors and admins start and close access reviews.".to_owned()
}

pub fn due_in_past(due: NaiveDate) -> String {
    format!("The due date {due} has passed; give a later one.")
}

pub fn nothing_to_review(scope: &str) -> String {
    format!("There is no current grant to review in {scope}.")
}

pub fn unknown_campaign(id: i64) -> String {
    format!("There is no access review campaign #{id}.")
}

pub fn unknown_list(id: i64) -> String {
    format!("There is no review list #{id}.")
}

pub fn started(campaign: i64, lists: usize, grants: usize) -> String {
    format!(
        "Access review #{campaign} started: {} in {}.",
        super::count_of(grants, "grant", "grants"),
        super::count_of(lists, "reviewer list", "reviewer lists")
    )
}

pub fn closed(campaign: i64, lists: usize) -> String {
    format!(
        "Access review #{campaign} closed ({}).",
        super::count_of(lists, "open list", "open lists")
    )
}

pub fn refusal(refusal: &Refusal, l: &ReviewList, directory: &Directory) -> String {
    match refusal {
        Refusal::NotReviewer => format!(
            "This list is {}'s to review (and their supervisor's once it is overdue).",
            person_name(directory, &l.reviewer)
        ),
        Refusal::OwnAccess { access } => {
            format!("Access #{access} is your own: someone else certifies it.")
        }
        Refusal::AlreadyDecided { access } => format!("Access #{access} was already reviewed."),
        Refusal::UnknownEntry { access } => format!("Access #{access} is not on this list."),
        Refusal::NotOpen(state) => format!("Review list #{} is {}.", l.id, state.as_str()),
        Refusal::NothingToCertify => {
            "Nothing shown is yours to certify: your own grants stay for someone else.".to_owned()
        }
    }
}

pub fn stale_card(l: &ReviewList) -> String {
    format!("Review list #{} changed since you looked; here it is now.", l.id)
}

pub fn done(action: &ReviewAction, l: &ReviewList) -> String {
    match action {
        ReviewAction::Certify { access } => format!("Access #{access} certified."),
        ReviewAction::Revoke { access } => format!("Access #{access} revoked."),
        ReviewAction::CertifyShown => {
            format!("Review list #{}: the grants shown are certified.", l.id)
        }
    }
}

fn entry_line(e: &ReviewEntry, directory: &Directory, zone: Tz) -> String {
    let until =
        e.expires_at.map(|at| format!(" until {}", local_time(at, zone))).unwrap_or_default();
    let decided = match &e.decision {
        Some(d) => format!(
            " — {} by {} at {}",
            d.verdict.as_str(),
            crate::domain::ids::PersonKey::parse(&d.by)
                .map(|k| person_name(directory, &k))
                .unwrap_or_else(|_| "Steward".into()),
            local_time(d.at, zone)
        ),
        None => String::new(),
    };
    format!(
        "#{} {} {} · {}{until}{decided}",
        e.access,
        e.system,
        e.role,
        person_name(directory, &e.holder)
    )
}

/// The reviewer's living list card; `shown` entries get buttons.
pub fn card(l: &ReviewList, shown: usize, directory: &Directory, zone: Tz) -> Card {
    let total = l.entries.len();
    let undecided = l.undecided().count();
    let with_buttons = l.shown(shown);
    let state = match l.state {
        ReviewState::Open => format!(
            "Open: {undecided} of {total} left · due {} · showing {} of {undecided}",
            local_time(l.due_at, zone),
            with_buttons.len()
        ),
        ReviewState::Done => "Done: every grant reviewed".to_owned(),
        ReviewState::Closed => "Closed".to_owned(),
    };
    let mut fields = vec![
        Field::new("Reviewer", person_name(directory, &l.reviewer)),
        Field::new("Scope", l.scope.clone()),
        Field::new("State", state),
    ];
    if !l.escalated_to.is_empty() {
        let names: Vec<String> = l.escalated_to.iter().map(|k| person_name(directory, k)).collect();
        fields.push(Field::new("Overdue, escalated to", names.join(", ")));
    }
    let lines: Vec<String> = l.entries.iter().map(|e| entry_line(e, directory, zone)).collect();
    fields.push(Field::new("Grants", lines.join("\n")));
    let mut buttons = Vec::new();
    if l.state == ReviewState::Open {
        let button = |label: String, verb: String, style| Button {
            label,
            action: l.action_id(&verb),
            style,
            confirm: None,
            prompt: None,
        };
        for e in &with_buttons {
            buttons.push(button(
                format!("Certify #{}", e.access),
                format!("certify.{}", e.access),
                ButtonStyle::Primary,
            ));
            buttons.push(button(
                format!("Revoke #{}", e.access),
                format!("revoke.{}", e.access),
                ButtonStyle::Danger,
            ));
        }
        if !with_buttons.is_empty() {
            buttons.push(button(
                format!("Certify all shown ({})", with_buttons.len()),
                "certify-shown".into(),
                ButtonStyle::Default,
            ));
        }
    }
    Card {
        living_key: Some(l.card_key()),
        title: format!(
            "Access review #{} · {} · list #{}",
            l.campaign,
            person_name(directory, &l.reviewer),
            l.id
        ),
        fields,
        body: None,
        context: vec![format!("review list #{} · version {}", l.id, l.version)],
        buttons,
    }
}

pub fn decision_line(actor: &str, action: &ReviewAction) -> String {
    match action {
        ReviewAction::Certify { access } => format!("{actor} certified access #{access}."),
        ReviewAction::Revoke { access } => format!("{actor} revoked access #{access}."),
        ReviewAction::CertifyShown => format!("{actor} certified every grant shown."),
    }
}

pub fn revoked_by_review(campaign: i64) -> String {
    format!("revoked in access review #{campaign}")
}

pub fn closed_line(policy: &str) -> String {
    format!("The review was closed; what was left is {policy}.")
}

pub fn list_assigned(l: &ReviewList, due: DateTime<Utc>, zone: Tz) -> String {
    format!(
        "Access review #{}: {} to review by {}. Your list (#{}) is in #{}.",
        l.campaign,
        super::count_of(l.entries.len(), "grant", "grants"),
        local_time(due, zone),
        l.id,
        l.living.channel
    )
}

pub fn reminder(l: &ReviewList, zone: Tz) -> String {
    format!(
        "Reminder: access review #{} — {} left on your list #{}, due {}.",
        l.campaign,
        super::count_of(l.undecided().count(), "grant", "grants"),
        l.id,
        local_time(l.due_at, zone)
    )
}

pub fn overdue(l: &ReviewList, reviewer: &str) -> String {
    format!(
        "Access review #{} is overdue: {reviewer} has {} left on list #{}. You may review them too.",
        l.campaign,
        super::count_of(l.undecided().count(), "grant", "grants"),
        l.id
    )
}

pub fn overdue_line(names: &str) -> String {
    format!("Overdue: escalated to {names}.")
}
