//! What one plain e-mail address is: the check every stored address passes, and the form that
//! compares addresses whatever their case. Apart from mail.rs so the settings can check an
//! address without depending on the outbox.

/// Characters that make an address into several, or into something else than an address: list
/// separators, display names, quoted or commented parts, header syntax. None belongs in an
/// address a person types for themselves.
const NOT_IN_AN_ADDRESS: &[char] = &[',', ';', '<', '>', '"', '(', ')', '[', ']', '\\', ':'];

/// Why `address` is not one plain address (`local@domain`), or None when it is. `Some(true)`:
/// it holds separators, spaces, quotes or control characters (it could name several
/// recipients); `Some(false)`: it is not shaped like an address at all.
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
        && local.chars().all(|c| atom(c) || c == '.');
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok = domain.contains('.') && domain.split('.').all(label_ok);
    (!local_ok || !domain_ok).then_some(false)
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

/// The form of an address that counts mail to it, whatever case it was typed in.
pub fn address_key(address: &str) -> String {
    address.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::never_delivered;

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
