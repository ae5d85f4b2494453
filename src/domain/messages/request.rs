//! Words for account requests: usage, triage and assignment reasons, the living card,
//! refusals, thread lines, workload and backlog views, intake endpoint errors.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::item::prelude::*;
pub use super::item::{missing_account, unknown_account};
use crate::domain::assignment::{Decision, NoAssignee, Strategy};
use crate::domain::duration::format_duration;
use crate::domain::identity::Directory;
use crate::domain::ids::PersonKey;
use crate::domain::item::LivingItem;
use crate::domain::reply::{Button, ButtonStyle, Card, Field};
use crate::domain::request::{Refusal, Request, RequestAction, RequestSla, RequestState};
use crate::domain::triage::{Priority, PrioritySource};

crate::command_help! {
    HELP_REQUEST: "/request <account> <type> <summary> [field=value …] [p1|p2|p3|p4]"
        => "Open an account request: triaged, given SLA targets and assigned to someone on shift.";
    HELP_SHOW: "/request show <id>"
        => "Show a request's card: state, assignee and why, SLA standing.";
    HELP_ASSIGN: "/assign <request-id> <person>"
        => "Assign a request to a person (supervisors).";
    HELP_HANDOFF: "/handoff <person>"
        => "Hand all your open requests to a person at shift end (one summary to them).";
    HELP_WORKLOAD: "/workload [team]"
        => "Open requests per person: count, oldest, at risk (default: your team).";
    HELP_BACKLOG: "/backlog [team]"
        => "Open requests by priority and age (default: your team).";
}

pub fn missing_type() -> String {
    "Name the request type, e.g. billing.".to_owned()
}

pub fn missing_summary() -> String {
    "Say what is needed: the summary is empty.".to_owned()
}

pub fn invalid_priority(raw: &str) -> String {
    format!("`{raw}` is not a priority. Use p1, p2, p3 or p4.")
}

pub fn missing_request_id() -> String {
    "Name the request by the number shown on its card, e.g. 42.".to_owned()
}

pub fn invalid_request_id(raw: &str) -> String {
    format!("`{raw}` is not a request id; use the number shown on the card, e.g. 42.")
}

pub fn missing_person() -> String {
    "Name the person by their key, e.g. sam.".to_owned()
}

pub fn unknown_type(raw: &str, known: &[&str]) -> String {
    format!("`{raw}` is not a request type. Known types: {}.", known.join(", "))
}

pub fn missing_fields(kind: &str, missing: &[String]) -> String {
    format!(
        "A {kind} request needs {}: add {}.",
        missing.join(", "),
        missing.iter().map(|f| format!("{f}=…")).collect::<Vec<_>>().join(" ")
    )
}

pub fn unknown_person(key: &str) -> String {
    format!("There is no person `{key}`.")
}

pub fn unknown_team(key: &str) -> String {
    format!("There is no team `{key}`.")
}

pub fn unknown_request(id: i64) -> String {
    format!("There is no request #{id}.")
}

pub fn nothing_to_hand_off() -> String {
    "You have no open requests to hand off.".to_owned()
}

pub fn handoff_to_self() -> String {
    "You can't hand off to yourself.".to_owned()
}

/// The requester's full name when they are a configured person; an intake source's requester
/// (an email, a customer id) is shown as given.
fn requester_name(directory: &Directory, r: &Request) -> String {
    match PersonKey::parse(&r.requested_by) {
        Ok(key) if directory.person(&key).is_some() => person_name(directory, &key),
        _ => r.requested_by.clone(),
    }
}

fn strategy_word(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::RoundRobin => "next in rotation",
        Strategy::LeastLoaded | Strategy::SkillMatch => "least loaded",
    }
}

/// Why someone was chosen, e.g. "least loaded of 3 on shift with skill billing: Bob, 2 open".
pub fn assignment_reason(decision: &Decision, directory: &Directory) -> String {
    let skills = match decision.skills.as_slice() {
        [] => String::new(),
        [one] => format!(" with skill {one}"),
        many => format!(" with skills {}", many.join(", ")),
    };
    format!(
        "{} of {} on shift{skills}: {}, {} open",
        strategy_word(decision.strategy),
        decision.considered,
        person_name(directory, &decision.person),
        decision.open
    )
}

