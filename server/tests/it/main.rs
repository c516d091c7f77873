//! Every integration test of the server in one binary. Each file here used to be its own test
//! target, and each target links the whole application again: nine links cost minutes on two
//! cores and gigabytes of disk (a CI machine ran out while linking them).

mod common;

mod admin_http;
mod blog_http;
mod cli;
mod forum_http;
mod http;
mod moderation_http;
mod postgres;
mod security_http;
mod staff_http;
mod parallel_limits;
mod safe_redirects;
mod signup_abuse;
