//! Which posts and articles use which uploads, and so who may see a file.
use super::*;

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
        User::Post(id) => {
            post_upload::Entity::find()
                .select_only()
                .column(post_upload::Column::UploadId)
                .filter(post_upload::Column::PostId.eq(id))
                .into_tuple()
                .all(txn)
                .await?
        }
        User::Article(id) => {
            article_upload::Entity::find()
                .select_only()
                .column(article_upload::Column::UploadId)
                .filter(article_upload::Column::ArticleId.eq(id))
                .into_tuple()
                .all(txn)
                .await?
        }
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
                || publicly_used(txn, &row).await?
            {
                keep.push(row.id);
            }
        }
    }
    let gone: Vec<i64> = current
        .iter()
        .copied()
        .filter(|id| !keep.contains(id))
        .collect();
    let new: Vec<i64> = keep
        .iter()
        .copied()
        .filter(|id| !current.contains(id))
        .collect();
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

/// Whether a visitor may see an upload: a public post of its uploader's, or a published article,
/// uses it. Only the uploader's own posts count: another member's quote or link shows the file
/// while the uploader's post is visible, so a moderator hiding that one post takes the file down
/// everywhere (nobody can keep an image up by linking it again).
pub(super) async fn publicly_used(
    conn: &impl ConnectionTrait,
    row: &upload::Model,
) -> Result<bool, AppError> {
    let id = row.id;
    let now = Utc::now();
    let in_posts = post::Entity::find()
        .filter(visibility::public_posts(now))
        .filter(post::Column::AuthorId.eq(row.user_id))
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
    // The uploader's own articles, as with posts: a staff member's article quoting a
    // member's screenshot shows it only while the member's post does.
    let in_articles = article::Entity::find()
        .filter(visibility::public_articles(now))
        .filter(article::Column::AuthorId.eq(row.user_id))
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

/// Who may see an upload: everyone an avatar (whose owner is still there) or the site's logo and
/// favicon; its uploader; whoever may see a post or article that uses it.
pub async fn may_see(
    conn: &impl ConnectionTrait,
    row: &upload::Model,
    viewer: Option<&user::Model>,
) -> Result<bool, AppError> {
    if row.purpose == Purpose::Avatar.as_str() || row.purpose == Purpose::Brand.as_str() {
        return Ok(true);
    }
    if viewer.is_some_and(|v| v.id == row.user_id) || publicly_used(conn, row).await? {
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
            // As for visitors: the uploader's own posts decide.
            Ok((p, _)) if p.author_id == row.user_id => return Ok(true),
            Ok(_) => {}
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
            Ok(a) if a.author_id == row.user_id => return Ok(true),
            Ok(_) => {}
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
