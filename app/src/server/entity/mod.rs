//! sea-orm entities, one file per table.
pub mod article;
pub mod article_tag;
pub mod category;
pub mod form_submission;
pub mod post;
pub mod post_revision;
pub mod session;
pub mod setting;
pub mod topic;
pub mod topic_event;
pub mod user;
