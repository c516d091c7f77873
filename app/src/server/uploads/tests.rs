//! Uploads: the rules, on a fresh database (real migrations, real SQLite, the database store).
//! Each refusal checks its message and that nothing was written (no `uploads`, `files` or
//! `file_blobs` row); the visibility tests (tests/visibility.rs) walk uploads through the states
//! of the posts that use them.

// The whole file is test code (`#[cfg(test)] mod tests;` in mod.rs); the attribute repeats it
// for the layer rule's reader (app/tests/layers.rs), which sees test code by this attribute and
// would otherwise take these imports of features for a platform module's.
#[cfg(test)]
use crate::server::{
    blog::{ArticleInput, Publish, create_article},
    entity::{file_blob, post, topic},
    forum, moderation, settings,
    testing::{World, insert_user},
};

use super::{store::DbStore, *};
use crate::model::PostState;
use sea_orm::{ActiveModelTrait, DatabaseConnection};

/// Who may see a file, and the sweep (tests/visibility.rs).
mod visibility;

// ---------------------------------------------------------------------------------------------
// Files made here

/// A PNG of `width` × `height`, smooth (a screenshot-like gradient) or noisy (photo-like, large).
fn png(width: u32, height: u32, seed: u32, noisy: bool) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        if noisy {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let [a, b, c, _] = state.to_le_bytes();
            image::Rgb([a, b, c])
        } else {
            image::Rgb([
                (x * 255 / width.max(1)) as u8,
                (y * 255 / height.max(1)) as u8,
                seed as u8,
            ])
        }
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk with its length and a valid CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A decompression bomb's header: a well-formed PNG (valid CRCs, a zlib stream) that claims
/// 50,000 × 50,000 pixels, 7.5 GB once decoded, in a hundred bytes.
fn bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    // zlib: one stored block of 16 zero bytes, then its Adler-32.
    let mut idat = vec![0x78, 0x01, 0x01, 16, 0, !16u8, 0xFF];
    idat.extend_from_slice(&[0; 16]);
    idat.extend_from_slice(&((16u32 << 16) | 1).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// Plain text of `len` bytes that differs with `seed` (a log file).
fn text(len: usize, seed: u8) -> Vec<u8> {
    let line = format!("2026-12-01 12:00:{seed:02} INFO worker {seed} finished a job\n");
    line.bytes().cycle().take(len).collect()
}

fn incoming(name: &str, bytes: impl Into<Bytes>) -> Incoming {
    Incoming {
        name: name.to_string(),
        bytes: bytes.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
    (
        upload::Entity::find().count(db).await.unwrap(),
        file::Entity::find().count(db).await.unwrap(),
        file_blob::Entity::find().count(db).await.unwrap(),
    )
}

async fn set(db: &DatabaseConnection, key: (&str, impl Sized), value: &str) {
    settings::put(db, key.0, value).await.unwrap();
}

async fn up(w: &World, store: &DbStore, who: &user::Model, name: &str, bytes: Vec<u8>) -> Uploaded {
    accept(&w.db, store, who, incoming(name, bytes), Purpose::Post)
        .await
        .unwrap_or_else(|e| panic!("{name} refused: {e}"))
}

/// Whether `viewer` may see upload `id` (visible, or "not found" with the usual message).
async fn sees(db: &DatabaseConnection, id: i64, viewer: Option<&user::Model>) -> bool {
    match visible(db, id, viewer).await {
        Ok(_) => true,
        Err(AppError::NotFound(m)) => {
            assert_eq!(m, NOT_FOUND);
            false
        }
        Err(e) => panic!("{e:?}"),
    }
}

/// Who of everyone sees upload `id`: (visitor, another customer, staff, moderator, uploader).
async fn seen_by(w: &World, id: i64) -> [bool; 5] {
    seen_by_with(w, id, &w.customer).await
}

/// The same, with `uploader` last (another customer is `w.other`, or `w.customer` when
/// `uploader` is someone else).
async fn seen_by_with(w: &World, id: i64, uploader: &user::Model) -> [bool; 5] {
    let another = if uploader.id == w.other.id {
        &w.customer
    } else {
        &w.other
    };
    [
        sees(&w.db, id, None).await,
        sees(&w.db, id, Some(another)).await,
        sees(&w.db, id, Some(&w.staff)).await,
        sees(&w.db, id, Some(&w.moderator)).await,
        sees(&w.db, id, Some(uploader)).await,
    ]
}

const EVERYONE: [bool; 5] = [true; 5];
const UPLOADER_ONLY: [bool; 5] = [false, false, false, false, true];
/// A hidden or deleted post's file: its author and moderators.
const AUTHOR_AND_MODERATORS: [bool; 5] = [false, false, false, true, true];

async fn member(w: &World, id: i64, trust_level: i16) -> user::Model {
    let mut row: user::ActiveModel = insert_user(&w.db, id).await.into();
    row.trust_level = Set(trust_level);
    row.update(&w.db).await.unwrap()
}

async fn post_row(db: &DatabaseConnection, id: i64) -> post::Model {
    post::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

async fn links(db: &DatabaseConnection, post_id: i64) -> Vec<i64> {
    post_upload::Entity::find()
        .filter(post_upload::Column::PostId.eq(post_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.upload_id)
        .collect()
}

async fn backdate_uploads(db: &DatabaseConnection, hours: i64) {
    upload::Entity::update_many()
        .col_expr(
            upload::Column::CreatedAt,
            Expr::value(Utc::now() - chrono::Duration::hours(hours)),
        )
        .exec(db)
        .await
        .unwrap();
}

async fn backdate_files(db: &DatabaseConnection, hours: i64) {
    file::Entity::update_many()
        .col_expr(
            file::Column::CreatedAt,
            Expr::value(Utc::now() - chrono::Duration::hours(hours)),
        )
        .exec(db)
        .await
        .unwrap();
}

async fn blob_keys(db: &DatabaseConnection) -> Vec<String> {
    let mut keys: Vec<String> = file_blob::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.key)
        .collect();
    keys.sort();
    keys
}

// ---------------------------------------------------------------------------------------------
// Accepting files

#[tokio::test]
async fn an_image_is_kept_once_per_content_and_each_upload_is_the_members() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let shot = png(300, 200, 1, false);
    let first = up(&w, &store, &w.customer, "Login screen.png", shot.clone()).await;
    assert_eq!(first.name, "Login screen.png");
    assert_eq!(first.url, format!("/uploads/{}/Login-screen.png", first.id));
    assert_eq!(first.markdown, format!("![Login screen]({})", first.url));
    assert!(first.is_image);
    assert_eq!(first.size, shot.len() as i64);
    assert_eq!((first.width, first.height), (Some(300), Some(200)));
    let (uploads_after_one, files_after_one, blobs_after_one) = counts(&w.db).await;
    assert_eq!((uploads_after_one, files_after_one), (1, 1));
    assert!(blobs_after_one >= 2, "the image and its thumbnail at least");

    // The same bytes again, by another member and under another name: a second upload of the
    // same file, nothing processed or stored again.
    let second = up(&w, &store, &w.other, "same.png", shot.clone()).await;
    assert_ne!(second.id, first.id);
    assert_eq!(counts(&w.db).await, (2, 1, blobs_after_one));
    let rows = upload::Entity::find().all(&w.db).await.unwrap();
    assert_eq!(rows[0].file_hash, rows[1].file_hash);
    assert_eq!(rows[0].file_hash, content_hash(&shot));
    assert_eq!(
        (rows[0].user_id, rows[1].user_id),
        (w.customer.id, w.other.id)
    );

    // A file that is not an image is kept as it came, and its Markdown is a link with its size.
    let log = text(3000, 1);
    let doc = up(&w, &store, &w.customer, "server.log", log.clone()).await;
    assert!(!doc.is_image);
    assert_eq!(doc.markdown, format!("[server.log (3 KB)]({})", doc.url));
    let kept = file::Entity::find_by_id(content_hash(&log))
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.kind.as_str(), kept.has_thumb), ("text", false));
    assert_eq!(
        read(&store, &kept.hash, Variant::Main)
            .await
            .unwrap()
            .as_deref(),
        Some(&log[..])
    );
}

