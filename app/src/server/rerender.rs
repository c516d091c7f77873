//! Re-runs the content pipeline over every stored body (posts, staff notes and comments are
//! posts; articles). Pages show the HTML stored at write time, so a change to the pipeline or its
//! allow-list reaches old posts only through this (`backyard rerender`), like Discourse's rebake.
//! Posts go through the current censored words and link @mentions of current members, as a new
//! post would; nothing else about a row changes (state, edit time, author).
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use super::{
    entity::{article, post},
    posting, search_index,
};
use crate::error::AppError;

/// Rows read and written per transaction: small enough not to hold the write lock for long
/// while a site serves, large enough that a 500,000-post database takes seconds, not hours.
const BATCH: u64 = 500;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rerendered {
    pub posts: u64,
    pub posts_changed: u64,
    pub articles: u64,
    pub articles_changed: u64,
}

pub async fn rerender_all(db: &DatabaseConnection) -> Result<Rerendered, AppError> {
    let watched = posting::watched_list(db).await?;
    let mut done = Rerendered::default();
    let mut after = 0i64;
    loop {
        let rows = post::Entity::find()
            .filter(post::Column::Id.gt(after))
            .order_by_asc(post::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let txn = db.begin().await?;
        for row in rows {
            done.posts += 1;
            let rendered = posting::render(&txn, &row.source).await?;
            let (_, html) = posting::censor_html(&rendered, &watched);
            if html != row.html {
                done.posts_changed += 1;
                let mut row: post::ActiveModel = row.into();
                row.html = Set(html);
                let row = row.update(&txn).await?;
                // A word censored since must leave the index too.
                search_index::sync_post(&txn, &row).await?;
            }
        }
        txn.commit().await?;
        // Not a `begin_write` transaction (a command's batches): servers' caches must hear.
        crate::server::page_version::changed(db).await;
    }
    // Articles are staff writing: few, never censored (as when they are written).
    let txn = db.begin().await?;
    for row in article::Entity::find().all(&txn).await? {
        done.articles += 1;
        let html = posting::render(&txn, &row.source).await?;
        if html != row.html {
            done.articles_changed += 1;
            let mut row: article::ActiveModel = row.into();
            row.html = Set(html);
            let row = row.update(&txn).await?;
            search_index::sync_article(&txn, &row).await?;
        }
    }
    txn.commit().await?;
    crate::server::page_version::changed(db).await;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{demo, testing::test_db};
    use sea_orm::PaginatorTrait;

    #[tokio::test]
    async fn stale_bodies_are_rendered_again_and_current_ones_left_alone() {
        let db = test_db().await;
        demo::seed_if_empty(&db).await.unwrap();
        let total = post::Entity::find().count(&db).await.unwrap();
        let articles = article::Entity::find().count(&db).await.unwrap();
        assert!(
            total > 2 && articles > 0,
            "{total} posts, {articles} articles"
        );

        // A fresh demo database is already current: a run reads everything and changes nothing.
        let first = rerender_all(&db).await.unwrap();
        assert_eq!((first.posts, first.articles), (total, articles));
        assert_eq!(first.posts_changed, 0, "{first:?}");
        assert_eq!(first.articles_changed, 0, "{first:?}");

        // HTML stored by an older pipeline (here: not a fixed point, and unsafe), a post with a
        // word censored since, and an article whose HTML went stale.
        let posts = post::Entity::find()
            .order_by_asc(post::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let (stale, censored) = (&posts[0], &posts[1]);
        let mut row: post::ActiveModel = stale.clone().into();
        row.html = Set("<p>?&gt;&gt;<p></p></p><script>alert(1)</script>".into());
        row.update(&db).await.unwrap();
        let word = censored
            .source
            .split(|c: char| !c.is_alphabetic())
            .find(|w| w.len() >= 6)
            .unwrap()
            .to_string();
        crate::server::testing::watch(&db, &[(&word, "censor")]).await;
        let article_row = article::Entity::find().one(&db).await.unwrap().unwrap();
        let mut a: article::ActiveModel = article_row.clone().into();
        a.html = Set("<p>old</p>".into());
        a.update(&db).await.unwrap();

        let second = rerender_all(&db).await.unwrap();
        assert_eq!(second.posts_changed, 2, "{second:?}");
        assert_eq!(second.articles_changed, 1, "{second:?}");
        let reloaded = |id| post::Entity::find_by_id(id).one(&db);
        let fixed = reloaded(stale.id).await.unwrap().unwrap();
        assert_eq!(fixed.html, stale.html);
        assert_eq!(
            (fixed.state, fixed.edited_at),
            (stale.state.clone(), stale.edited_at)
        );
        let masked = reloaded(censored.id).await.unwrap().unwrap();
        assert!(!masked.html.contains(&word), "{}", masked.html);
        assert_eq!(
            masked.source, censored.source,
            "the author's words are kept"
        );
        let article_now = article::Entity::find_by_id(article_row.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(article_now.html, article_row.html);
    }
}
