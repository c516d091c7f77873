//! A measurement, not a check: run with
//! `cargo test -p media --release --test images_speed -- --ignored --nocapture`.
//! It processes a phone-sized photo (4,000 x 3,000, gradients and grain, JPEG quality 90, about
//! 3 MB) once alone, then 8 at once two at a time as the server runs them, and prints the
//! times and the process's peak memory.
mod images_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use images_support::*;
use media::image::{Limits, process};

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn reset_peak_rss() {
    // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[test]
#[ignore = "a release-mode measurement; prints timings"]
fn phone_photo_timing() {
    let started = Instant::now();
    let bytes = jpeg(&photo(4000, 3000, 42), 90);
    println!(
        "input: 4000x3000 JPEG q90, {:.2} MB (made in {:?})",
        bytes.len() as f64 / 1e6,
        started.elapsed()
    );

    let t = Instant::now();
    let decoded = image::load_from_memory(&bytes).unwrap();
    println!("  decode alone: {:?} ({:?})", t.elapsed(), decoded.color());
    drop(decoded);

    // Warm up once (page faults of first allocations, CPU feature detection).
    process(&bytes, &Limits::default()).unwrap();
    reset_peak_rss();
    let before = peak_rss_mb();
    let mut best = None;
    for _ in 0..3 {
        let t = Instant::now();
        let p = process(&bytes, &Limits::default()).unwrap();
        let took = t.elapsed();
        best = Some(best.map_or(took, |b: std::time::Duration| b.min(took)));
        println!(
            "  process: {took:?}: main {}x{} {} KB JPEG, webp {} KB, thumb {}x{} {} KB",
            p.width,
            p.height,
            p.main.len() / 1024,
            p.webp.as_ref().map_or(0, |w| w.len() / 1024),
            p.thumb_width,
            p.thumb_height,
            p.thumb.len() / 1024
        );
    }
    println!(
        "best single: {:?}; peak RSS alone {:?} MB (baseline {before:?} MB)",
        best.unwrap(),
        peak_rss_mb()
    );

    reset_peak_rss();
    let next = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < 8 {
                    process(&bytes, &Limits::default()).unwrap();
                }
            });
        }
    });
    println!(
        "8 photos, 2 at a time: {:?} total; peak RSS {:?} MB",
        t.elapsed(),
        peak_rss_mb()
    );
}

#[test]
#[ignore = "a release-mode measurement; prints timings"]
fn screenshot_and_animation_timing() {
    let shot = png(&image::DynamicImage::ImageRgb8(screenshot(2560, 1440)));
    let t = Instant::now();
    let p = process(&shot, &Limits::default()).unwrap();
    println!(
        "screenshot 2560x1440 PNG {} KB: {:?}: main {}x{} {} KB PNG, webp {} KB",
        shot.len() / 1024,
        t.elapsed(),
        p.width,
        p.height,
        p.main.len() / 1024,
        p.webp.as_ref().map_or(0, |w| w.len() / 1024)
    );

    let frames: Vec<_> = (0..100u32)
        .map(|i| {
            image::RgbaImage::from_fn(480, 270, |x, y| {
                image::Rgba([
                    ((x + i * 4) % 256) as u8,
                    (y % 256) as u8,
                    (i * 2) as u8,
                    255,
                ])
            })
        })
        .collect();
    let anim = gif(&frames, 40);
    let t = Instant::now();
    let p = process(&anim, &Limits::default()).unwrap();
    println!(
        "animated GIF 480x270 x 100 frames, {} KB: {:?}: main {} KB",
        anim.len() / 1024,
        t.elapsed(),
        p.main.len() / 1024
    );
}
