//! The living-item kernel (DESIGN.md §11): what every workflow item has in common.
//!
//! Escalations, account requests and credit requests are all *living items*: a row with an
//! id and a version, a team, one living card on a platform, a per-subject audit chain, typed
//! actions people click, timers, and a projection of columns that views and digests query.
//! [`ItemKind`] owns every name derived from the kind (action-id prefix, card key, audit
//! subject, job kinds, dedupe keys); [`LivingItem`] is the shape the kernel's generic click,
//! save and storage paths work on. A workflow adds only what is its own: its state machine,
//! its card, its rules.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::action::{self, ActionRef};
use super::audit::{self, AuditEntry, AuditRecord, ChainHead};
use super::audit_key::AuditKeys;
use super::calendar::CalendarError;
use super::ids::{AccountKey, Platform, TeamKey};
use super::sla_policy::ClockView;

/// The audit actor of automatic transitions (timers, schedules, automatic assignment).
pub const SYSTEM_ACTOR: &str = "steward";

/// Every kind of living item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    Escalation,
    Request,
    Credit,
    AccessRequest,
    Onboarding,
    AccessReview,
    Incident,
}

impl ItemKind {
    pub const ALL: [ItemKind; 7] = [
        ItemKind::Escalation,
        ItemKind::Request,
        ItemKind::Credit,
        ItemKind::AccessRequest,
        ItemKind::Onboarding,
        ItemKind::AccessReview,
        ItemKind::Incident,
    ];

    /// The short prefix of action ids, card keys and outbox/job dedupe keys (`esc:42:…`).
    pub fn prefix(self) -> &'static str {
        match self {
            ItemKind::Escalation => "esc",
            ItemKind::Request => "req",
            ItemKind::Credit => "cr",
            ItemKind::AccessRequest => "acc",
            ItemKind::Onboarding => "onb",
            ItemKind::AccessReview => "rev",
            ItemKind::Incident => "inc",
        }
    }

    /// The noun of audit subjects and job kinds (`escalation:42`, `escalation.step`).
    pub fn noun(self) -> &'static str {
        match self {
            ItemKind::Escalation => "escalation",
            ItemKind::Request => "request",
            ItemKind::Credit => "credit",
            ItemKind::AccessRequest => "access",
            ItemKind::Onboarding => "onboarding",
            ItemKind::AccessReview => "review",
            ItemKind::Incident => "incident",
        }
    }

    pub fn from_prefix(prefix: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }

    /// The living-message key of item `id`'s card.
    pub fn card_key(self, id: i64) -> String {
        format!("{}:{id}", self.prefix())
    }

    /// The audit subject of item `id`.
    pub fn subject(self, id: i64) -> String {
        format!("{}:{id}", self.noun())
    }

    /// The action id of `verb` on item `id`, shown on card version `version`.
    pub fn action_id(self, id: i64, verb: &str, version: i32) -> String {
        action::format(self.prefix(), id, verb, version)
    }

    /// The job kind of one of this kind's timers, e.g. `escalation.step`.
    pub fn job_kind(self, timer: &str) -> String {
        format!("{}.{timer}", self.noun())
    }

    /// A dedupe key of something item `id` causes (an outbox message, a job):
    /// `esc:42:<what>`.
    pub fn key(self, id: i64, what: impl fmt::Display) -> String {
        format!("{}:{id}:{what}", self.prefix())
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// Parses any item's action id: its kind and the reference.
pub fn parse_action_id(raw: &str) -> Option<(ItemKind, ActionRef)> {
    let kind = ItemKind::from_prefix(raw.split(':').next()?)?;
    Some((kind, action::parse(kind.prefix(), raw)?))
}

/// A living item, as the kernel sees it.
pub trait LivingItem: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: ItemKind;

    fn id(&self) -> i64;
    fn version(&self) -> i32;
    /// Sets what the row, not the document, is the source of: the id and the version.
    fn set_stored(&mut self, id: i64, version: i32);
    fn team(&self) -> &TeamKey;
    /// The platform and channel its card lives in.
    fn platform(&self) -> Platform;
    fn channel(&self) -> &str;
    /// The workspace it lives in (Slack's team id), `None` for the default one: its card,
    /// thread lines and DMs are sent with that workspace's token.
    fn workspace(&self) -> Option<&str>;
    fn audit_head_mut(&mut self) -> &mut Option<ChainHead>;
    /// The audit view: what transitions change (the `before`/`after` of audit records).
    fn snapshot(&self) -> serde_json::Value;
    /// The columns queries read, computed here and nowhere else.
    fn projection(&self) -> Result<Projection, CalendarError>;

    /// The next version: every transition bumps it (cards carry it, writes compare it).
    fn bump_version(&mut self) {
        let (id, version) = (self.id(), self.version());
        self.set_stored(id, version + 1);
    }

    fn card_key(&self) -> String {
        Self::KIND.card_key(self.id())
    }

    fn subject(&self) -> String {
        Self::KIND.subject(self.id())
    }

    /// The action id of `verb` on this item's current card.
    fn action_id(&self, verb: &str) -> String {
        Self::KIND.action_id(self.id(), verb, self.version())
    }

    /// A dedupe key of something this item causes: `esc:42:<what>`.
    fn key(&self, what: impl fmt::Display) -> String {
        Self::KIND.key(self.id(), what)
    }

    /// Chains `entry` onto this item's audit chain (under the current key of `keys`) and
    /// moves the head.
    fn chain_audit(&mut self, keys: &AuditKeys, entry: AuditEntry) -> AuditRecord {
        audit::chain_onto(keys, self.audit_head_mut(), entry)
    }
}

