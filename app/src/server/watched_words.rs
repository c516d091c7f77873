//! Watched words: matching a post against the words admins watch for. Case-insensitive, on
//! word boundaries, Unicode-aware (compatibility forms such as full-width letters fold to their
//! plain letters), and blind to the invisible characters people slip inside a word to dodge a
//! filter (zero-width spaces and joiners, soft hyphens, word joiners) and to marks stacked on
//! a letter that no letter has (see `fold`).
use crate::server::invisible::{draws_blank, is_invisible};
use unicode_normalization::UnicodeNormalization;

/// What a watched word does to a post that has it, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WordAction {
    /// The post is refused, with the word named.
    Block,
    /// The post waits for a moderator.
    Hold,
    /// The post goes up and into the review queue.
    Flag,
    /// The post goes up with the word masked.
    Censor,
}

impl WordAction {
    pub const ALL: [WordAction; 4] = [
        WordAction::Block,
        WordAction::Hold,
        WordAction::Flag,
        WordAction::Censor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WordAction::Block => "block",
            WordAction::Hold => "hold",
            WordAction::Flag => "flag",
            WordAction::Censor => "censor",
        }
    }

    pub fn parse(s: &str) -> Option<WordAction> {
        WordAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A watched word or phrase; `*` at either end matches any further letters ("spam*" matches
/// "spammer").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub word: String,
    pub action: WordAction,
}

/// The text as matching sees it, one entry per folded character with the byte range of the
/// original text it came from (so a censor can mask the original).
///
/// Combining marks (accents typed as characters of their own, or made by folding: İ lowercases
/// to i + U+0307) are read with what they sit on, in Unicode's canonical order, each composed
/// into the letter where a letter has it (n + U+0303 is ñ, so "año" is found however it was
/// typed, and is never "ano"; r + U+0301 is ŕ). Marks no letter has with them are then passed
/// over, as part of the letter's range, on a Latin, Greek or Cyrillic letter or on no letter
/// (r + U+030A, marks stacked on marks, another script's points: "dar\u{30A}n", which reads as
/// "darn", cannot dodge "darn", and a censor masks the marks with their letter); on the letters
/// of other scripts, only the shared diacritics are (U+0300 and on, see `is_diacritic`): their
/// own vowel signs and points tell words apart, and stay as parts of the word. Marks on nothing
/// (at the start) are passed over. Greek's final sigma is read as sigma, as upper case has one.
fn fold(text: &str) -> Vec<(char, std::ops::Range<usize>)> {
    use unicode_normalization::char::is_combining_mark;
    let folded = text
        .char_indices()
        // One drawn as a blank gap parts words as a space does ("casino⠀x" is not one word).
        // Other invisible characters are read as NUL, which the loop passes over. Whether the
        // character could be on a line Markdown reads as blank (a space, a tab, a line end)
        // is told before folding: a no-break space folds to a space.
        .map(|(start, c)| {
            let read = match c {
                c if draws_blank(c) => ' ',
                c if is_invisible(c) => '\0',
                c => c,
            };
            (
                start,
                read,
                c.len_utf8(),
                matches!(c, ' ' | '\t' | '\r' | '\n'),
            )
        })
        .flat_map(|(start, c, len, blank)| {
            let range = start..start + len;
            c.nfkc()
                .flat_map(char::to_lowercase)
                .filter(|f| !is_invisible(*f))
                .map(|f| if f == 'ς' { 'σ' } else { f })
                .map(move |f| (f, range.clone(), blank))
        });
    let mut out: Vec<(char, std::ops::Range<usize>)> = Vec::with_capacity(text.len());
    // The marks read after the last character pushed, until the next one that is not a mark.
    let mut marks: Vec<char> = Vec::new();
    // Line ends in the run of white space read last, on lines blank to Markdown.
    let mut breaks = 0;
    for (c, range, blank) in folded {
        // White space reads as one space however it is written (two spaces, a tab, a line
        // break): a phrase is found across any of them. A blank line, which parts paragraphs
        // in Markdown, is a paragraph's end instead, which no phrase runs across. A line with
        // anything but spaces and tabs on it (a no-break space, a zero-width one) is not blank.
        if !blank {
            breaks = 0;
        }
        if c == '\0' {
            continue;
        }
        if c.is_whitespace() {
            attach(&mut out, &mut marks);
            breaks += usize::from(c == '\n');
            match out.last_mut() {
                Some((space @ (' ' | PARAGRAPH_END), of)) => {
                    of.end = of.end.max(range.end);
                    if breaks > 1 {
                        *space = PARAGRAPH_END;
                    }
                }
                _ => out.push((' ', range)),
            }
            continue;
        }
        if is_combining_mark(c) {
            if let Some((_, of)) = out.last_mut() {
                of.end = of.end.max(range.end);
                marks.push(c);
            }
            continue;
        }
        attach(&mut out, &mut marks);
        out.push((c, range));
    }
    attach(&mut out, &mut marks);
    out
}

/// A blank line in `fold`'s text (U+2029, the paragraph separator).
const PARAGRAPH_END: char = '\u{2029}';

/// Reads `marks` into the last character of `out` (see `fold`).
fn attach(out: &mut Vec<(char, std::ops::Range<usize>)>, marks: &mut Vec<char>) {
    use unicode_normalization::char::{canonical_combining_class, compose};
    let Some((letter, range)) = out.last_mut() else {
        return;
    };
    if marks.is_empty() {
        return;
    }
    // Canonical order: by combining class, the typed order kept within one class.
    marks.sort_by_key(|m| canonical_combining_class(*m));
    let passes_over = takes_marks_in(*letter);
    let range = range.clone();
    let mut kept = Vec::new();
    for mark in marks.drain(..) {
        match compose(out.last().map_or(mark, |(l, _)| *l), mark) {
            Some(marked) => {
                if let Some((l, _)) = out.last_mut() {
                    *l = marked;
                }
            }
            None if passes_over || is_diacritic(mark) => {}
            None => kept.push(mark),
        }
    }
    out.extend(kept.into_iter().map(|mark| (mark, range.clone())));
}

/// The combining marks of Unicode's blocks of diacritics shared by scripts (U+0300 to U+036F
/// and their extensions and supplement, the marks for symbols, the half marks).
fn is_diacritic(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Whether marks after `c` join it (see `fold`): anything but a letter of a script other than
/// Latin, Greek and Cyrillic (their blocks, with the phonetic and extended ones).
fn takes_marks_in(c: char) -> bool {
    !c.is_alphabetic()
        || matches!(c,
            '\u{0000}'..='\u{052F}'
            | '\u{1C80}'..='\u{1C8F}'
            | '\u{1D00}'..='\u{1DBF}'
            | '\u{1E00}'..='\u{1FFF}'
            | '\u{2C60}'..='\u{2C7F}'
            | '\u{A640}'..='\u{A69F}'
            | '\u{A720}'..='\u{A7FF}'
            | '\u{AB30}'..='\u{AB6F}')
}

/// Which kind of word a folded character is part of, if any: `Some(true)` for the letters of
/// the Latin, Greek and Cyrillic alphabets and digits, `Some(false)` for other scripts' letters
/// and the marks kept on them. A change of kind is a word's edge: Chinese and Japanese write a
/// Latin word among their own letters without a space ("中darn" holds "darn", as its slug shows).
fn word_kind(c: char) -> Option<bool> {
    if unicode_normalization::char::is_combining_mark(c) {
        Some(false)
    } else if c.is_alphanumeric() {
        Some(takes_marks_in(c))
    } else {
        None
    }
}

/// A pattern, folded the same way, and whether it may run on into more letters either side.
fn pattern(word: &str) -> (Vec<char>, bool, bool) {
    let trimmed = word.trim();
    let open_start = trimmed.starts_with('*');
    let open_end = trimmed.ends_with('*') && trimmed.len() > 1;
    let core = trimmed.trim_matches('*');
    (
        fold(core).into_iter().map(|(c, _)| c).collect(),
        open_start,
        open_end,
    )
}

/// A watched word as the words of a slug (`slug_text`'s ASCII words between dashes) can show
/// it: each a pattern for one slug word, `*` kept at the ends ("buy now" and "a-hole" show as
/// buy-now and a-hole, "o.k." as o-k, "f'ing" as f-ing, "daŕn" as darn).
pub fn slug_words(word: &str) -> Vec<String> {
    let trimmed = word.trim();
    let mut parts = crate::server::slug_text::ascii_words(trimmed.trim_matches('*'));
    if trimmed.starts_with('*')
        && let Some(first) = parts.first_mut()
    {
        first.insert(0, '*');
    }
    if trimmed.len() > 1
        && trimmed.ends_with('*')
        && let Some(last) = parts.last_mut()
    {
        last.push('*');
    }
    parts
}

/// Whether `word` is punctuation alone ("-", "...", "？！", "؟"), which would match in most
/// posts and titles, as it is matched: folded, its marks read with what they sit on, so a
/// spacing accent (a space and a mark) or punctuation under a mark is punctuation too. A symbol
/// or emoji ("$$$", "€", "🖕") is a word of its own and may be watched.
pub fn only_punctuation(word: &str) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    pattern(word).0.iter().all(|c| {
        matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Punctuation | GeneralCategoryGroup::Separator
        ) || c.is_whitespace()
    })
}

