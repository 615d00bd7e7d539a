//! A SQL session over a store: what the REPL, scripts and embedding pipelines
//! run statements through.
//!
//! - `EXEC resource.method @arg=…` runs a procedure.
//! - `INSERT INTO` one of runql's tables goes through the import path.
//! - Anything else is DataFusion SQL over the registered tables.
//!
//! Chaining: the columns of the first row an `EXEC` returns become session
//! variables, so a script can go on with `@run_id`, `@experiment_id`, … in
//! later `EXEC` arguments and in SQL (`SELECT * FROM metrics WHERE run_id = @run_id`).
//! `SET @name = <expression>` sets one explicitly, e.g.
//! `SET @run_ids = (SELECT array_agg(run_id) FROM runs WHERE run_name LIKE 'adam%')`.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::execution::context::SessionContext;
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::variable::{VarProvider, VarType};
use futures::StreamExt;
use parking_lot::RwLock;
use serde_json::{Map, Value};

use crate::error::{Result, RunqlError};
use crate::procedures;
use crate::sql::exec::{ArgValue, ExecCall, code_start, parse_exec};
use crate::sql::insert;
use crate::sql::script::{Statement, split_statements};
use crate::store::Store;

/// The result of one statement: its rows, with the schema even when empty.
#[derive(Debug, Clone)]
pub struct Output {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Output {
    fn of(batch: RecordBatch) -> Self {
        Output {
            schema: batch.schema(),
            batches: vec![batch],
        }
    }

    pub fn row_count(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// `@name` values, shared with DataFusion so SQL can read them.
#[derive(Debug, Default)]
struct Variables(RwLock<HashMap<String, ScalarValue>>);

impl Variables {
    fn get(&self, name: &str) -> Option<ScalarValue> {
        self.0.read().get(&name.to_ascii_lowercase()).cloned()
    }
}

impl VarProvider for Variables {
    fn get_value(&self, var_names: Vec<String>) -> datafusion::error::Result<ScalarValue> {
        let name = var_names.join(".");
        let bare = name.trim_start_matches('@');
        self.get(bare).ok_or_else(|| {
            datafusion::error::DataFusionError::Plan(format!(
                "session variable @{bare} is not set; an EXEC sets one per column of its first row"
            ))
        })
    }

    fn get_type(&self, var_names: &[String]) -> Option<DataType> {
        let name = var_names.join(".");
        self.get(name.trim_start_matches('@'))
            .map(|v| v.data_type())
    }
}

#[derive(Clone)]
pub struct Session {
    store: Store,
    ctx: SessionContext,
    variables: Arc<Variables>,
}

impl Session {
    /// A session with the store's tables registered in a fresh DataFusion context
    /// that can also read files by path (`SELECT * FROM 'history.csv'`).
    pub async fn new(store: Store) -> Result<Self> {
        Self::with_context(store, SessionContext::new().enable_url_table()).await
    }

    /// A session on an existing context (an embedding pipeline's own).
    pub async fn with_context(store: Store, ctx: SessionContext) -> Result<Self> {
        crate::tables::register(&ctx, &store).await?;
        let variables = Arc::new(Variables::default());
        ctx.register_variable(VarType::UserDefined, variables.clone());
        Ok(Session {
            store,
            ctx,
            variables,
        })
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The value of a session variable, if set.
    pub fn variable(&self, name: &str) -> Option<ScalarValue> {
        self.variables.get(name.trim_start_matches('@'))
    }

    /// Runs every statement of a script in order, stopping at the first error,
    /// which names the statement's position.
    pub async fn run_script(&self, script: &str) -> Result<Vec<Output>> {
        let mut outputs = Vec::new();
        for statement in split_statements(script)? {
            outputs.push(self.run_statement(&statement).await?);
        }
        Ok(outputs)
    }

    /// Runs one statement of a script; errors say where it started.
    pub async fn run_statement(&self, statement: &Statement) -> Result<Output> {
        self.execute(&statement.text).await.map_err(|error| {
            let at = format!(
                "statement at line {}, column {}",
                statement.line, statement.column
            );
            match error {
                RunqlError::InvalidParameter(message) => {
                    RunqlError::invalid(format!("{at}: {message}"))
                }
                RunqlError::Internal { context, message } => RunqlError::Internal {
                    context: format!("{at}: {context}"),
                    message,
                },
                other => other,
            }
        })
    }

    /// Runs one statement. A panic while running it, in runql or in
    /// DataFusion, becomes an internal error: the REPL, a script or the host
    /// program survives a bug in one statement, and the session stays usable.
    pub async fn execute(&self, sql: &str) -> Result<Output> {
        use futures::FutureExt;
        match std::panic::AssertUnwindSafe(self.execute_unguarded(sql))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                Err(RunqlError::internal(
                    "running the statement",
                    format!(
                        "runql crashed, which is a bug; nothing of the statement after the crash ran: {message}"
                    ),
                ))
            }
        }
    }

    async fn execute_unguarded(&self, sql: &str) -> Result<Output> {
        if let Some(call) = parse_exec(sql)? {
            return self.exec(call).await;
        }
        if let Some((name, expression)) = variable_assignment(code_start(sql)) {
            return self.set_variable(name, expression).await;
        }
        if let Some(plan) = self.insert_plan(sql)? {
            return self.insert(plan).await;
        }
        let frame = self.ctx.sql(sql).await.map_err(sql_error)?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await.map_err(sql_error)?;
        Ok(Output { schema, batches })
    }

    async fn exec(&self, call: ExecCall) -> Result<Output> {
        let mut values = match &call.json {
            None => Map::new(),
            Some(body) => match crate::model::json::parse(body) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(RunqlError::invalid(format!(
                        "@@json must be a JSON object, got {}",
                        crate::model::validation::shown(&other.to_string())
                    )));
                }
                Err(e) => {
                    return Err(RunqlError::invalid(format!(
                        "@@json is not valid JSON: {e}"
                    )));
                }
            },
        };
        // `@name` arguments win over the same name in @@json, spelled either way.
        values = procedures::args::canonical_names(values);
        let mut named = Map::new();
        for (name, value) in call.args {
            named.insert(name, self.json_value(value)?);
        }
        values.extend(procedures::args::canonical_names(named));
        let batch = procedures::call(&self.store, &call.procedure, values).await?;
        self.remember(&batch);
        Ok(Output::of(batch))
    }

