//! `EXEC experiments.search`: experiments matching a filter, in pages, with
//! their tags. The `search_experiments` table function takes the same
//! arguments through [`request`].

use crate::procedures::prelude::*;
use crate::search::Search;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.search",
    summary: r#"Experiments matching a filter, newest first, in pages."#,
    params: &[
        Param::optional(
            "filter",
            Text,
            "On name, creation_time, last_update_time and tags.<key>.",
        ),
        Param::optional(
            "max_results",
            Integer,
            "Rows per page, 1 to 50000; default 1000.",
        ),
        Param::optional(
            "order_by",
            TextList,
            "Items like \"name ASC\"; default creation_time DESC.",
        ),
        Param::optional(
            "page_token",
            Text,
            "The next_page_token of the previous page.",
        ),
        Param::optional(
            "view_type",
            Text,
            "ACTIVE_ONLY (default), DELETED_ONLY or ALL.",
        ),
    ],
    example: r#"EXEC experiments.search @filter="name LIKE 'vision%' OR tags.team = 'nlp'" @order_by='["name"]';"#,
    run: |store, args| Box::pin(run(store, args)),
};

/// The search the arguments describe.
pub fn request(args: &Args) -> Result<Search> {
    Ok(Search {
        filter: args.text("filter")?.unwrap_or_default(),
        order_by: args.text_list("order_by")?.unwrap_or_default(),
        max_results: crate::search::max_results(args.integer("max_results")?)
            .map_err(|e| e.prefixed("experiments.search @"))?,
        view_type: args.view_type("view_type")?,
        page_token: args.text("page_token")?,
        ..Search::experiments()
    })
}

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let page = store
        .search(&request(&args)?)
        .await
        .map_err(|e| e.prefixed("experiments.search @"))?;
    page.with_token_column()
}
