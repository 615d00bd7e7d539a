//! The SQL tables: the raw Delta tables under the `raw` schema, and the views
//! of `views.sql` that fold them into the tables users query.

mod live;

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
        .filter(|s| s.trim_start().starts_with("CREATE SCHEMA") || s.trim_start().starts_with(&view))
        .collect::<Vec<_>>()
        .join(";\n")
}

/// Registers the store's tables in `ctx`: `raw.<table>` for each Delta table and
/// the views `experiments`, `runs`, `metrics`, `latest_metrics`, … on top.
/// Every scan reads the tables as of that moment, so writes made through any
/// handle or process are visible to the next query.
pub async fn register(ctx: &SessionContext, store: &Store) -> Result<()> {
    let what = || "registering runql tables".to_string();
    ctx.sql("CREATE SCHEMA IF NOT EXISTS raw")
        .await
        .context(what)?
        .collect()
        .await
        .context(what)?;
    for kind in RawTable::ALL {
        let provider = live::LiveTable::try_new(store.clone(), kind).await?;
        ctx.register_table(format!("raw.{}", kind.name()), Arc::new(provider))
            .context(what)?;
    }
    for statement in statements() {
        ctx.sql(&statement)
            .await
            .context(|| format!("defining view: {}", statement.trim()))?
            .collect()
            .await
            .context(what)?;
    }
    Ok(())
}
