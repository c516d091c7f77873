//! `backyard seed-bench`: a large, realistic database for the page and search benchmarks
//! (bench/pages.sh, bench/search.sh). Rows go in with multi-row INSERTs in a few big
//! transactions; every body is its own text (bench_text.rs: words with a realistic spread, so a
//! search finds a few hundred posts, not all or none) and goes through the real content
//! pipeline.
use std::time::Instant;

use crate::bench_text::{self, Shape, Stats};
use app::server::{
    accounts::{NewAccount, create_seed_account},
    blog, content,
    db::begin_write,
    entity::{category, post, topic, user},
    forum,
    records::topics::slugify,
};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
};

pub struct Sizes {
    pub users: u64,
    pub topics: u64,
    pub posts: u64,
    /// Votes on the ideas (the product-feedback category's topics, a quarter of them); 0: none,
    /// and the category stays a forum.
    pub votes: u64,
}

/// Posts in the first topic: the benchmark's "60-post topic".
pub const BENCH_TOPIC_POSTS: u64 = 60;
pub const BENCH_TOPIC_SLUG: &str = "bench-topic-with-sixty-posts";

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
    // member1 joined a year ago like the others: what is new to a member starts when they
    // joined (records::reads::horizon), so a member created now would find nothing new, and
    // their home page would skip the unread counts every older member's page works out.
    user::Entity::update(user::ActiveModel {
        id: Set(first.id),
        created_at: Set(start_time),
        ..Default::default()
    })
    .exec(&txn)
    .await
    .map_err(err)?;
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
    let shape = Shape {
        topics: sizes.topics,
        posts: sizes.posts,
    };
    let users = sizes.users;
    // Topics spread evenly over the last year, so every figures window has some.
    let minutes_per_topic = (365 * 24 * 60 / sizes.topics.max(1)).max(1) as i64;
    let txn = begin_write(db).await.map_err(err)?;
    let mut posts_written = 0u64;
    let mut bytes = (0usize, 0usize);
    let (render_started, mut waited) = (Instant::now(), std::time::Duration::ZERO);
    // Every body is its own text and goes through the real pipeline (content::render). A
    // thread writes and renders the next batch (on all cores) while this one is inserted.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let writer = tokio::task::spawn_blocking(move || write_batches(&shape, users, &tx));
    while let Some(batch) = {
        let wait = Instant::now();
        let b = rx.recv().await;
        waited += wait.elapsed();
        b
    } {
        let mut topics = Vec::with_capacity(batch.topics.len());
        let mut posts = Vec::with_capacity(batch.posts.len());
        for (t, title, count) in batch.topics {
            let created = start_time + Duration::minutes(t as i64 * minutes_per_topic);
            let last = created + Duration::minutes(count as i64 * 7);
            let slug = if t == 1 {
                BENCH_TOPIC_SLUG.into()
            } else {
                slugify(&title)
            };
            topics.push(topic::ActiveModel {
                id: Set(t as i64),
                category_id: Set(category_ids[(t % 4) as usize]),
                author_id: Set(bench_text::author(t, 1, users) as i64),
                title: Set(title),
                slug: Set(slug),
                status: Set("open".into()),
                pinned: Set(false),
                locked: Set(false),
                post_count: Set(count as i32),
                last_post_number: Set(count as i32),
                created_at: Set(created),
                last_posted_at: Set(last),
                ..Default::default()
            });
        }
        for (t, n, source, html) in batch.posts {
            let author = bench_text::author(t, n, users);
            let created =
                start_time + Duration::minutes(t as i64 * minutes_per_topic + n as i64 * 7);
            bytes.0 += source.len();
            bytes.1 += html.len();
            let staff = bench_text::is_staff(author);
            posts.push(post::ActiveModel {
                topic_id: Set(t as i64),
                author_id: Set(author as i64),
                post_number: Set(n as i32),
                source: Set(source),
                html: Set(html),
                state: Set("visible".into()),
                is_staff_reply: Set(staff),
                staff_title: Set(staff.then(|| "Support".to_string())),
                created_at: Set(created),
                published_at: Set(Some(created)),
                ..Default::default()
            });
        }
        // Topics before their posts (foreign keys).
        topic::Entity::insert_many(topics)
            .exec_without_returning(&txn)
            .await
            .map_err(err)?;
        posts_written += posts.len() as u64;
        let mut posts = posts.into_iter().peekable();
        while posts.peek().is_some() {
            post::Entity::insert_many(posts.by_ref().take(1000))
                .exec_without_returning(&txn)
                .await
                .map_err(err)?;
        }
    }
    let rendering = writer.await.map_err(|e| e.to_string())?;
    println!(
        "  posts: {posts_written} in {:.1} s ({:.1} s of it waiting for bodies; rendering took {:.1} s of CPU); {:.0} bytes of Markdown and {:.0} of HTML a post on average",
        render_started.elapsed().as_secs_f64(),
        waited.as_secs_f64(),
        rendering.as_secs_f64(),
        bytes.0 as f64 / posts_written.max(1) as f64,
        bytes.1 as f64 / posts_written.max(1) as f64,
    );
    if db.get_database_backend() == DbBackend::Postgres {
        // The topics went in with their ids: move the sequence past them, or the blog's first
        // comment topic (and every topic after) would take id 1 again.
        txn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('topics', 'id'), (SELECT MAX(id) FROM topics))",
        )
        .await
        .map_err(err)?;
    }
    let derived_started = Instant::now();
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
        // Set-based (UPDATE ... FROM a grouped read, on both engines): a subquery per topic ran
        // for minutes on PostgreSQL, whose planner has no statistics yet for the fresh rows.
        "UPDATE topics SET started_by_staff = opening.is_staff_reply \
         FROM (SELECT topic_id, is_staff_reply FROM posts WHERE post_number = 1) AS opening \
         WHERE opening.topic_id = topics.id",
        // As the lifecycle keeps it: none for a topic staff started.
        "UPDATE topics SET first_staff_reply_at = staff.first \
         FROM (SELECT topic_id, MIN(created_at) AS first FROM posts \
               WHERE post_number > 1 AND is_staff_reply GROUP BY topic_id) AS staff \
         WHERE staff.topic_id = topics.id AND NOT topics.started_by_staff",
        "UPDATE topics SET awaiting_staff_since = created_at \
         WHERE first_staff_reply_at IS NULL AND started_by_staff = FALSE",
        "UPDATE topics SET status = 'resolved', resolved_at = last_posted_at, \
         resolution_confirmed_at = CASE WHEN id % 14 = 0 THEN last_posted_at END \
         WHERE id % 7 = 0 AND first_staff_reply_at IS NOT NULL",
        // Each author follows the topics they posted in, as posting leaves them (a follower
        // is told of each reply by the notification worker).
        "INSERT INTO topic_follows (user_id, topic_id, level, created_at) \
         SELECT author_id, topic_id, 'following', MIN(created_at) FROM posts \
         GROUP BY author_id, topic_id",
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
    println!(
        "  counts, staff columns, flags: {:.1} s",
        derived_started.elapsed().as_secs_f64()
    );
    if sizes.votes > 0 {
        let votes_started = Instant::now();
        let (ideas, votes) = seed_votes(db, &sizes, category_ids[0], now).await?;
        println!(
            "  ideas: {ideas} with {votes} votes in {:.1} s; the idea with a vote from every member is /t/{BENCH_IDEA}",
            votes_started.elapsed().as_secs_f64()
        );
    }
    let blog_started = Instant::now();
    seed_blog(db, sizes.users).await?;
    println!("  blog: {:.1} s", blog_started.elapsed().as_secs_f64());
    // The rows above went in around the posting module, so the search index is built from them
    // in one pass, as after a bulk load.
    let index_started = Instant::now();
    let indexed = app::server::search_index::rebuild(db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "  search index: {indexed} rows in {:.1} s",
        index_started.elapsed().as_secs_f64()
    );
    // Statistics for the planner, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite)
    // gather on a site that grew to this size: without them PostgreSQL guessed a twentieth of
    // the index matched any word and planned a one-word search as a scan of every post (320 ms
    // instead of 13), and SQLite sorted all 23,000 waiting topics for each staff queue page
    // (150 ms) instead of reading the first 50 from their index. PostgreSQL also gets the
    // visibility map autovacuum keeps: without it every index-only scan fetched each row from
    // the table as well (a member's home page at a million posts read 1,191 buffers, 2 to 4 ms,
    // against 991 and 1.3 ms after VACUUM).
    let analyze_started = Instant::now();
    let analyze = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM (ANALYZE)",
        _ => "ANALYZE",
    };
    db.execute_unprepared(analyze).await.map_err(err)?;
    println!(
        "  {analyze}: {:.1} s",
        analyze_started.elapsed().as_secs_f64()
    );
    println!(
        "Seeded {} users, {} topics, {} posts, {BENCH_ARTICLES} articles in {:.1} s. The 60-post topic is /t/1/{BENCH_TOPIC_SLUG}; the article with {BENCH_ARTICLE_COMMENTS} comments is /blog/{BENCH_ARTICLE_SLUG}.",
        sizes.users,
        sizes.topics,
        posts_written,
        started.elapsed().as_secs_f64()
    );
    let (stats, queries) = word_report(&sizes);
    print_word_report(&stats, &queries);
    Ok(())
}

