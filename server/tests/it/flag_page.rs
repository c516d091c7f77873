//! Flagging on demand: a topic page offers each post a "Flag" link to the post's flag page
//! (/p/{id}/flag), where the form is, instead of a form under every post. The flag page shows
//! which post, refuses (not found) a post the viewer may not read, asks visitors to log in, says
//! when the member flagged it already, and a plain post of its form lands back on the post in
//! its topic (or, refused, on the flag page with the error).
use crate::common::*;
use app::server::{
    entity::{flag, post, review_item, topic, user},
    forum, settings,
};
use axum::http::StatusCode;
use scraper::{Html, Selector};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

const FLAG_FORM: &str = r#"action="/api/flag_post""#;

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

fn text(e: &scraper::ElementRef) -> String {
    e.text().collect::<String>().trim().to_string()
}

/// Flags and review items: what flagging writes.
async fn writes(db: &DatabaseConnection) -> (u64, u64) {
    (
        flag::Entity::find().count(db).await.unwrap(),
        review_item::Entity::find().count(db).await.unwrap(),
    )
}

/// A topic casey started with replies by sam and the admin: a full page of 30 posts.
async fn full_topic(d: &DemoMembers) -> (topic::Model, Vec<post::Model>) {
    settings::put(&d.db, settings::POSTS_PER_10_MIN.0, "0")
        .await
        .unwrap();
    let (casey, sam, admin) = (
        member(&d.db, "casey").await,
        member(&d.db, "sam").await,
        member(&d.db, "admin").await,
    );
    let (t, _) = forum::start_topic(
        &d.db,
        &casey,
        "questions",
        "Exports stop at 10,000 rows",
        "The CSV export ends at row 10,000. Is that a limit?",
        None,
    )
    .await
    .unwrap();
    for i in 1..30 {
        let who = if i % 2 == 0 { &admin } else { &sam };
        forum::reply(
            &d.db,
            who,
            t.id,
            &format!("Reply {i}: the export is paged; ask for the next page with `?after=` and the last row's id."),
            None,
        )
        .await
        .unwrap();
    }
    let posts = post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .order_by_asc(post::Column::PostNumber)
        .all(&d.db)
        .await
        .unwrap();
    assert_eq!(posts.len(), 30);
    (t, posts)
}

#[tokio::test]
async fn a_members_topic_page_links_each_post_to_its_flag_page_and_has_no_flag_form() {
    let d = demo_members().await;
    let (t, posts) = full_topic(&d).await;
    let casey = member(&d.db, "casey").await;
    let path = format!("/t/{}/{}", t.id, t.slug);
    let page = get(&d.app, &path, Some(&d.casey)).await;
    assert_eq!(page.status, StatusCode::OK);
    eprintln!(
        "member (casey) topic page, 30 posts: {} bytes",
        page.body.len()
    );
    assert!(!page.body.contains(FLAG_FORM), "no flag form on the page");
    let html = Html::parse_document(&page.body);
    assert!(select(&html, "select[name=reason]").is_empty());
    for p in &posts {
        let card = format!("article#post-{}", p.post_number);
        let links = select(&html, &format!("{card} a[href=\"/p/{}/flag\"]", p.id));
        if p.author_id == casey.id {
            // Her own post: nothing to flag.
            assert!(links.is_empty(), "post {}", p.post_number);
        } else {
            assert_eq!(links.len(), 1, "post {}", p.post_number);
            assert_eq!(text(&links[0]), "Flag");
            // Named for a screen reader's list of links: which post, by whom.
            let label = links[0].value().attr("aria-label").unwrap();
            assert!(
                label.starts_with(&format!("Flag post {} by ", p.post_number)),
                "{label}"
            );
        }
    }
    assert_eq!(
        select(&html, "a[href^=\"/p/\"][href$=\"/flag\"]").len(),
        29,
        "one link for each post by someone else"
    );
    // Visitors get no flag link (and no form), from the shared cache or not.
    for _ in 0..2 {
        let visitor = get(&d.app, &path, None).await;
        assert_eq!(visitor.status, StatusCode::OK);
        assert!(!visitor.body.contains("/flag\""));
        assert!(!visitor.body.contains(FLAG_FORM));
        eprintln!("visitor topic page, 30 posts: {} bytes", visitor.body.len());
    }
}

