//! Site settings stored in the database, read on each use so an admin's change applies at once.
//!
//! This module owns every setting: [`ALL`] lists each one with its kind, default, bounds and a
//! label for messages; [`validate`] is the one check; [`change`] and [`change_all`] are the one
//! way to set them (checked, written and logged together). Reading uses the typed keys below.
//! Per-category response targets live on the categories, but their bound is checked here too
//! ([`check_target`]).
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, sea_query::OnConflict,
};

use super::{
    auth::require_role,
    db::begin_write,
    entity::{moderation_log, setting, user},
};
use crate::{error::AppError, model::Role};

/// Whether the public /accountability page is shown (default: on).
pub const ACCOUNTABILITY_PUBLIC: &str = "accountability_public";
/// Whether the public /moderation page is shown (default: on).
pub const MODERATION_LOG_PUBLIC: &str = "moderation_log_public";
/// Whether search engines are asked to index the site (default: on). Off: robots.txt shuts
/// every crawler out and every page says `noindex` (a staging copy, a private beta).
pub const SEARCH_ENGINES_INDEX: &str = "search_engines_index";
/// Whether the public /roadmap page is shown (default: on).
pub const ROADMAP_PUBLIC: &str = "roadmap_public";

/// Texts admins set, with their defaults.
pub const SITE_NAME: (&str, &str) = ("site_name", "Backyard");
pub const SITE_TAGLINE: (&str, &str) = (
    "site_tagline",
    "Ask questions, share feedback and ideas, report problems. Our team reads everything and answers here.",
);
pub const WELCOME_MESSAGE: (&str, &str) = (
    "welcome_message",
    "Welcome! Say hello, ask your first question or tell us what you think: the team reads everything.",
);
/// The brand: one accent colour (server::theme derives the palette from it), logos for light
/// and dark pages and a favicon, each an upload on this site or an https address (shown
/// through the image proxy); empty: the site name in text, and the default icon.
pub const ACCENT_COLOUR: (&str, &str) = ("accent_colour", "#2f5f91");
pub const LOGO_LIGHT: (&str, &str) = ("logo_light", "");
pub const LOGO_DARK: (&str, &str) = ("logo_dark", "");
pub const FAVICON: (&str, &str) = ("favicon", "");
/// The home page's introduction, in Markdown (rendered through the content pipeline); empty
/// shows none.
pub const HOME_INTRO: (&str, &str) = (
    "home_intro",
    "Questions, ideas and answers from our customers and our team.",
);
/// open | closed | approval
pub const SIGNUP_MODE: (&str, &str) = ("signup_mode", "open");
/// An IANA zone name ("Europe/Paris"): the daily digest goes out at 07:00 there for members who
/// did not choose their own.
pub const SITE_TIME_ZONE: (&str, &str) = ("time_zone", "UTC");

/// Numbers admins set, with their defaults.
pub const FLAG_THRESHOLD: (&str, i64) = ("flag_threshold", 3);
/// How many of a new member's first posts wait for approval (0: none, the default: a first
/// complaint should be answered, not parked; admins turn holding on against a wave of spam).
pub const NEW_MEMBER_HOLD: (&str, i64) = ("new_member_hold_posts", 0);
pub const POSTS_PER_10_MIN: (&str, i64) = ("rate_posts_per_10_min", 10);
pub const TOPICS_PER_HOUR: (&str, i64) = ("rate_topics_per_hour", 5);
pub const FLAGS_PER_HOUR: (&str, i64) = ("rate_flags_per_hour", 20);
/// A session ends after this many hours without a visit (default 30 days)...
pub const SESSION_IDLE_HOURS: (&str, i64) = ("session_idle_hours", 720);
/// ...and, however active, this many hours after signing in (default 90 days).
pub const SESSION_MAX_HOURS: (&str, i64) = ("session_max_hours", 2160);

/// Votes from accounts younger than this many hours wait (pending) until the account is that
/// old; 0 counts them at once.
pub const VOTE_MIN_ACCOUNT_HOURS: (&str, i64) = ("vote_min_account_hours", 24);
/// A burst: more than this many votes on one idea within the window below from accounts
/// created within `VOTE_BURST_SIGNUP_MINUTES` of each other, or from one address range; 0: off.
pub const VOTE_BURST_VOTES: (&str, i64) = ("vote_burst_votes", 10);
pub const VOTE_BURST_WINDOW_MINUTES: (&str, i64) = ("vote_burst_window_minutes", 60);
pub const VOTE_BURST_SIGNUP_MINUTES: (&str, i64) = ("vote_burst_signup_minutes", 60);

