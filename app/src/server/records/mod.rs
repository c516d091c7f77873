//! What rows are, without policy: small reads and writes of one kind of row that several
//! features, views and the post lifecycle share.
pub mod articles;
pub mod categories;
pub mod moderation_log;
pub mod posts;
pub mod reads;
pub mod review_items;
pub mod topic_events;
pub mod topics;
pub mod users;
pub mod votes;
