//! Searching runs and experiments: MLflow's filter grammar and more, parsed
//! into a typed AST ([`filter`]), compiled to DataFusion plans ([`plan`]) and
//! paged by keyset tokens ([`page`]). `EXEC runs.search`, `EXEC
//! experiments.search`, the `search_runs` / `search_experiments` table
//! functions and [`Store::search`](crate::Store::search) all run
//! [`plan::run`].

pub mod filter;
mod lexer;
mod page;
pub mod plan;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Context, Result, RunqlError};

pub use filter::Target;
pub use plan::{DEFAULT_MAX_RESULTS, MAX_RESULTS, Page, Search};

/// Checks a requested page size: 1 to [`MAX_RESULTS`].
pub fn max_results(requested: Option<i64>) -> Result<usize> {
    let requested = requested.unwrap_or(DEFAULT_MAX_RESULTS as i64);
    usize::try_from(requested)
        .ok()
        .filter(|n| (1..=MAX_RESULTS).contains(n))
        .ok_or_else(|| {
            RunqlError::invalid(format!(
                "max_results must be between 1 and {MAX_RESULTS}, got {requested}"
            ))
        })
}

impl Page {
    /// The rows with a `next_page_token` column, the same on every row, so a
    /// script can chain `@page_token=@next_page_token`.
    pub fn with_token_column(self) -> Result<RecordBatch> {
        let rows = self.rows.num_rows();
        let token: ArrayRef = Arc::new(StringArray::from(vec![
            self.next_page_token.as_deref();
            rows
        ]));
        let mut fields = self.rows.schema().fields().to_vec();
        fields.push(Arc::new(Field::new(
            "next_page_token",
            DataType::Utf8,
            true,
        )));
        let mut columns = self.rows.columns().to_vec();
        columns.push(token);
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .context(|| "adding the next page token".to_string())
    }
}