/// A refused file: the message (a part of it), and nothing written.
async fn refused(w: &World, store: &DbStore, who: &user::Model, file: Incoming, expected: &str) {
    let name = file.name.chars().take(40).collect::<String>();
    let before = counts(&w.db).await;
    let e = accept(&w.db, store, who, file, Purpose::Post)
        .await
        .expect_err(&format!("{name} is refused"));
    assert!(
        e.to_string().contains(expected),
        "{name}: expected {expected:?} in {e}"
    );
    assert!(
        matches!(e, AppError::Invalid { ref field, .. } if field == "file")
            || matches!(e, AppError::Forbidden(_) | AppError::TooMany(_)),
        "{name}: {e:?}"
    );
    assert_eq!(counts(&w.db).await, before, "{name}: nothing is written");
}

#[tokio::test]
async fn bad_files_are_refused_with_what_they_are_and_nothing_is_written() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    set(&w.db, settings::UPLOAD_MAX_FILE_MB, "1").await;
    let good = png(64, 64, 2, false);
    let long_name = "x".repeat(1000);
    let mut truncated = png(400, 300, 3, true);
    truncated.truncate(truncated.len() / 2);
    let mut png_then_html = b"\x89PNG\r\n\x1a\n".to_vec();
    png_then_html.extend_from_slice(b"<html><body><script>alert(document.cookie)</script>");
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend_from_slice(&[0; 40]);
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("empty.png", Vec::new(), format!("“empty.png”: {EMPTY}")),
        (
            "big.log",
            text(1024 * 1024 * 3 / 2, 4),
            "“big.log” is 1.5 MB; files can be at most 1 MB here.".into(),
        ),
        (
            "setup.exe",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(),
            "“setup.exe” is a program this site doesn't take. You can upload PNG, JPEG, GIF and WebP images and .log, .pdf, .txt, .zip files.".into(),
        ),
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            "“logo.svg” is an SVG image this site doesn't take.".into(),
        ),
        (
            "shot.png",
            b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec(),
            "“shot.png” is an HTML page this site doesn't take.".into(),
        ),
        (
            "notes.png",
            b"just some notes\n".to_vec(),
            "“notes.png”: this site doesn't take .png files.".into(),
        ),
        (
            "report.pdf",
            b"not a pdf at all\n".to_vec(),
            "“report.pdf” is named .pdf but its contents are a text file.".into(),
        ),
        (
            "letter.docx",
            zip,
            "“letter.docx”: this site doesn't take .docx files.".into(),
        ),
        ("cut.png", truncated, "This image is incomplete".into()),
        ("bomb.png", bomb(), "This image is 50,000 × 50,000 pixels".into()),
        ("fake.png", png_then_html, "This image".into()),
        (
            "../../etc/passwd.png",
            good.clone(),
            "The file name contains a slash or backslash".into(),
        ),
        (
            "C:\\shots\\a.png",
            good.clone(),
            "The file name contains a slash or backslash".into(),
        ),
        (
            "a\u{7}b.png",
            good.clone(),
            "The file name contains an invisible control character".into(),
        ),
        (
            "line\nbreak.png",
            good.clone(),
            "The file name contains an invisible control character".into(),
        ),
        (
            "photo\u{202E}gnp.exe",
            good.clone(),
            "reverse the direction of the text".into(),
        ),
        (
            &long_name,
            good.clone(),
            "The file name is 1000 characters long; the most allowed is 255.".into(),
        ),
        ("   ", good.clone(), "The file needs a name.".into()),
    ];
    for (name, bytes, expected) in cases {
        refused(&w, &store, &w.customer, incoming(name, bytes), &expected).await;
    }
    assert_eq!(counts(&w.db).await, (0, 0, 0));
    // The site takes no other files when the admins allow none.
    set(&w.db, settings::UPLOAD_FILE_TYPES, "").await;
    refused(
        &w,
        &store,
        &w.customer,
        incoming("a.txt", text(100, 1)),
        "“a.txt”: this site doesn't take .txt files. You can upload PNG, JPEG, GIF and WebP images.",
    )
    .await;
    // The control: a good file with a 255-character name goes in.
    let long = format!("{}.png", "y".repeat(251));
    let kept = up(&w, &store, &w.customer, &long, good).await;
    assert_eq!(kept.name, long);
}

