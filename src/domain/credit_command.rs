//! Parsing `/credit`, `/adjust`, `/credits` and `/audit`. Reason codes are checked against
//! the configuration by the service (the parser is pure and knows no configuration).

use rust_decimal::Decimal;

use super::command::{Command, UsageError, split_first_word};
use super::credit::CreditKind;
use super::ids::AccountKey;
use super::messages::credit as text;
use super::messages::{self, CommandHelp};
use super::money::{Currency, MoneyError, parse_amount};
use super::page::{Page, take_page};

/// What a `/credit`-family command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditCommand {
    /// `/credit` or `/adjust`: a new credit for approval.
    Open {
        kind: CreditKind,
        account: AccountKey,
        details: Details,
    },
    Edit {
        id: i64,
        details: Details,
    },
    Cancel {
        id: i64,
    },
    Show {
        id: i64,
    },
    List {
        filter: CreditList,
        page: Page,
    },
}

/// Amount, currency, reason code and optional note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub amount: Decimal,
    pub currency: Currency,
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditList {
    /// Waiting for a decision (default).
    Pending,
    /// Requested by the actor.
    Mine,
    Account(AccountKey),
}

fn usage(help: &CommandHelp, problem: impl Into<String>) -> UsageError {
    UsageError { usage: help.usage, problem: problem.into() }
}

/// `/credit …`: a request, or `edit`/`cancel`/`show`.
pub fn parse_credit(args: &str) -> Result<Command, UsageError> {
    let (first, rest) = split_first_word(args);
    let command = match first {
        "edit" => {
            let help = &text::HELP_CREDIT_EDIT;
            let (id, rest) = split_first_word(rest);
            let id = parse_id(help, id)?;
            CreditCommand::Edit { id, details: parse_details(help, rest, true)? }
        }
        "cancel" => CreditCommand::Cancel { id: parse_id(&text::HELP_CREDIT_CANCEL, rest)? },
        "show" => CreditCommand::Show { id: parse_id(&text::HELP_CREDIT_SHOW, rest)? },
        _ => parse_open(CreditKind::Credit, &text::HELP_CREDIT, args)?,
    };
    Ok(Command::Credit(command))
}

/// `/adjust <account> <amount> <currency> <reason-code> [note]`.
pub fn parse_adjust(args: &str) -> Result<Command, UsageError> {
    Ok(Command::Credit(parse_open(CreditKind::Adjustment, &text::HELP_ADJUST, args)?))
}

/// `/credits [pending|mine|account <key>] [page N]`.
pub fn parse_credits(args: &str) -> Result<Command, UsageError> {
    let help = &text::HELP_CREDITS;
    let (words, page) =
        take_page(args).map_err(|raw| usage(help, messages::item::invalid_page(&raw)))?;
    let args = words.join(" ");
    let (first, rest) = split_first_word(&args);
    let list = match (first.to_ascii_lowercase().as_str(), rest) {
        ("" | "pending", "") => CreditList::Pending,
        ("mine", "") => CreditList::Mine,
        ("account", "") => return Err(usage(help, text::missing_account())),
        ("account", key) => {
            CreditList::Account(AccountKey::parse(key).map_err(|e| usage(help, e.0))?)
        }
        _ => return Err(usage(help, text::invalid_list_filter(&args))),
    };
    Ok(Command::Credit(CreditCommand::List { filter: list, page }))
}

/// `/audit <account>`.
pub fn parse_audit(args: &str) -> Result<Command, UsageError> {
    let help = &text::HELP_AUDIT;
    if args.trim().is_empty() {
        return Err(usage(help, text::missing_account()));
    }
    let account = AccountKey::parse(args).map_err(|e| usage(help, e.0))?;
    Ok(Command::Audit { account })
}

fn parse_open(
    kind: CreditKind,
    help: &CommandHelp,
    args: &str,
) -> Result<CreditCommand, UsageError> {
    let (account, rest) = split_first_word(args);
    if account.is_empty() {
        return Err(usage(help, text::missing_account()));
    }
    let account = AccountKey::parse(account).map_err(|e| usage(help, e.0))?;
    let details = parse_details(help, rest, kind == CreditKind::Adjustment)?;
    Ok(CreditCommand::Open { kind, account, details })
}

fn parse_id(help: &CommandHelp, raw: &str) -> Result<i64, UsageError> {
    crate::domain::command::parse_positive(
        help,
        raw,
        text::missing_credit_id,
        text::invalid_credit_id,
    )
}

