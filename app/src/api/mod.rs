//! Server functions, grouped by area: thin adapters that find who is asking, call a rule in
//! `server::*`, and map its result for the wire.
pub mod account;
pub mod admin;
pub mod auth;
pub mod blog;
pub mod confirm;
pub mod drafts;
pub mod forum;
pub mod ideas;
pub mod moderation;
#[cfg(feature = "ssr")]
pub mod page_inputs;
pub mod search;
pub mod staff;
pub mod subscriptions;

use crate::paths::local_path;

/// The signed-in member, for pages and reads (writes use `writer`). Signed out, these pages are
/// refused (403) like any other member without the right: nothing here is for visitors.
#[cfg(feature = "ssr")]
pub(crate) async fn signed_in() -> Result<crate::server::entity::user::Model, crate::error::AppError>
{
    crate::server::state::current_user()
        .await?
        .ok_or_else(|| crate::error::AppError::Forbidden(SIGNED_OUT.into()))
}

/// Who is asking, for a server function that writes and that visitors may use too (posting a
/// draft before logging in, signing up, resetting a password). A suspended member is refused
/// here whatever the function: this and `writer` are the one place suspensions are enforced,
/// and every server function that writes starts with one of them (the suspension tests post
/// every server function the router serves).
#[cfg(feature = "ssr")]
pub(crate) async fn visitor_or_writer()
-> Result<Option<crate::server::entity::user::Model>, crate::error::AppError> {
    let user = crate::server::state::current_user().await?;
    if let Some(member) = &user {
        crate::server::auth::check_not_suspended(member)?;
    }
    Ok(user)
}

/// The signed-in member about to write: refused when signed out, or suspended.
#[cfg(feature = "ssr")]
pub(crate) async fn writer() -> Result<crate::server::entity::user::Model, crate::error::AppError> {
    visitor_or_writer()
        .await?
        .ok_or_else(|| crate::error::AppError::Forbidden(SIGNED_OUT.into()))
}

pub const SIGNED_OUT: &str = "Log in first: this is for signed-in members with the right role.";

