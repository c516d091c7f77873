//! Destructive actions ask first. Their server functions act only when the form carries
//! `confirmed`: with JavaScript, /forms.js asks in a dialog and adds it; without, the post
//! lands on /confirm, which says what will happen and posts the same fields with it. So a
//! form that skipped the question (no JavaScript, a script, a stale page) never deletes.
use leptos::prelude::*;

use crate::{error::AppError, model::Confirmation};

#[cfg(feature = "ssr")]
use crate::server::state;

/// What `action` will do, for /confirm. Refused, like the action, to anyone without the right.
#[server(endpoint = "confirmation")]
pub async fn get_confirmation(
    action: String,
    id: i64,
    option: String,
    reason: String,
) -> Result<Confirmation, AppError> {
    use crate::server::views::confirm::{DELETE_ACCOUNT, DELETE_POST, REMOVE_SPAMMER, describe};
    use leptos::server_fn::ServerFn;
    let user = super::signed_in().await?;
    let mut confirmation = describe(&state::db()?, &user, &action, id, &option, &reason).await?;
    confirmation.endpoint = match action.as_str() {
        DELETE_ACCOUNT => super::admin::DeleteAccount::url(),
        REMOVE_SPAMMER => super::moderation::RemoveSpammer::url(),
        DELETE_POST => super::moderation::ModeratePost::url(),
        _ => return Err(AppError::Internal),
    }
    .to_string();
    Ok(confirmation)
}

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
) -> Result<bool, AppError> {
    if confirmed.as_deref().is_some_and(|v| !v.is_empty()) {
        return Ok(true);
    }
    let checked = async {
        let user = super::writer().await?;
        crate::server::views::confirm::describe(&state::db()?, &user, action, id, option, reason)
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
    let back = state::referring_path("/");
    super::redirect(&format!(
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
    let referring = state::referring_path("/");
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
