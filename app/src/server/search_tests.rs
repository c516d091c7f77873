//! Search rules, the same on SQLite and PostgreSQL: every kind of write keeps the index right,
//! only what a visitor may read is found, and what people type works (stems, accents, phrases,
//! prefixes, CJK, any-word fallback), while typed syntax is only ever data.
use chrono::{Duration, Utc};
use proptest::prelude::*;
use sea_orm::DatabaseConnection;

use crate::server::search::{BAD_DATE, NO_SUCH_CATEGORY, search, similar};
use crate::server::{
    blog::{self, ArticleInput, Publish},
    forum,
    moderation::{self as moderation_feature, PostAction},
    staff,
    testing::{PostgresTestDb, World},
};
use crate::{
    error::AppError,
    model::{SearchRequest, TextPart},
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
    for q in [
        "export",
        "exports",
        "exporting",
        "cafe",
        "CAFÉ",
        "expo",
        "\"export takes minutes\"",
    ] {
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
    // Past the last page, however far: not found, named as asked.
    for asked in [2, 100_001, u64::MAX] {
        let past = search(
            db,
            SearchRequest {
                page: asked,
                ..ask("csv slow")
            },
        )
        .await;
        assert_eq!(
            past.unwrap_err(),
            AppError::NotFound(format!("There is no page {asked}; this has 1 page."))
        );
    }
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
    staff::set_status(db, &w.staff, t.id, "planned", "")
        .await
        .unwrap();
    let with = |f: fn(&mut SearchRequest)| {
        let mut r = ask("export");
        f(&mut r);
        r
    };
    assert_eq!(
        urls(db, with(|r| r.status = Some("planned".into())))
            .await
            .len(),
        1
    );
    assert!(
        urls(db, with(|r| r.status = Some("resolved".into())))
            .await
            .is_empty()
    );
    assert_eq!(urls(db, with(|r| r.staff = true)).await.len(), 1);
    assert_eq!(
        urls(db, with(|r| r.category = Some("questions".into())))
            .await
            .len(),
        1
    );
    moderation_feature::move_topic(db, &w.moderator, t.id, "ideas", "")
        .await
        .unwrap();
    assert!(
        urls(db, with(|r| r.category = Some("questions".into())))
            .await
            .is_empty()
    );
    assert_eq!(
        urls(db, with(|r| r.category = Some("ideas".into())))
            .await
            .len(),
        1
    );
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
    staff::mark_answer(db, &w.staff, t.id, answer.id)
        .await
        .unwrap();
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
        &article(
            "Roadmap for winter",
            "Offline mode is coming.",
            Publish::Draft,
        ),
        None,
    )
    .await
    .unwrap();
    assert!(found(db, "offline").await.is_empty());
    blog::update_article(
        db,
        &w.admin,
        draft.id,
        &article(
            "Roadmap for winter",
            "Offline mode is coming.",
            Publish::Now,
        ),
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
        assert_eq!(
            topic_of(found(db, q).await),
            vec![cjk.id.to_string()],
            "{q}"
        );
    }
    assert_eq!(
        topic_of(found(db, "결제").await),
        vec![korean.id.to_string()]
    );
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
        "invoices OR zebra",
        "NEAR(invoices pdf)",
        "title:invoices",
        "invoices*",
        "\"invoices",
        "pdf\")",
        "{title}: pdf",
        "invoices AND",
        "^pdf",
        "pdf:*",
        "pdf & !x",
        "pdf <-> x",
        "' OR 1=1 --",
        "\\\"",
        &"pdf ".repeat(300),
        &"x".repeat(1000),
    ] {
        search(db, ask(q))
            .await
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
        similar(db, q)
            .await
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    assert_eq!(found(db, "NEAR(invoices pdf)").await.len(), 1);

    // Text that looks like a tag is text: found on both engines.
    let (tagged, _) = forum::start_topic(
        db,
        &w.other,
        "questions",
        "Odd output",
        "The page shows `<script>alert(1)</script>` and <b>bold</b> words.",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        topic_of(found(db, "alert").await),
        vec![tagged.id.to_string()]
    );
    let page = search(db, ask("alert")).await.unwrap();
    assert!(text(&page.hits[0].snippet).contains("<script>alert(1)</script>"));

    // Marker characters typed into a title mark nothing, even where the title comes from the
    // topic (a reply matched).
    let (marked_title, _) = forum::start_topic(
        db,
        &w.other,
        "questions",
        "Fake \u{E000}mark\u{E001} \u{E002}b\u{E003} title",
        "x",
        None,
    )
    .await
    .unwrap();
    forum::reply(db, &w.customer, marked_title.id, "zqxpuareply", None)
        .await
        .unwrap();
    let page = search(db, ask("zqxpuareply")).await.unwrap();
    assert!(
        page.hits[0].title.iter().all(|p| !p.hit),
        "{:?}",
        page.hits[0].title
    );
    assert_eq!(text(&page.hits[0].title), "Fake mark b title");
    // The last possible day is a day, on both engines.
    let mut to_the_end = ask("invoices");
    to_the_end.to = Some("9999-12-31".into());
    assert_eq!(search(db, to_the_end).await.unwrap().total, 1);

    // Only common words: nothing searched, said so.
    let page = search(db, ask("how do I the")).await.unwrap();
    assert!(page.too_common && page.hits.is_empty());
    // Decomposed accents are read composed.
    forum::start_topic(db, &w.other, "questions", "My résumé", "Attached.", None)
        .await
        .unwrap();
    assert_eq!(found(db, "re\u{301}sume\u{301}").await.len(), 1);
    // Odd filter values: said, never an engine error; a huge page is only past the end.
    for (field, value) in [
        ("from", "+10000-01-01"),
        ("from", "-5000-01-01"),
        ("to", "2026-1-1"),
    ] {
        let mut r = ask("invoices");
        if field == "from" {
            r.from = Some(value.into())
        } else {
            r.to = Some(value.into())
        }
        let page = search(db, r).await.unwrap();
        assert_eq!(
            page.filter_errors,
            vec![(field.to_string(), BAD_DATE.to_string())],
            "{value}"
        );
    }
    let mut r = ask("invoices");
    r.author = Some("ca\0sey".into());
    assert_eq!(search(db, r).await.unwrap().filter_errors[0].0, "author");
    let mut r = ask("invoices");
    r.page = 461_168_601_842_738_792;
    assert!(matches!(search(db, r).await, Err(AppError::NotFound(_))));

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
    forum::reply(
        db,
        &w.staff,
        answered.id,
        "Settings, then Billing, then Export.",
        None,
    )
    .await
    .unwrap();
    forum::start_topic(
        db,
        &w.other,
        "questions",
        "Dark mode please",
        "My eyes.",
        None,
    )
    .await
    .unwrap();
    // Body words do not count: titles only.
    forum::start_topic(
        db,
        &w.other,
        "questions",
        "Unrelated",
        "export invoices export",
        None,
    )
    .await
    .unwrap();
    let got = similar(db, "export invoice").await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].url, format!("/t/{}/{}", answered.id, answered.slug));
    assert!(got[0].staff_answered);
    assert_eq!(got[0].reply_count, 1);
    assert!(
        similar(db, "exp").await.unwrap().is_empty(),
        "too short to ask"
    );
    assert!(similar(db, "zebra giraffe").await.unwrap().is_empty());
}

