//! A model-based property test of the post lifecycle (issue 14): random sequences of what
//! customers, staff and moderators do to a few topics, and admins to their categories (archiving
//! and restoring them). After every step the stored figures (reply
//! counts, last activity, listing, the response clock, awaiting staff, category counts) must
//! equal a plain recomputation from the rows (`check`, written here without production code),
//! and each post's state and each topic's status must be what a small in-memory model of the
//! rules says (`Model`). A refused action must write nothing. And who was told (`told`): each
//! topic's author has been told of every staff answer and every other reply that became public
//! in their topic, counted once, in at most one unread notification per kind, and nobody of
//! their own posts; the worker leaves no fan-out behind.
//!
//! 256 cases in the normal run (proptest's default, which PROPTEST_CASES overrides); the longer
//! run:
//!
//! ```text
//! PROPTEST_CASES=5000 cargo test -p app --features ssr --lib lifecycle_properties
//! ```
//!
//! A failure prints the shortest sequence of actions proptest could shrink it to, then the calls
//! that sequence made and every rule the failing step broke.
//!
//! Every call into production code is in `apply` (one match), so that moving or renaming the
//! lifecycle functions means changing that function only.
use chrono::{Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use super::{
    entity::{category, flag, post, review_item, topic, topic_event, user},
    forum,
    moderation::{self, PostAction},
    staff,
    testing::World,
};
use crate::{
    error::AppError,
    model::{PostState, TopicStatus},
};

/// The watched word (action "hold") that holds a post for approval.
const HOLD_WORD: &str = "lawsuit";
/// Up to this many topics per case: enough for counts to mix across categories.
const MAX_TOPICS: usize = 3;
const REASON: &str = "Checked by the property test.";

/// Who posts, by role in `World` (the moderator only moderates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Person {
    Customer,
    Other,
    Staff,
}

impl Person {
    fn in_world(self, w: &World) -> &user::Model {
        match self {
            Person::Customer => &w.customer,
            Person::Other => &w.other,
            Person::Staff => &w.staff,
        }
    }

    fn is_staff(self) -> bool {
        self == Person::Staff
    }
}

/// Who replies, relative to the topic.
#[derive(Clone, Copy, Debug)]
enum Replier {
    /// The person who started the topic (staff, for a topic staff started).
    Author,
    /// A customer who did not start it.
    OtherCustomer,
    Staff,
}

/// What the strategy generates: topics and posts are chosen by index among those that exist
/// when the step runs (see `Model::resolve`).
#[derive(Clone, Debug)]
enum Action {
    StartTopic {
        by: Person,
        held: bool,
        in_ideas: bool,
    },
    Reply {
        topic: usize,
        by: Replier,
        held: bool,
    },
    Approve {
        post: usize,
    },
    Hide {
        post: usize,
    },
    /// "Keep hidden" on a hidden post.
    KeepHidden {
        post: usize,
    },
    /// A member flags a post; two members' flags hide it (a moderator decides later), but for a
    /// staff member's post only staff members' flags count.
    Flag {
        post: usize,
        /// Which of the two members other than its author.
        second: bool,
    },
    /// The moderator's "restore": "make visible" on a hidden post, "restore" on a deleted one.
    Restore {
        post: usize,
    },
    Delete {
        post: usize,
    },
    /// The post's author edits it.
    Edit {
        post: usize,
    },
    SetStatus {
        topic: usize,
        status: TopicStatus,
        note: bool,
    },
    /// The topic's author answers "Did this solve it?".
    Confirm {
        topic: usize,
        solved: bool,
    },
    NoReplyNeeded {
        topic: usize,
    },
    /// To the other category.
    Move {
        topic: usize,
    },
    /// An admin archives a category, or restores it.
    Archive {
        in_ideas: bool,
        archived: bool,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let topic = 0..MAX_TOPICS;
    let post = 0..16usize;
    let held = prop::bool::weighted(0.3);
    let status = prop::sample::select(TopicStatus::ALL.to_vec());
    prop_oneof![
        4 => (
            prop_oneof![Just(Person::Customer), Just(Person::Other), Just(Person::Staff)],
            held,
            any::<bool>(),
        )
            .prop_map(|(by, held, in_ideas)| Action::StartTopic { by, held, in_ideas }),
        6 => (
            topic.clone(),
            prop_oneof![
                Just(Replier::Author),
                Just(Replier::OtherCustomer),
                Just(Replier::Staff)
            ],
            held,
        )
            .prop_map(|(topic, by, held)| Action::Reply { topic, by, held }),
        2 => post.clone().prop_map(|post| Action::Approve { post }),
        2 => post.clone().prop_map(|post| Action::Hide { post }),
        2 => post.clone().prop_map(|post| Action::KeepHidden { post }),
        3 => (post.clone(), any::<bool>()).prop_map(|(post, second)| Action::Flag { post, second }),
        2 => post.clone().prop_map(|post| Action::Restore { post }),
        2 => post.clone().prop_map(|post| Action::Delete { post }),
        1 => post.prop_map(|post| Action::Edit { post }),
        2 => (topic.clone(), status, any::<bool>())
            .prop_map(|(topic, status, note)| Action::SetStatus { topic, status, note }),
        // "Resolve", the status that asks the customer to confirm and that a reply reopens.
        2 => (topic.clone(), any::<bool>()).prop_map(|(topic, note)| Action::SetStatus {
            topic,
            status: TopicStatus::Resolved,
            note,
        }),
        2 => (topic.clone(), any::<bool>())
            .prop_map(|(topic, solved)| Action::Confirm { topic, solved }),
        1 => topic.clone().prop_map(|topic| Action::NoReplyNeeded { topic }),
        1 => topic.prop_map(|topic| Action::Move { topic }),
        1 => (any::<bool>(), any::<bool>())
            .prop_map(|(in_ideas, archived)| Action::Archive { in_ideas, archived }),
    ]
}

/// One resolved action: real ids and members, as production code takes them.
#[derive(Clone, Debug)]
enum Call {
    StartTopic {
        author: Person,
        category: &'static str,
        title: String,
        body: String,
        held: bool,
    },
    Reply {
        author: Person,
        topic_id: i64,
        body: String,
        held: bool,
    },
    Moderate {
        post_id: i64,
        action: PostAction,
    },
    Flag {
        post_id: i64,
        by: Person,
    },
    Edit {
        author: Person,
        post_id: i64,
        body: String,
    },
    SetStatus {
        topic_id: i64,
        status: TopicStatus,
        note: String,
    },
    Confirm {
        author: Person,
        topic_id: i64,
        solved: bool,
    },
    NoReplyNeeded {
        topic_id: i64,
    },
    Move {
        topic_id: i64,
        to: &'static str,
    },
    Archive {
        category: &'static str,
        archived: bool,
    },
}

/// The only place this test calls the lifecycle.
async fn apply(w: &World, call: &Call) -> Result<(), AppError> {
    let db = &w.db;
    match call {
        Call::StartTopic {
            author,
            category,
            title,
            body,
            held: _,
        } => forum::start_topic(db, author.in_world(w), category, title, body, None)
            .await
            .map(drop),
        Call::Reply {
            author,
            topic_id,
            body,
            held: _,
        } => forum::reply(db, author.in_world(w), *topic_id, body, None)
            .await
            .map(drop),
        Call::Moderate { post_id, action } => {
            moderation::act_on_post(db, &w.moderator, *post_id, *action, REASON).await
        }
        Call::Flag { post_id, by } => {
            moderation::flag_post(db, by.in_world(w), *post_id, "rude", "")
                .await
                .map(drop)
        }
        Call::Edit {
            author,
            post_id,
            body,
        } => forum::edit_post(db, author.in_world(w), *post_id, body)
            .await
            .map(drop),
        Call::SetStatus {
            topic_id,
            status,
            note,
        } => staff::set_status(db, &w.staff, *topic_id, status.as_str(), note)
            .await
            .map(drop),
        Call::Confirm {
            author,
            topic_id,
            solved,
        } => staff::confirm_resolution(db, author.in_world(w), *topic_id, *solved)
            .await
            .map(drop),
        Call::NoReplyNeeded { topic_id } => staff::no_reply_needed(db, &w.staff, *topic_id, REASON)
            .await
            .map(drop),
        Call::Move { topic_id, to } => {
            moderation::move_topic(db, &w.moderator, *topic_id, to, REASON).await
        }
        Call::Archive { category, archived } => {
            let id = category::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .find(|c| c.slug == *category)
                .ok_or(AppError::Internal)?
                .id;
            super::admin::set_archived(db, &w.admin, id, *archived).await
        }
    }
}

/// A post's state, as the model keeps it (the stored strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Visible,
    Pending,
    Hidden,
    Deleted,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Visible => "visible",
            State::Pending => "pending",
            State::Hidden => "hidden",
            State::Deleted => "deleted",
        }
    }

    /// Where a moderator's action takes a post in this state; None: it may not (and so must be
    /// refused, or leave the post as it is).
    fn after(self, action: PostAction) -> Option<State> {
        match (action, self) {
            (PostAction::Approve, State::Pending | State::Hidden) => Some(State::Visible),
            (PostAction::Hide, State::Visible) => Some(State::Hidden),
            (PostAction::Restore, State::Hidden | State::Deleted) => Some(State::Visible),
            (PostAction::Delete, State::Pending | State::Visible | State::Hidden) => {
                Some(State::Deleted)
            }
            _ => None,
        }
    }
}

