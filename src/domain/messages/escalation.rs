//! Words for escalations: usage, the living card, refusals, pages, thread lines, lists.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::item::prelude::*;
pub use super::item::{missing_account, unknown_account};
use crate::domain::duration::format_duration;
use crate::domain::escalation::{Escalation, EscalationAction, EscalationState, Refusal, SlaView};
use crate::domain::identity::Directory;
use crate::domain::item::LivingItem;
use crate::domain::reply::{Button, ButtonStyle, Card, Choice, Confirm, Field};
use crate::domain::sla::{Explanation, SlaStatus};

crate::command_help! {
    HELP_ESCALATE: "/escalate <account> <sev1|sev2|sev3|sev4> <summary>"
        => "Open an escalation: pages the on-call policy and starts the SLA clocks.";
    HELP_ESCALATIONS: "/escalations [mine|team|all] [open|at-risk|breached] [page N]"
        => "List escalations, most urgent first, with their ages and owners (default: team open).";
    HELP_SLA: "/sla <escalation-id>"
        => "Explain an escalation's due times: calendar, hours counted, pauses.";
    HELP_SHOW: "/escalation show <escalation-id>"
        => "Show an escalation's card again, privately, with its buttons.";
}

pub fn unknown_escalation_subcommand(word: &str) -> String {
    if word.is_empty() {
        "Say what to do with the escalation: show.".to_owned()
    } else {
        format!("`{word}` is not something /escalation does; it can show an escalation's card.")
    }
}

pub fn missing_severity() -> String {
    "Give the severity after the account: sev1, sev2, sev3 or sev4.".to_owned()
}

pub fn missing_escalation_id() -> String {
    "Name the escalation by the number shown on its card, e.g. 42.".to_owned()
}

pub fn unknown_severity(raw: &str) -> String {
    format!("`{raw}` is not a severity. Use sev1, sev2, sev3 or sev4.")
}

pub fn missing_summary() -> String {
    "Say what is wrong: the summary is empty.".to_owned()
}

pub fn invalid_escalation_id(raw: &str) -> String {
    format!("`{raw}` is not an escalation id; use the number shown on the card, e.g. 42.")
}

pub fn unknown_escalation(id: i64) -> String {
    format!("There is no escalation #{id}.")
}

pub fn unknown_person_key(key: &str) -> String {
    format!("There is no person `{key}`.")
}

/// A reassignment to someone who may not own the escalation (see `escalation::may_own`).
pub fn may_not_own(name: &str, team: &crate::domain::ids::TeamKey) -> String {
    format!("{name} cannot own it: only agents and supervisors of {team} can.")
}

pub fn invalid_list_filter(raw: &str) -> String {
    format!("`{raw}` is not a filter: use mine, team or all, and open, at-risk or breached.")
}

pub fn no_policy(severity: &str, team: &str) -> String {
    format!("No escalation policy covers {severity} for team {team}; ask an admin to add one.")
}

pub fn opened(escalation: &Escalation) -> String {
    format!(
        "Escalation #{} opened for {} ({}). The card is in #{}.",
        escalation.id, escalation.account, escalation.severity, escalation.living.channel
    )
}

pub fn done(action: &EscalationAction, id: i64) -> String {
    let what = match action {
        EscalationAction::Acknowledge => "acknowledged",
        EscalationAction::Claim => "is yours now",
        EscalationAction::Reassign { .. } => "reassigned",
        EscalationAction::EscalateNow => "escalated to the next level",
        EscalationAction::WaitOnCustomer => {
            "is waiting on the customer; the resolve clock is paused"
        }
        EscalationAction::Resume => "resumed; the resolve clock runs again",
        EscalationAction::Resolve { .. } => "resolved",
        EscalationAction::Reopen => "reopened",
        EscalationAction::OpenWarRoom => "has its war room",
    };
    format!("Escalation #{id} {what}.")
}

pub fn stale_card(id: i64) -> String {
    format!("Escalation #{id} changed since you looked; here is the current card.")
}

