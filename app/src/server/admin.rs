//! The admin panel's rules: categories (create, edit, reorder, archive; renamed ones keep their
//! old addresses). Admins only; every change is written to the moderation log.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{
    auth::require_role,
    db::begin_write,
    entity::{category, category_slug, moderation_log, user},
    staff,
};
use crate::{
    error::AppError,
    model::{AdminCategory, Role},
};

pub const NAME_EMPTY: &str = "Give the category a name.";
pub const COLOUR_INVALID: &str = "Give the colour as # and six hex digits, like #3b6ea5.";
pub const SLUG_SHAPE: &str =
    "Use lower-case letters, digits and dashes for the address, like product-feedback.";
pub const CATEGORY_MISSING: &str = "There is no such category.";

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
}

struct Checked {
    name: String,
    slug: String,
    description: String,
    colour: String,
    target_minutes: i32,
}

fn check(input: &CategoryInput) -> Result<Checked, AppError> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", NAME_EMPTY));
    }
    if name.chars().count() > 64 {
        return Err(AppError::invalid(
            "name",
            "Names can be at most 64 characters.",
        ));
    }
    let slug = match input.slug.trim().to_ascii_lowercase() {
        s if s.is_empty() => super::forum::slugify(name),
        s => s,
    };
    let shaped = slug.len() <= 64
        && !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !shaped {
        return Err(AppError::invalid("slug", SLUG_SHAPE));
    }
    let description = input.description.trim();
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
    let minutes = input
        .target_hours
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite())
        .map(|h| (h * 60.0).round() as i64)
        .unwrap_or(0);
    if !(1..=staff::MAX_TARGET_MINUTES).contains(&minutes) {
        return Err(AppError::invalid("target_hours", staff::TARGET_INVALID));
    }
    Ok(Checked {
        name: name.to_string(),
        slug,
        description: description.to_string(),
        colour,
        target_minutes: minutes as i32,
    })
}

/// Refuses a slug another category uses now.
async fn check_slug_free(
    conn: &impl ConnectionTrait,
    slug: &str,
    except: Option<i64>,
) -> Result<(), AppError> {
    let mut q = category::Entity::find().filter(category::Column::Slug.eq(slug));
    if let Some(id) = except {
        q = q.filter(category::Column::Id.ne(id));
    }
    if q.count(conn).await? > 0 {
        return Err(AppError::invalid(
            "slug",
            format!("Another category already uses /c/{slug}. Choose another address."),
        ));
    }
    Ok(())
}

