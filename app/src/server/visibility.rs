//! Who may see what: one rule for each kind of thing (article, topic, post), which every path
//! that reads or writes one by its id goes through, and the same rules as query conditions for
//! the lists everyone sees (member pages, the public moderation log, the sitemap).
//!
//! What the asker may not see is "not found", with the same message as an id that does not
//! exist, so that no path (reading, replying, quoting, flagging, editing, staff and moderator
//! tools) tells anyone that a held topic, a hidden post or a draft article is there.
use chrono::Utc;
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Query, SelectStatement},
};

use super::entity::{article, post, topic, user};
use crate::{
    error::AppError,
    model::{PostState, Role},
};

pub const TOPIC_MISSING: &str = "That topic doesn't exist. It may have been removed.";
pub const POST_MISSING: &str = "That post doesn't exist. It may have been removed.";
pub const ARTICLE_MISSING: &str = "There is no article at this address.";

fn moderator(viewer: Option<&user::Model>) -> bool {
    viewer.is_some_and(|u| u.role() >= Role::Moderator)
}

fn staff(viewer: Option<&user::Model>) -> bool {
    viewer.is_some_and(|u| u.role().is_staff())
}

fn is(viewer: Option<&user::Model>, id: i64) -> bool {
    viewer.is_some_and(|u| u.id == id)
}

/// Articles published at a time that has come: for everyone.
pub fn is_public_article(a: &article::Model, now: DateTimeUtc) -> bool {
    a.status == "published" && a.published_at.is_some_and(|at| at <= now)
}

/// Published articles are for everyone; drafts and scheduled ones for their author and admins.
pub fn can_see_article(a: &article::Model, viewer: Option<&user::Model>, now: DateTimeUtc) -> bool {
    is_public_article(a, now)
        || is(viewer, a.author_id)
        || viewer.is_some_and(|u| u.role() == Role::Admin)
}

/// A forum topic is for everyone while its opening post is public; one whose opening post waits
/// for approval is for its author and staff (it waits in their queue); one whose opening post
/// is hidden or removed, for its author and moderators. An article's comment topic is as
/// visible as its article, whatever happened to its first comment.
pub async fn can_see_topic(
    conn: &impl ConnectionTrait,
    t: &topic::Model,
    viewer: Option<&user::Model>,
) -> Result<bool, AppError> {
    let article = article_of(conn, t.id).await?;
    can_see_topic_of(conn, t, article.as_ref(), viewer).await
}

/// `can_see_topic` with the topic's article (if it is an article's comment topic) already read.
async fn can_see_topic_of(
    conn: &impl ConnectionTrait,
    t: &topic::Model,
    article: Option<&article::Model>,
    viewer: Option<&user::Model>,
) -> Result<bool, AppError> {
    // Only staff who are not moderators need the opening post's state, and only for an
    // unlisted forum topic of someone else's.
    let asks_opening = article.is_none()
        && !t.visible
        && staff(viewer)
        && !moderator(viewer)
        && !is(viewer, t.author_id);
    let held = asks_opening && opening_held(conn, t.id).await?;
    Ok(can_see_loaded_topic(t, article, held, viewer))
}

/// `can_see_topic` for a topic read earlier: `article` its article, if any, and `opening_held`
/// whether its opening post waits for approval (`opening_held`; only asked of unlisted topics).
pub fn can_see_loaded_topic(
    t: &topic::Model,
    article: Option<&article::Model>,
    opening_held: bool,
    viewer: Option<&user::Model>,
) -> bool {
    if let Some(a) = article {
        return can_see_article(a, viewer, Utc::now());
    }
    t.visible || is(viewer, t.author_id) || moderator(viewer) || (staff(viewer) && opening_held)
}

/// Whether topic `topic_id`'s opening post waits for approval.
pub async fn opening_held(conn: &impl ConnectionTrait, topic_id: i64) -> Result<bool, AppError> {
    use sea_orm::PaginatorTrait;
    Ok(post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::PostNumber.eq(1))
        .filter(post::Column::State.eq(PostState::Pending.as_str()))
        .count(conn)
        .await?
        > 0)
}

