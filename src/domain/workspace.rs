//! Workspaces: one Slack app installed in several teams (issue 14 item 6). A Slack id in
//! configuration may name its workspace: `T123:U456` is user `U456` of team `T123`, and
//! `T123:C789` channel `C789` there. A plain id (`U456`) is in the default workspace, the
//! one of the environment's token. Other platforms have no workspaces: their ids are taken
//! as they are.

use super::ids::Platform;

/// An id as configured, split into its workspace (if it names one) and the platform's id.
pub fn split(platform: Platform, raw: &str) -> (Option<&str>, &str) {
    match (platform, raw.split_once(':')) {
        (Platform::Slack, Some((team, id))) if is_team_id(team) && !id.is_empty() => {
            (Some(team), id)
        }
        _ => (None, raw),
    }
}

/// The id qualified by `workspace` as configuration writes it (`T123:U456`), or plain.
pub fn qualify(workspace: Option<&str>, id: &str) -> String {
    match workspace {
        Some(team) => format!("{team}:{id}"),
        None => id.to_owned(),
    }
}

/// Slack team ids are `T` (or `E` for an Enterprise Grid org) and upper-case letters and
/// digits.
pub fn is_team_id(raw: &str) -> bool {
    raw.len() >= 2
        && (raw.starts_with('T') || raw.starts_with('E'))
        && raw.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slack_id_may_name_its_workspace_and_other_platforms_ids_are_whole() {
        assert_eq!(split(Platform::Slack, "T123:U456"), (Some("T123"), "U456"));
        assert_eq!(split(Platform::Slack, "U456"), (None, "U456"));
        assert_eq!(
            split(Platform::Slack, "C0OPS/1732352400.000100"),
            (None, "C0OPS/1732352400.000100")
        );
        assert_eq!(split(Platform::Slack, "t123:U456"), (None, "t123:U456"));
        assert_eq!(split(Platform::Console, "T1:alice"), (None, "T1:alice"));
        assert_eq!(qualify(Some("T1"), "U2"), "T1:U2");
        assert_eq!(qualify(None, "U2"), "U2");
    }
}
