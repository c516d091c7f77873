//! Times the outbox draining into an SMTP server (bench/mail.sh): queues COUNT messages in a
//! new database, then runs the worker's `deliver_due` until none is left, and prints the rate.
//! Mail settings come from the environment as for the server (BACKYARD_SMTP_URL, ...);
//! DATABASE_URL names the new database.
//! usage: mail_drain [COUNT]   (default 10000)
use std::time::Instant;

use app::server::{config::Config, db, entity::email, mail};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("COUNT is a number"))
        .unwrap_or(10_000);
    let config = Config::from_env().unwrap_or_else(|e| panic!("{e}"));
    let transport = mail::Transport::from_config(&config)
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("BACKYARD_SMTP_URL or BACKYARD_SENDMAIL is set");
    let conn = db::connect(&config.database_url).await.expect("database");
    db::migrate(&conn).await.expect("migrations");

    // Queued as the site queues them: one row per message, 500 to a transaction.
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let txn = db::begin_write(&conn).await.expect("transaction");
        for n in chunk {
            mail::queue(
                &txn,
                mail::Outgoing {
                    to: format!("member{n}@example.com"),
                    subject: format!("New reply in “Dark mode” ({n})"),
                    text: "Grace replied:\n\nWe shipped it today. Settings → Appearance.\n"
                        .repeat(4),
                    html: Some("<p>Grace replied:</p><p>We shipped it today.</p>".repeat(4)),
                    user_id: None,
                    kind: "notification",
                    reply_to: Some(format!("reply+token{n}@support.example.com")),
                    list_unsubscribe: Some(format!("https://forum.example.com/unsubscribe/{n}")),
                },
            )
            .await
            .expect("queued");
        }
        txn.commit().await.expect("commit");
    }
    println!(
        "queued {count} messages; draining with {} sends at once",
        mail::SENDS_AT_ONCE
    );

    let started = Instant::now();
    let mut sent = 0;
    loop {
        sent += mail::deliver_due(
            &conn,
            &transport,
            chrono::Utc::now(),
            &app::server::stopping::Stopping::never(),
        )
        .await
        .expect("delivery round");
        let left = email::Entity::find()
            .filter(email::Column::Status.eq("queued"))
            .count(&conn)
            .await
            .expect("count");
        if left == 0 || started.elapsed().as_secs() > 300 {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let failed = email::Entity::find()
        .filter(email::Column::Status.ne("sent"))
        .count(&conn)
        .await
        .expect("count");
    println!(
        "sent {sent} of {count} in {seconds:.1} s: {:.0} messages/s ({failed} not sent)",
        sent as f64 / seconds
    );
    if sent != count || seconds >= 60.0 {
        eprintln!("FAILED: every message must be sent within 60 s");
        std::process::exit(1);
    }
}