/// A post's text, in a topic the viewer may see: a visible post's for everyone, a held one's for
/// its author and staff, a hidden one's for its author and moderators, a deleted one's for
/// moderators.
pub fn can_read_post(p: &post::Model, viewer: Option<&user::Model>) -> bool {
    match p.state() {
        PostState::Visible => true,
        PostState::Pending => is(viewer, p.author_id) || staff(viewer),
        PostState::Hidden => is(viewer, p.author_id) || moderator(viewer),
        PostState::Deleted => moderator(viewer),
    }
}

/// The article whose comments topic `topic_id` is, if it is one.
pub async fn article_of(
    conn: &impl ConnectionTrait,
    topic_id: i64,
) -> Result<Option<article::Model>, AppError> {
    Ok(article::Entity::find()
        .filter(article::Column::TopicId.eq(topic_id))
        .one(conn)
        .await?)
}

/// The topic `id`, if `viewer` may see it; "not found" otherwise, as for no topic at all.
pub async fn topic(
    conn: &impl ConnectionTrait,
    id: i64,
    viewer: Option<&user::Model>,
) -> Result<topic::Model, AppError> {
    Ok(topic_with_article(conn, id, viewer).await?.0)
}

/// `topic`, with the topic's article if it is an article's comment topic.
pub async fn topic_with_article(
    conn: &impl ConnectionTrait,
    id: i64,
    viewer: Option<&user::Model>,
) -> Result<(topic::Model, Option<article::Model>), AppError> {
    let found = topic_to_post_in(conn, id, viewer).await?;
    Ok((found.topic, found.article))
}

/// A topic as posting checks it (`posting::check_takes_posts`).
pub struct ToPostIn {
    pub topic: topic::Model,
    /// The article whose comments it holds, if any.
    pub article: Option<article::Model>,
    pub category_archived: bool,
}

/// `topic_with_article`, with whether its category is archived: one statement (a reply reads it
/// again in the writers' turn, where each statement is a round trip on SQLite).
pub async fn topic_to_post_in(
    conn: &impl ConnectionTrait,
    id: i64,
    viewer: Option<&user::Model>,
) -> Result<ToPostIn, AppError> {
    let row = conn
        .query_one_raw(to_post_in_read(conn.get_database_backend(), id))
        .await?;
    to_post_in_found(conn, row, viewer).await
}

/// The statement `topic_to_post_in` reads, for a write that sends other statements with it
/// (`Batch`); `to_post_in_found` takes its row.
pub fn to_post_in_read(backend: sea_orm::DbBackend, id: i64) -> sea_orm::Statement {
    use sea_orm::{JoinType, QuerySelect, QueryTrait, sea_query::Expr};
    let its_article = article::Entity::belongs_to(topic::Entity)
        .from(article::Column::TopicId)
        .to(topic::Column::Id)
        .into();
    topic::Entity::find_by_id(id)
        .select_also(article::Entity)
        .join_rev(JoinType::LeftJoin, its_article)
        .expr_as(
            Expr::cust(
                r#"(SELECT c.archived FROM categories c WHERE c.id = "topics"."category_id")"#,
            ),
            "category_archived",
        )
        .limit(1)
        .build(backend)
}

/// The topic `to_post_in_read` read, if `viewer` may see it; "not found" otherwise, as for no
/// topic at all.
pub async fn to_post_in_found(
    conn: &impl ConnectionTrait,
    row: Option<sea_orm::QueryResult>,
    viewer: Option<&user::Model>,
) -> Result<ToPostIn, AppError> {
    use sea_orm::FromQueryResult;
    let missing = || AppError::NotFound(TOPIC_MISSING.into());
    let row = row.ok_or_else(missing)?;
    // The columns as `select_also` names them: the topic's `A_`, the article's `B_`.
    let found = ToPostIn {
        topic: topic::Model::from_query_result(&row, "A_")?,
        article: article::Model::from_query_result_optional(&row, "B_")?,
        category_archived: row
            .try_get::<Option<bool>>("", "category_archived")?
            .unwrap_or(false),
    };
    if can_see_topic_of(conn, &found.topic, found.article.as_ref(), viewer).await? {
        Ok(found)
    } else {
        Err(missing())
    }
}