struct ModelPost {
    id: i64,
    topic_id: i64,
    number: i32,
    author: Person,
    state: State,
    /// Public at least once.
    ever_public: bool,
    /// Times it was deleted after being public or hidden: each takes back what told of it.
    withdrawn: i32,
    /// Deleted at least once (an opening post deleted takes its topic's notifications with it).
    deleted_once: bool,
    /// Created visible: published when it was created.
    created_visible: bool,
    /// First made public by a moderator's action between these two moments.
    published_between: Option<(DateTimeUtc, DateTimeUtc)>,
    /// `published_at` as first seen set; it never changes afterwards.
    published_seen: Option<DateTimeUtc>,
    /// Who flagged it since a moderator last acted on it.
    flagged_by: Vec<Person>,
}

struct ModelTopic {
    id: i64,
    author: Person,
    category: &'static str,
    status: TopicStatus,
    /// Staff decided about it (a status or "no reply needed") since it last started waiting.
    decided: bool,
}

#[derive(Default)]
struct Model {
    topics: Vec<ModelTopic>,
    posts: Vec<ModelPost>,
}

fn other_category(slug: &str) -> &'static str {
    if slug == "questions" {
        "ideas"
    } else {
        "questions"
    }
}

impl Model {
    fn topic(&self, index: usize) -> Option<&ModelTopic> {
        (!self.topics.is_empty()).then(|| &self.topics[index % self.topics.len()])
    }

    fn topic_by_id(&mut self, id: i64) -> &mut ModelTopic {
        self.topics
            .iter_mut()
            .find(|t| t.id == id)
            .expect("known topic")
    }

    /// The `index`th post among those `fits` takes, or among all posts when none fits (an
    /// action the rules refuse, which must then write nothing).
    fn post(&self, index: usize, fits: impl Fn(State) -> bool) -> Option<&ModelPost> {
        let fitting: Vec<&ModelPost> = self.posts.iter().filter(|p| fits(p.state)).collect();
        let pool: Vec<&ModelPost> = if fitting.is_empty() {
            self.posts.iter().collect()
        } else {
            fitting
        };
        (!pool.is_empty()).then(|| pool[index % pool.len()])
    }

