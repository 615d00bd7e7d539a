//! Logging to a run: metrics, params, tags, inputs, outputs and models.
//!
//! Every form goes through [`Store::log_batch`] or shares its checks, so the
//! rules are written once: params are write-once, tags overwrite, metrics
//! append (exact repeats collapse), deleted runs refuse writes, and a batch
//! with one bad entry writes nothing.

use std::collections::HashMap;

use crate::error::{Result, RunqlError};
use crate::model::validation::{
    KeyKind, MAX_DATASET_DIGEST_LENGTH, MAX_DATASET_NAME_LENGTH, MAX_DATASET_PROFILE_LENGTH,
    MAX_DATASET_SCHEMA_LENGTH, MAX_DATASET_SOURCE_LENGTH, MAX_INPUT_TAG_KEY_LENGTH,
    MAX_INPUT_TAG_VALUE_LENGTH, shown, validate_batch_size, validate_key, validate_length,
    validate_metric, validate_param, validate_run_tag,
};
use crate::model::{
    DatasetInput, LOG_MODEL_HISTORY_TAG, Metric, ModelLink, Param, RUN_NAME_TAG, Tag,
};
use crate::store::claims::Claim;
use crate::store::rows::{self, KeyChange, RunChange};
use crate::store::schema::RawTable;
use crate::store::{Store, WriteSet};

/// What a log call wrote, after no-ops (repeated params, repeated metric values) are dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logged {
    pub metrics: usize,
    pub params: usize,
    pub tags: usize,
}

impl Store {
    pub async fn log_metric(&self, run_id: &str, metric: Metric) -> Result<Logged> {
        self.log_batch(run_id, vec![metric], vec![], vec![]).await
    }

    pub async fn log_param(&self, run_id: &str, key: &str, value: &str) -> Result<Logged> {
        self.log_batch(run_id, vec![], vec![Param::new(key, value)], vec![])
            .await
    }

    pub async fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<Logged> {
        self.log_batch(run_id, vec![], vec![], vec![Tag::new(key, value)])
            .await
    }

    /// Logs metrics, params and tags to an active run, all or nothing.
    pub async fn log_batch(
        &self,
        run_id: &str,
        metrics: Vec<Metric>,
        params: Vec<Param>,
        tags: Vec<Tag>,
    ) -> Result<Logged> {
        validate_batch_size(metrics.len(), params.len(), tags.len())?;
        for metric in &metrics {
            validate_metric(metric)?;
        }
        for param in &params {
            validate_param(param)?;
        }
        for tag in &tags {
            validate_run_tag(tag)?;
        }
        let params = distinct_params(params)?;
        let run = self.active_run(run_id).await?;
        let params = self.new_params(run_id, params).await?;
        let claimed = self.claim_new_params(run_id, &params).await?;

        let unique_metrics = distinct_metrics(metrics);
        // The run name is held by the run itself; the latest one in the batch wins.
        let (name_tags, tags): (Vec<Tag>, Vec<Tag>) =
            tags.into_iter().partition(|t| t.key == RUN_NAME_TAG);
        let logged = Logged {
            metrics: unique_metrics.len(),
            params: params.len(),
            tags: tags.len() + name_tags.len(),
        };

        let mut write = WriteSet::new();
        let metric_rows: Vec<(&str, &Metric)> =
            unique_metrics.iter().map(|m| (run_id, m)).collect();
        write.add(RawTable::Metrics, rows::metrics(&metric_rows)?);
        write.add(
            RawTable::Params,
            rows::key_changes(RawTable::Params, &owned(run_id, &params), self.clock())?,
        );
        write.add(
            RawTable::Tags,
            rows::key_changes(RawTable::Tags, &owned(run_id, &tags), self.clock())?,
        );
        if let Some(name) = name_tags.last() {
            let change = RunChange {
                run_id: run_id.to_string(),
                experiment_id: run.experiment_id,
                run_name: Some(name.value.clone()),
                ..Default::default()
            };
            write.add(RawTable::Runs, rows::run_changes(&[change], self.clock())?);
        }
        if let Err(error) = self.write_or_buffer(write).await {
            let keys: Vec<&str> = claimed.iter().map(|k| k.as_str()).collect();
            self.release_param_claims(run_id, &keys).await;
            return Err(error);
        }
        Ok(logged)
    }

