//! Names that pass for another: a username that reads like an existing member's, like the
//! team's or like the site's own could be used to impersonate them, so sign-up compares a
//! look-alike key of the new name with theirs.
use unicode_security::skeleton;

/// Names kept for the team and the site; nobody signs up as one of these or as a look-alike.
pub const RESERVED: &[&str] = &[
    "abuse",
    "admin",
    "administrator",
    "anonymous",
    "api",
    "backyard",
    "contact",
    "help",
    "helpdesk",
    "hostmaster",
    "info",
    "mailer-daemon",
    "mod",
    "moderator",
    "moderators",
    "noreply",
    "nobody",
    "official",
    "owner",
    "postmaster",
    "root",
    "security",
    "staff",
    "superuser",
    "support",
    "sysadmin",
    "system",
    "team",
    "webmaster",
];

/// Deleted accounts are renamed `deleted-ID` (admin::delete_account): no one else gets a name
/// that starts like that, so a deletion never collides with a member's name.
pub const DELETED_PREFIX: &str = "deleted-";

/// The form two names share when a reader could take one for the other: lower case, the Unicode
/// TR39 confusable skeleton (`rn` and `m`, Cyrillic `а` and Latin `a`), then the digit and
/// letter look-alikes people use on purpose (`1`, `i` and `l`; `0` and `o`; `4` and `a`; `3`
/// and `e`; `5` and `s`; ...) folded together and punctuation and spaces dropped (`admin.`,
/// `a-d-m-i-n`).
pub fn lookalike_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let skeleton: String = skeleton(&lower).collect::<String>().to_lowercase();
    skeleton
        .chars()
        .filter_map(|c| match c {
            '1' | 'i' | '|' | '!' => Some('l'),
            '0' => Some('o'),
            '2' => Some('z'),
            '3' => Some('e'),
            '4' | '@' => Some('a'),
            '5' | '$' => Some('s'),
            '6' | '8' => Some('b'),
            '7' => Some('t'),
            '9' => Some('g'),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Whether `name` looks like a deleted account's name.
pub fn looks_deleted(name: &str) -> bool {
    lookalike_key(name).starts_with(&lookalike_key(DELETED_PREFIX))
}

/// Whether `name` looks like a reserved name, the site's name or a deleted account's.
pub fn is_reserved(name: &str, site_name: &str) -> bool {
    let key = lookalike_key(name);
    key.is_empty()
        || looks_deleted(name)
        || key == lookalike_key(site_name)
        || RESERVED.iter().any(|r| key == lookalike_key(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_share_a_key_and_different_names_do_not() {
        for (a, b) in [
            ("admin", "admln"),
            ("admin", "adm1n"),
            ("admin", "ADMIN."),
            ("admin", "a-d-m-i-n"),
            ("sam", "s4m"),
            ("sam", "5am"),
            ("modern", "rnodern"),
            ("casey", "ca5ey"),
            // Cyrillic а and е.
            ("casey", "cаsеy"),
        ] {
            assert_eq!(lookalike_key(a), lookalike_key(b), "{a} / {b}");
        }
        for (a, b) in [("sam", "samantha"), ("casey", "cassie"), ("ada", "adam")] {
            assert_ne!(lookalike_key(a), lookalike_key(b), "{a} / {b}");
        }
    }

    #[test]
    fn reserved_names_and_the_deleted_shape_are_kept() {
        for name in [
            "support",
            "Moderator",
            "m0derator",
            "deleted-14",
            "De1eted-2",
            "deletedscenes",
            "acme_help",
        ] {
            assert!(is_reserved(name, "Acme Help"), "{name}");
        }
        for name in ["ada", "sam", "supporter", "helpful"] {
            assert!(!is_reserved(name, "Acme Help"), "{name}");
        }
    }
}
