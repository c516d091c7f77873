//! The confirmation page's read model: what a destructive action will do, in words, for the
//! person about to do it. The same checks as the action itself run first, so a member without
//! the right learns nothing here (not even whose account or which post it is).
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{
    error::AppError,
    model::{Confirmation, PostState, Role},
    server::{
        auth::{check_may_act_on, require_role},
        entity::{post, topic, user},
        html_text,
        records::users::{check_may_act_on_author, is_deleted, member},
    },
};

/// The actions that ask first, by the name the confirmation page's URL gives them.
pub const DELETE_ACCOUNT: &str = "delete_account";
pub const REMOVE_SPAMMER: &str = "remove_spammer";
pub const DELETE_POST: &str = "delete_post";
/// The review queue's bulk delete: its items go as the URL's `option`, their ids joined by
/// commas. Told by `moderation::bulk_delete_confirmation` (a feature, which this layer does not
/// import), through `api::confirm`.
pub const DELETE_POSTS: &str = "delete_posts";

const UNKNOWN: &str = "There is nothing to confirm here: go back and try again.";

/// What `action` on `id` will do, with the form's fields (the server function's URL, which
/// this layer does not know, is the caller's to fill in). `option` is the action's choice
/// (keep or remove posts), `reason` what the moderator wrote; both are posted back as chosen.
pub async fn describe(
    db: &DatabaseConnection,
    viewer: &user::Model,
    action: &str,
    id: i64,
    option: &str,
    reason: &str,
) -> Result<Confirmation, AppError> {
    match action {
        DELETE_ACCOUNT => {
            require_role(Some(viewer.role()), Role::Admin)?;
            let target = live_member(db, id).await?;
            let posts = count_posts(db, target.id).await?;
            let remove = match option {
                "remove" => true,
                "keep" => false,
                _ => {
                    return Err(AppError::invalid(
                        "posts",
                        "Choose whether to keep their posts or remove them.",
                    ));
                }
            };
            let fate = if posts == 0 {
                "They have written no posts.".to_string()
            } else if remove {
                format!(
                    "Their {} removed, and their votes and files with them.",
                    posts_are(posts)
                )
            } else {
                format!("Their {} kept, signed “deleted user”.", posts_are(posts))
            };
            Ok(Confirmation {
                title: format!("Delete the account of {}?", target.username),
                details: vec![
                    fate,
                    "Their name, e-mail address, password and settings are erased and they are logged out everywhere. This cannot be undone.".into(),
                ],
                endpoint: String::new(),
                fields: vec![
                    ("user_id".into(), target.id.to_string()),
                    ("posts".into(), option.to_string()),
                ],
                button: "Delete the account".into(),
            })
        }
        REMOVE_SPAMMER => {
            require_role(Some(viewer.role()), Role::Moderator)?;
            let target = live_member(db, id).await?;
            check_may_act_on(viewer, &target)?;
            let posts = count_posts(db, target.id).await?;
            Ok(Confirmation {
                title: format!("Remove {} as a spammer?", target.username),
                details: vec![
                    if posts == 0 {
                        "They have written no posts; their votes and files go.".to_string()
                    } else {
                        format!(
                            "Their {} deleted, with their votes and files.",
                            posts_are(posts)
                        )
                    },
                    "They are suspended for good and logged out. The moderation log records it."
                        .into(),
                ],
                endpoint: String::new(),
                fields: vec![
                    ("user_id".into(), target.id.to_string()),
                    (
                        "reason".into(),
                        if reason.is_empty() {
                            "Spam".into()
                        } else {
                            reason.to_string()
                        },
                    ),
                ],
                button: "Remove the spammer".into(),
            })
        }
        DELETE_POST => {
            require_role(Some(viewer.role()), Role::Moderator)?;
            let p = post::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|p| PostState::parse(&p.state) != PostState::Deleted)
                .ok_or_else(|| AppError::NotFound("There is no such post.".into()))?;
            check_may_act_on_author(db, viewer, p.author_id).await?;
            let author = member(db, p.author_id).await?;
            let title = topic::Entity::find_by_id(p.topic_id)
                .one(db)
                .await?
                .map(|t| t.title)
                .unwrap_or_default();
            let mut details = vec![
                format!(
                    "Post #{} by {} in “{}”:",
                    p.post_number, author.display_name, title
                ),
                html_text::excerpt(&p.html, 200),
            ];
            details.push(if p.post_number == 1 {
                "It opens the topic: the whole topic goes from public view with it. Its author sees the reason; a moderator can restore it.".into()
            } else {
                "Readers no longer see it. Its author sees the reason; a moderator can restore it.".into()
            });
            if !reason.is_empty() {
                details.push(format!("Reason: {reason}"));
            }
            Ok(Confirmation {
                title: "Delete this post?".into(),
                details,
                endpoint: String::new(),
                fields: [
                    ("post_id".into(), p.id.to_string()),
                    ("action".into(), "delete".into()),
                    ("reason".into(), reason.to_string()),
                ]
                .into_iter()
                // From the review queue (`option`): the item the delete decides, which must
                // still be open when it is confirmed (`moderation::act_on_item`).
                .chain(
                    option
                        .parse::<i64>()
                        .ok()
                        .map(|item| ("item".into(), item.to_string())),
                )
                .collect(),
                button: "Delete the post".into(),
            })
        }
        _ => Err(AppError::NotFound(UNKNOWN.into())),
    }
}

/// A member not yet deleted: a deleted account has nothing left to delete or remove.
async fn live_member(db: &DatabaseConnection, id: i64) -> Result<user::Model, AppError> {
    let target = member(db, id).await?;
    if is_deleted(&target) {
        return Err(AppError::NotFound(
            "That account was already deleted.".into(),
        ));
    }
    Ok(target)
}

async fn count_posts(db: &DatabaseConnection, author: i64) -> Result<u64, AppError> {
    Ok(post::Entity::find()
        .filter(post::Column::AuthorId.eq(author))
        .filter(post::Column::State.ne(PostState::Deleted.as_str()))
        .count(db)
        .await?)
}

fn posts_are(n: u64) -> String {
    crate::format::count(n as i64, "post is", "posts are")
}
