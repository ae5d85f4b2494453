//! Words for incident war rooms: usage, the summary card, refusals, timeline lines, status
//! updates, notices, nags, lists and the post-incident review.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::item::person_name as name;
pub use super::item::{missing_account, unknown_account};
use crate::domain::credit::{CreditState, RecentCredit};
use crate::domain::duration::format_duration;
use crate::domain::identity::Directory;
use crate::domain::ids::AccountKey;
use crate::domain::incident::review::Durations;
use crate::domain::incident::timeline::{Happening, TimelineEntry};
use crate::domain::incident::{Incident, IncidentAction, IncidentRole, IncidentState, Refusal};
use crate::domain::item::LivingItem;
use crate::domain::reply::{Button, ButtonStyle, Card, Field};

crate::command_help! {
    HELP_DECLARE: "/incident declare <sev1|sev2|sev3|sev4> <title> [accounts=KEY,KEY…]"
        => "Declare an incident: a war room, a summary card, status-update cadence.";
    HELP_ROLE: "/incident role <id> <commander|comms|scribe> <person>"
        => "Give an incident role to a member of the team.";
    HELP_JOIN: "/incident join <id>"
        => "Join an incident as a responder.";
    HELP_UPDATE: "/incident update <id> <text>"
        => "Post a status update (room and stakeholders); sets the next update due.";
    HELP_NOTE: "/incident note <id> <text>"
        => "Add an entry to the timeline.";
    HELP_SEVERITY: "/incident severity <id> <sev1|sev2|sev3|sev4>"
        => "Change an incident's severity (and its update cadence).";
    HELP_ACCOUNT: "/incident account <id> add|remove <KEY>"
        => "Add or remove an affected account.";
    HELP_MITIGATED: "/incident mitigated <id>"
        => "Mark the customer impact as stopped.";
    HELP_RESOLVE: "/incident resolve <id> <summary>"
        => "Resolve an incident; its review draft is made.";
    HELP_REOPEN: "/incident reopen <id>"
        => "Reopen a resolved incident.";
    HELP_NOTICE: "/incident notice <id> <account> <text>"
        => "Draft a customer notice for an affected account (approved by comms, not you).";
    HELP_APPROVE: "/incident approve <id> <notice>"
        => "Approve a customer notice someone else drafted (comms).";
    HELP_SENT: "/incident sent <id> <notice>"
        => "Mark an approved notice as sent; the customer's next update is then due.";
    HELP_ACTION: "/incident action <id> <owner> <YYYY-MM-DD> <text>"
        => "Add an action item with an owner and a due date.";
    HELP_REVIEW: "/incident review <id>"
        => "The post-incident review: timeline, durations, roles, notices, credits, actions.";
    HELP_SHOW: "/incident show <id>"
        => "Show an incident's summary card.";
    HELP_LIST: "/incidents [open|all]"
        => "List incidents: open ones (default) or all.";
}

// --- parse errors ---

pub fn missing_subcommand() -> String {
    "Say what to do, e.g. /incident declare sev2 Invoices not generated.".to_owned()
}

pub fn unknown_subcommand(raw: &str) -> String {
    format!(
        "`{raw}` is not an incident command. Try declare, role, join, update, note, severity, \
         account, mitigated, resolve, reopen, notice, approve, sent, action, review or show."
    )
}

pub fn missing_severity() -> String {
    "Name the severity: sev1, sev2, sev3 or sev4.".to_owned()
}

pub fn invalid_severity(raw: &str) -> String {
    format!("`{raw}` is not a severity. Use sev1, sev2, sev3 or sev4.")
}

pub fn missing_text(what: &str) -> String {
    format!("The {what} is empty: say what it is.")
}

pub fn invalid_role(raw: &str) -> String {
    if raw.is_empty() {
        return "Name the role: commander, comms or scribe.".to_owned();
    }
    format!("`{raw}` is not an incident role. Use commander, comms or scribe.")
}

