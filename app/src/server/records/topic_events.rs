//! A topic's history (`topic_events`): statuses with their notes, official answers, "no reply
//! needed", confirmations and reopenings. The response clock reads the latest status, "no reply
//! needed" and reopening from here (see `posting::settle`).
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::{
    error::AppError,
    server::{content::strip_direction_overrides, entity::topic_event},
};

/// Staff set a status (`detail` is the status).
pub const STATUS: &str = "status";
/// Staff took the topic out of the queue without replying (the note says why; staff only).
pub const NO_REPLY_NEEDED: &str = "no_reply_needed";
/// Back to open and into the queue.
pub const REOPENED: &str = "reopened";
pub const ANSWER: &str = "answer";
pub const UNANSWER: &str = "unanswer";
pub const CONFIRMED: &str = "confirmed";
/// Staff merged the idea into another (`detail` is the original's id).
pub const MERGED: &str = "merged";
/// A wait for staff its category's archiving ended (the topic waited when the category was
/// archived, or a moderator's action in it would have started one; `detail` is the category's
/// name): restoring the category, or moving the topic out, looks at the topic again
/// (`posting::end_archiving`). It decides nothing by itself: in an archived category nothing
/// waits, and elsewhere the wait is the clock events'.
pub const CATEGORY_ARCHIVED: &str = "category_archived";
/// The archiving that ended the topic's wait is over for it: its category was restored, or it
/// moved out (`detail` is the category's name). The queue's wait runs from the latest of these at
/// the earliest (`posting::settle`): nobody could answer while it was archived. (The response
/// figures still count from the topic's creation: archiving does not hide a question nobody
/// answered.)
pub const CATEGORY_RESTORED: &str = "category_restored";
pub const MOVED_OUT_OF_ARCHIVE: &str = "moved_out_of_archive";

/// The events that start or end a topic's wait for staff (`posting::settle`): the latest of
/// them decides.
pub const CLOCK_EVENTS: [&str; 4] = [REOPENED, STATUS, NO_REPLY_NEEDED, MERGED];

pub async fn record(
    conn: &impl ConnectionTrait,
    topic_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    detail: &str,
    note: &str,
    staff_only: bool,
) -> Result<(), AppError> {
    topic_event::ActiveModel {
        topic_id: Set(topic_id),
        actor_id: Set(actor_id),
        kind: Set(kind.into()),
        detail: Set(detail.into()),
        // Typed by staff and shown to them (and a status's to everyone): never out of the
        // order it was written in.
        note: Set(strip_direction_overrides(note).into_owned()),
        staff_only: Set(staff_only),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// SQL for `column` of the latest of topic `t`'s events that decide its wait (`CLOCK_EVENTS`),
/// for statements over topics `t` (`settle` reads it).
pub fn latest_clock_event_sql(column: &str) -> String {
    latest_of_sql(column, &CLOCK_EVENTS)
}

/// SQL for the time of topic `t`'s latest end of an archiving (`CATEGORY_RESTORED`,
/// `MOVED_OUT_OF_ARCHIVE`), for statements over topics `t` (`settle` reads it).
pub fn latest_archive_end_sql() -> String {
    latest_of_sql("created_at", &[CATEGORY_RESTORED, MOVED_OUT_OF_ARCHIVE])
}

/// SQL for the topics `t` whose wait an archiving ended and is not over for them: of their
/// archivings and ends of archivings, the latest is an archiving (whatever staff decided since:
/// the end is written all the same, and decides nothing).
pub fn ended_by_archiving_sql() -> String {
    let kinds = [CATEGORY_ARCHIVED, CATEGORY_RESTORED, MOVED_OUT_OF_ARCHIVE];
    format!("{} = '{CATEGORY_ARCHIVED}'", latest_of_sql("kind", &kinds))
}

fn latest_of_sql(column: &str, kinds: &[&str]) -> String {
    let kinds = kinds
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "(SELECT e.{column} FROM topic_events e WHERE e.topic_id = t.id AND e.kind IN ({kinds})
           ORDER BY e.created_at DESC, e.id DESC LIMIT 1)"
    )
}

/// Whether `topic_id`'s wait was last ended by its category's archiving
/// (`ended_by_archiving_sql`, for one topic).
pub async fn ended_by_archiving(
    conn: &impl ConnectionTrait,
    topic_id: i64,
) -> Result<bool, AppError> {
    let sql = format!(
        "SELECT t.id FROM topics t WHERE t.id = $1 AND {}",
        ended_by_archiving_sql()
    );
    let backend = conn.get_database_backend();
    Ok(conn
        .query_one_raw(crate::server::db::numbered(
            backend,
            &sql,
            vec![topic_id.into()],
        ))
        .await?
        .is_some())
}
