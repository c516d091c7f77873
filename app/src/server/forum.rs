//! Forum rules: categories, starting topics, replies and members' edits: the checks a form
//! needs (titles, form tokens, double posts, whether the topic takes posts) before the write goes
//! through `posting`. The pages read through `views::forum`.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

use super::posting::REPLY_SENT_TWICE;
use super::posting::{CATEGORY_ARCHIVED, check_not_held_for_others, check_takes_posts};
use super::records::categories::CATEGORY_MISSING;
use super::visibility::NOT_YOUR_POST;
use super::{
    batch::Batch,
    db::begin_write,
    entity::{category, post, topic, user},
    forms, posting, records, visibility,
};
use crate::server::records::topics::MAX_TITLE_CHARS;
use crate::server::visibility::editable;
use crate::{error::AppError, model::PostState};

pub const TITLE_EMPTY: &str = "Give your topic a title.";
pub use super::visibility::{POST_MISSING, TOPIC_MISSING};
pub const TOPIC_SENT_TWICE: &str = "This topic was already posted.";

pub fn validate_title(title: &str) -> Result<String, AppError> {
    let title = super::content::one_line(title);
    let title = title.trim();
    if super::invisible::is_blank(title) {
        return Err(AppError::invalid("title", TITLE_EMPTY));
    }
    let n = title.chars().count();
    if n > MAX_TITLE_CHARS {
        return Err(AppError::invalid(
            "title",
            format!("Titles can be at most {MAX_TITLE_CHARS} characters; this one has {n}."),
        ));
    }
    Ok(title.to_string())
}

pub struct NewCategory<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub colour: &'a str,
}

