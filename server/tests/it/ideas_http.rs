//! Voting on ideas through the real router (issue 17, points 1 and 7): with and without
//! JavaScript, a visitor sent to log in whose vote is then cast, every refusal with its message
//! and nothing written, the ideas list's sorts and "my votes", staff's pending count, merging,
//! and idea titles that stay text on the list.

use crate::common::*;
use app::{
    api::ideas::{ORIGINAL_UNREADABLE, VOTE_UNKNOWN},
    server::{
        entity::{topic, user, vote},
        forum,
        ideas::{self, ALREADY_VOTED, MERGED_ELSEWHERE, NOT_AN_IDEA, NOT_VOTED, VOTING_CLOSED},
        staff,
        visibility::TOPIC_MISSING,
    },
};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

async fn member(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// The member's account made a month old, so their votes count at once.
async fn seasoned(db: &DatabaseConnection, username: &str) -> user::Model {
    let mut row: user::ActiveModel = member(db, username).await.into();
    row.created_at = Set(Utc::now() - Duration::days(30));
    row.update(db).await.unwrap()
}

/// A new idea in the demo's ideas category, started by sam.
async fn idea(db: &DatabaseConnection, title: &str) -> topic::Model {
    let sam = member(db, "sam").await;
    forum::start_topic(db, &sam, "product-feedback", title, "Please.", None)
        .await
        .unwrap()
        .0
}

async fn reload(db: &DatabaseConnection, t: &topic::Model) -> topic::Model {
    topic::Entity::find_by_id(t.id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// Everything but what any request may touch (sessions' "last seen", failed log-ins).
async fn rows(db: &DatabaseConnection) -> std::collections::BTreeMap<String, Vec<String>> {
    table_rows(db, &["sessions", "login_failures", "seaql_migrations"], &[]).await
}

fn path_of(t: &topic::Model) -> String {
    format!("/t/{}/{}", t.id, t.slug)
}

async fn votes_of(db: &DatabaseConnection, t: &topic::Model) -> u64 {
    vote::Entity::find()
        .filter(vote::Column::TopicId.eq(t.id))
        .count(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_member_votes_and_takes_it_back_with_and_without_javascript() {
    let d = demo_members().await;
    seasoned(&d.db, "casey").await;
    let t = idea(&d.db, "Dark mode").await;
    let here = path_of(&t);
    let id = t.id.to_string();

    let page = get(&d.app, &here, Some(&d.casey)).await;
    assert!(
        page.body.contains(r#"aria-pressed="false""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("0 votes"));

    // Without JavaScript: back to the idea, which shows the vote.
    let res = post_form(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "up")],
        Some(&d.casey),
        &here,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{here}#idea-{id}").as_str())
    );
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(
        page.body.contains(r#"aria-pressed="true""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Voted<"), "{}", page.body);
    assert!(page.body.contains("1 vote<"), "{}", page.body);
    assert_eq!(reload(&d.db, &t).await.vote_count, 1);

    // Twice: the message, and still one row.
    let before = rows(&d.db).await;
    let res = post_fetch(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "up")],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.body.contains(ALREADY_VOTED), "{}", res.body);
    assert_eq!(rows(&d.db).await, before);
    assert_eq!(votes_of(&d.db, &t).await, 1);
    // And without JavaScript the message is on the page it came back to.
    let res = post_form(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "up")],
        Some(&d.casey),
        &here,
    )
    .await;
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(page.body.contains(ALREADY_VOTED), "{}", page.body);
    assert_eq!(rows(&d.db).await, before);

    // With JavaScript: the answer is the new standing.
    let res = post_fetch(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "withdraw")],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let standing: app::model::VoteStanding = serde_json::from_str(&res.body).unwrap();
    assert_eq!((standing.voted, standing.count), (false, 0));
    assert_eq!(votes_of(&d.db, &t).await, 0);

    let before = rows(&d.db).await;
    for (value, expected) in [("withdraw", NOT_VOTED), ("sideways", VOTE_UNKNOWN)] {
        let res = post_fetch(
            &d.app,
            "/api/vote",
            &[("topic_id", &id), ("vote", value)],
            Some(&d.casey),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
        let expected = serde_json::to_string(expected).unwrap();
        assert!(
            res.body.contains(expected.trim_matches('"')),
            "{value}: {}",
            res.body
        );
    }
    assert_eq!(rows(&d.db).await, before);

    // A new member's vote waits, and says why; staff see it as pending, others do not.
    let res = post_fetch(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "up")],
        Some(&d.sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let csv = topic::Entity::find_by_id(1)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let demo_idea = path_of(&csv);
    // The demo: sam's and the admin's votes count, casey's own waits (her account was new).
    assert_eq!((csv.vote_count, csv.pending_vote_count), (2, 1));
    let staff_view = get(&d.app, &demo_idea, Some(&d.sam)).await;
    assert!(
        staff_view.body.contains("+1 pending"),
        "{}",
        staff_view.body
    );
    let casey_view = get(&d.app, &demo_idea, Some(&d.casey)).await;
    assert!(!casey_view.body.contains("pending<"), "{}", casey_view.body);
    assert!(
        casey_view
            .body
            .contains("Your vote counts once your account is a day old."),
        "{}",
        casey_view.body
    );
    assert!(
        !get(&d.app, &demo_idea, None)
            .await
            .body
            .contains("pending<")
    );
}

#[tokio::test]
async fn a_suspended_member_cannot_vote_and_nothing_is_written() {
    let d = demo_members().await;
    let t = idea(&d.db, "Keyboard shortcuts").await;
    let mut casey: user::ActiveModel = seasoned(&d.db, "casey").await.into();
    casey.suspended_until = Set(Some(Utc::now() + Duration::days(3)));
    casey.suspension_reason = Set(Some("Shouting".into()));
    casey.update(&d.db).await.unwrap();
    let before = rows(&d.db).await;
    let res = post_fetch(
        &d.app,
        "/api/vote",
        &[("topic_id", &t.id.to_string()), ("vote", "up")],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(
        res.body.contains("Your account is suspended until"),
        "{}",
        res.body
    );
    assert_eq!(rows(&d.db).await, before);
    assert_eq!(votes_of(&d.db, &t).await, 0);
}

#[tokio::test]
async fn a_visitor_is_sent_to_log_in_and_the_vote_is_cast_once_they_have() {
    let d = demo_members().await;
    seasoned(&d.db, "casey").await;
    let t = idea(&d.db, "Export to PDF").await;
    let id = t.id.to_string();

    // A visitor sees a plain form (no island) that posts the same vote.
    let list = get(&d.app, "/c/product-feedback", None).await;
    assert!(
        list.body
            .contains(r#"<form method="post" action="/api/vote""#),
        "{}",
        list.body
    );
    let res = post_form(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "up")],
        None,
        "/c/product-feedback",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some(format!("/login?next={}%23idea-{id}", path_of(&t)).as_str())
    );
    assert_eq!(
        votes_of(&d.db, &t).await,
        0,
        "nothing cast before logging in"
    );
    let visitor = res.session_cookie().expect("the vote is kept in a session");

    let res = log_in(&d.app, "casey", "demo-customer-pass", Some(&visitor)).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let casey = res.session_cookie().unwrap();
    assert_eq!(signed_in_as(&d.app, &casey).await.as_deref(), Some("casey"));
    assert_eq!(votes_of(&d.db, &t).await, 1);
    assert_eq!(reload(&d.db, &t).await.vote_count, 1);

    // The kept vote was used up: logging in again casts nothing, and a vote kept for an idea
    // that closed meanwhile is not cast, while the log-in itself succeeds.
    let res = post_form(
        &d.app,
        "/api/vote",
        &[("topic_id", &id), ("vote", "up")],
        None,
        "/",
    )
    .await;
    let visitor = res.session_cookie().unwrap();
    let sam = member(&d.db, "sam").await;
    staff::set_status(&d.db, &sam, t.id, "declined", "")
        .await
        .unwrap();
    let res = log_in(&d.app, "admin", "demo-admin-pass", Some(&visitor)).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(votes_of(&d.db, &t).await, 1);

    // An idea out of a visitor's sight: not found, and nothing kept (no session at all).
    let hidden = idea(&d.db, "Secret roadmap").await;
    let mut row: topic::ActiveModel = hidden.clone().into();
    row.visible = Set(false);
    row.update(&d.db).await.unwrap();
    let before = table_rows(&d.db, &["login_failures", "seaql_migrations"], &[]).await;
    let res = post_fetch(
        &d.app,
        "/api/vote",
        &[("topic_id", &hidden.id.to_string()), ("vote", "up")],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert!(res.body.contains(TOPIC_MISSING), "{}", res.body);
    assert!(res.session_cookie().is_none());
    assert_eq!(
        table_rows(&d.db, &["login_failures", "seaql_migrations"], &[]).await,
        before
    );
}

#[tokio::test]
async fn a_visitor_who_signs_up_has_the_vote_cast_as_a_new_members_vote() {
    let d = demo_members().await;
    let t = idea(&d.db, "Calendar sync").await;
    let res = post_form(
        &d.app,
        "/api/vote",
        &[("topic_id", &t.id.to_string()), ("vote", "up")],
        None,
        &path_of(&t),
    )
    .await;
    let visitor = res.session_cookie().unwrap();
    let token = form_token_on(&d.app, "/signup", Some(&visitor)).await;
    let res = post_form(
        &d.app,
        "/api/sign_up",
        &[
            ("username", "robin"),
            ("email", "robin@example.com"),
            ("password", "a long enough password"),
            ("form_token", &token),
            ("next", &path_of(&t)),
        ],
        Some(&visitor),
        "/signup",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let t = reload(&d.db, &t).await;
    // Cast, and waiting: the account is new and its address unconfirmed.
    assert_eq!((t.vote_count, t.pending_vote_count), (0, 1));
}

#[tokio::test]
async fn votes_are_refused_where_they_do_not_belong_with_the_reason_and_nothing_written() {
    let d = demo_members().await;
    let casey = seasoned(&d.db, "casey").await;
    let sam = member(&d.db, "sam").await;
    let question = forum::start_topic(&d.db, &casey, "questions", "How do I log out?", "?", None)
        .await
        .unwrap()
        .0;
    let closed = idea(&d.db, "Fax support").await;
    staff::set_status(&d.db, &sam, closed.id, "closed", "")
        .await
        .unwrap();
    let original = idea(&d.db, "Dark theme").await;
    let duplicate = idea(&d.db, "Night mode").await;
    ideas::merge(&d.db, &sam, duplicate.id, original.id, "Same idea")
        .await
        .unwrap();
    let hidden = idea(&d.db, "Internal only").await;
    let mut row: topic::ActiveModel = hidden.clone().into();
    row.visible = Set(false);
    row.update(&d.db).await.unwrap();

    let before = rows(&d.db).await;
    for (t, status, expected) in [
        (&question, StatusCode::BAD_REQUEST, NOT_AN_IDEA),
        (&closed, StatusCode::BAD_REQUEST, VOTING_CLOSED),
        (&duplicate, StatusCode::BAD_REQUEST, MERGED_ELSEWHERE),
        (&hidden, StatusCode::NOT_FOUND, TOPIC_MISSING),
    ] {
        let res = post_fetch(
            &d.app,
            "/api/vote",
            &[("topic_id", &t.id.to_string()), ("vote", "up")],
            Some(&d.casey),
        )
        .await;
        assert_eq!(res.status, status, "{}: {}", t.title, res.body);
        assert!(res.body.contains(expected), "{}: {}", t.title, res.body);
        assert_eq!(rows(&d.db).await, before, "{} wrote something", t.title);
    }

    // Pages: a closed idea shows its count without a button; a merged one links to the original.
    let page = get(&d.app, &path_of(&closed), Some(&d.casey)).await;
    assert!(page.body.contains("Voting closed"), "{}", page.body);
    assert!(!page.body.contains("vote-button"), "{}", page.body);
    let page = get(&d.app, &path_of(&duplicate), Some(&d.casey)).await;
    assert!(page.body.contains("Merged into "), "{}", page.body);
    assert!(
        page.body
            .contains(&format!(r#"href="{}">Dark theme</a>"#, path_of(&original))),
        "{}",
        page.body
    );
    assert!(!page.body.contains("vote-button"), "{}", page.body);
    // A forum topic has no vote at all.
    let page = get(&d.app, &path_of(&question), Some(&d.casey)).await;
    assert!(!page.body.contains("idea-votes"), "{}", page.body);
}

#[tokio::test]
async fn only_staff_merge_ideas_and_bad_input_is_answered_next_to_the_field() {
    let d = demo_members().await;
    let original = idea(&d.db, "Offline mode").await;
    let duplicate = idea(&d.db, "Work without internet").await;
    let here = path_of(&duplicate);
    let dup = duplicate.id.to_string();
    let orig = original.id.to_string();

    // The form is for staff only.
    assert!(
        get(&d.app, &here, Some(&d.sam))
            .await
            .body
            .contains("Merge into another idea")
    );
    assert!(
        !get(&d.app, &here, Some(&d.casey))
            .await
            .body
            .contains("Merge into another idea")
    );

    let before = rows(&d.db).await;
    assert_refused(
        &d.app,
        "/api/merge_idea",
        &[("topic_id", &dup), ("original", &orig), ("note", "")],
        "a customer",
        Some(&d.casey),
        "Only staff and above can do that.",
    )
    .await;
    assert_refused(
        &d.app,
        "/api/merge_idea",
        &[("topic_id", &dup), ("original", &orig), ("note", "")],
        "a visitor",
        None,
        app::api::SIGNED_OUT,
    )
    .await;
    for (original, expected) in [
        ("the offline one", ORIGINAL_UNREADABLE),
        (dup.as_str(), "An idea can't be merged into itself."),
    ] {
        let res = post_form(
            &d.app,
            "/api/merge_idea",
            &[("topic_id", &dup), ("original", original), ("note", "")],
            Some(&d.sam),
            &here,
        )
        .await;
        let page = follow(&d.app, &res, Some(&d.sam)).await;
        let field = page
            .body
            .find(r#"id="field-original-error""#)
            .expect("the field's error");
        let at = field + page.body[field..].find('>').unwrap() + 1;
        assert!(
            page.body[at..].starts_with(&expected.replace('\'', "&#x27;"))
                || page.body[at..].starts_with(expected),
            "{original}: {}",
            &page.body[at..at + 120]
        );
        assert_eq!(rows(&d.db).await, before, "{original} wrote something");
    }

    // By address, as staff paste it.
    let res = post_form(
        &d.app,
        "/api/merge_idea",
        &[
            ("topic_id", &dup),
            ("original", &format!("{ORIGIN}{}", path_of(&original))),
            ("note", "Same wish"),
        ],
        Some(&d.sam),
        &here,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some(path_of(&original).as_str()));
    assert_eq!(
        reload(&d.db, &duplicate).await.merged_into_id,
        Some(original.id)
    );
}

#[tokio::test]
async fn the_ideas_list_sorts_filters_my_votes_and_keeps_hostile_titles_as_text() {
    let d = demo_members().await;
    let casey = seasoned(&d.db, "casey").await;
    let sam = member(&d.db, "sam").await;
    let admin = member(&d.db, "admin").await;
    let hostile = r#"<script>alert(1)</script>"'><img src=x onerror=alert(2)>"#;
    // Created first, with no votes: last by votes, last by newest.
    idea(&d.db, "Quiet idea").await;
    let popular = idea(&d.db, hostile).await;
    let liked = idea(&d.db, "Liked idea").await;
    for voter in [&casey, &sam, &admin] {
        ideas::vote(&d.db, voter, popular.id, None).await.unwrap();
    }
    ideas::vote(&d.db, &casey, liked.id, None).await.unwrap();

    let titles = |body: &str| -> Vec<String> {
        let html = scraper::Html::parse_document(body);
        let rows = scraper::Selector::parse(".topic-row .topic-title").unwrap();
        html.select(&rows)
            .map(|a| a.text().collect::<String>())
            .collect()
    };
    let page = get(&d.app, "/c/product-feedback", Some(&d.casey)).await;
    assert_eq!(page.status, StatusCode::OK);
    let by_votes = titles(&page.body);
    assert_eq!(
        by_votes,
        [
            hostile,
            "Export to CSV would save me an hour a week",
            "Liked idea",
            "Quiet idea"
        ],
        "most votes first"
    );
    // The hostile title is text: no element or handler came of it.
    let html = scraper::Html::parse_document(&page.body);
    for (selector, what) in [
        ("img", "an injected image"),
        ("[onerror]", "an event handler"),
    ] {
        let s = scraper::Selector::parse(selector).unwrap();
        assert_eq!(html.select(&s).count(), 0, "{what}");
    }
    let scripts = scraper::Selector::parse("script").unwrap();
    assert!(
        html.select(&scripts)
            .all(|s| !s.text().collect::<String>().contains("alert(1)")),
        "an injected script"
    );

    let newest = titles(
        &get(&d.app, "/c/product-feedback?sort=newest", Some(&d.casey))
            .await
            .body,
    );
    assert_eq!(newest[0], "Liked idea");
    assert_eq!(newest[3], "Export to CSV would save me an hour a week");
    let trending = titles(
        &get(&d.app, "/c/product-feedback?sort=trending", None)
            .await
            .body,
    );
    assert_eq!(trending[0], hostile);
    assert_eq!(trending[1], "Export to CSV would save me an hour a week");

    // My votes: the ideas casey voted for (her own demo vote waits, and is hers all the same).
    let mine = get(&d.app, "/c/product-feedback?mine=1", Some(&d.casey)).await;
    assert_eq!(
        titles(&mine.body),
        [
            hostile,
            "Export to CSV would save me an hour a week",
            "Liked idea"
        ]
    );
    assert!(
        mine.body
            .contains(r#"href="/c/product-feedback?mine=1" aria-current="page""#)
    );
    // Sort and filter links carry each other, and the status filter keeps both.
    let both = get(
        &d.app,
        "/c/product-feedback?sort=newest&mine=1",
        Some(&d.casey),
    )
    .await;
    assert!(
        both.body
            .contains(r#"href="/c/product-feedback?status=planned&amp;sort=newest&amp;mine=1""#),
        "{}",
        both.body
    );
    // A visitor has no "my votes".
    assert!(
        !get(&d.app, "/c/product-feedback", None)
            .await
            .body
            .contains("My votes")
    );

    // An unknown sort is refused with what the choices are.
    let bad = get(&d.app, "/c/product-feedback?sort=loudest", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains(app::server::views::forum::SORT_UNKNOWN),
        "{}",
        bad.body
    );
    // A forum category lists as before, without votes.
    assert!(
        !get(&d.app, "/c/questions", Some(&d.casey))
            .await
            .body
            .contains("idea-votes")
    );
}
