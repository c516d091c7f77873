//! Files over HTTP: uploads (POST /uploads, multipart, for the composers' script and the avatar
//! form), stored files (GET /uploads/<id>/…), and the image proxy (GET /images/proxy/…). The
//! rules are app::server::uploads; this is the wiring: who is asking, the multipart stream and
//! its limits, and the headers a file is served with.
use app::{
    error::AppError,
    model::{UploadAnswer, Uploaded},
    server::{
        state::{AppState, member_of},
        uploads::{self, Incoming, Purpose, Variant},
    },
};
use axum::{
    Json,
    body::Bytes,
    extract::{Multipart, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::ServerFnUrlError;
use tower_sessions::Session;

/// The most one upload request may carry, all files together; each file is held to the site's
/// per-file limit as it streams in.
pub const MAX_REQUEST_BYTES: usize = 110 * 1024 * 1024;

/// The policy every stored file is served with: nothing in it runs, loads or frames anything,
/// even if a browser were persuaded to render it as a page.
const FILE_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

fn answer(status: StatusCode, uploaded: Vec<Uploaded>, error: Option<String>) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(UploadAnswer { uploaded, error }),
    )
        .into_response()
}

fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// The files of a multipart body (the `file` fields, at most `MAX_FILES_PER_REQUEST`, each
/// within `max_bytes`) and its text fields. Nothing is kept here: a refusal leaves no trace.
pub struct Received {
    pub files: Vec<Incoming>,
    pub fields: Vec<(String, String)>,
}

pub async fn receive(mut multipart: Multipart, max_bytes: u64) -> Result<Received, AppError> {
    let bad = |m: &str| AppError::invalid("file", m);
    let mut received = Received {
        files: Vec::new(),
        fields: Vec::new(),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return Err(bad(&format!(
                    "The upload did not arrive whole ({}). Try again.",
                    e.body_text()
                )));
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                // A file field left empty in a form arrives as a part with no name and no bytes.
                if file_name.is_empty() && name != "file" && name != "files" {
                    continue;
                }
                if received.files.len() == uploads::MAX_FILES_PER_REQUEST {
                    return Err(bad(uploads::TOO_MANY_FILES));
                }
                let mut field = field;
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                                return Err(bad(&format!(
                                    "“{}” is over {}, the most this site takes in one file.",
                                    file_name.chars().take(80).collect::<String>(),
                                    uploads::human_size(max_bytes)
                                )));
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            return Err(bad(&format!(
                                "The upload did not arrive whole ({}). Try again.",
                                e.body_text()
                            )));
                        }
                    }
                }
                if file_name.is_empty() && bytes.is_empty() {
                    continue; // the form's file field, left empty
                }
                received.files.push(Incoming {
                    name: file_name,
                    bytes: Bytes::from(bytes),
                });
            }
            None => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| bad("The form did not arrive whole. Try again."))?;
                received.fields.push((name, text));
            }
        }
    }
    Ok(received)
}

/// POST /uploads: files for the composer (`purpose=post`, the default), the member's avatar
/// (`purpose=avatar`) or an admin's logo or favicon (`purpose=brand`, `setting=logo_light`...). JSON back: what was kept, and why the first refused file was refused;
/// the avatar form on /account and the brand image form on /admin/settings, posted by a browser
/// without JavaScript, are sent back there instead (`back_to_form`).
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let taken = take(&state, &session, multipart).await;
    if asks_for_a_page(&headers) && taken.purpose == Some(Purpose::Brand) {
        return back_to_form(taken, "/admin/settings", "brand");
    }
    if asks_for_a_page(&headers) && taken.purpose != Some(Purpose::Post) {
        return back_to_form(taken, "/account", "avatar");
    }
    answer(taken.status, taken.uploaded, taken.error)
}

/// What an upload request came to.
struct Taken {
    status: StatusCode,
    uploaded: Vec<Uploaded>,
    error: Option<String>,
    /// None when the request was refused before its fields were read.
    purpose: Option<Purpose>,
}

