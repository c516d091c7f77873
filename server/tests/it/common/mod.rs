//! Drives the real router in-process: real migrations, real database, real session layer.
#![allow(dead_code)]
use app::server::{config::Config, db};
use axum::{
    Router,
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use http_body_util::BodyExt;
use sea_orm::DatabaseConnection;
use tower::ServiceExt;

pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub fn config(public_url: &str, database_url: &str) -> Config {
    config_with(&[
        ("BACKYARD_PUBLIC_URL", public_url),
        ("DATABASE_URL", database_url),
    ])
}

/// A configuration from these settings alone, as if they were the whole environment.
pub fn config_with(settings: &[(&str, &str)]) -> Config {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(move |key| {
        settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

pub async fn sqlite_memory() -> DatabaseConnection {
    app::server::testing::test_db().await
}

pub fn router_for(db: DatabaseConnection) -> Router {
    router_with(db, ORIGIN)
}

pub fn router_with(db: DatabaseConnection, public_url: &str) -> Router {
    let cfg = config(public_url, "sqlite::memory:");
    server::router(server::app_state(cfg, db))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub body: String,
    /// The body's length as sent (compressed, if it was).
    pub wire_bytes: usize,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The page's script nonce, from its Content-Security-Policy.
    pub fn nonce(&self) -> Option<String> {
        self.header("content-security-policy")
            .and_then(app::server::csp::nonce_of)
            .map(str::to_string)
    }

    /// The body without what differs on every response even when the page is the same: the
    /// script nonce and the browser's cross-site token.
    pub fn stable_body(&self) -> String {
        let mut body = self.body.clone();
        if let Some(nonce) = self.nonce() {
            body = body.replace(&nonce, "NONCE");
        }
        let marker = r#"name="_csrf" value=""#;
        let mut out = String::new();
        let mut rest = body.as_str();
        while let Some(i) = rest.find(marker) {
            out.push_str(&rest[..i + marker.len()]);
            out.push_str("TOKEN");
            rest = &rest[i + marker.len() + 64..];
        }
        out.push_str(rest);
        out
    }

    /// `name=value` of the session cookie this response set, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookie
            .iter()
            .find(|c| c.starts_with(server::SESSION_COOKIE))
            .map(|c| c.split(';').next().unwrap().to_string())
    }
}

/// Any request, as built by the test.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res: Response<Body> = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let set_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let wire = res.into_body().collect().await.unwrap().to_bytes();
    // Decoded as a browser would; `wire_bytes` keeps what was sent.
    let decoded = if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v == "gzip")
    {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&wire[..]), &mut out)
            .expect("valid gzip");
        out
    } else {
        wire.to_vec()
    };
    Reply {
        status,
        headers,
        location,
        set_cookie,
        body: String::from_utf8_lossy(&decoded).to_string(),
        wire_bytes: wire.len(),
    }
}

pub async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut req = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

/// A form post as a browser without JavaScript sends it: urlencoded, Accept: text/html, and a
/// Referer to come back to.
pub async fn post_form(
    app: &Router,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
    from: &str,
) -> Reply {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{ORIGIN}{from}"))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::from(encode(fields))).unwrap()).await
}

/// The reply form of the topic page at `path` (for `topic_id`), sent with `token` as a browser
/// without JavaScript sends it.
pub async fn post_reply(
    app: &Router,
    path: &str,
    topic_id: i64,
    body: &str,
    token: &str,
    cookie: &str,
) -> Reply {
    let id = topic_id.to_string();
    post_form(
        app,
        "/api/reply",
        &[("topic_id", &id), ("body", body), ("form_token", token)],
        Some(cookie),
        path,
    )
    .await
}

/// The review queue's bulk bar sent without JavaScript from /admin/review: `action` with
/// `reason` on the review items `items`, as `cookie`.
pub async fn post_bulk(
    app: &Router,
    cookie: &str,
    action: &str,
    reason: &str,
    items: &[String],
) -> Reply {
    let mut fields = vec![("action", action), ("reason", reason)];
    fields.extend(items.iter().map(|id| ("items[]", id.as_str())));
    post_form(
        app,
        "/api/moderate_bulk",
        &fields,
        Some(cookie),
        "/admin/review",
    )
    .await
}

/// The same post as the hydrated form's fetch sends it: it wants the result, not a redirect.
/// Posts `fields` to the server function at `path` as `who` (their cookie, or none) and checks
/// the answer is 403 with `expected` in it.
pub async fn assert_refused(
    app: &Router,
    path: &str,
    fields: &[(&str, &str)],
    who: &str,
    cookie: Option<&str>,
    expected: &str,
) {
    let res = post_fetch(app, path, fields, cookie).await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "{path} as {who}: {}",
        res.body
    );
    assert!(res.body.contains(expected), "{path} as {who}: {}", res.body);
}

pub async fn post_fetch(
    app: &Router,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Reply {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::from(encode(fields))).unwrap()).await
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", k, app::paths::encode_query_value(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The one-shot token the sign-up page embedded in its form.
pub async fn signup_token(app: &Router) -> String {
    form_token_on(app, "/signup", None).await
}

/// The one-shot token in the form on the page at `path`.
pub async fn form_token_on(app: &Router, path: &str, cookie: Option<&str>) -> String {
    let page = get(app, path, cookie).await;
    let marker = r#"name="form_token" value=""#;
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no form token on {path}"))
        + marker.len();
    page.body[start..start + 64].to_string()
}

/// Follows a redirect that a no-JavaScript post got back to a local page, as the browser that
/// sent `cookie` does: with the cookies the redirect gave it too (a form error in the URL is
/// shown only to the browser it was signed for).
pub async fn follow(app: &Router, res: &Reply, cookie: Option<&str>) -> Reply {
    let location = res.location.as_deref().expect("a redirect");
    let path = location.strip_prefix(ORIGIN).unwrap_or(location);
    let cookies = with_cookies_set(res, cookie);
    get(app, path.split('#').next().unwrap(), cookies.as_deref()).await
}

