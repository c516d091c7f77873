//! Reply by e-mail and bounces: what `backyard receive-mail` does with one message.
pub mod parse;
