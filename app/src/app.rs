//! The HTML shell and the route table: the route table is the site map.
use std::sync::{Arc, OnceLock};

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::{
    api::{auth::current_user, forum::get_site_info},
    components::{escape_rcdata, header::SiteHeader, page::NoIndex, theme::SiteTheme},
    context::{CurrentUser, Site},
    pages::{
        account::AccountPage,
        accountability::AccountabilityPage,
        admin_categories::AdminCategoriesPage,
        admin_dashboard::AdminDashboardPage,
        admin_mail::AdminMailPage,
        admin_moderation::ModerationSettingsPage,
        admin_review::ReviewPage,
        admin_settings::AdminSettingsPage,
        admin_users::{AdminUserPage, AdminUsersPage},
        article::ArticlePage,
        article_editor::ArticleEditorPage,
        blog::BlogIndexPage,
        category::CategoryPage,
        confirm::ConfirmPage,
        confirm_email::ConfirmEmailPage,
        edit_post::EditPostPage,
        flag_post::FlagPostPage,
        home::HomePage,
        log_in::LogInPage,
        moderation_log::ModerationLogPage,
        new_topic::NewTopicPage,
        not_found::NotFoundPage,
        notifications::NotificationsPage,
        reset::{ResetPasswordPage, ResetRequestPage},
        roadmap::RoadmapPage,
        search::SearchPage,
        sign_up::SignUpPage,
        staff_ideas::StaffIdeasPage,
        staff_metrics::StaffMetricsPage,
        staff_queue::StaffQueuePage,
        topic::TopicPage,
        unsubscribe::UnsubscribePage,
        user::UserPage,
    },
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::csp::set_page_policy();
    // The stylesheet shares the bundle's content-hashed name (scripts/lib.sh, build_site).
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="stylesheet" href=stylesheet />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                // Forms: the confirmation dialog, errors cleared as fields change, focus on an
                // action's result (public/forms.js; a plain file, no bytes in the wasm bundle).
                <script src="/forms.js" defer nonce=leptos::nonce::use_nonce()></script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Every page's `<title>` text: the page's own title, then the site's name. leptos_meta writes
/// the formatted title into the head as it is, without escaping (leptos_meta 0.8,
/// `inject_meta_context`), so a topic titled `</title><meta http-equiv=refresh ...>` became
/// markup. Every title passes through here, so it is escaped here, once, for whatever page
/// sets it. A page titled with the site's name alone (the home page) is not named twice.
pub fn page_title(page: String, site_name: &str) -> String {
    if page.is_empty() || page == site_name {
        escape_rcdata(site_name.to_string())
    } else {
        escape_rcdata(format!("{page} · {site_name}"))
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(CurrentUser(OnceResource::new(current_user())));
    let site = OnceResource::new(get_site_info());
    provide_context(Site(site));
    // Pages render whole on the server (SsrMode::Async): no JavaScript is needed to read them,
    // and crawlers get the full text.
    // The head's title is written after the page has rendered, by leptos_meta from the response
    // future, outside the render's own reactive arena (leptos_integration_utils polls the render
    // as `Sandboxed`, but not what follows it). A value kept in the arena (`site`, a
    // OnceResource) read from the formatter was looked up in whichever request last ran on this
    // thread: another site name's fallback, or an "already disposed" panic when that request had
    // finished. So the render puts the name in a plain shared cell, and the formatter reads that.
    let site_name = Arc::new(OnceLock::<String>::new());
    let formatter = {
        let site_name = site_name.clone();
        move |page: String| {
            let name = site_name.get().map_or("Backyard", String::as_str);
            page_title(page, name)
        }
    };
    view! {
        <SiteTheme />
        <Link rel="alternate" type_="application/atom+xml" title="Blog" href="/blog/feed.xml" />
        <Title formatter />
        // The site's facts, once they are in: its name for the title, and whether the admin
        // switched indexing off (then every page, whatever it is, says noindex).
        <Suspense fallback=|| ()>
            {move || {
                let site_name = site_name.clone();
                Suspend::new(async move {
                    let info = site.await;
                    if let Ok(info) = &info {
                        let _ = site_name.set(info.name.clone());
                    }
                    info.is_ok_and(|s| s.noindex).then(|| view! { <NoIndex /> })
                })
            }}
        </Suspense>
        <Router>
            <SiteHeader />
            <main id="main" class="wrap">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LogInPage ssr=SsrMode::Async />
                    <Route path=path!("/reset") view=ResetRequestPage ssr=SsrMode::Async />
                    <Route path=path!("/reset/:token") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/unsubscribe/:token") view=UnsubscribePage ssr=SsrMode::Async />
                    <Route path=path!("/confirm") view=ConfirmPage ssr=SsrMode::Async />
                    <Route path=path!("/confirm-email/:token") view=ConfirmEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async />
                    <Route path=path!("/c/:slug") view=CategoryPage ssr=SsrMode::Async />
                    <Route path=path!("/t/:id/:slug") view=TopicPage ssr=SsrMode::Async />
                    <Route path=path!("/t/:id") view=TopicPage ssr=SsrMode::Async />
                    <Route path=path!("/new-topic") view=NewTopicPage ssr=SsrMode::Async />
                    <Route path=path!("/p/:id/edit") view=EditPostPage ssr=SsrMode::Async />
                    <Route path=path!("/p/:id/flag") view=FlagPostPage ssr=SsrMode::Async />
                    <Route path=path!("/u/:username") view=UserPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/queue") view=StaffQueuePage ssr=SsrMode::Async />
                    <Route path=path!("/staff/metrics") view=StaffMetricsPage ssr=SsrMode::Async />
                    <Route path=path!("/accountability") view=AccountabilityPage ssr=SsrMode::Async />
                    <Route path=path!("/roadmap") view=RoadmapPage ssr=SsrMode::Async />
                    <Route path=path!("/staff/ideas") view=StaffIdeasPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminDashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/review") view=ReviewPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/moderation") view=ModerationSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/categories") view=AdminCategoriesPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view=AdminSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/mail") view=AdminMailPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view=AdminUserPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/log") view=|| view! { <ModerationLogPage public=false /> } ssr=SsrMode::Async />
                    <Route path=path!("/moderation") view=|| view! { <ModerationLogPage public=true /> } ssr=SsrMode::Async />
                    <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async />
                    <Route path=path!("/blog") view=BlogIndexPage ssr=SsrMode::Async />
                    <Route path=path!("/blog/new") view=ArticleEditorPage ssr=SsrMode::Async />
                    <Route path=path!("/blog/tag/:tag") view=BlogIndexPage ssr=SsrMode::Async />
                    <Route path=path!("/blog/:slug/edit") view=ArticleEditorPage ssr=SsrMode::Async />
                    <Route path=path!("/blog/:slug") view=ArticlePage ssr=SsrMode::Async />
                </Routes>
            </main>
            <footer class="site-footer">
                <div class="wrap footer-row">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            site.await.ok().map(|s| view! {
                                <span>{format!("{}: a place to talk with the team.", s.name)}</span>
                            })
                        })}
                    </Suspense>
                    <span class="footer-links">
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                let s = site.await.ok();
                                let accountability = s.as_ref().is_some_and(|s| s.accountability)
                                    .then(|| view! { <a href="/accountability">"How fast we answer"</a> });
                                let roadmap = s.as_ref().is_some_and(|s| s.roadmap)
                                    .then(|| view! { <a href="/roadmap">"Roadmap"</a> });
                                view! { {accountability} {roadmap} }
                            })}
                        </Suspense>
                        <a href="/moderation">"Moderation"</a>
                    </span>
                </div>
            </footer>
        </Router>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn page_titles_are_text_in_the_head() {
        assert_eq!(
            super::page_title(
                r#"</title><meta http-equiv="refresh"> & 'x'"#.into(),
                "A<b>"
            ),
            "&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot;&gt; &amp; &apos;x&apos; · A&lt;b&gt;"
        );
        assert_eq!(super::page_title("Acme".into(), "Acme"), "Acme");
    }
}
