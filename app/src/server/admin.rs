//! The admin panel's rules: categories (create, edit, reorder, archive; renamed ones keep their
//! old addresses). Admins only; every change is written to the moderation log.
use crate::server::records::users::member;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{
    auth::require_role,
    db::begin_write,
    entity::{category, category_slug, topic, user},
    posting,
    records::topic_events,
    settings,
};
use crate::{
    error::AppError,
    model::{Role, SiteSettings},
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
        s if s.is_empty() => crate::server::records::topics::slugify(name),
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
    let target_minutes = settings::check_target(
        settings::hours_to_minutes(&input.target_hours),
        "target_hours",
    )?;
    Ok(Checked {
        name: name.to_string(),
        slug,
        description: description.to_string(),
        colour,
        target_minutes,
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

/// An admin action in the moderation log (about no post or topic).
async fn log(
    conn: &impl ConnectionTrait,
    actor: &user::Model,
    action: &str,
    reason: &str,
) -> Result<(), AppError> {
    crate::server::records::moderation_log::log(
        conn, actor, action, None, None, None, reason, false,
    )
    .await
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
    let category_id = c.id;
    let mut row: category::ActiveModel = c.into();
    row.archived = Set(archived);
    row.update(&txn).await?;
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

pub const LAST_ADMIN: &str = "Backyard needs at least one admin: make someone else an admin first.";
pub const NOT_YOURSELF: &str = "You can't do that to your own account here.";
pub const ROLE_UNKNOWN: &str = "Choose customer, staff, moderator or admin.";

/// Refuses a change that would leave no admin.
async fn check_not_last_admin(
    conn: &impl ConnectionTrait,
    target: &user::Model,
) -> Result<(), AppError> {
    if target.role() != Role::Admin {
        return Ok(());
    }
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .count(conn)
        .await?;
    if admins <= 1 {
        return Err(AppError::invalid("role", LAST_ADMIN));
    }
    Ok(())
}

/// An admin action about a member, in the moderation log.
async fn log_about(
    conn: &impl ConnectionTrait,
    actor: &user::Model,
    action: &str,
    user_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    crate::server::records::moderation_log::log(
        conn,
        actor,
        action,
        None,
        None,
        Some(user_id),
        reason,
        false,
    )
    .await
}

/// Admins change a member's role and staff title (the title only shows for staff and above).
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
    role: &str,
    title: &str,
) -> Result<user::Model, AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let role = Role::parse(role).ok_or_else(|| AppError::invalid("role", ROLE_UNKNOWN))?;
    let title = title.trim();
    if title.chars().count() > 64 {
        return Err(AppError::invalid(
            "title",
            "Titles can be at most 64 characters.",
        ));
    }
    let txn = begin_write(db).await?;
    let target = member(&txn, user_id).await?;
    if role != Role::Admin {
        check_not_last_admin(&txn, &target).await?;
    }
    let before = format!(
        "{} ({})",
        target.role().label(),
        target.staff_title.clone().unwrap_or_default()
    );
    let mut row: user::ActiveModel = target.into();
    row.role = Set(role.as_str().into());
    row.staff_title = Set((role.is_staff() && !title.is_empty()).then(|| title.to_string()));
    let updated = row.update(&txn).await?;
    log_about(
        &txn,
        actor,
        "role",
        user_id,
        &format!("{before} → {} ({title})", role.label()),
    )
    .await?;
    super::notify::notify(
        &txn,
        user_id,
        "role",
        &format!(
            "Your role is now {}{}.",
            role.label(),
            if title.is_empty() || !role.is_staff() {
                String::new()
            } else {
                format!(", {title}")
            }
        ),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Ends every session of a member (moderators and admins).
pub async fn log_out_everywhere(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
) -> Result<u64, AppError> {
    require_role(Some(actor.role()), Role::Moderator)?;
    let txn = begin_write(db).await?;
    let target = member(&txn, user_id).await?;
    super::auth::check_may_act_on(actor, &target)?;
    let ended = crate::server::session_store::end_sessions(&txn, target.id).await?;
    log_about(&txn, actor, "log_out_everywhere", target.id, "").await?;
    txn.commit().await?;
    Ok(ended)
}

/// Admins delete an account: its posts stay, signed "deleted user", or are removed too. The
/// account row stays (posts point at it) with nothing personal left in it.
pub async fn delete_account(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
    remove_posts: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    if actor.id == user_id {
        return Err(AppError::invalid("form", NOT_YOURSELF));
    }
    let txn = begin_write(db).await?;
    let target = member(&txn, user_id).await?;
    check_not_last_admin(&txn, &target).await?;
    if remove_posts {
        super::posting::remove_all_by(&txn, target.id, "The account was deleted.").await?;
    }
    crate::server::session_store::end_sessions(&txn, target.id).await?;
    // Sign-up refuses names of this shape (names::looks_deleted), but one taken before that, or
    // an address of the same shape, must not make the deletion fail: then a longer name is used.
    let mut gone = format!("deleted-{}", target.id);
    let taken = user::Entity::find()
        .filter(user::Column::Id.ne(target.id))
        .filter(
            sea_orm::Condition::any()
                .add(user::Column::UsernameKey.eq(gone.clone()))
                .add(user::Column::EmailKey.eq(format!("{gone}@deleted.invalid"))),
        )
        .one(&txn)
        .await?
        .is_some();
    if taken {
        gone = format!("{gone}-{}", &super::auth::random_token()[..12]);
    }
    let mut row: user::ActiveModel = target.into();
    row.username = Set(gone.clone());
    row.username_key = Set(gone.clone());
    row.email = Set(format!("{gone}@deleted.invalid"));
    row.email_key = Set(format!("{gone}@deleted.invalid"));
    row.display_name = Set("deleted user".into());
    row.password_hash = Set("!".into());
    row.role = Set(Role::Customer.as_str().into());
    row.staff_title = Set(None);
    row.update(&txn).await?;
    log_about(
        &txn,
        actor,
        "delete_account",
        user_id,
        if remove_posts {
            "posts removed"
        } else {
            "posts kept as deleted user"
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Admins save the site's texts and switches; applied from the next page on.
pub async fn save_site_settings(
    db: &DatabaseConnection,
    actor: &user::Model,
    s: &SiteSettings,
) -> Result<(), AppError> {
    let on = |b: bool| if b { "true" } else { "false" };
    let txn = begin_write(db).await?;
    settings::change_all(
        &txn,
        settings::ChangedBy::Admin(actor),
        &[
            (settings::SITE_NAME.0, &s.site_name),
            (settings::SITE_TAGLINE.0, &s.tagline),
            (settings::WELCOME_MESSAGE.0, &s.welcome_message),
            (settings::SIGNUP_MODE.0, &s.signup_mode),
            (settings::ACCOUNTABILITY_PUBLIC, on(s.accountability_public)),
            (settings::MODERATION_LOG_PUBLIC, on(s.moderation_log_public)),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Admins approve (welcomed, may log in) or turn away (the account is deleted) a sign-up.
pub async fn decide_signup(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
    approve: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let target = member(db, user_id).await?;
    if !target.awaiting_approval {
        return Err(AppError::invalid(
            "form",
            "That account is not waiting for approval.",
        ));
    }
    if approve {
        let txn = begin_write(db).await?;
        let mut row: user::ActiveModel = target.into();
        row.awaiting_approval = Set(false);
        row.update(&txn).await?;
        log_about(&txn, actor, "approve_signup", user_id, "").await?;
        txn.commit().await?;
        crate::server::notify::welcome(db, user_id).await
    } else {
        delete_account(db, actor, user_id, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::entity::moderation_log;
    use crate::server::records::categories::renamed_to;
    use crate::server::views::admin::categories;
    use crate::server::views::admin::dashboard;
    use crate::server::views::admin::search_users;
    use crate::server::views::admin::site_settings;
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
        let postable = crate::server::views::forum::postable_categories(&db, true)
            .await
            .unwrap();
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
                AppError::invalid("target_hours", settings::TARGET_INVALID),
            ),
            (
                with(&|i| i.target_hours = "721".into()),
                AppError::invalid("target_hours", settings::TARGET_INVALID),
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

    #[tokio::test]
    async fn roles_sessions_and_deletion_with_the_last_admin_kept() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        let customer = insert_user(&db, 3).await;
        // Promoting: admins only, logged, the member told.
        assert!(matches!(
            set_role(&db, &moderator, customer.id, "staff", "Support").await,
            Err(AppError::Forbidden(_))
        ));
        let staff = set_role(&db, &admin, customer.id, "staff", "Support Lead")
            .await
            .unwrap();
        assert_eq!(
            (staff.role.as_str(), staff.staff_title.as_deref()),
            ("staff", Some("Support Lead"))
        );
        assert_eq!(
            set_role(&db, &admin, customer.id, "owner", "")
                .await
                .unwrap_err(),
            AppError::invalid("role", ROLE_UNKNOWN)
        );
        // The last admin stays one.
        assert_eq!(
            set_role(&db, &admin, admin.id, "customer", "")
                .await
                .unwrap_err(),
            AppError::invalid("role", LAST_ADMIN)
        );
        // A new post by the promoted member carries the badge with the title.
        forum::create_category(
            &db,
            forum::NewCategory {
                slug: "q",
                name: "Q",
                description: "",
                colour: "#2f855a",
            },
        )
        .await
        .unwrap();
        let (_, first) = forum::start_topic(&db, &staff, "q", "Hello", "Hi all", None)
            .await
            .unwrap();
        assert_eq!(
            (first.is_staff_reply, first.staff_title.as_deref()),
            (true, Some("Support Lead"))
        );

        // Search: by name for moderators; by e-mail, and e-mails shown, for admins only.
        assert_eq!(
            search_users(&db, &moderator, "user3").await.unwrap()[0].email,
            None
        );
        assert!(
            search_users(&db, &moderator, "example.com")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            search_users(&db, &admin, "user3@example")
                .await
                .unwrap()
                .len(),
            1
        );

        assert_eq!(
            log_out_everywhere(&db, &moderator, customer.id)
                .await
                .unwrap(),
            0
        );
        // Deleting keeps the posts, signed "deleted user", and nothing personal.
        assert!(matches!(
            delete_account(&db, &moderator, customer.id, false).await,
            Err(AppError::Forbidden(_))
        ));
        delete_account(&db, &admin, customer.id, false)
            .await
            .unwrap();
        let gone = user::Entity::find_by_id(customer.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                gone.display_name.as_str(),
                gone.email.contains("example.com")
            ),
            ("deleted user", false)
        );
        let kept = super::super::entity::post::Entity::find_by_id(first.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.state, "visible");
        assert_eq!(
            log_actions(&db).await,
            vec!["role", "log_out_everywhere", "delete_account"]
        );
    }

    #[tokio::test]
    async fn the_dashboard_counts_the_last_thirty_days_by_day() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        forum::create_category(
            &db,
            forum::NewCategory {
                slug: "q",
                name: "Q",
                description: "",
                colour: "#2f855a",
            },
        )
        .await
        .unwrap();
        let customer = insert_user(&db, 3).await;
        forum::start_topic(&db, &customer, "q", "Waiting", "Help?", None)
            .await
            .unwrap();
        forum::start_topic(&db, &customer, "q", "Waiting too", "Help!", None)
            .await
            .unwrap();
        let d = dashboard(&db, &moderator).await.unwrap();
        assert_eq!((d.new_members.len(), d.new_posts.len()), (30, 30));
        assert_eq!(
            (d.new_members[29], d.new_posts[29]),
            (3, 2),
            "today is the last day"
        );
        assert_eq!(
            (d.awaiting_staff, d.past_target, d.open_review_items),
            (2, 0, 0)
        );
        assert!(!d.viewer_is_admin && dashboard(&db, &admin).await.unwrap().viewer_is_admin);
        let customer_view = dashboard(&db, &customer).await;
        assert!(matches!(customer_view, Err(AppError::Forbidden(_))));
    }

    #[tokio::test]
    async fn site_settings_and_sign_up_decisions_are_logged() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        let mut s = site_settings(&db, &admin).await.unwrap();
        assert_eq!(
            (s.site_name.as_str(), s.signup_mode.as_str()),
            ("Backyard", "open")
        );
        s.site_name = "Acme".into();
        s.signup_mode = "approval".into();
        assert!(matches!(
            save_site_settings(&db, &moderator, &s).await,
            Err(AppError::Forbidden(_))
        ));
        let mut bad = s.clone();
        bad.signup_mode = "sometimes".into();
        assert!(matches!(
            save_site_settings(&db, &admin, &bad).await,
            Err(AppError::Invalid { .. })
        ));
        save_site_settings(&db, &admin, &s).await.unwrap();
        assert_eq!(site_settings(&db, &admin).await.unwrap().site_name, "Acme");
        let waiting = insert_user(&db, 5).await;
        let mut row: user::ActiveModel = waiting.clone().into();
        row.awaiting_approval = Set(true);
        row.update(&db).await.unwrap();
        assert_eq!(
            site_settings(&db, &admin)
                .await
                .unwrap()
                .awaiting_approval
                .len(),
            1
        );
        decide_signup(&db, &admin, waiting.id, true).await.unwrap();
        assert!(
            decide_signup(&db, &admin, waiting.id, true).await.is_err(),
            "decided already"
        );
        assert_eq!(log_actions(&db).await, vec!["settings", "approve_signup"]);
    }
}
