//! Forum pages' data and the writes behind the composer.
use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{
        CategoryPage, CategoryRef, CategorySummary, ComposerStart, EditablePost, SiteInfo,
        TopicPage, UserProfile,
    },
};

#[cfg(feature = "ssr")]
use crate::{
    model::Draft,
    paths::encode_query_value,
    server::{drafts, forum, moderation, posting, state},
};
#[cfg(feature = "ssr")]
use sea_orm::EntityTrait;

#[server(endpoint = "site")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    if let Some(inputs) = crate::server::page_inputs::prefetched() {
        return Ok(inputs.site.clone());
    }
    let state = state::app_state()?;
    let db = &state.db;
    state.site.get_or_load(db, || site_info(&state)).await
}

#[cfg(feature = "ssr")]
async fn site_info(state: &state::AppState) -> Result<SiteInfo, AppError> {
    use crate::server::{settings, theme};
    let brand = theme::brand(&state.db).await?;
    Ok(SiteInfo {
        name: settings::text(&state.db, settings::SITE_NAME).await?,
        tagline: settings::text(&state.db, settings::SITE_TAGLINE).await?,
        public_url: state.config.public_url.clone(),
        theme_version: theme::current(&state.db).await?.1,
        theme_colour: brand.theme_colour,
        logo_light: brand.logo_light,
        logo_dark: brand.logo_dark,
        favicon: brand.favicon,
        noindex: !settings::search_engines_index(&state.db).await?,
        roadmap: settings::flag(&state.db, settings::ROADMAP_PUBLIC).await?,
        accountability: settings::accountability_public(&state.db).await?,
        time_zone: settings::text(&state.db, settings::SITE_TIME_ZONE).await?,
    })
}

#[server(endpoint = "categories")]
pub async fn list_categories() -> Result<Vec<CategorySummary>, AppError> {
    crate::server::views::forum::list_categories(&state::db()?).await
}

/// The home page: its introduction, the response headline, the latest topics (page `page`,
/// 20 a page) and the categories; a signed-in member's page marks what is new to them.
#[server(endpoint = "home")]
pub async fn get_home(page: u64) -> Result<crate::model::HomeView, AppError> {
    let viewer = state::current_user().await?;
    let state = state::app_state()?;
    crate::server::views::home::home(
        &state.db,
        viewer.as_ref(),
        page,
        &state.home_pages,
        &state.headline,
    )
    .await
}

/// "Mark all read": nothing up to now is new or unread for the member any more. Back to the
/// page the form was on.
#[server(endpoint = "mark_all_read")]
pub async fn mark_all_read() -> Result<(), AppError> {
    super::act("", |db, member| async move {
        crate::server::records::reads::mark_all_read(&db, member.id).await
    })
    .await
}

#[server(endpoint = "postable_categories")]
pub async fn postable_categories() -> Result<Vec<CategoryRef>, AppError> {
    let staff = state::current_user()
        .await?
        .is_some_and(|u| u.role().is_staff());
    crate::server::views::forum::postable_categories(&state::db()?, staff).await
}

#[server(endpoint = "category_page")]
pub async fn get_category_page(
    slug: String,
    page: u64,
    status: Option<String>,
    /// An ideas category's order: votes | trending | newest | active.
    #[server(default)]
    sort: Option<String>,
    /// Only the ideas the signed-in member voted for.
    #[server(default)]
    mine: bool,
) -> Result<CategoryPage, AppError> {
    let db = state::db()?;
    let viewer = state::current_user().await?;
    let choice = crate::server::views::forum::ListChoice { sort, mine };
    let mut page = crate::server::views::forum::category_page_for(
        &db,
        &slug,
        page,
        status.as_deref(),
        choice,
        viewer.as_ref(),
    )
    .await?;
    if let Some(member) = viewer
        && page.moved_to.is_none()
    {
        page.watching =
            Some(crate::server::subscriptions::watches(&db, &member, page.category.id).await?);
    }
    Ok(page)
}