fn parse_details(
    help: &CommandHelp,
    args: &str,
    allow_negative: bool,
) -> Result<Details, UsageError> {
    let (amount, rest) = split_first_word(args);
    let (currency, rest) = split_first_word(rest);
    let (reason, note) = split_first_word(rest);
    if amount.is_empty() || currency.is_empty() {
        return Err(usage(help, text::missing_amount()));
    }
    let (amount, currency) = parse_amount(amount, currency, allow_negative)
        .map_err(|e| usage(help, money_problem(&e)))?;
    if reason.is_empty() {
        return Err(usage(help, text::missing_reason()));
    }
    super::text_limit::check("note", note).map_err(|p| usage(help, p))?;
    let note = (!note.is_empty()).then(|| note.to_owned());
    Ok(Details { amount, currency, reason: reason.to_ascii_lowercase(), note })
}

fn money_problem(err: &MoneyError) -> String {
    text::money_error(err)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::domain::command::parse;

    #[test]
    fn a_credit_request_parses_amount_currency_reason_and_note() {
        let Ok(Command::Credit(CreditCommand::Open { kind, account, details })) =
            parse("credit", "ACME-1042 250 usd goodwill Sorry for the outage")
        else {
            panic!("not a request")
        };
        assert_eq!(kind, CreditKind::Credit);
        assert_eq!(account.as_str(), "ACME-1042");
        assert_eq!(details.amount, Decimal::from_str("250.00").unwrap());
        assert_eq!(details.currency.code(), "USD");
        assert_eq!(details.reason, "goodwill");
        assert_eq!(details.note.as_deref(), Some("Sorry for the outage"));
    }

    #[test]
    fn credits_may_not_be_negative_but_adjustments_may() {
        let err = parse("credit", "ACME-1 -5 USD goodwill").unwrap_err();
        assert_eq!(err.usage, text::HELP_CREDIT.usage);
        assert!(err.problem.contains("negative"), "{}", err.problem);
        assert!(parse("adjust", "ACME-1 -5 USD billing-error").is_ok());
    }

    #[test]
    fn bad_amounts_get_a_clear_problem_and_the_usage_line() {
        let cases = [
            ("ACME-1 0 USD goodwill", "more than zero"),
            ("ACME-1 1.234 USD goodwill", "2 decimal"),
            ("ACME-1 10.5 JPY goodwill", "whole"),
            ("ACME-1 10 XYZ goodwill", "`XYZ` is not a currency"),
            ("ACME-1 2000000000 USD goodwill", "1,000,000,000"),
            ("ACME-1 ten USD goodwill", "`ten` is not an amount"),
            ("ACME-1 10 USD", "reason code"),
            ("ACME-1", "amount and a currency"),
        ];
        for (args, problem) in cases {
            let err = parse("credit", args).unwrap_err();
            assert_eq!(err.usage, text::HELP_CREDIT.usage);
            assert!(err.problem.contains(problem), "{args}: {}", err.problem);
        }
    }

    #[test]
    fn subcommands_parse_with_their_own_usage_lines() {
        assert_eq!(
            parse("credit", "cancel #4"),
            Ok(Command::Credit(CreditCommand::Cancel { id: 4 }))
        );
        assert_eq!(
            parse("steward", "credit show 7"),
            Ok(Command::Credit(CreditCommand::Show { id: 7 }))
        );
        assert_eq!(parse("credit", "show x").unwrap_err().usage, text::HELP_CREDIT_SHOW.usage);
        assert!(matches!(
            parse("credit", "edit 3 -20 EUR goodwill"),
            Ok(Command::Credit(CreditCommand::Edit { id: 3, .. }))
        ));
        assert_eq!(
            parse("credits", ""),
            Ok(Command::Credit(CreditCommand::List {
                filter: CreditList::Pending,
                page: Page::FIRST
            }))
        );
        assert_eq!(
            parse("credits", "pending page 2"),
            Ok(Command::Credit(CreditCommand::List {
                filter: CreditList::Pending,
                page: Page::new(2).unwrap()
            }))
        );
        assert_eq!(
            parse("credits", "mine"),
            Ok(Command::Credit(CreditCommand::List {
                filter: CreditList::Mine,
                page: Page::FIRST
            }))
        );
        assert!(matches!(
            parse("credits", "account ACME-1"),
            Ok(Command::Credit(CreditCommand::List { filter: CreditList::Account(_), .. }))
        ));
        assert_eq!(parse("credits", "soon").unwrap_err().usage, text::HELP_CREDITS.usage);
        assert!(matches!(parse("audit", "ACME-1"), Ok(Command::Audit { .. })));
        assert_eq!(parse("audit", "").unwrap_err().usage, text::HELP_AUDIT.usage);
    }
}