    fn json_value(&self, value: ArgValue) -> Result<Value> {
        Ok(match value {
            ArgValue::Text(text) => Value::String(text),
            ArgValue::Number(text) => serde_json::from_str::<Value>(&text)
                .ok()
                .filter(Value::is_number)
                // NaN and the infinities have no JSON number; the float getter reads them as text.
                .unwrap_or(Value::String(text)),
            ArgValue::Bool(b) => Value::Bool(b),
            ArgValue::Null => Value::Null,
            ArgValue::Json(json) => json,
            ArgValue::Variable(name) => {
                let scalar = self.variables.get(&name).ok_or_else(|| {
                    RunqlError::invalid(format!(
                        "session variable @{name} is not set; an EXEC sets one per column of its first row"
                    ))
                })?;
                scalar_to_json(&scalar)
            }
        })
    }

    /// Sets a variable per column of the first row of an EXEC's result.
    fn remember(&self, batch: &RecordBatch) {
        if batch.num_rows() == 0 {
            return;
        }
        let mut variables = self.variables.0.write();
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            if let Ok(value) = ScalarValue::try_from_array(column.as_ref(), 0) {
                variables.insert(field.name().to_ascii_lowercase(), value);
            }
        }
    }

    async fn set_variable(&self, name: String, expression: &str) -> Result<Output> {
        let frame = self
            .ctx
            .sql(&format!("SELECT ({expression}) AS value"))
            .await
            .map_err(sql_error)?;
        let batches = frame.collect().await.map_err(sql_error)?;
        let value = match batches.iter().find(|b| b.num_rows() > 0) {
            Some(batch) => ScalarValue::try_from_array(batch.column(0).as_ref(), 0)
                .map_err(|e| RunqlError::internal("reading a variable's value", e))?,
            None => ScalarValue::Null,
        };
        let shown = value.to_string();
        self.variables.0.write().insert(name.clone(), value);
        let batch = procedures::result::table(vec![
            procedures::result::Column::text("variable", [Some(format!("@{name}"))]),
            procedures::result::Column::text("value", [Some(shown)]),
        ])?;
        Ok(Output::of(batch))
    }

    fn insert_plan(&self, sql: &str) -> Result<Option<insert::InsertPlan>> {
        // Only statements that start with INSERT are parsed here; DataFusion parses the rest.
        let starts_with_insert = code_start(sql)
            .get(..6)
            .is_some_and(|word| word.eq_ignore_ascii_case("insert"));
        if !starts_with_insert {
            return Ok(None);
        }
        let statements =
            DFParser::parse_sql(sql).map_err(|e| RunqlError::invalid(e.to_string()))?;
        match statements.front() {
            Some(DfStatement::Statement(statement)) if statements.len() == 1 => {
                insert::plan(statement)
            }
            _ => Ok(None),
        }
    }

    async fn insert(&self, plan: insert::InsertPlan) -> Result<Output> {
        let frame = self.ctx.sql(&plan.source_sql).await.map_err(sql_error)?;
        let written = if plan.loads_metrics() {
            // Metric loads can be far larger than memory: they stream.
            let source_columns = frame.schema().fields().len();
            let mut first_row = 0;
            let batches = frame
                .execute_stream()
                .await
                .map_err(sql_error)?
                .map(|batch| {
                    let batch = batch.map_err(sql_error)?;
                    let columns = insert::metric_columns(&plan, &batch, source_columns, first_row);
                    first_row += batch.num_rows();
                    columns
                });
            self.store.import_metrics(batches).await?
        } else {
            let batches = frame.collect().await.map_err(sql_error)?;
            let import = insert::to_import(&plan, &batches)?;
            let report = self.store.import(import).await?;
            insert::written(plan.table, &report)
        };
        let batch = procedures::result::count("count", written)?;
        Ok(Output::of(batch))
    }
}