#[tokio::test]
async fn the_flag_page_of_a_post_in_a_topic_the_viewer_may_not_see_is_not_found_and_writes_nothing()
{
    let d = demo_members().await;
    let (t, posts) = full_topic(&d).await;
    // A moderator takes the topic down: its posts are still visible posts, in a topic that
    // only its author and moderators see.
    let mut hidden: topic::ActiveModel = t.clone().into();
    hidden.visible = Set(false);
    hidden.update(&d.db).await.unwrap();
    // A reply by the admin; sam (staff, not a moderator) and visitors may not see the topic.
    let target = &posts[2];
    let flag_path = format!("/p/{}/flag", target.id);
    let before = writes(&d.db).await;
    let missing = get(&d.app, "/p/999999/flag", Some(&d.sam)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for cookie in [Some(d.sam.as_str()), None] {
        let page = get(&d.app, &flag_path, cookie).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{cookie:?}");
        assert!(!page.body.contains(FLAG_FORM));
        assert!(!page.body.contains("Exports stop at"), "not even its title");
        assert!(!page.body.contains("Reply 2:"), "nor its text");
    }
    // Casey started the topic: she still sees it, and may flag the reply.
    let as_casey = get(&d.app, &flag_path, Some(&d.casey)).await;
    assert_eq!(as_casey.status, StatusCode::OK);
    assert!(as_casey.body.contains(FLAG_FORM));
    // A crafted post of the form is refused the same way: back to the flag page, nothing written.
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[
            ("post_id", &target.id.to_string()),
            ("reason", "spam"),
            ("note", ""),
        ],
        Some(&d.sam),
        &flag_path,
    )
    .await;
    let location = res.location.clone().unwrap_or_default();
    assert!(location.contains("__err"), "{location}");
    let back = follow(&d.app, &res, Some(&d.sam)).await;
    assert_eq!(back.status, StatusCode::NOT_FOUND);
    assert_eq!(writes(&d.db).await, before, "nothing written");
}

