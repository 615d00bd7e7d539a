//! Reading the folded state back as typed entities, through the same views
//! users query, with the owner id bound as a parameter (never spliced into SQL).

use std::collections::HashMap;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::common::ScalarValue;

use crate::error::{Context, Result, RunqlError};
use crate::model::{
    CONTEXT_TAG, Dataset, DatasetInput, Experiment, LifecycleStage, Metric, Millis, ModelLink, Run,
    RunData, RunInfo, RunStatus, Tag,
};
use crate::store::Store;
use crate::store::run_cache::RunStateVersions;
use crate::store::schema::RawTable;

/// Column access over query results, by name or position, tolerant of
/// Utf8/Utf8View, integer and timestamp encodings.
pub(crate) struct Rows<'a> {
    batches: &'a [RecordBatch],
}

impl<'a> Rows<'a> {
    pub fn new(batches: &'a [RecordBatch]) -> Self {
        Rows { batches }
    }

    pub fn len(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    fn index_of(&self, name: &str) -> Result<usize> {
        match self.batches.first() {
            Some(batch) => batch
                .schema()
                .index_of(name)
                .map_err(|_| RunqlError::internal("reading results", format!("no column {name}"))),
            // No batches means no rows; any position reads as empty.
            None => Ok(0),
        }
    }

    /// Column `index` of every batch, cast to `as_type`; a failed cast names the column.
    fn cast_at(&self, index: usize, as_type: &DataType) -> Result<Vec<ArrayRef>> {
        self.batches
            .iter()
            .map(|batch| {
                let column = batch.columns().get(index).ok_or_else(|| {
                    RunqlError::internal("reading results", format!("no column {}", index + 1))
                })?;
                let name = batch.schema().field(index).name().clone();
                cast(column, as_type).map_err(|e| {
                    RunqlError::invalid(format!("column {name} cannot be read as {as_type}: {e}"))
                })
            })
            .collect()
    }

    /// Column `index` of every batch, as it is.
    pub fn arrays_at(&self, index: usize) -> Result<Vec<ArrayRef>> {
        self.batches
            .iter()
            .map(|batch| {
                batch.columns().get(index).cloned().ok_or_else(|| {
                    RunqlError::internal("reading results", format!("no column {}", index + 1))
                })
            })
            .collect()
    }

    pub fn strings_at(&self, index: usize) -> Result<Vec<Option<String>>> {
        let mut out = Vec::with_capacity(self.len());
        for array in self.cast_at(index, &DataType::Utf8)? {
            out.extend(
                array
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_string)),
            );
        }
        Ok(out)
    }

    pub fn ints_at(&self, index: usize) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(self.len());
        for array in self.cast_at(index, &DataType::Int64)? {
            out.extend(array.as_primitive::<Int64Type>().iter());
        }
        Ok(out)
    }

    pub fn floats_at(&self, index: usize) -> Result<Vec<Option<f64>>> {
        let mut out = Vec::with_capacity(self.len());
        for array in self.cast_at(index, &DataType::Float64)? {
            out.extend(array.as_primitive::<Float64Type>().iter());
        }
        Ok(out)
    }

    /// Timestamps as milliseconds since the epoch; integers are taken as milliseconds.
    pub fn millis_at(&self, index: usize) -> Result<Vec<Option<Millis>>> {
        let ms = DataType::Timestamp(TimeUnit::Millisecond, None);
        let mut out = Vec::with_capacity(self.len());
        for array in self.cast_at(index, &ms)? {
            let as_int =
                cast(&array, &DataType::Int64).context(|| "reading a timestamp".to_string())?;
            out.extend(as_int.as_primitive::<Int64Type>().iter());
        }
        Ok(out)
    }

    pub fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        self.strings_at(self.index_of(name)?)
    }

    pub fn ints(&self, name: &str) -> Result<Vec<Option<i64>>> {
        self.ints_at(self.index_of(name)?)
    }

    pub fn floats(&self, name: &str) -> Result<Vec<Option<f64>>> {
        self.floats_at(self.index_of(name)?)
    }

    pub fn millis(&self, name: &str) -> Result<Vec<Option<Millis>>> {
        self.millis_at(self.index_of(name)?)
    }
}

