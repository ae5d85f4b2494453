//! The incident aggregate: a war room for an account-impacting incident, and its pure state
//! machine.
//!
//! ```text
//!   active ──mitigated──▶ mitigated ──resolve──▶ resolved ──reopen──▶ active
//!     └──────────────────resolve─────────────────┘
//! ```
//!
//! Besides its state an incident holds its roles (commander, comms, scribe), responders,
//! affected accounts, the status-update cadence, customer notices (four-eyes approved by a
//! comms holder), action items and its room. Every change is also a timeline entry
//! ([`timeline::Happening`]): [`apply`] returns the next incident together with it, and the
//! service writes both in the event's transaction.

pub mod review;
pub mod room;
pub mod timeline;

#[cfg(test)]
mod tests;

use crate::domain::item::Living;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::CalendarError;
use super::escalation::Stamp;
use super::identity::{Person, Role};
use super::ids::{AccountKey, PersonKey, Platform, TeamKey};
use super::item::{ItemKind, LivingItem, Projection};
use super::severity::Severity;
pub use room::{Room, RoomOp};
pub use timeline::Happening;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// Declared and not yet mitigated: the customer impact goes on.
    Active,
    /// The impact has stopped; the cause may not be fixed yet.
    Mitigated,
    Resolved,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Active => "active",
            IncidentState::Mitigated => "mitigated",
            IncidentState::Resolved => "resolved",
        }
    }
}

/// The roles of a war room; each is held by at most one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentRole {
    /// Leads the response; the first one "acknowledges" the incident.
    Commander,
    /// Writes status updates and customer notices, approves others' notices.
    Comms,
    /// Keeps the timeline.
    Scribe,
}

impl IncidentRole {
    pub const ALL: [IncidentRole; 3] =
        [IncidentRole::Commander, IncidentRole::Comms, IncidentRole::Scribe];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentRole::Commander => "commander",
            IncidentRole::Comms => "comms",
            IncidentRole::Scribe => "scribe",
        }
    }

    pub fn parse(raw: &str) -> Option<IncidentRole> {
        let raw = raw.trim().to_ascii_lowercase();
        IncidentRole::ALL.into_iter().find(|role| role.as_str() == raw)
    }
}

/// Who holds each role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub commander: Option<PersonKey>,
    pub comms: Option<PersonKey>,
    pub scribe: Option<PersonKey>,
}

impl Roles {
    pub fn holder(&self, role: IncidentRole) -> Option<&PersonKey> {
        match role {
            IncidentRole::Commander => self.commander.as_ref(),
            IncidentRole::Comms => self.comms.as_ref(),
            IncidentRole::Scribe => self.scribe.as_ref(),
        }
    }

    fn slot(&mut self, role: IncidentRole) -> &mut Option<PersonKey> {
        match role {
            IncidentRole::Commander => &mut self.commander,
            IncidentRole::Comms => &mut self.comms,
            IncidentRole::Scribe => &mut self.scribe,
        }
    }
}

/// An account the incident affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedAccount {
    pub key: AccountKey,
    pub tier: String,
    pub added_at: DateTime<Utc>,
    /// When the customer is owed their next update (set when a notice is sent); Steward
    /// chases it.
    #[serde(default)]
    pub next_customer_update_by: Option<DateTime<Utc>>,
}

/// A status update: posted in the room and to the stakeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub text: String,
    pub by: PersonKey,
    pub at: DateTime<Utc>,
}

/// A customer notice for one affected account: drafted, approved by a comms holder who did
/// not write it, then marked sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// 1, 2, … within the incident.
    pub number: u32,
    pub account: AccountKey,
    pub text: String,
    pub author: PersonKey,
    pub drafted_at: DateTime<Utc>,
    pub approved: Option<Stamp>,
    pub sent: Option<Stamp>,
}

/// A follow-up with an owner and a due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub number: u32,
    pub owner: PersonKey,
    pub due: NaiveDate,
    pub text: String,
    /// Who added it, and when (stored as its `by` and `at`).
    #[serde(flatten)]
    pub added: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub by: PersonKey,
    pub at: DateTime<Utc>,
    pub summary: String,
}

