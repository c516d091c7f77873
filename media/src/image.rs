//! Members' images made safe and light. Every accepted image is decoded to pixels and encoded
//! anew: what reaches other members is only what our encoders wrote, so EXIF (GPS positions,
//! camera serials), comments, and any payload riding in the file (an HTML or script "polyglot",
//! data after the end marker) are gone. Sizes are checked from the header before a single pixel
//! is decoded, so a decompression bomb costs a few bytes of parsing.
//!
//! Everything here is synchronous and CPU-bound: the caller runs it in `spawn_blocking`, bounds
//! how many run at once, and passes a deadline that is checked between stages and between
//! frames of an animation. Memory is bounded per image by `Limits::max_alloc`, given to the
//! decoders and checked against an estimate before decoding.
//!
//! Colour profiles (ICC) are dropped with the rest of the metadata: keeping them would keep
//! arbitrary bytes from the upload, and converting to sRGB needs a colour management library.
//! Wide-gamut photos (Display P3 from recent phones) therefore look slightly less saturated.

use std::io::Cursor;
use std::time::Instant;

use ::image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use ::image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use ::image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use ::image::codecs::webp::WebPDecoder;
use ::image::error::LimitErrorKind;
use ::image::metadata::{LoopCount, Orientation};
use ::image::{
    AnimationDecoder, DynamicImage, GrayAlphaImage, GrayImage, ImageDecoder, RgbImage, RgbaImage,
};
use fast_image_resize as fir;

use crate::detect::{self, Kind};

/// The per-image bounds. An admin sets some (sizes, animation); the server sets the rest.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Refuse images with more pixels than this, before decoding.
    pub max_pixels: u64,
    /// Resize so that neither side exceeds it.
    pub max_side: u32,
    /// The thumbnail fits in a square of this side.
    pub thumb_side: u32,
    /// Animated GIF/WebP kept (true) or refused (false).
    pub allow_animation: bool,
    pub max_frames: u32,
    /// The pixels of all frames of an animation together (frames x canvas). Decoding and
    /// re-encoding cost is per pixel, so 300 frames of 1,000 x 1,000 are as much work as a
    /// 300-megapixel still, which `max_pixels` alone would not catch.
    pub max_animation_pixels: u64,
    /// Bytes one image may allocate while it is decoded; given to the decoders and checked
    /// against an estimate (the decoded pixels plus the resizer's working copies) beforehand.
    pub max_alloc: u64,
    /// Checked between stages and between frames; past it the work stops with `TooSlow`.
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 40_000_000,
            max_side: 2000,
            thumb_side: 400,
            allow_animation: true,
            max_frames: 300,
            max_animation_pixels: 100_000_000,
            max_alloc: 256 * 1024 * 1024,
            deadline: None,
        }
    }
}

/// An image ready to store: the re-encoded original, an optional lighter copy, a thumbnail.
#[derive(Clone)]
pub struct Processed {
    /// What `main` is encoded as. A still GIF becomes PNG: re-encoding it as GIF would mean
    /// quantising to 256 colours again, while PNG keeps every pixel and is usually smaller.
    pub kind: Kind,
    /// Of `main`, after the EXIF orientation was applied.
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    /// Re-encoded and resized: JPEG (quality 85) for JPEG, PNG for PNG and still GIF, GIF for
    /// animated GIF, WebP for WebP.
    pub main: Vec<u8>,
    /// A WebP copy, lossy for photos and lossless for screenshots and graphics; only when it is
    /// smaller than `main`. None for animations and when `main` is WebP already.
    pub webp: Option<Vec<u8>>,
    /// WebP, fitting in `thumb_side` (the first frame of an animation).
    pub thumb: Vec<u8>,
    pub thumb_width: u32,
    pub thumb_height: u32,
}

/// Sizes instead of bytes: a failed assertion or a log line should not print megabytes.
impl std::fmt::Debug for Processed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processed")
            .field("kind", &self.kind)
            .field("size", &(self.width, self.height))
            .field("animated", &self.animated)
            .field("main_bytes", &self.main.len())
            .field("webp_bytes", &self.webp.as_ref().map(Vec::len))
            .field("thumb_bytes", &self.thumb.len())
            .field("thumb_size", &(self.thumb_width, self.thumb_height))
            .finish()
    }
}

/// The square sizes of an avatar, in pixels: the list view, the post header, the profile page.
pub const AVATAR_SIZES: [u32; 3] = [48, 96, 240];

/// The longest side decoded at all, whatever `max_pixels` allows: the largest JPEG and GIF can
/// be, and given to the decoders as their width and height limit so that a header this code
/// misread still cannot make them allocate a larger canvas.
pub const MAX_DECODED_SIDE: u32 = 65_535;

/// The most pixels one GIF frame may have: the gif decoder refuses frames needing more than
/// 50 MB of RGBA by itself, and saying so up front gives the member a precise message instead
/// of "damaged".
const GIF_MAX_FRAME_PIXELS: u64 = 50_000_000 / 4;

/// WebP cannot encode a side longer than this; larger results get no WebP copy or thumbnail
/// would fail, so sizes are clamped to it where WebP is the output.
const WEBP_MAX_SIDE: u32 = 16_383;

