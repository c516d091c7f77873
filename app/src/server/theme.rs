//! The site's theme stylesheet (/theme.css): the admin's accent colour as a full palette for
//! light and dark, and the category colours (server::category_colours). Served as a stylesheet
//! rather than style attributes, so the Content-Security-Policy can refuse every inline style;
//! pages link it with a hash of its text (`?v=`), so browsers keep it until something changes.
//!
//! An admin picks one colour. Links, buttons, focus rings and soft backgrounds are derived from
//! it so that every pairing the stylesheet uses keeps WCAG AA contrast (4.5:1 for text) in both
//! schemes, whatever colour was picked: a light yellow is darkened for the light scheme, a navy
//! lightened for the dark one. The default colour adds nothing: style/main.css's tokens are the
//! hand-tuned default palette.
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::settings;
use crate::error::AppError;

/// What text needs against its background (WCAG 2.1 AA, normal text), with a little room so
/// rounding in a browser never drops a pairing below it.
const TEXT_CONTRAST: f64 = 4.6;

/// The schemes' surfaces, as style/main.css sets them: the derived accent is checked on each.
const LIGHT_SURFACES: [Rgb; 2] = [Rgb(0xff, 0xff, 0xff), Rgb(0xf7, 0xf7, 0xf5)];
const DARK_SURFACES: [Rgb; 2] = [Rgb(0x17, 0x1b, 0x21), Rgb(0x0f, 0x12, 0x16)];
/// Text on an accent button in dark mode (main.css's --accent-text there).
const DARK_ACCENT_TEXT: Rgb = Rgb(0x0f, 0x12, 0x16);

/// A colour as 8-bit sRGB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb` (what the setting stores; anything else is refused there).
    pub fn parse(hex: &str) -> Option<Rgb> {
        let digits = hex.strip_prefix('#')?;
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
        Some(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG relative luminance.
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// `self` moved `share` (0 to 1) of the way to `other`.
    fn mix(self, other: Rgb, share: f64) -> Rgb {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * share).round() as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// One scheme's accent tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accent {
    /// Links, primary buttons' background, focus rings.
    pub accent: Rgb,
    /// Soft backgrounds (selected tabs, highlights) that accent-coloured text sits on.
    pub soft: Rgb,
}

/// The light and dark palettes for an accent colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    pub light: Accent,
    pub dark: Accent,
}

/// Moves `colour` towards `towards` in small steps until it reads on every surface and on its
/// own soft background (made by `soften`); the first colour that does is the one closest to
/// what the admin picked.
fn readable(
    colour: Rgb,
    towards: Rgb,
    surfaces: &[Rgb],
    soften: impl Fn(Rgb) -> Rgb,
    extra: Option<Rgb>,
) -> Accent {
    for step in 0..=100 {
        let accent = colour.mix(towards, f64::from(step) / 100.0);
        let soft = soften(accent);
        let on_all = surfaces
            .iter()
            .chain(std::iter::once(&soft))
            .chain(extra.iter())
            .all(|s| contrast(accent, *s) >= TEXT_CONTRAST);
        if on_all {
            return Accent { accent, soft };
        }
    }
    // Black or white always reads on these surfaces; reached only for impossible surfaces.
    Accent {
        accent: towards,
        soft: soften(towards),
    }
}

/// The palette for `colour`: darkened as needed for the light scheme (white button text and
/// light surfaces), lightened as needed for the dark one (dark button text and dark surfaces).
pub fn palette(colour: Rgb) -> Palette {
    let white = Rgb(0xff, 0xff, 0xff);
    let light = readable(
        colour,
        Rgb(0, 0, 0),
        &LIGHT_SURFACES,
        |a| a.mix(white, 0.9),
        None,
    );
    let dark = readable(
        colour,
        white,
        &DARK_SURFACES,
        |a| a.mix(DARK_SURFACES[0], 0.82),
        Some(DARK_ACCENT_TEXT),
    );
    Palette { light, dark }
}

/// The palette's custom properties for style/main.css's tokens.
pub fn palette_css(p: &Palette) -> String {
    format!(
        "/* Accent colour, from the admin panel; contrast checked for light and dark. */\n\
         :root {{ --accent: {}; --accent-soft: {}; --accent-text: #ffffff; }}\n\
         @media (prefers-color-scheme: dark) {{\n  \
         :root {{ --accent: {}; --accent-soft: {}; --accent-text: {}; }}\n}}\n",
        p.light.accent.hex(),
        p.light.soft.hex(),
        p.dark.accent.hex(),
        p.dark.soft.hex(),
        DARK_ACCENT_TEXT.hex(),
    )
}