pub fn refusal(refusal: &Refusal, directory: &Directory, zone: Tz) -> String {
    match refusal {
        Refusal::AlreadyAcknowledged(stamp) => format!(
            "Already acknowledged by {} at {}.",
            person_name(directory, &stamp.by),
            local_time(stamp.at, zone)
        ),
        Refusal::AlreadyResolved(resolution) => already_resolved(resolution, directory, zone),
        Refusal::NotInState { action, state } => {
            not_in_state(action, "an escalation", state_word(*state))
        }
        Refusal::Role { action, needs } => roles_needed(action, "an escalation", needs),
        Refusal::NoteRequired => "Resolving needs a resolution note.".to_owned(),
        Refusal::WarRoomOpen(incident) => war_room_exists(*incident),
        Refusal::AlreadyOwner(key) => format!("{} already owns it.", person_name(directory, key)),
        Refusal::NoFurtherLevels => {
            "Every level of the policy has been paged; there is nobody further to escalate to."
                .to_owned()
        }
    }
}

fn state_word(state: EscalationState) -> &'static str {
    match state {
        EscalationState::Open => "open",
        EscalationState::Acknowledged => "acknowledged",
        EscalationState::WaitingOnCustomer => "waiting on the customer",
        EscalationState::Resolved => "resolved",
    }
}

/// The living card, with times in `zone` (the team's zone: a channel has many readers).
pub fn card(
    escalation: &Escalation,
    sla: Option<&SlaView>,
    directory: &Directory,
    zone: Tz,
) -> Card {
    let e = escalation;
    let account = directory
        .account(&e.account)
        .map(|a| format!("{} ({}, {})", a.key, a.name, a.tier))
        .unwrap_or_else(|| e.account.to_string());
    let state = match (&e.state, &e.acknowledged, &e.resolved) {
        (EscalationState::Resolved, _, Some(r)) => {
            format!(
                "Resolved by {} at {}: {}",
                person_name(directory, &r.by),
                local_time(r.at, zone),
                r.note
            )
        }
        (EscalationState::Open, _, _) => "Open, not acknowledged".to_owned(),
        (EscalationState::WaitingOnCustomer, _, _) => "Waiting on customer".to_owned(),
        (_, Some(ack), _) => format!("Acknowledged by {}", person_name(directory, &ack.by)),
        _ => state_word(e.state).to_owned(),
    };
    let owner =
        e.owner.as_ref().map(|o| person_name(directory, o)).unwrap_or_else(|| "nobody yet".into());
    let mut fields = vec![
        Field::new("Account", account),
        Field::new("Severity", e.severity.as_str().to_uppercase()),
        Field::new("State", state),
        Field::new("Owner", owner),
    ];
    if e.state == EscalationState::Open {
        fields.push(Field::new("Paging", paging_text(e)));
    }
    if let Some(sla) = sla {
        fields.push(Field::new("Acknowledge by", clock_text(&sla.acknowledge, zone)));
        fields.push(Field::new("Resolve by", clock_text(&sla.resolve, zone)));
    }
    fields.push(opened_field("Opened", person_name(directory, &e.opened_by), e.opened_at, zone));
    if let Some(incident) = e.incident {
        fields.push(Field::new("War room", format!("incident #{incident}")));
    }
    Card {
        living_key: Some(e.card_key()),
        title: format!(
            "Escalation #{} · {} · {}",
            e.id,
            e.severity.as_str().to_uppercase(),
            e.account
        ),
        fields,
        body: Some(e.summary.clone()),
        context: vec![format!(
            "policy {} · {} clock · version {}",
            e.policy.name,
            if e.sla.always_open { "24x7" } else { "business-hours" },
            e.version
        )],
        buttons: buttons(e, &owner_choices(e, directory)),
    }
}

/// People who can own the escalation: the team's agents and supervisors.
pub fn owner_choices(e: &Escalation, directory: &Directory) -> Vec<Choice> {
    directory
        .people()
        .filter(|p| crate::domain::escalation::may_own(e, p))
        .map(|p| Choice { value: p.key.to_string(), label: p.display_name.clone() })
        .collect()
}

