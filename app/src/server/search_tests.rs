//! Search rules, the same on SQLite and PostgreSQL: every kind of write keeps the index right,
//! only what a visitor may read is found, and what people type works (stems, accents, phrases,
//! prefixes, CJK, any-word fallback), while typed syntax is only ever data.
use chrono::{Duration, Utc};
use proptest::prelude::*;
use sea_orm::DatabaseConnection;

use crate::{
    error::AppError,
    model::{SearchRequest, TextPart},
};
use crate::server::search::{BAD_DATE, NO_SUCH_CATEGORY, search, similar};
use crate::server::{
    blog::{self, ArticleInput, Publish},
    forum,
    moderation::{self as moderation_feature, PostAction},
    staff,
    testing::{PostgresTestDb, World},
};

fn ask(q: &str) -> SearchRequest {
    SearchRequest {
        q: q.into(),
        page: 1,
        ..Default::default()
    }
}

async fn urls(db: &DatabaseConnection, request: SearchRequest) -> Vec<String> {
    search(db, request)
        .await
        .expect("search answers")
        .hits
        .into_iter()
        .map(|h| h.url)
        .collect()
}

async fn found(db: &DatabaseConnection, q: &str) -> Vec<String> {
    urls(db, ask(q)).await
}

fn text(parts: &[TextPart]) -> String {
    parts.iter().map(|p| p.text.as_str()).collect()
}

fn marked_words(parts: &[TextPart]) -> Vec<String> {
    parts
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.to_lowercase())
        .collect()
}

fn article(title: &str, body: &str, publish: Publish) -> ArticleInput {
    ArticleInput {
        title: title.into(),
        slug: String::new(),
        summary: String::new(),
        body: body.into(),
        cover_image_url: String::new(),
        tags: String::new(),
        comments_open: true,
        publish,
    }
}