/// Why an image was refused. The Display text is what a member reads: it says what is wrong
/// and what to do. Details for the server log are in the fields.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("The file is empty (0 bytes). Check that you chose the right file and try again.")]
    Empty,
    #[error("{}", not_an_image(*.what))]
    NotAnImage {
        /// What the file looks like instead (`detect::describe`), when that is known.
        what: Option<&'static str>,
    },
    #[error(
        "This image is {} × {} pixels; the most this site takes is {} megapixels. Make it \
         smaller and try again.",
        thousands(*.width as u64), thousands(*.height as u64), megapixels(*.max)
    )]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error(
        "This image is {} × {} pixels; images here can be at most {} pixels on their longest \
         side. Make it smaller and try again.",
        thousands(*.width as u64), thousands(*.height as u64), thousands(*.max_side as u64)
    )]
    TooLong {
        width: u32,
        height: u32,
        max_side: u32,
    },
    #[error(
        "This image would need more memory to open than this site allows for one image. Make \
         it smaller, or save it with fewer colours, and try again."
    )]
    TooMuchMemory,
    #[error(
        "This image is incomplete: the file ends before the picture does, as happens when a \
         download or copy is cut short. Save or download it again and try again."
    )]
    Truncated,
    #[error(
        "This image is damaged and cannot be opened. Open it in an image editor, save it \
         again and try again."
    )]
    Corrupt { detail: String },
    #[error(
        "This image is saved in a way this site cannot open. Save it again as an ordinary PNG \
         or JPEG and try again."
    )]
    Unsupported { detail: String },
    #[error("Animated images are not accepted here. Upload a still image instead.")]
    Animated,
    #[error(
        "This animation has {} frames; the most this site takes is {}. Shorten it and try \
         again.",
        thousands(*.frames as u64), thousands(*.max as u64)
    )]
    TooManyFrames { frames: u32, max: u32 },
    #[error(
        "This animation is too large to process: {} frames of {} × {} pixels. Make it shorter \
         or smaller and try again.",
        thousands(*.frames as u64), thousands(*.width as u64), thousands(*.height as u64)
    )]
    AnimationTooLarge {
        frames: u32,
        width: u32,
        height: u32,
    },
    #[error(
        "This image took too long to process. Try a smaller image, or save it in another \
         format, and try again."
    )]
    TooSlow,
    /// Our side failed (an encoder refused its input); not the member's doing.
    #[error(
        "The image could not be converted. Please try again; if it keeps failing, tell the \
         site's staff."
    )]
    Failed { detail: String },
}

fn not_an_image(what: Option<&str>) -> String {
    const ACCEPTED: &str = "Images here can be PNG, JPEG, GIF or WebP.";
    match what {
        Some("an empty file") => "The file is empty (0 bytes). Check that you chose the right \
                                  file and try again."
            .to_string(),
        Some(what) => format!(
            "This file is {what}, not an image this site accepts. {ACCEPTED} Save it in one \
             of those formats and try again."
        ),
        None => format!("This file is not an image this site can open. {ACCEPTED}"),
    }
}

/// 50000 -> "50,000": members read these numbers, and digit groups make the size legible.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 40_000_000 -> "40", 12_500_000 -> "12.5".
fn megapixels(pixels: u64) -> String {
    let tenths = (pixels + 50_000) / 100_000;
    if tenths.is_multiple_of(10) {
        thousands(tenths / 10)
    } else {
        format!("{}.{}", thousands(tenths / 10), tenths % 10)
    }
}

impl ImageError {
    /// Whether the member can fix this by changing the file (everything but our own failure),
    /// so the caller knows what to log as an error.
    pub fn is_members_file(&self) -> bool {
        !matches!(self, ImageError::Failed { .. } | ImageError::TooSlow)
    }
}

/// Decode, check, orient, resize and re-encode one uploaded image. See [`Processed`].
pub fn process(bytes: &[u8], limits: &Limits) -> Result<Processed, ImageError> {
    check_time(limits)?;
    let header = inspect(bytes, limits)?;
    if header.frames > 1 {
        return animated(bytes, &header, limits);
    }
    let (image, orientation) = decode_still(bytes, &header, limits)?;
    check_time(limits)?;

    let (width, height) = fit(image.width(), image.height(), limits.max_side);
    // `unwrap_or` takes the full-size picture and drops it when a resized copy exists, so only
    // the copy lives through encoding.
    let mut main = resize(&image, width, height, MAIN_FILTER, None)?.unwrap_or(image);
    drop_opaque_alpha(&mut main);
    main.apply_orientation(orientation);
    check_time(limits)?;

    let (kind, encoded) = match header.kind {
        Kind::Jpeg => (Kind::Jpeg, encode_jpeg(&main)?),
        Kind::Webp if header.lossless => (Kind::Webp, encode_webp(&main, WebpQuality::Lossless)?),
        Kind::Webp => (Kind::Webp, encode_webp(&main, WebpQuality::Photo)?),
        _ => (Kind::Png, encode_png(&main)?),
    };
    check_time(limits)?;

    let webp = match kind {
        Kind::Webp => None,
        Kind::Jpeg => encode_webp_fitting(&main, WebpQuality::Photo)?,
        _ => graphic_webp(&main, encoded.len(), limits)?,
    }
    .filter(|copy| copy.len() < encoded.len());
    check_time(limits)?;

    let (thumb, thumb_width, thumb_height) = thumbnail(&main, limits)?;
    Ok(Processed {
        kind,
        width: main.width(),
        height: main.height(),
        animated: false,
        main: encoded,
        webp,
        thumb,
        thumb_width,
        thumb_height,
    })
}

/// An avatar: the centre square (cropped), in the three sizes, WebP. Same checks as
/// [`process`], except that an animation is not refused: an avatar is its first frame, since
/// moving pictures beside every post would be a distraction no admin setting asked for.
///
/// Images smaller than a size are scaled up to it: pages ask for an avatar by size and lay it
/// out as that square.
pub fn avatar(bytes: &[u8], limits: &Limits) -> Result<Vec<(u32, Vec<u8>)>, ImageError> {
    check_time(limits)?;
    let still = Limits {
        allow_animation: true,
        ..limits.clone()
    };
    let header = inspect(bytes, &still)?;
    let (image, orientation) = decode_still(bytes, &header, &still)?;
    check_time(limits)?;

    // The centre square is the same region whichever way the EXIF orientation turns the
    // picture, so cropping and resizing first and orienting the small squares is equivalent
    // and cheaper than rotating the full image.
    let (w, h) = (image.width(), image.height());
    let side = w.min(h);
    let crop = (
        f64::from((w - side) / 2),
        f64::from((h - side) / 2),
        f64::from(side),
        f64::from(side),
    );
    let largest = AVATAR_SIZES[AVATAR_SIZES.len() - 1];
    let mut base = match resize(&image, largest, largest, MAIN_FILTER, Some(crop))? {
        Some(resized) => resized,
        None => image,
    };
    drop_opaque_alpha(&mut base);
    check_time(limits)?;

    let mut out = Vec::with_capacity(AVATAR_SIZES.len());
    for size in AVATAR_SIZES {
        let mut square =
            resize(&base, size, size, MAIN_FILTER, None)?.unwrap_or_else(|| base.clone());
        square.apply_orientation(orientation);
        out.push((size, encode_webp(&square, WebpQuality::Photo)?));
    }
    check_time(limits)?;
    Ok(out)
}