/// `$1, $2, …, $n`: a list of bound values for `IN (…)`.
fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(value: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(value.to_string()))
}

fn required(value: Option<String>, what: &str) -> Result<String> {
    value.ok_or_else(|| RunqlError::internal("reading the store", format!("{what} is missing")))
}

const EXPERIMENT_COLUMNS: &str =
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

impl Store {
    async fn experiments_where(&self, condition: &str, value: &str) -> Result<Vec<Experiment>> {
        let batches = self
            .query(
                &format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE {condition} ORDER BY experiment_id"),
                vec![text(value)],
            )
            .await?;
        let rows = Rows::new(&batches);
        let ids = rows.strings("experiment_id")?;
        let names = rows.strings("name")?;
        let locations = rows.strings("artifact_location")?;
        let stages = rows.strings("lifecycle_stage")?;
        let created = rows.millis("creation_time")?;
        let updated = rows.millis("last_update_time")?;
        let mut experiments = Vec::with_capacity(ids.len());
        for i in 0..ids.len() {
            let experiment_id = required(ids[i].clone(), "experiment_id")?;
            let tags = self.experiment_tags(&experiment_id).await?;
            experiments.push(Experiment {
                experiment_id,
                name: names[i].clone().unwrap_or_default(),
                artifact_location: locations[i].clone().unwrap_or_default(),
                lifecycle_stage: stages[i].as_deref().unwrap_or("active").parse()?,
                creation_time: created[i],
                last_update_time: updated[i],
                tags,
            });
        }
        Ok(experiments)
    }

    pub(crate) async fn find_experiment(&self, experiment_id: &str) -> Result<Option<Experiment>> {
        Ok(self
            .experiments_where("experiment_id = $1", experiment_id)
            .await?
            .into_iter()
            .next())
    }

    /// Experiments holding `name`, active ones first.
    pub(crate) async fn experiments_named(&self, name: &str) -> Result<Vec<Experiment>> {
        let mut found = self.experiments_where("name = $1", name).await?;
        found.sort_by_key(|e| e.lifecycle_stage != LifecycleStage::Active);
        Ok(found)
    }

    pub(crate) async fn experiment_tags(&self, experiment_id: &str) -> Result<Vec<Tag>> {
        self.key_values("experiment_tags", "experiment_id", experiment_id)
            .await
    }

    /// The `key, value` rows of `view` that `owner` owns, by key.
    pub(crate) async fn key_values(
        &self,
        view: &str,
        owner_column: &str,
        owner: &str,
    ) -> Result<Vec<Tag>> {
        let batches = self
            .query(
                &format!("SELECT key, value FROM {view} WHERE {owner_column} = $1 ORDER BY key"),
                vec![text(owner)],
            )
            .await?;
        let rows = Rows::new(&batches);
        Ok(rows
            .strings("key")?
            .into_iter()
            .zip(rows.strings("value")?)
            .map(|(k, v)| Tag::new(k.unwrap_or_default(), v.unwrap_or_default()))
            .collect())
    }

    /// The run's info, from the run cache when neither the `runs` nor the
    /// `experiments` table has changed since it was read (see `store/run_cache.rs`).
    pub(crate) async fn find_run_info(&self, run_id: &str) -> Result<Option<RunInfo>> {
        let cache = &self.inner.run_cache;
        if let Some((info, versions)) = cache.get(run_id) {
            let (runs_moved, experiments_moved) = futures::try_join!(
                self.table(RawTable::Runs).has_commit_after(versions.runs),
                self.table(RawTable::Experiments)
                    .has_commit_after(versions.experiments),
            )?;
            if !runs_moved && !experiments_moved {
                return Ok(Some(info));
            }
            cache.invalidate(versions);
        }
        // Versions taken before the query: the query reads these or newer, so
        // the stamp never claims more freshness than the entry has.
        let (runs, experiments) = futures::try_join!(
            self.table(RawTable::Runs).refreshed_version(),
            self.table(RawTable::Experiments).refreshed_version(),
        )?;
        let found = self.query_run_info(run_id).await?;
        if let Some(info) = &found {
            cache.insert(RunStateVersions { runs, experiments }, info.clone());
        }
        Ok(found)
    }

