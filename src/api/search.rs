//! Searching runs and experiments through the store's own session.

use crate::api::read::Rows;
use crate::error::{Result, RunqlError};
use crate::model::{Experiment, Run};
use crate::search::plan::{self, Views};
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

    /// A runs search's page as whole runs (MLflow's `SearchRuns` response),
    /// with the next page's token.
    pub async fn search_runs(&self, search: &Search) -> Result<(Vec<Run>, Option<String>)> {
        let page = self.search(expect(search, Target::Runs)?).await?;
        let ids = page_ids(&page, "run_id")?;
        Ok((self.get_runs(&ids).await?, page.next_page_token))
    }

    /// An experiments search's page as experiments with their tags, with the
    /// next page's token.
    pub async fn search_experiments(
        &self,
        search: &Search,
    ) -> Result<(Vec<Experiment>, Option<String>)> {
        let page = self.search(expect(search, Target::Experiments)?).await?;
        let mut experiments = Vec::new();
        for id in page_ids(&page, "experiment_id")? {
            experiments.push(self.get_experiment(&id).await?);
        }
        Ok((experiments, page.next_page_token))
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

fn page_ids(page: &Page, column: &str) -> Result<Vec<String>> {
    Ok(Rows::new(std::slice::from_ref(&page.rows))
        .strings(column)?
        .into_iter()
        .flatten()
        .collect())
}
