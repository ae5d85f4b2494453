//! Parsing `/onboard <account> <plan>` and `/onboarding [team]`. Plans and teams are checked
//! against the configuration by the service.

use crate::domain::command::{Command, UsageError, split_first_word};
use crate::domain::ids::{AccountKey, TeamKey};
use crate::domain::messages::onboarding as text;

pub fn parse_onboard(args: &str) -> Result<Command, UsageError> {
    let usage = |problem: String| UsageError { usage: text::HELP_ONBOARD.usage, problem };
    let (account, rest) = split_first_word(args);
    if account.is_empty() {
        return Err(usage(text::missing_account()));
    }
    let account = AccountKey::parse(account).map_err(|e| usage(e.0))?;
    let (plan, extra) = split_first_word(rest);
    if plan.is_empty() {
        return Err(usage(text::missing_plan()));
    }
    if !extra.is_empty() {
        return Err(usage(crate::domain::messages::unexpected_arguments(extra)));
    }
    Ok(Command::Onboard { account, plan: plan.to_ascii_lowercase() })
}

pub fn parse_onboarding(args: &str) -> Result<Command, UsageError> {
    let usage = |problem: String| UsageError { usage: text::HELP_ONBOARDING.usage, problem };
    let (team, extra) = split_first_word(args);
    if !extra.is_empty() {
        return Err(usage(crate::domain::messages::unexpected_arguments(extra)));
    }
    let team = if team.is_empty() {
        None
    } else {
        Some(TeamKey::parse(team).map_err(|_| usage(text::unknown_team(team)))?)
    };
    Ok(Command::Onboarding { team })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onboard_takes_an_account_and_a_plan() {
        assert_eq!(
            parse_onboard("ACME-1042 Standard"),
            Ok(Command::Onboard {
                account: AccountKey::parse("ACME-1042").unwrap(),
                plan: "standard".into()
            })
        );
        assert!(parse_onboard("").unwrap_err().problem.contains("Name the account"));
        assert!(parse_onboard("ACME-1042").unwrap_err().problem.contains("Name the plan"));
        assert_eq!(parse_onboarding(""), Ok(Command::Onboarding { team: None }));
    }
}