async fn take(state: &AppState, session: &Session, multipart: Multipart) -> Taken {
    let refused = |status: StatusCode, error: String| Taken {
        status,
        uploaded: Vec::new(),
        error: Some(error),
        purpose: None,
    };
    let member = match member_of(session, &state.db).await {
        Ok(Some(member)) => member,
        Ok(None) => return refused(StatusCode::UNAUTHORIZED, uploads::SIGNED_OUT.into()),
        Err(e) => return refused(status_of(&e), e.to_string()),
    };
    let rules = match uploads::rules(&state.db).await {
        Ok(rules) => rules,
        Err(e) => return refused(status_of(&e), e.to_string()),
    };
    // Refused before a byte is read: a suspended member's request is not even received.
    if let Err(e) = uploads::check_may_upload(&member, &rules) {
        return refused(status_of(&e), e.to_string());
    }
    let received = match receive(multipart, rules.max_file_bytes).await {
        Ok(r) => r,
        Err(e) => return refused(status_of(&e), e.to_string()),
    };
    let purpose = match received
        .fields
        .iter()
        .find(|(k, _)| k == "purpose")
        .map(|(_, v)| v.as_str())
    {
        None | Some("post") => Purpose::Post,
        Some("avatar") => Purpose::Avatar,
        Some("brand") => Purpose::Brand,
        Some(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Unknown purpose for an upload.".into(),
            );
        }
    };
    let refused = |status: StatusCode, error: &str| Taken {
        status,
        uploaded: Vec::new(),
        error: Some(error.to_string()),
        purpose: Some(purpose),
    };
    if received.files.is_empty() {
        return refused(
            StatusCode::BAD_REQUEST,
            if purpose == Purpose::Avatar {
                "Choose a picture for your avatar."
            } else {
                "Choose a file to upload."
            },
        );
    }
    if purpose == Purpose::Avatar && received.files.len() > 1 {
        return refused(
            StatusCode::BAD_REQUEST,
            "Choose one picture for your avatar.",
        );
    }
    // A brand image: checked (admins, and which image) before the file is kept, so a refusal
    // stores nothing; one file, set as that image once kept.
    let brand_setting = received
        .fields
        .iter()
        .find(|(k, _)| k == "setting")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if purpose == Purpose::Brand {
        if let Err(e) = app::server::admin::may_set_brand_image(&member, &brand_setting) {
            return refused(status_of(&e), &e.to_string());
        }
        if received.files.len() > 1 {
            return refused(StatusCode::BAD_REQUEST, "Choose one image.");
        }
    }
    let mut kept = Vec::new();
    for file in received.files {
        match uploads::accept(&state.db, state.files.as_ref(), &member, file, purpose).await {
            Ok(u) if purpose == Purpose::Brand => {
                let set =
                    app::server::admin::set_brand_image(&state.db, &member, &brand_setting, &u.url)
                        .await;
                if let Err(e) = set {
                    return refused(status_of(&e), &e.to_string());
                }
                kept.push(u)
            }
            Ok(u) => kept.push(u),
            Err(e) => {
                let status = if kept.is_empty() {
                    status_of(&e)
                } else {
                    StatusCode::OK
                };
                return Taken {
                    status,
                    uploaded: kept,
                    error: Some(e.to_string()),
                    purpose: Some(purpose),
                };
            }
        }
    }
    Taken {
        status: StatusCode::OK,
        uploaded: kept,
        error: None,
        purpose: Some(purpose),
    }
}

