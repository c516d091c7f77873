//! Page read models: what each page shows, assembled from the rows. Nothing here writes.
pub mod admin;
pub mod blog;
pub mod confirm;
pub mod feeds;
pub mod forum;
pub mod home;
pub mod ideas;
pub mod moderation;
pub mod staff;
pub mod structured_data;
pub mod topic;
pub mod votes;