/// The first idea (topic ids divisible by 4 are in product-feedback): every member votes for it,
/// so a status change on it tells thousands of voters.
pub const BENCH_IDEA: i64 = 4;
/// Members above this cast no seeded votes: the vote benchmark votes as them.
pub const SEEDED_VOTERS: u64 = 4000;

/// Ideas and votes: product-feedback becomes an ideas category; the first idea gets a vote from
/// every member, the other ideas share the rest with a long tail (idea k gets about 1/k^0.8 of
/// them), from members 1 to `SEEDED_VOTERS`, cast over the last 90 days (so a week's trend has
/// some); every 10th idea is planned, every 13th in progress and every 17th done. Members'
/// addresses count as confirmed, so their votes count.
async fn seed_votes(
    db: &DatabaseConnection,
    sizes: &Sizes,
    ideas_category: i64,
    now: chrono::DateTime<Utc>,
) -> Result<(u64, u64), String> {
    use app::server::entity::vote;
    let err = |e: sea_orm::DbErr| e.to_string();
    let txn = begin_write(db).await.map_err(err)?;
    for sql in [
        format!("UPDATE categories SET kind = 'ideas' WHERE id = {ideas_category}"),
        "UPDATE users SET email_confirmed_at = created_at".to_string(),
    ] {
        txn.execute_unprepared(&sql).await.map_err(err)?;
    }
    let ideas: Vec<i64> = (1..=sizes.topics as i64).filter(|t| t % 4 == 0).collect();
    let voters = SEEDED_VOTERS.min(sizes.users).max(1);
    let everyone = sizes.users.min(sizes.votes);
    let rest = sizes.votes - everyone;
    let weights: Vec<f64> = (1..ideas.len())
        .map(|k| 1.0 / (k as f64).powf(0.8))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut rows: Vec<vote::ActiveModel> = Vec::new();
    let mut written = 0u64;
    let window = 90 * 24 * 60;
    let push = |rows: &mut Vec<vote::ActiveModel>, topic: i64, user: u64, n: u64| {
        let minutes = ((topic as u64 * 7919 + user * 104_729 + n) % window) as i64;
        rows.push(vote::ActiveModel {
            topic_id: Set(topic),
            user_id: Set(user as i64),
            created_at: Set(now - Duration::minutes(minutes)),
            state: Set("counted".into()),
            held_reason: Set(String::new()),
            review_item_id: Set(None),
            client_address: Set(String::new()),
            client_range: Set(String::new()),
            ..Default::default()
        });
    };
    for user in 1..=everyone {
        push(&mut rows, ideas[0], user, 0);
    }
    let mut left = rest;
    for (k, idea) in ideas.iter().enumerate().skip(1) {
        let share = ((weights[k - 1] / total) * rest as f64).round() as u64;
        let n = share.max(1).min(voters).min(left);
        left -= n;
        // Distinct members: a stride through them that is prime to their number.
        let start = (*idea as u64 * 31) % voters;
        let stride = [7919u64, 104_729, 1_299_709]
            .into_iter()
            .find(|p| !voters.is_multiple_of(*p))
            .unwrap_or(1);
        for j in 0..n {
            push(&mut rows, *idea, (start + j * stride) % voters + 1, j);
        }
        if rows.len() >= 20_000 {
            written += rows.len() as u64;
            for chunk in rows.chunks(1000) {
                vote::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await
                    .map_err(err)?;
            }
            rows.clear();
        }
    }
    written += rows.len() as u64;
    for chunk in rows.chunks(1000) {
        vote::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(err)?;
    }
    for sql in [
        format!(
            "UPDATE topics SET vote_count =              (SELECT COUNT(*) FROM votes WHERE votes.topic_id = topics.id AND state = 'counted')              WHERE category_id = {ideas_category}"
        ),
        format!(
            "UPDATE topics SET status = CASE WHEN id % 40 = 0 THEN 'planned'              WHEN id % 52 = 0 THEN 'in_progress' ELSE 'resolved' END,              status_changed_at = last_posted_at, resolved_at = CASE WHEN id % 40 = 0 OR id % 52 = 0              THEN NULL ELSE last_posted_at END              WHERE category_id = {ideas_category} AND id <> {BENCH_IDEA}              AND (id % 40 = 0 OR id % 52 = 0 OR id % 68 = 0)"
        ),
    ] {
        txn.execute_unprepared(&sql).await.map_err(err)?;
    }
    txn.commit().await.map_err(err)?;
    Ok((ideas.len() as u64, written))
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
    let mut newest = None;
    for week in 1..=BENCH_ARTICLES {
        let input = blog::ArticleInput {
            title: format!("Release notes, week {week}"),
            slug: String::new(),
            summary: String::new(),
            body: bench_text::article(week),
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
        let subject = bench_text::topic(1 << 41, 0).subject;
        let body = bench_text::post(1 << 41, n, &subject, author.role == "staff").source;
        forum::reply(db, &author, newest.topic_id, &body, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Topics (id, title, post count) and their posts (topic, number, Markdown, HTML), in order.
struct Batch {
    topics: Vec<(u64, String, u64)>,
    posts: Vec<(u64, u64, String, String)>,
}

/// Writes and renders every topic's posts, about 2,000 posts a batch, rendering each batch on
/// all cores; gives the CPU time rendering took.
fn write_batches(
    shape: &Shape,
    users: u64,
    tx: &tokio::sync::mpsc::Sender<Batch>,
) -> std::time::Duration {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cpu = std::time::Duration::ZERO;
    let mut t = 1;
    while t <= shape.topics {
        let mut batch = Batch {
            topics: Vec::new(),
            posts: Vec::new(),
        };
        let mut sources = Vec::new();
        while t <= shape.topics && sources.len() < 2000 {
            let text = bench_text::topic(t, (t % 4) as usize);
            let count = shape.posts_in(t, BENCH_TOPIC_POSTS);
            let title = if t == 1 {
                bench_text::BENCH_TOPIC_TITLE.to_string()
            } else {
                text.title
            };
            batch.topics.push((t, title, count));
            for n in 1..=count {
                let staff = bench_text::is_staff(bench_text::author(t, n, users));
                sources.push((t, n, bench_text::post(t, n, &text.subject, staff).source));
            }
            t += 1;
        }
        let chunk = sources.len().div_ceil(cores).max(1);
        let rendered: Vec<(Vec<String>, std::time::Duration)> = std::thread::scope(|scope| {
            let handles: Vec<_> = sources
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let started = Instant::now();
                        let html = part.iter().map(|(_, _, s)| content::render(s)).collect();
                        (html, started.elapsed())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("rendering a bench body panicked"))
                .collect()
        });
        let html = rendered.into_iter().flat_map(|(html, took)| {
            cpu += took;
            html
        });
        batch.posts = sources
            .into_iter()
            .zip(html)
            .map(|((t, n, source), html)| (t, n, source, html))
            .collect();
        if tx.blocking_send(batch).is_err() {
            break; // the inserting side failed; it reports why
        }
    }
    cpu
}

/// What the seed's words look like, and the benchmark's queries with how many posts and topics
/// the seed wrote that match each (bench/search.sh prints them next to what the search finds).
pub fn word_report(sizes: &Sizes) -> (Stats, Vec<bench_text::Query>) {
    let shape = Shape {
        topics: sizes.topics,
        posts: sizes.posts,
    };
    let stats = Stats::collect(&shape, BENCH_TOPIC_POSTS, sizes.users);
    let queries = stats.queries(&shape, BENCH_TOPIC_POSTS, sizes.users);
    (stats, queries)
}

pub fn print_word_report(stats: &Stats, queries: &[bench_text::Query]) {
    println!(
        "Words: {} distinct words in {} posts of {} topics ({} posts with CJK text). Posts each word occurs in:",
        stats.words.len(),
        stats.posts,
        stats.topics,
        stats.cjk_posts
    );
    for (band, n) in stats.histogram() {
        println!("  {n:>6} words {band}");
    }
    println!("Queries for the benchmark (posts / topics the seed wrote that match):");
    for q in queries {
        println!(
            "  {:<8} {:<44} {:>7} {:>7}",
            q.kind, q.text, q.posts, q.topics
        );
    }
}