/// A browser's plain form asks for a page (`Accept: text/html`); the composer's script asks
/// for JSON.
fn asks_for_a_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// The avatar form's answer without JavaScript: 303 back to /account, saying it was saved; or
/// with why not, carried as a server function's error is (`__path=/uploads`, `__err`), which
/// the form-error layer signs for this browser and the page shows next to the file field (a
/// URL someone else wrote shows nothing). A visitor is sent to log in first.
/// The brand image form on /admin/settings is answered the same way, at its own `section`.
fn back_to_form(taken: Taken, page: &str, section: &str) -> Response {
    let location = match taken.error {
        None => format!("{page}?{section}=saved#{section}"),
        Some(_) if taken.status == StatusCode::UNAUTHORIZED => format!("/login?next={page}"),
        Some(why) => {
            let error = AppError::invalid("file", why);
            match ServerFnUrlError::new("/uploads", error).to_url(&format!("http://site{page}")) {
                Ok(url) => format!("{page}?{}#{section}", url.query().unwrap_or_default()),
                Err(_) => format!("{page}#{section}"),
            }
        }
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// A multipart post to a path that takes files: the upload endpoint, and the composers' server
/// functions, whose no-JavaScript forms carry their files with the text (`composer_files`).
/// security::request_shape lets these stream in instead of buffering them under its 2 MB cap.
pub fn takes_files(req: &axum::extract::Request) -> bool {
    let path = req.uri().path();
    req.method() == axum::http::Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"))
        && (path == "/uploads" || COMPOSER_PATHS.contains(&path))
}

/// A refusal as plain text, like the router's other refusals.
fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

/// The server functions of the forms that have a file field.
pub const COMPOSER_PATHS: &[&str] = &[
    "/api/reply",
    "/api/start_topic",
    "/api/edit_post",
    "/api/save_article",
];

/// A composer's form posted without JavaScript, with files (multipart): the files are taken as
/// uploads (as the script would have, one request each), their Markdown is added to the end of
/// the text, and the form goes on to its server function as the urlencoded form it expects.
/// "Upload" (`attach`) comes back to the editor with the text and a preview instead of posting;
/// a refused file comes back with why (`upload_error`), the text and the taken files kept.
pub async fn composer_files(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::extract::FromRequest;
    if !takes_files(&req) || req.uri().path() == "/uploads" {
        return next.run(req).await;
    }
    let session = req.extensions().get::<Session>().cloned();
    let (parts, body) = req.into_parts();
    let multipart_req = axum::extract::Request::from_parts(parts.clone(), body);
    // `Multipart` holds its body to axum's default limit (2 MB) unless a `DefaultBodyLimit`
    // layer says otherwise, and this middleware sits outside every route (the one on POST
    // /uploads is not seen here): without this, any form with a file over 2 MB was refused as
    // "did not arrive whole". The request's size is already held to MAX_REQUEST_BYTES
    // (security::request_shape) and each file to the site's limit (`receive`).
    let limited = tower::Layer::layer(
        &axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES),
        tower::service_fn(|req: axum::extract::Request| async move {
            Multipart::from_request(req, &()).await
        }),
    );
    let multipart = match tower::ServiceExt::oneshot(limited, multipart_req).await {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let member = match &session {
        Some(session) => member_of(session, &state.db).await.ok().flatten(),
        None => None,
    };
    let rules = match uploads::rules(&state.db).await {
        Ok(r) => r,
        Err(_) => return internal(),
    };
    let (mut fields, files, mut problem) = match receive(multipart, rules.max_file_bytes).await {
        Ok(r) => (r.fields, r.files, None),
        // The form's text is lost with a broken body; say so rather than post half of it.
        Err(e) => return refuse(status_of(&e), &e.to_string()),
    };
    if fields
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The form holds a NUL character, which no field takes.",
        );
    }
    let mut markdown = Vec::new();
    if !files.is_empty() {
        // Files are taken from members only: a visitor is told, with the text kept, to log in
        // and attach them again.
        if member.is_none() {
            problem = Some(format!(
                "{} Your text is kept: log in, then attach the file again.",
                uploads::SIGNED_OUT
            ));
        }
        if let Some(member) = &member {
            for file in files {
                match uploads::accept(&state.db, state.files.as_ref(), member, file, Purpose::Post)
                    .await
                {
                    Ok(u) => markdown.push(u.markdown),
                    Err(e) => {
                        problem = Some(e.to_string());
                        break;
                    }
                }
            }
        }
    }
    if !markdown.is_empty() {
        let added = markdown.join("\n\n");
        match fields.iter_mut().find(|(k, _)| k == "body") {
            Some((_, body)) => {
                let trimmed = body.trim_end().len();
                body.truncate(trimmed);
                if !body.is_empty() {
                    body.push_str("\n\n");
                }
                body.push_str(&added);
            }
            None => fields.push(("body".into(), added)),
        }
    }
    let attach = fields.iter().any(|(k, _)| k == "attach");
    fields.retain(|(k, _)| k != "attach" && k != "upload_error");
    if let Some(why) = problem {
        fields.push(("upload_error".into(), why));
    } else if attach && !fields.iter().any(|(k, _)| k == "preview") {
        fields.push(("preview".into(), "1".into()));
    }
    let encoded = form_urlencoded(&fields);
    let mut parts = parts;
    parts.extensions.insert(app::server::uploads::FilesTaken);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(encoded.len() as u64),
    );
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(encoded),
    ))
    .await
}

fn form_urlencoded(fields: &[(String, String)]) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, FILE_CSP),
        ],
        uploads::NOT_FOUND,
    )
        .into_response()
}

/// Which stored copy a path under /uploads/<id>/ asks for: `<name>` the file, `thumb/<name>`
/// its thumbnail, `avatar/<size>` an avatar size.
fn variant_of(rest: &str) -> Option<Variant> {
    match rest.split_once('/') {
        None if !rest.is_empty() => Some(Variant::Main),
        Some(("thumb", name)) if !name.is_empty() && !name.contains('/') => Some(Variant::Thumb),
        Some(("avatar", size)) => {
            let size: u32 = size.parse().ok()?;
            media::image::AVATAR_SIZES
                .contains(&size)
                .then_some(Variant::Avatar(size))
        }
        _ => None,
    }
}

fn takes_webp(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("image/webp"))
}

