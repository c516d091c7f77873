use leptos::prelude::*;

use crate::{error::AppError, model::CategorySummary};

#[server(endpoint = "categories")]
pub async fn list_categories() -> Result<Vec<CategorySummary>, AppError> {
    crate::server::forum::list_categories(&crate::server::state::db()?).await
}