/// The post `id` and its topic, if `viewer` may read it; "not found" otherwise.
pub async fn post(
    conn: &impl ConnectionTrait,
    id: i64,
    viewer: Option<&user::Model>,
) -> Result<(post::Model, topic::Model), AppError> {
    let missing = || AppError::NotFound(POST_MISSING.into());
    let p = post::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|p| can_read_post(p, viewer))
        .ok_or_else(missing)?;
    let t = topic::Entity::find_by_id(p.topic_id)
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    if can_see_topic(conn, &t, viewer).await? {
        Ok((p, t))
    } else {
        Err(missing())
    }
}

/// The article `id`, if `viewer` may see it; "not found" otherwise.
pub async fn article(
    conn: &impl ConnectionTrait,
    id: i64,
    viewer: Option<&user::Model>,
) -> Result<article::Model, AppError> {
    article::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|a| can_see_article(a, viewer, Utc::now()))
        .ok_or_else(|| AppError::NotFound(ARTICLE_MISSING.into()))
}

/// `is_public_article` as a query condition on articles.
pub fn public_articles(now: DateTimeUtc) -> Condition {
    Condition::all()
        .add(article::Column::Status.eq("published"))
        .add(article::Column::PublishedAt.lte(now))
}

fn article_topics(only_public_at: Option<DateTimeUtc>) -> SelectStatement {
    let mut q = Query::select();
    q.column(article::Column::TopicId).from(article::Entity);
    if let Some(now) = only_public_at {
        q.cond_where(public_articles(now));
    }
    q.to_owned()
}

/// The forum topics a visitor may see (`can_see_topic` with no viewer, articles' comment topics
/// left out: they are shown as their article), as a condition on the topics table itself, so
/// that a range of topic ids costs one range scan of the primary key (the sitemap's pages).
pub fn public_forum_topics() -> Condition {
    Condition::all()
        .add(topic::Column::Visible.eq(true))
        .add(topic::Column::Id.not_in_subquery(article_topics(None)))
}

/// The ids of the topics a visitor may see (`can_see_topic` with no viewer), for lists shown to
/// everyone: `topic::Column::Id.in_subquery(public_topic_ids(now))`, or any other topic id.
pub fn public_topic_ids(now: DateTimeUtc) -> SelectStatement {
    Query::select()
        .column(topic::Column::Id)
        .from(topic::Entity)
        .cond_where(
            Condition::any()
                .add(public_forum_topics())
                .add(topic::Column::Id.in_subquery(article_topics(Some(now)))),
        )
        .to_owned()
}

/// Posts a visitor may read: visible ones in topics a visitor may see.
pub fn public_posts(now: DateTimeUtc) -> Condition {
    Condition::all()
        .add(post::Column::State.eq(PostState::Visible.as_str()))
        .add(post::Column::TopicId.in_subquery(public_topic_ids(now)))
}

/// A post the editor may read and change: not deleted; "not found" for one they may not read,
/// so that the answer for someone else's hidden post is the answer for no post.
pub async fn editable(
    conn: &impl ConnectionTrait,
    editor: &user::Model,
    post_id: i64,
) -> Result<(post::Model, topic::Model), AppError> {
    let (p, t) = post(conn, post_id, Some(editor)).await?;
    if p.state() == PostState::Deleted {
        return Err(AppError::NotFound(POST_MISSING.into()));
    }
    Ok((p, t))
}

