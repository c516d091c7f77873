//! Page read models: what each page shows, assembled from the rows. Nothing here writes.
pub mod admin;
pub mod blog;
pub mod feeds;
pub mod forum;
pub mod ideas;
pub mod moderation;
pub mod staff;
pub mod structured_data;
pub mod votes;
