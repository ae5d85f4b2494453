//! `steward access import <file.csv>`: grants that exist outside Steward, so reviews cover
//! them too. The file has a header line `person,system,role,granted_at,expires_at` (RFC 3339
//! times; `expires_at` may be empty for a grant without end); fields hold no commas.

use chrono::{DateTime, Utc};

use crate::domain::ids::PersonKey;
use crate::domain::messages::access as text;

/// The header the file must start with.
pub const HEADER: &str = "person,system,role,granted_at,expires_at";

/// One row, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedGrant {
    /// 1-based line number in the file, for error messages.
    pub line: usize,
    pub person: PersonKey,
    pub system: String,
    pub role: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn time(line: usize, raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.to_utc())
        .map_err(|_| text::import_bad_time(line, raw))
}

/// Parses the whole file; the first bad line fails it (nothing is imported).
pub fn parse_csv(raw: &str) -> Result<Vec<ImportedGrant>, String> {
    let mut lines = raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, header)) if header.trim().eq_ignore_ascii_case(HEADER) => {}
        _ => return Err(text::import_bad_header(HEADER)),
    }
    let mut grants = Vec::new();
    for (index, row) in lines {
        let line = index + 1;
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        let [person, system, role, granted_at, expires_at] = fields[..] else {
            return Err(text::import_bad_row(line, fields.len()));
        };
        let person =
            PersonKey::parse(person).map_err(|_| text::import_unknown_person(line, person))?;
        let granted_at = time(line, granted_at)?;
        let expires_at = if expires_at.is_empty() { None } else { Some(time(line, expires_at)?) };
        if expires_at.is_some_and(|e| e <= granted_at) {
            return Err(text::import_ends_before_start(line));
        }
        grants.push(ImportedGrant {
            line,
            person,
            system: system.to_ascii_lowercase(),
            role: role.to_ascii_lowercase(),
            granted_at,
            expires_at,
        });
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_bad_lines_are_named() {
        let ok = parse_csv(
            "person,system,role,granted_at,expires_at\nalice,CRM,viewer,2026-01-05T09:00:00Z,\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!((ok[0].line, ok[0].system.as_str(), ok[0].expires_at), (2, "crm", None));
        assert!(parse_csv("who,what\n").unwrap_err().contains(HEADER));
        let bad =
            parse_csv("person,system,role,granted_at,expires_at\nalice,crm,viewer,yesterday,\n");
        assert!(bad.unwrap_err().starts_with("Line 2:"));
        let short = parse_csv("person,system,role,granted_at,expires_at\nalice,crm\n");
        assert!(short.unwrap_err().contains("2 fields"));
    }
}
