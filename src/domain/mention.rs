//! Platform mentions in what people type → person keys.
//!
//! Slack writes a mention as `<@U024BE7LH>` (or `<@U024BE7LH|sam>`), Discord as `<@80351110224678912>`
//! (or `<@!…>` for a nickname). A person argument may be written that way, so an adapter
//! rewrites every mention of someone in the directory to `@key` before the text reaches the
//! parsers, which accept `@key` wherever a person key goes (`PersonKey::parse`). A mention of
//! someone Steward does not know stays as typed; renderers show it as text, never as a ping.

use super::identity::Directory;
use super::ids::Platform;
use super::inbound::{Inbound, InboundKind};

/// `text` with each mention of a known person replaced by `@key`.
pub fn resolve_mentions(text: &str, platform: Platform, directory: &Directory) -> String {
    resolve_mentions_in(text, platform, None, directory)
}

/// [`resolve_mentions`] for text typed in `workspace`: a mention names that workspace's user.
pub fn resolve_mentions_in(
    text: &str,
    platform: Platform,
    workspace: Option<&str>,
    directory: &Directory,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match mention(candidate).and_then(|(user, len)| {
            let person = directory.resolve_in(platform, workspace, user);
            person.map(|person| (person.key.as_str(), len))
        }) {
            Some((key, len)) => {
                out.push('@');
                out.push_str(key);
                rest = &candidate[len..];
            }
            None => {
                out.push_str("<@");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The user id of the mention `text` starts with, and the mention's length in bytes.
fn mention(text: &str) -> Option<(&str, usize)> {
    let inner = text.strip_prefix("<@")?;
    let end = inner.find('>')?;
    let body = &inner[..end];
    let body = body.strip_prefix('!').unwrap_or(body);
    let user = body.split('|').next().unwrap_or_default();
    let plausible = !user.is_empty() && user.chars().all(|c| c.is_ascii_alphanumeric());
    plausible.then_some((user, 2 + end + 1))
}

/// The inbound event with mentions resolved in a command's arguments and in a submission's
/// fields (a modal's "person to own it"). Clicks carry no typed text.
pub fn resolve_inbound(mut inbound: Inbound, directory: &Directory) -> Inbound {
    let platform = inbound.platform;
    let workspace = inbound.workspace.as_deref();
    match &mut inbound.kind {
        InboundKind::Command { args, .. } => {
            *args = resolve_mentions_in(args, platform, workspace, directory)
        }
        InboundKind::Submission { fields, .. } => {
            for value in fields.values_mut() {
                *value = resolve_mentions_in(value, platform, workspace, directory);
            }
        }
        InboundKind::Action { .. } | InboundKind::RoomMessage(_) => {}
    }
    inbound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identity::Role;
    use crate::domain::identity::fixtures::{person, team};
    use crate::domain::ids::PersonKey;

    fn directory() -> Directory {
        let mut sam = person("sam", "ops", &[Role::Agent]);
        sam.identities.insert(Platform::Slack, "U0SAM".into());
        sam.identities.insert(Platform::Discord, "100000000000000002".into());
        Directory::new(vec![team("ops")], vec![sam], vec![]).unwrap()
    }

    #[test]
    fn known_mentions_become_person_keys_on_either_platform() {
        let dir = directory();
        assert_eq!(resolve_mentions("assign 4 <@U0SAM>", Platform::Slack, &dir), "assign 4 @sam");
        assert_eq!(resolve_mentions("<@U0SAM|sam>, look", Platform::Slack, &dir), "@sam, look");
        let discord = resolve_mentions("handoff <@!100000000000000002>", Platform::Discord, &dir);
        assert_eq!(discord, "handoff @sam");
        let key = discord.split_whitespace().last().unwrap();
        assert_eq!(PersonKey::parse(key).unwrap().as_str(), "sam");
    }

    #[test]
    fn unknown_mentions_and_broadcasts_stay_as_typed() {
        let dir = directory();
        for text in ["<@U0NOBODY> and <!here>", "a <@ b", "<@U0SAM", "<@U0SAM> on discord"] {
            // Sam's Slack id means nothing on Discord.
            let platform =
                if text.ends_with("discord") { Platform::Discord } else { Platform::Slack };
            assert_eq!(resolve_mentions(text, platform, &dir), text);
        }
    }
}