fn check_time(limits: &Limits) -> Result<(), ImageError> {
    match limits.deadline {
        Some(deadline) if Instant::now() >= deadline => Err(ImageError::TooSlow),
        _ => Ok(()),
    }
}

/// What the file's own structure says, read without decoding any pixels.
#[derive(Clone, Debug)]
struct Header {
    kind: Kind,
    width: u32,
    height: u32,
    /// Frames of an animation (1 for a still image and for APNG, see `png_header`).
    frames: u32,
    /// The pixels the decoder will produce over all frames: a GIF frame larger than its canvas
    /// is decoded whole before it is clipped.
    frame_pixels: u64,
    /// Largest single frame (GIF frames may differ from the canvas).
    largest_frame: (u32, u32),
    /// A WebP whose pictures are all lossless, re-encoded losslessly.
    lossless: bool,
    /// The structure ran to its end marker (EOI, IEND, GIF trailer, RIFF size).
    complete: bool,
}

/// Kind, size and completeness from the bytes, and every bound that can be checked before
/// decoding: pixels, sides, frames.
fn inspect(bytes: &[u8], limits: &Limits) -> Result<Header, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let kind = match detect::detect(bytes) {
        Some(kind) if kind.is_image() => kind,
        Some(other) => {
            return Err(ImageError::NotAnImage {
                what: Some(other.describe()),
            });
        }
        None => {
            return Err(ImageError::NotAnImage {
                what: detect::describe(bytes),
            });
        }
    };
    let header = match kind {
        Kind::Png => png_header(bytes)?,
        Kind::Jpeg => jpeg_header(bytes)?,
        Kind::Gif => gif_header(bytes)?,
        _ => webp_header(bytes)?,
    };
    let (width, height) = (header.width, header.height);
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt {
            detail: format!("{width}x{height} in the header"),
        });
    }
    let max_pixels = max_pixels(kind, limits);
    // The canvas first, then the largest frame: a GIF may declare a small screen and a huge
    // frame, and the frame is what gets allocated.
    for (w, h) in [(width, height), header.largest_frame] {
        if w > MAX_DECODED_SIDE || h > MAX_DECODED_SIDE {
            return Err(ImageError::TooLong {
                width: w,
                height: h,
                max_side: MAX_DECODED_SIDE,
            });
        }
        if u64::from(w) * u64::from(h) > max_pixels {
            return Err(ImageError::TooManyPixels {
                width: w,
                height: h,
                max: max_pixels,
            });
        }
    }
    if header.frames > 1 {
        if !limits.allow_animation {
            return Err(ImageError::Animated);
        }
        if header.frames > limits.max_frames {
            return Err(ImageError::TooManyFrames {
                frames: header.frames,
                max: limits.max_frames,
            });
        }
        if header.frame_pixels > limits.max_animation_pixels {
            return Err(ImageError::AnimationTooLarge {
                frames: header.frames,
                width,
                height,
            });
        }
    }
    // Checked after the size: a bomb is usually also "truncated" (a header and little else),
    // and its size is the more useful thing to tell.
    if !header.complete {
        return Err(ImageError::Truncated);
    }
    Ok(header)
}

/// The site's pixel limit, lowered for GIF to what the gif decoder can hold in one frame.
fn max_pixels(kind: Kind, limits: &Limits) -> u64 {
    if kind == Kind::Gif {
        limits.max_pixels.min(GIF_MAX_FRAME_PIXELS)
    } else {
        limits.max_pixels
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 2)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8)
}

fn still(kind: Kind, width: u32, height: u32, complete: bool) -> Header {
    Header {
        kind,
        width,
        height,
        frames: 1,
        frame_pixels: u64::from(width) * u64::from(height),
        largest_frame: (width, height),
        lossless: false,
        complete,
    }
}

/// PNG: IHDR must come first; the chunks must run to IEND. Chunk lengths are followed without
/// checking CRCs (the decoder does that), which is enough to tell a file cut short.
///
/// An animated PNG (APNG) is taken as its default image, a still: `image` cannot write APNG,
/// and APNGs are rare enough in a forum that flattening them beats refusing them.
fn png_header(b: &[u8]) -> Result<Header, ImageError> {
    let (Some(width), Some(height)) = (be32(b, 16), be32(b, 20)) else {
        return Err(ImageError::Truncated);
    };
    if b.get(12..16) != Some(b"IHDR") {
        return Err(ImageError::Corrupt {
            detail: "PNG without IHDR first".into(),
        });
    }
    let mut at = 8usize;
    let mut complete = false;
    while let Some(len) = be32(b, at) {
        let Some(kind) = b.get(at + 4..at + 8) else {
            break;
        };
        if len > 0x7FFF_FFFF {
            return Err(ImageError::Corrupt {
                detail: format!("PNG chunk length {len}"),
            });
        }
        let end = at + 12 + len as usize;
        if end > b.len() {
            break;
        }
        if kind == b"IEND" {
            complete = true;
            break;
        }
        at = end;
    }
    Ok(still(Kind::Png, width, height, complete))
}

