//! Encoding typed changes as Arrow batches in the raw tables' schemas.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray, new_null_array,
};
use datafusion::arrow::compute::{cast, interleave_record_batch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type, SchemaRef, TimestampMicrosecondType};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Context, Result, RunqlError};
use crate::model::validation::micros_from_millis;
use crate::model::{DatasetInput, LifecycleStage, Metric, Millis, ModelLink};
use crate::store::clock::Clock;
use crate::store::schema::{LATEST_COPY, RawTable};

/// `batch` with the columns of `schema`, matched by name and cast to its
/// types; a column `batch` lacks (rows an older runql wrote) is NULL.
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) => cast(column, field.data_type()),
            None => Ok(new_null_array(field.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The row count is explicit: a projection may keep no column (`count(*)`).
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
}

/// A change to an experiment: `None` fields are left as they are.
#[derive(Debug, Clone, Default)]
pub struct ExperimentChange {
    pub experiment_id: String,
    pub name: Option<String>,
    pub artifact_location: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub creation_time: Option<Millis>,
    pub last_update_time: Option<Millis>,
}

impl ExperimentChange {
    /// The first row of a new, active experiment.
    pub fn created(
        experiment_id: &str,
        name: &str,
        artifact_location: String,
        created_at: Millis,
    ) -> Self {
        ExperimentChange {
            experiment_id: experiment_id.to_string(),
            name: Some(name.to_string()),
            artifact_location: Some(artifact_location),
            lifecycle_stage: Some(LifecycleStage::Active.as_str().into()),
            creation_time: Some(created_at),
            last_update_time: Some(created_at),
        }
    }
}

/// A change to a run: `None` fields are left as they are. Every change names the
/// run's experiment, which never changes, so filters on it can skip files.
#[derive(Debug, Clone, Default)]
pub struct RunChange {
    pub run_id: String,
    pub experiment_id: String,
    pub run_name: Option<String>,
    pub user_id: Option<String>,
    pub status: Option<String>,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
    pub artifact_uri: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub deleted_time: Option<Millis>,
}

/// A change to a logged model: `None` fields are left as they are. Every
/// change names the model's experiment, which never changes.
#[derive(Debug, Clone, Default)]
pub struct ModelChange {
    pub model_id: String,
    pub experiment_id: String,
    pub name: Option<String>,
    pub artifact_uri: Option<String>,
    pub status: Option<String>,
    pub status_message: Option<String>,
    pub model_type: Option<String>,
    pub source_run_id: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub creation_time: Option<Millis>,
    pub last_update_time: Option<Millis>,
}

/// A key set (`Some`) or deleted (`None`) on an owner: a param, tag or experiment tag.
#[derive(Debug, Clone)]
pub struct KeyChange {
    pub owner: String,
    pub key: String,
    pub value: Option<String>,
}

fn text<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

/// A time column, stored as microseconds; `name` is what an out-of-range
/// value is called in the error.
fn times(name: &str, values: impl Iterator<Item = Option<Millis>>) -> Result<ArrayRef> {
    let micros = values
        .map(|ms| ms.map(|ms| micros_from_millis(name, ms)).transpose())
        .collect::<Result<TimestampMicrosecondArray>>()?;
    Ok(Arc::new(micros.with_timezone("UTC")))
}

fn order_columns(rows: usize, clock: &Clock) -> [ArrayRef; 2] {
    let seq: Int64Array = (0..rows).map(|_| Some(clock.next())).collect();
    let writer: Int64Array = (0..rows).map(|_| Some(clock.writer_id())).collect();
    [Arc::new(seq), Arc::new(writer)]
}

fn batch(table: RawTable, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(table.schema(), columns)
        .context(|| format!("encoding rows for table {}", table.name()))
}

pub fn experiment_changes(changes: &[ExperimentChange], clock: &Clock) -> Result<RecordBatch> {
    let mut columns = vec![
        text(changes.iter().map(|c| Some(c.experiment_id.as_str()))),
        text(changes.iter().map(|c| c.name.as_deref())),
        text(changes.iter().map(|c| c.artifact_location.as_deref())),
        text(changes.iter().map(|c| c.lifecycle_stage.as_deref())),
        times("creation_time", changes.iter().map(|c| c.creation_time))?,
        times(
            "last_update_time",
            changes.iter().map(|c| c.last_update_time),
        )?,
    ];
    columns.extend(order_columns(changes.len(), clock));
    batch(RawTable::Experiments, columns)
}

pub fn run_changes(changes: &[RunChange], clock: &Clock) -> Result<RecordBatch> {
    let mut columns = vec![
        text(changes.iter().map(|c| Some(c.run_id.as_str()))),
        text(changes.iter().map(|c| Some(c.experiment_id.as_str()))),
        text(changes.iter().map(|c| c.run_name.as_deref())),
        text(changes.iter().map(|c| c.user_id.as_deref())),
        text(changes.iter().map(|c| c.status.as_deref())),
        times("start_time", changes.iter().map(|c| c.start_time))?,
        times("end_time", changes.iter().map(|c| c.end_time))?,
        text(changes.iter().map(|c| c.artifact_uri.as_deref())),
        text(changes.iter().map(|c| c.lifecycle_stage.as_deref())),
        times("deleted_time", changes.iter().map(|c| c.deleted_time))?,
    ];
    columns.extend(order_columns(changes.len(), clock));
    batch(RawTable::Runs, columns)
}

/// Rows for params, tags or experiment tags; rows are stamped in the given order,
/// so a later change to the same key in one call wins.
pub fn model_changes(changes: &[ModelChange], clock: &Clock) -> Result<RecordBatch> {
    let mut columns = vec![
        text(changes.iter().map(|c| Some(c.model_id.as_str()))),
        text(changes.iter().map(|c| Some(c.experiment_id.as_str()))),
        text(changes.iter().map(|c| c.name.as_deref())),
        text(changes.iter().map(|c| c.artifact_uri.as_deref())),
        text(changes.iter().map(|c| c.status.as_deref())),
        text(changes.iter().map(|c| c.status_message.as_deref())),
        text(changes.iter().map(|c| c.model_type.as_deref())),
        text(changes.iter().map(|c| c.source_run_id.as_deref())),
        text(changes.iter().map(|c| c.lifecycle_stage.as_deref())),
        times("creation_time", changes.iter().map(|c| c.creation_time))?,
        times(
            "last_update_time",
            changes.iter().map(|c| c.last_update_time),
        )?,
    ];
    columns.extend(order_columns(changes.len(), clock));
    batch(RawTable::LoggedModels, columns)
}

pub fn key_changes(table: RawTable, changes: &[KeyChange], clock: &Clock) -> Result<RecordBatch> {
    let mut columns = vec![
        text(changes.iter().map(|c| Some(c.owner.as_str()))),
        text(changes.iter().map(|c| Some(c.key.as_str()))),
        text(changes.iter().map(|c| c.value.as_deref())),
    ];
    columns.extend(order_columns(changes.len(), clock));
    batch(table, columns)
}

/// The stored form of a metric value. Every NaN is stored as the one quiet NaN
/// and -0.0 as 0.0: engines disagree on ordering and deduplicating NaN payloads
/// and signed zeros (DataFusion's DISTINCT, which folds repeated values,
/// returns -0.0 as 0.0), and MLflow gives them no meaning.
fn canonical(value: f64) -> f64 {
    if value.is_nan() {
        f64::NAN
    } else if value == 0.0 {
        0.0
    } else {
        value
    }
}

/// Metric rows, each with the run it belongs to (a write adds their latest
/// copies when it commits).
pub fn metrics(entries: &[(&str, &Metric)]) -> Result<RecordBatch> {
    metric_facts(MetricArrays {
        run_id: text(entries.iter().map(|(run_id, _)| Some(*run_id))),
        key: text(entries.iter().map(|(_, m)| Some(m.key.as_str()))),
        value: entries.iter().map(|(_, m)| Some(m.value)).collect(),
        timestamp: entries.iter().map(|(_, m)| Some(m.timestamp)).collect(),
        step: entries.iter().map(|(_, m)| Some(m.step)).collect(),
        dataset_name: text(entries.iter().map(|(_, m)| m.dataset_name.as_deref())),
        dataset_digest: text(entries.iter().map(|(_, m)| m.dataset_digest.as_deref())),
        model_id: text(entries.iter().map(|(_, m)| m.model_id.as_deref())),
    })
}

/// Checked metric values, column by column: run_id and key are UTF-8 and not
/// NULL, `timestamp` is milliseconds since the epoch and in range, and no
/// value or step is NULL.
pub struct MetricArrays {
    pub run_id: ArrayRef,
    pub key: ArrayRef,
    pub value: Float64Array,
    pub timestamp: Int64Array,
    pub step: Int64Array,
    pub dataset_name: ArrayRef,
    pub dataset_digest: ArrayRef,
    pub model_id: ArrayRef,
}

/// Metric value rows (not copies) in the metrics table's schema.
pub fn metric_facts(arrays: MetricArrays) -> Result<RecordBatch> {
    let rows = arrays.value.len();
    let values: Float64Array = arrays.value.iter().map(|v| v.map(canonical)).collect();
    let columns = vec![
        arrays.run_id,
        arrays.key,
        Arc::new(values) as ArrayRef,
        times("timestamp", arrays.timestamp.iter())?,
        Arc::new(arrays.step),
        arrays.dataset_name,
        arrays.dataset_digest,
        arrays.model_id,
        Arc::new(BooleanArray::from(vec![false; rows])),
    ];
    batch(RawTable::Metrics, columns)
}

/// Copies of the latest value per (run, key) among metric `facts`, marked as
/// copies. MLflow's rule: the maximum by (step, timestamp, value), NaN above
/// every number, as `views.sql` orders them. The facts may span several
/// batches (a buffered flush, or an upgrade's candidates), read in place.
pub fn latest_copies(facts: &[RecordBatch]) -> Result<RecordBatch> {
    let what = || "finding the latest metric values".to_string();
    let schema = RawTable::Metrics.schema();
    let columns = facts
        .iter()
        .map(|batch| {
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .ok_or_else(|| RunqlError::internal(what(), format!("no column {name}")))
            };
            Ok((
                column("run_id")?.as_string::<i32>(),
                column("key")?.as_string::<i32>(),
                column("step")?.as_primitive::<Int64Type>(),
                column("timestamp")?.as_primitive::<TimestampMicrosecondType>(),
                column("value")?.as_primitive::<Float64Type>(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let rank = |(batch, row): (usize, usize)| {
        let (_, _, steps, times, values) = columns[batch];
        (steps.value(row), times.value(row), values.value(row))
    };
    let mut latest: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for (batch, ((run_ids, keys, ..), rows)) in columns.iter().zip(facts).enumerate() {
        for row in 0..rows.num_rows() {
            latest
                .entry((run_ids.value(row), keys.value(row)))
                .and_modify(|best| {
                    let (step, time, value) = rank((batch, row));
                    let (best_step, best_time, best_value) = rank(*best);
                    let newer = (step, time)
                        .cmp(&(best_step, best_time))
                        .then(value.total_cmp(&best_value));
                    if newer.is_gt() {
                        *best = (batch, row);
                    }
                })
                .or_insert((batch, row));
        }
    }
    if latest.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let mut picks: Vec<(usize, usize)> = latest.into_values().collect();
    picks.sort_unstable();
    let sources: Vec<&RecordBatch> = facts.iter().collect();
    let copies = interleave_record_batch(&sources, &picks).context(what)?;
    let mut columns = copies.columns().to_vec();
    let flag = schema.index_of(LATEST_COPY).context(what)?;
    columns[flag] = Arc::new(BooleanArray::from(vec![true; copies.num_rows()]));
    RecordBatch::try_new(schema, columns).context(what)
}

pub fn inputs(run_id: &str, inputs: &[DatasetInput]) -> Result<RecordBatch> {
    let columns = vec![
        text(inputs.iter().map(|_| Some(run_id))),
        text(inputs.iter().map(|i| Some(i.dataset.name.as_str()))),
        text(inputs.iter().map(|i| Some(i.dataset.digest.as_str()))),
        text(inputs.iter().map(|i| Some(i.dataset.source_type.as_str()))),
        text(inputs.iter().map(|i| Some(i.dataset.source.as_str()))),
        text(inputs.iter().map(|i| i.dataset.schema.as_deref())),
        text(inputs.iter().map(|i| i.dataset.profile.as_deref())),
        text(inputs.iter().map(|i| i.context())),
    ];
    batch(RawTable::Inputs, columns)
}

pub fn model_links(run_id: &str, direction: &str, links: &[ModelLink]) -> Result<RecordBatch> {
    let columns = vec![
        text(links.iter().map(|_| Some(run_id))),
        text(links.iter().map(|l| Some(l.model_id.as_str()))),
        text(links.iter().map(|_| Some(direction))),
        Arc::new(links.iter().map(|l| l.step).collect::<Int64Array>()) as ArrayRef,
    ];
    batch(RawTable::ModelLinks, columns)
}
