//! Taking a file: may this member upload, is the file what this site takes (from its bytes), is
//! it within the limits; images decoded and re-encoded off the async runtime; the file kept once
//! per content hash and the upload recorded in one write, its allowance counted in it.
use super::*;

/// Checks the file's name and size, what it is, whether this site takes it.
pub(super) fn check_file(
    incoming: &Incoming,
    rules: &UploadRules,
) -> Result<(String, Kind), AppError> {
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
            kind.describe()
        )));
    }
    Ok((name, kind))
}

/// Images decoded at once: each takes tens of megabytes while it is worked on, so a burst of
/// uploads waits its turn instead of growing the process.
pub(super) fn image_slots() -> &'static Arc<tokio::sync::Semaphore> {
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
    let busy =
        || AppError::Busy("The site is busy processing images; try again in a moment.".into());
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
pub(super) fn give_back_memory() {
    // SAFETY: malloc_trim only returns free heap memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(super) fn give_back_memory() {}

pub(super) fn limits_for(rules: &UploadRules) -> Limits {
    Limits {
        max_side: rules.max_side,
        allow_animation: rules.keep_animation,
        ..Limits::default()
    }
}

/// Keeps `bytes` (already checked as `kind`) in the store under their hash, once: a file the
/// site already has is not processed again.
pub(super) async fn keep_file(
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
            .put(
                &key(hash, Variant::Main),
                Bytes::from(processed.main.clone()),
            )
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
pub(super) async fn insert_file(
    conn: &impl ConnectionTrait,
    row: file::ActiveModel,
) -> Result<(), AppError> {
    file::Entity::insert(row)
        .on_conflict_do_nothing_on([file::Column::Hash])
        .exec(conn)
        .await?;
    Ok(())
}

/// Bytes `member` uploaded in the last 24 hours.
pub(super) async fn uploaded_today(
    conn: &impl ConnectionTrait,
    member_id: i64,
) -> Result<u64, AppError> {
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

pub(super) fn check_allowance(
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
    // One upload at a time per member in this process: the allowance checked before the work
    // then sees the uploads before it, so parallel requests cannot each pass it and leave their
    // files behind when the final check refuses them (and one member cannot take every image
    // slot).
    let turn = member_turn(member.id);
    let _turn = turn.lock().await;
    let (name, kind) = check_file(&incoming, &rules)?;
    if purpose != Purpose::Post && !kind.is_image() {
        let what = if purpose == Purpose::Avatar {
            "An avatar"
        } else {
            "A logo or favicon"
        };
        return Err(AppError::invalid(
            "file",
            format!("{what} must be a PNG, JPEG, GIF or WebP image."),
        ));
    }
    let size = incoming.bytes.len() as u64;
    // Refused early, before the work; counted again below, inside the write.
    check_allowance(member, &rules, uploaded_today(db, member.id).await?, size)?;
    let file = match purpose {
        Purpose::Post | Purpose::Brand => {
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
pub(super) async fn keep_avatar(
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

/// Each member's turn to upload (see `accept`); entries nobody holds are dropped as others come.
fn member_turn(member_id: i64) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    > = std::sync::OnceLock::new();
    let mut turns = TURNS.get_or_init(Default::default).lock().unwrap();
    turns.retain(|_, t| Arc::strong_count(t) > 1);
    turns.entry(member_id).or_default().clone()
}