/// Uploads: the largest file, what one member may upload in 24 hours (0: no allowance; staff
/// have none), the non-image files taken (by extension), the longest side images are resized
/// to, whether animated GIFs keep their animation, and what new members may do.
pub const UPLOAD_MAX_FILE_MB: (&str, i64) = ("upload_max_file_mb", 10);
pub const UPLOAD_DAILY_MB: (&str, i64) = ("upload_daily_mb", 50);
pub const UPLOAD_FILE_TYPES: (&str, &str) = ("upload_file_types", "pdf txt log zip");
pub const UPLOAD_IMAGE_MAX_SIDE: (&str, i64) = ("upload_image_max_px", 2000);
pub const UPLOAD_ANIMATED_GIFS: (&str, &str) = ("upload_animated_gifs", "keep");
pub const UPLOAD_NEW_MEMBERS: (&str, &str) = ("upload_new_members", "allow");
/// Markdown images from other sites: through this site's image proxy, or shown as links.
pub const EXTERNAL_IMAGES: (&str, &str) = ("external_images", "proxy");

/// The moderation numbers: 0 turns a limit off; more than this is surely a typo.
const MODERATION_MAX: i64 = 10_000;
/// Session timeouts: at least an hour, at most 400 days (what the session code honours).
const SESSION_HOURS_MAX: i64 = 24 * 400;

/// What values a setting takes, and its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Trimmed text of at most `max_chars` characters; `required`: not empty.
    Text {
        default: &'static str,
        max_chars: usize,
        required: bool,
    },
    /// A whole number from `min` to `max`.
    Number { default: i64, min: i64, max: i64 },
    /// On or off, stored as "true" or "false".
    Flag { default: bool },
    /// A colour as `#rrggbb`.
    Colour { default: &'static str },
    /// An image: an upload on this site (`/uploads/<id>/<name>`), an https address, or nothing.
    Image,
    /// One of `allowed`: (stored value, how a message names it).
    Choice {
        default: &'static str,
        allowed: &'static [(&'static str, &'static str)],
    },
}

/// One site setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// Its name in the database and on the command line.
    pub key: &'static str,
    /// The admin form's field for it, so a refusal shows beside the right input.
    pub field: &'static str,
    /// What messages and the log call it.
    pub label: &'static str,
    pub kind: Kind,
}