#[tokio::test]
async fn a_polyglot_is_kept_as_pixels_only() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    // A valid PNG with a script in a text chunk and an HTML page after its end.
    let clean = png(120, 90, 5, false);
    let iend = clean.len() - 12;
    let mut polyglot = clean[..iend].to_vec();
    polyglot.extend(chunk(b"tEXt", b"Comment\0<script>alert('chunk')</script>"));
    polyglot.extend_from_slice(&clean[iend..]);
    polyglot.extend_from_slice(b"<html><script>alert('tail')</script></html>");
    let kept = up(&w, &store, &w.customer, "innocent.png", polyglot.clone()).await;
    assert!(kept.is_image);
    let hash = content_hash(&polyglot);
    let f = file::Entity::find_by_id(hash.clone())
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.kind, "png");
    for variant in [Variant::Main, Variant::Webp, Variant::Thumb] {
        let Some(bytes) = read(&store, &hash, variant).await.unwrap() else {
            assert_eq!(variant, Variant::Webp, "only the WebP copy is optional");
            continue;
        };
        assert_ne!(bytes.as_ref(), &polyglot[..]);
        let lower = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        for payload in ["<script", "alert(", "<html"] {
            assert!(!lower.contains(payload), "{variant:?} keeps {payload}");
        }
    }
    let main = read(&store, &hash, Variant::Main).await.unwrap().unwrap();
    let decoded = image::load_from_memory(&main).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (120, 90));
}

