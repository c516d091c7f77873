//! Rule tests of votes: counting, pending, bursts, merging and who hears of what, on SQLite and
//! (where the SQL is hand-written) on PostgreSQL; and a property test over random sequences.
use chrono::{Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

use sea_orm::prelude::DateTimeUtc;

use crate::error::AppError;
use crate::server::ideas::*;
use crate::server::{
    entity::{category, topic, user, vote},
    entity::{email, notification, review_item, topic_follow},
    forum, moderation,
    notify::{
        self,
        following::{self, Level},
        preferences::{self, MailKind, Mode},
    },
    records::votes::{COUNTED, PENDING},
    records::votes::{HELD_BURST, HELD_NEW_ACCOUNT, HELD_UNCONFIRMED},
    staff,
    testing::{PostgresTestDb, World, insert_user},
};

/// A world whose members joined a month ago (their votes count at once), with "ideas" an ideas
/// category.
async fn world_on(db: Option<DatabaseConnection>) -> World {
    let b = World::builder().members_aged(Duration::days(30));
    let w = match db {
        Some(db) => b.build_on(db).await,
        None => b.build().await,
    };
    let ideas = category::Entity::find()
        .filter(category::Column::Slug.eq("ideas"))
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: category::ActiveModel = ideas.into();
    row.kind = Set("ideas".into());
    row.update(&w.db).await.unwrap();
    w
}

async fn world() -> World {
    world_on(None).await
}

async fn idea(w: &World, title: &str) -> topic::Model {
    forum::start_topic(&w.db, &w.customer, "ideas", title, "It would help.", None)
        .await
        .unwrap()
        .0
}

async fn fresh(w: &World, id: i64) -> topic::Model {
    topic::Entity::find_by_id(id)
        .one(&w.db)
        .await
        .unwrap()
        .unwrap()
}

/// (public count, pending count) as stored, after checking them against the rows.
async fn counts(w: &World, id: i64) -> (i32, i32) {
    let t = fresh(w, id).await;
    let rows = |state: &'static str| {
        vote::Entity::find()
            .filter(vote::Column::TopicId.eq(id))
            .filter(vote::Column::State.eq(state))
            .count(&w.db)
    };
    assert_eq!(t.vote_count as u64, rows(COUNTED).await.unwrap());
    assert_eq!(t.pending_vote_count as u64, rows(PENDING).await.unwrap());
    (t.vote_count, t.pending_vote_count)
}

async fn vote_rows(w: &World) -> u64 {
    vote::Entity::find().count(&w.db).await.unwrap()
}

/// A customer account created at `created`, its address confirmed.
async fn member_created(w: &World, id: i64, created: DateTimeUtc) -> user::Model {
    let mut row: user::ActiveModel = insert_user(&w.db, id).await.into();
    row.created_at = Set(created);
    row.update(&w.db).await.unwrap()
}

fn invalid(result: Result<impl std::fmt::Debug, AppError>) -> String {
    match result {
        Err(AppError::Invalid { message, .. }) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn one_vote_per_member_withdrawable_own_and_staff_votes_count_once() {
    counting(world().await).await;
}

#[tokio::test]
async fn counting_works_on_postgresql() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    counting(world_on(Some(pg.db.clone())).await).await;
    pg.drop().await;
}

async fn counting(w: World) {
    let t = idea(&w, "Dark mode").await;
    let s = vote(&w.db, &w.customer, t.id, None).await.unwrap();
    assert_eq!(
        s,
        Standing {
            voted: true,
            pending: false,
            count: 1
        },
        "the author's own vote counts like anyone's"
    );
    assert_eq!(
        invalid(vote(&w.db, &w.customer, t.id, None).await),
        ALREADY_VOTED
    );
    vote(&w.db, &w.other, t.id, None).await.unwrap();
    vote(&w.db, &w.staff, t.id, None).await.unwrap();
    assert_eq!(counts(&w, t.id).await, (3, 0));
    assert_eq!(vote_rows(&w).await, 3, "the second vote wrote nothing");
    let s = withdraw(&w.db, &w.other, t.id).await.unwrap();
    assert_eq!((s.voted, s.count), (false, 2));
    assert_eq!(invalid(withdraw(&w.db, &w.other, t.id).await), NOT_VOTED);
    // Voting follows the idea, as the preference says by default.
    assert_eq!(
        following::level(&w.db, w.staff.id, t.id).await.unwrap(),
        Level::Following
    );
}

#[tokio::test]
async fn votes_are_refused_on_what_is_not_an_open_visible_idea_and_nothing_is_written() {
    let w = world().await;
    let (question, _) = forum::start_topic(&w.db, &w.customer, "questions", "How?", "Hm.", None)
        .await
        .unwrap();
    assert_eq!(
        invalid(vote(&w.db, &w.other, question.id, None).await),
        NOT_AN_IDEA
    );
    for status in ["resolved", "declined", "closed"] {
        let t = idea(&w, &format!("Idea {status}")).await;
        staff::set_status(&w.db, &w.staff, t.id, status, "")
            .await
            .unwrap();
        assert_eq!(
            invalid(vote(&w.db, &w.other, t.id, None).await),
            VOTING_CLOSED
        );
    }
    // An idea the voter may not see: its opening post was removed.
    let (hidden, opening) = forum::start_topic(&w.db, &w.customer, "ideas", "Gone", "Spam.", None)
        .await
        .unwrap();
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        opening.id,
        moderation::PostAction::Delete,
        "Spam",
    )
    .await
    .unwrap();
    assert!(matches!(
        vote(&w.db, &w.other, hidden.id, None).await,
        Err(AppError::NotFound(_))
    ));
    // Moderators still see it, and its author a held one: votes wait for it to be published.
    assert_eq!(
        invalid(vote(&w.db, &w.moderator, hidden.id, None).await),
        VOTING_CLOSED
    );
    assert_eq!(
        invalid(vote(&w.db, &w.customer, hidden.id, None).await),
        VOTING_CLOSED
    );
    assert!(matches!(
        vote(&w.db, &w.other, 999_999, None).await,
        Err(AppError::NotFound(_))
    ));
    // A merged duplicate.
    let a = idea(&w, "Duplicate").await;
    let b = idea(&w, "Original").await;
    merge(&w.db, &w.staff, a.id, b.id, "").await.unwrap();
    assert_eq!(
        invalid(vote(&w.db, &w.other, a.id, None).await),
        MERGED_ELSEWHERE
    );
    assert_eq!(vote_rows(&w).await, 0);

    // Taking a vote back follows the same rule: a closed idea's count stays as it closed.
    let done = idea(&w, "Done one").await;
    vote(&w.db, &w.other, done.id, None).await.unwrap();
    staff::set_status(&w.db, &w.staff, done.id, "resolved", "")
        .await
        .unwrap();
    assert_eq!(
        invalid(withdraw(&w.db, &w.other, done.id).await),
        VOTING_CLOSED
    );
    assert_eq!(counts(&w, done.id).await, (1, 0));
    assert_eq!(
        invalid(withdraw(&w.db, &w.other, question.id).await),
        NOT_AN_IDEA
    );
    assert_eq!(vote_rows(&w).await, 1);
}