    /// Claims the params about to be written (see `store/claims.rs`), so a
    /// writer in another process racing with a different value loses before
    /// writing anything. Returns the keys this call claimed; on a lost claim
    /// it gives them back and fails.
    async fn claim_new_params(&self, run_id: &str, params: &[Param]) -> Result<Vec<String>> {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        let claims = self.claim_params(run_id, &pairs).await?;
        let taken: Vec<String> = params
            .iter()
            .zip(&claims)
            .filter(|(_, claim)| **claim == Claim::Taken)
            .map(|(param, _)| param.key.clone())
            .collect();
        for (param, claim) in params.iter().zip(&claims) {
            if let Claim::Held(holder) = claim
                && *holder != param.value
            {
                let keys: Vec<&str> = taken.iter().map(|k| k.as_str()).collect();
                self.release_param_claims(run_id, &keys).await;
                return Err(RunqlError::invalid(format!(
                    "param '{}' of run {run_id} already has value {}; params are write-once (got {})",
                    param.key,
                    shown(holder),
                    shown(&param.value)
                )));
            }
        }
        Ok(taken)
    }

    /// Drops params already logged with the same value; a different value is an error.
    async fn new_params(&self, run_id: &str, params: Vec<Param>) -> Result<Vec<Param>> {
        if params.is_empty() {
            return Ok(params);
        }
        let existing: HashMap<String, String> = self
            .run_params(run_id)
            .await?
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect();
        let mut fresh = Vec::new();
        for param in params {
            match existing.get(&param.key) {
                None => fresh.push(param),
                Some(old) if *old == param.value => {}
                Some(old) => {
                    return Err(RunqlError::invalid(format!(
                        "param '{}' of run {run_id} already has value {}; params are write-once (got {})",
                        param.key,
                        shown(old),
                        shown(&param.value)
                    )));
                }
            }
        }
        Ok(fresh)
    }

    /// Deletes a tag from an active run; RESOURCE_DOES_NOT_EXIST if it is not set.
    pub async fn delete_tag(&self, run_id: &str, key: &str) -> Result<()> {
        validate_key(KeyKind::Tag, key)?;
        if key == RUN_NAME_TAG {
            return Err(RunqlError::invalid(format!(
                "tag '{RUN_NAME_TAG}' holds the run's name and cannot be deleted; rename the run instead"
            )));
        }
        self.active_run(run_id).await?;
        if !self.run_tags(run_id).await?.iter().any(|t| t.key == key) {
            return Err(RunqlError::not_found("tag", key).at(format!(" on run '{run_id}'")));
        }
        let deletion = KeyChange {
            owner: run_id.to_string(),
            key: key.to_string(),
            value: None,
        };
        let mut write = WriteSet::new();
        write.add(
            RawTable::Tags,
            rows::key_changes(RawTable::Tags, &[deletion], self.clock())?,
        );
        self.write(write).await
    }

    /// Records the datasets and models a run used.
    pub async fn log_inputs(
        &self,
        run_id: &str,
        datasets: Vec<DatasetInput>,
        models: Vec<ModelLink>,
    ) -> Result<()> {
        for input in &datasets {
            validate_dataset_input(input)?;
        }
        for model in &models {
            validate_length("model_id", &model.model_id, MAX_DATASET_NAME_LENGTH)?;
        }
        self.active_run(run_id).await?;
        let mut write = WriteSet::new();
        write.add(RawTable::Inputs, rows::inputs(run_id, &datasets)?);
        write.add(
            RawTable::ModelLinks,
            rows::model_links(run_id, "input", &models)?,
        );
        self.write(write).await
    }

    /// Records the models a run produced.
    pub async fn log_outputs(&self, run_id: &str, models: Vec<ModelLink>) -> Result<()> {
        for model in &models {
            validate_length("model_id", &model.model_id, MAX_DATASET_NAME_LENGTH)?;
        }
        self.active_run(run_id).await?;
        let mut write = WriteSet::new();
        write.add(
            RawTable::ModelLinks,
            rows::model_links(run_id, "output", &models)?,
        );
        self.write(write).await
    }

