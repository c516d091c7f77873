//! Admission: whether a post from this author goes in now, and how: public, held for a
//! moderator (a watched word, or a new member's first posts), or public and queued for a look
//! (a "flag" word). Also the rate limits every member write counts against, and whether a
//! topic takes posts at all.
use std::collections::HashSet;

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::rules::{Rules, watched};
use crate::{
    error::AppError,
    model::{ArticleState, PostState},
    server::{
        auth, content,
        content::MAX_BODY_CHARS,
        db,
        entity::{article, flag, post, topic, user, watched_word},
        records::{articles::state_of, review_items, users},
        settings, uploads,
        visibility::ToPostIn,
        watched_words::{self, Verdict, WordAction},
    },
};

pub use crate::server::records::users::ACCOUNT_GONE;
pub const BODY_EMPTY: &str = "Write something before posting.";
pub const HELD_NEW: &str =
    "New members' first posts wait for a moderator's approval; yours will appear once approved.";
pub const HELD_WORDS: &str = "Your post waits for a moderator: it contains a watched word.";
pub const CATEGORY_ARCHIVED: &str = "That category is archived: it is read-only now.";
pub const TOPIC_LOCKED: &str = "This topic is locked, so it takes no new replies.";
pub const COMMENTS_CLOSED: &str = "Comments are closed on this article.";
pub const NOT_PUBLISHED: &str = "This article isn't published yet, so it takes no comments.";
pub const REPLY_SENT_TWICE: &str = "This reply was already posted.";
pub const SAME_REPLY_AGAIN: &str = "You just posted that same reply; it is above.";
pub const HELD_TOPIC: &str =
    "This topic waits for a moderator's approval: it takes replies once it is public.";

pub fn validate_body(body: &str) -> Result<(), AppError> {
    if crate::server::invisible::is_blank(body) {
        return Err(AppError::invalid("body", BODY_EMPTY));
    }
    let n = body.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(AppError::invalid(
            "body",
            format!(
                "Posts can be at most {} characters; this one has {}.",
                group_thousands(MAX_BODY_CHARS),
                group_thousands(n)
            ),
        ));
    }
    Ok(())
}

fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A body checked and rendered before its write transaction starts, so the (bounded, but not
/// free) Markdown work never holds the write lock. `admit` judges it again inside the
/// transaction only if the watched words changed in between, and never renders it again.
pub struct Prepared {
    pub source: String,
    /// The rendering, before censored words are masked in it.
    rendered: String,
    /// What is stored: the rendering with censored words masked.
    pub html: String,
    /// The watched words it was judged by, and what they said (block refused it already).
    watched: Vec<watched_words::Watched>,
    action: Option<(WordAction, String)>,
    /// A new topic's title as typed, judged with its opening post (see `prepare_topic`).
    title: Option<String>,
}

/// Checks a body (length, blocked words) and renders it with @mentions of existing members
/// linked and watched words censored.
pub async fn prepare(conn: &impl ConnectionTrait, body: &str) -> Result<Prepared, AppError> {
    validate_body(body)?;
    let watched = watched_list(conn).await?;
    let rendered = render(conn, body).await?;
    let (action, html) = if watched.is_empty() {
        // Nothing to judge: no hand-off to the blocking pool on a site without watched words.
        (None, rendered.clone())
    } else {
        let judged = (body.to_string(), rendered.clone(), watched.clone());
        content::off_runtime(move || {
            let (body, rendered, watched) = judged;
            judge_body(&body, &rendered, &watched)
        })
        .await??
    };
    if shows_nothing(&html) {
        return Err(AppError::invalid("body", BODY_EMPTY));
    }
    Ok(Prepared {
        source: body.to_string(),
        rendered,
        html,
        watched,
        action,
        title: None,
    })
}

impl Prepared {
    /// The watched words' action and the HTML to store, judged by `watched` (read again inside
    /// the write): the prepared ones when the words are the same.
    fn judged_by(
        &self,
        watched: &[watched_words::Watched],
    ) -> Result<(Option<(WordAction, String)>, String), AppError> {
        if self.watched == watched {
            return Ok((self.action.clone(), self.html.clone()));
        }
        judge_body(&self.source, &self.rendered, watched)
    }
}

/// `prepare` for a topic's opening post and its (checked) title. The watched words judge the
/// title as they judge a post: a blocked word refuses it, naming the word; one that holds or
/// flags holds or flags the opening post; a censored one is masked in the title as stored (and
/// so in the topic's address, its lists, search and e-mails), since a title has no rendering of
/// its own to mask it in.
pub async fn prepare_topic(
    conn: &impl ConnectionTrait,
    title: &str,
    body: &str,
) -> Result<Prepared, AppError> {
    judge_by(title, &watched_list(conn).await?, Judged::Title)?;
    let mut prepared = prepare(conn, body).await?;
    prepared.title = Some(title.to_string());
    Ok(prepared)
}

/// A title's slug without the watched words it shows. The slug keeps ASCII letters and digits
/// only (`slug_text`), so "ñdarn", which the words read as one word, gives "darn", "dárn" gives
/// darn, and "buy_now", "a hole" or "o k" give the slug words of "buy now", "a-hole" and "o.k.".
/// Words are taken out before the slug is cut to its length, so no part of a phrase is left at
/// its end.
fn slug_without_watched(title: &str, watched: &[watched_words::Watched]) -> String {
    // Each word cut to the slug's length first, so a word cut to fit is judged as it shows.
    let mut kept: Vec<String> = crate::server::slug_text::ascii_words(title)
        .into_iter()
        .map(|word| word[..word.len().min(80)].to_string())
        .collect();
    // Until nothing is left to take out: the words either side of one taken out meet, and may
    // show another ("buy buy now now").
    loop {
        let mut shown = vec![true; kept.len()];
        for w in watched {
            let parts = watched_words::slug_words(&w.word);
            if parts.is_empty() || parts.len() > kept.len() {
                continue;
            }
            for at in 0..=kept.len() - parts.len() {
                let here = parts
                    .iter()
                    .zip(&kept[at..])
                    .all(|(part, word)| !watched_words::find(word, part).is_empty());
                if here {
                    shown[at..at + parts.len()].fill(false);
                }
            }
        }
        if shown.iter().all(|s| *s) {
            break;
        }
        kept = kept
            .into_iter()
            .zip(shown)
            .filter_map(|(word, shown)| shown.then_some(word))
            .collect();
    }
    crate::server::records::topics::slug_of(kept, 80)
}

/// Whether rendered HTML shows a reader nothing: no image of this site's, and no text once tags
/// are dropped and entities read (a comment, an empty tag, `&#8203;` or `[](link)` rendered an
/// empty post). Text in `<rp>` is hidden by browsers; an image without a source (the cleaner
/// drops other sites') or of no size shows nothing but its alt text, which the site wrote.
pub fn shows_nothing(html: &str) -> bool {
    // What is inside `<rp>` is never shown, images included.
    let mut shown = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<rp>") {
        shown.push_str(&rest[..at]);
        rest = rest[at..]
            .find("</rp>")
            .map_or("", |end| &rest[at + end + 5..]);
    }
    shown.push_str(rest);
    let shown_image = shown.split("<img ").skip(1).any(|rest| {
        let tag = rest.split('>').next().unwrap_or_default();
        // A width or height under two pixels, as a browser reads it: white space, then the
        // number's whole part ("00", " 0 ", "0px", "0.5", "1.9", "0%").
        let tiny = |name: &str| {
            let Some((_, value)) = tag.split_once(&format!("{name}=\"")) else {
                return false;
            };
            let digits: String = value
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u64>().is_ok_and(|n| n < 2)
        };
        (tag.contains(" src=\"") || tag.starts_with("src=\"")) && !tiny("width") && !tiny("height")
    });
    !shown_image
        && crate::server::invisible::is_blank(&crate::server::search_index::text_of(&shown))
}

