//! The company's brand: its name on every page, e-mail and feed; its accent colour as a palette
//! with contrast kept; its logos and favicon, by address or uploaded by an admin.
use crate::common::*;
use crate::uploads_http::{Part, multipart_request, png};
use axum::http::StatusCode;
use scraper::{Html, Selector};

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

fn text(el: &scraper::ElementRef) -> String {
    el.text().collect::<String>().trim().to_string()
}

async fn save_site_name(app: &axum::Router, admin: &str, name: &str) {
    let res = post_form(
        app,
        "/api/save_site_settings",
        &[
            ("site_name", name),
            ("tagline", "We answer here."),
            ("welcome_message", "Hi"),
            ("signup_mode", "open"),
            ("accountability_public", "on"),
            ("moderation_log_public", "on"),
            ("search_engines_index", "on"),
            ("roadmap_public", "on"),
        ],
        Some(admin),
        "/admin/settings",
    )
    .await;
    assert!(res.status.is_redirection(), "{}", res.body);
}

async fn save_brand(app: &axum::Router, admin: &str, fields: &[(&str, &str)]) -> Reply {
    let mut all = vec![
        ("accent_colour", "#2f5f91"),
        ("logo_light", ""),
        ("logo_dark", ""),
        ("favicon", ""),
    ];
    for (k, v) in fields {
        all.retain(|(key, _)| key != k);
        all.push((k, v));
    }
    post_form(
        app,
        "/api/save_brand_settings",
        &all,
        Some(admin),
        "/admin/settings",
    )
    .await
}

/// After a rename, the old name is nowhere: titles, header, footer, feeds; the new name is text
/// (a name with markup in it stays text).
#[tokio::test]
async fn the_site_name_is_used_everywhere_after_a_rename() {
    let m = demo_members().await;
    save_site_name(&m.app, &m.admin, "Acme <b>Help</b> & Co").await;
    for path in [
        "/",
        "/c/questions",
        "/t/1",
        "/blog",
        "/accountability",
        "/login",
    ] {
        let mut page = get(&m.app, path, None).await;
        if page.status.is_redirection() {
            page = follow(&m.app, &page, None).await;
        }
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let doc = Html::parse_document(&page.body);
        let title = text(select(&doc, "title").first().expect(path));
        assert!(
            title.ends_with("Acme <b>Help</b> & Co"),
            "{path}: the title ends with the name, as text: {title:?}"
        );
        assert!(!title.contains("Backyard"), "{path}: {title}");
        let brand = text(&select(&doc, "header .brand")[0]);
        assert_eq!(brand, "Acme <b>Help</b> & Co", "{path}");
        let footer = text(&select(&doc, "footer.site-footer")[0]);
        assert!(footer.contains("Acme <b>Help</b> & Co"), "{path}: {footer}");
        assert!(!page.body.contains("Powered by Backyard"), "{path}");
        assert!(
            select(&doc, "b").iter().all(|b| text(b) != "Help"),
            "{path}: markup"
        );
    }
    let home = Html::parse_document(&get(&m.app, "/", None).await.body);
    let title = text(&select(&home, "title")[0]);
    assert_eq!(title, "Community · Acme <b>Help</b> & Co");
    let feed = get(&m.app, "/blog/feed.xml", None).await;
    assert!(
        feed.body
            .contains("Acme &lt;b&gt;Help&lt;/b&gt; &amp; Co blog"),
        "{}",
        feed.body
    );
}