    /// The call an action makes now; None when there is nothing for it to act on.
    fn resolve(&self, action: &Action, step: usize) -> Option<Call> {
        let text = |what: &str, held: bool| {
            let word = if held { HOLD_WORD } else { "problem" };
            format!("Step {step}: {what} about the {word}.")
        };
        let moderate = |post: usize, action: PostAction, fits: fn(State) -> bool| {
            self.post(post, fits).map(|p| Call::Moderate {
                post_id: p.id,
                action,
            })
        };
        Some(match *action {
            Action::StartTopic { by, held, in_ideas } => {
                if self.topics.len() >= MAX_TOPICS {
                    return None;
                }
                Call::StartTopic {
                    author: by,
                    category: if in_ideas { "ideas" } else { "questions" },
                    title: format!("Topic of step {step}"),
                    body: text("an opening post", held),
                    held,
                }
            }
            Action::Reply { topic, by, held } => {
                let t = self.topic(topic)?;
                let author = match by {
                    Replier::Author => t.author,
                    Replier::OtherCustomer if t.author == Person::Customer => Person::Other,
                    Replier::OtherCustomer => Person::Customer,
                    Replier::Staff => Person::Staff,
                };
                Call::Reply {
                    author,
                    topic_id: t.id,
                    body: text("a reply", held),
                    held,
                }
            }
            Action::Approve { post } => {
                return moderate(post, PostAction::Approve, |s| {
                    matches!(s, State::Pending | State::Hidden)
                });
            }
            Action::Hide { post } => {
                return moderate(post, PostAction::Hide, |s| s == State::Visible);
            }
            // Kept hidden while flags or the review hold it; refused after.
            Action::KeepHidden { post } => {
                return moderate(post, PostAction::KeepHidden, |s| s == State::Hidden);
            }
            Action::Flag { post, second } => {
                let p = self.post(post, |s| s == State::Visible)?;
                let others = [Person::Customer, Person::Other, Person::Staff];
                let mut by = others.into_iter().filter(|&who| who != p.author);
                Call::Flag {
                    post_id: p.id,
                    by: by.nth(usize::from(second))?,
                }
            }
            Action::Restore { post } => {
                return moderate(post, PostAction::Restore, |s| {
                    matches!(s, State::Hidden | State::Deleted)
                });
            }
            Action::Delete { post } => {
                return moderate(post, PostAction::Delete, |s| s != State::Deleted);
            }
            Action::Edit { post } => {
                let p = self.post(post, |s| s != State::Deleted)?;
                Call::Edit {
                    author: p.author,
                    post_id: p.id,
                    body: text("an edit", false),
                }
            }
            Action::SetStatus {
                topic,
                status,
                note,
            } => Call::SetStatus {
                topic_id: self.topic(topic)?.id,
                status,
                note: if note {
                    text("a status note", false)
                } else {
                    String::new()
                },
            },
            Action::Confirm { topic, solved } => {
                let t = self.topic(topic)?;
                Call::Confirm {
                    author: t.author,
                    topic_id: t.id,
                    solved,
                }
            }
            Action::NoReplyNeeded { topic } => Call::NoReplyNeeded {
                topic_id: self.topic(topic)?.id,
            },
            Action::Move { topic } => {
                let t = self.topic(topic)?;
                Call::Move {
                    topic_id: t.id,
                    to: other_category(t.category),
                }
            }
            Action::Archive { in_ideas, archived } => Call::Archive {
                category: if in_ideas { "ideas" } else { "questions" },
                archived,
            },
        })
    }

    /// Where a moderator's action takes a post: `State::after`, and "keep hidden"; approving a
    /// hidden post and keeping it hidden only while flags or an open review item (its author's
    /// edit) hold it under review.
    fn moved(&self, post_id: i64, action: PostAction, rows: &Rows) -> Option<State> {
        let p = self.posts.iter().find(|p| p.id == post_id).expect("known");
        let under_review = rows
            .flags
            .iter()
            .any(|f| f.post_id == post_id && f.state == "open")
            || rows.review_items.iter().any(|i| {
                i.post_id == post_id
                    && i.state == "open"
                    && i.kind != super::records::review_items::VOTE_BURST
            });
        // Approving a hidden post, or keeping it hidden, decides on what holds it: there must
        // be something.
        let decides = action == PostAction::KeepHidden
            || (action == PostAction::Approve && p.state == State::Hidden);
        if decides && !under_review {
            return None;
        }
        let keeps = action == PostAction::KeepHidden && p.state == State::Hidden;
        p.state.after(action).or(keeps.then_some(State::Hidden))
    }

    /// A refused call: the rules may refuse it only if the model does not require it.
    fn refused(&self, call: &Call, error: &AppError, before: &Rows) -> Vec<String> {
        let mut wrong = Vec::new();
        if *error == AppError::Internal {
            wrong.push(format!(
                "[no internal errors] {call:?} failed inside: {error:?}"
            ));
        }
        if let Call::Moderate { post_id, action } = call {
            let p = self.posts.iter().find(|p| p.id == *post_id).expect("known");
            if self.moved(*post_id, *action, before).is_some() {
                wrong.push(format!(
                    "[allowed moves succeed] {action:?} on post {post_id} ({}) was refused: {error}",
                    p.state.as_str()
                ));
            }
        }
        wrong
    }