/// What every living item carries for the kernel, embedded (flattened, so a stored document
/// keeps its shape) in each aggregate as its `living` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Living {
    /// Where the card lives.
    pub platform: Platform,
    pub channel: String,
    /// The workspace (Slack's team id) it lives in, see [`LivingItem::workspace`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The last record of its audit chain.
    #[serde(default)]
    pub audit_head: Option<ChainHead>,
}

impl Living {
    /// A new item's: its card goes to `channel` on `platform`, no audit record yet.
    pub fn new(platform: Platform, channel: String, workspace: Option<String>) -> Living {
        Living { platform, channel, workspace, audit_head: None }
    }
}

/// The [`LivingItem`] accessors of an aggregate whose fields carry the kernel's names (`id`,
/// `version`, `team`) and that embeds [`Living`] as `living`: expanded inside its `impl`.
#[macro_export]
macro_rules! living_item_fields {
    () => {
        fn id(&self) -> i64 {
            self.id
        }

        fn version(&self) -> i32 {
            self.version
        }

        fn set_stored(&mut self, id: i64, version: i32) {
            (self.id, self.version) = (id, version);
        }

        fn team(&self) -> &$crate::domain::ids::TeamKey {
            &self.team
        }

        fn platform(&self) -> $crate::domain::ids::Platform {
            self.living.platform
        }

        fn channel(&self) -> &str {
            &self.living.channel
        }

        fn workspace(&self) -> Option<&str> {
            self.living.workspace.as_deref()
        }

        fn audit_head_mut(&mut self) -> &mut Option<$crate::domain::audit::ChainHead> {
            &mut self.living.audit_head
        }
    };
}

/// One projected value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Flag(Option<bool>),
    Int(i32),
    Amount(Decimal),
}

/// The columns of an item that queries filter, sort and sum on, by column name. The item's
/// document is the whole truth; these are derived from it once, in Rust, at every write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    pub cells: Vec<(&'static str, Cell)>,
}

impl Projection {
    pub fn text(mut self, column: &'static str, value: impl Into<Option<String>>) -> Self {
        self.cells.push((column, Cell::Text(value.into())));
        self
    }

    pub fn time(mut self, column: &'static str, value: Option<DateTime<Utc>>) -> Self {
        self.cells.push((column, Cell::Time(value)));
        self
    }

    pub fn flag(mut self, column: &'static str, value: Option<bool>) -> Self {
        self.cells.push((column, Cell::Flag(value)));
        self
    }

    pub fn int(mut self, column: &'static str, value: i32) -> Self {
        self.cells.push((column, Cell::Int(value)));
        self
    }

    pub fn amount(mut self, column: &'static str, value: Decimal) -> Self {
        self.cells.push((column, Cell::Amount(value)));
        self
    }

    /// The `due_at` / `at_risk_at` pair of the clocks still running (see [`running_deadline`]).
    pub fn deadline(self, deadline: Deadline) -> Self {
        self.time("due_at", deadline.due).time("at_risk_at", deadline.at_risk)
    }

    pub fn get(&self, column: &str) -> Option<&Cell> {
        self.cells.iter().find(|(name, _)| *name == column).map(|(_, cell)| cell)
    }
}

