//! What comes out of a good image: the main copy resized to the site's maximum (never
//! upscaled), a thumbnail, a WebP copy when it is smaller, animations kept frame for frame,
//! still GIFs as PNG, and avatars as centre squares.
mod images_support;

use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use images_support::*;
use media::detect::Kind;
use media::image::{AVATAR_SIZES, Limits, avatar, process};

#[test]
fn a_4000_by_3000_photo_becomes_2000_by_1500_with_a_400_thumbnail() {
    // Smooth content keeps the debug-build encode of the 12-megapixel input quick; the
    // release-mode timing test uses a noisy photo.
    let big = RgbImage::from_fn(4000, 3000, |x, y| Rgb([(x / 16) as u8, (y / 12) as u8, 90]));
    let bytes = jpeg(&big, 85);
    drop(big);
    let p = process(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Jpeg);
    assert_eq!((p.width, p.height), (2000, 1500));
    assert_eq!(format_of(&p.main), ImageFormat::Jpeg);
    assert_eq!(dimensions_of(&p.main), (2000, 1500));
    assert_eq!((p.thumb_width, p.thumb_height), (400, 300));
    assert_eq!(format_of(&p.thumb), ImageFormat::WebP);
    let webp = p.webp.as_ref().expect("a WebP copy of a photo");
    assert!(webp.len() < p.main.len());
    assert_eq!(format_of(webp), ImageFormat::WebP);
    assert_eq!(dimensions_of(webp), (2000, 1500));
    // The picture survives the trip: the thumbnail's bottom-right keeps the source's colour.
    let thumb = decode(&p.thumb).to_rgb8();
    assert_eq!(thumb.dimensions(), (400, 300));
    let Rgb([r, g, b]) = *thumb.get_pixel(398, 298);
    assert!(
        r.abs_diff(249) < 12 && g.abs_diff(248) < 12 && b.abs_diff(90) < 12,
        "{r} {g} {b}"
    );
}

#[test]
fn the_maximum_side_is_the_sites_setting_and_portrait_fits_too() {
    let tall = jpeg(&photo(600, 900, 1), 90);
    let limits = Limits {
        max_side: 300,
        thumb_side: 100,
        ..Limits::default()
    };
    let p = process(&tall, &limits).unwrap();
    assert_eq!((p.width, p.height), (200, 300));
    assert_eq!((p.thumb_width, p.thumb_height), (67, 100));
    assert_eq!(decode(&p.thumb).dimensions(), (67, 100));
}