/// `filename*=` for a Content-Disposition: UTF-8, percent-encoded (RFC 6266 / 5987), with a
/// plain ASCII `filename=` for old clients. The name was checked (no separators or control
/// characters) when it was uploaded; it is encoded here all the same.
fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = uploads::url_name(name);
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// GET /uploads/<id>/<rest>: a stored file, for whoever may see it; "not found" to anyone else,
/// as for no file at all.
pub async fn serve(
    State(state): State<AppState>,
    session: Session,
    Path((id, rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (Ok(id), Some(variant)) = (id.parse::<i64>(), variant_of(&rest)) else {
        return not_found();
    };
    let viewer = match member_of(&session, &state.db).await {
        Ok(v) => v,
        Err(_) => return internal(),
    };
    let (row, file) = match uploads::visible(&state.db, id, viewer.as_ref()).await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => return not_found(),
        Err(_) => return internal(),
    };
    let Some(kind) = uploads::kind_of(&file.kind) else {
        return not_found();
    };
    let avatar = row.purpose == Purpose::Avatar.as_str();
    let (variant, content_type) = match variant {
        Variant::Avatar(_) if !avatar => return not_found(),
        Variant::Avatar(size) => (Variant::Avatar(size), "image/webp"),
        _ if avatar => return not_found(),
        Variant::Thumb if !file.has_thumb => return not_found(),
        Variant::Thumb => (Variant::Thumb, "image/webp"),
        Variant::Main if file.has_webp && takes_webp(&headers) => (Variant::Webp, "image/webp"),
        _ => (Variant::Main, kind.mime()),
    };
    let etag = format!("\"{}-{variant:?}\"", &file.hash[..16]).replace(['(', ')'], "");
    let vary = file.has_webp && matches!(variant, Variant::Main | Variant::Webp);
    let mut common = vec![
        (header::ETAG, etag.clone()),
        // The bytes at an address never change (a new upload is a new address), so a browser
        // keeps them; `private` so that no shared cache keeps serving a file after its post is
        // hidden, which the site answers with "not found" from then on.
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_string(),
        ),
        (header::CONTENT_SECURITY_POLICY, FILE_CSP.to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ];
    if vary {
        common.push((header::VARY, "Accept".to_string()));
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        for (k, v) in common {
            if let Ok(v) = HeaderValue::from_str(&v) {
                res.headers_mut().insert(k, v);
            }
        }
        return res;
    }
    let bytes = match uploads::read(state.files.as_ref(), &file.hash, variant).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            tracing::error!(hash = %file.hash, ?variant, "a stored file is missing from the store");
            return not_found();
        }
        Err(_) => return internal(),
    };
    // Images show in the page; anything else is only ever a download, whatever it holds.
    let disposition = if kind.is_image() || avatar {
        disposition("inline", &row.name)
    } else {
        disposition("attachment", &row.name)
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    for (k, v) in common {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn internal() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CACHE_CONTROL, "no-store")],
        "Something went wrong on our side.",
    )
        .into_response()
}

/// GET /images/proxy/<signature>/<address>: an image from another site, fetched once by this
/// site and served from here.
pub async fn proxy(
    State(state): State<AppState>,
    Path((signature, encoded)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(key) = uploads::proxy::key(&state.db).await else {
        return internal();
    };
    let Some(url) = uploads::proxy::address_of(&key, &signature, &encoded)
        .filter(|url| !uploads::proxy::is_this_sites(url, &state.config.public_url))
    else {
        return not_found();
    };
    let file = match uploads::proxy::image(&state.db, state.files.as_ref(), &url).await {
        Ok(file) => file,
        Err(AppError::NotFound(_)) => return not_found(),
        Err(_) => return internal(),
    };
    let Some(kind) = uploads::kind_of(&file.kind) else {
        return not_found();
    };
    let (variant, content_type) = if file.has_webp && takes_webp(&headers) {
        (Variant::Webp, "image/webp")
    } else {
        (Variant::Main, kind.mime())
    };
    let bytes = match uploads::read(state.files.as_ref(), &file.hash, variant).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return not_found(),
        Err(_) => return internal(),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"image\""),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_one_copy_each() {
        assert_eq!(variant_of("shot.png"), Some(Variant::Main));
        assert_eq!(variant_of("thumb/shot.png"), Some(Variant::Thumb));
        assert_eq!(variant_of("avatar/96"), Some(Variant::Avatar(96)));
        for no in ["", "avatar/97", "avatar/x", "thumb/", "a/b/c", "thumb/a/b"] {
            assert_eq!(variant_of(no), None, "{no}");
        }
    }

    #[test]
    fn download_names_are_encoded() {
        let d = disposition("attachment", "rapport d\"été.pdf");
        assert!(d.starts_with("attachment; filename=\"rapport-d--t-.pdf\"; filename*=UTF-8''rapport%20d%22%C3%A9t%C3%A9.pdf"), "{d}");
    }
}