/// An accent colour becomes the theme stylesheet's palette (a pale yellow is darkened for light
/// pages), linked by a new version; a colour that is not one is refused beside its field and
/// changes nothing.
#[tokio::test]
async fn an_accent_colour_becomes_a_readable_palette() {
    let m = demo_members().await;
    let linked = |body: &str| {
        let start = body
            .find("/theme.css?v=")
            .expect("the page links the theme");
        let end = start + body[start..].find('"').unwrap();
        body[start..end].to_string()
    };
    let before = linked(&get(&m.app, "/", None).await.body);
    let default_css = get(&m.app, &before, None).await.body;
    assert!(
        !default_css.contains("--accent:"),
        "the default palette is main.css's own"
    );

    let res = save_brand(&m.app, &m.admin, &[("accent_colour", "#FFE066")]).await;
    assert!(res.status.is_redirection(), "{}", res.body);
    let page = get(&m.app, "/", None).await;
    let after = linked(&page.body);
    assert_ne!(before, after, "a new version is linked");
    let css = get(&m.app, &after, None).await.body;
    let light = css.split("--accent: ").nth(1).unwrap()[..7].to_string();
    let dark = css.split("--accent: ").nth(2).unwrap()[..7].to_string();
    use app::server::theme::{Rgb, contrast};
    let white = Rgb(255, 255, 255);
    let dark_surface = Rgb(0x17, 0x1b, 0x21);
    assert!(
        contrast(Rgb::parse(&light).unwrap(), white) >= 4.5,
        "{light}"
    );
    assert!(
        contrast(Rgb::parse(&dark).unwrap(), dark_surface) >= 4.5,
        "{dark}"
    );
    let doc = Html::parse_document(&page.body);
    let theme_colour = select(&doc, r#"meta[name="theme-color"]"#)[0]
        .attr("content")
        .unwrap()
        .to_string();
    assert_eq!(theme_colour, light);

    for bad in ["yellow", "#ffe06", "#ffe066;}body{display:none"] {
        let stored = table_rows(&m.db, &[], &["sessions"]).await;
        let res = save_brand(&m.app, &m.admin, &[("accent_colour", bad)]).await;
        let page = follow(&m.app, &res, Some(&m.admin)).await;
        assert!(
            page.body
                .contains("Give the accent colour as a hex colour such as #2f5f91."),
            "{bad}: {}",
            page.status
        );
        assert_eq!(
            stored,
            table_rows(&m.db, &[], &["sessions"]).await,
            "{bad}: nothing written"
        );
    }
    assert_refused(
        &m.app,
        "/api/save_brand_settings",
        &[
            ("accent_colour", "#000000"),
            ("logo_light", ""),
            ("logo_dark", ""),
            ("favicon", ""),
        ],
        "a staff member",
        Some(&m.sam),
        "admin",
    )
    .await;
}

/// A logo by address is shown through the image proxy, named by the site's name, with its
/// dark-mode variant; an address that could climb out of the uploads or end the attribute is
/// refused.
#[tokio::test]
async fn logos_by_address_show_through_this_site() {
    let m = demo_members().await;
    let res = save_brand(
        &m.app,
        &m.admin,
        &[
            ("logo_light", "https://cdn.example.com/logo.png"),
            ("logo_dark", "https://cdn.example.com/logo-dark.png"),
            ("favicon", "https://cdn.example.com/icon.png"),
        ],
    )
    .await;
    assert!(res.status.is_redirection(), "{}", res.body);
    let doc = Html::parse_document(&get(&m.app, "/", None).await.body);
    let img = select(&doc, "header .brand picture img")[0];
    assert!(img.attr("src").unwrap().starts_with("/images/proxy/"));
    assert_eq!(img.attr("alt"), Some("Backyard"));
    let source = select(&doc, "header .brand picture source")[0];
    assert_eq!(source.attr("media"), Some("(prefers-color-scheme: dark)"));
    assert!(source.attr("srcset").unwrap().starts_with("/images/proxy/"));
    let icon = select(&doc, r#"link[rel="icon"]"#);
    assert_eq!(icon.len(), 1);
    assert!(icon[0].attr("href").unwrap().starts_with("/images/proxy/"));

    for bad in [
        "/uploads/1/../../admin",
        "javascript:alert(1)",
        "https://x.example/\"onerror=\"alert(1)",
    ] {
        let res = save_brand(&m.app, &m.admin, &[("logo_light", bad)]).await;
        let page = follow(&m.app, &res, Some(&m.admin)).await;
        assert!(
            page.body
                .contains("Give the logo as an upload on this site"),
            "{bad}"
        );
    }
}

/// An admin uploads a logo from /admin/settings without JavaScript: kept, set, shown to
/// visitors. Anyone else, or a setting that is not an image of the brand, stores nothing.
#[tokio::test]
async fn an_admin_uploads_the_logo_and_nobody_else_can() {
    let m = demo_members().await;
    let image = png(240, 80, 7, false);
    let parts = |setting: &'static str| {
        vec![
            Part::Text("purpose", "brand"),
            Part::Text("setting", setting),
            Part::File("file", "logo.png", &image),
        ]
    };
    for (who, cookie, setting) in [
        ("a customer", Some(m.casey.as_str()), "logo_light"),
        ("a staff member", Some(m.sam.as_str()), "logo_light"),
        (
            "the admin, naming another setting",
            Some(m.admin.as_str()),
            "site_name",
        ),
    ] {
        let stored = table_rows(&m.db, &[], &["sessions"]).await;
        let res = send(
            &m.app,
            multipart_request(
                "/uploads",
                &parts(setting),
                cookie,
                "text/html",
                "/admin/settings",
            ),
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{who}");
        assert!(
            res.location
                .as_deref()
                .unwrap()
                .starts_with("/admin/settings?"),
            "{who}: back with why"
        );
        assert_eq!(
            stored,
            table_rows(&m.db, &[], &["sessions"]).await,
            "{who}: nothing written"
        );
    }
    let res = send(
        &m.app,
        multipart_request(
            "/uploads",
            &parts("logo_light"),
            Some(&m.admin),
            "text/html",
            "/admin/settings",
        ),
    )
    .await;
    assert_eq!(
        res.location.as_deref(),
        Some("/admin/settings?brand=saved#brand")
    );
    let settings_page = follow(&m.app, &res, Some(&m.admin)).await;
    assert!(settings_page.body.contains("Image uploaded and set."));
    let doc = Html::parse_document(&get(&m.app, "/", None).await.body);
    let src = select(&doc, "header .brand img")[0]
        .attr("src")
        .unwrap()
        .to_string();
    assert!(src.starts_with("/uploads/"), "{src}");
    let file = get(&m.app, &src, None).await;
    assert_eq!(file.status, StatusCode::OK, "visitors see the logo");
}

/// A site name goes into page titles and the sender of every e-mail: a line break (a header of
/// its own in mail) or a direction override is refused, and nothing is written.
#[tokio::test]
async fn a_site_name_holds_no_line_breaks_or_overrides() {
    let m = demo_members().await;
    for bad in [
        "Acme\r\nBcc: everyone@example.com",
        "Acme\u{202e}",
        "Acme\u{1}",
    ] {
        let stored = table_rows(&m.db, &[], &["sessions"]).await;
        let res = post_fetch(
            &m.app,
            "/api/save_site_settings",
            &[
                ("site_name", bad),
                ("tagline", "x"),
                ("welcome_message", "x"),
                ("signup_mode", "open"),
            ],
            Some(&m.admin),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(res.body.contains("can't hold line breaks"), "{}", res.body);
        assert_eq!(
            stored,
            table_rows(&m.db, &[], &["sessions"]).await,
            "{bad:?}"
        );
    }
}

/// The footer links the accountability page only while it is public.
#[tokio::test]
async fn the_footer_links_accountability_only_while_it_is_public() {
    let m = demo_members().await;
    let footer_links = |body: &str| {
        let doc = Html::parse_document(body);
        select(&doc, "footer.site-footer a")
            .iter()
            .filter_map(|a| a.attr("href").map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert!(footer_links(&get(&m.app, "/", None).await.body).contains(&"/accountability".into()));
    // Saved without the box ticked: the page is off.
    let res = post_form(
        &m.app,
        "/api/save_site_settings",
        &[
            ("site_name", "Acme"),
            ("tagline", "x"),
            ("welcome_message", "x"),
            ("signup_mode", "open"),
        ],
        Some(&m.admin),
        "/admin/settings",
    )
    .await;
    assert!(res.status.is_redirection());
    assert!(!footer_links(&get(&m.app, "/", None).await.body).contains(&"/accountability".into()));
}
