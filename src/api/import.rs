//! Bulk import: many experiments, runs, params, tags and metrics in one atomic
//! write, for loading history from elsewhere (and for `INSERT INTO … SELECT`).
//!
//! The rules are the single-call rules, checked row by row with the same
//! validators; only the per-call batch limits do not apply. Reads are done once
//! per import, not once per row. Any bad row fails the whole import, naming the
//! row and the rule, and nothing is written.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array, Int64Array, StringArray};
use datafusion::arrow::record_batch::RecordBatch;
use futures::{Stream, StreamExt};

use crate::api::read::Rows;
use crate::error::{Result, RunqlError};
use crate::model::validation::{
    KeyKind, shown, validate_experiment_id, validate_experiment_name, validate_experiment_tag,
    validate_key, validate_metric, validate_metric_fields, validate_param, validate_run_id,
    validate_run_name, validate_run_tag, validate_time,
};
use crate::model::{
    LifecycleStage, Metric, Millis, Param, RUN_NAME_TAG, RunStatus, Tag, now_millis,
};
use crate::store::rows::{self, ExperimentChange, KeyChange, MetricArrays, RunChange};
use crate::store::schema::RawTable;
use crate::store::{Store, WriteSet};

/// An experiment to import with a known id.
#[derive(Debug, Clone)]
pub struct ImportExperiment {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: Option<String>,
    pub creation_time: Option<Millis>,
}

/// A run to import with a known id; it must not exist yet.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub run_id: String,
    pub experiment_id: String,
    pub run_name: Option<String>,
    pub user_id: Option<String>,
    pub status: RunStatus,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
}

/// Rows to import. Params, tags and metrics may belong to runs in this import or
/// to active runs already in the store.
#[derive(Debug, Clone, Default)]
pub struct Import {
    pub experiments: Vec<ImportExperiment>,
    pub runs: Vec<ImportRun>,
    pub params: Vec<(String, Param)>,
    pub tags: Vec<(String, Tag)>,
    pub metrics: Vec<(String, Metric)>,
    /// Tags of experiments in this import or active ones already stored.
    pub experiment_tags: Vec<(String, Tag)>,
}

/// How many rows of each kind an import wrote (repeated params are not rewritten).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub experiments: usize,
    pub runs: usize,
    pub params: usize,
    pub tags: usize,
    pub metrics: usize,
    pub experiment_tags: usize,
}

fn at_row(table: &str, row: usize, error: RunqlError) -> RunqlError {
    match error {
        RunqlError::InvalidParameter(message) => {
            RunqlError::invalid(format!("{table} row {}: {message}", row + 1))
        }
        other => other,
    }
}