pub fn missing_person() -> String {
    "Name the person, e.g. sam.".to_owned()
}

pub fn invalid_account_verb(raw: &str) -> String {
    if raw.is_empty() {
        return "Say add or remove, then the account key.".to_owned();
    }
    format!("`{raw}` is neither add nor remove.")
}

pub fn missing_notice() -> String {
    "Name the notice by its number, e.g. 1.".to_owned()
}

pub fn invalid_notice(raw: &str) -> String {
    format!("`{raw}` is not a notice number.")
}

pub fn invalid_due_date(raw: &str) -> String {
    if raw.is_empty() {
        return "Give the due date as YYYY-MM-DD.".to_owned();
    }
    format!("`{raw}` is not a date: give the due date as YYYY-MM-DD.")
}

pub fn invalid_incident_id(raw: &str) -> String {
    format!("`{raw}` is not an incident number.")
}

pub fn invalid_list_filter(raw: &str) -> String {
    format!("`{raw}` is not a filter: use open or all.")
}

// --- refusals and look-ups ---

pub fn unknown_incident(id: i64) -> String {
    format!("There is no incident #{id}.")
}

pub fn which_incident() -> String {
    "Which incident? Give its number (e.g. /incident update 1 …), or type the command in the \
     incident's room."
        .to_owned()
}

pub fn unknown_person(raw: &str) -> String {
    format!("There is no person `{raw}`. Check the name (people are known by their key, e.g. sam).")
}

pub fn not_a_member(person: &str, incident: i64) -> String {
    format!(
        "{person} is not in this incident's team and has not joined it: they can /incident join \
         {incident} first."
    )
}

pub fn refusal(refusal: &Refusal, directory: &Directory) -> String {
    match refusal {
        Refusal::Resolved => {
            "This incident is resolved. Reopen it first (/incident reopen).".to_owned()
        }
        Refusal::NotActive(state) => {
            format!(
                "You can only mark an active incident mitigated; this one is {}.",
                state_word(*state)
            )
        }
        Refusal::NotResolved => {
            "This incident is not resolved, so there is nothing to reopen.".to_owned()
        }
        Refusal::AlreadyHolds { role, person } => {
            format!("{} is already the {}.", name(directory, person), role.as_str())
        }
        Refusal::AlreadyMember => "You have already joined this incident.".to_owned(),
        Refusal::SameSeverity(severity) => {
            format!("The incident is already {}.", severity.as_str().to_uppercase())
        }
        Refusal::AlreadyAffected(account) => format!("{account} is already an affected account."),
        Refusal::NotAffected(account) => {
            format!(
                "{account} is not an affected account of this incident. Add it first (/incident account <id> add {account})."
            )
        }
        Refusal::HasNotices(account) => {
            format!(
                "{account} has customer notices in this incident; it stays an affected account."
            )
        }
        Refusal::UnknownNotice(number) => format!("This incident has no notice {number}."),
        Refusal::NoticeAlreadyApproved(number) => format!("Notice {number} is already approved."),
        Refusal::NoticeNotApproved(number) => {
            format!(
                "Notice {number} is not approved yet: someone with the comms role approves it first."
            )
        }
        Refusal::NoticeAlreadySent(number) => format!("Notice {number} was already marked sent."),
        Refusal::OwnNotice => {
            "You wrote this notice: someone else with the comms role must approve it (four eyes)."
                .to_owned()
        }
        Refusal::NotComms => {
            "Only the incident's comms holder or someone with the comms role may do that."
                .to_owned()
        }
    }
}

pub fn stale_card(id: i64) -> String {
    format!("Incident #{id} changed since this card was shown; here it is as it is now.")
}

// --- confirmations ---

pub fn declared(incident: &Incident, room: &str) -> String {
    format!(
        "Declared incident #{} ({}): {}. War room: #{room}.",
        incident.id,
        incident.severity.as_str().to_uppercase(),
        incident.title
    )
}