    /// An accepted call: checks the rows it added and moves the model as the rules say.
    fn accepted(
        &mut self,
        call: &Call,
        before: &Rows,
        after: &Rows,
        (t0, t1): (DateTimeUtc, DateTimeUtc),
    ) -> Vec<String> {
        let mut wrong = Vec::new();
        let new_topics: Vec<&topic::Model> = after
            .topics
            .iter()
            .filter(|t| !before.topics.iter().any(|b| b.id == t.id))
            .collect();
        let new_posts: Vec<&post::Model> = after
            .posts
            .iter()
            .filter(|p| !before.posts.iter().any(|b| b.id == p.id))
            .collect();
        // (topic or None for a new one, author, created held) of the post the call must add.
        let expected_post: Option<(Option<i64>, Person, bool)> = match call {
            Call::StartTopic { author, held, .. } => Some((None, *author, *held)),
            Call::Reply {
                author,
                topic_id,
                held,
                ..
            } => Some((Some(*topic_id), *author, *held)),
            Call::SetStatus { topic_id, note, .. } if !note.is_empty() => {
                Some((Some(*topic_id), Person::Staff, false))
            }
            _ => None,
        };
        let expected_topics = usize::from(matches!(call, Call::StartTopic { .. }));
        if new_topics.len() != expected_topics
            || new_posts.len() != usize::from(expected_post.is_some())
        {
            wrong.push(format!(
                "[new rows] expected {expected_topics} new topic(s) and {} new post(s), found \
                 topics {:?} and posts {:?}",
                usize::from(expected_post.is_some()),
                new_topics.iter().map(|t| t.id).collect::<Vec<_>>(),
                new_posts.iter().map(|p| p.id).collect::<Vec<_>>(),
            ));
            return wrong;
        }
        if let (
            Call::StartTopic {
                author, category, ..
            },
            Some(t),
        ) = (call, new_topics.first())
        {
            self.topics.push(ModelTopic {
                id: t.id,
                author: *author,
                category,
                status: TopicStatus::Open,
                decided: false,
            });
        }
        if let (Some((topic_id, author, held)), Some(p)) = (expected_post, new_posts.first()) {
            let topic_id = topic_id.unwrap_or_else(|| new_topics[0].id);
            let previous = before
                .posts
                .iter()
                .filter(|b| b.topic_id == topic_id)
                .map(|b| b.post_number)
                .max()
                .unwrap_or(0);
            if p.topic_id != topic_id || p.post_number != previous + 1 {
                wrong.push(format!(
                    "[new rows] post {} is topic {} #{}; expected topic {topic_id} #{}",
                    p.id,
                    p.topic_id,
                    p.post_number,
                    previous + 1
                ));
            }
            let state = if held { State::Pending } else { State::Visible };
            self.posts.push(ModelPost {
                id: p.id,
                topic_id,
                number: p.post_number,
                author,
                state,
                ever_public: false,
                withdrawn: 0,
                deleted_once: false,
                created_visible: !held,
                published_between: None,
                published_seen: None,
                flagged_by: Vec::new(),
            });
            if !held {
                self.first_public(p.id, None);
            }
        }
        match call {
            // Two new members' flags (50 each) reach the threshold of 1 (`run_in`): hidden.
            Call::Flag { post_id, by } => {
                let p = self
                    .posts
                    .iter_mut()
                    .find(|p| p.id == *post_id)
                    .expect("known");
                p.flagged_by.push(*by);
                // A staff member's post counts staff members' flags only.
                let counted = p
                    .flagged_by
                    .iter()
                    .filter(|f| !p.author.is_staff() || f.is_staff())
                    .count();
                if counted >= 2 {
                    p.state = State::Hidden;
                }
            }
            Call::Moderate { post_id, action } => {
                let moved = self.moved(*post_id, *action, before);
                let p = self
                    .posts
                    .iter_mut()
                    .find(|p| p.id == *post_id)
                    .expect("known");
                if let Some(to) = moved {
                    // Every moderator's action on a post decides its open flags.
                    p.flagged_by.clear();
                    if to == State::Deleted && matches!(p.state, State::Visible | State::Hidden) {
                        p.withdrawn += 1;
                    }
                    p.deleted_once |= to == State::Deleted;
                    p.state = to;
                    if to == State::Visible && !p.ever_public {
                        self.first_public(*post_id, Some((t0, t1)));
                    }
                }
            }
            Call::SetStatus {
                topic_id,
                status,
                note,
            } => {
                // The status it already has is not set again (no history line, no one told
                // again); only said again without a note to a customer waiting, it decides.
                // A note is posted as a reply either way.
                let waiting = before
                    .topics
                    .iter()
                    .any(|t| t.id == *topic_id && t.awaiting_staff_since.is_some());
                let t = self.topic_by_id(*topic_id);
                if t.status != *status || (note.is_empty() && waiting) {
                    t.status = *status;
                    t.decided = true;
                }
            }
            Call::Confirm {
                topic_id, solved, ..
            } => {
                if !solved {
                    let t = self.topic_by_id(*topic_id);
                    t.status = TopicStatus::Open;
                    t.decided = false;
                }
            }
            Call::NoReplyNeeded { topic_id } => self.topic_by_id(*topic_id).decided = true,
            Call::Move { topic_id, to } => self.topic_by_id(*topic_id).category = *to,
            // Archiving decides nothing: nothing waits in an archived category (`check`), and
            // restoring it, or moving a topic out, starts again only a wait nothing decided.
            Call::Archive { .. } => {}
            Call::StartTopic { .. } | Call::Reply { .. } | Call::Edit { .. } => {}
        }
        // Restoring a category, or moving a topic out of an archived one, makes a topic wait,
        // from then, exactly when it would have waited had its category taken posts.
        let archived_before = |t: &topic::Model| {
            before
                .categories
                .iter()
                .any(|c| c.id == t.category_id && c.archived)
        };
        let reopened: Vec<&topic::Model> = match call {
            Call::Archive {
                category,
                archived: false,
            } => before
                .topics
                .iter()
                .filter(|t| {
                    archived_before(t)
                        && before
                            .categories
                            .iter()
                            .any(|c| c.id == t.category_id && c.slug == *category)
                })
                .collect(),
            Call::Move { topic_id, .. } => before
                .topics
                .iter()
                .filter(|t| t.id == *topic_id && archived_before(t))
                .collect(),
            _ => Vec::new(),
        };
        for b in reopened {
            let would = wait_if_open(before, b).0.is_some();
            let now = after
                .topics
                .iter()
                .find(|t| t.id == b.id)
                .and_then(|t| t.awaiting_staff_since);
            let from_then = now.is_none_or(|at| at >= t0 - Duration::milliseconds(1));
            if would != now.is_some() || !from_then {
                wrong.push(format!(
                    "[archived] topic {}: back where it takes posts, it waits since {now:?}; \
                     it would wait had it been there: {would} (from {t0})",
                    b.id
                ));
            }
        }
        // An archiving's mark goes only on topics of an archived category.
        for e in after
            .events
            .iter()
            .filter(|e| e.kind == "category_archived")
        {
            if before.events.iter().any(|b| b.id == e.id) {
                continue;
            }
            let archived = after.topics.iter().any(|t| {
                t.id == e.topic_id
                    && after
                        .categories
                        .iter()
                        .any(|c| c.id == t.category_id && c.archived)
            });
            if !archived {
                wrong.push(format!(
                    "[archived] topic {}: an archiving's mark outside an archived category",
                    e.topic_id
                ));
            }
        }
        wrong
    }

    /// A post becomes public for the first time (created visible, or approved between two
    /// moments): a reply from the topic's author (a customer) reopens a resolved topic.
    fn first_public(&mut self, post_id: i64, between: Option<(DateTimeUtc, DateTimeUtc)>) {
        let p = self
            .posts
            .iter_mut()
            .find(|p| p.id == post_id)
            .expect("known");
        p.ever_public = true;
        p.published_between = between;
        let (topic_id, author, number) = (p.topic_id, p.author, p.number);
        let t = self.topic_by_id(topic_id);
        // Every topic in this test was resolved moments ago: within the 14-day window.
        if number > 1
            && author == t.author
            && !author.is_staff()
            && t.status == TopicStatus::Resolved
        {
            t.status = TopicStatus::Open;
            t.decided = false;
        }
    }

    /// Remembers each post's `published_at` once set: it must never change.
    fn saw(&mut self, rows: &Rows) {
        for p in &rows.posts {
            if let Some(m) = self.posts.iter_mut().find(|m| m.id == p.id) {
                m.published_seen = m.published_seen.or(p.published_at);
            }
        }
    }
}

