//! Forms that behave (issue 19), through the real router without JavaScript: destructive
//! actions ask first (a post without `confirmed` writes nothing and lands on /confirm; the
//! confirmed post acts; other roles are refused either way), a deleted account's page, every
//! field's error at once with what was typed kept (never a password), an error beside the
//! control that caused it (not in the topic's History), and an action's confirmation shown
//! once, at its result, never to visitors from the shared cache.
use crate::common::*;
use app::{
    model::Role,
    server::entity::{post, topic, user},
};
use axum::{Router, http::StatusCode};
use scraper::{Html, Selector};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

async fn post_row(db: &DatabaseConnection, id: i64) -> post::Model {
    post::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

/// A moderator (morgan) added to the demo site, signed in.
async fn with_moderator(d: &DemoMembers) -> String {
    let cookie = sign_up(
        &d.app,
        "morgan",
        "morgan@example.com",
        "a long enough password",
    )
    .await;
    let mut m: user::ActiveModel = member(&d.db, "morgan").await.into();
    m.role = Set(Role::Moderator.as_str().into());
    m.update(&d.db).await.unwrap();
    cookie
}

/// A post by sam in a forum topic (casey may flag it), and its topic's path.
async fn sams_reply(db: &DatabaseConnection) -> (post::Model, String) {
    let sam = member(db, "sam").await;
    let posts = post::Entity::find()
        .filter(post::Column::AuthorId.eq(sam.id))
        .filter(post::Column::State.eq("visible"))
        .all(db)
        .await
        .unwrap();
    for p in posts {
        let t = topic::Entity::find_by_id(p.topic_id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let path = format!("/t/{}/{}", t.id, t.slug);
        // A forum topic's page (an article's comments redirect to the article).
        if !t.slug.is_empty() && t.author_id != sam.id {
            return (p, path);
        }
    }
    panic!("sam replied somewhere in the demo");
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

fn text(e: &scraper::ElementRef) -> String {
    e.text().collect::<String>().trim().to_string()
}

/// The local path of a redirect, without its fragment.
fn path_of(res: &Reply) -> String {
    let location = res.location.clone().expect("a redirect");
    let local = location
        .strip_prefix(ORIGIN)
        .unwrap_or(&location)
        .to_string();
    local.split('#').next().unwrap().to_string()
}

/// Posts the form the confirmation page at `page` shows, as the browser with `cookie` would.
async fn confirm_on(app: &Router, page: &str, cookie: &str) -> Reply {
    let shown = get(app, page, Some(cookie)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let html = Html::parse_document(&shown.body);
    let form = select(&html, "section.confirm-page form")
        .into_iter()
        .next()
        .expect("a confirmation form");
    let action = form.value().attr("action").unwrap().to_string();
    let fields: Vec<(String, String)> = form
        .select(&Selector::parse("input[type=hidden]").unwrap())
        .map(|i| {
            (
                i.value().attr("name").unwrap().to_string(),
                i.value().attr("value").unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(fields.iter().any(|(n, v)| n == "confirmed" && v == "yes"));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    post_form(app, &action, &fields, Some(cookie), page).await
}

#[tokio::test]
async fn deleting_an_account_asks_first_and_its_page_then_says_it_was_deleted() {
    let d = demo_members().await;
    let casey = member(&d.db, "casey").await;
    let id = casey.id.to_string();
    let admin_page = format!("/admin/users/{id}");
    // Without `confirmed`: the confirmation page, and nothing written.
    let res = post_form(
        &d.app,
        "/api/delete_account",
        &[("user_id", &id), ("posts", "keep")],
        Some(&d.admin),
        &admin_page,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND);
    let ask = path_of(&res);
    assert!(ask.starts_with("/confirm?action=delete_account&"), "{ask}");
    assert_eq!(member(&d.db, "casey").await, casey, "nothing written");
    let page = get(&d.app, &ask, Some(&d.admin)).await;
    let html = Html::parse_document(&page.body);
    assert_eq!(
        text(&select(&html, "h1#confirm-title")[0]),
        "Delete the account of casey?"
    );
    assert!(
        page.body.contains("signed “deleted user”"),
        "the choice is said"
    );
    let cancel = select(&html, "section.confirm-page a.button")[0]
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    assert_eq!(cancel, admin_page, "Cancel goes back");
    // Staff and the member themselves are refused the question and the action alike.
    for cookie in [&d.sam, &d.casey] {
        assert_eq!(
            get(&d.app, &ask, Some(cookie)).await.status,
            StatusCode::FORBIDDEN
        );
        for confirmed in [None, Some("yes")] {
            let mut fields = vec![("user_id", id.as_str()), ("posts", "keep")];
            fields.extend(confirmed.map(|c| ("confirmed", c)));
            let res = post_fetch(&d.app, "/api/delete_account", &fields, Some(cookie)).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
        }
    }
    assert_eq!(member(&d.db, "casey").await, casey, "nothing written");
    // Confirmed: deleted, and back on the admin page with the confirmation.
    let done = confirm_on(&d.app, &ask, &d.admin).await;
    let back = path_of(&done);
    assert!(
        back.starts_with(&format!("{admin_page}?done=account_deleted")),
        "{back}"
    );
    let gone = user::Entity::find_by_id(casey.id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert!(gone.username.starts_with("deleted-"));
    let shown = get(&d.app, &back, Some(&d.admin)).await;
    let html = Html::parse_document(&shown.body);
    let status = select(&html, "[role=status].status-message");
    assert_eq!(status.len(), 1);
    assert_eq!(text(&status[0]), "The account was deleted.");
    // Its member page says so, and offers nothing to do, to admins and visitors alike.
    for cookie in [Some(d.admin.as_str()), None] {
        let page = get(&d.app, &format!("/u/{}", gone.username), cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("This account was deleted."),
            "{}",
            page.body
        );
        let html = Html::parse_document(&page.body);
        assert!(
            select(&html, "main form").is_empty(),
            "no actions on a deleted account"
        );
        assert!(!page.body.contains("Moderate this member"));
    }
    // A deleted account is not asked about again.
    let again = get(&d.app, &ask, Some(&d.admin)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// A delete sent from a review-queue page loaded before another moderator decided its item
/// asks first (no JavaScript); the question carries the item, so the confirmed delete is
/// refused as the stale form itself would be, and writes nothing (found by an outside tester).
#[tokio::test]
async fn a_stale_queue_delete_confirmed_without_javascript_changes_nothing() {
    use app::server::entity::review_item;
    let d = demo_members().await;
    let morgan = with_moderator(&d).await;
    let (reply, _) = sams_reply(&d.db).await;
    let pid = reply.id.to_string();
    post_fetch(
        &d.app,
        "/api/flag_post",
        &[("post_id", &pid), ("reason", "rude"), ("note", "")],
        Some(&d.casey),
    )
    .await;
    let item = review_item::Entity::find()
        .filter(review_item::Column::PostId.eq(reply.id))
        .one(&d.db)
        .await
        .unwrap()
        .expect("the flag's item")
        .id
        .to_string();
    // Another moderator clears the flags from the queue.
    post_form(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &pid),
            ("action", "dismiss"),
            ("reason", ""),
            ("item", &item),
        ],
        Some(&d.admin),
        "/admin/review",
    )
    .await;
    let decided = post_row(&d.db, reply.id).await;
    assert_eq!(decided.state, "visible");
    // Morgan's page still shows the item: the delete asks first, with the item along.
    let res = post_form(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &pid),
            ("action", "delete"),
            ("reason", "Stale"),
            ("item", &item),
        ],
        Some(&morgan),
        "/admin/review",
    )
    .await;
    let ask = path_of(&res);
    assert!(ask.starts_with("/confirm?action=delete_post&"), "{ask}");
    let confirmed = confirm_on(&d.app, &ask, &morgan).await;
    assert!(
        confirmed
            .location
            .as_deref()
            .unwrap_or_default()
            .contains("__err="),
        "{:?}",
        confirmed.location
    );
    let page = follow(&d.app, &confirmed, Some(&morgan)).await;
    let shown = text(&Html::parse_document(&page.body).root_element());
    assert!(
        shown.contains(app::server::moderation::NOTHING_TO_DECIDE),
        "{shown}"
    );
    assert_eq!(post_row(&d.db, reply.id).await, decided, "nothing written");
}

#[tokio::test]
async fn removing_a_spammer_and_deleting_a_post_ask_first() {
    let d = demo_members().await;
    let morgan = with_moderator(&d).await;
    let (reply, topic_path) = sams_reply(&d.db).await;
    let pid = reply.id.to_string();
    // A post: without `confirmed`, the question; the post stays.
    let res = post_form(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &pid),
            ("action", "delete"),
            ("reason", "Off topic"),
        ],
        Some(&morgan),
        &topic_path,
    )
    .await;
    let ask = path_of(&res);
    assert!(ask.starts_with("/confirm?action=delete_post&"), "{ask}");
    assert_eq!(post_row(&d.db, reply.id).await, reply, "nothing written");
    let page = get(&d.app, &ask, Some(&morgan)).await;
    assert!(page.body.contains("Delete this post?"));
    assert!(page.body.contains("Reason: Off topic"));
    // Customers and staff are refused with or without `confirmed`.
    for cookie in [&d.casey, &d.sam] {
        assert_eq!(
            get(&d.app, &ask, Some(cookie)).await.status,
            StatusCode::FORBIDDEN
        );
        for confirmed in [None, Some("yes")] {
            let mut fields = vec![
                ("post_id", pid.as_str()),
                ("action", "delete"),
                ("reason", "x"),
            ];
            fields.extend(confirmed.map(|c| ("confirmed", c)));
            let res = post_fetch(&d.app, "/api/moderate_post", &fields, Some(cookie)).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
        }
    }
    assert_eq!(post_row(&d.db, reply.id).await, reply, "nothing written");
    // Hiding is not asked about.
    let hide = post_form(
        &d.app,
        "/api/moderate_post",
        &[("post_id", &pid), ("action", "dismiss"), ("reason", "")],
        Some(&morgan),
        &topic_path,
    )
    .await;
    assert!(
        !path_of(&hide).starts_with("/confirm"),
        "{:?}",
        hide.location
    );
    let done = confirm_on(&d.app, &ask, &morgan).await;
    let back = path_of(&done);
    assert!(
        back.starts_with(&format!("{topic_path}?done=post_deleted&post={pid}")),
        "{back} {ask} {:?}",
        done.location
    );
    assert!(
        done.location
            .unwrap()
            .ends_with(&format!("#status-post-{pid}"))
    );
    assert_eq!(post_row(&d.db, reply.id).await.state, "deleted");

    // A spammer: casey.
    let casey = member(&d.db, "casey").await;
    let cid = casey.id.to_string();
    let res = post_form(
        &d.app,
        "/api/remove_spammer",
        &[("user_id", &cid), ("reason", "Spam")],
        Some(&morgan),
        "/u/casey",
    )
    .await;
    let ask = path_of(&res);
    assert!(ask.starts_with("/confirm?action=remove_spammer&"), "{ask}");
    assert_eq!(member(&d.db, "casey").await, casey, "nothing written");
    assert_eq!(
        get(&d.app, &ask, Some(&d.sam)).await.status,
        StatusCode::FORBIDDEN
    );
    let res = post_fetch(
        &d.app,
        "/api/remove_spammer",
        &[("user_id", &cid), ("reason", "Spam"), ("confirmed", "yes")],
        Some(&d.sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(member(&d.db, "casey").await, casey, "nothing written");
    let page = get(&d.app, &ask, Some(&morgan)).await;
    assert!(page.body.contains("Remove casey as a spammer?"));
    let done = confirm_on(&d.app, &ask, &morgan).await;
    assert!(
        path_of(&done).starts_with("/u/casey?done=spammer_removed"),
        "{:?}",
        done.location
    );
    assert!(member(&d.db, "casey").await.suspended_until.is_some());
}

#[tokio::test]
async fn a_sign_up_reports_every_field_and_keeps_what_was_typed_but_the_password() {
    let (db, app) = demo_site().await;
    let before = user_count(&db).await;
    let token = signup_token(&app).await;
    let res = post_form(
        &app,
        "/api/sign_up",
        &[
            ("username", "a b<script>"),
            ("email", "not-an-address<b>"),
            ("password", "short-pw1"),
            ("form_token", &token),
            ("next", "/"),
        ],
        None,
        "/signup",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(user_count(&db).await, before, "nothing written");
    let page = follow(&app, &res, None).await;
    let html = Html::parse_document(&page.body);
    for (field, typed) in [("username", "a b<script>"), ("email", "not-an-address<b>")] {
        let input = select(&html, &format!("input#field-{field}"))[0];
        assert_eq!(input.value().attr("value"), Some(typed), "{field} kept");
        assert_eq!(input.value().attr("aria-invalid"), Some("true"), "{field}");
        let error = select(&html, &format!("#field-{field}-error"))[0];
        assert!(!text(&error).is_empty(), "{field} has its error");
        let described = input.value().attr("aria-describedby").unwrap();
        assert!(
            described
                .split(' ')
                .any(|id| id == format!("field-{field}-error"))
        );
    }
    let password = select(&html, "input#field-password")[0];
    assert!(
        !text(&select(&html, "#field-password-error")[0]).is_empty(),
        "password error too"
    );
    assert_eq!(
        password.value().attr("value"),
        None,
        "the password never comes back"
    );
    assert!(!page.body.contains("short-pw1"));
    assert!(!page.body.contains("<script>"), "typed text is inert");
}

#[tokio::test]
async fn a_flag_error_shows_in_its_form_with_the_choice_kept_and_nowhere_else() {
    let d = demo_members().await;
    let (reply, topic_path) = sams_reply(&d.db).await;
    let pid = reply.id.to_string();
    let flag_page = format!("/p/{pid}/flag");
    // "Something else" needs details. From the flag page, or from an older topic page that
    // still had the form: either way the error is shown on the flag page, in its form.
    for from in [flag_page.as_str(), topic_path.as_str()] {
        let res = post_form(
            &d.app,
            "/api/flag_post",
            &[("post_id", &pid), ("reason", "other"), ("note", "")],
            Some(&d.casey),
            from,
        )
        .await;
        let location = res.location.clone().unwrap();
        assert!(location.ends_with(&format!("#flag-{pid}")), "{location}");
        assert_eq!(path_of(&res).split('?').next(), Some(flag_page.as_str()));
        let page = follow(&d.app, &res, Some(&d.casey)).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = Html::parse_document(&page.body);
        assert_eq!(select(&html, &format!("form#flag-{pid}")).len(), 1);
        let note = select(&html, &format!("#flag-{pid}-note"))[0];
        let error_id = format!("flag-{pid}-note-error");
        assert_eq!(
            note.value().attr("aria-describedby"),
            Some(error_id.as_str())
        );
        assert_eq!(note.value().attr("aria-invalid"), Some("true"));
        let error = select(&html, &format!("form#flag-{pid} #{error_id}"));
        assert_eq!(error.len(), 1);
        assert!(!text(&error[0]).is_empty());
        let chosen = select(&html, &format!("#flag-{pid}-reason option[selected]"));
        assert_eq!(
            chosen[0].value().attr("value"),
            Some("other"),
            "the choice is kept"
        );
        // Once on the page.
        let message = text(&error[0]);
        assert_eq!(page.body.matches(&message).count(), 1, "{message}");
    }
    // The topic page never shows it (the error's address is the flag page's).
    let topic = get(&d.app, &topic_path, Some(&d.casey)).await;
    assert!(!topic.body.contains("Say what is wrong with this post."));
}

#[tokio::test]
async fn a_flag_is_confirmed_once_at_the_post_and_never_to_visitors() {
    let d = demo_members().await;
    let (reply, topic_path) = sams_reply(&d.db).await;
    let pid = reply.id.to_string();
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[("post_id", &pid), ("reason", "spam"), ("note", "")],
        Some(&d.casey),
        &format!("/p/{pid}/flag"),
    )
    .await;
    // From the flag page back to the post in its topic.
    let location = res.location.clone().unwrap();
    assert!(
        location.ends_with(&format!(
            "{topic_path}?done=flagged&post={pid}#status-post-{pid}"
        )),
        "{location}"
    );
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    let html = Html::parse_document(&page.body);
    let status = select(&html, &format!("#status-post-{pid}"));
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].value().attr("role"), Some("status"));
    assert_eq!(status[0].value().attr("aria-live"), Some("polite"));
    assert!(text(&status[0]).starts_with("Flag sent to moderators."));
    assert_eq!(page.body.matches("Flag sent to moderators.").count(), 1);
    // Inside the flagged post's card.
    let in_post = select(&html, &format!("article.post #status-post-{pid}"));
    assert_eq!(in_post.len(), 1);
    // Visitors, from the shared cache or not, see no one's confirmation.
    for _ in 0..2 {
        let visitor = get(&d.app, &topic_path, None).await;
        assert_eq!(visitor.status, StatusCode::OK);
        assert!(!visitor.body.contains("Flag sent"));
    }
    // A code that is not one says nothing; free text in the URL never shows.
    let odd = get(
        &d.app,
        &format!("{topic_path}?done=%3Cb%3Ehi&post={pid}"),
        None,
    )
    .await;
    assert!(!odd.body.contains("&lt;b&gt;hi") && !odd.body.contains("<b>hi"));
}

/// The review queue's bulk delete asks first as a single delete does: without `confirmed`
/// nothing is written and /confirm says how many posts go, with the reason; a delete without a
/// reason, or by someone who may not, is refused before anything is asked; the confirmed form
/// deletes them and the queue says so.
#[tokio::test]
async fn a_bulk_delete_asks_first() {
    let d = demo_members().await;
    let morgan = with_moderator(&d).await;
    let (reply, _) = sams_reply(&d.db).await;
    let casey = member(&d.db, "casey").await;
    let caseys = post::Entity::find()
        .filter(post::Column::AuthorId.eq(casey.id))
        .filter(post::Column::State.eq("visible"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let mut items = Vec::new();
    for (p, flagger) in [(&reply, &d.casey), (&caseys, &d.sam)] {
        let res = post_fetch(
            &d.app,
            "/api/flag_post",
            &[
                ("post_id", &p.id.to_string()),
                ("reason", "spam"),
                ("note", ""),
            ],
            Some(flagger),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        items.push(
            app::server::entity::review_item::Entity::find()
                .filter(app::server::entity::review_item::Column::PostId.eq(p.id))
                .one(&d.db)
                .await
                .unwrap()
                .unwrap()
                .id
                .to_string(),
        );
    }
    // Each item twice, as a hand-made form may send them.
    let twice: Vec<String> = items.iter().chain(&items).cloned().collect();
    let bulk = |reason: &'static str, cookie: String| {
        let (app, twice) = (d.app.clone(), twice.clone());
        async move { post_bulk(&app, &cookie, "delete", reason, &twice).await }
    };
    let untouched = || async {
        assert_eq!(post_row(&d.db, reply.id).await, reply, "nothing written");
        assert_eq!(post_row(&d.db, caseys.id).await, caseys, "nothing written");
    };

    // Without a reason: refused in the bar, nothing asked.
    let res = bulk(" ", morgan.clone()).await;
    let back = path_of(&res);
    assert!(
        back.starts_with("/admin/review?") && back.contains("__err="),
        "{back}"
    );
    untouched().await;
    // Customers and staff are refused, with or without the question.
    for cookie in [&d.casey, &d.sam] {
        let res = bulk("Spam", cookie.clone()).await;
        assert!(path_of(&res).contains("__err="), "{:?}", res.location);
        untouched().await;
    }

    // Without `confirmed`: the question, with the count and the reason.
    let res = bulk("Spam", morgan.clone()).await;
    let ask = path_of(&res);
    assert!(ask.starts_with("/confirm?action=delete_posts&"), "{ask}");
    // Each item once in the question's address.
    assert!(
        ask.contains(&format!("&option={}%2C{}&", items[0], items[1])),
        "{ask}"
    );
    untouched().await;
    let page = get(&d.app, &ask, Some(&morgan)).await;
    let html = Html::parse_document(&page.body);
    assert_eq!(
        select(&html, "h1").iter().map(text).collect::<Vec<_>>(),
        vec!["Delete 2 posts?".to_string()]
    );
    assert!(page.body.contains("Reason: Spam"));
    let sent: Vec<String> = select(&html, "section.confirm-page input[name=\"items[]\"]")
        .iter()
        .filter_map(|i| i.value().attr("value").map(str::to_string))
        .collect();
    assert_eq!(sent, items);
    for cookie in [&d.casey, &d.sam] {
        assert_eq!(
            get(&d.app, &ask, Some(cookie)).await.status,
            StatusCode::FORBIDDEN
        );
    }

    // Confirmed: both deleted, and the queue says so.
    let done = confirm_on(&d.app, &ask, &morgan).await;
    assert_eq!(
        done.location.as_deref(),
        Some("/admin/review?done=bulk.delete.2.0#status")
    );
    for id in [reply.id, caseys.id] {
        assert_eq!(post_row(&d.db, id).await.state, "deleted");
    }
    // Asked again from the same page: nothing left to delete, said without a question, of
    // the selection (no field of the bar is marked: neither the action nor the reason is wrong).
    let res = bulk("Spam", morgan.clone()).await;
    assert!(path_of(&res).contains("__err="), "{:?}", res.location);
    let page = follow(&d.app, &res, Some(&morgan)).await;
    assert!(
        page.body
            .contains(app::server::moderation::NOTHING_TO_DECIDE)
    );
    assert!(select(&Html::parse_document(&page.body), "[aria-invalid]").is_empty());
}