#[server(endpoint = "topic_page")]
pub async fn get_topic_page(id: i64, page: u64) -> Result<TopicPage, AppError> {
    use crate::server::views::topic::{kept_pages, kept_topic_page};
    if let Some(inputs) = crate::server::page_inputs::prefetched()
        && (inputs.id, inputs.page) == (id, page)
    {
        return Ok(inputs.topic.clone());
    }
    let viewer = state::current_user().await?;
    let app = state::app_state()?;
    let db = app.db.clone();
    // What every reader of this kind sees is read once per page version; then only the
    // reader's own rows. Its notifications are read by the header (api::auth::current_user),
    // which loads with it.
    let (mut page, read) =
        kept_topic_page(&db, kept_pages(&app)?, id, page, viewer.as_ref()).await?;
    // What a member was shown is read: up to this page's last post (Discourse's way), so the
    // home page's markers count only what they have not seen. A failure here costs a marker,
    // not the page.
    if let (Some(member), Some(last)) = (&viewer, page.posts.last()) {
        let marked = crate::server::records::reads::mark_read_past(
            &db,
            member.id,
            page.id,
            last.number,
            read,
        )
        .await;
        if let Err(e) = marked {
            tracing::warn!(error = %e, topic = page.id, "marking a topic read");
        }
    }
    // For search engines, which read as visitors: a member's page goes without (its JSON-LD,
    // an excerpt of every reply, was a fifth of a member's page's instructions).
    if viewer.is_none() {
        page.structured_data = crate::server::views::structured_data::topic(
            &page,
            &state::app_state()?.config.public_url,
        );
    }
    Ok(page)
}

/// The topic a page request is for, when it is a topic page (`/t/{id}` or `/t/{id}/{slug}`):
/// opening it reads the member's notifications about it.
#[cfg(feature = "ssr")]
pub(crate) fn topic_page_path(path: &str) -> Option<i64> {
    let rest = path.strip_prefix("/t/")?;
    let mut parts = rest.split('/');
    let id = parts.next()?.parse().ok()?;
    match (parts.next(), parts.next()) {
        (None, _) | (Some(_), None) => Some(id),
        _ => None,
    }
}

#[server(endpoint = "user_profile")]
pub async fn get_user_profile(username: String) -> Result<UserProfile, AppError> {
    let mut profile = crate::server::views::forum::user_profile(&state::db()?, &username).await?;
    let viewer = state::current_user().await?;
    profile.viewer_is_moderator = viewer
        .as_ref()
        .is_some_and(|v| v.role() >= crate::model::Role::Moderator && v.id != profile.id)
        // A deleted account has nothing left to moderate.
        && !profile.deleted;
    // Only moderators learn whether a member is suspended.
    profile.suspended &= profile.viewer_is_moderator;
    // Only admins see what a member's uploads take (they set the limits).
    let role = viewer.as_ref().map(|v| v.role());
    if crate::server::auth::require_role(role, crate::model::Role::Admin).is_ok() {
        let (files, bytes) =
            crate::server::uploads::storage_used(&state::db()?, profile.id).await?;
        profile.uploads_used = Some(crate::model::UploadsUsed {
            files,
            size: crate::server::uploads::human_size(bytes),
        });
    }
    Ok(profile)
}

#[server(endpoint = "editable_post")]
pub async fn get_editable_post(post_id: i64) -> Result<EditablePost, AppError> {
    let user = state::current_user()
        .await?
        .ok_or_else(|| AppError::SignInRequired("Log in to edit your posts.".into()))?;
    crate::server::views::forum::editable_post(&state::db()?, &user, post_id).await
}

pub const PREVIEW_SIGNED_OUT: &str = "Log in to see a preview. What you have written is kept.";

/// Renders Markdown through the real pipeline, for the live preview. Nothing is stored. For
/// signed-in members only, like posting: rendering is the costliest thing a request can ask for.
#[server(endpoint = "preview")]
pub async fn render_preview(body: String) -> Result<String, AppError> {
    let result = async {
        if state::current_user().await?.is_none() {
            return Err(AppError::SignInRequired(PREVIEW_SIGNED_OUT.into()));
        }
        posting::validate_body(&body)?;
        posting::render(&state::db()?, &body).await
    }
    .await;
    if let Err(e) = &result {
        crate::error::set_error_status(e);
    }
    result
}

/// A post quoted as Markdown, for "Quote" to add to the reply being written.
#[server(endpoint = "quote")]
pub async fn get_quote(post_id: i64) -> Result<String, AppError> {
    let viewer = state::current_user().await?;
    crate::server::views::forum::quote(&state::db()?, post_id, viewer.as_ref()).await
}

/// Which composer a draft belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ComposerKind {
    Reply(i64),
    NewTopic,
    Edit(i64),
}

