//! Searching runs and experiments through the store's own session.

use crate::error::{Result, RunqlError};
use crate::model::{Experiment, Run};
use crate::search::plan::{self, Found, Views};
use crate::search::{Page, Search, Target};
use crate::store::Store;

impl Store {
    /// Runs a search: MLflow's `SearchRuns` or `SearchExperiments`, with
    /// runql's filter extensions and keyset page tokens.
    pub async fn search(&self, search: &Search) -> Result<Page> {
        let ctx = self.query_context().await?;
        let views = Views::of(ctx).await?;
        plan::run(&ctx.state(), &views, search).await
    }

    /// A search's page as ids only, for callers that read whole entities.
    pub(crate) async fn search_ids(&self, search: &Search) -> Result<Found> {
        let ctx = self.query_context().await?;
        let views = Views::of(ctx).await?;
        plan::find(&ctx.state(), &views, search).await
    }

    /// A runs search's page as whole runs (MLflow's `SearchRuns` response),
    /// with the next page's token.
    pub async fn search_runs(&self, search: &Search) -> Result<(Vec<Run>, Option<String>)> {
        let found = self.search_ids(expect(search, Target::Runs)?).await?;
        Ok((self.get_runs(&found.ids).await?, found.next_page_token))
    }

    /// An experiments search's page as experiments with their tags, with the
    /// next page's token.
    pub async fn search_experiments(
        &self,
        search: &Search,
    ) -> Result<(Vec<Experiment>, Option<String>)> {
        let found = self
            .search_ids(expect(search, Target::Experiments)?)
            .await?;
        let mut experiments = Vec::new();
        for id in &found.ids {
            experiments.push(self.get_experiment(id).await?);
        }
        Ok((experiments, found.next_page_token))
    }
}

pub(crate) fn expect(search: &Search, target: Target) -> Result<&Search> {
    if search.target == target {
        Ok(search)
    } else {
        Err(RunqlError::internal(
            "searching",
            format!(
                "a {:?} search was given where a {target:?} search belongs",
                search.target
            ),
        ))
    }
}