/// Held posts and topics are not found until approved.
async fn held_text_waits_for_approval(w: World) {
    let db = &w.db;
    moderation_feature::add_watched_word(db, &w.admin, "quarantine", "hold")
        .await
        .unwrap();
    let (t, _) = forum::start_topic(
        db,
        &w.customer,
        "questions",
        "Open topic",
        "Fine text.",
        None,
    )
    .await
    .unwrap();
    let held = forum::reply(db, &w.other, t.id, "quarantine wombat", None)
        .await
        .unwrap();
    assert_eq!(held.state, "pending");
    let (_, held_first) = forum::start_topic(
        db,
        &w.other,
        "questions",
        "Wombat quarantine",
        "quarantine",
        None,
    )
    .await
    .unwrap();
    assert!(
        found(db, "wombat").await.is_empty(),
        "held text is found by nobody"
    );
    moderation_feature::act_on_post(db, &w.moderator, held.id, PostAction::Approve, "")
        .await
        .unwrap();
    assert_eq!(
        found(db, "wombat").await,
        vec![format!("/t/{}/{}#post-2", t.id, t.slug)]
    );
    moderation_feature::act_on_post(db, &w.moderator, held_first.id, PostAction::Approve, "")
        .await
        .unwrap();
    assert_eq!(search(db, ask("wombat")).await.unwrap().total, 2);
}