pub fn done(action: &IncidentAction, incident: &Incident, directory: &Directory) -> String {
    let id = incident.id;
    match action {
        IncidentAction::AssignRole { role, to } => {
            format!("{} is now the {} of incident #{id}.", name(directory, to), role.as_str())
        }
        IncidentAction::TakeCommand => format!("You are now the commander of incident #{id}."),
        IncidentAction::Join => format!("You joined incident #{id}."),
        IncidentAction::Update { .. } => {
            format!(
                "Update posted to incident #{id}'s room and stakeholders; the card shows when the next is due."
            )
        }
        IncidentAction::Note { .. } => format!("Noted on incident #{id}'s timeline."),
        IncidentAction::Severity { to, .. } => {
            format!("Incident #{id} is now {}.", to.as_str().to_uppercase())
        }
        IncidentAction::AddAccount { account, .. } => format!("{account} added to incident #{id}."),
        IncidentAction::RemoveAccount { account } => {
            format!("{account} removed from incident #{id}.")
        }
        IncidentAction::Mitigated => format!("Incident #{id} marked mitigated."),
        IncidentAction::Resolve { .. } => {
            format!("Incident #{id} resolved. The review draft: /incident review {id}.")
        }
        IncidentAction::Reopen { .. } => format!("Incident #{id} reopened."),
        IncidentAction::DraftNotice { account, .. } => format!(
            "Notice {} for {account} drafted on incident #{id}; someone else with the comms role approves it.",
            incident.notices.len()
        ),
        IncidentAction::ApproveNotice { number } => {
            format!("Notice {number} of incident #{id} approved. Mark it sent once it went out.")
        }
        IncidentAction::MarkNoticeSent { number, .. } => {
            format!("Notice {number} of incident #{id} marked sent.")
        }
        IncidentAction::AddAction { owner, due, .. } => format!(
            "Action item {} for {} (due {due}) added to incident #{id}.",
            incident.actions.len(),
            name(directory, owner)
        ),
    }
}

// --- messages into the room and to people ---

/// The first message of a console room.
/// The opening message of a Discord forum post that is an incident's room.
pub fn forum_post_opened(incident: &Incident, pin_emoji: &str) -> String {
    format!(
        "War room of incident #{} ({}): {}. React with {pin_emoji} to put a message on the timeline.",
        incident.id,
        incident.severity.as_str().to_uppercase(),
        incident.title
    )
}

pub fn room_opened(incident: &Incident) -> String {
    format!(
        "War room of incident #{} ({}): {}. Pin messages (/pin <number>) to put them on the timeline.",
        incident.id,
        incident.severity.as_str().to_uppercase(),
        incident.title
    )
}

pub fn status_update(incident: &Incident, text: &str, by: &str) -> String {
    format!(
        "Status update · incident #{} ({}) · {by}: {text}",
        incident.id,
        incident.severity.as_str().to_uppercase()
    )
}

pub fn notice_draft(
    incident: &Incident,
    number: u32,
    account: &AccountKey,
    text: &str,
    by: &str,
) -> String {
    format!(
        "Customer notice {number} for {account} (incident #{}), drafted by {by}, waiting for \
         approval: /incident approve {} {number}\n> {text}",
        incident.id, incident.id
    )
}

pub fn no_commander_nag(incident: &Incident, after: Duration) -> String {
    format!(
        "Incident #{} ({}) \"{}\" has had no commander for {}. Take command or assign one: \
         /incident role {} commander <person>.",
        incident.id,
        incident.severity.as_str().to_uppercase(),
        incident.title,
        format_duration(after),
        incident.id
    )
}

pub fn update_overdue_nag(incident: &Incident, due: DateTime<Utc>, zone: Tz) -> String {
    format!(
        "The status update of incident #{} \"{}\" was due {}. Post one: /incident update {} <text>.",
        incident.id,
        incident.title,
        review_time(due, zone),
        incident.id
    )
}

// --- the summary card ---

/// What the card shows of an affected account beyond the incident itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFacts {
    pub open_escalations: i64,
    pub open_requests: i64,
}

