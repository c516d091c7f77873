//! Who hears of a post or a topic change, decided in the transaction that makes it: the people
//! it addresses directly now, followers and watchers through a fan-out row for the worker.
use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryResult, QueryTrait, Set, Statement,
};

use super::{
    ANSWER, CONFIRM, MENTION, MERGED, NEW_TOPIC, Notice, QUOTE, REPLY, STAFF_ANSWER, STATUS,
    compose::{self, Letter},
    following::{self, Level},
    preferences::{MailKind, Mode},
    tell, tell_chosen,
};
use crate::{
    error::AppError,
    server::{
        batch::Batch,
        db::numbered,
        entity::{fan_out, post, topic, user},
        records::{posts, users},
        visibility,
    },
};

/// At most this many members are told of one post by name: a post naming fifty people is a
/// broadcast, not a conversation.
const MAX_ADDRESSED: usize = 10;

/// A post became public for the first time (published at once, or approved): the topic's
/// author hears of a reply (as a staff answer when staff wrote it), the members it mentions or
/// quotes are told, and followers (or, for a new topic, the category's watchers) are left to
/// the worker.
pub async fn post_published(conn: &impl ConnectionTrait, p: &post::Model) -> Result<(), AppError> {
    let Some(t) = topic::Entity::find_by_id(p.topic_id).one(conn).await? else {
        return Ok(());
    };
    let author = users::member(conn, p.author_id).await?;
    let article = visibility::article_of(conn, t.id).await?;
    let link = posts::url_in(p, &t, article.as_ref());
    let mut later = Batch::default();
    post_published_in(
        conn,
        p,
        &t,
        &author,
        article.is_some(),
        &link,
        &mut later,
        None,
    )
    .await?;
    Ok(later.run(conn).await?)
}

/// `post_published` with what the caller read already: the post's topic as it is now, its
/// author, whether the topic is an article's comments, the post's address, and perhaps the
/// topic's author (`owner`, read by `TopicOwner::read`). The caller's writes held back in
/// `later` are sent with the first read here, and the writes here are left there for the
/// caller to send.
#[allow(clippy::too_many_arguments)]
pub async fn post_published_in(
    conn: &impl ConnectionTrait,
    p: &post::Model,
    t: &topic::Model,
    author: &user::Model,
    in_article: bool,
    link: &str,
    later: &mut Batch,
    owner: Option<TopicOwner>,
) -> Result<(), AppError> {
    let told = addressed(conn, p, t, author, link, later).await?;
    // An article's first comment is a reply to the article, not a new topic.
    let opening = p.post_number == 1 && !in_article;
    let kind = if opening { NEW_TOPIC } else { REPLY };
    leave_for_worker(conn, kind, t, Some(p.id), author.id, "", later);
    if opening || t.author_id == author.id || told.contains(&t.author_id) {
        return Ok(());
    }
    let owner = match owner {
        Some(owner) => owner,
        None => {
            let read = TopicOwner::read(conn.get_database_backend(), t, p.is_staff_reply);
            let rows = std::mem::take(later).then_each(conn, vec![read]).await?;
            TopicOwner::from_rows(rows.into_iter().flatten(), p.is_staff_reply)?
        }
    };
    let Some((owner, mode)) = owner.0 else {
        return Ok(());
    };
    let name = &author.display_name;
    let (kind, mail_kind, message) = if p.is_staff_reply {
        let badge = compose::staff_badge(p.staff_title.as_deref());
        (
            STAFF_ANSWER,
            MailKind::Answers,
            format!("{name}{badge} answered your topic “{}”", t.title),
        )
    } else {
        (
            REPLY,
            MailKind::Replies,
            format!("{name} replied to your topic “{}”", t.title),
        )
    };
    let why = "You started this topic.";
    let (notice, letter) = of_post(p, t, link, kind, mail_kind, message, why);
    tell_chosen(conn, &owner, &notice, &letter, mode, later).await
}

/// What one member is told of post `p` in topic `t` (at `link`), on the site and by mail.
fn of_post(
    p: &post::Model,
    t: &topic::Model,
    link: &str,
    kind: &'static str,
    mail_kind: MailKind,
    message: String,
    why: &str,
) -> (Notice, Letter) {
    let letter = Letter {
        subject: t.title.clone(),
        headline: message.clone(),
        post_html: Some(p.html.clone()),
        link: link.to_string(),
        why: why.into(),
        kind: mail_kind,
        topic_id: Some(t.id),
    };
    let notice = Notice {
        kind,
        topic_id: t.id,
        post_id: Some(p.id),
        message,
        link: link.to_string(),
        staff: p.is_staff_reply,
        mail_kind,
    };
    (notice, letter)
}

