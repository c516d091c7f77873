//! `backyard receive-mail` run as the real binary, with a message on stdin as an MTA's pipe
//! hands it over: a reply appears as a post by its member (on SQLite and on PostgreSQL), a
//! refusal is logged and exits 0 (no bounce to the sender), an unreachable database exits 75.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use app::server::{
    entity::post,
    forum::{self, NewCategory},
    signing,
    testing::insert_user,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::common::*;

fn receive_mail(database_url: &str, raw: Vec<u8>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backyard"))
        .arg("receive-mail")
        .env("DATABASE_URL", database_url)
        .env("BACKYARD_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the backyard binary runs");
    let mut stdin = child.stdin.take().unwrap();
    // From a thread: the command stops reading at its size limit.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&raw);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn reply(from: &str, token: &str, message_id: &str, answer: &str) -> Vec<u8> {
    format!(
        "Delivered-To: reply+{token}@feedback.example.com\n\
         From: Sam <{from}>\n\
         To: Backyard <reply+{token}@feedback.example.com>\n\
         Subject: Re: Export fails\n\
         Message-ID: <{message_id}>\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         {answer}\n\
         \n\
         On Tue, 1 Dec 2026 at 10:02, Backyard <reply+{token}@feedback.example.com> wrote:\n\
         > Casey started \"Export fails\"\n"
    )
    .into_bytes()
}

/// A forum with a topic by member 1; a reply token for member 2 (user2@example.com).
async fn forum_with_token(db: &DatabaseConnection) -> (i64, String) {
    let casey = insert_user(db, 1).await;
    insert_user(db, 2).await;
    forum::create_category(
        db,
        NewCategory {
            slug: "questions",
            name: "Questions",
            description: "",
            colour: "#2f855a",
        },
    )
    .await
    .unwrap();
    let (t, _) = forum::start_topic(db, &casey, "questions", "Export fails", "Help.", None)
        .await
        .unwrap();
    (t.id, signing::reply_token(db, 2, t.id).await.unwrap())
}

async fn posts_by(db: &DatabaseConnection, author: i64) -> Vec<post::Model> {
    post::Entity::find()
        .filter(post::Column::AuthorId.eq(author))
        .all(db)
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_reply_handed_to_receive_mail_appears_as_a_post_by_that_member() {
    let dir = std::env::temp_dir().join(format!("backyard-receive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mail.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = file_db(&path).await;
    let (topic_id, token) = forum_with_token(&db).await;

    let out = receive_mail(
        &url,
        reply(
            "user2@example.com",
            &token,
            "r1@mail.example",
            "Fixed in 3.4.2, thanks!",
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("reply posted"), "{}", stderr(&out));
    let posts = posts_by(&db, 2).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].topic_id, posts[0].source.as_str()),
        (topic_id, "Fixed in 3.4.2, thanks!")
    );

    // Refused and logged, exit 0 all the same (the MTA must not bounce it back), nothing written.
    let before = table_rows(&db, &[], &[]).await;
    let out = receive_mail(
        &url,
        reply("mallory@example.com", &token, "r2@mail.example", "Spam"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused") && stderr(&out).contains("From is not the address"),
        "{}",
        stderr(&out)
    );
    let out = receive_mail(&url, vec![b'x'; 10 * 1024 * 1024 + 10]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than 10 MB"),
        "{}",
        stderr(&out)
    );
    assert_eq!(table_rows(&db, &[], &[]).await, before);
    db.close().await.unwrap();

    // The database out of reach: 75, so the MTA keeps the message and tries again.
    let missing = format!("sqlite://{}/no-such-dir/mail.db?mode=rwc", dir.display());
    let out = receive_mail(
        &missing,
        reply("user2@example.com", &token, "r3@mail.example", "Later"),
    );
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_reply_handed_to_receive_mail_appears_on_postgres() {
    let Some((db, admin_url, name)) = crate::postgres::fresh_database().await else {
        return;
    };
    let (topic_id, token) = forum_with_token(&db).await;
    let url = format!("{}/{name}", &admin_url[..admin_url.rfind('/').unwrap()]);
    let out = receive_mail(
        &url,
        reply(
            "user2@example.com",
            &token,
            "pg1@mail.example",
            "Works on 3.4.2.",
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let posts = posts_by(&db, 2).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].topic_id, posts[0].source.as_str()),
        (topic_id, "Works on 3.4.2.")
    );
    crate::postgres::drop_database(db, &admin_url, &name).await;
}
