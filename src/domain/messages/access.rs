//! Words of access requests and grants: help entries, refusals, the living card, thread
//! lines, direct messages and lists.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::item::{opened_field, person_name};
use super::local_time;
use crate::domain::access::{
    AccessRequest, AccessState, AccessSystem, Change, Decision, Delivery, DeliveryStatus, Refusal,
    Verdict,
};
use crate::domain::duration::format_duration;
use crate::domain::identity::Directory;
use crate::domain::item::{LivingItem, SYSTEM_ACTOR};
use crate::domain::reply::{Button, ButtonStyle, Card, Field, Prompt};

crate::command_help! {
    HELP_REQUEST: "/access request <system> <role> <duration> <reason>"
        => "Ask for time-bound access to a system; its owners and your supervisor decide.";
    HELP_MINE: "/access mine"
        => "Your access requests and current grants.";
    HELP_WHO: "/access who <system>"
        => "Who holds access to a system now, and until when.";
    HELP_REVOKE: "/access revoke <access-id> <reason>"
        => "End a grant now (system owners and admins).";
    HELP_EXTEND: "/access extend <access-id> <duration> <reason>"
        => "Ask to keep your grant longer; it goes through approval again.";
    HELP_SHOW: "/access show <access-id>"
        => "Show an access card again.";
}

pub fn missing_subcommand() -> String {
    "Say what to do: request, mine, who, revoke, extend or show.".to_owned()
}

pub fn unknown_subcommand(raw: &str) -> String {
    format!("`{raw}` is not an /access command: use request, mine, who, revoke, extend or show.")
}

pub fn missing_system() -> String {
    "Name the system, e.g. billing-admin.".to_owned()
}

pub fn missing_role() -> String {
    "Name the role, e.g. viewer.".to_owned()
}

pub fn missing_duration() -> String {
    "Give the duration, e.g. 7d or 8h.".to_owned()
}

pub fn missing_reason() -> String {
    "Give a reason: the owners decide on it.".to_owned()
}

pub fn missing_id() -> String {
    "Give the access number, e.g. 4.".to_owned()
}

pub fn invalid_id(raw: &str) -> String {
    format!("`{raw}` is not an access number.")
}

pub fn unknown_system(raw: &str, known: &[&str]) -> String {
    format!("There is no system `{raw}`. Systems: {}.", known.join(", "))
}

pub fn unknown_role(system: &AccessSystem, raw: &str) -> String {
    format!("{} has no role `{raw}`. Roles: {}.", system.key, system.roles.join(", "))
}

pub fn too_long(system: &AccessSystem, asked: Duration) -> String {
    format!(
        "{} grants last at most {}; {} is longer. Ask for less and extend later if needed.",
        system.key,
        format_duration(system.max_duration),
        format_duration(asked)
    )
}

pub fn no_deciders(system: &AccessSystem) -> String {
    format!(
        "Nobody but you could decide access to {}: it has no other owner and your team has no \
         supervisor. Ask an admin to configure its owners.",
        system.key
    )
}

pub fn imported_reason() -> String {
    "imported with steward access import".to_owned()
}

pub fn import_bad_header(header: &str) -> String {
    format!("The file must start with the header line `{header}`.")
}

pub fn import_bad_row(line: usize, fields: usize) -> String {
    format!(
        "Line {line}: expected 5 fields (person, system, role, granted_at, expires_at), got {fields} fields."
    )
}

pub fn import_bad_time(line: usize, raw: &str) -> String {
    format!("Line {line}: `{raw}` is not an RFC 3339 time such as 2026-01-05T09:00:00Z.")
}

pub fn import_unknown_person(line: usize, raw: &str) -> String {
    format!("Line {line}: there is no person `{raw}`.")
}

pub fn import_unknown_system(line: usize, raw: &str, known: &[&str]) -> String {
    format!("Line {line}: {}", unknown_system(raw, known))
}

pub fn import_unknown_role(line: usize, system: &AccessSystem, raw: &str) -> String {
    format!("Line {line}: {}", unknown_role(system, raw))
}

pub fn import_ends_before_start(line: usize) -> String {
    format!("Line {line}: expires_at is not after granted_at.")
}

pub fn imported(count: usize) -> String {
    format!("Imported {}.", super::count_of(count, "grant", "grants"))
}

pub fn unknown_access(id: i64) -> String {
    format!("There is no access request #{id}.")
}

pub fn revoke_forbidden(system: &str) -> String {
    format!("only owners of {system} and admins revoke its grants.")
}

