//! `[incident]`: incident war rooms — status-update cadence, rooms, capture and nags.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::Deserialize;

use crate::domain::duration::serde_duration;
use crate::domain::severity::Severity;

/// How a Slack war room is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomMode {
    /// A channel of its own per incident (named prefix + id + slug).
    #[default]
    Channel,
    /// The thread of the summary card in the team's channel.
    Thread,
}

/// `[incident]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentSettings {
    /// How often a status update is due, per severity: `[incident.update_every]`.
    pub update_every: Cadence,
    /// How long after a customer notice is sent the customer is owed the next one.
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub customer_update_every: Duration,
    /// The team's supervisor is told when nobody took command this long after declare.
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub commander_within: Duration,
    /// An overdue status update is raised to the commander this long after the comms holder
    /// was reminded.
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub escalate_overdue_after: Duration,
    /// An action item's owner is reminded this long before it is due (and again when due).
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub action_remind_before: Duration,
    /// A reaction with this emoji puts a room message on the timeline (pins always do).
    /// Discord sends the emoji itself.
    pub pin_emoji: String,
    /// The same emoji by its Slack name (Slack's `reaction_added` names it, without colons).
    pub pin_emoji_slack: String,
    /// Slack: a channel per incident (`channel`, made, filled, pinned and archived by
    /// Steward) or the summary card's thread (`thread`). Read as `room_mode` too (its
    /// earlier name).
    #[serde(alias = "room_mode")]
    pub slack_room: RoomMode,
    /// The start of every room's channel name (Slack channel, console channel `inc-<id>`).
    pub channel_prefix: String,
    /// A Slack room channel is archived this long after resolve.
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub archive_after: Duration,
    /// Discord: the id of a forum channel. When set, an incident's room is a post in this
    /// forum (tagged with its severity) instead of a thread on the summary card.
    pub discord_forum: Option<String>,
    /// Discord: the forum's tag id per severity (`sev1 = "…"`), applied to the room's post.
    /// A severity without a tag posts untagged.
    pub discord_forum_tags: BTreeMap<Severity, String>,
}

/// Status-update cadence per severity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cadence {
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub sev1: Duration,
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub sev2: Duration,
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub sev3: Duration,
    #[serde(deserialize_with = "serde_duration::deserialize")]
    pub sev4: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            sev1: Duration::minutes(30),
            sev2: Duration::hours(1),
            sev3: Duration::hours(4),
            sev4: Duration::hours(8),
        }
    }
}

impl Cadence {
    pub fn of(&self, severity: Severity) -> Duration {
        match severity {
            Severity::Sev1 => self.sev1,
            Severity::Sev2 => self.sev2,
            Severity::Sev3 => self.sev3,
            Severity::Sev4 => self.sev4,
        }
    }
}

impl Default for IncidentSettings {
    fn default() -> Self {
        IncidentSettings {
            update_every: Cadence::default(),
            customer_update_every: Duration::hours(2),
            commander_within: Duration::minutes(5),
            escalate_overdue_after: Duration::minutes(10),
            action_remind_before: Duration::days(1),
            pin_emoji: "📌".into(),
            pin_emoji_slack: "pushpin".into(),
            slack_room: RoomMode::Channel,
            discord_forum: None,
            discord_forum_tags: BTreeMap::new(),
            channel_prefix: "inc-".into(),
            archive_after: Duration::hours(24),
        }
    }
}

impl IncidentSettings {
    /// Durations must be positive; the prefix must make a valid channel name.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let durations = [
            ("incident.update_every.sev1", self.update_every.sev1),
            ("incident.update_every.sev2", self.update_every.sev2),
            ("incident.update_every.sev3", self.update_every.sev3),
            ("incident.update_every.sev4", self.update_every.sev4),
            ("incident.customer_update_every", self.customer_update_every),
            ("incident.commander_within", self.commander_within),
            ("incident.escalate_overdue_after", self.escalate_overdue_after),
            ("incident.action_remind_before", self.action_remind_before),
            ("incident.archive_after", self.archive_after),
        ];
        if let Some((key, _)) = durations.into_iter().find(|(_, d)| *d <= Duration::zero()) {
            return Err((key.into(), "must be greater than zero".into()));
        }
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if self.channel_prefix.is_empty() || !self.channel_prefix.chars().all(valid) {
            let problem = "must be lowercase letters, digits, `-` or `_` (a channel name)";
            return Err(("incident.channel_prefix".into(), problem.into()));
        }
        if self.channel_prefix.len() > 40 {
            return Err(("incident.channel_prefix".into(), "at most 40 characters".into()));
        }
        if self.pin_emoji.trim().is_empty() || self.pin_emoji_slack.trim().is_empty() {
            return Err(("incident.pin_emoji".into(), "must not be empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_bad_prefix_is_refused_by_name() {
        assert_eq!(IncidentSettings::default().validate(), Ok(()));
        let bad = IncidentSettings { channel_prefix: "Inc ".into(), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "incident.channel_prefix");
        let zero = IncidentSettings { archive_after: Duration::zero(), ..Default::default() };
        assert_eq!(zero.validate().unwrap_err().0, "incident.archive_after");
    }
}