/// Whether `word` can never be found: nothing is left of it once folded (marks alone).
pub fn watches_nothing(word: &str) -> bool {
    pattern(word).0.is_empty()
}

/// The byte ranges of `text` where `word` stands as a word (or word start/end, with `*`).
pub fn find(text: &str, word: &str) -> Vec<std::ops::Range<usize>> {
    Folded::new(text).find(word)
}

/// A text folded once (`fold`), with where each of its words starts and ends, for finding every
/// watched word in it: the cost is its length times the words', never its length squared.
struct Folded {
    hay: Vec<(char, std::ops::Range<usize>)>,
    /// For each folded character: where its word starts, and one past where it ends.
    word_start: Vec<usize>,
    word_end: Vec<usize>,
}

impl Folded {
    fn new(text: &str) -> Folded {
        let hay = fold(text);
        // Whether the characters at `a` and `a + 1` are of one word.
        let joined = |a: usize| match (hay.get(a), hay.get(a + 1)) {
            (Some((x, _)), Some((y, _))) => {
                word_kind(*x).is_some() && word_kind(*x) == word_kind(*y)
            }
            _ => false,
        };
        let n = hay.len();
        let mut word_start = vec![0; n];
        for k in 1..n {
            word_start[k] = if joined(k - 1) { word_start[k - 1] } else { k };
        }
        let mut word_end = vec![n; n];
        for k in (0..n.saturating_sub(1)).rev() {
            word_end[k] = if joined(k) { word_end[k + 1] } else { k + 1 };
        }
        Folded {
            hay,
            word_start,
            word_end,
        }
    }

