//! Parsing `/policy explain …`: who would be paged for an escalation, and who may approve a
//! credit, before either exists.

use rust_decimal::Decimal;

use super::command::{Command, UsageError, split_first_word};
use super::ids::AccountKey;
use super::messages::policy as text;
use super::messages::{CommandHelp, credit as credit_text, escalation as esc_text};
use super::money::{Currency, parse_amount};
use super::severity::Severity;

/// What `/policy explain` asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyQuestion {
    /// `/policy explain <account> <severity>`.
    Escalation { account: AccountKey, severity: Severity },
    /// `/policy explain credit <account> <amount> <currency>`.
    Credit { account: AccountKey, amount: Decimal, currency: Currency },
}

fn usage(help: &CommandHelp, problem: impl Into<String>) -> UsageError {
    UsageError { usage: help.usage, problem: problem.into() }
}

/// `/policy explain …`.
pub fn parse(args: &str) -> Result<Command, UsageError> {
    let (verb, rest) = split_first_word(args);
    match verb.to_ascii_lowercase().as_str() {
        "explain" => {}
        "" => return Err(usage(&text::HELP_POLICY, text::missing_question())),
        other => return Err(usage(&text::HELP_POLICY, text::unknown_subcommand(other))),
    }
    let (first, after) = split_first_word(rest);
    if first.eq_ignore_ascii_case("credit") {
        return parse_credit(after);
    }
    let help = &text::HELP_POLICY;
    if first.is_empty() {
        return Err(usage(help, esc_text::missing_account()));
    }
    let account = AccountKey::parse(first).map_err(|e| usage(help, e.0))?;
    let (severity, extra) = split_first_word(after);
    if severity.is_empty() {
        return Err(usage(help, esc_text::missing_severity()));
    }
    let severity = Severity::parse(severity)
        .ok_or_else(|| usage(help, esc_text::unknown_severity(severity)))?;
    if !extra.is_empty() {
        return Err(usage(help, super::messages::unexpected_arguments(extra)));
    }
    Ok(Command::Policy(PolicyQuestion::Escalation { account, severity }))
}

fn parse_credit(args: &str) -> Result<Command, UsageError> {
    let help = &text::HELP_POLICY_CREDIT;
    let (account, rest) = split_first_word(args);
    if account.is_empty() {
        return Err(usage(help, credit_text::missing_account()));
    }
    let account = AccountKey::parse(account).map_err(|e| usage(help, e.0))?;
    let (amount, rest) = split_first_word(rest);
    let (currency, extra) = split_first_word(rest);
    if amount.is_empty() || currency.is_empty() {
        return Err(usage(help, credit_text::missing_amount()));
    }
    let (amount, currency) = parse_amount(amount, currency, true)
        .map_err(|e| usage(help, credit_text::money_error(&e)))?;
    if !extra.is_empty() {
        return Err(usage(help, super::messages::unexpected_arguments(extra)));
    }
    Ok(Command::Policy(PolicyQuestion::Credit { account, amount, currency }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::command::parse as parse_command;

    #[test]
    fn both_questions_parse_and_mistakes_name_the_usage() {
        assert!(matches!(
            parse_command("policy", "explain ACME-1042 sev2"),
            Ok(Command::Policy(PolicyQuestion::Escalation { severity: Severity::Sev2, .. }))
        ));
        assert!(matches!(
            parse_command("steward", "policy explain credit ACME-1042 800 USD"),
            Ok(Command::Policy(PolicyQuestion::Credit { .. }))
        ));
        let err = parse_command("policy", "explain ACME-1042").unwrap_err();
        assert_eq!(err.usage, text::HELP_POLICY.usage);
        assert!(err.problem.contains("severity"), "{}", err.problem);
        let err = parse_command("policy", "explain credit ACME-1042 lots USD").unwrap_err();
        assert_eq!(err.usage, text::HELP_POLICY_CREDIT.usage);
        let err = parse_command("policy", "").unwrap_err();
        assert!(err.problem.contains("explain"), "{}", err.problem);
    }
}
