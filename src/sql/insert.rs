//! `INSERT INTO metrics|params|tags|runs|experiments|experiment_tags …`: the
//! source rows (VALUES, or any SELECT, including one over a CSV or Parquet
//! file) are computed by DataFusion, then written through [`Store::import`],
//! the same validation and write path as the procedures. One bad row fails
//! the statement, naming the row and the rule, and nothing is written.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, TimeUnit, TimestampMillisecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::sql::sqlparser::ast::{Insert, ObjectName, ObjectNamePart, Statement, TableObject};

use crate::api::import::MetricColumns;
use crate::api::read::Rows;
use crate::api::{Import, ImportExperiment, ImportReport, ImportRun};
use crate::error::{Context, Result, RunqlError};
use crate::model::validation::{parse_float, parse_time_micros, shown};
use crate::model::{DEFAULT_EXPERIMENT_ID, PARENT_RUN_TAG, RunStatus, Tag, now_millis};

/// The tables INSERT writes to, with the columns each accepts (in the order a
/// column-less INSERT fills them) and which of those are required.
const TARGETS: &[(&str, &[&str], &[&str])] = &[
    (
        "metrics",
        &[
            "run_id",
            "key",
            "value",
            "timestamp",
            "step",
            "dataset_name",
            "dataset_digest",
            "model_id",
        ],
        &["run_id", "key", "value"],
    ),
    (
        "params",
        &["run_id", "key", "value"],
        &["run_id", "key", "value"],
    ),
    (
        "tags",
        &["run_id", "key", "value"],
        &["run_id", "key", "value"],
    ),
    (
        "runs",
        &[
            "run_id",
            "run_name",
            "experiment_id",
            "user_id",
            "status",
            "start_time",
            "end_time",
            "parent_run_id",
        ],
        &[],
    ),
    (
        "experiments",
        &[
            "experiment_id",
            "name",
            "artifact_location",
            "creation_time",
        ],
        &["name"],
    ),
    (
        "experiment_tags",
        &["experiment_id", "key", "value"],
        &["experiment_id", "key", "value"],
    ),
];

/// An INSERT into one of runql's tables: where, which columns, and the source query.
#[derive(Debug)]
pub struct InsertPlan {
    pub table: &'static str,
    /// The columns named, or, for an INSERT without a column list, all the
    /// table's insertable columns, of which the source fills the first ones.
    pub columns: Vec<String>,
    pub named_columns: bool,
    pub source_sql: String,
}

fn last_name(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident.value.to_ascii_lowercase()),
        ObjectNamePart::Function(_) => None,
    }
}

/// Recognises an INSERT into a runql table; other statements are not ours.
pub fn plan(statement: &Statement) -> Result<Option<InsertPlan>> {
    let Statement::Insert(Insert {
        table: TableObject::TableName(name),
        columns,
        source,
        ..
    }) = statement
    else {
        return Ok(None);
    };
    // Only unqualified or public names: raw.* and other catalogs belong to DataFusion.
    let qualified_elsewhere = name.0.len() > 1
        && !matches!(name.0.first(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("public"));
    let Some(table) = last_name(name).filter(|_| !qualified_elsewhere) else {
        return Ok(None);
    };
    let Some((table, accepted, _)) = TARGETS.iter().find(|(t, _, _)| *t == table) else {
        if crate::tables::USER_TABLES.contains(&table.as_str()) {
            return Err(RunqlError::invalid(format!(
                "{table} is derived and cannot be inserted into; insert into one of {}",
                TARGETS.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
            )));
        }
        return Ok(None);
    };
    let source = source.as_ref().ok_or_else(|| {
        RunqlError::invalid(format!("INSERT INTO {table} needs VALUES or a SELECT"))
    })?;
    let named_columns = !columns.is_empty();
    let columns: Vec<String> = if columns.is_empty() {
        accepted.iter().map(|c| c.to_string()).collect()
    } else {
        columns.iter().filter_map(last_name).collect()
    };
    for column in &columns {
        if !accepted.contains(&column.as_str()) {
            return Err(RunqlError::invalid(format!(
                "{table} has no insertable column '{column}'; it accepts {}",
                accepted.join(", ")
            )));
        }
    }
    Ok(Some(InsertPlan {
        table,
        columns,
        named_columns,
        source_sql: source.to_string(),
    }))
}

/// The source rows, renamed to the INSERT's column list. Rows are numbered
/// in messages from `first_row` + 1, as a streamed source arrives in batches.
struct Source<'a> {
    table: &'static str,
    rows: Rows<'a>,
    columns: &'a [String],
    count: usize,
    first_row: usize,
}

