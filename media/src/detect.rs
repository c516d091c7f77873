//! What an uploaded file is, decided from its bytes alone. A file's name and the type the browser
//! sent are whatever the member's machine (or an attacker) says; the bytes are what a browser
//! will actually interpret, so they are the only thing worth checking. The caller still checks
//! that the name's extension agrees with the detected kind ([`kind_for_extension`]) so that what
//! members see in a name matches what they download.

/// The kinds of file the site accepts at all; an admin narrows them down in settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Zip,
    Text,
}

impl Kind {
    /// The Content-Type the file is served with. Text says its charset because detection only
    /// accepts UTF-8, and a browser left to guess could pick a legacy encoding.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Pdf => "application/pdf",
            Kind::Zip => "application/zip",
            Kind::Text => "text/plain; charset=utf-8",
        }
    }

    /// The extension the site gives a file of this kind when it names one itself (stored
    /// copies, re-encoded images).
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Png => "png",
            Kind::Jpeg => "jpg",
            Kind::Gif => "gif",
            Kind::Webp => "webp",
            Kind::Pdf => "pdf",
            Kind::Zip => "zip",
            Kind::Text => "txt",
        }
    }

    /// Every extension a member's file of this kind may carry (what [`kind_for_extension`]
    /// maps to this kind), for messages such as "PDF files must end in .pdf".
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg"],
            Kind::Gif => &["gif"],
            Kind::Webp => &["webp"],
            Kind::Pdf => &["pdf"],
            Kind::Zip => &["zip"],
            Kind::Text => &["txt", "log"],
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp)
    }

    /// The canonical word for this kind in the allowed-file-types setting. It is the same as
    /// [`Kind::extension`]; "jpeg" and "log" are aliases that [`kind_for_extension`] also
    /// understands, so a setting reading "pdf txt log zip" allows text under both names.
    pub fn setting_name(self) -> &'static str {
        self.extension()
    }

    /// How a member would name the kind in a sentence ("This file is a PDF document").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Png => "a PNG image",
            Kind::Jpeg => "a JPEG image",
            Kind::Gif => "a GIF image",
            Kind::Webp => "a WebP image",
            Kind::Pdf => "a PDF document",
            Kind::Zip => "a zip archive",
            Kind::Text => "a text file",
        }
    }
}

/// The kind a file name's extension (without the dot, any case) claims, or a word of the
/// allowed-file-types setting names. None for anything the site never accepts.
pub fn kind_for_extension(ext: &str) -> Option<Kind> {
    let ext = ext.trim().trim_start_matches('.');
    const TABLE: [(&str, Kind); 9] = [
        ("png", Kind::Png),
        ("jpg", Kind::Jpeg),
        ("jpeg", Kind::Jpeg),
        ("gif", Kind::Gif),
        ("webp", Kind::Webp),
        ("pdf", Kind::Pdf),
        ("zip", Kind::Zip),
        ("txt", Kind::Text),
        ("log", Kind::Text),
    ];
    TABLE
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(ext))
        .map(|&(_, kind)| kind)
}

/// What the bytes are, from their magic numbers / content (never the name). None: not a kind we
/// accept.
///
/// AVIF is not accepted: `image` decodes it only with the `avif-native` feature, which needs the
/// dav1d C library, and this build does not carry it. Accepting a format the server cannot
/// re-encode would mean serving members' bytes as they came, metadata and payloads included.
pub fn detect(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    // SOI followed by the start of any marker segment; a bare FF D8 is too weak a signal.
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(Kind::Gif);
    }
    if is_webp(bytes) {
        return Some(Kind::Webp);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    // A local file header, or the end-of-central-directory record that is all an empty archive
    // holds.
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if is_text(bytes) && markup(bytes).is_none() {
        return Some(Kind::Text);
    }
    None
}

fn is_webp(bytes: &[u8]) -> bool {
    bytes.len() >= 16
        && &bytes[0..4] == b"RIFF"
        && &bytes[8..12] == b"WEBP"
        && matches!(&bytes[12..16], b"VP8 " | b"VP8L" | b"VP8X")
}

/// Valid UTF-8 (a BOM allowed) with no control characters but the ones plain text and logs
/// use: tab, line feed, carriage return, form feed, and escape (logs carry ANSI colours).
/// NUL in particular marks binary data, and the other controls can hide or rearrange what a
/// reader sees in a terminal.
fn is_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C' | '\x1B'))
}

