//! Files members upload (screenshots, logs, PDFs) and their avatars: who may upload what, how
//! much, where the bytes go, and who may see a file afterwards.
//!
//! 1. `accept`: the uploader may upload (signed in, not suspended, not a new member when the
//!    site says so); the name is checked; the kind comes from the bytes (media::detect), never
//!    the name or the browser's word; images are decoded and re-encoded off the async runtime
//!    (media::image), a few at a time, within a time bound; the file is kept once per content
//!    hash in the store; the daily allowance is counted and the upload written in one write
//!    transaction, so parallel uploads cannot slip past it.
//! 2. `attach`: a post (or article) that links an upload's URL uses it (posting/ and blog call
//!    this in their write); only the author's own uploads, or ones already public, can be used.
//! 3. `may_see`: a file is for whoever may see a post or article that uses it, its uploader, and
//!    (avatars) everyone; anyone else gets "not found", as for no file at all.
//! 4. `sweep`: uploads no post took within a day go, and files no upload or proxied image
//!    holds leave the store.
pub mod avatar;
mod intake;
pub mod proxy;
pub mod store;
mod upkeep;
mod uses;

pub use intake::*;
pub use upkeep::*;
pub use uses::*;

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use bytes::Bytes;
use chrono::Utc;
use media::{
    detect::{self, Kind},
    image::{ImageError, Limits},
    store::Store,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
    sea_query::{Expr, Query},
};

use super::{
    auth, db,
    entity::{article, article_upload, file, post, post_upload, proxied_image, upload, user},
    settings, visibility,
};
use crate::{error::AppError, model::Uploaded};

/// At most this many files in one upload request (the composer sends one at a time; a
/// no-JavaScript form may carry a few).
pub const MAX_FILES_PER_REQUEST: usize = 10;
/// Uploads no post has used after this long are deleted.
pub const UNUSED_HOURS: i64 = 24;
/// How long one image may take to decode, resize and encode.
const IMAGE_SECONDS: u64 = 20;
/// How long an upload waits for a free image slot before the site says it is busy.
const SLOT_WAIT_SECONDS: u64 = 30;
/// Upload URLs one post may use (more are left as plain links).
const MAX_ATTACHED: usize = 100;

/// Set on a request by the router's no-JavaScript file handling (server/src/files.rs) once it
/// has taken a composer form's files: only then is the form's `upload_error` the router's word.
/// Posted by anyone else, it was shown back as the form's error, whatever it said.
#[derive(Clone, Copy, Debug)]
pub struct FilesTaken;

/// The refused file's reason a composer's server function acts on: the router's, never one
/// the form itself sent.
pub fn upload_error_of(sent: Option<String>) -> Option<String> {
    let taken = leptos::prelude::use_context::<axum::http::request::Parts>()
        .is_some_and(|p| p.extensions.get::<FilesTaken>().is_some());
    sent.filter(|e| taken && !e.trim().is_empty())
}

pub const SIGNED_OUT: &str = "Log in to upload files.";
pub const TOO_MANY_FILES: &str = "That's too many files at once: upload at most 10 at a time.";
pub const EMPTY: &str = "That file is empty (0 bytes). Choose the file again, or another one.";
pub const NEW_MEMBERS_OFF: &str = "New members can't upload files yet. Once a few of your posts are up, you can attach screenshots and files.";
pub const NOT_FOUND: &str = "There is no such file. It may have been removed.";

/// What kind of upload: a file for posts, the member's avatar, or an image of the site's brand
/// (a logo or favicon, uploaded by an admin and shown to everyone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Post,
    Avatar,
    Brand,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Post => "post",
            Purpose::Avatar => "avatar",
            Purpose::Brand => "brand",
        }
    }
}

