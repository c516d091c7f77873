//! Reply by e-mail and bounces: what `backyard receive-mail` does with one message an MTA hands
//! over. A reply to a notification's `reply+TOKEN@` address posts as the member the token was
//! made for, through the same checks as a reply from the topic page; a bounce marks the address
//! as bouncing, so no more e-mail goes to it until its member confirms it again. Everything else
//! is refused with a log line and writes nothing: the MTA is told the message was taken either
//! way, so nobody is sent a bounce of a bounce (backscatter).
pub mod parse;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, Func},
};

use self::parse::{Inbound, MAX_MESSAGE_ID_CHARS, Reply};
use crate::{
    error::AppError,
    server::{
        db::{self, begin_write},
        entity::{received_mail, user},
        mail::address_key,
        posting, signing, visibility,
    },
};

/// What became of a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Posted as `user_id` (the post may be held for a moderator, as a web reply would be).
    Posted { user_id: i64, post_id: i64 },
    /// A bounce: this many members' addresses are now marked as bouncing.
    Bounced { marked: u64 },
    /// Written by a program (out of office, vacation): never posted.
    Ignored { reason: String },
    /// Nothing written, for this reason.
    Refused { reason: String },
}

impl Outcome {
    fn refused(reason: impl Into<String>) -> Outcome {
        Outcome::Refused {
            reason: reason.into(),
        }
    }
}

/// Takes one raw RFC 5322 message. An error means the database failed (the MTA should try
/// again later); every refusal is an `Outcome`, logged here.
pub async fn receive(db: &DatabaseConnection, raw: &[u8]) -> Result<Outcome, AppError> {
    let outcome = match parse::parse(raw) {
        Inbound::Unreadable => Outcome::refused("not a readable e-mail message"),
        Inbound::AutoReply { because } => Outcome::Ignored {
            reason: format!("an automatic reply ({because})"),
        },
        Inbound::Bounce { failed } => {
            let vouched = sent_by_us(db, raw, &failed).await?;
            Outcome::Bounced {
                marked: mark_bouncing(db, &vouched).await?,
            }
        }
        Inbound::Reply(reply) => post_reply(db, reply).await?,
    };
    match &outcome {
        Outcome::Posted { user_id, post_id } => {
            tracing::info!(user_id, post_id, "receive-mail: reply posted")
        }
        Outcome::Bounced { marked } => {
            tracing::info!(marked, "receive-mail: bounce; addresses marked as bouncing")
        }
        Outcome::Ignored { reason } => tracing::info!(%reason, "receive-mail: ignored"),
        Outcome::Refused { reason } => tracing::warn!(%reason, "receive-mail: refused"),
    }
    Ok(outcome)
}

/// The failed recipients a bounce can prove we wrote to: the report must carry back the
/// Message-ID of a message in our outbox (`<backyard.TOKEN@...>`, signed: see
/// `signing::message_id_token`) that went to that very address. A report made up by anyone
/// else, naming addresses of their choice, marks nobody.
async fn sent_by_us(
    db: &DatabaseConnection,
    raw: &[u8],
    failed: &[String],
) -> Result<Vec<String>, AppError> {
    use crate::server::entity::email;
    let text = String::from_utf8_lossy(raw);
    let mut tokens: Vec<&str> = Vec::new();
    for (at, _) in text.match_indices("backyard.") {
        let rest = &text[at + "backyard.".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('@') && !tokens.contains(&&rest[..end]) && tokens.len() < 20 {
            tokens.push(&rest[..end]);
        }
    }
    let mut referenced: Vec<(i64, i64)> = Vec::new();
    for token in tokens {
        if let Some(sent) = signing::read_message_id_token(db, token).await? {
            referenced.push(sent);
        }
    }
    if referenced.is_empty() {
        return Ok(Vec::new());
    }
    let rows = email::Entity::find()
        .filter(email::Column::Id.is_in(referenced.iter().map(|(id, _)| *id)))
        .all(db)
        .await?;
    Ok(failed
        .iter()
        .filter(|address| {
            rows.iter().any(|row| {
                address_key(&row.to_address) == address_key(address)
                    && referenced.contains(&(row.id, row.created_at.timestamp()))
            })
        })
        .cloned()
        .collect())
}

/// Marks every member whose address is among `failed` as bouncing (from now, unless already).
async fn mark_bouncing(db: &DatabaseConnection, failed: &[String]) -> Result<u64, AppError> {
    let keys: Vec<String> = failed.iter().map(|a| address_key(a)).collect();
    if keys.is_empty() {
        return Ok(0);
    }
    // By the address itself rather than email_key: members sharing an address all bounce.
    let marked = user::Entity::update_many()
        .col_expr(user::Column::EmailBouncingSince, Expr::value(Utc::now()))
        .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).is_in(keys))
        .filter(user::Column::EmailBouncingSince.is_null())
        .exec(db)
        .await?;
    Ok(marked.rows_affected)
}

