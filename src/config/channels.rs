//! Logical channels: policies (`channel:emea-escalations`) name a channel once, and
//! `[channels.<name>]` says what it is on each platform, since a Slack channel id means
//! nothing to Discord and the other way round.
//!
//! ```toml
//! [channels.emea-escalations]
//! slack = "C0123ESCAL"
//! discord = "200000000000000002"
//! # console: the logical name itself unless given
//! ```

use std::collections::BTreeMap;

use super::Settings;
use crate::domain::ids::Platform;

/// A logical channel's id per platform.
pub type ChannelMap = BTreeMap<Platform, String>;

/// Whether `raw` already is a channel id of `platform` (so it needs no mapping).
fn is_platform_id(platform: Platform, raw: &str) -> bool {
    match platform {
        // C… public, G… private, D… direct; upper-case letters and digits.
        Platform::Slack => {
            raw.len() >= 9
                && raw.starts_with(['C', 'G', 'D'])
                && raw.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        }
        Platform::Discord => {
            (17..=20).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_digit())
        }
        Platform::Console => true,
    }
}

impl Settings {
    /// The channel `name` stands for on `platform`: its `[channels]` mapping, else `name`
    /// itself when it already is such an id (and always on the console).
    pub fn channel_on(&self, platform: Platform, name: &str) -> Option<String> {
        let name = name.trim_start_matches('#');
        match self.channels.get(name).and_then(|map| map.get(&platform)) {
            Some(id) => Some(id.clone()),
            None => is_platform_id(platform, name).then(|| name.to_owned()),
        }
    }

    /// The platforms whose adapters are enabled, besides the console.
    pub fn enabled_chat_platforms(&self) -> Vec<Platform> {
        let mut out = Vec::new();
        if self.slack.enabled {
            out.push(Platform::Slack);
        }
        if self.discord.enabled {
            out.push(Platform::Discord);
        }
        out
    }

    /// Refuses a logical channel that an enabled platform has no id for.
    pub(crate) fn check_channel(&self, name: &str) -> Result<(), String> {
        for platform in self.enabled_chat_platforms() {
            if self.channel_on(platform, name).is_none() {
                return Err(format!(
                    "channel `{name}` has no {platform} channel: add `[channels.{name}]` with \
                     `{platform} = \"<channel id>\"`"
                ));
            }
        }
        Ok(())
    }

    /// Refuses mappings that are not the platform's ids.
    pub(crate) fn check_channel_map(&self) -> Result<(), (String, String)> {
        for (name, map) in &self.channels {
            for (platform, id) in map {
                if !is_platform_id(*platform, id) {
                    return Err((
                        format!("channels.{name}.{platform}"),
                        format!("`{id}` is not a {platform} channel id"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let mut settings = Settings::default();
        settings
            .channels
            .insert("emea-escalations".into(), [(Platform::Slack, "C0123ESCAL".to_owned())].into());
        settings
    }

    #[test]
    fn a_logical_channel_maps_per_platform_and_ids_pass_as_they_are() {
        let s = settings();
        assert_eq!(
            s.channel_on(Platform::Slack, "emea-escalations").as_deref(),
            Some("C0123ESCAL")
        );
        assert_eq!(s.channel_on(Platform::Discord, "emea-escalations"), None);
        assert_eq!(
            s.channel_on(Platform::Console, "emea-escalations").as_deref(),
            Some("emea-escalations")
        );
        assert_eq!(
            s.channel_on(Platform::Discord, "200000000000000002").as_deref(),
            Some("200000000000000002")
        );
        assert_eq!(s.channel_on(Platform::Slack, "general"), None);
    }

    #[test]
    fn an_enabled_platform_without_a_mapping_is_refused() {
        let mut s = settings();
        assert!(s.check_channel("emea-escalations").is_ok(), "no chat platform enabled");
        s.slack.enabled = true;
        assert!(s.check_channel("emea-escalations").is_ok());
        s.discord.enabled = true;
        let err = s.check_channel("emea-escalations").unwrap_err();
        assert!(err.contains("no discord channel"), "{err}");
        s.channels.get_mut("emea-escalations").unwrap().insert(Platform::Discord, "ops".into());
        assert!(s.check_channel_map().unwrap_err().1.contains("not a discord channel id"));
    }
}