pub fn card(
    incident: &Incident,
    facts: &[(AccountKey, AccountFacts)],
    directory: &Directory,
    zone: Tz,
) -> Card {
    let i = incident;
    let holder = |role: IncidentRole| {
        i.roles.holder(role).map(|p| name(directory, p)).unwrap_or_else(|| "unassigned".into())
    };
    let accounts = if i.accounts.is_empty() {
        "none".to_owned()
    } else {
        i.accounts
            .iter()
            .map(|a| {
                let f = facts.iter().find(|(k, _)| k == &a.key).map(|(_, f)| f.clone());
                let f = f.unwrap_or_default();
                let mut line = format!(
                    "{} ({}) · {} open escalations · {} open requests",
                    a.key, a.tier, f.open_escalations, f.open_requests
                );
                if let Some(by) = a.next_customer_update_by {
                    line.push_str(&format!(" · next customer update by {}", review_time(by, zone)));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let last = match &i.last_update {
        Some(u) => format!("{} · {}: {}", review_time(u.at, zone), name(directory, &u.by), u.text),
        None => "none yet".to_owned(),
    };
    let pending: Vec<String> = i
        .pending_notices()
        .map(|n| {
            let standing =
                if n.approved.is_some() { "approved, not sent" } else { "awaiting approval" };
            format!("{} for {} ({standing})", n.number, n.account)
        })
        .collect();
    let mut fields = vec![
        Field::new("Severity", i.severity.as_str().to_uppercase()),
        Field::new("State", state_word(i.state)),
        Field::new("Commander", holder(IncidentRole::Commander)),
        Field::new("Comms", holder(IncidentRole::Comms)),
        Field::new("Scribe", holder(IncidentRole::Scribe)),
        Field::new("Affected accounts", accounts),
        Field::new("Last update", last),
    ];
    if let Some(due) = i.next_update_due {
        fields.push(Field::new("Next update due", review_time(due, zone)));
    }
    fields.push(Field::new(
        "Notices pending",
        if pending.is_empty() { "none".to_owned() } else { pending.join("\n") },
    ));
    if let Some(room) = &i.room {
        fields.push(Field::new("Room", format!("#{}", room.channel)));
    }
    let mut buttons = Vec::new();
    if i.state != IncidentState::Resolved {
        if i.roles.commander.is_none() {
            buttons.push(Button {
                label: "I'm commander".into(),
                action: i.action_id("commander"),
                style: ButtonStyle::Primary,
                confirm: None,
                prompt: None,
            });
        }
        buttons.push(Button {
            label: "Join".into(),
            action: i.action_id("join"),
            style: ButtonStyle::Default,
            confirm: None,
            prompt: None,
        });
    }
    buttons.extend(notice_buttons(i));
    Card {
        living_key: Some(i.card_key()),
        title: format!("Incident #{} · {} · {}", i.id, i.severity.as_str().to_uppercase(), i.title),
        fields,
        body: i.resolved.as_ref().map(|r| format!("Resolved: {}", r.summary)),
        context: vec![format!(
            "declared by {} at {} · version {}",
            name(directory, &i.declared_by),
            review_time(i.declared_at, zone),
            i.version
        )],
        buttons,
    }
}

/// The verb prefix of a notice's "Approve" button (`notice_approve_<number>`).
pub const APPROVE_NOTICE_VERB: &str = "notice_approve_";
/// The verb prefix of a notice's "Mark sent" button (`notice_sent_<number>`).
pub const NOTICE_SENT_VERB: &str = "notice_sent_";
/// Pending notices with a button on the card, oldest first; later ones by command
/// (`/incident approve|sent`). Keeps the card within the platforms' button limits.
pub const NOTICE_BUTTONS: usize = 4;

/// "Approve notice 1" while a notice waits for its second pair of eyes, then "Mark notice 1
/// sent"; the four-eyes rule is checked when clicked, not by hiding the button.
fn notice_buttons(i: &Incident) -> Vec<Button> {
    i.pending_notices()
        .take(NOTICE_BUTTONS)
        .map(|notice| {
            let n = notice.number;
            let (label, verb, style) = match notice.approved {
                None => (format!("Approve notice {n}"), APPROVE_NOTICE_VERB, ButtonStyle::Primary),
                Some(_) => {
                    (format!("Mark notice {n} sent"), NOTICE_SENT_VERB, ButtonStyle::Default)
                }
            };
            Button {
                label,
                action: i.action_id(&format!("{verb}{n}")),
                style,
                confirm: None,
                prompt: None,
            }
        })
        .collect()
}

pub fn state_word(state: IncidentState) -> &'static str {
    match state {
        IncidentState::Active => "active",
        IncidentState::Mitigated => "mitigated",
        IncidentState::Resolved => "resolved",
    }
}

/// A time with its date, always: `2026-11-23 09:00 GMT`.
pub fn review_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string()
}

// --- the timeline ---

/// One entry's words (without time and author).
pub fn happening(happening: &Happening, directory: &Directory) -> String {
    match happening {
        Happening::Declared { severity, title } => {
            format!("declared {} \"{title}\"", severity.as_str().to_uppercase())
        }
        Happening::Role { role, to, previous: None } => {
            format!("{} is the {}", name(directory, to), role.as_str())
        }
        Happening::Role { role, to, previous: Some(previous) } => format!(
            "{} is the {} (was {})",
            name(directory, to),
            role.as_str(),
            name(directory, previous)
        ),
        Happening::Joined => "joined".to_owned(),
        Happening::Update { text } => format!("status update: {text}"),
        Happening::Note { text } => format!("note: {text}"),
        Happening::Severity { from, to } => {
            format!("severity {} → {}", from.as_str().to_uppercase(), to.as_str().to_uppercase())
        }
        Happening::AccountAdded { account } => format!("affected account {account} added"),
        Happening::AccountRemoved { account } => format!("affected account {account} removed"),
        Happening::Mitigated => "marked mitigated".to_owned(),
        Happening::Resolved { summary } => format!("resolved: {summary}"),
        Happening::Reopened => "reopened".to_owned(),
        Happening::NoticeDrafted { number, account } => {
            format!("customer notice {number} for {account} drafted")
        }
        Happening::NoticeApproved { number, account } => {
            format!("customer notice {number} for {account} approved")
        }
        Happening::NoticeSent { number, account } => {
            format!("customer notice {number} for {account} marked sent")
        }
        Happening::Action { number, owner, due, text } => {
            format!("action item {number} for {} due {due}: {text}", name(directory, owner))
        }
        Happening::RoomOpened { channel } => format!("war room opened: {channel}"),
        Happening::RoomArchived { channel } => format!("war room archived: {channel}"),
        Happening::Captured { text } if text.is_empty() => {
            "pinned a message in the room".to_owned()
        }
        Happening::Captured { text } => format!("pinned from the room: \"{text}\""),
    }
}

fn entry_line(entry: &TimelineEntry, directory: &Directory, zone: Tz) -> String {
    let mut line = format!(
        "{} · {} · {}",
        review_time(entry.at, zone),
        entry.author,
        happening(&entry.happening, directory)
    );
    if let Some(at) = entry.deleted_at {
        line.push_str(&format!(" (deleted from the room {})", review_time(at, zone)));
    } else if let Some(at) = entry.edited_at {
        line.push_str(&format!(" (edited {})", review_time(at, zone)));
    }
    line
}

// --- lists ---

pub fn list(incidents: &[Incident], all: bool, zone: Tz) -> Card {
    let title = if all { "Incidents" } else { "Open incidents" };
    let body = if incidents.is_empty() {
        "None.".to_owned()
    } else {
        incidents
            .iter()
            .map(|i| {
                format!(
                    "#{} · {} · {} · {} · declared {}",
                    i.id,
                    i.severity.as_str().to_uppercase(),
                    state_word(i.state),
                    i.title,
                    review_time(i.declared_at, zone)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Card { title: title.into(), body: Some(body), ..Card::default() }
}

// --- the review ---

/// How a review is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewFormat {
    Text,
    Markdown,
}

/// Everything a review shows beyond the incident.
pub struct ReviewFacts<'a> {
    pub timeline: &'a [TimelineEntry],
    /// Credits requested for the affected accounts while the incident was open.
    pub credits: &'a [(AccountKey, RecentCredit)],
}

pub fn review(
    incident: &Incident,
    facts: &ReviewFacts<'_>,
    directory: &Directory,
    zone: Tz,
    format: ReviewFormat,
) -> String {
    let i = incident;
    let md = format == ReviewFormat::Markdown;
    let heading = |text: &str| if md { format!("\n## {text}\n") } else { format!("\n{text}\n") };
    let item = |text: String| if md { format!("- {text}\n") } else { format!("  {text}\n") };
    let mut out = String::new();
    let title = format!(
        "Post-incident review · incident #{} · {} · {}",
        i.id,
        i.severity.as_str().to_uppercase(),
        i.title
    );
    out.push_str(&if md { format!("# {title}\n") } else { format!("{title}\n") });
    let draft = if i.state == IncidentState::Resolved { "draft" } else { "incident still open" };
    out.push_str(&format!("({draft}; times in {zone})\n"));

    out.push_str(&heading("Summary"));
    out.push_str(&item(format!("State: {}", state_word(i.state))));
    out.push_str(&item(format!(
        "Declared {} by {}",
        review_time(i.declared_at, zone),
        name(directory, &i.declared_by)
    )));
    if let Some(r) = &i.resolved {
        out.push_str(&item(format!(
            "Resolved {} by {}: {}",
            review_time(r.at, zone),
            name(directory, &r.by),
            r.summary
        )));
    }

    out.push_str(&heading("Severity"));
    out.push_str(&item(format!("Now {}", i.severity.as_str().to_uppercase())));
    for change in &i.severity_changes {
        out.push_str(&item(format!(
            "{} · {} → {} by {}",
            review_time(change.at, zone),
            change.from.as_str().to_uppercase(),
            change.to.as_str().to_uppercase(),
            name(directory, &change.by)
        )));
    }

    out.push_str(&heading("Durations (each measured from the declaration)"));
    let d = Durations::of(i);
    let span = |d: Option<Duration>| d.map(format_duration).unwrap_or_else(|| "not yet".into());
    let rows = [
        ("Time to acknowledge", "declared → someone took the commander role", d.to_commander),
        (
            "Time to mitigate",
            "declared → marked mitigated (customer impact stopped)",
            d.to_mitigated,
        ),
        ("Time to resolve", "declared → resolved", d.to_resolved),
        (
            "Time to first customer notice",
            "declared → the first notice marked sent",
            d.to_first_notice,
        ),
    ];
    for (label, definition, value) in rows {
        out.push_str(&item(format!("{label}: {} ({definition})", span(value))));
    }

    out.push_str(&heading("Roles"));
    for role in IncidentRole::ALL {
        let holder =
            i.roles.holder(role).map(|p| name(directory, p)).unwrap_or_else(|| "unassigned".into());
        out.push_str(&item(format!("{}: {holder}", role_label(role))));
    }
    let responders: Vec<String> = i.responders.iter().map(|p| name(directory, p)).collect();
    out.push_str(&item(format!("Responders: {}", responders.join(", "))));

    out.push_str(&heading("Affected accounts and customer notices"));
    if i.accounts.is_empty() {
        out.push_str(&item("none".into()));
    }
    for account in &i.accounts {
        out.push_str(&item(format!("{} ({})", account.key, account.tier)));
        for n in i.notices.iter().filter(|n| n.account == account.key) {
            let standing = match (&n.approved, &n.sent) {
                (_, Some(sent)) => {
                    format!("sent {} by {}", review_time(sent.at, zone), name(directory, &sent.by))
                }
                (Some(ok), None) => format!(
                    "approved {} by {}, not sent",
                    review_time(ok.at, zone),
                    name(directory, &ok.by)
                ),
                (None, None) => "not approved".to_owned(),
            };
            let approved = n
                .approved
                .as_ref()
                .map(|a| format!(", approved by {}", name(directory, &a.by)))
                .unwrap_or_default();
            out.push_str(&item(format!(
                "  notice {} by {}{approved} · {standing}: \"{}\"",
                n.number,
                name(directory, &n.author),
                n.text
            )));
        }
    }

    out.push_str(&heading("Credits requested for the affected accounts during the incident"));
    if facts.credits.is_empty() {
        out.push_str(&item("none".into()));
    }
    for (account, c) in facts.credits {
        out.push_str(&item(format!(
            "#{} · {account} · {} · {} · requested {}: {}",
            c.id,
            c.currency.format(c.amount),
            credit_state(c.state),
            review_time(c.requested_at, zone),
            c.reason
        )));
    }

    out.push_str(&heading("Timeline"));
    for entry in facts.timeline {
        out.push_str(&item(entry_line(entry, directory, zone)));
    }

    out.push_str(&heading("Action items"));
    if i.actions.is_empty() {
        out.push_str(&item("none".into()));
    }
    for a in &i.actions {
        out.push_str(&item(format!(
            "{}. {} · owner {} · due {}",
            a.number,
            a.text,
            name(directory, &a.owner),
            a.due
        )));
    }
    out
}

fn role_label(role: IncidentRole) -> &'static str {
    match role {
        IncidentRole::Commander => "Commander",
        IncidentRole::Comms => "Comms",
        IncidentRole::Scribe => "Scribe",
    }
}

fn credit_state(state: CreditState) -> &'static str {
    match state {
        CreditState::Pending => "pending",
        CreditState::Approved => "approved",
        CreditState::Rejected => "rejected",
        CreditState::Expired => "expired",
        CreditState::Cancelled => "cancelled",
    }
}

// --- captures from the room ---

pub fn not_a_room(channel: &str) -> String {
    format!("#{channel} is not an incident's room: only messages in a war room go on a timeline.")
}

pub fn captured(id: i64, added: bool) -> String {
    if added {
        format!("Pinned to incident #{id}'s timeline.")
    } else {
        format!("That message is already on incident #{id}'s timeline.")
    }
}

pub fn capture_edited(id: i64, found: bool) -> String {
    if found {
        format!("The entry on incident #{id}'s timeline now has the edited text.")
    } else {
        format!("That message is not on incident #{id}'s timeline; nothing to update.")
    }
}

pub fn capture_deleted(id: i64, found: bool) -> String {
    if found {
        format!("The entry on incident #{id}'s timeline is marked deleted.")
    } else {
        format!("That message is not on incident #{id}'s timeline; nothing to mark.")
    }
}

// --- reminders ---

pub fn action_reminder(
    incident: &Incident,
    action: &crate::domain::incident::ActionItem,
    due_now: bool,
) -> String {
    let when = if due_now { "is due today" } else { "is due soon" };
    format!(
        "Action item {} of incident #{} \"{}\" {when} ({}): {}",
        action.number, incident.id, incident.title, action.due, action.text
    )
}

pub fn customer_update_owed(
    incident: &Incident,
    account: &AccountKey,
    due: DateTime<Utc>,
    zone: Tz,
) -> String {
    format!(
        "{account} was owed its next customer update by {} (incident #{} \"{}\"). Draft one: \
         /incident notice {} {account} <text>.",
        review_time(due, zone),
        incident.id,
        incident.title,
        incident.id
    )
}

/// The author of automatic timeline entries.
/// The title of an incident declared from an escalation's card.
pub fn war_room_title(escalation: i64, summary: &str) -> String {
    format!("Escalation #{escalation}: {summary}")
}

pub fn steward_author() -> String {
    "Steward".to_owned()
}