    async fn query_run_info(&self, run_id: &str) -> Result<Option<RunInfo>> {
        Ok(self
            .run_infos(std::slice::from_ref(&run_id.to_string()))
            .await?
            .into_iter()
            .next())
    }

    /// The runs among `run_ids` that exist, in no particular order.
    async fn run_infos(&self, run_ids: &[String]) -> Result<Vec<RunInfo>> {
        let batches = self
            .query(
                &format!(
                    "SELECT run_id, run_name, experiment_id, user_id, status, start_time, end_time, \
                     artifact_uri, lifecycle_stage, deleted_time FROM runs WHERE run_id IN ({})",
                    placeholders(run_ids.len())
                ),
                run_ids.iter().map(|id| text(id)).collect(),
            )
            .await?;
        let rows = Rows::new(&batches);
        let ids = rows.strings("run_id")?;
        let names = rows.strings("run_name")?;
        let experiments = rows.strings("experiment_id")?;
        let users = rows.strings("user_id")?;
        let statuses = rows.strings("status")?;
        let starts = rows.millis("start_time")?;
        let ends = rows.millis("end_time")?;
        let uris = rows.strings("artifact_uri")?;
        let stages = rows.strings("lifecycle_stage")?;
        let deleted = rows.millis("deleted_time")?;
        (0..ids.len())
            .map(|i| {
                Ok(RunInfo {
                    run_id: required(ids[i].clone(), "run_id")?,
                    run_name: names[i].clone().unwrap_or_default(),
                    experiment_id: experiments[i].clone().unwrap_or_default(),
                    user_id: users[i].clone().unwrap_or_default(),
                    status: statuses[i]
                        .as_deref()
                        .unwrap_or("RUNNING")
                        .parse::<RunStatus>()?,
                    start_time: starts[i],
                    end_time: ends[i],
                    artifact_uri: uris[i].clone().unwrap_or_default(),
                    lifecycle_stage: stages[i].as_deref().unwrap_or("active").parse()?,
                    deleted_time: deleted[i],
                })
            })
            .collect()
    }

    /// Runs in MLflow's GetRun shape, in the order of `run_ids`; ids of runs
    /// that do not exist are left out. Six queries, however many runs.
    pub async fn get_runs(&self, run_ids: &[String]) -> Result<Vec<Run>> {
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (infos, mut metrics, mut params, mut tags, mut inputs, mut models) = futures::try_join!(
            self.run_infos(run_ids),
            self.latest_metrics_of(run_ids),
            self.key_values_of("params", run_ids),
            self.key_values_of("tags", run_ids),
            self.inputs_of(run_ids),
            self.model_links_of(run_ids),
        )?;
        let mut by_id: HashMap<String, RunInfo> =
            infos.into_iter().map(|i| (i.run_id.clone(), i)).collect();
        Ok(run_ids
            .iter()
            .filter_map(|id| {
                let info = by_id.remove(id)?;
                let (model_inputs, model_outputs) = models.remove(id).unwrap_or_default();
                Some(Run {
                    model_inputs,
                    model_outputs,
                    data: RunData {
                        metrics: metrics.remove(id).unwrap_or_default(),
                        params: params.remove(id).unwrap_or_default(),
                        tags: tags.remove(id).unwrap_or_default(),
                    },
                    inputs: inputs.remove(id).unwrap_or_default(),
                    info,
                })
            })
            .collect())
    }