impl Store {
    pub async fn import(&self, import: Import) -> Result<ImportReport> {
        // Rules that need no reads first, so a bad row fails fast.
        for (row, experiment) in import.experiments.iter().enumerate() {
            validate_experiment_id(&experiment.experiment_id)
                .and_then(|_| validate_experiment_name(&experiment.name))
                .and_then(|_| {
                    experiment
                        .creation_time
                        .map_or(Ok(()), |t| validate_time("creation_time", t))
                })
                .map_err(|e| at_row("experiments", row, e))?;
        }
        for (row, run) in import.runs.iter().enumerate() {
            validate_run_id(&run.run_id)
                .and_then(|_| validate_experiment_id(&run.experiment_id))
                .and_then(|_| run.run_name.as_deref().map_or(Ok(()), validate_run_name))
                .and_then(|_| {
                    run.start_time
                        .map_or(Ok(()), |t| validate_time("start_time", t))
                })
                .and_then(|_| {
                    run.end_time
                        .map_or(Ok(()), |t| validate_time("end_time", t))
                })
                .map_err(|e| at_row("runs", row, e))?;
        }
        for (row, (_, param)) in import.params.iter().enumerate() {
            validate_param(param).map_err(|e| at_row("params", row, e))?;
        }
        for (row, (_, tag)) in import.tags.iter().enumerate() {
            validate_run_tag(tag).map_err(|e| at_row("tags", row, e))?;
        }
        for (row, (_, metric)) in import.metrics.iter().enumerate() {
            validate_metric(metric).map_err(|e| at_row("metrics", row, e))?;
        }
        for (row, (_, tag)) in import.experiment_tags.iter().enumerate() {
            validate_experiment_tag(tag).map_err(|e| at_row("experiment_tags", row, e))?;
        }

        // Experiments: new ids, and names not held by an active experiment.
        let stored_experiments = self
            .query(
                "SELECT experiment_id, name, lifecycle_stage FROM experiments",
                vec![],
            )
            .await?;
        let stored = Rows::new(&stored_experiments);
        let mut experiment_ids: HashMap<String, bool> = HashMap::new();
        let mut active_names: HashSet<String> = HashSet::new();
        for ((id, name), stage) in stored
            .strings("experiment_id")?
            .into_iter()
            .zip(stored.strings("name")?)
            .zip(stored.strings("lifecycle_stage")?)
        {
            let active = stage.as_deref() == Some(LifecycleStage::Active.as_str());
            if active {
                active_names.extend(name);
            }
            experiment_ids.extend(id.map(|id| (id, active)));
        }
        for (row, experiment) in import.experiments.iter().enumerate() {
            if experiment_ids.contains_key(&experiment.experiment_id) {
                return Err(
                    RunqlError::already_exists("experiment", &experiment.experiment_id)
                        .at(format!(" (experiments row {})", row + 1)),
                );
            }
            if !active_names.insert(experiment.name.clone()) {
                return Err(
                    RunqlError::already_exists("experiment named", &experiment.name)
                        .at(format!(" (experiments row {})", row + 1)),
                );
            }
            experiment_ids.insert(experiment.experiment_id.clone(), true);
        }

        for (row, (experiment_id, _)) in import.experiment_tags.iter().enumerate() {
            match experiment_ids.get(experiment_id) {
                Some(true) => {}
                Some(false) => {
                    return Err(at_row(
                        "experiment_tags",
                        row,
                        RunqlError::invalid(format!(
                            "experiment '{experiment_id}' must be in the 'active' state to be tagged"
                        )),
                    ));
                }
                None => {
                    return Err(RunqlError::not_found("experiment", experiment_id)
                        .at(format!(" (experiment_tags row {})", row + 1)));
                }
            }
        }

        // Runs: new ids, in active experiments.
        let mut new_runs: HashSet<&str> = HashSet::new();
        for (row, run) in import.runs.iter().enumerate() {
            match experiment_ids.get(&run.experiment_id) {
                Some(true) => {}
                Some(false) => {
                    return Err(at_row(
                        "runs",
                        row,
                        RunqlError::invalid(format!(
                            "experiment '{}' must be in the 'active' state to create runs in it",
                            run.experiment_id
                        )),
                    ));
                }
                None => {
                    return Err(RunqlError::not_found("experiment", &run.experiment_id)
                        .at(format!(" (runs row {})", row + 1)));
                }
            }
            if !new_runs.insert(run.run_id.as_str()) {
                return Err(RunqlError::already_exists("run", &run.run_id)
                    .at(format!(" (runs row {}, repeated in this import)", row + 1)));
            }
        }
        let referenced: HashSet<&str> = import
            .params
            .iter()
            .map(|(id, _)| id.as_str())
            .chain(import.tags.iter().map(|(id, _)| id.as_str()))
            .chain(import.metrics.iter().map(|(id, _)| id.as_str()))
            .chain(import.runs.iter().map(|r| r.run_id.as_str()))
            .collect();
        let stored_runs = self.stored_runs(&referenced).await?;
        for run in &import.runs {
            if stored_runs.contains_key(run.run_id.as_str()) {
                return Err(RunqlError::already_exists("run", &run.run_id));
            }
        }
        let check_owner = |table: &str, row: usize, run_id: &str| -> Result<()> {
            if new_runs.contains(run_id) {
                return Ok(());
            }
            check_writable(&stored_runs, table, row, run_id)
        };
        for (row, (run_id, _)) in import.params.iter().enumerate() {
            check_owner("params", row, run_id)?;
        }
        for (row, (run_id, _)) in import.tags.iter().enumerate() {
            check_owner("tags", row, run_id)?;
        }
        for (row, (run_id, _)) in import.metrics.iter().enumerate() {
            check_owner("metrics", row, run_id)?;
        }

        // Params: write-once across the import and the store.
        let existing_runs_with_params: HashSet<&str> = import
            .params
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|id| !new_runs.contains(id))
            .collect();
        let stored_params = self.stored_params(&existing_runs_with_params).await?;
        let mut params: HashMap<(&str, &str), &str> = HashMap::new();
        for (run_id, param) in &stored_params {
            params.insert((run_id, &param.key), &param.value);
        }
        let mut fresh_params: Vec<KeyChange> = Vec::new();
        for (row, (run_id, param)) in import.params.iter().enumerate() {
            match params.get(&(run_id.as_str(), param.key.as_str())) {
                None => {
                    params.insert((run_id, &param.key), &param.value);
                    fresh_params.push(KeyChange {
                        owner: run_id.clone(),
                        key: param.key.clone(),
                        value: Some(param.value.clone()),
                    });
                }
                Some(old) if *old == param.value => {}
                Some(old) => {
                    return Err(RunqlError::invalid(format!(
                        "params row {}: param '{}' of run {run_id} already has value {}; params are write-once (got {})",
                        row + 1,
                        param.key,
                        shown(old),
                        shown(&param.value)
                    )));
                }
            }
        }

