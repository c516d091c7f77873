//! A member's picture beside their name: the avatar they uploaded, or their initials on a colour
//! that comes from their username. Drawn by the server as plain HTML (an `<img>` or a `<span>`),
//! with no script and no style attribute (the site's Content-Security-Policy refuses inline
//! styles): sizes and colours are classes in style/main.css. Always decorative: the name is
//! next to it, so the picture adds nothing for a screen reader.
use leptos::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

/// The square sizes an avatar is stored in (media::image::AVATAR_SIZES; a test holds them
/// equal), in pixels.
pub const STORED_SIZES: [u32; 3] = [48, 96, 240];

/// How many colours initials are drawn on (`avatar-hue-0` … `avatar-hue-15` in main.css).
pub const HUES: u32 = 16;

/// How big an avatar is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvatarSize {
    /// In lists: topic rows, search results.
    Small,
    /// Beside a post.
    Medium,
    /// On the member's own page and their account page.
    Large,
}

impl AvatarSize {
    /// CSS pixels (the class sets the same).
    pub fn px(self) -> u32 {
        match self {
            AvatarSize::Small => 24,
            AvatarSize::Medium => 44,
            AvatarSize::Large => 96,
        }
    }

    fn class(self) -> &'static str {
        match self {
            AvatarSize::Small => "avatar-s",
            AvatarSize::Medium => "avatar-m",
            AvatarSize::Large => "avatar-l",
        }
    }
}

/// `/uploads/<id>/avatar/<size>`: one stored size of an avatar (as server::uploads::avatar_url).
pub fn avatar_url(upload_id: i64, size: u32) -> String {
    format!("/uploads/{upload_id}/avatar/{size}")
}

/// The smallest stored size at least `px` wide (the largest when none is).
fn stored_at_least(px: u32) -> u32 {
    STORED_SIZES
        .into_iter()
        .find(|&s| s >= px)
        .unwrap_or(STORED_SIZES[STORED_SIZES.len() - 1])
}

/// Which of the `HUES` colours a member's initials are drawn on: FNV-1a over the lower-cased
/// username, so it is the same on every page, in both builds, and after a restart.
pub fn hue_of(username: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in username.to_lowercase().bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % HUES
}

/// One or two letters for a name: the first letter of its first word and of its last word
/// (words split at spaces, dots, dashes and underscores), upper-cased; one letter for a
/// one-word name. Letters are whole graphemes (an accent written as a combining mark stays
/// on its letter; a Devanagari consonant keeps its vowel sign); a word's leading punctuation
/// or symbols are skipped. None when the name has no letter or digit at all.
pub fn initials(name: &str) -> Option<String> {
    let first_letter = |word: &str| -> Option<String> {
        word.graphemes(true)
            .find(|g| g.chars().next().is_some_and(char::is_alphanumeric))
            .map(str::to_uppercase)
    };
    let words: Vec<String> = name
        .split(|c: char| c.is_whitespace() || matches!(c, '.' | '-' | '_'))
        .filter_map(first_letter)
        .collect();
    let first = words.first()?;
    let mut out = first.clone();
    if words.len() > 1 {
        out.push_str(&words[words.len() - 1]);
    }
    Some(out)
}

