//! One moderator's action on several review items at once (the review queue's bulk bar), and
//! the question a bulk delete asks first.
use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::actions::{PostAction, apply, check_reason, decidable};
use crate::server::{
    auth::require_role,
    db::begin_write,
    entity::{review_item, user},
};
use crate::{
    error::AppError,
    model::{Confirmation, Role},
};

pub const NOTHING_SELECTED: &str = "Select at least one item.";

pub use crate::model::MOST_SELECTED;
pub const TOO_MANY_SELECTED: &str = "Select at most 200 items at once.";

/// What one action on several review items did.
#[derive(Debug, PartialEq, Eq)]
pub struct BulkDone {
    /// Posts the action was taken on.
    pub acted: usize,
    /// Selected items left as they were: decided by another moderator meanwhile, on a post the
    /// action does not apply to (hiding a hidden one), or one this moderator may not decide
    /// (their own, an admin's).
    pub left: usize,
}

/// One action on several review items at once: taken on every item's post it applies to, the
/// rest left as they were and counted. A moderator who selects twenty spam posts is not
/// refused all of them because another moderator decided one a moment before. Refused as a
/// whole only when it applies to none of them (with the first one's reason), and then nothing
/// is written. Deleting asks first (`bulk_delete_confirmation`), as a single delete does.
pub async fn bulk(
    db: &DatabaseConnection,
    moderator: &user::Model,
    item_ids: &[i64],
    action: PostAction,
    reason: &str,
) -> Result<BulkDone, AppError> {
    let selected = check_selection(moderator, item_ids)?;
    let reason = check_reason(action, reason)?;
    let txn = begin_write(db).await?;
    let items = selected_items(&txn, &selected).await?;
    // Each post once: acting on it decides every open item of it.
    let mut acted = HashSet::new();
    let mut refused = None;
    for &(item, post_id, _) in &items {
        if acted.contains(&post_id) {
            continue;
        }
        match decidable(&txn, moderator, post_id, Some(item), action).await {
            Ok(p) => {
                apply(&txn, moderator, &p, action, &reason).await?;
                acted.insert(post_id);
            }
            Err(e) if is_refusal(&e) => {
                refused.get_or_insert(about_selection(e));
            }
            Err(e) => return Err(e),
        }
    }
    if acted.is_empty() {
        // Nothing written: the transaction is dropped, so rolled back.
        return Err(refused.unwrap_or_else(|| AppError::invalid("items", NOTHING_SELECTED)));
    }
    txn.commit().await?;
    Ok(BulkDone {
        acted: acted.len(),
        left: selected.len() - decided(&items, &acted),
    })
}

/// The confirmation page's words for deleting the posts of the selected review items, which a
/// bulk delete without JavaScript asks first: how many posts it deletes, as things are now.
/// Refused as the delete itself would be (nothing to delete, the reason missing, no right).
pub async fn bulk_delete_confirmation(
    db: &DatabaseConnection,
    moderator: &user::Model,
    item_ids: &[i64],
    reason: &str,
) -> Result<Confirmation, AppError> {
    let selected = check_selection(moderator, item_ids)?;
    let reason = check_reason(PostAction::Delete, reason)?;
    let items = selected_items(db, &selected).await?;
    let mut posts = HashSet::new();
    let mut refused = None;
    for &(item, post_id, _) in &items {
        if posts.contains(&post_id) {
            continue;
        }
        match decidable(db, moderator, post_id, Some(item), PostAction::Delete).await {
            Ok(_) => {
                posts.insert(post_id);
            }
            Err(e) if is_refusal(&e) => {
                refused.get_or_insert(about_selection(e));
            }
            Err(e) => return Err(e),
        }
    }
    if posts.is_empty() {
        return Err(refused.unwrap_or_else(|| AppError::invalid("items", NOTHING_SELECTED)));
    }
    let n = posts.len() as i64;
    let mut details = vec![if n == 1 {
        "Readers no longer see it. Its author sees the reason; a moderator can restore it."
            .to_string()
    } else {
        "Readers no longer see them. Their authors see the reason; a moderator can restore them."
            .to_string()
    }];
    let left = selected.len() - decided(&items, &posts);
    if left > 0 {
        details.push(format!(
            "{} left as they are: decided by another moderator, or not yours to decide.",
            crate::format::count(left as i64, "selected item is", "selected items are")
        ));
    }
    details.push(format!("Reason: {reason}"));
    let mut fields = vec![
        (
            "action".to_string(),
            PostAction::Delete.as_str().to_string(),
        ),
        ("reason".to_string(), reason),
    ];
    let mut ids: Vec<i64> = selected.into_iter().collect();
    ids.sort_unstable();
    fields.extend(
        ids.into_iter()
            .map(|id| ("items[]".to_string(), id.to_string())),
    );
    Ok(Confirmation {
        title: format!("Delete {}?", crate::format::count(n, "post", "posts")),
        details,
        endpoint: String::new(),
        fields,
        button: if n == 1 {
            "Delete the post".into()
        } else {
            "Delete the posts".into()
        },
    })
}

/// The distinct items of a bulk action, refused when there are none or too many, or when the
/// caller does not moderate.
fn check_selection(moderator: &user::Model, item_ids: &[i64]) -> Result<HashSet<i64>, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let selected: HashSet<i64> = item_ids.iter().copied().collect();
    if selected.is_empty() {
        return Err(AppError::invalid("items", NOTHING_SELECTED));
    }
    if selected.len() > MOST_SELECTED {
        return Err(AppError::invalid("items", TOO_MANY_SELECTED));
    }
    Ok(selected)
}

/// The selected review items (a burst of votes apart: it is accepted or rejected on its own,
/// not by an action on the idea), as (id, post, open), in the order they came in.
async fn selected_items(
    conn: &impl ConnectionTrait,
    selected: &HashSet<i64>,
) -> Result<Vec<(i64, i64, bool)>, AppError> {
    let items: Vec<(i64, i64, String)> = review_item::Entity::find()
        .select_only()
        .column(review_item::Column::Id)
        .column(review_item::Column::PostId)
        .column(review_item::Column::State)
        .filter(review_item::Column::Id.is_in(selected.iter().copied()))
        .filter(review_item::Column::Kind.ne(crate::server::records::review_items::VOTE_BURST))
        .order_by_asc(review_item::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    if items.is_empty() {
        return Err(AppError::invalid("items", NOTHING_SELECTED));
    }
    Ok(items
        .into_iter()
        .map(|(id, post, state)| (id, post, state == "open"))
        .collect())
}

/// The selected items an action on `posts` decides: the open ones of those posts (acting on a
/// post decides every open item of it).
fn decided(items: &[(i64, i64, bool)], posts: &HashSet<i64>) -> usize {
    items
        .iter()
        .filter(|(_, post, open)| *open && posts.contains(post))
        .count()
}

/// A refusal of one selected item's action, said of the selection: the bar's action and reason
/// are not what is wrong (an item decided meanwhile, a post not the moderator's to decide).
fn about_selection(e: AppError) -> AppError {
    match e {
        AppError::Invalid { message, .. } => AppError::Invalid {
            field: "items".into(),
            message,
        },
        other => other,
    }
}

/// A refusal of one item's action, which `decidable` gives before anything is written.
fn is_refusal(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid { .. } | AppError::NotFound(_) | AppError::Forbidden(_)
    )
}
