//! Characters that show nothing, and text made only of them: a title, post, note or reason of
//! zero-width characters is as empty as one of spaces (it posted empty-looking posts), and a
//! watched word with them inside is still the word.

/// A character that shows nothing: Unicode's default-ignorable code points (zero-width spaces
/// and joiners, soft hyphens, direction marks, variation selectors, tags, fillers) and the
/// braille blank, which is drawn as an empty cell. Text made only of these and white space is
/// blank however long it is.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// An invisible character that is drawn as a blank gap, as wide as a letter (the braille blank,
/// the Hangul fillers): it shows nothing, but it parts the words either side as a space does.
pub fn draws_blank(c: char) -> bool {
    matches!(
        c,
        '\u{115F}' | '\u{1160}' | '\u{2800}' | '\u{3164}' | '\u{FFA0}'
    )
}

/// Text a reader would see as empty: white space, control characters and invisible ones only
/// (a body of a zero-width space posted an empty-looking post).
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
}

/// Optional text as it is kept: trimmed, and nothing at all when it is blank (a bio, title or
/// note of zero-width characters would show as an empty one).
pub fn trimmed_or_nothing(text: &str) -> &str {
    if is_blank(text) { "" } else { text.trim() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_invisible_characters_is_blank() {
        for blank in [
            "",
            " \n\t",
            "\u{200B}",
            "\u{2060}\u{FEFF}\u{00AD}",
            "\u{2800}\u{3164}",
            "\u{1}\u{7f}",
            "\u{E0041}\u{FE0F}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for shown in ["a", "\u{200B}a", "👍\u{FE0F}", "·", "漢"] {
            assert!(!is_blank(shown), "{shown:?}");
        }
    }
}