/// The content pipeline with @mentions of existing members linked (one look-up).
pub async fn render(conn: &impl ConnectionTrait, source: &str) -> Result<String, AppError> {
    let candidates = content::mention_candidates(source);
    let known: HashSet<String> = if candidates.is_empty() {
        HashSet::new()
    } else {
        user::Entity::find()
            .filter(user::Column::UsernameKey.is_in(candidates))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| u.username_key)
            .collect()
    };
    let images = uploads::proxy::external_images(conn).await?;
    let source = source.to_string();
    content::off_runtime(move || {
        content::render_with_mentions(&source, &|name| known.contains(name), &images)
    })
    .await
}

/// The watched words' action on a body (the strongest of what its source writes and what its
/// rendering shows: "da**rn**" and "dar&#x30A;n" show "darn") and its rendering with every
/// censored word masked where it shows. A blocked word refuses it, naming the word.
fn judge_body(
    source: &str,
    rendered: &str,
    watched: &[watched_words::Watched],
) -> Result<(Option<(WordAction, String)>, String), AppError> {
    let written = judge_by(source, &watched_words::single_words(watched), Judged::Body)?.action;
    let (shown, html) = censor_html(rendered, watched);
    let action = stronger(written, shown);
    if let Some((WordAction::Block, word)) = &action {
        return Err(blocked(Judged::Body, word));
    }
    Ok((action, html))
}

/// The watched words' action on the text clean HTML shows, and the HTML with every censored word
/// masked in its text: a link's address, an image's source and other attributes keep theirs,
/// so every link still leads where it did.
pub fn censor_html(
    html: &str,
    watched: &[watched_words::Watched],
) -> (Option<(WordAction, String)>, String) {
    if watched.is_empty() {
        return (None, html.to_string());
    }
    let shown = crate::server::html_text::shown_text(html);
    let (action, masks) = watched_words::assess(&shown.text, watched);
    if masks.is_empty() {
        return (action, html.to_string());
    }
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    for mask in masks {
        // The characters shown in the mask, each written by its own bytes of the HTML (tags
        // between them are kept).
        let first = shown.at.partition_point(|(offset, _)| *offset < mask.start);
        for (offset, bytes) in shown.at[first..].iter().take_while(|(o, _)| *o < mask.end) {
            if bytes.is_empty() || bytes.start < at {
                continue;
            }
            out.push_str(&html[at..bytes.start]);
            // A mark or an invisible character goes with its letter's ■.
            let c = shown.text[*offset..].chars().next().unwrap_or(' ');
            if !crate::server::invisible::is_invisible(c)
                && !unicode_normalization::char::is_combining_mark(c)
            {
                out.push('■');
            }
            at = bytes.end;
        }
    }
    out.push_str(&html[at..]);
    (action, out)
}

/// What the watched words judge: a post's body, or a new topic's title.
#[derive(Clone, Copy)]
enum Judged {
    Body,
    Title,
}

/// The watched words' verdict on `text` as written; a blocked word refuses it, in its field.
fn judge_by(
    text: &str,
    watched: &[watched_words::Watched],
    judged: Judged,
) -> Result<Verdict, AppError> {
    let verdict = watched_words::judge(text, watched);
    if let Some((WordAction::Block, word)) = &verdict.action {
        return Err(blocked(judged, word));
    }
    Ok(verdict)
}

/// The stronger of two actions (they are ordered strongest first), with its word.
fn stronger(
    a: Option<(WordAction, String)>,
    b: Option<(WordAction, String)>,
) -> Option<(WordAction, String)> {
    [a, b]
        .into_iter()
        .flatten()
        .min_by_key(|(action, _)| *action)
}

/// The refusal of a text with a blocked word, naming it.
fn blocked(judged: Judged, word: &str) -> AppError {
    let (field, noun) = match judged {
        Judged::Body => ("body", "post"),
        Judged::Title => ("title", "title"),
    };
    AppError::invalid(
        field,
        format!("Your {noun} contains “{word}”, which isn't allowed here. Please reword it."),
    )
}

/// The watched words as the judge takes them (rows with an unknown action are skipped).
pub async fn watched_list(
    conn: &impl ConnectionTrait,
) -> Result<Vec<watched_words::Watched>, AppError> {
    let mut watched: Vec<_> = watched_word::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|w| watched(w.word, &w.action))
        .collect();
    // In one order, so a list read again inside the write compares equal (`Prepared::judged_by`).
    watched.sort_by(|a, b| a.word.cmp(&b.word));
    Ok(watched)
}