/// HTML, SVG and other XML at the start of a text file. These are refused as text even though
/// they are valid UTF-8: a browser that ever sniffs them (an old one, a download opened from
/// disk, a proxy that drops `nosniff`) runs their scripts, and nobody needs to post a web page
/// as a "log file".
fn markup(bytes: &[u8]) -> Option<&'static str> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = body
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C'))?;
    let body = &body[start..];
    let head = &body[..body.len().min(4096)];
    if starts_with_ci(body, b"<svg") || starts_with_ci(body, b"<!doctype svg") {
        return Some("an SVG image");
    }
    if starts_with_ci(body, b"<?xml") {
        return Some(if contains_ci(head, b"<svg") {
            "an SVG image"
        } else if contains_ci(head, b"<html") {
            "an HTML page"
        } else {
            "an XML document"
        });
    }
    // The tags the WHATWG MIME sniffing standard treats as "this is HTML" when a resource
    // starts with them, each followed by a space or '>' so that "<a" does not match "<apple".
    const HTML_TAGS: [&[u8]; 18] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
        b"<meta",
    ];
    for tag in HTML_TAGS {
        if starts_with_ci(body, tag) {
            let next = body.get(tag.len()).copied();
            if tag == b"<!--" || matches!(next, Some(b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'/')) {
                return Some("an HTML page");
            }
        }
    }
    None
}

fn starts_with_ci(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// For a refusal message: what commonly refused content looks like ("an SVG image", "an HTML
/// page", "a HEIC photo", ...) when [`detect`] gave None. None when it looks like nothing in
/// particular; the caller then says only what is accepted.
pub fn describe(bytes: &[u8]) -> Option<&'static str> {
    if bytes.is_empty() {
        return Some("an empty file");
    }
    if let Some(what) = markup(bytes) {
        return Some(what);
    }
    if let Some(what) = iso_media(bytes) {
        return Some(what);
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    let what = if starts(b"BM") && bytes.len() >= 14 && at(6, &[0, 0, 0, 0]) {
        "a BMP image"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "a TIFF image"
    } else if starts(&[0, 0, 1, 0]) && bytes.len() >= 6 {
        "an icon file"
    } else if starts(b"8BPS") {
        "a Photoshop document"
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        "a JPEG XL image"
    } else if starts(b"\0\0\0\x0cjP  \r\n\x87\n") {
        "a JPEG 2000 image"
    } else if starts(b"\x7fELF")
        || starts(b"MZ")
        || starts(&[0xFE, 0xED, 0xFA, 0xCE])
        || starts(&[0xFE, 0xED, 0xFA, 0xCF])
        || starts(&[0xCE, 0xFA, 0xED, 0xFE])
        || starts(&[0xCF, 0xFA, 0xED, 0xFE])
        || starts(&[0xCA, 0xFE, 0xBA, 0xBE])
        || starts(b"\0asm")
    {
        "a program"
    } else if starts(&[0x1F, 0x8B]) {
        "a gzip archive"
    } else if starts(b"Rar!\x1a\x07") {
        "a RAR archive"
    } else if starts(b"7z\xBC\xAF\x27\x1C") {
        "a 7-Zip archive"
    } else if starts(b"BZh") {
        "a bzip2 archive"
    } else if starts(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        "an xz archive"
    } else if at(257, b"ustar") {
        "a tar archive"
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        "an old-style Microsoft Office document"
    } else if starts(b"SQLite format 3\0") {
        "a database file"
    } else if starts(b"wOFF") || starts(b"wOF2") || starts(b"OTTO") || starts(&[0, 1, 0, 0, 0]) {
        "a font"
    } else if starts(b"RIFF") && at(8, b"WAVE") || starts(b"ID3") || starts(b"fLaC") {
        "an audio file"
    } else if starts(b"RIFF") && at(8, b"AVI ") || starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        "a video"
    } else if starts(b"OggS") {
        "an audio or video file"
    } else if starts(b"RIFF") && at(8, b"WEBP") {
        // A RIFF/WEBP header that detect() refused: no VP8 chunk where one must be.
        "a damaged WebP image"
    } else if starts(&[0xFF, 0xFE]) || starts(&[0xFE, 0xFF]) {
        "a text file in UTF-16"
    } else if looks_like_legacy_text(bytes) {
        "a text file that is not in UTF-8"
    } else if starts(b"\x89PNG") || starts(&[0xFF, 0xD8]) || starts(b"GIF8") {
        "a damaged image"
    } else {
        return None;
    };
    Some(what)
}

