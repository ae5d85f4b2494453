//! Cutting text to a platform's limits, shared by the renderers. Limits count characters
//! (Unicode scalar values), as Slack and Discord document them, not bytes.

/// `text` cut to at most `max` characters, the last of them an ellipsis when it was cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// Pieces that must stay whole (an escaped `&amp;`, a `<#C…>` link) joined and cut to at
/// most `max` characters, with an ellipsis when cut.
pub fn clip_pieces(pieces: &[String], max: usize) -> String {
    let total: usize = pieces.iter().map(|p| p.chars().count()).sum();
    if total <= max {
        return pieces.concat();
    }
    let mut out = String::new();
    let mut count = 0;
    for piece in pieces {
        let n = piece.chars().count();
        if count + n + 1 > max {
            break;
        }
        out.push_str(piece);
        count += n;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_characters_and_never_splits_a_piece() {
        assert_eq!(clip("héllo", 5), "héllo");
        assert_eq!(clip("héllo!", 5), "héll…");
        let pieces: Vec<String> = ["a", "&amp;", "b"].iter().map(|p| p.to_string()).collect();
        assert_eq!(clip_pieces(&pieces, 7), "a&amp;b");
        assert_eq!(clip_pieces(&pieces, 6), "a…");
    }
}
