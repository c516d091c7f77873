//! Server-only code: rules over the database. The wasm build never sees this module.
pub mod accounts;
pub mod admin;
pub mod auth;
pub mod blog;
pub mod config;
pub mod content;
pub mod db;
pub mod demo;
pub mod drafts;
pub mod entity;
pub mod feeds;
pub mod forms;
pub mod forum;
pub mod moderation;
pub mod notify;
pub mod session_store;
pub mod settings;
pub mod staff;
pub mod state;
#[doc(hidden)]
pub mod testing;
pub mod watched_words;