/// HEIF-family containers (HEIC, AVIF) and MP4-family media share the ISO base media file
/// format: a `ftyp` box whose major and compatible brands say what is inside.
fn iso_media(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(16, bytes.len());
    let major = &bytes[8..12];
    let compatible = bytes[16..end].chunks_exact(4);
    let has = |brands: &[&[u8]]| {
        brands.contains(&major) || compatible.clone().any(|b| brands.contains(&b))
    };
    if matches!(major, b"avif" | b"avis") {
        return Some("an AVIF image");
    }
    if matches!(
        major,
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis"
    ) {
        return Some("a HEIC photo");
    }
    // A generic HEIF major brand says little; the compatible brands tell AVIF from HEIC.
    if matches!(major, b"mif1" | b"msf1") {
        if has(&[b"avif", b"avis"]) {
            return Some("an AVIF image");
        }
        return Some("a HEIC photo");
    }
    if matches!(major, b"M4A " | b"M4B ") {
        return Some("an audio file");
    }
    Some("a video")
}

/// Text in a single-byte legacy encoding (Windows-1252, Latin-1): not UTF-8, but no NUL or
/// other C0 controls, and mostly printable ASCII. Telling the member this beats calling their
/// log file "not an accepted kind".
fn looks_like_legacy_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    let controls = sample
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B));
    let ascii = sample.iter().filter(|b| b.is_ascii()).count();
    !controls && std::str::from_utf8(bytes).is_err() && ascii * 10 >= sample.len() * 9
}

/// Why a file name was refused; the Display text is what the member reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("The file needs a name. Rename it and try again.")]
    Empty,
    #[error(
        "The file name is {chars} characters long; the most allowed is {MAX_NAME_CHARS}. \
         Give it a shorter name and try again."
    )]
    TooLong { chars: usize },
    #[error(
        "The file name contains a slash or backslash, which file names here cannot have. \
         Rename the file and try again."
    )]
    PathSeparator,
    #[error(
        "The file name contains an invisible control character. Rename the file and try again."
    )]
    ControlCharacter,
    #[error(
        "The file name contains characters that reverse the direction of the text, which could \
         make it read as something else. Rename the file and try again."
    )]
    DirectionOverride,
    #[error("\"{0}\" is not a file name. Rename the file and try again.")]
    DotsOnly(String),
}

/// The longest name kept, in characters: what most file systems allow, and longer names only
/// break layouts and headers.
pub const MAX_NAME_CHARS: usize = 255;

