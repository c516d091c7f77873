//! What the re-encoding is for: nothing from the upload but its pixels reaches other members.
//! Polyglot payloads (appended, or hidden in a chunk or comment) and EXIF (GPS, orientation)
//! are gone from every output, and the orientation is applied to the pixels instead.
mod images_support;

use image::{DynamicImage, GenericImageView, Rgb, RgbImage};
use images_support::*;
use media::detect::Kind;
use media::image::{Limits, Processed, process};

const HTML_PAYLOAD: &[u8] =
    b"<html><script>fetch('/admin/users').then(r=>r.text())</script></html>";
const COMMENT_PAYLOAD: &[u8] = b"<svg/onload=alert('hidden-in-metadata')>";

fn outputs(p: &Processed) -> Vec<(&'static str, &[u8])> {
    let mut all = vec![("main", p.main.as_slice()), ("thumb", p.thumb.as_slice())];
    if let Some(webp) = &p.webp {
        all.push(("webp", webp.as_slice()));
    }
    all
}

fn assert_clean(p: &Processed, needles: &[&[u8]]) {
    for (name, bytes) in outputs(p) {
        decode(bytes);
        for needle in needles {
            assert!(
                !contains(bytes, needle),
                "{name} still carries {:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }
}

fn small_photo() -> RgbImage {
    photo(320, 240, 7)
}

#[test]
fn a_png_with_html_appended_is_decoded_and_the_html_is_gone() {
    let mut bytes = png(&DynamicImage::ImageRgb8(small_photo()));
    bytes.extend_from_slice(HTML_PAYLOAD);
    let p = process(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Png);
    assert_eq!((p.width, p.height), (320, 240));
    assert!(
        p.webp.is_some(),
        "a photo in PNG gets a (lossy, smaller) WebP copy"
    );
    assert_clean(&p, &[HTML_PAYLOAD, b"<script", b"fetch("]);
}

#[test]
fn a_png_with_a_payload_in_a_text_chunk_is_decoded_and_the_payload_is_gone() {
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(COMMENT_PAYLOAD);
    let plain = png(&DynamicImage::ImageRgb8(screenshot(300, 200)));
    let bytes = png_with_chunk_after_ihdr(&plain, &png_chunk(b"tEXt", &text));
    // The chunk is really there and the file still decodes: the test is about a valid image.
    assert!(contains(&bytes, COMMENT_PAYLOAD));
    decode(&bytes);
    let p = process(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Png);
    assert_clean(&p, &[COMMENT_PAYLOAD, b"Comment", b"tEXt", b"onload"]);
}

#[test]
fn a_jpeg_with_html_appended_is_decoded_and_the_html_is_gone() {
    let mut bytes = jpeg(&small_photo(), 90);
    bytes.extend_from_slice(HTML_PAYLOAD);
    let p = process(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Jpeg);
    assert!(p.webp.is_some());
    assert_clean(&p, &[HTML_PAYLOAD, b"<script"]);
}

#[test]
fn a_jpeg_with_a_payload_in_a_comment_segment_is_decoded_and_the_payload_is_gone() {
    let bytes = jpeg_with_segment(&jpeg(&small_photo(), 90), 0xFE, COMMENT_PAYLOAD);
    assert!(contains(&bytes, COMMENT_PAYLOAD));
    decode(&bytes);
    let p = process(&bytes, &Limits::default()).unwrap();
    assert_clean(&p, &[COMMENT_PAYLOAD, b"onload"]);
}

#[test]
fn a_gif_and_a_webp_with_payloads_come_out_clean() {
    let frame = solid(40, 30, [200, 30, 30, 255]);
    let mut gif_bytes = gif(&[frame], 100);
    // A GIF comment extension before the trailer, then HTML after it.
    let trailer = gif_bytes.pop().unwrap();
    gif_bytes.extend_from_slice(&[0x21, 0xFE, COMMENT_PAYLOAD.len() as u8]);
    gif_bytes.extend_from_slice(COMMENT_PAYLOAD);
    gif_bytes.extend_from_slice(&[0, trailer]);
    gif_bytes.extend_from_slice(HTML_PAYLOAD);
    let p = process(&gif_bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Png, "a still GIF is kept as PNG");
    assert_clean(&p, &[COMMENT_PAYLOAD, HTML_PAYLOAD]);

    let rgb = small_photo();
    let mut webp_bytes = webp::Encoder::from_rgb(rgb.as_raw(), 320, 240)
        .encode(80.0)
        .to_vec();
    webp_bytes.extend_from_slice(HTML_PAYLOAD);
    let p = process(&webp_bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Webp);
    assert_eq!(p.webp, None, "main is WebP already");
    assert_clean(&p, &[HTML_PAYLOAD]);
}

/// A 300 x 200 photo stored sideways: the camera's top-left is marked red. Orientation 6 says
/// "rotate 90° clockwise to display", so the red corner must end up top-right of a 200 x 300
/// picture.
fn sideways_photo_with_exif(gps_text: &str) -> Vec<u8> {
    let mut stored = RgbImage::from_pixel(300, 200, Rgb([128, 128, 128]));
    for y in 0..60 {
        for x in 0..60 {
            stored.put_pixel(x, y, Rgb([230, 20, 20]));
        }
    }
    jpeg_with_segment(&jpeg(&stored, 92), 0xE1, &exif_app1(6, gps_text))
}

fn is_red(p: image::Rgba<u8>) -> bool {
    p[0] > 180 && p[1] < 80 && p[2] < 80
}

#[test]
fn exif_is_removed_and_its_orientation_applied() {
    let gps = "GPS 48.858370 N 2.294481 E (home)";
    let bytes = sideways_photo_with_exif(gps);
    // The input really carries what the output must not.
    assert!(contains(&bytes, b"Exif\0\0"));
    assert!(contains(&bytes, gps.as_bytes()));

    let p = process(&bytes, &Limits::default()).unwrap();
    assert_clean(&p, &[b"Exif", gps.as_bytes(), b"48.858370", b"MM\0\x2a"]);

    assert_eq!((p.width, p.height), (200, 300), "width and height swapped");
    let main = decode(&p.main);
    assert_eq!(main.dimensions(), (200, 300));
    assert!(
        is_red(main.get_pixel(170, 30)),
        "the red corner is now top-right"
    );
    assert!(!is_red(main.get_pixel(30, 30)), "and no longer top-left");
    assert!(!is_red(main.get_pixel(170, 270)));

    let thumb = decode(&p.thumb);
    assert_eq!(thumb.dimensions(), (p.thumb_width, p.thumb_height));
    assert!(
        p.thumb_height > p.thumb_width,
        "the thumbnail is upright too"
    );
    let webp = decode(p.webp.as_ref().unwrap());
    assert_eq!(webp.dimensions(), (200, 300));
    assert!(is_red(webp.get_pixel(170, 30)));
}

#[test]
fn without_exif_nothing_is_rotated() {
    let mut stored = RgbImage::from_pixel(300, 200, Rgb([128, 128, 128]));
    for y in 0..60 {
        for x in 0..60 {
            stored.put_pixel(x, y, Rgb([230, 20, 20]));
        }
    }
    let p = process(&jpeg(&stored, 92), &Limits::default()).unwrap();
    assert_eq!((p.width, p.height), (300, 200));
    assert!(is_red(decode(&p.main).get_pixel(30, 30)));
}