/// JPEG: walks the marker segments from SOI to EOI, reading the frame size from the SOF
/// segment and skipping entropy-coded data after each SOS (where a 0xFF byte is followed by
/// 0x00 stuffing or a restart marker). The decoder, lenient like browsers, fills a picture cut
/// short with grey instead of failing, so this walk is what tells a truncated upload apart.
/// Data after EOI (where polyglots put their payload) is ignored; it is not re-encoded.
fn jpeg_header(b: &[u8]) -> Result<Header, ImageError> {
    let corrupt = |detail: &str| ImageError::Corrupt {
        detail: format!("JPEG: {detail}"),
    };
    let mut size = None;
    let mut at = 2usize;
    let complete = loop {
        if at >= b.len() {
            break false;
        }
        if b[at] != 0xFF {
            return Err(corrupt("expected a marker"));
        }
        while at < b.len() && b[at] == 0xFF {
            at += 1;
        }
        let Some(&marker) = b.get(at) else {
            break false;
        };
        at += 1;
        match marker {
            0xD9 => break true,
            0xD0..=0xD7 | 0x01 => continue,
            0x00 | 0xD8 => return Err(corrupt("misplaced marker")),
            _ => {}
        }
        let Some(len) = b
            .get(at..at + 2)
            .map(|s| usize::from(s[0]) << 8 | usize::from(s[1]))
        else {
            break false;
        };
        if len < 2 {
            return Err(corrupt("segment length below 2"));
        }
        let end = at + len;
        if end > b.len() {
            break false;
        }
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            if len < 7 {
                return Err(corrupt("short frame header"));
            }
            let height = u32::from(b[at + 3]) << 8 | u32::from(b[at + 4]);
            let width = u32::from(b[at + 5]) << 8 | u32::from(b[at + 6]);
            size = Some((width, height));
        }
        at = end;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is neither stuffing nor restart.
            loop {
                let Some(ff) = b[at..].iter().position(|&x| x == 0xFF) else {
                    at = b.len();
                    break;
                };
                at += ff;
                match b.get(at + 1) {
                    None => {
                        at = b.len();
                        break;
                    }
                    Some(0x00 | 0xD0..=0xD7) => at += 2,
                    Some(0xFF) => at += 1,
                    Some(_) => break,
                }
            }
        }
    };
    let Some((width, height)) = size else {
        return Err(if complete {
            corrupt("no frame header")
        } else {
            ImageError::Truncated
        });
    };
    Ok(still(Kind::Jpeg, width, height, complete))
}

/// GIF: the logical screen, then blocks: extensions and images (each a run of sub-blocks),
/// until the trailer. Counts frames and notes the largest, so animations are refused or bounded
/// before any LZW data is decompressed. A file that ends cleanly after its last frame without
/// the trailer byte is accepted, as browsers do; one that ends inside a block is truncated.
fn gif_header(b: &[u8]) -> Result<Header, ImageError> {
    let (Some(width), Some(height), Some(&flags)) = (le16(b, 6), le16(b, 8), b.get(10)) else {
        return Err(ImageError::Truncated);
    };
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3usize << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let mut at = 13 + table(flags);
    let mut frames = 0u32;
    let mut frame_pixels = 0u64;
    let mut largest = (0u32, 0u32);
    // Skips a run of sub-blocks (length byte, data) ending in a zero length; false if the data
    // ends first.
    let skip_sub_blocks = |at: &mut usize| -> bool {
        loop {
            let Some(&len) = b.get(*at) else {
                return false;
            };
            *at += 1 + usize::from(len);
            if len == 0 {
                return *at <= b.len();
            }
        }
    };
    let complete = loop {
        let Some(&block) = b.get(at) else {
            break frames > 0;
        };
        match block {
            0x3B => break true,
            0x21 => {
                at += 2;
                if !skip_sub_blocks(&mut at) {
                    break false;
                }
            }
            0x2C => {
                let (Some(fw), Some(fh), Some(&fflags)) =
                    (le16(b, at + 5), le16(b, at + 7), b.get(at + 9))
                else {
                    break false;
                };
                // Descriptor, local colour table, LZW minimum code size, then the data.
                at += 10 + table(fflags) + 1;
                if !skip_sub_blocks(&mut at) {
                    break false;
                }
                frames += 1;
                let area = u64::from(fw) * u64::from(fh);
                if area > u64::from(largest.0) * u64::from(largest.1) {
                    largest = (fw, fh);
                }
                frame_pixels += area.max(u64::from(width) * u64::from(height));
            }
            // Bytes after the last frame that are no block: browsers stop there, and so does
            // the decoder, which is asked for exactly the frames counted here.
            _ if frames > 0 => break true,
            other => {
                return Err(ImageError::Corrupt {
                    detail: format!("GIF block 0x{other:02x} before any frame"),
                });
            }
        }
    };
    if frames == 0 && complete {
        return Err(ImageError::Corrupt {
            detail: "GIF without a frame".into(),
        });
    }
    Ok(Header {
        kind: Kind::Gif,
        width,
        height,
        frames: frames.max(1),
        frame_pixels,
        largest_frame: largest,
        lossless: false,
        complete,
    })
}

/// WebP: RIFF chunks. The canvas comes from VP8X (extended files) or the single VP8/VP8L
/// bitstream header; ANMF chunks are the frames of an animation. Lossless means every picture is
/// VP8L, so re-encoding can stay lossless rather than add JPEG-like artefacts to a graphic.
fn webp_header(b: &[u8]) -> Result<Header, ImageError> {
    let riff_end = le32(b, 4).map_or(usize::MAX, |n| (n as usize).saturating_add(8));
    let mut complete = riff_end <= b.len();
    let end = riff_end.min(b.len());
    let mut at = 12usize;
    let mut size = None;
    let mut frames = 0u32;
    let (mut lossy, mut lossless) = (false, false);
    while at < end {
        let (Some(fourcc), Some(len)) = (b.get(at..at + 4), le32(b, at + 4)) else {
            complete = false;
            break;
        };
        let payload = at + 8;
        let Some(chunk_end) = payload.checked_add(len as usize).filter(|&e| e <= end) else {
            complete = false;
            break;
        };
        match fourcc {
            b"VP8X" => {
                if let (Some(w), Some(h)) = (le24(b, payload + 4), le24(b, payload + 7)) {
                    size = Some((w + 1, h + 1));
                }
            }
            b"VP8 " => {
                lossy = true;
                if let (None, Some(w), Some(h)) = (size, le16(b, payload + 6), le16(b, payload + 8))
                {
                    size = Some((w & 0x3FFF, h & 0x3FFF));
                }
            }
            b"VP8L" => {
                lossless = true;
                if let (None, Some(bits)) = (size, le32(b, payload + 1)) {
                    size = Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1));
                }
            }
            b"ANMF" => {
                frames += 1;
                // The frame's own bitstream chunk follows its 16-byte header (after an ALPH
                // chunk when the frame is lossy with alpha).
                let mut sub = payload + 16;
                while let (Some(kind), Some(sub_len)) = (b.get(sub..sub + 4), le32(b, sub + 4)) {
                    match kind {
                        b"VP8 " | b"ALPH" => lossy = true,
                        b"VP8L" => lossless = true,
                        _ => {}
                    }
                    sub = sub.saturating_add(8 + sub_len as usize + (sub_len as usize & 1));
                    if sub >= chunk_end {
                        break;
                    }
                }
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = chunk_end + (len as usize & 1);
    }
    let Some((width, height)) = size else {
        return Err(if complete {
            ImageError::Corrupt {
                detail: "WebP without a picture".into(),
            }
        } else {
            ImageError::Truncated
        });
    };
    let frames = frames.max(1);
    Ok(Header {
        kind: Kind::Webp,
        width,
        height,
        frames,
        frame_pixels: u64::from(frames) * u64::from(width) * u64::from(height),
        largest_frame: (width, height),
        lossless: lossless && !lossy,
        complete,
    })
}