/// One severity change, for the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityChange {
    pub from: Severity,
    pub to: Severity,
    pub by: PersonKey,
    pub at: DateTime<Utc>,
}

/// Reminders already sent, so each is sent once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nags {
    /// The supervisor was told nobody took command.
    pub no_commander: bool,
    /// The "next update due" instants the comms holder, then the commander, were reminded of.
    pub update_comms: Option<DateTime<Utc>>,
    pub update_commander: Option<DateTime<Utc>>,
}

/// An incident, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: i64,
    pub version: i32,
    pub team: TeamKey,
    pub title: String,
    pub severity: Severity,
    pub state: IncidentState,
    pub declared_by: PersonKey,
    pub declared_at: DateTime<Utc>,
    pub roles: Roles,
    /// The first time anyone took command: "acknowledged" in the review's durations.
    pub commanded_at: Option<DateTime<Utc>>,
    /// People who joined (role holders join by holding a role).
    pub responders: Vec<PersonKey>,
    pub accounts: Vec<AffectedAccount>,
    /// The escalation the war room was opened from, if any.
    pub escalation: Option<i64>,
    pub last_update: Option<StatusUpdate>,
    pub next_update_due: Option<DateTime<Utc>>,
    pub severity_changes: Vec<SeverityChange>,
    pub notices: Vec<Notice>,
    pub actions: Vec<ActionItem>,
    pub mitigated: Option<Stamp>,
    pub resolved: Option<Resolution>,
    pub nags: Nags,
    /// Where the war room is (its channel or thread), once it exists.
    pub room: Option<Room>,
    /// When the room's channel was archived (a configurable delay after resolve); the card
    /// is no longer kept in it from then on.
    #[serde(default)]
    pub room_archived_at: Option<DateTime<Utc>>,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

/// What a new incident is declared with.
#[derive(Debug, Clone)]
pub struct IncidentDeclaration {
    pub team: TeamKey,
    pub title: String,
    pub severity: Severity,
    pub declared_by: PersonKey,
    pub declared_at: DateTime<Utc>,
    /// Affected accounts with their tiers.
    pub accounts: Vec<(AccountKey, String)>,
    pub escalation: Option<i64>,
    /// The severity's status-update cadence: the first update is due this long after declare.
    pub cadence: Duration,
    pub platform: Platform,
    pub channel: String,
}

impl Incident {
    /// A new, active incident at version 1 (id 0 until the row's is known).
    pub fn declared(d: IncidentDeclaration) -> Incident {
        let accounts = d
            .accounts
            .into_iter()
            .map(|(key, tier)| AffectedAccount {
                key,
                tier,
                added_at: d.declared_at,
                next_customer_update_by: None,
            })
            .collect();
        Incident {
            id: 0,
            version: 1,
            team: d.team,
            title: d.title,
            severity: d.severity,
            state: IncidentState::Active,
            declared_by: d.declared_by.clone(),
            declared_at: d.declared_at,
            roles: Roles::default(),
            commanded_at: None,
            responders: vec![d.declared_by],
            accounts,
            escalation: d.escalation,
            last_update: None,
            next_update_due: Some(d.declared_at + d.cadence),
            severity_changes: Vec::new(),
            notices: Vec::new(),
            actions: Vec::new(),
            mitigated: None,
            resolved: None,
            nags: Nags::default(),
            room: None,
            room_archived_at: None,
            living: Living::new(d.platform, d.channel, None),
        }
    }

    pub fn is_member(&self, person: &PersonKey) -> bool {
        self.responders.contains(person)
    }

    pub fn affected(&self, account: &AccountKey) -> Option<&AffectedAccount> {
        self.accounts.iter().find(|a| &a.key == account)
    }

    pub fn notice(&self, number: u32) -> Option<&Notice> {
        self.notices.iter().find(|n| n.number == number)
    }

