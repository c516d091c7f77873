//! Category colours: each category's colour is a custom property set by a class in the theme
//! stylesheet (components::theme, server::category_colours), never a style attribute, so the
//! Content-Security-Policy can refuse every inline style.
pub use crate::format::colour_class;