    fn find(&self, word: &str) -> Vec<std::ops::Range<usize>> {
        let (needle, open_start, open_end) = pattern(word);
        let hay = &self.hay;
        let mut found = Vec::new();
        if needle.is_empty() {
            return found;
        }
        let mut i = 0;
        while i + needle.len() <= hay.len() {
            let here = hay[i..i + needle.len()]
                .iter()
                .zip(&needle)
                .all(|((h, _), n)| h == n);
            if !here {
                i += 1;
                continue;
            }
            let last = i + needle.len() - 1;
            let start = if open_start { self.word_start[i] } else { i };
            let end = if open_end {
                self.word_end[last]
            } else {
                last + 1
            };
            // A word of its own: nothing of the same word before its start or after its end.
            let bounded = self.word_start[start] == start && self.word_end[end - 1] == end;
            if bounded {
                found.push(hay[start].1.start..hay[end - 1].1.end);
                i = end;
            } else {
                i += 1;
            }
        }
        found
    }
}

/// What the watched words say about `text`: the strongest action that applies (and the word
/// behind it), and the text with every censored word masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub action: Option<(WordAction, String)>,
    pub censored: String,
}

/// What the watched words say about `text`, every censored word masked (a title's; a body's
/// links are `posting::body_verdict`'s).
pub fn judge(text: &str, watched: &[Watched]) -> Verdict {
    let (action, masks) = assess(text, watched);
    Verdict {
        action,
        censored: masked(text, &masks),
    }
}