/// The whole lifecycle of a topic, checked through search after each step.
async fn every_write_keeps_the_index_right(w: World) {
    let db = &w.db;
    let (t, first) = forum::start_topic(
        db,
        &w.customer,
        "questions",
        "Export to CSV is slow",
        "The café export takes minutes since the update.",
        None,
    )
    .await
    .unwrap();
    let opening = format!("/t/{}/{}#post-1", t.id, t.slug);
    // Found at once, by word, stem, accent-free spelling, prefix and phrase.
    for q in ["export", "exports", "exporting", "cafe", "CAFÉ", "expo", "\"export takes minutes\""] {
        assert_eq!(found(db, q).await, vec![opening.clone()], "{q}");
    }
    assert!(found(db, "\"minutes takes\"").await.is_empty());
    let page = search(db, ask("csv slow")).await.unwrap();
    assert_eq!(page.total, 1);
    let hit = &page.hits[0];
    assert_eq!(text(&hit.title), "Export to CSV is slow");
    assert_eq!(marked_words(&hit.title), vec!["csv", "slow"]);
    assert_eq!(hit.status.as_deref(), Some("open"));
    assert!(!hit.staff_answered);

    // A staff reply: found on its own words, pointing at itself, with the badge's facts.
    let answer = forum::reply(
        db,
        &w.staff,
        t.id,
        "Try the new exporter settings: large reports are faster now.",
        None,
    )
    .await
    .unwrap();
    let answer_url = format!("/t/{}/{}#post-2", t.id, t.slug);
    assert_eq!(found(db, "faster reports").await, vec![answer_url.clone()]);
    let page = search(db, ask("faster")).await.unwrap();
    assert!(page.hits[0].by_staff && page.hits[0].staff_answered);
    assert_eq!(marked_words(&page.hits[0].snippet), vec!["faster"]);
    // One result per topic, its best post: both posts hold "export".
    assert_eq!(search(db, ask("export")).await.unwrap().total, 1);

    // Edited: the old words go, the new ones come.
    forum::edit_post(db, &w.staff, answer.id, "Use the scheduler instead.")
        .await
        .unwrap();
    assert!(found(db, "faster").await.is_empty());
    assert_eq!(found(db, "scheduler").await, vec![answer_url.clone()]);

    // Hidden, restored, deleted.
    moderation_feature::act_on_post(db, &w.moderator, answer.id, PostAction::Hide, "Off topic")
        .await
        .unwrap();
    assert!(found(db, "scheduler").await.is_empty());
    moderation_feature::act_on_post(db, &w.moderator, answer.id, PostAction::Restore, "")
        .await
        .unwrap();
    assert_eq!(found(db, "scheduler").await, vec![answer_url.clone()]);

    // Filters: status, staff answered, category (moved), author, dates.
    staff::set_status(db, &w.staff, t.id, "planned", "").await.unwrap();
    let with = |f: fn(&mut SearchRequest)| {
        let mut r = ask("export");
        f(&mut r);
        r
    };
    assert_eq!(urls(db, with(|r| r.status = Some("planned".into()))).await.len(), 1);
    assert!(urls(db, with(|r| r.status = Some("resolved".into()))).await.is_empty());
    assert_eq!(urls(db, with(|r| r.staff = true)).await.len(), 1);
    assert_eq!(urls(db, with(|r| r.category = Some("questions".into()))).await.len(), 1);
    moderation_feature::move_topic(db, &w.moderator, t.id, "ideas", "")
        .await
        .unwrap();
    assert!(urls(db, with(|r| r.category = Some("questions".into()))).await.is_empty());
    assert_eq!(urls(db, with(|r| r.category = Some("ideas".into()))).await.len(), 1);
    let mut by_staff = ask("scheduler");
    by_staff.author = Some(w.staff.username.clone());
    assert_eq!(urls(db, by_staff.clone()).await, vec![answer_url.clone()]);
    by_staff.author = Some(w.customer.username.clone());
    assert!(urls(db, by_staff).await.is_empty());
    let today = Utc::now().date_naive();
    let mut dated = ask("export");
    dated.from = Some((today + Duration::days(1)).to_string());
    assert!(urls(db, dated.clone()).await.is_empty());
    dated.from = Some(today.to_string());
    dated.to = Some(today.to_string());
    assert_eq!(urls(db, dated).await.len(), 1);

    // Bad filters: said, and nothing searched.
    let mut bad = ask("export");
    bad.category = Some("nope".into());
    bad.from = Some("yesterday".into());
    let page = search(db, bad).await.unwrap();
    assert!(page.hits.is_empty());
    assert_eq!(
        page.filter_errors,
        vec![
            ("category".to_string(), NO_SUCH_CATEGORY.to_string()),
            ("from".to_string(), BAD_DATE.to_string())
        ]
    );

    // The official answer ranks first among topics that match as well.
    let (other, _) = forum::start_topic(
        db,
        &w.other,
        "questions",
        "A question about timing",
        "Where is the scheduler?",
        None,
    )
    .await
    .unwrap();
    staff::mark_answer(db, &w.staff, t.id, answer.id).await.unwrap();
    let page = search(db, ask("scheduler")).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.hits[0].url, answer_url, "the official answer first");
    assert!(page.hits[0].official_answer);

    // Deleting the opening post takes the topic, replies and all, out of everyone's sight.
    moderation_feature::act_on_post(db, &w.moderator, first.id, PostAction::Delete, "Spam")
        .await
        .unwrap();
    assert!(found(db, "export").await.is_empty());
    let page = search(db, ask("scheduler")).await.unwrap();
    assert_eq!(page.total, 1);
    assert!(page.hits[0].url.starts_with(&format!("/t/{}/", other.id)));
    moderation_feature::act_on_post(db, &w.moderator, first.id, PostAction::Restore, "")
        .await
        .unwrap();
    assert_eq!(found(db, "csv").await, vec![opening]);

    // Articles: a draft is not found, a published one is, a scheduled one from its time.
    let (draft, _) = blog::create_article(
        db,
        &w.admin,
        &article("Roadmap for winter", "Offline mode is coming.", Publish::Draft),
        None,
    )
    .await
    .unwrap();
    assert!(found(db, "offline").await.is_empty());
    blog::update_article(
        db,
        &w.admin,
        draft.id,
        &article("Roadmap for winter", "Offline mode is coming.", Publish::Now),
    )
    .await
    .unwrap();
    let page = search(db, ask("offline winter")).await.unwrap();
    assert_eq!(page.total, 1);
    assert!(page.hits[0].is_article);
    assert_eq!(page.hits[0].url, format!("/blog/{}", draft.slug));
    blog::create_article(
        db,
        &w.admin,
        &article(
            "Spring sale",
            "Discounts on gardening gloves.",
            Publish::At(Utc::now() + Duration::days(2)),
        ),
        None,
    )
    .await
    .unwrap();
    assert!(found(db, "gloves").await.is_empty());
    // With a category filter articles are out: they have none.
    let mut in_category = ask("offline");
    in_category.category = Some("questions".into());
    assert!(urls(db, in_category).await.is_empty());
}

