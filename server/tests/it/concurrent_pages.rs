//! Pages rendered at once on one thread, as a server's worker thread interleaves requests.
//! Leptos keeps each request's reactive values in that request's own arena and makes it the
//! thread's current arena only while the render itself is polled; code that runs after the
//! render (leptos_meta writing the `<title>` through our formatter) runs outside it. A value
//! read there was looked up in whichever request last ran on the thread: usually an identical
//! one, so nothing showed, but a finished one panicked with "already disposed" (CI, issue 20).
use crate::common::*;
use axum::http::StatusCode;

fn title_of(body: &str) -> String {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse("head > title").unwrap();
    let titles: Vec<String> = doc.select(&sel).map(|t| t.text().collect()).collect();
    assert_eq!(titles.len(), 1, "one <title> in the head: {titles:?}");
    titles.into_iter().next().unwrap()
}

#[tokio::test]
async fn pages_rendered_at_once_on_one_thread_keep_their_own_titles() {
    let db = sqlite_memory().await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    // A name of its own: the formatter's fallback ("Backyard") would pass for a right read.
    let site = "Yard & Co";
    app::server::settings::put(&db, "site_name", site)
        .await
        .unwrap();
    let app = router_for(db);
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    // Signed in, so every answer is rendered for the reader, none served from the page cache.
    let pages = [
        ("/", format!("Community · {site}")),
        ("/login", format!("Log in · {site}")),
        ("/staff/queue", format!("Awaiting staff · {site}")),
        ("/search?q=csv", format!("Search: csv · {site}")),
        ("/new-topic", format!("New topic · {site}")),
        ("/no/such/page", format!("Page not found · {site}")),
    ];
    for round in 0..6 {
        let answers = futures_util::future::join_all(
            pages
                .iter()
                .cycle()
                .take(pages.len() * 5)
                .map(|(path, _)| get(&app, path, Some(&sam))),
        )
        .await;
        for (answer, (path, title)) in answers.iter().zip(pages.iter().cycle()) {
            if *path != "/no/such/page" {
                assert_eq!(answer.status, StatusCode::OK, "round {round}: {path}");
            }
            assert_eq!(&title_of(&answer.body), title, "round {round}: {path}");
        }
    }
}