#[tokio::test]
async fn who_may_upload_at_all() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let shot = png(40, 40, 6, false);
    // Suspended: refused with the suspension's message, before anything is read.
    let mut suspended: user::ActiveModel = member(&w, 10, 1).await.into();
    suspended.suspended_until = Set(Some(Utc::now() + chrono::Duration::days(3)));
    suspended.suspension_reason = Set(Some("Spam links".into()));
    let suspended = suspended.update(&w.db).await.unwrap();
    refused(
        &w,
        &store,
        &suspended,
        incoming("a.png", shot.clone()),
        ": you can read, but not post or change anything. Reason: Spam links",
    )
    .await;
    // New members (trust level 0) when the site says "off": refused; established members and
    // staff are not new members.
    let newcomer = member(&w, 11, 0).await;
    set(&w.db, settings::UPLOAD_NEW_MEMBERS, "off").await;
    refused(
        &w,
        &store,
        &newcomer,
        incoming("a.png", shot.clone()),
        NEW_MEMBERS_OFF,
    )
    .await;
    assert_eq!(
        check_may_upload(&newcomer, &rules(&w.db).await.unwrap()),
        Err(AppError::Forbidden(NEW_MEMBERS_OFF.into()))
    );
    up(&w, &store, &w.customer, "a.png", shot.clone()).await;
    let mut new_staff: user::ActiveModel = w.staff.clone().into();
    new_staff.trust_level = Set(0);
    let new_staff = new_staff.update(&w.db).await.unwrap();
    up(&w, &store, &new_staff, "b.png", shot.clone()).await;
    // "hold" and "allow" let them upload (a post using it waits under "hold": below).
    for setting in ["hold", "allow"] {
        set(&w.db, settings::UPLOAD_NEW_MEMBERS, setting).await;
        up(&w, &store, &newcomer, "c.png", shot.clone()).await;
    }
    // An avatar must be an image.
    let e = accept(
        &w.db,
        &store,
        &w.customer,
        incoming("cv.pdf", b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec()),
        Purpose::Avatar,
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "An avatar must be a PNG, JPEG, GIF or WebP image."
    );
}

