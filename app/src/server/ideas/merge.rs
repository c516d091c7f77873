//! Merging a duplicate idea into its original: votes move (one per member: a member who voted
//! for both keeps one vote, counted if either was), followers follow the original too, the
//! duplicate is closed and locked with a link to the original, and its author, voters and
//! followers are told.
use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};

use crate::{
    error::AppError,
    model::{Role, TopicStatus},
    server::{
        auth::require_role,
        db::{begin_write, numbered},
        entity::{category, topic, user},
        notify, posting,
        records::{topic_events, votes},
        visibility,
    },
};

pub const MERGE_SELF: &str = "An idea can't be merged into itself.";
pub const MERGE_NOT_IDEA: &str = "Only ideas can be merged, and only into another idea.";
pub const MERGE_ALREADY: &str = "This idea was already merged into another one.";
pub const MERGE_CYCLE: &str =
    "That idea was merged into this one; merging back would make a circle.";
pub const MERGE_HIDDEN: &str = "That idea is hidden from the public (held for review or removed): merge into a published idea.";
pub const MAX_NOTE_CHARS: usize = 1000;

/// The longest chain of merges followed to find the original.
const MAX_CHAIN: usize = 50;

/// Staff merge the idea `duplicate_id` into `original_id` (or into the idea that one was merged
/// into, following the chain). Gives the original.
pub async fn merge(
    db: &DatabaseConnection,
    actor: &user::Model,
    duplicate_id: i64,
    original_id: i64,
    note: &str,
) -> Result<topic::Model, AppError> {
    require_role(Some(actor.role()), Role::Staff)?;
    let note = crate::server::invisible::trimmed_or_nothing(note);
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::invalid(
            "note",
            format!("Notes can be at most {MAX_NOTE_CHARS} characters."),
        ));
    }
    let txn = begin_write(db).await?;
    // Both locked, in id order, so two merges of the same pair wait rather than cross.
    let (low, high) = (duplicate_id.min(original_id), duplicate_id.max(original_id));
    crate::server::records::topics::locked(&txn, low).await?;
    crate::server::records::topics::locked(&txn, high).await?;
    let duplicate = visibility::topic(&txn, duplicate_id, Some(actor)).await?;
    let mut original = visibility::topic(&txn, original_id, Some(actor))
        .await
        .map_err(|_| AppError::invalid("original", visibility::TOPIC_MISSING))?;
    if duplicate.merged_into_id.is_some() {
        return Err(AppError::invalid("original", MERGE_ALREADY));
    }
    for _ in 0..MAX_CHAIN {
        let Some(next) = original.merged_into_id else {
            break;
        };
        // Each idea along the chain is looked at as the one named: one out of the actor's
        // sight is not found.
        original = visibility::topic(&txn, next, Some(actor))
            .await
            .map_err(|_| AppError::invalid("original", visibility::TOPIC_MISSING))?;
    }
    if original.merged_into_id.is_some() {
        return Err(AppError::invalid("original", MERGE_CYCLE));
    }
    // Votes go where everyone can see them: not into an idea held for review or removed.
    if !original.visible {
        return Err(AppError::invalid("original", MERGE_HIDDEN));
    }
    if original.id != original_id {
        crate::server::records::topics::locked(&txn, original.id).await?;
    }
    if original.id == duplicate.id {
        return Err(AppError::invalid(
            "original",
            if original_id == duplicate_id {
                MERGE_SELF
            } else {
                MERGE_CYCLE
            },
        ));
    }
    for t in [&duplicate, &original] {
        let c = category::Entity::find_by_id(t.category_id)
            .one(&txn)
            .await?;
        if !c.as_ref().is_some_and(votes::is_ideas) {
            return Err(AppError::invalid("original", MERGE_NOT_IDEA));
        }
    }
    move_votes_and_followers(&txn, duplicate.id, original.id).await?;
    let now = Utc::now();
    topic::Entity::update_many()
        .col_expr(topic::Column::MergedIntoId, Expr::value(original.id))
        .col_expr(
            topic::Column::Status,
            Expr::value(TopicStatus::Closed.as_str()),
        )
        .col_expr(topic::Column::StatusChangedAt, Expr::value(now))
        .col_expr(topic::Column::Locked, Expr::value(true))
        .filter(topic::Column::Id.eq(duplicate.id))
        .exec(&txn)
        .await?;
    // Duplicates merged into this one earlier point at the end of the chain now, so their
    // pages and search lead straight to the idea that takes the votes.
    topic::Entity::update_many()
        .col_expr(topic::Column::MergedIntoId, Expr::value(original.id))
        .filter(topic::Column::MergedIntoId.eq(duplicate.id))
        .exec(&txn)
        .await?;
    topic_events::record(
        &txn,
        duplicate.id,
        Some(actor.id),
        topic_events::MERGED,
        &original.id.to_string(),
        note,
        false,
    )
    .await?;
    votes::recount_all(&txn, [duplicate.id, original.id]).await?;
    // Closed: it no longer waits for staff.
    let closed = posting::settle(&txn, duplicate.id).await?;
    let original = posting::settle(&txn, original.id).await?;
    let change = notify::Change::Merged {
        into_title: original.title.clone(),
        link: crate::model::topic_url(original.id, &original.slug, 1),
    };
    notify::topic_changed(&txn, &closed, actor, change).await?;
    txn.commit().await?;
    Ok(original)
}

/// Copies the duplicate's votes to the original, one per member, and marks them moved on the
/// duplicate (so its voters can still be told); its followers follow the original too.
async fn move_votes_and_followers(
    txn: &impl ConnectionTrait,
    from: i64,
    to: i64,
) -> Result<(), AppError> {
    let backend = txn.get_database_backend();
    let run = |sql: &str| numbered(backend, sql, vec![from.into(), to.into()]);
    // A member who voted for both keeps the original's vote, counted if either was.
    txn.execute_raw(run(
        "UPDATE votes SET state = 'counted', held_reason = '', review_item_id = NULL
          WHERE topic_id = $2 AND state = 'pending'
            AND user_id IN (SELECT user_id FROM votes WHERE topic_id = $1 AND state = 'counted')",
    ))
    .await?;
    txn.execute_raw(run(
        "INSERT INTO votes (topic_id, user_id, created_at, state, held_reason, review_item_id,
                            client_address, client_range)
         SELECT $2, v.user_id, v.created_at, v.state, v.held_reason, v.review_item_id,
                v.client_address, v.client_range
           FROM votes v
          WHERE v.topic_id = $1 AND v.state IN ('counted', 'pending')
            AND NOT EXISTS (SELECT 1 FROM votes w WHERE w.topic_id = $2 AND w.user_id = v.user_id)",
    ))
    .await?;
    txn.execute_raw(run(
        "UPDATE votes SET state = 'merged' WHERE topic_id = $1 AND state IN ('counted', 'pending')",
    ))
    .await?;
    txn.execute_raw(numbered(
        backend,
        "INSERT INTO topic_follows (user_id, topic_id, level, created_at)
         SELECT f.user_id, $2, 'following', $3 FROM topic_follows f
          WHERE f.topic_id = $1 AND f.level = 'following'
            AND NOT EXISTS (SELECT 1 FROM topic_follows g
                             WHERE g.topic_id = $2 AND g.user_id = f.user_id)",
        vec![from.into(), to.into(), Utc::now().into()],
    ))
    .await?;
    Ok(())
}
