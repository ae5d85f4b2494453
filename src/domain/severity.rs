//! Escalation severities.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad it is: `sev1` (the customer cannot work) to `sev4` (a question).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    /// Accepts `sev1`, `SEV1`, `1`, `s1`.
    pub fn parse(raw: &str) -> Option<Severity> {
        let raw = raw.trim().to_ascii_lowercase();
        let digit = raw.strip_prefix("sev").or_else(|| raw.strip_prefix('s')).unwrap_or(&raw);
        match digit {
            "1" => Some(Severity::Sev1),
            "2" => Some(Severity::Sev2),
            "3" => Some(Severity::Sev3),
            "4" => Some(Severity::Sev4),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_in_the_forms_people_type() {
        assert_eq!(Severity::parse("sev1"), Some(Severity::Sev1));
        assert_eq!(Severity::parse("SEV2"), Some(Severity::Sev2));
        assert_eq!(Severity::parse("3"), Some(Severity::Sev3));
        assert_eq!(Severity::parse("s4"), Some(Severity::Sev4));
        assert_eq!(Severity::parse("sev5"), None);
        assert_eq!(Severity::parse("urgent"), None);
    }
}