/// The checks of a reply by e-mail that need no topic: who it is from, whether it was seen.
async fn post_reply(db: &DatabaseConnection, reply: Reply) -> Result<Outcome, AppError> {
    let Some(message_id) = reply.message_id.filter(|id| !id.trim().is_empty()) else {
        return Ok(Outcome::refused(
            "no Message-ID, so a second delivery could not be told apart",
        ));
    };
    if message_id.chars().count() > MAX_MESSAGE_ID_CHARS {
        return Ok(Outcome::refused(format!(
            "a Message-ID longer than {MAX_MESSAGE_ID_CHARS} characters"
        )));
    }
    if reply.tokens.is_empty() {
        return Ok(Outcome::refused("not sent to a reply+TOKEN address"));
    }
    let mut addressed = None;
    for token in &reply.tokens {
        if let Some(found) = signing::read_reply_token(db, token).await? {
            addressed = Some(found);
            break;
        }
    }
    let Some((user_id, topic_id)) = addressed else {
        return Ok(Outcome::refused("a forged, altered or foreign reply token"));
    };
    let Some(member) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(Outcome::refused(format!(
            "the token's member {user_id} no longer exists"
        )));
    };
    let from_member = reply
        .from
        .as_deref()
        .is_some_and(|from| address_key(from) == address_key(&member.email));
    if !from_member {
        return Ok(Outcome::refused(format!(
            "From is not the address of member {user_id}, whom the token was made for"
        )));
    }
    if member.awaiting_approval {
        return Ok(Outcome::refused(format!(
            "member {user_id} still waits for an admin's approval"
        )));
    }
    if already_received(db, &message_id).await? {
        return Ok(Outcome::refused(format!(
            "Message-ID <{message_id}> was received before"
        )));
    }
    let text = before_our_links(&reply.text, &reply.tokens);
    if text.trim().is_empty() {
        return Ok(Outcome::refused(
            "nothing left once the quoted original and the signature are taken off",
        ));
    }
    match write_reply(db, &member, topic_id, text, &message_id).await {
        Ok(post_id) => Ok(Outcome::Posted { user_id, post_id }),
        Err(AppError::Internal) => Err(AppError::Internal),
        Err(AppError::Busy(message)) => Err(AppError::Busy(message)),
        Err(refusal) => Ok(Outcome::refused(format!(
            "member {user_id}, topic {topic_id}: {refusal}"
        ))),
    }
}