#[tokio::test]
async fn new_unconfirmed_and_flagged_accounts_wait_and_come_of_age_by_themselves() {
    pending(world().await).await;
}

#[tokio::test]
async fn pending_votes_work_on_postgresql() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    pending(world_on(Some(pg.db.clone())).await).await;
    pg.drop().await;
}

async fn pending(w: World) {
    let t = idea(&w, "Exports").await;
    let now = Utc::now();
    let newcomer = member_created(&w, 20, now - Duration::hours(2)).await;
    let unconfirmed = {
        let mut row: user::ActiveModel =
            member_created(&w, 21, now - Duration::days(9)).await.into();
        row.email_confirmed_at = Set(None);
        row.update(&w.db).await.unwrap()
    };
    let s = vote_at(&w.db, &newcomer, t.id, None, now).await.unwrap();
    assert_eq!((s.voted, s.pending, s.count), (true, true, 0));
    vote_at(&w.db, &unconfirmed, t.id, None, now).await.unwrap();
    vote_at(&w.db, &w.other, t.id, None, now).await.unwrap();
    assert_eq!(counts(&w, t.id).await, (1, 2));
    let reasons: Vec<String> = vote::Entity::find()
        .filter(vote::Column::State.eq(PENDING))
        .all(&w.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.held_reason)
        .collect();
    assert!(reasons.contains(&HELD_NEW_ACCOUNT.to_string()));
    assert!(reasons.contains(&HELD_UNCONFIRMED.to_string()));
    // Not yet a day old: nothing changes.
    assert_eq!(count_aged(&w.db, now).await.unwrap(), 0);
    // A day later the newcomer's vote counts; the unconfirmed one waits for the address.
    assert_eq!(
        count_aged(&w.db, now + Duration::hours(23)).await.unwrap(),
        1
    );
    assert_eq!(counts(&w, t.id).await, (2, 1));
    let mut row: user::ActiveModel = unconfirmed.into();
    row.email_confirmed_at = Set(Some(now));
    row.update(&w.db).await.unwrap();
    assert_eq!(count_aged(&w.db, now).await.unwrap(), 1);
    assert_eq!(counts(&w, t.id).await, (3, 0));
}

/// The scripted burst: 30 accounts created within 5 minutes vote within 5 minutes.
async fn thirty_new_accounts_vote(w: &World, t: &topic::Model, now: DateTimeUtc) {
    for n in 0..30 {
        let created = now - Duration::minutes(10) + Duration::seconds(n * 10);
        let voter = member_created(w, 100 + n, created).await;
        let at = now + Duration::seconds(n * 10);
        let client: std::net::IpAddr = format!("198.51.{n}.7").parse().unwrap();
        vote_at(&w.db, &voter, t.id, Some(client), at)
            .await
            .unwrap();
    }
}

