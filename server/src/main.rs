//! `backyard`: serve the site, or an operator command.
use std::{io::Write, time::Duration};

use app::server::accounts::sign_in;
use app::server::{
    accounts, config::Config, db, demo, forms, mail, session_store::DbSessionStore,
    state::AppState, stopping::Stopping,
};
use server::metrics::{self, Worker};
use tower_sessions::session_store::ExpiredDeletion;
use tracing_subscriber::EnvFilter;

/// See server/Cargo.toml: a member's page allocates often and briefly. The password hashes'
/// megabyte blocks go back to the system when freed (bench/memory.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's own setter (its static library is linked in by the mimalloc crate).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (include/mimalloc.h).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Freed memory goes back to the system at once rather than 10 ms later: under 32 members'
/// page loads the peak was 68 MB instead of 82 (glibc: 60), at no cost in throughput
/// (docs/benchmarks.md, run 4).
fn return_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's options, which it reads on each purge.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

const USAGE: &str = "\
usage: backyard [COMMAND]

commands:
  serve [--demo]   run the site (the default); --demo seeds demo content into a new database
                   (so does `cargo leptos watch`, which runs this binary without a command)
  create-admin     make an admin account: --username NAME --email ADDRESS [--title TITLE];
                   the password is read from BACKYARD_ADMIN_PASSWORD or asked for on stdin
  seed-demo        add the demo content to a database that has no accounts yet
  migrate          apply database migrations and exit
  server-functions list every server function's method and path (what the cross-site tests post to)
  set KEY VALUE    change a site setting (e.g. `set rate_posts_per_10_min 20`; 0 turns a limit off);
                   `set` alone lists the settings and the values each takes
  backup PATH      write a consistent copy of the live SQLite database to PATH (a new file);
                   the site keeps serving meanwhile
  restore PATH     replace the SQLite database with the backup at PATH; stop the server first
  migrate-data --from sqlite://PATH --to postgres://...
                   copy the SQLite site (it may keep serving) into an empty PostgreSQL database:
                   migrates it, copies every table in one transaction, resets its sequences and
                   checks every table's row count and checksum on both sides before committing
  rerender         run every stored post and article through the current content pipeline
                   (after an upgrade that changes it); restart the server afterwards
  uploads migrate --to STORE
                   copy every stored file from the current store (BACKYARD_UPLOADS) to STORE:
                   database, dir:/some/path or s3 (with the BACKYARD_S3_* settings); each copy
                   is read back and compared. Then set BACKYARD_UPLOADS=STORE and restart
  search-reindex   rebuild the search index from every post and article (after a bulk import,
                   or to be sure); the site may keep serving meanwhile
  seed-bench       fill an empty database for the benchmarks: [--members N] [--topics N] [--posts N]
                   (defaults 5000, 10000, 500000) [--votes N] (votes on the ideas, a quarter of
                   the topics; default 0); prints the queries bench/search.sh runs
  bench-queries    print what seed-bench would write, without a database: its word statistics,
                   then the benchmark's queries as kind<TAB>query<TAB>posts<TAB>topics lines
                   (same size flags as seed-bench)
  receive-mail     read one e-mail on stdin (from an MTA's pipe): a reply to a notification is
                   posted, a bounce marks its address; anything else is refused and logged.
                   Exits 0 once the message is dealt with, 75 (try again later) when the
                   database cannot be reached

Settings come from the environment; see the README.";

#[tokio::main]
async fn main() {
    return_freed_memory_at_once();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("receive-mail") {
        receive_mail().await;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => fail(&e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .init();

    let command = args.first().map(String::as_str).unwrap_or("serve");
    if matches!(command, "-h" | "--help" | "help") {
        println!("{USAGE}");
        return;
    }
    if command == "server-functions" {
        let mut paths: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
        paths.sort();
        for (path, method) in paths {
            println!("{method} {path}");
        }
        return;
    }
    if command == "bench-queries" {
        let (stats, queries) = server::bench_seed::word_report(&bench_sizes(&args));
        server::bench_seed::print_word_report(&stats, &queries);
        if args.iter().any(|a| a == "--all-words") {
            let mut all: Vec<_> = stats.words.iter().collect();
            all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (word, (posts, topics)) in all {
                println!("  {word:<24} {posts:>7} {topics:>7}");
            }
        }
        println!();
        print!("{}", server::bench_text::tsv(&queries));
        return;
    }
    if command == "migrate-data" {
        let (Some(from), Some(to)) = (flag_value(&args, "--from"), flag_value(&args, "--to"))
        else {
            fail(&format!(
                "migrate-data needs --from sqlite://PATH and --to postgres://...\n\n{USAGE}"
            ));
        };
        let mut progress = |line: &str| println!("{line}");
        match server::migrate_data::run(&from, &to, &mut progress).await {
            Ok(outcome) => println!("{}", outcome.report()),
            Err(e) => fail(&format!("migrate-data: {e}")),
        }
        return;
    }
    if command == "restore" {
        let Some(from) = args.get(1) else {
            fail(&format!("restore needs the PATH of a backup\n\n{USAGE}"));
        };
        let result = match server::backup::sqlite_file(&config.database_url) {
            Ok(database) => server::backup::restore(std::path::Path::new(from), &database)
                .await
                .map(|()| database),
            Err(e) => Err(e),
        };
        match result {
            Ok(database) => println!("Restored {from} to {}.", database.display()),
            Err(e) => fail(&e),
        }
        return;
    }
    let conn = match db::connect(&config.database_url).await {
        Ok(c) => c,
        Err(e) => fail(&format!("cannot open the database at DATABASE_URL: {e}")),
    };
    // `cargo leptos watch` (the development loop, scripts/dev.sh) starts the binary without
    // arguments; it serves the demo site, as scripts/start.sh does. Only the watch sets
    // LEPTOS_WATCH (a deployment runs `backyard serve` itself), and demo content goes only into
    // a database without accounts.
    let watched = args.is_empty() && std::env::var_os("LEPTOS_WATCH").is_some();
    let demo = match command {
        "serve" => watched || args.iter().any(|a| a == "--demo"),
        "seed-demo" => true,
        _ => false,
    };
    // Servers started together on one database migrate (and seed) one after another.
    let turn = match server::start_turn::start_turn(&conn, &config.database_url, || {
        tracing::info!("another start on this database is migrating it; waiting for it to finish")
    })
    .await
    {
        Ok(turn) => turn,
        Err(e) => fail(&format!("cannot take the start's turn: {e}")),
    };
    if let Err(e) = db::migrate(&conn).await {
        fail(&format!("database migration failed: {e}"));
    }
    if demo {
        seed(&conn).await;
    }
    drop(turn);

    match command {
        "serve" => serve(config, conn).await,
        "migrate" => println!("Migrations applied."),
        "set" => match (args.get(1), args.get(2)) {
            (Some(key), Some(value)) => set(&conn, key, value).await,
            _ => fail(&format!(
                "set needs a KEY and a VALUE\n\n{}",
                settings_list()
            )),
        },
        // Seeded above, in the start's turn.
        "seed-demo" => {}
        "backup" => {
            let Some(to) = args.get(1) else {
                fail(&format!("backup needs a PATH to write to\n\n{USAGE}"));
            };
            if let Err(e) = server::backup::sqlite_file(&config.database_url) {
                fail(&e);
            }
            match server::backup::backup(&conn, std::path::Path::new(to)).await {
                Ok(bytes) => println!("Backed up to {to} ({bytes} bytes)."),
                Err(e) => fail(&e),
            }
        }
        "create-admin" => create_admin(&conn, &args[1..]).await,
        "rerender" => match app::server::rerender::rerender_all(&conn).await {
            Ok(r) => println!(
                "Rendered {} posts ({} changed) and {} articles ({} changed).",
                r.posts, r.posts_changed, r.articles, r.articles_changed
            ),
            Err(e) => fail(&e.to_string()),
        },
        "search-reindex" => match app::server::search_index::rebuild(&conn).await {
            Ok(n) => println!("Indexed {n} posts and articles."),
            Err(e) => fail(&e.to_string()),
        },
        "uploads" => uploads_command(&config, &conn, &args[1..]).await,
        "seed-bench" => {
            if let Err(e) = server::bench_seed::run(&conn, bench_sizes(&args)).await {
                fail(&e);
            }
        }
        other => fail(&format!("unknown command {other:?}\n\n{USAGE}")),
    }
}

async fn serve(config: Config, conn: sea_orm::DatabaseConnection) {
    // A mail setting that cannot work stops the start, before anything is queued for it.
    let transport = match mail::Transport::from_config(&config) {
        Ok(t) => t,
        Err(e) => fail(&e),
    };
    // Notification e-mails link back to the site and take replies at the configured address.
    app::server::notify::compose::configure(app::server::notify::compose::Outside {
        public_url: config.public_url.clone(),
        reply_address: config.reply_address.clone(),
    });
    // The key that signs unsubscribe and reply links, made before the first e-mail needs it.
    if let Err(e) = app::server::signing::ensure_key(&conn).await {
        fail(&format!("cannot prepare the token-signing key: {e:?}"));
    }
    // The first start after the upgrade that added search fills its index (once).
    match app::server::search_index::ensure_built(&conn).await {
        Ok(Some(n)) => println!("Built the search index: {n} posts and articles."),
        Ok(None) => {}
        Err(e) => fail(&format!("cannot build the search index: {e:?}")),
    }
    let addr = config.addr;
    let metrics_addr = config.metrics.addr;
    // Allowed (a private interface the scraper reaches), but worth a word: without a token,
    // anyone who reaches that address reads the figures.
    if let Some(a) = metrics_addr
        && !a.ip().is_loopback()
        && config.metrics.token.is_none()
    {
        eprintln!(
            "warning: /metrics is served on {a} (BACKYARD_METRICS_ADDR), not a loopback address, \
             without BACKYARD_METRICS_TOKEN: anyone who reaches it can read the figures"
        );
    }
    let public_url = config.public_url.clone();
    let state: AppState = server::app_state(config, conn.clone());
    // The background workers stop between rounds once a stop is asked for (SIGTERM or Ctrl-C),
    // while the requests in flight finish; the pool closes after them. A round cut off by the
    // closing pool failed with an error in the log (its work waited for the next start).
    let (stop, stopping) = Stopping::channel();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let workers = [
        Some(spawn_cleanup(
            conn.clone(),
            state.files.clone(),
            stopping.clone(),
        )),
        spawn_mail(conn.clone(), transport, stopping.clone()),
        Some(spawn_notifications(conn.clone(), stopping)),
    ];
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => fail(&format!("cannot listen on {addr} (BACKYARD_ADDR): {e}")),
    };
    let routers = server::routers(state);
    if let (Some(metrics_router), Some(metrics_addr)) = (routers.metrics, metrics_addr) {
        let metrics_listener = match tokio::net::TcpListener::bind(metrics_addr).await {
            Ok(l) => l,
            Err(e) => fail(&format!(
                "cannot listen on {metrics_addr} (BACKYARD_METRICS_ADDR): {e}"
            )),
        };
        println!("Metrics at http://{metrics_addr}{}", server::metrics::PATH);
        tokio::spawn(server::serve::serve(
            metrics_listener,
            metrics_router,
            shutdown_signal(),
        ));
    }
    println!("Backyard is running at {public_url}");
    server::serve::serve(listener, routers.site, shutdown_signal()).await;
    for mut worker in workers.into_iter().flatten() {
        if tokio::time::timeout(Duration::from_secs(2), &mut worker)
            .await
            .is_err()
        {
            // Ended here, not left to run on against the closed pool, where writing what it
            // did (say, a mail the server accepted just now) failed with an error in the log.
            // What it had not written down is done again at the next start.
            worker.abort();
            let _ = worker.await;
            tracing::warn!("a background worker was still busy when the database closed");
        }
    }
    // Closing the pool checkpoints SQLite's write-ahead log into the database file.
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the database");
    }
}

/// `backyard uploads migrate --to STORE`.
async fn uploads_command(config: &Config, conn: &sea_orm::DatabaseConnection, args: &[String]) {
    let to = match args {
        [verb, flag, to] if verb == "migrate" && flag == "--to" => to,
        _ => fail(&format!("uploads needs `migrate --to STORE`\n\n{USAGE}")),
    };
    let target = app::server::config::UploadStore::from_lookup(|key| {
        if key == "BACKYARD_UPLOADS" {
            Some(to.clone())
        } else {
            std::env::var(key).ok()
        }
    })
    .unwrap_or_else(|e| fail(&e));
    let from =
        app::server::uploads::store::open(&config.uploads, conn).unwrap_or_else(|e| fail(&e));
    let into = app::server::uploads::store::open(&target, conn).unwrap_or_else(|e| fail(&e));
    if from.kind() == into.kind() && format!("{:?}", config.uploads) == format!("{target:?}") {
        fail("the files are already in that store (BACKYARD_UPLOADS names it)");
    }
    match app::server::uploads::migrate(from.as_ref(), into.as_ref()).await {
        Ok(n) => println!(
            "Copied {n} stored files from {:?} to {target:?}, each read back and compared. Now set BACKYARD_UPLOADS={to} and restart.",
            config.uploads
        ),
        Err(e) => fail(&e),
    }
}

/// Deletes expired sessions and spent form tokens every 10 minutes, and uploads no post used
/// within a day with the files nothing holds any more; once a day (from the first round),
/// notifications past keeping (`notify::retention`).
fn spawn_cleanup(
    conn: sea_orm::DatabaseConnection,
    files: std::sync::Arc<dyn media::store::Store>,
    mut stopping: Stopping,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let store = DbSessionStore::new(conn.clone());
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        for round in 0u64.. {
            if stopping.before(tick.tick()).await {
                return;
            }
            let mut failed = false;
            // A pass over the whole notifications table: daily is enough.
            if round % 144 == 0 {
                match app::server::notify::retention::prune_old(&conn, chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "removed notifications past keeping"),
                    Err(e) => {
                        tracing::warn!(error = %e, "notification cleanup failed");
                        failed = true;
                    }
                }
            }
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "expired-session cleanup failed");
                failed = true;
            }
            if let Err(e) = forms::purge_old(&conn).await {
                tracing::warn!(error = %e, "form-token cleanup failed");
                failed = true;
            }
            if let Err(e) = sign_in::purge_old(&conn).await {
                tracing::warn!(error = %e, "log-in failure cleanup failed");
                failed = true;
            }
            match app::server::uploads::sweep(&conn, files.as_ref()).await {
                Ok(swept) if swept != Default::default() => {
                    tracing::info!(?swept, "swept unused uploads")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "upload sweep failed");
                    failed = true;
                }
            }
            if let Err(e) = refresh_sqlite_statistics(&conn).await {
                tracing::warn!(error = %e, "refreshing SQLite's planner statistics failed");
                failed = true;
            }
            metrics::worker_round(Worker::Cleanup, failed);
        }
    })
}

