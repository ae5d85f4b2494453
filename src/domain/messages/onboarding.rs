//! Words of account onboarding: help entries, refusals, the checklist card, thread lines and
//! the `/onboarding` list.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::item::{clock_text, opened_field, person_name};
use super::local_time;
use crate::domain::identity::Directory;
use crate::domain::item::LivingItem;
use crate::domain::onboarding::{
    Onboarding, OnboardingState, Refusal, Step, StepAction, StepState,
};
use crate::domain::reply::{Button, ButtonStyle, Card, Field, Prompt};
use crate::domain::sla::SlaStatus;

crate::command_help! {
    HELP_ONBOARD: "/onboard <account> <plan>"
        => "Start an account's onboarding: a checklist card with a clock per step.";
    HELP_ONBOARDING: "/onboarding [team]"
        => "Accounts in onboarding with their current step and standing.";
}

/// Most steps whose buttons a card shows (three each; Discord allows 25 buttons).
pub const MAX_STEPS_WITH_BUTTONS: usize = 8;

pub fn missing_account() -> String {
    super::item::missing_account()
}

pub fn missing_plan() -> String {
    "Name the plan, e.g. standard.".to_owned()
}

pub fn unknown_plan(raw: &str, known: &[&str]) -> String {
    format!("There is no onboarding plan `{raw}`. Plans: {}.", known.join(", "))
}

pub fn plan_not_for_tier(plan: &str, tier: &str, tiers: &[String]) -> String {
    format!("The {plan} plan is for {} accounts; this one is {tier}.", tiers.join(", "))
}

pub fn unknown_team(raw: &str) -> String {
    format!("There is no team `{raw}`.")
}

pub fn already_onboarding(account: &str, id: i64) -> String {
    format!("{account} is already in onboarding: #{id}.")
}

pub fn unknown_onboarding(id: i64) -> String {
    format!("There is no onboarding #{id}.")
}

pub fn started(o: &Onboarding) -> String {
    format!(
        "Onboarding #{} started for {} ({}). The checklist is in #{}.",
        o.id, o.account, o.plan_name, o.living.channel
    )
}

pub fn refusal(refusal: &Refusal, o: &Onboarding) -> String {
    match refusal {
        Refusal::Active => format!("{} is already active: its onboarding is complete.", o.account),
        Refusal::UnknownStep(step) => format!("The plan has no step `{step}`."),
        Refusal::AlreadyClosed { step } => format!("{step} is already closed."),
        Refusal::OutOfOrder { step, waiting_for } => format!(
            "{step} comes after {}: the {} plan keeps its order.",
            waiting_for.join(", "),
            o.plan_name
        ),
        Refusal::Role { step, role } => {
            format!("{step} is worked by the {role} role (or a supervisor or admin).")
        }
        Refusal::NeedsReason => "That needs a reason.".to_owned(),
        Refusal::RequiredStep { step } => {
            format!("{step} is required: it can't be marked not applicable.")
        }
    }
}

pub fn stale_card(o: &Onboarding) -> String {
    format!("Onboarding #{} changed since you looked; here it is now.", o.id)
}

pub fn done(action: &StepAction, o: &Onboarding) -> String {
    let step = step_name(o, action.step());
    match (action, o.state) {
        (_, OnboardingState::Active) => format!("{step}: saved. {} is now active.", o.account),
        (StepAction::Blocked { .. }, _) => format!("{step}: marked blocked."),
        (StepAction::NotApplicable { .. }, _) => format!("{step}: marked not applicable."),
        (StepAction::Done { .. }, _) => format!("{step}: marked done."),
    }
}

fn step_name(o: &Onboarding, key: &str) -> String {
    o.steps
        .iter()
        .find(|s| s.plan.key == key)
        .map(|s| s.plan.name.clone())
        .unwrap_or_else(|| key.to_owned())
}

fn step_line(
    o: &Onboarding,
    index: usize,
    step: &Step,
    directory: &Directory,
    zone: Tz,
    now: DateTime<Utc>,
) -> String {
    let optional = if step.plan.required { "" } else { " (optional)" };
    let clock = o.clock(step, now).ok().flatten();
    let clock = clock.map(|c| clock_text(&c.view, zone));
    let by = || {
        let who = step.closed_by.as_ref().map(|k| person_name(directory, k)).unwrap_or_default();
        let at = step.closed_at.map(|at| local_time(at, zone)).unwrap_or_default();
        format!("{who} at {at}")
    };
    let state = match &step.state {
        StepState::Open if step.started_at.is_none() => {
            "waiting for the steps before it".to_owned()
        }
        StepState::Open => format!("open · due {}", clock.unwrap_or_default()),
        StepState::Blocked { reason } => {
            format!("BLOCKED: {reason} · due {}", clock.unwrap_or_default())
        }
        StepState::Done => format!("done by {} · target {}", by(), clock.unwrap_or_default()),
        StepState::NotApplicable { reason } => format!("n/a ({reason}) by {}", by()),
    };
    // The named owner, when there is one, next to the role.
    let owner = step.owner.as_ref().map(|k| format!(" · {}", person_name(directory, k)));
    let owner = owner.unwrap_or_default();
    format!(
        "{}. {}{optional} [{}{owner}] — {state}",
        index + 1,
        step.plan.name,
        step.plan.owner_role
    )
}

