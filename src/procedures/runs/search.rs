//! `EXEC runs.search`: runs of some experiments, newest first, in pages.

use datafusion::common::ScalarValue;

use crate::model::ViewType;
use crate::procedures::prelude::*;
use crate::search::filter;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.search",
    summary: "Runs of the given experiments, newest first.",
    params: &[
        Param::optional(
            "experiment_ids",
            TextList,
            "Experiments to search; default all.",
        ),
        Param::optional(
            "filter",
            Text,
            "An MLflow filter expression (not yet supported).",
        ),
        Param::optional(
            "max_results",
            Integer,
            "Rows per page, 1 to 50000; default 1000.",
        ),
        Param::optional(
            "order_by",
            TextList,
            "Ordering (not yet supported; newest first).",
        ),
        Param::optional("page_token", Text, "Not yet supported."),
        Param::optional(
            "run_view_type",
            Text,
            "ACTIVE_ONLY (default), DELETED_ONLY or ALL.",
        ),
    ],
    example: r#"EXEC runs.search @experiment_ids='["1"]' @filter="metrics.val_loss < 0.5 and params.optimizer = 'adam'" @max_results=100;"#,
    run: |store, args| Box::pin(run(store, args)),
};

const MAX_RESULTS: i64 = 50_000;

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    for unsupported in ["order_by", "page_token"] {
        if args
            .text(unsupported)
            .ok()
            .flatten()
            .is_some_and(|v| !v.is_empty())
            || args
                .text_list(unsupported)
                .ok()
                .flatten()
                .is_some_and(|v| !v.is_empty())
        {
            return Err(RunqlError::invalid(format!(
                "runs.search does not support @{unsupported} yet; query the runs, params, tags and latest_metrics tables with SQL instead"
            )));
        }
    }
    let max_results = args.integer("max_results")?.unwrap_or(1000);
    if !(1..=MAX_RESULTS).contains(&max_results) {
        return Err(RunqlError::invalid(format!(
            "runs.search @max_results must be between 1 and {MAX_RESULTS}, got {max_results}"
        )));
    }
    let view = args
        .text("run_view_type")?
        .map(|v| v.parse::<ViewType>())
        .transpose()?
        .unwrap_or(ViewType::ActiveOnly);
    let stages = match view {
        ViewType::ActiveOnly => "'active'",
        ViewType::DeletedOnly => "'deleted'",
        ViewType::All => "'active', 'deleted'",
    };
    let experiments = args.text_list("experiment_ids")?.unwrap_or_default();
    let list = ScalarValue::List(ScalarValue::new_list_nullable(
        &experiments
            .iter()
            .map(|e| result::text(e))
            .collect::<Vec<_>>(),
        &datafusion::arrow::datatypes::DataType::Utf8,
    ));
    let conditions = filter::parse(&args.text("filter")?.unwrap_or_default())
        .map_err(|e| RunqlError::invalid(format!("runs.search @filter: {e}")))?;
    let (predicate, mut params) = filter::compile(&conditions, 2);
    params.insert(0, list);
    result::query(
        &store,
        &format!(
            "SELECT * FROM runs r WHERE r.lifecycle_stage IN ({stages}) \
             AND (cardinality($1) = 0 OR array_has($1, r.experiment_id)) AND {predicate} \
             ORDER BY r.start_time DESC, r.run_id LIMIT {max_results}"
        ),
        params,
    )
    .await
}
