//! Button action ids: `<kind>:<id>:<verb>:v<version>`, e.g. `esc:42:acknowledge:v3`.
//!
//! An action id names the item, the verb and the version of the card it was shown on; it
//! grants nothing. The version makes a click a compare-and-set: a click on an out-of-date
//! card is recognised as such instead of acting twice.

/// A parsed action id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef {
    pub id: i64,
    pub verb: String,
    pub version: i32,
}

/// The action id of `verb` on item `id` of `kind`, shown on card version `version`.
pub fn format(kind: &str, id: i64, verb: &str, version: i32) -> String {
    format!("{kind}:{id}:{verb}:v{version}")
}

/// Parses an action id of `kind`; `None` for any other shape or kind.
pub fn parse(kind: &str, raw: &str) -> Option<ActionRef> {
    let mut parts = raw.split(':');
    let (Some(prefix), Some(id), Some(verb), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if prefix != kind {
        return None;
    }
    Some(ActionRef {
        id: id.parse().ok()?,
        verb: verb.to_owned(),
        version: version.strip_prefix('v')?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_round_trip_and_other_kinds_are_refused() {
        let id = format("cr", 7, "approve", 2);
        assert_eq!(id, "cr:7:approve:v2");
        assert_eq!(parse("cr", &id), Some(ActionRef { id: 7, verb: "approve".into(), version: 2 }));
        assert_eq!(parse("esc", &id), None);
        assert_eq!(parse("cr", "cr:7:approve"), None);
        assert_eq!(parse("cr", "cr:x:approve:v2"), None);
        assert_eq!(parse("cr", "cr:7:approve:2"), None);
    }
}