/// `cookie` plus the token cookie `res` set, as a browser sends them next.
pub fn with_cookies_set(res: &Reply, cookie: Option<&str>) -> Option<String> {
    let set = res
        .set_cookie
        .iter()
        .find(|c| c.starts_with("backyard_csrf="))
        .map(|c| c.split(';').next().unwrap().to_string());
    match (cookie, set) {
        (Some(c), Some(s)) => Some(format!("{c}; {s}")),
        (c, s) => s.or(c.map(str::to_string)),
    }
}

/// Signs up through the no-JavaScript path; returns the session cookie.
pub async fn sign_up(app: &Router, username: &str, email: &str, password: &str) -> String {
    let token = signup_token(app).await;
    let res = post_form(
        app,
        "/api/sign_up",
        &[
            ("username", username),
            ("email", email),
            ("password", password),
            ("form_token", &token),
            ("next", "/"),
        ],
        None,
        "/signup",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some("/"));
    res.session_cookie().expect("signing up starts a session")
}

pub async fn log_in(app: &Router, login: &str, password: &str, cookie: Option<&str>) -> Reply {
    post_form(
        app,
        "/api/log_in",
        &[("login", login), ("password", password), ("next", "/")],
        cookie,
        "/login",
    )
    .await
}

/// An in-memory site with the demo content and its router: most HTTP tests start here.
pub async fn demo_site() -> (DatabaseConnection, Router) {
    let db = sqlite_memory().await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let app = router_for(db.clone());
    (db, app)
}

/// The demo site with its customer, staff member and admin signed in (their session cookies).
pub struct DemoMembers {
    pub db: DatabaseConnection,
    pub app: Router,
    pub casey: String,
    pub sam: String,
    pub admin: String,
}

pub async fn demo_members() -> DemoMembers {
    let (db, app) = demo_site().await;
    DemoMembers {
        casey: session_of(&app, "casey", "demo-customer-pass").await,
        sam: session_of(&app, "sam", "demo-staff-pass").await,
        admin: session_of(&app, "admin", "demo-admin-pass").await,
        db,
        app,
    }
}

/// Logs in and returns the session cookie; panics if the log-in fails.
pub async fn session_of(app: &Router, login: &str, password: &str) -> String {
    log_in(app, login, password, None)
        .await
        .session_cookie()
        .unwrap_or_else(|| panic!("{login} could not log in"))
}

pub async fn signed_in_as(app: &Router, cookie: &str) -> Option<String> {
    let page = get(app, "/", Some(cookie)).await;
    let marker = "Signed in as <strong>";
    page.body.find(marker).map(|i| {
        let rest = &page.body[i + marker.len()..];
        rest[..rest.find('<').unwrap()].to_string()
    })
}

pub async fn user_count(db: &DatabaseConnection) -> u64 {
    app::server::accounts::count_users(db).await.unwrap()
}

pub async fn file_db(path: &std::path::Path) -> DatabaseConnection {
    let conn = db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    db::migrate(&conn).await.unwrap();
    conn
}

/// Every table's rows as text, by table name, to compare before and after a refused request:
/// equal means nothing was written. `left_out` tables are skipped; `ids_only` tables count by
/// their rows' ids (a session's data changes when a page refreshes its "last seen"; its
/// existence is what matters). Server keys are made on first use, so they are always left out.
pub async fn table_rows(
    db: &DatabaseConnection,
    left_out: &[&str],
    ids_only: &[&str],
) -> std::collections::BTreeMap<String, Vec<String>> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let tables = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'search_index_%' \
             AND name != 'server_secrets' ORDER BY name",
        ))
        .await
        .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for row in tables {
        let name: String = row.try_get_by_index(0).unwrap();
        if left_out.contains(&name.as_str()) {
            continue;
        }
        let select = if ids_only.contains(&name.as_str()) {
            "quote(id)".to_string()
        } else {
            db.query_all_raw(Statement::from_string(
                backend,
                format!("SELECT name FROM pragma_table_info('{name}')"),
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|r| format!("quote(\"{}\")", r.try_get_by_index::<String>(0).unwrap()))
            .collect::<Vec<_>>()
            .join(" || '|' || ")
        };
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT {select} FROM \"{name}\" ORDER BY rowid"),
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap())
            .collect();
        out.insert(name, rows);
    }
    out
}

/// Where a redirect after posting lands, without the `?done=posted&post=ID` that says "Reply
/// posted" there: the page and the post's anchor.
pub fn landed_on(location: Option<&str>) -> Option<String> {
    let location = location?;
    let (page, anchor) = location.split_once('#').unwrap_or((location, ""));
    let page = app::components::form::without_done(page);
    Some(if anchor.is_empty() {
        page
    } else {
        format!("{page}#{anchor}")
    })
}

/// The member named `name` (any case); panics if there is none.
pub async fn member(db: &DatabaseConnection, name: &str) -> app::server::entity::user::Model {
    use app::server::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(name.to_lowercase()))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no member {name}"))
}

/// Gives a demo account an address a person could have (the demo's are under `.invalid`, which
/// nobody may give as their own): for tests of one member giving another's address.
pub async fn give_real_address(db: &DatabaseConnection, name: &str) -> String {
    use app::server::entity::user;
    use sea_orm::{ActiveModelTrait, Set};
    let address = format!("{}@example.com", name.to_lowercase());
    let mut row: user::ActiveModel = member(db, name).await.into();
    row.email = Set(address.clone());
    row.email_key = Set(address.clone());
    row.update(db).await.unwrap();
    address
}
