//! How many pages render at once. A render is CPU work with short waits on the database, so
//! on a 2-core machine a handful at a time keep both cores busy; more only share them, while
//! each holds its page's working memory (about 2 to 3 MB for a home page at a million posts:
//! its rows, views and HTML) until it ends. Thirty-two members opening the home page together,
//! or thirty-two visitors arriving on a page the last write took out of the page cache, then
//! held 70 MB at once and took the server past its memory goal (docs/benchmarks.md, run 8).
//! Bounded here, the rest wait their turn in line, which costs them about what sharing the
//! cores would have.
//!
//! Reads only (GET and HEAD): a write may wait for the writers' turn (server::db), and must
//! not hold a place a read could use meanwhile. Pages the page cache answers never come here.
use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use tokio::sync::Semaphore;

/// Renders per core at once: enough that one waiting on the database leaves the core to
/// another.
const PER_CORE: usize = 4;

pub struct Renders(Semaphore);

impl Renders {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::at_once(cores * PER_CORE)
    }

    pub fn at_once(turns: usize) -> Self {
        Renders(Semaphore::new(turns))
    }
}

impl Default for Renders {
    fn default() -> Self {
        Self::new()
    }
}

pub async fn layer(State(renders): State<Arc<Renders>>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    // The semaphore is never closed, so acquiring cannot fail.
    let _turn = renders.0.acquire().await.ok();
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{Router, body::Body, middleware, routing::any};
    use tower::ServiceExt;

    use super::*;

    static READS: AtomicUsize = AtomicUsize::new(0);
    static MOST_READS: AtomicUsize = AtomicUsize::new(0);
    static ALL: AtomicUsize = AtomicUsize::new(0);
    static MOST_ALL: AtomicUsize = AtomicUsize::new(0);

    /// Counts the reads and all requests running while it runs, and the most of each.
    async fn slow(req: Request) {
        let read = req.method() == Method::GET;
        if read {
            MOST_READS.fetch_max(READS.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        }
        MOST_ALL.fetch_max(ALL.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        ALL.fetch_sub(1, Ordering::SeqCst);
        if read {
            READS.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Eight reads and eight writes arrive together at a handler that takes a while: at most
    /// two reads run at once, and the writes do not wait for them.
    #[tokio::test]
    async fn reads_take_turns_and_writes_do_not() {
        let app = Router::new()
            .route("/", any(slow))
            .layer(middleware::from_fn_with_state(
                Arc::new(Renders::at_once(2)),
                layer,
            ));
        let mut requests = tokio::task::JoinSet::new();
        for i in 0..16 {
            let method = if i % 2 == 0 {
                Method::GET
            } else {
                Method::POST
            };
            let req = Request::builder()
                .method(method)
                .uri("/")
                .body(Body::empty())
                .unwrap();
            requests.spawn(app.clone().oneshot(req));
        }
        while let Some(res) = requests.join_next().await {
            assert_eq!(res.unwrap().unwrap().status(), 200);
        }
        assert_eq!(MOST_READS.load(Ordering::SeqCst), 2, "reads at once");
        assert_eq!(MOST_ALL.load(Ordering::SeqCst), 10, "requests at once");
    }
}
