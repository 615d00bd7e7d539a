//! MLflow's wire format: request fields read from a query string or a JSON
//! body, and entities written in the JSON shapes of MLflow's protos.
//!
//! MLflow's server reads a GET's fields from its query string and any other
//! request's from its JSON body; clients send int64 fields as numbers, query
//! strings send them as text, and doubles that JSON cannot hold as the
//! strings "NaN", "Infinity" and "-Infinity". [`Input`] accepts all of these
//! and names the field in every error. Responses follow proto JSON: int64 as
//! numbers, unset fields left out, NaN and ±inf as those strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::Method;
use serde_json::{Map, Value, json};

use crate::error::RunqlError;
use crate::model::validation::{format_float, parse_float};
use crate::model::{
    DatasetInput, Experiment, LoggedModelStatus, Metric, ModelLink, Run, RunInfo, RunStatus, Tag,
    ViewType,
};
use crate::serve::error::ApiError;

/// The fields of one request, or of one object inside it (a metric of a
/// batch), with the path that names them in errors.
#[derive(Debug, Clone, Default)]
pub struct Input {
    fields: Map<String, Value>,
    /// "" for the request, "metrics[2]." for an object inside it.
    prefix: String,
}

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let query = request.uri().query().unwrap_or_default().to_string();
        if request.method() == Method::GET && !query.is_empty() {
            return Ok(Input::from_query(&query));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::BodyTooLarge {
                        limit: crate::serve::MAX_BODY_BYTES,
                    }
                } else {
                    RunqlError::invalid(format!("reading the request body: {rejection}")).into()
                }
            })?;
        Input::from_json(&body)
    }
}

impl Input {
    /// Query fields; a repeated field (`run_ids=a&run_ids=b`) becomes a list.
    fn from_query(query: &str) -> Input {
        let mut fields = Map::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = Value::String(value.into_owned());
            match fields.get_mut(key.as_ref()) {
                Some(Value::Array(values)) => values.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
                None => {
                    fields.insert(key.into_owned(), value);
                }
            }
        }
        Input {
            fields,
            prefix: String::new(),
        }
    }

    fn from_json(body: &[u8]) -> Result<Input, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input::default());
        }
        let mut value: Value = serde_json::from_slice(body)
            .map_err(|e| RunqlError::invalid(format!("the request body is not valid JSON: {e}")))?;
        // Older clients encode the body twice: a JSON string holding the JSON.
        if let Value::String(text) = &value {
            value = serde_json::from_str(text).map_err(|e| {
                RunqlError::invalid(format!("the request body is not valid JSON: {e}"))
            })?;
        }
        match value {
            Value::Object(fields) => Ok(Input {
                fields,
                prefix: String::new(),
            }),
            other => Err(RunqlError::invalid(format!(
                "the request body must be a JSON object, got {other}"
            ))
            .into()),
        }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn present(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    fn invalid(&self, field: &str, value: &Value, expected: &str) -> ApiError {
        RunqlError::invalid(format!(
            "invalid value {value} for parameter '{}': expected {expected}",
            self.name(field)
        ))
        .into()
    }

    /// A text field; numbers and booleans are read as their text.
    pub fn text(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.present(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.invalid(field, other, "a string")),
        }
    }

    /// A text field that must be present and not empty, as MLflow requires.
    pub fn required(&self, field: &str) -> Result<String, ApiError> {
        self.text(field)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.missing(field))
    }

    fn missing(&self, field: &str) -> ApiError {
        RunqlError::invalid(format!(
            "Missing value for required parameter '{}'",
            self.name(field)
        ))
        .into()
    }

    /// The run a request names: `run_id`, or the older `run_uuid`.
    pub fn run_id(&self) -> Result<String, ApiError> {
        match self.text("run_id")?.filter(|s| !s.is_empty()) {
            Some(id) => Ok(id),
            None => self
                .required("run_uuid")
                .map_err(|_| self.missing("run_id")),
        }
    }

    /// An int64 field: a JSON number with no fraction, or its text.
    pub fn int(&self, field: &str) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.present(field) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(n) => n.as_i64().or_else(|| {
                // An integral float, such as 17.0, within i64's range.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.invalid(field, value, "a 64-bit integer"))
    }

    pub fn required_int(&self, field: &str) -> Result<i64, ApiError> {
        self.int(field)?.ok_or_else(|| self.missing(field))
    }

    /// A double: a JSON number, or "NaN", "Infinity", "-Infinity" (or a number's text).
    pub fn required_float(&self, field: &str) -> Result<f64, ApiError> {
        match self.present(field) {
            None => Err(self.missing(field)),
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| self.invalid(field, &Value::Number(n.clone()), "a number")),
            Some(Value::String(s)) => parse_float(s).map_err(|_| {
                self.invalid(
                    field,
                    &Value::String(s.clone()),
                    "a number, \"NaN\", \"Infinity\" or \"-Infinity\"",
                )
            }),
            Some(other) => Err(self.invalid(field, other, "a number")),
        }
    }

    /// A repeated text field; a single value counts as a list of one.
    pub fn texts(&self, field: &str) -> Result<Vec<String>, ApiError> {
        match self.present(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(self.invalid(&format!("{field}[{i}]"), other, "a string")),
                })
                .collect(),
            Some(_) => Ok(self.text(field)?.into_iter().collect()),
        }
    }

    /// A repeated message field, each element an [`Input`] of its own.
    pub fn objects(&self, field: &str) -> Result<Vec<Input>, ApiError> {
        match self.present(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(fields) => Ok(Input {
                        fields: fields.clone(),
                        prefix: self.name(&format!("{field}[{i}].")),
                    }),
                    other => Err(self.invalid(&format!("{field}[{i}]"), other, "an object")),
                })
                .collect(),
            Some(other) => Err(self.invalid(field, other, "a list")),
        }
    }

    /// A message field.
    pub fn object(&self, field: &str) -> Result<Option<Input>, ApiError> {
        match self.present(field) {
            None => Ok(None),
            Some(Value::Object(fields)) => Ok(Some(Input {
                fields: fields.clone(),
                prefix: self.name(&format!("{field}.")),
            })),
            Some(other) => Err(self.invalid(field, other, "an object")),
        }
    }

    /// A list of `{key, value}` pairs; a missing value reads as "" (as MLflow's client sends it).
    pub fn tags(&self, field: &str) -> Result<Vec<Tag>, ApiError> {
        self.objects(field)?
            .iter()
            .map(|tag| {
                Ok(Tag::new(
                    tag.required("key")?,
                    tag.text("value")?.unwrap_or_default(),
                ))
            })
            .collect()
    }
}

