//! Forum rules: categories, topics, replies. (The full forum arrives with its own issue; this is
//! the core the demo content and the home page stand on.)
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use sea_orm::sea_query::{Expr, ExprTrait};

use super::{
    content,
    db::begin_write,
    entity::{category, post, topic, user},
};
use crate::{error::AppError, model::CategorySummary};

pub struct NewCategory<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub colour: &'a str,
}

pub async fn create_category(
    db: &DatabaseConnection,
    input: NewCategory<'_>,
) -> Result<category::Model, AppError> {
    let position = category::Entity::find().all(db).await?.len() as i32;
    Ok(category::ActiveModel {
        slug: Set(input.slug.into()),
        name: Set(input.name.into()),
        description: Set(input.description.into()),
        colour: Set(input.colour.into()),
        position: Set(position),
        kind: Set("forum".into()),
        response_target_minutes: Set(24 * 60),
        topic_count: Set(0),
        post_count: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Lower-case ASCII words joined by dashes, for readable URLs; "topic" if nothing is left.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if slug.len() + word.len() + 1 > 80 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        "topic".into()
    } else {
        slug
    }
}

/// Starts a topic with its first post, in one transaction.
pub async fn start_topic(
    db: &DatabaseConnection,
    author: &user::Model,
    category_id: i64,
    title: &str,
    body: &str,
) -> Result<topic::Model, AppError> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let created = topic::ActiveModel {
        category_id: Set(category_id),
        author_id: Set(author.id),
        title: Set(title.trim().into()),
        slug: Set(slugify(title)),
        status: Set("open".into()),
        pinned: Set(false),
        locked: Set(false),
        post_count: Set(0),
        created_at: Set(now),
        last_posted_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    category::Entity::update_many()
        .col_expr(
            category::Column::TopicCount,
            Expr::col(category::Column::TopicCount).add(1),
        )
        .filter(category::Column::Id.eq(category_id))
        .exec(&txn)
        .await?;
    add_post(&txn, author, &created, body).await?;
    txn.commit().await?;
    Ok(created)
}

/// Adds a reply to a topic.
pub async fn reply(
    db: &DatabaseConnection,
    author: &user::Model,
    topic_id: i64,
    body: &str,
) -> Result<post::Model, AppError> {
    let txn = begin_write(db).await?;
    let topic = topic::Entity::find_by_id(topic_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("That topic does not exist.".into()))?;
    let created = add_post(&txn, author, &topic, body).await?;
    txn.commit().await?;
    Ok(created)
}

async fn add_post(
    conn: &impl ConnectionTrait,
    author: &user::Model,
    topic: &topic::Model,
    body: &str,
) -> Result<post::Model, AppError> {
    let now = Utc::now();
    let role = author.role();
    let created = post::ActiveModel {
        topic_id: Set(topic.id),
        author_id: Set(author.id),
        post_number: Set(topic_post_count(conn, topic.id).await? + 1),
        source: Set(body.into()),
        html: Set(content::render(body)),
        state: Set("visible".into()),
        is_staff_reply: Set(role.is_staff()),
        staff_title: Set(author.staff_title.clone().filter(|_| role.is_staff())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut t: topic::ActiveModel = topic::Entity::find_by_id(topic.id)
        .one(conn)
        .await?
        .expect("topic exists")
        .into();
    t.post_count = Set(created.post_number);
    t.last_posted_at = Set(now);
    if role.is_staff() && created.post_number > 1 && topic.first_staff_reply_at.is_none() {
        t.first_staff_reply_at = Set(Some(now));
    }
    t.update(conn).await?;
    category::Entity::update_many()
        .col_expr(
            category::Column::PostCount,
            Expr::col(category::Column::PostCount).add(1),
        )
        .col_expr(category::Column::LastPostedAt, Expr::value(now))
        .filter(category::Column::Id.eq(topic.category_id))
        .exec(conn)
        .await?;
    Ok(created)
}

async fn topic_post_count(conn: &impl ConnectionTrait, topic_id: i64) -> Result<i32, AppError> {
    Ok(topic::Entity::find_by_id(topic_id)
        .one(conn)
        .await?
        .map(|t| t.post_count)
        .unwrap_or(0))
}

/// The home page's category list, in the admins' order, with each one's latest topic.
pub async fn list_categories(db: &DatabaseConnection) -> Result<Vec<CategorySummary>, AppError> {
    let categories = category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(categories.len());
    for c in categories {
        let latest = topic::Entity::find()
            .filter(topic::Column::CategoryId.eq(c.id))
            .order_by_desc(topic::Column::LastPostedAt)
            .one(db)
            .await?;
        out.push(CategorySummary {
            id: c.id,
            slug: c.slug,
            name: c.name,
            description: c.description,
            colour: c.colour,
            topic_count: c.topic_count,
            post_count: c.post_count,
            last_posted_at: c.last_posted_at,
            latest_topic_title: latest.map(|t| t.title),
        });
    }
    Ok(out)
}