        let now = now_millis();
        let experiment_changes: Vec<ExperimentChange> = import
            .experiments
            .iter()
            .map(|e| {
                let location = e
                    .artifact_location
                    .clone()
                    .unwrap_or_else(|| self.artifact_root(&e.experiment_id));
                ExperimentChange::created(
                    &e.experiment_id,
                    &e.name,
                    location,
                    e.creation_time.unwrap_or(now),
                )
            })
            .collect();
        let mut run_changes: Vec<RunChange> = import
            .runs
            .iter()
            .map(|r| RunChange {
                run_id: r.run_id.clone(),
                experiment_id: r.experiment_id.clone(),
                run_name: Some(r.run_name.clone().unwrap_or_else(|| r.run_id.clone())),
                user_id: Some(r.user_id.clone().unwrap_or_default()),
                status: Some(r.status.as_str().into()),
                start_time: Some(r.start_time.unwrap_or(now)),
                end_time: r.end_time,
                artifact_uri: Some(format!(
                    "{}/{}/artifacts",
                    self.artifact_root(&r.experiment_id),
                    r.run_id
                )),
                lifecycle_stage: Some(LifecycleStage::Active.as_str().into()),
                deleted_time: None,
            })
            .collect();
        // The run name is held by the run itself, as in the single-call API.
        let (name_tags, tags): (Vec<_>, Vec<_>) = import
            .tags
            .iter()
            .partition(|(_, tag)| tag.key == RUN_NAME_TAG);
        let renames = name_tags.len();
        let experiment_of: HashMap<&str, &str> = import
            .runs
            .iter()
            .map(|r| (r.run_id.as_str(), r.experiment_id.as_str()))
            .chain(
                stored_runs
                    .iter()
                    .map(|(id, (_, experiment))| (id.as_str(), experiment.as_str())),
            )
            .collect();
        run_changes.extend(name_tags.into_iter().map(|(run_id, tag)| {
            RunChange {
                run_id: run_id.clone(),
                experiment_id: experiment_of
                    .get(run_id.as_str())
                    .copied()
                    .unwrap_or_default()
                    .to_string(),
                run_name: Some(tag.value.clone()),
                ..Default::default()
            }
        }));
        let tag_changes: Vec<KeyChange> = tags
            .into_iter()
            .map(|(run_id, tag)| KeyChange {
                owner: run_id.clone(),
                key: tag.key.clone(),
                value: Some(tag.value.clone()),
            })
            .collect();
        let metric_rows: Vec<(&str, &Metric)> = import
            .metrics
            .iter()
            .map(|(id, m)| (id.as_str(), m))
            .collect();

