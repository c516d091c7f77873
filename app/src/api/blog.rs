//! The blog's pages' data and the article editor's save.
use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{ArticleEditorStart, ArticlePage, BlogIndex},
};

#[cfg(feature = "ssr")]
use crate::{
    api::forum::{ComposerKind, composer_start},
    model::{ArticleDraft, ArticleState},
    paths::encode_query_value,
    server::{blog, drafts, posting, state},
};

#[server(endpoint = "blog_index")]
pub async fn get_blog_index(page: u64, tag: Option<String>) -> Result<BlogIndex, AppError> {
    let viewer = state::current_user().await?;
    crate::server::views::blog::blog_index(&state::db()?, page, tag.as_deref(), viewer.as_ref())
        .await
}

/// An article, a page of its comments, and the comment box (with `quote` quoted into it).
#[server(endpoint = "article_page")]
pub async fn get_article_page(
    slug: String,
    page: u64,
    quote: Option<i64>,
) -> Result<ArticlePage, AppError> {
    let viewer = state::current_user().await?;
    let mut p =
        crate::server::views::blog::article_page(&state::db()?, &slug, page, viewer.as_ref())
            .await?;
    if p.article.state == ArticleState::Published && p.comments_open {
        p.composer = Some(composer_start(ComposerKind::Reply(p.topic_id), quote).await?);
    }
    let state = state::app_state()?;
    let site_name =
        crate::server::settings::text(&state.db, crate::server::settings::SITE_NAME).await?;
    p.structured_data =
        crate::server::views::structured_data::article(&p, &state.config.public_url, &site_name);
    Ok(p)
}

/// The editor's start: a new article (`slug` None) or the one at `slug`, with any kept draft
/// in place of the stored text. Refused, with nothing shown, to anyone who may not write it.
#[server(endpoint = "article_editor")]
pub async fn get_article_editor(slug: Option<String>) -> Result<ArticleEditorStart, AppError> {
    let db = state::db()?;
    let user = state::current_user()
        .await?
        .ok_or_else(|| AppError::SignInRequired("Log in to write articles.".into()))?;
    let (article_id, current_slug, state, stored) = match slug {
        None => {
            crate::server::records::articles::may_write(&user)?;
            let fresh = ArticleDraft {
                comments_open: true,
                publish: "draft".into(),
                ..Default::default()
            };
            (0, String::new(), None, fresh)
        }
        Some(slug) => {
            let a = crate::server::views::blog::editable_by_slug(&db, &user, &slug).await?;
            let stored = crate::server::views::blog::draft_of(&db, &a).await?;
            let state = crate::server::records::articles::state_of(&a, chrono::Utc::now());
            (a.id, a.slug, Some(state), stored)
        }
    };
    let session = state::session().await?;
    let kept: Option<ArticleDraft> =
        drafts::load(&session, &drafts::article_key(article_id)).await?;
    Ok(ArticleEditorStart {
        article_id,
        current_slug,
        state,
        draft: kept.unwrap_or(stored),
        form_token: crate::server::auth::random_token(),
    })
}

/// Saves the editor: a new article (`article_id` 0) or an edit. "Preview" without JavaScript
/// keeps the fields and comes back with the rendered text; a refused save keeps them too.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_article")]
pub async fn save_article(
    article_id: i64,
    title: String,
    slug: String,
    summary: String,
    body: String,
    cover_image_url: String,
    tags: String,
    comments_open: Option<String>,
    publish: String,
    publish_at: String,
    form_token: String,
    preview: Option<String>,
    /// Why a file sent with the form (without JavaScript) was refused (server/src/files.rs).
    upload_error: Option<String>,
) -> Result<(), AppError> {
    let draft = ArticleDraft {
        title,
        slug,
        summary,
        body,
        cover_image_url,
        tags,
        comments_open: comments_open.is_some(),
        publish,
        publish_at,
        preview_html: None,
    };
    let session = state::session().await?;
    let key = drafts::article_key(article_id);
    let back = state::referring_path("/blog");
    let result = async {
        let db = state::db()?;
        let Some(user) = super::visitor_or_writer().await? else {
            // Signed out meanwhile (an expired session): log in and come back to the text.
            drafts::save(&session, &key, &draft).await?;
            return Ok(format!("/login?next={}", encode_query_value(&back)));
        };
        crate::server::records::articles::may_write(&user)?;
        if let Some(why) = crate::server::uploads::upload_error_of(upload_error) {
            drafts::save(&session, &key, &draft).await?;
            return Err(AppError::invalid(
                "body",
                why.chars().take(500).collect::<String>(),
            ));
        }
        if preview.is_some() {
            posting::validate_body(&draft.body)?;
            let html = posting::render(&db, &draft.body).await?;
            let previewed = ArticleDraft {
                preview_html: Some(html),
                ..draft.clone()
            };
            drafts::save(&session, &key, &previewed).await?;
            return Ok(format!("{back}#field-body"));
        }
        let input = blog::ArticleInput::from_draft(&draft)?;
        let (article, saved) = if article_id == 0 {
            blog::create_article(&db, &user, &input, Some(&form_token)).await?
        } else {
            blog::update_article(&db, &user, article_id, &input).await?
        };
        drafts::clear(&session, &key).await?;
        Ok(format!(
            "{}?saved={}",
            crate::server::records::articles::url_of(&article),
            saved.code()
        ))
    }
    .await;
    match result {
        Ok(destination) => {
            super::redirect(&destination);
            Ok(())
        }
        Err(e) => {
            // Permission refusals keep nothing: the form was never theirs to fill.
            if matches!(e, AppError::Invalid { .. }) {
                drafts::save(&session, &key, &draft).await?;
            }
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}
