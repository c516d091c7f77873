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
pub mod proxy;
pub mod store;

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

pub const SIGNED_OUT: &str = "Log in to upload files.";
pub const TOO_MANY_FILES: &str = "That's too many files at once: upload at most 10 at a time.";
pub const EMPTY: &str = "That file is empty (0 bytes). Choose the file again, or another one.";
pub const NEW_MEMBERS_OFF: &str = "New members can't upload files yet. Once a few of your posts are up, you can attach screenshots and files.";
pub const NOT_FOUND: &str = "There is no such file. It may have been removed.";

/// What kind of upload: a file for posts, or the member's avatar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Post,
    Avatar,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Post => "post",
            Purpose::Avatar => "avatar",
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

/// Checks the file's name and size, what it is, whether this site takes it.
fn check_file(incoming: &Incoming, rules: &UploadRules) -> Result<(String, Kind), AppError> {
    let bad = |m: String| AppError::invalid("file", m);
    let name = detect::clean_file_name(&incoming.name).map_err(|e| bad(e.to_string()))?;
    if incoming.bytes.is_empty() {
        return Err(bad(format!("“{name}”: {EMPTY}")));
    }
    let size = incoming.bytes.len() as u64;
    if size > rules.max_file_bytes {
        return Err(bad(format!(
            "“{name}” is {}; files can be at most {} here.",
            human_size(size),
            human_size(rules.max_file_bytes)
        )));
    }
    let accepted = || {
        let mut kinds = vec!["PNG, JPEG, GIF and WebP images".to_string()];
        if !rules.file_extensions.is_empty() {
            kinds.push(format!(".{} files", rules.file_extensions.join(", .")));
        }
        kinds.join(" and ")
    };
    let Some(kind) = detect::detect(&incoming.bytes) else {
        let what = detect::describe(&incoming.bytes).unwrap_or("a kind of file");
        return Err(bad(format!(
            "“{name}” is {what} this site doesn't take. You can upload {}.",
            accepted()
        )));
    };
    if kind.is_image() {
        return Ok((name, kind));
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !rules.file_extensions.contains(&extension) {
        return Err(bad(format!(
            "“{name}”: this site doesn't take {} files. You can upload {}.",
            if extension.is_empty() {
                "such".to_string()
            } else {
                format!(".{extension}")
            },
            accepted()
        )));
    }
    if detect::kind_for_extension(&extension) != Some(kind) {
        return Err(bad(format!(
            "“{name}” is named .{extension} but its contents are {}. Upload it under its right name.",
            kind_phrase(kind)
        )));
    }
    Ok((name, kind))
}

fn kind_phrase(kind: Kind) -> &'static str {
    match kind {
        Kind::Png => "a PNG image",
        Kind::Jpeg => "a JPEG image",
        Kind::Gif => "a GIF image",
        Kind::Webp => "a WebP image",
        Kind::Pdf => "a PDF document",
        Kind::Zip => "a ZIP archive",
        Kind::Text => "plain text",
    }
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

/// Images decoded at once: each takes tens of megabytes while it is worked on, so a burst of
/// uploads waits its turn instead of growing the process.
fn image_slots() -> &'static Arc<tokio::sync::Semaphore> {
    static SLOTS: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(tokio::sync::Semaphore::new(cores.clamp(1, 4)))
    })
}

