//! MLflow 3's logged models: create, get, finalize, tags, params, delete and
//! search. A model lives in an experiment; its files go under
//! `<experiment artifact location>/models/<model_id>/artifacts`, and the
//! metrics logged with its id are its metrics.

use datafusion::common::ScalarValue;

use crate::api::read::{Rows, metrics_from};
use crate::error::{Result, RunqlError};
use crate::model::validation::{
    KeyKind, validate_batch_size, validate_key, validate_model_id, validate_model_name,
    validate_param, validate_run_id, validate_run_tag,
};
use crate::model::{
    LifecycleStage, LoggedModel, LoggedModelStatus, Metric, Param, Tag, now_millis,
};
use crate::search::{Search, Target};
use crate::store::rows::{self, KeyChange, ModelChange};
use crate::store::schema::RawTable;
use crate::store::{Store, WriteSet};

/// Arguments of [`Store::create_logged_model`].
#[derive(Debug, Clone, Default)]
pub struct CreateLoggedModel {
    pub experiment_id: String,
    /// Generated when absent, as run names are.
    pub name: Option<String>,
    pub model_type: Option<String>,
    pub source_run_id: Option<String>,
    pub params: Vec<Param>,
    pub tags: Vec<Tag>,
}

fn text(value: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(value.to_string()))
}

