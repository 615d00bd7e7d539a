//! MLflow's validation rules and limits (`mlflow/utils/validation.py`), in one
//! place. Every entry point (library, EXEC, INSERT) validates through here
//! before anything is written, and every message names the argument, the
//! limit and the value it got.

use std::fmt::Display;

use crate::error::{Result, RunqlError};
use crate::model::{Metric, RUN_NAME_TAG, Tag};

pub const MAX_ENTITY_KEY_LENGTH: usize = 250;
pub const MAX_PARAM_VALUE_LENGTH: usize = 6000;
pub const MAX_TAG_VALUE_LENGTH: usize = 8000;
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 500;
pub const MAX_EXPERIMENT_TAG_VALUE_LENGTH: usize = 5000;
pub const MAX_METRICS_PER_BATCH: usize = 1000;
pub const MAX_PARAMS_PER_BATCH: usize = 100;
pub const MAX_TAGS_PER_BATCH: usize = 100;
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
pub const MAX_BULK_RUNS: i64 = 10_000;
pub const MAX_DATASET_NAME_LENGTH: usize = 500;
pub const MAX_DATASET_DIGEST_LENGTH: usize = 36;
pub const MAX_DATASET_SOURCE_LENGTH: usize = 65_535;
pub const MAX_DATASET_SCHEMA_LENGTH: usize = 1_048_575;
pub const MAX_DATASET_PROFILE_LENGTH: usize = 16_777_215;
pub const MAX_INPUT_TAG_KEY_LENGTH: usize = 255;
pub const MAX_INPUT_TAG_VALUE_LENGTH: usize = 500;

/// What a key names, for messages: "metric", "param", "tag", "experiment tag".
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    Metric,
    Param,
    Tag,
    ExperimentTag,
}

impl KeyKind {
    fn noun(self) -> &'static str {
        match self {
            KeyKind::Metric => "metric",
            KeyKind::Param => "param",
            KeyKind::Tag => "tag",
            KeyKind::ExperimentTag => "experiment tag",
        }
    }
}

/// A value shown in a message: quoted, and cut so a 10 MB value doesn't fill the screen.
pub fn shown(value: &str) -> String {
    const MAX_SHOWN: usize = 60;
    // Control characters are escaped: echoed raw they would garble a
    // terminal (ESC sequences) or a log line (newlines).
    let mut out = String::from("'");
    for (i, c) in value.chars().enumerate() {
        if i == MAX_SHOWN {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// An experiment's artifact location: a path or URL with no query or
/// fragment, which would silently move a run's `<location>/<run_id>/artifacts`
/// somewhere else, as MLflow refuses them.
pub fn validate_artifact_location(location: &str) -> Result<()> {
    validate_length("artifact_location", location, MAX_DATASET_SOURCE_LENGTH)?;
    validate_no_control_chars("artifact_location", location)?;
    if location.contains(['?', '#']) {
        return Err(RunqlError::invalid(format!(
            "artifact_location {} must not contain '?' or '#'",
            shown(location)
        )));
    }
    Ok(())
}

/// The segments of a relative artifact path, such as `1/<run_id>/artifacts/model/MLmodel`.
/// Refused: absolute paths, `.` and `..` segments, empty segments, backslashes,
/// control characters and `%` (a path arrives decoded once; a `%` left over
/// is an encoding trick, never a name MLflow writes). So a path can never
/// leave the prefix it is joined to. A trailing `/` is allowed.
pub fn artifact_path(path: &str) -> Result<Vec<String>> {
    let refuse = |why: &str| {
        Err(RunqlError::invalid(format!(
            "artifact path {} {why}",
            shown(path)
        )))
    };
    if path.starts_with('/') {
        return refuse("must be relative");
    }
    if path.contains('\\') || path.contains('%') || path.chars().any(char::is_control) {
        return refuse("must not contain backslashes, '%' or control characters");
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return refuse("is empty");
    }
    let segments: Vec<String> = trimmed.split('/').map(str::to_string).collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return refuse("must not contain empty, '.' or '..' segments");
    }
    Ok(segments)
}

/// Keys may hold alphanumerics, `_ - . : /` and spaces, and must not change
/// under path normalisation (no `..`, no leading `/`, no `//`), because MLflow
/// stores may use them as file names.
pub fn validate_key(kind: KeyKind, key: &str) -> Result<()> {
    let noun = kind.noun();
    if key.is_empty() {
        return Err(RunqlError::invalid(format!("{noun} key must not be empty")));
    }
    let length = key.chars().count();
    if length > MAX_ENTITY_KEY_LENGTH {
        return Err(RunqlError::invalid(format!(
            "{noun} key {} has length {length}, which exceeds the limit of {MAX_ENTITY_KEY_LENGTH}",
            shown(key)
        )));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | ':' | '/')))
    {
        return Err(RunqlError::invalid(format!(
            "{noun} key {} contains {bad:?}; keys may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)",
            shown(key)
        )));
    }
    if let Some(normalised) = path_not_unique(key) {
        return Err(RunqlError::invalid(format!(
            "{noun} key {} would resolve to {} when treated as a path; keys must not start with '/' or contain '..' or empty segments",
            shown(key),
            shown(&normalised)
        )));
    }
    Ok(())
}