/// Runs `work` on the blocking pool in an image slot, within the time bound; after it, memory
/// the decoder took goes back to the system (glibc keeps freed arenas otherwise).
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce(Limits) -> Result<T, ImageError> + Send + 'static,
    mut limits: Limits,
) -> Result<T, AppError> {
    let busy = || AppError::Busy("The site is busy processing images; try again in a moment.".into());
    let slot = tokio::time::timeout(
        Duration::from_secs(SLOT_WAIT_SECONDS),
        image_slots().clone().acquire_owned(),
    )
    .await
    .map_err(|_| busy())?
    .map_err(|_| busy())?;
    limits.deadline = Some(std::time::Instant::now() + Duration::from_secs(IMAGE_SECONDS));
    let job = tokio::task::spawn_blocking(move || {
        let out = work(limits);
        drop(slot);
        give_back_memory();
        out
    });
    match tokio::time::timeout(Duration::from_secs(IMAGE_SECONDS + 5), job).await {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(AppError::invalid("file", e.to_string())),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "image processing panicked");
            Err(AppError::invalid(
                "file",
                "This image could not be read. Save it again as PNG or JPEG and try once more.",
            ))
        }
        Err(_) => Err(AppError::invalid(
            "file",
            "This image took too long to process. Make it smaller and try again.",
        )),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_back_memory() {
    // SAFETY: malloc_trim only returns free heap memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_memory() {}

fn limits_for(rules: &UploadRules) -> Limits {
    Limits {
        max_side: rules.max_side,
        allow_animation: rules.keep_animation,
        ..Limits::default()
    }
}

/// Keeps `bytes` (already checked as `kind`) in the store under their hash, once: a file the
/// site already has is not processed again.
async fn keep_file(
    db: &DatabaseConnection,
    store: &dyn Store,
    hash: &str,
    kind: Kind,
    bytes: Bytes,
    rules: &UploadRules,
) -> Result<file::Model, AppError> {
    if let Some(existing) = file::Entity::find_by_id(hash.to_string()).one(db).await? {
        return Ok(existing);
    }
    let fail = |e: media::store::StoreError| {
        tracing::error!(error = %e, "storing an upload");
        AppError::Internal
    };
    let now = Utc::now();
    let row = if kind.is_image() {
        let processed = off_runtime(
            move |limits| media::image::process(&bytes, &limits),
            limits_for(rules),
        )
        .await?;
        store
            .put(&key(hash, Variant::Main), Bytes::from(processed.main.clone()))
            .await
            .map_err(fail)?;
        store
            .put(&key(hash, Variant::Thumb), Bytes::from(processed.thumb))
            .await
            .map_err(fail)?;
        if let Some(webp) = &processed.webp {
            store
                .put(&key(hash, Variant::Webp), Bytes::from(webp.clone()))
                .await
                .map_err(fail)?;
        }
        file::ActiveModel {
            hash: Set(hash.to_string()),
            kind: Set(kind_name(processed.kind).into()),
            byte_size: Set(processed.main.len() as i64),
            width: Set(Some(processed.width as i32)),
            height: Set(Some(processed.height as i32)),
            animated: Set(processed.animated),
            has_webp: Set(processed.webp.is_some()),
            has_thumb: Set(true),
            created_at: Set(now),
        }
    } else {
        let size = bytes.len() as i64;
        store
            .put(&key(hash, Variant::Main), bytes)
            .await
            .map_err(fail)?;
        file::ActiveModel {
            hash: Set(hash.to_string()),
            kind: Set(kind_name(kind).into()),
            byte_size: Set(size),
            width: Set(None),
            height: Set(None),
            animated: Set(false),
            has_webp: Set(false),
            has_thumb: Set(false),
            created_at: Set(now),
        }
    };
    insert_file(db, row).await?;
    file::Entity::find_by_id(hash.to_string())
        .one(db)
        .await?
        .ok_or(AppError::Internal)
}

/// Two uploads of one new file at once both process it; the second row is the same and left.
async fn insert_file(conn: &impl ConnectionTrait, row: file::ActiveModel) -> Result<(), AppError> {
    file::Entity::insert(row)
        .on_conflict_do_nothing_on([file::Column::Hash])
        .exec(conn)
        .await?;
    Ok(())
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

/// Bytes `member` uploaded in the last 24 hours.
async fn uploaded_today(conn: &impl ConnectionTrait, member_id: i64) -> Result<u64, AppError> {
    let since = Utc::now() - chrono::Duration::hours(24);
    let total: Option<i64> = upload::Entity::find()
        .select_only()
        .column_as(Expr::cust(SUM_OF_SIZES), "total")
        .filter(upload::Column::UserId.eq(member_id))
        .filter(upload::Column::CreatedAt.gt(since))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(total.unwrap_or(0).max(0) as u64)
}

fn check_allowance(
    member: &user::Model,
    rules: &UploadRules,
    today: u64,
    size: u64,
) -> Result<(), AppError> {
    if member.role().is_staff() || rules.daily_bytes == 0 || today + size <= rules.daily_bytes {
        return Ok(());
    }
    Err(AppError::TooMany(format!(
        "You can upload {} a day, and you have uploaded {} in the last 24 hours. Try again tomorrow, or use a smaller file.",
        human_size(rules.daily_bytes),
        human_size(today)
    )))
}

/// Takes one file from `member`: checked, kept, recorded. Nothing is written when it is refused.
pub async fn accept(
    db: &DatabaseConnection,
    store: &dyn Store,
    member: &user::Model,
    incoming: Incoming,
    purpose: Purpose,
) -> Result<Uploaded, AppError> {
    let rules = rules(db).await?;
    check_may_upload(member, &rules)?;
    let (name, kind) = check_file(&incoming, &rules)?;
    if purpose == Purpose::Avatar && !kind.is_image() {
        return Err(AppError::invalid(
            "file",
            "An avatar must be a PNG, JPEG, GIF or WebP image.",
        ));
    }
    let size = incoming.bytes.len() as u64;
    // Refused early, before the work; counted again below, inside the write.
    check_allowance(member, &rules, uploaded_today(db, member.id).await?, size)?;
    let file = match purpose {
        Purpose::Post => {
            let hash = content_hash(&incoming.bytes);
            keep_file(db, store, &hash, kind, incoming.bytes, &rules).await?
        }
        Purpose::Avatar => keep_avatar(db, store, incoming.bytes, &rules).await?,
    };
    let txn = db::begin_write(db).await?;
    db::lock_key(&txn, &format!("uploads:{}", member.id)).await?;
    check_allowance(member, &rules, uploaded_today(&txn, member.id).await?, size)?;
    let row = upload::Entity::insert(upload::ActiveModel {
        user_id: Set(member.id),
        file_hash: Set(file.hash.clone()),
        name: Set(name),
        received_size: Set(size as i64),
        purpose: Set(purpose.as_str().into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    if purpose == Purpose::Avatar {
        user::Entity::update_many()
            .col_expr(user::Column::AvatarUploadId, Expr::value(row.id))
            .filter(user::Column::Id.eq(member.id))
            .exec(&txn)
            .await?;
        // The avatar it replaces is nobody's now: the sweep removes it.
        upload::Entity::delete_many()
            .filter(upload::Column::UserId.eq(member.id))
            .filter(upload::Column::Purpose.eq(Purpose::Avatar.as_str()))
            .filter(upload::Column::Id.ne(row.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(describe(&row, &file))
}

/// An avatar: the centre square in three sizes, kept under the hash of the bytes as uploaded
/// marked as an avatar (the same picture as a post image is a different set of copies).
async fn keep_avatar(
    db: &DatabaseConnection,
    store: &dyn Store,
    bytes: Bytes,
    rules: &UploadRules,
) -> Result<file::Model, AppError> {
    let mut marked = b"avatar:".to_vec();
    marked.extend_from_slice(&bytes);
    let hash = content_hash(&marked);
    if let Some(existing) = file::Entity::find_by_id(hash.clone()).one(db).await? {
        return Ok(existing);
    }
    let sizes = off_runtime(
        move |limits| media::image::avatar(&bytes, &limits),
        limits_for(rules),
    )
    .await?;
    let mut total = 0;
    for (side, image) in sizes {
        total += image.len() as i64;
        store
            .put(&key(&hash, Variant::Avatar(side)), Bytes::from(image))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "storing an avatar");
                AppError::Internal
            })?;
    }
    let largest = media::image::AVATAR_SIZES[2] as i32;
    insert_file(
        db,
        file::ActiveModel {
            hash: Set(hash.clone()),
            kind: Set("webp".into()),
            byte_size: Set(total),
            width: Set(Some(largest)),
            height: Set(Some(largest)),
            animated: Set(false),
            has_webp: Set(false),
            has_thumb: Set(false),
            created_at: Set(Utc::now()),
        },
    )
    .await?;
    file::Entity::find_by_id(hash)
        .one(db)
        .await?
        .ok_or(AppError::Internal)
}

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
        .filter(|c| !matches!(c, '[' | ']' | '\\' | '\n' | '\r' | '`' | '*' | '_' | '<' | '>'))
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

/// Upload ids a text links (`/uploads/<id>/…`), in order, each once.
pub fn referenced_ids(source: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("/uploads/") {
        rest = &rest[at + "/uploads/".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || !rest[digits.len()..].starts_with('/') {
            continue;
        }
        if let Ok(id) = digits.parse::<i64>()
            && !ids.contains(&id)
        {
            ids.push(id);
            if ids.len() == MAX_ATTACHED {
                break;
            }
        }
    }
    ids
}

/// What a post or an article is.
#[derive(Clone, Copy, Debug)]
pub enum User {
    Post(i64),
    Article(i64),
}

/// Records which uploads `text` (by `author`) uses: `author`'s own, the ones it already used,
/// and ones already public (a quote of another post's image); never someone else's unused or
/// hidden file, which linking would otherwise make visible.
pub async fn attach(
    txn: &impl ConnectionTrait,
    by: User,
    author_id: i64,
    text: &str,
) -> Result<(), AppError> {
    let wanted = referenced_ids(text);
    let current: Vec<i64> = match by {
        User::Post(id) => post_upload::Entity::find()
            .select_only()
            .column(post_upload::Column::UploadId)
            .filter(post_upload::Column::PostId.eq(id))
            .into_tuple()
            .all(txn)
            .await?,
        User::Article(id) => article_upload::Entity::find()
            .select_only()
            .column(article_upload::Column::UploadId)
            .filter(article_upload::Column::ArticleId.eq(id))
            .into_tuple()
            .all(txn)
            .await?,
    };
    let mut keep = Vec::new();
    if !wanted.is_empty() {
        let rows = upload::Entity::find()
            .filter(upload::Column::Id.is_in(wanted.clone()))
            .filter(upload::Column::Purpose.eq(Purpose::Post.as_str()))
            .all(txn)
            .await?;
        for row in rows {
            if row.user_id == author_id
                || current.contains(&row.id)
                || publicly_used(txn, row.id).await?
            {
                keep.push(row.id);
            }
        }
    }
    let gone: Vec<i64> = current.iter().copied().filter(|id| !keep.contains(id)).collect();
    let new: Vec<i64> = keep.iter().copied().filter(|id| !current.contains(id)).collect();
    match by {
        User::Post(post_id) => {
            if !gone.is_empty() {
                post_upload::Entity::delete_many()
                    .filter(post_upload::Column::PostId.eq(post_id))
                    .filter(post_upload::Column::UploadId.is_in(gone))
                    .exec(txn)
                    .await?;
            }
            if !new.is_empty() {
                post_upload::Entity::insert_many(new.into_iter().map(|upload_id| {
                    post_upload::ActiveModel {
                        post_id: Set(post_id),
                        upload_id: Set(upload_id),
                    }
                }))
                .on_conflict_do_nothing()
                .exec(txn)
                .await?;
            }
        }
        User::Article(article_id) => {
            if !gone.is_empty() {
                article_upload::Entity::delete_many()
                    .filter(article_upload::Column::ArticleId.eq(article_id))
                    .filter(article_upload::Column::UploadId.is_in(gone))
                    .exec(txn)
                    .await?;
            }
            if !new.is_empty() {
                article_upload::Entity::insert_many(new.into_iter().map(|upload_id| {
                    article_upload::ActiveModel {
                        article_id: Set(article_id),
                        upload_id: Set(upload_id),
                    }
                }))
                .on_conflict_do_nothing()
                .exec(txn)
                .await?;
            }
        }
    }
    Ok(())
}

/// Whether a visitor may see upload `id`: a public post or a published article uses it.
async fn publicly_used(conn: &impl ConnectionTrait, id: i64) -> Result<bool, AppError> {
    let now = Utc::now();
    let in_posts = post::Entity::find()
        .filter(visibility::public_posts(now))
        .filter(
            post::Column::Id.in_subquery(
                Query::select()
                    .column(post_upload::Column::PostId)
                    .from(post_upload::Entity)
                    .and_where(post_upload::Column::UploadId.eq(id))
                    .to_owned(),
            ),
        )
        .count(conn)
        .await?;
    if in_posts > 0 {
        return Ok(true);
    }
    let in_articles = article::Entity::find()
        .filter(visibility::public_articles(now))
        .filter(
            article::Column::Id.in_subquery(
                Query::select()
                    .column(article_upload::Column::ArticleId)
                    .from(article_upload::Entity)
                    .and_where(article_upload::Column::UploadId.eq(id))
                    .to_owned(),
            ),
        )
        .count(conn)
        .await?;
    Ok(in_articles > 0)
}

/// The upload `id` and its file, if `viewer` may see it; "not found" otherwise.
pub async fn visible(
    conn: &impl ConnectionTrait,
    id: i64,
    viewer: Option<&user::Model>,
) -> Result<(upload::Model, file::Model), AppError> {
    let missing = || AppError::NotFound(NOT_FOUND.into());
    let row = upload::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    if !may_see(conn, &row, viewer).await? {
        return Err(missing());
    }
    let file = file::Entity::find_by_id(row.file_hash.clone())
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    Ok((row, file))
}

/// Who may see an upload: everyone an avatar (whose owner is still there); its uploader; whoever
/// may see a post or article that uses it.
pub async fn may_see(
    conn: &impl ConnectionTrait,
    row: &upload::Model,
    viewer: Option<&user::Model>,
) -> Result<bool, AppError> {
    if row.purpose == Purpose::Avatar.as_str() {
        return Ok(true);
    }
    if viewer.is_some_and(|v| v.id == row.user_id) || publicly_used(conn, row.id).await? {
        return Ok(true);
    }
    let Some(viewer) = viewer else {
        return Ok(false);
    };
    let posts: Vec<i64> = post_upload::Entity::find()
        .select_only()
        .column(post_upload::Column::PostId)
        .filter(post_upload::Column::UploadId.eq(row.id))
        .into_tuple()
        .all(conn)
        .await?;
    for post_id in posts {
        match visibility::post(conn, post_id, Some(viewer)).await {
            Ok(_) => return Ok(true),
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let articles: Vec<i64> = article_upload::Entity::find()
        .select_only()
        .column(article_upload::Column::ArticleId)
        .filter(article_upload::Column::UploadId.eq(row.id))
        .into_tuple()
        .all(conn)
        .await?;
    for article_id in articles {
        match visibility::article(conn, article_id, Some(viewer)).await {
            Ok(_) => return Ok(true),
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// The files each of `post_ids` uses, for moderators' review queue (three queries in all).
pub async fn of_posts(
    conn: &impl ConnectionTrait,
    post_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<Uploaded>>, AppError> {
    let mut out: std::collections::HashMap<i64, Vec<Uploaded>> = Default::default();
    if post_ids.is_empty() {
        return Ok(out);
    }
    let links: Vec<(i64, i64)> = post_upload::Entity::find()
        .select_only()
        .column(post_upload::Column::PostId)
        .column(post_upload::Column::UploadId)
        .filter(post_upload::Column::PostId.is_in(post_ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    if links.is_empty() {
        return Ok(out);
    }
    let rows: std::collections::HashMap<i64, upload::Model> = upload::Entity::find()
        .filter(upload::Column::Id.is_in(links.iter().map(|(_, u)| *u)))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let files: std::collections::HashMap<String, file::Model> = file::Entity::find()
        .filter(file::Column::Hash.is_in(rows.values().map(|u| u.file_hash.clone())))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| (f.hash.clone(), f))
        .collect();
    for (post_id, upload_id) in links {
        if let Some(row) = rows.get(&upload_id)
            && let Some(file) = files.get(&row.file_hash)
        {
            out.entry(post_id).or_default().push(describe(row, file));
        }
    }
    Ok(out)
}

/// Bytes a member has uploaded and still has (admins see it on the member page).
pub async fn storage_used(conn: &impl ConnectionTrait, member_id: i64) -> Result<(u64, u64), AppError> {
    let row: Option<(i64, i64)> = upload::Entity::find()
        .select_only()
        .column_as(upload::Column::Id.count(), "n")
        .column_as(Expr::cust(SUM_OF_SIZES), "total")
        .filter(upload::Column::UserId.eq(member_id))
        .into_tuple()
        .one(conn)
        .await?;
    let (n, total) = row.unwrap_or((0, 0));
    Ok((n.max(0) as u64, total.max(0) as u64))
}

/// Removes every upload of a member (a spammer removed): their files answer "not found" at
/// once, and the sweep takes the bytes.
pub async fn remove_all_by(txn: &impl ConnectionTrait, member_id: i64) -> Result<u64, AppError> {
    let ids: Vec<i64> = upload::Entity::find()
        .select_only()
        .column(upload::Column::Id)
        .filter(upload::Column::UserId.eq(member_id))
        .into_tuple()
        .all(txn)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    post_upload::Entity::delete_many()
        .filter(post_upload::Column::UploadId.is_in(ids.clone()))
        .exec(txn)
        .await?;
    article_upload::Entity::delete_many()
        .filter(article_upload::Column::UploadId.is_in(ids.clone()))
        .exec(txn)
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::AvatarUploadId, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(member_id))
        .exec(txn)
        .await?;
    let removed = upload::Entity::delete_many()
        .filter(upload::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    Ok(removed.rows_affected)
}

/// What a sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub uploads: u64,
    pub files: u64,
}

/// Deletes uploads for posts that no post or article took within `UNUSED_HOURS`, then the files
/// nothing holds (no upload, no proxied image) with their stored copies.
pub async fn sweep(db: &DatabaseConnection, store: &dyn Store) -> Result<Swept, AppError> {
    let cutoff = Utc::now() - chrono::Duration::hours(UNUSED_HOURS);
    let mut swept = Swept::default();
    {
        let txn = db::begin_write(db).await?;
        let removed = upload::Entity::delete_many()
            .filter(upload::Column::Purpose.eq(Purpose::Post.as_str()))
            .filter(upload::Column::CreatedAt.lt(cutoff))
            .filter(
                upload::Column::Id.not_in_subquery(
                    Query::select()
                        .column(post_upload::Column::UploadId)
                        .from(post_upload::Entity)
                        .to_owned(),
                ),
            )
            .filter(
                upload::Column::Id.not_in_subquery(
                    Query::select()
                        .column(article_upload::Column::UploadId)
                        .from(article_upload::Entity)
                        .to_owned(),
                ),
            )
            .exec(&txn)
            .await?;
        txn.commit().await?;
        swept.uploads = removed.rows_affected;
    }
    // Files that lost their last holder an hour ago or more (an upload being written right now
    // has its file row a moment before its upload row).
    let orphans: Vec<file::Model> = file::Entity::find()
        .filter(file::Column::CreatedAt.lt(Utc::now() - chrono::Duration::hours(1)))
        .filter(
            file::Column::Hash.not_in_subquery(
                Query::select()
                    .column(upload::Column::FileHash)
                    .from(upload::Entity)
                    .to_owned(),
            ),
        )
        .filter(
            file::Column::Hash.not_in_subquery(
                Query::select()
                    .column(proxied_image::Column::FileHash)
                    .from(proxied_image::Entity)
                    .and_where(proxied_image::Column::FileHash.is_not_null())
                    .to_owned(),
            ),
        )
        .limit(1000)
        .all(db)
        .await?;
    for f in orphans {
        let mut keys = vec![
            key(&f.hash, Variant::Main),
            key(&f.hash, Variant::Webp),
            key(&f.hash, Variant::Thumb),
        ];
        keys.extend(
            media::image::AVATAR_SIZES
                .iter()
                .map(|&s| key(&f.hash, Variant::Avatar(s))),
        );
        for k in keys {
            store.delete(&k).await.map_err(|e| {
                tracing::error!(error = %e, "sweeping a file");
                AppError::Internal
            })?;
        }
        file::Entity::delete_by_id(f.hash.clone()).exec(db).await?;
        swept.files += 1;
    }
    Ok(swept)
}

/// Copies every stored file from one store to another (`backyard uploads migrate --to s3`):
/// each key read from `from` and put in `to`, then checked by reading it back. Files are not
/// deleted from `from`; the operator switches BACKYARD_UPLOADS once it is done.
pub async fn migrate(from: &dyn Store, to: &dyn Store) -> Result<u64, String> {
    let keys = from.keys().await.map_err(|e| e.to_string())?;
    let mut moved = 0;
    for k in keys {
        let Some(bytes) = from.get(&k).await.map_err(|e| e.to_string())? else {
            continue;
        };
        to.put(&k, bytes.clone()).await.map_err(|e| e.to_string())?;
        match to.get(&k).await.map_err(|e| e.to_string())? {
            Some(back) if back == bytes => moved += 1,
            _ => return Err(format!("{k}: the copy read back differs from the original")),
        }
    }
    Ok(moved)
}

/// The stored bytes of a variant.
pub async fn read(
    store: &dyn Store,
    hash: &str,
    variant: Variant,
) -> Result<Option<Bytes>, AppError> {
    store.get(&key(hash, variant)).await.map_err(|e| {
        tracing::error!(error = %e, "reading a stored file");
        AppError::Internal
    })
}

#[cfg(test)]
mod tests;
