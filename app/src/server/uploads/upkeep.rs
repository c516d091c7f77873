//! Keeping the store tidy: storage per member, a removed member's files, the sweep of unused
//! uploads and orphaned files, moving files between stores, reading a stored copy.
use super::*;

/// Bytes a member has uploaded and still has (admins see it on the member page).
pub async fn storage_used(
    conn: &impl ConnectionTrait,
    member_id: i64,
) -> Result<(u64, u64), AppError> {
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
        .col_expr(
            user::Column::AvatarUploadId,
            Expr::value(Option::<i64>::None),
        )
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