async fn queries_people_type(w: World) {
    let db = &w.db;
    let (cjk, _) = forum::start_topic(
        db,
        &w.customer,
        "questions",
        "東京都の配送について",
        "配送が遅れています。いつ届きますか？",
        None,
    )
    .await
    .unwrap();
    let (korean, _) = forum::start_topic(
        db,
        &w.customer,
        "questions",
        "결제 오류",
        "카드 결제가 실패합니다",
        None,
    )
    .await
    .unwrap();
    forum::start_topic(
        db,
        &w.other,
        "questions",
        "Invoices in PDF",
        "Can invoices be downloaded as PDF files?",
        None,
    )
    .await
    .unwrap();
    let topic_of = |urls: Vec<String>| -> Vec<String> {
        urls.into_iter()
            .map(|u| u.split('/').nth(2).unwrap_or_default().to_string())
            .collect()
    };
    for q in ["京都", "東京都", "配送", "届き"] {
        assert_eq!(topic_of(found(db, q).await), vec![cjk.id.to_string()], "{q}");
    }
    assert_eq!(topic_of(found(db, "결제").await), vec![korean.id.to_string()]);
    let page = search(db, ask("京都")).await.unwrap();
    assert!(marked_words(&page.hits[0].title).contains(&"京都".to_string()));

    // Nothing has every word: the topics with any of them, said so.
    let page = search(db, ask("invoices zebra")).await.unwrap();
    assert!(page.any_words);
    assert_eq!(page.total, 1);
    // A query of only symbols, or empty: a page, no search.
    for q in ["", "   ", "*** ((( )))", "\"\"", "-"] {
        let page = search(db, ask(q)).await.unwrap();
        assert!(page.hits.is_empty() && page.total == 0, "{q:?}");
    }
    // Typed syntax is data.
    for q in [
        "invoices OR zebra", "NEAR(invoices pdf)", "title:invoices", "invoices*", "\"invoices",
        "pdf\")", "{title}: pdf", "invoices AND", "^pdf", "pdf:*", "pdf & !x", "pdf <-> x",
        "' OR 1=1 --", "\\\"", &"pdf ".repeat(300), &"x".repeat(1000),
    ] {
        search(db, ask(q)).await.unwrap_or_else(|e| panic!("{q:?}: {e}"));
        similar(db, q).await.unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    assert_eq!(found(db, "NEAR(invoices pdf)").await.len(), 1);

    // A page past the end is not found, saying how many there are.
    let mut far = ask("invoices");
    far.page = 3;
    let err = search(db, far).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
}

async fn similar_topics_while_composing(w: World) {
    let db = &w.db;
    let (answered, _) = forum::start_topic(
        db,
        &w.customer,
        "questions",
        "How do I export my invoices?",
        "I need them for my accountant.",
        None,
    )
    .await
    .unwrap();
    forum::reply(db, &w.staff, answered.id, "Settings, then Billing, then Export.", None)
        .await
        .unwrap();
    forum::start_topic(db, &w.other, "questions", "Dark mode please", "My eyes.", None)
        .await
        .unwrap();
    // Body words do not count: titles only.
    forum::start_topic(db, &w.other, "questions", "Unrelated", "export invoices export", None)
        .await
        .unwrap();
    let got = similar(db, "export invoice").await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].url, format!("/t/{}/{}", answered.id, answered.slug));
    assert!(got[0].staff_answered);
    assert_eq!(got[0].reply_count, 1);
    assert!(similar(db, "exp").await.unwrap().is_empty(), "too short to ask");
    assert!(similar(db, "zebra giraffe").await.unwrap().is_empty());
}

