//! Credit and adjustment requests: the authority matrix, the approval chain and the pure
//! state machine.
//!
//! ```text
//!   pending ──approve (last level)──▶ approved
//!      │ ──reject──▶ rejected     ──cancel──▶ cancelled     ──timer──▶ expired
//!      └─edit: approvals voided, chain recomputed, back to level 1 (still pending)
//! ```
//!
//! The chain is computed from the rules when the request is made (and again on an edit) and
//! snapshotted into the request, so later configuration edits never change one in flight.
//! Every decision is bound to the SHA-256 of (account, amount, currency, reason): an approval
//! of another payload is never counted.

use crate::domain::item::Living;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use super::action::ActionRef;
use super::calendar::CalendarError;
use super::identity::{Person, Role};
use super::ids::{AccountKey, PersonKey, TeamKey};
use super::item::{ItemKind, LivingItem, Projection};
use super::money::Currency;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditKind {
    /// A goodwill credit: always positive.
    Credit,
    /// A balance adjustment: either sign.
    Adjustment,
}

impl CreditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditKind::Credit => "credit",
            CreditKind::Adjustment => "adjustment",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditState {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl CreditState {
    pub const ALL: [CreditState; 5] = [
        CreditState::Pending,
        CreditState::Approved,
        CreditState::Rejected,
        CreditState::Expired,
        CreditState::Cancelled,
    ];

    pub fn parse(raw: &str) -> Option<CreditState> {
        CreditState::ALL.into_iter().find(|state| state.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CreditState::Pending => "pending",
            CreditState::Approved => "approved",
            CreditState::Rejected => "rejected",
            CreditState::Expired => "expired",
            CreditState::Cancelled => "cancelled",
        }
    }
}

/// A person's limits in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub per_request: Decimal,
    /// Sum of approvals per calendar month in the approver's own time zone.
    pub monthly: Decimal,
}

/// Delegated authority: limits per role and currency, with per-person overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorityMatrix {
    pub roles: BTreeMap<Role, BTreeMap<Currency, Limit>>,
    pub people: BTreeMap<PersonKey, BTreeMap<Currency, Limit>>,
}

impl AuthorityMatrix {
    /// The person's limit in `currency`: their own override if configured, else the most
    /// generous limit among the given roles (the ones the chain level accepts).
    pub fn limit_for(&self, person: &Person, roles: &[Role], currency: &Currency) -> Option<Limit> {
        if let Some(limit) = self.people.get(&person.key).and_then(|l| l.get(currency)) {
            return Some(*limit);
        }
        roles
            .iter()
            .filter(|role| person.has_role(**role))
            .filter_map(|role| self.roles.get(role).and_then(|l| l.get(currency)))
            .copied()
            .max_by(|a, b| a.per_request.cmp(&b.per_request).then(a.monthly.cmp(&b.monthly)))
    }
}

impl AuthorityMatrix {
    /// The currencies in which someone among `people` (other than `requester`) holds
    /// authority for `level`: a credit in any other currency could never be approved.
    pub fn approvable_currencies<'a>(
        &self,
        people: impl Iterator<Item = &'a Person>,
        requester: &PersonKey,
        level: &ChainLevel,
    ) -> Vec<Currency> {
        let mut currencies: Vec<Currency> = Vec::new();
        for person in people.filter(|p| &p.key != requester) {
            let holds_role = level.roles.iter().any(|r| person.has_role(*r));
            let own = self.people.get(&person.key).into_iter().flat_map(|l| l.keys());
            let by_role = level
                .roles
                .iter()
                .filter(|role| person.has_role(**role))
                .filter_map(|role| self.roles.get(role))
                .flat_map(|l| l.keys());
            for currency in own.filter(|_| holds_role).chain(by_role) {
                if !currencies.contains(currency) {
                    currencies.push(currency.clone());
                }
            }
        }
        currencies.sort_by(|a, b| a.code().cmp(b.code()));
        currencies
    }
}

