//! Issue 19's rough edges, read from the pages as a browser gets them: counts and durations in
//! words, the exact time beside relative times, the staff badge, the official answer shown
//! once, the queue's excerpt in lines, pictures with words, pages for visitors, closed sign-ups,
//! archived categories, the flag reason nobody chose, the charts' titles.
use app::server::entity::{category, flag, topic};
use scraper::{Html, Selector};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::common::*;

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// The text a reader sees in the page's main content (no script, no head).
fn main_text(body: &str) -> String {
    let html = Html::parse_document(body);
    html.select(&sel("main"))
        .flat_map(|m| m.text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// "1 replies", "1 topics" ... and "4 m"/"2 d": a count or a duration written by hand.
fn rough_words(text: &str) -> Vec<String> {
    const PLURALS: &[&str] = &[
        "topics", "replies", "posts", "votes", "members", "answers", "flags", "files", "days",
        "hours", "minutes", "weeks", "comments", "ideas", "items", "attempts", "pages",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut found = Vec::new();
    for pair in words.windows(2) {
        let noun = pair[1].trim_end_matches([',', '.', ')', ';', ':']);
        if pair[0] == "1" && PLURALS.contains(&noun) {
            found.push(format!("{} {}", pair[0], pair[1]));
        }
        if pair[0].chars().all(|c| c.is_ascii_digit()) && matches!(noun, "m" | "d") {
            found.push(format!("{} {}", pair[0], pair[1]));
        }
    }
    for bad in ["..", "?.", "!.", ".,"] {
        // "…" is one character; two full stops in a row are a slip.
        if text.contains(bad) {
            found.push(bad.to_string());
        }
    }
    found
}

async fn bug_topic(d: &DemoMembers) -> (topic::Model, String) {
    let bug = topic::Entity::find()
        .filter(topic::Column::Slug.eq("dashboard-chart-is-blank-on-safari"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/t/{}/{}", bug.id, bug.slug);
    (bug, path)
}

async fn reply(d: &DemoMembers, who: &str, topic_id: i64, path: &str, body: &str) {
    let token = form_token_on(&d.app, path, Some(who)).await;
    let res = post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &topic_id.to_string()),
            ("body", body),
            ("form_token", &token),
        ],
        Some(who),
        path,
    )
    .await;
    assert!(
        !res.location.clone().unwrap_or_default().contains("__err"),
        "{:?}",
        res.location
    );
}

#[tokio::test]
async fn pages_write_counts_durations_and_sentences_in_words() {
    let d = demo_members().await;
    let (_, bug) = bug_topic(&d).await;
    for (path, who) in [
        ("/", None),
        ("/c/questions", None),
        ("/c/bug-reports", None),
        (bug.as_str(), Some(&d.casey)),
        ("/staff/queue", Some(&d.sam)),
        ("/u/casey", None),
        ("/u/sam", Some(&d.admin)),
        ("/search?q=dashboard", None),
        ("/admin", Some(&d.admin)),
        ("/staff/metrics", Some(&d.sam)),
        ("/accountability", None),
    ] {
        let page = get(&d.app, path, who.map(String::as_str)).await;
        let text = main_text(&page.body);
        assert!(
            rough_words(&text).is_empty(),
            "{path}: {:?}",
            rough_words(&text)
        );
    }
}

#[tokio::test]
async fn relative_times_carry_the_exact_time_for_everyone() {
    let d = demo_members().await;
    let (_, path) = bug_topic(&d).await;
    let page = Html::parse_document(&get(&d.app, &path, None).await.body);
    let times: Vec<_> = page.select(&sel("main time[datetime]")).collect();
    assert!(!times.is_empty());
    for time in times {
        let title = time.value().attr("title").unwrap_or_default();
        if !title.ends_with("UTC") {
            continue; // a date written out in full ("23 November 2026") needs no more
        }
        let hidden: String = time
            .select(&sel(".visually-hidden"))
            .flat_map(|e| e.text())
            .collect();
        assert!(hidden.contains(title), "{} lacks {title}", time.html());
    }
}

#[tokio::test]
async fn staff_badge_official_answer_once_and_the_two_green_badges_differ() {
    let d = demo_members().await;
    let (bug, path) = bug_topic(&d).await;
    reply(&d, &d.sam, bug.id, &path, "A fix ships tomorrow, promise.").await;
    let answer = app::server::testing::post_at(&d.db, bug.id, 2).await;
    post_form(
        &d.app,
        "/api/mark_answer",
        &[
            ("topic_id", &bug.id.to_string()),
            ("post_id", &answer.id.to_string()),
        ],
        Some(&d.sam),
        &path,
    )
    .await;
    let body = get(&d.app, &path, Some(&d.casey)).await.body;
    let page = Html::parse_document(&body);
    // The answer's text once, in the box at the top; its place in the thread a marker.
    let shown = page
        .select(&sel("main .post-body"))
        .filter(|b| {
            b.text()
                .collect::<String>()
                .contains("A fix ships tomorrow")
        })
        .count();
    assert_eq!(shown, 1, "{body}");
    let boxed: String = page
        .select(&sel("#official-answer .post-body"))
        .flat_map(|e| e.text())
        .collect();
    assert!(boxed.contains("A fix ships tomorrow"));
    let marker = page
        .select(&sel("#post-2 a[href=\"#official-answer\"]"))
        .next()
        .expect("a marker linking to the answer above");
    assert_eq!(
        marker.text().collect::<String>(),
        "Official answer, shown above"
    );
    // The badge says Staff, and the title too.
    let badge: String = page
        .select(&sel("#post-2 .staff-badge"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(badge.contains("Staff"), "{badge}");
    assert!(badge.contains("Support Lead"), "{badge}");
    // On a later page of answers the marker is not used: shown in full where no box is.
    let list = Html::parse_document(&get(&d.app, "/c/bug-reports", None).await.body);
    let replied = list
        .select(&sel(".response-badge.replied"))
        .next()
        .expect("the Staff replied badge");
    assert!(
        replied
            .select(&sel("svg.badge-icon[aria-hidden=\"true\"]"))
            .next()
            .is_some()
    );
    // Resolved: its own tag and icon (a tick, not the speech bubble).
    post_form(
        &d.app,
        "/api/set_topic_status",
        &[
            ("topic_id", &bug.id.to_string()),
            ("status", "resolved"),
            ("note", ""),
        ],
        Some(&d.sam),
        &path,
    )
    .await;
    let page = Html::parse_document(&get(&d.app, &path, None).await.body);
    let resolved = page
        .select(&sel(".status-tag.status-resolved"))
        .next()
        .unwrap();
    let tick = resolved.select(&sel("svg.badge-icon path")).next().unwrap();
    let bubble = replied.select(&sel("svg.badge-icon path")).next().unwrap();
    assert_ne!(tick.value().attr("d"), bubble.value().attr("d"));
}

#[tokio::test]
async fn the_queue_excerpt_keeps_lines_and_pictures_have_words() {
    let d = demo_members().await;
    let token = form_token_on(&d.app, "/new-topic", Some(&d.casey)).await;
    let res = post_form(
        &d.app,
        "/api/start_topic",
        &[
            ("category", "questions"),
            ("title", "Export breaks in two ways"),
            (
                "body",
                "Steps:\n\n1. open reports\n2. press export\n\nThen it hangs.\n\n![](/uploads/1/shot.png) <img src=\"/uploads/1/other.png\">",
            ),
            ("form_token", token.as_str()),
        ],
        Some(&d.casey),
        "/new-topic",
    )
    .await;
    let location = res.location.unwrap();
    assert!(location.contains("#post-1"), "{location}");
    let queue = Html::parse_document(&get(&d.app, "/staff/queue", Some(&d.sam)).await.body);
    let excerpt = queue
        .select(&sel(".queue-excerpt"))
        .map(|e| e.text().collect::<String>())
        .find(|t| t.contains("open reports"))
        .expect("the new topic in the queue");
    assert_eq!(
        excerpt,
        "Steps:\n• open reports\n• press export\nThen it hangs."
    );
    let topic_page = get(&d.app, location.split('#').next().unwrap(), None).await;
    let page = Html::parse_document(&topic_page.body);
    let images: Vec<_> = page.select(&sel(".post-body img")).collect();
    assert_eq!(images.len(), 2, "{}", topic_page.body);
    for img in images {
        let alt = img.value().attr("alt").unwrap_or_default();
        assert!(alt.starts_with("Image"), "{}", img.html());
    }
}

#[tokio::test]
async fn visitors_get_a_way_in_closed_sign_ups_no_form_archived_no_writing() {
    let d = demo_members().await;
    for path in ["/notifications", "/staff/queue", "/account"] {
        let page = Html::parse_document(&get(&d.app, path, None).await.body);
        let want = format!("/login?next={}", path.replace('/', "%2F"));
        let link = page
            .select(&sel("main a"))
            .find(|a| {
                let href = a.value().attr("href").unwrap_or_default();
                href == want || href == format!("/login?next={path}")
            })
            .unwrap_or_else(|| {
                panic!(
                    "{path} has no log-in link back: {}",
                    page.select(&sel("main"))
                        .next()
                        .map(|m| m.html())
                        .unwrap_or_default()
                )
            });
        assert_eq!(link.text().collect::<String>(), "Log in");
    }

    app::server::settings::put(&d.db, "signup_mode", "closed")
        .await
        .unwrap();
    let signup = get(&d.app, "/signup", None).await;
    let page = Html::parse_document(&signup.body);
    assert!(page.select(&sel("main form")).next().is_none());
    assert!(main_text(&signup.body).contains("Sign-ups are closed"));

    let questions = category::Entity::find()
        .filter(category::Column::Slug.eq("questions"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: category::ActiveModel = questions.clone().into();
    row.archived = Set(true);
    row.update(&d.db).await.unwrap();
    let list = Html::parse_document(&get(&d.app, "/c/questions", Some(&d.casey)).await.body);
    assert!(
        list.select(&sel("main a[href^=\"/new-topic\"]"))
            .next()
            .is_none()
    );
    let one = topic::Entity::find()
        .filter(topic::Column::CategoryId.eq(questions.id))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let body = get(
        &d.app,
        &format!("/t/{}/{}", one.id, one.slug),
        Some(&d.casey),
    )
    .await
    .body;
    let page = Html::parse_document(&body);
    assert!(
        page.select(&sel("textarea[name=\"body\"]"))
            .next()
            .is_none()
    );
    assert!(main_text(&body).contains("This category is archived"));
}

#[tokio::test]
async fn the_flag_reason_starts_unchosen_and_a_missing_one_is_refused() {
    let d = demo_members().await;
    let (bug, path) = bug_topic(&d).await;
    reply(&d, &d.sam, bug.id, &path, "Looking into it.").await;
    let target = app::server::testing::post_at(&d.db, bug.id, 2).await;
    let flag_page = format!("/p/{}/flag", target.id);
    let page = Html::parse_document(&get(&d.app, &flag_page, Some(&d.casey)).await.body);
    let select = page
        .select(&sel("select[name=\"reason\"]"))
        .next()
        .expect("the flag form on sam's reply's flag page");
    assert!(select.value().attr("required").is_some());
    let first = select.select(&sel("option")).next().unwrap();
    assert_eq!(first.value().attr("value"), Some(""));
    let chosen: Vec<_> = select
        .select(&sel("option[selected]"))
        .map(|o| o.value().attr("value").unwrap_or_default().to_string())
        .collect();
    assert!(chosen.iter().all(String::is_empty), "{chosen:?}");

    let flags = flag::Entity::find().count(&d.db).await.unwrap();
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[
            ("post_id", &target.id.to_string()),
            ("reason", ""),
            ("note", ""),
        ],
        Some(&d.casey),
        &flag_page,
    )
    .await;
    let back = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(
        back.body.contains("Choose why you are flagging this post."),
        "the refusal is shown"
    );
    assert_eq!(flag::Entity::find().count(&d.db).await.unwrap(), flags);
}

#[tokio::test]
async fn every_chart_has_a_title_and_readable_labels() {
    let d = demo_members().await;
    for (path, who) in [("/admin", &d.admin), ("/staff/ideas", &d.sam)] {
        let body = get(&d.app, path, Some(who)).await.body;
        let page = Html::parse_document(&body);
        for svg in page.select(&sel("main svg[role=\"img\"]")) {
            let by = svg
                .value()
                .attr("aria-labelledby")
                .unwrap_or_else(|| panic!("{path}: {}", svg.html()));
            let first = by.split_whitespace().next().unwrap();
            let title = svg
                .select(&sel("title"))
                .find(|t| t.value().attr("id") == Some(first))
                .unwrap_or_else(|| panic!("{path}: no <title id={first}>"));
            assert!(!title.text().collect::<String>().trim().is_empty());
            // Text inside the drawing shrinks with it on a narrow screen: labels are HTML.
            assert!(svg.select(&sel("text")).next().is_none(), "{path}");
        }
    }
}