/// A snippet cut short keeps whole letters: the engine's tokenizer parts a Devanagari letter
/// from its vowel sign, and a cut between them (an outside tester's Hindi post) showed the
/// letter alone before the "…".
#[tokio::test]
async fn a_cut_snippet_keeps_whole_letters_on_sqlite() {
    let w = World::new().await;
    // The text of the first hit for `q`, once a topic with `body` is posted, and its marked words.
    let first_snippet = async |title: &str, body: &str, q: &str| {
        forum::start_topic(&w.db, &w.customer, "questions", title, body, None)
            .await
            .unwrap();
        let page = search(&w.db, ask(q)).await.unwrap();
        let hit = &page.hits[0];
        (text(&hit.snippet), marked_words(&hit.snippet))
    };
    // Cut after: a Devanagari vowel sign, and after an ASCII letter a keycap's mark, stay with
    // their letters. Where the words repeat, the cut's place is found by the snippet's whole text
    // (the last "कमल" is the start of "कमला", whose "ल" and vowel sign are one letter).
    let cases = [
        ("yankee", format!("yankee {}", "हिन्दी ".repeat(40)), "हिन्दी"),
        (
            "zkeycap",
            format!(
                "zkeycap {} 1\u{FE0F}\u{20E3} and more words",
                "word ".repeat(30)
            ),
            "word",
        ),
        (
            "zrept",
            format!("zrept {} कमला and more words", "कमल ".repeat(30)),
            " कम",
        ),
    ];
    for (q, body, whole) in cases {
        let (snippet, marked) = first_snippet("Cut text", &body, q).await;
        let kept = snippet.strip_suffix('…').expect("the snippet is cut");
        assert!(kept.trim_end().ends_with(whole), "{snippet:?}");
        assert_eq!(marked, vec![q.to_string()], "{snippet:?}");
    }
    // Cut before: a skin tone is never shown without its hand.
    let tones = format!("head words {} x zrai12", "\u{1F44D}\u{1F3FD}".repeat(60));
    let (snippet, _) = first_snippet("Tones", &tones, "zrai12").await;
    let shown = snippet
        .strip_prefix('…')
        .expect("the snippet is cut before");
    assert!(shown.starts_with('\u{1F44D}'), "{snippet:?}");
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
    for scenario in 0..5 {
        let Some(pg) = PostgresTestDb::create().await else {
            return;
        };
        let w = World::builder().build_on(pg.db.clone()).await;
        match scenario {
            0 => every_write_keeps_the_index_right(w).await,
            1 => queries_people_type(w).await,
            2 => held_text_waits_for_approval(w).await,
            3 => similar_topics_while_composing(w).await,
            _ => the_newest_matches_are_ranked(w).await,
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
    // Each write's transaction left a segment of the index: a search reads every one.
    assert!(segments(&w.db).await > 1);
    let written = crate::server::search_index::rebuild(&w.db).await.unwrap();
    assert!(written > 0);
    assert_eq!(segments(&w.db).await, 1, "a rebuild ends merged");
    assert_eq!(search(&w.db, ask("the")).await.unwrap().total, before);
    for (q, count) in words.iter().zip(counts) {
        assert_eq!(search(&w.db, ask(q)).await.unwrap().total, count, "{q}");
    }
    // Already built: a start does nothing.
    assert_eq!(
        crate::server::search_index::ensure_built(&w.db)
            .await
            .unwrap(),
        None
    );
}

/// How many segments the SQLite index has (FTS5's `_idx` table lists each segment's pages).
async fn segments(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::ConnectionTrait;
    let sql = "SELECT COUNT(DISTINCT segid) AS n FROM search_index_idx";
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
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

#[tokio::test]
async fn every_page_of_results_is_reachable_including_the_any_word_fallback() {
    let w = World::new().await;
    for i in 0..25 {
        forum::start_topic(
            &w.db,
            &w.customer,
            "questions",
            &format!("Gazebo number {i}"),
            "Gazebo text.",
            None,
        )
        .await
        .unwrap();
    }
    for q in ["gazebo", "gazebo zebra"] {
        let first = search(&w.db, ask(q)).await.unwrap();
        assert_eq!(
            (first.total, first.page_count, first.hits.len()),
            (25, 2, 20),
            "{q}"
        );
        let mut second = ask(q);
        second.page = 2;
        let second = search(&w.db, second).await.unwrap();
        assert_eq!(second.hits.len(), 5, "{q}");
        assert_eq!(second.any_words, q.contains(' '), "{q}");
        let mut third = ask(q);
        third.page = 3;
        assert!(
            matches!(search(&w.db, third).await, Err(AppError::NotFound(_))),
            "{q}"
        );
    }
    // Newest first: the last one written leads.
    let mut newest = ask("gazebo");
    newest.sort = Some("newest".into());
    let page = search(&w.db, newest).await.unwrap();
    assert_eq!(text(&page.hits[0].title), "Gazebo number 24");
}

/// A word in more posts than are ranked: the newest `MAX_CANDIDATES` posts are ranked (and the
/// articles, whatever their number), the page says older ones were left out, and a second word
/// or a filter reaches them.
async fn the_newest_matches_are_ranked(w: World) {
    use sea_orm::ConnectionTrait;

    use crate::server::{db::numbered, search::MAX_CANDIDATES};
    let (old, _) = forum::start_topic(
        &w.db,
        &w.other,
        "questions",
        "Pergola guide",
        "Pergola pergola pergola.",
        None,
    )
    .await
    .unwrap();
    blog::create_article(
        &w.db,
        &w.admin,
        &article("Pergola news", "A pergola.", Publish::Now),
        None,
    )
    .await
    .unwrap();
    let (busy, _) = forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Chatter",
        "A pergola.",
        None,
    )
    .await
    .unwrap();
    let copies = format!(
        "INSERT INTO posts (topic_id, author_id, post_number, source, html, state,
                            is_staff_reply, created_at, published_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MAX_CANDIDATES})
         SELECT topic_id, author_id, post_number + i, source, html, state,
                is_staff_reply, created_at, published_at
           FROM posts, n WHERE topic_id = $1 AND post_number = 1"
    );
    let backend = w.db.get_database_backend();
    w.db.execute_raw(numbered(backend, &copies, vec![busy.id.into()]))
        .await
        .unwrap();
    crate::server::search_index::rebuild(&w.db).await.unwrap();

    let page = search(&w.db, ask("pergola")).await.unwrap();
    assert!(
        page.capped,
        "older matches were left out, and the page says so"
    );
    let titles: Vec<String> = page.hits.iter().map(|h| text(&h.title)).collect();
    assert!(titles.contains(&"Chatter".to_string()), "{titles:?}");
    assert!(titles.contains(&"Pergola news".to_string()), "{titles:?}");
    assert!(!titles.contains(&"Pergola guide".to_string()), "{titles:?}");
    // A second word, or a filter (which ranks more), reaches the older topic.
    let guide = search(&w.db, ask("pergola guide")).await.unwrap();
    assert!(!guide.capped);
    assert_eq!(
        guide.hits[0].url,
        crate::model::post_url(old.id, &old.slug, 1)
    );
    let mut by_author = ask("pergola");
    by_author.author = Some(w.other.username.clone());
    let page = search(&w.db, by_author).await.unwrap();
    assert_eq!((page.total, page.capped), (1, false));
}

