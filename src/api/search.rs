//! Searching runs and experiments through the store's own session.

use crate::error::Result;
use crate::search::plan::{self, Views};
use crate::search::{Page, Search};
use crate::store::Store;

impl Store {
    /// Runs a search: MLflow's `SearchRuns` or `SearchExperiments`, with
    /// runql's filter extensions and keyset page tokens.
    pub async fn search(&self, search: &Search) -> Result<Page> {
        let ctx = self.query_context().await?;
        let views = Views::of(ctx).await?;
        plan::run(&ctx.state(), &views, search).await
    }
}