/// The strongest action but censoring that applies to `text` (and the word behind it), and the
/// ranges of `text` censored words cover, in order and not overlapping.
pub fn assess(
    text: &str,
    watched: &[Watched],
) -> (Option<(WordAction, String)>, Vec<std::ops::Range<usize>>) {
    let mut action: Option<(WordAction, String)> = None;
    let mut masks: Vec<std::ops::Range<usize>> = Vec::new();
    let folded = Folded::new(text);
    for w in watched {
        let hits = folded.find(&w.word);
        if hits.is_empty() {
            continue;
        }
        if w.action == WordAction::Censor {
            masks.extend(hits);
        } else if action.as_ref().is_none_or(|(a, _)| w.action < *a) {
            action = Some((w.action, w.word.trim_matches('*').to_string()));
        }
    }
    masks.sort_by_key(|r| r.start);
    let mut apart: Vec<std::ops::Range<usize>> = Vec::with_capacity(masks.len());
    for r in masks {
        if apart.last().is_none_or(|last| r.start >= last.end) {
            apart.push(r);
        }
    }
    (action, apart)
}

/// The watched words without their phrases, for judging Markdown as written: in the source a
/// phrase would run across what the page shows apart ("# buy" and "now" on the next line are
/// a heading and a paragraph), so phrases are judged on the text a post shows.
pub fn single_words(watched: &[Watched]) -> Vec<Watched> {
    watched
        .iter()
        .filter(|w| !w.word.trim().contains(char::is_whitespace))
        .cloned()
        .collect()
}

/// What keeps `name` (a username or display name) from being used, as it is written there: a
/// blocked word, or a censored one, since a name shown masked beside every post reads as the
/// insult all the same. Words that hold or flag posts do not apply to names.
pub fn unfit_for_a_name(name: &str, watched: &[Watched]) -> Option<String> {
    // A username parts its words with `_`, `.` or `-` ("free_money"): read as written, and with
    // those as spaces (one byte for one, so the ranges found are the name's own).
    let spaced: String = name
        .chars()
        .map(|c| if matches!(c, '_' | '.' | '-') { ' ' } else { c })
        .collect();
    [name, spaced.as_str()].into_iter().find_map(|read| {
        let (action, masks) = assess(read, watched);
        match (action, masks.first()) {
            (Some((WordAction::Block, word)), _) => Some(word),
            (_, Some(mask)) => Some(name[mask.clone()].to_string()),
            _ => None,
        }
    })
}

