//! Runs: create, get, update, delete, restore, and the bulk forms by time.

use datafusion::common::ScalarValue;

use crate::api::read::Rows;
use crate::error::{Result, RunqlError};
use crate::model::validation::{
    MAX_BULK_RUNS, micros_from_millis, validate_batch_size, validate_experiment_id,
    validate_max_runs, validate_run_id, validate_run_name, validate_run_tag, validate_time,
};
use crate::model::{
    DEFAULT_EXPERIMENT_ID, LifecycleStage, Millis, RUN_NAME_TAG, Run, RunData, RunInfo, RunStatus,
    Tag, USER_TAG, now_millis,
};
use crate::store::rows::{self, KeyChange, RunChange};
use crate::store::schema::{RawTable, timestamp_scalar};
use crate::store::{Store, WriteSet};

/// Arguments of [`Store::create_run`]; every field is optional, as in MLflow.
#[derive(Debug, Clone, Default)]
pub struct CreateRun {
    /// Defaults to the Default experiment, `0`.
    pub experiment_id: Option<String>,
    pub run_name: Option<String>,
    /// Defaults to the `mlflow.user` tag, then to the empty string.
    pub user_id: Option<String>,
    /// Defaults to now.
    pub start_time: Option<Millis>,
    pub tags: Vec<Tag>,
    /// An explicit id, for importing history; generated (32 hex digits) when absent.
    pub run_id: Option<String>,
}

/// A readable name for runs (and logged models) created without one, in MLflow's style.
pub(crate) fn generated_run_name(run_id: &str) -> String {
    const ADJECTIVES: &[&str] = &[
        "amazing", "bold", "brave", "calm", "clever", "eager", "gentle", "happy", "keen", "lucky",
        "mighty", "nimble", "quiet", "rare", "swift", "wise",
    ];
    const ANIMALS: &[&str] = &[
        "ant", "bat", "bear", "carp", "crow", "deer", "eel", "fox", "gnu", "hawk", "lynx", "mole",
        "owl", "ram", "seal", "wolf",
    ];
    let digits = u64::from_str_radix(&run_id[..run_id.len().min(12)], 16).unwrap_or(0);
    format!(
        "{}-{}-{}",
        ADJECTIVES[(digits % 16) as usize],
        ANIMALS[((digits >> 4) % 16) as usize],
        (digits >> 8) % 1000
    )
}

