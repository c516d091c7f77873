//! A member's topic page's inputs, loaded before its render (server::page_inputs): by the
//! page's own server functions, from the two areas they live in.
use super::{auth, forum};
use crate::error::AppError;

/// What a member's topic page reads (server::page_inputs), loaded as the page's own server
/// functions load it, their side effects included (the topic and its notifications marked
/// read). None for a visitor.
pub async fn topic_page(
    id: i64,
    page: u64,
) -> Result<Option<crate::server::page_inputs::TopicPageInputs>, AppError> {
    let Some(user) = auth::current_user().await? else {
        return Ok(None);
    };
    Ok(Some(crate::server::page_inputs::TopicPageInputs {
        id,
        page,
        user,
        site: forum::get_site_info().await?,
        topic: forum::get_topic_page(id, page).await?,
        composer: forum::composer_start(forum::ComposerKind::Reply(id), None).await?,
    }))
}