    /// Action items due on or before `day`, soonest first (the owners' standups list them).
    pub fn actions_due_by(&self, day: NaiveDate) -> Vec<&ActionItem> {
        let mut due: Vec<&ActionItem> = self.actions.iter().filter(|a| a.due <= day).collect();
        due.sort_by_key(|a| (a.due, a.number));
        due
    }

    /// The earliest action item's due day, as its UTC midnight (projected, so a standup finds
    /// the incidents with something due without reading every document).
    pub fn next_action_due(&self) -> Option<DateTime<Utc>> {
        let day = self.actions.iter().map(|a| a.due).min()?;
        Some(day.and_time(chrono::NaiveTime::MIN).and_utc())
    }

    /// Notices drafted and not yet sent.
    pub fn pending_notices(&self) -> impl Iterator<Item = &Notice> {
        self.notices.iter().filter(|n| n.sent.is_none())
    }

    /// Whether `person` may approve and send customer notices: the incident's comms holder,
    /// or anyone with the organisation's `comms` role.
    pub fn speaks_for_customers(&self, person: &Person) -> bool {
        self.roles.comms.as_ref() == Some(&person.key) || person.has_role(Role::Comms)
    }
}

/// What someone asks to do to an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentAction {
    /// Give `role` to `to` (`/incident role`), or take command ("I'm commander": `to` is the
    /// actor).
    AssignRole {
        role: IncidentRole,
        to: PersonKey,
    },
    /// "I'm commander" on the card: the commander role for the clicker.
    TakeCommand,
    Join,
    /// A status update; the next one is due `cadence` later.
    Update {
        text: String,
        cadence: Duration,
    },
    Note {
        text: String,
    },
    /// A new severity with its cadence (the next update is due that long after the last).
    Severity {
        to: Severity,
        cadence: Duration,
    },
    AddAccount {
        account: AccountKey,
        tier: String,
    },
    RemoveAccount {
        account: AccountKey,
    },
    Mitigated,
    Resolve {
        summary: String,
    },
    /// Back to active; the next update is due `cadence` from now.
    Reopen {
        cadence: Duration,
    },
    DraftNotice {
        account: AccountKey,
        text: String,
    },
    ApproveNotice {
        number: u32,
    },
    /// The notice went out; the customer's next update is due `next_update_in` later.
    MarkNoticeSent {
        number: u32,
        next_update_in: Duration,
    },
    AddAction {
        owner: PersonKey,
        due: NaiveDate,
        text: String,
    },
}

