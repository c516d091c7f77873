//! What one plain e-mail address is: the check every stored address passes, and the form that
//! compares addresses whatever their case. Apart from mail.rs so the settings can check an
//! address without depending on the outbox.

/// Characters that make an address into several, or into something else than an address: list
/// separators, display names, quoted or commented parts, header syntax. None belongs in an
/// address a person types for themselves.
const NOT_IN_AN_ADDRESS: &[char] = &[',', ';', '<', '>', '"', '(', ')', '[', ']', '\\', ':'];

/// Why `address` is not one plain address (`local@domain`), or None when it is. `Some(true)`:
/// it holds separators, spaces, quotes or control characters (it could name several
/// recipients); `Some(false)`: it is not shaped like an address at all. Letters of any script
/// are taken, with the combining marks that belong to them (`letter_marks`), as in
/// `राजा@डाटामेल.भारत`.
pub fn address_problem(address: &str) -> Option<bool> {
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || NOT_IN_AN_ADDRESS.contains(&c))
    {
        return Some(true);
    }
    let Some((local, domain)) = address.split_once('@') else {
        return Some(false);
    };
    let atom = |c: char| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && !local.starts_with(['.', '-'])
        && !local.ends_with('.')
        && !local.contains("..")
        && letter_marks(local)
        && local
            .chars()
            .all(|c| atom(c) || c == '.' || is_combining_mark(c));
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && letter_marks(l)
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || is_combining_mark(c))
    };
    let domain_ok = domain.contains('.') && domain.split('.').all(label_ok);
    (!local_ok || !domain_ok).then_some(false)
}

