//! Files that must be refused, each with its own error: decompression bombs (checked from the
//! header, before any pixel is decoded), truncated and damaged images, non-images dressed as
//! images, empty files, animations when the site refuses them, and a passed deadline.
mod images_support;

use std::time::{Duration, Instant};

use image::DynamicImage;
use images_support::*;
use media::image::{ImageError, Limits, avatar, process};

fn ihdr(width: u32, height: u32) -> Vec<u8> {
    let mut data = width.to_be_bytes().to_vec();
    data.extend_from_slice(&height.to_be_bytes());
    // 8-bit RGB, deflate, adaptive filtering, not interlaced.
    data.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(b"IHDR", &data)
}

/// A complete, well-formed PNG (valid CRCs, IEND) whose IHDR claims `width` x `height`, with a
/// few bytes of compressed data: what a decompression bomb looks like to a header reader.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(ihdr(width, height));
    // zlib: one stored-nothing deflate block would be "empty"; a bomb's real IDAT would be a
    // long run of zeros compressing 1000:1. Its contents never matter here.
    bytes.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    bytes.extend(png_chunk(b"IEND", &[]));
    bytes
}

/// A GIF89a with a `sw` x `sh` logical screen and one `fw` x `fh` frame of two LZW bytes.
fn gif_claiming(sw: u16, sh: u16, fw: u16, fh: u16) -> Vec<u8> {
    let mut b = b"GIF89a".to_vec();
    b.extend_from_slice(&sw.to_le_bytes());
    b.extend_from_slice(&sh.to_le_bytes());
    // Global colour table of 2 entries.
    b.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    b.push(0x2C);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&fw.to_le_bytes());
    b.extend_from_slice(&fh.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]);
    b.push(0x3B);
    b
}

fn too_many_pixels(result: Result<impl std::fmt::Debug, ImageError>) -> (u32, u32, u64) {
    match result {
        Err(ImageError::TooManyPixels { width, height, max }) => (width, height, max),
        other => panic!("expected TooManyPixels, got {other:?}"),
    }
}

#[test]
fn a_png_claiming_50000_by_50000_is_refused_from_its_header() {
    let bomb = png_claiming(50_000, 50_000);
    assert!(bomb.len() < 100);
    // The header is valid as far as a real decoder is concerned.
    let reader = image::ImageReader::new(std::io::Cursor::new(&bomb))
        .with_guessed_format()
        .unwrap();
    assert_eq!(reader.into_dimensions().unwrap(), (50_000, 50_000));

    assert_eq!(
        too_many_pixels(process(&bomb, &Limits::default())),
        (50_000, 50_000, 40_000_000)
    );
    let message = process(&bomb, &Limits::default()).unwrap_err().to_string();
    assert_eq!(
        message,
        "This image is 50,000 × 50,000 pixels; the most this site takes is 40 megapixels. \
         Make it smaller and try again."
    );
    assert_eq!(too_many_pixels(avatar(&bomb, &Limits::default())).0, 50_000);
}

#[test]
fn the_pixel_limit_is_the_sites_setting() {
    let limits = Limits {
        max_pixels: 1_000_000,
        ..Limits::default()
    };
    assert_eq!(
        too_many_pixels(process(&png_claiming(1001, 1000), &limits)),
        (1001, 1000, 1_000_000)
    );
    // At the limit exactly, the header passes and the (fake) data is what fails.
    assert!(matches!(
        process(&png_claiming(1000, 1000), &limits),
        Err(ImageError::Corrupt { .. } | ImageError::Truncated)
    ));
}