impl Store {
    /// Creates a model, pending until [`Store::finalize_logged_model`], in an
    /// active experiment.
    pub async fn create_logged_model(&self, request: CreateLoggedModel) -> Result<LoggedModel> {
        let model_id = format!("m-{}", uuid::Uuid::new_v4().simple());
        let name = request
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| crate::api::runs::generated_run_name(&model_id[2..]));
        validate_model_name(&name)?;
        if let Some(run_id) = request.source_run_id.as_deref().filter(|r| !r.is_empty()) {
            validate_run_id(run_id)?;
        }
        validate_batch_size(0, request.params.len(), request.tags.len())?;
        for param in &request.params {
            validate_param(param)?;
        }
        for tag in &request.tags {
            validate_run_tag(tag)?;
        }
        let experiment = self.get_experiment(&request.experiment_id).await?;
        if experiment.lifecycle_stage != LifecycleStage::Active {
            return Err(RunqlError::invalid(format!(
                "experiment '{}' must be in the 'active' state to create models in it; it is '{}'",
                request.experiment_id, experiment.lifecycle_stage
            )));
        }
        let now = now_millis();
        let change = ModelChange {
            model_id: model_id.clone(),
            experiment_id: experiment.experiment_id.clone(),
            name: Some(name),
            artifact_uri: Some(format!(
                "{}/models/{model_id}/artifacts",
                experiment.artifact_location.trim_end_matches('/')
            )),
            status: Some(LoggedModelStatus::Pending.as_str().into()),
            model_type: Some(request.model_type.unwrap_or_default()),
            source_run_id: Some(request.source_run_id.unwrap_or_default()),
            lifecycle_stage: Some(LifecycleStage::Active.as_str().into()),
            creation_time: Some(now),
            last_update_time: Some(now),
            ..Default::default()
        };
        let mut write = WriteSet::new();
        write.add(
            RawTable::LoggedModels,
            rows::model_changes(&[change], self.clock())?,
        );
        self.add_model_keys(
            &mut write,
            RawTable::LoggedModelParams,
            &model_id,
            &request.params,
        )?;
        self.add_model_keys(
            &mut write,
            RawTable::LoggedModelTags,
            &model_id,
            &request.tags,
        )?;
        self.write(write).await?;
        self.get_logged_model(&model_id, false).await
    }

    fn add_model_keys(
        &self,
        write: &mut WriteSet,
        table: RawTable,
        model_id: &str,
        pairs: &[Tag],
    ) -> Result<()> {
        let changes: Vec<KeyChange> = pairs
            .iter()
            .map(|pair| KeyChange {
                owner: model_id.to_string(),
                key: pair.key.clone(),
                value: Some(pair.value.clone()),
            })
            .collect();
        write.add(table, rows::key_changes(table, &changes, self.clock())?);
        Ok(())
    }

    /// The model; RESOURCE_DOES_NOT_EXIST if absent, or deleted unless `allow_deleted`.
    pub async fn get_logged_model(
        &self,
        model_id: &str,
        allow_deleted: bool,
    ) -> Result<LoggedModel> {
        validate_model_id(model_id)?;
        let batches = self
            .query(
                "SELECT model_id, experiment_id, name, artifact_uri, status, status_message, \
                 model_type, source_run_id, lifecycle_stage, creation_time, last_update_time \
                 FROM logged_models WHERE model_id = $1",
                vec![text(model_id)],
            )
            .await?;
        let rows = Rows::new(&batches);
        if rows.len() == 0 {
            return Err(RunqlError::not_found("logged model", model_id));
        }
        let first = |column: &str| -> Result<Option<String>> {
            Ok(rows.strings(column)?.into_iter().next().flatten())
        };
        let lifecycle_stage: LifecycleStage = first("lifecycle_stage")?
            .as_deref()
            .unwrap_or("active")
            .parse()?;
        if lifecycle_stage == LifecycleStage::Deleted && !allow_deleted {
            return Err(RunqlError::not_found("logged model", model_id));
        }
        let (tags, params, metrics) = futures::try_join!(
            self.key_values("logged_model_tags", "model_id", model_id),
            self.key_values("logged_model_params", "model_id", model_id),
            self.model_metrics(model_id),
        )?;
        Ok(LoggedModel {
            model_id: model_id.to_string(),
            experiment_id: first("experiment_id")?.unwrap_or_default(),
            name: first("name")?.unwrap_or_default(),
            artifact_uri: first("artifact_uri")?.unwrap_or_default(),
            status: first("status")?
                .as_deref()
                .unwrap_or(LoggedModelStatus::Pending.as_str())
                .parse()?,
            status_message: first("status_message")?,
            model_type: first("model_type")?.unwrap_or_default(),
            source_run_id: first("source_run_id")?.unwrap_or_default(),
            lifecycle_stage,
            creation_time: rows.millis("creation_time")?[0].unwrap_or_default(),
            last_update_time: rows.millis("last_update_time")?[0].unwrap_or_default(),
            tags,
            params,
            metrics,
        })
    }

    async fn model_metrics(&self, model_id: &str) -> Result<Vec<(String, Metric)>> {
        let batches = self
            .query(
                "SELECT run_id, key, value, timestamp, step, dataset_name, dataset_digest \
                 FROM logged_model_metrics WHERE model_id = $1 ORDER BY key, timestamp, step, value",
                vec![text(model_id)],
            )
            .await?;
        let rows = Rows::new(&batches);
        let runs = rows.strings("run_id")?;
        let dataset_names = rows.strings("dataset_name")?;
        let dataset_digests = rows.strings("dataset_digest")?;
        Ok(metrics_from(&batches)?
            .into_iter()
            .enumerate()
            .map(|(i, metric)| {
                let metric = Metric {
                    dataset_name: dataset_names[i].clone(),
                    dataset_digest: dataset_digests[i].clone(),
                    model_id: Some(model_id.to_string()),
                    ..metric
                };
                (runs[i].clone().unwrap_or_default(), metric)
            })
            .collect())
    }

    /// A live model, for writes.
    async fn active_model(&self, model_id: &str) -> Result<LoggedModel> {
        self.get_logged_model(model_id, false).await
    }

    async fn write_model_change(&self, change: ModelChange) -> Result<()> {
        let mut write = WriteSet::new();
        write.add(
            RawTable::LoggedModels,
            rows::model_changes(&[change], self.clock())?,
        );
        self.write(write).await
    }

    /// Sets the model's status (READY once its files are uploaded) and returns it.
    pub async fn finalize_logged_model(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> Result<LoggedModel> {
        let model = self.active_model(model_id).await?;
        self.write_model_change(ModelChange {
            model_id: model_id.to_string(),
            experiment_id: model.experiment_id,
            status: Some(status.as_str().into()),
            last_update_time: Some(now_millis()),
            ..Default::default()
        })
        .await?;
        self.get_logged_model(model_id, false).await
    }

    /// Sets tags on a model; a key already set takes the new value.
    pub async fn set_logged_model_tags(&self, model_id: &str, tags: &[Tag]) -> Result<()> {
        validate_batch_size(0, 0, tags.len())?;
        for tag in tags {
            validate_run_tag(tag)?;
        }
        self.active_model(model_id).await?;
        let mut write = WriteSet::new();
        self.add_model_keys(&mut write, RawTable::LoggedModelTags, model_id, tags)?;
        self.write(write).await
    }

    /// Deletes a model's tag; RESOURCE_DOES_NOT_EXIST if it is not set.
    pub async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> Result<()> {
        validate_key(KeyKind::Tag, key)?;
        let model = self.active_model(model_id).await?;
        if !model.tags.iter().any(|t| t.key == key) {
            return Err(RunqlError::not_found("tag", key).at(format!(" on model '{model_id}'")));
        }
        let deletion = KeyChange {
            owner: model_id.to_string(),
            key: key.to_string(),
            value: None,
        };
        let mut write = WriteSet::new();
        write.add(
            RawTable::LoggedModelTags,
            rows::key_changes(RawTable::LoggedModelTags, &[deletion], self.clock())?,
        );
        self.write(write).await
    }

    /// Logs params to a model; a key logged again takes the new value, as in MLflow.
    pub async fn log_logged_model_params(&self, model_id: &str, params: &[Param]) -> Result<()> {
        validate_batch_size(0, params.len(), 0)?;
        for param in params {
            validate_param(param)?;
        }
        self.active_model(model_id).await?;
        let mut write = WriteSet::new();
        self.add_model_keys(&mut write, RawTable::LoggedModelParams, model_id, params)?;
        self.write(write).await
    }

    /// Soft-deletes a model: it reads as deleted and gc removes it for good.
    pub async fn delete_logged_model(&self, model_id: &str) -> Result<()> {
        let model = self.active_model(model_id).await?;
        self.write_model_change(ModelChange {
            model_id: model_id.to_string(),
            experiment_id: model.experiment_id,
            lifecycle_stage: Some(LifecycleStage::Deleted.as_str().into()),
            last_update_time: Some(now_millis()),
            ..Default::default()
        })
        .await
    }

    /// A logged-models search's page as models, with the next page's token.
    pub async fn search_logged_models(
        &self,
        search: &Search,
    ) -> Result<(Vec<LoggedModel>, Option<String>)> {
        let found = self
            .search_ids(crate::api::search::expect(search, Target::LoggedModels)?)
            .await?;
        let mut models = Vec::new();
        for id in &found.ids {
            models.push(self.get_logged_model(id, true).await?);
        }
        Ok((models, found.next_page_token))
    }
}
