//! Admins' categories: create, edit, reorder, archive; a renamed one keeps its old address.
use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};

use super::log;
use crate::server::{
    auth::require_role,
    db::begin_write,
    entity::{category, category_slug, topic, user},
    posting,
    records::topic_events,
    settings,
};
use crate::{error::AppError, model::Role};

pub const NAME_EMPTY: &str = "Give the category a name.";

pub const COLOUR_INVALID: &str = "Give the colour as # and six hex digits, like #3b6ea5.";

pub const SLUG_SHAPE: &str =
    "Use lower-case letters, digits and dashes for the address, like product-feedback.";

pub const CATEGORY_MISSING: &str = "There is no such category.";

/// The longest address a category may have.
const MAX_SLUG: usize = 64;

/// The category form's fields.
#[derive(Clone, Debug, Default)]
pub struct CategoryInput {
    pub name: String,
    /// Empty: made from the name.
    pub slug: String,
    pub description: String,
    pub colour: String,
    /// Hours to the first staff reply; fractions allowed.
    pub target_hours: String,
    pub customers_may_start: bool,
    /// forum (also when empty) | ideas: an ideas category's topics are voted on.
    pub kind: String,
}

pub const KIND_UNKNOWN: &str = "Choose forum or ideas as the kind of category.";

struct Checked {
    kind: &'static str,
    name: String,
    slug: String,
    description: String,
    colour: String,
    target_minutes: i32,
    /// The slug was typed (refused when taken), not made from the name (made free when taken).
    slug_typed: bool,
}