/// Python's `posixpath.normpath` check from MLflow: returns the normal form when it differs.
fn path_not_unique(key: &str) -> Option<String> {
    let absolute = key.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in key.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let mut normalised = parts.join("/");
    if absolute {
        normalised.insert(0, '/');
    }
    if normalised.is_empty() {
        normalised.push('.');
    }
    let bad = normalised != key
        || normalised == "."
        || normalised.starts_with("..")
        || normalised.starts_with('/');
    bad.then_some(normalised)
}

/// `what` names the field in the error; it is formatted only on failure.
pub fn validate_length(what: impl Display, value: &str, limit: usize) -> Result<()> {
    let length = value.chars().count();
    if length > limit {
        return Err(RunqlError::invalid(format!(
            "{what} {} has length {length}, which exceeds the limit of {limit}",
            shown(value)
        )));
    }
    Ok(())
}

/// A key and its value, with the value limit of the key's kind.
fn validate_entry(kind: KeyKind, entry: &Tag, value_limit: usize) -> Result<()> {
    validate_key(kind, &entry.key)?;
    validate_length(
        format_args!("{} '{}' value", kind.noun(), entry.key),
        &entry.value,
        value_limit,
    )
}

pub fn validate_param(param: &Tag) -> Result<()> {
    validate_entry(KeyKind::Param, param, MAX_PARAM_VALUE_LENGTH)
}

fn validate_tag(tag: &Tag) -> Result<()> {
    validate_entry(KeyKind::Tag, tag, MAX_TAG_VALUE_LENGTH)
}

pub fn validate_experiment_tag(tag: &Tag) -> Result<()> {
    validate_entry(KeyKind::ExperimentTag, tag, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
}

/// A time given by a caller: milliseconds since the epoch, not before it, and
/// small enough to store as microseconds (see [`micros_from_millis`]).
pub fn validate_time(name: impl Display, millis: i64) -> Result<()> {
    if millis < 0 {
        return Err(RunqlError::invalid(format!(
            "{name} must be milliseconds since the epoch, got {millis}"
        )));
    }
    micros_from_millis(&name, millis).map(drop)
}

pub fn validate_metric(metric: &Metric) -> Result<()> {
    validate_key(KeyKind::Metric, &metric.key)?;
    validate_metric_fields(
        &metric.key,
        metric.timestamp,
        [
            metric.dataset_name.as_deref(),
            metric.dataset_digest.as_deref(),
            metric.model_id.as_deref(),
        ],
    )
}

/// A metric value's timestamp and its dataset name, dataset digest and model
/// id (each optional); the key is checked apart, as a bulk load checks each
/// key once. Errors name the field as `metric '<key>' <field>`.
pub fn validate_metric_fields(key: &str, timestamp: i64, names: [Option<&str>; 3]) -> Result<()> {
    validate_time(format_args!("metric '{key}' timestamp"), timestamp)?;
    for (what, name) in ["dataset_name", "dataset_digest", "model_id"]
        .iter()
        .zip(names)
    {
        if let Some(name) = name {
            validate_length(
                format_args!("metric '{key}' {what}"),
                name,
                MAX_DATASET_NAME_LENGTH,
            )?;
        }
    }
    Ok(())
}

/// A run tag. The run name tag names the run, so it also follows run_name's rules.
pub fn validate_run_tag(tag: &Tag) -> Result<()> {
    validate_tag(tag)?;
    if tag.key == RUN_NAME_TAG {
        validate_run_name(&tag.value)?;
    }
    Ok(())
}

pub fn validate_experiment_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(RunqlError::invalid(
            "experiment name must be a non-empty string",
        ));
    }
    validate_length("experiment name", name, MAX_EXPERIMENT_NAME_LENGTH)?;
    validate_no_control_chars("experiment name", name)
}

pub fn validate_run_name(name: &str) -> Result<()> {
    validate_length("run_name", name, MAX_TAG_VALUE_LENGTH)?;
    validate_no_control_chars("run_name", name)
}

fn validate_no_control_chars(what: &str, value: &str) -> Result<()> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(RunqlError::invalid(format!(
            "{what} {} contains the control character {c:?}",
            shown(value)
        ))),
        None => Ok(()),
    }
}

