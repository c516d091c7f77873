//! Uploads: the rules, on a fresh database.