impl Source<'_> {
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        match self.column(name) {
            Some(i) => self.rows.strings_at(i),
            None => Ok(vec![None; self.count]),
        }
    }

    fn required_strings(&self, name: &str) -> Result<Vec<String>> {
        self.strings(name)?
            .into_iter()
            .enumerate()
            .map(|(row, value)| value.ok_or_else(|| self.null_in(name, row)))
            .collect()
    }

    fn null_in(&self, name: &str, row: usize) -> RunqlError {
        RunqlError::invalid(format!(
            "{} row {}: {name} must not be NULL",
            self.table,
            self.first_row + row + 1
        ))
    }

    /// A column as one UTF-8 array, without a string per row (bulk loads).
    fn text_array(&self, name: &str) -> Result<StringArray> {
        let Some(index) = self.column(name) else {
            return Ok(StringArray::new_null(self.count));
        };
        let mut arrays = Vec::new();
        for array in self.rows.arrays_at(index)? {
            arrays.push(
                cast(&array, &DataType::Utf8)
                    .context(|| format!("reading {} column {name}", self.table))?,
            );
        }
        let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        let joined = match refs.as_slice() {
            [] => StringArray::new_null(0),
            [one] => one.as_string::<i32>().clone(),
            many => concat(many)
                .context(|| format!("reading {} column {name}", self.table))?
                .as_string::<i32>()
                .clone(),
        };
        Ok(joined)
    }

    /// Whole numbers: integers, floats without a fraction, or text that
    /// parses as one. Anything else names its row and value.
    fn ints(&self, name: &str) -> Result<Vec<Option<i64>>> {
        self.strictly(
            name,
            "a whole number",
            |array| Some(array.as_primitive_opt::<Int64Type>()?.iter().collect()),
            whole_number,
        )
    }

    /// Milliseconds since the epoch: timestamps and dates, whole numbers, or
    /// text that is a whole number or a date and time.
    fn millis(&self, name: &str) -> Result<Vec<Option<i64>>> {
        self.strictly(
            name,
            "milliseconds since the epoch or a date and time",
            |array| {
                if let Some(ms) = array.as_primitive_opt::<Int64Type>() {
                    return Some(ms.iter().collect());
                }
                let ms = array.as_primitive_opt::<TimestampMillisecondType>()?;
                Some(ms.iter().collect())
            },
            |value| match value {
                ScalarValue::Utf8(Some(text))
                | ScalarValue::Utf8View(Some(text))
                | ScalarValue::LargeUtf8(Some(text)) => text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .or_else(|| parse_time_micros(text).map(|us| us.div_euclid(1000))),
                v if v.data_type().is_temporal() => {
                    match v.cast_to(&DataType::Timestamp(TimeUnit::Millisecond, None)) {
                        Ok(ScalarValue::TimestampMillisecond(ms, _)) => ms,
                        _ => None,
                    }
                }
                other => whole_number(other),
            },
        )
    }

    /// Numbers, or text that is a number, NaN or ±Infinity (as `EXEC` takes).
    fn floats(&self, name: &str) -> Result<Vec<Option<f64>>> {
        self.strictly(
            name,
            "a number",
            |array| Some(array.as_primitive_opt::<Float64Type>()?.iter().collect()),
            |value| match value {
                ScalarValue::Utf8(Some(text))
                | ScalarValue::Utf8View(Some(text))
                | ScalarValue::LargeUtf8(Some(text)) => parse_float(text).ok(),
                v if v.data_type().is_numeric() => match v.cast_to(&DataType::Float64) {
                    Ok(ScalarValue::Float64(f)) => f,
                    _ => None,
                },
                _ => None,
            },
        )
    }

    /// A column read strictly: `native` takes a whole array that already has
    /// the target type (bulk loads stay fast), else each cell goes through
    /// `convert`, whose `None` fails the statement naming the row and value.
    /// A missing column is all NULL, so defaults apply.
    fn strictly<T: Clone>(
        &self,
        name: &str,
        expected: &str,
        native: impl Fn(&ArrayRef) -> Option<Vec<Option<T>>>,
        convert: impl Fn(&ScalarValue) -> Option<T>,
    ) -> Result<Vec<Option<T>>> {
        let Some(index) = self.column(name) else {
            return Ok(vec![None; self.count]);
        };
        let mut out = Vec::with_capacity(self.count);
        for array in self.rows.arrays_at(index)? {
            if let Some(values) = native(&array) {
                out.extend(values);
                continue;
            }
            // Logical nulls: a NULL-typed column has no null buffer.
            let nulls = array.logical_nulls();
            for i in 0..array.len() {
                if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                    out.push(None);
                    continue;
                }
                let value = ScalarValue::try_from_array(&array, i)
                    .context(|| format!("reading {} column {name}", self.table))?;
                match convert(&value) {
                    Some(v) => out.push(Some(v)),
                    None => {
                        return Err(RunqlError::invalid(format!(
                            "{} row {}: {name} must be {expected}, got {}",
                            self.table,
                            self.first_row + out.len() + 1,
                            shown(&value.to_string())
                        )));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// An integer, a float without a fraction within range, or text of an integer.
fn whole_number(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Float32(_) | ScalarValue::Float64(_) => {
            match value.cast_to(&DataType::Float64) {
                Ok(ScalarValue::Float64(Some(f)))
                    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 =>
                {
                    Some(f as i64)
                }
                _ => None,
            }
        }
        ScalarValue::Utf8(Some(text))
        | ScalarValue::Utf8View(Some(text))
        | ScalarValue::LargeUtf8(Some(text)) => text.trim().parse::<i64>().ok(),
        v if v.data_type().is_integer() => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(i)) => i,
            _ => None,
        },
        _ => None,
    }
}

impl InsertPlan {
    /// The source rows in `batches` under the INSERT's column names; the
    /// source must fill the named columns exactly, or a prefix of them all.
    fn source<'a>(
        &'a self,
        batches: &'a [RecordBatch],
        source_columns: usize,
        first_row: usize,
    ) -> Result<Source<'a>> {
        let fits = if self.named_columns {
            source_columns == self.columns.len()
        } else {
            source_columns <= self.columns.len()
        };
        if !fits {
            return Err(RunqlError::invalid(format!(
                "INSERT INTO {} has {} columns to fill but the source has {source_columns}",
                self.table,
                self.columns.len(),
            )));
        }
        let rows = Rows::new(batches);
        Ok(Source {
            table: self.table,
            count: rows.len(),
            rows,
            columns: &self.columns[..source_columns.min(self.columns.len())],
            first_row,
        })
    }

    /// Whether this INSERT loads metrics, which stream (see [`metric_columns`]).
    pub fn loads_metrics(&self) -> bool {
        self.table == "metrics"
    }
}