/// Ids are letters, digits, '-' and '_': safe in paths, URLs and messages.
fn validate_id(what: &str, noun: &str, id: &str, max_length: usize) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= max_length
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(RunqlError::invalid(format!(
            "{what} {} is not a valid {noun}: expected up to {max_length} letters, digits, '-' or '_'",
            shown(id)
        )))
    }
}

/// A logged model's id, such as `m-` and 32 hex digits.
pub fn validate_model_id(model_id: &str) -> Result<()> {
    validate_id("model_id", "model id", model_id, 256)
}

/// A logged model's name: not empty, and none of `/ : . % " '`, which MLflow
/// refuses because a name appears in model URIs.
pub fn validate_model_name(name: &str) -> Result<()> {
    validate_length("model name", name, MAX_TAG_VALUE_LENGTH)?;
    validate_no_control_chars("model name", name)?;
    if name.is_empty() || name.contains(['/', ':', '.', '%', '"', '\'']) {
        return Err(RunqlError::invalid(format!(
            "model name {} must not be empty or contain any of / : . % \" '",
            shown(name)
        )));
    }
    Ok(())
}

/// A run id, such as the 32 hex digits MLflow and runql generate.
pub fn validate_run_id(run_id: &str) -> Result<()> {
    validate_id("run_id", "run id", run_id, 256)
}

pub fn validate_experiment_id(experiment_id: &str) -> Result<()> {
    validate_id("experiment_id", "experiment id", experiment_id, 64)
}

/// MLflow's batch limits: 1000 metrics, 100 params, 100 tags, 1000 in all.
pub fn validate_batch_size(metrics: usize, params: usize, tags: usize) -> Result<()> {
    let limits = [
        ("metrics", metrics, MAX_METRICS_PER_BATCH),
        ("params", params, MAX_PARAMS_PER_BATCH),
        ("tags", tags, MAX_TAGS_PER_BATCH),
        (
            "metrics, params and tags in all",
            metrics + params + tags,
            MAX_ENTITIES_PER_BATCH,
        ),
    ];
    for (what, count, limit) in limits {
        if count > limit {
            return Err(RunqlError::invalid(format!(
                "a batch may hold at most {limit} {what}, got {count}"
            )));
        }
    }
    Ok(())
}

pub fn validate_max_runs(max_runs: i64) -> Result<()> {
    if !(1..=MAX_BULK_RUNS).contains(&max_runs) {
        return Err(RunqlError::invalid(format!(
            "max_runs must be between 1 and {MAX_BULK_RUNS}, got {max_runs}"
        )));
    }
    Ok(())
}

/// Parses a metric value: a number, or NaN/Infinity/-Infinity spelled as MLflow and Python do.
/// A time in milliseconds as the microseconds runql stores (Delta and Parquet
/// timestamps). MLflow takes any 64-bit milliseconds; beyond about ±292,000
/// years the microseconds overflow, and such a value is refused rather than
/// stored wrapped.
pub fn micros_from_millis(name: impl Display, millis: i64) -> Result<i64> {
    millis.checked_mul(1000).ok_or_else(|| {
        RunqlError::invalid(format!(
            "{name} {millis} is out of range; times are milliseconds since the epoch from {} to {}",
            i64::MIN / 1000,
            i64::MAX / 1000
        ))
    })
}

/// A date or date-time written as text, as microseconds since the epoch:
/// RFC 3339, or `YYYY-MM-DD[ HH:MM[:SS]]` taken as UTC.
pub fn parse_time_micros(text: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_micros());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc().timestamp_micros())
}

pub fn parse_float(text: &str) -> Result<f64> {
    let trimmed = text.trim();
    match trimmed.to_ascii_lowercase().as_str() {
        "nan" => Ok(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Ok(f64::INFINITY),
        "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
        _ => trimmed
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| RunqlError::invalid(format!("{} is not a number", shown(text)))),
    }
}

/// The inverse of [`parse_float`] for the values JSON cannot hold.
pub fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "Infinity".into()
    } else if value == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_mlflow_path_rules() {
        for good in ["loss", "val/loss", "a.b", "a b:c", "x-y_z", "ünï"] {
            assert!(validate_key(KeyKind::Metric, good).is_ok(), "{good}");
        }
        for bad in [
            "", "/abs", "a/../b", "..", "../x", "a//b", "a/", "./a", "a\nb", "a$b",
        ] {
            assert!(validate_key(KeyKind::Metric, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn floats_round_trip_through_text() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.1, -3.5e300] {
            let back = parse_float(&format_float(v)).unwrap();
            assert_eq!(back.to_bits(), v.to_bits());
        }
        assert!(parse_float("1e999").is_err());
        assert!(parse_float("abc").is_err());
    }
}
