//! /search?q=…: full-text search over topics, posts and articles, with filters; a plain GET
//! form, so it works the same with and without JavaScript. Results are never for crawlers
//! (noindex): the pages they point to are.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::search::get_search_results,
    components::{
        avatar::{Avatar, AvatarSize},
        form::Field,
        page::{ErrorView, NoIndex, query_number},
        pager::Pager,
        staff::StatusTag,
        time::RelativeTime,
    },
    model::{SearchHit, SearchRequest, SearchResults, TextPart, TopicStatus},
    paths::encode_query_value,
};

/// The query's fields, in the order they appear in links.
const FIELDS: [&str; 8] = [
    "q", "category", "status", "staff", "author", "from", "to", "sort",
];

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let text = |name: &str| query.get(name).filter(|v| !v.trim().is_empty());
    let request = SearchRequest {
        q: query.get("q").unwrap_or_default(),
        category: text("category"),
        status: text("status"),
        staff: text("staff").is_some_and(|v| !matches!(v.as_str(), "0" | "false" | "off")),
        author: text("author"),
        from: text("from"),
        to: text("to"),
        sort: text("sort"),
        page: query_number(&query, "page").unwrap_or(1),
    };
    let data = OnceResource::new(get_search_results(request));
    view! {
        <NoIndex />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Results page /> }.into_any(),
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The link to this search with its filters, for the pager.
fn search_href(r: &SearchRequest) -> String {
    let staff = r.staff.then(|| "1".to_string());
    let values = [
        Some(r.q.clone()),
        r.category.clone(),
        r.status.clone(),
        staff,
        r.author.clone(),
        r.from.clone(),
        r.to.clone(),
        r.sort.clone(),
    ];
    let query: Vec<String> = FIELDS
        .iter()
        .zip(values)
        .filter_map(|(name, v)| v.map(|v| format!("{name}={}", encode_query_value(&v))))
        .collect();
    format!("/search?{}", query.join("&"))
}

#[component]
fn Results(page: SearchResults) -> impl IntoView {
    let r = page.request.clone();
    let heading = if r.q.trim().is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {}", r.q.trim())
    };
    let error_of = |field: &str| {
        page.filter_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
    };
    let filtered = r.category.is_some()
        || r.status.is_some()
        || r.staff
        || r.author.is_some()
        || r.from.is_some()
        || r.to.is_some()
        || r.sort.is_some();
    let category_options = page
        .categories
        .iter()
        .map(|c| {
            let on = r.category.as_deref() == Some(c.slug.as_str());
            view! { <option value=c.slug.clone() selected=on>{c.name.clone()}</option> }
        })
        .collect_view();
    let status_options = TopicStatus::ALL
        .iter()
        .map(|s| {
            let on = r.status.as_deref() == Some(s.as_str());
            view! { <option value=s.as_str() selected=on>{s.label()}</option> }
        })
        .collect_view();
    let newest = r.sort.as_deref() == Some("newest");
    let category_error = error_of("category");
    let status_error = error_of("status");
    let summary = summary(&page);
    let (has_category_error, has_status_error) = (category_error.is_some(), status_error.is_some());
    let base = search_href(&r);
    let body = if !page.filter_errors.is_empty() {
        // Said next to the fields.
        ().into_any()
    } else if r.q.trim().is_empty() || page.too_common {
        tips().into_any()
    } else if page.hits.is_empty() {
        nothing_found(&r.q).into_any()
    } else {
        view! {
            <ol class="search-results" aria-label="Results">
                {page.hits.into_iter().map(|hit| view! { <Hit hit /> }).collect_view()}
            </ol>
            <Pager base page=page.page page_count=page.page_count />
        }
        .into_any()
    };
    view! {
        <Title text=heading.clone() />
        <h1>"Search"</h1>
        <form class="search-form stack" method="get" action="/search" role="search">
            <div class="search-row">
                <label class="visually-hidden" for="search-q">"Search the community"</label>
                <input id="search-q" type="search" name="q" value=r.q.clone() maxlength="200"
                    placeholder="Words, or \"an exact phrase\"" autocomplete="off" />
                <button type="submit" class="button primary">"Search"</button>
            </div>
            <details class="search-filters" open=filtered || !page.filter_errors.is_empty()>
                <summary>"Filters"</summary>
                <div class="filter-grid">
                    <div class="field" class:has-error=has_category_error>
                        <label for="search-category">"Category"</label>
                        <select id="search-category" name="category" aria-describedby="search-category-error">
                            <option value="">"All categories"</option>
                            {category_options}
                        </select>
                        <p class="field-error" id="search-category-error">{category_error}</p>
                    </div>
                    <div class="field" class:has-error=has_status_error>
                        <label for="search-status">"Status"</label>
                        <select id="search-status" name="status" aria-describedby="search-status-error">
                            <option value="">"Any status"</option>
                            {status_options}
                        </select>
                        <p class="field-error" id="search-status-error">{status_error}</p>
                    </div>
                    <Field label="Author" name="author" optional=true value=r.author.clone().unwrap_or_default()
                        hint="A username" error=Signal::derive({ let e = error_of("author"); move || e.clone() }) />
                    <Field label="From" name="from" kind="date" optional=true value=r.from.clone().unwrap_or_default()
                        error=Signal::derive({ let e = error_of("from"); move || e.clone() }) />
                    <Field label="To" name="to" kind="date" optional=true value=r.to.clone().unwrap_or_default()
                        error=Signal::derive({ let e = error_of("to"); move || e.clone() }) />
                    <div class="field">
                        <label for="search-sort">"Order"</label>
                        <select id="search-sort" name="sort">
                            <option value="" selected=!newest>"Best match"</option>
                            <option value="newest" selected=newest>"Newest first"</option>
                        </select>
                    </div>
                    <label class="choice search-staff">
                        <input type="checkbox" name="staff" value="1" checked=r.staff />
                        " Answered by staff"
                    </label>
                </div>
            </details>
        </form>
        {summary}
        {body}
    }
}

