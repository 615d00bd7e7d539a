//! `/metrics/get-history` (paged, as the client reads it 25,000 values at a
//! time) and `/metrics/get-history-bulk-interval` (a sample of several runs'
//! histories for charts).

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::error::{ErrorCode, RunqlError};
use crate::model::Metric;
use crate::serve::App;
use crate::serve::error::{ApiError, ApiResult};
use crate::serve::wire::{self, Input};

type Answer = ApiResult<Json<Value>>;

/// Runs one bulk-interval request may name, and values it returns per run.
const MAX_BULK_RUNS: usize = 100;
const MAX_BULK_VALUES: i64 = 2500;

/// MLflow's history page token: base64 of `{"offset": N}`.
fn offset_of(token: Option<String>) -> Result<usize, ApiError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let invalid = || ApiError::from(RunqlError::invalid(format!("invalid page token '{token}'")));
    let decoded = STANDARD.decode(token.trim()).map_err(|_| invalid())?;
    let fields: Value = serde_json::from_slice(&decoded).map_err(|_| invalid())?;
    fields
        .get("offset")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(invalid)
}

fn token_for(offset: usize) -> String {
    STANDARD.encode(format!("{{\"offset\": {offset}}}"))
}

fn positive(input: &Input, field: &str) -> Result<Option<usize>, ApiError> {
    match input.int(field)? {
        None => Ok(None),
        Some(n) if n > 0 => Ok(Some(n as usize)),
        Some(n) => Err(RunqlError::invalid(format!(
            "invalid value {n} for parameter '{field}': it must be a positive integer"
        ))
        .into()),
    }
}

pub async fn history(State(app): State<App>, input: Input) -> Answer {
    let run_id = input.run_id()?;
    let key = input.required("metric_key")?;
    let limit = positive(&input, "max_results")?;
    let offset = offset_of(input.text("page_token")?)?;
    let (metrics, more) = match app
        .store
        .metric_history_page(&run_id, &key, offset, limit)
        .await
    {
        Ok(page) => page,
        // MLflow answers an unknown run with an empty history.
        Err(e) if e.code() == ErrorCode::ResourceDoesNotExist => (Vec::new(), false),
        Err(e) => return Err(e.into()),
    };
    let mut answer = serde_json::Map::new();
    if !metrics.is_empty() {
        answer.insert("metrics".into(), metrics.iter().map(wire::metric).collect());
    }
    if more {
        let next = offset + limit.unwrap_or_default();
        answer.insert("next_page_token".into(), json!(token_for(next)));
    }
    Ok(Json(Value::Object(answer)))
}

pub async fn history_bulk_interval(State(app): State<App>, input: Input) -> Answer {
    let run_ids = input.texts("run_ids")?;
    if run_ids.is_empty() || run_ids.len() > MAX_BULK_RUNS {
        return Err(RunqlError::invalid(format!(
            "run_ids must name 1 to {MAX_BULK_RUNS} runs, got {}",
            run_ids.len()
        ))
        .into());
    }
    let key = input.required("metric_key")?;
    let steps = match (input.int("start_step")?, input.int("end_step")?) {
        (None, None) => None,
        (Some(start), Some(end)) if start <= end => Some(start..=end),
        (Some(start), Some(end)) => {
            return Err(RunqlError::invalid(format!(
                "end_step must be greater than start_step; found start_step={start} and end_step={end}"
            ))
            .into());
        }
        _ => {
            return Err(
                RunqlError::invalid("give both start_step and end_step, or neither").into(),
            );
        }
    };
    let max_values = input.int("max_results")?.unwrap_or(MAX_BULK_VALUES);
    if !(1..=MAX_BULK_VALUES).contains(&max_values) {
        return Err(RunqlError::invalid(format!(
            "max_results must be between 1 and {MAX_BULK_VALUES}, got {max_values}"
        ))
        .into());
    }
    let mut answer = Vec::new();
    for run_id in &run_ids {
        let mut history: Vec<Metric> = app
            .store
            .get_metric_history(run_id, &key)
            .await?
            .into_iter()
            .filter(|m| steps.as_ref().is_none_or(|s| s.contains(&m.step)))
            .collect();
        history.sort_by(|a, b| {
            (a.step, a.timestamp)
                .cmp(&(b.step, b.timestamp))
                .then(a.value.total_cmp(&b.value))
        });
        for metric in sampled(history, max_values as usize) {
            let mut value = wire::metric(&metric);
            value["run_id"] = json!(run_id);
            answer.push(value);
        }
    }
    let mut body = serde_json::Map::new();
    if !answer.is_empty() {
        body.insert("metrics".into(), Value::Array(answer));
    }
    Ok(Json(Value::Object(body)))
}

/// At most `count` values spread evenly over the history, as MLflow samples
/// it: the first value of each of `count` equal buckets, with the last
/// value of the history in place of the last sample, so a chart ends where
/// the run ended.
fn sampled(history: Vec<Metric>, count: usize) -> Vec<Metric> {
    let total = history.len();
    if total <= count {
        return history;
    }
    let (size, larger) = (total / count, total % count);
    let mut sample: Vec<Metric> = (0..count)
        .map(|bucket| history[bucket * size + bucket.min(larger)].clone())
        .collect();
    if let (Some(last_sample), Some(last)) = (sample.last_mut(), history.last()) {
        *last_sample = last.clone();
    }
    sample
}