#[tokio::test]
async fn the_newest_matches_are_ranked_on_sqlite() {
    the_newest_matches_are_ranked(World::new().await).await;
}

/// On SQLite a prefix word is read as the words of the index it begins, the commonest first,
/// looked up without accents as the index keeps them, each written so the tokenizer reads it
/// back as itself (the index keeps stems, and "releas" stemmed again is "relea"); other terms
/// are left as they are.
#[tokio::test]
async fn a_prefix_is_read_as_the_words_it_begins() {
    use crate::server::search::{
        expand_prefixes,
        query::{Term, parse},
    };
    let w = World::new().await;
    for (title, body) in [
        ("Exports fail", "The export button."),
        ("Exposure", "Export settings, exposed."),
        ("Café menu", "Expresso."),
        ("Please release", "The database exceeded its space."),
        // The tokenizer keeps ё and Greek accents, where the typed word is looked up without
        // them (an outside test: "ещё" stopped finding "еще").
        ("Экспорт ещё не работает", "Никак."),
        ("Экспорт еще сломан", "Совсем."),
        ("Ο καφές", "Καφέ παρακαλώ."),
        ("ΚΑΦΕ ΚΡΥΟΣ", "Πάλι."),
    ] {
        forum::start_topic(&w.db, &w.customer, "questions", title, body, None)
            .await
            .unwrap();
    }
    let expanded = expand_prefixes(&w.db, parse("slow expo")).await.unwrap();
    assert_eq!(expanded.terms[0], parse("slow ").terms[0]);
    let Term::AnyOf {
        text,
        words,
        prefix,
    } = &expanded.terms[1]
    else {
        panic!("{:?}", expanded.terms)
    };
    assert_eq!(text, "expo");
    // The word as typed, then the index's stems ("export", "expos", "exposur"), the word in
    // most posts first, each as the tokenizer reads it back as itself.
    assert_eq!(words, &["expo", "export", "expose", "exposur"]);
    assert!(!prefix);
    let Term::AnyOf { words, .. } = &expand_prefixes(&w.db, parse("CAFÉ")).await.unwrap().terms[0]
    else {
        panic!()
    };
    assert_eq!(words, &["cafe"]);
    assert_eq!(search(&w.db, ask("CAFÉ")).await.unwrap().total, 1);
    // One the tokenizer would read as another stem is written so that it is read back.
    let Term::AnyOf { words, .. } =
        &expand_prefixes(&w.db, parse("releas")).await.unwrap().terms[0]
    else {
        panic!()
    };
    assert_eq!(words, &["release"]);
    // Found and marked through the words.
    let page = search(&w.db, ask("expo")).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(
        marked_words(&page.hits[0].snippet)
            .iter()
            .any(|m| m.starts_with("expo"))
    );
    // Stems the stemmer does not give back as they are are found all the same (an outside
    // test: "plea", "rel" and "datab" found nothing).
    for q in [
        "plea",
        "rel",
        "datab",
        "exce",
        "Please relea",
        "releas",
        "exceed",
    ] {
        assert_eq!(search(&w.db, ask(q)).await.unwrap().total, 1, "{q}");
    }
    for q in ["ещё", "καφέ", "Экспорт"] {
        assert_eq!(search(&w.db, ask(q)).await.unwrap().total, 2, "{q}");
    }
}