        let report = ImportReport {
            experiments: experiment_changes.len(),
            runs: import.runs.len(),
            params: fresh_params.len(),
            tags: tag_changes.len() + renames,
            metrics: metric_rows.len(),
            experiment_tags: import.experiment_tags.len(),
        };
        let experiment_tag_changes: Vec<KeyChange> = import
            .experiment_tags
            .iter()
            .map(|(experiment_id, tag)| KeyChange {
                owner: experiment_id.clone(),
                key: tag.key.clone(),
                value: Some(tag.value.clone()),
            })
            .collect();
        let clock = self.clock();
        let mut write = WriteSet::new();
        write.add(
            RawTable::Experiments,
            rows::experiment_changes(&experiment_changes, clock)?,
        );
        write.add(RawTable::Runs, rows::run_changes(&run_changes, clock)?);
        write.add(
            RawTable::Params,
            rows::key_changes(RawTable::Params, &fresh_params, clock)?,
        );
        write.add(
            RawTable::Tags,
            rows::key_changes(RawTable::Tags, &tag_changes, clock)?,
        );
        write.add(RawTable::Metrics, rows::metrics(&metric_rows)?);
        write.add(
            RawTable::ExperimentTags,
            rows::key_changes(RawTable::ExperimentTags, &experiment_tag_changes, clock)?,
        );
        self.write(write).await?;
        Ok(report)
    }

    /// For each of the given runs in the store: whether it is active, and its
    /// experiment.
    async fn stored_runs(&self, run_ids: &HashSet<&str>) -> Result<StoredRuns> {
        if run_ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.stored_runs_matching(|id| run_ids.contains(id)).await
    }

    /// The params of the given runs: a lookup per run for a few runs, one
    /// scan of every param for many (a bulk load into runs already stored).
    async fn stored_params(&self, run_ids: &HashSet<&str>) -> Result<Vec<(String, Param)>> {
        const LOOKUPS_UP_TO: usize = 32;
        if run_ids.len() <= LOOKUPS_UP_TO {
            let mut params = Vec::new();
            for run_id in run_ids {
                for param in self.run_params(run_id).await? {
                    params.push((run_id.to_string(), param));
                }
            }
            return Ok(params);
        }
        let batches = self
            .query("SELECT run_id, key, value FROM params", vec![])
            .await?;
        let rows = Rows::new(&batches);
        Ok(rows
            .strings("run_id")?
            .into_iter()
            .zip(rows.strings("key")?)
            .zip(rows.strings("value")?)
            .filter_map(|((run_id, key), value)| {
                let run_id = run_id.filter(|id| run_ids.contains(id.as_str()))?;
                Some((run_id, Param::new(key?, value?)))
            })
            .collect())
    }

    /// Every run in the store whose id passes `wanted`, kept as the scan goes
    /// (a store may hold millions of runs).
    async fn stored_runs_matching(&self, wanted: impl Fn(&str) -> bool) -> Result<StoredRuns> {
        let batches = self
            .query(
                "SELECT run_id, lifecycle_stage, experiment_id FROM runs",
                vec![],
            )
            .await?;
        let rows = Rows::new(&batches);
        Ok(rows
            .strings("run_id")?
            .into_iter()
            .zip(rows.strings("lifecycle_stage")?)
            .zip(rows.strings("experiment_id")?)
            .filter_map(|((id, stage), experiment)| {
                let active = stage.as_deref() == Some(LifecycleStage::Active.as_str());
                let id = id.filter(|id| wanted(id))?;
                Some((id, (active, experiment.unwrap_or_default())))
            })
            .collect())
    }

    /// Loads metric values in bulk, streamed batch by batch, in one atomic
    /// write: the rules are [`Store::import`]'s, checked as the rows stream
    /// past, and the first bad row fails the load with nothing committed.
    /// Data files are written as rows arrive, so memory stays flat however
    /// long the stream; files of a failed load are never referenced, and gc
    /// deletes them. Returns the number of rows loaded.
    pub async fn import_metrics(
        &self,
        mut batches: impl Stream<Item = Result<MetricColumns>> + Unpin,
    ) -> Result<usize> {
        // Buffered log calls made before the load land before it (journaled
        // ones are already durable, and read with the tables).
        self.flush_buffer().await?;
        let runs = self.stored_runs_matching(|_| true).await?;
        let table = self.table(RawTable::Metrics);
        // Encoding Parquet is most of a load's work: values go to one writer
        // per core, and latest copies to files of their own, which
        // `latest_metrics` reads alone.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let copies = table.background_files().await?;
        let mut values = Vec::with_capacity(cores);
        for _ in 0..cores {
            values.push(table.background_files().await?);
        }
        let mut loaded = 0;
        let outcome: Result<()> = async {
            for writer in values.iter().cycle() {
                let Some(columns) = batches.next().await else {
                    return Ok(());
                };
                let facts = metric_facts(columns?, loaded, &runs)?;
                loaded += facts.num_rows();
                copies
                    .write(rows::latest_copies(std::slice::from_ref(&facts))?)
                    .await?;
                writer.write(facts).await?;
            }
            Ok(())
        }
        .await;
        let mut adds = Vec::new();
        let mut failure = outcome.err();
        for writer in std::iter::once(copies).chain(values) {
            match failure {
                Some(_) => writer.abort(),
                None => match writer.finish().await {
                    Ok(files) => adds.extend(files),
                    Err(error) => failure = Some(error),
                },
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        if loaded == 0 {
            return Ok(0);
        }
        table.commit_adds(adds, None).await?;
        self.auto_compact(&[RawTable::Metrics]).await;
        Ok(loaded)
    }
}

/// Runs of the store by id: whether each is active, and its experiment.
type StoredRuns = HashMap<String, (bool, String)>;

/// A run that rows of `table` are written to must exist and be active.
fn check_writable(runs: &StoredRuns, table: &str, row: usize, run_id: &str) -> Result<()> {
    match runs.get(run_id).map(|(active, _)| *active) {
        Some(true) => Ok(()),
        Some(false) => Err(at_row(
            table,
            row,
            RunqlError::invalid(format!(
                "run '{run_id}' must be in the 'active' state to be written to"
            )),
        )),
        None => Err(RunqlError::not_found("run", run_id).at(format!(" ({table} row {})", row + 1))),
    }
}

/// Metric values to load, column by column, as [`Store::import_metrics`]
/// takes them. A NULL `timestamp` (milliseconds since the epoch) is the time
/// of loading and a NULL `step` is 0; run_id, key and value must not be NULL.
pub struct MetricColumns {
    pub run_id: StringArray,
    pub key: StringArray,
    pub value: Float64Array,
    pub timestamp: Int64Array,
    pub step: Int64Array,
    pub dataset_name: StringArray,
    pub dataset_digest: StringArray,
    pub model_id: StringArray,
}

/// Checks a batch of metric values with the single-call rules (rows are
/// numbered from `first_row`) and encodes them as metric rows.
fn metric_facts(
    columns: MetricColumns,
    first_row: usize,
    runs: &StoredRuns,
) -> Result<RecordBatch> {
    let now = now_millis();
    let required = |array: &dyn Array, what: &str| -> Result<()> {
        match array
            .nulls()
            .and_then(|nulls| nulls.iter().position(|valid| !valid))
        {
            Some(row) => Err(at_row(
                "metrics",
                first_row + row,
                RunqlError::invalid(format!("{what} must not be NULL")),
            )),
            None => Ok(()),
        }
    };
    let rows = columns.run_id.len();
    let lengths = [
        columns.key.len(),
        columns.value.len(),
        columns.timestamp.len(),
        columns.step.len(),
        columns.dataset_name.len(),
        columns.dataset_digest.len(),
        columns.model_id.len(),
    ];
    if lengths.iter().any(|&length| length != rows) {
        return Err(RunqlError::invalid(format!(
            "metric columns must be of equal length: run_id has {rows} values, the others \
             (key, value, timestamp, step, dataset_name, dataset_digest, model_id) {lengths:?}"
        )));
    }
    required(&columns.run_id, "run_id")?;
    required(&columns.key, "key")?;
    required(&columns.value, "value")?;
    let timestamps: Int64Array = columns
        .timestamp
        .iter()
        .map(|t| Some(t.unwrap_or(now)))
        .collect();
    let steps: Int64Array = columns.step.iter().map(|s| Some(s.unwrap_or(0))).collect();
    // Loads come grouped by run, and use few keys: each run is checked once
    // per group of its rows, and each key once per batch.
    let mut last_run = None;
    let mut checked_keys: Vec<&str> = Vec::new();
    for row in 0..columns.run_id.len() {
        let at = |error| at_row("metrics", first_row + row, error);
        let (run_id, key) = (columns.run_id.value(row), columns.key.value(row));
        if !checked_keys.contains(&key) {
            validate_key(KeyKind::Metric, key).map_err(at)?;
            // Past a few keys, checking each row is cheaper than searching.
            if checked_keys.len() < 16 {
                checked_keys.push(key);
            }
        }
        let names = [
            &columns.dataset_name,
            &columns.dataset_digest,
            &columns.model_id,
        ]
        .map(|names| names.is_valid(row).then(|| names.value(row)));
        validate_metric_fields(key, timestamps.value(row), names).map_err(at)?;
        // Rules that need no reads come first, as in `Store::import`.
        if last_run != Some(run_id) {
            check_writable(runs, "metrics", first_row + row, run_id)?;
            last_run = Some(run_id);
        }
    }
    rows::metric_facts(MetricArrays {
        run_id: Arc::new(columns.run_id),
        key: Arc::new(columns.key),
        value: columns.value,
        timestamp: timestamps,
        step: steps,
        dataset_name: Arc::new(columns.dataset_name),
        dataset_digest: Arc::new(columns.dataset_digest),
        model_id: Arc::new(columns.model_id),
    })
}
