//! How long free text may be: summaries, notes and reasons that people type. Beyond a few
//! paragraphs a text is a paste accident, and it would be echoed on every card, list and digest.

use super::messages;

/// The most characters (not bytes) a summary, note or reason may have.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// Refuses `text` when it is longer than [`MAX_TEXT_CHARS`]; `what` names it ("summary").
pub fn check(what: &str, text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(messages::too_long(what, chars, MAX_TEXT_CHARS));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(check("note", &"é".repeat(MAX_TEXT_CHARS)).is_ok());
        let err = check("summary", &"x".repeat(10_000)).unwrap_err();
        assert_eq!(err, "The summary is too long: 10,000 characters, at most 2,000.");
    }
}
