//! Demo content for a new database: three accounts, four categories (product feedback takes
//! votes), a few conversations.
//!
//! Seeded in steps, each its own write and each skipped when what it writes is already there,
//! behind a marker (`demo_seed`: "started", then "done"): a start stopped while it seeded left
//! part of the demo, and the next start with `--demo` finishes it. Seeding runs in the start's
//! turn (`server::start_turn`), never beside another seed.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{
    accounts::{NewAccount, count_users, create_seed_account},
    blog::{ArticleInput, Publish, create_article},
    entity::{article, category, post, topic, user, vote},
    forum::{NewCategory, create_category, reply, start_topic},
    settings,
};
use crate::{error::AppError, model::Role};

/// The setting that says a demo seed began ("started") and ended ("done").
const MARKER: &str = "demo_seed";

/// Seeds when the database has no accounts yet, or finishes a demo seed that was cut short;
/// returns whether it did. The accounts skip the password-strength check
/// (create_seed_account): their passwords above are published, which is why no one else may
/// choose them.
pub async fn seed_if_empty(db: &DatabaseConnection) -> Result<bool, AppError> {
    seed(db, &mut Steps(None)).await
}

/// How many steps a seed may take before it stops as if the process were killed: the tests cut
/// it after each step in turn (`Steps(Some(n))`); a start takes them all (`Steps(None)`).
struct Steps(Option<usize>);

