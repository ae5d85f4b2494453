//! Resolving a policy level to people and channels, and writing the pages.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::domain::escalation::Escalation;
use crate::domain::identity::{Person, Role};
use crate::domain::ids::TeamKey;
use crate::domain::item::ItemKind;
use crate::domain::messages::escalation as text;
use crate::domain::policy::{Level, PageTarget};
use crate::domain::reply::Message;
use crate::services::Setup;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// The pages for one step: who (for the card) and the messages to send.
pub(crate) struct Pages {
    /// 1-based level number.
    pub level: usize,
    pub names: Vec<String>,
    pub messages: Vec<NewOutboxMessage>,
}

/// Who a policy level pages at `now` for `team`: people (sorted, once each) and channels.
/// `/policy explain` shows the same, so what it says is what a page would do.
pub(crate) fn recipients<'a>(
    setup: &'a Setup,
    team: &TeamKey,
    level: &'a Level,
    now: DateTime<Utc>,
) -> (Vec<&'a Person>, BTreeSet<String>) {
    let mut people: Vec<&Person> = Vec::new();
    let mut channels = BTreeSet::new();
    for target in &level.targets {
        match target {
            PageTarget::Person(key) => people.extend(setup.directory.person(key)),
            PageTarget::Role(role) => people
                .extend(setup.directory.people().filter(|p| &p.team == team && p.has_role(*role))),
            PageTarget::Shift(shift_team) => {
                let shift_team = shift_team.as_ref().unwrap_or(team);
                people.extend(setup.directory.people().filter(|p| {
                    &p.team == shift_team
                        && (p.has_role(Role::Agent) || p.has_role(Role::Supervisor))
                        && setup.policies.on_shift(&p.key, now)
                }));
            }
            PageTarget::Channel(name) => {
                channels.insert(name.clone());
            }
        }
    }
    people.sort_by(|a, b| a.key.cmp(&b.key));
    people.dedup_by(|a, b| a.key == b.key);
    (people, channels)
}

/// Pages the level at `escalation.step`; `None` when the policy is exhausted.
pub(crate) fn page_step(setup: &Setup, e: &Escalation, now: DateTime<Utc>) -> Option<Pages> {
    let (index, level) = e.policy.level_at(e.step)?;
    let (people, channels) = recipients(setup, &e.team, level, now);
    let page = Message::text(text::page(e, index + 1));
    let dedupe = |to: &str| format!("{}{to}", page_key_prefix(e.id, e.step));
    let mut messages = Vec::new();
    let mut names = Vec::new();
    for person in people {
        names.push(person.display_name.clone());
        if let Some(user) = person.user_on(e.living.platform) {
            messages.push(NewOutboxMessage {
                platform: e.living.platform.as_str().to_owned(),
                kind: OutboxKind::Dm,
                target: user.to_owned(),
                message: page.clone(),
                dedupe_key: dedupe(person.key.as_str()),
                not_before: now,
                workspace: e.living.workspace.clone(),
            });
        }
    }
    for channel in channels {
        names.push(format!("#{channel}"));
        messages.push(NewOutboxMessage {
            platform: e.living.platform.as_str().to_owned(),
            kind: OutboxKind::Post,
            // Checked at start-up: every enabled platform has an id for the logical channel.
            target: setup
                .settings
                .channel_on(e.living.platform, &channel)
                .unwrap_or(channel.clone()),
            message: page.clone(),
            dedupe_key: dedupe(&format!("#{channel}")),
            not_before: now,
            workspace: e.living.workspace.clone(),
        });
    }
    Some(Pages { level: index + 1, names, messages })
}

/// The start of every page's outbox dedupe key for one step: `esc:42:page:1:`.
fn page_key_prefix(escalation: i64, step: u32) -> String {
    format!("{}:{escalation}:page:{step}:", ItemKind::Escalation.prefix())
}

/// A SQL `LIKE` pattern matching every page's dedupe key (for `/steward status`).
pub fn page_key_pattern() -> String {
    format!("{}:%:page:%", ItemKind::Escalation.prefix())
}

/// The escalation and step a page's dedupe key names; `None` for any other message.
pub(crate) fn paged_step(dedupe_key: &str) -> Option<(i64, u32)> {
    let rest = dedupe_key.strip_prefix(ItemKind::Escalation.prefix())?.strip_prefix(':')?;
    let (escalation, rest) = rest.split_once(':')?;
    let (step, _) = rest.strip_prefix("page:")?.split_once(':')?;
    Some((escalation.parse().ok()?, step.parse().ok()?))
}

/// Whether some page of this step reached somebody already.
pub(crate) async fn step_reached_someone(
    tx: &mut Tx,
    escalation: i64,
    step: u32,
) -> sqlx::Result<bool> {
    storage::outbox::any_sent_with_prefix(tx.conn().await?, &page_key_prefix(escalation, step))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_key_names_its_escalation_and_step() {
        assert_eq!(paged_step(&format!("{}alice", page_key_prefix(42, 1))), Some((42, 1)));
        assert_eq!(paged_step("esc:42:page:3:#ops"), Some((42, 3)));
        assert_eq!(paged_step("esc:42:card:v3"), None);
        assert_eq!(paged_step("cr:42:page:1:alice"), None);
        assert_eq!(paged_step("esc:x:page:1:alice"), None);
    }
}