/// The topic's wait for staff recomputed from `rows` as if its category took posts: since when
/// it waits (None: it does not; from the latest end of an archiving for it at the earliest),
/// whether staff decided it, and the history event that says so.
fn wait_if_open<'r>(
    rows: &'r Rows,
    t: &topic::Model,
) -> (Option<DateTimeUtc>, bool, Option<&'r topic_event::Model>) {
    let posts = || rows.posts.iter().filter(|p| p.topic_id == t.id);
    let opening_post = posts().find(|p| p.post_number == 1);
    let opening = opening_post.map(|p| p.state.as_str());
    // Hidden by members' flags, a moderator yet to decide: it waits as if public.
    let under_review = opening == Some("hidden")
        && opening_post.is_some_and(|o| {
            rows.flags
                .iter()
                .any(|f| f.post_id == o.id && f.state == "open")
        });
    let events = |kinds: &'static [&'static str]| {
        rows.events
            .iter()
            .filter(move |e| e.topic_id == t.id && kinds.contains(&e.kind.as_str()))
    };
    let clock_event = events(&["reopened", "status", "no_reply_needed", "merged"])
        .max_by_key(|e| (e.created_at, e.id));
    let (wait_start, decided) = match clock_event {
        None => (t.created_at, false),
        Some(e) if e.kind == "reopened" => (e.created_at, false),
        Some(e) => (e.created_at, true),
    };
    let answered = posts()
        .filter(|p| p.post_number > 1 && p.is_staff_reply && p.state == "visible")
        .filter_map(|p| p.published_at)
        .any(|at| at >= wait_start);
    let waits = !t.started_by_staff
        && (matches!(opening, Some("visible" | "pending")) || under_review)
        && !decided
        && !answered;
    let archive_ended = events(&["category_restored", "moved_out_of_archive"])
        .map(|e| e.created_at)
        .max();
    let since = archive_ended.map_or(wait_start, |end| wait_start.max(end));
    (waits.then_some(since), decided, clock_event)
}

/// The rows the rules are about, in id order.
#[derive(Debug, PartialEq)]
struct Rows {
    posts: Vec<post::Model>,
    topics: Vec<topic::Model>,
    categories: Vec<category::Model>,
    events: Vec<topic_event::Model>,
    flags: Vec<flag::Model>,
    review_items: Vec<review_item::Model>,
}

impl Rows {
    async fn read(db: &DatabaseConnection) -> Rows {
        Rows {
            posts: post::Entity::find()
                .order_by_asc(post::Column::Id)
                .all(db)
                .await
                .unwrap(),
            topics: topic::Entity::find()
                .order_by_asc(topic::Column::Id)
                .all(db)
                .await
                .unwrap(),
            categories: category::Entity::find()
                .order_by_asc(category::Column::Id)
                .all(db)
                .await
                .unwrap(),
            events: topic_event::Entity::find()
                .order_by_asc(topic_event::Column::Id)
                .all(db)
                .await
                .unwrap(),
            flags: flag::Entity::find()
                .order_by_asc(flag::Column::Id)
                .all(db)
                .await
                .unwrap(),
            review_items: review_item::Entity::find()
                .order_by_asc(review_item::Column::Id)
                .all(db)
                .await
                .unwrap(),
        }
    }

    /// What differs, table by table, row by row (for a refused call that wrote something).
    fn changes(&self, after: &Rows) -> Vec<String> {
        fn table<T: std::fmt::Debug + PartialEq>(
            name: &str,
            before: &[T],
            after: &[T],
            out: &mut Vec<String>,
        ) {
            let gone = before.iter().filter(|r| !after.contains(r));
            let came = after.iter().filter(|r| !before.contains(r));
            for row in gone {
                out.push(format!("[refused writes nothing] {name} before: {row:?}"));
            }
            for row in came {
                out.push(format!("[refused writes nothing] {name} after:  {row:?}"));
            }
        }
        let mut out = Vec::new();
        table("posts", &self.posts, &after.posts, &mut out);
        table("topics", &self.topics, &after.topics, &mut out);
        table("categories", &self.categories, &after.categories, &mut out);
        table("topic_events", &self.events, &after.events, &mut out);
        table("flags", &self.flags, &after.flags, &mut out);
        table(
            "review_items",
            &self.review_items,
            &after.review_items,
            &mut out,
        );
        out
    }
}

