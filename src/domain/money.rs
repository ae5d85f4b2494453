//! Money: `rust_decimal::Decimal` amounts in ISO 4217 currencies, checked against each
//! currency's minor units (JPY has none, USD two, BHD three). Never `f64`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Common ISO 4217 currencies and their minor units (digits after the decimal point).
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// The largest magnitude Steward accepts: beyond this an amount is a typo, not a credit.
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Digits before the point of [`MAX_MAGNITUDE`]; an amount with more is too large.
const MAX_WHOLE_DIGITS: usize = 10;

/// A known ISO 4217 currency code, e.g. `USD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    /// Parses a code case-insensitively; `None` for codes not in the table.
    pub fn parse(raw: &str) -> Option<Currency> {
        let code = raw.trim().to_ascii_uppercase();
        CURRENCIES.iter().any(|(c, _)| *c == code).then_some(Currency(code))
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point.
    pub fn minor_units(&self) -> u32 {
        CURRENCIES.iter().find(|(c, _)| *c == self.0).map(|(_, m)| *m).unwrap_or(2)
    }

    /// Renders an amount with exactly the currency's minor units: `250.00 USD`, `500 JPY`.
    pub fn format(&self, amount: Decimal) -> String {
        let mut scaled = amount;
        scaled.rescale(self.minor_units());
        format!("{scaled} {}", self.0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value).ok_or_else(|| format!("`{value}` is not a known ISO 4217 currency"))
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.0
    }
}

/// Why an amount was refused. The words are in `messages::credit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber(String),
    UnknownCurrency(String),
    Zero,
    /// Credits are given, never taken: only adjustments may be negative.
    Negative,
    TooManyDecimals {
        currency: Currency,
        minor_units: u32,
    },
    TooLarge,
}

/// Parses `raw` as an amount in `currency`. Plain decimal notation only (no exponents, no
/// thousands separators), so what the user typed is exactly what is stored.
pub fn parse_amount(
    raw: &str,
    currency: &str,
    allow_negative: bool,
) -> Result<(Decimal, Currency), MoneyError> {
    let currency = Currency::parse(currency)
        .ok_or_else(|| MoneyError::UnknownCurrency(currency.to_owned()))?;
    let raw = raw.trim();
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    let well_formed = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(MoneyError::NotANumber(raw.to_owned()));
    }
    // Checked on the text: more digits than a Decimal holds would otherwise fail to parse
    // and be reported as "not an amount".
    let whole_digits = digits.split('.').next().unwrap_or("").trim_start_matches('0').len();
    if whole_digits > MAX_WHOLE_DIGITS {
        return Err(MoneyError::TooLarge);
    }
    if digits.len() > 40 {
        return Err(MoneyError::NotANumber(raw.to_owned()));
    }
    let amount = Decimal::from_str(raw).map_err(|_| MoneyError::NotANumber(raw.to_owned()))?;
    if amount.is_zero() {
        return Err(MoneyError::Zero);
    }
    if amount.is_sign_negative() && !allow_negative {
        return Err(MoneyError::Negative);
    }
    if amount.abs() > MAX_MAGNITUDE {
        return Err(MoneyError::TooLarge);
    }
    // `1.50` is fine in USD; `1.505` is not. Trailing zeros beyond the minor units are too
    // (`100.000` JPY), so normalise before counting.
    if amount.normalize().scale() > currency.minor_units() {
        let minor_units = currency.minor_units();
        return Err(MoneyError::TooManyDecimals { currency, minor_units });
    }
    let mut amount = amount.normalize();
    amount.rescale(currency.minor_units());
    Ok((amount, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str, currency: &str) -> String {
        let (amount, currency) = parse_amount(raw, currency, true).unwrap();
        currency.format(amount)
    }

    #[test]
    fn amounts_are_checked_against_the_currencys_minor_units() {
        assert_eq!(ok("250", "usd"), "250.00 USD");
        assert_eq!(ok("250.5", "EUR"), "250.50 EUR");
        assert_eq!(ok("1500", "JPY"), "1500 JPY");
        assert_eq!(ok("1.250", "KWD"), "1.250 KWD");
        assert_eq!(ok("100.000", "JPY"), "100 JPY");
        let err = parse_amount("1.505", "USD", false).unwrap_err();
        assert!(matches!(err, MoneyError::TooManyDecimals { minor_units: 2, .. }), "{err:?}");
        assert!(matches!(
            parse_amount("10.5", "JPY", false),
            Err(MoneyError::TooManyDecimals { minor_units: 0, .. })
        ));
        assert!(parse_amount("1.2345", "BHD", false).is_err());
    }

    #[test]
    fn zero_negative_credits_and_garbage_are_refused() {
        assert_eq!(parse_amount("0.00", "USD", true), Err(MoneyError::Zero));
        assert_eq!(parse_amount("-5", "USD", false), Err(MoneyError::Negative));
        assert_eq!(ok("-5", "USD"), "-5.00 USD");
        for raw in ["1e3", "1,000", "abc", "", ".", "NaN", "1.2.3", "--1"] {
            assert!(
                matches!(parse_amount(raw, "USD", true), Err(MoneyError::NotANumber(_))),
                "{raw}"
            );
        }
        assert_eq!(parse_amount("10", "XYZ", true), Err(MoneyError::UnknownCurrency("XYZ".into())));
    }

    #[test]
    fn absurd_magnitudes_are_refused_but_the_maximum_itself_is_allowed() {
        assert!(parse_amount("1000000000", "USD", false).is_ok());
        assert_eq!(parse_amount("1000000000.01", "USD", false), Err(MoneyError::TooLarge));
        assert_eq!(parse_amount("99999999999999999999999", "USD", true), Err(MoneyError::TooLarge));
    }

    #[test]
    fn more_digits_than_a_decimal_holds_are_too_large_not_unreadable() {
        let huge = "1".repeat(29);
        assert_eq!(parse_amount(&huge, "USD", false), Err(MoneyError::TooLarge));
        assert_eq!(
            parse_amount(&format!("-{}", "9".repeat(45)), "USD", true),
            Err(MoneyError::TooLarge)
        );
        assert!(parse_amount("0000000000000250.00", "USD", false).is_ok());
    }
}