/// How a post goes in: its state, the HTML to store, why it is held (told to its author) and
/// the review queue it enters, if any.
pub struct Admission {
    pub state: PostState,
    pub held_because: Option<&'static str>,
    pub html: String,
    /// A new topic's title as it is stored (its censored words masked), and its slug.
    pub title: Option<(String, String)>,
    pub queue: Option<&'static str>,
}

/// Shares the author's row until the post commits, on PostgreSQL, before anything else of the
/// post is locked (see `records::users::still_writing`); `admit` then reads whether they may
/// still write with the rules.
pub async fn share_author(
    txn: &impl ConnectionTrait,
    author: &user::Model,
) -> Result<(), AppError> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        users::still_writing(txn, author.id).await?;
    }
    Ok(())
}

/// Decides, inside the write transaction, how a new post from `author` goes in (`reply_in`: the
/// topic a reply goes to). Counted under the member's write lock (see `check_rate`), so
/// parallel posts cannot slip past a limit.
///
/// `read`: the rules, read by the caller earlier in this transaction (`Rules::statement`) with
/// nothing written between that they read.
pub async fn admit(
    txn: &impl ConnectionTrait,
    author: &user::Model,
    prepared: &Prepared,
    reply_in: Option<i64>,
    read: Option<Rules>,
) -> Result<Admission, AppError> {
    let rules = match read {
        Some(rules) => rules,
        None => Rules::read(txn, author, &prepared.source, reply_in).await?,
    };
    if rules.barred {
        // Read whole for the reason and the end date the refusal gives.
        users::still_writing(txn, author.id).await?;
    }
    if rules.same_reply_again {
        return Err(AppError::invalid("form", SAME_REPLY_AGAIN));
    }
    auth::check_not_suspended(author)?;
    if reply_in.is_none() {
        check_rate_of(
            txn,
            author,
            rules.topics_per_hour,
            Duration::hours(1),
            RateOf::Topics,
        )
        .await?;
    }
    check_rate_of(
        txn,
        author,
        rules.posts_per_10_min,
        Duration::minutes(10),
        RateOf::Posts,
    )
    .await?;
    let (mut action, html) = prepared.judged_by(&rules.watched)?;
    let title = match &prepared.title {
        Some(typed) => {
            let judged = judge_by(typed, &rules.watched, Judged::Title)?;
            action = stronger(action.take(), judged.action);
            let slug = slug_without_watched(&judged.censored, &rules.watched);
            Some((judged.censored, slug))
        }
        None => None,
    };
    if let Some((WordAction::Hold, _)) = &action {
        return Ok(Admission {
            state: PostState::Pending,
            held_because: Some(HELD_WORDS),
            html,
            title,
            queue: Some(review_items::HELD_WORDS),
        });
    }
    if holds_as_new_member(txn, author).await?
        || uploads::holds_post_with_files(txn, author, &prepared.source).await?
    {
        return Ok(Admission {
            state: PostState::Pending,
            held_because: Some(HELD_NEW),
            html,
            title,
            queue: Some(review_items::HELD_NEW),
        });
    }
    let flagged = matches!(action, Some((WordAction::Flag, _)));
    Ok(Admission {
        state: PostState::Visible,
        held_because: None,
        html,
        title,
        queue: flagged.then_some(review_items::FLAGGED),
    })
}

/// Whether `author` may post now: not suspended, within their limits. Called again inside the
/// write (by `admit`); called before it on a plain connection, it spares a refused post the
/// rendering.
pub async fn check_may_post(
    conn: &impl ConnectionTrait,
    author: &user::Model,
    opens_topic: bool,
) -> Result<(), AppError> {
    auth::check_not_suspended(author)?;
    if opens_topic {
        check_rate(
            conn,
            author,
            settings::TOPICS_PER_HOUR,
            Duration::hours(1),
            RateOf::Topics,
        )
        .await?;
    }
    check_rate(
        conn,
        author,
        settings::POSTS_PER_10_MIN,
        Duration::minutes(10),
        RateOf::Posts,
    )
    .await
}