    /// The run, or RESOURCE_DOES_NOT_EXIST.
    pub(crate) async fn run_info(&self, run_id: &str) -> Result<RunInfo> {
        self.find_run_info(run_id)
            .await?
            .ok_or_else(|| RunqlError::not_found("run", run_id))
    }

    /// The run, which must be active: MLflow refuses writes to deleted runs.
    pub(crate) async fn active_run(&self, run_id: &str) -> Result<RunInfo> {
        crate::model::validation::validate_run_id(run_id)?;
        let info = self.run_info(run_id).await?;
        if info.lifecycle_stage != LifecycleStage::Active {
            return Err(RunqlError::invalid(format!(
                "run '{run_id}' must be in the 'active' state to be written to; it is '{}'",
                info.lifecycle_stage
            )));
        }
        Ok(info)
    }

    pub(crate) async fn run_params(&self, run_id: &str) -> Result<Vec<Tag>> {
        self.key_values("params", "run_id", run_id).await
    }

    pub(crate) async fn run_tags(&self, run_id: &str) -> Result<Vec<Tag>> {
        self.key_values("tags", "run_id", run_id).await
    }

    /// Key/value pairs of a run view (`params`, `tags`) for each of the runs, by key.
    async fn key_values_of(
        &self,
        view: &str,
        run_ids: &[String],
    ) -> Result<HashMap<String, Vec<Tag>>> {
        let batches = self
            .query(
                &format!(
                    "SELECT run_id, key, value FROM {view} WHERE run_id IN ({}) ORDER BY run_id, key",
                    placeholders(run_ids.len())
                ),
                run_ids.iter().map(|id| text(id)).collect(),
            )
            .await?;
        let rows = Rows::new(&batches);
        let mut found: HashMap<String, Vec<Tag>> = HashMap::new();
        for ((run_id, key), value) in rows
            .strings("run_id")?
            .into_iter()
            .zip(rows.strings("key")?)
            .zip(rows.strings("value")?)
        {
            found
                .entry(run_id.unwrap_or_default())
                .or_default()
                .push(Tag::new(key.unwrap_or_default(), value.unwrap_or_default()));
        }
        Ok(found)
    }

    async fn latest_metrics_of(&self, run_ids: &[String]) -> Result<HashMap<String, Vec<Metric>>> {
        let batches = self
            .query(
                &format!(
                    "SELECT run_id, key, value, timestamp, step FROM latest_metrics \
                     WHERE run_id IN ({}) ORDER BY run_id, key",
                    placeholders(run_ids.len())
                ),
                run_ids.iter().map(|id| text(id)).collect(),
            )
            .await?;
        let owners = Rows::new(&batches).strings("run_id")?;
        let mut found: HashMap<String, Vec<Metric>> = HashMap::new();
        for (owner, metric) in owners.into_iter().zip(metrics_from(&batches)?) {
            found
                .entry(owner.unwrap_or_default())
                .or_default()
                .push(metric);
        }
        Ok(found)
    }

    /// The models each run used and produced.
    async fn model_links_of(
        &self,
        run_ids: &[String],
    ) -> Result<HashMap<String, (Vec<ModelLink>, Vec<ModelLink>)>> {
        let batches = self
            .query(
                &format!(
                    "SELECT run_id, model_id, direction, step FROM model_links \
                     WHERE run_id IN ({}) ORDER BY run_id, model_id, step",
                    placeholders(run_ids.len())
                ),
                run_ids.iter().map(|id| text(id)).collect(),
            )
            .await?;
        let rows = Rows::new(&batches);
        let owners = rows.strings("run_id")?;
        let models = rows.strings("model_id")?;
        let directions = rows.strings("direction")?;
        let steps = rows.ints("step")?;
        let mut found: HashMap<String, (Vec<ModelLink>, Vec<ModelLink>)> = HashMap::new();
        for i in 0..owners.len() {
            let links = found
                .entry(owners[i].clone().unwrap_or_default())
                .or_default();
            let link = ModelLink {
                model_id: models[i].clone().unwrap_or_default(),
                step: steps[i],
            };
            if directions[i].as_deref() == Some("output") {
                links.1.push(link);
            } else {
                links.0.push(link);
            }
        }
        Ok(found)
    }