/// A configured chain rule: who may decide this level, and from which amount it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRule {
    pub roles: Vec<Role>,
    /// Applies when |amount| is above this threshold in the currency; an empty map means
    /// always. A currency missing from a non-empty map applies too (err on the safe side).
    pub above: BTreeMap<Currency, Decimal>,
}

impl ChainRule {
    /// Whether this level is part of the chain for `amount` in `currency`.
    pub fn applies(&self, amount: Decimal, currency: &Currency) -> bool {
        self.above.is_empty()
            || self.above.get(currency).is_none_or(|threshold| amount.abs() > *threshold)
    }
}

/// One level of a request's snapshotted chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLevel {
    pub roles: Vec<Role>,
    /// The level whose approver commits the money: their limits and monthly usage are
    /// checked. Earlier levels are reviews (role and four eyes only). It is the last level.
    pub authority: bool,
}

/// The chain for an amount: every rule that applies, in order; the last carries authority.
pub fn compute_chain(rules: &[ChainRule], amount: Decimal, currency: &Currency) -> Vec<ChainLevel> {
    let mut levels: Vec<ChainLevel> = rules
        .iter()
        .filter(|rule| rule.applies(amount, currency))
        .map(|rule| ChainLevel { roles: rule.roles.clone(), authority: false })
        .collect();
    if let Some(last) = levels.last_mut() {
        last.authority = true;
    }
    levels
}

/// Start and end (exclusive), in UTC, of the calendar month containing `now` in `zone`.
pub fn month_bounds(now: DateTime<Utc>, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = now.with_timezone(&zone).date_naive();
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).unwrap_or(local);
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    // Midnight exists in every zone Steward supports except at a few DST changes; `earliest`
    // picks the first instant of the day either way.
    let start = |day: NaiveDate| {
        zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|at| at.to_utc())
            .unwrap_or_else(|| day.and_hms_opt(1, 0, 0).unwrap_or_default().and_utc())
    };
    (start(first), start(next))
}

/// The SHA-256 a decision is bound to.
pub fn payload_hash(
    account: &AccountKey,
    amount: Decimal,
    currency: &Currency,
    reason: &str,
) -> String {
    let canonical = serde_json::json!({
        "account": account.as_str(),
        "amount": amount.normalize().to_string(),
        "currency": currency.code(),
        "reason": reason,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// Who decided a level, how, and on which payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// 0-based level.
    pub level: usize,
    pub by: PersonKey,
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub payload_hash: String,
}

/// Who closed a request without a decision (cancel, expiry), and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The editable part of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub amount: Decimal,
    pub currency: Currency,
    pub reason: String,
    pub note: Option<String>,
}

/// Another request of the same account, as the approval card lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentCredit {
    pub id: i64,
    pub amount: Decimal,
    pub currency: Currency,
    pub reason: String,
    pub state: CreditState,
    pub requested_at: DateTime<Utc>,
}

/// A credit or adjustment request, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credit {
    pub id: i64,
    /// Bumped by every change; buttons carry it (compare-and-set).
    pub version: i32,
    pub kind: CreditKind,
    pub account: AccountKey,
    pub payload: Payload,
    pub payload_hash: String,
    pub requested_by: PersonKey,
    pub requested_at: DateTime<Utc>,
    pub team: TeamKey,
    pub state: CreditState,
    pub chain: Vec<ChainLevel>,
    /// Decisions of the current round (since the last edit), in level order.
    pub decisions: Vec<Decision>,
    /// Decisions voided by edits, kept for the card and the audit trail.
    pub voided: Vec<Decision>,
    /// 1 at request, +1 per edit; timers carry it.
    pub round: u32,
    pub expires_at: DateTime<Utc>,
    pub reminded: bool,
    pub closed: Option<Closure>,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

/// What someone asks to do from the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditAction {
    Approve,
    Reject { reason: String },
    AskInfo { question: String },
}

impl CreditAction {
    pub fn verb(&self) -> &'static str {
        match self {
            CreditAction::Approve => "approve",
            CreditAction::Reject { .. } => "reject",
            CreditAction::AskInfo { .. } => "ask",
        }
    }
}

