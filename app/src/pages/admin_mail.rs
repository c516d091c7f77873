use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::admin::{RetryMail, get_mail_outbox},
    components::{
        form::error_from_url_of,
        page::{ErrorView, query_number},
        pager::Pager,
        time::RelativeTime,
    },
    model::OutboxMessage,
};

/// /admin/mail (admins): the outbox, newest first, by status, with each failure's reason and a
/// plain form to send a failed message again. Without a mail server it shows what would have
/// gone out.
#[component]
pub fn AdminMailPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let status = query.get("status").unwrap_or_default();
    let page: u64 = query_number(&query, "page").unwrap_or(1);
    let data = OnceResource::new(get_mail_outbox(status, page));
    let error = error_from_url_of(&[RetryMail::PATH]);
    view! {
        <Title text="Outgoing mail" />
        <header class="intro">
            <div>
                <h1>"Outgoing mail"</h1>
                <p class="lede">"Every e-mail the site has queued: waiting, sent, or given up on, and why."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let outbox = match data.await {
                        Ok(o) => o,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let filter = |value: &'static str, label: String| {
                        let href = if value.is_empty() { "/admin/mail".to_string() } else { format!("/admin/mail?status={value}") };
                        let current = (outbox.status == value).then_some("page");
                        view! { <li><a href=href aria-current=current>{label}</a></li> }
                    };
                    let base = if outbox.status.is_empty() { "/admin/mail".to_string() } else { format!("/admin/mail?status={}", outbox.status) };
                    view! {
                        {match &outbox.delivery {
                            Some(how) => view! { <p class="muted" id="mail-delivery">"Sent through " {how.clone()} "."</p> }.into_any(),
                            None => view! {
                                <p class="notice" id="mail-delivery" role="status">
                                    "No mail server is configured (BACKYARD_SMTP_URL or BACKYARD_SENDMAIL), so nothing is sent: messages stay queued, and their text is shown below."
                                </p>
                            }.into_any(),
                        }}
                        {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                        <nav class="status-filters" aria-label="Filter by status">
                            <ul>
                                {filter("", format!("All ({})", outbox.queued + outbox.sent + outbox.failed))}
                                {filter("queued", format!("Queued ({})", outbox.queued))}
                                {filter("sent", format!("Sent ({})", outbox.sent))}
                                {filter("failed", format!("Failed ({})", outbox.failed))}
                            </ul>
                        </nav>
                        {if outbox.messages.is_empty() {
                            view! { <div class="empty"><p>"No messages here."</p></div> }.into_any()
                        } else {
                            view! {
                                <ol class="activity-list" id="outbox">
                                    {outbox.messages.into_iter().map(|m| view! { <OutboxRow message=m /> }).collect_view()}
                                </ol>
                            }
                            .into_any()
                        }}
                        <Pager base=base page=outbox.page page_count=outbox.page_count />
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}

#[component]
fn OutboxRow(message: OutboxMessage) -> impl IntoView {
    let m = message;
    let state = match m.status.as_str() {
        "sent" => view! { "sent " {m.sent_at.map(|at| view! { <RelativeTime at=at /> })} }.into_any(),
        "failed" => view! { "failed after " {crate::format::count(m.attempts as i64, "attempt", "attempts")} }.into_any(),
        _ if m.attempts > 0 => view! {
            "queued, " {crate::format::count(m.attempts as i64, "attempt", "attempts")} " so far; next "
            {m.next_attempt_at.map(|at| view! { <RelativeTime at=at /> })}
        }
        .into_any(),
        _ => view! { "queued" }.into_any(),
    };
    let retry = (m.status == "failed").then(|| {
        let label = format!("Send “{}” again", m.subject);
        view! {
            <form method="post" action=RetryMail::url() class="inline-form">
                <input type="hidden" name="id" value=m.id />
                <button type="submit" class="button" aria-label=label>"Send again"</button>
            </form>
        }
    });
    view! {
        <li class="outbox-message" data-status=m.status.clone()>
            <strong>{m.subject.clone()}</strong>
            <span class="muted">" to " {m.to.clone()} " · " {m.kind.clone()} " · queued " <RelativeTime at=m.created_at /></span>
            <p><span class="tag">{m.status.clone()}</span> " " {state}</p>
            {m.last_error.clone().map(|e| view! { <p class="muted">"Last error: " <code>{e}</code></p> })}
            {m.text.clone().map(|text| view! { <pre class="mail-text">{text}</pre> })}
            {retry}
        </li>
    }
}