async fn open_bursts(w: &World) -> Vec<review_item::Model> {
    review_item::Entity::find()
        .filter(review_item::Column::Kind.eq(crate::server::records::review_items::VOTE_BURST))
        .filter(review_item::Column::State.eq("open"))
        .all(&w.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_of_new_accounts_leaves_the_public_count_unchanged_and_opens_one_review() {
    burst_then_decide(world().await).await;
}

#[tokio::test]
async fn bursts_work_on_postgresql() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    burst_then_decide(world_on(Some(pg.db.clone())).await).await;
    pg.drop().await;
}

async fn burst_then_decide(w: World) {
    let now = Utc::now();
    let t = idea(&w, "Bulk edit").await;
    vote(&w.db, &w.other, t.id, None).await.unwrap();
    assert_eq!(counts(&w, t.id).await, (1, 0));
    thirty_new_accounts_vote(&w, &t, now).await;
    assert_eq!(
        counts(&w, t.id).await,
        (1, 30),
        "the public count is unchanged"
    );
    let items = open_bursts(&w).await;
    assert_eq!(items.len(), 1, "one review item for the burst");
    let held = vote::Entity::find()
        .filter(vote::Column::ReviewItemId.eq(items[0].id))
        .all(&w.db)
        .await
        .unwrap();
    // The first votes waited as a new account's; from the 11th they are a burst, all of them.
    assert_eq!(held.len(), 30);
    assert!(held.iter().all(|v| v.held_reason == HELD_BURST));
    // Coming of age does not count a burst's votes: the review decides.
    assert_eq!(count_aged(&w.db, now + Duration::days(3)).await.unwrap(), 0);
    assert_eq!(counts(&w, t.id).await, (1, 30));
    // Customers and staff may not decide; moderators may.
    for who in [&w.customer, &w.staff] {
        assert!(matches!(
            accept_burst(&w.db, who, items[0].id).await,
            Err(AppError::Forbidden(_))
        ));
    }
    assert_eq!(
        reject_burst(&w.db, &w.moderator, items[0].id)
            .await
            .unwrap(),
        30
    );
    assert_eq!(counts(&w, t.id).await, (1, 0));
    let flagged = user::Entity::find()
        .filter(user::Column::VotesFlaggedAt.is_not_null())
        .count(&w.db)
        .await
        .unwrap();
    assert_eq!(flagged, 30, "the burst's accounts are flagged");
    assert_eq!(
        invalid(accept_burst(&w.db, &w.moderator, items[0].id).await),
        NOT_A_BURST,
        "decided once"
    );
    // A flagged account's next vote waits, and does not come of age.
    let flagged_voter = user::Entity::find_by_id(100)
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    let other_idea = idea(&w, "Another").await;
    vote(&w.db, &flagged_voter, other_idea.id, None)
        .await
        .unwrap();
    assert_eq!(count_aged(&w.db, now + Duration::days(3)).await.unwrap(), 0);
    assert_eq!(counts(&w, other_idea.id).await, (0, 1));
    // It waits for a moderator, in a review of its own idea; accepting it counts it and lifts
    // the flag.
    let item = open_bursts(&w)
        .await
        .pop()
        .expect("a review holds the flagged vote");
    assert_eq!(accept_burst(&w.db, &w.moderator, item.id).await.unwrap(), 1);
    assert_eq!(counts(&w, other_idea.id).await, (1, 0));
    let unflagged = user::Entity::find_by_id(100)
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    assert!(unflagged.votes_flagged_at.is_none());

    // A second burst on a new idea is accepted: its votes count.
    let t2 = idea(&w, "Keyboard shortcuts").await;
    for n in 0..12 {
        let voter = member_created(&w, 200 + n, now - Duration::days(40)).await;
        // Old accounts, but all from one address range.
        let client: std::net::IpAddr = format!("203.0.113.{n}").parse().unwrap();
        vote_at(&w.db, &voter, t2.id, Some(client), now)
            .await
            .unwrap();
    }
    assert_eq!(counts(&w, t2.id).await, (0, 12));
    let item = open_bursts(&w).await.pop().unwrap();
    assert_eq!(
        accept_burst(&w.db, &w.moderator, item.id).await.unwrap(),
        12
    );
    assert_eq!(counts(&w, t2.id).await, (12, 0));
}

#[tokio::test]
async fn merging_moves_votes_once_per_member_and_followers_and_closes_the_duplicate() {
    merging(world().await).await;
}

#[tokio::test]
async fn merging_works_on_postgresql() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    merging(world_on(Some(pg.db.clone())).await).await;
    pg.drop().await;
}

