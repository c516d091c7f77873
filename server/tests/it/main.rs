//! Every integration test of the server in one binary. Each file here used to be its own test
//! target, and each target links the whole application again: nine links cost minutes on two
//! cores and gigabytes of disk (a CI machine ran out while linking them).

mod common;

mod account_mail;
mod admin_http;
mod avatars_http;
mod blog_http;
mod brand_http;
mod cli;
mod concurrent_pages;
mod crawlers_http;
mod csrf_http;
mod drafts_http;
mod figures_http;
mod flag_page;
mod follow_http;
mod form_errors;
mod forms_behave;
mod forum_http;
mod fragments_http;
mod home_http;
mod hostile_strings;
mod http;
mod ideas_http;
mod ideas_views_http;
mod lifecycle_pages;
mod member_pages_http;
mod metrics_http;
mod migrate_data;
mod moderation_http;
mod moderator_limits;
mod page_cache_http;
mod parallel_limits;
mod postgres;
mod profile_http;
mod read_errors;
mod receive_mail;
mod resources_http;
mod rough_edges;
mod safe_redirects;
mod search_http;
mod security_http;
mod sessions_http;
mod signup_abuse;
mod staff_http;
mod suspension;
mod times_http;
mod uploads_http;
mod uploads_stores;
mod visibility;