pub fn refusal(refusal: &Refusal, directory: &Directory, a: &AccessRequest) -> String {
    match refusal {
        Refusal::OwnAccess => {
            "You can't decide your own access: someone else among the owners or your \
             supervisor must."
                .to_owned()
        }
        Refusal::NotDecider => format!(
            "Only owners of {} and {}'s supervisor decide this request.",
            a.system,
            person_name(directory, &a.holder)
        ),
        Refusal::AlreadyDecided => {
            "You already decided this; a second approval must come from someone else.".to_owned()
        }
        Refusal::NothingPending(state) => {
            format!("Access #{} waits for no decision: it is {}.", a.id, state.as_str())
        }
        Refusal::NeedsReason => "That needs a reason.".to_owned(),
        Refusal::NoTask => format!("Access #{} has no open provisioning task.", a.id),
        Refusal::NotOwner => format!("Only owners of {} mark its tasks done.", a.system),
        Refusal::NotHolder => {
            format!(
                "Only the holder, {}, asks to extend access #{}.",
                person_name(directory, &a.holder),
                a.id
            )
        }
        Refusal::NotActive(state) => {
            format!("Access #{} is not an active grant: it is {}.", a.id, state.as_str())
        }
        Refusal::ExtensionPending => {
            format!("Access #{} already has an extension waiting for approval.", a.id)
        }
        Refusal::TooLong { max } => format!(
            "{} grants last at most {} from now; that extension goes beyond it.",
            a.system,
            format_duration(*max)
        ),
    }
}

fn what(a: &AccessRequest) -> String {
    format!("{} {}", a.system, a.role)
}

pub fn requested(a: &AccessRequest) -> String {
    format!(
        "Access #{} requested: {} for {}. The card is in #{}.",
        a.id,
        what(a),
        format_duration(a.duration()),
        a.living.channel
    )
}

pub fn extension_requested(a: &AccessRequest) -> String {
    format!("Access #{}: your extension waits for approval.", a.id)
}

pub fn revoked(a: &AccessRequest) -> String {
    format!("Access #{} revoked.", a.id)
}

pub fn done(action_verb: &str, a: &AccessRequest) -> String {
    match (action_verb, a.state) {
        ("approve", AccessState::Active) if a.extension.is_none() => {
            format!("Access #{} approved.", a.id)
        }
        ("approve", _) => format!("Access #{}: your approval is recorded.", a.id),
        ("deny", _) => format!("Access #{} denied.", a.id),
        ("ask", _) => format!("Access #{} — your question was sent to the requester.", a.id),
        _ => format!("Access #{}: task marked done.", a.id),
    }
}

pub fn stale_card(a: &AccessRequest) -> String {
    format!("Access #{} changed since you looked; here it is now.", a.id)
}

fn decision_text(d: &Decision, directory: &Directory, zone: Tz) -> String {
    let verdict = match d.verdict {
        Verdict::Approve => "approved",
        Verdict::Deny => "denied",
    };
    let mut out =
        format!("{verdict} by {} at {}", person_name(directory, &d.by), local_time(d.at, zone));
    if let Some(reason) = &d.reason {
        out.push_str(&format!(": {reason}"));
    }
    out
}

fn actor_name(directory: &Directory, raw: &str) -> String {
    if raw == SYSTEM_ACTOR {
        return "Steward".to_owned();
    }
    crate::domain::ids::PersonKey::parse(raw)
        .map(|key| person_name(directory, &key))
        .unwrap_or_else(|_| raw.to_owned())
}

fn state_text(a: &AccessRequest, directory: &Directory, zone: Tz) -> String {
    let waiting = || {
        let names: Vec<String> =
            a.waiting_on().into_iter().map(|k| person_name(directory, k)).collect();
        let got = a.open_decisions().len();
        format!(
            "approval {} of {} from one of: {}",
            got + 1,
            a.approvals_needed,
            if names.is_empty() { "nobody".to_owned() } else { names.join(", ") }
        )
    };
    let closed = || {
        a.closed
            .as_ref()
            .map(|c| {
                let mut out =
                    format!(" by {} at {}", actor_name(directory, &c.by), local_time(c.at, zone));
                if let Some(reason) = &c.reason {
                    out.push_str(&format!(": {reason}"));
                }
                out
            })
            .unwrap_or_default()
    };
    match a.state {
        AccessState::Pending => format!("Pending: {}", waiting()),
        AccessState::Active => match a.grant {
            Some(grant) => format!("Active until {}", local_time(grant.expires_at, zone)),
            None => "Active".to_owned(),
        },
        AccessState::Denied => format!("Denied{}", closed()),
        AccessState::Expired => format!("Expired{}", closed()),
        AccessState::Revoked => format!("Revoked{}", closed()),
    }
}