/// The site's upload settings, read once per request.
#[derive(Clone, Debug)]
pub struct UploadRules {
    pub max_file_bytes: u64,
    /// 0: no daily allowance.
    pub daily_bytes: u64,
    /// Non-image kinds admins allow, by the extensions they listed.
    pub file_extensions: Vec<String>,
    pub max_side: u32,
    pub keep_animation: bool,
    pub new_members: NewMembers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewMembers {
    Allow,
    Hold,
    Off,
}

const MB: u64 = 1024 * 1024;

pub async fn rules(conn: &impl ConnectionTrait) -> Result<UploadRules, AppError> {
    let [max_mb, daily_mb, max_side] = settings::numbers(
        conn,
        [
            settings::UPLOAD_MAX_FILE_MB,
            settings::UPLOAD_DAILY_MB,
            settings::UPLOAD_IMAGE_MAX_SIDE,
        ],
    )
    .await?;
    let types = settings::text(conn, settings::UPLOAD_FILE_TYPES).await?;
    let animated = settings::text(conn, settings::UPLOAD_ANIMATED_GIFS).await?;
    let new_members = match settings::text(conn, settings::UPLOAD_NEW_MEMBERS)
        .await?
        .as_str()
    {
        "off" => NewMembers::Off,
        "hold" => NewMembers::Hold,
        _ => NewMembers::Allow,
    };
    Ok(UploadRules {
        max_file_bytes: max_mb.max(1) as u64 * MB,
        daily_bytes: daily_mb.max(0) as u64 * MB,
        file_extensions: file_extensions(&types),
        max_side: max_side.max(1) as u32,
        keep_animation: animated != "refuse",
        new_members,
    })
}

/// "pdf, txt log" as the extensions it lists, lower case, known kinds only.
pub fn file_extensions(setting: &str) -> Vec<String> {
    setting
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|e| detect::kind_for_extension(e).is_some_and(|k| !k.is_image()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// "10 MB", "512 KB", "120 bytes".
pub fn human_size(bytes: u64) -> String {
    crate::format::file_size(bytes.min(i64::MAX as u64) as i64)
}

/// A new member for uploads: as for holding posts, trust level 0 and not staff.
fn is_new_member(member: &user::Model) -> bool {
    !member.role().is_staff() && member.trust_level == 0
}

/// Whether `member` may upload at all now (before any bytes are looked at).
pub fn check_may_upload(member: &user::Model, rules: &UploadRules) -> Result<(), AppError> {
    auth::check_not_suspended(member)?;
    if rules.new_members == NewMembers::Off && is_new_member(member) {
        return Err(AppError::Forbidden(NEW_MEMBERS_OFF.into()));
    }
    Ok(())
}

/// Whether a post by `author` that uses uploads waits for approval (the "hold" setting).
pub async fn holds_post_with_files(
    conn: &impl ConnectionTrait,
    author: &user::Model,
    source: &str,
) -> Result<bool, AppError> {
    if !is_new_member(author) || referenced_ids(source).is_empty() {
        return Ok(false);
    }
    Ok(rules(conn).await?.new_members == NewMembers::Hold)
}

/// A file as received, before any check.
pub struct Incoming {
    pub name: String,
    pub bytes: Bytes,
}

/// SHA-256 of the bytes, in hex.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    super::auth::to_hex(&Sha256::digest(bytes))
}

/// Where a file's copies are kept: `ab/abcdef…` (the first two hex digits spread a directory).
pub fn key(hash: &str, variant: Variant) -> String {
    let base = format!("{}/{hash}", &hash[..2]);
    match variant {
        Variant::Main => base,
        Variant::Webp => format!("{base}.webp"),
        Variant::Thumb => format!("{base}.thumb.webp"),
        Variant::Avatar(size) => format!("{base}.a{size}.webp"),
    }
}

/// A stored copy of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Main,
    Webp,
    Thumb,
    Avatar(u32),
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Png => "png",
        Kind::Jpeg => "jpeg",
        Kind::Gif => "gif",
        Kind::Webp => "webp",
        Kind::Pdf => "pdf",
        Kind::Zip => "zip",
        Kind::Text => "text",
    }
}

pub fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "png" => Kind::Png,
        "jpeg" => Kind::Jpeg,
        "gif" => Kind::Gif,
        "webp" => Kind::Webp,
        "pdf" => Kind::Pdf,
        "zip" => Kind::Zip,
        "text" => Kind::Text,
        _ => return None,
    })
}

/// The bytes of the uploads selected, as a BIGINT on both databases (PostgreSQL's SUM of a
/// BIGINT is NUMERIC) and 0 for none.
const SUM_OF_SIZES: &str = "CAST(COALESCE(SUM(uploads.received_size), 0) AS BIGINT)";

/// The name as it goes in a URL: letters, digits, `.`, `-` and `_`; the rest become `-`.
pub fn url_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(80);
    let out = out.trim_matches(['-', '.']).to_string();
    if out.is_empty() { "file".into() } else { out }
}

pub fn url_of(id: i64, name: &str) -> String {
    format!("/uploads/{id}/{}", url_name(name))
}

pub fn thumb_url_of(id: i64, name: &str) -> String {
    format!("/uploads/{id}/thumb/{}", url_name(name))
}

pub fn avatar_url(upload_id: i64, size: u32) -> String {
    format!("/uploads/{upload_id}/avatar/{size}")
}

/// Markdown text inside [] or ![]: brackets and backslashes would end or escape it.
fn markdown_label(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(
                c,
                '[' | ']' | '\\' | '\n' | '\r' | '`' | '*' | '_' | '<' | '>'
            )
        })
        .collect::<String>()
        .trim()
        .to_string()
}

pub fn describe(row: &upload::Model, file: &file::Model) -> Uploaded {
    let url = url_of(row.id, &row.name);
    let image = kind_of(&file.kind).is_some_and(Kind::is_image);
    let markdown = if image {
        let alt = row
            .name
            .rsplit_once('.')
            .map_or(row.name.as_str(), |(stem, _)| stem);
        format!("![{}]({url})", markdown_label(alt))
    } else {
        format!(
            "[{} ({})]({url})",
            markdown_label(&row.name),
            human_size(row.received_size as u64)
        )
    };
    Uploaded {
        id: row.id,
        name: row.name.clone(),
        url,
        markdown,
        is_image: image,
        size: row.received_size,
        width: file.width,
        height: file.height,
    }
}

#[cfg(test)]
mod tests;