/// A topic's author as a reply tells them of it: the member, unless they muted the topic, with
/// their mail choice for a reply (or a staff answer). One read, which a reply sends with its
/// topic's settling (`posting::reply_under`).
pub struct TopicOwner(Option<(user::Model, Mode)>);

impl TopicOwner {
    /// The read of topic `t`'s author, to be told of a reply (a staff answer when `staff`).
    pub fn read(backend: DbBackend, t: &topic::Model, staff: bool) -> Statement {
        numbered(
            backend,
            "SELECT u.*,
                    (SELECT m.mode FROM mail_preferences m WHERE m.user_id = u.id AND m.kind = $3)
                      AS owner_mail_mode
               FROM users u
              WHERE u.id = $1
                AND NOT EXISTS (SELECT 1 FROM topic_follows f
                                 WHERE f.user_id = u.id AND f.topic_id = $2 AND f.level = $4)",
            vec![
                t.author_id.into(),
                t.id.into(),
                Self::mail_kind(staff).as_str().into(),
                Level::Muted.as_str().into(),
            ],
        )
    }

    /// What `read` found, from its rows.
    pub fn from_rows(
        rows: impl IntoIterator<Item = QueryResult>,
        staff: bool,
    ) -> Result<TopicOwner, AppError> {
        let Some(row) = rows.into_iter().next() else {
            return Ok(TopicOwner(None));
        };
        let member = user::Model::from_query_result(&row, "")?;
        let chosen: Option<String> = row.try_get("", "owner_mail_mode")?;
        let mode = chosen
            .as_deref()
            .and_then(Mode::parse)
            .unwrap_or(Self::mail_kind(staff).default_mode());
        Ok(TopicOwner(Some((member, mode))))
    }

    fn mail_kind(staff: bool) -> MailKind {
        if staff {
            MailKind::Answers
        } else {
            MailKind::Replies
        }
    }
}

/// What a topic change is, for `topic_changed`.
pub enum Change {
    /// A new status ("resolved" asks the author "did this solve it?").
    Status {
        label: String,
        asks_to_confirm: bool,
    },
    /// A reply marked as the official answer, at this link.
    Answer { link: String },
    /// The idea was merged into another, at this link.
    Merged { into_title: String, link: String },
}

/// Staff changed the topic: its author is told (as an answer on their topic), followers and
/// voters through the worker.
pub async fn topic_changed(
    conn: &impl ConnectionTrait,
    t: &topic::Model,
    actor: &user::Model,
    change: Change,
) -> Result<(), AppError> {
    let name = format!(
        "{}{}",
        actor.display_name,
        if actor.role().is_staff() {
            compose::staff_badge(actor.staff_title.as_deref())
        } else {
            String::new()
        }
    );
    let title = &t.title;
    // Followers read what happened; only the author is asked whether it solved it.
    let mut for_followers = None;
    let (kind, message, link) = match change {
        Change::Status {
            label,
            asks_to_confirm: true,
        } => {
            for_followers = Some(format!("{name} set “{title}” to {label}"));
            (
                CONFIRM,
                format!("{name} marked “{title}” {label}: did this solve it?"),
                crate::model::topic_url(t.id, &t.slug, 1),
            )
        }
        Change::Status { label, .. } => (
            STATUS,
            format!("{name} set “{title}” to {label}"),
            crate::model::topic_url(t.id, &t.slug, 1),
        ),
        Change::Answer { link } => (
            ANSWER,
            format!("{name} marked the official answer in “{title}”"),
            link,
        ),
        Change::Merged { into_title, link } => (
            MERGED,
            format!("{name} merged “{title}” into “{into_title}”: its votes count there now"),
            link,
        ),
    };
    if t.author_id != actor.id && following::level(conn, t.author_id, t.id).await? != Level::Muted {
        let owner = users::member(conn, t.author_id).await?;
        let letter = Letter {
            subject: t.title.clone(),
            headline: message.clone(),
            post_html: None,
            link: link.clone(),
            why: "You started this topic.".into(),
            kind: MailKind::Answers,
            topic_id: Some(t.id),
        };
        let notice = Notice {
            kind,
            topic_id: t.id,
            post_id: None,
            message: message.clone(),
            link,
            staff: actor.role().is_staff(),
            mail_kind: MailKind::Answers,
        };
        tell(conn, &owner, &notice, &letter).await?;
    }
    let followers_read = for_followers.unwrap_or(message);
    let mut later = Batch::default();
    leave_for_worker(conn, kind, t, None, actor.id, &followers_read, &mut later);
    Ok(later.run(conn).await?)
}

