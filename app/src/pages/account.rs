use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        account::{
            ChangeEmail, ConfirmEmail, RemoveAvatar, ResendConfirmation, SaveMailSettings,
            SaveProfile, get_account_email, get_mail_settings, get_profile,
        },
        auth::ChangePassword,
    },
    components::{
        avatar::{Avatar, AvatarSize},
        form::{Field, FormError, error_from_url, error_from_url_of},
    },
    context::CurrentUser,
    model::{AccountEmail, MailSettings, SessionUser, avatar_message},
};

/// Where the avatar form posts: the upload endpoint (server/src/files.rs), which sends a
/// browser's plain form back here.
const UPLOADS: &str = "/uploads";

const FIELDS: [&str; 2] = ["current_password", "new_password"];

/// The modes a member can choose for each kind, as the form sends them.
const MODES: [(&str, &str); 3] = [
    ("immediately", "Immediately"),
    ("digest", "In the daily digest"),
    ("never", "Never"),
];

/// /account: the member's own settings: avatar, e-mail address, notifications, password. Every form
/// here is a plain form that works without JavaScript.
#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map().read_untracked().clone();
    let flag = |name: &str| query.get(name).is_some();
    let (changed, saved, email_sent, confirmed) = (
        flag("changed"),
        flag("saved"),
        flag("email_sent"),
        flag("confirmed"),
    );
    let avatar_status = query.get("avatar").as_deref().and_then(avatar_message);
    let profile_saved = query.get("profile").is_some_and(|v| v == "saved");
    let error = error_from_url::<ChangePassword>();
    let field = |name: &str| error.as_ref().and_then(|e| e.for_field(name));
    let (current_error, new_error) = (field("current_password"), field("new_password"));
    let form_error = error.as_ref().and_then(|e| e.for_form(&FIELDS));
    let me = expect_context::<CurrentUser>().0;
    view! {
        <Title text="Your account" />
        <section class="auth-card">
            <h1>"Your account"</h1>
            {confirmed.then(|| view! {
                <p class="notice" role="status">"Your e-mail address is confirmed."</p>
            })}
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(user)) => view! {
                            <p class="muted">"Signed in as " <strong>{user.username.clone()}</strong></p>
                            <ProfileSection me=user.clone() saved=profile_saved />
                            <AvatarSection me=user status=avatar_status />
                            <EmailSection sent=email_sent />
                            <NotificationsSection saved />
                        }.into_any(),
                        _ => view! {
                            <p class="notice">"Log in first to change your account."</p>
                            <p><a class="button primary" href="/login?next=/account">"Log in"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <h2>"Change your password"</h2>
            {changed.then(|| view! {
                <p class="notice" role="status">"Your password was changed. Every other browser signed in to your account has been logged out."</p>
            })}
            <form method="post" action=ChangePassword::url() class="stack">
                <FormError message=Signal::stored(form_error) />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" error=Signal::stored(current_error) />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password. Other browsers signed in to your account will be logged out." error=Signal::stored(new_error) />
                <button type="submit" class="button primary">"Change password"</button>
            </form>
        </section>
    }
}

/// The member's picture as others see it, a plain file form to upload a new one (the upload
/// endpoint crops it square and keeps three sizes), and a button to remove it.
#[component]
fn AvatarSection(me: SessionUser, status: Option<&'static str>) -> impl IntoView {
    let upload_error = error_from_url_of(&[UPLOADS]).map(|e| e.to_string());
    let remove_error = error_from_url::<RemoveAvatar>().map(|e| e.to_string());
    let has_avatar = me.avatar_upload_id.is_some();
    let has_error = upload_error.is_some();
    let invalid = if has_error { "true" } else { "false" };
    view! {
        <h2 id="avatar">"Avatar"</h2>
        {status.map(|message| view! { <p class="notice" role="status">{message}</p> })}
        <div class="avatar-current">
            <Avatar name=me.display_name.clone() username=me.username.clone() upload=me.avatar_upload_id size=AvatarSize::Large />
            <p class="muted">
                {if has_avatar {
                    "This picture shows beside your posts and on your page."
                } else {
                    "You have no avatar: your initials show beside your posts instead."
                }}
            </p>
        </div>
        <form method="post" action=UPLOADS enctype="multipart/form-data" class="stack">
            <input type="hidden" name="purpose" value="avatar" />
            <div class="field" class:has-error=has_error>
                <label for="field-avatar">"New avatar"</label>
                <p class="hint" id="field-avatar-hint">"A PNG, JPEG, GIF or WebP image. The middle square of it is used."</p>
                <input
                    id="field-avatar"
                    type="file"
                    name="file"
                    accept="image/png,image/jpeg,image/gif,image/webp"
                    required
                    aria-describedby="field-avatar-hint field-avatar-error"
                    aria-invalid=invalid
                />
                <p class="field-error" id="field-avatar-error" aria-live="polite">{upload_error}</p>
            </div>
            <button type="submit" class="button primary">"Upload avatar"</button>
        </form>
        {has_avatar.then(|| view! {
            <form method="post" action=RemoveAvatar::url() class="stack">
                <FormError message=Signal::stored(remove_error) />
                <button type="submit" class="button">"Remove avatar"</button>
            </form>
        })}
    }
}