/// Runs an action for the signed-in member (refused while suspended), then goes back to the page the form was on
/// (at `anchor`), or returns the error with its status.
#[cfg(feature = "ssr")]
pub(crate) async fn act<F, Fut>(anchor: &str, action: F) -> Result<(), crate::error::AppError>
where
    F: FnOnce(sea_orm::DatabaseConnection, crate::server::entity::user::Model) -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::error::AppError>>,
{
    let result = async {
        let user = writer().await?;
        action(crate::server::state::db()?, user).await
    }
    .await;
    match result {
        Ok(()) => {
            redirect(&format!(
                "{}{anchor}",
                crate::server::state::referring_path("/")
            ));
            Ok(())
        }
        Err(e) => {
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

/// How a plain form's action answers: what it says it did (`done`, a code of
/// `form::done_message`; `post` when it was about one post, which shows it), where on the page
/// (`anchor`), and, should it fail, which of the page's forms it was (`form`, as
/// `AppError::in_form` names it) with the values worth showing again (`kept`).
#[cfg(feature = "ssr")]
pub(crate) struct Answer<'a> {
    pub fn_path: &'a str,
    pub done: &'a str,
    pub post: Option<i64>,
    pub anchor: String,
    pub form: String,
    pub kept: Vec<(String, String)>,
}

/// `act`, answering as `answer` says: back to the page the form was on (or the page a
/// confirmation came from) with `?done=` at the anchor; a failure goes back to the same
/// place with the error in that form, next to its field, with what was chosen kept. A
/// script client gets the result and the error as they are.
#[cfg(feature = "ssr")]
pub(crate) async fn act_to<F, Fut>(
    answer: Answer<'_>,
    action: F,
) -> Result<(), crate::error::AppError>
where
    F: FnOnce(sea_orm::DatabaseConnection, crate::server::entity::user::Model) -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::error::AppError>>,
{
    let result = async {
        let user = writer().await?;
        action(crate::server::state::db()?, user).await
    }
    .await;
    match result {
        Ok(()) => {
            let page = page_of_form();
            let target = crate::components::form::with_done(&page, answer.done, answer.post);
            redirect(&format!("{target}{}", answer.anchor));
            Ok(())
        }
        Err(e) => fail(answer, e),
    }
}

/// A failed action of `act_to` (or one refused before it started): a plain form goes back to
/// its form with the error in it; a script client gets the error with its status.
#[cfg(feature = "ssr")]
pub(crate) fn fail(
    answer: Answer<'_>,
    e: crate::error::AppError,
) -> Result<(), crate::error::AppError> {
    fail_at(answer, e, &page_of_form())
}

/// `fail`, a plain form going back to `page` (the form's own page) whichever page it came from.
#[cfg(feature = "ssr")]
pub(crate) fn fail_at(
    answer: Answer<'_>,
    e: crate::error::AppError,
    page: &str,
) -> Result<(), crate::error::AppError> {
    if crate::server::state::plain_form() {
        {
            // A form of several on the page is found by its id; the page's one by its status.
            let anchor = if answer.form.is_empty() {
                answer.anchor
            } else {
                format!("#{}", answer.form)
            };
            let e = e.in_form(&answer.form, answer.kept);
            // The error's own redirect would go to the page's top; this one goes to the form.
            let url = leptos::server_fn::error::ServerFnUrlError::new(answer.fn_path, e.clone())
                .to_url(&format!(
                    "http://site{}",
                    crate::components::form::without_done(page)
                ))
                .map(|u| format!("{}?{}{anchor}", u.path(), u.query().unwrap_or("")));
            if let Ok(url) = url {
                redirect(&url);
            }
            Err(e)
        }
    } else {
        crate::error::set_error_status(&e);
        Err(e)
    }
}

/// Runs a member's action from a form that an island updates in place: with JavaScript the
/// answer is the action's result and the page stays; a plain form (no JavaScript) is sent back
/// to its page at `anchor`, where the page shows the new state.
#[cfg(feature = "ssr")]
pub(crate) async fn act_in_place<T, F, Fut>(
    anchor: &str,
    action: F,
) -> Result<T, crate::error::AppError>
where
    F: FnOnce(sea_orm::DatabaseConnection, crate::server::entity::user::Model) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::error::AppError>>,
{
    let result = async {
        let user = writer().await?;
        action(crate::server::state::db()?, user).await
    }
    .await;
    match &result {
        Ok(_) if crate::server::state::plain_form() => redirect(&format!(
            "{}{anchor}",
            crate::server::state::referring_path("/")
        )),
        Ok(_) => {}
        Err(e) => crate::error::set_error_status(e),
    }
    result
}

/// Sends the browser to `target` after a form (a 302 for a plain form, the redirect header
/// for the hydrated one's fetch). Every redirect of a server function goes through here: a
/// target that is not a local path (`local_path`) becomes the home page, so no input reaches
/// the Location header unchecked and none can make the response fail.
#[cfg(feature = "ssr")]
pub(crate) fn redirect(target: &str) {
    leptos_axum::redirect(&safe_next(Some(target)));
}

/// Where to go after logging in or signing up: `next` when it is a local path, else the home
/// page, so `next` can't be an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_string())
}

/// Destructive actions ask first (api::confirm holds the page that asks).
/// Whether a destructive form was confirmed; when not, sends the browser to /confirm for
/// `action` (with the choices made, and the page to go back to) and the caller does nothing.
/// Who may not do the action is refused here already, as the action would refuse them, so
/// asking never tells them more than acting would.
#[cfg(feature = "ssr")]
pub(crate) async fn confirmed_or_ask(
    confirmed: &Option<String>,
    action: &str,
    id: i64,
    option: &str,
    reason: &str,
) -> Result<bool, crate::error::AppError> {
    if confirmed.as_deref().is_some_and(|v| !v.is_empty()) {
        return Ok(true);
    }
    let checked = async {
        let user = writer().await?;
        confirm::confirmation(
            &crate::server::state::db()?,
            &user,
            action,
            id,
            option,
            reason,
        )
        .await
    }
    .await;
    if let Err(e) = checked {
        crate::error::set_error_status(&e);
        return Err(e);
    }
    // Every redirect must be a local path with no whitespace once decoded (paths::local_path),
    // so spaces go as `+` (a query value's space), and other whitespace as a space first.
    let enc = |v: &str| {
        let plain: String = v
            .chars()
            .filter(|c| !c.is_control() || c.is_whitespace())
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        crate::paths::encode_query_value(&plain).replace("%20", "+")
    };
    let back = crate::server::state::referring_path("/");
    redirect(&format!(
        "/confirm?action={action}&id={id}&option={}&reason={}&back={}",
        enc(option),
        enc(reason),
        enc(&back)
    ));
    Ok(false)
}

/// The page a form was on: the Referer's path, or, for a form sent from /confirm, the page
/// the question came from (its `back`), so the answer lands where the action was started.
#[cfg(feature = "ssr")]
pub(crate) fn page_of_form() -> String {
    let referring = crate::server::state::referring_path("/");
    match referring.strip_prefix("/confirm?") {
        Some(query) => query
            .split('&')
            .find_map(|kv| kv.strip_prefix("back="))
            .and_then(crate::paths::decode_query_value)
            .and_then(|back| crate::paths::local_path(&back))
            .unwrap_or_else(|| "/".into()),
        None => referring,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/t/1/hello?page=2")), "/t/1/hello?page=2");
        assert_eq!(safe_next(Some("/u/caf\u{e9}")), "/u/caf%C3%A9");
        assert_eq!(safe_next(Some("/a%2Fb")), "/a%2Fb");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/x\r\nSet-Cookie: a=b",
            "/x\u{7f}",
            "/x%0a",
            "/a b",
            "/%",
            "/%g0",
            "/%+1",
            "/%ff",
            "%2F",
            "%2Fx",
            "javascript:x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
