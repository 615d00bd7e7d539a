//! Garbage collection: removing deleted runs, logged models and experiments
//! for good, as `mlflow gc` does.

use datafusion::common::ScalarValue;

use crate::api::read::Rows;
use crate::error::{Result, RunqlError};
use crate::model::validation::validate_run_id;
use crate::model::{DEFAULT_EXPERIMENT_ID, LifecycleStage, now_millis};
use crate::store::Store;
use crate::store::schema::{RawTable, timestamp_scalar};

/// What to collect. With nothing set, every deleted run and experiment goes.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// Only runs and experiments deleted at least this many milliseconds ago.
    pub older_than_millis: Option<i64>,
    /// Only these runs; each must exist and be deleted.
    pub run_ids: Vec<String>,
    /// Only these experiments (with all their runs); each must exist and be deleted.
    pub experiment_ids: Vec<String>,
    /// Delete data files no table version references (left by writers or
    /// compactions that stopped mid-write) once at least this old; default
    /// [`DEFAULT_ORPHAN_AGE_MILLIS`]. Zero is safe only while no one writes:
    /// a running writer's files are unreferenced until its commit lands.
    pub orphans_older_than_millis: Option<i64>,
}

/// An hour: far longer than any write takes between its files and its commit.
pub const DEFAULT_ORPHAN_AGE_MILLIS: i64 = 3_600_000;

/// What [`Store::gc`] removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GcReport {
    pub runs: usize,
    pub logged_models: usize,
    pub experiments: usize,
    pub rows: usize,
    pub files_deleted: usize,
}

impl Store {
    /// Permanently removes deleted runs (and everything logged to them) and deleted
    /// experiments (with all their runs). Rows leave the current table versions at
    /// once, and their data files are deleted, so the data is gone for good.
    pub async fn gc(&self, options: GcOptions) -> Result<GcReport> {
        if let Some(older) = options.older_than_millis
            && older < 0
        {
            return Err(RunqlError::invalid(format!(
                "older_than must not be negative, got {older} ms"
            )));
        }
        let orphan_age = options
            .orphans_older_than_millis
            .unwrap_or(DEFAULT_ORPHAN_AGE_MILLIS);
        if orphan_age < 0 {
            return Err(RunqlError::invalid(format!(
                "orphans_older_than must not be negative, got {orphan_age} ms"
            )));
        }
        // Stored times are never negative, so a cutoff before the epoch selects
        // nothing; clamping keeps a huge `older_than` inside the timestamp range.
        let cutoff = timestamp_scalar(
            (now_millis() - options.older_than_millis.unwrap_or(0)).max(-1) * 1000,
        );
        let selective = !options.run_ids.is_empty() || !options.experiment_ids.is_empty();

        // The ids named are checked before anything is written.
        let mut experiments = Vec::new();
        for experiment_id in &options.experiment_ids {
            let experiment = self.get_experiment(experiment_id).await?;
            if experiment.lifecycle_stage != LifecycleStage::Deleted {
                return Err(RunqlError::invalid(format!(
                    "experiment '{experiment_id}' is not deleted, so gc will not remove it"
                )));
            }
            experiments.push(experiment_id.clone());
        }
        let mut runs = Vec::new();
        for run_id in &options.run_ids {
            validate_run_id(run_id)?;
            let info = self.run_info(run_id).await?;
            if info.lifecycle_stage != LifecycleStage::Deleted {
                return Err(RunqlError::invalid(format!(
                    "run '{run_id}' is not deleted, so gc will not remove it"
                )));
            }
            runs.push(run_id.clone());
        }
        // Rows this handle buffered or journaled for runs about to go land
        // first, so gc removes them too.
        self.flush().await?;
        // Writes a crashed writer left half-done are finished first, so their
        // files are referenced, not orphans.
        self.recover_intents().await?;
        let mut models = Vec::new();
        if !selective {
            // Everything deleted before the cutoff.
            for (ids, query) in [
                (
                    &mut experiments,
                    "SELECT experiment_id AS id FROM experiments \
                     WHERE lifecycle_stage = 'deleted' AND last_update_time <= $1",
                ),
                (
                    &mut runs,
                    "SELECT run_id AS id FROM runs \
                     WHERE lifecycle_stage = 'deleted' AND deleted_time <= $1",
                ),
                // Logged models go with their experiment, or on their own once deleted.
                (
                    &mut models,
                    "SELECT model_id AS id FROM logged_models \
                     WHERE lifecycle_stage = 'deleted' AND last_update_time <= $1",
                ),
            ] {
                *ids = self.ids(query, cutoff.clone()).await?;
            }
        }
        experiments.retain(|id| id != DEFAULT_EXPERIMENT_ID);
        runs.extend(self.owned_by("runs", "run_id", &experiments).await?);
        runs.sort();
        runs.dedup();
        models.extend(
            self.owned_by("logged_models", "model_id", &experiments)
                .await?,
        );
        models.sort();
        models.dedup();

        let mut report = GcReport {
            runs: runs.len(),
            logged_models: models.len(),
            experiments: experiments.len(),
            ..Default::default()
        };
        // Children first: a gc interrupted part-way leaves deleted runs, never orphans.
        for kind in RawTable::ALL {
            let owners = match kind.owner_column() {
                "experiment_id" => &experiments,
                "model_id" => &models,
                _ => &runs,
            };
            let table = self.table(kind);
            if !owners.is_empty() {
                report.rows += table.delete_owned_by(owners).await?;
            }
            report.files_deleted += table
                .vacuum(chrono::Duration::milliseconds(orphan_age))
                .await?;
        }
        for run_id in &runs {
            self.drop_param_claims(run_id).await?;
        }
        Ok(report)
    }

    /// The ids (`id_column` of `view`) of everything in these experiments.
    async fn owned_by(
        &self,
        view: &str,
        id_column: &str,
        experiments: &[String],
    ) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        for experiment_id in experiments {
            let batches = self
                .query(
                    &format!("SELECT {id_column} FROM {view} WHERE experiment_id = $1"),
                    vec![ScalarValue::Utf8(Some(experiment_id.clone()))],
                )
                .await?;
            ids.extend(
                Rows::new(&batches)
                    .strings(id_column)?
                    .into_iter()
                    .flatten(),
            );
        }
        Ok(ids)
    }

    async fn ids(&self, sql: &str, cutoff: ScalarValue) -> Result<Vec<String>> {
        let batches = self.query(sql, vec![cutoff]).await?;
        Ok(Rows::new(&batches)
            .strings("id")?
            .into_iter()
            .flatten()
            .collect())
    }
}