#[test]
fn a_png_longer_than_any_decoder_side_is_refused() {
    match process(&png_claiming(100_000, 10), &Limits::default()) {
        Err(ImageError::TooLong {
            width: 100_000,
            height: 10,
            max_side: 65_535,
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_gif_claiming_a_huge_screen_or_frame_is_refused_from_its_header() {
    // A huge logical screen.
    assert_eq!(
        too_many_pixels(process(
            &gif_claiming(65_535, 65_535, 1, 1),
            &Limits::default()
        ))
        .0,
        65_535
    );
    // A small screen with a huge frame: the frame is what a decoder would allocate.
    let (w, h, _) = too_many_pixels(process(
        &gif_claiming(10, 10, 60_000, 60_000),
        &Limits::default(),
    ));
    assert_eq!((w, h), (60_000, 60_000));
    // GIF frames beyond 12.5 megapixels exceed the gif decoder's own memory cap; the message
    // says so rather than "damaged".
    let (_, _, max) = too_many_pixels(process(&gif_claiming(4000, 4000, 1, 1), &Limits::default()));
    assert_eq!(max, 12_500_000);
}

#[test]
fn a_jpeg_and_a_webp_claiming_huge_sizes_are_refused_from_their_headers() {
    // SOI, SOF0 claiming 60000 x 60000 with 3 components, nothing else.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
    jpeg.extend_from_slice(&60_000u16.to_be_bytes());
    jpeg.extend_from_slice(&60_000u16.to_be_bytes());
    jpeg.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    assert_eq!(
        too_many_pixels(process(&jpeg, &Limits::default())).0,
        60_000
    );

    // RIFF/WEBP with a VP8X canvas of 16384 x 16384.
    let mut webp = b"RIFF\x1a\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    webp.extend_from_slice(&[0xFF, 0x3F, 0x00, 0xFF, 0x3F, 0x00]);
    assert_eq!(
        too_many_pixels(process(&webp, &Limits::default())),
        (16_384, 16_384, 40_000_000)
    );
}

#[test]
fn an_animation_is_bounded_by_frames_and_by_frames_times_pixels() {
    let frames: Vec<_> = (0..5u8)
        .map(|i| solid(100, 100, [i * 50, 0, 0, 255]))
        .collect();
    let bytes = gif(&frames, 50);
    let few = Limits {
        max_frames: 4,
        ..Limits::default()
    };
    assert!(matches!(
        process(&bytes, &few),
        Err(ImageError::TooManyFrames { frames: 5, max: 4 })
    ));
    let small = Limits {
        max_animation_pixels: 49_999,
        ..Limits::default()
    };
    assert!(matches!(
        process(&bytes, &small),
        Err(ImageError::AnimationTooLarge {
            frames: 5,
            width: 100,
            height: 100
        })
    ));
    let refused = Limits {
        allow_animation: false,
        ..Limits::default()
    };
    let err = process(&bytes, &refused).unwrap_err();
    assert!(matches!(err, ImageError::Animated));
    assert_eq!(
        err.to_string(),
        "Animated images are not accepted here. Upload a still image instead."
    );
    // Avatars take the first frame whatever the setting.
    assert_eq!(avatar(&bytes, &refused).unwrap().len(), 3);
}

#[test]
fn a_truncated_jpeg_is_refused_as_incomplete() {
    let whole = jpeg(&photo(400, 300, 3), 90);
    let half = &whole[..whole.len() / 2];
    // The lenient decoder would show the cut file (grey below the cut); the check refuses it.
    assert!(
        image::load_from_memory(half).is_ok(),
        "premise: the decoder alone accepts it"
    );
    let err = process(half, &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::Truncated), "{err:?}");
    assert!(err.to_string().starts_with("This image is incomplete"));
    // Cut just before EOI, still incomplete; the whole file is fine.
    assert!(matches!(
        process(&whole[..whole.len() - 2], &Limits::default()),
        Err(ImageError::Truncated)
    ));
    assert!(process(&whole, &Limits::default()).is_ok());
    // Cut inside the headers.
    assert!(matches!(
        process(&whole[..40], &Limits::default()),
        Err(ImageError::Truncated)
    ));
}

#[test]
fn a_truncated_png_gif_or_webp_is_refused_as_incomplete() {
    let png_bytes = png(&DynamicImage::ImageRgb8(photo(200, 150, 4)));
    let frames: Vec<_> = (0..3u8)
        .map(|i| solid(60, 40, [i * 80, 40, 200, 255]))
        .collect();
    let gif_bytes = gif(&frames, 80);
    let rgb = photo(200, 150, 5);
    let webp_bytes = webp::Encoder::from_rgb(rgb.as_raw(), 200, 150)
        .encode(80.0)
        .to_vec();
    for (name, whole) in [("png", png_bytes), ("gif", gif_bytes), ("webp", webp_bytes)] {
        assert!(process(&whole, &Limits::default()).is_ok(), "{name} whole");
        let half = &whole[..whole.len() / 2];
        match process(half, &Limits::default()) {
            Err(ImageError::Truncated) => {}
            other => panic!("{name}: expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn a_damaged_but_complete_png_is_refused_as_damaged() {
    let mut bytes = png(&DynamicImage::ImageRgb8(photo(64, 48, 6)));
    // Scramble the middle of the IDAT data, keeping every length: the structure is complete
    // but the CRC and the deflate stream are wrong.
    let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap();
    for b in &mut bytes[idat + 10..idat + 60] {
        *b ^= 0x5A;
    }
    let err = process(&bytes, &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().starts_with("This image is damaged"));
}

#[test]
fn a_png_named_file_that_is_html_is_not_an_image() {
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>";
    let err = process(html, &Limits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::NotAnImage {
                what: Some("an HTML page")
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("This file is an HTML page, not an image")
    );
}

#[test]
fn other_non_images_say_what_they_are() {
    let cases: [(&[u8], Option<&str>); 5] = [
        (
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
            Some("an SVG image"),
        ),
        (b"%PDF-1.7\n1 0 obj\n", Some("a PDF document")),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", Some("a HEIC photo")),
        (
            b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf",
            Some("an AVIF image"),
        ),
        (b"\x00\x13\x37\x99\xF0 unknown", None),
    ];
    for (bytes, what) in cases {
        match process(bytes, &Limits::default()) {
            Err(ImageError::NotAnImage { what: got }) => assert_eq!(got, what),
            other => panic!("{what:?}: {other:?}"),
        }
    }
}

#[test]
fn zero_bytes_are_empty() {
    let err = process(b"", &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::Empty));
    assert!(err.to_string().contains("empty"));
    assert!(matches!(
        avatar(b"", &Limits::default()),
        Err(ImageError::Empty)
    ));
}

#[test]
fn a_passed_deadline_stops_the_work() {
    let bytes = jpeg(&photo(200, 150, 8), 90);
    let past = Limits {
        deadline: Some(Instant::now() - Duration::from_millis(1)),
        ..Limits::default()
    };
    assert!(matches!(process(&bytes, &past), Err(ImageError::TooSlow)));
    assert!(matches!(avatar(&bytes, &past), Err(ImageError::TooSlow)));
    let future = Limits {
        deadline: Some(Instant::now() + Duration::from_secs(600)),
        ..Limits::default()
    };
    assert!(process(&bytes, &future).is_ok());
}

#[test]
fn an_image_needing_more_memory_than_allowed_is_refused_before_decoding() {
    let bytes = jpeg(&photo(400, 300, 9), 90);
    let tight = Limits {
        max_alloc: 100_000,
        ..Limits::default()
    };
    assert!(matches!(
        process(&bytes, &tight),
        Err(ImageError::TooMuchMemory)
    ));
}