#[test]
fn small_images_are_not_upscaled() {
    let p = process(&jpeg(&photo(640, 480, 2), 90), &Limits::default()).unwrap();
    assert_eq!((p.width, p.height), (640, 480));
    assert_eq!((p.thumb_width, p.thumb_height), (400, 300));
    let tiny = process(
        &png(&DynamicImage::ImageRgb8(photo(50, 20, 3))),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!((tiny.width, tiny.height), (50, 20));
    assert_eq!((tiny.thumb_width, tiny.thumb_height), (50, 20));
    assert_eq!(decode(&tiny.thumb).dimensions(), (50, 20));
}

#[test]
fn a_screenshot_stays_png_with_a_smaller_lossless_webp() {
    let shot = screenshot(1200, 800);
    let p = process(
        &png(&DynamicImage::ImageRgb8(shot.clone())),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(p.kind, Kind::Png);
    assert_eq!(format_of(&p.main), ImageFormat::Png);
    assert_eq!(decode(&p.main).to_rgb8(), shot, "PNG is lossless");
    let webp = p
        .webp
        .as_ref()
        .expect("lossless WebP beats PNG on screenshots");
    assert!(webp.len() < p.main.len());
    assert_eq!(decode(webp).to_rgb8(), shot, "and the copy is lossless too");
}

#[test]
fn an_opaque_rgba_png_loses_its_alpha_and_a_transparent_one_keeps_it() {
    let opaque = RgbaImage::from_fn(300, 200, |x, y| Rgba([x as u8, y as u8, 7, 255]));
    let p = process(&png(&DynamicImage::ImageRgba8(opaque)), &Limits::default()).unwrap();
    assert!(!decode(&p.main).color().has_alpha());

    let mut clear = RgbaImage::from_pixel(300, 200, Rgba([0, 0, 0, 0]));
    for x in 100..200 {
        for y in 50..150 {
            clear.put_pixel(x, y, Rgba([20, 90, 200, 255]));
        }
    }
    let p = process(&png(&DynamicImage::ImageRgba8(clear)), &Limits::default()).unwrap();
    let main = decode(&p.main);
    assert!(main.color().has_alpha());
    assert_eq!(main.get_pixel(10, 10)[3], 0);
    assert_eq!(main.get_pixel(150, 100), Rgba([20, 90, 200, 255]));
    assert_eq!(
        decode(&p.thumb).get_pixel(5, 5)[3],
        0,
        "the thumbnail keeps transparency"
    );
}

#[test]
fn a_grey_jpeg_stays_grey() {
    let grey = image::GrayImage::from_fn(500, 400, |x, y| image::Luma([((x + y) % 256) as u8]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&grey)
        .unwrap();
    let p = process(&bytes, &Limits::default()).unwrap();
    assert_eq!(p.kind, Kind::Jpeg);
    assert_eq!(decode(&p.main).color(), image::ColorType::L8);
    decode(&p.thumb);
}

fn colours() -> Vec<RgbaImage> {
    [[220, 30, 30, 255], [30, 200, 30, 255], [30, 30, 220, 255]]
        .into_iter()
        .map(|c| solid(120, 80, c))
        .collect()
}

fn close(a: Rgba<u8>, b: [u8; 4]) -> bool {
    a.0.iter().zip(b).all(|(&x, y)| x.abs_diff(y) < 16)
}

#[test]
fn an_animated_gif_is_kept_animated_frame_for_frame() {
    let p = process(&gif(&colours(), 100), &Limits::default()).unwrap();
    assert!(p.animated);
    assert_eq!(p.kind, Kind::Gif);
    assert_eq!(p.webp, None);
    let frames = frames_of(&p.main);
    assert_eq!(frames.len(), 3);
    for (frame, colour) in
        frames
            .iter()
            .zip([[220, 30, 30, 255], [30, 200, 30, 255], [30, 30, 220, 255]])
    {
        assert_eq!(frame.dimensions(), (120, 80));
        assert!(
            close(*frame.get_pixel(60, 40), colour),
            "{:?}",
            frame.get_pixel(60, 40)
        );
    }
    // The thumbnail is the first frame, still.
    assert_eq!(format_of(&p.thumb), ImageFormat::WebP);
    assert!(close(
        decode(&p.thumb).get_pixel(10, 10),
        [220, 30, 30, 255]
    ));
}

#[test]
fn a_large_animated_gif_is_resized_frame_by_frame() {
    let frames: Vec<_> = (0..4u8)
        .map(|i| solid(900, 300, [i * 60, 100, 100, 255]))
        .collect();
    let limits = Limits {
        max_side: 450,
        ..Limits::default()
    };
    let p = process(&gif(&frames, 40), &limits).unwrap();
    assert_eq!((p.width, p.height), (450, 150));
    let out = frames_of(&p.main);
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|f| f.dimensions() == (450, 150)));
}

#[test]
fn a_still_gif_becomes_png() {
    let p = process(&gif(&colours()[..1], 0), &Limits::default()).unwrap();
    assert!(!p.animated);
    assert_eq!(p.kind, Kind::Png);
    assert_eq!(format_of(&p.main), ImageFormat::Png);
    assert!(close(decode(&p.main).get_pixel(5, 5), [220, 30, 30, 255]));
}

#[test]
fn an_animated_webp_is_kept_animated_or_refused() {
    let frames = colours();
    let mut config = webp::WebPConfig::new().unwrap();
    config.quality = 90.0;
    let mut encoder = webp::AnimEncoder::new(120, 80, &config);
    for (i, f) in frames.iter().enumerate() {
        encoder.add_frame(webp::AnimFrame::from_rgba(
            f.as_raw(),
            120,
            80,
            i as i32 * 100,
        ));
    }
    let bytes = encoder.encode().to_vec();

    let p = process(&bytes, &Limits::default()).unwrap();
    assert!(p.animated);
    assert_eq!(p.kind, Kind::Webp);
    let out = frames_of(&p.main);
    assert_eq!(out.len(), 3);
    assert!(close(*out[2].get_pixel(60, 40), [30, 30, 220, 255]));
    assert!(close(
        decode(&p.thumb).get_pixel(10, 10),
        [220, 30, 30, 255]
    ));

    let refused = Limits {
        allow_animation: false,
        ..Limits::default()
    };
    assert!(matches!(
        process(&bytes, &refused),
        Err(media::image::ImageError::Animated)
    ));
    // An avatar is the first frame, whatever the setting.
    let sizes = avatar(&bytes, &refused).unwrap();
    assert!(close(
        decode(&sizes[0].1).get_pixel(24, 24),
        [220, 30, 30, 255]
    ));
}

#[test]
fn an_avatar_is_the_centre_square_in_three_sizes() {
    // 300 x 100: red, blue centre square, green.
    let wide = RgbImage::from_fn(300, 100, |x, _| match x {
        0..100 => Rgb([220, 20, 20]),
        100..200 => Rgb([20, 20, 220]),
        _ => Rgb([20, 200, 20]),
    });
    let sizes = avatar(&jpeg(&wide, 95), &Limits::default()).unwrap();
    assert_eq!(
        sizes.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        AVATAR_SIZES.to_vec()
    );
    for (size, bytes) in &sizes {
        assert_eq!(format_of(bytes), ImageFormat::WebP);
        let img = decode(bytes);
        assert_eq!(img.dimensions(), (*size, *size));
        for (x, y) in [(0, 0), (size - 1, size / 2), (size / 2, size - 1)] {
            let p = img.get_pixel(x, y);
            assert!(
                p[2] > 150 && p[0] < 90 && p[1] < 90,
                "{size}: {p:?} at {x},{y}"
            );
        }
    }
}

#[test]
fn an_avatar_from_a_tall_sideways_photo_is_upright() {
    // Stored 200 x 100 (landscape), top half red, bottom half blue, EXIF orientation 6: the
    // displayed picture is 100 x 200 with red on the right. The centre square keeps that.
    let stored = RgbImage::from_fn(200, 100, |_, y| {
        if y < 50 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let bytes = jpeg_with_segment(&jpeg(&stored, 95), 0xE1, &exif_app1(6, "x"));
    let sizes = avatar(&bytes, &Limits::default()).unwrap();
    let big = decode(&sizes[2].1);
    assert!(big.get_pixel(220, 120)[0] > 150, "right side red");
    assert!(big.get_pixel(20, 120)[2] > 150, "left side blue");
}
