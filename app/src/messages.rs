//! Fixed messages that a server rule gives and a page also shows. The rules (server/, native
//! only) and the pages (both builds) must name the same text, so it lives below both.

/// Shown after asking for a password-reset link, whether or not an account matched.
pub const RESET_SENT: &str = "If an account uses that name or address, we've sent it a link to choose a new password. The link works for an hour.";
/// A reset link that is unknown, used or out of date.
pub const RESET_LINK_BAD: &str =
    "This password-reset link has expired or was already used. Ask for a new one below.";
/// A confirmation link that is unknown, used, out of date or cut short.
pub const CONFIRM_LINK_BAD: &str = "This confirmation link doesn't work: it was already used, it expired (links work for 48 hours), or it was cut short. Ask for a new one on your account page.";
