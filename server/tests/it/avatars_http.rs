//! Avatars through the real router (issue 18, point 6): the /account form without JavaScript
//! (303 back, the avatar set, a refusal shown next to the field), the picture beside a
//! member's posts, in lists and on their page, initials for everyone else, removing it, and
//! what their uploads take, for admins only.
use crate::common::*;
use app::{
    components::avatar::hue_of,
    server::entity::{topic, upload, user},
};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const BOUNDARY: &str = "----avatarboundary7MA4YWxkTrZu0gW";

/// A `width` x `height` PNG of one colour (8-bit RGB), written out by hand: the test needs a
/// real image, and the codecs are the media crate's business.
fn png(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0); // no filter
        for x in 0..width {
            raw.extend_from_slice(&[200, (x % 256) as u8, 40]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&raw).unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The avatar form as a browser sends it: multipart, `purpose=avatar` and one file.
fn avatar_form(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\navatar\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts the avatar form to /uploads, asking for `accept` (a browser's page, or the script's
/// JSON).
async fn post_avatar(
    app: &axum::Router,
    cookie: Option<&str>,
    name: &str,
    bytes: &[u8],
    accept: &str,
) -> Reply {
    let mut req = Request::post("/uploads")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::ACCEPT, accept)
        .header(header::REFERER, format!("{ORIGIN}/account"))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::from(avatar_form(name, bytes))).unwrap()).await
}