fn decoder_limits(limits: &Limits) -> ::image::Limits {
    let mut l = ::image::Limits::default();
    l.max_image_width = Some(MAX_DECODED_SIDE);
    l.max_image_height = Some(MAX_DECODED_SIDE);
    l.max_alloc = Some(limits.max_alloc);
    l
}

/// The still picture (the first frame of an animation) as 8-bit pixels, with the orientation its
/// EXIF asks for (applied by the caller once the picture is small).
fn decode_still(
    bytes: &[u8],
    header: &Header,
    limits: &Limits,
) -> Result<(DynamicImage, Orientation), ImageError> {
    let image_limits = decoder_limits(limits);
    let cursor = Cursor::new(bytes);
    let decoded = match header.kind {
        Kind::Png => {
            let decoder =
                PngDecoder::with_limits(cursor, image_limits.clone()).map_err(decode_error)?;
            decode_with(decoder, header, limits, image_limits)?
        }
        Kind::Jpeg => decode_with(
            JpegDecoder::new(cursor).map_err(decode_error)?,
            header,
            limits,
            image_limits,
        )?,
        Kind::Gif => decode_with(
            GifDecoder::new(cursor).map_err(decode_error)?,
            header,
            limits,
            image_limits,
        )?,
        _ => decode_with(
            WebPDecoder::new(cursor).map_err(decode_error)?,
            header,
            limits,
            image_limits,
        )?,
    };
    Ok(decoded)
}

fn decode_with(
    mut decoder: impl ImageDecoder,
    header: &Header,
    limits: &Limits,
    image_limits: ::image::Limits,
) -> Result<(DynamicImage, Orientation), ImageError> {
    let (width, height) = decoder.dimensions();
    // The decoder read the header itself; should it ever disagree with ours, its size is the
    // one that gets allocated, so it is checked too.
    let max = max_pixels(header.kind, limits);
    if u64::from(width) * u64::from(height) > max {
        return Err(ImageError::TooManyPixels { width, height, max });
    }
    // The decoded pixels plus the resizer's source-height intermediate and result.
    let estimate = decoder.total_bytes().saturating_mul(3) / 2;
    if estimate > limits.max_alloc {
        return Err(ImageError::TooMuchMemory);
    }
    decoder.set_limits(image_limits).map_err(decode_error)?;
    // A broken EXIF block only loses the rotation; it is no reason to refuse the picture.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    Ok((to_8bit(image), orientation))
}

/// The resizer and encoders work on 8-bit grey, grey+alpha, RGB and RGBA; 16-bit and float
/// pictures (rare: scans, HDR PNGs) are narrowed once, at full size.
fn to_8bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

fn decode_error(e: ::image::ImageError) -> ImageError {
    use ::image::ImageError as E;
    match e {
        E::Limits(l) => match l.kind() {
            LimitErrorKind::InsufficientMemory => ImageError::TooMuchMemory,
            _ => ImageError::Corrupt {
                detail: format!("decoder limit: {l}"),
            },
        },
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ImageError::Truncated,
        E::Unsupported(u) => ImageError::Unsupported {
            detail: u.to_string(),
        },
        other => ImageError::Corrupt {
            detail: other.to_string(),
        },
    }
}

fn encode_error(e: impl std::fmt::Display) -> ImageError {
    ImageError::Failed {
        detail: e.to_string(),
    }
}

/// The largest size with the same aspect ratio that fits in a `max` square; never larger than
/// the original, since upscaling only adds bytes.
fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let max = max.max(1);
    if width <= max && height <= max {
        return (width, height);
    }
    let scale = f64::from(max) / f64::from(width.max(height));
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, max);
    (side(width), side(height))
}

/// Lanczos3 for what members look at full size: the sharpest of the usual filters when
/// shrinking photos and text.
const MAIN_FILTER: fir::ResizeAlg = fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3);
/// Thumbnails are made from the already resized main picture; Hamming costs half of Lanczos3
/// and at thumbnail size the difference does not show.
const THUMB_FILTER: fir::ResizeAlg = fir::ResizeAlg::Convolution(fir::FilterType::Hamming);