const fn number_setting(
    (key, default): (&'static str, i64),
    field: &'static str,
    label: &'static str,
    min: i64,
    max: i64,
) -> Setting {
    Setting {
        key,
        field,
        label,
        kind: Kind::Number { default, min, max },
    }
}

const fn text_setting(
    (key, default): (&'static str, &'static str),
    field: &'static str,
    label: &'static str,
    max_chars: usize,
    required: bool,
) -> Setting {
    Setting {
        key,
        field,
        label,
        kind: Kind::Text {
            default,
            max_chars,
            required,
        },
    }
}

const fn image_setting(key: &'static str, field: &'static str, label: &'static str) -> Setting {
    Setting {
        key,
        field,
        label,
        kind: Kind::Image,
    }
}

/// Longest image address taken (an upload's path, or another site's address).
const IMAGE_ADDRESS_MAX: usize = 500;

/// Whether `value` is an image address a brand setting takes: an upload's path on this site,
/// written as uploads::url_of writes it (digits, then a name of plain characters: nothing that
/// climbs out with dot segments), or an https address with nothing that could end an attribute.
fn is_image_address(value: &str) -> bool {
    if let Some(rest) = value.strip_prefix("/uploads/") {
        let Some((id, name)) = rest.split_once('/') else {
            return false;
        };
        return !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty()
            && name.split('/').all(|segment| {
                !segment.trim_matches('.').is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
    }
    value.len() > "https://".len()
        && value[..8].eq_ignore_ascii_case("https://")
        && value
            .chars()
            .all(|c| c.is_ascii_graphic() && !"\"'<>\\`".contains(c))
}

pub const ZONE_UNKNOWN: &str =
    "Give a time zone by its name, such as Europe/Paris, America/New_York or UTC.";

/// Every site setting. A key not listed here cannot be set.
pub const ALL: &[Setting] = &[
    text_setting(SITE_NAME, "site_name", "site name", 64, true),
    text_setting(SITE_TAGLINE, "tagline", "tagline", 200, false),
    Setting {
        key: ACCENT_COLOUR.0,
        field: "accent_colour",
        label: "accent colour",
        kind: Kind::Colour {
            default: ACCENT_COLOUR.1,
        },
    },
    image_setting(LOGO_LIGHT.0, "logo_light", "logo"),
    image_setting(LOGO_DARK.0, "logo_dark", "logo for dark mode"),
    image_setting(FAVICON.0, "favicon", "favicon"),
    text_setting(
        WELCOME_MESSAGE,
        "welcome_message",
        "welcome message",
        2000,
        false,
    ),
    text_setting(
        HOME_INTRO,
        "home_intro",
        "home page introduction",
        2000,
        false,
    ),
    Setting {
        key: SIGNUP_MODE.0,
        field: "signup_mode",
        label: "sign-up mode",
        kind: Kind::Choice {
            default: SIGNUP_MODE.1,
            allowed: &[
                ("open", "open"),
                ("closed", "closed"),
                ("approval", "by approval"),
            ],
        },
    },
    text_setting(SITE_TIME_ZONE, "time_zone", "site time zone", 64, true),
    Setting {
        key: ACCOUNTABILITY_PUBLIC,
        field: "accountability_public",
        label: "public accountability page",
        kind: Kind::Flag { default: true },
    },
    Setting {
        key: MODERATION_LOG_PUBLIC,
        field: "log_public",
        label: "public moderation log",
        kind: Kind::Flag { default: true },
    },
    Setting {
        key: SEARCH_ENGINES_INDEX,
        field: "search_engines_index",
        label: "search engine indexing",
        kind: Kind::Flag { default: true },
    },
    Setting {
        key: ROADMAP_PUBLIC,
        field: "roadmap_public",
        label: "public roadmap",
        kind: Kind::Flag { default: true },
    },
    number_setting(
        VOTE_MIN_ACCOUNT_HOURS,
        "vote_min_account_hours",
        "hours before a new account's votes count",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        VOTE_BURST_VOTES,
        "vote_burst_votes",
        "votes on one idea that make a burst",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        VOTE_BURST_WINDOW_MINUTES,
        "vote_burst_window_minutes",
        "minutes a burst of votes arrives within",
        1,
        MODERATION_MAX,
    ),
    number_setting(
        VOTE_BURST_SIGNUP_MINUTES,
        "vote_burst_signup_minutes",
        "minutes apart the accounts of a burst were created",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        UPLOAD_MAX_FILE_MB,
        "upload_max_file_mb",
        "largest upload in MB",
        1,
        1024,
    ),
    number_setting(
        UPLOAD_DAILY_MB,
        "upload_daily_mb",
        "MB a member may upload a day",
        0,
        100_000,
    ),
    text_setting(
        UPLOAD_FILE_TYPES,
        "upload_file_types",
        "file types members may upload besides images",
        200,
        false,
    ),
    number_setting(
        UPLOAD_IMAGE_MAX_SIDE,
        "upload_image_max_px",
        "longest side of an uploaded image in pixels",
        200,
        10_000,
    ),
    Setting {
        key: UPLOAD_ANIMATED_GIFS.0,
        field: "upload_animated_gifs",
        label: "animated GIFs",
        kind: Kind::Choice {
            default: UPLOAD_ANIMATED_GIFS.1,
            allowed: &[("keep", "kept animated"), ("refuse", "refused")],
        },
    },
    Setting {
        key: UPLOAD_NEW_MEMBERS.0,
        field: "upload_new_members",
        label: "uploads by new members",
        kind: Kind::Choice {
            default: UPLOAD_NEW_MEMBERS.1,
            allowed: &[
                ("allow", "allowed"),
                ("hold", "held for approval"),
                ("off", "off"),
            ],
        },
    },
    Setting {
        key: EXTERNAL_IMAGES.0,
        field: "external_images",
        label: "images from other sites",
        kind: Kind::Choice {
            default: EXTERNAL_IMAGES.1,
            allowed: &[
                ("proxy", "shown through this site"),
                ("link", "shown as links"),
            ],
        },
    },
    number_setting(
        FLAG_THRESHOLD,
        "flag_threshold",
        "flags that hide a post",
        1,
        MODERATION_MAX,
    ),
    number_setting(
        NEW_MEMBER_HOLD,
        "new_member_hold",
        "new members' posts held for approval",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        POSTS_PER_10_MIN,
        "posts_per_10_min",
        "posts per 10 minutes",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        TOPICS_PER_HOUR,
        "topics_per_hour",
        "topics per hour",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        FLAGS_PER_HOUR,
        "flags_per_hour",
        "flags per hour",
        0,
        MODERATION_MAX,
    ),
    number_setting(
        SESSION_IDLE_HOURS,
        "session_idle_hours",
        "hours a session lasts without a visit",
        1,
        SESSION_HOURS_MAX,
    ),
    number_setting(
        SESSION_MAX_HOURS,
        "session_max_hours",
        "hours a session lasts at most",
        1,
        SESSION_HOURS_MAX,
    ),
];

/// The setting called `key`, if there is one.
pub fn find(key: &str) -> Option<&'static Setting> {
    ALL.iter().find(|s| s.key == key)
}

/// 10000 as "10,000": how people write numbers in messages.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// "a, b or c".
fn either(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

impl Setting {
    /// What values it takes and its default, for the command line's list of settings.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Text {
                default,
                max_chars,
                required,
            } => format!(
                "text of {} to {} characters (default {default:?})",
                u8::from(required),
                grouped(max_chars as i64)
            ),
            Kind::Number { default, min, max } => format!(
                "a whole number from {min} to {} (default {default})",
                grouped(max)
            ),
            Kind::Flag { default } => format!("true or false (default {default})"),
            Kind::Colour { default } => format!("a colour as #rrggbb (default {default})"),
            Kind::Image => "an upload's address (/uploads/...) or an https address, or nothing (default nothing)".into(),
            Kind::Choice { default, allowed } => format!(
                "{} (default {default})",
                either(&allowed.iter().map(|(v, _)| *v).collect::<Vec<_>>())
            ),
        }
    }

    /// The value in the form it is stored in, or why it is refused.
    pub fn validate(&self, value: &str) -> Result<String, AppError> {
        let refuse = |message: String| Err(AppError::invalid(self.field, message));
        let value = value.trim();
        match self.kind {
            Kind::Text {
                max_chars,
                required,
                ..
            } => {
                if required && value.is_empty() {
                    return refuse(format!("The {} can't be empty.", self.label));
                }
                // One-line texts (the name, the tagline) go into page titles and mail headers:
                // no line breaks or other controls, and no direction overrides that would turn
                // the text after them around.
                let one_line = max_chars <= 200;
                let overrides =
                    |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
                if value.chars().any(|c| {
                    overrides(c)
                        || (c.is_control() && (one_line || !matches!(c, '\n' | '\r' | '\t')))
                }) {
                    return refuse(format!(
                        "The {} can't hold line breaks, control characters or direction overrides.",
                        self.label
                    ));
                }
                if value.chars().count() > max_chars {
                    return refuse(format!(
                        "The {} can be at most {} characters.",
                        self.label,
                        grouped(max_chars as i64)
                    ));
                }
                // The one text setting with a shape: a zone the digest can be timed in.
                if self.key == SITE_TIME_ZONE.0 && value.parse::<chrono_tz::Tz>().is_err() {
                    return refuse(ZONE_UNKNOWN.into());
                }
                Ok(value.to_string())
            }
            Kind::Number { min, max, .. } => {
                let range = format!("Give a whole number from {min} to {}.", grouped(max));
                match value.parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
                    Ok(_) => refuse(range),
                    // Where 0 is allowed it means "off": say so to someone who typed a word.
                    Err(_) if min == 0 => refuse("Give a whole number, 0 to turn it off.".into()),
                    Err(_) => refuse(range),
                }
            }
            Kind::Flag { .. } => match value.to_ascii_lowercase().as_str() {
                "true" | "on" => Ok("true".into()),
                "false" | "off" => Ok("false".into()),
                _ => refuse(format!("Give true or false for the {}.", self.label)),
            },
            Kind::Colour { .. } => {
                let hex = value.strip_prefix('#').unwrap_or(value);
                if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(format!("#{}", hex.to_ascii_lowercase()))
                } else {
                    refuse(format!(
                        "Give the {} as a hex colour such as #2f5f91.",
                        self.label
                    ))
                }
            }
            Kind::Image => {
                if value.is_empty() || (value.len() <= IMAGE_ADDRESS_MAX && is_image_address(value))
                {
                    Ok(value.to_string())
                } else {
                    refuse(format!(
                        "Give the {} as an upload on this site (choose a file) or an address starting with https://, or leave it empty.",
                        self.label
                    ))
                }
            }
            Kind::Choice { allowed, .. } => match allowed.iter().find(|(v, _)| *v == value) {
                Some((v, _)) => Ok(v.to_string()),
                None => refuse(format!(
                    "Choose {}.",
                    either(&allowed.iter().map(|(_, label)| *label).collect::<Vec<_>>())
                )),
            },
        }
    }
}

