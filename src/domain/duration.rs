//! Human durations as written in configuration: `15m`, `1h30m`, `4h 30m`, `2d`, `90s`.
//!
//! Units are `d` (24 hours of elapsed or business time, as the caller uses it), `h`, `m` and
//! `s`, each at most once and from the largest to the smallest; whitespace may separate the
//! parts. The value must be positive. [`format_duration`] writes the compact form used on cards.

use std::fmt;

use chrono::Duration;

/// Why a string is not a valid duration. Each variant names the input as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration is empty (expected e.g. \"15m\", \"1h30m\" or \"2d\")")]
    Empty,
    #[error("duration {input:?} is not valid (expected e.g. \"15m\", \"1h30m\" or \"2d\")")]
    Malformed { input: String },
    #[error("duration {input:?} has no unit after {number} (use d, h, m or s)")]
    MissingUnit { input: String, number: String },
    #[error("duration {input:?} has unknown unit {unit:?} (use d, h, m or s)")]
    UnknownUnit { input: String, unit: String },
    #[error("duration {input:?} repeats or misorders unit {unit:?} (write d, h, m, s in order)")]
    UnitOrder { input: String, unit: char },
    #[error("duration {input:?} must be greater than zero")]
    NotPositive { input: String },
    #[error("duration {input:?} is too large")]
    Overflow { input: String },
}

/// Seconds per unit, largest first; the order units must appear in.
const UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// Parses a human duration such as `"1h30m"`, `"4h 30m"`, `"90s"` or `"2d"`.
///
/// Units are case-insensitive, each may appear once, largest first; the total must be > 0.
pub fn parse_duration(raw: &str) -> Result<Duration, DurationError> {
    let input = raw.trim();
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    let malformed = || DurationError::Malformed { input: input.to_owned() };
    let overflow = || DurationError::Overflow { input: input.to_owned() };

    let mut rest = input;
    let mut total: i64 = 0;
    // Index into UNITS of the next unit allowed; enforces order and uniqueness.
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits_len == 0 {
            return Err(malformed());
        }
        let (digits, after) = rest.split_at(digits_len);
        let after = after.trim_start();
        let unit_len = after.find(|c: char| !c.is_alphabetic()).unwrap_or(after.len());
        if unit_len == 0 {
            if after.is_empty() {
                return Err(DurationError::MissingUnit {
                    input: input.to_owned(),
                    number: digits.to_owned(),
                });
            }
            return Err(malformed());
        }
        let (unit, after) = after.split_at(unit_len);
        let mut unit_chars = unit.chars().map(|c| c.to_ascii_lowercase());
        let single = match (unit_chars.next(), unit_chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        };
        let Some(position) = UNITS.iter().position(|(u, _)| single == Some(*u)) else {
            return Err(DurationError::UnknownUnit {
                input: input.to_owned(),
                unit: unit.to_owned(),
            });
        };
        if position < next_unit {
            return Err(DurationError::UnitOrder {
                input: input.to_owned(),
                unit: UNITS[position].0,
            });
        }
        next_unit = position + 1;
        let number: i64 = digits.parse().map_err(|_| overflow())?;
        let seconds = number.checked_mul(UNITS[position].1).ok_or_else(overflow)?;
        total = total.checked_add(seconds).ok_or_else(overflow)?;
        rest = after.trim_start();
    }
    if total <= 0 {
        return Err(DurationError::NotPositive { input: input.to_owned() });
    }
    Duration::try_seconds(total).ok_or_else(overflow)
}

/// Compact form for cards: the largest non-zero unit, then the next smaller unit if it is not
/// zero: `"1h 30m"`, `"2d 4h"`, `"45s"`, `"2d"` (for 2d 0h 5m). Truncates toward zero (never
/// rounds up), ignores sub-second parts, and writes `"0m"` for less than a second. Negative
/// durations get a leading `-`.
pub fn format_duration(d: Duration) -> String {
    let seconds = d.num_seconds();
    if seconds == 0 {
        return "0m".to_owned();
    }
    let sign = if seconds < 0 { "-" } else { "" };
    let mut rest = seconds.unsigned_abs();
    let mut parts = [0u64; 4];
    for (part, (_, unit_seconds)) in parts.iter_mut().zip(UNITS) {
        let unit_seconds = unit_seconds.unsigned_abs();
        *part = rest / unit_seconds;
        rest %= unit_seconds;
    }
    let first = parts.iter().position(|&p| p != 0).unwrap_or(3);
    let mut out = format!("{sign}{}{}", parts[first], UNITS[first].0);
    if let Some(&next) = parts.get(first + 1)
        && next != 0
    {
        out.push_str(&format!(" {next}{}", UNITS[first + 1].0));
    }
    out
}

/// `#[serde(deserialize_with = "…::duration::serde_duration::deserialize")]` for a
/// `chrono::Duration` written as a human duration string (see [`parse_duration`]).
pub mod serde_duration {
    use super::{Duration, fmt, parse_duration};
    use serde::de::{self, Deserializer, Visitor};