    async fn inputs_of(&self, run_ids: &[String]) -> Result<HashMap<String, Vec<DatasetInput>>> {
        let batches = self
            .query(
                &format!(
                    "SELECT run_id, dataset_name, dataset_digest, source_type, source, schema, profile, context \
                     FROM inputs WHERE run_id IN ({}) ORDER BY run_id, dataset_name, dataset_digest",
                    placeholders(run_ids.len())
                ),
                run_ids.iter().map(|id| text(id)).collect(),
            )
            .await?;
        let rows = Rows::new(&batches);
        let owners = rows.strings("run_id")?;
        let names = rows.strings("dataset_name")?;
        let digests = rows.strings("dataset_digest")?;
        let source_types = rows.strings("source_type")?;
        let sources = rows.strings("source")?;
        let schemas = rows.strings("schema")?;
        let profiles = rows.strings("profile")?;
        let contexts = rows.strings("context")?;
        let mut found: HashMap<String, Vec<DatasetInput>> = HashMap::new();
        for i in 0..owners.len() {
            found
                .entry(owners[i].clone().unwrap_or_default())
                .or_default()
                .push(DatasetInput {
                    dataset: Dataset {
                        name: names[i].clone().unwrap_or_default(),
                        digest: digests[i].clone().unwrap_or_default(),
                        source_type: source_types[i].clone().unwrap_or_default(),
                        source: sources[i].clone().unwrap_or_default(),
                        schema: schemas[i].clone(),
                        profile: profiles[i].clone(),
                    },
                    tags: contexts[i]
                        .clone()
                        .map(|c| vec![Tag::new(CONTEXT_TAG, c)])
                        .unwrap_or_default(),
                });
        }
        Ok(found)
    }

    /// A metric's full history for one run, in MLflow's order: by
    /// timestamp, then step, then value.
    pub async fn get_metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>> {
        Ok(self.metric_history_page(run_id, key, 0, None).await?.0)
    }

    /// Part of a metric's history, in [`Store::get_metric_history`]'s order:
    /// up to `limit` values (all when `None`) from position `offset`, and
    /// whether more follow.
    pub async fn metric_history_page(
        &self,
        run_id: &str,
        key: &str,
        offset: usize,
        limit: Option<usize>,
    ) -> Result<(Vec<Metric>, bool)> {
        self.run_info(run_id).await?;
        // One row past the page says whether another page follows.
        let window = match limit {
            Some(limit) => format!("LIMIT {} OFFSET {offset}", limit.saturating_add(1)),
            None => format!("OFFSET {offset}"),
        };
        let batches = self
            .query(
                &format!(
                    "SELECT key, value, timestamp, step FROM metrics WHERE run_id = $1 AND key = $2 \
                     ORDER BY timestamp, step, value {window}"
                ),
                vec![text(run_id), text(key)],
            )
            .await?;
        let mut metrics = metrics_from(&batches)?;
        let more = limit.is_some_and(|limit| metrics.len() > limit);
        if let Some(limit) = limit {
            metrics.truncate(limit);
        }
        Ok((metrics, more))
    }
}

/// Metrics from rows with `key, value, timestamp, step` columns.
pub(crate) fn metrics_from(batches: &[RecordBatch]) -> Result<Vec<Metric>> {
    let rows = Rows::new(batches);
    let keys = rows.strings("key")?;
    let values = rows.floats("value")?;
    let times = rows.millis("timestamp")?;
    let steps = rows.ints("step")?;
    Ok((0..keys.len())
        .map(|i| {
            Metric::new(
                keys[i].clone().unwrap_or_default(),
                values[i].unwrap_or(f64::NAN),
                times[i].unwrap_or_default(),
                steps[i].unwrap_or_default(),
            )
        })
        .collect())
}
