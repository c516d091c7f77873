//! Voting for ideas and merging duplicates. A visitor's vote is kept in their session while
//! they log in, and cast once they have.
use leptos::prelude::*;

use crate::{error::AppError, model::VoteStanding};

#[cfg(feature = "ssr")]
use crate::{
    paths::encode_query_value,
    server::{entity::user, ideas, state, views::votes, visibility},
};

/// The session key holding the idea a visitor voted for before logging in.
#[cfg(feature = "ssr")]
const VOTE_AFTER_LOG_IN_KEY: &str = "vote_after_log_in";

pub const VOTE_UNKNOWN: &str = "Vote with \"up\", or take your vote back with \"withdraw\".";

/// Where an idea's vote button sits on a page: the plain form comes back there.
pub fn idea_anchor(topic_id: i64) -> String {
    format!("idea-{topic_id}")
}

/// Votes for the idea (`vote` = "up") or takes the vote back ("withdraw"); gives the member's
/// vote and the public count now. A visitor is sent to log in and back, and the vote is cast
/// once they have. Without JavaScript the browser returns to the idea on the page it came from.
#[server(endpoint = "vote")]
pub async fn vote(topic_id: i64, vote: String) -> Result<VoteStanding, AppError> {
    // Ok(None): a visitor, sent to log in.
    let result = async {
        let member = super::visitor_or_writer().await?;
        let up = match vote.as_str() {
            "up" => true,
            "withdraw" => false,
            _ => return Err(AppError::invalid("vote", VOTE_UNKNOWN)),
        };
        let db = state::db()?;
        let Some(member) = member else {
            // Only an idea the visitor may see is kept: one out of sight is not found, now as
            // it would be after logging in.
            let t = visibility::topic(&db, topic_id, None).await?;
            if up {
                let session = state::session().await?;
                session
                    .insert(VOTE_AFTER_LOG_IN_KEY, t.id)
                    .await
                    .map_err(session_fail)?;
            }
            let back = format!(
                "{}#{}",
                crate::model::topic_url(t.id, &t.slug, 1),
                idea_anchor(t.id)
            );
            super::redirect(&format!("/login?next={}", encode_query_value(&back)));
            return Ok(None);
        };
        let standing = if up {
            ideas::vote(&db, &member, topic_id, state::client_ip()).await?
        } else {
            ideas::withdraw(&db, &member, topic_id).await?
        };
        answer(&db, &member, topic_id, standing).await.map(Some)
    }
    .await;
    match result {
        Ok(Some(standing)) => {
            if state::plain_form() {
                super::redirect(&format!(
                    "{}#{}",
                    state::referring_path("/"),
                    idea_anchor(topic_id)
                ));
            }
            Ok(standing)
        }
        Ok(None) => Ok(VoteStanding::default()),
        Err(e) => {
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

#[cfg(feature = "ssr")]
fn session_fail(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session read/write failed");
    AppError::Internal
}

/// The answer to a vote: the rule's standing and, while the vote waits, why.
#[cfg(feature = "ssr")]
async fn answer(
    db: &sea_orm::DatabaseConnection,
    member: &user::Model,
    topic_id: i64,
    standing: ideas::Standing,
) -> Result<VoteStanding, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let waiting = if standing.pending {
        let own = crate::server::entity::vote::Entity::find()
            .filter(crate::server::entity::vote::Column::TopicId.eq(topic_id))
            .filter(crate::server::entity::vote::Column::UserId.eq(member.id))
            .one(db)
            .await?;
        match own {
            Some(v) => votes::waiting_for(db, &v.state, &v.held_reason).await?,
            None => None,
        }
    } else {
        None
    };
    Ok(VoteStanding {
        voted: standing.voted,
        pending: standing.pending,
        count: standing.count,
        waiting,
    })
}

/// After a log-in or sign-up on this browser: casts the vote the visitor asked for before it,
/// with the same rules as any vote, and forgets it. A vote that is refused now (already cast,
/// voting closed, the idea gone) is simply not cast: the log-in itself has succeeded.
#[cfg(feature = "ssr")]
pub(crate) async fn cast_vote_kept_for_log_in(member: &user::Model) {
    let cast = async {
        let session = state::session().await?;
        let kept: Option<i64> = session
            .remove(VOTE_AFTER_LOG_IN_KEY)
            .await
            .map_err(session_fail)?;
        let Some(topic_id) = kept else {
            return Ok(());
        };
        if crate::server::auth::check_not_suspended(member).is_err() {
            return Ok(());
        }
        ideas::vote(&state::db()?, member, topic_id, state::client_ip())
            .await
            .map(|_| ())
    }
    .await;
    if let Err(e) = cast {
        tracing::info!(error = %e, "the vote kept for after logging in was not cast");
    }
}

/// Staff merge this idea into another (`original`: its id or its address); the duplicate's
/// votes and followers move there, and the page goes to the original.
#[server(endpoint = "merge_idea")]
pub async fn merge_idea(topic_id: i64, original: String, note: String) -> Result<(), AppError> {
    let result = async {
        let staff = super::writer().await?;
        crate::server::auth::require_role(Some(staff.role()), crate::model::Role::Staff)?;
        let original_id = parse_idea_reference(&original)?;
        let db = state::db()?;
        ideas::merge(&db, &staff, topic_id, original_id, &note).await
    }
    .await;
    match result {
        Ok(original) => {
            super::redirect(&crate::model::topic_url(original.id, &original.slug, 1));
            Ok(())
        }
        Err(e) => {
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

pub const ORIGINAL_UNREADABLE: &str =
    "Give the original idea's number (as in /t/123/…) or paste its address.";

/// The idea an id ("123") or a topic address ("https://…/t/123/slug", "/t/123") names.
pub fn parse_idea_reference(text: &str) -> Result<i64, AppError> {
    let text = text.trim();
    let bad = || AppError::invalid("original", ORIGINAL_UNREADABLE);
    if let Ok(id) = text.parse::<i64>() {
        return if id > 0 { Ok(id) } else { Err(bad()) };
    }
    let path = text.split(['?', '#']).next().unwrap_or("");
    let after = path.split("/t/").nth(1).ok_or_else(bad)?;
    after
        .split('/')
        .next()
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::parse_idea_reference;

    #[test]
    fn an_idea_is_named_by_its_number_or_its_address() {
        assert_eq!(parse_idea_reference(" 42 ").unwrap(), 42);
        assert_eq!(parse_idea_reference("/t/7/dark-mode").unwrap(), 7);
        assert_eq!(
            parse_idea_reference("https://feedback.example/t/9/x?page=2#post-3").unwrap(),
            9
        );
        assert_eq!(parse_idea_reference("/t/12").unwrap(), 12);
        for bad in ["", "0", "-3", "dark mode", "/t/x/y", "/c/ideas", "/t/"] {
            assert!(parse_idea_reference(bad).is_err(), "{bad:?}");
        }
    }
}
