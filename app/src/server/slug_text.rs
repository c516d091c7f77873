//! How text reads in an address: its words as lower-case ASCII letters and digits. Latin letters
//! lose their accents ("Problème" is probleme, "Straße" strasse), as readers type addresses and
//! as other forums' slugs read; letters of other scripts, punctuation and spaces end a word.
//! Topics', categories' and articles' slugs are made of these words (`records::topics::slugify`),
//! and watched words are read the same way to keep them out of slugs (`watched_words::slug_words`).
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use crate::server::invisible::{draws_blank, is_invisible};

/// `text`'s slug words, in order.
pub fn ascii_words(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    // Compatibility decomposition: an accent comes apart from its letter ("é" is e and U+0301),
    // and full-width letters, ligatures and the like read as the letters they show.
    for c in text.nfkd() {
        // Marks are dropped, not read as a word's end: "cafe" + U+0301 is one word, as it reads.
        // So are characters that show nothing ("gr\u{AD}ift" is one word).
        if draws_blank(c) {
            folded.push(' ');
            continue;
        }
        if is_combining_mark(c) || is_invisible(c) {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            folded.push(c.to_ascii_lowercase());
        } else {
            folded.push_str(latin_letter(c).unwrap_or(" "));
        }
    }
    folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `wanted` if no address in `taken` is, or the first of wanted-2, wanted-3... that is free.
pub fn first_free(wanted: &str, taken: &std::collections::HashSet<String>) -> String {
    if !taken.contains(wanted) {
        return wanted.to_string();
    }
    let n = (2..).find(|n| !taken.contains(&format!("{wanted}-{n}")));
    format!("{wanted}-{}", n.unwrap_or(2))
}

/// The Latin letters without a decomposition into an ASCII letter and marks, as ASCII.
fn latin_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'ł' | 'Ł' => "l",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::ascii_words;

    #[test]
    fn latin_letters_lose_their_accents_and_other_scripts_end_words() {
        let cases: &[(&str, &[&str])] = &[
            ("Problème de connexion", &["probleme", "de", "connexion"]),
            ("Straße ÆØÅ œuvre", &["strasse", "aeoa", "oeuvre"]),
            // An accent typed apart from its letter, and stacked marks, stay in the word.
            (
                "cafe\u{301} d\u{337}a\u{337}r\u{337}n\u{337}",
                &["cafe", "darn"],
            ),
            ("ｄａｒｎ ﬁx", &["darn", "fix"]),
            ("gr\u{AD}ift", &["grift"]),
            ("bad\u{2800}word\u{3164}x", &["bad", "word", "x"]),
            ("Общий вопрос", &[]),
            ("中darn", &["darn"]),
            ("naïve_idea!", &["naive", "idea"]),
            ("", &[]),
        ];
        for (text, words) in cases {
            assert_eq!(ascii_words(text), *words, "{text:?}");
        }
    }
}
