//! The site header: name, the search box, and the account links or the signed-in member with "Log out".
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_location;

use crate::paths::encode_query_value;
use crate::{api::auth::LogOut, context::CurrentUser};

#[component]
pub fn SiteHeader() -> impl IntoView {
    let me = expect_context::<CurrentUser>().0;
    let site = expect_context::<crate::context::Site>().0;
    let here = use_location().pathname.get_untracked();
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
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="wrap header-row">
                <a class="brand" href="/">
                    <Suspense fallback=|| "Backyard">
                        {move || Suspend::new(async move { site.await.map(|s| s.name).unwrap_or_else(|_| "Backyard".into()) })}
                    </Suspense>
                </a>
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
            </div>
        </header>
    }
}