pub fn manual_assignment_reason(by: &str) -> String {
    format!("assigned by {by}")
}

pub fn handoff_reason(from: &str) -> String {
    format!("handed off by {from} at shift end")
}

pub fn accepted_reason() -> String {
    "took it themselves".to_owned()
}

pub fn queued_reason(why: &NoAssignee) -> String {
    match why {
        NoAssignee::NobodyOnShift => "nobody on shift".to_owned(),
        NoAssignee::NobodyWithSkills(skills) => {
            format!("nobody on shift with skill {}", skills.join(", "))
        }
    }
}

fn priority_text(priority: Priority, source: &PrioritySource) -> String {
    let why = match source {
        PrioritySource::Explicit => "as requested".to_owned(),
        PrioritySource::Type(kind) => format!("type {kind}"),
        PrioritySource::Tier(tier) => format!("{tier} account"),
        PrioritySource::Keyword(word) => format!("mentions \"{word}\""),
        PrioritySource::Default => "default".to_owned(),
    };
    format!("{} ({why})", priority.as_str().to_uppercase())
}

pub fn opened(r: &Request, directory: &Directory) -> String {
    let to = match &r.assignee {
        Some(person) => format!("assigned to {}", person_name(directory, person)),
        None => "waiting in the team queue".to_owned(),
    };
    format!(
        "Request #{} opened for {} ({}, {}), {to}. The card is in #{}.",
        r.id,
        r.account,
        r.kind,
        r.priority.as_str().to_uppercase(),
        r.living.channel
    )
}

pub fn done(action: &RequestAction, id: i64, directory: &Directory) -> String {
    let what = match action {
        RequestAction::Assign { to, .. } => format!("assigned to {}", person_name(directory, to)),
        RequestAction::Accept => "is yours; the first-response clock has stopped".to_owned(),
        RequestAction::Reassign { to } => format!("reassigned to {}", person_name(directory, to)),
        RequestAction::Handoff { to } => format!("handed off to {}", person_name(directory, to)),
        RequestAction::NeedInfo => {
            "is waiting on the customer; the resolution clock is paused".to_owned()
        }
        RequestAction::Resume => "resumed; the resolution clock runs again".to_owned(),
        RequestAction::Resolve { .. } => "resolved".to_owned(),
        RequestAction::Reopen => "reopened".to_owned(),
    };
    format!("Request #{id} {what}.")
}

pub fn stale_card(id: i64) -> String {
    format!("Request #{id} changed since you looked; here is the current card.")
}

pub fn refusal(refusal: &Refusal, directory: &Directory, zone: Tz) -> String {
    match refusal {
        Refusal::AlreadyResolved(r) => already_resolved(r, directory, zone),
        Refusal::AlreadyAccepted(stamp) => format!(
            "Already accepted by {} at {}.",
            person_name(directory, &stamp.by),
            local_time(stamp.at, zone)
        ),
        Refusal::NotInState { action, state } => {
            not_in_state(action, "a request", state_word(*state))
        }
        Refusal::Role { action, needs } => roles_needed(action, "a request", needs),
        Refusal::NotAssignee(Some(key)) => format!(
            "{} has this request; only they or a supervisor can do that.",
            person_name(directory, key)
        ),
        Refusal::NotAssignee(None) => "Nobody has this request yet; accept it first.".to_owned(),
        Refusal::AlreadyAssignee(key) => format!("{} already has it.", person_name(directory, key)),
        Refusal::NoteRequired => "Resolving needs a resolution note.".to_owned(),
    }
}

pub fn state_word(state: RequestState) -> &'static str {
    match state {
        RequestState::Queued => "waiting in the team queue",
        RequestState::Assigned => "assigned",
        RequestState::InProgress => "in progress",
        RequestState::WaitingOnCustomer => "waiting on the customer",
        RequestState::Resolved => "resolved",
    }
}

