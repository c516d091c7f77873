use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::admin::{DeleteAccount, LogOutEverywhere, SetRole, get_admin_user, get_admin_users},
    components::{
        form::{Status, error_from_url_of},
        page::ErrorView,
        staff::{MemberTools, StaffError},
        time::RelativeTime,
    },
    model::{Role, action_label},
};

/// /admin/users?q=: find members by name (admins: also by e-mail).
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let q = use_query_map().get_untracked().get("q").unwrap_or_default();
    let shown = q.clone();
    let data = OnceResource::new(get_admin_users(q));
    view! {
        <Title text="Members" />
        <section class="narrow">
            <h1>"Members"</h1>
            <form method="get" action="/admin/users" class="filter-row">
                <label for="user-search">"Name or e-mail"</label>
                <input id="user-search" name="q" value=shown type="search" />
                <button type="submit" class="button">"Search"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">"Nobody matches."</p> }.into_any(),
                        Ok(rows) => view! {
                            <ul class="activity-list">
                                {rows.into_iter().map(|u| view! {
                                    <li>
                                        <a href=format!("/admin/users/{}", u.id)><strong>{u.username.clone()}</strong></a>
                                        " · " {u.role.label()}
                                        {u.email.clone().map(|e| view! { " · " <span class="muted">{e}</span> })}
                                        {u.suspended.then(|| view! { " " <span class="tag state-tag">"Suspended"</span> })}
                                        <p class="muted">"Joined " <RelativeTime at=u.joined_at /></p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// /admin/users/{id}: a member, their record, and what moderators and admins may do.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let id: i64 = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let data = OnceResource::new(get_admin_user(id));
    let error = error_from_url_of(&[SetRole::PATH, LogOutEverywhere::PATH, DeleteAccount::PATH]);
    view! {
        <Title text="Member" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let d = match data.await {
                        Ok(d) => d,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let u = d.row.clone();
                    let roles = Role::ALL
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str() selected=r == u.role>{r.label()}</option> })
                        .collect_view();
                    view! {
                        <section class="narrow">
                            <Status />
                            <h1>{u.username.clone()}</h1>
                            <p class="muted">
                                {u.role.label()} {u.staff_title.clone().map(|t| format!(" · {t}"))}
                                {u.email.clone().map(|e| format!(" · {e}"))}
                                " · joined " <RelativeTime at=u.joined_at />
                                " · " <a href=format!("/u/{}", u.username)>"Public page"</a>
                            </p>
                            {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                            <StaffError />
                            <p>{format!("{} · {} raised · {} on their posts · signed in on {}", crate::format::count(d.posts as i64, "post", "posts"), crate::format::count(d.flags_raised as i64, "flag", "flags"), crate::format::count(d.flags_received as i64, "flag", "flags"), crate::format::count(d.sessions as i64, "browser", "browsers"))}</p>
                            {u.suspended.then(|| view! { <p class="notice">"Suspended: " {d.suspension_reason.clone().unwrap_or_default()}</p> })}
                            <MemberTools user_id=u.id suspended=u.suspended />
                            <form method="post" action=LogOutEverywhere::url()>
                                <input type="hidden" name="user_id" value=u.id />
                                <button type="submit" class="button">"Log out everywhere"</button>
                            </form>
                            {d.viewer_is_admin.then(|| view! {
                                <section aria-labelledby="role-heading">
                                    <h2 id="role-heading">"Role"</h2>
                                    <form method="post" action=SetRole::url() class="stack compact">
                                        <input type="hidden" name="user_id" value=u.id />
                                        <div class="field">
                                            <label for="member-role">"Role"</label>
                                            <select id="member-role" name="role">{roles}</select>
                                        </div>
                                        <div class="field">
                                            <label for="member-title">"Staff title (shown on their badge)"</label>
                                            <input id="member-title" name="title" maxlength="64" value=u.staff_title.clone().unwrap_or_default() />
                                        </div>
                                        <button type="submit" class="button primary">"Save role"</button>
                                    </form>
                                </section>
                                <section aria-labelledby="delete-heading">
                                    <h2 id="delete-heading">"Delete the account"</h2>
                                    // Asks first: a dialog with JavaScript, the /confirm page without.
                                    <form method="post" action=DeleteAccount::url() class="stack compact" data-confirm=format!("Delete the account of {}? This cannot be undone.", u.username) data-confirm-button="Delete the account">
                                        <input type="hidden" name="user_id" value=u.id />
                                        <label class="choice" for="posts-keep">
                                            <input type="radio" id="posts-keep" name="posts" value="keep" checked=true />
                                            "Keep their posts, signed “deleted user”"
                                        </label>
                                        <label class="choice" for="posts-remove">
                                            <input type="radio" id="posts-remove" name="posts" value="remove" />
                                            "Remove their posts too"
                                        </label>
                                        <button type="submit" class="button danger">"Delete account"</button>
                                    </form>
                                </section>
                            })}
                            <section aria-labelledby="history-heading">
                                <h2 id="history-heading">"Moderation history"</h2>
                                {if d.history.is_empty() {
                                    view! { <p class="empty">"Nothing on record."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="activity-list">
                                            {d.history.into_iter().map(|(action, reason, at)| view! {
                                                <li>{action_label(&action).to_string()} " · " <RelativeTime at />
                                                    {(!reason.is_empty()).then(|| view! { <p class="muted">{reason}</p> })}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }
                                    .into_any()
                                }}
                            </section>
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}
