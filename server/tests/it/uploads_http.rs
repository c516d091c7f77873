//! Screenshots and files (issue 18) through the real router: POST /uploads and its JSON, the
//! headers a stored file is served with, the limits (each refusal with its message and nothing
//! stored), who may see a file as the post using it changes, the no-JavaScript composer's files,
//! and the image proxy against a local HTTP server.

use crate::common::*;
use app::{
    model::{Role, UploadAnswer},
    server::{
        entity::{file, file_blob, post, post_upload, proxied_image, topic, upload, user},
        settings,
        uploads::{self, store::DbStore},
    },
};
use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode, header},
};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, sea_query::Expr,
};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Files made here

/// A PNG: a smooth gradient (a screenshot) or noise (a photo, large and incompressible).
pub(crate) fn png(width: u32, height: u32, seed: u32, noisy: bool) -> Vec<u8> {
    encode(
        image::DynamicImage::ImageRgb8(pixels(width, height, seed, noisy)),
        image::ImageFormat::Png,
    )
}

/// A JPEG photo (noise with a gradient).
fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    encode(
        image::DynamicImage::ImageRgb8(pixels(width, height, seed, true)),
        image::ImageFormat::Jpeg,
    )
}

fn pixels(width: u32, height: u32, seed: u32, noisy: bool) -> image::RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    image::RgbImage::from_fn(width, height, |x, y| {
        let (gx, gy) = (
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
        );
        if noisy {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let [a, b, c, _] = state.to_le_bytes();
            image::Rgb([gx / 2 + a / 2, gy / 2 + b / 2, c])
        } else {
            image::Rgb([gx, gy, seed as u8])
        }
    })
}

fn encode(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), format)
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

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A well-formed PNG (valid CRCs and zlib stream) whose header claims 50,000 × 50,000 pixels.
fn bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut idat = vec![0x78, 0x01, 0x01, 16, 0, !16u8, 0xFF];
    idat.extend_from_slice(&[0; 16]);
    idat.extend_from_slice(&((16u32 << 16) | 1).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A PNG with a script in a text chunk and an HTML page after its end: valid as both.
fn polyglot(seed: u32) -> Vec<u8> {
    let clean = png(120, 90, seed, false);
    let iend = clean.len() - 12;
    let mut out = clean[..iend].to_vec();
    out.extend(chunk(b"tEXt", b"Comment\0<script>alert('chunk')</script>"));
    out.extend_from_slice(&clean[iend..]);
    out.extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>");
    out
}

fn text(len: usize, seed: u8) -> Vec<u8> {
    let line = format!("2026-12-01 12:00:{seed:02} INFO worker {seed} finished a job\n");
    line.bytes().cycle().take(len).collect()
}

const PDF: &[u8] = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn zip() -> Vec<u8> {
    // An empty archive: the end-of-central-directory record alone.
    b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec()
}

// ---------------------------------------------------------------------------------------------
// Requests

pub(crate) enum Part<'a> {
    Text(&'a str, &'a str),
    /// Field name, file name, bytes.
    File(&'a str, &'a str, &'a [u8]),
}

const BOUNDARY: &str = "----BackyardTestBoundary7MA4YWxkTrZu0gW";

fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(field, name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A multipart post as a browser sends it from this site: `accept` says whether a script
/// (application/json) or a plain form (text/html, with a Referer to come back to) sent it.
pub(crate) fn multipart_request(
    path: &str,
    parts: &[Part],
    cookie: Option<&str>,
    accept: &str,
    from: &str,
) -> Request<Body> {
    let mut req = Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::ACCEPT, accept)
        .header(header::ORIGIN, ORIGIN)
        .header(header::REFERER, format!("{ORIGIN}{from}"))
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::from(multipart(parts))).unwrap()
}

/// POST /uploads with `files` (as the composer's script sends them); the answer and its JSON.
async fn upload(
    app: &Router,
    cookie: Option<&str>,
    files: &[(&str, &[u8])],
) -> (Reply, UploadAnswer) {
    let parts: Vec<Part> = files
        .iter()
        .map(|(n, b)| Part::File("file", n, b))
        .collect();
    let res = send(
        app,
        multipart_request("/uploads", &parts, cookie, "application/json", "/"),
    )
    .await;
    let answer: UploadAnswer = serde_json::from_str(&res.body)
        .unwrap_or_else(|e| panic!("{e}: {} {}", res.status, res.body));
    (res, answer)
}

/// Uploads one file that must be accepted; what was kept.
async fn upload_ok(app: &Router, cookie: &str, name: &str, bytes: &[u8]) -> app::model::Uploaded {
    let (res, mut answer) = upload(app, Some(cookie), &[(name, bytes)]).await;
    assert_eq!(res.status, StatusCode::OK, "{name}: {}", res.body);
    assert_eq!(answer.error, None);
    assert_eq!(answer.uploaded.len(), 1);
    answer.uploaded.remove(0)
}