/// `text` with each of `masks` (ranges of it, in order, not overlapping) written as one ■ for
/// each character it shows.
pub fn masked(text: &str, masks: &[std::ops::Range<usize>]) -> String {
    let mut censored = String::with_capacity(text.len());
    let mut at = 0;
    for r in masks {
        censored.push_str(&text[at..r.start]);
        censored.extend(
            text[r.clone()]
                .chars()
                .filter(|c| {
                    !is_invisible(*c) && !unicode_normalization::char::is_combining_mark(*c)
                })
                .map(|_| '■'),
        );
        at = r.end;
    }
    censored.push_str(&text[at..]);
    censored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &str, word: &str) -> Vec<String> {
        find(text, word)
            .into_iter()
            .map(|r| text[r].to_string())
            .collect()
    }

    #[test]
    fn whole_words_only_and_any_case() {
        assert_eq!(hits("Buy CHEAP pills", "cheap"), vec!["CHEAP"]);
        assert!(
            hits("cheapest", "cheap").is_empty(),
            "not inside a longer word"
        );
        assert!(hits("skyscraper", "scrap").is_empty());
        assert_eq!(hits("cheap, cheap!", "cheap").len(), 2);
        assert_eq!(hits("spammer spams", "spam*"), vec!["spammer", "spams"]);
        assert_eq!(hits("buy now", "buy now"), vec!["buy now"]);
        // White space reads as one space however it is written.
        for text in [
            "buy  now",
            "buy\nnow",
            "buy\t now",
            "buy\u{A0}now",
            "buy\u{2800}now",
        ] {
            assert_eq!(hits(text, "buy now"), vec![text], "{text:?}");
        }
        assert_eq!(hits("buy  now", "buy   now"), vec!["buy  now"]);
        // Not across a blank line: Markdown's paragraphs.
        for text in ["buy\n\nnow", "buy \n \r\n now"] {
            assert!(hits(text, "buy now").is_empty(), "{text:?}");
        }
        // A line with anything but spaces and tabs on it is not blank.
        for text in [
            "buy\n\u{A0}\nnow",
            "buy\n\u{200B}\nnow",
            "buy\n\u{2800}\nnow",
        ] {
            assert_eq!(hits(text, "buy now"), vec![text], "{text:?}");
        }
    }

    #[test]
    fn unicode_tricks_do_not_hide_a_word() {
        // Zero-width space, zero-width joiner, soft hyphen and word joiner inside the word.
        for sneaky in [
            "c\u{200B}heap",
            "ch\u{200D}eap",
            "che\u{00AD}ap",
            "chea\u{2060}p",
            "\u{FEFF}cheap",
        ] {
            assert_eq!(find(sneaky, "cheap").len(), 1, "{sneaky:?}");
        }
        // Full-width letters and other compatibility forms fold to the plain word.
        assert_eq!(find("ｃｈｅａｐ", "cheap").len(), 1);
        assert_eq!(find("ＣＨＥＡＰ pills", "cheap").len(), 1);
        // Unicode case folding, and letters of other scripts are letters: no match inside them.
        assert_eq!(find("GRÜN", "grün").len(), 1);
        assert!(find("grünen", "grün").is_empty());
        assert!(
            find("дешевоcheap", "cheap").is_empty(),
            "Cyrillic letters are word letters"
        );
        assert_eq!(find("дешево cheap", "cheap").len(), 1);
    }

    #[test]
    fn accents_stacked_on_a_word_do_not_hide_it() {
        // Marks no letter has, on one letter or stacked, from any block, at the word's edges or
        // at the start of the text: the word as it reads.
        for sneaky in [
            "dar\u{30A}n",
            "d\u{300}\u{301}\u{302}arn",
            "darn\u{36F}\u{1DC0}",
            "D\u{20DD}ARN",
            "dar\u{483}n",
            "dar\u{489}n",
            "dar\u{5B0}n",
            "dar\u{64B}n",
            "dar\u{302A}n",
            "dar\u{1D167}n",
            "da\u{200B}\u{315}rn",
        ] {
            assert_eq!(hits(sneaky, "darn"), vec![sneaky], "{sneaky:?}");
        }
        for at_start in [
            "\u{363}darn",
            "\u{345}darn",
            "\u{200B}\u{363}darn",
            "\u{301}darn",
        ] {
            assert_eq!(find(at_start, "darn").len(), 1, "{at_start:?}");
        }
        assert_eq!(find("ты ду\u{483}рак", "дурак").len(), 1);
        // A letter with its accent is that letter, typed in one piece or two, its marks in
        // any order, and not the letter without it.
        assert_eq!(find("Feliz an\u{303}o", "año").len(), 1);
        assert_eq!(find("Feliz año", "an\u{303}o").len(), 1);
        assert!(find("Feliz año", "ano").is_empty());
        assert!(find("Feliz an\u{303}o", "ano").is_empty());
        assert!(find("café", "cafe").is_empty());
        for ordered in [
            "ngo\u{31B}\u{301}",
            "ngo\u{301}\u{31B}",
            "NGO\u{301}\u{31B}",
        ] {
            assert_eq!(find(ordered, "ngớ").len(), 1, "{ordered:?}");
        }
        // İ lowercases to i and a dot above, in the text and in the watched word alike.
        assert_eq!(find("SİKTİR git", "siktir").len(), 1);
        assert_eq!(find("siktir git", "SİKTİR").len(), 1);
        assert_eq!(find("visit İSTANBUL", "İstanbul").len(), 1);
        assert_eq!(find("best CASİNO ever", "casino").len(), 1);
        // Marks of one class typed before the one that composes, marks past thirty, a mark of
        // class 0: still año.
        for typed in [
            "an\u{30A}\u{303}o",
            "an\u{20DD}\u{303}o",
            "an\u{903}\u{303}o",
            &format!("an{}\u{303}o", "\u{315}".repeat(40)),
        ] {
            assert_eq!(find(typed, "año").len(), 1, "{typed:?}");
            assert!(find(typed, "ano").is_empty(), "{typed:?}");
        }
        // Other scripts' marks in canonical order whatever order they were typed in, composed
        // where their letter has them, and the shared diacritics passed over on them too.
        assert_eq!(
            find(
                "\u{645}\u{64F}\u{62F}\u{651}\u{64E}\u{629}",
                "\u{645}\u{64F}\u{62F}\u{64E}\u{651}\u{629}"
            )
            .len(),
            1
        );
        assert_eq!(find("กุ่ม", "ก\u{E48}\u{E38}ม").len(), 1);
        assert_eq!(find("お前は は\u{3099}か", "ばか").len(), 1);
        assert_eq!(find("\u{627}\u{654}\u{62D}\u{645}\u{642}", "أحمق").len(), 1);
        assert_eq!(find("तुम मू\u{315}र्ख हो", "मूर्ख").len(), 1);
        // Another script's letters end a Latin word, and a Latin word ends theirs.
        assert_eq!(hits("中darn", "darn"), vec!["darn"]);
        assert_eq!(hits("我的darn电脑", "darn"), vec!["darn"]);
        assert_eq!(find("कमलdarn", "कमल").len(), 1);
        assert!(find("darnest", "darn").is_empty());
        assert!(find("ñdarn", "darn").is_empty());
        assert_eq!(slug_words("buy now"), vec!["buy", "now"]);
        assert_eq!(slug_words("o.k."), vec!["o", "k"]);
        assert_eq!(slug_words("*scam* "), vec!["*scam*"]);
        assert_eq!(slug_words("spam*"), vec!["spam*"]);
        assert_eq!(slug_words("gr\u{AD}ift"), vec!["grift"]);
        // Greek's final sigma is sigma.
        assert_eq!(find("ΛΟΓΟΣ", "λογος").len(), 1);
        assert!(watches_nothing("\u{301}") && watches_nothing("*\u{315}*"));
        // Other scripts' signs are parts of their letters and words: a word without one is
        // another word, and a word followed by one goes on.
        assert!(find("कम", "काम").is_empty());
        assert_eq!(find("काम", "काम").len(), 1);
        assert!(find("कमल्य", "कमल").is_empty());
        assert_eq!(find("कमल है", "कमल").len(), 1);
    }

    #[test]
    fn the_strongest_action_wins_and_censored_words_are_masked() {
        let watched = vec![
            Watched {
                word: "darn".into(),
                action: WordAction::Censor,
            },
            Watched {
                word: "casino".into(),
                action: WordAction::Flag,
            },
            Watched {
                word: "scam*".into(),
                action: WordAction::Hold,
            },
        ];
        let v = judge(
            "Darn, this casino is a scammer's d\u{200B}arn trick",
            &watched,
        );
        assert_eq!(v.action, Some((WordAction::Hold, "scam".into())));
        assert_eq!(v.censored, "■■■■, this casino is a scammer's ■■■■ trick");
        // An accent no letter has is masked with its letter, not left standing on its own.
        assert_eq!(judge("oh dar\u{30A}n", &watched).censored, "oh ■■■■");
        assert_eq!(
            judge("all fine", &watched),
            Verdict {
                action: None,
                censored: "all fine".into()
            }
        );
    }
}
