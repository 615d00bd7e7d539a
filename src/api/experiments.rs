//! Experiments: create, get, get by name, rename, delete, restore, tags, list.

use crate::error::{Result, RunqlError};
use crate::model::validation::{
    KeyKind, validate_artifact_location, validate_experiment_id, validate_experiment_name,
    validate_experiment_tag, validate_key,
};
use crate::model::{DEFAULT_EXPERIMENT_ID, Experiment, LifecycleStage, Tag, ViewType, now_millis};
use crate::store::rows::{self, ExperimentChange, KeyChange};
use crate::store::schema::RawTable;
use crate::store::{Store, WriteSet};

/// Which experiments [`Store::list_experiments`] returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExperimentFilter {
    pub view_type: Option<ViewType>,
}

/// A fresh experiment id: a random positive 63-bit integer, as MLflow's file
/// store makes them, so writers in different processes never collide.
pub(crate) fn new_experiment_id() -> String {
    ((uuid::Uuid::new_v4().as_u64_pair().0) >> 1).to_string()
}

impl Store {
    /// Creates an experiment and returns its id. Only one active experiment may
    /// hold a name: RESOURCE_ALREADY_EXISTS otherwise.
    pub async fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[Tag],
    ) -> Result<String> {
        validate_experiment_name(name)?;
        if let Some(location) = artifact_location {
            validate_artifact_location(location)?;
        }
        for tag in tags {
            validate_experiment_tag(tag)?;
        }
        self.ensure_name_free(name).await?;
        let experiment_id = new_experiment_id();
        let location = artifact_location
            .map(str::to_string)
            .unwrap_or_else(|| self.artifact_root(&experiment_id));
        let change = ExperimentChange::created(&experiment_id, name, location, now_millis());
        let mut write = WriteSet::new();
        write.add(
            RawTable::Experiments,
            rows::experiment_changes(&[change], self.clock())?,
        );
        let tag_changes: Vec<KeyChange> = tags
            .iter()
            .map(|t| KeyChange {
                owner: experiment_id.clone(),
                key: t.key.clone(),
                value: Some(t.value.clone()),
            })
            .collect();
        write.add(
            RawTable::ExperimentTags,
            rows::key_changes(RawTable::ExperimentTags, &tag_changes, self.clock())?,
        );
        self.write(write).await?;
        self.back_out_if_name_taken(&experiment_id, name).await?;
        Ok(experiment_id)
    }

    /// Another process may have created an experiment with the same name between
    /// our check and our commit. Checking again after our own commit, a creator
    /// that sees another active holder withdraws its experiment (marks it deleted)
    /// and fails. In every interleaving at most one creator succeeds; if two check
    /// at the same moment, both withdraw and both fail, leaving the name free.
    async fn back_out_if_name_taken(&self, experiment_id: &str, name: &str) -> Result<()> {
        let other = self.experiments_named(name).await?.into_iter().find(|e| {
            e.lifecycle_stage == LifecycleStage::Active && e.experiment_id != experiment_id
        });
        let Some(other) = other else {
            return Ok(());
        };
        self.write_experiment_change(ExperimentChange {
            experiment_id: experiment_id.to_string(),
            lifecycle_stage: Some(LifecycleStage::Deleted.as_str().into()),
            last_update_time: Some(now_millis()),
            ..Default::default()
        })
        .await?;
        Err(RunqlError::already_exists("experiment", name).at(format!(
            " (id '{}', created concurrently)",
            other.experiment_id
        )))
    }

    async fn ensure_name_free(&self, name: &str) -> Result<()> {
        let holders = self.experiments_named(name).await?;
        if let Some(holder) = holders
            .iter()
            .find(|e| e.lifecycle_stage == LifecycleStage::Active)
        {
            return Err(RunqlError::already_exists("experiment", name)
                .at(format!(" (id '{}')", holder.experiment_id)));
        }
        Ok(())
    }

    pub async fn get_experiment(&self, experiment_id: &str) -> Result<Experiment> {
        validate_experiment_id(experiment_id)?;
        self.find_experiment(experiment_id)
            .await?
            .ok_or_else(|| RunqlError::not_found("experiment", experiment_id))
    }

    /// The experiment holding `name`; an active one is preferred over deleted ones.
    pub async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment> {
        self.experiments_named(name)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| RunqlError::not_found("experiment named", name))
    }

    async fn active_experiment(&self, experiment_id: &str) -> Result<Experiment> {
        let experiment = self.get_experiment(experiment_id).await?;
        if experiment.lifecycle_stage != LifecycleStage::Active {
            return Err(RunqlError::invalid(format!(
                "experiment '{experiment_id}' must be in the 'active' state; it is '{}'",
                experiment.lifecycle_stage
            )));
        }
        Ok(experiment)
    }

    async fn write_experiment_change(&self, change: ExperimentChange) -> Result<()> {
        let mut write = WriteSet::new();
        write.add(
            RawTable::Experiments,
            rows::experiment_changes(&[change], self.clock())?,
        );
        self.write(write).await
    }

    pub async fn rename_experiment(&self, experiment_id: &str, new_name: &str) -> Result<()> {
        validate_experiment_name(new_name)?;
        let experiment = self.active_experiment(experiment_id).await?;
        if experiment.name == new_name {
            return Ok(());
        }
        self.ensure_name_free(new_name).await?;
        self.write_experiment_change(ExperimentChange {
            experiment_id: experiment_id.to_string(),
            name: Some(new_name.to_string()),
            last_update_time: Some(now_millis()),
            ..Default::default()
        })
        .await
    }

    /// Soft-deletes an experiment; its runs read as deleted until it is restored.
    pub async fn delete_experiment(&self, experiment_id: &str) -> Result<()> {
        if experiment_id == DEFAULT_EXPERIMENT_ID {
            return Err(RunqlError::invalid(
                "experiment '0' (Default) is reserved and cannot be deleted",
            ));
        }
        // As MLflow's stores: deleting looks among active experiments only.
        if self.get_experiment(experiment_id).await?.lifecycle_stage != LifecycleStage::Active {
            return Err(RunqlError::not_found("experiment", experiment_id)
                .at(" among active experiments (it is already deleted)"));
        }
        self.write_experiment_change(ExperimentChange {
            experiment_id: experiment_id.to_string(),
            lifecycle_stage: Some(LifecycleStage::Deleted.as_str().into()),
            last_update_time: Some(now_millis()),
            ..Default::default()
        })
        .await
    }

    pub async fn restore_experiment(&self, experiment_id: &str) -> Result<()> {
        let experiment = self.get_experiment(experiment_id).await?;
        // As MLflow's stores: restoring looks among deleted experiments only.
        if experiment.lifecycle_stage != LifecycleStage::Deleted {
            return Err(RunqlError::not_found("experiment", experiment_id)
                .at(" among deleted experiments (it is active)"));
        }
        self.ensure_name_free(&experiment.name).await?;
        self.write_experiment_change(ExperimentChange {
            experiment_id: experiment_id.to_string(),
            lifecycle_stage: Some(LifecycleStage::Active.as_str().into()),
            last_update_time: Some(now_millis()),
            ..Default::default()
        })
        .await
    }

    pub async fn set_experiment_tag(
        &self,
        experiment_id: &str,
        key: &str,
        value: &str,
    ) -> Result<()> {
        validate_experiment_tag(&Tag::new(key, value))?;
        self.active_experiment(experiment_id).await?;
        self.write_experiment_tag(experiment_id, key, Some(value))
            .await
    }

    pub async fn delete_experiment_tag(&self, experiment_id: &str, key: &str) -> Result<()> {
        validate_key(KeyKind::ExperimentTag, key)?;
        let experiment = self.active_experiment(experiment_id).await?;
        if !experiment.tags.iter().any(|t| t.key == key) {
            return Err(
                RunqlError::not_found("tag", key).at(format!(" on experiment '{experiment_id}'"))
            );
        }
        self.write_experiment_tag(experiment_id, key, None).await
    }

    async fn write_experiment_tag(
        &self,
        experiment_id: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let change = KeyChange {
            owner: experiment_id.to_string(),
            key: key.to_string(),
            value: value.map(str::to_string),
        };
        let mut write = WriteSet::new();
        write.add(
            RawTable::ExperimentTags,
            rows::key_changes(RawTable::ExperimentTags, &[change], self.clock())?,
        );
        self.write(write).await
    }

    /// Experiments by view type (active only by default), oldest id first.
    pub async fn list_experiments(&self, filter: ExperimentFilter) -> Result<Vec<Experiment>> {
        let view = filter.view_type.unwrap_or(ViewType::ActiveOnly);
        let ids = crate::api::read::Rows::new(
            &self
                .query(
                    "SELECT experiment_id FROM experiments ORDER BY creation_time, experiment_id",
                    vec![],
                )
                .await?,
        )
        .strings("experiment_id")?;
        let mut found = Vec::new();
        for id in ids.into_iter().flatten() {
            if let Some(experiment) = self.find_experiment(&id).await?
                && view.admits(experiment.lifecycle_stage)
            {
                found.push(experiment);
            }
        }
        Ok(found)
    }
}