/// An enum field: its name in any case, or its number in MLflow's proto.
fn proto_enum<T: std::str::FromStr<Err = RunqlError> + Copy>(
    input: &Input,
    field: &str,
    numbered: &[T],
) -> Result<Option<T>, ApiError> {
    let Some(text) = input.text(field)? else {
        return Ok(None);
    };
    if let Ok(number) = text.parse::<usize>() {
        return number
            .checked_sub(1)
            .and_then(|i| numbered.get(i))
            .map(|v| Some(*v))
            .ok_or_else(|| input.invalid(field, &Value::String(text), "a known value"));
    }
    Ok(Some(text.parse::<T>().map_err(|e| {
        e.prefixed(&format!("'{}': ", input.name(field)))
    })?))
}

/// A `ViewType` field (ACTIVE_ONLY = 1, DELETED_ONLY = 2, ALL = 3); unset means ACTIVE_ONLY.
pub fn view_type(input: &Input, field: &str) -> Result<ViewType, ApiError> {
    Ok(proto_enum(input, field, ViewType::ALL)?.unwrap_or(ViewType::ActiveOnly))
}

/// A `RunStatus` field (RUNNING = 1, SCHEDULED, FINISHED, FAILED, KILLED = 5).
pub fn run_status(input: &Input, field: &str) -> Result<Option<RunStatus>, ApiError> {
    proto_enum(input, field, RunStatus::ALL)
}

/// A `LoggedModelStatus` field (PENDING = 1, READY = 2, UPLOAD_FAILED = 3).
pub fn model_status(input: &Input, field: &str) -> Result<Option<LoggedModelStatus>, ApiError> {
    proto_enum(input, field, LoggedModelStatus::ALL)
}

/// A value cut to `limit` characters, as MLflow's server cuts long param and
/// tag values rather than refusing them.
pub fn truncated(mut value: String, limit: usize) -> String {
    if let Some((cut, _)) = value.char_indices().nth(limit) {
        value.truncate(cut);
    }
    value
}

/// A page of a search: the items under `field` and the next page's token,
/// each left out when there is none, as proto JSON leaves out unset fields.
pub fn page(field: &str, items: Vec<Value>, next_page_token: Option<String>) -> Value {
    let mut answer = Map::new();
    if !items.is_empty() {
        answer.insert(field.to_string(), Value::Array(items));
    }
    if let Some(token) = next_page_token {
        answer.insert("next_page_token".into(), Value::String(token));
    }
    Value::Object(answer)
}

