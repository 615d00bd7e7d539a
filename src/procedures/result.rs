//! Building the result sets procedures return: typed columns, or the rows of a
//! view read back after a write (so `create` returns the row as `SELECT` shows it).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;

use crate::error::{Context, Result};
use crate::model::{Experiment, Millis};
use crate::store::Store;

/// One typed result column.
pub struct Column {
    name: String,
    data_type: DataType,
    values: ArrayRef,
}

impl Column {
    pub fn text<S: Into<String>>(name: &str, values: impl IntoIterator<Item = Option<S>>) -> Self {
        let values: StringArray = values
            .into_iter()
            .map(|v| v.map(Into::into))
            .collect::<Vec<Option<String>>>()
            .into();
        Self::of(name, DataType::Utf8, Arc::new(values))
    }

    pub fn int(name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Self {
        Self::of(
            name,
            DataType::Int64,
            Arc::new(values.into_iter().collect::<Int64Array>()),
        )
    }

    pub fn float(name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        Self::of(
            name,
            DataType::Float64,
            Arc::new(values.into_iter().collect::<Float64Array>()),
        )
    }

    pub fn boolean(name: &str, values: impl IntoIterator<Item = Option<bool>>) -> Self {
        Self::of(
            name,
            DataType::Boolean,
            Arc::new(values.into_iter().collect::<BooleanArray>()),
        )
    }

    /// Milliseconds since the epoch, shown as a UTC timestamp.
    pub fn time(name: &str, values: impl IntoIterator<Item = Option<Millis>>) -> Self {
        let array = values
            .into_iter()
            .collect::<TimestampMillisecondArray>()
            .with_timezone("UTC");
        Self::of(
            name,
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            Arc::new(array),
        )
    }

    fn of(name: &str, data_type: DataType, values: ArrayRef) -> Self {
        Column {
            name: name.to_string(),
            data_type,
            values,
        }
    }
}

/// A result set from columns of equal length.
pub fn table(columns: Vec<Column>) -> Result<RecordBatch> {
    let schema = Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, c.data_type.clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|c| c.values).collect(),
    )
    .context(|| "building a procedure result".to_string())
}

/// A single-row count result, such as `runs_deleted = 12`.
pub fn count(name: &str, value: usize) -> Result<RecordBatch> {
    table(vec![Column::int(name, [Some(value as i64)])])
}

/// The rows a query over runql's views returns, as one batch even when empty.
pub async fn query(store: &Store, sql: &str, params: Vec<ScalarValue>) -> Result<RecordBatch> {
    let (schema, batches) = store.query_with_schema(sql, params).await?;
    datafusion::arrow::compute::concat_batches(&schema, &batches)
        .context(|| format!("collecting the result of {sql}"))
}

/// The runs view's row for each id, in the order given.
pub async fn runs(store: &Store, run_ids: &[String]) -> Result<RecordBatch> {
    let ids = run_ids
        .iter()
        .map(|id| ScalarValue::Utf8(Some(id.clone())))
        .collect::<Vec<_>>();
    let list = ScalarValue::new_list_nullable(&ids, &DataType::Utf8);
    query(
        store,
        "SELECT * FROM runs WHERE array_has($1, run_id) ORDER BY start_time DESC, run_id",
        vec![ScalarValue::List(list)],
    )
    .await
}

pub fn text(value: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(value.to_string()))
}

/// The experiments view's row for one experiment.
pub async fn experiment(store: &Store, experiment_id: &str) -> Result<RecordBatch> {
    query(
        store,
        "SELECT * FROM experiments WHERE experiment_id = $1",
        vec![text(experiment_id)],
    )
    .await
}

/// Experiments as rows, with their tags as a JSON object.
pub fn experiments(experiments: &[Experiment]) -> Result<RecordBatch> {
    let tags = |e: &Experiment| {
        let map: serde_json::Map<String, serde_json::Value> = e
            .tags
            .iter()
            .map(|t| (t.key.clone(), serde_json::Value::String(t.value.clone())))
            .collect();
        Some(serde_json::Value::Object(map).to_string())
    };
    table(vec![
        Column::text(
            "experiment_id",
            experiments.iter().map(|e| Some(e.experiment_id.clone())),
        ),
        Column::text("name", experiments.iter().map(|e| Some(e.name.clone()))),
        Column::text(
            "artifact_location",
            experiments
                .iter()
                .map(|e| Some(e.artifact_location.clone())),
        ),
        Column::text(
            "lifecycle_stage",
            experiments.iter().map(|e| Some(e.lifecycle_stage.as_str())),
        ),
        Column::time("creation_time", experiments.iter().map(|e| e.creation_time)),
        Column::time(
            "last_update_time",
            experiments.iter().map(|e| e.last_update_time),
        ),
        Column::text("tags", experiments.iter().map(tags)),
    ])
}

/// One experiment as a row, with its tags.
pub fn experiment_entity(experiment: &Experiment) -> Result<RecordBatch> {
    experiments(std::slice::from_ref(experiment))
}
