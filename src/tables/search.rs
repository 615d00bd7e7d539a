//! The table functions `search_runs(filter [, experiment_ids [, order_by [,
//! max_results [, view_type]]]])` and `search_experiments(filter [, order_by
//! [, max_results [, view_type]]])`: a search's page as a table to join and
//! aggregate. Arguments are positional constants, named after the matching
//! procedure's parameters and read by its own `request`, so the table form
//! and `EXEC` cannot drift apart.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use serde_json::{Map, Value};

use crate::error::{Context, Result, RunqlError};
use crate::procedures::{Args, Procedure};
use crate::search::plan::{self, Views};
use crate::search::{Search, Target};
use crate::sql::session::scalar_to_json;

/// One table function: its SQL name, the procedure whose parameters it takes
/// positionally, and that procedure's request decoder.
struct Signature {
    name: &'static str,
    target: Target,
    procedure: &'static Procedure,
    positional: &'static [&'static str],
    request: fn(&Args) -> Result<Search>,
}

const FUNCTIONS: [Signature; 2] = [
    Signature {
        name: "search_runs",
        target: Target::Runs,
        procedure: &crate::procedures::runs::search::PROCEDURE,
        positional: &[
            "filter",
            "experiment_ids",
            "order_by",
            "max_results",
            "run_view_type",
        ],
        request: crate::procedures::runs::search::request,
    },
    Signature {
        name: "search_experiments",
        target: Target::Experiments,
        procedure: &crate::procedures::experiments::search::PROCEDURE,
        positional: &["filter", "order_by", "max_results", "view_type"],
        request: crate::procedures::experiments::search::request,
    },
];

/// Registers the search table functions in `ctx`, over the views already
/// registered there.
pub async fn register(ctx: &SessionContext) -> Result<()> {
    let views = Views::of(ctx).await?;
    for signature in &FUNCTIONS {
        let schema = plan::result_schema(&views, signature.target)?;
        ctx.register_udtf(
            signature.name,
            Arc::new(SearchFunction {
                signature,
                views: views.clone(),
                schema,
            }),
        );
    }
    Ok(())
}

struct SearchFunction {
    signature: &'static Signature,
    views: Views,
    schema: SchemaRef,
}

impl std::fmt::Debug for SearchFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}()", self.signature.name)
    }
}

impl SearchFunction {
    fn search(&self, exprs: &[Expr]) -> Result<Search> {
        let signature = self.signature;
        if exprs.len() > signature.positional.len() {
            return Err(RunqlError::invalid(format!(
                "takes at most {} arguments ({}), got {}",
                signature.positional.len(),
                signature.positional.join(", "),
                exprs.len()
            )));
        }
        let mut values = Map::new();
        for (expr, name) in exprs.iter().zip(signature.positional) {
            let value = constant(expr).ok_or_else(|| {
                RunqlError::invalid(format!("argument {name} must be a constant, got {expr}"))
            })?;
            values.insert(name.to_string(), value);
        }
        (signature.request)(&Args::new(signature.procedure, values)?)
    }
}

/// A constant argument as the JSON value a procedure argument would be:
/// literals, negated numbers and `[…]` arrays of constants.
fn constant(expr: &Expr) -> Option<Value> {
    match expr {
        Expr::Literal(value, _) => Some(scalar_to_json(value)),
        Expr::Negative(inner) => match constant(inner)? {
            Value::Number(n) => n
                .as_i64()
                .map(|i| Value::from(-i))
                .or_else(|| n.as_f64().map(|f| Value::from(-f))),
            _ => None,
        },
        Expr::ScalarFunction(call) if call.name() == "make_array" => Some(Value::Array(
            call.args.iter().map(constant).collect::<Option<_>>()?,
        )),
        _ => None,
    }
}

impl TableFunctionImpl for SearchFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let search = self.search(args.exprs()).map_err(|e| {
            DataFusionError::External(Box::new(e.prefixed(&format!("{} ", self.signature.name))))
        })?;
        Ok(Arc::new(SearchTable {
            search,
            views: self.views.clone(),
            schema: self.schema.clone(),
        }))
    }
}

/// One call's result: the search runs when the query is executed.
#[derive(Debug)]
struct SearchTable {
    search: Search,
    views: Views,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for SearchTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let external = |e: RunqlError| DataFusionError::External(Box::new(e));
        let page = plan::run(state, &self.views, &self.search)
            .await
            .map_err(external)?;
        let rows = RecordBatch::try_new(self.schema.clone(), page.rows.columns().to_vec())
            .context(|| "shaping search results".to_string())
            .map_err(external)?;
        let plan: Arc<dyn ExecutionPlan> = MemorySourceConfig::try_new_exec(
            &[vec![rows]],
            self.schema.clone(),
            projection.cloned(),
        )?;
        Ok(plan)
    }
}