/// A file name as members see it and as it goes in a Content-Disposition header: refused (Err
/// with a user-facing message) when it has path separators (/ or \), control characters, is
/// longer than 255 characters, or is empty after trimming; otherwise the trimmed name.
///
/// Names with bidirectional overrides and isolates are refused too: "photo\u{202E}gnp.exe"
/// displays as "photoexe.png", the classic way to dress one kind of file as another. "." and
/// ".." are refused because anything that ever joins the name to a path would climb out of
/// its directory.
pub fn clean_file_name(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.contains(['/', '\\']) {
        return Err(NameError::PathSeparator);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    if name
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(NameError::DirectionOverride);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong { chars });
    }
    if name.chars().all(|c| c == '.') {
        return Err(NameError::DotsOnly(name.to_string()));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webp_header(chunk: &[u8; 4]) -> Vec<u8> {
        let mut b = b"RIFF\x20\0\0\0WEBP".to_vec();
        b.extend_from_slice(chunk);
        b.extend_from_slice(&[0; 20]);
        b
    }

    #[test]
    fn every_accepted_kind_is_detected_from_its_bytes() {
        let cases: [(&[u8], Kind); 10] = [
            (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", Kind::Png),
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", Kind::Jpeg),
            (b"GIF89a\x01\0\x01\0\0\0\0", Kind::Gif),
            (b"GIF87a\x01\0\x01\0\0\0\0", Kind::Gif),
            (b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", Kind::Pdf),
            (b"PK\x03\x04\x14\0\0\0\x08\0", Kind::Zip),
            (b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", Kind::Zip),
            (
                b"2024-05-01 12:00:01 INFO started\n\tat main\r\n",
                Kind::Text,
            ),
            ("\u{FEFF}caf\u{E9} na\u{EF}ve\n".as_bytes(), Kind::Text),
            (b"\x1b[31mERROR\x1b[0m disk full\x0c\n", Kind::Text),
        ];
        for (bytes, kind) in cases {
            assert_eq!(
                detect(bytes),
                Some(kind),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        for chunk in [b"VP8 ", b"VP8L", b"VP8X"] {
            assert_eq!(detect(&webp_header(chunk)), Some(Kind::Webp));
        }
        // A UTF-8 BOM is text; the BOM alone followed by real text too.
        assert_eq!(detect(b"\xEF\xBB\xBFhello"), Some(Kind::Text));
    }

    #[test]
    fn a_png_name_on_html_is_not_an_image_and_says_it_is_a_page() {
        for html in [
            &b"<!DOCTYPE html><html><body><script>alert(1)</script>"[..],
            b"\n  <html>\n<img src=x onerror=alert(1)>",
            b"\xEF\xBB\xBF<HTML>",
            b"<script>fetch('/admin')</script>",
            b"<!-- comment --><p>hi",
            b"<body onload=alert(1)>",
        ] {
            assert_eq!(detect(html), None, "{:?}", String::from_utf8_lossy(html));
            assert_eq!(describe(html), Some("an HTML page"));
        }
        // A text file that merely mentions a tag later on, or starts with a word beginning
        // with a tag's letters, is still text.
        assert_eq!(detect(b"<apple> is not a tag\n"), Some(Kind::Text));
        assert_eq!(detect(b"log: saw <script> in input\n"), Some(Kind::Text));
    }

    #[test]
    fn svg_and_xml_are_refused() {
        let svg =
            br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
        assert_eq!(detect(svg), None);
        assert_eq!(describe(svg), Some("an SVG image"));
        assert_eq!(detect(b"<svg><script>x</script></svg>"), None);
        assert_eq!(describe(b"  <SVG width=\"1\">"), Some("an SVG image"));
        assert_eq!(
            describe(b"<?xml version=\"1.0\"?><feed/>"),
            Some("an XML document")
        );
        assert_eq!(detect(b"<?xml version=\"1.0\"?><feed/>"), None);
    }

    #[test]
    fn zero_bytes_are_nothing_and_say_so() {
        assert_eq!(detect(b""), None);
        assert_eq!(describe(b""), Some("an empty file"));
    }

    #[test]
    fn text_with_nul_or_stray_controls_or_bad_utf8_is_refused() {
        assert_eq!(detect(b"hello\0world"), None);
        assert_eq!(detect(b"bell \x07 here"), None);
        assert_eq!(detect(b"delete \x7f here"), None);
        // C1 controls are valid UTF-8 but still controls.
        assert_eq!(detect("next line \u{85} here".as_bytes()), None);
        assert_eq!(detect(b"caf\xE9 au lait, Latin-1\n"), None);
        assert_eq!(
            describe(b"caf\xE9 au lait, Latin-1\n"),
            Some("a text file that is not in UTF-8")
        );
        assert_eq!(describe(b"\xFF\xFEh\0i\0"), Some("a text file in UTF-16"));
        assert_eq!(describe(b"hello\0world"), None);
    }

    #[test]
    fn near_misses_of_accepted_magic_numbers_are_not_accepted() {
        assert_eq!(detect(b"\x89PNG\r\n"), None, "cut inside the signature");
        assert_eq!(detect(b"\xFF\xD8"), None);
        assert_eq!(
            detect(b"GIF90a"),
            Some(Kind::Text),
            "not a GIF; plain ASCII"
        );
        assert_eq!(detect(b"RIFF\x20\0\0\0WEBPJUNK0000"), None);
        assert_eq!(
            describe(b"RIFF\x20\0\0\0WEBPJUNK0000"),
            Some("a damaged WebP image")
        );
        assert_eq!(
            detect(b" %PDF-1.4"),
            Some(Kind::Text),
            "PDF magic must be first"
        );
        assert_eq!(detect(b"PK\x01\x02"), None);
    }

    #[test]
    fn refused_formats_are_described() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        let avif_generic = b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf";
        let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2";
        let cases: [(&[u8], &str); 13] = [
            (heic, "a HEIC photo"),
            (avif, "an AVIF image"),
            (avif_generic, "an AVIF image"),
            (mp4, "a video"),
            (b"BM\x36\0\x0c\0\0\0\0\0\x36\0\0\0", "a BMP image"),
            (b"II*\0\x08\0\0\0", "a TIFF image"),
            (b"MM\0*\0\0\0\x08", "a TIFF image"),
            (b"\x7fELF\x02\x01\x01\0", "a program"),
            (b"MZ\x90\0\x03\0\0\0", "a program"),
            (b"\x1f\x8b\x08\0\0\0\0\0", "a gzip archive"),
            (b"Rar!\x1a\x07\x01\0", "a RAR archive"),
            (b"\x89PNG\r\n\x1a", "a damaged image"),
            (b"\xFF\x0A\xFA\x7F", "a JPEG XL image"),
        ];
        for (bytes, what) in cases {
            assert_eq!(detect(bytes), None, "{what}");
            assert_eq!(describe(bytes), Some(what));
        }
        assert_eq!(describe(&[0x00, 0x13, 0x37, 0x99, 0xF0]), None);
    }

    #[test]
    fn kinds_have_consistent_names() {
        for kind in [
            Kind::Png,
            Kind::Jpeg,
            Kind::Gif,
            Kind::Webp,
            Kind::Pdf,
            Kind::Zip,
            Kind::Text,
        ] {
            assert_eq!(kind_for_extension(kind.extension()), Some(kind));
            assert_eq!(kind_for_extension(kind.setting_name()), Some(kind));
            assert!(kind.extensions().contains(&kind.extension()));
            for ext in kind.extensions() {
                assert_eq!(kind_for_extension(ext), Some(kind));
            }
            assert_eq!(kind.is_image(), kind.mime().starts_with("image/"));
        }
        assert_eq!(Kind::Text.mime(), "text/plain; charset=utf-8");
        assert_eq!(Kind::Jpeg.extension(), "jpg");
    }

    #[test]
    fn extensions_map_case_insensitively_and_refuse_the_rest() {
        assert_eq!(kind_for_extension("JPEG"), Some(Kind::Jpeg));
        assert_eq!(kind_for_extension("Jpg"), Some(Kind::Jpeg));
        assert_eq!(kind_for_extension("LOG"), Some(Kind::Text));
        assert_eq!(kind_for_extension(".pdf"), Some(Kind::Pdf));
        for refused in ["html", "svg", "exe", "docx", "heic", "", "tar.gz", "pn"] {
            assert_eq!(kind_for_extension(refused), None, "{refused}");
        }
        let setting = "pdf txt log zip";
        let allowed: Vec<Kind> = setting
            .split_whitespace()
            .filter_map(kind_for_extension)
            .collect();
        assert_eq!(allowed, [Kind::Pdf, Kind::Text, Kind::Text, Kind::Zip]);
    }

    #[test]
    fn file_names_are_trimmed_and_checked() {
        assert_eq!(
            clean_file_name("  report 2024.pdf \n").as_deref(),
            Ok("report 2024.pdf")
        );
        assert_eq!(
            clean_file_name("résumé – final.txt").as_deref(),
            Ok("résumé – final.txt")
        );
        assert_eq!(clean_file_name(".env.log").as_deref(), Ok(".env.log"));
        assert_eq!(clean_file_name("   "), Err(NameError::Empty));
        assert_eq!(clean_file_name(""), Err(NameError::Empty));
        assert_eq!(
            clean_file_name("../etc/passwd"),
            Err(NameError::PathSeparator)
        );
        assert_eq!(
            clean_file_name("C:\\boot.ini"),
            Err(NameError::PathSeparator)
        );
        assert_eq!(
            clean_file_name("a\u{0}b.txt"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            clean_file_name("a\rb.txt"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            clean_file_name("a\u{1b}[31m.txt"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            clean_file_name("photo\u{202E}gnp.exe"),
            Err(NameError::DirectionOverride)
        );
        assert_eq!(clean_file_name(".."), Err(NameError::DotsOnly("..".into())));
        let long = "é".repeat(256);
        assert_eq!(
            clean_file_name(&long),
            Err(NameError::TooLong { chars: 256 })
        );
        let just_fits = format!("{}.txt", "a".repeat(251));
        assert_eq!(
            clean_file_name(&just_fits).as_deref(),
            Ok(just_fits.as_str())
        );
    }

    #[test]
    fn name_errors_read_as_sentences() {
        for e in [
            NameError::Empty,
            NameError::TooLong { chars: 300 },
            NameError::PathSeparator,
            NameError::ControlCharacter,
            NameError::DirectionOverride,
            NameError::DotsOnly("..".into()),
        ] {
            let msg = e.to_string();
            assert!(msg.ends_with("try again."), "{msg}");
            assert!(
                msg.chars().next().unwrap().is_uppercase() || msg.starts_with('"'),
                "{msg}"
            );
        }
        assert!(
            NameError::TooLong { chars: 300 }
                .to_string()
                .contains("300 characters")
        );
    }
}