fn paging_text(e: &Escalation) -> String {
    let levels = e.policy.levels.len().max(1);
    let level = e.step as usize % levels + 1;
    let pass = e.policy.pass_of(e.step) + 1;
    let who = if e.paging.is_empty() { "nobody reachable".to_owned() } else { e.paging.join(", ") };
    if e.policy.repeat > 0 {
        format!("level {level} of {levels} (pass {pass} of {}): {who}", e.policy.repeat + 1)
    } else {
        format!("level {level} of {levels}: {who}")
    }
}

fn buttons(e: &Escalation, candidates: &[Choice]) -> Vec<Button> {
    use ButtonStyle::{Danger, Default, Primary};
    let ack = button(e, "Acknowledge", "acknowledge", Primary);
    let claim = button(e, "Claim", "claim", Default);
    let reassign = button(e, "Reassign", "reassign", Default).asking_one_of(
        "Reassign",
        "person to own it",
        candidates.to_vec(),
    );
    let escalate = Button {
        confirm: Some(Confirm {
            title: "Escalate now?".into(),
            text: "This pages the next level of the policy right away.".into(),
            confirm: "Escalate".into(),
            deny: "Cancel".into(),
        }),
        ..button(e, "Escalate now", "escalate", Danger)
    };
    let wait = button(e, "Waiting on customer", "wait", Default);
    let resume = button(e, "Resume", "resume", Primary);
    let resolve = button(e, "Resolve", "resolve", Default).asking("Resolve", "resolution note");
    let reopen = button(e, "Reopen", "reopen", Default);
    let war_room = button(e, "Open war room", "war_room", Danger);
    let can_escalate = e.step + 1 < e.policy.total_steps();
    let mut list = match e.state {
        EscalationState::Open => vec![ack, claim, reassign],
        EscalationState::Acknowledged => vec![claim, reassign, wait],
        EscalationState::WaitingOnCustomer => vec![resume, reassign],
        EscalationState::Resolved => return vec![reopen],
    };
    if can_escalate {
        list.push(escalate);
    }
    list.push(resolve);
    if e.incident.is_none() {
        list.push(war_room);
    }
    list
}

/// A click on "Open war room" of an escalation that has one.
pub fn war_room_exists(incident: i64) -> String {
    format!(
        "This escalation's war room is incident #{incident} already: `/incident show {incident}`."
    )
}

/// What the clicker of "Open war room" is told.
pub fn war_room_opened(escalation: i64, incident: i64) -> String {
    format!(
        "Declared incident #{incident} for escalation #{escalation}: its war room is on its way. `/incident show {incident}`."
    )
}

/// A line in the card's thread recording a transition.
pub fn thread_line(action: &EscalationAction, actor: &str, directory: &Directory) -> String {
    match action {
        EscalationAction::Acknowledge => format!("{actor} acknowledged."),
        EscalationAction::Claim => format!("{actor} claimed it."),
        EscalationAction::Reassign { to } => {
            format!("{actor} reassigned it to {}.", person_name(directory, to))
        }
        EscalationAction::EscalateNow => format!("{actor} escalated to the next level."),
        EscalationAction::WaitOnCustomer => {
            format!("{actor}: waiting on the customer (resolve clock paused).")
        }
        EscalationAction::Resume => format!("{actor}: customer replied (resolve clock running)."),
        EscalationAction::Resolve { note } => format!("{actor} resolved it: {note}"),
        EscalationAction::Reopen => format!("{actor} reopened it."),
        EscalationAction::OpenWarRoom => format!("{actor} opened a war room."),
    }
}

pub fn paged_line(level: usize, who: &[String], automatic: bool) -> String {
    let who = if who.is_empty() { "nobody reachable".to_owned() } else { who.join(", ") };
    if automatic {
        format!("Not acknowledged in time: paging level {level}: {who}.")
    } else {
        format!("Paging level {level}: {who}.")
    }
}

