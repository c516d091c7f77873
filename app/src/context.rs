//! What the shell provides to every page and component of a request, loaded once: the signed-in
//! member and the site. Its own module so pages and components need not reach up to `app`.
use leptos::prelude::OnceResource;

use crate::{
    error::AppError,
    model::{SessionUser, SiteInfo},
};

/// The signed-in member for this request, loaded once and shared by the header and pages.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub OnceResource<Result<Option<SessionUser>, AppError>>);

/// The site's name and public address, for canonical URLs and OpenGraph tags.
#[derive(Clone, Copy)]
pub struct Site(pub OnceResource<Result<SiteInfo, AppError>>);
