//! One module per page.
pub mod home;
pub mod log_in;
pub mod not_found;
pub mod sign_up;