fn check(input: &CategoryInput) -> Result<Checked, AppError> {
    // No direction overrides, as in every name members type: one reversed the site's name
    // after a category's in the browser's tab.
    let name = crate::server::content::strip_direction_overrides(&input.name);
    let name = name.trim();
    if crate::server::invisible::is_blank(name) {
        return Err(AppError::invalid("name", NAME_EMPTY));
    }
    if name.chars().count() > 64 {
        return Err(AppError::invalid(
            "name",
            "Names can be at most 64 characters.",
        ));
    }
    let typed = input.slug.trim().to_ascii_lowercase();
    let slug_typed = !typed.is_empty();
    let slug = match typed {
        // A name without a Latin letter or digit ("Общее", "質問") has no words for an address.
        // Room left for a number after it when it is taken ("-12").
        s if s.is_empty() => {
            let words = crate::server::slug_text::ascii_words(name);
            if words.is_empty() {
                "category".to_string()
            } else {
                crate::server::records::topics::slug_of(words, MAX_SLUG - 4)
            }
        }
        s => s,
    };
    let shaped = slug.len() <= MAX_SLUG
        && !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !shaped {
        return Err(AppError::invalid("slug", SLUG_SHAPE));
    }
    let description = crate::server::content::strip_direction_overrides(&input.description);
    let description = description.trim();
    if description.chars().count() > 500 {
        return Err(AppError::invalid(
            "description",
            "Descriptions can be at most 500 characters.",
        ));
    }
    let colour = input.colour.trim().to_ascii_lowercase();
    let is_colour = colour.len() == 7
        && colour.starts_with('#')
        && colour[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !is_colour {
        return Err(AppError::invalid("colour", COLOUR_INVALID));
    }
    let target_minutes = settings::check_target(
        settings::hours_to_minutes(&input.target_hours),
        "target_hours",
    )?;
    let kind = match input.kind.trim() {
        "" | "forum" => "forum",
        "ideas" => "ideas",
        _ => return Err(AppError::invalid("kind", KIND_UNKNOWN)),
    };
    Ok(Checked {
        kind,
        name: name.to_string(),
        slug,
        description: description.to_string(),
        colour,
        target_minutes,
        slug_typed,
    })
}

/// "-N", the number `first_free` puts after a taken address.
fn is_number_suffix(rest: &str) -> bool {
    rest.strip_prefix('-')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The slug to store: a typed one, refused when another category uses it now; one made from
/// the name, with a number after it when another category uses it ("questions-2").
async fn free_slug(
    conn: &impl ConnectionTrait,
    c: &Checked,
    except: Option<(i64, &str)>,
) -> Result<String, AppError> {
    // A category saved again under its name keeps the address made from it before
    // ("questions-2" stays, though "questions" may be free now: links to it would move).
    if let Some((_, current)) = except
        && !c.slug_typed
        && current
            .strip_prefix(c.slug.as_str())
            .is_some_and(|rest| rest.is_empty() || is_number_suffix(rest))
    {
        return Ok(current.to_string());
    }
    let except = except.map(|(id, _)| id);
    let mut q = category::Entity::find()
        .select_only()
        .column(category::Column::Slug)
        .filter(
            Condition::any()
                .add(category::Column::Slug.eq(&c.slug))
                .add(category::Column::Slug.starts_with(format!("{}-", c.slug))),
        );
    if let Some(id) = except {
        q = q.filter(category::Column::Id.ne(id));
    }
    let taken: HashSet<String> = q.into_tuple().all(conn).await?.into_iter().collect();
    if c.slug_typed && taken.contains(&c.slug) {
        return Err(AppError::invalid(
            "slug",
            format!(
                "Another category already uses /c/{}. Choose another address.",
                c.slug
            ),
        ));
    }
    Ok(crate::server::slug_text::first_free(&c.slug, &taken))
}

pub async fn create_category(
    db: &DatabaseConnection,
    actor: &user::Model,
    input: &CategoryInput,
) -> Result<category::Model, AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let c = check(input)?;
    let txn = begin_write(db).await?;
    let slug = free_slug(&txn, &c, None).await?;
    // A new category may take an address that only redirected: it is its own now.
    category_slug::Entity::delete_by_id(slug.clone())
        .exec(&txn)
        .await?;
    let position = category::Entity::find().count(&txn).await? as i32;
    let created = category::ActiveModel {
        slug: Set(slug.clone()),
        name: Set(c.name.clone()),
        description: Set(c.description),
        colour: Set(c.colour),
        position: Set(position),
        kind: Set(c.kind.into()),
        response_target_minutes: Set(c.target_minutes),
        topic_count: Set(0),
        post_count: Set(0),
        created_at: Set(Utc::now()),
        customers_may_start: Set(input.customers_may_start),
        archived: Set(false),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    log(
        &txn,
        actor,
        "category_create",
        &format!("{} (/c/{slug})", c.name),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

async fn forum_category(conn: &impl ConnectionTrait, id: i64) -> Result<category::Model, AppError> {
    category::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|c| c.kind != "blog_comments")
        .ok_or_else(|| AppError::NotFound(CATEGORY_MISSING.into()))
}

/// Saves an edit; a new address keeps the old one working as a redirect.
pub async fn update_category(
    db: &DatabaseConnection,
    actor: &user::Model,
    id: i64,
    input: &CategoryInput,
) -> Result<category::Model, AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let c = check(input)?;
    let txn = begin_write(db).await?;
    let existing = forum_category(&txn, id).await?;
    let slug = free_slug(&txn, &c, Some((id, existing.slug.as_str()))).await?;
    if slug != existing.slug {
        category_slug::Entity::delete_by_id(slug.clone())
            .exec(&txn)
            .await?;
        category_slug::ActiveModel {
            old_slug: Set(existing.slug.clone()),
            category_id: Set(id),
        }
        .insert(&txn)
        .await?;
    }
    let mut row: category::ActiveModel = existing.into();
    row.name = Set(c.name.clone());
    row.slug = Set(slug.clone());
    row.description = Set(c.description);
    row.colour = Set(c.colour);
    row.response_target_minutes = Set(c.target_minutes);
    row.customers_may_start = Set(input.customers_may_start);
    row.kind = Set(c.kind.into());
    let updated = row.update(&txn).await?;
    log(
        &txn,
        actor,
        "category_edit",
        &format!("{} (/c/{slug})", c.name),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Moves a category one place up or down the list.
pub async fn move_category(
    db: &DatabaseConnection,
    actor: &user::Model,
    id: i64,
    up: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let txn = begin_write(db).await?;
    let mut all = category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(&txn)
        .await?;
    let at = all
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| AppError::NotFound(CATEGORY_MISSING.into()))?;
    let other = if up {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|i| *i < all.len())
    };
    if let Some(other) = other {
        all.swap(at, other);
        // Positions renumbered 0.. in the new order: no ties left behind.
        for (position, c) in all.into_iter().enumerate() {
            if c.position != position as i32 {
                let mut row: category::ActiveModel = c.into();
                row.position = Set(position as i32);
                row.update(&txn).await?;
            }
        }
        log(&txn, actor, "category_reorder", "").await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The note on a topic that waits for staff again because its category was restored.
pub const CATEGORY_RESTORED: &str = "Its category was restored, so it waits for staff again.";

/// Archives (read-only, hidden from the start-topic form) or brings a category back.
pub async fn set_archived(
    db: &DatabaseConnection,
    actor: &user::Model,
    id: i64,
    archived: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let txn = begin_write(db).await?;
    let c = forum_category(&txn, id).await?;
    let name = c.name.clone();
    let category_id = c.id;
    // Only a change does anything: the restore form sent twice (or from a stale tab) would
    // otherwise restart waits the first restore started. Compared in the write, which takes the
    // row's lock, so of two at once on PostgreSQL the second finds it done.
    let changed = category::Entity::update_many()
        .col_expr(category::Column::Archived, Expr::value(archived))
        .filter(category::Column::Id.eq(category_id))
        .filter(category::Column::Archived.ne(archived))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(());
    }
    if archived {
        // It takes no new posts, so nobody will answer there: its waiting topics leave the
        // queue, each with a note in its history.
        let waiting = topic::Entity::find()
            .filter(topic::Column::CategoryId.eq(category_id))
            .filter(topic::Column::AwaitingStaffSince.is_not_null())
            .all(&txn)
            .await?;
        for t in waiting {
            topic_events::record(
                &txn,
                t.id,
                Some(actor.id),
                topic_events::CATEGORY_ARCHIVED,
                &name,
                "",
                false,
            )
            .await?;
            posting::settle(&txn, t.id).await?;
        }
    } else {
        // In use again: the topics whose wait its archiving ended (when it was archived, or a
        // moderator's action there since) wait again, from now, each with a note in its
        // history, unless they were answered or decided meanwhile.
        let sql = format!(
            "SELECT t.id FROM topics t WHERE t.category_id = $1 AND {}",
            topic_events::ended_by_archiving_sql()
        );
        let rows = txn
            .query_all_raw(crate::server::db::numbered(
                txn.get_database_backend(),
                &sql,
                vec![category_id.into()],
            ))
            .await?;
        for row in rows {
            let topic_id: i64 = row.try_get_by_index(0)?;
            posting::end_archiving(
                &txn,
                topic_id,
                actor.id,
                topic_events::CATEGORY_RESTORED,
                &name,
                CATEGORY_RESTORED,
            )
            .await?;
        }
    }
    log(
        &txn,
        actor,
        if archived {
            "category_archive"
        } else {
            "category_unarchive"
        },
        &name,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