/// Why a click or command was refused. Nothing is written for a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Already approved, rejected, expired or cancelled; the last decision if any.
    Closed {
        state: CreditState,
        last: Option<Box<Decision>>,
        closed: Option<Box<Closure>>,
    },
    OwnRequest,
    /// One person decides at most once per chain.
    AlreadyDecided {
        level: usize,
    },
    Role {
        level: usize,
        roles: Vec<Role>,
    },
    NoAuthority {
        currency: Currency,
    },
    PerRequest {
        limit: Decimal,
        currency: Currency,
    },
    Monthly {
        used: Decimal,
        limit: Decimal,
        currency: Currency,
    },
    ReasonRequired,
    QuestionRequired,
    /// Only the requester may edit or cancel.
    NotRequester,
}

impl Credit {
    /// The level awaiting a decision (0-based), while pending.
    pub fn current_level(&self) -> usize {
        self.decisions.len()
    }

    pub fn level(&self) -> Option<&ChainLevel> {
        self.chain.get(self.current_level())
    }

    fn closed_refusal(&self) -> Refusal {
        Refusal::Closed {
            state: self.state,
            last: self.decisions.last().cloned().map(Box::new),
            closed: self.closed.clone().map(Box::new),
        }
    }

    /// Checks that `actor` may decide the current level (four eyes, role). Authority for the
    /// amount is checked separately by [`check_authority`], which needs the monthly usage.
    pub fn check_decider(&self, actor: &Person) -> Result<&ChainLevel, Refusal> {
        if self.state != CreditState::Pending {
            return Err(self.closed_refusal());
        }
        if actor.key == self.requested_by {
            return Err(Refusal::OwnRequest);
        }
        if let Some(decision) = self.decisions.iter().find(|d| d.by == actor.key) {
            return Err(Refusal::AlreadyDecided { level: decision.level });
        }
        let level = self.level().ok_or_else(|| self.closed_refusal())?;
        if !level.roles.iter().any(|role| actor.has_role(*role)) {
            return Err(Refusal::Role { level: self.current_level(), roles: level.roles.clone() });
        }
        Ok(level)
    }

    /// Applies a card action by an actor who passed [`check_decider`] (and, to approve at
    /// the authority level, [`check_authority`]). Returns the next state, version not bumped.
    pub fn decide(
        &self,
        actor: &Person,
        action: &CreditAction,
        now: DateTime<Utc>,
    ) -> Result<Credit, Refusal> {
        self.check_decider(actor)?;
        let mut next = self.clone();
        let level = self.current_level();
        let decision = |verdict, reason| Decision {
            level,
            by: actor.key.clone(),
            at: now,
            verdict,
            reason,
            payload_hash: self.payload_hash.clone(),
        };
        match action {
            CreditAction::Approve => {
                next.decisions.push(decision(Verdict::Approve, None));
                if next.decisions.len() >= next.chain.len() {
                    next.state = CreditState::Approved;
                }
            }
            CreditAction::Reject { reason } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(Refusal::ReasonRequired);
                }
                next.decisions.push(decision(Verdict::Reject, Some(reason.to_owned())));
                next.state = CreditState::Rejected;
            }
            CreditAction::AskInfo { question } => {
                if question.trim().is_empty() {
                    return Err(Refusal::QuestionRequired);
                }
            }
        }
        Ok(next)
    }

    /// When it stopped being pending: its closure (cancel, expiry) or its final decision (the
    /// KPI digest counts approvals by this instant).
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            CreditState::Pending => None,
            _ => self.closed.as_ref().map(|c| c.at).or(self.decisions.last().map(|d| d.at)),
        }
    }

    /// Approvals that count: those bound to the current payload.
    pub fn approvals(&self) -> impl Iterator<Item = &Decision> {
        self.decisions
            .iter()
            .filter(|d| d.verdict == Verdict::Approve && d.payload_hash == self.payload_hash)
    }

    /// The requester changes the payload: earlier approvals are voided and the chain restarts
    /// from level 1 with the chain for the new amount.
    pub fn edit(
        &self,
        actor: &Person,
        account: AccountKey,
        payload: Payload,
        chain: Vec<ChainLevel>,
        expires_at: DateTime<Utc>,
    ) -> Result<Credit, Refusal> {
        if self.state != CreditState::Pending {
            return Err(self.closed_refusal());
        }
        if actor.key != self.requested_by {
            return Err(Refusal::NotRequester);
        }
        let mut next = self.clone();
        next.voided.append(&mut next.decisions);
        next.payload_hash =
            payload_hash(&account, payload.amount, &payload.currency, &payload.reason);
        next.account = account;
        next.payload = payload;
        next.chain = chain;
        next.round += 1;
        next.expires_at = expires_at;
        next.reminded = false;
        Ok(next)
    }

    /// The requester (or an admin) withdraws a pending request.
    pub fn cancel(&self, actor: &Person, now: DateTime<Utc>) -> Result<Credit, Refusal> {
        if self.state != CreditState::Pending {
            return Err(self.closed_refusal());
        }
        if actor.key != self.requested_by && !actor.has_role(Role::Admin) {
            return Err(Refusal::NotRequester);
        }
        let mut next = self.clone();
        next.state = CreditState::Cancelled;
        next.closed = Some(Closure { by: actor.key.to_string(), at: now });
        Ok(next)
    }

    /// The expiry timer closes a request still pending in the same round.
    pub fn expire(&self, now: DateTime<Utc>, actor: &str) -> Option<Credit> {
        if self.state != CreditState::Pending {
            return None;
        }
        let mut next = self.clone();
        next.state = CreditState::Expired;
        next.closed = Some(Closure { by: actor.to_owned(), at: now });
        Some(next)
    }
}