pub const NOT_YOUR_POST: &str = "You can only edit your own posts.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        blog::{self, ArticleInput, Publish},
        forum::{self, NewCategory},
        moderation::{self, PostAction},
        testing::{insert_user, test_db},
    };
    use sea_orm::{ActiveModelTrait, DatabaseConnection, QuerySelect, Set};

    async fn with_role(db: &DatabaseConnection, id: i64, role: &str) -> user::Model {
        let mut row: user::ActiveModel = insert_user(db, id).await.into();
        row.role = Set(role.into());
        row.update(db).await.unwrap()
    }

    async fn public_ids(db: &DatabaseConnection) -> Vec<i64> {
        topic::Entity::find()
            .select_only()
            .column(topic::Column::Id)
            .filter(topic::Column::Id.in_subquery(public_topic_ids(Utc::now())))
            .into_tuple()
            .all(db)
            .await
            .unwrap()
    }

    /// The query condition and the rule agree on every kind of topic.
    #[tokio::test]
    async fn the_list_condition_is_the_rule_for_a_visitor() {
        let db = test_db().await;
        let author = insert_user(&db, 1).await;
        let staff = with_role(&db, 2, "staff").await;
        let moderator = with_role(&db, 3, "moderator").await;
        forum::create_category(
            &db,
            NewCategory {
                slug: "questions",
                name: "Questions",
                description: "",
                colour: "#2f855a",
            },
        )
        .await
        .unwrap();
        let topic_of = |title: &'static str| {
            let (db, author) = (db.clone(), author.clone());
            async move {
                forum::start_topic(&db, &author, "questions", title, "Text", None)
                    .await
                    .unwrap()
            }
        };
        let (open, _) = topic_of("Open").await;
        let (removed, first) = topic_of("Removed").await;
        moderation::act_on_post(&db, &moderator, first.id, PostAction::Delete, "spam")
            .await
            .unwrap();
        let (hidden_first, first) = topic_of("Hidden opening post").await;
        moderation::act_on_post(&db, &moderator, first.id, PostAction::Hide, "rude")
            .await
            .unwrap();
        let input = |publish| ArticleInput {
            title: "An article".into(),
            slug: String::new(),
            summary: String::new(),
            body: "Text".into(),
            cover_image_url: String::new(),
            tags: String::new(),
            comments_open: true,
            publish,
        };
        let (published, _) = blog::create_article(&db, &staff, &input(Publish::Now), None)
            .await
            .unwrap();
        let (draft, _) = blog::create_article(&db, &staff, &input(Publish::Draft), None)
            .await
            .unwrap();
        let later = Utc::now() + chrono::Duration::days(1);
        let (scheduled, _) = blog::create_article(&db, &staff, &input(Publish::At(later)), None)
            .await
            .unwrap();
        let mut listed = public_ids(&db).await;
        listed.sort();
        let mut by_rule = Vec::new();
        for t in topic::Entity::find().all(&db).await.unwrap() {
            if can_see_topic(&db, &t, None).await.unwrap() {
                by_rule.push(t.id);
            }
        }
        by_rule.sort();
        assert_eq!(listed, by_rule);
        let mut expected = vec![open.id, published.topic_id];
        expected.sort();
        assert_eq!(listed, expected);
        // Who else sees what.
        let sees = |t: i64, who: Option<user::Model>| {
            let db = db.clone();
            async move { topic(&db, t, who.as_ref()).await.is_ok() }
        };
        assert!(sees(removed.id, Some(author.clone())).await);
        assert!(sees(removed.id, Some(moderator.clone())).await);
        assert!(!sees(removed.id, Some(staff.clone())).await);
        // An opening post hidden takes its topic out of sight as one removed does.
        assert!(sees(hidden_first.id, Some(author.clone())).await);
        assert!(sees(hidden_first.id, Some(moderator.clone())).await);
        assert!(!sees(hidden_first.id, Some(staff.clone())).await);
        assert!(!sees(hidden_first.id, None).await);
        assert!(sees(draft.topic_id, Some(staff.clone())).await);
        assert!(!sees(draft.topic_id, Some(moderator.clone())).await);
        assert!(!sees(scheduled.topic_id, Some(author.clone())).await);
    }
}
