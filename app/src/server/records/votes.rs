//! What a vote row is: counted or pending (and why), and the one function that derives an
//! idea's counts from its votes. Features change votes; whoever changes them calls `recount`
//! in the same transaction.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    error::AppError,
    model::TopicStatus,
    server::{
        db::{numbered, placeholders},
        entity::{category, topic, vote},
    },
};

pub const COUNTED: &str = "counted";
pub const PENDING: &str = "pending";
/// Moved to the original when its idea was merged: kept on the duplicate so its voters hear of
/// the merge and the history stays, counted nowhere.
pub const MERGED: &str = "merged";

/// Why a pending vote waits.
pub const HELD_NEW_ACCOUNT: &str = "new_account";
pub const HELD_UNCONFIRMED: &str = "unconfirmed";
pub const HELD_FLAGGED: &str = "flagged";
pub const HELD_BURST: &str = "burst";

/// Topics of this category are ideas: they take votes.
pub fn is_ideas(c: &category::Model) -> bool {
    c.kind == "ideas"
}

/// Whether the idea takes votes now (and votes back): published (not held for review or
/// removed, whoever else may see it), not done, declined or closed (its count stays as it was
/// when it closed), not locked, not merged, its category not archived. The vote rule refuses
/// the rest; pages show them without a button.
pub fn voting_open(t: &topic::Model, c: &category::Model) -> bool {
    let closed = matches!(
        TopicStatus::parse(&t.status),
        Some(TopicStatus::Resolved | TopicStatus::Declined | TopicStatus::Closed)
    );
    is_ideas(c) && t.visible && !closed && !t.locked && !c.archived && t.merged_into_id.is_none()
}

/// Sets the idea's public count (counted votes) and its pending count from its vote rows.
pub async fn recount(conn: &impl ConnectionTrait, topic_id: i64) -> Result<(), AppError> {
    recount_all(conn, [topic_id]).await
}

/// Recounts each of these ideas, in one statement for up to 500 of them.
pub async fn recount_all(
    conn: &impl ConnectionTrait,
    topic_ids: impl IntoIterator<Item = i64>,
) -> Result<(), AppError> {
    let mut ids: Vec<i64> = topic_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let backend = conn.get_database_backend();
    for chunk in ids.chunks(500) {
        let list = placeholders(1, chunk.len());
        conn.execute_raw(numbered(
            backend,
            &format!(
                "UPDATE topics SET
                    vote_count = (SELECT COUNT(*) FROM votes
                        WHERE votes.topic_id = topics.id AND votes.state = 'counted'),
                    pending_vote_count = (SELECT COUNT(*) FROM votes
                        WHERE votes.topic_id = topics.id AND votes.state = 'pending')
                  WHERE id IN ({list})"
            ),
            chunk.iter().map(|&id| id.into()).collect(),
        ))
        .await?;
    }
    Ok(())
}

/// Deletes every vote of a member (removed as a spammer, account deleted) and recounts the
/// ideas they voted on; gives how many went.
pub async fn remove_all_by(conn: &impl ConnectionTrait, user_id: i64) -> Result<u64, AppError> {
    let topics: Vec<i64> = vote::Entity::find()
        .select_only()
        .column(vote::Column::TopicId)
        .filter(vote::Column::UserId.eq(user_id))
        .into_tuple()
        .all(conn)
        .await?;
    let removed = vote::Entity::delete_many()
        .filter(vote::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected;
    recount_all(conn, topics).await?;
    Ok(removed)
}

/// The range a client address is grouped in for bursts: its /24 (IPv4) or /48 (IPv6).
pub fn client_range(address: Option<std::net::IpAddr>) -> String {
    match address {
        Some(std::net::IpAddr::V4(a)) => {
            let [a, b, c, _] = a.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Some(std::net::IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => client_range(Some(std::net::IpAddr::V4(v4))),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::client_range;

    #[test]
    fn addresses_group_by_their_range() {
        let r = |s: &str| client_range(Some(s.parse().unwrap()));
        assert_eq!(r("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(r("::ffff:203.0.113.9"), "203.0.113.0/24");
        assert_eq!(r("2001:db8:1234:5678::1"), "2001:db8:1234::/48");
        assert_eq!(client_range(None), "");
    }
}
