use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use crate::{
    api::admin::{
        DecideSignup, SaveBrandSettings, SaveSiteSettings, SaveUploadSettings, get_site_settings,
    },
    components::{escape_rcdata, form::error_from_url_of, page::ErrorView, time::RelativeTime},
};

/// /admin/settings (admins): the site's name, tagline and welcome message, how people sign up
/// (with the approval queue), and the public pages' switches. Applied from the next page on.
#[component]
pub fn AdminSettingsPage() -> impl IntoView {
    let data = OnceResource::new(get_site_settings());
    let error = error_from_url_of(&[
        SaveSiteSettings::PATH,
        SaveUploadSettings::PATH,
        SaveBrandSettings::PATH,
        crate::api::admin::SaveHomeIntro::PATH,
        "/uploads",
        DecideSignup::PATH,
    ]);
    let brand_saved = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("brand").filter(|v| v == "saved").is_some());
    view! {
        <Title text="Site settings" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let s = match data.await {
                        Ok(s) => s,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let mode = |value: &'static str, label: &'static str| {
                        let id = format!("signup-{value}");
                        let label_for = id.clone();
                        view! {
                            <label class="choice" for=label_for>
                                <input type="radio" id=id name="signup_mode" value=value checked=s.signup_mode == value />
                                {label}
                            </label>
                        }
                    };
                    let number = |id: &'static str, name: &'static str, label: &'static str, value: i64| view! {
                        <div class="field">
                            <label for=id>{label}</label>
                            <input id=id name=name type="number" inputmode="numeric" min="0" max="10000" step="1" required value=value.to_string() />
                        </div>
                    };
                    view! {
                        <section class="narrow">
                            <h1>"Site settings"</h1>
                            {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                            <form method="post" action=SaveSiteSettings::url() class="stack">
                                <div class="field">
                                    <label for="site-name">"Site name"</label>
                                    <input id="site-name" name="site_name" maxlength="64" value=s.site_name.clone() />
                                </div>
                                <div class="field">
                                    <label for="site-tagline">"Tagline (search results and link previews)"</label>
                                    <input id="site-tagline" name="tagline" maxlength="200" value=s.tagline.clone() />
                                </div>
                                <div class="field">
                                    <label for="site-welcome">"Welcome message for new members"</label>
                                    <textarea id="site-welcome" name="welcome_message" rows="3" maxlength="2000">{escape_rcdata(s.welcome_message.clone())}</textarea>
                                </div>
                                <fieldset class="field publishing">
                                    <legend>"Sign-ups"</legend>
                                    {mode("open", "Open: anyone can sign up")}
                                    {mode("approval", "By approval: an admin approves each new account")}
                                    {mode("closed", "Closed: nobody can sign up")}
                                </fieldset>
                                <label class="choice" for="site-accountability">
                                    <input type="checkbox" id="site-accountability" name="accountability_public" value="on" checked=s.accountability_public />
                                    "Public “How fast we answer” page"
                                </label>
                                <label class="choice" for="site-modlog">
                                    <input type="checkbox" id="site-modlog" name="moderation_log_public" value="on" checked=s.moderation_log_public />
                                    "Public moderation page"
                                </label>
                                <label class="choice" for="site-indexing">
                                    <input type="checkbox" id="site-indexing" name="search_engines_index" value="on" checked=s.search_engines_index />
                                    "Let search engines index this site"
                                </label>
                                <label class="choice" for="site-roadmap">
                                    <input type="checkbox" id="site-roadmap" name="roadmap_public" value="on" checked=s.roadmap_public />
                                    "Public roadmap (staff can preview it when it is off)"
                                </label>
                                <fieldset class="field">
                                    <legend>"Honest vote counts"</legend>
                                    <p class="muted">"Votes that wait are not in an idea's public count until they count (on their own, or when a moderator accepts a burst)."</p>
                                    {number("vote-min-hours", "vote_min_account_hours", "Hours before a new account's votes count (0: at once)", s.votes.min_account_hours)}
                                    {number("vote-burst-votes", "vote_burst_votes", "A burst is more than this many votes on one idea (0: off)", s.votes.burst_votes)}
                                    {number("vote-burst-window", "vote_burst_window_minutes", "…arriving within this many minutes", s.votes.burst_window_minutes)}
                                    {number("vote-burst-signup", "vote_burst_signup_minutes", "…from accounts created within this many minutes of each other (or from one address range)", s.votes.burst_signup_minutes)}
                                </fieldset>
                                <button type="submit" class="button primary">"Save settings"</button>
                            </form>
                            <HomeIntroForm />
                            <BrandSettingsForm b=s.brand.clone() saved=brand_saved />
                            <UploadSettingsForm u=s.uploads.clone() />
                            <p class="muted">
                                "Flag threshold, posts held for new members, rate limits and watched words: "
                                <a href="/admin/moderation">"moderation settings"</a>
                                ". Response targets: " <a href="/admin/categories">"categories"</a> "."
                            </p>
                            <section id="approvals" aria-labelledby="approvals-heading">
                                <h2 id="approvals-heading">{format!("Sign-ups waiting for approval ({})", s.awaiting_approval.len())}</h2>
                                {if s.awaiting_approval.is_empty() {
                                    view! { <p class="empty">"Nobody is waiting."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="activity-list">
                                            {s.awaiting_approval.into_iter().map(|u| view! {
                                                <li class="filter-row">
                                                    <strong>{u.username.clone()}</strong>
                                                    <span class="muted">{u.email.clone().unwrap_or_default()} " · " <RelativeTime at=u.joined_at /></span>
                                                    <form method="post" action=DecideSignup::url() class="inline-form">
                                                        <input type="hidden" name="user_id" value=u.id />
                                                        <button type="submit" name="decision" value="approve" class="button">{format!("Approve {}", u.username)}</button>
                                                        <button type="submit" name="decision" value="reject" class="button subtle">"Turn away"</button>
                                                    </form>
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

/// The upload limits and what images from other sites become.
#[component]
fn UploadSettingsForm(u: crate::model::UploadSettings) -> impl IntoView {
    let choice = |name: &'static str, value: &'static str, label: &'static str, current: &str| {
        let id = format!("{name}-{value}");
        let label_for = id.clone();
        let checked = current == value;
        view! {
            <label class="choice" for=label_for>
                <input type="radio" id=id name=name value=value checked=checked />
                {label}
            </label>
        }
    };
    let number = |id: &'static str,
                  name: &'static str,
                  label: &'static str,
                  min: i64,
                  max: i64,
                  value: i64| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=name type="number" inputmode="numeric" min=min.to_string() max=max.to_string() step="1" required value=value.to_string() />
            </div>
        }
    };
    view! {
        <section id="uploads" aria-labelledby="uploads-heading">
            <h2 id="uploads-heading">"Uploads and images"</h2>
            <form method="post" action=SaveUploadSettings::url() class="stack">
                {number("upload-max", "upload_max_file_mb", "Largest file, in MB", 1, 1024, u.max_file_mb)}
                {number("upload-daily", "upload_daily_mb", "What one member may upload in 24 hours, in MB (0: no limit; staff have none)", 0, 100_000, u.daily_mb)}
                <div class="field">
                    <label for="upload-types">"Files members may attach besides images (extensions: pdf, txt, log, zip)"</label>
                    <input id="upload-types" name="upload_file_types" maxlength="200" value=u.file_types.clone() />
                </div>
                {number("upload-side", "upload_image_max_px", "Images are made at most this many pixels wide or high", 200, 10_000, u.image_max_px)}
                <fieldset class="field">
                    <legend>"Animated GIFs"</legend>
                    {choice("upload_animated_gifs", "keep", "Keep their animation", &u.animated_gifs)}
                    {choice("upload_animated_gifs", "refuse", "Refuse them", &u.animated_gifs)}
                </fieldset>
                <fieldset class="field">
                    <legend>"Uploads by new members (trust level 0)"</legend>
                    {choice("upload_new_members", "allow", "Allowed", &u.new_members)}
                    {choice("upload_new_members", "hold", "Allowed, and their posts with files wait for approval", &u.new_members)}
                    {choice("upload_new_members", "off", "Off until they are trusted", &u.new_members)}
                </fieldset>
                <fieldset class="field">
                    <legend>"Images from other sites in posts"</legend>
                    {choice("external_images", "proxy", "Shown through this site, so readers' browsers never contact other sites", &u.external_images)}
                    {choice("external_images", "link", "Shown as links", &u.external_images)}
                </fieldset>
                <button type="submit" class="button primary">"Save upload settings"</button>
            </form>
        </section>
    }
}

/// The brand: the accent colour (the palette is derived from it, contrast kept), logos for light
/// and dark pages and the favicon, by address or uploaded. Two forms: the addresses and colour,
/// and a file upload that sets one of the images (plain multipart, no script needed).
#[component]
fn BrandSettingsForm(b: crate::model::BrandSettings, saved: bool) -> impl IntoView {
    let address = |id: &'static str, name: &'static str, label: &'static str, value: String| {
        let hint_id = format!("{id}-hint");
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=name maxlength="500" inputmode="url" value=value aria-describedby=hint_id.clone() />
                <p class="hint" id=hint_id>"An uploaded file's address (below), or one starting with https://. Empty: none."</p>
            </div>
        }
    };
    view! {
        <section id="brand" aria-labelledby="brand-heading">
            <h2 id="brand-heading">"Brand"</h2>
            {saved.then(|| view! { <p class="notice saved" role="status">"Image uploaded and set."</p> })}
            <form method="post" action=SaveBrandSettings::url() class="stack">
                <div class="field">
                    <label for="brand-accent">"Accent colour (links and buttons)"</label>
                    <input id="brand-accent" name="accent_colour" type="color" value=b.accent_colour.clone() aria-describedby="brand-accent-hint" />
                    <p class="hint" id="brand-accent-hint">"Any colour: it is darkened or lightened where needed so text stays readable (WCAG AA) in light and dark mode."</p>
                </div>
                {address("brand-logo-light", "logo_light", "Logo", b.logo_light.clone())}
                {address("brand-logo-dark", "logo_dark", "Logo for dark mode (optional)", b.logo_dark.clone())}
                {address("brand-favicon", "favicon", "Favicon", b.favicon.clone())}
                <button type="submit" class="button primary">"Save brand"</button>
            </form>
            <form method="post" action="/uploads" enctype="multipart/form-data" class="stack">
                <input type="hidden" name="purpose" value="brand" />
                <div class="field">
                    <label for="brand-upload-which">"Upload an image as the"</label>
                    <select id="brand-upload-which" name="setting">
                        <option value="logo_light">"logo"</option>
                        <option value="logo_dark">"logo for dark mode"</option>
                        <option value="favicon">"favicon"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="brand-upload-file">"Image (PNG, JPEG, GIF or WebP)"</label>
                    <input id="brand-upload-file" name="file" type="file" accept="image/png,image/jpeg,image/gif,image/webp" required />
                </div>
                <button type="submit" class="button">"Upload and use"</button>
            </form>
        </section>
    }
}

/// The home page's introduction: Markdown, shown at the top of the home page (rendered through
/// the same pipeline as posts, so it can hold links and emphasis but no scripts or styles).
#[component]
fn HomeIntroForm() -> impl IntoView {
    let source = OnceResource::new(crate::api::admin::get_home_intro());
    view! {
        <section id="home" aria-labelledby="home-heading">
            <h2 id="home-heading">"Home page"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let source = source.await.unwrap_or_default();
                    view! {
                        <form method="post" action=crate::api::admin::SaveHomeIntro::url() class="stack">
                            <div class="field">
                                <label for="home-intro">"Introduction at the top of the home page (Markdown; empty: none)"</label>
                                <textarea id="home-intro" name="home_intro" rows="4" maxlength="2000" aria-describedby="home-intro-hint">{escape_rcdata(source)}</textarea>
                                <p class="hint" id="home-intro-hint">"Links, **bold** and *italic* work as in posts. At most 2,000 characters."</p>
                            </div>
                            <button type="submit" class="button primary">"Save home page"</button>
                        </form>
                    }
                })}
            </Suspense>
        </section>
    }
}