/// The reply's text up to its first line that holds the address it was sent to (a reply
/// token) or one of the site's unsubscribe links (with its signed token: a member may well
/// write about /unsubscribe/ itself): from there on it is the quoted notification, whatever
/// markup the mail client gave it. A quote the parser did not recognise was posted whole, with
/// the member's reply address and unsubscribe link in it for anyone to use.
fn before_our_links<'a>(text: &'a str, tokens: &[String]) -> &'a str {
    // An unsubscribe link, however it is written around (glued to other text, its slashes
    // percent-encoded, wrapped by a mail filter): "unsubscribe" and, after it on the line, a
    // signature, `-` and 32 hex digits with no more after them.
    let unsubscribe_link = |line: &str| {
        line.match_indices("unsubscribe").any(|(at, found)| {
            let rest = line[at + found.len()..].as_bytes();
            rest.iter().enumerate().any(|(i, &b)| {
                b == b'-'
                    && rest.len() > i + 32
                    && rest[i + 1..=i + 32].iter().all(u8::is_ascii_hexdigit)
                    && !rest.get(i + 33).is_some_and(u8::is_ascii_hexdigit)
            })
        })
    };
    let mut end = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.to_lowercase();
        if unsubscribe_link(&lower) || tokens.iter().any(|t| lower.contains(t.as_str())) {
            break;
        }
        end += line.len();
    }
    if end == text.len() {
        text
    } else {
        text[..end].trim_end()
    }
}

async fn already_received(conn: &impl ConnectionTrait, message_id: &str) -> Result<bool, AppError> {
    Ok(received_mail::Entity::find()
        .filter(received_mail::Column::MessageId.eq(message_id))
        .count(conn)
        .await?
        > 0)
}