/// Resize (and optionally crop) to exactly `width` x `height`. None when nothing would change,
/// so the caller keeps its picture without a copy.
fn resize(
    image: &DynamicImage,
    width: u32,
    height: u32,
    alg: fir::ResizeAlg,
    crop: Option<(f64, f64, f64, f64)>,
) -> Result<Option<DynamicImage>, ImageError> {
    let (w, h) = (image.width(), image.height());
    let whole = crop.is_none_or(|(x, y, cw, ch)| {
        x == 0.0 && y == 0.0 && cw == f64::from(w) && ch == f64::from(h)
    });
    if (width, height) == (w, h) && whole {
        return Ok(None);
    }
    let (pixel_type, bytes): (fir::PixelType, &[u8]) = match image {
        DynamicImage::ImageLuma8(b) => (fir::PixelType::U8, b.as_raw()),
        DynamicImage::ImageLumaA8(b) => (fir::PixelType::U8x2, b.as_raw()),
        DynamicImage::ImageRgb8(b) => (fir::PixelType::U8x3, b.as_raw()),
        DynamicImage::ImageRgba8(b) => (fir::PixelType::U8x4, b.as_raw()),
        _ => unreachable!("decode_still narrows every picture to 8 bits"),
    };
    let src = fir::images::ImageRef::new(w, h, bytes, pixel_type).map_err(encode_error)?;
    let mut dst = fir::images::Image::new(width, height, pixel_type);
    let mut options = fir::ResizeOptions::new().resize_alg(alg);
    if let Some((x, y, cw, ch)) = crop {
        options = options.crop(x, y, cw, ch);
    }
    fir::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(encode_error)?;
    let buf = dst.into_vec();
    let resized = match pixel_type {
        fir::PixelType::U8 => GrayImage::from_raw(width, height, buf).map(DynamicImage::ImageLuma8),
        fir::PixelType::U8x2 => {
            GrayAlphaImage::from_raw(width, height, buf).map(DynamicImage::ImageLumaA8)
        }
        fir::PixelType::U8x3 => RgbImage::from_raw(width, height, buf).map(DynamicImage::ImageRgb8),
        _ => RgbaImage::from_raw(width, height, buf).map(DynamicImage::ImageRgba8),
    };
    resized
        .map(Some)
        .ok_or_else(|| encode_error("resized buffer has the wrong length"))
}

/// Screenshots are often saved with an alpha channel that is opaque everywhere; without it the
/// picture can become a JPEG-like WebP, and PNG and WebP files are smaller.
fn drop_opaque_alpha(image: &mut DynamicImage) {
    let opaque = match image {
        DynamicImage::ImageRgba8(b) => b.as_raw().chunks_exact(4).all(|p| p[3] == 255),
        DynamicImage::ImageLumaA8(b) => b.as_raw().chunks_exact(2).all(|p| p[1] == 255),
        _ => false,
    };
    if opaque {
        *image = match image {
            DynamicImage::ImageLumaA8(_) => DynamicImage::ImageLuma8(image.to_luma8()),
            _ => DynamicImage::ImageRgb8(image.to_rgb8()),
        };
    }
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    // Quality 85: indistinguishable from the original at screen sizes, about half the bytes
    // of 95. A JPEG source is never RGBA; grey stays grey.
    let rgb;
    let image = match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => image,
        other => {
            rgb = DynamicImage::ImageRgb8(other.to_rgb8());
            &rgb
        }
    };
    // write_with_encoder, not encode_image: the latter views any DynamicImage as RGBA and
    // would turn a grey picture into a three-channel JPEG.
    image
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .map_err(encode_error)?;
    Ok(out)
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    // zlib level 3: on a 2000 x 1125 screenshot, 2% larger than the default level 6 in half
    // the time (86 against 191 ms); the fdeflate "Fast" mode made it four times larger.
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Level(3), FilterType::Adaptive);
    image.write_with_encoder(encoder).map_err(encode_error)?;
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum WebpQuality {
    /// Lossy, quality 80: photos and anything already lossy.
    Photo,
    /// Lossy, quality 75: thumbnails, seen small.
    Thumb,
    /// Lossless, for screenshots and graphics, where lossy compression smears text.
    Lossless,
}

fn encode_webp(image: &DynamicImage, quality: WebpQuality) -> Result<Vec<u8>, ImageError> {
    let converted;
    let image = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLumaA8(_) => {
            converted = DynamicImage::ImageRgba8(image.to_rgba8());
            &converted
        }
        _ => {
            converted = DynamicImage::ImageRgb8(image.to_rgb8());
            &converted
        }
    };
    let encoder = match image {
        DynamicImage::ImageRgba8(b) => webp::Encoder::from_rgba(b.as_raw(), b.width(), b.height()),
        DynamicImage::ImageRgb8(b) => webp::Encoder::from_rgb(b.as_raw(), b.width(), b.height()),
        _ => unreachable!("converted above"),
    };
    let mut config = webp::WebPConfig::new().map_err(|()| encode_error("WebPConfig"))?;
    match quality {
        WebpQuality::Photo => config.quality = 80.0,
        WebpQuality::Thumb => config.quality = 75.0,
        WebpQuality::Lossless => {
            config.lossless = 1;
            // For lossless, quality is effort: 25 with method 2 is libwebp's level 2 preset.
            // On a 2000 x 1125 screenshot: 341 KB in 0.75 s, against 327 KB in 1.05 s for the
            // default (75, method 4) and 372 KB in 0.47 s for level 1.
            config.quality = 25.0;
            config.method = 2;
        }
    }
    if quality != WebpQuality::Lossless {
        config.alpha_compression = 1;
    }
    let encoded = encoder
        .encode_advanced(&config)
        .map_err(|e| encode_error(format!("{e:?}")))?;
    Ok(encoded.to_vec())
}

/// A WebP copy when the picture fits WebP's size limit; larger pictures keep only `main`.
fn encode_webp_fitting(
    image: &DynamicImage,
    quality: WebpQuality,
) -> Result<Option<Vec<u8>>, ImageError> {
    if image.width() > WEBP_MAX_SIDE || image.height() > WEBP_MAX_SIDE {
        return Ok(None);
    }
    encode_webp(image, quality).map(Some)
}