async fn merging(w: World) {
    let now = Utc::now();
    let dup = idea(&w, "Night theme").await;
    let orig = idea(&w, "Dark mode").await;
    let newcomer = member_created(&w, 30, now - Duration::hours(1)).await;
    let extra = member_created(&w, 31, now - Duration::days(60)).await;
    // The duplicate: customer, other, staff, the newcomer (pending). The original: other,
    // extra, and the newcomer's counted... no: the newcomer voted on both, pending on both.
    for who in [&w.customer, &w.other, &w.staff, &newcomer] {
        vote_at(&w.db, who, dup.id, None, now).await.unwrap();
    }
    for who in [&w.other, &extra, &newcomer] {
        vote_at(&w.db, who, orig.id, None, now).await.unwrap();
    }
    assert_eq!(counts(&w, dup.id).await, (3, 1));
    assert_eq!(counts(&w, orig.id).await, (2, 1));
    let follower = member_created(&w, 32, now - Duration::days(60)).await;
    following::set_level(&w.db, follower.id, dup.id, Level::Following)
        .await
        .unwrap();
    // Refusals, each writing nothing.
    assert_eq!(
        invalid(merge(&w.db, &w.staff, dup.id, dup.id, "").await),
        MERGE_SELF
    );
    let (question, _) = forum::start_topic(&w.db, &w.customer, "questions", "How?", "Hm.", None)
        .await
        .unwrap();
    assert_eq!(
        invalid(merge(&w.db, &w.staff, dup.id, question.id, "").await),
        MERGE_NOT_IDEA
    );
    for who in [&w.customer, &w.moderator] {
        if who.role().is_staff() {
            continue;
        }
        assert!(matches!(
            merge(&w.db, who, dup.id, orig.id, "").await,
            Err(AppError::Forbidden(_))
        ));
    }
    assert_eq!(counts(&w, dup.id).await, (3, 1));

    let into = merge(&w.db, &w.staff, dup.id, orig.id, "Same idea.")
        .await
        .unwrap();
    assert_eq!(into.id, orig.id);
    // The original: other (already there), extra, customer and staff moved in = 4 counted;
    // the newcomer voted on both and keeps one vote, still pending.
    assert_eq!(counts(&w, orig.id).await, (4, 1));
    assert_eq!(counts(&w, dup.id).await, (0, 0));
    let closed = fresh(&w, dup.id).await;
    assert_eq!(closed.merged_into_id, Some(orig.id));
    assert_eq!(closed.status, "closed");
    assert!(closed.locked);
    // Decided: the duplicate no longer waits for staff (it stayed in the queue before).
    assert!(
        dup.awaiting_staff_since.is_some(),
        "a customer's idea waits"
    );
    assert_eq!(closed.awaiting_staff_since, None);
    assert_eq!(
        following::level(&w.db, follower.id, orig.id).await.unwrap(),
        Level::Following,
        "followers move"
    );
    assert_eq!(
        invalid(merge(&w.db, &w.staff, dup.id, orig.id, "").await),
        MERGE_ALREADY
    );
    // Into a merged idea: the chain is followed to its original.
    let third = idea(&w, "Dark theme please").await;
    vote(&w.db, &extra, third.id, None).await.unwrap();
    let into = merge(&w.db, &w.staff, third.id, dup.id, "").await.unwrap();
    assert_eq!(into.id, orig.id);
    assert_eq!(
        counts(&w, orig.id).await,
        (4, 1),
        "extra already voted there"
    );
    // Earlier duplicates point at the end of the chain once their original is merged too.
    let newer = idea(&w, "Dark everything").await;
    let into = merge(&w.db, &w.staff, orig.id, newer.id, "").await.unwrap();
    assert_eq!(into.id, newer.id);
    for d in [dup.id, third.id, orig.id] {
        assert_eq!(fresh(&w, d).await.merged_into_id, Some(newer.id));
    }
    assert_eq!(counts(&w, newer.id).await, (4, 1));
    // Merging the original back into one of its duplicates would make a circle.
    assert_eq!(
        invalid(merge(&w.db, &w.staff, newer.id, third.id, "").await),
        MERGE_CYCLE
    );
    // Not into an idea the public cannot see (held or removed), however it is reached.
    let fourth = idea(&w, "Yet another dark theme").await;
    remove_idea(&w, newer.id).await;
    // Staff may not see it: not found, by its number or through the chain.
    for via in [newer.id, dup.id] {
        assert_eq!(
            invalid(merge(&w.db, &w.staff, fourth.id, via, "").await),
            crate::server::visibility::TOPIC_MISSING
        );
    }
    // An admin may see it, but votes go only where everyone can.
    assert_eq!(
        invalid(merge(&w.db, &w.admin, fourth.id, dup.id, "").await),
        MERGE_HIDDEN
    );
    assert_eq!(fresh(&w, fourth.id).await.merged_into_id, None);

    // Nobody voted twice anywhere.
    let all = vote::Entity::find().all(&w.db).await.unwrap();
    let mut pairs: Vec<(i64, i64)> = all.iter().map(|v| (v.topic_id, v.user_id)).collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), all.len());
}

/// A moderator removes the idea's opening post: the idea is out of the public's sight.
async fn remove_idea(w: &World, topic_id: i64) {
    let opening = crate::server::testing::post_at(&w.db, topic_id, 1).await;
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        opening.id,
        moderation::PostAction::Delete,
        "Gone",
    )
    .await
    .unwrap();
}

async fn notes_of(w: &World, user_id: i64) -> Vec<notification::Model> {
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .all(&w.db)
        .await
        .unwrap()
}