/// The living card, with times in `zone` (the team's zone: a channel has many readers).
pub fn card(r: &Request, sla: Option<&RequestSla>, directory: &Directory, zone: Tz) -> Card {
    let account = directory
        .account(&r.account)
        .map(|a| format!("{} ({}, {})", a.key, a.name, a.tier))
        .unwrap_or_else(|| r.account.to_string());
    let state = match (&r.state, &r.resolved) {
        (RequestState::Resolved, Some(res)) => format!(
            "Resolved by {} at {}: {}{}",
            person_name(directory, &res.by),
            local_time(res.at, zone),
            res.note,
            if r.first_contact_resolution { " (first contact)" } else { "" }
        ),
        (state, _) => capitalise(state_word(*state)),
    };
    let assignee = r
        .assignee
        .as_ref()
        .map(|a| person_name(directory, a))
        .unwrap_or_else(|| "nobody yet".into());
    let mut fields = vec![
        Field::new("Account", account),
        Field::new("Type", r.kind.clone()),
        Field::new("Priority", priority_text(r.priority, &r.priority_source)),
        Field::new("State", state),
        Field::new("Assignee", assignee),
    ];
    if let Some(assignment) = r.assignment.as_ref().filter(|a| !a.reason.is_empty()) {
        fields.push(Field::new("Why", assignment.reason.clone()));
    }
    if let Some(sla) = sla {
        fields.push(Field::new("First response by", clock_text(&sla.first_response, zone)));
        fields.push(Field::new("Resolve by", clock_text(&sla.resolve, zone)));
    }
    for (key, value) in &r.fields {
        fields.push(Field::new(key.clone(), value.clone()));
    }
    fields.push(opened_field("Opened", requester_name(directory, r), r.opened_at, zone));
    Card {
        living_key: Some(r.card_key()),
        title: format!(
            "Request #{} · {} · {} · {}",
            r.id,
            r.priority.as_str().to_uppercase(),
            r.kind,
            r.account
        ),
        fields,
        body: Some(r.summary.clone()),
        context: vec![format!("source {} · version {}", r.source, r.version)],
        buttons: buttons(r),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn buttons(r: &Request) -> Vec<Button> {
    use ButtonStyle::{Default, Primary};
    let accept = button(r, "Accept", "accept", Primary);
    let reassign = button(r, "Reassign", "reassign", Default)
        .asking("Reassign", "person to take it (their key, e.g. sam)");
    let need_info = button(r, "Need info", "needinfo", Default);
    let resume = button(r, "Customer replied", "resume", Primary);
    let resolve = button(r, "Resolve", "resolve", Default).asking("Resolve", "resolution note");
    match r.state {
        RequestState::Queued | RequestState::Assigned => vec![accept, reassign, need_info, resolve],
        RequestState::InProgress => vec![reassign, need_info, resolve],
        RequestState::WaitingOnCustomer => vec![resume, reassign, resolve],
        RequestState::Resolved => vec![button(r, "Reopen", "reopen", Default)],
    }
}

/// A line in the card's thread recording a transition.
pub fn thread_line(
    action: &RequestAction,
    actor: &str,
    reason: &str,
    directory: &Directory,
) -> String {
    match action {
        RequestAction::Assign { to, .. } => {
            format!("Assigned to {} ({reason}).", person_name(directory, to))
        }
        RequestAction::Accept => format!("{actor} accepted it."),
        RequestAction::Reassign { to } => {
            format!("{actor} reassigned it to {}.", person_name(directory, to))
        }
        RequestAction::Handoff { to } => {
            format!("{actor} handed it off to {} at shift end.", person_name(directory, to))
        }
        RequestAction::NeedInfo => {
            format!("{actor}: needs information from the customer (resolution clock paused).")
        }
        RequestAction::Resume => {
            format!("{actor}: the customer replied (resolution clock running).")
        }
        RequestAction::Resolve { note } => format!("{actor} resolved it: {note}"),
        RequestAction::Reopen => format!("{actor} reopened it."),
    }
}

pub fn queued_line(why: &str) -> String {
    format!("Waiting in the team queue: {why}. Steward will try again.")
}

/// The direct message a person gets when a request becomes theirs.
pub fn assigned_to_you(r: &Request, reason: &str) -> String {
    format!(
        "Request #{} ({}, {}, {}) is yours: {}. Why: {reason}. Accept it on its card.",
        r.id,
        r.account,
        r.kind,
        r.priority.as_str().to_uppercase(),
        r.summary
    )
}

/// The direct message supervisors get when a request cannot be assigned.
pub fn queued_for_supervisor(r: &Request, why: &str) -> String {
    format!(
        "Request #{} ({}, {}, {}) waits in the team queue: {why}. Assign it with /assign {} <person>.",
        r.id,
        r.account,
        r.kind,
        r.priority.as_str().to_uppercase(),
        r.id
    )
}

/// The one summary the receiver of a hand-off gets.
pub fn handoff_summary(from: &str, requests: &[Request]) -> String {
    let mut out = format!("{from} handed {} to you:\n", open_requests(requests.len()));
    for r in requests {
        out.push_str(&format!(
            "  #{} {} {} {} · {} — {}\n",
            r.id,
            r.priority.as_str().to_uppercase(),
            r.kind,
            r.account,
            state_word(r.state),
            r.summary
        ));
    }
    out
}

pub fn handed_off(count: usize, to: &str) -> String {
    format!("Handed {} to {to}; they got one summary message.", open_requests(count))
}

fn open_requests(count: usize) -> String {
    super::count_of(count, "open request", "open requests")
}

/// One person's row of `/workload`.
pub struct WorkloadRow {
    pub person: String,
    pub open: i64,
    pub oldest: Option<DateTime<Utc>>,
    pub at_risk: i64,
}

pub fn workload(team: &str, rows: &[WorkloadRow], queued: i64, now: DateTime<Utc>) -> Card {
    let mut lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let oldest = row
                .oldest
                .map(|at| format!("oldest {}", format_duration(now - at)))
                .unwrap_or_else(|| "—".to_owned());
            format!("{}: {} open · {oldest} · {} at risk", row.person, row.open, row.at_risk)
        })
        .collect();
    lines.push(format!("Team queue: {queued} waiting"));
    Card { title: format!("Workload · {team}"), body: Some(lines.join("\n")), ..Card::default() }
}

