use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::staff::get_staff_ideas,
    components::{
        page::{ErrorView, NoIndex, query_number},
        pager::Pager,
        sparkline::Sparkline,
        staff::StatusTag,
    },
    model::{StaffIdeaRow, StaffIdeas, TopicStatus},
    paths::encode_query_value,
};

/// /staff/ideas (staff): ideas by votes, filtered by category, status, verified votes only and
/// a period; each with its voters (customers, staff) and its weekly trend; a CSV of the same.
#[component]
pub fn StaffIdeasPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let get = |name: &str| query.get(name).filter(|v| !v.is_empty());
    let verified_only = get("verified").is_some_and(|v| crate::model::ticked(&v));
    let page: u64 = query_number(&query, "page").unwrap_or(1);
    let data = OnceResource::new(get_staff_ideas(
        get("category"),
        get("status"),
        verified_only,
        get("from"),
        get("to"),
        page,
    ));
    view! {
        <Title text="Ideas by votes" />
        <NoIndex />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Counting the votes…"</p> }>
            {move || Suspend::new(async move {
                let s = match data.await {
                    Ok(s) => s,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let query = filter_query(&s);
                let base = if query.is_empty() { "/staff/ideas".to_string() } else { format!("/staff/ideas?{query}") };
                let csv = if query.is_empty() { "/staff/ideas.csv".to_string() } else { format!("/staff/ideas.csv?{query}") };
                let count = format!("{}.", crate::format::count(s.total as i64, "idea", "ideas"));
                let period = s.from.is_some() || s.to.is_some();
                view! {
                    <header class="intro">
                        <div>
                            <h1>"Ideas by votes"</h1>
                            <p class="lede">{count} {if period { " Votes cast in the period you chose." } else { " All votes so far." }}</p>
                        </div>
                        <span class="form-actions">
                            <a class="button" href=csv download="ideas.csv">"Download as CSV"</a>
                            <a class="button" href="/roadmap">"Roadmap"</a>
                        </span>
                    </header>
                    <Filters s=s.clone() />
                    {if s.ideas.is_empty() {
                        view! { <div class="empty"><p>"No ideas match these filters."</p></div> }.into_any()
                    } else {
                        let verified_only = s.verified_only;
                        view! {
                            <div class="table-scroll">
                                <table class="metrics staff-ideas">
                                    <caption class="visually-hidden">"Ideas, most votes first"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Idea"</th>
                                            <th scope="col">{if verified_only { "Verified votes" } else { "Votes (with pending)" }}</th>
                                            <th scope="col">"Verified"</th>
                                            <th scope="col">"Pending"</th>
                                            <th scope="col">"Customers"</th>
                                            <th scope="col">"Staff"</th>
                                            <th scope="col">"Last 12 weeks"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {s.ideas.into_iter().map(|row| view! { <Row row /> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                        .into_any()
                    }}
                    <Pager base page=s.page page_count=s.page_count />
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The filters as a query string (for the pager and the CSV link).
fn filter_query(s: &StaffIdeas) -> String {
    let mut params = Vec::new();
    for (name, value) in [
        ("category", &s.category),
        ("status", &s.status),
        ("from", &s.from),
        ("to", &s.to),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            params.push(format!("{name}={}", encode_query_value(v)));
        }
    }
    if s.verified_only {
        params.push("verified=on".into());
    }
    params.join("&")
}

#[component]
fn Filters(s: StaffIdeas) -> impl IntoView {
    let chosen_category = s.category.clone().unwrap_or_default();
    let chosen_status = s.status.clone().unwrap_or_default();
    view! {
        <form method="get" action="/staff/ideas" class="filter-row" aria-label="Filter the ideas">
            <label for="ideas-category">"Category"</label>
            <select id="ideas-category" name="category">
                <option value="">"Any"</option>
                {s.categories.iter().map(|c| {
                    let selected = c.slug == chosen_category;
                    view! { <option value=c.slug.clone() selected=selected>{c.name.clone()}</option> }
                }).collect_view()}
            </select>
            <label for="ideas-status">"Status"</label>
            <select id="ideas-status" name="status">
                <option value="">"Any"</option>
                {TopicStatus::ALL.into_iter().map(|t| {
                    let selected = t.as_str() == chosen_status;
                    view! { <option value=t.as_str() selected=selected>{t.label()}</option> }
                }).collect_view()}
            </select>
            <label class="choice" for="ideas-verified">
                <input type="checkbox" id="ideas-verified" name="verified" value="on" checked=s.verified_only />
                "Verified votes only"
            </label>
            <label for="ideas-from">"Votes from"</label>
            <input type="date" id="ideas-from" name="from" value=s.from.clone().unwrap_or_default() />
            <label for="ideas-to">"to"</label>
            <input type="date" id="ideas-to" name="to" value=s.to.clone().unwrap_or_default() />
            <button type="submit" class="button">"Filter"</button>
        </form>
    }
}

#[component]
fn Row(row: StaffIdeaRow) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">
                <a href=format!("/t/{}/{}", row.topic_id, row.slug)>{row.title.clone()}</a>
                <span class="muted">" · " {row.category.name.clone()}</span>
                " " <StatusTag status=row.status.clone() />
            </th>
            <td>{row.votes}</td>
            <td>{row.verified}</td>
            <td>{row.pending}</td>
            <td>{row.customer_voters}</td>
            <td>{row.staff_voters}</td>
            <td><Sparkline id=format!("trend-{}", row.topic_id) values=row.trend.clone() /></td>
        </tr>
    }
}
