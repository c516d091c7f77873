//! The whole loop against a real SMTP server (aiosmtpd with STARTTLS and AUTH, see
//! testing::SmtpTestServer), on SQLite and PostgreSQL: a watcher hears of a new topic, the
//! customer gets exactly one e-mail with the staff answer, replies to it from their inbox and the
//! reply is a post, a follower's day arrives as one digest. Every step through production code:
//! posting, the fan-out worker, the outbox worker, `receive-mail`'s function, the digest.
use chrono::{Duration, Utc};
use mail_parser::MessageParser;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    entity::{category, post},
    forum, inbound_mail, mail,
    notify::{
        self,
        compose::{Outside, configure},
        following::{self, Level},
        preferences::{self, MailKind, Mode},
    },
    stopping::Stopping,
    testing::{PostgresTestDb, SmtpTestOptions, SmtpTestServer, World, smtp_transport},
};

struct Delivered {
    to: String,
    subject: String,
    text: String,
    html: String,
    reply_to: String,
    list_unsubscribe: String,
    one_click: String,
}

fn delivered(smtp: &SmtpTestServer) -> Vec<Delivered> {
    smtp.messages()
        .iter()
        .map(|m| {
            let data = m["data"].as_str().unwrap();
            let parsed = MessageParser::default().parse(data.as_bytes()).unwrap();
            let header = |name: &str| {
                parsed
                    .header_raw(name)
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            Delivered {
                to: m["rcpt_tos"][0].as_str().unwrap().to_string(),
                subject: parsed.subject().unwrap_or_default().to_string(),
                text: parsed
                    .body_text(0)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                html: parsed
                    .body_html(0)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                reply_to: header("Reply-To"),
                list_unsubscribe: header("List-Unsubscribe"),
                one_click: header("List-Unsubscribe-Post"),
            }
        })
        .collect()
}

async fn the_loop(w: World) {
    let Some(smtp) = SmtpTestServer::start(SmtpTestOptions {
        tls: true,
        auth: true,
        ..Default::default()
    }) else {
        return;
    };
    let transport = smtp_transport(&smtp.settings());
    configure(Outside {
        public_url: "https://forum.example.com".into(),
        reply_address: Some("reply@feedback.example.com".into()),
    });
    let send = || async {
        mail::deliver_due(&w.db, &transport, Utc::now(), &Stopping::never())
            .await
            .unwrap()
    };
    let questions = category::Entity::find()
        .filter(category::Column::Slug.eq("questions"))
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    // Staff watch the category, by e-mail at once.
    following::set_watch(&w.db, w.staff.id, questions.id, true)
        .await
        .unwrap();
    preferences::set_mode(&w.db, w.staff.id, MailKind::NewTopics, Mode::Immediately)
        .await
        .unwrap();
    let (t, _) = forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Invoices are in the wrong currency",
        "Since Monday every invoice says USD, we pay in EUR.",
        None,
    )
    .await
    .unwrap();
    // Another customer follows it (replies go to their digest by default).
    following::set_level(&w.db, w.other.id, t.id, Level::Following)
        .await
        .unwrap();
    notify::fan_out_due(&w.db, 100).await.unwrap();
    send().await;
    let mails = delivered(&smtp);
    assert_eq!(mails.len(), 1, "the watcher's e-mail only");
    assert_eq!(mails[0].to, w.staff.email);
    assert!(
        mails[0]
            .text
            .contains("User 1 started “Invoices are in the wrong currency”")
    );

    // Staff answer: exactly one e-mail to the author, with the answer's text.
    forum::reply(
        &w.db,
        &w.staff,
        t.id,
        "Fixed: the currency now follows your **billing country**.",
        None,
    )
    .await
    .unwrap();
    notify::fan_out_due(&w.db, 100).await.unwrap();
    send().await;
    let mails = delivered(&smtp);
    let to_author: Vec<_> = mails.iter().filter(|m| m.to == w.customer.email).collect();
    assert_eq!(to_author.len(), 1);
    let answer = to_author[0];
    assert_eq!(
        answer.subject,
        "[Backyard] Invoices are in the wrong currency"
    );
    assert!(
        answer
            .text
            .contains("the currency now follows your billing country"),
        "{}",
        answer.text
    );
    assert!(
        answer
            .text
            .contains("User 3 (Support, staff) answered your topic")
    );
    assert!(answer.html.contains("<strong>billing country</strong>"));
    assert!(
        answer.html.contains("https://forum.example.com/t/"),
        "absolute links"
    );
    assert!(
        answer
            .list_unsubscribe
            .starts_with("<https://forum.example.com/unsubscribe/")
    );
    assert_eq!(answer.one_click, "List-Unsubscribe=One-Click");
    assert!(
        answer.reply_to.contains("reply+") && answer.reply_to.contains("@feedback.example.com")
    );
    assert_eq!(
        mails.len(),
        2,
        "nobody else at once: the follower waits for the digest"
    );

    // The customer answers from their inbox; the MTA hands the message to receive-mail.
    let reply_to = answer.reply_to.trim_matches(['<', '>']).to_string();
    let raw = format!(
        "From: User 1 <{from}>\r\nTo: {reply_to}\r\nSubject: Re: [Backyard] Invoices\r\n\
         Message-ID: <loop-{topic}@mail.example.net>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Thanks, the last invoice is right now.\r\n\r\n\
         On Tue, 1 Dec 2026 at 09:58, Backyard <{reply_to}> wrote:\r\n\
         > Fixed: the currency now follows your billing country.\r\n",
        from = w.customer.email,
        topic = t.id,
    );
    let outcome = inbound_mail::receive(&w.db, raw.as_bytes()).await.unwrap();
    let inbound_mail::Outcome::Posted { user_id, post_id } = outcome else {
        panic!("not posted: {outcome:?}");
    };
    assert_eq!(user_id, w.customer.id);
    let posted = post::Entity::find_by_id(post_id)
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(posted.topic_id, t.id);
    assert_eq!(posted.source, "Thanks, the last invoice is right now.");
    // The same message handed over again posts nothing.
    assert!(matches!(
        inbound_mail::receive(&w.db, raw.as_bytes()).await.unwrap(),
        inbound_mail::Outcome::Refused { .. }
    ));

    // The follower's day arrives as one digest at their next 07:00 (the site's zone: UTC).
    notify::fan_out_due(&w.db, 100).await.unwrap();
    // The next 07:00: today's before seven in the morning (UTC), else tomorrow's.
    let today_seven = Utc::now()
        .date_naive()
        .and_hms_opt(7, 0, 0)
        .unwrap()
        .and_utc();
    let next_seven = if Utc::now() < today_seven {
        today_seven
    } else {
        today_seven + Duration::days(1)
    };
    notify::digest::send_due(&w.db, next_seven).await.unwrap();
    send().await;
    let digests: Vec<_> = delivered(&smtp)
        .into_iter()
        .filter(|m| m.to == w.other.email)
        .collect();
    assert_eq!(digests.len(), 1, "one message for the day");
    let digest = &digests[0];
    assert_eq!(digest.subject, "[Backyard] Your daily digest");
    // The staff answer and the author's reply by e-mail, collapsed into one line.
    assert!(
        digest.text.contains(
            "- User 3 (Support, staff) replied in “Invoices are in the wrong currency” (and 1 more)"
        ),
        "{}",
        digest.text
    );
    assert!(digest.list_unsubscribe.contains("/unsubscribe/"));
}

#[tokio::test]
async fn the_loop_closes_through_a_real_smtp_server() {
    the_loop(World::new().await).await;
}

#[tokio::test]
async fn the_loop_closes_on_postgresql() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    the_loop(World::builder().build_on(pg.db.clone()).await).await;
    pg.drop().await;
}