/// What a composer starts with: the member's kept draft (or a quote to reply to) and a fresh
/// one-shot token.
#[server(endpoint = "composer_start")]
pub async fn get_composer_start(
    kind: ComposerKind,
    quote_post: Option<i64>,
) -> Result<ComposerStart, AppError> {
    if let (ComposerKind::Reply(topic), None) = (kind, quote_post)
        && let Some(inputs) = crate::server::page_inputs::prefetched()
        && inputs.id == topic
    {
        return Ok(inputs.composer.clone());
    }
    composer_start(kind, quote_post).await
}

#[cfg(feature = "ssr")]
pub(crate) async fn composer_start(
    kind: ComposerKind,
    quote_post: Option<i64>,
) -> Result<ComposerStart, AppError> {
    let session = state::session().await?;
    let mut draft: Draft = drafts::load(&session, &draft_key(kind))
        .await?
        .unwrap_or_default();
    let viewer = state::current_user().await?;
    if let Some(post_id) = quote_post
        && let Ok(quoted) =
            crate::server::views::forum::quote(&state::db()?, post_id, viewer.as_ref()).await
    {
        if !draft.body.is_empty() && !draft.body.ends_with("\n\n") {
            draft.body.push_str("\n\n");
        }
        draft.body.push_str(&quoted);
    }
    // A visitor who is not signed in is sent to log in before anything is written, so their
    // form needs no token (and their page is the same for everyone, so it can be cached).
    let signed_in = viewer.is_some();
    let form_token = if signed_in {
        crate::server::auth::random_token()
    } else {
        String::new()
    };
    Ok(ComposerStart { draft, form_token })
}

#[cfg(feature = "ssr")]
fn draft_key(kind: ComposerKind) -> String {
    match kind {
        ComposerKind::Reply(topic_id) => drafts::reply_key(topic_id),
        ComposerKind::NewTopic => drafts::NEW_TOPIC_KEY.to_string(),
        ComposerKind::Edit(post_id) => drafts::edit_key(post_id),
    }
}

/// The shared path of every composer post: keep the text, then send a signed-out writer to log
/// in and back, or preview it, or run `write` and go to the new post.
/// What a composer's post asks for: a preview, or the post; and, from a form posted without
/// JavaScript with files in it, why a file was refused (the router took the files out, kept the
/// good ones and added their Markdown to the text: server/src/files.rs).
#[cfg(feature = "ssr")]
struct Submitted {
    preview: bool,
    upload_error: Option<String>,
}

#[cfg(feature = "ssr")]
impl Submitted {
    fn from(preview: Option<String>, upload_error: Option<String>) -> Self {
        Submitted {
            preview: preview.is_some(),
            upload_error: crate::server::uploads::upload_error_of(upload_error),
        }
    }
}

