//! The MLflow tracking entities as runql hands them to callers, and the
//! closed vocabularies (run status, lifecycle stage, view type) they use.

pub mod json;
pub mod validation;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::RunqlError;

/// Milliseconds since the Unix epoch, MLflow's unit for every time.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// Defines a string enum with its canonical spellings, parsing that names the allowed values.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = RunqlError;
            fn from_str(s: &str) -> Result<Self, RunqlError> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        RunqlError::invalid(format!(
                            "{} must be one of {}, got '{}'", $what, allowed.join(", "), s
                        ))
                    })
            }
        }
    };
}

string_enum!(
    /// A run's status, as MLflow's `RunStatus`.
    RunStatus, "status", {
        Running => "RUNNING",
        Scheduled => "SCHEDULED",
        Finished => "FINISHED",
        Failed => "FAILED",
        Killed => "KILLED",
    }
);

string_enum!(
    /// Soft-delete state of experiments and runs.
    LifecycleStage, "lifecycle_stage", {
        Active => "active",
        Deleted => "deleted",
    }
);

string_enum!(
    /// Which lifecycle stages a listing returns, as MLflow's `ViewType`.
    ViewType, "run_view_type", {
        ActiveOnly => "ACTIVE_ONLY",
        DeletedOnly => "DELETED_ONLY",
        All => "ALL",
    }
);

string_enum!(
    /// Where a logged model's upload stands, as MLflow 3's `LoggedModelStatus`.
    LoggedModelStatus, "status", {
        Pending => "LOGGED_MODEL_PENDING",
        Ready => "LOGGED_MODEL_READY",
        UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
    }
);

impl ViewType {
    pub fn admits(self, stage: LifecycleStage) -> bool {
        match self {
            ViewType::ActiveOnly => stage == LifecycleStage::Active,
            ViewType::DeletedOnly => stage == LifecycleStage::Deleted,
            ViewType::All => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: LifecycleStage,
    pub creation_time: Option<Millis>,
    pub last_update_time: Option<Millis>,
    pub tags: Vec<Tag>,
}

/// A key/value pair: a run tag, an experiment tag or a param.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub type Param = Tag;

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// One logged metric value. Equality is bitwise on `value`, so NaN equals NaN
/// and duplicates are recognised exactly as MLflow's stores do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metric {
    pub key: String,
    #[serde(with = "crate::model::float_text")]
    pub value: f64,
    pub timestamp: Millis,
    #[serde(default)]
    pub step: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

impl PartialEq for Metric {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.value.to_bits() == other.value.to_bits()
            && self.timestamp == other.timestamp
            && self.step == other.step
            && self.dataset_name == other.dataset_name
            && self.dataset_digest == other.dataset_digest
            && self.model_id == other.model_id
    }
}

impl Metric {
    pub fn new(key: impl Into<String>, value: f64, timestamp: Millis, step: i64) -> Self {
        Metric {
            key: key.into(),
            value,
            timestamp,
            step,
            dataset_name: None,
            dataset_digest: None,
            model_id: None,
        }
    }

    /// MLflow's order for the latest value of a key: max by (step, timestamp, value).
    /// NaN ranks above every number, as in MLflow's SQL stores.
    pub fn latest_order(&self, other: &Self) -> std::cmp::Ordering {
        (self.step, self.timestamp)
            .cmp(&(other.step, other.timestamp))
            .then_with(|| self.value.total_cmp(&other.value))
    }
}

/// JSON has no NaN or infinity; MLflow's REST API spells them as strings, and so do we.
pub mod float_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            s.serialize_f64(*value)
        } else {
            s.serialize_str(&super::validation::format_float(*value))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Number {
            Float(f64),
            Text(String),
            Other(serde_json::Value),
        }
        match Number::deserialize(d)? {
            Number::Float(v) => Ok(v),
            Number::Text(t) => super::validation::parse_float(&t).map_err(D::Error::custom),
            Number::Other(other) => Err(D::Error::custom(format!(
                "value must be a number, NaN or ±Infinity, got {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub run_name: String,
    pub experiment_id: String,
    pub user_id: String,
    pub status: RunStatus,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
    pub artifact_uri: String,
    pub lifecycle_stage: LifecycleStage,
    pub deleted_time: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunData {
    /// The latest value of each metric key.
    pub metrics: Vec<Metric>,
    pub params: Vec<Param>,
    pub tags: Vec<Tag>,
}

/// A run in MLflow's GetRun shape: info, data (latest metrics, params, tags),
/// the datasets and models it used, and the models it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub info: RunInfo,
    pub data: RunData,
    pub inputs: Vec<DatasetInput>,
    #[serde(default)]
    pub model_inputs: Vec<ModelLink>,
    #[serde(default)]
    pub model_outputs: Vec<ModelLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
}

/// A dataset used by a run, with its input tags (`mlflow.data.context` is the usual one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    pub dataset: Dataset,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl DatasetInput {
    /// The `mlflow.data.context` input tag, such as "training" or "eval".
    pub fn context(&self) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == CONTEXT_TAG)
            .map(|t| t.value.as_str())
    }
}

/// A model a run consumed or produced (MLflow 3 logged models).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelLink {
    pub model_id: String,
    #[serde(default)]
    pub step: Option<i64>,
}

/// An MLflow 3 logged model: a model's files under `artifact_uri`, with its
/// params, tags and the metrics logged with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedModel {
    pub model_id: String,
    pub experiment_id: String,
    pub name: String,
    pub artifact_uri: String,
    pub status: LoggedModelStatus,
    pub status_message: Option<String>,
    pub model_type: String,
    pub source_run_id: String,
    pub lifecycle_stage: LifecycleStage,
    pub creation_time: Millis,
    pub last_update_time: Millis,
    pub tags: Vec<Tag>,
    pub params: Vec<Param>,
    /// Every metric value logged with the model's id, with the run it was logged to.
    pub metrics: Vec<(String, Metric)>,
}

/// Tags with meaning to MLflow itself.
pub const RUN_NAME_TAG: &str = "mlflow.runName";
pub const PARENT_RUN_TAG: &str = "mlflow.parentRunId";
pub const USER_TAG: &str = "mlflow.user";
pub const LOG_MODEL_HISTORY_TAG: &str = "mlflow.log-model.history";
pub const CONTEXT_TAG: &str = "mlflow.data.context";
pub const DEFAULT_EXPERIMENT_ID: &str = "0";
pub const DEFAULT_EXPERIMENT_NAME: &str = "Default";
