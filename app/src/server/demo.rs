//! Demo content for a new database: three accounts, four categories (product feedback takes
//! votes), a few conversations.
use sea_orm::DatabaseConnection;

use super::{
    accounts::{NewAccount, count_users, create_seed_account},
    blog::{ArticleInput, Publish, create_article},
    forum::{NewCategory, create_category, reply, start_topic},
};
use crate::{error::AppError, model::Role};

/// Seeds when the database has no accounts yet; returns whether it did. The accounts skip the
/// password-strength check (create_seed_account): their passwords above are published, which
/// is why no one else may choose them.
pub async fn seed_if_empty(db: &DatabaseConnection) -> Result<bool, AppError> {
    if count_users(db).await? > 0 {
        return Ok(false);
    }
    let account = |username: &str, password: &str| NewAccount {
        username: username.into(),
        email: format!("{username}@demo.backyard.invalid"),
        password: password.into(),
        form_token: None,
    };
    let admin = create_seed_account(
        db,
        account("admin", crate::server::accounts::DEMO_LOGINS[0].1),
        Role::Admin,
        Some("Community Manager".into()),
    )
    .await?;
    let staff = create_seed_account(
        db,
        account("sam", crate::server::accounts::DEMO_LOGINS[1].1),
        Role::Staff,
        Some("Support Lead".into()),
    )
    .await?;
    let customer = create_seed_account(
        db,
        account("casey", crate::server::accounts::DEMO_LOGINS[2].1),
        Role::Customer,
        None,
    )
    .await?;
    // Casey is a regular, not a new member whose first posts wait for approval.
    let customer = {
        use sea_orm::{ActiveModelTrait, Set};
        let mut row: super::entity::user::ActiveModel = customer.into();
        row.trust_level = Set(1);
        row.update(db).await?
    };

    let feedback = create_category(
        db,
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
        let mut row: super::entity::category::ActiveModel = feedback.into();
        row.kind = Set("ideas".into());
        row.update(db).await?
    };
    let questions = create_category(
        db,
        NewCategory {
            slug: "questions",
            name: "Questions",
            description: "Ask how to do something; staff and other customers answer.",
            colour: "#2f855a",
        },
    )
    .await?;
    let bugs = create_category(db, NewCategory { slug: "bug-reports", name: "Bug reports", description: "Something broken? Tell us what you did, what you expected and what happened.", colour: "#c05621" }).await?;
    let praise = create_category(
        db,
        NewCategory {
            slug: "praise",
            name: "Praise",
            description: "Made your day? Say so — the team reads every one.",
            colour: "#805ad5",
        },
    )
    .await?;

    let (t, _) = start_topic(
        db,
        &customer,
        &feedback.slug,
        "Export to CSV would save me an hour a week",
        "Every Friday I copy the weekly report into a spreadsheet by hand. A **CSV export** button on the report page would make that a one-click job.",
        None,
    )
    .await?;
    reply(db, &staff, t.id, "Thanks @casey, that's a clear case. I've passed it to the reports team and will post here when it's scheduled.", None).await?;
    reply(
        db,
        &customer,
        t.id,
        "Great, thank you! Happy to test an early version.",
        None,
    )
    .await?;
    // Votes, so the idea shows a count: the team's count at once; Casey's own vote waits until
    // the account is a day old, as a new member's does (staff see it as pending). Cast without
    // following, so the demo's notifications stay those of the conversations above.
    for voter in [&staff, &admin, &customer] {
        let quiet = super::entity::user::Model {
            follow_on_vote: false,
            ..voter.clone()
        };
        super::ideas::vote(db, &quiet, t.id, None).await?;
    }

    let (t, _) = start_topic(
        db,
        &customer,
        &questions.slug,
        "How do I change the e-mail on my account?",
        "I moved jobs and need invoices to go to my new address. Where is that setting?",
        None,
    )
    .await?;
    reply(
        db,
        &staff,
        t.id,
        "Go to **Settings → Billing → Invoice e-mail**. Changes apply from the next invoice.",
        None,
    )
    .await?;

    start_topic(
        db,
        &customer,
        &bugs.slug,
        "Dashboard chart is blank on Safari",
        "Since yesterday the usage chart on the dashboard shows nothing in Safari 18. Chrome works fine.",
        None,
    )
    .await?;

    let (t, _) = start_topic(
        db,
        &admin,
        &praise.slug,
        "Welcome to our community",
        "This is where you can talk to us, and where we answer. Staff replies carry a badge, and we measure how fast we get back to you.",
        None,
    )
    .await?;
    reply(db, &customer, t.id, "Glad to have a place for this!", None).await?;

    let (article, _) = create_article(
        db,
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
        None,
    )
    .await?;
    reply(
        db,
        &customer,
        article.topic_id,
        "The faster reports are great. Could the dashboard remember my date range?",
        None,
    )
    .await?;
    reply(
        db,
        &admin,
        article.topic_id,
        "Good idea, @casey. It's on the list for December; we'll post here when it ships.",
        None,
    )
    .await?;
    Ok(true)
}
