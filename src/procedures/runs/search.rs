//! `EXEC runs.search`: runs matching a filter, in pages, with their params,
//! tags and latest metrics. The `search_runs` table function takes the same
//! arguments through [`request`].

use crate::procedures::prelude::*;
use crate::search::Search;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.search",
    summary: "Runs matching a filter, newest first, in pages.",
    params: &[
        Param::optional(
            "experiment_ids",
            TextList,
            "Experiments to search; default all.",
        ),
        Param::optional(
            "filter",
            Text,
            "MLflow's filter grammar plus OR, NOT, parentheses, IN and IS NULL.",
        ),
        Param::optional(
            "max_results",
            Integer,
            "Rows per page, 1 to 50000; default 1000.",
        ),
        Param::optional(
            "order_by",
            TextList,
            "Items like \"metrics.rmse ASC\"; default start_time DESC.",
        ),
        Param::optional(
            "page_token",
            Text,
            "The next_page_token of the previous page.",
        ),
        Param::optional(
            "run_view_type",
            Text,
            "ACTIVE_ONLY (default), DELETED_ONLY or ALL.",
        ),
    ],
    example: r#"EXEC runs.search @experiment_ids='["1"]' @filter="metrics.val_loss < 0.5 and params.optimizer = 'adam'" @order_by='["metrics.val_loss ASC"]' @max_results=100;"#,
    run: |store, args| Box::pin(run(store, args)),
};

/// The search the arguments describe.
pub fn request(args: &Args) -> Result<Search> {
    Ok(Search {
        experiment_ids: args.text_list("experiment_ids")?.unwrap_or_default(),
        filter: args.text("filter")?.unwrap_or_default(),
        order_by: args.text_list("order_by")?.unwrap_or_default(),
        max_results: crate::search::max_results(args.integer("max_results")?)
            .map_err(|e| e.prefixed("runs.search @"))?,
        view_type: args.view_type("run_view_type")?,
        page_token: args.text("page_token")?,
        ..Search::runs()
    })
}

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let page = store
        .search(&request(&args)?)
        .await
        .map_err(|e| e.prefixed("runs.search @"))?;
    page.with_token_column()
}