pub async fn create_category(
    db: &DatabaseConnection,
    input: NewCategory<'_>,
) -> Result<category::Model, AppError> {
    let position = category::Entity::find().count(db).await? as i32;
    let created = category::ActiveModel {
        slug: Set(input.slug.into()),
        name: Set(input.name.into()),
        description: Set(input.description.into()),
        colour: Set(input.colour.into()),
        position: Set(position),
        kind: Set("forum".into()),
        response_target_minutes: Set(24 * 60),
        topic_count: Set(0),
        post_count: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // One statement, not a write transaction: the home page lists categories.
    crate::server::page_version::changed(db).await;
    Ok(created)
}

/// Starts a topic with its first post, in one transaction.
pub async fn start_topic(
    db: &DatabaseConnection,
    author: &user::Model,
    category_slug: &str,
    title: &str,
    body: &str,
    form_token: Option<&str>,
) -> Result<(topic::Model, post::Model), AppError> {
    let category = category::Entity::find()
        .filter(category::Column::Slug.eq(category_slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("category", CATEGORY_MISSING))?;
    if category.archived {
        return Err(AppError::invalid("category", CATEGORY_ARCHIVED));
    }
    if !category.customers_may_start && !author.role().is_staff() {
        return Err(AppError::invalid(
            "category",
            crate::format::sentence(&format!("Only staff start topics in {}", category.name)),
        ));
    }
    let title = validate_title(title)?;
    posting::validate_body(body)?;
    if let Some(token) = form_token {
        forms::check_unused(db, token, TOPIC_SENT_TWICE).await?;
    }
    posting::check_may_post(db, author, true).await?;
    let prepared = posting::prepare_topic(db, &title, body).await?;

    let txn = begin_write(db).await?;
    if let Some(token) = form_token {
        forms::consume(&txn, token, TOPIC_SENT_TWICE).await?;
    }
    let new = posting::NewTopic {
        category_id: category.id,
    };
    let started = posting::start_topic(&txn, author, new, &prepared).await?;
    txn.commit().await?;
    Ok(started)
}

/// Adds a reply to an open topic.
pub async fn reply(
    db: &DatabaseConnection,
    author: &user::Model,
    topic_id: i64,
    body: &str,
    form_token: Option<&str>,
) -> Result<post::Model, AppError> {
    Ok(reply_at(db, author, topic_id, body, form_token).await?.0)
}

/// `reply`, with the new post's address (its page of the topic, anchored at it), known without
/// reading the topic again.
pub async fn reply_at(
    db: &DatabaseConnection,
    author: &user::Model,
    topic_id: i64,
    body: &str,
    form_token: Option<&str>,
) -> Result<(post::Model, String), AppError> {
    check_takes_posts(&visibility::topic_to_post_in(db, topic_id, Some(author)).await?)?;
    posting::validate_body(body)?;
    if let Some(token) = form_token {
        forms::check_unused(db, token, REPLY_SENT_TWICE).await?;
    }
    posting::check_may_post(db, author, false).await?;
    let prepared = posting::prepare(db, body).await?;

    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    // The token is recorded with the topic's read, in one round trip of the writers' turn.
    let mut first = Batch::default();
    if let Some(token) = form_token {
        first.push(forms::recording(backend, token)?);
    }
    // Re-read under the write lock: it may have been locked (or unpublished) since.
    let read = visibility::to_post_in_read(backend, topic_id);
    // On SQLite admission's read goes in the same round trip (`posting::reply_under`).
    let (row, rules) = if backend == DbBackend::Sqlite {
        let admission = posting::admission_read(backend, author, &prepared, topic_id);
        let mut rows =
            Batch::after_all_each(&txn, vec![(read, Batch::default()), (admission, first)])
                .await
                .map_err(|e| forms::refused_if_used(e, REPLY_SENT_TWICE))?
                .into_iter();
        let row = rows.next().and_then(|topic| topic.into_iter().next());
        let rules = posting::admission_rules(rows.next().unwrap_or_default())?;
        (row, Some(rules))
    } else {
        let row = first
            .then_one(&txn, read)
            .await
            .map_err(|e| forms::refused_if_used(e, REPLY_SENT_TWICE))?;
        (row, None)
    };
    let found = visibility::to_post_in_found(&txn, row, Some(author)).await?;
    check_takes_posts(&found)?;
    let visibility::ToPostIn { topic, article, .. } = found;
    check_not_held_for_others(&txn, &topic, author).await?;
    let (created, last) =
        posting::reply_under(&txn, author, &topic, article.as_ref(), &prepared, rules).await?;
    txn.commit_with(last).await?;
    let url = records::posts::url_in(&created, &topic, article.as_ref());
    Ok((created, url))
}

/// The author edits their post: the old text is kept as a revision, the post shows "edited".
pub async fn edit_post(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
    body: &str,
) -> Result<post::Model, AppError> {
    own_post(db, editor, post_id).await?;
    write_edit(db, editor, post_id, body).await
}

/// Saves new text for a post through the lifecycle (the author's edit, or a moderator's, who
/// logs it in the same transaction through `then`).
pub async fn write_edit(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
    body: &str,
) -> Result<post::Model, AppError> {
    posting::validate_body(body)?;
    let prepared = posting::prepare(db, body).await?;
    let txn = begin_write(db).await?;
    let existing = post::Entity::find_by_id(post_id)
        .one(&txn)
        .await?
        .filter(|p| p.state() != PostState::Deleted)
        .ok_or_else(|| AppError::NotFound(POST_MISSING.into()))?;
    let updated = posting::edit(&txn, editor, &existing, &prepared).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn own_post(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
) -> Result<post::Model, AppError> {
    let (found, _) = editable(db, editor, post_id).await?;
    if found.author_id != editor.id {
        return Err(AppError::Forbidden(NOT_YOUR_POST.into()));
    }
    Ok(found)
}

/// Where a post is: its topic's URL at the right page, anchored at the post.
pub async fn post_url(db: &DatabaseConnection, p: &post::Model) -> Result<String, AppError> {
    records::posts::url(db, p).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::entity::post_revision;
    use crate::server::posting::BODY_EMPTY;
    use crate::server::posting::TOPIC_LOCKED;
    use crate::server::views::forum::category_page;
    use crate::server::views::forum::quote;
    use crate::server::views::forum::user_profile;
    use crate::server::views::topic::topic_page;
    use crate::server::visibility::NOT_YOUR_POST;
    use crate::server::{auth::random_token, testing::World};

    async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
        (
            topic::Entity::find().count(db).await.unwrap(),
            post::Entity::find().count(db).await.unwrap(),
            post_revision::Entity::find().count(db).await.unwrap(),
        )
    }

    fn invalid(field: &str, message: &str) -> AppError {
        AppError::invalid(field, message)
    }

    /// A title is judged by the watched words as its post is: blocked (nothing written), held,
    /// flagged, or stored with the censored word masked, in its address too.
    #[tokio::test]
    async fn watched_words_judge_a_title_as_they_judge_a_post() {
        use crate::server::entity::review_item;
        let w = World::new().await;
        crate::server::testing::watch(
            &w.db,
            &[
                ("casino", "block"),
                ("crypto", "hold"),
                ("refund*", "flag"),
                ("darn", "censor"),
                ("buy now", "censor"),
                ("o.k.", "censor"),
                ("free money", "hold"),
            ],
        )
        .await;
        let start = |title: &str| {
            let (db, customer, title) = (w.db.clone(), w.customer.clone(), title.to_string());
            async move { start_topic(&db, &customer, "questions", &title, "A plain body.", None).await }
        };
        assert_eq!(
            start("Best CA\u{200B}SİNO in town").await.unwrap_err(),
            AppError::invalid(
                "title",
                "Your title contains “casino”, which isn't allowed here. Please reword it."
            )
        );
        assert_eq!(counts(&w.db).await, (0, 0, 0));
        let (held, first) = start("Invest in ｃｒｙｐｔｏ").await.unwrap();
        assert_eq!(
            (first.state.as_str(), first.moderation_reason.as_deref()),
            ("pending", Some(crate::server::posting::HELD_WORDS))
        );
        assert_eq!(held.title, "Invest in ｃｒｙｐｔｏ");
        let (flagged, first) = start("I want refunds now").await.unwrap();
        assert_eq!((flagged.visible, first.state.as_str()), (true, "visible"));
        let (censored, _) = start("Dar\u{30A}n this export").await.unwrap();
        assert_eq!(censored.title, "■■■■ this export");
        assert_eq!(censored.slug, "this-export");
        // Among another script's letters a word is found; the slug, which keeps ASCII letters
        // only, never shows one the words read as part of a longer one.
        let (among, _) = start("中darn").await.unwrap();
        assert_eq!(
            (among.title.as_str(), among.slug.as_str()),
            ("中■■■■", "topic")
        );
        for (title, slug) in [
            ("Please buy_now or o k", "please-or"),
            ("buy buy_now now, o buy_now k", "topic"),
        ] {
            let (phrase, _) = start(title).await.unwrap();
            assert_eq!((phrase.title.as_str(), phrase.slug.as_str()), (title, slug));
        }
        // A title is one line, whatever the API was sent.
        let (broken, _) = start("Please buy\n\nnow here").await.unwrap();
        assert_eq!(broken.title, "Please ■■■■■■■■ here");
        // A phrase is found across any white space.
        let (spaced, _) = start("Buy\tnow, buy  now").await.unwrap();
        assert_eq!(
            (spaced.title.as_str(), spaced.slug.as_str()),
            ("■■■■■■■, ■■■■■■■■", "topic")
        );
        let (longer, _) = start("ñdarn help").await.unwrap();
        assert_eq!(
            (longer.title.as_str(), longer.slug.as_str()),
            ("ñdarn help", "ndarn-help")
        );
        let kinds: Vec<_> = review_item::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds, vec!["held_words", "flagged"]);
        // Characters that show nothing split no word of the address, a held word's included.
        let (held, _) = start("Pro\u{AD}cess cryp\u{200B}to").await.unwrap();
        assert_eq!(
            (held.title.as_str(), held.slug.as_str()),
            ("Pro\u{AD}cess cryp\u{200B}to", "process")
        );
        // The address reads Latin letters without their accents, so a word the title's words
        // do not read as a watched one ("dárn") is still kept out of it when it would show as one.
        let (accented, _) = start("Dárn it").await.unwrap();
        assert_eq!(
            (accented.title.as_str(), accented.slug.as_str()),
            ("Dárn it", "it")
        );
        // Words are taken out before the address is cut to 80 characters: no half of a phrase is
        // left at its end ("...-free").
        let long = "aaaaaaaa ".repeat(7) + "bbbbbbbbbbb free money";
        let (cut, _) = start(&long).await.unwrap();
        assert_eq!(
            cut.slug,
            "aaaaaaaa-aaaaaaaa-aaaaaaaa-aaaaaaaa-aaaaaaaa-aaaaaaaa-aaaaaaaa-bbbbbbbbbbb"
        );
    }

    #[tokio::test]
    async fn a_topic_and_its_replies_are_numbered_and_counted() {
        let w = World::new().await;
        let (t, first) = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "  How do I export?  ",
            "Where is **export**?",
            Some(&random_token()),
        )
        .await
        .unwrap();
        assert_eq!(
            (t.title.as_str(), t.slug.as_str(), first.post_number),
            ("How do I export?", "how-do-i-export", 1)
        );
        assert_eq!(first.html, "<p>Where is <strong>export</strong>?</p>\n");
        let second = reply(&w.db, &w.other, t.id, "Settings, then Export.", None)
            .await
            .unwrap();
        assert_eq!(second.post_number, 2);
        let t = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.post_count, 2);
        let c = category::Entity::find_by_id(t.category_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((c.topic_count, c.post_count), (1, 2));
        assert!(c.last_posted_at.is_some());
    }

    #[tokio::test]
    async fn each_bad_topic_gets_its_message_and_writes_nothing() {
        let w = World::new().await;
        let long_title = "t".repeat(201);
        let long_body = "b".repeat(50_001);
        let cases = [
            ("questions", "", "body", invalid("title", TITLE_EMPTY)),
            ("questions", "   \t ", "body", invalid("title", TITLE_EMPTY)),
            // Characters that show nothing are no title and no body.
            (
                "questions",
                "\u{200B}\u{2060} \u{FEFF}",
                "body",
                invalid("title", TITLE_EMPTY),
            ),
            (
                "questions",
                "Title",
                "\u{200B}\n\u{2800}\u{0001}\u{E0041}",
                invalid("body", BODY_EMPTY),
            ),
            (
                "questions",
                long_title.as_str(),
                "body",
                invalid(
                    "title",
                    "Titles can be at most 200 characters; this one has 201.",
                ),
            ),
            ("questions", "Title", "", invalid("body", BODY_EMPTY)),
            ("questions", "Title", " \n\t ", invalid("body", BODY_EMPTY)),
            (
                "questions",
                "Title",
                long_body.as_str(),
                invalid(
                    "body",
                    "Posts can be at most 50,000 characters; this one has 50,001.",
                ),
            ),
            (
                "no-such-category",
                "Title",
                "body",
                invalid("category", CATEGORY_MISSING),
            ),
        ];
        for (category, title, body, expected) in cases {
            let got = start_topic(
                &w.db,
                &w.customer,
                category,
                title,
                body,
                Some(&random_token()),
            )
            .await
            .unwrap_err();
            assert_eq!(got, expected, "{category} {title:.20} {body:.20}");
        }
        assert_eq!(counts(&w.db).await, (0, 0, 0));
        // Exactly at the limits is fine.
        start_topic(
            &w.db,
            &w.customer,
            "questions",
            &"t".repeat(200),
            &"b".repeat(50_000),
            None,
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_topic_form_sent_twice_posts_once() {
        let w = World::new().await;
        let token = random_token();
        start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Once",
            "only once",
            Some(&token),
        )
        .await
        .unwrap();
        let again = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Once",
            "only once",
            Some(&token),
        )
        .await
        .unwrap_err();
        assert_eq!(again, invalid("form", TOPIC_SENT_TWICE));
        assert_eq!(counts(&w.db).await, (1, 1, 0));
    }

    #[test]
    fn html_shows_nothing_without_text_or_an_image() {
        use crate::server::posting::shows_nothing;
        for nothing in [
            "",
            "<p></p>",
            "<hr>",
            "<p>&#8203;&nbsp;</p>",
            "<a href=\"/x\"></a>",
            "<p><rp>hidden</rp></p>",
            "<p><ruby><rp>(</rp><rp>)</rp></ruby></p>",
            "<p><img alt=\"Image\"></p>",
            "<p><img src=\"/uploads/1/a.png\" width=\"0\" height=\"0\" alt=\"a\"></p>",
            "<p><img src=\"/uploads/1/a.png\" width=\"1\" alt=\"a\"></p>",
            "<p><img height=\"00\" src=\"/uploads/1/a.png\" alt=\"a\"></p>",
            "<p><img src=\"/uploads/1/a.png\" width=\"0px\" alt=\"a\"></p>",
            "<p><img src=\"/uploads/1/a.png\" width=\"\t0\" alt=\"a\"></p>",
            "<p><img src=\"/uploads/1/a.png\" height=\"1.9\" alt=\"a\"></p>",
            "<p><rp><img src=\"/uploads/1/a.png\" alt=\"a\"></rp></p>",
        ] {
            assert!(shows_nothing(nothing), "{nothing}");
        }
        for something in [
            "<p>a</p>",
            "<p><img src=\"/uploads/a.png\" alt=\"\"></p>",
            "<p><img src=\"/uploads/a.png\" width=\"640\" alt=\"\"></p>",
            "<p>&lt;</p>",
            "<p><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby></p>",
        ] {
            assert!(!shows_nothing(something), "{something}");
        }
    }

    #[tokio::test]
    async fn bad_replies_are_refused_and_write_nothing() {
        let w = World::new().await;
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Topic", "first", None)
            .await
            .unwrap();
        for blank in [
            "  ",
            "\u{200B}",
            "\u{00AD}\u{3164}\u{1}",
            // Markup that renders to nothing.
            "<!-- x -->",
            "&#8203;&nbsp;",
            "<b></b><div></div>",
            "[](http://example.com)",
            "\u{FFF0}\u{FFFB}",
        ] {
            assert_eq!(
                reply(&w.db, &w.other, t.id, blank, None).await.unwrap_err(),
                invalid("body", BODY_EMPTY)
            );
        }
        assert_eq!(
            reply(&w.db, &w.other, 999, "hello", None)
                .await
                .unwrap_err(),
            AppError::NotFound(TOPIC_MISSING.into())
        );

        // The same form twice, and the same text twice from another form: stored once.
        let token = random_token();
        reply(&w.db, &w.other, t.id, "me too", Some(&token))
            .await
            .unwrap();
        assert_eq!(
            reply(&w.db, &w.other, t.id, "me too", Some(&token))
                .await
                .unwrap_err(),
            invalid("form", REPLY_SENT_TWICE)
        );
        assert_eq!(
            reply(&w.db, &w.other, t.id, "me too", Some(&random_token()))
                .await
                .unwrap_err(),
            invalid("form", posting::SAME_REPLY_AGAIN)
        );
        // Someone else saying the same is not a duplicate.
        reply(&w.db, &w.customer, t.id, "me too", None)
            .await
            .unwrap();

        let mut locked: topic::ActiveModel = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        locked.locked = Set(true);
        locked.update(&w.db).await.unwrap();
        assert_eq!(
            reply(&w.db, &w.other, t.id, "let me in", None)
                .await
                .unwrap_err(),
            invalid("form", TOPIC_LOCKED)
        );
        // Open again, in a category archived since.
        let mut open: topic::ActiveModel = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        open.locked = Set(false);
        open.update(&w.db).await.unwrap();
        let mut archived: category::ActiveModel = category::Entity::find_by_id(t.category_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        archived.archived = Set(true);
        archived.update(&w.db).await.unwrap();
        assert_eq!(
            reply(&w.db, &w.other, t.id, "still here?", None)
                .await
                .unwrap_err(),
            invalid("form", posting::CATEGORY_ARCHIVED)
        );
        assert_eq!(counts(&w.db).await, (1, 3, 0));
    }

    #[tokio::test]
    async fn edits_keep_revisions_and_only_the_author_may_edit() {
        let w = World::new().await;
        let (_, first) = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Topic",
            "first version",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            edit_post(&w.db, &w.other, first.id, "vandalised")
                .await
                .unwrap_err(),
            AppError::Forbidden(NOT_YOUR_POST.into())
        );
        assert_eq!(
            edit_post(&w.db, &w.customer, first.id, " ")
                .await
                .unwrap_err(),
            invalid("body", BODY_EMPTY)
        );
        assert_eq!(counts(&w.db).await, (1, 1, 0));

        let unchanged = edit_post(&w.db, &w.customer, first.id, "first version")
            .await
            .unwrap();
        assert!(unchanged.edited_at.is_none(), "a no-op edit writes nothing");
        let edited = edit_post(&w.db, &w.customer, first.id, "second *version*")
            .await
            .unwrap();
        assert!(edited.edited_at.is_some());
        assert_eq!(edited.html, "<p>second <em>version</em></p>\n");
        let revisions = post_revision::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(revisions.len(), 1);
        assert_eq!(
            (revisions[0].old_source.as_str(), revisions[0].editor_id),
            ("first version", w.customer.id)
        );
    }

    #[tokio::test]
    async fn topic_pages_hold_thirty_posts_each() {
        let w = World::new().await;
        // 65 posts in a moment: beyond the posting rate limit, which is not what this tests.
        crate::server::settings::put(&w.db, crate::server::settings::POSTS_PER_10_MIN.0, "0")
            .await
            .unwrap();
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Long one", "post 1", None)
            .await
            .unwrap();
        for i in 2..=65 {
            reply(
                &w.db,
                if i % 2 == 0 { &w.other } else { &w.customer },
                t.id,
                &format!("post {i}"),
                None,
            )
            .await
            .unwrap();
        }
        let p1 = topic_page(&w.db, t.id, 1, Some(&w.customer)).await.unwrap();
        assert_eq!(
            (p1.page_count, p1.posts.len(), p1.posts[0].number),
            (3, 30, 1)
        );
        assert_eq!(p1.summary, "post 1");
        assert!(p1.posts[0].editable && !p1.posts[1].editable);
        let p2 = topic_page(&w.db, t.id, 2, None).await.unwrap();
        assert_eq!(
            (
                p2.posts.first().unwrap().number,
                p2.posts.last().unwrap().number
            ),
            (31, 60)
        );
        assert_eq!(
            topic_page(&w.db, t.id, 3, None).await.unwrap().posts.len(),
            5
        );
        assert!(matches!(
            topic_page(&w.db, t.id, 4, None).await,
            Err(AppError::NotFound(_))
        ));

        let last = post::Entity::find()
            .filter(post::Column::PostNumber.eq(65))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            post_url(&w.db, &last).await.unwrap(),
            format!("/t/{}/long-one?page=3#post-65", t.id)
        );
    }

    #[tokio::test]
    async fn a_page_past_the_end_of_a_topic_one_may_not_see_is_the_topic_not_found() {
        let w = World::new().await;
        crate::server::testing::watch(&w.db, &[("lawsuit", "hold")]).await;
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Held", "a lawsuit", None)
            .await
            .unwrap();
        assert!(!t.visible);
        // Nothing tells another member that the held topic exists, or how long it is.
        assert_eq!(
            topic_page(&w.db, t.id, 9, Some(&w.other)).await,
            Err(AppError::NotFound(
                crate::server::visibility::TOPIC_MISSING.into()
            ))
        );
        let own = topic_page(&w.db, t.id, 9, Some(&w.customer))
            .await
            .unwrap_err();
        assert!(own.to_string().starts_with("There is no page 9"), "{own}");
        let held = topic_page(&w.db, t.id, 1, Some(&w.staff)).await.unwrap();
        assert!(held.held && held.posts.len() == 1);
    }

    #[tokio::test]
    async fn category_pages_list_by_latest_activity() {
        let w = World::new().await;
        let (older, _) = start_topic(&w.db, &w.customer, "questions", "Older", "a", None)
            .await
            .unwrap();
        start_topic(&w.db, &w.customer, "questions", "Newer", "b", None)
            .await
            .unwrap();
        reply(&w.db, &w.other, older.id, "bump", None)
            .await
            .unwrap();
        let page = category_page(&w.db, "questions", 1, None).await.unwrap();
        let titles: Vec<_> = page
            .topics
            .iter()
            .map(|t| (t.title.as_str(), t.reply_count))
            .collect();
        assert_eq!(titles, vec![("Older", 1), ("Newer", 0)]);
        assert!(matches!(
            category_page(&w.db, "nope", 1, None).await,
            Err(AppError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn mentions_link_members_and_quotes_name_the_author() {
        let w = World::new().await;
        let (_, first) = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Hi",
            "thanks @User2 and @ghost",
            None,
        )
        .await
        .unwrap();
        assert!(
            first.html.contains(r#"<a class="mention" href="/u/User2""#),
            "{}",
            first.html
        );
        assert!(first.html.contains("@ghost") && !first.html.contains("/u/ghost"));
        assert_eq!(
            quote(&w.db, first.id, None).await.unwrap(),
            "@user1 wrote:\n> thanks @User2 and @ghost\n\n"
        );
    }

    #[tokio::test]
    async fn member_pages_show_recent_activity() {
        let w = World::new().await;
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Mine", "my topic", None)
            .await
            .unwrap();
        reply(&w.db, &w.other, t.id, "a reply by bob", None)
            .await
            .unwrap();
        let bob = user_profile(&w.db, "USER2").await.unwrap();
        assert_eq!((bob.topic_count, bob.post_count), (0, 1));
        assert_eq!(bob.posts[0].excerpt, "a reply by bob");
        assert!(matches!(
            user_profile(&w.db, "nobody").await,
            Err(AppError::NotFound(_))
        ));
    }
}

/// What a reply costs the database: on SQLite writers take turns, and each statement of a
/// write is a round trip to SQLite's thread inside the turn, so a reply's statements bound how
/// many replies a second a site takes (docs/benchmarks.md). A change that adds one should be a
/// choice, not an accident.
#[cfg(test)]
mod statement_budget {
    use super::*;
    use crate::server::{auth::random_token, testing::World};
    use std::sync::{Arc, Mutex};

    /// Statements of a plain reply (a member answering someone else's topic, with a form
    /// token), before its transaction and in it: round trips, so writes sent together with a
    /// read (`Batch`) count once.
    const REPLY_STATEMENTS: usize = 8;

    #[tokio::test]
    async fn a_reply_runs_within_its_statement_budget() {
        let mut w = World::new().await;
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Export?", "Where?", None)
            .await
            .unwrap();
        // The first reply makes the follow row and the topic author's notification; the second
        // is the usual case.
        reply(&w.db, &w.other, t.id, "First answer.", None)
            .await
            .unwrap();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        w.db.set_metric_callback(move |i| log.lock().unwrap().push(i.statement.sql.clone()));
        let token = random_token();
        let created = reply(
            &w.db,
            &w.other,
            t.id,
            "Settings, then Export.",
            Some(&token),
        )
        .await
        .unwrap();
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.len() <= REPLY_STATEMENTS,
            "{} statements:\n{}",
            seen.len(),
            seen.join("\n")
        );
        // Its savepoint in the writers' group goes with its first statement there, the
        // topic's read with admission's and the token's record (`db::WriteTransaction`,
        // `posting::reply_under`), not on its own.
        let opened: Vec<_> = seen.iter().filter(|s| s.contains("SAVEPOINT")).collect();
        assert_eq!(opened.len(), 1, "{opened:?}");
        assert!(
            opened[0].starts_with("SAVEPOINT")
                && opened[0].contains(r#"FROM "topics""#)
                && opened[0].contains("FROM watched_words")
                && opened[0].contains("form_submissions"),
            "{}",
            opened[0]
        );
        assert!(
            !seen
                .iter()
                .skip_while(|s| !s.contains("SAVEPOINT"))
                .skip(1)
                .any(|s| s.contains("watched_words")),
            "admission reads once: {seen:?}"
        );
        // The post is written and read back with the settling's read and the topic's
        // author's (`posting::write`), and the writes after them go with the end of its
        // savepoint (`db::WriteTransaction::commit_with`): three round trips in the writers'
        // turn, the savepoint's first.
        let in_turn: Vec<_> = seen
            .iter()
            .skip_while(|s| !s.contains("SAVEPOINT"))
            .collect();
        assert_eq!(in_turn.len(), 3, "{in_turn:#?}");
        assert!(
            [
                "INSERT INTO posts",
                "INSERT INTO search_index",
                "topic_follows",
                "SELECT t.*",
                "SELECT p.*",
                "mail_preferences"
            ]
            .iter()
            .all(|part| in_turn[1].contains(part)),
            "{}",
            in_turn[1]
        );
        assert!(
            in_turn[2].contains("fan_outs")
                && in_turn[2].contains("UPDATE notifications")
                && in_turn[2].trim_end().ends_with("RELEASE backyard_writer"),
            "{}",
            in_turn[2]
        );
        // And it did what a reply does.
        assert_eq!(created.post_number, 3);
        let t = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.post_count, 3);
    }
}