/// On the card's thread when no page of a level could be delivered.
pub fn page_undeliverable_line(level: usize, reason: &str) -> String {
    format!("The level {level} page could not be delivered ({reason}); paging the next level now.")
}

pub fn paging_exhausted_line() -> String {
    "Every level of the policy was paged without an acknowledgement; paging has stopped.".to_owned()
}

/// The page a person or channel receives.
pub fn page(escalation: &Escalation, level: usize) -> String {
    format!(
        "You are paged (level {level}) for escalation #{} · {} · {}: {}. Acknowledge it on its card.",
        escalation.id,
        escalation.severity.as_str().to_uppercase(),
        escalation.account,
        escalation.summary
    )
}

pub fn reassigned_to_you(escalation: &Escalation, by: &str) -> String {
    format!(
        "{by} assigned escalation #{} ({}) to you: {}",
        escalation.id, escalation.account, escalation.summary
    )
}

pub fn sla_line(clock: &str, breached: bool, due: Option<DateTime<Utc>>, zone: Tz) -> String {
    let when = due.map(|d| local_time(d, zone)).unwrap_or_default();
    if breached {
        format!("SLA breached: {clock} was due {when}.")
    } else {
        format!("SLA at risk: {clock} is due {when}.")
    }
}

/// The direct message an owner (or supervisor) gets for SLA alerts.
pub fn sla_alert_dm(escalation: &Escalation, lines: &[String]) -> String {
    format!("Escalation #{} ({}): {}", escalation.id, escalation.account, lines.join(" "))
}

/// One line of `/escalations`.
pub fn list_line(
    e: &Escalation,
    sla: Option<&SlaView>,
    directory: &Directory,
    now: DateTime<Utc>,
) -> String {
    let owner =
        e.owner.as_ref().map(|o| person_name(directory, o)).unwrap_or_else(|| "unowned".into());
    let age = format_duration(now - e.opened_at);
    let flag = match sla {
        Some(view)
            if [view.acknowledge.status, view.resolve.status].contains(&SlaStatus::Breached) =>
        {
            " · BREACHED"
        }
        Some(view)
            if [view.acknowledge.status, view.resolve.status].contains(&SlaStatus::AtRisk) =>
        {
            " · at risk"
        }
        _ => "",
    };
    format!(
        "#{} {} {} · {} · {} · age {age}{flag} — {}",
        e.id,
        e.severity,
        e.account,
        state_word(e.state),
        owner,
        e.summary
    )
}

pub fn empty_list() -> String {
    "No escalations match.".to_owned()
}

/// `listed` is how many are shown of how many (`item::listed`).
pub fn list_title(scope: &str, status: &str, listed: &str) -> String {
    format!("Escalations ({scope}, {status}): {listed}")
}

/// The list's command without its page, for "Next: …".
pub fn list_command(scope: &str, status: &str) -> String {
    format!("/escalations {scope} {}", status.replace(' ', "-"))
}

fn status_word(status: SlaStatus) -> &'static str {
    match status {
        SlaStatus::OnTrack => "on track",
        SlaStatus::AtRisk => "at risk",
        SlaStatus::Breached => "breached",
        SlaStatus::Met => "met",
        SlaStatus::Missed => "missed",
        SlaStatus::Paused => "paused",
    }
}

/// A target on a clock: around the clock it is plain (`1d`); on a business calendar it is
/// business hours, because "1d" there means 24 working hours (three working days), not a day.
pub fn clock_duration(seconds: i64, always_open: bool) -> String {
    if always_open {
        return format_duration(chrono::Duration::seconds(seconds));
    }
    let (hours, minutes) = (seconds / 3600, seconds % 3600 / 60);
    match (hours, minutes) {
        (1, 0) => "1 business hour".to_owned(),
        (hours, 0) => format!("{hours} business hours"),
        (0, minutes) => format!("{minutes} business minutes"),
        (hours, minutes) => format!("{hours}h {minutes}m of business time"),
    }
}

