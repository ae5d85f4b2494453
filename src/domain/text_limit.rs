//! How long free text may be: summaries, notes and reasons that people type. Beyond a few
//! paragraphs a text is a paste accident, and it would be echoed on every card, list and digest.

use super::messages;

/// The most characters (not bytes) a summary, note or reason may have.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The most characters an identifier a sender chooses may have: an intake `external_id`,
/// `source`, account key or field name.
pub const MAX_KEY_CHARS: usize = 200;
/// The most fields one intake request may carry (request types need a handful).
pub const MAX_FIELDS: usize = 50;
/// The longest button action id accepted: Slack allows 255 characters, Discord 100; anything
/// longer was not made by Steward, and is refused without being echoed back.
pub const MAX_ACTION_CHARS: usize = 255;

/// Refuses `text` when it is longer than [`MAX_TEXT_CHARS`] or holds control characters;
/// `what` names it ("summary").
pub fn check(what: &str, text: &str) -> Result<(), String> {
    check_len(what, text, MAX_TEXT_CHARS)?;
    check_control(what, text)
}

/// Refuses an identifier longer than [`MAX_KEY_CHARS`] or with control characters.
pub fn check_key(what: &str, text: &str) -> Result<(), String> {
    check_len(what, text, MAX_KEY_CHARS)?;
    check_control(what, text)
}

fn check_len(what: &str, text: &str, max: usize) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > max {
        return Err(messages::too_long(what, chars, max));
    }
    Ok(())
}

/// Refuses NUL and the other control characters (PostgreSQL cannot store NUL in text, and
/// the rest garble cards and logs); line breaks and tabs are ordinary text.
pub fn check_control(what: &str, text: &str) -> Result<(), String> {
    let control = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    match text.chars().find(|c| control(*c)) {
        Some(c) => Err(messages::control_character(what, c)),
        None => Ok(()),
    }
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

    #[test]
    fn nul_and_other_control_characters_are_refused_but_line_breaks_are_text() {
        assert_eq!(
            check("summary", "down\0now").unwrap_err(),
            "The summary contains a control character (U+0000); remove it and try again."
        );
        assert!(check("note", "line one\r\nline two\tend").is_ok());
        assert!(check_key("source", "help\u{1b}[31mdesk").is_err());
        assert!(check_key("source", &"s".repeat(MAX_KEY_CHARS + 1)).is_err());
    }
}