impl IncidentAction {
    /// The audit action name.
    pub fn verb(&self) -> &'static str {
        match self {
            IncidentAction::AssignRole { .. } | IncidentAction::TakeCommand => "role",
            IncidentAction::Join => "join",
            IncidentAction::Update { .. } => "update",
            IncidentAction::Note { .. } => "note",
            IncidentAction::Severity { .. } => "severity",
            IncidentAction::AddAccount { .. } => "account_add",
            IncidentAction::RemoveAccount { .. } => "account_remove",
            IncidentAction::Mitigated => "mitigated",
            IncidentAction::Resolve { .. } => "resolve",
            IncidentAction::Reopen { .. } => "reopen",
            IncidentAction::DraftNotice { .. } => "notice",
            IncidentAction::ApproveNotice { .. } => "notice_approve",
            IncidentAction::MarkNoticeSent { .. } => "notice_sent",
            IncidentAction::AddAction { .. } => "action",
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Only reopening (and notes, notices, action items) make sense once resolved.
    Resolved,
    NotActive(IncidentState),
    NotResolved,
    AlreadyHolds {
        role: IncidentRole,
        person: PersonKey,
    },
    AlreadyMember,
    SameSeverity(Severity),
    AlreadyAffected(AccountKey),
    NotAffected(AccountKey),
    /// An incident keeps at least one affected account once it has notices for it.
    HasNotices(AccountKey),
    UnknownNotice(u32),
    NoticeAlreadyApproved(u32),
    NoticeNotApproved(u32),
    NoticeAlreadySent(u32),
    /// Four eyes: the author may not approve their own notice.
    OwnNotice,
    NotComms,
}

/// The next incident after `action` by `actor` at `now`, with its timeline happening, or why
/// not.
pub fn apply(
    incident: &Incident,
    actor: &Person,
    action: &IncidentAction,
    now: DateTime<Utc>,
) -> Result<(Incident, Happening), Refusal> {
    use IncidentAction as A;
    if let A::TakeCommand = action {
        let take = A::AssignRole { role: IncidentRole::Commander, to: actor.key.clone() };
        return apply(incident, actor, &take, now);
    }
    let mut next = incident.clone();
    let resolved = incident.state == IncidentState::Resolved;
    let happening = match action {
        A::AssignRole { role, to } => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            if incident.roles.holder(*role) == Some(to) {
                return Err(Refusal::AlreadyHolds { role: *role, person: to.clone() });
            }
            let previous = next.roles.slot(*role).replace(to.clone());
            if *role == IncidentRole::Commander && next.commanded_at.is_none() {
                next.commanded_at = Some(now);
            }
            if !next.is_member(to) {
                next.responders.push(to.clone());
            }
            Happening::Role { role: *role, to: to.clone(), previous }
        }
        A::Join => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            if incident.is_member(&actor.key) {
                return Err(Refusal::AlreadyMember);
            }
            next.responders.push(actor.key.clone());
            Happening::Joined
        }
        A::Update { text, cadence } => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            next.last_update =
                Some(StatusUpdate { text: text.clone(), by: actor.key.clone(), at: now });
            next.next_update_due = Some(now + *cadence);
            Happening::Update { text: text.clone() }
        }
        A::TakeCommand => unreachable!("handled above as AssignRole"),
        A::Note { text } => Happening::Note { text: text.clone() },
        A::Severity { to, cadence } => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            if incident.severity == *to {
                return Err(Refusal::SameSeverity(*to));
            }
            next.severity = *to;
            let from = incident.last_update.as_ref().map(|u| u.at).unwrap_or(incident.declared_at);
            next.next_update_due = Some(from + *cadence);
            next.severity_changes.push(SeverityChange {
                from: incident.severity,
                to: *to,
                by: actor.key.clone(),
                at: now,
            });
            Happening::Severity { from: incident.severity, to: *to }
        }
        A::AddAccount { account, tier } => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            if incident.affected(account).is_some() {
                return Err(Refusal::AlreadyAffected(account.clone()));
            }
            next.accounts.push(AffectedAccount {
                key: account.clone(),
                tier: tier.clone(),
                added_at: now,
                next_customer_update_by: None,
            });
            Happening::AccountAdded { account: account.clone() }
        }
        A::RemoveAccount { account } => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            if incident.affected(account).is_none() {
                return Err(Refusal::NotAffected(account.clone()));
            }
            if incident.notices.iter().any(|n| &n.account == account) {
                return Err(Refusal::HasNotices(account.clone()));
            }
            next.accounts.retain(|a| &a.key != account);
            Happening::AccountRemoved { account: account.clone() }
        }
        A::Mitigated => {
            if incident.state != IncidentState::Active {
                return Err(Refusal::NotActive(incident.state));
            }
            next.state = IncidentState::Mitigated;
            next.mitigated = Some(Stamp { by: actor.key.clone(), at: now });
            Happening::Mitigated
        }
        A::Resolve { summary } => {
            if resolved {
                return Err(Refusal::Resolved);
            }
            next.state = IncidentState::Resolved;
            next.resolved =
                Some(Resolution { by: actor.key.clone(), at: now, summary: summary.clone() });
            next.next_update_due = None;
            Happening::Resolved { summary: summary.clone() }
        }
        A::Reopen { cadence } => {
            if !resolved {
                return Err(Refusal::NotResolved);
            }
            next.state = IncidentState::Active;
            next.resolved = None;
            next.next_update_due = Some(now + *cadence);
            next.nags.update_comms = None;
            next.nags.update_commander = None;
            Happening::Reopened
        }
        A::DraftNotice { account, text } => {
            if incident.affected(account).is_none() {
                return Err(Refusal::NotAffected(account.clone()));
            }
            let number = incident.notices.len() as u32 + 1;
            next.notices.push(Notice {
                number,
                account: account.clone(),
                text: text.clone(),
                author: actor.key.clone(),
                drafted_at: now,
                approved: None,
                sent: None,
            });
            Happening::NoticeDrafted { number, account: account.clone() }
        }
        A::ApproveNotice { number } => {
            let notice = incident.notice(*number).ok_or(Refusal::UnknownNotice(*number))?;
            if notice.approved.is_some() {
                return Err(Refusal::NoticeAlreadyApproved(*number));
            }
            if notice.author == actor.key {
                return Err(Refusal::OwnNotice);
            }
            if !incident.speaks_for_customers(actor) {
                return Err(Refusal::NotComms);
            }
            let stamp = Stamp { by: actor.key.clone(), at: now };
            notice_mut(&mut next, *number).approved = Some(stamp);
            Happening::NoticeApproved { number: *number, account: notice.account.clone() }
        }
        A::MarkNoticeSent { number, next_update_in } => {
            let notice = incident.notice(*number).ok_or(Refusal::UnknownNotice(*number))?;
            if notice.approved.is_none() {
                return Err(Refusal::NoticeNotApproved(*number));
            }
            if notice.sent.is_some() {
                return Err(Refusal::NoticeAlreadySent(*number));
            }
            if !incident.speaks_for_customers(actor) && notice.author != actor.key {
                return Err(Refusal::NotComms);
            }
            notice_mut(&mut next, *number).sent = Some(Stamp { by: actor.key.clone(), at: now });
            if let Some(account) = next.accounts.iter_mut().find(|a| a.key == notice.account) {
                // A resolved incident owes the customer nothing more.
                account.next_customer_update_by = (!resolved).then(|| now + *next_update_in);
            }
            Happening::NoticeSent { number: *number, account: notice.account.clone() }
        }
        A::AddAction { owner, due, text } => {
            let number = incident.actions.len() as u32 + 1;
            next.actions.push(ActionItem {
                number,
                owner: owner.clone(),
                due: *due,
                text: text.clone(),
                added: Stamp { by: actor.key.clone(), at: now },
            });
            Happening::Action { number, owner: owner.clone(), due: *due, text: text.clone() }
        }
    };
    Ok((next, happening))
}

