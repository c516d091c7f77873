//! An idea's votes as one viewer sees them: the public count (verified votes), the pending
//! count for staff only, the viewer's own vote and, while it waits, why. A list reads the
//! viewer's votes for all its rows in one query.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    error::AppError,
    model::{IdeaVotes, MergedInto},
    server::{
        entity::{category, topic, user, vote},
        records::votes::{
            HELD_NEW_ACCOUNT, HELD_UNCONFIRMED, MERGED, PENDING, is_ideas, voting_open,
        },
        settings,
    },
};

/// Why a member's pending vote waits, in words: what has to happen before it counts.
pub fn waiting_message(held_reason: &str, min_account_hours: i64) -> String {
    match held_reason {
        HELD_NEW_ACCOUNT => {
            let age = match min_account_hours {
                h if h <= 1 => "an hour".to_string(),
                24 => "a day".to_string(),
                h if h % 24 == 0 => crate::format::count(h / 24, "day", "days"),
                h => crate::format::count(h, "hour", "hours"),
            };
            format!("Your vote counts once your account is {age} old.")
        }
        HELD_UNCONFIRMED => {
            "Your vote counts once your e-mail address is confirmed: follow the link we sent you."
                .into()
        }
        _ => "Your vote counts once a moderator has checked it.".into(),
    }
}

/// The waiting message for a vote of this state and reason, if it waits.
pub async fn waiting_for(
    conn: &impl ConnectionTrait,
    state: &str,
    held_reason: &str,
) -> Result<Option<String>, AppError> {
    if state != PENDING {
        return Ok(None);
    }
    let hours = settings::number(conn, settings::VOTE_MIN_ACCOUNT_HOURS).await?;
    Ok(Some(waiting_message(held_reason, hours)))
}

/// The viewer's own votes on these ideas (state, held reason), in one query. A vote that moved
/// to the original in a merge is not the viewer's vote on the duplicate any more.
async fn own_votes(
    conn: &impl ConnectionTrait,
    viewer: &user::Model,
    topic_ids: &[i64],
) -> Result<HashMap<i64, (String, String)>, AppError> {
    if topic_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = vote::Entity::find()
        .select_only()
        .columns([
            vote::Column::TopicId,
            vote::Column::State,
            vote::Column::HeldReason,
        ])
        .filter(vote::Column::UserId.eq(viewer.id))
        .filter(vote::Column::TopicId.is_in(topic_ids.iter().copied()))
        .filter(vote::Column::State.ne(MERGED))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(topic, state, reason)| (topic, (state, reason)))
        .collect())
}

/// The originals that these merged duplicates point at, in one query.
async fn originals(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, MergedInto>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = topic::Entity::find()
        .select_only()
        .columns([topic::Column::Id, topic::Column::Slug, topic::Column::Title])
        .filter(topic::Column::Id.is_in(ids))
        // An original since held or removed is not named to anyone.
        .filter(topic::Column::Visible.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, title)| (id, MergedInto { id, slug, title }))
        .collect())
}

/// The votes of each of these ideas (all in category `c`) as `viewer` sees them, by topic id:
/// a fixed number of queries, whatever the number of ideas.
pub async fn idea_votes(
    conn: &impl ConnectionTrait,
    c: &category::Model,
    topics: &[topic::Model],
    viewer: Option<&user::Model>,
) -> Result<HashMap<i64, IdeaVotes>, AppError> {
    if !is_ideas(c) {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = topics.iter().map(|t| t.id).collect();
    let own = match viewer {
        Some(v) => own_votes(conn, v, &ids).await?,
        None => HashMap::new(),
    };
    let hours = if own.values().any(|(state, _)| state == PENDING) {
        settings::number(conn, settings::VOTE_MIN_ACCOUNT_HOURS).await?
    } else {
        0
    };
    let mut merged = originals(conn, topics.iter().filter_map(|t| t.merged_into_id)).await?;
    let staff = viewer.is_some_and(|v| v.role().is_staff());
    Ok(topics
        .iter()
        .map(|t| {
            let mine = own.get(&t.id);
            let votes = IdeaVotes {
                topic_id: t.id,
                count: t.vote_count,
                pending_count: staff.then_some(t.pending_vote_count),
                voted: viewer.map(|_| mine.is_some()),
                waiting: mine
                    .filter(|(state, _)| state == PENDING)
                    .map(|(_, reason)| waiting_message(reason, hours)),
                open: voting_open(t, c),
                merged_into: t.merged_into_id.and_then(|id| merged.remove(&id)),
            };
            (t.id, votes)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::records::votes::{HELD_BURST, HELD_FLAGGED};

    #[test]
    fn each_reason_says_what_it_waits_for() {
        assert_eq!(
            waiting_message(HELD_NEW_ACCOUNT, 24),
            "Your vote counts once your account is a day old."
        );
        assert_eq!(
            waiting_message(HELD_NEW_ACCOUNT, 48),
            "Your vote counts once your account is 2 days old."
        );
        assert_eq!(
            waiting_message(HELD_NEW_ACCOUNT, 5),
            "Your vote counts once your account is 5 hours old."
        );
        assert!(waiting_message(HELD_UNCONFIRMED, 24).contains("e-mail address is confirmed"));
        for reason in [HELD_BURST, HELD_FLAGGED] {
            assert!(waiting_message(reason, 24).contains("moderator"));
        }
    }
}