    /// MLflow's LogModel: appends the MLmodel JSON to the run's
    /// `mlflow.log-model.history` tag.
    pub async fn log_model(&self, run_id: &str, model_json: &str) -> Result<()> {
        let model: serde_json::Value = serde_json::from_str(model_json)
            .map_err(|e| RunqlError::invalid(format!("model_json is not valid JSON: {e}")))?;
        if !model.is_object() {
            return Err(RunqlError::invalid(format!(
                "model_json must be a JSON object, got {}",
                shown(model_json)
            )));
        }
        self.active_run(run_id).await?;
        let mut history: Vec<serde_json::Value> = self
            .run_tags(run_id)
            .await?
            .into_iter()
            .find(|t| t.key == LOG_MODEL_HISTORY_TAG)
            .and_then(|t| serde_json::from_str(&t.value).ok())
            .unwrap_or_default();
        history.push(model);
        let value = serde_json::Value::Array(history).to_string();
        self.set_tag(run_id, LOG_MODEL_HISTORY_TAG, &value).await?;
        Ok(())
    }
}

/// One value per param key in a batch: repeats of the same value collapse,
/// different values for one key are an error, as in MLflow.
fn distinct_params(params: Vec<Param>) -> Result<Vec<Param>> {
    let mut seen: Vec<Param> = Vec::with_capacity(params.len());
    for param in params {
        match seen.iter().find(|p| p.key == param.key) {
            None => seen.push(param),
            Some(first) if first.value == param.value => {}
            Some(first) => {
                return Err(RunqlError::invalid(format!(
                    "param '{}' appears twice in one batch with different values ({} and {})",
                    param.key,
                    shown(&first.value),
                    shown(&param.value)
                )));
            }
        }
    }
    Ok(seen)
}

/// The metrics without exact repeats, in their first order. Repeats share a
/// (key, timestamp, step), so only those are compared: a 1000-metric batch
/// costs a thousand lookups, not half a million comparisons.
fn distinct_metrics(metrics: Vec<Metric>) -> Vec<Metric> {
    let mut keep = vec![true; metrics.len()];
    let mut kept_at_point: HashMap<(&str, i64, i64), Vec<usize>> = HashMap::new();
    for (index, metric) in metrics.iter().enumerate() {
        let point = (metric.key.as_str(), metric.timestamp, metric.step);
        let kept = kept_at_point.entry(point).or_default();
        if kept.iter().any(|&earlier| metrics[earlier] == *metric) {
            keep[index] = false;
        } else {
            kept.push(index);
        }
    }
    metrics
        .into_iter()
        .zip(keep)
        .filter_map(|(metric, kept)| kept.then_some(metric))
        .collect()
}

fn owned(run_id: &str, entries: &[Tag]) -> Vec<KeyChange> {
    entries
        .iter()
        .map(|t| KeyChange {
            owner: run_id.to_string(),
            key: t.key.clone(),
            value: Some(t.value.clone()),
        })
        .collect()
}

fn validate_dataset_input(input: &DatasetInput) -> Result<()> {
    let dataset = &input.dataset;
    if dataset.name.is_empty() || dataset.digest.is_empty() {
        return Err(RunqlError::invalid(
            "a dataset needs a non-empty name and digest",
        ));
    }
    let limits = [
        (
            "dataset name",
            dataset.name.as_str(),
            MAX_DATASET_NAME_LENGTH,
        ),
        ("dataset digest", &dataset.digest, MAX_DATASET_DIGEST_LENGTH),
        ("dataset source", &dataset.source, MAX_DATASET_SOURCE_LENGTH),
        (
            "dataset schema",
            dataset.schema.as_deref().unwrap_or(""),
            MAX_DATASET_SCHEMA_LENGTH,
        ),
        (
            "dataset profile",
            dataset.profile.as_deref().unwrap_or(""),
            MAX_DATASET_PROFILE_LENGTH,
        ),
    ];
    for (what, value, limit) in limits {
        validate_length(what, value, limit)?;
    }
    for tag in &input.tags {
        validate_length("input tag key", &tag.key, MAX_INPUT_TAG_KEY_LENGTH)?;
        validate_length("input tag value", &tag.value, MAX_INPUT_TAG_VALUE_LENGTH)?;
    }
    Ok(())
}