impl Store {
    /// Creates a run in an active experiment and returns it.
    pub async fn create_run(&self, request: CreateRun) -> Result<Run> {
        let experiment_id = request
            .experiment_id
            .unwrap_or_else(|| DEFAULT_EXPERIMENT_ID.to_string());
        validate_experiment_id(&experiment_id)?;
        if let Some(start) = request.start_time {
            validate_time("start_time", start)?;
        }
        validate_batch_size(0, 0, request.tags.len())?;
        for tag in &request.tags {
            validate_run_tag(tag)?;
        }
        let name_tag = request.tags.iter().rev().find(|t| t.key == RUN_NAME_TAG);
        if let (Some(name), Some(tag)) = (&request.run_name, name_tag)
            && *name != tag.value
        {
            return Err(RunqlError::invalid(format!(
                "run_name '{name}' and tag {RUN_NAME_TAG} '{}' disagree; give one, or the same value",
                tag.value
            )));
        }
        let run_id = match request.run_id {
            Some(id) => {
                validate_run_id(&id)?;
                if self.find_run_info(&id).await?.is_some() {
                    return Err(RunqlError::already_exists("run", id));
                }
                id
            }
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        let run_name = request
            .run_name
            .or_else(|| name_tag.map(|t| t.value.clone()))
            .unwrap_or_else(|| generated_run_name(&run_id));
        validate_run_name(&run_name)?;
        let user_id = request
            .user_id
            .or_else(|| {
                request
                    .tags
                    .iter()
                    .rev()
                    .find(|t| t.key == USER_TAG)
                    .map(|t| t.value.clone())
            })
            .unwrap_or_default();
        let experiment = self.get_experiment(&experiment_id).await?;
        if experiment.lifecycle_stage != LifecycleStage::Active {
            return Err(RunqlError::invalid(format!(
                "experiment '{experiment_id}' must be in the 'active' state to create runs in it; it is '{}'",
                experiment.lifecycle_stage
            )));
        }
        let info = RunInfo {
            run_id: run_id.clone(),
            run_name: run_name.clone(),
            experiment_id: experiment_id.clone(),
            user_id,
            status: RunStatus::Running,
            start_time: Some(request.start_time.unwrap_or_else(now_millis)),
            end_time: None,
            artifact_uri: format!(
                "{}/{run_id}/artifacts",
                experiment.artifact_location.trim_end_matches('/')
            ),
            lifecycle_stage: LifecycleStage::Active,
            deleted_time: None,
        };
        let change = RunChange {
            run_id: run_id.clone(),
            experiment_id: info.experiment_id.clone(),
            run_name: Some(run_name),
            user_id: Some(info.user_id.clone()),
            status: Some(info.status.as_str().into()),
            start_time: info.start_time,
            end_time: None,
            artifact_uri: Some(info.artifact_uri.clone()),
            lifecycle_stage: Some(LifecycleStage::Active.as_str().into()),
            deleted_time: None,
        };
        // The run name lives on the run; the other tags in the tags table.
        let mut tags: Vec<Tag> = Vec::new();
        for tag in request.tags.into_iter().filter(|t| t.key != RUN_NAME_TAG) {
            tags.retain(|t| t.key != tag.key);
            tags.push(tag);
        }
        let tag_changes: Vec<KeyChange> = tags
            .iter()
            .map(|t| KeyChange {
                owner: run_id.clone(),
                key: t.key.clone(),
                value: Some(t.value.clone()),
            })
            .collect();
        let mut write = WriteSet::new();
        write.add(RawTable::Runs, rows::run_changes(&[change], self.clock())?);
        write.add(
            RawTable::Tags,
            rows::key_changes(RawTable::Tags, &tag_changes, self.clock())?,
        );
        self.write(write).await?;
        tags.push(Tag::new(RUN_NAME_TAG, info.run_name.clone()));
        tags.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Run {
            info,
            data: RunData {
                tags,
                ..Default::default()
            },
            inputs: Vec::new(),
            model_inputs: Vec::new(),
            model_outputs: Vec::new(),
        })
    }

    /// A run in MLflow's GetRun shape: info, latest metrics, params, tags, inputs.
    pub async fn get_run(&self, run_id: &str) -> Result<Run> {
        validate_run_id(run_id)?;
        self.get_runs(&[run_id.to_string()])
            .await?
            .pop()
            .ok_or_else(|| RunqlError::not_found("run", run_id))
    }

    /// Updates status, end time and/or name of an active run; returns the new info.
    pub async fn update_run(
        &self,
        run_id: &str,
        status: Option<RunStatus>,
        end_time: Option<Millis>,
        run_name: Option<&str>,
    ) -> Result<RunInfo> {
        if let Some(name) = run_name {
            validate_run_name(name)?;
        }
        if let Some(end) = end_time {
            validate_time("end_time", end)?;
        }
        let mut info = self.active_run(run_id).await?;
        let change = RunChange {
            run_id: run_id.to_string(),
            experiment_id: info.experiment_id.clone(),
            status: status.map(|s| s.as_str().to_string()),
            end_time,
            run_name: run_name.map(str::to_string),
            ..Default::default()
        };
        let mut write = WriteSet::new();
        write.add(RawTable::Runs, rows::run_changes(&[change], self.clock())?);
        self.write(write).await?;
        info.status = status.unwrap_or(info.status);
        info.end_time = end_time.or(info.end_time);
        if let Some(name) = run_name {
            info.run_name = name.to_string();
        }
        Ok(info)
    }