/// Held posts and topics are not found until approved.
async fn held_text_waits_for_approval(w: World) {
    let db = &w.db;
    moderation_feature::add_watched_word(db, &w.admin, "quarantine", "hold")
        .await
        .unwrap();
    let (t, _) = forum::start_topic(db, &w.customer, "questions", "Open topic", "Fine text.", None)
        .await
        .unwrap();
    let held = forum::reply(db, &w.other, t.id, "quarantine wombat", None).await.unwrap();
    assert_eq!(held.state, "pending");
    let (_, held_first) = forum::start_topic(db, &w.other, "questions", "Wombat quarantine", "quarantine", None)
        .await
        .unwrap();
    assert!(found(db, "wombat").await.is_empty(), "held text is found by nobody");
    moderation_feature::act_on_post(db, &w.moderator, held.id, PostAction::Approve, "")
        .await
        .unwrap();
    assert_eq!(found(db, "wombat").await, vec![format!("/t/{}/{}#post-2", t.id, t.slug)]);
    moderation_feature::act_on_post(db, &w.moderator, held_first.id, PostAction::Approve, "")
        .await
        .unwrap();
    assert_eq!(search(db, ask("wombat")).await.unwrap().total, 2);
}

#[tokio::test]
async fn held_text_waits_for_approval_on_sqlite() {
    held_text_waits_for_approval(World::new().await).await;
}

#[tokio::test]
async fn every_write_keeps_the_index_right_on_sqlite() {
    every_write_keeps_the_index_right(World::new().await).await;
}

#[tokio::test]
async fn queries_people_type_on_sqlite() {
    queries_people_type(World::new().await).await;
}

#[tokio::test]
async fn similar_topics_on_sqlite() {
    similar_topics_while_composing(World::new().await).await;
}

#[tokio::test]
async fn the_same_search_on_postgres() {
    for scenario in 0..4 {
        let Some(pg) = PostgresTestDb::create().await else {
            return;
        };
        let w = World::builder().build_on(pg.db.clone()).await;
        match scenario {
            0 => every_write_keeps_the_index_right(w).await,
            1 => queries_people_type(w).await,
            2 => held_text_waits_for_approval(w).await,
            _ => similar_topics_while_composing(w).await,
        }
        pg.drop().await;
    }
}

#[tokio::test]
async fn a_rebuild_writes_what_the_writes_wrote() {
    let w = World {
        db: crate::server::testing::test_db().await,
        ..World::new().await
    };
    assert!(crate::server::demo::seed_if_empty(&w.db).await.unwrap());
    let before = search(&w.db, ask("the")).await.unwrap().total;
    let words = ["export", "dark", "billing", "staff", "mode"];
    let mut counts = Vec::new();
    for q in words {
        counts.push(search(&w.db, ask(q)).await.unwrap().total);
    }
    let written = crate::server::search_index::rebuild(&w.db).await.unwrap();
    assert!(written > 0);
    assert_eq!(search(&w.db, ask("the")).await.unwrap().total, before);
    for (q, count) in words.iter().zip(counts) {
        assert_eq!(search(&w.db, ask(q)).await.unwrap().total, count, "{q}");
    }
    // Already built: a start does nothing.
    assert_eq!(
        crate::server::search_index::ensure_built(&w.db).await.unwrap(),
        None
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever is typed, search answers: never an engine error.
    #[test]
    fn any_query_string_gets_an_answer(q in "(\\PC|[\"*():^{}\\-+]|NEAR|OR|AND|NOT| ){0,60}") {
        let (rt, w) = QUERY_WORLD.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let w = rt.block_on(async {
                let w = World::new().await;
                forum::start_topic(&w.db, &w.customer, "questions", "Invoices in PDF", "Can invoices be PDF files? 東京都", None)
                    .await
                    .unwrap();
                w
            });
            (rt, w)
        });
        rt.block_on(async {
            search(&w.db, ask(&q)).await.map_err(|e| format!("{q:?}: {e}")).unwrap();
            similar(&w.db, &q).await.map_err(|e| format!("{q:?}: {e}")).unwrap();
        });
    }
}

/// One seeded database for every case (a runtime of its own, as the pool lives on it).
static QUERY_WORLD: std::sync::OnceLock<(tokio::runtime::Runtime, World)> =
    std::sync::OnceLock::new();