/// A double as proto JSON writes it: a number, or "NaN", "Infinity", "-Infinity".
pub fn float(value: f64) -> Value {
    if value.is_finite() {
        json!(value)
    } else {
        Value::String(format_float(value))
    }
}

pub fn tags(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({ "key": t.key, "value": t.value }))
            .collect(),
    )
}

pub fn metric(metric: &Metric) -> Value {
    json!({
        "key": metric.key,
        "value": float(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    })
}

/// Adds the fields that are set; proto JSON leaves unset ones out.
fn set_fields(
    object: &mut Map<String, Value>,
    fields: impl IntoIterator<Item = (&'static str, Option<Value>)>,
) {
    for (name, value) in fields {
        if let Some(value) = value {
            object.insert(name.to_string(), value);
        }
    }
}

pub fn experiment(experiment: &Experiment) -> Value {
    let mut object = Map::new();
    object.insert("experiment_id".into(), json!(experiment.experiment_id));
    object.insert("name".into(), json!(experiment.name));
    object.insert(
        "artifact_location".into(),
        json!(experiment.artifact_location),
    );
    object.insert(
        "lifecycle_stage".into(),
        json!(experiment.lifecycle_stage.as_str()),
    );
    set_fields(
        &mut object,
        [
            (
                "last_update_time",
                experiment.last_update_time.map(Value::from),
            ),
            ("creation_time", experiment.creation_time.map(Value::from)),
            (
                "tags",
                (!experiment.tags.is_empty()).then(|| tags(&experiment.tags)),
            ),
        ],
    );
    Value::Object(object)
}

pub fn run_info(info: &RunInfo) -> Value {
    let mut object = Map::new();
    object.insert("run_uuid".into(), json!(info.run_id));
    object.insert("experiment_id".into(), json!(info.experiment_id));
    object.insert("run_name".into(), json!(info.run_name));
    object.insert("user_id".into(), json!(info.user_id));
    object.insert("status".into(), json!(info.status.as_str()));
    set_fields(
        &mut object,
        [
            ("start_time", info.start_time.map(Value::from)),
            ("end_time", info.end_time.map(Value::from)),
        ],
    );
    object.insert("artifact_uri".into(), json!(info.artifact_uri));
    object.insert(
        "lifecycle_stage".into(),
        json!(info.lifecycle_stage.as_str()),
    );
    object.insert("run_id".into(), json!(info.run_id));
    Value::Object(object)
}

fn dataset_input(input: &DatasetInput) -> Value {
    let dataset = &input.dataset;
    let mut fields = Map::new();
    fields.insert("name".into(), json!(dataset.name));
    fields.insert("digest".into(), json!(dataset.digest));
    fields.insert("source_type".into(), json!(dataset.source_type));
    fields.insert("source".into(), json!(dataset.source));
    set_fields(
        &mut fields,
        [
            ("schema", dataset.schema.clone().map(Value::from)),
            ("profile", dataset.profile.clone().map(Value::from)),
        ],
    );
    let mut object = Map::new();
    if !input.tags.is_empty() {
        object.insert("tags".into(), tags(&input.tags));
    }
    object.insert("dataset".into(), Value::Object(fields));
    Value::Object(object)
}

pub fn run(run: &Run) -> Value {
    let mut data = Map::new();
    let metrics: Vec<Value> = run.data.metrics.iter().map(metric).collect();
    set_fields(
        &mut data,
        [
            (
                "metrics",
                (!metrics.is_empty()).then_some(Value::Array(metrics)),
            ),
            (
                "params",
                (!run.data.params.is_empty()).then(|| tags(&run.data.params)),
            ),
            (
                "tags",
                (!run.data.tags.is_empty()).then(|| tags(&run.data.tags)),
            ),
        ],
    );
    let links = |links: &[ModelLink]| -> Value {
        links
            .iter()
            .map(|link| {
                let mut object = json!({ "model_id": link.model_id });
                if let Some(step) = link.step {
                    object["step"] = json!(step);
                }
                object
            })
            .collect()
    };
    let mut inputs = Map::new();
    if !run.inputs.is_empty() {
        inputs.insert(
            "dataset_inputs".into(),
            Value::Array(run.inputs.iter().map(dataset_input).collect()),
        );
    }
    if !run.model_inputs.is_empty() {
        inputs.insert("model_inputs".into(), links(&run.model_inputs));
    }
    let mut outputs = Map::new();
    if !run.model_outputs.is_empty() {
        outputs.insert("model_outputs".into(), links(&run.model_outputs));
    }
    json!({
        "info": run_info(&run.info),
        "data": Value::Object(data),
        "inputs": Value::Object(inputs),
        "outputs": Value::Object(outputs),
    })
}