/// The text of an edit: checked and censored as a new post is, but never held (an edit keeps
/// its post's state), and whether a word that holds or flags a new post is in it (the edit
/// then goes to the review queue, see `posting::edit`).
pub async fn admit_edit(
    txn: &impl ConnectionTrait,
    editor: &user::Model,
    prepared: &Prepared,
) -> Result<(String, bool), AppError> {
    auth::check_not_suspended(editor)?;
    // As the database has the editor now: an edit in flight while they were suspended or
    // deleted was written after it (see `admit`).
    users::still_writing(txn, editor.id).await?;
    let (action, html) = prepared.judged_by(&watched_list(txn).await?)?;
    let queued = matches!(action, Some((WordAction::Hold | WordAction::Flag, _)));
    Ok((html, queued))
}

/// New members (trust level 0) have their first posts approved when admins turn this on; once
/// enough are public, they are no longer held.
async fn holds_as_new_member(
    conn: &impl ConnectionTrait,
    author: &user::Model,
) -> Result<bool, AppError> {
    if author.role().is_staff() || author.trust_level != 0 {
        return Ok(false);
    }
    let hold = settings::number(conn, settings::NEW_MEMBER_HOLD).await?;
    if hold <= 0 {
        return Ok(false);
    }
    let approved = post::Entity::find()
        .filter(post::Column::AuthorId.eq(author.id))
        .filter(post::Column::State.eq(PostState::Visible.as_str()))
        .count(conn)
        .await?;
    Ok((approved as i64) < hold)
}

/// What kind of write a rate limit counts.
#[derive(Clone, Copy)]
pub enum RateOf {
    Posts,
    Topics,
    Flags,
}

/// Refuses a write past the member's limit, saying when they may write again. Staff are not
/// limited. Inside the write's transaction it first locks the member's writes (db::lock_key),
/// so parallel requests count one after another and exactly the limit get through; called on a
/// plain connection, as a cheap early refusal, the lock lasts only its own statement.
pub async fn check_rate(
    conn: &impl ConnectionTrait,
    member: &user::Model,
    limit: (&str, i64),
    window: Duration,
    of: RateOf,
) -> Result<(), AppError> {
    if member.role().is_staff() {
        return Ok(());
    }
    let allowed = settings::number(conn, limit).await?;
    check_rate_of(conn, member, allowed, window, of).await
}

/// `check_rate` with the limit read already (`allowed`; 0 or less: no limit).
async fn check_rate_of(
    conn: &impl ConnectionTrait,
    member: &user::Model,
    allowed: i64,
    window: Duration,
    of: RateOf,
) -> Result<(), AppError> {
    if member.role().is_staff() || allowed <= 0 {
        return Ok(());
    }
    db::lock_key(conn, &format!("writes:{}", member.id)).await?;
    let since = Utc::now() - window;
    let times = match of {
        RateOf::Posts => {
            times_since::<post::Entity>(
                conn,
                post::Column::AuthorId,
                post::Column::CreatedAt,
                member.id,
                since,
            )
            .await?
        }
        RateOf::Topics => {
            times_since::<topic::Entity>(
                conn,
                topic::Column::AuthorId,
                topic::Column::CreatedAt,
                member.id,
                since,
            )
            .await?
        }
        RateOf::Flags => {
            times_since::<flag::Entity>(
                conn,
                flag::Column::FlaggerId,
                flag::Column::CreatedAt,
                member.id,
                since,
            )
            .await?
        }
    };
    if (times.len() as i64) < allowed {
        return Ok(());
    }
    // The oldest write in the window leaves it first.
    let free_at = times[times.len() - allowed as usize] + window;
    let wait = std::cmp::max((free_at - Utc::now()).num_seconds(), 1);
    let when = if wait < 90 {
        crate::format::count(wait, "second", "seconds")
    } else {
        crate::format::count((wait + 59) / 60, "minute", "minutes")
    };
    let what = match of {
        RateOf::Posts => "posts",
        RateOf::Topics => "new topics",
        RateOf::Flags => "flags",
    };
    Err(AppError::invalid(
        "form",
        format!("You've reached the limit of {allowed} {what} for now. Try again in {when}."),
    ))
}