/// The figures recomputed from the rows, as the rules define them, against what is stored; and
/// the states and statuses against the model.
fn check(model: &Model, rows: &Rows) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expect = |rule: &str, what: String, stored: String, recomputed: String| {
        if stored != recomputed {
            wrong.push(format!(
                "[{rule}] {what}: stored {stored}, expected {recomputed}"
            ));
        }
    };

    let row_ids: Vec<i64> = rows.posts.iter().map(|p| p.id).collect();
    let model_ids: Vec<i64> = model.posts.iter().map(|p| p.id).collect();
    expect(
        "posts",
        "post ids".into(),
        format!("{row_ids:?}"),
        format!("{model_ids:?}"),
    );
    for p in &rows.posts {
        let Some(m) = model.posts.iter().find(|m| m.id == p.id) else {
            continue;
        };
        let what = format!("post {} (topic {} #{})", p.id, p.topic_id, p.post_number);
        expect(
            "post state",
            what.clone(),
            p.state.clone(),
            m.state.as_str().into(),
        );
        let published = format!("{:?}", p.published_at);
        if p.state == "visible" && p.published_at.is_none() {
            expect(
                "published_at",
                format!("visible {what}"),
                published.clone(),
                "Some".into(),
            );
        }
        if !m.ever_public {
            expect(
                "published_at",
                format!("never public {what}"),
                published.clone(),
                "None".into(),
            );
        }
        if m.created_visible {
            let created = format!("{:?}", Some(p.created_at));
            expect(
                "published_at",
                format!("created visible {what}"),
                published.clone(),
                created,
            );
        }
        if let Some((t0, t1)) = m.published_between {
            // A millisecond either side for the precision timestamps are stored with.
            let margin = Duration::milliseconds(1);
            let inside = p
                .published_at
                .is_some_and(|at| at >= t0 - margin && at <= t1 + margin);
            if !inside {
                expect(
                    "published_at",
                    format!("approved {what}"),
                    published.clone(),
                    format!("between {t0} and {t1}"),
                );
            }
        }
        if let Some(seen) = m.published_seen {
            expect(
                "published_at never changes",
                what,
                published,
                format!("{:?}", Some(seen)),
            );
        }
    }

    // (category, listed, post_count, last_posted_at) of each topic, recomputed.
    let mut per_topic = Vec::new();
    for t in &rows.topics {
        let what = format!("topic {}", t.id);
        let posts: Vec<&post::Model> = rows.posts.iter().filter(|p| p.topic_id == t.id).collect();
        let visible: Vec<&&post::Model> = posts.iter().filter(|p| p.state == "visible").collect();
        let post_count = visible.len() as i32;
        let last_posted_at = visible
            .iter()
            .filter_map(|p| p.published_at)
            .max()
            .unwrap_or(t.created_at);
        let opening = posts
            .iter()
            .find(|p| p.post_number == 1)
            .map(|p| p.state.as_str());
        let listed = opening == Some("visible");
        let staff_replies: Vec<DateTimeUtc> = posts
            .iter()
            .filter(|p| p.post_number > 1 && p.is_staff_reply && p.state == "visible")
            .filter_map(|p| p.published_at)
            .collect();
        let first_staff_reply_at = if t.started_by_staff {
            None
        } else {
            staff_replies.iter().min().copied()
        };
        let (would_wait, decided, clock_event) = wait_if_open(rows, t);
        // Nobody may answer in an archived category: nothing waits there.
        let archived = rows
            .categories
            .iter()
            .any(|c| c.id == t.category_id && c.archived);
        let awaiting = would_wait.filter(|_| !archived);
        let last_post_number = posts.iter().map(|p| p.post_number).max().unwrap_or(0);

        expect(
            "topics.post_count",
            what.clone(),
            t.post_count.to_string(),
            post_count.to_string(),
        );
        expect(
            "topics.last_posted_at",
            what.clone(),
            t.last_posted_at.to_string(),
            last_posted_at.to_string(),
        );
        expect(
            "topics.visible",
            what.clone(),
            t.visible.to_string(),
            listed.to_string(),
        );
        expect(
            "topics.first_staff_reply_at",
            what.clone(),
            format!("{:?}", t.first_staff_reply_at),
            format!("{first_staff_reply_at:?}"),
        );
        expect(
            "topics.awaiting_staff_since",
            what.clone(),
            format!("{:?}", t.awaiting_staff_since),
            format!("{awaiting:?}"),
        );
        expect(
            "topics.last_post_number",
            what.clone(),
            t.last_post_number.to_string(),
            last_post_number.to_string(),
        );
        if let Some(m) = model.topics.iter().find(|m| m.id == t.id) {
            expect(
                "topic status",
                what.clone(),
                t.status.clone(),
                m.status.as_str().into(),
            );
            expect(
                "topic history",
                format!("{what} decided by staff (latest clock event: {clock_event:?})"),
                decided.to_string(),
                m.decided.to_string(),
            );
            let slug = rows
                .categories
                .iter()
                .find(|c| c.id == t.category_id)
                .map(|c| c.slug.clone());
            expect(
                "topic category",
                what,
                format!("{slug:?}"),
                format!("{:?}", Some(m.category)),
            );
        }
        per_topic.push((t.category_id, listed, post_count, last_posted_at));
    }

    for c in &rows.categories {
        let what = format!("category {}", c.slug);
        let listed: Vec<_> = per_topic
            .iter()
            .filter(|(category, listed, ..)| *category == c.id && *listed)
            .collect();
        let post_count: i32 = listed.iter().map(|(_, _, n, _)| n).sum();
        let last_posted_at = listed.iter().map(|(.., at)| *at).max();
        expect(
            "categories.topic_count",
            what.clone(),
            c.topic_count.to_string(),
            listed.len().to_string(),
        );
        expect(
            "categories.post_count",
            what.clone(),
            c.post_count.to_string(),
            post_count.to_string(),
        );
        expect(
            "categories.last_posted_at",
            what,
            format!("{:?}", c.last_posted_at),
            format!("{last_posted_at:?}"),
        );
    }
    wrong
}

/// Runs one sequence on a fresh world; Err: the rules broken at the first step that broke any,
/// with the calls made up to it.
async fn run(actions: &[Action]) -> Result<(), String> {
    run_in(World::new().await, actions).await
}

async fn run_in(w: World, actions: &[Action]) -> Result<(), String> {
    crate::server::testing::watch(&w.db, &[(HOLD_WORD, "hold")]).await;
    // The lowest threshold: two of World's new members' flags hide a post.
    super::settings::put(&w.db, super::settings::FLAG_THRESHOLD.0, "1")
        .await
        .unwrap();
    let mut model = Model::default();
    let mut trace = Vec::new();
    let mut rows = Rows::read(&w.db).await;
    let kept = super::views::topic::topic_pages();
    let waiting = super::memo::Memo::default();
    for (step, action) in actions.iter().enumerate() {
        let Some(call) = model.resolve(action, step) else {
            trace.push(format!("{step:>2}. {action:?}: nothing to act on"));
            continue;
        };
        let t0 = Utc::now();
        let result = apply(&w, &call).await;
        let t1 = Utc::now();
        let after = Rows::read(&w.db).await;
        let mut wrong = match &result {
            Ok(()) => {
                trace.push(format!("{step:>2}. {call:?}: done"));
                model.accepted(&call, &rows, &after, (t0, t1))
            }
            Err(e) => {
                trace.push(format!("{step:>2}. {call:?}: refused ({e})"));
                let mut wrong = model.refused(&call, e, &rows);
                wrong.extend(rows.changes(&after));
                wrong
            }
        };
        wrong.extend(check(&model, &after));
        wrong.extend(told(&w.db, &model).await);
        wrong.extend(kept_pages(&w, &kept, &after).await);
        wrong.extend(kept_queue(&w, &waiting).await);
        wrong.extend(unread_agrees(&w).await);
        if !wrong.is_empty() {
            return Err(format!(
                "calls:\n{}\nbroken after step {step}:\n{}\n",
                trace.join("\n"),
                wrong.join("\n")
            ));
        }
        model.saw(&after);
        rows = after;
    }
    Ok(())
}

/// Kept topic pages (views::topic::TopicPages, read once per page version) are what a fresh read
/// gives, for every kind of reader: a step that changed what a page shows without bumping the
/// page version shows here as a difference.
async fn kept_pages(w: &World, kept: &super::views::topic::TopicPages, rows: &Rows) -> Vec<String> {
    use super::views::topic::{kept_topic_page, topic_page};
    let mut wrong = Vec::new();
    let viewers = [
        None,
        Some(&w.customer),
        Some(&w.other),
        Some(&w.staff),
        Some(&w.moderator),
    ];
    for t in &rows.topics {
        for viewer in viewers {
            let fresh = topic_page(&w.db, t.id, 1, viewer).await;
            let from_kept = kept_topic_page(&w.db, kept, t.id, 1, viewer)
                .await
                .map(|(page, _)| page);
            if from_kept != fresh {
                wrong.push(format!(
                    "topic {} as {}: the kept page is not a fresh read's\n kept:  {from_kept:?}\n fresh: {fresh:?}",
                    t.id,
                    viewer.map_or("a visitor", |u| u.username.as_str()),
                ));
            }
        }
    }
    wrong
}

