//! Helpers the integration tests share: a session over a store's views, and
//! query results read back as strings.

use datafusion::arrow::array::Array;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use runql::Store;

/// A DataFusion session with the store's tables registered.
pub async fn context(store: &Store) -> SessionContext {
    let ctx = SessionContext::new();
    runql::register(&ctx, store).await.expect("register views");
    ctx
}

/// Runs SQL and returns every row as strings (NULL as "NULL"), in result order.
pub async fn sql(ctx: &SessionContext, query: &str) -> Vec<Vec<String>> {
    let batches = ctx
        .sql(query)
        .await
        .unwrap_or_else(|e| panic!("planning {query}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("running {query}: {e}"));
    let mut rows = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| {
                        if column.is_null(row) {
                            "NULL".to_string()
                        } else {
                            array_value_to_string(column, row).unwrap()
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// As [`sql`], rows sorted, so results compare regardless of order.
pub async fn sorted(ctx: &SessionContext, query: &str) -> Vec<Vec<String>> {
    let mut rows = sql(ctx, query).await;
    rows.sort();
    rows
}
