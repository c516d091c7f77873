//! `backyard seed-bench`: a large, realistic database for the page benchmarks (bench/pages.sh).
//! Rows go in with multi-row INSERTs in a few big transactions; bodies go through the real
//! content pipeline once each and are reused.
use std::time::Instant;

use app::server::{
    accounts::{NewAccount, create_seed_account},
    blog, content,
    db::begin_write,
    entity::{category, post, topic, user},
    forum,
};
use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};

pub struct Sizes {
    pub users: u64,
    pub topics: u64,
    pub posts: u64,
}

/// Posts in the first topic: the benchmark's "60-post topic".
pub const BENCH_TOPIC_POSTS: u64 = 60;
pub const BENCH_TOPIC_SLUG: &str = "bench-topic-with-sixty-posts";

const BODIES: [&str; 4] = [
    "Since the last update the **export** button takes a long time. Is there a known issue? I tried in two browsers and the result is the same: a spinner for about a minute, then the file.",
    "Thanks for the quick answer! That fixed it for me.\n\n- cleared the cache\n- logged in again\n- exported the report\n\nAll good now.",
    "> Is there a way to schedule reports?\n\nNot yet, but it's on our list. You can follow progress in the [roadmap](https://example.com/roadmap).",
    "Here is what I see in the console:\n\n```\nTypeError: cannot read properties of undefined (reading 'rows')\n```\n\nHappens on Chrome and Firefox.",
];