/// SQLite plans from the statistics ANALYZE leaves; without them it takes a category for ten
/// topics, and at a million posts sorted all 50,000 topics for the home page's latest twenty
/// (150 ms a page instead of under 1) and every waiting topic for each staff queue page. On the
/// cleanup's first round (just after start-up, never delaying it) and every round after, this
/// analyzes the tables that have no statistics yet or grew or shrank tenfold since (0x10000:
/// every table; without 0x10 no row limit: sampled statistics still misjudged a category as
/// 500 topics). A second of reading at a million posts, then nothing until the next tenfold.
/// Connections opened later plan with them (the pool renews its connections within 30 min).
async fn refresh_sqlite_statistics(
    conn: &sea_orm::DatabaseConnection,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    if conn.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return Ok(()); // PostgreSQL's autovacuum keeps its own
    }
    conn.execute_unprepared("PRAGMA optimize=0x10002").await?;
    Ok(())
}

/// Delivers the outbox: every second, or sooner when `mail::wake_worker` is called. Runs on
/// its own task, so a slow or dead mail server never holds up a request.
fn spawn_mail(
    conn: sea_orm::DatabaseConnection,
    transport: Option<mail::Transport>,
    mut stopping: Stopping,
) -> Option<tokio::task::JoinHandle<()>> {
    let Some(transport) = transport else {
        tracing::warn!(
            "no mail server configured (BACKYARD_SMTP_URL or BACKYARD_SENDMAIL): e-mail stays \
             queued; admins can read it at /admin/mail"
        );
        return None;
    };
    Some(tokio::spawn(async move {
        loop {
            let round = mail::deliver_due(&conn, &transport, chrono::Utc::now(), &stopping).await;
            if let Err(e) = &round {
                tracing::warn!(error = %e, "e-mail delivery round failed");
            }
            metrics::worker_round(Worker::Mail, round.is_err());
            if stopping
                .before(mail::wait_for_work(Duration::from_secs(1)))
                .await
            {
                return;
            }
        }
    }))
}