const PAGE: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn member(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// The demo's idea: Casey's opening post, Sam's reply, Casey again.
async fn csv_idea(db: &DatabaseConnection) -> String {
    let t = topic::Entity::find()
        .filter(topic::Column::Title.eq("Export to CSV would save me an hour a week"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    format!("/t/{}/{}", t.id, t.slug)
}

/// An avatar as a page has it: the element's name, its attributes, its text.
#[derive(Debug)]
struct Shown {
    tag: String,
    attrs: std::collections::BTreeMap<String, String>,
    text: String,
}

impl Shown {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// The avatars inside the elements `scope` selects (a CSS selector) on `page`.
fn avatars(page: &str, scope: &str) -> Vec<Shown> {
    let doc = scraper::Html::parse_document(page);
    let selector = scraper::Selector::parse(&format!("{scope} .avatar")).unwrap();
    doc.select(&selector)
        .map(|e| Shown {
            tag: e.value().name().to_string(),
            attrs: e
                .value()
                .attrs()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            text: e.text().collect(),
        })
        .collect()
}

/// The one avatar in `scope`.
fn avatar(page: &str, scope: &str) -> Shown {
    let mut found = avatars(page, scope);
    assert_eq!(found.len(), 1, "avatars in {scope}: {found:?}");
    found.remove(0)
}

/// Initials, on the colour of `username`.
fn assert_initials(shown: &Shown, letters: &str, username: &str, size: &str) {
    assert_eq!(shown.tag, "span", "{shown:?}");
    assert_eq!(shown.text, letters, "{shown:?}");
    assert_eq!(
        shown.attr("class"),
        Some(format!("avatar avatar-{size} avatar-hue-{}", hue_of(username)).as_str())
    );
    assert_eq!(shown.attr("aria-hidden"), Some("true"));
}

/// The picture of upload `id`: `src` the stored size for one pixel per pixel, `srcset` the one
/// for two, decorative (`alt=""`), sized, and loaded only when near the screen.
fn assert_picture(shown: &Shown, id: i64, size: &str, px: u32, one: u32, two: Option<u32>) {
    assert_eq!(shown.tag, "img", "{shown:?}");
    assert_eq!(
        shown.attr("class"),
        Some(format!("avatar avatar-{size}").as_str())
    );
    assert_eq!(
        shown.attr("src"),
        Some(format!("/uploads/{id}/avatar/{one}").as_str())
    );
    let srcset =
        two.map(|two| format!("/uploads/{id}/avatar/{one} 1x, /uploads/{id}/avatar/{two} 2x"));
    assert_eq!(shown.attr("srcset"), srcset.as_deref());
    assert_eq!(shown.attr("alt"), Some(""));
    assert_eq!(shown.attr("width"), Some(px.to_string().as_str()));
    assert_eq!(shown.attr("height"), Some(px.to_string().as_str()));
    assert_eq!(shown.attr("loading"), Some("lazy"));
}

#[tokio::test]
async fn the_account_form_sets_an_avatar_without_javascript_and_pages_show_it() {
    let d = demo_members().await;
    let casey = member(&d.db, "casey").await;
    assert_eq!(casey.avatar_upload_id, None);

    // Before: initials everywhere, on the colour of the username.
    let topic_path = csv_idea(&d.db).await;
    let before = get(&d.app, &topic_path, None).await;
    assert_initials(&avatar(&before.body, "#post-1"), "C", "casey", "m");

    let res = post_avatar(&d.app, Some(&d.casey), "me.png", &png(120, 80), PAGE).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some("/account?avatar=saved#avatar")
    );
    let id = member(&d.db, "casey")
        .await
        .avatar_upload_id
        .expect("the avatar is set");
    let row = upload::Entity::find_by_id(id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.user_id, row.purpose.as_str()), (casey.id, "avatar"));

    // The page it comes back to says so and shows the new picture.
    let account = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(
        account.body.contains("Your new avatar is saved."),
        "{}",
        account.body
    );
    assert_picture(
        &avatar(&account.body, ".avatar-current"),
        id,
        "l",
        96,
        96,
        Some(240),
    );
    assert!(account.body.contains(">Remove avatar</button>"));

    // Beside her posts, for everyone; Sam has none and keeps his initials.
    let page = get(&d.app, &topic_path, None).await;
    assert_picture(&avatar(&page.body, "#post-1"), id, "m", 44, 48, Some(96));
    assert_picture(&avatar(&page.body, "#post-3"), id, "m", 44, 48, Some(96));
    assert_initials(&avatar(&page.body, "#post-2"), "S", "sam", "m");

    // In the category's list, in search results, and on her page.
    let list = get(&d.app, "/c/product-feedback", None).await;
    let pictures: Vec<Shown> = avatars(&list.body, ".topic-list")
        .into_iter()
        .filter(|a| a.tag == "img")
        .collect();
    assert!(!pictures.is_empty(), "{}", list.body);
    for shown in &pictures {
        assert_picture(shown, id, "s", 24, 48, None);
    }
    let found = get(&d.app, "/search?q=spreadsheet", None).await;
    assert_picture(&avatar(&found.body, ".search-hit"), id, "s", 24, 48, None);
    let profile = get(&d.app, "/u/casey", None).await;
    assert_picture(
        &avatar(&profile.body, ".profile-header"),
        id,
        "l",
        96,
        96,
        Some(240),
    );

    // Each size is there for anyone, as a square WebP.
    for size in [48, 96, 240] {
        let img = get(&d.app, &format!("/uploads/{id}/avatar/{size}"), None).await;
        assert_eq!(img.status, StatusCode::OK, "size {size}");
        assert_eq!(img.header("content-type"), Some("image/webp"));
    }

    // A new picture replaces the old one, whose address is gone.
    let res = post_avatar(&d.app, Some(&d.casey), "again.png", &png(64, 64), PAGE).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let new_id = member(&d.db, "casey").await.avatar_upload_id.unwrap();
    assert_ne!(new_id, id);
    let old = get(&d.app, &format!("/uploads/{id}/avatar/48"), None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);

    // Removing it (a plain form too): initials again, and its address answers "not found".
    let res = post_form(
        &d.app,
        "/api/remove_avatar",
        &[],
        Some(&d.casey),
        "/account",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some("/account?avatar=removed#avatar")
    );
    assert_eq!(member(&d.db, "casey").await.avatar_upload_id, None);
    let account = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(account.body.contains("Your avatar is removed."));
    assert!(!account.body.contains(">Remove avatar</button>"));
    let gone = get(&d.app, &format!("/uploads/{new_id}/avatar/48"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let page = get(&d.app, &topic_path, None).await;
    assert_initials(&avatar(&page.body, "#post-1"), "C", "casey", "m");
    assert_eq!(
        upload::Entity::find()
            .filter(upload::Column::UserId.eq(casey.id))
            .count(&d.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_avatar_that_is_not_an_image_is_refused_with_its_message() {
    let d = demo_members().await;
    const MESSAGE: &str = "An avatar must be a PNG, JPEG, GIF or WebP image.";

    // Without JavaScript: back to the form, the reason next to the file field.
    let res = post_avatar(
        &d.app,
        Some(&d.casey),
        "notes.txt",
        b"just some text\n",
        PAGE,
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let location = res.location.clone().unwrap();
    assert!(
        location.starts_with("/account?") && location.ends_with("#avatar"),
        "{location}"
    );
    assert!(
        location.contains("__sig="),
        "the error is signed for this browser: {location}"
    );
    let account = follow(&d.app, &res, Some(&d.casey)).await;
    let field = account
        .body
        .find(r#"id="field-avatar-error""#)
        .map(|i| &account.body[i..i + 200])
        .expect("the file field's error");
    assert!(field.contains(MESSAGE), "{field}");
    assert!(account.body.contains(r#"aria-invalid="true""#));

    // The same address opened by another browser shows no error: it was not signed for it.
    let elsewhere = get(&d.app, location.split('#').next().unwrap(), Some(&d.sam)).await;
    assert!(!elsewhere.body.contains(MESSAGE));

    // The composer's script gets JSON, as before.
    let res = post_avatar(
        &d.app,
        Some(&d.casey),
        "notes.txt",
        b"just some text\n",
        "application/json",
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(res.body.contains(MESSAGE), "{}", res.body);

    // Nothing was kept.
    assert_eq!(member(&d.db, "casey").await.avatar_upload_id, None);
    assert_eq!(upload::Entity::find().count(&d.db).await.unwrap(), 0);

    // A visitor's form is sent to log in, and comes back to the account page.
    let res = post_avatar(&d.app, None, "me.png", &png(8, 8), PAGE).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location.as_deref(), Some("/login?next=/account"));
}

#[tokio::test]
async fn admins_alone_see_what_a_members_uploads_take() {
    let d = demo_members().await;
    let res = post_avatar(&d.app, Some(&d.casey), "me.png", &png(50, 50), PAGE).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let size = upload::Entity::find()
        .one(&d.db)
        .await
        .unwrap()
        .unwrap()
        .received_size;

    let admin = get(&d.app, "/u/casey", Some(&d.admin)).await;
    let expected = format!("Uploads: 1 file, {size} bytes");
    assert!(
        admin.body.contains(&expected),
        "{expected} not in {}",
        admin.body
    );
    let none = get(&d.app, "/u/sam", Some(&d.admin)).await;
    assert!(none.body.contains("Uploads: 0 files, 0 bytes"));

    for (who, cookie) in [
        ("the member", Some(d.casey.as_str())),
        ("staff", Some(d.sam.as_str())),
        ("a visitor", None),
    ] {
        let page = get(&d.app, "/u/casey", cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("Uploads:"), "{who} sees the uploads");
    }
}
