//! Shared pages of posts (issue 20, point 4): a page of posts is rendered once for everyone who
//! sees the same posts with the same controls, and stitched per reader. What a reader gets must
//! be exactly what a page rendered for them alone says: their times in their zone, their own
//! "Edit", their flags, the moderator's tools only for moderators, and every change at once.
use crate::common::*;
use app::server::settings;
use scraper::{Html, Selector};

/// The page's posts as HTML, the part the shared fragment makes.
fn posts_of(body: &str) -> Vec<String> {
    let page = Html::parse_document(body);
    page.select(&Selector::parse("div.posts").unwrap())
        .map(|p| p.html())
        .collect()
}

async fn first_topic(app: &axum::Router) -> String {
    let home = get(app, "/", None).await;
    Html::parse_document(&home.body)
        .select(&Selector::parse(r#"a[href^="/t/"]"#).unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_string()
}

/// A tag in the address that nothing reads: the page is rendered for this request alone (only
/// plain addresses share posts), so it is what the shared copy must equal.
fn unshared(path: &str) -> String {
    format!("{path}?utm_source=test")
}

/// The page a posted reply landed on, without its confirmation or anchor.
fn page_of(res: &Reply) -> String {
    let landed = landed_on(res.location.as_deref()).unwrap();
    landed.split('#').next().unwrap().to_string()
}

/// Casey replies `body` to `topic` without JavaScript; the page the reply landed on.
async fn casey_replies(m: &DemoMembers, topic: &str, body: &str) -> String {
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let token = form_token_on(&m.app, topic, Some(&m.casey)).await;
    let res = post_form(
        &m.app,
        "/api/reply",
        &[
            ("topic_id", &id.to_string()),
            ("body", body),
            ("form_token", &token),
        ],
        Some(&m.casey),
        topic,
    )
    .await;
    assert_eq!(res.status, 302, "{}", res.body);
    page_of(&res)
}

#[tokio::test]
async fn every_role_gets_from_the_shared_copy_what_a_page_of_its_own_says() {
    let m = demo_members().await;
    let topic = first_topic(&m.app).await;
    for cookie in [None, Some(&m.casey), Some(&m.sam), Some(&m.admin)] {
        let cookie = cookie.map(String::as_str);
        let own = get(&m.app, &unshared(&topic), cookie).await;
        let first = get(&m.app, &topic, cookie).await;
        let again = get(&m.app, &topic, cookie).await;
        assert_eq!(own.status, 200);
        let own = posts_of(&own.stable_body());
        assert!(!own.is_empty());
        assert_eq!(posts_of(&first.stable_body()), own, "{cookie:?}");
        assert_eq!(posts_of(&again.stable_body()), own, "{cookie:?}");
    }
    // Roles differ: a moderator's copy has the tools, a member's has none.
    let admin = posts_of(&get(&m.app, &topic, Some(&m.admin)).await.body).concat();
    let casey = posts_of(&get(&m.app, &topic, Some(&m.casey)).await.body).concat();
    assert!(admin.contains("Moderate"));
    assert!(!casey.contains("Moderate"));
}

#[tokio::test]
async fn one_shared_copy_is_stitched_with_each_readers_zone_and_changes_show_at_once() {
    let m = demo_members().await;
    settings::put(&m.db, settings::SITE_TIME_ZONE.0, "Europe/Paris")
        .await
        .unwrap();
    let topic = first_topic(&m.app).await;
    // Two members with the same controls (neither wrote or flagged a post here yet).
    let chris = sign_up(
        &m.app,
        "chris",
        "chris@example.com",
        "quiet harbour lantern 7741",
    )
    .await;
    let dana = sign_up(
        &m.app,
        "dana",
        "dana@example.com",
        "quiet harbour lantern 7742",
    )
    .await;
    let fields = [
        ("modes[answers]", "immediately"),
        ("modes[replies]", "immediately"),
        ("modes[new_topics]", "never"),
        ("modes[mentions]", "immediately"),
        ("time_zone", "America/New_York"),
    ];
    let res = post_form(
        &m.app,
        "/api/save_mail_settings",
        &fields,
        Some(&chris),
        "/account",
    )
    .await;
    assert_eq!(res.status, 302, "{}", res.body);

    let for_chris = posts_of(&get(&m.app, &topic, Some(&chris)).await.body).concat();
    let for_dana = posts_of(&get(&m.app, &topic, Some(&dana)).await.body).concat();
    assert!(
        for_chris.contains("EST") || for_chris.contains("EDT"),
        "{for_chris}"
    );
    assert!(!for_chris.contains("data-exact"));
    assert!(
        for_dana.contains("CET") || for_dana.contains("CEST"),
        "{for_dana}"
    );
    assert!(for_dana.contains("data-exact"));

    // Casey replies: both see the reply on their next page; neither may edit it, Casey may.
    let text = "A reply written after the page was shared";
    let last = casey_replies(&m, &topic, text).await;
    let (casey_page, chris_page, dana_page) = (
        get(&m.app, &last, Some(&m.casey)).await,
        get(&m.app, &last, Some(&chris)).await,
        get(&m.app, &last, Some(&dana)).await,
    );
    let mine = Selector::parse("article.post").unwrap();
    let edit_links = |body: &str| {
        Html::parse_document(body)
            .select(&mine)
            .filter(|p| p.text().collect::<String>().contains(text))
            .map(|p| p.html().contains("/edit\""))
            .collect::<Vec<_>>()
    };
    assert_eq!(edit_links(&casey_page.body), vec![true]);
    assert_eq!(edit_links(&chris_page.body), vec![false]);
    assert_eq!(edit_links(&dana_page.body), vec![false]);
}

#[tokio::test]
async fn a_marker_written_into_a_post_stays_text() {
    let m = demo_members().await;
    let topic = first_topic(&m.app).await;
    let forged = "Look \u{1}0123456789abcdef:1700000000000000000\u{2} here";
    let last = casey_replies(&m, &topic, forged).await;
    for _ in 0..2 {
        let page = get(&m.app, &last, Some(&m.sam)).await;
        let posts = posts_of(&page.body).concat();
        assert!(posts.contains("here"), "{posts}");
        // Only the page's own times became <time> elements: one per post and no more.
        let doc = Html::parse_document(&posts);
        let times = doc.select(&Selector::parse("time").unwrap()).count();
        let cards = doc
            .select(&Selector::parse("article.post").unwrap())
            .count();
        assert!(
            times >= cards && times <= cards * 2,
            "{times} times, {cards} posts"
        );
    }
}

/// A member's topic page asks the database only for what is theirs once the page's shared part
/// is kept (issue 20, point 4: round trips, not query work, were the cost): the session with
/// its account (the member is not read again), their notifications (read and counted in one),
/// and their own rows for the topic (follow level, flags, read marker, in one). A write shows
/// at once.
#[tokio::test]
async fn a_members_topic_page_asks_the_database_three_times() {
    use std::sync::{Arc, Mutex};
    let (mut db, _) = demo_site().await;
    let statements = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = statements.clone();
    db.set_metric_callback(move |info| seen.lock().unwrap().push(info.statement.sql.clone()));
    let app = router_for(db.clone());
    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    let topic = first_topic(&app).await;
    let first = get(&app, &topic, Some(&casey)).await;
    assert_eq!(first.status, 200);
    statements.lock().unwrap().clear();
    let again = get(&app, &topic, Some(&casey)).await;
    assert_eq!(again.status, 200);
    let asked = std::mem::take(&mut *statements.lock().unwrap());
    assert!(
        asked.len() <= 4,
        "{} statements:\n{}",
        asked.len(),
        asked.join("\n")
    );
    assert_eq!(
        posts_of(&again.stable_body()),
        posts_of(&first.stable_body())
    );
    // A reply by someone else shows on the next view, whatever was kept.
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    let id = topic.split('/').nth(2).unwrap();
    let token = form_token_on(&app, &topic, Some(&sam)).await;
    let res = post_form(
        &app,
        "/api/reply",
        &[
            ("topic_id", id),
            ("body", "Kept pages are read again."),
            ("form_token", &token),
        ],
        Some(&sam),
        &topic,
    )
    .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let after = get(&app, &topic, Some(&casey)).await;
    assert!(after.body.contains("Kept pages are read again."));
}
