//! Form errors reach a page through its URL (`?__err=`) only when this site put them there for
//! this browser: a crafted URL, or a real one opened in another browser, shows no error.
use app::{error::AppError, server::accounts::WRONG_LOGIN};
use leptos::server_fn::error::ServerFnUrlError;

use crate::common::*;

const PHISHING: &str = "Your account is locked. Call +1 555 0100 with your password to unlock it.";

/// The text of the log-in form's error region.
fn form_error(page: &Reply) -> String {
    let html = scraper::Html::parse_document(&page.body);
    let region = scraper::Selector::parse("div.form-error").unwrap();
    html.select(&region)
        .map(|e| e.text().collect::<String>())
        .collect::<Vec<_>>()
        .join("|")
}

fn body_text(page: &Reply) -> String {
    let html = scraper::Html::parse_document(&page.body);
    html.root_element().text().collect()
}

/// `name=value` of the cross-site token cookie a reply set.
fn token_cookie(reply: &Reply) -> Option<String> {
    reply
        .set_cookie
        .iter()
        .find(|c| c.starts_with("backyard_csrf="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// A browser that has opened the log-in page: its cookies.
async fn browser(app: &axum::Router) -> String {
    let page = get(app, "/login", None).await;
    token_cookie(&page).expect("the log-in page gives a token cookie")
}

fn crafted(sig: Option<&str>) -> String {
    let url = ServerFnUrlError::<AppError>::new("/api/log_in", AppError::invalid("form", PHISHING))
        .to_url(&format!("{ORIGIN}/login"))
        .unwrap();
    let mut path = url.to_string()[ORIGIN.len()..].to_string();
    if let Some(sig) = sig {
        path.push_str(&format!("&__sig={sig}"));
    }
    path
}

#[tokio::test]
async fn a_crafted_error_url_shows_no_error() {
    let (_db, app) = demo_site().await;
    let cookie = browser(&app).await;
    for path in [crafted(None), crafted(Some(&"0".repeat(64)))] {
        for who in [None, Some(cookie.as_str())] {
            let page = get(&app, &path, who).await;
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(form_error(&page).trim(), "", "{path}");
            assert!(!body_text(&page).contains("locked"), "{path}");
            assert!(!page.body.contains("locked"), "{path}");
        }
    }
}

#[tokio::test]
async fn a_real_failed_log_in_shows_its_error_to_its_browser_only() {
    let (_db, app) = demo_site().await;
    // A browser with a token cookie, and one with no cookie at all (it is given one).
    let with_cookie = browser(&app).await;
    for cookie in [Some(with_cookie), None] {
        let res = log_in(&app, "casey", "not-the-password", cookie.as_deref()).await;
        assert_eq!(res.status, 302, "{}", res.body);
        let location = res.location.clone().unwrap();
        assert!(
            location.contains("__err=") && location.contains("__sig="),
            "{location}"
        );
        let cookie = cookie
            .or_else(|| token_cookie(&res))
            .expect("a browser is identified");
        let back = follow(&app, &res, Some(&cookie)).await;
        assert_eq!(form_error(&back).trim(), WRONG_LOGIN, "{location}");

        // The same URL in another browser, and in none, shows nothing.
        let other = browser(&app).await;
        for who in [Some(other.as_str()), None] {
            let page = get(&app, &location[ORIGIN.len()..], who).await;
            assert_eq!(page.status, 200);
            assert_eq!(form_error(&page).trim(), "", "{who:?}");
            assert!(!body_text(&page).contains(WRONG_LOGIN), "{who:?}");
        }
        // Nor for this browser on another page, or with the error changed.
        let tampered = location.replace("__err=", "__err=A");
        let page = get(&app, &tampered[ORIGIN.len()..], Some(&cookie)).await;
        assert_eq!(form_error(&page).trim(), "");
    }
}

#[tokio::test]
async fn a_second_failure_from_an_error_page_carries_only_the_new_error() {
    let (_db, app) = demo_site().await;
    let cookie = browser(&app).await;
    let first = log_in(&app, "casey", "wrong", Some(&cookie)).await;
    let from = first.location.clone().unwrap()[ORIGIN.len()..].to_string();
    let second = post_form(
        &app,
        "/api/log_in",
        &[("login", "casey"), ("password", ""), ("next", "/")],
        Some(&cookie),
        &from,
    )
    .await;
    let location = second.location.clone().unwrap();
    assert_eq!(location.matches("__err=").count(), 1, "{location}");
    assert_eq!(location.matches("__sig=").count(), 1, "{location}");
    let back = follow(&app, &second, Some(&cookie)).await;
    assert!(back.body.contains("Enter your password."), "{location}");
    assert_eq!(form_error(&back).trim(), "");
}

/// A form the server cannot read (a field missing, as on a page opened before an upgrade that
/// added it, or a value of the wrong type) is sent back to its page with a message written for
/// the person, not serde's words with what was typed in them; a script client gets the same
/// message with a 400. Nothing is written.
#[tokio::test]
async fn an_unreadable_form_is_sent_back_with_a_plain_message_and_writes_nothing() {
    use app::{error::FORM_UNREADABLE, server::entity::post};
    use sea_orm::{EntityTrait, PaginatorTrait};
    let m = demo_members().await;
    let t = app::server::entity::topic::Entity::find()
        .one(&m.db)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/t/{}/{}", t.id, t.slug);
    let id = t.id.to_string();
    let posts = post::Entity::find().count(&m.db).await.unwrap();
    let token = form_token_on(&m.app, &path, Some(&m.casey)).await;
    let hostile = "<img src=x onerror=alert(1)>";
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "no form token",
            vec![("topic_id", &id), ("body", "Hello there, all.")],
        ),
        (
            "a topic that is not a number",
            vec![
                ("topic_id", hostile),
                ("body", "Hello there, all."),
                ("form_token", &token),
            ],
        ),
        ("nothing at all", vec![]),
    ];
    for (what, fields) in &cases {
        let res = post_form(&m.app, "/api/reply", fields, Some(&m.casey), &path).await;
        assert_eq!(res.status, 302, "{what}: {}", res.body);
        let back = follow(&m.app, &res, Some(&m.casey)).await;
        assert_eq!(back.status, 200, "{what}");
        let html = scraper::Html::parse_document(&back.body);
        let alerts: Vec<String> = html
            .select(&scraper::Selector::parse("[role=alert]").unwrap())
            .map(|e| e.text().collect::<String>().trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        assert_eq!(alerts, [FORM_UNREADABLE], "{what}");
        let text: String = html.root_element().text().collect();
        for serde_words in ["deserializ", "missing field", "invalid digit", "onerror"] {
            assert!(!text.contains(serde_words), "{what}: {serde_words}");
            assert!(!back.body.contains(serde_words), "{what}: {serde_words}");
        }

        let res = post_fetch(&m.app, "/api/reply", fields, Some(&m.casey)).await;
        assert_eq!(res.status, 400, "{what}: {}", res.body);
        assert!(res.body.contains(FORM_UNREADABLE), "{what}: {}", res.body);
        assert!(!res.body.contains("deserializ"), "{what}: {}", res.body);
        assert!(!res.body.contains("onerror"), "{what}: {}", res.body);
    }
    assert_eq!(post::Entity::find().count(&m.db).await.unwrap(), posts);
    // The token was not spent: the form, sent whole, still posts.
    let res = post_reply(
        &m.app,
        &path,
        t.id,
        "Sent whole this time.",
        &token,
        &m.casey,
    )
    .await;
    assert_eq!(res.status, 302, "{}", res.body);
    assert_eq!(post::Entity::find().count(&m.db).await.unwrap(), posts + 1);
}

/// The non-empty texts of a page's alert regions.
fn alerts(page: &Reply) -> Vec<String> {
    let html = scraper::Html::parse_document(&page.body);
    html.select(&scraper::Selector::parse("[role=alert]").unwrap())
        .map(|e| e.text().collect::<String>().trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The forms whose errors are told apart by a form name and are alone on their page (the flag
/// page's, the profile on /account) and the topic page's Vote, for a member and for a visitor,
/// show an unreadable form's message: the server could not read which form it was, and before
/// they showed nothing at all (found by an outside tester). A post's moderation form, one per
/// post, is said once at the top of the staff tools, with no panel opened.
#[tokio::test]
async fn forms_told_apart_by_name_and_the_vote_show_an_unreadable_form() {
    use app::{error::FORM_UNREADABLE, server::entity::topic};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let m = demo_members().await;
    let idea = topic::Entity::find()
        .filter(topic::Column::Slug.eq("export-to-csv-would-save-me-an-hour-a-week"))
        .one(&m.db)
        .await
        .unwrap()
        .unwrap();
    let topic_page = format!("/t/{}/{}", idea.id, idea.slug);
    let post = app::server::entity::post::Entity::find()
        .filter(app::server::entity::post::Column::TopicId.eq(idea.id))
        .one(&m.db)
        .await
        .unwrap()
        .unwrap();
    let flag_page = format!("/p/{}/flag", post.id);
    let visitor = get(&m.app, &topic_page, None).await;
    let visitor = token_cookie(&visitor).expect("a token cookie");
    let cases: [(&str, &str, &str, Vec<(&str, &str)>, Option<&str>); 5] = [
        (
            "flag",
            "/api/flag_post",
            &flag_page,
            vec![("post_id", "abc"), ("reason", "spam")],
            Some(&m.casey),
        ),
        (
            "profile",
            "/api/save_profile",
            "/account",
            vec![("bio", "Hi")],
            Some(&m.casey),
        ),
        (
            "vote",
            "/api/vote",
            &topic_page,
            vec![("topic_id", "abc"), ("vote", "up")],
            Some(&m.casey),
        ),
        (
            "visitor's vote",
            "/api/vote",
            &topic_page,
            vec![("vote", "up")],
            Some(&visitor),
        ),
        (
            "moderation",
            "/api/moderate_post",
            &topic_page,
            vec![("action", "hide")],
            Some(&m.admin),
        ),
    ];
    for (what, path, page, fields, cookie) in &cases {
        let res = post_form(&m.app, path, fields, *cookie, page).await;
        assert_eq!(res.status, 302, "{what}: {}", res.body);
        let back = follow(&m.app, &res, *cookie).await;
        assert_eq!(back.status, 200, "{what}");
        assert_eq!(alerts(&back), [FORM_UNREADABLE], "{what}");
        let html = scraper::Html::parse_document(&back.body);
        let open = scraper::Selector::parse("details.post-tool[open]").unwrap();
        assert_eq!(html.select(&open).count(), 0, "{what}");
    }
}
