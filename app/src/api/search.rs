//! Search and the similar topics a composer shows. Both are reads of public content: open to
//! visitors, nothing written.
use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{SearchRequest, SearchResults, SimilarTopic},
};

#[cfg(feature = "ssr")]
use crate::server::state;

#[server(endpoint = "search")]
pub async fn get_search_results(request: SearchRequest) -> Result<SearchResults, AppError> {
    crate::server::search::search(&state::db()?, request).await
}

/// Existing topics like a title being written (the composer asks as the member types). A GET:
/// a read, so it never counts against the limit on writes however long the title takes to type.
#[server(endpoint = "similar_topics", input = leptos::server_fn::codec::GetUrl)]
pub async fn similar_topics(title: String) -> Result<Vec<SimilarTopic>, AppError> {
    crate::server::search::similar(&state::db()?, &title).await
}