    /// Soft-deletes a run: it keeps its data, reads as `deleted`, and can be restored.
    pub async fn delete_run(&self, run_id: &str) -> Result<()> {
        validate_run_id(run_id)?;
        let run = self.run_info(run_id).await?;
        self.set_lifecycle(
            &[run_id.to_string()],
            &run.experiment_id,
            LifecycleStage::Deleted,
        )
        .await
    }

    pub async fn restore_run(&self, run_id: &str) -> Result<()> {
        validate_run_id(run_id)?;
        let run = self.run_info(run_id).await?;
        self.set_lifecycle(
            &[run_id.to_string()],
            &run.experiment_id,
            LifecycleStage::Active,
        )
        .await
    }

    /// Marks runs of one experiment deleted or active, in one commit.
    async fn set_lifecycle(
        &self,
        run_ids: &[String],
        experiment_id: &str,
        stage: LifecycleStage,
    ) -> Result<()> {
        let now = now_millis();
        let changes: Vec<RunChange> = run_ids
            .iter()
            .map(|id| RunChange {
                run_id: id.clone(),
                experiment_id: experiment_id.to_string(),
                lifecycle_stage: Some(stage.as_str().into()),
                deleted_time: (stage == LifecycleStage::Deleted).then_some(now),
                ..Default::default()
            })
            .collect();
        let mut write = WriteSet::new();
        write.add(RawTable::Runs, rows::run_changes(&changes, self.clock())?);
        self.write(write).await
    }

    /// Deletes up to `max_runs` (default and limit 10000) active runs of an experiment
    /// that started at or before `max_timestamp_millis`, oldest first. Returns how many.
    pub async fn delete_runs(
        &self,
        experiment_id: &str,
        max_timestamp_millis: Millis,
        max_runs: Option<i64>,
    ) -> Result<usize> {
        let candidates = "lifecycle_stage = 'active' AND start_time <= $2 \
                          ORDER BY start_time, run_id";
        self.bulk_lifecycle(
            experiment_id,
            candidates,
            ("max_timestamp_millis", max_timestamp_millis),
            max_runs,
            LifecycleStage::Deleted,
        )
        .await
    }

    /// Restores up to `max_runs` runs of an experiment deleted at or after
    /// `min_timestamp_millis`, most recently deleted first. Returns how many.
    pub async fn restore_runs(
        &self,
        experiment_id: &str,
        min_timestamp_millis: Millis,
        max_runs: Option<i64>,
    ) -> Result<usize> {
        let candidates = "lifecycle_stage = 'deleted' AND deleted_time >= $2 \
                          ORDER BY deleted_time DESC, run_id";
        self.bulk_lifecycle(
            experiment_id,
            candidates,
            ("min_timestamp_millis", min_timestamp_millis),
            max_runs,
            LifecycleStage::Active,
        )
        .await
    }

    async fn bulk_lifecycle(
        &self,
        experiment_id: &str,
        candidates: &str,
        (time_name, millis): (&str, Millis),
        max_runs: Option<i64>,
        stage: LifecycleStage,
    ) -> Result<usize> {
        let limit = max_runs.unwrap_or(MAX_BULK_RUNS);
        validate_max_runs(limit)?;
        validate_time(time_name, millis)?;
        let time = timestamp_scalar(micros_from_millis(time_name, millis)?);
        self.get_experiment(experiment_id).await?;
        let ids = self
            .bulk_candidates(candidates, experiment_id, time, limit)
            .await?;
        self.set_lifecycle(&ids, experiment_id, stage).await?;
        Ok(ids.len())
    }

    async fn bulk_candidates(
        &self,
        condition: &str,
        experiment_id: &str,
        time: ScalarValue,
        limit: i64,
    ) -> Result<Vec<String>> {
        let batches = self
            .query(
                &format!(
                    "SELECT run_id FROM runs WHERE experiment_id = $1 AND {condition} LIMIT {limit}"
                ),
                vec![ScalarValue::Utf8(Some(experiment_id.to_string())), time],
            )
            .await?;
        Ok(Rows::new(&batches)
            .strings("run_id")?
            .into_iter()
            .flatten()
            .collect())
    }
}