#[cfg(feature = "ssr")]
async fn submit<F, Fut>(
    kind: ComposerKind,
    draft: Draft,
    asked: Submitted,
    write: F,
) -> Result<(), AppError>
where
    F: FnOnce(crate::server::entity::user::Model) -> Fut,
    Fut: std::future::Future<Output = Result<String, AppError>>,
{
    let user = match super::visitor_or_writer().await {
        Ok(user) => user,
        Err(e) => {
            crate::error::set_error_status(&e);
            return Err(e);
        }
    };
    let session = state::session().await?;
    let key = draft_key(kind);
    let back = format!("{}#composer", state::referring_path("/"));
    // A refused file (or one a visitor attached: files are taken from members only): nothing is
    // posted; the text (with the files that were taken) comes back with the reason beside the
    // editor.
    if let Some(why) = asked.upload_error {
        drafts::save(&session, &key, &draft).await?;
        let e = AppError::invalid("body", why.chars().take(500).collect::<String>());
        crate::error::set_error_status(&e);
        return Err(e);
    }
    // Previewing, like posting, is for members: a visitor logs in first and comes back to the text.
    let Some(user) = user else {
        drafts::save(&session, &key, &draft).await?;
        super::redirect(&format!("/login?next={}", encode_query_value(&back)));
        return Ok(());
    };
    if asked.preview {
        // The same limits as posting: nobody renders a 10 MB "preview".
        if let Err(e) = posting::validate_body(&draft.body) {
            drafts::save(&session, &key, &draft).await?;
            crate::error::set_error_status(&e);
            return Err(e);
        }
        let html = posting::render(&state::db()?, &draft.body).await?;
        drafts::save(
            &session,
            &key,
            &Draft {
                preview_html: Some(html),
                ..draft
            },
        )
        .await?;
        super::redirect(&back);
        return Ok(());
    }
    match write(user).await {
        Ok(destination) => {
            drafts::clear(&session, &key).await?;
            super::redirect(&destination);
            Ok(())
        }
        Err(e) => {
            drafts::save(&session, &key, &draft).await?;
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

#[server(endpoint = "reply")]
pub async fn create_reply(
    topic_id: i64,
    body: String,
    form_token: String,
    preview: Option<String>,
    /// Why a file sent with the form (without JavaScript) was refused: see `submit`.
    upload_error: Option<String>,
) -> Result<(), AppError> {
    let draft = Draft {
        body: body.clone(),
        ..Default::default()
    };
    submit(
        ComposerKind::Reply(topic_id),
        draft,
        Submitted::from(preview, upload_error),
        |user| async move {
            let db = state::db()?;
            let (post, url) = if moderation::replying_approves(&db, &user, topic_id).await? {
                let post =
                    moderation::approve_and_reply(&db, &user, topic_id, &body, Some(&form_token))
                        .await?;
                let url = forum::post_url(&db, &post).await?;
                (post, url)
            } else {
                forum::reply_at(&db, &user, topic_id, &body, Some(&form_token)).await?
            };
            // Said at the new post (a reply waiting for approval says so itself instead).
            if post.state != crate::model::PostState::Visible.as_str() {
                return Ok(url);
            }
            let (page, anchor) = url.split_once('#').unwrap_or((&url, ""));
            let page = crate::components::form::with_done(page, "posted", Some(post.id));
            Ok(format!("{page}#{anchor}"))
        },
    )
    .await
}

#[server(endpoint = "start_topic")]
pub async fn start_topic(
    category: String,
    title: String,
    body: String,
    form_token: String,
    preview: Option<String>,
    /// "Check for similar topics" without JavaScript: the text is kept and the page, opened
    /// again, lists the topics like its title (for visitors too: it is a read).
    similar: Option<String>,
    upload_error: Option<String>,
) -> Result<(), AppError> {
    let draft = Draft {
        title: title.clone(),
        body: body.clone(),
        category: category.clone(),
        preview_html: None,
    };
    if similar.is_some() {
        if let Err(e) = super::visitor_or_writer().await {
            crate::error::set_error_status(&e);
            return Err(e);
        }
        let session = state::session().await?;
        drafts::save(&session, &draft_key(ComposerKind::NewTopic), &draft).await?;
        // The title rides in the address too: a visitor's page is the same for everyone (their
        // text comes back from the session once they log in).
        // Spaces as `+`: a redirect never carries white space, even encoded.
        let value = |v: &str| {
            let words: Vec<&str> = v.split_whitespace().collect();
            encode_query_value(&words.join(" ")).replace("%20", "+")
        };
        super::redirect(&format!(
            "/new-topic?category={}&title={}&similar=1#similar-topics",
            value(&category),
            value(&title.chars().take(300).collect::<String>()),
        ));
        return Ok(());
    }
    submit(
        ComposerKind::NewTopic,
        draft,
        Submitted::from(preview, upload_error),
        |user| async move {
            let db = state::db()?;
            let (_, first) =
                forum::start_topic(&db, &user, &category, &title, &body, Some(&form_token)).await?;
            forum::post_url(&db, &first).await
        },
    )
    .await
}

#[server(endpoint = "edit_post")]
pub async fn edit_post(
    post_id: i64,
    body: String,
    preview: Option<String>,
    /// A moderator editing someone else's post says why; the author is told.
    reason: Option<String>,
    upload_error: Option<String>,
) -> Result<(), AppError> {
    let draft = Draft {
        body: body.clone(),
        ..Default::default()
    };
    submit(
        ComposerKind::Edit(post_id),
        draft,
        Submitted::from(preview, upload_error),
        |user| async move {
            let db = state::db()?;
            let reason = reason.unwrap_or_default();
            // The author's own edit, or a moderator's of someone else's post (logged, and
            // the author told).
            let someone_elses = crate::server::entity::post::Entity::find_by_id(post_id)
                .one(&db)
                .await?
                .is_some_and(|p| p.author_id != user.id);
            let post = if someone_elses && user.role() >= crate::model::Role::Moderator {
                moderation::edit_post(&db, &user, post_id, &body, &reason).await?
            } else {
                forum::edit_post(&db, &user, post_id, &body).await?
            };
            forum::post_url(&db, &post).await
        },
    )
    .await
}
