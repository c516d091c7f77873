//! Server-only code: rules over the database. The wasm build never sees this module.
pub mod accounts;
pub mod admin;
pub mod auth;
pub mod batch;
pub mod blog;
pub mod category_colours;
pub mod config;
pub mod content;
pub mod csp;
pub mod db;
pub mod demo;
pub mod drafts;
pub mod email_address;
pub mod entity;
pub mod excerpt_lines;
pub mod forms;
pub mod forum;
pub mod fragments;
pub mod html_text;
pub mod ideas;
#[cfg(test)]
mod ideas_tests;
pub mod image_alt;
pub mod inbound_mail;
pub mod invisible;
#[cfg(test)]
mod lifecycle_properties;
#[cfg(test)]
mod loop_tests;
pub mod mail;
pub mod memo;
pub mod metrics;
pub mod moderation;
pub mod names;
pub mod notify;
pub mod page_inputs;
pub mod page_version;
pub mod paging;
pub mod posting;
#[cfg(test)]
mod properties;
pub mod rate_buckets;
pub mod records;
pub mod rerender;
pub mod search;
pub mod search_index;
pub mod search_rank;
#[cfg(test)]
mod search_tests;
pub mod session_store;
pub mod settings;
pub mod signing;
pub mod slug_text;
pub mod staff;
pub mod state;
pub mod stopping;
pub mod subscriptions;
#[doc(hidden)]
pub mod testing;
pub mod theme;
pub mod uploads;
pub mod views;
pub mod visibility;
pub mod watched_words;
