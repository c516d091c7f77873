//! An ended session stays ended: whatever its own requests were doing when the member's
//! sessions ended (password change or reset, "log out everywhere", suspension, deletion), none
//! of them brings it back when it finishes. The store-level interleavings are tested in
//! app/src/server/session_store.rs; these go through the real router.
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use app::server::{db::begin_write, entity::session};
use axum::Router;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::common::*;

/// Casey's id in the demo content.
const CASEY: i64 = 3;

async fn sessions_of(db: &DatabaseConnection, user_id: i64) -> u64 {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .count(db)
        .await
        .unwrap()
}

/// A no-JavaScript preview of a reply: it keeps the draft in the session, so every one of these
/// requests writes its session back when it finishes.
async fn preview(app: &Router, cookie: &str, n: usize) -> Reply {
    post_form(
        app,
        "/api/reply",
        &[
            ("topic_id", "1"),
            ("body", &format!("Draft number {n}")),
            ("form_token", ""),
            ("preview", "1"),
        ],
        Some(cookie),
        "/t/1/x",
    )
    .await
}

/// Requests that loaded the session and wait to write it back (the database's write lock is
/// held) when the member's sessions end: when they go on, none of them revives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_in_flight_when_the_sessions_end_do_not_bring_the_session_back() {
    let (db, app) = demo_site().await;
    let stolen = session_of(&app, "casey", "demo-customer-pass").await;
    let held = begin_write(&db).await.unwrap();
    let in_flight: Vec<_> = (0..6)
        .map(|n| {
            let (app, stolen) = (app.clone(), stolen.clone());
            tokio::spawn(async move { preview(&app, &stolen, n).await })
        })
        .collect();
    // Time for them to load the session and reach their write: not an assertion, and if some
    // are slower they load the ended session, which must sign them out all the same.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app::server::session_store::end_sessions(&held, CASEY)
        .await
        .unwrap();
    held.commit().await.unwrap();
    for request in in_flight {
        let res = request.await.unwrap();
        assert_eq!(res.status, axum::http::StatusCode::FOUND, "{}", res.body);
    }
    assert_eq!(sessions_of(&db, CASEY).await, 0, "no row came back");
    assert_eq!(signed_in_as(&app, &stolen).await, None);
}

/// Keeps `workers` requests at a time going on `cookie` (previews that write the session, and
/// page views) until told to stop; counts the requests answered.
struct Stream {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Stream {
    fn start(app: &Router, cookie: &str, workers: usize) -> Stream {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let workers = (0..workers)
            .map(|w| {
                let (app, cookie) = (app.clone(), cookie.to_string());
                let (stop, answered) = (stop.clone(), answered.clone());
                tokio::spawn(async move {
                    let mut n = w;
                    while !stop.load(Ordering::SeqCst) {
                        if n % 3 == 0 {
                            get(&app, "/t/1/x", Some(&cookie)).await;
                        } else {
                            preview(&app, &cookie, n).await;
                        }
                        answered.fetch_add(1, Ordering::SeqCst);
                        n += 1;
                    }
                })
            })
            .collect();
        Stream {
            stop,
            answered,
            workers,
        }
    }