#[tokio::test]
async fn the_daily_allowance_counts_the_last_24_hours_and_staff_are_exempt() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    set(&w.db, settings::UPLOAD_DAILY_MB, "1").await;
    let kb700 = 700 * 1024;
    up(&w, &store, &w.customer, "one.log", text(kb700, 1)).await;
    refused(
        &w,
        &store,
        &w.customer,
        incoming("two.log", text(kb700, 2)),
        "You can upload 1 MB a day, and you have uploaded 700 KB in the last 24 hours.",
    )
    .await;
    let e = accept(
        &w.db,
        &store,
        &w.customer,
        incoming("two.log", text(kb700, 2)),
        Purpose::Post,
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), 429);
    // What fits still goes in.
    up(&w, &store, &w.customer, "small.log", text(300 * 1024, 3)).await;
    // Yesterday's uploads no longer count.
    backdate_uploads(&w.db, 25).await;
    up(&w, &store, &w.customer, "three.log", text(kb700, 4)).await;
    // Staff are not counted at all.
    for i in 0..3 {
        up(&w, &store, &w.staff, "staff.log", text(kb700, 10 + i)).await;
    }
    // 0: no allowance.
    set(&w.db, settings::UPLOAD_DAILY_MB, "0").await;
    up(&w, &store, &w.customer, "four.log", text(kb700, 20)).await;
}

#[tokio::test]
async fn two_uploads_at_once_cannot_pass_the_allowance_together() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    set(&w.db, settings::UPLOAD_DAILY_MB, "1").await;
    let (a, b) = tokio::join!(
        accept(
            &w.db,
            &store,
            &w.customer,
            incoming("a.log", text(700 * 1024, 1)),
            Purpose::Post
        ),
        accept(
            &w.db,
            &store,
            &w.customer,
            incoming("b.log", text(700 * 1024, 2)),
            Purpose::Post
        ),
    );
    let refusals: Vec<&AppError> = [&a, &b]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(refusals.len(), 1, "exactly one is accepted: {a:?} {b:?}");
    assert!(
        matches!(refusals[0], AppError::TooMany(_)),
        "{:?}",
        refusals[0]
    );
    assert_eq!(upload::Entity::find().count(&w.db).await.unwrap(), 1);
    assert_eq!(
        uploaded_today(&w.db, w.customer.id).await.unwrap(),
        700 * 1024
    );
    // Within one process a member's uploads take turns, so the refused one was counted before
    // its file was kept: nothing of it is stored (the log has no thumbnail: one blob).
    assert_eq!(counts(&w.db).await, (1, 1, 1), "nothing of the refused one");
    backdate_files(&w.db, 2).await;
    assert_eq!(sweep(&w.db, &store).await.unwrap(), Swept::default());
    assert_eq!(counts(&w.db).await.1, 1, "the accepted upload's file stays");
}

// ---------------------------------------------------------------------------------------------
// Pieces

#[test]
fn texts_name_the_uploads_they_use() {
    assert_eq!(
        referenced_ids(
            "![a](/uploads/12/a.png) [b](/uploads/7/b.pdf) ![again](/uploads/12/thumb/a.png)"
        ),
        vec![12, 7]
    );
    assert_eq!(
        referenced_ids("/uploads/ /uploads/x/1 /uploads/5 /uploads/9a/b"),
        Vec::<i64>::new()
    );
    assert_eq!(referenced_ids("https://example.com/uploads/3/x"), vec![3]);
    let many: String = (1..=150).map(|i| format!("/uploads/{i}/f ")).collect();
    assert_eq!(referenced_ids(&many).len(), 100);
}

#[test]
fn names_sizes_and_types_read_plainly() {
    assert_eq!(url_name("My screen (1).png"), "My-screen--1-.png");
    assert_eq!(url_name("été.pdf"), "t-.pdf");
    assert_eq!(url_name("..."), "file");
    assert_eq!(url_name(&"a".repeat(300)).len(), 80);
    assert_eq!(human_size(0), "0 bytes");
    assert_eq!(human_size(1), "1 byte");
    assert_eq!(human_size(3000), "3 KB");
    assert_eq!(human_size(1024 * 1024 * 3 / 2), "1.5 MB");
    assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
    assert_eq!(
        file_extensions("pdf, .TXT log exe svg png"),
        vec!["log", "pdf", "txt"]
    );
    assert_eq!(file_extensions(""), Vec::<String>::new());
    assert_eq!(
        key(&"ab".repeat(32), Variant::Avatar(96)),
        format!("ab/{}.a96.webp", "ab".repeat(32))
    );
}