/// The age buckets of `/backlog`, youngest first.
pub const AGE_BUCKETS: [&str; 4] = ["< 1 day", "1–3 days", "3–7 days", "> 7 days"];

pub fn backlog(team: &str, rows: &[(Priority, [i64; 4])]) -> Card {
    let mut lines = vec![format!("      {}", AGE_BUCKETS.join(" | "))];
    let mut total = 0;
    for (priority, counts) in rows {
        total += counts.iter().sum::<i64>();
        let cells: Vec<String> = counts
            .iter()
            .zip(AGE_BUCKETS)
            .map(|(n, bucket)| format!("{n:>width$}", width = bucket.chars().count()))
            .collect();
        lines.push(format!("{:<4}  {}", priority.as_str().to_uppercase(), cells.join(" | ")));
    }
    Card {
        title: format!("Backlog · {team}: {total} open"),
        body: Some(lines.join("\n")),
        ..Card::default()
    }
}

/// Errors of the intake endpoint, in its JSON `error` field.
pub fn intake_unauthorized() -> String {
    "signature missing, invalid or outside the allowed time window".to_owned()
}

pub fn intake_malformed(problem: &str) -> String {
    format!("the body is not a valid request: {problem}")
}

/// A second delivery under a known `(source, external_id)` whose payload differs.
pub fn intake_conflict(source: &str, external_id: &str, id: i64) -> String {
    format!(
        "`{external_id}` from `{source}` was delivered before as request #{id} with a different payload; nothing was changed (use a new external_id for a new request)"
    )
}

pub fn intake_missing(field: &str) -> String {
    format!("`{field}` is required and must not be empty")
}