    /// Waits until `more` further requests have been answered.
    async fn wait_for(&self, more: usize) {
        let target = self.answered.load(Ordering::SeqCst) + more;
        while self.answered.load(Ordering::SeqCst) < target {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        for w in self.workers {
            w.await.unwrap();
        }
    }
}

/// The ways a member's sessions end, each through its real server function. Returns this
/// browser's new session when the action signs the asking browser in again.
#[derive(Clone, Copy, Debug)]
enum Ending {
    PasswordChange,
    PasswordReset,
    LogOutEverywhere,
    Suspension,
    Deletion,
}

async fn end(ending: Ending, d: &DemoMembers, owner: &str) {
    let casey = CASEY.to_string();
    let res = match ending {
        Ending::PasswordChange => {
            post_form(
                &d.app,
                "/api/change_password",
                &[
                    ("current_password", "demo-customer-pass"),
                    ("new_password", "a brand new passphrase"),
                ],
                Some(owner),
                "/account",
            )
            .await
        }
        Ending::PasswordReset => {
            let token = reset_token(d).await;
            post_form(
                &d.app,
                "/api/reset_password",
                &[
                    ("token", &token),
                    ("new_password", "a reset passphrase here"),
                ],
                None,
                &format!("/reset/{token}"),
            )
            .await
        }
        Ending::LogOutEverywhere => {
            post_fetch(
                &d.app,
                "/api/log_out_everywhere",
                &[("user_id", &casey)],
                Some(&d.admin),
            )
            .await
        }
        Ending::Suspension => {
            post_fetch(
                &d.app,
                "/api/suspend_member",
                &[
                    ("user_id", &casey),
                    ("days", "7"),
                    ("reason", "stolen account"),
                ],
                Some(&d.admin),
            )
            .await
        }
        Ending::Deletion => {
            post_fetch(
                &d.app,
                "/api/delete_account",
                &[("user_id", &casey), ("posts", "keep"), ("confirmed", "yes")],
                Some(&d.admin),
            )
            .await
        }
    };
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{ending:?}: {} {}",
        res.status,
        res.body
    );
    assert!(
        !res.location
            .as_deref()
            .unwrap_or_default()
            .contains("__err"),
        "{ending:?}: {:?}",
        res.location
    );
}

/// A reset link for casey, as the e-mail carries it.
async fn reset_token(d: &DemoMembers) -> String {
    use app::server::entity::email;
    post_form(
        &d.app,
        "/api/request_reset",
        &[("login", "casey")],
        None,
        "/reset",
    )
    .await;
    for _ in 0..200 {
        let mail = email::Entity::find()
            .filter(email::Column::ToAddress.contains("casey"))
            .filter(email::Column::Subject.eq("Reset your password"))
            .one(&d.db)
            .await
            .unwrap();
        if let Some(mail) = mail {
            let start = mail.body.find("/reset/").unwrap() + "/reset/".len();
            return mail.body[start..start + 64].to_string();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no reset e-mail");
}

/// A thief keeps a stream of requests going on casey's stolen session while the session ends
/// each way it can; afterwards the stolen cookie is signed out, and stays so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stolen_session_under_a_stream_of_requests_ends_every_way_a_session_ends() {
    for ending in [
        Ending::PasswordChange,
        Ending::PasswordReset,
        Ending::LogOutEverywhere,
        Ending::Suspension,
        Ending::Deletion,
    ] {
        let d = demo_members().await;
        let stolen = session_of(&d.app, "casey", "demo-customer-pass").await;
        let stream = Stream::start(&d.app, &stolen, 6);
        stream.wait_for(6).await;
        end(ending, &d, &d.casey).await;
        stream.wait_for(12).await;
        stream.finish().await;
        assert_eq!(
            signed_in_as(&d.app, &stolen).await,
            None,
            "{ending:?}: the stolen session is signed out"
        );
        assert_eq!(
            signed_in_as(&d.app, &d.casey).await,
            None,
            "{ending:?}: and so is every other old one"
        );
        let left = sessions_of(&d.db, CASEY).await;
        let expected = u64::from(matches!(ending, Ending::PasswordChange));
        assert_eq!(left, expected, "{ending:?}: only a fresh sign-in is left");
    }
}

/// Drafts kept in a session are bounded: a visitor previewing long replies into topic after
/// topic (real or not) ends with a session row under 256 KB, is told when a draft does not
/// fit, and a signed-in member stays signed in throughout.
#[tokio::test]
async fn a_flood_of_drafts_keeps_the_session_under_its_cap_and_the_member_signed_in() {
    use app::server::drafts::DRAFTS_FULL;
    let d = demo_members().await;
    let body = "x".repeat(40_000);
    let mut anonymous: Option<String> = None;
    let mut refused = Vec::new();
    for (who, topics) in [("visitor", 1..=40), ("casey", 100..=140)] {
        for topic in topics {
            let cookie = if who == "casey" {
                Some(d.casey.clone())
            } else {
                anonymous.clone()
            };
            let res = post_form(
                &d.app,
                "/api/reply",
                &[
                    ("topic_id", &topic.to_string()),
                    ("body", &body),
                    ("form_token", ""),
                    ("preview", "1"),
                ],
                cookie.as_deref(),
                "/t/1/x",
            )
            .await;
            if who == "visitor" && anonymous.is_none() {
                anonymous = res.session_cookie();
            }
            if res
                .location
                .as_deref()
                .unwrap_or_default()
                .contains("__err")
            {
                refused.push((who, res, cookie));
            }
        }
    }
    let largest = session::Entity::find()
        .all(&d.db)
        .await
        .unwrap()
        .iter()
        .map(|s| s.data.len())
        .max()
        .unwrap();
    assert!(largest <= 256 * 1024, "{largest} bytes");
    assert!(refused.iter().any(|(who, ..)| *who == "visitor"));
    assert!(refused.iter().any(|(who, ..)| *who == "casey"));
    // The refusal says why (here as a script client gets it; a plain form gets it back on the
    // page it came from).
    let res = post_fetch(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", "999"),
            ("body", &body),
            ("form_token", ""),
            ("preview", "1"),
        ],
        Some(&d.casey),
    )
    .await;
    assert!(res.body.contains(DRAFTS_FULL), "{}", res.body);
    assert_eq!(
        signed_in_as(&d.app, &d.casey).await.as_deref(),
        Some("casey")
    );
}
