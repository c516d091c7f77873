//! One module per page.
pub mod accountability;
pub mod article;
pub mod article_editor;
pub mod blog;
pub mod category;
pub mod edit_post;
pub mod home;
pub mod log_in;
pub mod new_topic;
pub mod not_found;
pub mod sign_up;
pub mod staff_metrics;
pub mod staff_queue;
pub mod topic;
pub mod user;