pub async fn run(db: &DatabaseConnection, sizes: Sizes) -> Result<(), String> {
    let started = Instant::now();
    let err = |e: sea_orm::DbErr| e.to_string();
    if user::Entity::find().count(db).await.map_err(err)? > 0 {
        return Err("seed-bench needs an empty database (point DATABASE_URL at a new file)".into());
    }
    // One real account (to learn the hash format and be able to log in), then copies.
    let first = create_seed_account(
        db,
        NewAccount {
            username: "member1".into(),
            email: "member1@bench.invalid".into(),
            password: "bench-password-1".into(),
            form_token: None,
        },
        app::model::Role::Customer,
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    let now = Utc::now();
    let start_time = now - Duration::days(365);

    let txn = begin_write(db).await.map_err(err)?;
    let users: Vec<user::ActiveModel> = (2..=sizes.users)
        .map(|i| user::ActiveModel {
            username: Set(format!("member{i}")),
            username_key: Set(format!("member{i}")),
            email: Set(format!("member{i}@bench.invalid")),
            email_key: Set(format!("member{i}@bench.invalid")),
            display_name: Set(format!("Member {i}")),
            password_hash: Set(first.password_hash.clone()),
            role: Set(if i % 50 == 0 { "staff" } else { "customer" }.into()),
            staff_title: Set((i % 50 == 0).then(|| "Support".to_string())),
            trust_level: Set(0),
            created_at: Set(start_time),
            ..Default::default()
        })
        .collect();
    for chunk in users.chunks(1000) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(err)?;
    }
    let category_ids: Vec<i64> = {
        let mut ids = Vec::new();
        for (i, (slug, name)) in [
            ("product-feedback", "Product feedback"),
            ("questions", "Questions"),
            ("bug-reports", "Bug reports"),
            ("praise", "Praise"),
        ]
        .into_iter()
        .enumerate()
        {
            let per_category = sizes.topics / 4 + u64::from((i as u64) < sizes.topics % 4);
            let row = category::ActiveModel {
                slug: Set(slug.into()),
                name: Set(name.into()),
                description: Set(format!("Benchmark category {name}.")),
                position: Set(i as i32),
                colour: Set("#3b6ea5".into()),
                kind: Set("forum".into()),
                response_target_minutes: Set(24 * 60),
                topic_count: Set(per_category as i32),
                post_count: Set(0),
                last_posted_at: Set(Some(now)),
                created_at: Set(start_time),
                ..Default::default()
            };
            ids.push(
                category::Entity::insert(row)
                    .exec(&txn)
                    .await
                    .map_err(err)?
                    .last_insert_id,
            );
        }
        ids
    };
    txn.commit().await.map_err(err)?;

    // Posts per topic: the first has exactly 60; the rest share what is left evenly.
    let rest = sizes.posts.saturating_sub(BENCH_TOPIC_POSTS);
    let others = sizes.topics.saturating_sub(1).max(1);
    let posts_in = |t: u64| {
        if t == 1 {
            BENCH_TOPIC_POSTS
        } else {
            rest / others + u64::from(t - 2 < rest % others)
        }
    };
    let rendered: Vec<String> = BODIES.iter().map(|b| content::render(b)).collect();

    // Topics spread evenly over the last year, so every figures window has some.
    let minutes_per_topic = (365 * 24 * 60 / sizes.topics.max(1)).max(1) as i64;
    let mut topics = Vec::with_capacity(100);
    let mut posts = Vec::with_capacity(5000);
    let txn = begin_write(db).await.map_err(err)?;
    let mut posts_written = 0u64;
    for t in 1..=sizes.topics {
        let count = posts_in(t);
        let created = start_time + Duration::minutes(t as i64 * minutes_per_topic);
        let last = created + Duration::minutes(count as i64 * 7);
        let author = (t * 7919) % sizes.users + 1;
        topics.push(topic::ActiveModel {
            id: Set(t as i64),
            category_id: Set(category_ids[(t % 4) as usize]),
            author_id: Set(author as i64),
            title: Set(if t == 1 {
                "Bench topic with sixty posts".into()
            } else {
                format!("Feedback topic number {t} about exports and reports")
            }),
            slug: Set(if t == 1 {
                BENCH_TOPIC_SLUG.into()
            } else {
                format!("feedback-topic-number-{t}-about-exports-and-reports")
            }),
            status: Set("open".into()),
            pinned: Set(false),
            locked: Set(false),
            post_count: Set(count as i32),
            created_at: Set(created),
            last_posted_at: Set(last),
            ..Default::default()
        });
        for n in 1..=count {
            let author = if n == 1 {
                author
            } else {
                (t * 31 + n * 17) % sizes.users + 1
            };
            let variant = ((t + n) % 4) as usize;
            posts.push(post::ActiveModel {
                topic_id: Set(t as i64),
                author_id: Set(author as i64),
                post_number: Set(n as i32),
                source: Set(BODIES[variant].into()),
                html: Set(rendered[variant].clone()),
                state: Set("visible".into()),
                is_staff_reply: Set(author % 50 == 0),
                staff_title: Set((author % 50 == 0).then(|| "Support".to_string())),
                created_at: Set(created + Duration::minutes(n as i64 * 7)),
                ..Default::default()
            });
        }
        // Topics before their posts (foreign keys), flushed together.
        if posts.len() >= 2000 || t == sizes.topics {
            topic::Entity::insert_many(std::mem::take(&mut topics))
                .exec_without_returning(&txn)
                .await
                .map_err(err)?;
            for chunk in posts.chunks(1000) {
                post::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await
                    .map_err(err)?;
            }
            posts_written += posts.len() as u64;
            posts.clear();
        }
    }
    txn.execute_unprepared(
        "UPDATE categories SET post_count = \
         (SELECT COALESCE(SUM(post_count), 0) FROM topics WHERE topics.category_id = categories.id)",
    )
    .await
    .map_err(err)?;
    // The staff-response columns, as the real rules would have left them: who started each
    // topic, when staff first replied, which still wait; every 7th answered topic resolved and
    // every 14th confirmed.
    for sql in [
        "UPDATE topics SET started_by_staff = EXISTS (SELECT 1 FROM posts \
         WHERE posts.topic_id = topics.id AND posts.post_number = 1 AND posts.is_staff_reply)",
        "UPDATE topics SET first_staff_reply_at = (SELECT MIN(created_at) FROM posts \
         WHERE posts.topic_id = topics.id AND posts.post_number > 1 AND posts.is_staff_reply)",
        "UPDATE topics SET awaiting_staff_since = created_at \
         WHERE first_staff_reply_at IS NULL AND started_by_staff = FALSE",
        "UPDATE topics SET status = 'resolved', resolved_at = last_posted_at, \
         resolution_confirmed_at = CASE WHEN id % 14 = 0 THEN last_posted_at END \
         WHERE id % 7 = 0 AND first_staff_reply_at IS NOT NULL",
        // A moderator (member100), and a review queue of open items: every 50th post flagged
        // (10,000 with the default sizes), by a member who is not its author.
        "UPDATE users SET role = 'moderator' WHERE id = 100",
        "INSERT INTO flags (post_id, flagger_id, reason, note, weight, state, created_at) \
         SELECT id, CASE WHEN author_id = 7 THEN 8 ELSE 7 END, \
         CASE id % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'rude' WHEN 2 THEN 'off_topic' ELSE 'illegal' END, \
         '', 100, 'open', created_at FROM posts WHERE id % 50 = 0",
        "INSERT INTO review_items (post_id, kind, state, snapshot_html, category_id, created_at, resolution) \
         SELECT posts.id, 'flagged', 'open', posts.html, topics.category_id, posts.created_at, '' \
         FROM posts JOIN topics ON topics.id = posts.topic_id WHERE posts.id % 50 = 0",
    ] {
        txn.execute_unprepared(sql).await.map_err(err)?;
    }
    txn.commit().await.map_err(err)?;
    seed_blog(db, sizes.users).await?;
    println!(
        "Seeded {} users, {} topics, {} posts, {BENCH_ARTICLES} articles in {:.1} s. The 60-post topic is /t/1/{BENCH_TOPIC_SLUG}; the article with {BENCH_ARTICLE_COMMENTS} comments is /blog/{BENCH_ARTICLE_SLUG}.",
        sizes.users,
        sizes.topics,
        posts_written,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub const BENCH_ARTICLES: u64 = 200;
pub const BENCH_ARTICLE_COMMENTS: u64 = 40;
pub const BENCH_ARTICLE_SLUG: &str = "release-notes-week-200";

/// The blog, through the real rules: articles by a staff member (member50), and comments on
/// the newest one from customers and staff.
async fn seed_blog(db: &DatabaseConnection, users: u64) -> Result<(), String> {
    let load = |id: u64| async move {
        user::Entity::find_by_id(id as i64)
            .one(db)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("bench user {id} is missing"))
    };
    let writer = load(50.min(users)).await?;
    let body = BODIES.join("\n\n");
    let mut newest = None;
    for week in 1..=BENCH_ARTICLES {
        let input = blog::ArticleInput {
            title: format!("Release notes, week {week}"),
            slug: String::new(),
            summary: String::new(),
            body: body.clone(),
            cover_image_url: String::new(),
            tags: "release-notes, product".into(),
            comments_open: true,
            publish: blog::Publish::Now,
        };
        let (a, _) = blog::create_article(db, &writer, &input, None)
            .await
            .map_err(|e| e.to_string())?;
        newest = Some(a);
    }
    let Some(newest) = newest else { return Ok(()) };
    for n in 1..=BENCH_ARTICLE_COMMENTS {
        let author = load((n * 97) % users + 1).await?;
        forum::reply(db, &author, newest.topic_id, BODIES[(n % 4) as usize], None)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