/// A member's avatar. `name` is the name shown beside it (display name, else username): its
/// initials are drawn when there is no picture. `username` gives the colour, so a member has
/// the same one wherever they appear, whichever of their names a page shows.
#[component]
pub fn Avatar(
    #[prop(into)] name: String,
    #[prop(into)] username: String,
    /// The member's avatar upload, if they have one.
    upload: Option<i64>,
    size: AvatarSize,
) -> impl IntoView {
    let px = size.px();
    match upload {
        Some(id) => {
            let one = stored_at_least(px);
            let two = stored_at_least(px * 2);
            let srcset = (two != one)
                .then(|| format!("{} 1x, {} 2x", avatar_url(id, one), avatar_url(id, two)));
            view! {
                <img
                    class=format!("avatar {}", size.class())
                    src=avatar_url(id, one)
                    srcset=srcset
                    alt=""
                    width=px
                    height=px
                    loading="lazy"
                    decoding="async"
                />
            }
            .into_any()
        }
        None => {
            let letters = initials(&name)
                .or_else(|| initials(&username))
                .unwrap_or_else(|| "?".to_string());
            view! {
                <span
                    class=format!("avatar {} avatar-hue-{}", size.class(), hue_of(&username))
                    aria-hidden="true"
                >
                    {letters}
                </span>
            }
            .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_one_or_two_upper_case_letters() {
        assert_eq!(initials("casey").as_deref(), Some("C"));
        assert_eq!(initials("Casey Jones").as_deref(), Some("CJ"));
        assert_eq!(initials("  ada   de la   lovelace ").as_deref(), Some("AL"));
        assert_eq!(initials("jean-luc_picard").as_deref(), Some("JP"));
        assert_eq!(initials("sam.support").as_deref(), Some("SS"));
        assert_eq!(initials("42cats").as_deref(), Some("4"));
        assert_eq!(initials("\"quoted\" (name)").as_deref(), Some("QN"));
    }

    #[test]
    fn initials_are_whole_unicode_letters() {
        assert_eq!(initials("élodie durand").as_deref(), Some("ÉD"));
        // e + COMBINING ACUTE ACCENT: the accent stays on its letter.
        assert_eq!(initials("e\u{301}mile").as_deref(), Some("E\u{301}"));
        assert_eq!(initials("Ødegaard Åse").as_deref(), Some("ØÅ"));
        assert_eq!(initials("ярослав мудрий").as_deref(), Some("ЯМ"));
        assert_eq!(initials("山田 太郎").as_deref(), Some("山太"));
        assert_eq!(initials("김민수").as_deref(), Some("김"));
        // A consonant with its vowel sign is one letter.
        assert_eq!(initials("कि").as_deref(), Some("कि"));
        assert_eq!(initials("محمد علي").as_deref(), Some("مع"));
    }

    #[test]
    fn names_without_letters_have_no_initials() {
        assert_eq!(initials(""), None);
        assert_eq!(initials("   "), None);
        assert_eq!(initials("🦀 ✨"), None);
        assert_eq!(initials("<>'\""), None);
        // Markup in a name is only text: its letters are what count.
        assert_eq!(initials("<script>").as_deref(), Some("S"));
    }

    #[test]
    fn the_hue_is_stable_and_spread() {
        assert_eq!(hue_of("casey"), hue_of("Casey"));
        assert_eq!(hue_of("casey"), hue_of("casey"));
        // Pinned: a change would recolour every member without a picture.
        assert_eq!(hue_of(""), 0x811c_9dc5 % HUES);
        let used: std::collections::BTreeSet<u32> =
            (0..400).map(|i| hue_of(&format!("member{i}"))).collect();
        assert_eq!(used.len(), HUES as usize, "{used:?}");
        assert!((0..400).all(|i| hue_of(&format!("m{i}")) < HUES));
    }

    #[test]
    fn sizes_pick_a_stored_copy_for_each_density() {
        assert_eq!(stored_at_least(AvatarSize::Small.px()), 48);
        assert_eq!(stored_at_least(AvatarSize::Small.px() * 2), 48);
        assert_eq!(stored_at_least(AvatarSize::Medium.px()), 48);
        assert_eq!(stored_at_least(AvatarSize::Medium.px() * 2), 96);
        assert_eq!(stored_at_least(AvatarSize::Large.px()), 96);
        assert_eq!(stored_at_least(AvatarSize::Large.px() * 2), 240);
        assert_eq!(stored_at_least(1000), 240);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn addresses_and_sizes_are_the_servers() {
        assert_eq!(STORED_SIZES, media::image::AVATAR_SIZES);
        for size in STORED_SIZES {
            assert_eq!(
                avatar_url(7, size),
                crate::server::uploads::avatar_url(7, size)
            );
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn renders_a_picture_or_initials_and_never_the_names_markup() {
        let html = view! { <Avatar name="Casey Jones" username="casey" upload=Some(12) size=AvatarSize::Medium /> }
            .to_html();
        assert!(html.contains(r#"src="/uploads/12/avatar/48""#), "{html}");
        assert!(
            html.contains(r#"srcset="/uploads/12/avatar/48 1x, /uploads/12/avatar/96 2x""#),
            "{html}"
        );
        assert!(
            html.contains(r#"alt="""#) && html.contains(r#"width="44""#),
            "{html}"
        );
        assert!(html.contains(r#"loading="lazy""#), "{html}");
        let html = view! { <Avatar name="<b>&amp; q" username="mallory" upload=None size=AvatarSize::Small /> }
            .to_html();
        assert!(
            html.contains(">BQ</span>") && !html.contains("<b>") && !html.contains("&amp;"),
            "{html}"
        );
        assert!(
            html.contains(&format!("avatar-hue-{}", hue_of("mallory"))),
            "{html}"
        );
        assert!(html.contains(r#"aria-hidden="true""#), "{html}");
        let html = view! { <Avatar name="<>" username="x<y" upload=None size=AvatarSize::Large /> }
            .to_html();
        // No letter in the name: the username's initial.
        assert!(html.contains(">X</span>"), "{html}");
    }
}
