//! The e-mailed links' tokens (password resets, address confirmations): their shape, and what
//! is stored of them. Below both kinds of link, so neither imports the other.
use sha2::{Digest, Sha256};

/// What is stored of a link's token: its SHA-256, hex.
pub(super) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` has the shape of a link token (`auth::random_token`): 64 hex characters.
/// Anything else is refused before it is hashed or looked up.
pub(super) fn is_link_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}
