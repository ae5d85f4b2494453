//! Periodic access reviews: a campaign gives each reviewer one list (a living item) of the
//! current grants they review, with Certify / Revoke per grant and "Certify all shown".
//!
//! ```text
//!   open ──every entry decided──▶ done
//!     └──close (policy: flag or revoke what is left)──▶ closed
//! ```
//!
//! A reviewer never certifies their own access: such grants are given to someone else when
//! the campaign starts, and the rule is checked again on every click.

use crate::domain::item::Living;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::calendar::CalendarError;
use crate::domain::identity::{Person, Role};
use crate::domain::ids::{PersonKey, TeamKey};
use crate::domain::item::{ItemKind, LivingItem, Projection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewVerdict {
    Certified,
    Revoked,
    /// Left unreviewed at close under the `flag` policy.
    Flagged,
}

impl ReviewVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewVerdict::Certified => "certified",
            ReviewVerdict::Revoked => "revoked",
            ReviewVerdict::Flagged => "flagged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDecision {
    pub verdict: ReviewVerdict,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One grant under review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEntry {
    /// The access item (`acc:<id>`).
    pub access: i64,
    pub holder: PersonKey,
    pub system: String,
    pub role: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub decision: Option<EntryDecision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Open,
    Done,
    Closed,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Open => "open",
            ReviewState::Done => "done",
            ReviewState::Closed => "closed",
        }
    }
}

/// What happens at close to grants nobody reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosePolicy {
    Flag,
    Revoke,
}

/// One reviewer's list in a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewList {
    pub id: i64,
    pub version: i32,
    pub campaign: i64,
    /// `billing-admin`, or `all`.
    pub scope: String,
    pub reviewer: PersonKey,
    pub started_by: PersonKey,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub entries: Vec<ReviewEntry>,
    pub state: ReviewState,
    pub reminded: bool,
    /// The reminders sent, as seconds before the due time (each of the series once).
    #[serde(default)]
    pub reminders_sent: Vec<i64>,
    /// Overdue: the reviewer's supervisors were told and may decide too.
    pub escalated_to: Vec<PersonKey>,
    pub closed_at: Option<DateTime<Utc>>,
    pub team: TeamKey,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewAction {
    Certify {
        access: i64,
    },
    Revoke {
        access: i64,
    },
    /// Certify every entry the card showed (the first `shown` undecided ones).
    CertifyShown,
}

impl ReviewAction {
    pub fn verb(&self) -> &'static str {
        match self {
            ReviewAction::Certify { .. } => "certify",
            ReviewAction::Revoke { .. } => "revoke",
            ReviewAction::CertifyShown => "certify-shown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotReviewer,
    OwnAccess {
        access: i64,
    },
    AlreadyDecided {
        access: i64,
    },
    UnknownEntry {
        access: i64,
    },
    NotOpen(ReviewState),
    /// "Certify all shown" with nothing left to certify but one's own grants.
    NothingToCertify,
}

impl ReviewList {
    /// The undecided entries, in list order.
    pub fn undecided(&self) -> impl Iterator<Item = &ReviewEntry> {
        self.entries.iter().filter(|e| e.decision.is_none())
    }

    /// The entries a card shows with buttons: the first `limit` undecided ones.
    pub fn shown(&self, limit: usize) -> Vec<&ReviewEntry> {
        self.undecided().take(limit).collect()
    }

    fn may_review(&self, actor: &Person) -> bool {
        actor.key == self.reviewer
            || self.escalated_to.contains(&actor.key)
            || actor.has_role(Role::Admin)
    }

    /// The pure transition of a click; `shown` is how many entries a card shows.
    pub fn apply(
        &self,
        actor: &Person,
        action: &ReviewAction,
        shown: usize,
        now: DateTime<Utc>,
    ) -> Result<ReviewList, Refusal> {
        if self.state != ReviewState::Open {
            return Err(Refusal::NotOpen(self.state));
        }
        if !self.may_review(actor) {
            return Err(Refusal::NotReviewer);
        }
        let mut next = self.clone();
        let decide = |entry: &mut ReviewEntry, verdict| {
            entry.decision = Some(EntryDecision { verdict, by: actor.key.to_string(), at: now });
        };
        match action {
            ReviewAction::Certify { access } | ReviewAction::Revoke { access } => {
                let entry = next
                    .entries
                    .iter_mut()
                    .find(|e| e.access == *access)
                    .ok_or(Refusal::UnknownEntry { access: *access })?;
                if entry.decision.is_some() {
                    return Err(Refusal::AlreadyDecided { access: *access });
                }
                let certify = matches!(action, ReviewAction::Certify { .. });
                if certify && entry.holder == actor.key {
                    return Err(Refusal::OwnAccess { access: *access });
                }
                decide(
                    entry,
                    if certify { ReviewVerdict::Certified } else { ReviewVerdict::Revoked },
                );
            }
            ReviewAction::CertifyShown => {
                let shown: Vec<i64> = self.shown(shown).iter().map(|e| e.access).collect();
                let mut certified = 0;
                for entry in next.entries.iter_mut().filter(|e| shown.contains(&e.access)) {
                    // One's own grants stay for someone else, even in "certify all".
                    if entry.holder != actor.key {
                        decide(entry, ReviewVerdict::Certified);
                        certified += 1;
                    }
                }
                if certified == 0 {
                    return Err(Refusal::NothingToCertify);
                }
            }
        }
        if next.undecided().next().is_none() {
            next.state = ReviewState::Done;
            next.closed_at = Some(now);
        }
        Ok(next)
    }

