//! Test images made in code: each test builds exactly the bytes it is about (an EXIF block, a
//! payload in a comment, a lying header) instead of depending on fixture files whose contents
//! a reader cannot see.
#![allow(dead_code)]

use std::io::Cursor;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{Delay, DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// A small deterministic generator, so a failing test fails the same way every run.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
    /// Roughly normal noise in -amp..=amp (the sum of three uniforms).
    pub fn grain(&mut self, amp: i32) -> i32 {
        let r = self.next();
        let sum = (r & 0x3FF) + ((r >> 10) & 0x3FF) + ((r >> 20) & 0x3FF);
        (sum as i32 - 1534) * amp / 1534
    }
}

/// Photo-like: smooth sky and ground gradients, a few soft shapes, and sensor grain, so that
/// JPEG and WebP have to work about as hard as on a phone photo.
pub fn photo(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut noise = Noise::new(seed);
    let blobs: Vec<(f32, f32, f32, [f32; 3])> = (0..12)
        .map(|_| {
            let x = (noise.next() % width) as f32;
            let y = (noise.next() % height) as f32;
            let r = (width.min(height) / 12 + noise.next() % (width.min(height) / 5)) as f32;
            let c = [
                (noise.next() % 200) as f32,
                (noise.next() % 200) as f32,
                (noise.next() % 200) as f32,
            ];
            (x, y, r, c)
        })
        .collect();
    RgbImage::from_fn(width, height, |x, y| {
        let fy = y as f32 / height as f32;
        let fx = x as f32 / width as f32;
        let mut c = if fy < 0.45 {
            [90.0 + 100.0 * fy, 140.0 + 80.0 * fy, 230.0 - 40.0 * fx]
        } else {
            [70.0 + 60.0 * fx, 110.0 - 40.0 * fy, 40.0 + 30.0 * fx]
        };
        for &(bx, by, r, bc) in &blobs {
            let d = ((x as f32 - bx).powi(2) + (y as f32 - by).powi(2)).sqrt();
            if d < r {
                let t = 1.0 - d / r;
                for i in 0..3 {
                    c[i] = c[i] * (1.0 - t) + bc[i] * t;
                }
            }
        }
        let detail = ((x as f32 * 0.31).sin() * (y as f32 * 0.17).cos()) * 6.0;
        let mut px = [0u8; 3];
        for i in 0..3 {
            px[i] = (c[i] + detail + noise.grain(16) as f32).clamp(0.0, 255.0) as u8;
        }
        Rgb(px)
    })
}

/// Screenshot-like: flat panels, a few lines of "text" strokes, a coloured button.
pub fn screenshot(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if y < 40 {
            return Rgb([36, 41, 47]);
        }
        if (60..100).contains(&x) && (60..80).contains(&y) {
            return Rgb([31, 136, 61]);
        }
        let line = (y - 40) % 24;
        let stroke = line < 12 && (x / 3 + y / 5) % 7 < 3 && x % 97 > 10;
        if stroke {
            Rgb([20, 20, 20])
        } else {
            Rgb([250, 250, 250])
        }
    })
}

pub fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .unwrap();
    out
}

pub fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(PngEncoder::new_with_quality(
            &mut out,
            CompressionType::Fast,
            FilterType::Adaptive,
        ))
        .unwrap();
    out
}

pub fn gif(frames: &[RgbaImage], delay_ms: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 30);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        for f in frames {
            encoder
                .encode_frame(Frame::from_parts(
                    f.clone(),
                    0,
                    0,
                    Delay::from_numer_denom_ms(delay_ms, 1),
                ))
                .unwrap();
        }
    }
    out
}

pub fn solid(width: u32, height: u32, colour: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(width, height, Rgba(colour))
}

pub fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("output decodes")
}

/// The size from the header alone: cheap even for large outputs in a debug build.
pub fn dimensions_of(bytes: &[u8]) -> (u32, u32) {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .into_dimensions()
        .unwrap()
}

pub fn format_of(bytes: &[u8]) -> ImageFormat {
    image::guess_format(bytes).expect("output has a known format")
}

/// Frames of an animated GIF or WebP output, decoded.
pub fn frames_of(bytes: &[u8]) -> Vec<RgbaImage> {
    use image::AnimationDecoder;
    let frames = match format_of(bytes) {
        ImageFormat::Gif => image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
            .unwrap()
            .into_frames(),
        ImageFormat::WebP => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .unwrap()
            .into_frames(),
        other => panic!("not an animation format: {other:?}"),
    };
    frames
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(Frame::into_buffer)
        .collect()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

/// A PNG chunk with its length and a correct CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
    out
}

/// Insert extra chunks right after IHDR (signature 8 bytes + IHDR 25 bytes).
pub fn png_with_chunk_after_ihdr(png: &[u8], chunk: &[u8]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    out.extend_from_slice(chunk);
    out.extend_from_slice(&png[33..]);
    out
}

/// Insert a marker segment right after SOI.
pub fn jpeg_with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An APP1 Exif payload (big-endian TIFF) with an orientation tag, an image description
/// holding `description`, and a GPS IFD with a latitude reference and latitude.
pub fn exif_app1(orientation: u16, description: &str) -> Vec<u8> {
    let mut desc = description.as_bytes().to_vec();
    desc.push(0);
    // Layout after the 8-byte TIFF header: IFD0 (3 entries), GPS IFD (2 entries), then data.
    let ifd0 = 8u32;
    let ifd0_len = 2 + 3 * 12 + 4;
    let gps = ifd0 + ifd0_len;
    let gps_len = 2 + 2 * 12 + 4;
    let desc_at = gps + gps_len;
    let lat_at = desc_at + desc.len() as u32;

    let mut t = b"MM\0\x2a".to_vec();
    t.extend_from_slice(&ifd0.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut t, 0x010E, 2, desc.len() as u32, desc_at.to_be_bytes());
    let o = orientation.to_be_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, lat_at.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&desc);
    for (num, den) in [(48u32, 1u32), (51, 1), (296, 10)] {
        t.extend_from_slice(&num.to_be_bytes());
        t.extend_from_slice(&den.to_be_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    app1
}
