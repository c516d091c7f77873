use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use crate::{
    api::moderation::{MarkNotificationsRead, get_notifications},
    components::{page::ErrorView, staff::StaffBadge, time::RelativeTime},
};

/// /notifications: what the site told the member, newest first, unread ones marked. Each links
/// through `/notifications/{id}`, which marks it read and lands on the post it is about.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let data = OnceResource::new(get_notifications());
    view! {
        <Title text="Notifications" />
        <section class="narrow">
            <h1>"Notifications"</h1>
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(list) if list.is_empty() => view! { <div class="empty"><p>"Nothing yet. When something happens to your posts or account, it shows here."</p></div> }.into_any(),
                        Ok(list) => {
                            let unread = list.iter().any(|n| n.unread);
                            view! {
                                {unread.then(|| view! {
                                    <form method="post" action=MarkNotificationsRead::url()>
                                        <button type="submit" class="button">"Mark all as read"</button>
                                    </form>
                                })}
                                <ol class="activity-list notification-list">
                                    {list.into_iter().map(|n| view! {
                                        <li class:unread=n.unread>
                                            {n.unread.then(|| view! { <span class="tag">"New"</span> " " })}
                                            {if n.link.is_empty() {
                                                view! { <span>{n.message.clone()}</span> }.into_any()
                                            } else {
                                                view! { <a href=format!("/notifications/{}", n.id)>{n.message.clone()}</a> }.into_any()
                                            }}
                                            {n.staff.then(|| view! { " " <StaffBadge title=None spoken="From " /> })}
                                            <p class="muted"><RelativeTime at=n.created_at /></p>
                                        </li>
                                    }).collect_view()}
                                </ol>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