/// "12 topics found", and what was changed about the query.
fn summary(page: &SearchResults) -> Option<AnyView> {
    if page.request.q.trim().is_empty() || !page.filter_errors.is_empty() {
        return None;
    }
    let count = match page.total {
        0 => None,
        n => Some(format!(
            "{} found",
            crate::format::count(n as i64, "topic", "topics")
        )),
    };
    let notice = |on: bool, text: &'static str| on.then(|| view! { <p class="notice">{text}</p> });
    Some(view! {
        <div class="search-summary" role="status">
            {notice(page.too_common, "Those words are too common to search for: add a word that says what you are looking for.")}
            {notice(page.any_words, "No topic has all of those words. These have some of them.")}
            {notice(page.cut, "That query was long: only its first words were used.")}
            {notice(page.capped, "Many posts match: these are the best of the most recent ones. Add a word to narrow it down.")}
            {count.map(|c| view! { <p class="muted">{c}</p> })}
        </div>
    }.into_any())
}

fn tips() -> impl IntoView {
    view! {
        <div class="search-tips">
            <p>"Type a few words about what you are looking for: every word must appear."</p>
            <ul>
                <li>"Put words in quotes for an exact phrase: " <code>"\"export to CSV\""</code></li>
                <li>"Plurals and accents don't matter: " <em>"invoice"</em> " finds " <em>"invoices"</em> ", " <em>"cafe"</em> " finds " <em>"café"</em> "."</li>
                <li>"Narrow it down with the filters: a category, a status, only topics staff answered."</li>
            </ul>
        </div>
    }
}

fn nothing_found(q: &str) -> impl IntoView {
    let ask = format!("/new-topic?title={}", encode_query_value(q.trim()));
    view! {
        <div class="empty">
            <p>"Nothing matches that. Try fewer or different words, or check the spelling."</p>
            <p><a class="button" href=ask>"Ask the community"</a></p>
        </div>
    }
}

/// Marked words as `<mark>`, the rest as text: the only markup in a title or snippet.
fn marked(parts: Vec<TextPart>) -> impl IntoView {
    parts
        .into_iter()
        .map(|p| {
            if p.hit {
                view! { <mark>{p.text}</mark> }.into_any()
            } else {
                p.text.into_any()
            }
        })
        .collect_view()
}

#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let replies = match hit.reply_count {
        0 => None,
        n => Some(crate::format::count(n as i64, "reply", "replies")),
    };
    let byline = match (&hit.staff_title, hit.is_article) {
        (_, true) => "Article by ".to_string(),
        (Some(title), false) => format!("{title} (staff) "),
        (None, false) => String::new(),
    };
    view! {
        <li class="search-hit">
            <h2 class="search-hit-title"><a href=hit.url.clone()>{marked(hit.title)}</a></h2>
            <p class="search-hit-meta">
                {hit.category.map(|c| view! { <a class="tag" href=format!("/c/{}", c.slug)>{c.name}</a> })}
                {hit.status.map(|s| view! { <StatusTag status=s confirmed=hit.resolution_confirmed /> })}
                {hit.official_answer.then(|| view! { <span class="tag answered-tag">"Official answer"</span> })}
                {(hit.staff_answered && !hit.official_answer).then(|| view! { <span class="tag staff-answered-tag"><crate::components::staff::RepliedIcon />"Staff replied"</span> })}
                <span class="muted">
                    " " {byline}
                    {(!hit.author.is_empty()).then(|| view! {
                        <Avatar name=hit.author_display_name.clone() username=hit.author.clone() upload=hit.author_avatar size=AvatarSize::Small />
                        <a href=format!("/u/{}", hit.author)>{hit.author.clone()}</a>
                    })}
                    " · " <RelativeTime at=hit.written_at />
                    {replies.map(|r| view! { " · " {r} })}
                </span>
            </p>
            <p class="search-snippet">{marked(hit.snippet)}</p>
            {hit.merged_from.map(|title| view! { <p class="muted search-merged">"Found in “" {title} "”, merged into this idea."</p> })}
        </li>
    }
}