fn change_word(change: Change) -> &'static str {
    match change {
        Change::Provision => "Grant",
        Change::Extend => "Extension",
        Change::Revoke => "Revocation",
    }
}

/// One provisioning step as the card shows it.
pub fn delivery_text(d: &Delivery, directory: &Directory, zone: Tz) -> String {
    let status = match &d.status {
        DeliveryStatus::Sending => "webhook sent, waiting for the system's answer".to_owned(),
        DeliveryStatus::Task { due } => {
            format!("manual task for an owner, due {}", local_time(*due, zone))
        }
        DeliveryStatus::Done { at, by } if by == SYSTEM_ACTOR => {
            format!("done: the system confirmed at {}", local_time(*at, zone))
        }
        DeliveryStatus::Done { at, by } => {
            format!("done by {} at {}", actor_name(directory, by), local_time(*at, zone))
        }
        DeliveryStatus::Failed { at, reason } => {
            format!("FAILED at {}: {reason}", local_time(*at, zone))
        }
    };
    format!("{}: {status}", change_word(d.change))
}

/// The living card, times in `zone` (the team's).
pub fn card(a: &AccessRequest, directory: &Directory, zone: Tz) -> Card {
    let mut fields = vec![
        Field::new("System", a.system.clone()),
        Field::new("Role", a.role.clone()),
        Field::new("For", person_name(directory, &a.holder)),
        Field::new("Duration", format_duration(a.duration())),
        Field::new("Reason", a.reason.clone()),
        opened_field("Requested", person_name(directory, &a.holder), a.requested_at, zone),
        Field::new("State", state_text(a, directory, zone)),
    ];
    if !a.decisions.is_empty() {
        let lines: Vec<String> =
            a.decisions.iter().map(|d| decision_text(d, directory, zone)).collect();
        fields.push(Field::new("Decisions", lines.join("\n")));
    }
    if let Some(grant) = a.grant {
        fields.push(Field::new(
            "Grant",
            format!(
                "{} → {}",
                local_time(grant.starts_at, zone),
                local_time(grant.expires_at, zone)
            ),
        ));
    }
    if let Some(extension) = &a.extension {
        fields.push(Field::new(
            "Extension waiting",
            format!(
                "{} more — {}; approval {} of {}",
                format_duration(Duration::seconds(extension.seconds)),
                extension.reason,
                extension.decisions.len() + 1,
                a.approvals_needed
            ),
        ));
    }
    if !a.deliveries.is_empty() {
        let lines: Vec<String> =
            a.deliveries.iter().map(|d| delivery_text(d, directory, zone)).collect();
        fields.push(Field::new("Provisioning", lines.join("\n")));
    }
    Card {
        living_key: Some(a.card_key()),
        title: format!("Access #{} · {} · {}", a.id, what(a), person_name(directory, &a.holder)),
        fields,
        body: None,
        context: vec![format!("access #{} · version {}", a.id, a.version)],
        buttons: buttons(a),
    }
}

fn buttons(a: &AccessRequest) -> Vec<Button> {
    let button = |label: &str, verb: &str, style| Button {
        label: label.to_owned(),
        action: a.action_id(verb),
        style,
        confirm: None,
        prompt: None,
    };
    let prompt = |title: &str, label: &str| Prompt {
        title: title.to_owned(),
        label: label.to_owned(),
        required: true,
        choices: Vec::new(),
    };
    let mut buttons = Vec::new();
    if a.awaits_decision() {
        buttons.push(button("Approve", "approve", ButtonStyle::Primary));
        buttons.push(Button {
            prompt: Some(prompt("Deny", "reason for denying")),
            ..button("Deny", "deny", ButtonStyle::Danger)
        });
        buttons.push(Button {
            prompt: Some(prompt("Ask", "question for the requester")),
            ..button("Ask", "ask", ButtonStyle::Default)
        });
    }
    if let Some(task) = a.open_task() {
        let label = match task.change {
            Change::Revoke => "Access removed",
            Change::Provision | Change::Extend => "Access set up",
        };
        buttons.push(button(label, "done", ButtonStyle::Default));
    }
    buttons
}