async fn log(
    conn: &impl ConnectionTrait,
    actor: &user::Model,
    action: &str,
    reason: &str,
) -> Result<(), AppError> {
    moderation_log::ActiveModel {
        actor_id: Set(actor.id),
        action: Set(action.into()),
        reason: Set(reason.into()),
        public: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn create_category(
    db: &DatabaseConnection,
    actor: &user::Model,
    input: &CategoryInput,
) -> Result<category::Model, AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let c = check(input)?;
    let txn = begin_write(db).await?;
    check_slug_free(&txn, &c.slug, None).await?;
    // A new category may take an address that only redirected: it is its own now.
    category_slug::Entity::delete_by_id(c.slug.clone())
        .exec(&txn)
        .await?;
    let position = category::Entity::find().count(&txn).await? as i32;
    let created = category::ActiveModel {
        slug: Set(c.slug.clone()),
        name: Set(c.name.clone()),
        description: Set(c.description),
        colour: Set(c.colour),
        position: Set(position),
        kind: Set("forum".into()),
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
        &format!("{} (/c/{})", c.name, c.slug),
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
    if c.slug != existing.slug {
        check_slug_free(&txn, &c.slug, Some(id)).await?;
        category_slug::Entity::delete_by_id(c.slug.clone())
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
    row.slug = Set(c.slug.clone());
    row.description = Set(c.description);
    row.colour = Set(c.colour);
    row.response_target_minutes = Set(c.target_minutes);
    row.customers_may_start = Set(input.customers_may_start);
    let updated = row.update(&txn).await?;
    log(
        &txn,
        actor,
        "category_edit",
        &format!("{} (/c/{})", c.name, c.slug),
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
    let mut row: category::ActiveModel = c.into();
    row.archived = Set(archived);
    row.update(&txn).await?;
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

/// /admin/categories: every forum category with its settings, in order.
pub async fn categories(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<Vec<AdminCategory>, AppError> {
    require_role(Some(viewer.role()), Role::Admin)?;
    Ok(category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| AdminCategory {
            id: c.id,
            slug: c.slug,
            name: c.name,
            description: c.description,
            colour: c.colour,
            target_hours: format!(
                "{}",
                (c.response_target_minutes as f64 / 60.0 * 100.0).round() / 100.0
            ),
            customers_may_start: c.customers_may_start,
            archived: c.archived,
            topic_count: c.topic_count,
        })
        .collect())
}

/// Where an old address of a renamed category points now.
pub async fn renamed_to(
    db: &DatabaseConnection,
    old_slug: &str,
) -> Result<Option<String>, AppError> {
    let Some(moved) = category_slug::Entity::find_by_id(old_slug.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(category::Entity::find_by_id(moved.category_id)
        .one(db)
        .await?
        .map(|c| c.slug))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        forum,
        testing::{insert_user, test_db},
    };

    async fn admin_and_moderator(db: &DatabaseConnection) -> (user::Model, user::Model) {
        let mut a: user::ActiveModel = insert_user(db, 1).await.into();
        a.role = Set("admin".into());
        let mut m: user::ActiveModel = insert_user(db, 2).await.into();
        m.role = Set("moderator".into());
        (a.update(db).await.unwrap(), m.update(db).await.unwrap())
    }

    fn input(name: &str, slug: &str) -> CategoryInput {
        CategoryInput {
            name: name.into(),
            slug: slug.into(),
            description: "Where we talk about it.".into(),
            colour: "#3B6EA5".into(),
            target_hours: "4".into(),
            customers_may_start: true,
        }
    }

    async fn log_actions(db: &DatabaseConnection) -> Vec<String> {
        moderation_log::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    #[tokio::test]
    async fn categories_are_created_edited_reordered_and_archived_by_admins() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        let a = create_category(&db, &admin, &input("Billing", ""))
            .await
            .unwrap();
        assert_eq!(
            (
                a.slug.as_str(),
                a.colour.as_str(),
                a.response_target_minutes
            ),
            ("billing", "#3b6ea5", 240)
        );
        let b = create_category(&db, &admin, &input("Ideas", "ideas"))
            .await
            .unwrap();
        assert!(matches!(
            create_category(&db, &moderator, &input("Nope", "")).await,
            Err(AppError::Forbidden(_))
        ));

        // A new address keeps the old one as a redirect.
        update_category(
            &db,
            &admin,
            a.id,
            &input("Billing and invoices", "invoices"),
        )
        .await
        .unwrap();
        assert_eq!(
            renamed_to(&db, "billing").await.unwrap().as_deref(),
            Some("invoices")
        );

        move_category(&db, &admin, b.id, true).await.unwrap();
        let order: Vec<_> = categories(&db, &admin)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.slug)
            .collect();
        assert_eq!(order, vec!["ideas", "invoices"]);

        set_archived(&db, &admin, b.id, true).await.unwrap();
        let postable = forum::postable_categories(&db, true).await.unwrap();
        assert!(
            postable.iter().all(|c| c.slug != "ideas"),
            "archived: not offered for new topics"
        );
        assert_eq!(
            log_actions(&db).await,
            vec![
                "category_create",
                "category_create",
                "category_edit",
                "category_reorder",
                "category_archive"
            ]
        );
    }

    #[tokio::test]
    async fn bad_categories_get_their_message_and_write_nothing() {
        let db = test_db().await;
        let (admin, _) = admin_and_moderator(&db).await;
        create_category(&db, &admin, &input("Billing", "billing"))
            .await
            .unwrap();
        let before = category::Entity::find().count(&db).await.unwrap();
        let with = |f: &dyn Fn(&mut CategoryInput)| {
            let mut i = input("Fine", "fine");
            f(&mut i);
            i
        };
        for (bad, expected) in [
            (
                with(&|i| i.slug = "billing".into()),
                AppError::invalid(
                    "slug",
                    "Another category already uses /c/billing. Choose another address.",
                ),
            ),
            (
                with(&|i| i.name = "  ".into()),
                AppError::invalid("name", NAME_EMPTY),
            ),
            (
                with(&|i| i.colour = "blue".into()),
                AppError::invalid("colour", COLOUR_INVALID),
            ),
            (
                with(&|i| i.colour = "#12345g".into()),
                AppError::invalid("colour", COLOUR_INVALID),
            ),
            (
                with(&|i| i.target_hours = "0".into()),
                AppError::invalid("target_hours", staff::TARGET_INVALID),
            ),
            (
                with(&|i| i.target_hours = "721".into()),
                AppError::invalid("target_hours", staff::TARGET_INVALID),
            ),
            (
                with(&|i| i.slug = "../x".into()),
                AppError::invalid("slug", SLUG_SHAPE),
            ),
        ] {
            assert_eq!(
                create_category(&db, &admin, &bad).await.unwrap_err(),
                expected
            );
        }
        assert_eq!(category::Entity::find().count(&db).await.unwrap(), before);
        assert_eq!(log_actions(&db).await, vec!["category_create"]);
    }
}