/// Posts the reply with the checks of `forum::reply` (the topic is one the member may see and
/// that takes posts, suspension, limits, watched words, a held topic, the same text twice) and
/// records the Message-ID in the same transaction.
async fn write_reply(
    db: &DatabaseConnection,
    member: &user::Model,
    topic_id: i64,
    text: &str,
    message_id: &str,
) -> Result<i64, AppError> {
    posting::check_takes_posts(&visibility::topic_to_post_in(db, topic_id, Some(member)).await?)?;
    posting::validate_body(text)?;
    posting::check_may_post(db, member, false).await?;
    let prepared = posting::prepare(db, text).await?;

    let txn = begin_write(db).await?;
    // Under the write lock: the same message delivered twice at once posts once.
    if already_received(&txn, message_id).await? {
        return Err(AppError::invalid(
            "form",
            format!("Message-ID <{message_id}> was received before"),
        ));
    }
    let found = visibility::topic_to_post_in(&txn, topic_id, Some(member)).await?;
    posting::check_takes_posts(&found)?;
    let visibility::ToPostIn { topic, article, .. } = found;
    posting::check_not_held_for_others(&txn, &topic, member).await?;
    let created = posting::reply(&txn, member, &topic, article.as_ref(), &prepared).await?;
    let recorded = received_mail::ActiveModel {
        message_id: Set(message_id.to_string()),
        user_id: Set(Some(member.id)),
        post_id: Set(Some(created.id)),
        received_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match recorded {
        Ok(_) => {}
        // PostgreSQL: another delivery of the same message committed first.
        Err(e) if db::is_unique_violation(&e) => {
            return Err(AppError::invalid(
                "form",
                format!("Message-ID <{message_id}> was received before"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(created.id)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Duration;
    use sea_orm::Statement;

    use super::*;
    use crate::model::PostState;
    use crate::server::{
        entity::{post, topic},
        forum,
        moderation::add_watched_word,
        settings,
        testing::{PostgresTestDb, World},
    };

    /// A plain reply as a mail client sends it: the answer on top, the notification quoted.
    fn message(from: &str, token: &str, message_id: &str, answer: &str) -> Vec<u8> {
        format!(
            "Delivered-To: reply+{token}@feedback.example.com\r\n\
             From: Some One <{from}>\r\n\
             To: Backyard <reply+{token}@feedback.example.com>\r\n\
             Subject: Re: Export\r\n\
             Message-ID: <{message_id}>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             {answer}\r\n\
             \r\n\
             On Tue, 1 Dec 2026 at 10:02, Backyard <reply+{token}@feedback.example.com> wrote:\r\n\
             > Maya replied: which version are you on?\r\n\
             > Unsubscribe: https://feedback.example.com/unsubscribe/1.replies-{token}\r\n"
        )
        .into_bytes()
    }

    /// Every table's rows as text (SQLite), to compare before and after a refusal.
    async fn dump(db: &DatabaseConnection) -> BTreeMap<String, Vec<String>> {
        let backend = db.get_database_backend();
        let query = |sql: String| async move {
            db.query_all_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
        };
        let mut out = BTreeMap::new();
        let tables = query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'search_index_%' \
             ORDER BY name"
                .into(),
        )
        .await;
        for table in tables {
            let name: String = table.try_get_by_index(0).unwrap();
            let columns = query(format!("SELECT name FROM pragma_table_info('{name}')"))
                .await
                .into_iter()
                .map(|r| format!("quote(\"{}\")", r.try_get_by_index::<String>(0).unwrap()))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = query(format!("SELECT {columns} FROM \"{name}\" ORDER BY rowid"))
                .await
                .into_iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect();
            out.insert(name, rows);
        }
        out
    }

    /// A topic by the first customer and a reply token for the second.
    async fn topic_and_token(w: &World) -> (topic::Model, String) {
        let (t, _) =
            forum::start_topic(&w.db, &w.customer, "questions", "Export", "It fails.", None)
                .await
                .unwrap();
        let token = signing::reply_token(&w.db, w.other.id, t.id).await.unwrap();
        (t, token)
    }

    fn refused(outcome: Outcome, because: &str) {
        match outcome {
            Outcome::Refused { reason } => assert!(reason.contains(because), "{reason}"),
            other => panic!("not refused ({because}): {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_reply_posts_as_the_member_without_the_quote_and_records_its_message_id() {
        let w = World::new().await;
        let (t, token) = topic_and_token(&w).await;
        // The local part may come back upper-cased.
        let raw = message(
            "USER2@Example.com",
            &token.to_uppercase(),
            "a1@mail.example",
            "Version 3.4.1.",
        );
        let Outcome::Posted { user_id, post_id } = receive(&w.db, &raw).await.unwrap() else {
            panic!("not posted")
        };
        assert_eq!(user_id, w.other.id);
        let p = post::Entity::find_by_id(post_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.topic_id, p.author_id, p.source.as_str(), p.post_number),
            (t.id, w.other.id, "Version 3.4.1.", 2)
        );
        assert_eq!(p.state(), PostState::Visible);
        let seen = received_mail::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (
                seen[0].message_id.as_str(),
                seen[0].user_id,
                seen[0].post_id
            ),
            ("a1@mail.example", Some(w.other.id), Some(post_id))
        );
    }

    /// An unsubscribe link marks the quote however it is written around, and a member's own
    /// words about /unsubscribe/ are kept.
    #[test]
    fn an_unsubscribe_link_is_found_however_it_is_written_around() {
        let sig = "5c02".repeat(8);
        let link = format!("https://f.example/unsubscribe/3.answers-{sig}");
        for around in [
            format!("Stop: {link}"),
            format!("Stop: {link}."),
            format!("Stop: {link}&x=1"),
            format!("Stop: {link}/confirm"),
            format!("Stop: {link}…"),
            format!("Stop: «{link}»"),
            format!("Stop: {link}\u{200B}"),
            format!("Stop: {}", link.replace('/', "%2F")),
            format!(
                "Stop: https://safelinks.example/?url={}&data=1",
                link.replace('/', "%2F")
            ),
            format!("STOP: {}", link.to_uppercase()),
        ] {
            let text = format!("My answer.\n{around}\nMore quoted text.");
            assert_eq!(before_our_links(&text, &[]), "My answer.", "{around}");
        }
        for own in [
            "Your /unsubscribe/ page errors.",
            "See http://f.example/unsubscribe/3.answers, it fails.",
            "The unsubscribe page has a 404.",
        ] {
            let text = format!("My answer.\n{own}");
            assert_eq!(before_our_links(&text, &[]), text, "{own}");
        }
    }

    /// A quote no rule recognises (an HTML client's plain blockquote, here as text without `>`)
    /// is cut at the first line holding the site's own reply address or an unsubscribe link:
    /// neither is ever posted. Nothing before it: refused, nothing written.
    #[tokio::test]
    async fn a_quote_not_recognised_is_cut_where_the_sites_own_links_begin() {
        let w = World::new().await;
        let (_, token) = topic_and_token(&w).await;
        let unquoted = |id: &str, answer: &str| {
            format!(
                "From: Some One <user2@example.com>\r\n\
                 To: Backyard <reply+{token}@feedback.example.com>\r\n\
                 Subject: Re: Export\r\n\
                 Message-ID: <{id}>\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\
                 \r\n\
                 {answer}\r\n\
                 Backyard <REPLY+{upper}@feedback.example.com> sent this:\r\n\
                 Maya replied: which version are you on?\r\n\
                 Stop these e-mails: https://feedback.example.com/unsubscribe/1.replies-{sig}.\r\n",
                sig = "0123456789abcdef".repeat(2),
                upper = token.to_uppercase(),
            )
            .into_bytes()
        };
        let Outcome::Posted { post_id, .. } = receive(
            &w.db,
            &unquoted(
                "q1@mail.example",
                "Version 3.4.1.\r\nAlso your /unsubscribe/ page errors.",
            ),
        )
        .await
        .unwrap() else {
            panic!("not posted")
        };
        let p = post::Entity::find_by_id(post_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            p.source,
            "Version 3.4.1.\nAlso your /unsubscribe/ page errors."
        );
        let before = dump(&w.db).await;
        let only_quote = receive(&w.db, &unquoted("q2@mail.example", ""))
            .await
            .unwrap();
        assert!(
            matches!(only_quote, Outcome::Refused { .. }),
            "{only_quote:?}"
        );
        assert_eq!(dump(&w.db).await, before);
    }

    #[tokio::test]
    async fn a_gmail_reply_posts_its_answer_only() {
        let w = World::new().await;
        let (_, token) = topic_and_token(&w).await;
        let sample = std::fs::read(format!(
            "{}/src/server/inbound_mail/samples/gmail_top_posted.eml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let raw = String::from_utf8(sample)
            .unwrap()
            .replace("7.42-0123456789abcdef0123456789abcdef", &token)
            .replace("jane.doe@gmail.com", "user2@example.com");
        let Outcome::Posted { post_id, .. } = receive(&w.db, raw.as_bytes()).await.unwrap() else {
            panic!("not posted")
        };
        let p = post::Entity::find_by_id(post_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            p.source,
            "I'm on 3.4.1, the one from the App Store. It happens with every file\n\
             that ends without a newline.\n\nJane"
        );
    }

    #[tokio::test]
    async fn each_refusal_is_logged_and_writes_nothing() {
        let w = World::builder().with_rate_limits().build().await;
        let (t, token) = topic_and_token(&w).await;
        let other_topic_token = {
            let (hidden, _) =
                forum::start_topic(&w.db, &w.customer, "questions", "Hidden", "Secret.", None)
                    .await
                    .unwrap();
            let mut row: topic::ActiveModel = hidden.clone().into();
            row.visible = Set(false);
            row.update(&w.db).await.unwrap();
            signing::reply_token(&w.db, w.other.id, hidden.id)
                .await
                .unwrap()
        };
        // One accepted reply, for the reused Message-ID.
        let first = message("user2@example.com", &token, "seen@mail.example", "First.");
        assert!(matches!(
            receive(&w.db, &first).await.unwrap(),
            Outcome::Posted { .. }
        ));
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                message("user2@example.com", &altered, "m1@x", "Hi"),
                "forged, altered or foreign",
            ),
            (
                message("user2@example.com", "9.9-nottoken", "m2@x", "Hi"),
                "forged, altered or foreign",
            ),
            (
                message("mallory@example.com", &token, "m3@x", "Hi"),
                "From is not the address",
            ),
            // The token is the member's, the address is another member's.
            (
                message("user1@example.com", &token, "m4@x", "Hi"),
                "From is not the address",
            ),
            (
                message("user2@example.com", &token, "seen@mail.example", "Again"),
                "was received before",
            ),
            (
                message("user2@example.com", &token, "m5@x", ""),
                "nothing left",
            ),
            (
                message("user2@example.com", &other_topic_token, "m6@x", "Hi"),
                crate::server::visibility::TOPIC_MISSING,
            ),
            (
                b"From: user2@example.com\r\nSubject: hi\r\nMessage-ID: <m7@x>\r\n\r\nHi\r\n"
                    .to_vec(),
                "not sent to a reply+TOKEN address",
            ),
            (
                format!("From: user2@example.com\r\nTo: reply+{token}@x\r\n\r\nNo Message-ID\r\n")
                    .into_bytes(),
                "no Message-ID",
            ),
            (
                message(
                    "user2@example.com",
                    &token,
                    &format!("{}@x", "a".repeat(300)),
                    "Hi",
                ),
                "longer than 300",
            ),
            (b"".to_vec(), "not a readable"),
        ];
        let before = dump(&w.db).await;
        for (raw, because) in cases {
            refused(receive(&w.db, &raw).await.unwrap(), because);
            assert_eq!(dump(&w.db).await, before, "{because}");
        }

        // A blocked word.
        add_watched_word(&w.db, &w.admin, "rubbish", "block")
            .await
            .unwrap();
        let before = dump(&w.db).await;
        let raw = message("user2@example.com", &token, "w1@x", "This is rubbish.");
        refused(receive(&w.db, &raw).await.unwrap(), "isn't allowed here");
        assert_eq!(dump(&w.db).await, before);

        // The rate limit: one post in ten minutes.
        settings::put(&w.db, settings::POSTS_PER_10_MIN.0, "1")
            .await
            .unwrap();
        let before = dump(&w.db).await;
        let raw = message("user2@example.com", &token, "r1@x", "Second.");
        refused(receive(&w.db, &raw).await.unwrap(), "limit of 1 posts");
        assert_eq!(dump(&w.db).await, before);
        settings::put(&w.db, settings::POSTS_PER_10_MIN.0, "0")
            .await
            .unwrap();

        // A locked topic.
        let mut row: topic::ActiveModel = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        row.locked = Set(true);
        row.update(&w.db).await.unwrap();
        let before = dump(&w.db).await;
        let raw = message("user2@example.com", &token, "l1@x", "Let me in.");
        refused(receive(&w.db, &raw).await.unwrap(), posting::TOPIC_LOCKED);
        assert_eq!(dump(&w.db).await, before);
        let mut row: topic::ActiveModel = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        row.locked = Set(false);
        row.update(&w.db).await.unwrap();

        // A suspended member.
        let mut member: user::ActiveModel = w.other.clone().into();
        member.suspended_until = Set(Some(Utc::now() + Duration::days(1)));
        member.suspension_reason = Set(Some("Spam".into()));
        member.update(&w.db).await.unwrap();
        let before = dump(&w.db).await;
        let raw = message("user2@example.com", &token, "s1@x", "Still here.");
        refused(receive(&w.db, &raw).await.unwrap(), "suspended");
        assert_eq!(dump(&w.db).await, before);
    }

    #[tokio::test]
    async fn auto_replies_are_ignored_and_write_nothing() {
        let w = World::new().await;
        let (_, token) = topic_and_token(&w).await;
        let raw = format!(
            "From: user2@example.com\r\nTo: reply+{token}@feedback.example.com\r\n\
             Message-ID: <ooo@x>\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\n\
             I am away.\r\n"
        );
        let before = dump(&w.db).await;
        assert!(matches!(
            receive(&w.db, raw.as_bytes()).await.unwrap(),
            Outcome::Ignored { .. }
        ));
        assert_eq!(dump(&w.db).await, before);
    }

    #[tokio::test]
    async fn a_bounce_marks_the_members_with_that_address_only() {
        let w = World::new().await;
        let mut jane: user::ActiveModel = w.other.clone().into();
        jane.email = Set("jane@example.org".into());
        jane.email_key = Set("jane@example.org".into());
        jane.update(&w.db).await.unwrap();
        let dsn = std::fs::read(format!(
            "{}/src/server/inbound_mail/samples/postfix_dsn.eml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        // A report that cannot show we wrote to the address (as anyone could make up) marks
        // nobody.
        assert_eq!(
            receive(&w.db, &dsn).await.unwrap(),
            Outcome::Bounced { marked: 0 }
        );
        // The real one carries back the Message-ID of a message we sent to that address.
        crate::server::mail::enqueue(&w.db, "jane@example.org", "Hello", "Body")
            .await
            .unwrap();
        let sent = crate::server::entity::email::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .pop()
            .unwrap();
        // Its number and time alone, as anyone could guess them, do not count.
        let guessed = format!(
            "\r\nMessage-ID: <backyard.{}.{}@example.com>\r\n",
            sent.id,
            sent.created_at.timestamp()
        );
        let before = dump(&w.db).await;
        assert_eq!(
            receive(&w.db, &[dsn.clone(), guessed.into_bytes()].concat())
                .await
                .unwrap(),
            Outcome::Bounced { marked: 0 }
        );
        assert_eq!(dump(&w.db).await, before);
        let key = signing::message_id_key(&w.db).await.unwrap();
        let returned = format!(
            "\r\nMessage-ID: <backyard.{}@example.com>\r\n",
            signing::message_id_token(&key, sent.id, sent.created_at.timestamp())
        );
        let dsn = [dsn, returned.into_bytes()].concat();
        assert_eq!(
            receive(&w.db, &dsn).await.unwrap(),
            Outcome::Bounced { marked: 1 }
        );
        let bouncing: Vec<i64> = user::Entity::find()
            .filter(user::Column::EmailBouncingSince.is_not_null())
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(bouncing, vec![w.other.id]);
        // Again: already marked, the first time kept. For an address nobody has: nothing.
        let before = dump(&w.db).await;
        assert_eq!(
            receive(&w.db, &dsn).await.unwrap(),
            Outcome::Bounced { marked: 0 }
        );
        let exchange = std::fs::read(format!(
            "{}/src/server/inbound_mail/samples/exchange_dsn.eml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(
            receive(&w.db, &exchange).await.unwrap(),
            Outcome::Bounced { marked: 0 }
        );
        assert_eq!(dump(&w.db).await, before);
    }

    #[tokio::test]
    async fn a_reply_posts_on_postgres_too() {
        let Some(pg) = PostgresTestDb::create().await else {
            return;
        };
        let w = World::builder().build_on(pg.db.clone()).await;
        let (t, token) = topic_and_token(&w).await;
        let raw = message(
            "user2@example.com",
            &token,
            "pg1@mail.example",
            "On PostgreSQL.",
        );
        let Outcome::Posted { post_id, .. } = receive(&w.db, &raw).await.unwrap() else {
            panic!("not posted")
        };
        let p = post::Entity::find_by_id(post_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((p.topic_id, p.author_id), (t.id, w.other.id));
        refused(receive(&w.db, &raw).await.unwrap(), "was received before");
        assert_eq!(received_mail::Entity::find().count(&w.db).await.unwrap(), 1);
        pg.drop().await;
    }
}