/// One batch of an `INSERT INTO metrics` source as metric columns; its rows
/// are numbered from `first_row` + 1 in messages. `source_columns` is the
/// source's width, from its schema.
pub fn metric_columns(
    plan: &InsertPlan,
    batch: &RecordBatch,
    source_columns: usize,
    first_row: usize,
) -> Result<MetricColumns> {
    let batches = std::slice::from_ref(batch);
    let source = plan.source(batches, source_columns, first_row)?;
    // NULLs where a value is required are the load's to reject, as for any
    // caller of `Store::import_metrics`.
    Ok(MetricColumns {
        run_id: source.text_array("run_id")?,
        key: source.text_array("key")?,
        value: source.floats("value")?.into_iter().collect(),
        timestamp: source.millis("timestamp")?.into_iter().collect(),
        step: source.ints("step")?.into_iter().collect(),
        dataset_name: source.text_array("dataset_name")?,
        dataset_digest: source.text_array("dataset_digest")?,
        model_id: source.text_array("model_id")?,
    })
}

/// Turns the source rows into an import for the target table (not metrics,
/// which stream through [`metric_columns`]).
pub fn to_import(plan: &InsertPlan, batches: &[RecordBatch]) -> Result<Import> {
    let source_columns = batches
        .first()
        .map_or(plan.columns.len(), |b| b.num_columns());
    let source = plan.source(batches, source_columns, 0)?;
    let count = source.count;
    let mut import = Import::default();
    let key_values = |source: &Source| -> Result<Vec<(String, Tag)>> {
        let owner = if source.table == "experiment_tags" {
            "experiment_id"
        } else {
            "run_id"
        };
        let owners = source.required_strings(owner)?;
        let keys = source.required_strings("key")?;
        let values = source.required_strings("value")?;
        Ok(owners
            .into_iter()
            .zip(keys)
            .zip(values)
            .map(|((owner, key), value)| (owner, Tag::new(key, value)))
            .collect())
    };
    match plan.table {
        "params" => import.params = key_values(&source)?,
        "tags" => import.tags = key_values(&source)?,
        "experiment_tags" => import.experiment_tags = key_values(&source)?,
        "runs" => {
            let ids = source.strings("run_id")?;
            let (names, experiments, users) = (
                source.strings("run_name")?,
                source.strings("experiment_id")?,
                source.strings("user_id")?,
            );
            let (statuses, starts, ends) = (
                source.strings("status")?,
                source.millis("start_time")?,
                source.millis("end_time")?,
            );
            let parents = source.strings("parent_run_id")?;
            for row in 0..count {
                let run_id = ids[row]
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                let status = statuses[row]
                    .as_deref()
                    .map(str::parse::<RunStatus>)
                    .transpose()
                    .map_err(|e| RunqlError::invalid(format!("runs row {}: {e}", row + 1)))?
                    .unwrap_or(RunStatus::Running);
                if let Some(parent) = &parents[row] {
                    import
                        .tags
                        .push((run_id.clone(), Tag::new(PARENT_RUN_TAG, parent.clone())));
                }
                import.runs.push(ImportRun {
                    run_id,
                    experiment_id: experiments[row]
                        .clone()
                        .unwrap_or_else(|| DEFAULT_EXPERIMENT_ID.into()),
                    run_name: names[row].clone(),
                    user_id: users[row].clone(),
                    status,
                    start_time: Some(starts[row].unwrap_or_else(now_millis)),
                    end_time: ends[row],
                });
            }
        }
        "experiments" => {
            let ids = source.strings("experiment_id")?;
            let names = source.required_strings("name")?;
            let (locations, created) = (
                source.strings("artifact_location")?,
                source.millis("creation_time")?,
            );
            for (row, name) in names.into_iter().enumerate() {
                import.experiments.push(ImportExperiment {
                    experiment_id: ids[row]
                        .clone()
                        .unwrap_or_else(crate::api::experiments::new_experiment_id),
                    name,
                    artifact_location: locations[row].clone(),
                    creation_time: created[row],
                });
            }
        }
        other => {
            return Err(RunqlError::internal(
                "routing an INSERT",
                format!("no import for {other}"),
            ));
        }
    }
    Ok(import)
}

/// How many rows of the target table an INSERT wrote, for its result.
pub fn written(table: &str, report: &ImportReport) -> usize {
    match table {
        "experiments" => report.experiments,
        "runs" => report.runs,
        "params" => report.params,
        "tags" => report.tags,
        "metrics" => report.metrics,
        _ => report.experiment_tags,
    }
}