async fn mails_to(w: &World, address: &str) -> Vec<email::Model> {
    email::Entity::find()
        .filter(email::Column::ToAddress.eq(address))
        .all(&w.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn voters_hear_of_status_changes_answers_and_merges_as_they_chose() {
    voters_hear(world().await).await;
}

#[tokio::test]
async fn voters_hear_on_postgresql() {
    let Some(pg) = PostgresTestDb::create().await else {
        return;
    };
    voters_hear(world_on(Some(pg.db.clone())).await).await;
    pg.drop().await;
}

async fn voters_hear(w: World) {
    let t = idea(&w, "Calendar sync").await;
    let now = Utc::now();
    let quiet = {
        let mut row: user::ActiveModel = member_created(&w, 40, now - Duration::days(60))
            .await
            .into();
        // Voting does not follow for this one: they still hear, as a voter.
        row.follow_on_vote = Set(false);
        row.update(&w.db).await.unwrap()
    };
    let digest = member_created(&w, 41, now - Duration::days(60)).await;
    preferences::set_mode(&w.db, digest.id, MailKind::Answers, Mode::Digest)
        .await
        .unwrap();
    let muted = member_created(&w, 42, now - Duration::days(60)).await;
    for who in [&w.other, &quiet, &digest, &muted] {
        vote(&w.db, who, t.id, None).await.unwrap();
    }
    following::set_level(&w.db, muted.id, t.id, Level::Muted)
        .await
        .unwrap();
    assert!(
        topic_follow::Entity::find_by_id((quiet.id, t.id))
            .one(&w.db)
            .await
            .unwrap()
            .is_none()
    );
    staff::set_status(&w.db, &w.staff, t.id, "planned", "On the list for June.")
        .await
        .unwrap();
    // Not in the request: the worker tells them.
    assert!(notes_of(&w, w.other.id).await.is_empty());
    notify::fan_out_due(&w.db, 100).await.unwrap();
    for (who, mailed) in [(&w.other, true), (&quiet, true), (&digest, false)] {
        let notes = notes_of(&w, who.id).await;
        assert!(
            notes
                .iter()
                .any(|n| n.kind == notify::STATUS && n.message.contains("planned")),
            "{}: {notes:?}",
            who.username
        );
        assert_eq!(
            !mails_to(&w, &who.email).await.is_empty(),
            mailed,
            "{} e-mail",
            who.username
        );
    }
    assert!(notes_of(&w, muted.id).await.is_empty(), "muted");
    // Merged: the duplicate's voters are told where their vote went.
    let orig = idea(&w, "Calendar integration").await;
    merge(&w.db, &w.staff, t.id, orig.id, "").await.unwrap();
    notify::fan_out_due(&w.db, 100).await.unwrap();
    let merged = notes_of(&w, quiet.id).await;
    assert!(
        merged
            .iter()
            .any(|n| n.kind == notify::MERGED && n.message.contains("Calendar integration")),
        "{merged:?}"
    );
    // The duplicate's author is told directly.
    assert!(
        notes_of(&w, w.customer.id)
            .await
            .iter()
            .any(|n| n.kind == notify::MERGED)
    );
}

#[tokio::test]
async fn a_spammers_votes_disappear() {
    let w = world().await;
    let t = idea(&w, "Webhooks").await;
    vote(&w.db, &w.other, t.id, None).await.unwrap();
    vote(&w.db, &w.customer, t.id, None).await.unwrap();
    assert_eq!(counts(&w, t.id).await, (2, 0));
    moderation::remove_spammer(&w.db, &w.moderator, w.other.id, "Spam")
        .await
        .unwrap();
    assert_eq!(counts(&w, t.id).await, (1, 0));
}

#[tokio::test]
async fn two_votes_at_once_make_one() {
    let dir = tempfile_dir();
    let db = crate::server::db::connect(&format!("sqlite://{}/votes.db?mode=rwc", dir.display()))
        .await
        .unwrap();
    crate::server::db::migrate(&db).await.unwrap();
    let w = world_on(Some(db)).await;
    let t = idea(&w, "Parallel").await;
    let (a, b) = tokio::join!(
        vote(&w.db, &w.other, t.id, None),
        vote(&w.db, &w.other, t.id, None)
    );
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    assert_eq!(counts(&w, t.id).await, (1, 0));
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "backyard-votes-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the property test does, by index among three ideas and four voters.
#[derive(Clone, Debug)]
enum Step {
    Vote(usize, usize),
    Withdraw(usize, usize),
    Merge(usize, usize),
    SetStatus(usize, &'static str),
    CountAged,
    RemoveSpammer(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..3usize, 0..4usize).prop_map(|(t, v)| Step::Vote(t, v)),
        2 => (0..3usize, 0..4usize).prop_map(|(t, v)| Step::Withdraw(t, v)),
        1 => (0..3usize, 0..3usize).prop_map(|(a, b)| Step::Merge(a, b)),
        1 => (0..3usize, prop::sample::select(vec!["planned", "closed", "open"]))
            .prop_map(|(t, s)| Step::SetStatus(t, s)),
        1 => Just(Step::CountAged),
        1 => (0..4usize).prop_map(Step::RemoveSpammer),
    ]
}

/// After every step: each idea's stored counts equal its rows, no member has two votes on one
/// idea, a merged idea holds no live vote, and a refused step wrote nothing.
async fn run(steps: &[Step]) -> Result<(), String> {
    let w = world().await;
    let now = Utc::now();
    let mut ideas = Vec::new();
    for n in 0..3 {
        ideas.push(idea(&w, &format!("Idea {n}")).await.id);
    }
    // Two established members, one new, one unconfirmed.
    let voters = [
        w.other.clone(),
        member_created(&w, 50, now - Duration::days(90)).await,
        member_created(&w, 51, now - Duration::hours(3)).await,
        {
            let mut row: user::ActiveModel =
                member_created(&w, 52, now - Duration::days(9)).await.into();
            row.email_confirmed_at = Set(None);
            row.update(&w.db).await.unwrap()
        },
    ];
    for (i, s) in steps.iter().enumerate() {
        let before = vote::Entity::find().all(&w.db).await.unwrap();
        let result: Result<(), AppError> = match s {
            Step::Vote(t, v) => vote(&w.db, &voters[*v], ideas[*t], None).await.map(|_| ()),
            Step::Withdraw(t, v) => withdraw(&w.db, &voters[*v], ideas[*t]).await.map(|_| ()),
            Step::Merge(a, b) => merge(&w.db, &w.staff, ideas[*a], ideas[*b], "")
                .await
                .map(|_| ()),
            Step::SetStatus(t, status) => staff::set_status(&w.db, &w.staff, ideas[*t], status, "")
                .await
                .map(|_| ()),
            Step::CountAged => count_aged(&w.db, now + Duration::days(2)).await.map(|_| ()),
            Step::RemoveSpammer(v) => {
                moderation::remove_spammer(&w.db, &w.moderator, voters[*v].id, "Spam")
                    .await
                    .map(|_| ())
            }
        };
        let after = vote::Entity::find().all(&w.db).await.unwrap();
        if result.is_err() && before != after {
            return Err(format!("step {i} {s:?} was refused but changed votes"));
        }
        for id in &ideas {
            let t = fresh(&w, *id).await;
            let live = |state: &str| {
                after
                    .iter()
                    .filter(|v| v.topic_id == *id && v.state == state)
                    .count() as i32
            };
            if (t.vote_count, t.pending_vote_count) != (live(COUNTED), live(PENDING)) {
                return Err(format!(
                    "after step {i} {s:?}: idea {id} stores ({}, {}), rows say ({}, {})",
                    t.vote_count,
                    t.pending_vote_count,
                    live(COUNTED),
                    live(PENDING)
                ));
            }
            if t.merged_into_id.is_some() && live(COUNTED) + live(PENDING) > 0 {
                return Err(format!(
                    "after step {i} {s:?}: merged idea {id} holds votes"
                ));
            }
        }
        let mut pairs: Vec<(i64, i64)> = after.iter().map(|v| (v.topic_id, v.user_id)).collect();
        pairs.sort();
        pairs.dedup();
        if pairs.len() != after.len() {
            return Err(format!(
                "after step {i} {s:?}: a member voted twice on one idea"
            ));
        }
    }
    Ok(())
}

#[test]
fn stored_counts_always_equal_the_votes_over_random_sequences() {
    let config = Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(64),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(step(), 1..=20), |steps| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(&steps)).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, steps)) => panic!("shortest failing sequence:\n{steps:#?}\n{why}"),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn search_shows_the_original_of_a_merged_duplicate() {
    let w = world().await;
    let dup = forum::start_topic(
        &w.db,
        &w.customer,
        "ideas",
        "Zebra stripes for tables",
        "Alternate row shading please.",
        None,
    )
    .await
    .unwrap()
    .0;
    let orig = idea(&w, "Striped table rows").await;
    merge(&w.db, &w.staff, dup.id, orig.id, "").await.unwrap();
    let found = crate::server::search::search(
        &w.db,
        crate::model::SearchRequest {
            q: "zebra".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.hits.len(), 1, "{found:?}");
    let hit = &found.hits[0];
    assert_eq!(hit.url, crate::model::topic_url(orig.id, &orig.slug, 1));
    assert_eq!(hit.merged_from.as_deref(), Some("Zebra stripes for tables"));
    let similar = crate::server::search::similar(&w.db, "Zebra stripes")
        .await
        .unwrap();
    assert_eq!(similar.len(), 1);
    assert!(similar[0].url.starts_with(&format!("/t/{}/", orig.id)));

    // The original removed since: nothing names it; the duplicate is found as itself.
    remove_idea(&w, orig.id).await;
    let found = crate::server::search::search(
        &w.db,
        crate::model::SearchRequest {
            q: "zebra".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.hits.len(), 1, "{found:?}");
    assert!(
        found.hits[0]
            .url
            .starts_with(&crate::model::topic_url(dup.id, &dup.slug, 1)),
        "{found:?}"
    );
    assert_eq!(found.hits[0].merged_from, None);
    assert!(
        crate::server::search::similar(&w.db, "Zebra stripes")
            .await
            .unwrap()
            .is_empty()
    );
    let c = category::Entity::find_by_id(dup.category_id)
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    let shown =
        crate::server::views::votes::idea_votes(&w.db, &c, &[fresh(&w, dup.id).await], None)
            .await
            .unwrap();
    assert!(
        shown[&dup.id].merged_into.is_none(),
        "the removed original is not linked"
    );
    let history = crate::server::views::staff::events(&w.db, dup.id, false)
        .await
        .unwrap();
    let merged = history.iter().find(|e| e.kind == "merged").unwrap();
    assert_eq!(merged.detail, "", "nor numbered");
}

/// Many members voting at the same moment on SQLite: written together, each answered with its
/// own standing, none lost or doubled, and the counts right.
#[tokio::test]
async fn many_votes_at_once_are_written_together_and_each_answered() {
    let dir = tempfile_dir();
    let db = crate::server::db::connect(&format!("sqlite://{}/votes.db?mode=rwc", dir.display()))
        .await
        .unwrap();
    crate::server::db::migrate(&db).await.unwrap();
    let w = world_on(Some(db)).await;
    let a = idea(&w, "Parallel A").await;
    let b = idea(&w, "Parallel B").await;
    let closed = idea(&w, "Parallel closed").await;
    staff::set_status(&w.db, &w.staff, closed.id, "declined", "")
        .await
        .unwrap();
    let now = Utc::now();
    let mut voters = Vec::new();
    for n in 0..40 {
        // Half of them new accounts: their votes wait. Created more than an hour apart, so
        // they make no burst.
        let age = if n % 2 == 0 {
            Duration::days(40 + n)
        } else {
            Duration::minutes(30 + 65 * (n / 2))
        };
        voters.push(member_created(&w, 500 + n, now - age).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (n, voter) in voters.iter().enumerate() {
        // Each votes for A, and for B twice at once; every fifth also for the closed one.
        let ideas: Vec<i64> = if n % 5 == 0 {
            vec![a.id, b.id, b.id, closed.id]
        } else {
            vec![a.id, b.id, b.id]
        };
        for id in ideas {
            let (db, voter) = (w.db.clone(), voter.clone());
            tasks.spawn(async move { (id, voter.id, vote(&db, &voter, id, None).await) });
        }
    }
    let mut ok: std::collections::HashMap<(i64, i64), Standing> = Default::default();
    let (mut twice, mut closed_refused) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (id, voter, result) = done.unwrap();
        match result {
            Ok(s) => {
                assert!(s.voted);
                assert_eq!(s.pending, (voter - 500) % 2 == 1, "{voter} on {id}");
                assert!(ok.insert((id, voter), s).is_none(), "answered twice");
            }
            Err(AppError::Invalid { message, .. }) if message == ALREADY_VOTED => twice += 1,
            Err(AppError::Invalid { message, .. }) if message == VOTING_CLOSED => {
                closed_refused += 1
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((ok.len(), twice, closed_refused), (80, 40, 8));
    assert_eq!(counts(&w, a.id).await, (20, 20));
    assert_eq!(counts(&w, b.id).await, (20, 20));
    assert_eq!(counts(&w, closed.id).await, (0, 0));
    assert_eq!(vote_rows(&w).await, 80);
    // Every voter follows what they voted for (their preference's default).
    let follows = topic_follow::Entity::find()
        .filter(topic_follow::Column::TopicId.is_in([a.id, b.id]))
        .filter(topic_follow::Column::UserId.gte(500))
        .count(&w.db)
        .await
        .unwrap();
    assert_eq!(follows, 80);
    let _ = std::fs::remove_dir_all(dir);
}

/// A vote checked, then waiting for its turn to write while the voter is suspended (a spammer
/// removed) or leaves: it is not written, then or later.
#[tokio::test]
async fn a_vote_waiting_to_be_written_is_checked_again_and_dropped_with_its_request() {
    let dir = tempfile_dir();
    let db = crate::server::db::connect(&format!("sqlite://{}/votes.db?mode=rwc", dir.display()))
        .await
        .unwrap();
    crate::server::db::migrate(&db).await.unwrap();
    let w = world_on(Some(db)).await;
    let t = idea(&w, "Waiting").await;
    let u = idea(&w, "Unrelated").await;

    // Suspended while the vote waits.
    let turn = crate::server::db::writer_turn(&w.db).await;
    let waiting = {
        let (db, voter) = (w.db.clone(), w.other.clone());
        tokio::spawn(async move { vote(&db, &voter, t.id, None).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "it waits for the turn");
    // Written beside the process's writers (as another process would).
    let mut row: user::ActiveModel = w.other.clone().into();
    row.suspended_until = Set(Some(Utc::now() + Duration::days(36_500)));
    row.update(&w.db).await.unwrap();
    drop(turn);
    assert!(matches!(
        waiting.await.unwrap(),
        Err(AppError::Forbidden(m)) if m.contains("suspended")
    ));
    assert_eq!(vote_rows(&w).await, 0);

    // A request that goes away while its vote waits: the vote leaves the queue with it.
    let turn = crate::server::db::writer_turn(&w.db).await;
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        vote(&w.db, &w.customer, t.id, None),
    )
    .await;
    assert!(gave_up.is_err());
    drop(turn);
    vote(&w.db, &w.staff, u.id, None).await.unwrap();
    assert_eq!(
        vote_rows(&w).await,
        1,
        "only the unrelated vote was written"
    );
    assert_eq!(counts(&w, t.id).await, (0, 0));
    // The member votes again, as if for the first time.
    vote(&w.db, &w.customer, t.id, None).await.unwrap();
    assert_eq!(counts(&w, t.id).await, (1, 0));
    let _ = std::fs::remove_dir_all(dir);
}

/// More votes waiting at once than one transaction takes: written in several, every one
/// answered.
#[tokio::test]
async fn more_votes_at_once_than_one_batch_holds_are_all_answered() {
    let dir = tempfile_dir();
    let db = crate::server::db::connect(&format!("sqlite://{}/votes.db?mode=rwc", dir.display()))
        .await
        .unwrap();
    crate::server::db::migrate(&db).await.unwrap();
    let w = world_on(Some(db)).await;
    let t = idea(&w, "Crowded").await;
    let now = Utc::now();
    let mut voters = Vec::new();
    for n in 0..300 {
        voters.push(member_created(&w, 1000 + n, now - Duration::days(40 + n)).await);
    }
    let turn = crate::server::db::writer_turn(&w.db).await;
    let mut tasks = tokio::task::JoinSet::new();
    for voter in voters {
        let db = w.db.clone();
        tasks.spawn(async move { vote(&db, &voter, t.id, None).await });
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    drop(turn);
    let all = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let mut ok = 0;
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
            ok += 1;
        }
        ok
    })
    .await
    .expect("every vote is answered");
    assert_eq!(all, 300);
    assert_eq!(counts(&w, t.id).await, (300, 0));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn in_memory_databases_are_told_apart() {
    use crate::server::db::{connect, same_database};
    let a = connect("sqlite::memory:").await.unwrap();
    let b = connect("sqlite::memory:").await.unwrap();
    assert!(same_database(&a, &a.clone()));
    assert!(!same_database(&a, &b));
}

/// The pages' reads written by hand (the trending sort, the staff list's period and weekly
/// trend, the roadmap): the same answers on SQLite and PostgreSQL.
#[tokio::test]
async fn idea_pages_read_the_same_on_sqlite_and_postgresql() {
    idea_pages(world().await).await;
    if let Some(pg) = PostgresTestDb::create().await {
        idea_pages(world_on(Some(pg.db.clone())).await).await;
        pg.drop().await;
    }
}

async fn idea_pages(w: World) {
    use crate::server::views::{
        forum,
        ideas::{self as idea_views, IdeasFilter},
    };
    let now = Utc::now();
    let old = idea(&w, "Old favourite").await;
    let hot = idea(&w, "This week's idea").await;
    let quiet = idea(&w, "Quiet idea").await;
    // Old: three votes a month ago; hot: two this week; quiet: a staff vote now.
    for (n, at) in [(60, 30), (61, 31), (62, 32)] {
        let voter = member_created(&w, n, now - Duration::days(90)).await;
        vote_at(&w.db, &voter, old.id, None, now - Duration::days(at))
            .await
            .unwrap();
    }
    for n in [63, 64] {
        let voter = member_created(&w, n, now - Duration::days(90)).await;
        vote_at(&w.db, &voter, hot.id, None, now - Duration::days(1))
            .await
            .unwrap();
    }
    vote(&w.db, &w.staff, quiet.id, None).await.unwrap();
    staff::set_status(&w.db, &w.staff, old.id, "planned", "")
        .await
        .unwrap();
    let order = |sort: &str, mine: bool, viewer: Option<user::Model>| {
        let db = w.db.clone();
        let sort = sort.to_string();
        async move {
            forum::category_page_for(
                &db,
                "ideas",
                1,
                None,
                forum::ListChoice {
                    sort: Some(sort),
                    mine,
                },
                viewer.as_ref(),
            )
            .await
            .unwrap()
            .topics
            .into_iter()
            .map(|t| t.title)
            .collect::<Vec<_>>()
        }
    };
    let titles = |ts: &[&topic::Model]| ts.iter().map(|t| t.title.clone()).collect::<Vec<_>>();
    assert_eq!(
        order("votes", false, None).await,
        titles(&[&old, &hot, &quiet])
    );
    assert_eq!(
        order("trending", false, None).await,
        titles(&[&hot, &quiet, &old])
    );
    assert_eq!(
        order("newest", false, None).await,
        titles(&[&quiet, &hot, &old])
    );
    assert_eq!(
        order("votes", true, Some(w.staff.clone())).await,
        titles(&[&quiet])
    );
    let roadmap = idea_views::roadmap(&w.db, None).await.unwrap();
    let planned = &roadmap.columns[0];
    assert_eq!(planned.status, "planned");
    assert_eq!(planned.ideas.len(), 1);
    assert_eq!(
        (planned.ideas[0].topic_id, planned.ideas[0].votes),
        (old.id, 3)
    );
    // Votes cast in the last week only: hot first (two customers), then quiet (one staff).
    let week_ago = (now - Duration::days(7)).format("%Y-%m-%d").to_string();
    let listed = idea_views::staff_ideas(
        &w.db,
        &w.staff,
        IdeasFilter {
            from: Some(week_ago),
            ..Default::default()
        },
        1,
    )
    .await
    .unwrap();
    let first = &listed.ideas[0];
    assert_eq!((first.topic_id, first.votes), (hot.id, 2));
    assert_eq!((first.customer_voters, first.staff_voters), (2, 0));
    assert_eq!(first.trend.iter().sum::<u32>(), 2, "{:?}", first.trend);
    let second = &listed.ideas[1];
    assert_eq!(
        (second.topic_id, second.customer_voters, second.staff_voters),
        (quiet.id, 0, 1)
    );
    let all = idea_views::staff_ideas(&w.db, &w.staff, IdeasFilter::default(), 1)
        .await
        .unwrap();
    let old_row = all.ideas.iter().find(|r| r.topic_id == old.id).unwrap();
    assert_eq!(old_row.trend.iter().sum::<u32>(), 3, "{:?}", old_row.trend);
    let csv = idea_views::staff_ideas_csv(&w.db, &w.staff, IdeasFilter::default(), "")
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
}