/// When `member` wrote rows of `E` since `since`, oldest first.
async fn times_since<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    who: E::Column,
    at: E::Column,
    member: i64,
    since: DateTimeUtc,
) -> Result<Vec<DateTimeUtc>, AppError> {
    Ok(E::find()
        .select_only()
        .column(at)
        .filter(who.eq(member))
        .filter(at.gt(since))
        .order_by_asc(at)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Whether a topic takes a new post: a forum topic unless locked or in an archived category; an
/// article's comments only while the article is public and its comments are on.
pub fn check_takes_posts(found: &ToPostIn) -> Result<(), AppError> {
    let t = &found.topic;
    match &found.article {
        Some(a) => check_open_for_comments(a, t, Utc::now()),
        None if t.locked => Err(AppError::invalid("form", TOPIC_LOCKED)),
        None if found.category_archived => Err(AppError::invalid("form", CATEGORY_ARCHIVED)),
        None => Ok(()),
    }
}

/// Whether an article's comment topic takes a new comment now.
pub fn check_open_for_comments(
    a: &article::Model,
    comments: &topic::Model,
    now: DateTimeUtc,
) -> Result<(), AppError> {
    if state_of(a, now) != ArticleState::Published {
        return Err(AppError::invalid("form", NOT_PUBLISHED));
    }
    if comments.locked {
        return Err(AppError::invalid("form", COMMENTS_CLOSED));
    }
    Ok(())
}

/// While a topic's opening post waits for approval, only its author adds to it: staff who can
/// read it answer once it is public, or a moderator approves and answers in one step.
pub async fn check_not_held_for_others(
    conn: &impl ConnectionTrait,
    t: &topic::Model,
    author: &user::Model,
) -> Result<(), AppError> {
    if t.visible || t.author_id == author.id {
        return Ok(());
    }
    let held = post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .filter(post::Column::PostNumber.eq(1))
        .filter(post::Column::State.eq(PostState::Pending.as_str()))
        .count(conn)
        .await?
        > 0;
    if held {
        return Err(AppError::invalid("form", HELD_TOPIC));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::super::rules::Rules;
    use crate::server::{
        db::numbered,
        forum,
        testing::{World, query_plan, with_statistics},
    };

    /// Whether a reply is the same one again is read inside the writers' turn: among the
    /// author's posts in the topic in the window, whatever else they wrote. Here with
    /// statistics taken after one member wrote 300 posts across 30 topics, as a busy staff
    /// member or the reply benchmark's writers do.
    #[tokio::test]
    async fn a_reply_sent_again_is_found_among_the_authors_posts_in_the_topic() {
        let w = World::new().await;
        let backend = w.db.get_database_backend();
        let mut topics = Vec::new();
        for n in 0..30 {
            let (t, _) = forum::start_topic(
                &w.db,
                &w.customer,
                "questions",
                &format!("Topic {n}"),
                "Opening.",
                None,
            )
            .await
            .unwrap();
            topics.push(t.id);
        }
        let copies = "INSERT INTO posts (topic_id, author_id, post_number, source, html, state,
                                         is_staff_reply, created_at, published_at)
                      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
                      SELECT topic_id, $1, post_number + i, source, html, state,
                             is_staff_reply, created_at, published_at
                        FROM posts, n WHERE post_number = 1";
        w.db.execute_raw(numbered(backend, copies, vec![w.staff.id.into()]))
            .await
            .unwrap();
        let txn = with_statistics(&w.db, "").await;
        let rules = Rules::statement(backend, w.staff.id, "Again.", Some(topics[3]));
        assert_eq!(
            query_plan(&txn, &rules, "posts").await,
            [
                "SEARCH posts EXISTS USING INDEX idx_posts_topic_author_created \
                 (topic_id=? AND author_id=? AND created_at>?)"
            ],
            "{}",
            rules.sql
        );
    }
}