/// The theme stylesheet as it is now, and its version (a hash of its text).
pub async fn current(db: &DatabaseConnection) -> Result<(String, String), AppError> {
    let mut css = String::new();
    let accent = settings::text(db, settings::ACCENT_COLOUR).await?;
    if accent != settings::ACCENT_COLOUR.1
        && let Some(colour) = Rgb::parse(&accent)
    {
        css.push_str(&palette_css(&palette(colour)));
    }
    css.push_str(&super::category_colours::stylesheet(
        &super::category_colours::pairs(db).await?,
    ));
    let digest = Sha256::digest(css.as_bytes());
    let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok((css, version))
}

/// The colour the browser paints its own chrome with (`theme-color`): the light accent.
pub fn browser_colour(accent_setting: &str) -> String {
    Rgb::parse(accent_setting)
        .map(|c| palette(c).light.accent.hex())
        .unwrap_or_else(|| settings::ACCENT_COLOUR.1.to_string())
}

/// The brand's images and colour as pages show them.
pub struct Brand {
    pub theme_colour: String,
    pub logo_light: Option<String>,
    pub logo_dark: Option<String>,
    pub favicon: Option<String>,
}

/// The brand settings, with each image's address as a reader's browser may fetch it: an upload
/// as it is, another site's image through this site's image proxy (the pages' policy lets
/// images come from this site only, and readers' addresses stay private).
pub async fn brand(db: &DatabaseConnection) -> Result<Brand, AppError> {
    let accent = settings::text(db, settings::ACCENT_COLOUR).await?;
    let mut images = Vec::with_capacity(3);
    for key in [settings::LOGO_LIGHT, settings::LOGO_DARK, settings::FAVICON] {
        let address = settings::text(db, key).await?;
        images.push(match address.as_str() {
            "" => None,
            a if a.starts_with("/uploads/") => Some(address),
            a => Some(super::uploads::proxy::url_for(
                &super::uploads::proxy::key(db).await?,
                a,
            )),
        });
    }
    let mut images = images.into_iter();
    Ok(Brand {
        theme_colour: browser_colour(&accent),
        logo_light: images.next().flatten(),
        logo_dark: images.next().flatten(),
        favicon: images.next().flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &Palette) {
        for s in LIGHT_SURFACES.iter().chain([&p.light.soft]) {
            assert!(contrast(p.light.accent, *s) >= 4.5, "{p:?} on {s:?}");
        }
        for s in DARK_SURFACES
            .iter()
            .chain([&p.dark.soft, &DARK_ACCENT_TEXT])
        {
            assert!(contrast(p.dark.accent, *s) >= 4.5, "{p:?} on {s:?}");
        }
    }

    #[test]
    fn any_colour_keeps_aa_contrast_in_both_schemes() {
        // Corners and edges of the colour cube, greys, and a sweep: yellow, white and black are
        // the hard cases (nothing to darken, nothing to lighten).
        let mut colours = vec![
            Rgb(0xff, 0xff, 0x00),
            Rgb(0xff, 0xff, 0xff),
            Rgb(0, 0, 0),
            Rgb(0x80, 0x80, 0x80),
            Rgb(0x2f, 0x5f, 0x91),
        ];
        for r in (0..=255).step_by(51) {
            for g in (0..=255).step_by(51) {
                for b in (0..=255).step_by(51) {
                    colours.push(Rgb(r as u8, g as u8, b as u8));
                }
            }
        }
        for c in colours {
            check(&palette(c));
        }
    }

    #[test]
    fn a_readable_colour_is_kept_as_it_was_picked() {
        // Dark enough for white text already: the light scheme uses it unchanged.
        let navy = Rgb(0x1d, 0x3a, 0x8a);
        assert_eq!(palette(navy).light.accent, navy);
        // A light yellow is darkened for light surfaces and kept for dark ones.
        let yellow = Rgb(0xf5, 0xc5, 0x18);
        let p = palette(yellow);
        assert_ne!(p.light.accent, yellow);
        assert_eq!(p.dark.accent, yellow);
    }

    #[test]
    fn only_hex_colours_parse() {
        assert_eq!(Rgb::parse("#2F5f91"), Some(Rgb(0x2f, 0x5f, 0x91)));
        for bad in [
            "2f5f91",
            "#2f5f9",
            "#2f5f911",
            "red",
            "#zzzzzz",
            "#2f5f91;}",
            "",
        ] {
            assert_eq!(Rgb::parse(bad), None, "{bad}");
        }
        assert_eq!(Rgb(1, 2, 255).hex(), "#0102ff");
    }

    #[test]
    fn the_stylesheet_sets_the_tokens_for_both_schemes() {
        let css = palette_css(&palette(Rgb(0xc0, 0x39, 0x2b)));
        assert!(css.contains(":root { --accent: #"));
        assert!(css.contains("@media (prefers-color-scheme: dark)"));
        assert!(!css.contains("{}"));
    }
}