/// Whether one plain address (`address_problem` is None) is one mail cannot reach, or one that
/// reads exactly as another: a new address given as someone's own is refused for it
/// (`accounts::validate_email`). Mail already queued to an address kept before is still sent
/// (and fails on its own, if it does): refusing it in the outbox would fail everything written
/// with it.
pub fn unreachable(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return true;
    };
    // A character that shows nothing (a Hangul filler is a letter to Unicode) makes an address
    // that reads exactly as another.
    address.chars().any(crate::server::invisible::is_invisible)
        // SMTP's limit for the part before the @, in bytes (RFC 5321): the mailer refuses more.
        || local.len() > 64
        // The domain as mail software reads it: IDNA, strictly (no label begins with a mark,
        // none mixes directions, none is longer than DNS takes), under a name, not a number
        // ("1.2.3.4" is no host name, and no top-level domain is digits).
        || !idna::domain_to_ascii_strict(domain).is_ok_and(|ascii| {
            !ascii
                .rsplit('.')
                .next()
                .is_some_and(|top| top.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Whether every combining mark in `part` belongs to a letter or digit (after it, or after
/// marks that do), and shows: the vowel signs of Hindi or Thai, an accent typed apart from its
/// letter. Not a mark that shows nothing (the combining grapheme joiner, a variation
/// selector): an address with one reads exactly as one without, and is another address. Nor
/// one drawn around its letter (a circle, a keycap): no mail domain may hold one (IDNA2008),
/// and it is no part of a name.
fn letter_marks(part: &str) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let mut after_letter = false;
    for c in part.chars() {
        if is_combining_mark(c) {
            if !after_letter
                || crate::server::invisible::is_invisible(c)
                || c.general_category() == GeneralCategory::EnclosingMark
            {
                return false;
            }
        } else {
            after_letter = c.is_alphanumeric();
        }
    }
    true
}

fn is_combining_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// An address as it is kept and compared: trimmed, and in Unicode's composed form (NFC), as
/// RFC 6532 asks, so that "é" typed as "e" and an accent is the address mail servers know.
pub fn as_given(address: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    address.trim().nfc().collect()
}

/// Whether `address` (one plain address) is under `.invalid`, the name RFC 2606 keeps for
/// addresses that are not real: no mail can reach it. The demo's accounts use it, so that
/// nothing is ever sent for them; a person cannot give one of their own.
pub fn never_delivered(address: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    // The domain as mail software reads it: IDNA maps full-width and other compatibility forms
    // of letters and dots to the plain ones ("ｉｎｖａｌｉｄ" is "invalid").
    let domain = address
        .rsplit_once('@')
        .map_or(address, |(_, domain)| domain);
    let nfkc = domain
        .nfkc()
        .collect::<String>()
        .replace('\u{3002}', ".")
        .to_lowercase();
    let last = nfkc.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    // The last label on its own, as IDNA reads it (it drops what it ignores, such as the
    // Hangul fillers), whatever the other labels hold.
    let idna = match url::Host::parse(last) {
        Ok(url::Host::Domain(ascii)) => ascii == "invalid",
        _ => false,
    };
    idna || last == "invalid"
}

/// The form of an address that counts mail to it and finds its account, whatever case and
/// Unicode form it was typed in (`as_given`): the part before the @ in lower case, composed
/// again (a capital with a mark may lower to a letter that has a composed form) and with every
/// sigma alike (`to_lowercase` writes a word's last one as "ς"); the domain as mail software
/// resolves it, IDNA's ASCII form, so that full-width or mathematical letters name the same
/// domain as plain ones (and "ς" stays apart from "σ" there, as IDNA keeps them).
pub fn address_key(address: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower = |text: &str| text.to_lowercase().nfc().collect::<String>();
    let given = as_given(address);
    let Some((local, domain)) = given.rsplit_once('@') else {
        return lower(&given);
    };
    let domain = idna::domain_to_ascii_strict(domain).unwrap_or_else(|_| lower(domain));
    format!("{}@{domain}", lower(local).replace('ς', "σ"))
}

#[cfg(test)]
mod tests {
    use super::{address_key, address_problem, as_given, never_delivered, unreachable};

    #[test]
    fn letters_of_any_script_with_their_marks_make_an_address() {
        for address in [
            "राजा@डाटामेल.भारत",
            "jose\u{301}@example.com",
            "สมชาย@ตัวอย่าง.ไทย",
            "a\u{301}\u{323}@e\u{301}.com",
            "user@example.com",
        ] {
            assert_eq!(address_problem(address), None, "{address}");
            assert!(!unreachable(address), "{address}");
        }
        for address in [
            // A mark on nothing, on a dot or a dash, at a label's start.
            "\u{301}a@example.com",
            "a.\u{301}b@example.com",
            "a-\u{301}@example.com",
            "a@\u{301}x.com",
            "a@x-\u{301}y.com",
            // Marks that show nothing: the grapheme joiner, variation selectors, Mongolian's.
            "bo\u{34f}b@example.com",
            "bob\u{fe0f}@example.com",
            "a@exa\u{e0100}mple.com",
            "a@x\u{180b}.com",
            // Hangul fillers: letters to Unicode, nothing to a reader.
            "plain\u{3164}@example.com",
            "a@exa\u{3164}mple.com",
            "\u{3164}\u{301}@example.com",
            // More than SMTP and DNS take: 65 bytes before the @, a label of 64.
            "राजाराजाराजाराजाराजाराजा@example.com",
            format!("{}@example.com", "a".repeat(65)).as_str(),
            format!("a@{}.com", "b".repeat(64)).as_str(),
            // A mark drawn around its letter; a label IDNA refuses (directions mixed).
            "a@x\u{20dd}.com",
            // A number, not a name.
            "a@1.2.3.4",
            "a@b.123",
            "key\u{20e3}@example.com",
            "a@\u{5d0}\u{93e}.com",
        ] {
            assert!(
                address_problem(address) == Some(false) || unreachable(address),
                "{address}"
            );
        }
        // What mail cannot reach is still one address: mail queued to it before goes out.
        assert_eq!(address_problem("plain\u{3164}@example.com"), None);
        assert!(unreachable("plain\u{3164}@example.com"));
    }

    #[test]
    fn an_address_is_kept_composed_and_keyed_however_it_was_typed() {
        assert_eq!(
            as_given("  Jose\u{301}@Example.com "),
            "Jos\u{e9}@Example.com"
        );
        assert_eq!(
            address_key("JOSE\u{301}@EXAMPLE.COM"),
            address_key("jos\u{e9}@example.com")
        );
        assert_eq!(
            address_key("jos\u{e9}@example.com"),
            "jos\u{e9}@example.com"
        );
        assert_eq!(address_key("ΟΔΟΣ@x.gr"), address_key("οδοσ@x.gr"));
        assert_eq!(address_key("ΟΔΟΣ@x.gr"), address_key("οδος@x.gr"));
        // The domain as IDNA resolves it: compatibility letters are the plain ones, and a
        // final sigma names another domain.
        for same in [
            "victim@\u{ff45}\u{ff58}\u{ff41}\u{ff4d}\u{ff50}\u{ff4c}\u{ff45}.com",
            "victim@example.\u{ff43}\u{ff4f}\u{ff4d}",
            "victim@\u{1d41e}xample.com",
            "victim@exampl\u{212f}.com",
            "victim@EXAMPLE.com",
        ] {
            assert_eq!(address_key(same), "victim@example.com", "{same}");
        }
        assert_ne!(address_key("a@οδος.gr"), address_key("a@οδοσ.gr"));
        // A capital and a mark that lower to a letter with a composed form.
        assert_eq!(
            address_key("J\u{30c}Z@EXAMPLE.COM"),
            address_key("\u{1f0}z@example.com")
        );
    }

    #[test]
    fn only_an_address_under_invalid_is_never_delivered() {
        // Compatibility forms too: full-width, mathematical, a roman numeral for the "d", an
        // ideographic full stop (found by an outside tester).
        for address in [
            "casey@demo.backyard.invalid",
            "a@B.INVALID",
            "a@x.Invalid",
            "a@b.\u{ff49}\u{ff4e}\u{ff56}\u{ff41}\u{ff4c}\u{ff49}\u{ff44}",
            "a@b.\u{1d422}\u{1d427}\u{1d42f}\u{1d41a}\u{1d425}\u{1d422}\u{1d41d}",
            "a@b.invali\u{217e}",
            "a@b\u{3002}invalid",
            "a@b.invalid.",
            "a@b.inval\u{3164}id",
            "a@b.\u{115f}invalid",
            "a@b.in\u{ffa0}valid",
            "a@xn--zz.inval\u{3164}id",
            "a@1\u{5d0}.inval\u{3164}id",
        ] {
            assert!(never_delivered(address), "{address}");
        }
        for address in [
            "a@invalid.example.com",
            "invalid@example.com",
            "a@x.invalidate",
            "a@b.\u{131}nvalid",
        ] {
            assert!(!never_delivered(address), "{address}");
        }
    }
}