/// The one check for a setting's value: the value as it will be stored, or a refusal that
/// names what is allowed (an unknown key: the keys there are).
pub fn validate(key: &str, value: &str) -> Result<String, AppError> {
    match find(key) {
        Some(s) => s.validate(value),
        None => Err(AppError::invalid(
            "key",
            format!(
                "There is no setting {key:?}. The settings are {}.",
                either(&ALL.iter().map(|s| s.key).collect::<Vec<_>>())
            ),
        )),
    }
}

/// Who changes a setting.
#[derive(Clone, Copy, Debug)]
pub enum ChangedBy<'a> {
    /// An admin, from the site: checked for the role, and logged in the moderation log.
    Admin(&'a user::Model),
    /// The operator at the server's shell (`backyard set`): the moderation log names a member,
    /// and the shell is no member, so the command prints the change instead.
    Operator,
}

/// Changes one setting: checked, written and logged together. Returns whether it changed.
pub async fn change(
    conn: &impl ConnectionTrait,
    by: ChangedBy<'_>,
    key: &str,
    value: &str,
) -> Result<bool, AppError> {
    Ok(!change_all(conn, by, &[(key, value)]).await?.is_empty())
}

/// Changes several settings from one form: every value is checked before any is written, and
/// the changed ones go in one moderation-log entry. Returns the keys that changed. Run it in
/// the caller's transaction so the writes and the entry commit together.
pub async fn change_all(
    conn: &impl ConnectionTrait,
    by: ChangedBy<'_>,
    values: &[(&str, &str)],
) -> Result<Vec<&'static str>, AppError> {
    if let ChangedBy::Admin(actor) = by {
        require_role(Some(actor.role()), Role::Admin)?;
    }
    let mut checked = Vec::with_capacity(values.len());
    for (key, value) in values {
        let value = validate(key, value)?;
        checked.push((find(key).ok_or(AppError::Internal)?, value));
    }
    let mut changed = Vec::new();
    for (setting, value) in checked {
        if get(conn, setting.key).await?.as_deref() == Some(value.as_str()) {
            continue;
        }
        put(conn, setting.key, &value).await?;
        changed.push(setting);
    }
    if let (ChangedBy::Admin(actor), false) = (by, changed.is_empty()) {
        let labels: Vec<&str> = changed.iter().map(|s| s.label).collect();
        // Written here rather than through the moderation feature's helper: settings sit below
        // the features, which read them.
        moderation_log::ActiveModel {
            actor_id: Set(actor.id),
            action: Set("settings".into()),
            reason: Set(labels.join(", ")),
            public: Set(false),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(changed.into_iter().map(|s| s.key).collect())
}

/// Response targets (stored on each category): more than nothing, at most 30 days.
pub const MAX_TARGET_MINUTES: i64 = 30 * 24 * 60;
pub const TARGET_INVALID: &str = "Give a target between 1 minute and 30 days.";

/// Hours as typed ("4", "0.5") to whole minutes; 0 for what is not a number, which
/// [`check_target`] then refuses.
pub fn hours_to_minutes(hours: &str) -> i64 {
    hours
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite())
        .map(|h| (h * 60.0).round() as i64)
        .unwrap_or(0)
}

