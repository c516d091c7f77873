//! Server functions, grouped by area: thin adapters that find who is asking, call a rule in
//! `server::*`, and map its result for the wire.
pub mod admin;
pub mod auth;
pub mod blog;
pub mod forum;
pub mod moderation;
pub mod staff;

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
        crate::server::moderation::check_not_suspended(member)?;
    }
    Ok(user)
}

/// The signed-in member about to write: refused when signed out, or suspended.
#[cfg(feature = "ssr")]
pub(crate) async fn writer() -> Result<crate::server::entity::user::Model, crate::error::AppError>
{
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
            leptos_axum::redirect(&format!(
                "{}{anchor}",
                crate::server::state::referring_path("/")
            ));
            Ok(())
        }
        Err(e) => {
            crate::server::state::set_error_status(&e);
            Err(e)
        }
    }
}

/// A local path to send someone back to after logging in. Anything else (another site,
/// `//evil.example`, a scheme) falls back to the home page, so `next` can't be an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") => {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/t/1/hello?page=2")), "/t/1/hello?page=2");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