impl Projection {
    /// The SLA columns of an item with a first clock (acknowledge or first response, stopped
    /// at `first.1`) and a resolve clock (paused while `waiting`): `due_at` / `at_risk_at` of
    /// the running clocks, `resolved_at`, and whether it was resolved within its target.
    /// With them the item's team and account, which every such item has.
    pub fn two_clocks(
        (team, account): (&TeamKey, &AccountKey),
        first: (ClockView, Option<DateTime<Utc>>),
        resolve: ClockView,
        resolved_at: Option<DateTime<Utc>>,
        waiting: bool,
    ) -> Projection {
        let resolved = resolved_at.is_some();
        let deadline = running_deadline(&[
            (first.0, !resolved && first.1.is_none()),
            (resolve, !resolved && !waiting),
        ]);
        let within_sla = resolved.then_some(resolve.status == super::sla::SlaStatus::Met);
        Projection::default()
            .text("team_key", team.to_string())
            .text("account_key", account.to_string())
            .deadline(deadline)
            .time("resolved_at", resolved_at)
            .flag("resolved_within_sla", within_sla)
    }
}

impl Projection {
    /// Each clock's own deadline, kept after the clock stops (`first_*`: acknowledge or first
    /// response; `resolve_*`: resolution, none while paused), so that a digest replayed as of
    /// an earlier instant can tell which clocks were running then and whether they had passed
    /// their due or at-risk instant (`storage::digests`).
    pub fn clock_deadlines(self, first: ClockView, resolve: ClockView) -> Projection {
        self.time("first_due_at", first.due)
            .time("first_at_risk_at", first.at_risk_at)
            .time("resolve_due_at", resolve.due)
            .time("resolve_at_risk_at", resolve.at_risk_at)
    }
}

/// The earliest due and at-risk instants among an item's running SLA clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deadline {
    pub due: Option<DateTime<Utc>>,
    pub at_risk: Option<DateTime<Utc>>,
}

/// The deadline of the clocks that still run: a clock that has stopped (met or missed) or
/// is paused has none, so "breached" in a query means a running clock is past due — never
/// a clock that was stopped in time.
pub fn running_deadline(clocks: &[(ClockView, bool)]) -> Deadline {
    let running = || clocks.iter().filter(|(_, running)| *running).map(|(view, _)| view);
    Deadline {
        due: running().filter_map(|view| view.due).min(),
        at_risk: running().filter_map(|view| view.at_risk_at).min(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sla::SlaStatus;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).unwrap()
    }

    #[test]
    fn every_name_derives_from_the_kind_and_parses_back() {
        for kind in ItemKind::ALL {
            let id = kind.action_id(42, "resolve", 3);
            assert_eq!(
                parse_action_id(&id),
                Some((kind, ActionRef { id: 42, verb: "resolve".into(), version: 3 }))
            );
            assert_eq!(kind.card_key(42), format!("{}:42", kind.prefix()));
            assert_eq!(kind.subject(42), format!("{}:42", kind.noun()));
            assert_eq!(kind.job_kind("remind"), format!("{}.remind", kind.noun()));
        }
        assert_eq!(ItemKind::Escalation.action_id(42, "acknowledge", 3), "esc:42:acknowledge:v3");
        assert_eq!(ItemKind::Request.action_id(42, "accept", 3), "req:42:accept:v3");
        assert_eq!(ItemKind::Credit.action_id(42, "approve", 3), "cr:42:approve:v3");
        assert_eq!(ItemKind::Incident.action_id(42, "join", 3), "inc:42:join:v3");
        assert_eq!(parse_action_id("zz:1:go:v1"), None);
        assert_eq!(parse_action_id("esc:x:ack:v1"), None);
        assert_eq!(parse_action_id("esc:1:go"), None);
    }

    #[test]
    fn a_stopped_clock_has_no_deadline_even_when_it_would_be_overdue() {
        let stopped =
            ClockView { status: SlaStatus::Met, due: Some(at(9)), at_risk_at: Some(at(8)) };
        let running =
            ClockView { status: SlaStatus::OnTrack, due: Some(at(17)), at_risk_at: Some(at(15)) };
        let deadline = running_deadline(&[(stopped, false), (running, true)]);
        assert_eq!(deadline, Deadline { due: Some(at(17)), at_risk: Some(at(15)) });
        assert_eq!(running_deadline(&[(stopped, false)]), Deadline::default());
    }
}