/// Several servers starting together after the upgrade: one builds the index, the others find
/// it built; a rebuild while members post leaves every post's row right.
#[tokio::test]
async fn the_index_is_built_once_however_many_servers_start() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    let w = World::builder().build_on(pg.db.clone()).await;
    for i in 0..30 {
        forum::start_topic(
            &w.db,
            &w.customer,
            "questions",
            &format!("Kookaburra {i}"),
            "Laughing.",
            None,
        )
        .await
        .unwrap();
    }
    let (a, b) = tokio::join!(
        crate::server::search_index::ensure_built(&w.db),
        crate::server::search_index::ensure_built(&w.db)
    );
    let built: Vec<Option<u64>> = vec![a.unwrap(), b.unwrap()];
    assert_eq!(built.iter().filter(|b| b.is_some()).count(), 1, "{built:?}");
    assert_eq!(
        crate::server::search_index::ensure_built(&w.db)
            .await
            .unwrap(),
        None
    );
    let (t, _) = forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Kookaburra last",
        "x",
        None,
    )
    .await
    .unwrap();
    let (rebuilt, replies) = tokio::join!(crate::server::search_index::rebuild(&w.db), async {
        for i in 0..10 {
            forum::reply(
                &w.db,
                &w.other,
                t.id,
                &format!("kookaburra reply {i}"),
                None,
            )
            .await
            .unwrap();
        }
    });
    rebuilt.unwrap();
    let () = replies;
    let page = search(&w.db, ask("kookaburra")).await.unwrap();
    assert_eq!(page.total, 31);
    let mut replies_only = ask("kookaburra reply");
    replies_only.page = 1;
    assert_eq!(
        search(&w.db, replies_only).await.unwrap().total,
        1,
        "one topic, its ten replies"
    );
    pg.drop().await;
}

/// The staff filter counts topics staff started; status filters leave articles' comments out.
#[tokio::test]
async fn filters_mean_what_they_say() {
    let w = World::new().await;
    forum::start_topic(
        &w.db,
        &w.staff,
        "questions",
        "Numbat announcement",
        "From staff.",
        None,
    )
    .await
    .unwrap();
    forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Numbat question",
        "Anyone?",
        None,
    )
    .await
    .unwrap();
    let (a, _) = blog::create_article(
        &w.db,
        &w.admin,
        &article("News", "Body.", Publish::Now),
        None,
    )
    .await
    .unwrap();
    forum::reply(&w.db, &w.customer, a.topic_id, "numbat comment", None)
        .await
        .unwrap();
    let mut staff_only = ask("numbat");
    staff_only.staff = true;
    assert_eq!(search(&w.db, staff_only).await.unwrap().total, 1);
    let mut open = ask("numbat");
    open.status = Some("open".into());
    assert_eq!(
        search(&w.db, open).await.unwrap().total,
        2,
        "the comment is not an open topic"
    );
    assert_eq!(search(&w.db, ask("numbat")).await.unwrap().total, 3);
}
