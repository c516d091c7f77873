//! An article's pieces shared by the blog's list and the article page.
use chrono::{DateTime, Datelike, Utc};
use leptos::prelude::*;

use super::time::{RelativeTime, exact_utc};
use crate::model::{ArticleState, ArticleSummary, article_url};

/// "24 November 2026": an article's date reads as a date, with the exact time on hover.
pub fn long_date(at: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    format!(
        "{} {} {}",
        at.day(),
        MONTHS[at.month0() as usize],
        at.year()
    )
}

#[component]
pub fn ArticleDate(at: DateTime<Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339() title=exact_utc(at)>{long_date(at)}</time> }
}

/// Who wrote it: their name, linked, and their staff title as a badge.
#[component]
pub fn Byline(article: ArticleSummary) -> impl IntoView {
    view! {
        <span class="byline">
            <a class="post-author" href=format!("/u/{}", article.author_username)>{article.author_display_name.clone()}</a>
            " "
            <super::staff::StaffBadge title=article.author_staff_title.clone() spoken="" />
        </span>
    }
}

#[component]
pub fn TagLinks(tags: Vec<String>) -> impl IntoView {
    (!tags.is_empty()).then(|| {
        view! {
            <ul class="tag-list" aria-label="Tags">
                {tags
                    .into_iter()
                    .map(|t| view! { <li><a class="tag" href=format!("/blog/tag/{t}")>{t.clone()}</a></li> })
                    .collect_view()}
            </ul>
        }
    })
}

/// The state an author sees on their own unpublished article.
#[component]
pub fn StateTag(article: ArticleSummary) -> impl IntoView {
    match (article.state, article.published_at) {
        (ArticleState::Published, _) => None,
        (ArticleState::Scheduled, Some(at)) => Some(
            view! {
                <span class="tag state-tag">"Scheduled for " {exact_utc(at)}</span>
            }
            .into_any(),
        ),
        (state, _) => Some(view! { <span class="tag state-tag">{state.label()}</span> }.into_any()),
    }
}

#[component]
pub fn ArticleCard(article: ArticleSummary) -> impl IntoView {
    let href = article_url(&article.slug, 1);
    let comments = match article.comment_count {
        0 => "No comments yet".to_string(),
        n => crate::format::count(n as i64, "comment", "comments"),
    };
    let when = match (article.state, article.published_at) {
        (ArticleState::Published, Some(at)) => view! { <ArticleDate at /> }.into_any(),
        _ => view! { <span>"Edited " <RelativeTime at=article.updated_at /></span> }.into_any(),
    };
    view! {
        <li class="article-card">
            {article.cover_image_url.clone().map(|src| view! { <img class="article-cover" src=src alt="" loading="lazy" /> })}
            <div class="article-card-main">
                <h2 class="article-card-title"><a href=href>{article.title.clone()}</a> <StateTag article=article.clone() /></h2>
                <p class="muted article-meta"><Byline article=article.clone() /> " · " {when} " · " {comments}</p>
                <p class="article-summary">{article.summary.clone()}</p>
                <TagLinks tags=article.tags.clone() />
            </div>
        </li>
    }
}