    /// Deserializes a `chrono::Duration` from a string such as `"1h30m"`.
    pub fn deserialize<'de, D>(deserializer: D) -> Result<Duration, D::Error>
    where
        D: Deserializer<'de>,
    {
        struct HumanDuration;

        impl Visitor<'_> for HumanDuration {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"15m\", \"1h30m\" or \"2d\"")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Duration, E> {
                parse_duration(value).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(HumanDuration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> Duration {
        Duration::seconds(s)
    }

    #[test]
    fn minutes_hours_seconds_and_days_parse() {
        assert_eq!(parse_duration("15m"), Ok(secs(15 * 60)));
        assert_eq!(parse_duration("1h"), Ok(secs(3600)));
        assert_eq!(parse_duration("90s"), Ok(secs(90)));
        assert_eq!(parse_duration("2d"), Ok(secs(2 * 86_400)));
    }

    #[test]
    fn combined_units_add_up_with_or_without_spaces() {
        assert_eq!(parse_duration("1h30m"), Ok(secs(5400)));
        assert_eq!(parse_duration("4h 30m"), Ok(secs(4 * 3600 + 1800)));
        assert_eq!(parse_duration("  1d 2h 3m 4s  "), Ok(secs(86_400 + 7200 + 180 + 4)));
        assert_eq!(parse_duration("1 h 30 m"), Ok(secs(5400)));
        assert_eq!(parse_duration("1H30M"), Ok(secs(5400)));
    }

    #[test]
    fn empty_input_is_refused() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("   "), Err(DurationError::Empty));
    }

    #[test]
    fn garbage_is_refused_and_the_error_names_the_input() {
        for raw in ["abc", "h", "-5m", "1.5h", "1h+30m", "5m!", "1h,30m"] {
            let err = parse_duration(raw).unwrap_err();
            assert!(err.to_string().contains(&format!("{raw:?}")), "{raw}: {err}");
        }
        assert_eq!(
            parse_duration("10"),
            Err(DurationError::MissingUnit { input: "10".into(), number: "10".into() })
        );
        assert_eq!(
            parse_duration("10w"),
            Err(DurationError::UnknownUnit { input: "10w".into(), unit: "w".into() })
        );
        assert_eq!(
            parse_duration("10min"),
            Err(DurationError::UnknownUnit { input: "10min".into(), unit: "min".into() })
        );
    }

    #[test]
    fn repeated_or_misordered_units_are_refused() {
        assert_eq!(
            parse_duration("30m1h"),
            Err(DurationError::UnitOrder { input: "30m1h".into(), unit: 'h' })
        );
        assert_eq!(
            parse_duration("1h 1h"),
            Err(DurationError::UnitOrder { input: "1h 1h".into(), unit: 'h' })
        );
    }

    #[test]
    fn zero_is_refused() {
        assert_eq!(parse_duration("0m"), Err(DurationError::NotPositive { input: "0m".into() }));
        assert_eq!(
            parse_duration("0h 0s"),
            Err(DurationError::NotPositive { input: "0h 0s".into() })
        );
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        let huge = "99999999999999999999s";
        assert_eq!(parse_duration(huge), Err(DurationError::Overflow { input: huge.into() }));
        let big_days = "999999999999999d";
        assert_eq!(
            parse_duration(big_days),
            Err(DurationError::Overflow { input: big_days.into() })
        );
        // Fits in i64 seconds but not in chrono's millisecond range.
        let too_long = "9223372036854776s";
        assert_eq!(
            parse_duration(too_long),
            Err(DurationError::Overflow { input: too_long.into() })
        );
    }

    #[test]
    fn formatting_shows_the_two_largest_units_without_zero_units() {
        assert_eq!(format_duration(secs(5400)), "1h 30m");
        assert_eq!(format_duration(secs(2 * 86_400 + 4 * 3600)), "2d 4h");
        assert_eq!(format_duration(secs(45)), "45s");
        assert_eq!(format_duration(secs(90)), "1m 30s");
        assert_eq!(format_duration(secs(3600)), "1h");
        assert_eq!(format_duration(secs(86_400 + 300)), "1d");
        assert_eq!(format_duration(secs(3600 + 59)), "1h");
        assert_eq!(format_duration(Duration::zero()), "0m");
        assert_eq!(format_duration(Duration::milliseconds(999)), "0m");
        assert_eq!(format_duration(secs(-5400)), "-1h 30m");
    }

    #[test]
    fn formatting_then_parsing_round_trips_for_two_unit_values() {
        for s in [60, 90, 3600, 5400, 86_400, 86_400 + 3600 * 23, 3 * 86_400] {
            let text = format_duration(secs(s));
            assert_eq!(parse_duration(&text), Ok(secs(s)), "{text}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Config {
        #[serde(deserialize_with = "crate::domain::duration::serde_duration::deserialize")]
        wait: Duration,
    }

    #[test]
    fn serde_helper_reads_human_durations_and_reports_bad_ones() {
        let config: Config = serde_json::from_str(r#"{"wait": "1h 30m"}"#).unwrap();
        assert_eq!(config.wait, secs(5400));
        let err = serde_json::from_str::<Config>(r#"{"wait": "soon"}"#).unwrap_err();
        assert!(err.to_string().contains("\"soon\""), "{err}");
        let err = serde_json::from_str::<Config>(r#"{"wait": 90}"#).unwrap_err();
        assert!(err.to_string().contains("a duration such as"), "{err}");
    }
}
