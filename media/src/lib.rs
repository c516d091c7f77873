//! Files and images for the server: what a file is (from its bytes), images made safe and light,
//! where files are kept, and fetching images from other sites without being turned against the
//! machine's own network. No database and no HTTP server here: the app crate decides who may
//! upload what and serves the results.
pub mod detect;
pub mod fetch;
pub mod image;
pub mod store;
