//! Validated identifiers. Each newtype can only be built by parsing, so a value of the type is
//! always well formed and the rest of the code never re-checks it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $valid:expr $(, strip $prefix:literal)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates a key; the error says what is wrong in user terms.
            pub fn parse(raw: &str) -> Result<Self, KeyError> {
                let raw = raw.trim();
                $(let raw = raw.strip_prefix($prefix).unwrap_or(raw);)?
                let valid: fn(&str) -> bool = $valid;
                if raw.is_empty() || raw.len() > 64 || !valid(raw) {
                    return Err(KeyError(crate::domain::messages::invalid_key($what, raw)));
                }
                Ok(Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

fn is_slug(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

key_type!(
    /// A person's stable key, e.g. `alice`: lowercase letters, digits, `-` and `_`. People
    /// write `@alice` in chat, so one leading `@` is accepted and dropped.
    PersonKey,
    "person",
    is_slug,
    strip "@"
);
key_type!(
    /// A team's stable key, e.g. `accounts-emea`.
    TeamKey,
    "team",
    is_slug
);
key_type!(
    /// A customer account's external key, e.g. `ACME-1042`: letters, digits and `-`.
    AccountKey,
    "account",
    |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
);

/// The chat platforms Steward speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Console,
    Slack,
    Discord,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Console, Platform::Slack, Platform::Discord];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Slack => "slack",
            Platform::Discord => "discord",
        }
    }

    pub fn parse(raw: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_keys_are_lowercase_slugs() {
        assert!(PersonKey::parse("alice").is_ok());
        assert!(PersonKey::parse("bob_2").is_ok());
        assert!(PersonKey::parse("Alice").is_err());
        assert!(PersonKey::parse("").is_err());
        assert!(PersonKey::parse("9lives").is_err());
        assert_eq!(PersonKey::parse("@sam").unwrap().as_str(), "sam");
        assert!(PersonKey::parse("@@sam").is_err());
        assert!(TeamKey::parse("@emea").is_err());
    }

    #[test]
    fn account_keys_accept_upper_case_and_dashes() {
        assert_eq!(AccountKey::parse(" ACME-1042 ").unwrap().as_str(), "ACME-1042");
        assert!(AccountKey::parse("ACME 1042").is_err());
        assert!(AccountKey::parse("-ACME").is_err());
        assert!(AccountKey::parse(&"A".repeat(65)).is_err());
    }

    #[test]
    fn invalid_key_error_names_the_kind_and_value() {
        let err = AccountKey::parse("acme!").unwrap_err();
        assert!(err.0.contains("account"), "{err}");
        assert!(err.0.contains("acme!"), "{err}");
    }
}