#[test]
fn a_proxy_address_holds_for_the_address_it_carries() {
    let key = [9u8; 32];
    // An address with white space around it is signed as it is carried, trimmed (the signature
    // was of the untrimmed text, so it never held; today's callers pass trimmed addresses).
    for url in ["https://example.com/a.png", " https://example.com/a.png\n"] {
        let path = proxy::url_for(&key, url);
        let (sig, encoded) = path
            .strip_prefix(proxy::PREFIX)
            .unwrap()
            .split_once('/')
            .unwrap();
        assert_eq!(
            proxy::address_of(&key, sig, encoded).as_deref(),
            Some("https://example.com/a.png"),
            "{url:?}"
        );
    }
}

/// The proxy never fetches from this site itself, however its address is spelled: a kept copy
/// of an upload would outlive the post that shows it.
#[test]
fn the_proxy_takes_nothing_from_this_site() {
    let site = "https://forum.example.com";
    for own in [
        "https://forum.example.com/uploads/5/shot.png",
        "HTTPS://Forum.Example.COM/uploads/5/shot.png",
        "https://forum.example.com:443/uploads/5/shot.png",
        "https://user@forum.example.com/uploads/5/shot.png",
        "https://forum.example.com./uploads/5/shot.png",
        "https://forum.example.com",
    ] {
        assert!(proxy::is_this_sites(own, site), "{own}");
    }
    for other in [
        "https://forum.example.com.evil.example/uploads/5/x.png",
        "http://forum.example.com/uploads/5/x.png",
        "https://forum.example.com:8443/uploads/5/x.png",
        "https://example.com/uploads/5/x.png",
        "https://evil.example/@forum.example.com/x.png",
    ] {
        assert!(!proxy::is_this_sites(other, site), "{other}");
    }
    assert!(proxy::is_this_sites(
        "http://127.0.0.1:4201/uploads/6/shot.png",
        "http://127.0.0.1:4201"
    ));
}

#[test]
fn an_image_source_cannot_climb_out_of_the_upload_and_proxy_paths() {
    // A reader's browser resolves dot segments (also written %2e, with a backslash for /, or
    // with a tab or newline inside, which URL parsers drop) before it asks: these would send
    // every reader's browser, with their cookies, to any address on the site.
    for src in [
        "/uploads/1/../../notifications/5",
        "/uploads/1/%2e%2e/%2E%2E/staff/ideas.csv",
        "/uploads/1/..\\..\\notifications/5",
        "/uploads/1/.&#9;./.&#10;./notifications/5",
        "/images/proxy/../../search?q=x",
        "/uploads/1/./../x",
    ] {
        let html = crate::server::content::render(&format!("<img src=\"{src}\" alt=\"x\">"));
        assert!(!html.contains("src="), "{src}: {html}");
    }
    // What the site links itself keeps its source, dots in names included.
    for src in [
        "/uploads/12/my..shot.png",
        "/uploads/3/thumb/a.png",
        "/images/proxy/abc/aHR0cA",
    ] {
        let html = crate::server::content::render(&format!("![x]({src})"));
        assert!(html.contains(&format!("src=\"{src}\"")), "{src}: {html}");
    }
}

#[tokio::test]
async fn files_move_between_stores_whole() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    up(&w, &store, &w.customer, "a.png", png(40, 40, 19, false)).await;
    up(&w, &store, &w.customer, "b.log", text(1000, 5)).await;
    let dir = std::env::temp_dir().join(format!("backyard-upload-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let target = media::store::DirStore::new(dir.clone()).unwrap();
    let keys = blob_keys(&w.db).await;
    assert_eq!(migrate(&store, &target).await.unwrap(), keys.len() as u64);
    for k in keys {
        assert_eq!(
            target.get(&k).await.unwrap(),
            store.get(&k).await.unwrap(),
            "{k}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