fn notice_mut(incident: &mut Incident, number: u32) -> &mut Notice {
    incident.notices.iter_mut().find(|n| n.number == number).expect("notice checked above")
}

impl LivingItem for Incident {
    const KIND: ItemKind = ItemKind::Incident;

    crate::living_item_fields!();

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state.as_str(),
            "severity": self.severity.as_str(),
            "commander": self.roles.commander,
            "comms": self.roles.comms,
            "scribe": self.roles.scribe,
            "responders": self.responders,
            "accounts": self.accounts.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
            "next_update_due": self.next_update_due,
            "notices": self.notices.iter().map(|n| serde_json::json!({
                "number": n.number,
                "approved_by": n.approved.as_ref().map(|s| &s.by),
                "sent_by": n.sent.as_ref().map(|s| &s.by),
            })).collect::<Vec<_>>(),
            "actions": self.actions.len(),
        })
    }

    fn projection(&self) -> Result<Projection, CalendarError> {
        Ok(Projection::default()
            .text("team_key", self.team.to_string())
            .text("state", self.state.as_str().to_owned())
            .text("severity", self.severity.as_str().to_owned())
            .text("room_channel", self.room.as_ref().map(Room::lookup_key))
            .time("declared_at", Some(self.declared_at))
            .time("resolved_at", self.resolved.as_ref().map(|r| r.at))
            .time("next_action_due", self.next_action_due()))
    }
}