/// Checks the approver's authority for `amount` at an authority level: a limit in the
/// currency, the per-request limit, and `used` (their approvals this calendar month in their
/// own zone, same currency) plus this amount within the monthly limit.
pub fn check_authority(
    matrix: &AuthorityMatrix,
    actor: &Person,
    level: &ChainLevel,
    amount: Decimal,
    currency: &Currency,
    used: Decimal,
) -> Result<(), Refusal> {
    let limit = matrix
        .limit_for(actor, &level.roles, currency)
        .ok_or_else(|| Refusal::NoAuthority { currency: currency.clone() })?;
    let amount = amount.abs();
    if amount > limit.per_request {
        return Err(Refusal::PerRequest { limit: limit.per_request, currency: currency.clone() });
    }
    if used + amount > limit.monthly {
        return Err(Refusal::Monthly { used, limit: limit.monthly, currency: currency.clone() });
    }
    Ok(())
}

impl LivingItem for Credit {
    const KIND: ItemKind = ItemKind::Credit;

    crate::living_item_fields!();

    /// The payload it is bound to and every decision.
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "version": self.version,
            "state": self.state.as_str(),
            "kind": self.kind.as_str(),
            "account": self.account.as_str(),
            "amount": self.payload.amount.to_string(),
            "currency": self.payload.currency.code(),
            "reason": self.payload.reason,
            "note": self.payload.note,
            "payload_hash": self.payload_hash,
            "round": self.round,
            "chain": self.chain,
            "decisions": self.decisions,
            "voided": self.voided.len(),
        })
    }

    fn projection(&self) -> Result<Projection, CalendarError> {
        Ok(Projection::default()
            .text("kind", self.kind.as_str().to_owned())
            .text("account_key", self.account.to_string())
            .amount("amount", self.payload.amount)
            .text("currency", self.payload.currency.code().to_owned())
            .text("reason", self.payload.reason.clone())
            .text("state", self.state.as_str().to_owned())
            .text("requested_by", self.requested_by.to_string())
            .time("requested_at", Some(self.requested_at))
            .text("team_key", self.team.to_string())
            .time("expires_at", Some(self.expires_at))
            .time("closed_at", self.closed_at()))
    }
}

#[cfg(test)]
mod tests;

pub mod gaps;
