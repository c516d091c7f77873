//! The site header: the brand, the sections, the search box, and the account links or the
//! signed-in member with "Log out"; on a phone, one row with a menu button.
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_location;

use crate::paths::encode_query_value;
use crate::{api::auth::LogOut, context::CurrentUser};

#[component]
pub fn SiteHeader() -> impl IntoView {
    let site = expect_context::<crate::context::Site>().0;
    let here = use_location().pathname.get_untracked();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="wrap header-row">
                <a class="brand" href="/">
                    <Suspense fallback=|| "Backyard">
                        {move || Suspend::new(async move { site.await.map(brand).unwrap_or_else(|_| "Backyard".into_any()) })}
                    </Suspense>
                </a>
                // Phones: one row, the brand and a menu button holding the rest, a <details>
                // element, so it opens without JavaScript. Wide screens: the button is hidden and
                // the contents shown in the row (style/main.css, `::details-content`).
                <details class="header-menu">
                    <summary class="button subtle">
                        <UnreadDot />
                        "Menu"
                    </summary>
                    <div class="header-menu-panel">
                        <HeaderLinks here />
                    </div>
                </details>
            </div>
        </header>
    }
}

/// A mark on the phone's menu button when there are unread notifications.
#[component]
fn UnreadDot() -> impl IntoView {
    let me = expect_context::<CurrentUser>().0;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                me.await.ok().flatten().filter(|u| u.unread_notifications > 0).map(|u| {
                    let n = u.unread_notifications;
                    view! {
                        <span class="unread-dot" aria-hidden="true"></span>
                        <span class="visually-hidden">{crate::format::count(n as i64, "unread notification", "unread notifications")} ", "</span>
                    }
                })
            })}
        </Suspense>
    }
}

/// The site's sections, the search box and the member's links (or log in and sign up).
#[component]
fn HeaderLinks(here: String) -> impl IntoView {
    let me = expect_context::<CurrentUser>().0;
    // Coming back to this page after logging in; not to the auth pages themselves.
    let next = if here == "/login" || here == "/signup" {
        "/".to_string()
    } else {
        here.clone()
    };
    let next_q = format!("?next={}", encode_query_value(&next));
    let in_blog = here.starts_with("/blog");
    let current = |on: bool| if on { Some("page") } else { None };
    view! {
        <nav class="site-nav" aria-label="Site">
            <a href="/" aria-current=current(!in_blog && here == "/" || here.starts_with("/c/") || here.starts_with("/t/"))>"Forum"</a>
            <a href="/blog" aria-current=current(in_blog)>"Blog"</a>
        </nav>
        // A plain GET form: search works the same without JavaScript.
        <form class="header-search" method="get" action="/search" role="search">
            <label class="visually-hidden" for="header-search-q">"Search"</label>
            <input id="header-search-q" type="search" name="q" placeholder="Search" maxlength="200" />
            <button type="submit" class="button subtle">"Search"</button>
        </form>
        <nav class="account-nav" aria-label="Account">
            <Suspense fallback=|| ()>
                {move || {
                    let next_q = next_q.clone();
                    Suspend::new(async move {
                        match me.await {
                            Ok(Some(user)) => {
                                let staff = user.role.is_staff().then(|| view! { <a href="/staff/queue">"Staff queue"</a> });
                                let review = (user.role >= crate::model::Role::Moderator).then(|| {
                                    let label = format!("Review ({})", user.open_review_items);
                                    view! { <a href="/admin">"Admin"</a> <a href="/admin/review">{label}</a> }
                                });
                                let unread = user.unread_notifications;
                                let unread_class = if unread > 0 { "unread" } else { "" };
                                let notifications = if unread > 0 {
                                    format!("Notifications ({unread} unread)")
                                } else {
                                    "Notifications".to_string()
                                };
                                view! {
                                    {staff}
                                    {review}
                                    <a href="/notifications" class=unread_class>{notifications}</a>
                                    <span class="signed-in-as">
                                        "Signed in as " <strong>{user.username.clone()}</strong>
                                    </span>
                                    <a href="/account">"Account"</a>
                                    <form method="post" action=LogOut::url() class="inline-form">
                                        <button type="submit" class="button subtle">"Log out"</button>
                                    </form>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <a href=format!("/login{next_q}")>"Log in"</a>
                                    <a class="button" href=format!("/signup{next_q}")>"Sign up"</a>
                                }
                                    .into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </nav>
    }
}

/// The site's logo, named by the site's name for whoever cannot see it (a dark-mode variant
/// when there is one), or the name in text.
fn brand(site: crate::model::SiteInfo) -> AnyView {
    let name = site.name;
    match (site.logo_light, site.logo_dark) {
        (None, None) => name.into_any(),
        (light, dark) => {
            let src = light.clone().or(dark.clone()).unwrap_or_default();
            let dark = dark.filter(|_| light.is_some()).map(|srcset| {
                view! { <source media="(prefers-color-scheme: dark)" srcset=srcset /> }
            });
            view! {
                <picture>
                    {dark}
                    <img class="brand-logo" src=src alt=name />
                </picture>
            }
            .into_any()
        }
    }
}
