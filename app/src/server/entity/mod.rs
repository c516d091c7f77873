//! sea-orm entities, one file per table.
pub mod article;
pub mod article_tag;
pub mod category;
pub mod category_slug;
pub mod flag;
pub mod form_submission;
pub mod moderation_log;
pub mod notification;
pub mod post;
pub mod post_revision;
pub mod review_item;
pub mod session;
pub mod setting;
pub mod topic;
pub mod topic_event;
pub mod user;
pub mod watched_word;