/// The one bound on a response target, in minutes.
pub fn check_target(minutes: i64, field: &str) -> Result<i32, AppError> {
    if !(1..=MAX_TARGET_MINUTES).contains(&minutes) {
        return Err(AppError::invalid(field, TARGET_INVALID));
    }
    Ok(minutes as i32)
}

pub async fn text(
    conn: &impl ConnectionTrait,
    (key, default): (&str, &str),
) -> Result<String, AppError> {
    Ok(get(conn, key).await?.unwrap_or_else(|| default.to_string()))
}

/// A number setting, or its default when unset or unreadable.
pub async fn number(
    conn: &impl ConnectionTrait,
    (key, default): (&str, i64),
) -> Result<i64, AppError> {
    Ok(number_or(get(conn, key).await?.as_deref(), default))
}

/// A stored number setting's value, or `default` when unset or unreadable.
pub fn number_or(stored: Option<&str>, default: i64) -> i64 {
    stored
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Several number settings in one query (a rule that reads a few on every request), each its
/// default when unset or unreadable; in the order asked.
pub async fn numbers<const N: usize>(
    conn: &impl ConnectionTrait,
    wanted: [(&str, i64); N],
) -> Result<[i64; N], AppError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let stored: std::collections::HashMap<String, String> = setting::Entity::find()
        .filter(setting::Column::Key.is_in(wanted.iter().map(|(key, _)| key.to_string())))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.key, s.value))
        .collect();
    Ok(wanted.map(|(key, default)| number_or(stored.get(key).map(String::as_str), default)))
}