/// The living checklist card, times in `zone` (the team's), standings at `now`.
pub fn card(o: &Onboarding, directory: &Directory, zone: Tz, now: DateTime<Utc>) -> Card {
    let account = directory
        .account(&o.account)
        .map(|a| format!("{} ({}, {})", a.key, a.name, a.tier))
        .unwrap_or_else(|| o.account.to_string());
    let state = match (o.state, o.activated_at) {
        (OnboardingState::Active, Some(at)) => format!("Active since {}", local_time(at, zone)),
        _ => {
            let closed = o.steps.iter().filter(|s| s.state.is_closed()).count();
            format!("Onboarding: {closed} of {} steps closed", o.steps.len())
        }
    };
    let lines: Vec<String> = o
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| step_line(o, index, step, directory, zone, now))
        .collect();
    let fields = vec![
        Field::new("Account", account),
        Field::new("Plan", o.plan_name.clone()),
        opened_field("Started", person_name(directory, &o.opened_by), o.opened_at, zone),
        Field::new("State", state),
        Field::new("Checklist", lines.join("\n")),
    ];
    Card {
        living_key: Some(o.card_key()),
        title: format!("Onboarding #{} · {} · {}", o.id, o.account, o.plan_name),
        fields,
        body: None,
        context: vec![format!("onboarding #{} · version {}", o.id, o.version)],
        buttons: buttons(o),
    }
}

/// A button label cut to the platforms' limit (Slack 75 characters).
fn label(verb: &str, name: &str) -> String {
    let text = format!("{verb}: {name}");
    if text.chars().count() <= 75 { text } else { text.chars().take(74).chain(['…']).collect() }
}

fn buttons(o: &Onboarding) -> Vec<Button> {
    if o.state == OnboardingState::Active {
        return Vec::new();
    }
    let prompt = |title: String| Prompt {
        title,
        label: "reason".into(),
        required: true,
        choices: Vec::new(),
    };
    let mut buttons = Vec::new();
    for step in o.workable().take(MAX_STEPS_WITH_BUTTONS) {
        let (key, name) = (&step.plan.key, &step.plan.name);
        let button = |verb: &str, text: &str, style| Button {
            label: label(text, name),
            action: o.action_id(&StepAction::encode(verb, key)),
            style,
            confirm: None,
            prompt: None,
        };
        buttons.push(button("done", "Done", ButtonStyle::Primary));
        if !matches!(step.state, StepState::Blocked { .. }) {
            buttons.push(Button {
                prompt: Some(prompt("Blocked".into())),
                ..button("blocked", "Blocked", ButtonStyle::Danger)
            });
        }
        if !step.plan.required {
            buttons.push(Button {
                prompt: Some(prompt("Not applicable".into())),
                ..button("na", "N/A", ButtonStyle::Default)
            });
        }
    }
    buttons
}

/// The thread line of a click.
pub fn step_line_of(actor: &str, action: &StepAction, o: &Onboarding) -> String {
    let step = step_name(o, action.step());
    let mut line = match action {
        StepAction::Done { .. } => format!("{actor} marked {step} done."),
        StepAction::Blocked { reason, .. } => format!("{actor} marked {step} blocked: {reason}"),
        StepAction::NotApplicable { reason, .. } => {
            format!("{actor} marked {step} not applicable: {reason}")
        }
    };
    if o.state == OnboardingState::Active {
        line.push_str(&format!(" {} is active: every required step is done.", o.account));
    }
    line
}

/// The thread line (and owner DM) of a step clock alert.
pub fn clock_alert(
    o: &Onboarding,
    step: &Step,
    status: SlaStatus,
    zone: Tz,
    now: DateTime<Utc>,
) -> String {
    let due = o.clock(step, now).ok().flatten().and_then(|c| c.view.due);
    let due = due.map(|d| local_time(d, zone)).unwrap_or_default();
    match status {
        SlaStatus::Breached => {
            format!("{} ({}) BREACHED its target: it was due {due}.", step.plan.name, o.account)
        }
        _ => format!("{} ({}) is AT RISK: due {due}.", step.plan.name, o.account),
    }
}

pub fn list_title(team: &str, count: usize) -> String {
    format!("Onboarding · {team} · {count}")
}

pub fn empty_list() -> String {
    "No account is in onboarding.".to_owned()
}

pub fn list_line(o: &Onboarding, zone: Tz, now: DateTime<Utc>) -> String {
    let (current, standing) = match o.current_step() {
        Some(step) => {
            let clock = o.clock(step, now).ok().flatten();
            let standing =
                clock.map(|c| clock_text(&c.view, zone)).unwrap_or_else(|| "waiting".into());
            (step.plan.name.clone(), standing)
        }
        None => ("none".to_owned(), "done".to_owned()),
    };
    format!("#{} {} · {} · current: {current} · {standing}", o.id, o.account, o.plan_name)
}