/// The fan-out row that has the worker tell followers (or watchers), written with the caller's
/// next read (`later`).
fn leave_for_worker(
    conn: &impl ConnectionTrait,
    kind: &str,
    t: &topic::Model,
    post_id: Option<i64>,
    actor_id: i64,
    message: &str,
    later: &mut Batch,
) {
    let row = fan_out::ActiveModel {
        kind: Set(kind.into()),
        topic_id: Set(t.id),
        post_id: Set(post_id),
        actor_id: Set(actor_id),
        message: Set(message.into()),
        created_at: Set(Utc::now()),
        done_at: Set(None),
        ..Default::default()
    };
    later.push(fan_out::Entity::insert(row).build(conn.get_database_backend()));
}

/// Tells the members the post mentions (`@name`) or quotes (`@name wrote:` above a `>` block)
/// and who may see the topic and did not mute it; gives who was told. The caller's writes held
/// back (`later`) are sent first when the post names anyone: the checks read the topic.
async fn addressed(
    conn: &impl ConnectionTrait,
    p: &post::Model,
    t: &topic::Model,
    author: &user::Model,
    link: &str,
    later: &mut Batch,
) -> Result<BTreeSet<i64>, AppError> {
    let mut told = BTreeSet::new();
    let (mentioned, quoted) = names_in(&p.source);
    if !(mentioned.is_empty() && quoted.is_empty()) {
        std::mem::take(later).run(conn).await?;
    }
    for (names, kind) in [(quoted, QUOTE), (mentioned, MENTION)] {
        for name in names {
            if told.len() >= MAX_ADDRESSED {
                return Ok(told);
            }
            let Some(member) = user::Entity::find()
                .filter(user::Column::UsernameKey.eq(name.to_lowercase()))
                .one(conn)
                .await?
            else {
                continue;
            };
            if member.id == author.id
                || told.contains(&member.id)
                || !visibility::can_see_topic(conn, t, Some(&member)).await?
                || following::level(conn, member.id, t.id).await? == Level::Muted
            {
                continue;
            }
            let message = if kind == QUOTE {
                format!("{} quoted you in “{}”", author.display_name, t.title)
            } else {
                format!("{} mentioned you in “{}”", author.display_name, t.title)
            };
            let why = if kind == QUOTE {
                "Someone quoted your post."
            } else {
                "Someone mentioned you."
            };
            let (notice, letter) = of_post(p, t, link, kind, MailKind::Mentions, message, why);
            tell(conn, &member, &notice, &letter).await?;
            told.insert(member.id);
        }
    }
    Ok(told)
}

/// The names a post's Markdown mentions and quotes, in order, each once. Code (fenced blocks
/// and `inline` spans) and quoted text mention nobody; a quote's `@name wrote:` line names the
/// member quoted.
pub fn names_in(source: &str) -> (Vec<String>, Vec<String>) {
    let mut mentioned: Vec<String> = Vec::new();
    let mut quoted: Vec<String> = Vec::new();
    let lines: Vec<&str> = source.lines().collect();
    let mut in_fence = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || trimmed.starts_with('>') || line.starts_with("    ") {
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix('@')
            .and_then(|rest| rest.trim_end().strip_suffix(" wrote:"))
            && lines.get(i + 1).is_some_and(|next| next.starts_with('>'))
        {
            push_once(&mut quoted, name);
            continue;
        }
        // Outside `inline code` only: every other backtick toggles.
        for (n, part) in line.split('`').enumerate() {
            if n % 2 == 1 {
                continue;
            }
            let chars: Vec<char> = part.chars().collect();
            for (at, c) in chars.iter().enumerate() {
                let starts = *c == '@'
                    && (at == 0 || !(chars[at - 1].is_alphanumeric() || chars[at - 1] == '_'));
                if !starts {
                    continue;
                }
                let name: String = chars[at + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    .collect();
                let name = name.trim_end_matches(['.', '-']);
                if !name.is_empty() {
                    push_once(&mut mentioned, name);
                }
            }
        }
    }
    (mentioned, quoted)
}

fn push_once(names: &mut Vec<String>, name: &str) {
    if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        names.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_quotes_are_found_outside_code_and_quoted_text() {
        let source = "Thanks @Ada, and @bob. cc @ada\n\n@carol wrote:\n> as @dave said\n\n\
                      `@eve` is code\n```\n@frank\n```\nmail me at x@example.com @grace-h.";
        let (mentioned, quoted) = names_in(source);
        assert_eq!(mentioned, ["Ada", "bob", "grace-h"]);
        assert_eq!(quoted, ["carol"]);
    }
}