    /// Closes the list: what nobody reviewed is flagged or revoked by the policy.
    pub fn close(&self, policy: ClosePolicy, by: &str, now: DateTime<Utc>) -> Option<ReviewList> {
        if self.state != ReviewState::Open {
            return None;
        }
        let mut next = self.clone();
        let verdict = match policy {
            ClosePolicy::Flag => ReviewVerdict::Flagged,
            ClosePolicy::Revoke => ReviewVerdict::Revoked,
        };
        for entry in next.entries.iter_mut().filter(|e| e.decision.is_none()) {
            entry.decision = Some(EntryDecision { verdict, by: by.to_owned(), at: now });
        }
        next.state = ReviewState::Closed;
        next.closed_at = Some(now);
        Some(next)
    }
}

impl LivingItem for ReviewList {
    const KIND: ItemKind = ItemKind::AccessReview;

    crate::living_item_fields!();

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "campaign": self.campaign,
            "reviewer": self.reviewer,
            "state": self.state,
            "entries": self.entries,
            "escalated_to": self.escalated_to,
        })
    }

    fn projection(&self) -> Result<Projection, CalendarError> {
        let open = self.state == ReviewState::Open;
        Ok(Projection::default()
            .text("team_key", self.team.to_string())
            .int("campaign", self.campaign as i32)
            .text("reviewer_key", self.reviewer.to_string())
            .text("state", self.state.as_str().to_owned())
            .time("due_at", open.then_some(self.due_at))
            .int("undecided", self.undecided().count() as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identity::fixtures::person;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
    }

    fn entry(access: i64, holder: &str) -> ReviewEntry {
        ReviewEntry {
            access,
            holder: PersonKey::parse(holder).unwrap(),
            system: "crm".into(),
            role: "viewer".into(),
            expires_at: None,
            decision: None,
        }
    }

    fn list() -> ReviewList {
        ReviewList {
            id: 1,
            version: 1,
            campaign: 1,
            scope: "all".into(),
            reviewer: PersonKey::parse("sam").unwrap(),
            started_by: PersonKey::parse("ada").unwrap(),
            started_at: now(),
            due_at: now() + chrono::Duration::days(7),
            entries: vec![entry(1, "alice"), entry(2, "sam"), entry(3, "bob")],
            state: ReviewState::Open,
            reminded: false,
            reminders_sent: Vec::new(),
            escalated_to: Vec::new(),
            closed_at: None,
            team: TeamKey::parse("ops").unwrap(),
            living: Living::new(crate::domain::ids::Platform::Console, "ops".into(), None),
        }
    }

    #[test]
    fn a_reviewer_never_certifies_their_own_access_even_with_certify_all() {
        let sam = person("sam", "ops", &[Role::Supervisor]);
        let l = list();
        assert_eq!(
            l.apply(&sam, &ReviewAction::Certify { access: 2 }, 10, now()),
            Err(Refusal::OwnAccess { access: 2 })
        );
        let all = l.apply(&sam, &ReviewAction::CertifyShown, 2, now()).unwrap();
        let verdicts: Vec<_> =
            all.entries.iter().map(|e| e.decision.as_ref().map(|d| d.verdict)).collect();
        assert_eq!(
            verdicts,
            [Some(ReviewVerdict::Certified), None, None],
            "only the shown, never his own"
        );
        let alice = person("alice", "ops", &[Role::Agent]);
        assert_eq!(
            l.apply(&alice, &ReviewAction::CertifyShown, 2, now()),
            Err(Refusal::NotReviewer)
        );
    }

    #[test]
    fn closing_applies_the_policy_to_what_is_left() {
        let sam = person("sam", "ops", &[Role::Supervisor]);
        let l = list().apply(&sam, &ReviewAction::Revoke { access: 1 }, 10, now()).unwrap();
        let closed = l.close(ClosePolicy::Flag, "ada", now()).unwrap();
        assert_eq!(closed.state, ReviewState::Closed);
        assert_eq!(closed.entries[0].decision.as_ref().unwrap().verdict, ReviewVerdict::Revoked);
        assert_eq!(closed.entries[2].decision.as_ref().unwrap().verdict, ReviewVerdict::Flagged);
        assert_eq!(closed.close(ClosePolicy::Flag, "ada", now()), None);
    }
}
