//! The SQL tables: the raw Delta tables under the `raw` schema, and the views
//! of `views.sql` that fold them into the tables users query.

mod live;
mod search;

use std::sync::Arc;

use datafusion::prelude::SessionContext;

use crate::error::{Context, Result};
use crate::store::Store;
use crate::store::schema::RawTable;

/// The folding views, shared by runql, compaction and other engines.
pub const VIEWS_SQL: &str = include_str!("views.sql");

/// The view names users query, in the order `views.sql` defines them.
pub const USER_TABLES: &[&str] = &[
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "metrics",
    "latest_metrics",
    "inputs",
    "model_links",
    "logged_models",
    "logged_model_params",
    "logged_model_tags",
    "logged_model_metrics",
    "runs_wide",
    "runs_long",
    "metric_summary",
];

fn statements() -> impl Iterator<Item = String> {
    let without_comments: String = VIEWS_SQL
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The statements that define `fold.<table>` (and the schema it lives in).
pub(crate) fn fold_sql(kind: RawTable) -> String {
    let view = format!("CREATE VIEW fold.{} AS", kind.name());
    statements()
        .filter(|s| {
            s.trim_start().starts_with("CREATE SCHEMA") || s.trim_start().starts_with(&view)
        })
        .collect::<Vec<_>>()
        .join(";\n")
}

/// Registers the store's tables in `ctx`: `raw.<table>` for each Delta table,
/// the views `experiments`, `runs`, `metrics`, `latest_metrics`, … on top, and
/// the table functions `search_runs(…)` and `search_experiments(…)`.
/// Every scan reads the tables as of that moment, so writes made through any
/// handle or process are visible to the next query.
///
/// It also turns off `datafusion.optimizer.enable_leaf_expression_pushdown` in
/// `ctx`: in DataFusion 55 that rule mis-plans map lookups such as
/// `params['lr']` on `runs_wide` across its joins ("ambiguous field").
pub async fn register(ctx: &SessionContext, store: &Store) -> Result<()> {
    let what = || "registering runql tables".to_string();
    execute_all(
        ctx,
        &[
            "SET datafusion.optimizer.enable_leaf_expression_pushdown = false",
            "CREATE SCHEMA IF NOT EXISTS raw",
        ],
    )
    .await?;
    for kind in RawTable::ALL {
        let provider = live::LiveTable::try_new(store.clone(), kind).await?;
        ctx.register_table(format!("raw.{}", kind.name()), Arc::new(provider))
            .context(what)?;
    }
    let views: Vec<String> = statements().collect();
    execute_all(ctx, &views.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    search::register(ctx).await
}

/// Runs statements that return nothing (DDL, SET) in order; an error names
/// the statement.
pub(crate) async fn execute_all(ctx: &SessionContext, statements: &[&str]) -> Result<()> {
    for statement in statements {
        let what = || format!("running {}", statement.trim());
        ctx.sql(statement)
            .await
            .context(what)?
            .collect()
            .await
            .context(what)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The folding rules checked on hand-built change rows, without Delta.

    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::{RawTable, statements};

    /// A raw `runs` change row: (run_id, status, run_name, seq, writer_id).
    type RunRow = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        i64,
        i64,
    );

    fn runs_batch(rows: &[RunRow]) -> RecordBatch {
        let schema = RawTable::Runs.schema();
        let n = rows.len();
        let nulls_text = || Arc::new(StringArray::from(vec![None::<&str>; n])) as ArrayRef;
        let nulls_time = || {
            Arc::new(TimestampMicrosecondArray::from(vec![None; n]).with_timezone("UTC"))
                as ArrayRef
        };
        let experiment: ArrayRef = Arc::new(StringArray::from(vec![Some("1"); n]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| Some(r.0)).collect::<Vec<_>>(),
            )),
            experiment,
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
            nulls_text(),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            nulls_time(),
            nulls_time(),
            nulls_text(),
            nulls_text(),
            nulls_time(),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            )),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    async fn context(runs: Vec<RecordBatch>) -> SessionContext {
        let ctx = SessionContext::new();
        ctx.sql("CREATE SCHEMA raw").await.unwrap();
        for kind in RawTable::ALL {
            let batches = if kind == RawTable::Runs {
                runs.clone()
            } else {
                vec![]
            };
            let table = MemTable::try_new(kind.schema(), vec![batches]).unwrap();
            ctx.register_table(format!("raw.{}", kind.name()), Arc::new(table))
                .unwrap();
        }
        for statement in statements() {
            ctx.sql(&statement).await.unwrap().collect().await.unwrap();
        }
        ctx
    }

    async fn show(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    const RUNS_QUERY: &str = "SELECT run_id, status, run_name FROM runs ORDER BY run_id";

    #[tokio::test]
    async fn each_run_field_is_its_latest_non_null_value() {
        let ctx = context(vec![runs_batch(&[
            ("a", Some("RUNNING"), Some("first"), 10, 1),
            ("a", Some("FINISHED"), None, 20, 1),
            ("a", None, Some("renamed"), 30, 2),
            ("b", Some("RUNNING"), Some("b"), 5, 1),
            // Same seq from two writers: the higher writer_id is newer.
            ("b", Some("KILLED"), None, 7, 1),
            ("b", Some("FAILED"), None, 7, 2),
        ])])
        .await;
        let shown = show(&ctx, RUNS_QUERY).await;
        assert!(
            shown.contains("| a      | FINISHED | renamed  |"),
            "{shown}"
        );
        assert!(
            shown.contains("| b      | FAILED   | b        |"),
            "{shown}"
        );
    }

    /// Folding what is there, then receiving a row stamped earlier than folded rows
    /// (a slow writer), must give the same answer as never having folded.
    #[tokio::test]
    async fn folding_then_a_late_row_matches_not_folding() {
        let early: &[RunRow] = &[
            ("a", Some("RUNNING"), Some("n1"), 10, 1),
            ("a", None, Some("n2"), 30, 1),
        ];
        let late: &[RunRow] = &[("a", Some("FINISHED"), None, 20, 2)];

        let unfolded = context(vec![runs_batch(early), runs_batch(late)]).await;
        let expected = show(&unfolded, RUNS_QUERY).await;
        assert!(expected.contains("FINISHED"), "{expected}");

        let folding = context(vec![runs_batch(early)]).await;
        let columns: Vec<String> = RawTable::Runs
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let folded = folding
            .sql(&format!("SELECT {} FROM fold.runs", columns.join(", ")))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut after = folded.clone();
        after.push(runs_batch(late));
        let refolded = context(after).await;
        assert_eq!(show(&refolded, RUNS_QUERY).await, expected);
    }
}