/// How one clock's due time was computed, times in `zone`. `stopped` is when the clock
/// stopped (acknowledged, resolved), if it did.
pub fn clock_explanation(
    label: &str,
    x: &Explanation,
    stopped: Option<DateTime<Utc>>,
    zone: Tz,
) -> String {
    let hhmm = |at: DateTime<Utc>| at.with_timezone(&zone).format("%H:%M").to_string();
    let mut out = format!(
        "{label}: target {}, at risk after {} ({:.0} %). Started {}.\n",
        clock_duration(x.target.seconds, x.always_open),
        clock_duration(x.at_risk_after.seconds, x.always_open),
        x.at_risk_fraction * 100.0,
        local_time(x.started, zone)
    );
    if x.always_open {
        out.push_str("  Counted around the clock (24x7).\n");
    } else if !x.windows.is_empty() {
        let windows: Vec<String> = x
            .windows
            .iter()
            .map(|w| format!("{}–{} ({})", local_time(w.from, zone), hhmm(w.to), w.counted.text))
            .collect();
        out.push_str(&format!("  Working hours counted: {}.\n", windows.join("; ")));
    }
    if !x.holidays_skipped.is_empty() {
        let days: Vec<String> =
            x.holidays_skipped.iter().map(|d| d.format("%a %d %b").to_string()).collect();
        out.push_str(&format!("  Holidays skipped: {}.\n", days.join(", ")));
    }
    for pause in &x.pauses {
        let end = pause.end.map(|e| local_time(e, zone)).unwrap_or_else(|| "now".into());
        out.push_str(&format!(
            "  Paused {} → {end}: {} of working time not counted.\n",
            local_time(pause.start, zone),
            pause.excluded.text
        ));
    }
    match (x.due, x.at_risk_at, stopped) {
        (Some(due), _, Some(stopped)) => out.push_str(&format!(
            "  Due {}; done {}: {}.\n",
            local_time(due, zone),
            local_time(stopped, zone),
            if stopped <= due { "met" } else { "missed" }
        )),
        (Some(due), Some(at_risk), None) => out.push_str(&format!(
            "  Due {} (at risk from {}). Used {}, {} left: {}.\n",
            local_time(due, zone),
            local_time(at_risk, zone),
            x.elapsed.text,
            x.remaining.text,
            status_word(x.status)
        )),
        _ => out.push_str(&format!(
            "  Paused: {} used, {} left when the clock resumes.\n",
            x.elapsed.text, x.remaining.text
        )),
    }
    out
}

/// `/sla <id>`: both clocks of an escalation, in the reader's zone.
pub fn explanation(
    e: &Escalation,
    acknowledge: &Explanation,
    resolve: &Explanation,
    zone: Tz,
) -> String {
    let calendar = if e.sla.always_open {
        "24x7".to_owned()
    } else {
        format!("business hours of {} ({})", e.team, e.sla.calendar.time_zone.name())
    };
    let mut out = format!(
        "Escalation #{} · {} · {}: SLA on {calendar}; times in {}.\n",
        e.id,
        e.severity.as_str().to_uppercase(),
        e.account,
        zone.name()
    );
    let acknowledged = e.acknowledged.as_ref().map(|stamp| stamp.at);
    out.push_str(&clock_explanation("Acknowledge", acknowledge, acknowledged, zone));
    let resolved = e.resolved.as_ref().map(|r| r.at);
    out.push_str(&clock_explanation("Resolve", resolve, resolved, zone));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_targets_read_as_business_hours() {
        assert_eq!(clock_duration(24 * 3600, false), "24 business hours");
        assert_eq!(clock_duration(3600, false), "1 business hour");
        assert_eq!(clock_duration(5400, false), "1h 30m of business time");
        assert_eq!(clock_duration(45 * 60, false), "45 business minutes");
        assert_eq!(clock_duration(24 * 3600, true), "1d");
    }
}