/// Tells followers and watchers every second (what posting left in the fan-out queue), and sends
/// the daily digests that are due and counts new members' votes that came of age every minute. Its own task, apart from mail delivery: a slow
/// mail server never holds up notifications on the site.
fn spawn_notifications(
    conn: sea_orm::DatabaseConnection,
    mut stopping: Stopping,
) -> tokio::task::JoinHandle<()> {
    use app::server::notify;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut digest_due = tokio::time::Instant::now();
        loop {
            if stopping.before(tick.tick()).await {
                return;
            }
            // Until the queue is empty, a few fan-outs a turn to write, so a long queue does not
            // hold the write lock; the budget leaves the round's other work its turn.
            let fan_out = notify::fan_out_catch_up(&conn, Duration::from_millis(900)).await;
            match &fan_out {
                // Followers who want e-mail at once have some in the outbox now.
                Ok(round) if round.spread > 0 => app::server::mail::wake_worker(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notification fan-out failed"),
            }
            // A fan-out that failed (the others were spread) is a failure to watch too.
            let failed = fan_out.as_ref().map_or(true, |round| round.failed > 0);
            metrics::worker_round(Worker::Notifications, failed);
            if tokio::time::Instant::now() >= digest_due {
                digest_due = tokio::time::Instant::now() + Duration::from_secs(60);
                // New members' votes that have come of age count now.
                let aged = app::server::ideas::count_aged(&conn, chrono::Utc::now()).await;
                if let Err(e) = &aged {
                    tracing::warn!(error = %e, "counting aged votes failed");
                }
                metrics::worker_round(Worker::AgedVotes, aged.is_err());
                let digests = notify::digest::send_due(&conn, chrono::Utc::now()).await;
                if let Err(e) = &digests {
                    tracing::warn!(error = %e, "digest e-mail failed");
                }
                metrics::worker_round(Worker::Digest, digests.is_err());
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn seed(conn: &sea_orm::DatabaseConnection) {
    match demo::seed_if_empty(conn).await {
        Ok(true) => {
            println!("Seeded demo content. Demo logins (username / password):");
            for (user, password, role) in app::server::accounts::DEMO_LOGINS {
                println!("  {user:<8} {password:<20} {role}");
            }
        }
        Ok(false) => {
            println!(
                "The database already has accounts, so no demo content was added. Demo logins, if this is the demo database:"
            );
            for (user, password, role) in app::server::accounts::DEMO_LOGINS {
                println!("  {user:<8} {password:<20} {role}");
            }
        }
        Err(e) => fail(&format!("seeding failed: {e}")),
    }
}

async fn create_admin(conn: &sea_orm::DatabaseConnection, args: &[String]) {
    let flag = |name: &str| flag_value(args, name);
    let (Some(username), Some(email)) = (flag("--username"), flag("--email")) else {
        fail(&format!(
            "create-admin needs --username and --email\n\n{USAGE}"
        ));
    };
    let password = match std::env::var("BACKYARD_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            print!("Password for {username}: ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).is_err() {
                fail("could not read a password from stdin");
            }
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    match accounts::create_admin(conn, &username, &email, &password, flag("--title")).await {
        Ok(user) => println!("Created admin {} (id {}).", user.username, user.id),
        Err(e) => fail(&e.to_string()),
    }
}

/// The value after `--name` in the arguments, if given.
/// The sizes `seed-bench` and `bench-queries` take.
fn bench_sizes(args: &[String]) -> server::bench_seed::Sizes {
    let number = |name: &str, default: u64| {
        flag_value(args, name).map_or(default, |v| {
            v.parse()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| fail(&format!("{name} takes a number above 0")))
        })
    };
    server::bench_seed::Sizes {
        // --members is the word for it; --users what the older scripts pass.
        users: flag_value(args, "--members")
            .map_or_else(|| number("--users", 5000), |_| number("--members", 5000)),
        topics: number("--topics", 10_000),
        posts: number("--posts", 500_000),
        votes: flag_value(args, "--votes").map_or(0, |v| {
            v.parse()
                .unwrap_or_else(|_| fail("--votes takes a number (0: no votes)"))
        }),
    }
}

fn flag_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `backyard set KEY VALUE`: checked like the admin panel's forms; a refusal writes nothing.
async fn set(conn: &sea_orm::DatabaseConnection, key: &str, value: &str) {
    use app::server::settings;
    match settings::change(conn, settings::ChangedBy::Operator, key, value).await {
        Ok(_) => {
            // Servers on PostgreSQL read the shared page version before a kept page or setting,
            // so they show the change at once; a server on SQLite is another process and shows
            // it within the 10 s its kept copies live (README, `backyard set`).
            app::server::page_version::changed(conn).await;
            // The stored form: what the site will read.
            let stored = settings::get(conn, key)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            println!("{key} = {stored}");
        }
        Err(app::error::AppError::Invalid { message, .. }) if settings::find(key).is_none() => {
            fail(&format!("{message}\n\n{}", settings_list()))
        }
        Err(app::error::AppError::Invalid { message, .. }) => fail(&format!(
            "{key}: {message} It takes {}.",
            settings::find(key)
                .map(|s| s.describe())
                .unwrap_or_default()
        )),
        Err(e) => fail(&e.to_string()),
    }
}

/// Every setting `set` accepts, with what it takes.
fn settings_list() -> String {
    let mut out = String::from("settings:\n");
    for s in app::server::settings::ALL {
        out.push_str(&format!("  {:<24} {}: {}\n", s.key, s.label, s.describe()));
    }
    out
}

/// The most `receive-mail` reads; a larger message is refused (Postfix's own default limit is
/// 10 MB too).
const MAX_MAIL_BYTES: u64 = 10 * 1024 * 1024;
/// sysexits.h: a temporary failure; the MTA keeps the message and tries again later.
const EX_TEMPFAIL: i32 = 75;

/// `backyard receive-mail`: one message on stdin. Every outcome is logged to stderr (the log
/// filter is BACKYARD_LOG). It exits 0 for mail it took or refused, so nobody is sent a bounce
/// for a refusal, and 75 when the database is out of reach, so the MTA keeps the message. It
/// does not migrate: the server does that when it starts.
async fn receive_mail() -> ! {
    use std::io::Read;
    let config = Config::from_env();
    let log = config
        .as_ref()
        .map_or(app::server::config::DEFAULT_LOG, |c| c.log.as_str());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        // Into the MTA's hands or a log file: no terminal colours.
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "receive-mail: bad configuration; the MTA will try again");
            std::process::exit(EX_TEMPFAIL);
        }
    };
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin()
        .take(MAX_MAIL_BYTES + 1)
        .read_to_end(&mut raw)
    {
        tracing::error!(error = %e, "receive-mail: could not read the message on stdin");
        std::process::exit(EX_TEMPFAIL);
    }
    if raw.len() as u64 > MAX_MAIL_BYTES {
        tracing::warn!(reason = "larger than 10 MB", "receive-mail: refused");
        std::process::exit(0);
    }
    let conn = match db::connect(&config.database_url).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "receive-mail: cannot open the database at DATABASE_URL; the MTA will try again");
            std::process::exit(EX_TEMPFAIL);
        }
    };
    let result = app::server::inbound_mail::receive(&conn, &raw).await;
    let _ = conn.close().await;
    match result {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            tracing::error!(error = %e, "receive-mail: the database failed; the MTA will try again");
            std::process::exit(EX_TEMPFAIL);
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("backyard: {message}");
    std::process::exit(1);
}