/// A GET whose body is kept as bytes (files are not text).
struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Fetched {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

async fn fetch(app: &Router, path: &str, cookie: Option<&str>, extra: &[(&str, &str)]) -> Fetched {
    let mut req = Request::get(path).header(header::ACCEPT, "image/png,image/*;q=0.8,*/*;q=0.5");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Fetched {
        status,
        headers,
        body,
    }
}

/// The status `who` gets for the file at `url`.
async fn status_of(app: &Router, url: &str, cookie: Option<&str>) -> StatusCode {
    let got = fetch(app, url, cookie, &[]).await;
    if got.status == StatusCode::NOT_FOUND {
        assert_eq!(
            got.body,
            uploads::NOT_FOUND.as_bytes(),
            "the usual not-found answer"
        );
    }
    got.status
}

// ---------------------------------------------------------------------------------------------
// The site

struct Site {
    db: DatabaseConnection,
    app: Router,
    /// casey: a customer (trust level 1); sam: staff; morgan: a moderator.
    casey: String,
    sam: String,
    moderator: String,
    topic_id: i64,
    path: String,
}

async fn site() -> Site {
    let d = demo_members().await;
    let moderator = new_member(&d.app, &d.db, "morgan", Some(Role::Moderator))
        .await
        .1;
    let t = topic::Entity::find()
        .filter(topic::Column::Slug.eq("dashboard-chart-is-blank-on-safari"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    Site {
        casey: d.casey,
        sam: d.sam,
        moderator,
        topic_id: t.id,
        path: format!("/t/{}/{}", t.id, t.slug),
        db: d.db,
        app: d.app,
    }
}

/// A member signed up now (trust level 0), with `role` if given; their row and session.
async fn new_member(
    app: &Router,
    db: &DatabaseConnection,
    name: &str,
    role: Option<Role>,
) -> (user::Model, String) {
    let cookie = sign_up(
        app,
        name,
        &format!("{name}@example.com"),
        "a long enough password",
    )
    .await;
    let row = user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let row = match role {
        Some(role) => {
            let mut active: user::ActiveModel = row.into();
            active.role = Set(role.as_str().into());
            active.staff_title = Set(role.is_staff().then(|| "Support".to_string()));
            active.update(db).await.unwrap()
        }
        None => row,
    };
    (row, cookie)
}

async fn member(db: &DatabaseConnection, name: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
    (
        upload::Entity::find().count(db).await.unwrap(),
        file::Entity::find().count(db).await.unwrap(),
        file_blob::Entity::find().count(db).await.unwrap(),
    )
}

async fn put(db: &DatabaseConnection, key: &str, value: &str) {
    settings::put(db, key, value).await.unwrap();
}

/// A reply posted without JavaScript (urlencoded); the post it made.
async fn reply(s: &Site, cookie: &str, body: &str) -> post::Model {
    let token = form_token_on(&s.app, &s.path, Some(cookie)).await;
    let res = post_form(
        &s.app,
        "/api/reply",
        &[
            ("topic_id", &s.topic_id.to_string()),
            ("body", body),
            ("form_token", &token),
        ],
        Some(cookie),
        &s.path,
    )
    .await;
    let to = res.location.clone().unwrap_or_default();
    assert!(
        !to.contains("__err"),
        "the reply is refused: {to} {}",
        res.body
    );
    latest_post(&s.db).await
}

async fn latest_post(db: &DatabaseConnection) -> post::Model {
    post::Entity::find()
        .order_by_desc(post::Column::Id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn links_of(db: &DatabaseConnection, post_id: i64) -> Vec<i64> {
    post_upload::Entity::find()
        .filter(post_upload::Column::PostId.eq(post_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.upload_id)
        .collect()
}

async fn moderate(s: &Site, post_id: i64, action: &str, reason: &str) {
    let res = post_form(
        &s.app,
        "/api/moderate_post",
        &[
            ("post_id", &post_id.to_string()),
            ("action", action),
            ("reason", reason),
            ("confirmed", "yes"),
        ],
        Some(&s.moderator),
        "/admin/review",
    )
    .await;
    assert!(
        !res.location.clone().unwrap_or_default().contains("__err"),
        "{action}: {:?}",
        res.location
    );
}

// ---------------------------------------------------------------------------------------------
// Uploading

#[tokio::test]
async fn a_customer_uploads_a_screenshot_and_the_same_bytes_twice_are_one_file() {
    let s = site().await;
    let shot = png(320, 200, 1, false);
    let (res, answer) = upload(&s.app, Some(&s.casey), &[("Login screen.png", &shot)]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let first = &answer.uploaded[0];
    assert_eq!(answer.error, None);
    assert_eq!(first.url, format!("/uploads/{}/Login-screen.png", first.id));
    assert_eq!(first.markdown, format!("![Login screen]({})", first.url));
    assert_eq!(
        (first.width, first.height, first.size),
        (Some(320), Some(200), shot.len() as i64)
    );
    let (_, _, blobs) = counts(&s.db).await;
    assert_eq!(counts(&s.db).await, (1, 1, blobs));

    let second = upload_ok(&s.app, &s.casey, "again.png", &shot).await;
    assert_ne!(second.id, first.id);
    assert_eq!(
        counts(&s.db).await,
        (2, 1, blobs),
        "one file, one set of copies, two uploads"
    );

    // The uploader gets the re-encoded image; nobody else, before a post uses it.
    let got = fetch(&s.app, &first.url, Some(&s.casey), &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    let img = image::load_from_memory(&got.body).unwrap();
    assert_eq!((img.width(), img.height()), (320, 200));
    assert_eq!(
        status_of(&s.app, &first.url, None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(&s.app, &first.url, Some(&s.sam)).await,
        StatusCode::NOT_FOUND
    );
    // A few at once, in one request.
    let (res, answer) = upload(
        &s.app,
        Some(&s.casey),
        &[
            ("a.png", &png(30, 30, 2, false)),
            ("b.log", &text(2000, 1)),
            ("c.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        answer
            .uploaded
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["a.png", "b.log", "c.pdf"]
    );
    assert_eq!(
        answer.uploaded[1].markdown,
        format!("[b.log (2 KB)]({})", answer.uploaded[1].url)
    );
}

#[tokio::test]
async fn files_are_served_with_their_real_type_and_never_run() {
    let s = site().await;
    // Bytes decide the type: a PNG named .jpg is served as a PNG.
    let shot = upload_ok(&s.app, &s.casey, "photo.jpg", &png(200, 150, 3, false)).await;
    let pdf = upload_ok(&s.app, &s.casey, "report.pdf", PDF).await;
    let log = upload_ok(
        &s.app,
        &s.casey,
        "server.log",
        b"log: saw <script>alert(1)</script> in input\n",
    )
    .await;
    let archive = upload_ok(&s.app, &s.casey, "logs.zip", &zip()).await;
    for (u, content_type, disposition) in [
        (&shot, "image/png", "inline"),
        (&pdf, "application/pdf", "attachment"),
        (&log, "text/plain; charset=utf-8", "attachment"),
        (&archive, "application/zip", "attachment"),
    ] {
        let got = fetch(&s.app, &u.url, Some(&s.casey), &[]).await;
        assert_eq!(got.status, StatusCode::OK, "{}", u.name);
        assert_eq!(got.header("content-type"), content_type, "{}", u.name);
        assert_eq!(got.header("x-content-type-options"), "nosniff");
        let d = got.header("content-disposition");
        assert!(d.starts_with(&format!("{disposition}; filename=\"")), "{d}");
        assert!(d.contains(&format!("filename*=UTF-8''{}", u.name)), "{d}");
        let csp = got.header("content-security-policy");
        assert!(
            csp.contains("sandbox") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert_eq!(
            got.header("cache-control"),
            "private, max-age=31536000, immutable"
        );
        // Asked again with its ETag: 304, no body, the same headers that matter.
        let etag = got.header("etag").to_string();
        let again = fetch(&s.app, &u.url, Some(&s.casey), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{}", u.name);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), etag);
        assert_eq!(
            again.header("cache-control"),
            "private, max-age=31536000, immutable"
        );
        // Someone else's ETag is no key: still not found for them.
        let other = fetch(&s.app, &u.url, Some(&s.sam), &[("if-none-match", &etag)]).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
    }
    let body = fetch(&s.app, &log.url, Some(&s.casey), &[]).await.body;
    assert_eq!(&body[..], b"log: saw <script>alert(1)</script> in input\n");
    assert_eq!(fetch(&s.app, &pdf.url, Some(&s.casey), &[]).await.body, PDF);
    // Thumbnails for images only.
    let thumb = fetch(
        &s.app,
        &uploads::thumb_url_of(shot.id, &shot.name),
        Some(&s.casey),
        &[],
    )
    .await;
    assert_eq!(
        (thumb.status, thumb.header("content-type")),
        (StatusCode::OK, "image/webp")
    );
    assert_eq!(
        status_of(
            &s.app,
            &uploads::thumb_url_of(pdf.id, &pdf.name),
            Some(&s.casey)
        )
        .await,
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/uploads/{}/avatar/96", shot.id),
        format!("/uploads/x{}/a.png", shot.id),
        format!("/uploads/{}/a/b/c", shot.id),
        "/uploads/999999/a.png".to_string(),
    ] {
        assert_eq!(
            status_of(&s.app, &path, Some(&s.casey)).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // A photo gets a lighter WebP copy for browsers that take it; the answer varies by Accept.
    let photo = upload_ok(&s.app, &s.casey, "holiday.jpg", &jpeg(800, 600, 4)).await;
    let f = file::Entity::find()
        .filter(file::Column::Kind.eq("jpeg"))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(f.has_webp, "a noisy photo has a smaller WebP copy");
    let as_jpeg = fetch(&s.app, &photo.url, Some(&s.casey), &[]).await;
    assert_eq!(as_jpeg.header("content-type"), "image/jpeg");
    assert_eq!(as_jpeg.header("vary"), "Accept");
    assert!(as_jpeg.body.starts_with(&[0xFF, 0xD8, 0xFF]));
    let as_webp = fetch(
        &s.app,
        &photo.url,
        Some(&s.casey),
        &[("accept", "image/avif,image/webp,image/apng,*/*;q=0.8")],
    )
    .await;
    assert_eq!(as_webp.header("content-type"), "image/webp");
    assert_eq!(as_webp.header("vary"), "Accept");
    assert!(as_webp.body.starts_with(b"RIFF") && &as_webp.body[8..12] == b"WEBP");
    assert!(as_webp.body.len() < as_jpeg.body.len());
    assert_ne!(as_webp.header("etag"), as_jpeg.header("etag"));
}

/// One refused upload: its status, the message in its JSON, nothing stored.
async fn refused(
    s: &Site,
    cookie: Option<&str>,
    files: &[(&str, &[u8])],
    status: StatusCode,
    expected: &str,
) {
    let before = counts(&s.db).await;
    let (res, answer) = upload(&s.app, cookie, files).await;
    let name = files
        .first()
        .map(|f| f.0.chars().take(30).collect::<String>())
        .unwrap_or_default();
    assert_eq!(res.status, status, "{name}: {}", res.body);
    assert!(answer.uploaded.is_empty(), "{name}");
    let error = answer.error.unwrap_or_default();
    assert!(
        error.contains(expected),
        "{name}: expected {expected:?} in {error:?}"
    );
    assert_eq!(counts(&s.db).await, before, "{name}: nothing stored");
}

#[tokio::test]
async fn bad_files_are_refused_with_what_they_are_and_nothing_is_stored() {
    let s = site().await;
    put(&s.db, "upload_max_file_mb", "1").await;
    let good = png(64, 48, 5, false);
    let mut cut = png(400, 300, 6, true);
    cut.truncate(cut.len() / 2);
    let mut png_then_html = b"\x89PNG\r\n\x1a\n".to_vec();
    png_then_html.extend_from_slice(b"<html><body><script>alert(1)</script></body></html>");
    let long_name = format!("{}.png", "n".repeat(996));
    let bad = StatusCode::BAD_REQUEST;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.png", Vec::new(), uploads::EMPTY),
        (
            "big.log",
            text(1024 * 1024 * 3 / 2, 1),
            "“big.log” is over 1 MB, the most this site takes in one file.",
        ),
        (
            "setup.exe",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(),
            "“setup.exe” is a program this site doesn't take.",
        ),
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            "“logo.svg” is an SVG image this site doesn't take.",
        ),
        (
            "shot.png",
            b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec(),
            "“shot.png” is an HTML page this site doesn't take.",
        ),
        ("fake.png", png_then_html, "This image"),
        ("cut.png", cut, "This image is incomplete"),
        (
            "bomb.png",
            bomb(),
            "This image is 50,000 × 50,000 pixels; the most this site takes is 40 megapixels.",
        ),
        (
            "../../a.png",
            good.clone(),
            "The file name contains a slash or backslash",
        ),
        (
            "shots\\a.png",
            good.clone(),
            "The file name contains a slash or backslash",
        ),
        (
            "tab\there.png",
            good.clone(),
            "The file name contains an invisible control character",
        ),
        (
            &long_name,
            good.clone(),
            "The file name is 1000 characters long; the most allowed is 255.",
        ),
    ];
    for (name, bytes, expected) in &cases {
        refused(&s, Some(&s.casey), &[(name, bytes)], bad, expected).await;
    }
    // Too many files in one request: refused before any is looked at.
    let small = png(8, 8, 7, false);
    for n in [11, 100] {
        let files: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| (format!("f{i}.png"), png(8, 8, 100 + i, false)))
            .collect();
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        refused(&s, Some(&s.casey), &files, bad, uploads::TOO_MANY_FILES).await;
    }
    refused(&s, Some(&s.casey), &[], bad, "Choose a file to upload.").await;
    // Signed out: nothing is read.
    refused(
        &s,
        None,
        &[("a.png", &small)],
        StatusCode::UNAUTHORIZED,
        uploads::SIGNED_OUT,
    )
    .await;
    assert_eq!(counts(&s.db).await, (0, 0, 0));

    // A refused file after good ones: those are kept and listed, the answer says why the rest
    // was not.
    let (res, answer) = upload(
        &s.app,
        Some(&s.casey),
        &[("ok.png", &good), ("setup.exe", b"MZ\x90\0\x03\0\0\0")],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(answer.uploaded.len(), 1);
    assert!(answer.error.unwrap().contains("is a program"));

    // A polyglot is taken, as its pixels only.
    let bytes = polyglot(8);
    let u = upload_ok(&s.app, &s.casey, "innocent.png", &bytes).await;
    let got = fetch(&s.app, &u.url, Some(&s.casey), &[]).await;
    assert_eq!(got.header("content-type"), "image/png");
    let served = String::from_utf8_lossy(&got.body).to_ascii_lowercase();
    assert!(!served.contains("<script") && !served.contains("alert(") && !served.contains("<html"));
    for blob in file_blob::Entity::find().all(&s.db).await.unwrap() {
        let stored = String::from_utf8_lossy(&blob.data).to_ascii_lowercase();
        assert!(
            !stored.contains("<script"),
            "{} keeps the payload",
            blob.key
        );
    }
}

#[tokio::test]
async fn who_may_upload() {
    let s = site().await;
    let shot = png(40, 30, 9, false);
    // Suspended (the session still open): refused with the suspension.
    let mut casey: user::ActiveModel = member(&s.db, "casey").await.into();
    casey.suspended_until = Set(Some(Utc::now() + Duration::days(3)));
    casey.suspension_reason = Set(Some("Spam links".into()));
    casey.update(&s.db).await.unwrap();
    refused(
        &s,
        Some(&s.casey),
        &[("a.png", &shot)],
        StatusCode::FORBIDDEN,
        ": you can read, but not post or change anything. Reason: Spam links",
    )
    .await;
    // New members when the site says "off".
    put(&s.db, "upload_new_members", "off").await;
    let (_, newcomer) = new_member(&s.app, &s.db, "newcomer", None).await;
    refused(
        &s,
        Some(&newcomer),
        &[("a.png", &shot)],
        StatusCode::FORBIDDEN,
        uploads::NEW_MEMBERS_OFF,
    )
    .await;
    // Staff are no new members.
    upload_ok(&s.app, &s.sam, "a.png", &shot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_allowance_holds_for_uploads_sent_at_once_and_staff_are_exempt() {
    let s = site().await;
    put(&s.db, "upload_daily_mb", "1").await;
    let (a, b) = (text(700 * 1024, 1), text(700 * 1024, 2));
    let (files_a, files_b): ([(&str, &[u8]); 1], [(&str, &[u8]); 1]) =
        ([("a.log", &a)], [("b.log", &b)]);
    let (first, second) = tokio::join!(
        upload(&s.app, Some(&s.casey), &files_a),
        upload(&s.app, Some(&s.casey), &files_b),
    );
    let statuses = [first.0.status, second.0.status];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "exactly one is taken: {statuses:?}"
    );
    let refusal = [first.1, second.1]
        .into_iter()
        .find_map(|a| a.error)
        .unwrap();
    assert!(
        refusal.starts_with(
            "You can upload 1 MB a day, and you have uploaded 700 KB in the last 24 hours."
        ),
        "{refusal}"
    );
    assert_eq!(
        counts(&s.db).await,
        (1, 1, 1),
        "nothing of the refused one is stored"
    );
    // Sequentially too, and before the file is stored.
    let before = counts(&s.db).await;
    refused(
        &s,
        Some(&s.casey),
        &[("c.log", &text(700 * 1024, 3))],
        StatusCode::TOO_MANY_REQUESTS,
        "You can upload 1 MB a day",
    )
    .await;
    assert_eq!(counts(&s.db).await, before);
    // Staff are not counted.
    for i in 0..3 {
        upload_ok(&s.app, &s.sam, "staff.log", &text(700 * 1024, 10 + i)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Who sees a file

#[tokio::test]
async fn a_file_is_as_visible_as_the_posts_that_use_it() {
    let s = site().await;
    let u = upload_ok(&s.app, &s.casey, "chart.png", &png(90, 60, 10, false)).await;
    let who = |s: &Site| {
        [
            None,
            Some(s.sam.clone()),
            Some(s.moderator.clone()),
            Some(s.casey.clone()),
        ]
    };
    let seen = |url: String| {
        let cookies = who(&s);
        let app = s.app.clone();
        async move {
            let mut out = Vec::new();
            for c in cookies {
                out.push(status_of(&app, &url, c.as_deref()).await == StatusCode::OK);
            }
            out
        }
    };
    // Visitor, staff, moderator, uploader.
    assert_eq!(seen(u.url.clone()).await, [false, false, false, true]);
    // Another member linking it does not publish it: the link is not taken.
    let theirs = reply(&s, &s.sam, &format!("Is it this? ![x]({})", u.url)).await;
    assert!(links_of(&s.db, theirs.id).await.is_empty());
    assert_eq!(seen(u.url.clone()).await, [false, false, false, true]);

    let p = reply(&s, &s.casey, &format!("Here it is:\n\n{}", u.markdown)).await;
    assert_eq!(links_of(&s.db, p.id).await, vec![u.id]);
    assert_eq!(seen(u.url.clone()).await, [true, true, true, true]);
    let page = get(&s.app, &s.path, None).await;
    assert!(
        page.body
            .contains(&format!("<img src=\"{}\" alt=\"chart\"", u.url)),
        "shown in the post"
    );

    moderate(&s, p.id, "hide", "Please describe the bug in words.").await;
    assert_eq!(
        seen(u.url.clone()).await,
        [false, false, true, true],
        "hidden: its author and moderators"
    );
    moderate(&s, p.id, "restore", "").await;
    assert_eq!(seen(u.url.clone()).await, [true, true, true, true]);
    moderate(&s, p.id, "delete", "Duplicate").await;
    assert_eq!(
        seen(u.url.clone()).await,
        [false, false, true, true],
        "deleted: the same"
    );

    // Quoting a public image: its uploader's next post shows it, someone quotes that.
    let q = upload_ok(&s.app, &s.casey, "quote.png", &png(40, 40, 11, false)).await;
    reply(&s, &s.casey, &q.markdown).await;
    let quote = reply(&s, &s.sam, &format!("> {}\n\nSame for me.", q.markdown)).await;
    assert_eq!(links_of(&s.db, quote.id).await, vec![q.id]);
    assert_eq!(status_of(&s.app, &q.url, None).await, StatusCode::OK);

    // The sweep: uploads nobody used for a day go, then their files once an hour old.
    let stale = upload_ok(&s.app, &s.casey, "stale.png", &png(40, 40, 12, false)).await;
    upload::Entity::update_many()
        .col_expr(
            upload::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::hours(25)),
        )
        .exec(&s.db)
        .await
        .unwrap();
    file::Entity::update_many()
        .col_expr(
            file::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::hours(2)),
        )
        .exec(&s.db)
        .await
        .unwrap();
    let swept = uploads::sweep(&s.db, &DbStore::new(s.db.clone()))
        .await
        .unwrap();
    assert_eq!(
        swept,
        uploads::Swept {
            uploads: 1,
            files: 1
        }
    );
    assert_eq!(
        status_of(&s.app, &stale.url, Some(&s.casey)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status_of(&s.app, &q.url, None).await, StatusCode::OK);
    assert_eq!(
        status_of(&s.app, &u.url, Some(&s.casey)).await,
        StatusCode::OK,
        "a deleted post still holds it"
    );
}

#[tokio::test]
async fn held_posts_and_removed_spammers_files() {
    let s = site().await;
    put(&s.db, "upload_new_members", "hold").await;
    let (newcomer, cookie) = new_member(&s.app, &s.db, "newcomer", None).await;
    let u = upload_ok(&s.app, &cookie, "error.png", &png(50, 40, 13, false)).await;
    // Their new topic uses it: held, and the file with it.
    let token = form_token_on(&s.app, "/new-topic", Some(&cookie)).await;
    let res = post_form(
        &s.app,
        "/api/start_topic",
        &[
            ("category", "questions"),
            ("title", "Saving fails with an error"),
            ("body", &format!("This appears: {}", u.markdown)),
            ("form_token", &token),
        ],
        Some(&cookie),
        "/new-topic",
    )
    .await;
    assert!(
        !res.location.clone().unwrap_or_default().contains("__err"),
        "{:?}",
        res.location
    );
    let p = latest_post(&s.db).await;
    assert_eq!((p.author_id, p.state.as_str()), (newcomer.id, "pending"));
    assert_eq!(links_of(&s.db, p.id).await, vec![u.id]);
    for (who, cookie, status) in [
        ("a visitor", None, StatusCode::NOT_FOUND),
        (
            "another customer",
            Some(s.casey.as_str()),
            StatusCode::NOT_FOUND,
        ),
        ("staff", Some(s.sam.as_str()), StatusCode::OK),
        ("a moderator", Some(s.moderator.as_str()), StatusCode::OK),
        ("the uploader", Some(cookie.as_str()), StatusCode::OK),
    ] {
        assert_eq!(status_of(&s.app, &u.url, cookie).await, status, "{who}");
    }

    // A spammer removed: their files answer "not found" to everyone at once.
    let (spammer, spam_cookie) = new_member(&s.app, &s.db, "spamalot", None).await;
    let mut row: user::ActiveModel = spammer.clone().into();
    row.trust_level = Set(1);
    row.update(&s.db).await.unwrap();
    let spam = upload_ok(&s.app, &spam_cookie, "watches.png", &png(60, 60, 14, true)).await;
    let unused = upload_ok(&s.app, &spam_cookie, "more.pdf", PDF).await;
    reply(&s, &spam_cookie, &spam.markdown).await;
    assert_eq!(status_of(&s.app, &spam.url, None).await, StatusCode::OK);
    let res = post_form(
        &s.app,
        "/api/remove_spammer",
        &[
            ("user_id", &spammer.id.to_string()),
            ("reason", "Spam"),
            ("confirmed", "yes"),
        ],
        Some(&s.moderator),
        "/admin/review",
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    for url in [&spam.url, &unused.url] {
        for cookie in [None, Some(s.moderator.as_str()), Some(s.sam.as_str())] {
            assert_eq!(
                status_of(&s.app, url, cookie).await,
                StatusCode::NOT_FOUND,
                "{url}"
            );
        }
    }
    assert_eq!(
        upload::Entity::find()
            .filter(upload::Column::UserId.eq(spammer.id))
            .count(&s.db)
            .await
            .unwrap(),
        0
    );
}

// ---------------------------------------------------------------------------------------------
// The composer without JavaScript

/// The composer's form posted with files, as a browser without JavaScript sends it.
async fn compose(
    s: &Site,
    cookie: &str,
    body: &str,
    files: &[(&str, &[u8])],
    attach: bool,
) -> Reply {
    let token = form_token_on(&s.app, &s.path, Some(cookie)).await;
    let topic_id = s.topic_id.to_string();
    let mut parts = vec![
        Part::Text("topic_id", &topic_id),
        Part::Text("body", body),
        Part::Text("form_token", &token),
    ];
    for (name, bytes) in files {
        parts.push(Part::File("files", name, bytes));
    }
    if attach {
        parts.push(Part::Text("attach", "1"));
    }
    send(
        &s.app,
        multipart_request("/api/reply", &parts, Some(cookie), "text/html", &s.path),
    )
    .await
}

#[tokio::test]
async fn the_composer_takes_files_without_javascript() {
    let s = site().await;
    let posts = || async { post::Entity::find().count(&s.db).await.unwrap() };

    // "Upload": nothing posted; the text comes back with the file's Markdown and a preview.
    let before = posts().await;
    let res = compose(
        &s,
        &s.casey,
        "It breaks here:",
        &[("step one.png", &png(60, 40, 15, false))],
        true,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let to = res.location.clone().unwrap();
    assert!(
        to.starts_with(&s.path) && to.ends_with("#composer") && !to.contains("__err"),
        "{to}"
    );
    assert_eq!(posts().await, before);
    let u = upload::Entity::find().one(&s.db).await.unwrap().unwrap();
    let markdown = format!("![step one](/uploads/{}/step-one.png)", u.id);
    let page = follow(&s.app, &res, Some(&s.casey)).await;
    assert!(
        page.body
            .contains(&format!("It breaks here:\n\n{markdown}")),
        "the draft keeps the text and the file"
    );
    assert!(
        page.body.contains(&format!(
            "<img src=\"/uploads/{}/step-one.png\" alt=\"step one\"",
            u.id
        )),
        "and previews it"
    );

    // Posting: the file's Markdown is added to the text and the post uses the file.
    let res = compose(
        &s,
        &s.casey,
        "Here is the second step.",
        &[("step two.png", &png(60, 40, 16, false))],
        false,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(
        !res.location.clone().unwrap().contains("__err"),
        "{:?}",
        res.location
    );
    let p = latest_post(&s.db).await;
    let second = upload::Entity::find()
        .order_by_desc(upload::Column::Id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p.source,
        format!(
            "Here is the second step.\n\n![step two](/uploads/{}/step-two.png)",
            second.id
        )
    );
    assert_eq!(links_of(&s.db, p.id).await, vec![second.id]);
    assert_eq!(
        status_of(&s.app, &uploads::url_of(second.id, "step two.png"), None).await,
        StatusCode::OK
    );

    // A bad file: nothing posted, the reason shown, the text (with the good file) kept.
    let before = (posts().await, counts(&s.db).await.0);
    let res = compose(
        &s,
        &s.casey,
        "Third try.",
        &[
            ("fine.png", &png(30, 30, 17, false)),
            ("setup.exe", b"MZ\x90\0\x03\0\0\0"),
        ],
        false,
    )
    .await;
    assert!(
        res.location.clone().unwrap().contains("__err"),
        "{:?}",
        res.location
    );
    assert_eq!(posts().await, before.0);
    assert_eq!(
        counts(&s.db).await.0,
        before.1 + 1,
        "the good file was taken"
    );
    let page = follow(&s.app, &res, Some(&s.casey)).await;
    assert!(
        page.body.contains("is a program this site"),
        "the reason is shown"
    );
    let fine = upload::Entity::find()
        .order_by_desc(upload::Column::Id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        page.body.contains(&format!(
            "Third try.\n\n![fine](/uploads/{}/fine.png)",
            fine.id
        )),
        "the text is kept"
    );

    // A file over 2 MB (the site takes 10 MB): the composer takes it like the upload endpoint.
    let big = text(3 * 1024 * 1024, 4);
    let res = compose(&s, &s.casey, "The whole log.", &[("big.log", &big)], false).await;
    assert!(
        res.status.is_redirection() && !res.location.clone().unwrap().contains("__err"),
        "{} {:?} {}",
        res.status,
        res.location,
        res.body
    );
    let p = latest_post(&s.db).await;
    assert!(
        p.source
            .starts_with("The whole log.\n\n[big.log (3 MB)](/uploads/"),
        "{}",
        p.source
    );
}

// ---------------------------------------------------------------------------------------------
// The image proxy

/// A local server the test's proxy policy allows, with an image, redirects to addresses it does
/// not allow (`elsewhere`, the cloud metadata address), and a page that is no image.
async fn image_server(
    listener: tokio::net::TcpListener,
    image: Vec<u8>,
    elsewhere: String,
) -> std::net::SocketAddr {
    use axum::{response::Redirect, routing::get};
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/a.png",
            get(move || async move { ([(header::CONTENT_TYPE, "image/png")], image.clone()) }),
        )
        .route(
            "/metadata.png",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        )
        .route(
            "/elsewhere.png",
            get(move || async move { Redirect::temporary(&elsewhere) }),
        )
        .route(
            "/page.png",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<html>hi</html>") }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn the_image_proxy_fetches_only_what_a_post_showed_from_allowed_addresses() {
    let s = site().await;
    // A second server, not allowed: the one a redirect tries to reach.
    let local = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() };
    let forbidden = image_server(local().await, png(10, 10, 18, false), String::new()).await;
    let original = polyglot(19);
    let allowed = image_server(
        local().await,
        original.clone(),
        format!("http://{forbidden}/a.png"),
    )
    .await;
    uploads::proxy::set_test_policy(media::fetch::FetchPolicy {
        allow: vec![allowed],
        ..Default::default()
    })
    .unwrap();
    let base = format!("http://{allowed}");

    // A post's image from another site is shown through the proxy.
    reply(
        &s,
        &s.casey,
        &format!("Like this: ![chart]({base}/a.png) and ![far](https://example.com/a.png)"),
    )
    .await;
    let page = get(&s.app, &s.path, None).await;
    assert!(
        !page.body.contains(&format!("src=\"{base}")),
        "the browser never asks the other site"
    );
    assert!(!page.body.contains("src=\"https://example.com"));
    let proxied: Vec<&str> = page
        .body
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|src| src.starts_with(uploads::proxy::PREFIX))
        .collect();
    assert_eq!(proxied.len(), 2, "{proxied:?}");
    let got = fetch(&s.app, proxied[0], None, &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), "image/png");
    assert!(got.header("content-security-policy").contains("sandbox"));
    assert_ne!(&got.body[..], &original[..], "re-encoded");
    let served = String::from_utf8_lossy(&got.body).to_ascii_lowercase();
    assert!(!served.contains("<script") && !served.contains("<html"));
    let img = image::load_from_memory(&got.body).unwrap();
    assert_eq!((img.width(), img.height()), (120, 90));
    let row = proxied_image::Entity::find()
        .filter(proxied_image::Column::Url.eq(format!("{base}/a.png")))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.file_hash.is_some() && row.error.is_empty());
    // Asked again: the kept copy (same bytes), not a second fetch.
    assert_eq!(fetch(&s.app, proxied[0], None, &[]).await.body, got.body);

    // A forged signature, or a signature moved to another address: not found, nothing fetched.
    let rest = proxied[0].strip_prefix(uploads::proxy::PREFIX).unwrap();
    let (sig, encoded) = rest.split_once('/').unwrap();
    let mut forged = sig.to_string();
    let last = if forged.ends_with('0') { "1" } else { "0" };
    forged.replace_range(forged.len() - 1.., last);
    let key = uploads::proxy::key(&s.db).await.unwrap();
    let elsewhere = uploads::proxy::url_for(&key, &format!("http://{forbidden}/a.png"));
    let other = elsewhere.rsplit('/').next().unwrap();
    let rows = proxied_image::Entity::find().count(&s.db).await.unwrap();
    for path in [
        format!("{}{forged}/{encoded}", uploads::proxy::PREFIX),
        format!("{}{sig}/{other}", uploads::proxy::PREFIX),
        format!("{}{sig}/!!!", uploads::proxy::PREFIX),
    ] {
        assert_eq!(
            status_of(&s.app, &path, None).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        proxied_image::Entity::find().count(&s.db).await.unwrap(),
        rows
    );

    // Signed, but leading where the proxy may not go: not found, and why is kept for admins.
    for (path, why) in [
        ("/metadata.png", "169.254.169.254"),
        ("/elsewhere.png", "127.0.0.1"),
        ("/page.png", "not an image"),
    ] {
        let url = format!("{base}{path}");
        let proxy_path = uploads::proxy::url_for(&key, &url);
        assert_eq!(
            status_of(&s.app, &proxy_path, None).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let row = proxied_image::Entity::find()
            .filter(proxied_image::Column::Url.eq(url.clone()))
            .one(&s.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{path}: no error recorded"));
        assert!(row.file_hash.is_none());
        assert!(row.error.contains(why), "{path}: {}", row.error);
    }
    // An address that is not allowed at all, signed: refused before any connection.
    let direct = uploads::proxy::url_for(&key, &format!("http://{forbidden}/a.png"));
    assert_eq!(
        status_of(&s.app, &direct, None).await,
        StatusCode::NOT_FOUND
    );

    // The admins' "link" setting: images from other sites become plain links.
    put(&s.db, "external_images", "link").await;
    reply(
        &s,
        &s.casey,
        "Linked: ![diagram](https://example.com/diagram.png)",
    )
    .await;
    let page = get(&s.app, &s.path, None).await;
    assert!(
        page.body
            .contains("<a href=\"https://example.com/diagram.png\""),
        "a link"
    );
    assert!(!page.body.contains("alt=\"diagram\""), "not an image");

    // A redirect to a host name that resolves to a local address: refused when the name is
    // looked up (the client connects only to addresses that were checked). Here the allowed
    // server is on 127.0.0.2, so that 127.0.0.1, the name's address, is not allowed.
    let Some(name) = loopback_name().await else {
        eprintln!("skipping the host-name case: no name in /etc/hosts resolves to 127.0.0.1 only");
        return;
    };
    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.2:0").await else {
        eprintln!("skipping the host-name case: 127.0.0.2 cannot be bound here");
        return;
    };
    let second = image_server(
        listener,
        png(20, 20, 20, false),
        format!("http://{name}:{}/a.png", forbidden.port()),
    )
    .await;
    uploads::proxy::set_test_policy(media::fetch::FetchPolicy {
        allow: vec![second],
        ..Default::default()
    })
    .unwrap();
    let fine = uploads::proxy::url_for(&key, &format!("http://{second}/a.png"));
    assert_eq!(
        status_of(&s.app, &fine, None).await,
        StatusCode::OK,
        "the control"
    );
    let url = format!("http://{second}/elsewhere.png");
    let by_name = uploads::proxy::url_for(&key, &url);
    assert_eq!(
        status_of(&s.app, &by_name, None).await,
        StatusCode::NOT_FOUND
    );
    let row = proxied_image::Entity::find()
        .filter(proxied_image::Column::Url.eq(url))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.error.contains("not a public address") && row.error.contains(&name),
        "{}",
        row.error
    );
}

/// A name from /etc/hosts (not "localhost", which the fetcher refuses by name) that resolves to
/// 127.0.0.1 and nothing else.
async fn loopback_name() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    for line in hosts.lines() {
        let mut words = line.split('#').next()?.split_whitespace();
        if words.next() != Some("127.0.0.1") {
            continue;
        }
        for name in words {
            let lower = name.to_ascii_lowercase();
            if lower == "localhost" || lower.ends_with(".localhost") {
                continue;
            }
            let Ok(found) = tokio::net::lookup_host((name, 80)).await else {
                continue;
            };
            let found: Vec<_> = found.map(|a| a.ip()).collect();
            if !found.is_empty() && found.iter().all(|ip| ip.to_string() == "127.0.0.1") {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// `upload_error` is the router's word that a file sent with the composer was refused (it takes
/// the files out of a multipart form). Sent in a form of its own (urlencoded, to the reply, the
/// new topic or the article editor), it was shown back as the form's error, whatever it said;
/// now it is ignored, and the reply is posted as written (found by an outside tester).
#[tokio::test]
async fn an_upload_error_the_form_sends_itself_is_not_shown_back() {
    let s = site().await;
    let said = "Your account is locked. Call +1 555 0100. <img src=x onerror=alert(1)>";
    let before = post::Entity::find().count(&s.db).await.unwrap();
    let token = form_token_on(&s.app, &s.path, Some(&s.casey)).await;
    let topic_id = s.topic_id.to_string();
    let fields = [
        ("topic_id", topic_id.as_str()),
        ("body", "Still blank on Safari 18.1 here."),
        ("form_token", token.as_str()),
        ("upload_error", said),
    ];
    let res = post_form(&s.app, "/api/reply", &fields, Some(&s.casey), &s.path).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let to = res.location.clone().unwrap();
    assert!(!to.contains("__err"), "{to}");
    assert_eq!(post::Entity::find().count(&s.db).await.unwrap(), before + 1);
    let page = follow(&s.app, &res, Some(&s.casey)).await;
    assert!(!page.body.contains("locked"), "the text is not shown");
    // A script client gets no error either.
    let token = form_token_on(&s.app, &s.path, Some(&s.casey)).await;
    let fields = [
        ("topic_id", topic_id.as_str()),
        ("body", "And on the iPad too."),
        ("form_token", token.as_str()),
        ("upload_error", said),
    ];
    let res = post_fetch(&s.app, "/api/reply", &fields, Some(&s.casey)).await;
    assert!(res.status.is_success(), "{}: {}", res.status, res.body);
    assert!(!res.body.contains("locked"), "{}", res.body);
    assert_eq!(post::Entity::find().count(&s.db).await.unwrap(), before + 2);
}