/// The staff queue's kept count of waiting topics (views::staff::WaitingCounts, counted once per
/// page version) is what a fresh count gives, for all categories and for each.
async fn kept_queue(
    w: &World,
    kept: &super::memo::Memo<super::views::staff::WaitingCounts>,
) -> Vec<String> {
    use super::views::staff::queue;
    let mut wrong = Vec::new();
    for category in [None, Some("questions"), Some("ideas")] {
        let fresh = queue(&w.db, &w.staff, category, 1, &Default::default()).await;
        let from_kept = queue(&w.db, &w.staff, category, 1, kept).await;
        let (fresh, from_kept) = (fresh.map(|q| q.total), from_kept.map(|q| q.total));
        if from_kept != fresh {
            wrong.push(format!(
                "staff queue {category:?}: kept total {from_kept:?}, fresh {fresh:?}"
            ));
        }
    }
    wrong
}

/// What is new to each member is the same on the home page's count per category as on the
/// topic lists' markers (`reads::unread_by_category`, `reads::unread_by_topic`): a post held,
/// approved, hidden, deleted or moved with its topic shows in both or in neither. (A case has
/// far fewer topics than the count looks at, `reads::COUNTED_TOPICS`.)
async fn unread_agrees(w: &World) -> Vec<String> {
    use super::records::reads;
    use std::collections::HashMap;
    let now = Utc::now();
    let topics: HashMap<i64, i64> = topic::Entity::find()
        .all(&w.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.category_id))
        .collect();
    let ids: Vec<i64> = topics.keys().copied().collect();
    let mut wrong = Vec::new();
    for member in [&w.customer, &w.other, &w.staff, &w.moderator, &w.admin] {
        let since = reads::horizon(&w.db, member, now).await.unwrap();
        let marked = reads::unread_by_topic(&w.db, member, since, &ids)
            .await
            .unwrap();
        let mut expected: HashMap<i64, u32> = HashMap::new();
        for topic_id in marked.keys() {
            *expected.entry(topics[topic_id]).or_default() += 1;
        }
        let counted = reads::unread_by_category(&w.db, member, since)
            .await
            .unwrap();
        if counted != expected {
            wrong.push(format!(
                "{}: new per category {counted:?}, but the topics' markers say {expected:?}",
                member.username
            ));
        }
    }
    wrong
}

/// The notifications the rows call for, recomputed from posts and topics (the workers run
/// first, as they would after the request).
async fn told(db: &DatabaseConnection, model: &Model) -> Vec<String> {
    use super::entity::{fan_out, notification};
    use sea_orm::PaginatorTrait;
    super::notify::fan_out_due(db, 1000).await.unwrap();
    let mut wrong = Vec::new();
    if fan_out::Entity::find().count(db).await.unwrap() > 0 {
        wrong.push("fan-outs were left behind".into());
    }
    let notes = notification::Entity::find().all(db).await.unwrap();
    let posts = post::Entity::find().all(db).await.unwrap();
    let topics = topic::Entity::find().all(db).await.unwrap();
    for t in &topics {
        for (kind, staff) in [("staff_answer", true), ("reply", false)] {
            let expected = posts
                .iter()
                .filter(|p| p.topic_id == t.id && p.post_number > 1)
                .filter(|p| p.published_at.is_some() && p.author_id != t.author_id)
                .filter(|p| p.is_staff_reply == staff)
                .count() as i32;
            let mine: Vec<_> = notes
                .iter()
                .filter(|n| n.user_id == t.author_id && n.topic_id == Some(t.id))
                .filter(|n| n.kind == kind)
                .collect();
            // A reply deleted takes back what told of it: one each time (deleted, restored and
            // deleted again, it takes one more).
            let withdrawn: i32 = posts
                .iter()
                .filter(|p| p.topic_id == t.id && p.post_number > 1)
                .filter(|p| p.author_id != t.author_id && p.is_staff_reply == staff)
                .filter_map(|p| model.posts.iter().find(|m| m.id == p.id))
                .map(|m| m.withdrawn)
                .sum();
            // A topic removed with its opening post takes back all of it.
            let removed_once = model
                .posts
                .iter()
                .any(|m| m.topic_id == t.id && m.number == 1 && m.deleted_once);
            let least = if removed_once {
                0
            } else {
                expected - withdrawn
            };
            let counted: i32 = mine.iter().map(|n| n.count).sum();
            if counted > expected || counted < least {
                wrong.push(format!(
                    "topic {}: its author was told of {counted} {kind}s, not {least} to {expected}",
                    t.id
                ));
            }
            if mine.iter().filter(|n| n.read_at.is_none()).count() > 1 {
                wrong.push(format!(
                    "topic {}: several unread {kind} notifications",
                    t.id
                ));
            }
        }
    }
    for n in &notes {
        // Removed, out of the bell: a mention, quote or answer is not about a deleted post (a
        // collapsed notification may still point at the first reply it stood for).
        if let Some(p) = n.post_id.and_then(|id| posts.iter().find(|p| p.id == id))
            && p.state() == PostState::Deleted
            && n.kind != "reply"
            && n.kind != "staff_answer"
        {
            wrong.push(format!(
                "member {} is told of post {}, which is {}",
                n.user_id, p.id, p.state
            ));
        }
        // And none about a topic its member may not see (a removed one's notifications went
        // with it; its author may still hear of what happens in it).
        if let Some(t) = n.topic_id.and_then(|id| topics.iter().find(|t| t.id == id)) {
            let member = super::entity::user::Entity::find_by_id(n.user_id)
                .one(db)
                .await
                .unwrap();
            if !super::visibility::can_see_topic(db, t, member.as_ref())
                .await
                .unwrap()
            {
                wrong.push(format!(
                    "member {} is told of topic {}, which they may not see",
                    n.user_id, t.id
                ));
            }
        }
        let own = n
            .post_id
            .and_then(|id| posts.iter().find(|p| p.id == id))
            .filter(|p| p.author_id == n.user_id && n.kind != "held" && n.kind != "approve");
        if own.is_some() {
            wrong.push(format!("member {} was told of their own post", n.user_id));
        }
    }
    wrong
}