/// A switch, or its default (from [`ALL`]) when unset or unreadable.
pub async fn flag(conn: &impl ConnectionTrait, key: &str) -> Result<bool, AppError> {
    let default = match find(key).map(|s| s.kind) {
        Some(Kind::Flag { default }) => default,
        _ => return Err(AppError::Internal),
    };
    Ok(match get(conn, key).await?.as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => default,
    })
}

pub async fn get(conn: &impl ConnectionTrait, key: &str) -> Result<Option<String>, AppError> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|s| s.value))
}

/// Stores a value unchecked: for [`change_all`], and for tests setting up a site.
pub async fn put(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
    super::page_version::changed_here();
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.into()),
        value: Set(value.into()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub async fn accountability_public(db: &DatabaseConnection) -> Result<bool, AppError> {
    flag(db, ACCOUNTABILITY_PUBLIC).await
}

/// Whether search engines may index the site (robots.txt, `noindex` on every page).
pub async fn search_engines_index(conn: &impl ConnectionTrait) -> Result<bool, AppError> {
    flag(conn, SEARCH_ENGINES_INDEX).await
}

/// Admins switch the public accountability page on or off.
pub async fn set_accountability_public(
    db: &DatabaseConnection,
    actor: &user::Model,
    on: bool,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    change(
        &txn,
        ChangedBy::Admin(actor),
        ACCOUNTABILITY_PUBLIC,
        if on { "true" } else { "false" },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::{insert_user, test_db};
    use sea_orm::PaginatorTrait;

    #[test]
    fn every_setting_is_listed_once_and_its_default_passes_its_own_check() {
        for (i, s) in ALL.iter().enumerate() {
            assert!(
                ALL[i + 1..]
                    .iter()
                    .all(|o| o.key != s.key && o.field != s.field),
                "{} twice",
                s.key
            );
            let default = match s.kind {
                Kind::Text { default, .. }
                | Kind::Choice { default, .. }
                | Kind::Colour { default } => default.to_string(),
                Kind::Image => String::new(),
                Kind::Number { default, .. } => default.to_string(),
                Kind::Flag { default } => default.to_string(),
            };
            assert_eq!(validate(s.key, &default).unwrap(), default, "{}", s.key);
        }
    }

    #[test]
    fn brand_colours_and_images_take_only_their_shapes() {
        assert_eq!(validate("accent_colour", " #C0392B ").unwrap(), "#c0392b");
        assert_eq!(validate("accent_colour", "c0392b").unwrap(), "#c0392b");
        for bad in ["red", "#c0392", "#c0392b;}body{", "#ggg000", ""] {
            let e = validate("accent_colour", bad).unwrap_err();
            let message = e.for_field("accent_colour").expect(bad);
            assert!(message.contains("#2f5f91"), "{message}");
        }
        for good in [
            "",
            "/uploads/12/logo.png",
            "https://cdn.example.com/a/logo.png?v=2",
        ] {
            assert_eq!(validate("logo_light", good).unwrap(), good);
        }
        for bad in [
            "/uploads/12/../../admin",
            "/uploads/12/%2e%2e/x",
            "/uploads/x/logo.png",
            "/uploads/12/",
            "/admin/users",
            "http://example.com/logo.png",
            "javascript:alert(1)",
            "https://example.com/\"onerror=alert(1)",
            "https://example.com/a b.png",
            "https://",
        ] {
            let e = validate("logo_dark", bad).unwrap_err();
            let message = e.for_field("logo_dark").expect(bad);
            assert!(
                message.starts_with("Give the logo for dark mode as"),
                "{message}"
            );
        }
        assert!(validate("favicon", &format!("https://e.com/{}", "a".repeat(500))).is_err());
        for bad in ["Acme\r\nBcc: x@y", "Acme\u{202e}", "A\u{1}cme", "Acme\tCo"] {
            let e = validate("site_name", bad).unwrap_err();
            assert!(
                e.for_field("site_name").unwrap().contains("line breaks"),
                "{bad:?}"
            );
        }
        assert_eq!(
            validate("welcome_message", "Hi!\n\nWelcome.").unwrap(),
            "Hi!\n\nWelcome."
        );
    }

    #[test]
    fn values_are_normalised_or_refused_with_what_is_allowed() {
        let message = |key: &str, value: &str| match validate(key, value) {
            Err(AppError::Invalid { message, .. }) => message,
            other => panic!("{key}={value}: {other:?}"),
        };
        assert_eq!(validate("site_name", "  Acme  ").unwrap(), "Acme");
        assert_eq!(validate("flag_threshold", " 7 ").unwrap(), "7");
        assert_eq!(validate("accountability_public", "off").unwrap(), "false");
        assert_eq!(
            message("flag_threshold", "0"),
            "Give a whole number from 1 to 10,000."
        );
        assert_eq!(
            message("rate_posts_per_10_min", "lots"),
            "Give a whole number, 0 to turn it off."
        );
        assert_eq!(
            message("session_idle_hours", "0"),
            "Give a whole number from 1 to 9,600."
        );
        assert_eq!(
            message("signup_mode", "sometimes"),
            "Choose open, closed or by approval."
        );
        assert_eq!(message("site_name", " "), "The site name can't be empty.");
        assert!(message("colour", "red").contains("site_name, site_tagline"));
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }

    #[tokio::test]
    async fn a_change_is_checked_written_and_logged_together() {
        let db = test_db().await;
        let member = insert_user(&db, 1).await;
        let mut admin: user::ActiveModel = insert_user(&db, 2).await.into();
        admin.role = Set(Role::Admin.as_str().into());
        let admin = admin.update(&db).await.unwrap();
        let entries = || async { moderation_log::Entity::find().count(&db).await.unwrap() };

        assert!(matches!(
            change(
                &db,
                ChangedBy::Admin(&member),
                ACCOUNTABILITY_PUBLIC,
                "false"
            )
            .await,
            Err(AppError::Forbidden(_))
        ));
        assert!(
            change_all(
                &db,
                ChangedBy::Admin(&admin),
                &[(FLAG_THRESHOLD.0, "5"), (POSTS_PER_10_MIN.0, "-1")]
            )
            .await
            .is_err()
        );
        assert_eq!(
            get(&db, FLAG_THRESHOLD.0).await.unwrap(),
            None,
            "nothing written"
        );
        assert_eq!(entries().await, 0);

        set_accountability_public(&db, &admin, false).await.unwrap();
        assert!(!accountability_public(&db).await.unwrap());
        let entry = moderation_log::Entity::find()
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (entry.action.as_str(), entry.reason.as_str(), entry.actor_id),
            ("settings", "public accountability page", admin.id)
        );
        // The same value again changes nothing and logs nothing.
        set_accountability_public(&db, &admin, false).await.unwrap();
        assert_eq!(entries().await, 1);

        // The shell's operator is no member: written, not logged.
        assert!(
            change(&db, ChangedBy::Operator, FLAG_THRESHOLD.0, "9")
                .await
                .unwrap()
        );
        assert_eq!(number(&db, FLAG_THRESHOLD).await.unwrap(), 9);
        assert_eq!(entries().await, 1);
    }

    #[test]
    fn response_targets_have_one_bound() {
        assert_eq!(hours_to_minutes("0.5"), 30);
        assert_eq!(hours_to_minutes("soon"), 0);
        assert_eq!(check_target(30, "target").unwrap(), 30);
        for minutes in [0, -5, MAX_TARGET_MINUTES + 1] {
            assert!(check_target(minutes, "target").is_err());
        }
    }
}