/// `SET @name = expression`: the variable's name (lowercase) and the expression text.
fn variable_assignment(sql: &str) -> Option<(String, &str)> {
    let rest = sql.trim_start();
    let after_set = rest
        .get(..3)
        .filter(|w| w.eq_ignore_ascii_case("set"))
        .map(|_| &rest[3..])?;
    let after_at = after_set.trim_start().strip_prefix('@')?;
    let name_len = after_at
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after_at.len());
    let (name, rest) = after_at.split_at(name_len);
    let expression = rest.trim_start().strip_prefix('=')?.trim();
    (!name.is_empty() && !expression.is_empty()).then(|| (name.to_ascii_lowercase(), expression))
}

/// DataFusion's errors are the user's SQL going wrong, except when they wrap ours.
fn sql_error(error: datafusion::error::DataFusionError) -> RunqlError {
    let message = error.to_string();
    match error.find_root() {
        datafusion::error::DataFusionError::External(inner) => {
            match inner.downcast_ref::<RunqlError>() {
                Some(ours) => ours.clone(),
                None => RunqlError::internal("running SQL", message),
            }
        }
        _ => RunqlError::invalid(message),
    }
}

pub(crate) fn scalar_to_json(value: &ScalarValue) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    match value {
        ScalarValue::Boolean(Some(b)) => Value::Bool(*b),
        ScalarValue::Int64(Some(i)) => Value::from(*i),
        ScalarValue::Float64(Some(f)) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(crate::model::validation::format_float(*f))),
        ScalarValue::TimestampMillisecond(Some(ms), _) => Value::from(*ms),
        ScalarValue::List(list) => {
            let items = (0..list.values().len())
                .filter_map(|i| ScalarValue::try_from_array(list.values().as_ref(), i).ok())
                .map(|item| scalar_to_json(&item))
                .collect();
            Value::Array(items)
        }
        ScalarValue::TimestampMicrosecond(Some(us), _) => Value::from(us / 1000),
        other => match other.cast_to(&DataType::Utf8) {
            Ok(ScalarValue::Utf8(Some(text))) => Value::String(text),
            _ => Value::String(other.to_string()),
        },
    }
}

impl Store {
    /// A SQL session over this store (see [`Session`]).
    pub async fn session(&self) -> Result<Session> {
        Session::new(self.clone()).await
    }
}