#[test]
fn the_lifecycle_keeps_every_derived_figure_equal_to_its_recomputation() {
    let config = Config {
        // Defaults to 256; PROPTEST_CASES sets another number (see the module comment).
        cases: Config::default().cases,
        // A failure prints its shrunk sequence; files of old seeds would outlive the bugs.
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(action(), 1..=25), |actions| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(&actions)).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, actions)) => {
            panic!("shortest failing sequence:\n{actions:#?}\n{why}")
        }
        Err(e) => panic!("{e}"),
    }
}

/// Sequences the issue names, replayed through the same model and checks: each must keep every
/// rule, and a failure says which.
mod reproductions {
    use super::{Action::*, Replier, *};

    /// On SQLite, then on a fresh PostgreSQL database (skipped when none answers, except under
    /// CI=true).
    fn replay(actions: Vec<Action>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        if let Err(why) = runtime.block_on(run(&actions)) {
            panic!("on SQLite: {why}");
        }
        runtime.block_on(async {
            let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
                return;
            };
            let world = World::builder().build_on(pg.db.clone()).await;
            let result = run_in(world, &actions).await;
            pg.drop().await;
            if let Err(why) = result {
                panic!("on PostgreSQL: {why}");
            }
        });
    }

    fn start(by: Person, held: bool) -> Action {
        StartTopic {
            by,
            held,
            in_ideas: false,
        }
    }

    fn reply(by: Replier, held: bool) -> Action {
        Reply { topic: 0, by, held }
    }

    #[test]
    fn a_held_staff_reply_answers_when_approved() {
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::Staff, true),
            Approve { post: 0 },
        ]);
    }

    /// Kept hidden, a complaint the members' flags hid is decided: out of the waiting
    /// topics and the figures. Hidden again, with nothing left to decide, it is refused.
    #[test]
    fn a_complaint_kept_hidden_after_flags_waits_no_more() {
        replay(vec![
            start(Person::Customer, false),
            Flag {
                post: 0,
                second: false,
            },
            Flag {
                post: 0,
                second: true,
            },
            KeepHidden { post: 0 },
            KeepHidden { post: 0 },
        ]);
    }

    /// A post hidden by a moderator and edited by its author is back under review: it can be
    /// kept hidden, once.
    #[test]
    fn a_hidden_reply_edited_by_its_author_can_be_kept_hidden() {
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::OtherCustomer, false),
            Hide { post: 1 },
            Edit { post: 1 },
            KeepHidden { post: 0 },
            KeepHidden { post: 0 },
        ]);
    }

    #[test]
    fn a_deleted_staff_reply_restored_puts_the_clock_back() {
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::Staff, false),
            Delete { post: 1 },
            Restore { post: 0 },
        ]);
    }

    #[test]
    fn nothing_waits_in_an_archived_category() {
        let archive = |archived| Archive {
            in_ideas: false,
            archived,
        };
        // A staff reply deleted, then an opening post restored, while it is archived; each
        // waits again once it is restored.
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::Staff, false),
            archive(true),
            Delete { post: 1 },
            archive(false),
        ]);
        replay(vec![
            start(Person::Customer, false),
            Delete { post: 0 },
            archive(true),
            Restore { post: 0 },
            archive(false),
            archive(false),
        ]);
        // A staff reply hidden and shown again while it is archived: answered, the topic waits
        // neither once the category is restored nor once it is moved out.
        for last in [archive(false), Move { topic: 0 }] {
            replay(vec![
                start(Person::Customer, false),
                reply(Replier::Staff, false),
                archive(true),
                Hide { post: 1 },
                Restore { post: 0 },
                last,
            ]);
        }
    }

    #[test]
    fn a_hidden_staff_reply_made_visible_puts_the_clock_back() {
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::Staff, false),
            Hide { post: 1 },
            Restore { post: 0 },
        ]);
    }

    #[test]
    fn the_authors_held_reply_approved_reopens_a_resolved_topic() {
        replay(vec![
            start(Person::Customer, false),
            SetStatus {
                topic: 0,
                status: TopicStatus::Resolved,
                note: false,
            },
            reply(Replier::Author, true),
            Approve { post: 0 },
        ]);
    }

    #[test]
    fn a_reopened_topic_waits_from_the_moment_it_was_reopened() {
        replay(vec![
            start(Person::Customer, false),
            SetStatus {
                topic: 0,
                status: TopicStatus::Resolved,
                note: true,
            },
            reply(Replier::Author, false),
        ]);
    }

    #[test]
    fn removing_the_staff_reply_leaves_no_reply_needed_standing() {
        replay(vec![
            start(Person::Customer, false),
            NoReplyNeeded { topic: 0 },
            reply(Replier::Staff, false),
            Delete { post: 1 },
        ]);
    }

    #[test]
    fn a_staff_started_topic_has_no_clock() {
        replay(vec![
            start(Person::Staff, false),
            reply(Replier::Staff, false),
        ]);
    }

    #[test]
    fn counts_leave_out_held_hidden_and_deleted_posts_and_topics() {
        replay(vec![
            start(Person::Customer, true),
            start(Person::Customer, false),
            Reply {
                topic: 1,
                by: Replier::OtherCustomer,
                held: true,
            },
            Reply {
                topic: 1,
                by: Replier::OtherCustomer,
                held: false,
            },
            Hide { post: 1 },
            Move { topic: 1 },
        ]);
    }

    #[test]
    fn a_held_post_is_approved_or_rejected_not_hidden() {
        replay(vec![start(Person::Customer, true), Hide { post: 0 }]);
    }

    #[test]
    fn approving_a_deleted_post_does_not_bring_it_back() {
        replay(vec![
            start(Person::Customer, false),
            Delete { post: 0 },
            Approve { post: 0 },
        ]);
    }

    /// A removed topic's notifications go with it; a reply approved in it afterwards tells its
    /// author (who may still see it) and nobody who may not.
    #[test]
    fn a_reply_approved_in_a_removed_topic_tells_only_whom_may_see_it() {
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::OtherCustomer, true),
            Delete { post: 6 },
            Approve { post: 0 },
        ]);
    }

    /// A deleted reply's share of its author's notification goes; restored, it tells nobody
    /// again; deleted again, it takes one share more (within the bounds `told` allows).
    #[test]
    fn a_deleted_reply_is_withdrawn_from_the_bell() {
        replay(vec![
            start(Person::Customer, false),
            reply(Replier::OtherCustomer, false),
            reply(Replier::OtherCustomer, false),
            Hide { post: 1 },
            Delete { post: 1 },
            Restore { post: 0 },
            Delete { post: 1 },
        ]);
    }
}