/// The WebP copy of a PNG or GIF: lossless keeps screenshots' text crisp and is usually well
/// below the PNG. A photo saved as PNG compresses poorly losslessly (more than a few bits per
/// pixel); for those a lossy copy is many times smaller and looks the same.
fn graphic_webp(
    image: &DynamicImage,
    png_len: usize,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, ImageError> {
    let pixels = u64::from(image.width()) * u64::from(image.height());
    let png_bits_per_pixel = png_len as u64 * 8 / pixels.max(1);
    if png_bits_per_pixel >= PHOTO_BITS_PER_PIXEL {
        return encode_webp_fitting(image, WebpQuality::Photo);
    }
    let lossless = encode_webp_fitting(image, WebpQuality::Lossless)?;
    check_time(limits)?;
    Ok(lossless)
}

/// Above this many bits per pixel in PNG, a picture is photographic: screenshots and diagrams
/// come in around 1-3, photos at 10 and more.
const PHOTO_BITS_PER_PIXEL: u64 = 6;

fn thumbnail(main: &DynamicImage, limits: &Limits) -> Result<(Vec<u8>, u32, u32), ImageError> {
    let (width, height) = fit(
        main.width(),
        main.height(),
        limits.thumb_side.min(WEBP_MAX_SIDE),
    );
    let small = resize(main, width, height, THUMB_FILTER, None)?;
    let thumb = encode_webp(small.as_ref().unwrap_or(main), WebpQuality::Thumb)?;
    Ok((thumb, width, height))
}

/// An animated GIF or WebP, frame by frame: each frame is decoded, resized and handed to the
/// encoder before the next is decoded, so memory stays at a few canvases whatever the length.
fn animated(bytes: &[u8], header: &Header, limits: &Limits) -> Result<Processed, ImageError> {
    let (width, height) = fit(header.width, header.height, limits.max_side);
    let canvas = u64::from(header.width) * u64::from(header.height) * 4;
    // The decoder's canvas and previous-frame copy, the frame being decoded, our resized copy.
    if canvas.saturating_mul(4) > limits.max_alloc {
        return Err(ImageError::TooMuchMemory);
    }
    let image_limits = decoder_limits(limits);
    let mut first: Option<DynamicImage> = None;
    let mut each_frame = |frame: ::image::Frame| -> Result<::image::Frame, ImageError> {
        check_time(limits)?;
        let delay = frame.delay();
        let rgba = DynamicImage::ImageRgba8(frame.into_buffer());
        let resized = match resize(&rgba, width, height, MAIN_FILTER, None)? {
            Some(DynamicImage::ImageRgba8(b)) => b,
            _ => match rgba {
                DynamicImage::ImageRgba8(b) => b,
                _ => unreachable!("built as RGBA above"),
            },
        };
        if first.is_none() {
            first = Some(DynamicImage::ImageRgba8(resized.clone()));
        }
        Ok(::image::Frame::from_parts(resized, 0, 0, delay))
    };

    let (kind, main) = if header.kind == Kind::Gif {
        let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
        decoder.set_limits(image_limits).map_err(decode_error)?;
        let repeat = match decoder.loop_count() {
            LoopCount::Infinite => Repeat::Infinite,
            LoopCount::Finite(n) => Repeat::Finite(u16::try_from(n.get()).unwrap_or(u16::MAX)),
        };
        let mut out = Vec::new();
        {
            // Speed 10 of 1-30: NeuQuant at speed 1 (the default) takes seconds per large
            // frame for a barely visible gain.
            let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
            encoder.set_repeat(repeat).map_err(encode_error)?;
            for frame in decoder.into_frames().take(header.frames as usize) {
                let frame = each_frame(frame.map_err(decode_error)?)?;
                encoder.encode_frame(frame).map_err(encode_error)?;
            }
        }
        (Kind::Gif, out)
    } else {
        let mut decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
        decoder.set_limits(image_limits).map_err(decode_error)?;
        let loop_count = match decoder.loop_count() {
            LoopCount::Infinite => 0,
            LoopCount::Finite(n) => i32::try_from(n.get()).unwrap_or(i32::MAX),
        };
        let mut encoder = anim_webp::Writer::new(width, height, loop_count, header.lossless)
            .ok_or_else(|| encode_error("WebPAnimEncoderNew failed"))?;
        let mut timestamp = 0i32;
        for frame in decoder.into_frames().take(header.frames as usize) {
            let frame = each_frame(frame.map_err(decode_error)?)?;
            let (numer, denom) = frame.delay().numer_denom_ms();
            encoder
                .add(frame.buffer().as_raw(), timestamp)
                .map_err(encode_error)?;
            let delay = i32::try_from(numer / denom.max(1)).unwrap_or(i32::MAX);
            timestamp = timestamp.saturating_add(delay.max(1));
        }
        (Kind::Webp, encoder.finish(timestamp).map_err(encode_error)?)
    };
    check_time(limits)?;

    let mut first = first.ok_or_else(|| ImageError::Corrupt {
        detail: "animation without a frame".into(),
    })?;
    drop_opaque_alpha(&mut first);
    let (thumb, thumb_width, thumb_height) = thumbnail(&first, limits)?;
    Ok(Processed {
        kind,
        width,
        height,
        animated: true,
        main,
        webp: None,
        thumb,
        thumb_width,
        thumb_height,
    })
}

/// Animated WebP output through libwebp's WebPAnimEncoder, which encodes each frame as it is
/// added (the webp crate's wrapper collects all frames first).
mod anim_webp {
    use libwebp_sys as sys;
    use std::os::raw::c_int;

    pub(super) struct Writer {
        encoder: *mut sys::WebPAnimEncoder,
        config: sys::WebPConfig,
        width: u32,
        height: u32,
    }

    impl Writer {
        pub(super) fn new(
            width: u32,
            height: u32,
            loop_count: i32,
            lossless: bool,
        ) -> Option<Self> {
            let mut config = sys::WebPConfig::new().ok()?;
            if lossless {
                config.lossless = 1;
                config.quality = 25.0;
                config.method = 2;
            } else {
                config.quality = 80.0;
            }
            // SAFETY: the options are initialised by libwebp before use; the encoder pointer
            // is checked for null and owned by the Writer, which deletes it once in Drop.
            unsafe {
                let mut options = std::mem::MaybeUninit::<sys::WebPAnimEncoderOptions>::uninit();
                if sys::WebPAnimEncoderOptionsInitInternal(
                    options.as_mut_ptr(),
                    sys::WEBP_MUX_ABI_VERSION as c_int,
                ) == 0
                {
                    return None;
                }
                let mut options = options.assume_init();
                options.anim_params.loop_count = loop_count;
                let encoder = sys::WebPAnimEncoderNewInternal(
                    c_int::try_from(width).ok()?,
                    c_int::try_from(height).ok()?,
                    &options,
                    sys::WEBP_MUX_ABI_VERSION as c_int,
                );
                if encoder.is_null() {
                    return None;
                }
                Some(Writer {
                    encoder,
                    config,
                    width,
                    height,
                })
            }
        }

        /// One RGBA frame of the canvas size, shown from `timestamp_ms`.
        pub(super) fn add(&mut self, rgba: &[u8], timestamp_ms: i32) -> Result<(), String> {
            if rgba.len() != self.width as usize * self.height as usize * 4 {
                return Err("frame size differs from the canvas".into());
            }
            // SAFETY: the picture is initialised by WebPPicture::new, imports from a buffer whose
            // length was checked above, and is freed on every path after use; the encoder copies
            // what it needs during WebPAnimEncoderAdd.
            unsafe {
                let mut picture = sys::WebPPicture::new().map_err(|()| "WebPPictureInit")?;
                picture.use_argb = 1;
                picture.width = self.width as c_int;
                picture.height = self.height as c_int;
                let imported = sys::WebPPictureImportRGBA(
                    &mut picture,
                    rgba.as_ptr(),
                    (self.width * 4) as c_int,
                );
                let added = imported != 0
                    && sys::WebPAnimEncoderAdd(
                        self.encoder,
                        &mut picture,
                        timestamp_ms,
                        &self.config,
                    ) != 0;
                sys::WebPPictureFree(&mut picture);
                if added { Ok(()) } else { Err(self.error()) }
            }
        }

        /// The finished file; `end_ms` is when the last frame stops showing.
        pub(super) fn finish(self, end_ms: i32) -> Result<Vec<u8>, String> {
            // SAFETY: a null frame is libwebp's documented way to end the stream; the assembled
            // data is copied out and freed with WebPDataClear before returning.
            unsafe {
                if sys::WebPAnimEncoderAdd(
                    self.encoder,
                    std::ptr::null_mut(),
                    end_ms,
                    std::ptr::null(),
                ) == 0
                {
                    return Err(self.error());
                }
                let mut data = sys::WebPData::default();
                if sys::WebPAnimEncoderAssemble(self.encoder, &mut data) == 0 {
                    return Err(self.error());
                }
                let out = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
                sys::WebPDataClear(&mut data);
                Ok(out)
            }
        }

        fn error(&self) -> String {
            // SAFETY: libwebp returns null or a NUL-terminated string owned by the encoder.
            unsafe {
                let message = sys::WebPAnimEncoderGetError(self.encoder);
                if message.is_null() {
                    "WebPAnimEncoder failed".into()
                } else {
                    std::ffi::CStr::from_ptr(message)
                        .to_string_lossy()
                        .into_owned()
                }
            }
        }
    }

    impl Drop for Writer {
        fn drop(&mut self) {
            // SAFETY: created non-null in `new`, deleted only here.
            unsafe { sys::WebPAnimEncoderDelete(self.encoder) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_way_members_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(50_000), "50,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(megapixels(40_000_000), "40");
        assert_eq!(megapixels(12_500_000), "12.5");
        let e = ImageError::TooManyPixels {
            width: 50_000,
            height: 50_000,
            max: 40_000_000,
        };
        assert_eq!(
            e.to_string(),
            "This image is 50,000 × 50,000 pixels; the most this site takes is 40 megapixels. \
             Make it smaller and try again."
        );
    }

    #[test]
    fn fit_keeps_the_ratio_and_never_upscales() {
        assert_eq!(fit(4000, 3000, 2000), (2000, 1500));
        assert_eq!(fit(3000, 4000, 2000), (1500, 2000));
        assert_eq!(fit(800, 600, 2000), (800, 600));
        assert_eq!(fit(2000, 2000, 2000), (2000, 2000));
        assert_eq!(fit(40_000, 1, 2000), (2000, 1));
        assert_eq!(fit(1, 40_000, 400), (1, 400));
    }

    #[test]
    fn every_error_is_a_calm_complete_sentence() {
        let errors = [
            ImageError::Empty,
            ImageError::NotAnImage {
                what: Some("an HTML page"),
            },
            ImageError::NotAnImage { what: None },
            ImageError::TooManyPixels {
                width: 9000,
                height: 9000,
                max: 40_000_000,
            },
            ImageError::TooLong {
                width: 70_000,
                height: 10,
                max_side: MAX_DECODED_SIDE,
            },
            ImageError::TooMuchMemory,
            ImageError::Truncated,
            ImageError::Corrupt { detail: "x".into() },
            ImageError::Unsupported { detail: "x".into() },
            ImageError::Animated,
            ImageError::TooManyFrames {
                frames: 400,
                max: 300,
            },
            ImageError::AnimationTooLarge {
                frames: 300,
                width: 1000,
                height: 1000,
            },
            ImageError::TooSlow,
            ImageError::Failed { detail: "x".into() },
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(msg.starts_with(char::is_uppercase), "{msg}");
            assert!(msg.ends_with('.'), "{msg}");
            assert!(!msg.contains("x\"") && !msg.contains("  "), "{msg}");
        }
        assert_eq!(
            ImageError::NotAnImage {
                what: Some("an HTML page")
            }
            .to_string(),
            "This file is an HTML page, not an image this site accepts. Images here can be PNG, \
             JPEG, GIF or WebP. Save it in one of those formats and try again."
        );
    }

    #[test]
    fn jpeg_walk_finds_the_frame_and_the_end() {
        // SOI, SOF0 (8 bit, 3x2, 1 component), SOS, two entropy bytes with stuffing and a
        // restart marker, EOI, then a payload that must not matter.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0]);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        jpeg.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        let header = jpeg_header(&jpeg).unwrap();
        assert_eq!((header.width, header.height, header.complete), (3, 2, true));
        jpeg.extend_from_slice(b"<script>alert(1)</script>\xFF\xD8");
        assert!(jpeg_header(&jpeg).unwrap().complete);
        let cut = &jpeg[..jpeg.len() - 30];
        assert!(!jpeg_header(cut).unwrap().complete);
        assert!(matches!(
            jpeg_header(&jpeg[..8]),
            Err(ImageError::Truncated)
        ));
    }
}
