//! What rows are, without policy: small reads and writes of one kind of row that several
//! features and the post lifecycle share.
pub mod posts;
pub mod review_items;
pub mod topic_events;