#[tokio::test]
async fn a_hostile_post_and_author_name_are_text_on_the_flag_page() {
    let d = demo_members().await;
    let hostile_name = r#"</title><img src=x onerror=alert(1)>'"<a href=javascript:alert(2)>"#;
    let hostile_text = r#"</p></blockquote><script>alert(3)</script><img src=y onerror=alert(4)>"#;
    let mut sam: user::ActiveModel = member(&d.db, "sam").await.into();
    sam.display_name = Set(hostile_name.into());
    let sam = sam.update(&d.db).await.unwrap();
    let casey = member(&d.db, "casey").await;
    let (t, _) = forum::start_topic(&d.db, &casey, "questions", "Odd", "Help.", None)
        .await
        .unwrap();
    // In a code block, so the stored HTML holds it as text, as the sanitiser would leave it.
    let reply = forum::reply(
        &d.db,
        &sam,
        t.id,
        &format!("```\n{hostile_text}\n```\n\n{hostile_text}\n"),
        None,
    )
    .await
    .unwrap();
    let page = get(&d.app, &format!("/p/{}/flag", reply.id), Some(&d.casey)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = Html::parse_document(&page.body);
    // Parsed as a browser parses it: no element or attribute came from either string.
    assert!(
        select(&html, "script:not([src]):not([type])")
            .iter()
            .all(|s| !text(s).contains("alert"))
    );
    assert!(select(&html, "img[onerror]").is_empty());
    assert!(select(&html, "a[href^=javascript]").is_empty());
    assert!(select(&html, "meta[http-equiv]").is_empty());
    assert_eq!(select(&html, "blockquote").len(), 1);
    // And they are shown whole, as text.
    let caption = select(&html, "figure.flag-target figcaption")[0];
    let author = select(&html, "figure.flag-target figcaption a[href^=\"/u/\"]")[0];
    assert_eq!(text(&author), hostile_name);
    assert!(text(&caption).contains(hostile_name));
    let excerpt = select(&html, "blockquote.flag-excerpt")[0];
    assert!(text(&excerpt).contains(hostile_text), "{}", text(&excerpt));
    assert_eq!(select(&html, &format!("form#flag-{}", reply.id)).len(), 1);
}

#[tokio::test]
async fn flagging_without_javascript_from_the_link_to_the_flag_page_and_back_to_the_post() {
    let d = demo_members().await;
    let (t, posts) = full_topic(&d).await;
    let path = format!("/t/{}/{}", t.id, t.slug);
    let sams = &posts[1];
    let pid = sams.id.to_string();
    // The link on the topic page.
    let topic_page = get(&d.app, &path, Some(&d.casey)).await;
    let html = Html::parse_document(&topic_page.body);
    let link = select(
        &html,
        &format!("article#post-{} a[href$=\"/flag\"]", sams.post_number),
    )[0];
    let flag_path = link.value().attr("href").unwrap().to_string();
    assert_eq!(flag_path, format!("/p/{pid}/flag"));

    // The flag page: which post, with a way back to it, and the form.
    let page = get(&d.app, &flag_path, Some(&d.casey)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("x-robots-tag"),
        Some("noindex"),
        "not for search engines"
    );
    let html = Html::parse_document(&page.body);
    assert_eq!(
        text(&select(&html, "h1")[0]),
        "Flag a post for the moderators"
    );
    let caption = text(&select(&html, "figure.flag-target figcaption")[0]);
    assert!(caption.contains("Post #2 by"), "{caption}");
    assert!(caption.contains(&member(&d.db, "sam").await.display_name));
    assert!(caption.contains("Exports stop at 10,000 rows"));
    let back = select(&html, &format!("figcaption a[href=\"{path}#post-2\"]"));
    assert_eq!(back.len(), 1, "a link back to the post in its topic");
    assert!(text(&select(&html, "blockquote.flag-excerpt")[0]).starts_with("Reply 1:"));
    let form = select(&html, &format!("form#flag-{pid}"))[0];
    assert_eq!(form.value().attr("method"), Some("post"));
    assert_eq!(form.value().attr("action"), Some("/api/flag_post"));
    for (id, name) in [("reason", "reason"), ("note", "note")] {
        let field = select(&html, &format!("#flag-{pid}-{id}"))[0];
        assert_eq!(field.value().attr("name"), Some(name));
        assert_eq!(
            select(&html, &format!("label[for=\"flag-{pid}-{id}\"]")).len(),
            1,
            "{id} has its label"
        );
    }
    let hidden = select(&html, "form input[name=post_id]")[0];
    assert_eq!(hidden.value().attr("value"), Some(pid.as_str()));

    // No reason: refused, back on the flag page with the error in the form, nothing written.
    let before = writes(&d.db).await;
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[("post_id", &pid), ("reason", ""), ("note", "")],
        Some(&d.casey),
        &flag_path,
    )
    .await;
    let location = res.location.clone().unwrap();
    let local = location.strip_prefix(ORIGIN).unwrap_or(&location);
    assert!(local.starts_with(&format!("{flag_path}?")), "{location}");
    assert!(local.ends_with(&format!("#flag-{pid}")), "{location}");
    let refused = follow(&d.app, &res, Some(&d.casey)).await;
    assert_eq!(refused.status, StatusCode::OK);
    let html = Html::parse_document(&refused.body);
    let error = select(&html, &format!("form#flag-{pid} #flag-{pid}-reason-error"));
    assert_eq!(text(&error[0]), "Choose why you are flagging this post.");
    assert_eq!(writes(&d.db).await, before);

    // Sent: back at the post in its topic, told so beside it.
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[("post_id", &pid), ("reason", "spam"), ("note", "")],
        Some(&d.casey),
        &flag_path,
    )
    .await;
    let location = res.location.clone().unwrap();
    let local = location.strip_prefix(ORIGIN).unwrap_or(&location);
    assert_eq!(
        local,
        format!("{path}?done=flagged&post={pid}#status-post-{pid}")
    );
    let landed = follow(&d.app, &res, Some(&d.casey)).await;
    assert_eq!(landed.status, StatusCode::OK);
    let html = Html::parse_document(&landed.body);
    let status = select(&html, &format!("article#post-2 #status-post-{pid}"));
    assert!(text(&status[0]).starts_with("Flag sent to moderators."));
    let card = "article#post-2";
    assert!(select(&html, &format!("{card} a[href$=\"/flag\"]")).is_empty());
    assert_eq!(
        text(&select(&html, &format!("{card} .flagged"))[0]),
        "You flagged this"
    );
    assert_eq!(
        flag::Entity::find().count(&d.db).await.unwrap(),
        before.0 + 1
    );

    // The flag page says it was flagged, with no second form.
    let again = get(&d.app, &flag_path, Some(&d.casey)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again.body.contains(FLAG_FORM));
    assert!(again.body.contains("You have already flagged this post"));

    // A reply on the second page comes back to that page.
    let sam = member(&d.db, "sam").await;
    let later = forum::reply(&d.db, &sam, t.id, "One more.", None)
        .await
        .unwrap();
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[
            ("post_id", &later.id.to_string()),
            ("reason", "off_topic"),
            ("note", ""),
        ],
        Some(&d.casey),
        &format!("/p/{}/flag", later.id),
    )
    .await;
    let location = res.location.unwrap();
    assert!(
        location.ends_with(&format!(
            "{path}?page=2&done=flagged&post={0}#status-post-{0}",
            later.id
        )),
        "{location}"
    );

    // Their own post: said, no form. A visitor: asked to log in, and brought back.
    let own = get(&d.app, &flag_path, Some(&d.sam)).await;
    assert!(own.body.contains("You can't flag your own post."));
    assert!(!own.body.contains(FLAG_FORM));
    let visitor = get(&d.app, &flag_path, None).await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED);
    assert!(!visitor.body.contains(FLAG_FORM));
    let html = Html::parse_document(&visitor.body);
    let log_in = select(&html, "a[href^=\"/login?next=\"]");
    assert!(
        log_in
            .iter()
            .any(|a| a.value().attr("href") == Some(&format!("/login?next=/p/{pid}/flag"))),
        "{}",
        visitor.body
    );
}
