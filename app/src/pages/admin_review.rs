use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::moderation::{
        AcceptVoteBurst, BULK_FORM, ModerateBulk, ModeratePost, RejectVoteBurst, get_review_queue,
    },
    components::{
        form::Status,
        page::{ErrorView, query_number},
        pager::Pager,
        staff::{MemberTools, staff_error},
        time::RelativeTime,
    },
    error::AppError,
    model::{BurstView, FLAG_REASONS, PostState, ReviewItemView, flag_reason_label, post_url},
};

const KINDS: [(&str, &str); 5] = [
    ("flagged", "Flagged"),
    ("held_new", "New member's post"),
    ("held_words", "Watched word"),
    ("edited", "Edited after hiding"),
    ("vote_burst", "Bursts of votes"),
];

fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or(kind)
}

/// /admin/review: flagged and held posts, oldest first, for moderators and admins.
#[component]
pub fn ReviewPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let get = |name: &str| query.get(name).filter(|v| !v.is_empty());
    let (kind, reason, category, state) =
        (get("kind"), get("reason"), get("category"), get("state"));
    let page: u64 = query_number(&query, "page").unwrap_or(1);
    let data = OnceResource::new(get_review_queue(kind, reason, category, state, page));
    view! {
        <Title text="Review queue" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the review queue…"</p> }>
            {move || Suspend::new(async move {
                let q = match data.await {
                    Ok(q) => q,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let mut params = Vec::new();
                for (name, value) in [("kind", &q.kind), ("reason", &q.reason), ("category", &q.category)] {
                    if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                        params.push(format!("{name}={v}"));
                    }
                }
                if q.state != "open" {
                    params.push(format!("state={}", q.state));
                }
                let base = if params.is_empty() { "/admin/review".to_string() } else { format!("/admin/review?{}", params.join("&")) };
                let select = |name: &'static str, label: &'static str, options: Vec<(String, String)>, chosen: Option<String>| {
                    let id = format!("filter-{name}");
                    let chosen = chosen.unwrap_or_default();
                    view! {
                        <label for=id.clone()>{label}</label>
                        <select id=id name=name>
                            <option value="">"Any"</option>
                            {options.into_iter().map(|(value, text)| {
                                let selected = value == chosen;
                                view! { <option value=value selected=selected>{text}</option> }
                            }).collect_view()}
                        </select>
                    }
                };
                let kinds = KINDS.iter().map(|(k, l)| (k.to_string(), l.to_string())).collect();
                let reasons = FLAG_REASONS.iter().map(|(k, l)| (k.to_string(), l.to_string())).collect();
                let categories = q.categories.iter().map(|c| (c.slug.clone(), c.name.clone())).collect();
                let states = vec![("resolved".to_string(), "Resolved".to_string()), ("rejected".to_string(), "Rejected".to_string())];
                let open = q.state == "open";
                // An action's error is shown in its item's form (`ReviewRow`); at the top when it
                // is the page's, or when its item is not listed any more (another moderator
                // decided it meanwhile, or this one did and sent the form again).
                let listed = |e: &AppError| {
                    open && q.items.iter().any(|i| i.burst.is_none() && e.is_for_form(&moderate_form(i.post_id)))
                };
                // Bulk actions are post actions on open items the viewer may decide: no bar
                // where no item has a box to select it (bursts of votes, others' posts, items
                // already decided).
                let bar = open && q.items.iter().any(|i| i.burst.is_none() && i.not_yours.is_none());
                let page_error = staff_error()
                    .filter(|e| !(bar && e.is_for_form(BULK_FORM)))
                    .filter(|e| e.is_for_form("") || !listed(e))
                    .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> });
                // The bulk bar, as a refused plain post left it: its error, action, reason and
                // selection.
                let bulk_sent = staff_error().filter(|e| e.is_for_form(BULK_FORM));
                let bulk_error = bulk_sent.as_ref().map(|e| e.to_string());
                let described = bulk_error.is_some().then_some("bulk-error");
                // The field the error is about, for forms.js to move the focus to.
                let invalid = |field: &str| bulk_sent.as_ref().is_some_and(|e| e.for_field(field).is_some()).then_some("true");
                let (action_invalid, reason_invalid) = (invalid("action"), invalid("reason"));
                let bulk_kept = |field: &str| bulk_sent.as_ref().and_then(|e| e.kept(field));
                let bulk_action = bulk_kept("action").unwrap_or_default();
                let bulk_reason = bulk_kept("reason").unwrap_or_default();
                let selected: Vec<i64> = bulk_kept("items")
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|id| id.parse().ok())
                    .collect();
                let count = match q.total {
                    0 if open => "Nothing to review.".to_string(),
                    n => format!("{}.", crate::format::count(n as i64, "item", "items")),
                };
                view! {
                    <Status any_post=true />
                    <header class="intro">
                        <div>
                            <h1>"Review queue"</h1>
                            <p class="lede">{count} " Oldest first. Every action tells the author why."</p>
                        </div>
                        <span class="form-actions">
                            <a class="button" href="/admin/log">"Moderation log"</a>
                            <a class="button" href="/admin/moderation">"Settings and watched words"</a>
                        </span>
                    </header>
                    {page_error}
                    <form method="get" action="/admin/review" class="filter-row">
                        {select("kind", "Kind", kinds, q.kind.clone())}
                        {select("reason", "Flag reason", reasons, q.reason.clone())}
                        {select("category", "Category", categories, q.category.clone())}
                        {select("state", "Done", states, (!open).then(|| q.state.clone()))}
                        <button type="submit" class="button">"Filter"</button>
                    </form>
                    {if q.items.is_empty() {
                        view! { <div class="empty"><p>"No items here. The community is behaving."</p></div> }.into_any()
                    } else {
                        view! {
                            {bar.then(|| view! {
                            <form method="post" action=ModerateBulk::url() id="bulk" class="bulk-bar filter-row" data-confirm="Delete the selected posts? Readers will no longer see them." data-confirm-if="action=delete" data-confirm-button="Delete the posts">
                                {bulk_error.map(|m| view! { <p class="field-error form-level" id="bulk-error" role="alert">{m}</p> })}
                                <label for="bulk-action">"With the selected items"</label>
                                <select id="bulk-action" name="action" aria-describedby=described aria-invalid=action_invalid>
                                    {[("approve", "Approve"), ("dismiss", "Dismiss flags"), ("hide", "Hide"), ("keep_hidden", "Keep hidden"), ("delete", "Delete")]
                                        .into_iter()
                                        .map(|(value, label)| view! { <option value=value selected=bulk_action == value>{label}</option> })
                                        .collect_view()}
                                </select>
                                <input name="reason" maxlength="1000" placeholder="Reason (the authors see it)" aria-label="Reason for the selected items" value=bulk_reason aria-describedby=described aria-invalid=reason_invalid />
                                <button type="submit" class="button">"Apply to selected"</button>
                            </form>
                            })}
                            <ol class="review-list" aria-label="Items to review">
                                {q.items.into_iter().map(|item| {
                                    let checked = selected.contains(&item.id);
                                    view! { <ReviewRow item open checked /> }
                                }).collect_view()}
                            </ol>
                        }
                        .into_any()
                    }}
                    <Pager base page=q.page page_count=q.page_count />
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The name a post's moderation form has in an error (`api::moderation`), and its element's id.
fn moderate_form(post_id: i64) -> String {
    format!("moderate-{post_id}")
}

#[component]
fn ReviewRow(
    item: ReviewItemView,
    open: bool,
    /// Selected for the bulk bar when a refused bulk action came back.
    checked: bool,
) -> impl IntoView {
    // A burst of votes is decided on its own (accept or reject the votes), never by an action
    // on the idea's post.
    if let Some(burst) = item.burst.clone() {
        return view! { <BurstRow item burst open /> }.into_any();
    }
    let href = post_url(item.topic_id, &item.topic_slug, item.post_number);
    let changed = item.snapshot_html != item.current_html;
    let check_id = format!("item-{}", item.id);
    let mut actions: Vec<(&str, &str)> = match item.post_state {
        PostState::Pending => vec![("approve", "Approve"), ("delete", "Delete")],
        PostState::Hidden => vec![
            ("approve", "Approve"),
            ("dismiss", "Dismiss flags"),
            ("keep_hidden", "Keep hidden"),
            ("delete", "Delete"),
        ],
        PostState::Deleted => vec![("restore", "Restore")],
        PostState::Visible => vec![
            ("dismiss", "Dismiss flags"),
            ("hide", "Hide"),
            ("delete", "Delete"),
        ],
    };
    // Only actions the viewer may take: on their own post, hiding or deleting it; on a post
    // they may not decide (a moderator, on an admin's), none, and the page says so.
    if item.own {
        actions.retain(|(v, _)| matches!(*v, "hide" | "delete"));
    }
    let not_yours = item.not_yours.clone().or_else(|| {
        actions.is_empty().then(|| {
            "Another moderator or an admin decides on your own posts: you may hide or delete \
             them, nothing else."
                .to_string()
        })
    });
    let reason_id = format!("reason-{}", item.id);
    let form_id = moderate_form(item.post_id);
    // This item's form came back with an error: said in it, with what was chosen and typed.
    let sent = staff_error().filter(|e| e.is_for_form(&form_id));
    let chosen = sent.as_ref().and_then(|e| e.kept("action"));
    let typed = sent.as_ref().and_then(|e| e.kept("reason"));
    let error_id = format!("{form_id}-error");
    let described_by = sent.is_some().then(|| error_id.clone());
    view! {
        <li class="review-item">
            <div class="review-head">
                {(open && item.not_yours.is_none()).then(|| view! {
                    <input type="checkbox" id=check_id.clone() name="items[]" value=item.id form="bulk" checked=checked />
                    <label class="visually-hidden" for=check_id.clone()>{format!("Select item {}", item.id)}</label>
                })}
                <span class="tag">{kind_label(&item.kind).to_string()}</span>
                <a href=href class="topic-title">{format!("{} #{}", item.topic_title, item.post_number)}</a>
                <span class="muted">" in " {item.category.name.clone()} " · " <RelativeTime at=item.created_at /></span>
                {(item.post_state != PostState::Visible).then(|| view! { <span class="tag state-tag">{item.post_state.label()}</span> })}
            </div>
            <div class="review-body">
                <section>
                    <h3 class="preview-label">{if changed { "When it came in" } else { "The post" }}</h3>
                    <div class="post-body" inner_html=item.snapshot_html.clone()></div>
                </section>
                {changed.then(|| view! {
                    <section>
                        <h3 class="preview-label">"Now"</h3>
                        <div class="post-body" inner_html=item.current_html.clone()></div>
                    </section>
                })}
            </div>
            {(!item.files.is_empty()).then(|| view! {
                <ul class="review-files" aria-label="Files in this post">
                    {item.files.iter().map(|f| {
                        let size = f.size;
                        view! {
                            <li>
                                <a href=f.url.clone()>{f.name.clone()}</a>
                                <span class="muted">{format!(" · {}", crate::format::file_size(size))}
                                    {match (f.width, f.height) { (Some(w), Some(h)) => format!(" · {w} × {h} px"), _ => String::new() }}
                                </span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {(!item.flags.is_empty()).then(|| view! {
                <ul class="flag-list" aria-label="Flags">
                    {item.flags.iter().map(|f| view! {
                        <li>
                            <strong>{flag_reason_label(&f.reason).to_string()}</strong>
                            " by " {f.flagger.clone()}
                            {(f.weight != 100).then(|| format!(" (counts ×{})", f.weight as f64 / 100.0))}
                            {(f.state != "open").then(|| format!(" · {}", f.state))}
                            {(!f.note.is_empty()).then(|| format!(": {}", f.note))}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <p class="muted author-history">
                "Author: " <a href=format!("/u/{}", item.author)>{item.author.clone()}</a>
                " · joined " <RelativeTime at=item.author_joined_at />
                {format!(" · {} visible posts · {} earlier moderator actions", item.author_post_count, item.author_moderation_count)}
            </p>
            {match (open, not_yours) {
                (false, _) => None,
                (true, Some(why)) => Some(view! { <p class="muted">{why}</p> }.into_any()),
                (true, None) => Some(view! {
                // Deleting asks first: a dialog with JavaScript, the /confirm page without.
                // The id is where the form's error sends the page back to.
                <div id=form_id>
                {sent.map(|e| view! { <p class="field-error form-level" id=error_id.clone() role="alert">{e.to_string()}</p> })}
                <form method="post" action=ModeratePost::url() class="filter-row" data-confirm="Delete this post? Readers will no longer see it." data-confirm-if="action=delete" data-confirm-button="Delete the post">
                    <input type="hidden" name="post_id" value=item.post_id />
                    <input type="hidden" name="item" value=item.id />
                    <label class="visually-hidden" for=format!("action-{}", item.id)>"Action"</label>
                    <select id=format!("action-{}", item.id) name="action" aria-describedby=described_by.clone()>
                        {actions.into_iter().map(|(v, l)| view! { <option value=v selected=chosen.as_deref() == Some(v)>{l}</option> }).collect_view()}
                    </select>
                    <label class="visually-hidden" for=reason_id.clone()>"Reason"</label>
                    <input id=reason_id name="reason" maxlength="1000" placeholder="Reason (the author sees it)" value=typed aria-describedby=described_by />
                    <button type="submit" class="button">"Apply"</button>
                </form>
                </div>
                {(!item.author_role.is_staff()).then(|| view! { <MemberTools user_id=item.author_id suspended=false place=item.id /> })}
                }.into_any()),
            }}
        </li>
    }
    .into_any()
}

/// A burst of votes on an idea: the idea, the votes it holds (who, how old their account,
/// whether their address is confirmed, when; where from for admins), and the two decisions.
#[component]
fn BurstRow(item: ReviewItemView, burst: BurstView, open: bool) -> impl IntoView {
    let href = format!("/t/{}/{}", item.topic_id, item.topic_slug);
    let with_addresses = burst.votes.iter().any(|v| v.address.is_some());
    let shown = burst.votes.len() as u64;
    let summary = format!(
        "{} held for review.",
        crate::format::count(burst.total as i64, "vote", "votes")
    );
    let caption = format!("Votes held in review item {}", item.id);
    view! {
        <li class="review-item burst-item">
            <div class="review-head">
                <span class="tag">{kind_label(&item.kind).to_string()}</span>
                <a href=href class="topic-title">{item.topic_title.clone()}</a>
                <span class="muted">" in " {item.category.name.clone()} " · " <RelativeTime at=item.created_at /></span>
            </div>
            <p>{summary} {(shown < burst.total).then(|| format!(" The latest {shown} are listed."))}</p>
            <div class="table-scroll">
                <table class="metrics held-votes">
                    <caption class="visually-hidden">{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Voter"</th>
                            <th scope="col">"Account created"</th>
                            <th scope="col">"E-mail confirmed"</th>
                            <th scope="col">"Voted"</th>
                            {with_addresses.then(|| view! { <th scope="col">"Address"</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {burst.votes.into_iter().map(|v| view! {
                            <tr>
                                <th scope="row"><a href=format!("/u/{}", v.voter)>{v.voter.clone()}</a></th>
                                <td><RelativeTime at=v.joined_at /></td>
                                <td>{if v.email_confirmed { "Yes" } else { "No" }}</td>
                                <td><RelativeTime at=v.voted_at /></td>
                                {with_addresses.then(|| view! { <td class="address">{v.address.clone().unwrap_or_default()}</td> })}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {open.then(|| view! {
                <div class="form-actions">
                    <form method="post" action=AcceptVoteBurst::url() class="inline-form">
                        <input type="hidden" name="item_id" value=item.id />
                        <button type="submit" class="button">"Accept votes"</button>
                    </form>
                    <form method="post" action=RejectVoteBurst::url() class="inline-form">
                        <input type="hidden" name="item_id" value=item.id />
                        <button type="submit" class="button danger">"Reject votes"</button>
                    </form>
                </div>
                <p class="muted">"Accepted votes count at once. Rejected votes are removed, and their accounts' later votes wait for review."</p>
            })}
        </li>
    }
}