impl Steps {
    fn take(&mut self) -> Result<(), AppError> {
        match &mut self.0 {
            Some(0) => Err(AppError::Internal),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

async fn seed(db: &DatabaseConnection, steps: &mut Steps) -> Result<bool, AppError> {
    let finishing = match settings::get(db, MARKER).await?.as_deref() {
        Some("done") => return Ok(false),
        // Cut short, and used since (started without --demo: someone signed up, a demo account
        // was renamed): what there is stays as it is. Finishing would make a demo login again,
        // with its published password, or give the demo's posts to a member who took its name.
        Some(_) if !only_demo_accounts(db).await? => {
            tracing::warn!(
                "the demo content an earlier start began was not finished, and the site has been used since: it is left as it is"
            );
            settings::put(db, MARKER, "done").await?;
            return Ok(false);
        }
        // Cut short: finished now.
        Some(_) => true,
        None if count_users(db).await? > 0 => return Ok(false),
        None => {
            settings::put(db, MARKER, "started").await?;
            false
        }
    };
    let written = write_demo(db, steps).await;
    match &written {
        Ok(()) => {}
        // What a cut seed left may have been changed since, on a site started without --demo
        // (a demo account renamed, a demo topic deleted): what cannot be finished is left as it
        // is, and the site starts, as it would have without the demo.
        Err(e) if finishing => tracing::warn!(
            "the demo content an earlier start began could not be finished ({e}); the site starts with what it has"
        ),
        Err(_) => return written.map(|()| false),
    }
    settings::put(db, MARKER, "done").await?;
    Ok(written.is_ok())
}

/// The demo's steps, each skipped when what it writes is there.
async fn write_demo(db: &DatabaseConnection, steps: &mut Steps) -> Result<(), AppError> {
    let admin = account(db, steps, 0, Role::Admin, Some("Community Manager")).await?;
    let staff = account(db, steps, 1, Role::Staff, Some("Support Lead")).await?;
    let customer = account(db, steps, 2, Role::Customer, None).await?;
    // Casey is a regular, not a new member whose first posts wait for approval.
    let customer = {
        use sea_orm::{ActiveModelTrait, Set};
        let mut row: user::ActiveModel = customer.into();
        row.trust_level = Set(1);
        row.update(db).await?
    };

    let feedback = category_once(
        db,
        steps,
        NewCategory {
            slug: "product-feedback",
            name: "Product feedback",
            description: "Tell us what works, what doesn't, and what you wish it did.",
            colour: "#3b6ea5",
        },
    )
    .await?;
    // Product feedback is a category of ideas: members vote for the ones they want.
    let feedback = {
        use sea_orm::{ActiveModelTrait, Set};
        let mut row: category::ActiveModel = feedback.into();
        row.kind = Set("ideas".into());
        row.update(db).await?
    };
    let questions = category_once(
        db,
        steps,
        NewCategory {
            slug: "questions",
            name: "Questions",
            description: "Ask how to do something; staff and other customers answer.",
            colour: "#2f855a",
        },
    )
    .await?;
    let bugs = category_once(db, steps, NewCategory { slug: "bug-reports", name: "Bug reports", description: "Something broken? Tell us what you did, what you expected and what happened.", colour: "#c05621" }).await?;
    let praise = category_once(
        db,
        steps,
        NewCategory {
            slug: "praise",
            name: "Praise",
            description: "Made your day? Say so — the team reads every one.",
            colour: "#805ad5",
        },
    )
    .await?;

    let t = topic_once(
        db,
        steps,
        &customer,
        &feedback.slug,
        "Export to CSV would save me an hour a week",
        "Every Friday I copy the weekly report into a spreadsheet by hand. A **CSV export** button on the report page would make that a one-click job.",
    )
    .await?;
    reply_once(db, steps, &staff, t.id, "Thanks @casey, that's a clear case. I've passed it to the reports team and will post here when it's scheduled.").await?;
    reply_once(
        db,
        steps,
        &customer,
        t.id,
        "Great, thank you! Happy to test an early version.",
    )
    .await?;
    // Votes, so the idea shows a count: the team's count at once; Casey's own vote waits until
    // the account is a day old, as a new member's does (staff see it as pending). Cast without
    // following, so the demo's notifications stay those of the conversations above.
    for voter in [&staff, &admin, &customer] {
        let quiet = user::Model {
            follow_on_vote: false,
            ..voter.clone()
        };
        vote_once(db, steps, &quiet, t.id).await?;
    }

    let t = topic_once(
        db,
        steps,
        &customer,
        &questions.slug,
        "How do I change the e-mail on my account?",
        "I moved jobs and need invoices to go to my new address. Where is that setting?",
    )
    .await?;
    reply_once(
        db,
        steps,
        &staff,
        t.id,
        "Go to **Settings → Billing → Invoice e-mail**. Changes apply from the next invoice.",
    )
    .await?;

    topic_once(
        db,
        steps,
        &customer,
        &bugs.slug,
        "Dashboard chart is blank on Safari",
        "Since yesterday the usage chart on the dashboard shows nothing in Safari 18. Chrome works fine.",
    )
    .await?;

    let t = topic_once(
        db,
        steps,
        &admin,
        &praise.slug,
        "Welcome to our community",
        "This is where you can talk to us, and where we answer. Staff replies carry a badge, and we measure how fast we get back to you.",
    )
    .await?;
    reply_once(db, steps, &customer, t.id, "Glad to have a place for this!").await?;

    let article = article_once(
        db,
        steps,
        &staff,
        &ArticleInput {
            title: "What we shipped in November".into(),
            slug: String::new(),
            summary: "Faster reports, a calmer dashboard, and the fixes you asked for in the forum.".into(),
            body: "Thank you to everyone who told us what slowed them down this month. Three changes landed:\n\n\
                   - **Reports load in under a second**, even for a year of data.\n\
                   - The dashboard has a quieter layout, with the numbers you check most at the top.\n\
                   - Safari users: the blank usage chart is fixed.\n\n\
                   Next up is the CSV export that @casey asked for. Tell us below what you would like after that."
                .into(),
            cover_image_url: String::new(),
            tags: "release notes, product".into(),
            comments_open: true,
            publish: Publish::Now,
        },
    )
    .await?;
    reply_once(
        db,
        steps,
        &customer,
        article.topic_id,
        "The faster reports are great. Could the dashboard remember my date range?",
    )
    .await?;
    reply_once(
        db,
        steps,
        &admin,
        article.topic_id,
        "Good idea, @casey. It's on the list for December; we'll post here when it ships.",
    )
    .await?;
    Ok(())
}

/// Whether every account is one of the demo's, under its own name and address.
async fn only_demo_accounts(db: &DatabaseConnection) -> Result<bool, AppError> {
    let demo = |u: &user::Model| {
        crate::server::accounts::DEMO_LOGINS
            .iter()
            .any(|(name, ..)| {
                // The key too: an account that gave an address already in use has it as its
                // contact address only, under a key of its own.
                u.username == *name && u.email == demo_address(name) && u.email_key == u.email
            })
    };
    Ok(user::Entity::find().all(db).await?.iter().all(demo))
}

fn demo_address(username: &str) -> String {
    format!("{username}@demo.backyard.invalid")
}

/// Demo login `n` (`accounts::DEMO_LOGINS`): found, or made.
async fn account(
    db: &DatabaseConnection,
    steps: &mut Steps,
    n: usize,
    role: Role,
    title: Option<&str>,
) -> Result<user::Model, AppError> {
    steps.take()?;
    let (username, password, _) = crate::server::accounts::DEMO_LOGINS[n];
    if let Some(found) = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
    {
        return Ok(found);
    }
    let input = NewAccount {
        username: username.into(),
        email: demo_address(username),
        password: password.into(),
        form_token: None,
    };
    create_seed_account(db, input, role, title.map(str::to_string)).await
}

async fn category_once(
    db: &DatabaseConnection,
    steps: &mut Steps,
    input: NewCategory<'_>,
) -> Result<category::Model, AppError> {
    steps.take()?;
    match category::Entity::find()
        .filter(category::Column::Slug.eq(input.slug))
        .one(db)
        .await?
    {
        Some(found) => Ok(found),
        None => create_category(db, input).await,
    }
}

/// A topic with its opening post (one write): found by its author and title, or started.
async fn topic_once(
    db: &DatabaseConnection,
    steps: &mut Steps,
    author: &user::Model,
    category_slug: &str,
    title: &str,
    body: &str,
) -> Result<topic::Model, AppError> {
    steps.take()?;
    match topic::Entity::find()
        .filter(topic::Column::AuthorId.eq(author.id))
        .filter(topic::Column::Title.eq(title))
        .one(db)
        .await?
    {
        Some(found) => Ok(found),
        None => Ok(start_topic(db, author, category_slug, title, body, None)
            .await?
            .0),
    }
}

async fn reply_once(
    db: &DatabaseConnection,
    steps: &mut Steps,
    author: &user::Model,
    topic_id: i64,
    body: &str,
) -> Result<(), AppError> {
    steps.take()?;
    let found = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::AuthorId.eq(author.id))
        .filter(post::Column::Source.eq(body))
        .one(db)
        .await?;
    if found.is_none() {
        reply(db, author, topic_id, body, None).await?;
    }
    Ok(())
}

async fn vote_once(
    db: &DatabaseConnection,
    steps: &mut Steps,
    voter: &user::Model,
    topic_id: i64,
) -> Result<(), AppError> {
    steps.take()?;
    let found = vote::Entity::find()
        .filter(vote::Column::TopicId.eq(topic_id))
        .filter(vote::Column::UserId.eq(voter.id))
        .one(db)
        .await?;
    if found.is_none() {
        super::ideas::vote(db, voter, topic_id, None).await?;
    }
    Ok(())
}

/// An article with its comments' topic (one write): found by its title, or published.
async fn article_once(
    db: &DatabaseConnection,
    steps: &mut Steps,
    author: &user::Model,
    input: &ArticleInput,
) -> Result<article::Model, AppError> {
    steps.take()?;
    match article::Entity::find()
        .filter(article::Column::Title.eq(input.title.as_str()))
        .one(db)
        .await?
    {
        Some(found) => Ok(found),
        None => Ok(create_article(db, author, input, None).await?.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{PaginatorTrait, QueryOrder};

    /// What the demo wrote, as words: accounts, categories, topics with their figures, posts,
    /// votes, articles, the search index and the people told.
    async fn contents(db: &DatabaseConnection) -> Vec<String> {
        let mut out = Vec::new();
        for u in user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(db)
            .await
            .unwrap()
        {
            out.push(format!(
                "user {} {} {} {:?}",
                u.username, u.role, u.trust_level, u.staff_title
            ));
        }
        for c in category::Entity::find()
            .order_by_asc(category::Column::Id)
            .all(db)
            .await
            .unwrap()
        {
            out.push(format!(
                "category {} {} {}/{}",
                c.slug, c.kind, c.topic_count, c.post_count
            ));
        }
        let topics = topic::Entity::find()
            .order_by_asc(topic::Column::Id)
            .all(db)
            .await
            .unwrap();
        for t in &topics {
            out.push(format!(
                "topic {:?} {} posts {} visible {} waits {}",
                t.title,
                t.category_id,
                t.post_count,
                t.visible,
                t.awaiting_staff_since.is_some()
            ));
        }
        let title = |id: i64| topics.iter().find(|t| t.id == id).map(|t| t.title.clone());
        for p in post::Entity::find()
            .order_by_asc(post::Column::Id)
            .all(db)
            .await
            .unwrap()
        {
            out.push(format!(
                "post {:?} #{} by {} {} {:?}",
                title(p.topic_id),
                p.post_number,
                p.author_id,
                p.state,
                p.source
            ));
        }
        for v in vote::Entity::find()
            .order_by_asc(vote::Column::Id)
            .all(db)
            .await
            .unwrap()
        {
            out.push(format!(
                "vote {:?} by {} {}",
                title(v.topic_id),
                v.user_id,
                v.state
            ));
        }
        for a in article::Entity::find().all(db).await.unwrap() {
            out.push(format!("article {:?} {}", a.title, a.status));
        }
        use crate::server::entity::notification;
        use sea_orm::ConnectionTrait;
        let indexed: i64 = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM search_index",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        out.push(format!(
            "notifications {} search rows {indexed}",
            notification::Entity::find().count(db).await.unwrap(),
        ));
        out
    }

    /// A seed stopped after each of its steps in turn (as a start killed while it seeds) is
    /// finished by the next: the same demo as one seed that ran through, once; after that, a
    /// start adds nothing.
    #[tokio::test]
    async fn a_demo_seed_cut_short_at_any_step_is_finished_by_the_next_start() {
        let whole = crate::server::testing::test_db().await;
        assert!(seed_if_empty(&whole).await.unwrap());
        let expected = contents(&whole).await;
        assert!(!seed_if_empty(&whole).await.unwrap());
        assert_eq!(contents(&whole).await, expected, "seeded once");

        let mut cut_at = 0;
        loop {
            let db = crate::server::testing::test_db().await;
            let finished = seed(&db, &mut Steps(Some(cut_at))).await.is_ok();
            if finished {
                break;
            }
            assert!(
                seed_if_empty(&db).await.unwrap(),
                "cut after {cut_at} steps"
            );
            assert_eq!(contents(&db).await, expected, "cut after {cut_at} steps");
            assert!(!seed_if_empty(&db).await.unwrap());
            cut_at += 1;
        }
        assert!(cut_at > 20, "every step was cut: {cut_at}");
    }

    /// A demo cut short, then changed so that it cannot be finished (a demo account renamed on
    /// a site started without --demo meanwhile): the start goes on, and no later one tries again.
    #[tokio::test]
    async fn a_demo_that_cannot_be_finished_is_left_as_it_is() {
        use sea_orm::{ActiveModelTrait, Set};
        let db = crate::server::testing::test_db().await;
        assert!(seed(&db, &mut Steps(Some(3))).await.is_err());
        let casey = user::Entity::find()
            .filter(user::Column::Username.eq("casey"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let mut renamed: user::ActiveModel = casey.into();
        renamed.username = Set("casey2".into());
        renamed.update(&db).await.unwrap();
        let before = contents(&db).await;
        // Renamed, casey is no demo account: the demo stays as it was, and is done.
        assert!(!seed_if_empty(&db).await.unwrap());
        let after = contents(&db).await;
        assert_eq!(after, before);
        assert_eq!(
            settings::get(&db, MARKER).await.unwrap().as_deref(),
            Some("done")
        );
        assert!(!seed_if_empty(&db).await.unwrap());
        assert_eq!(contents(&db).await, after);
    }

    /// On a demo cut before its customer was made, a visitor cannot sign up as that customer
    /// with the demo's address and so pass for a demo account the next start would finish
    /// and give the demo's posts: mail can never reach the demo's addresses, so no one may
    /// give one as their own.
    #[tokio::test]
    async fn a_visitor_cannot_pass_for_an_account_of_a_cut_demo() {
        use crate::server::accounts::{EMAIL_NEVER_DELIVERED, NewAccount, sign_up};
        let db = crate::server::testing::test_db().await;
        assert!(seed(&db, &mut Steps(Some(1))).await.is_err());
        let before = contents(&db).await;
        for name in ["sam", "casey", "Casey"] {
            let stranger = NewAccount {
                username: name.into(),
                email: demo_address(&name.to_lowercase()),
                password: "a stranger's long password".into(),
                form_token: Some(crate::server::auth::random_token()),
            };
            assert_eq!(
                sign_up(&db, stranger).await.unwrap_err(),
                AppError::invalid("email", EMAIL_NEVER_DELIVERED),
                "{name}"
            );
        }
        assert_eq!(contents(&db).await, before);
        assert!(seed_if_empty(&db).await.unwrap());
        let whole = crate::server::testing::test_db().await;
        seed(&whole, &mut Steps(None)).await.unwrap();
        assert_eq!(contents(&db).await, contents(&whole).await);
    }

    /// A database with accounts and no marker is a site, not a demo: nothing is added.
    #[tokio::test]
    async fn a_site_with_accounts_gets_no_demo() {
        let w = crate::server::testing::World::new().await;
        let before = contents(&w.db).await;
        assert!(!seed_if_empty(&w.db).await.unwrap());
        assert_eq!(contents(&w.db).await, before);
    }
}