/// The thread line of a click.
pub fn decision_line(verb: &str, actor: &str, a: &AccessRequest, text: &str) -> String {
    match verb {
        "approve" if a.awaits_decision() => {
            format!("{actor} approved; one more approval is needed.")
        }
        "approve" => match a.grant {
            Some(grant) => format!(
                "{actor} approved: {} is granted until {}.",
                what(a),
                grant.expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
            None => format!("{actor} approved."),
        },
        "deny" => format!("{actor} denied: {text}"),
        "ask" => format!("{actor} asked the requester: {text}"),
        _ => format!("{actor} marked the task done."),
    }
}

pub fn extension_line(actor: &str, by: Duration, reason: &str) -> String {
    format!("{actor} asked to extend by {}: {reason}", format_duration(by))
}

pub fn revoked_line(actor: &str, reason: &str) -> String {
    format!("{actor} revoked the grant: {reason}")
}

pub fn expired_line() -> String {
    "The grant expired; its revocation runs now.".to_owned()
}

pub fn delivery_line(d: &Delivery, directory: &Directory, zone: Tz) -> String {
    delivery_text(d, directory, zone)
}

/// The DM asking a decider.
pub fn decision_needed(a: &AccessRequest, holder: &str) -> String {
    let (subject, length, reason) = match &a.extension {
        Some(e) => ("an extension of access", Duration::seconds(e.seconds), e.reason.as_str()),
        None => ("access", a.duration(), a.reason.as_str()),
    };
    format!(
        "{holder} asks for {subject} #{}: {} for {} — {reason}. Decide on the card in #{}.",
        a.id,
        what(a),
        format_duration(length),
        a.living.channel
    )
}

/// The DM to the owners when a manual task opens.
pub fn task_assigned(
    a: &AccessRequest,
    task: &Delivery,
    directory: &Directory,
    zone: Tz,
) -> String {
    format!(
        "Access #{} ({} for {}) needs a hand: {}. Press the button on the card in #{} when done.",
        a.id,
        what(a),
        person_name(directory, &a.holder),
        delivery_text(task, directory, zone),
        a.living.channel
    )
}

/// The DM telling the holder what happened.
pub fn holder_update(a: &AccessRequest, line: &str) -> String {
    format!("Access #{} ({}): {line}", a.id, what(a))
}

/// The reminder before expiry.
pub fn expiry_reminder(
    a: &AccessRequest,
    expires_at: DateTime<Utc>,
    left: Duration,
    zone: Tz,
) -> String {
    format!(
        "Your {} access (#{}) expires in {}, at {}. To keep it: /access extend {} <duration> <reason>",
        what(a),
        a.id,
        format_duration(left),
        local_time(expires_at, zone),
        a.id
    )
}

pub fn list_title(what: &str, count: usize) -> String {
    format!("Access · {what} · {count}")
}

pub fn empty_list() -> String {
    "Nothing to show.".to_owned()
}

pub fn list_line(a: &AccessRequest, directory: &Directory, zone: Tz) -> String {
    let until = match (a.state, a.grant) {
        (AccessState::Active, Some(grant)) => {
            format!(" until {}", local_time(grant.expires_at, zone))
        }
        _ => String::new(),
    };
    format!(
        "#{} {} · {} · {}{until}",
        a.id,
        what(a),
        person_name(directory, &a.holder),
        a.state.as_str()
    )
}

fn task_due(task: &Delivery, zone: Tz) -> String {
    match task.status {
        DeliveryStatus::Task { due } => local_time(due, zone),
        _ => String::new(),
    }
}

/// The DM to a manual task's owner at its due time.
pub fn task_overdue(a: &AccessRequest, task: &Delivery, zone: Tz) -> String {
    let due = task_due(task, zone);
    format!(
        "Access #{} ({}): the {} task was due {due} and is still open. Press the button on the \
         card in #{} when it is done.",
        a.id,
        what(a),
        change_word(task.change).to_lowercase(),
        a.living.channel
    )
}

/// The DM to the other owners and the owner's supervisors when a task stays overdue.
pub fn task_escalated(a: &AccessRequest, task: &Delivery, owner: &str, zone: Tz) -> String {
    format!(
        "Access #{} ({}): {owner}'s {} task was due {} and is still open. Owners may mark it \
         done on the card in #{}.",
        a.id,
        what(a),
        change_word(task.change).to_lowercase(),
        task_due(task, zone),
        a.living.channel
    )
}

/// The card's thread line of a task alert.
pub fn task_overdue_line(names: &str) -> String {
    format!("The manual task is overdue: {names} told.")
}
