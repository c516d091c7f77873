//! The errors a user may see. Each carries a message written for people; the private cause
//! (a database error, say) is logged on the server and never crosses the wire.
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What a client refused with `AppError::Busy` is told to wait (its Retry-After), in seconds.
pub const BUSY_RETRY_AFTER_SECS: u32 = 2;

/// A form whose fields the server could not read: a page opened before an upgrade that changed
/// the form, or one edited by hand. serde's own words ("missing field `form_token`", or a
/// typed value echoed back) mean nothing to the person and are not theirs to see.
pub const FORM_UNREADABLE: &str =
    "This form is out of date or incomplete. Reload the page and send it again.";

/// How much of what was typed a form sent back with an error keeps, in bytes as the error is
/// written out (`in_form`).
pub const KEPT_MAX_BYTES: usize = 4000;

/// The bytes `value` takes inside a JSON string, where quotes, backslashes and control
/// characters are written escaped (found by an outside tester: 3,900 quotes made the error's
/// address twice as long as what was typed).
fn json_len(value: &str) -> usize {
    value
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input, tied to the form field it is about ("form" for the form as a whole).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// A form sent back to its page (a plain post, or several fields wrong at once): every
    /// field's error, which form on the page it was (`form`, e.g. `flag-12` when each post has
    /// its own flag form; empty when the page has one), and what was typed in the fields worth
    /// keeping (never a password), so the page shows the form as it was sent.
    #[error("{}", join_messages(errors))]
    Fields {
        form: String,
        errors: Vec<FieldError>,
        kept: Vec<(String, String)>,
    },
    /// The visitor must sign in first.
    #[error("{0}")]
    SignInRequired(String),
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Too many attempts for now; the message says when to try again.
    #[error("{0}")]
    TooMany(String),
    /// The server is too busy for this now (503, with Retry-After); the message says so.
    #[error("{0}")]
    Busy(String),
    /// Something broke on our side; details are in the server log.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The request never reached the rule (network, encoding).
    #[error("The request could not be completed: {0}")]
    Request(String),
}

/// One field's error in `AppError::Fields`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn join_messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl AppError {
    /// Several field errors at once; one error stays the plain `Invalid` it always was.
    pub fn fields(mut errors: Vec<AppError>) -> Result<(), AppError> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(AppError::Fields {
                form: String::new(),
                errors: errors
                    .into_iter()
                    .flat_map(AppError::into_field_errors)
                    .collect(),
                kept: Vec::new(),
            }),
        }
    }

    fn into_field_errors(self) -> Vec<FieldError> {
        match self {
            AppError::Invalid { field, message } => vec![FieldError { field, message }],
            AppError::Fields { errors, .. } => errors,
            other => vec![FieldError {
                field: "form".into(),
                message: other.to_string(),
            }],
        }
    }

    /// This error as the form `form` shows it, with the typed values in `kept`. Any error
    /// becomes field errors (one not about a field is the form's), so the page can put it in
    /// the form it came from and nowhere else.
    pub fn in_form(self, form: &str, kept: Vec<(String, String)>) -> AppError {
        // The error travels in the page's address, which the server caps at 8,000 characters
        // (a third more once encoded): what does not fit is not kept, the error is still said.
        // Only a hand-made request types that much into the fields a form keeps.
        let mut room = KEPT_MAX_BYTES;
        let kept = kept
            .into_iter()
            .filter(|(_, value)| {
                let size = json_len(value);
                let fits = size <= room;
                room -= if fits { size } else { 0 };
                fits
            })
            .collect();
        AppError::Fields {
            form: form.to_string(),
            errors: self.into_field_errors(),
            kept,
        }
    }

    /// A form the server could not read (`FORM_UNREADABLE`): nothing in it said which of a
    /// page's forms it was, so every form that posts where it did shows it.
    pub fn is_unreadable(&self) -> bool {
        matches!(self, AppError::Invalid { message, .. } if message == FORM_UNREADABLE)
    }

    /// Whether this error belongs to the form `form` of the page (`""`: the page's only one).
    pub fn is_for_form(&self, form: &str) -> bool {
        match self {
            AppError::Fields { form: f, .. } => f == form,
            _ => form.is_empty(),
        }
    }

    /// What was typed in `field` when the form was sent, if the form keeps it.
    pub fn kept(&self, field: &str) -> Option<String> {
        match self {
            AppError::Fields { kept, .. } => kept
                .iter()
                .find(|(name, _)| name == field)
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The message to show next to `field`, if this error is about it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            AppError::Fields { errors, .. } => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// The message to show at the top of a form: anything not tied to one of `fields`.
    pub fn for_form(&self, fields: &[&str]) -> Option<String> {
        match self {
            AppError::Invalid { field, .. } if fields.contains(&field.as_str()) => None,
            AppError::Fields { errors, .. } => {
                let rest: Vec<FieldError> = errors
                    .iter()
                    .filter(|e| !fields.contains(&e.field.as_str()))
                    .cloned()
                    .collect();
                (!rest.is_empty()).then(|| join_messages(&rest))
            }
            other => Some(other.to_string()),
        }
    }

    /// The HTTP status a script client gets with this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::Fields { .. } | AppError::Request(_) => 400,
            AppError::SignInRequired(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::TooMany(_) => 429,
            AppError::Internal => 500,
            AppError::Busy(_) => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Raised on the server as it decodes what the form sent.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::invalid("form", FORM_UNREADABLE)
            }
            other => AppError::Request(other.to_string()),
        }
    }

    /// Every server function's error passes through here on its way out, reads and writes
    /// alike: the one place that gives the answer its status (a 404 or 403, not the 500 the
    /// server-function layer would send for any error).
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        set_error_status(self);
        <JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(self)
            .unwrap_or_else(|_| leptos::server_fn::Bytes::from_static(b"\"Internal\""))
    }
}

/// Gives an error its HTTP status for script clients. A plain HTML form post is left alone:
/// it must stay a redirect back to the form, which carries the error in its URL.
#[cfg(feature = "ssr")]
pub fn set_error_status(err: &AppError) {
    use axum::http::{StatusCode, header::ACCEPT};
    use leptos::prelude::use_context;
    let is_form_post = use_context::<axum::http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false);
    if let (false, Some(res), Ok(status)) = (
        is_form_post,
        use_context::<leptos_axum::ResponseOptions>(),
        StatusCode::from_u16(err.status()),
    ) {
        res.set_status(status);
        if let AppError::Busy(_) = err {
            res.insert_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::{AppError, KEPT_MAX_BYTES, json_len};

    #[test]
    fn a_kept_value_is_measured_as_json_writes_it() {
        for value in [
            "plain",
            "é and 😀",
            "\"quoted\" \\ back",
            "\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}",
        ] {
            let written = serde_json::to_string(value).unwrap();
            assert_eq!(json_len(value), written.len() - 2, "{value:?}");
        }
        let kept = |value: String| match AppError::invalid("reason", "No")
            .in_form("f", vec![("reason".into(), value)])
        {
            AppError::Fields { kept, .. } => kept.len(),
            _ => unreachable!(),
        };
        assert_eq!(kept("x".repeat(KEPT_MAX_BYTES)), 1);
        assert_eq!(kept("\"".repeat(KEPT_MAX_BYTES / 2 + 1)), 0);
        assert_eq!(kept("\u{1}".repeat(KEPT_MAX_BYTES / 6 + 1)), 0);
    }
}