/// The member's address, whether it is confirmed, a change waiting for confirmation, and the
/// forms to change it or send the link again.
#[component]
fn EmailSection(sent: bool) -> impl IntoView {
    let data = OnceResource::new(get_account_email());
    let change_error = error_from_url::<ChangeEmail>();
    let email_error = change_error.as_ref().and_then(|e| e.for_field("email"));
    let change_form_error = change_error.as_ref().and_then(|e| e.for_form(&["email"]));
    let resend_error = error_from_url::<ResendConfirmation>()
        .or_else(error_from_url::<ConfirmEmail>)
        .map(|e| e.to_string());
    view! {
        <h2 id="email">"E-mail address"</h2>
        {sent.then(|| view! {
            <p class="notice" role="status">"We sent a confirmation link. Open it within 48 hours."</p>
        })}
        <Suspense fallback=|| ()>
            {move || {
                let (email_error, change_form_error, resend_error) =
                    (email_error.clone(), change_form_error.clone(), resend_error.clone());
                Suspend::new(async move {
                    let AccountEmail { email, confirmed, pending } = match data.await {
                        Ok(data) => data,
                        Err(e) => return view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    };
                    view! {
                        <p>
                            {email}
                            {if confirmed { " (confirmed)" } else { " (not confirmed: no notification e-mails go there yet)" }}
                        </p>
                        {pending.map(|address| view! {
                            <p class="muted">{format!("Waiting for {address} to confirm; your address changes when it does.")}</p>
                        })}
                        {(!confirmed).then(|| view! {
                            <form method="post" action=ResendConfirmation::url() class="stack">
                                <FormError message=Signal::stored(resend_error) />
                                <button type="submit" class="button">"Send the confirmation link again"</button>
                            </form>
                        })}
                        <form method="post" action=ChangeEmail::url() class="stack">
                            <FormError message=Signal::stored(change_form_error) />
                            <Field label="New e-mail address" name="email" kind="email" autocomplete="email" hint="We send a link to the new address and tell the old one; the change is made when the link is opened." error=Signal::stored(email_error) />
                            <button type="submit" class="button">"Change address"</button>
                        </form>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// One choice per kind of e-mail, the follow switches and the digest's time zone, saved in one
/// post.
#[component]
fn NotificationsSection(saved: bool) -> impl IntoView {
    let data = OnceResource::new(get_mail_settings());
    let error = error_from_url::<SaveMailSettings>().map(|e| e.to_string());
    view! {
        <h2 id="notifications">"Notifications"</h2>
        {saved.then(|| view! {
            <p class="notice" role="status">"Your notification settings were saved."</p>
        })}
        <Suspense fallback=|| ()>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let s: MailSettings = match data.await {
                        Ok(s) => s,
                        Err(e) => return view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    };
                    let own_zone = s.time_zone.clone().unwrap_or_default();
                    view! {
                        <form method="post" action=SaveMailSettings::url() class="stack">
                            <FormError message=Signal::stored(error) />
                            <p class="muted">"Notifications always appear on the site; choose which also come by e-mail."</p>
                            {s.choices.into_iter().map(|c| {
                                let id = format!("mail-{}", c.kind);
                                view! {
                                    <div class="field">
                                        <label for=id.clone()>{format!("E-mail me about {}", c.label)}</label>
                                        <select id=id name=format!("modes[{}]", c.kind)>
                                            {MODES.iter().map(|(value, label)| view! {
                                                <option value=*value selected=c.mode == *value>{*label}</option>
                                            }).collect_view()}
                                        </select>
                                    </div>
                                }
                            }).collect_view()}
                            <label class="check">
                                <input type="checkbox" name="follow_on_start" value="on" checked=s.follow_on_start />
                                " Follow topics I start"
                            </label>
                            <label class="check">
                                <input type="checkbox" name="follow_on_reply" value="on" checked=s.follow_on_reply />
                                " Follow topics I reply to"
                            </label>
                            <label class="check">
                                <input type="checkbox" name="follow_on_vote" value="on" checked=s.follow_on_vote />
                                " Voting on an idea follows it"
                            </label>
                            <div class="field">
                                <label for="mail-time-zone">"Your time zone"</label>
                                <p class="hint" id="mail-time-zone-hint">{format!(
                                    "Exact times on pages (on hover, and read out with the time) and your daily digest, sent at 07:00, use it. Automatic: your browser's zone on pages; the site's ({}) for the digest and without JavaScript.",
                                    s.site_time_zone,
                                )}</p>
                                <select id="mail-time-zone" name="time_zone" aria-describedby="mail-time-zone-hint">
                                    <option value="" selected=own_zone.is_empty()>"Automatic (from your browser)"</option>
                                    {s.zones.into_iter().map(|zone| {
                                        let (selected, label) = (zone == own_zone, zone.clone());
                                        view! { <option value=zone selected=selected>{label}</option> }
                                    }).collect_view()}
                                </select>
                            </div>
                            <button type="submit" class="button primary">"Save notification settings"</button>
                        </form>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// The name others see beside the username, and a short bio (Markdown) shown on the member's
/// page. A plain form; a refusal comes back with every field's error beside it and the text
/// as typed.
#[component]
fn ProfileSection(me: SessionUser, saved: bool) -> impl IntoView {
    let stored = OnceResource::new(get_profile());
    let sent = crate::components::form::SentForm::sole(
        error_from_url::<SaveProfile>(),
        "profile",
        &["display_name", "bio"],
    );
    let profile_page = format!("/u/{}", me.username);
    view! {
        <section id="profile" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            {saved.then(|| view! { <p class="notice" role="status">"Your profile was saved."</p> })}
            <p class="muted">"Shown on " <a href=profile_page>"your member page"</a> " and beside your posts. Your username, " <strong>{me.username.clone()}</strong> ", stays as it is."</p>
            <Suspense fallback=|| ()>
                {move || {
                    let sent_name = sent.kept("display_name");
                    let sent_bio = sent.kept("bio");
                    let (name_error, bio_error) = (sent.field("display_name"), sent.field("bio"));
                    let form_error = sent.form_error.clone();
                    Suspend::new(async move {
                        let form = stored.await.unwrap_or_default();
                        let bio = sent_bio.unwrap_or(form.bio);
                        let bio_has_error = bio_error.is_some();
                        let bio_invalid = if bio_has_error { "true" } else { "false" };
                        view! {
                            <form method="post" action=SaveProfile::url() class="stack">
                                <FormError message=Signal::stored(form_error) />
                                <Field label="Display name" name="display_name" autocomplete="name" maxlength=60 value=sent_name.unwrap_or(form.display_name) error=Signal::stored(name_error) />
                                <div class="field" class:has-error=bio_has_error>
                                    <label for="field-bio">"Bio"</label>
                                    <p class="hint" id="field-bio-hint">"A few words about you, in Markdown; at most 2,000 characters."</p>
                                    <textarea id="field-bio" name="bio" rows="4" maxlength="2000" aria-describedby="field-bio-hint field-bio-error" aria-invalid=bio_invalid>
                                        {crate::components::escape_rcdata(bio)}
                                    </textarea>
                                    <p class="field-error" id="field-bio-error" aria-live="polite">{bio_error}</p>
                                </div>
                                <button type="submit" class="button primary">"Save profile"</button>
                            </form>
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}
