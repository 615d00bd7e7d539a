//! The raw Delta tables under a store root and their columns: one place.
//!
//! Raw tables hold *change rows*, appended blindly. A mutable entity (run,
//! experiment) is a series of rows where NULL means "this row does not set
//! that field"; tags hold NULL values as deletions. `seq` and `writer_id`
//! order rows totally: `seq` is a hybrid-logical-clock reading in
//! microseconds, strictly increasing per writer, and `writer_id` breaks ties
//! between writers. The views in `tables/views.sql` fold these rows.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::ScalarValue;

/// Every raw table of a store, in the order gc purges them: children before the
/// runs and experiments they belong to, so an interrupted gc never leaves
/// visible orphans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawTable {
    Metrics,
    Params,
    Tags,
    Inputs,
    ModelLinks,
    Runs,
    LoggedModelParams,
    LoggedModelTags,
    LoggedModels,
    ExperimentTags,
    Experiments,
}

/// How compaction folds a table without changing what its view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldRule {
    /// One row per entity: each field's latest non-null value (runs, experiments).
    LatestFieldWins,
    /// One row per key: the latest row, deletions included (tags).
    LatestRowWins,
    /// One row per key: the earliest row (params are write-once).
    FirstRowWins,
    /// Rows are facts; exact duplicates collapse (metrics, inputs).
    Distinct,
}

impl RawTable {
    pub const ALL: [RawTable; 11] = [
        RawTable::Metrics,
        RawTable::Params,
        RawTable::Tags,
        RawTable::Inputs,
        RawTable::ModelLinks,
        RawTable::Runs,
        RawTable::LoggedModelParams,
        RawTable::LoggedModelTags,
        RawTable::LoggedModels,
        RawTable::ExperimentTags,
        RawTable::Experiments,
    ];

    /// Directory under the store root, and the table's name in the `raw` schema.
    pub fn name(self) -> &'static str {
        match self {
            RawTable::Experiments => "experiments",
            RawTable::ExperimentTags => "experiment_tags",
            RawTable::Runs => "runs",
            RawTable::Params => "params",
            RawTable::Tags => "tags",
            RawTable::Metrics => "metrics",
            RawTable::Inputs => "inputs",
            RawTable::ModelLinks => "model_links",
            RawTable::LoggedModels => "logged_models",
            RawTable::LoggedModelTags => "logged_model_tags",
            RawTable::LoggedModelParams => "logged_model_params",
        }
    }

    /// The table named `name` (see [`RawTable::name`]).
    pub fn from_name(name: &str) -> Option<RawTable> {
        RawTable::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The column that identifies the entity a row belongs to.
    pub fn owner_column(self) -> &'static str {
        match self {
            RawTable::Experiments | RawTable::ExperimentTags => "experiment_id",
            RawTable::LoggedModels | RawTable::LoggedModelTags | RawTable::LoggedModelParams => {
                "model_id"
            }
            _ => "run_id",
        }
    }

    pub fn fold_rule(self) -> FoldRule {
        match self {
            RawTable::Experiments | RawTable::Runs | RawTable::LoggedModels => {
                FoldRule::LatestFieldWins
            }
            // A logged model's params may be logged again with a new value, as in MLflow.
            RawTable::Tags
            | RawTable::ExperimentTags
            | RawTable::LoggedModelTags
            | RawTable::LoggedModelParams => FoldRule::LatestRowWins,
            RawTable::Params => FoldRule::FirstRowWins,
            RawTable::Metrics | RawTable::Inputs | RawTable::ModelLinks => FoldRule::Distinct,
        }
    }

    /// The order compaction writes rows in, so files and pages cluster and
    /// queries skip them by their statistics. Metrics put the latest copies
    /// first, apart from the history, then cluster by key and run: the
    /// selective filters of latest-value and history queries.
    pub fn sort_order(self) -> &'static [&'static str] {
        match self {
            RawTable::Metrics => &[
                "latest_copy DESC NULLS LAST",
                "key",
                "run_id",
                "step",
                "timestamp",
            ],
            RawTable::Experiments | RawTable::ExperimentTags => &["experiment_id"],
            RawTable::LoggedModels | RawTable::LoggedModelTags | RawTable::LoggedModelParams => {
                &["model_id"]
            }
            _ => &["run_id"],
        }
    }

    pub fn schema(self) -> SchemaRef {
        let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
        let time = |name: &str, nullable: bool| Field::new(name, timestamp_type(), nullable);
        let order = || {
            [
                Field::new("seq", DataType::Int64, false),
                Field::new("writer_id", DataType::Int64, false),
            ]
        };
        let fields: Vec<Field> = match self {
            RawTable::Experiments => [
                text("experiment_id", false),
                text("name", true),
                text("artifact_location", true),
                text("lifecycle_stage", true),
                time("creation_time", true),
                time("last_update_time", true),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::ExperimentTags => [
                text("experiment_id", false),
                text("key", false),
                text("value", true),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::Runs => [
                text("run_id", false),
                text("experiment_id", false),
                text("run_name", true),
                text("user_id", true),
                text("status", true),
                time("start_time", true),
                time("end_time", true),
                text("artifact_uri", true),
                text("lifecycle_stage", true),
                time("deleted_time", true),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::Params => [
                text("run_id", false),
                text("key", false),
                text("value", false),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::Tags => [
                text("run_id", false),
                text("key", false),
                text("value", true),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::LoggedModels => [
                text("model_id", false),
                text("experiment_id", false),
                text("name", true),
                text("artifact_uri", true),
                text("status", true),
                text("status_message", true),
                text("model_type", true),
                text("source_run_id", true),
                text("lifecycle_stage", true),
                time("creation_time", true),
                time("last_update_time", true),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::LoggedModelTags | RawTable::LoggedModelParams => [
                text("model_id", false),
                text("key", false),
                text("value", true),
            ]
            .into_iter()
            .chain(order())
            .collect(),
            RawTable::Metrics => vec![
                text("run_id", false),
                text("key", false),
                Field::new("value", DataType::Float64, false),
                time("timestamp", false),
                Field::new("step", DataType::Int64, false),
                text("dataset_name", true),
                text("dataset_digest", true),
                text("model_id", true),
                // True on a copy of the latest value among rows written together,
                // kept so `latest_metrics` reads these few rows, not the history.
                // Copies are not values: `metrics` leaves them out. NULL (rows of
                // stores from before copies existed) means false.
                Field::new(LATEST_COPY, DataType::Boolean, true),
            ],
            RawTable::Inputs => vec![
                text("run_id", false),
                text("dataset_name", false),
                text("dataset_digest", false),
                text("source_type", true),
                text("source", true),
                text("schema", true),
                text("profile", true),
                text("context", true),
            ],
            RawTable::ModelLinks => vec![
                text("run_id", false),
                text("model_id", false),
                text("direction", false),
                Field::new("step", DataType::Int64, true),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

/// The metrics column that marks latest copies (see [`RawTable::schema`]).
pub const LATEST_COPY: &str = "latest_copy";

/// Delta's TIMESTAMP: microseconds, UTC. runql stores whole milliseconds in it.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A value of [`timestamp_type`], for comparing with stored times without a
/// cast (casts from naive times fail beyond chrono's year range).
pub fn timestamp_scalar(micros: i64) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(Some(micros), Some("UTC".into()))
}
