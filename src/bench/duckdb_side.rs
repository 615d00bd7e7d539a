//! The baseline: DuckDB's Python package over the same CSVs exported to
//! Parquet. The script (`duckdb_baseline.py`, embedded here and written to the
//! work dir) gets a JSON spec with the paths, counts and query SQL, and prints
//! raw samples and answers as JSON.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::json;

use crate::error::{Context, Result, RunqlError};

use super::rows::Rows;
use super::samples::Samples;
use super::workload::{METRICS, Queries, Query, TABLES, tables_json};

const SCRIPT: &str = include_str!("duckdb_baseline.py");

/// The script and its spec, written to the work dir.
pub(crate) struct Baseline {
    script: PathBuf,
    spec: PathBuf,
}

/// What the script measured (seconds are turned into [`Samples`] by the caller's accessors).
#[derive(Debug, Deserialize)]
pub(crate) struct Measured {
    pub version: String,
    pub points: u64,
    /// Per repeat, seconds per table.
    ingest: Vec<BTreeMap<String, f64>>,
    queries: BTreeMap<String, MeasuredQuery>,
    logging: MeasuredLogging,
}

#[derive(Debug, Deserialize)]
struct MeasuredQuery {
    seconds: Vec<f64>,
    rows: Rows,
}

#[derive(Debug, Deserialize)]
struct MeasuredLogging {
    single_seconds: Vec<f64>,
    batch_seconds: Vec<f64>,
}

/// How many times each part runs; the same counts runql gets.
pub(crate) struct Counts {
    pub repeats: usize,
    pub load_repeats: usize,
    pub single_calls: usize,
    pub batch_calls: usize,
    pub batch_size: usize,
}

impl Baseline {
    /// Writes the script and a spec for the data in `data_dir` under `work_dir`.
    pub(crate) fn prepare(
        work_dir: &Path,
        data_dir: &Path,
        runs: usize,
        queries: &Queries,
        counts: &Counts,
    ) -> Result<Self> {
        let script = work_dir.join("duckdb_baseline.py");
        std::fs::write(&script, SCRIPT).context(|| format!("writing {}", script.display()))?;
        let spec = work_dir.join(format!("duckdb-spec-{runs}.json"));
        let body = json!({
            "data_dir": data_dir,
            "parquet_dir": work_dir.join(format!("parquet-{runs}")),
            "logging_db": work_dir.join("duckdb-logging.db"),
            "tables": tables_json(),
            "queries": queries.baseline_sql(),
            "repeats": counts.repeats,
            "load_repeats": counts.load_repeats.max(1),
            "single_calls": counts.single_calls,
            "batch_calls": counts.batch_calls,
            "batch_size": counts.batch_size,
        });
        std::fs::write(&spec, body.to_string())
            .context(|| format!("writing {}", spec.display()))?;
        Ok(Baseline { script, spec })
    }

    /// Converts to Parquet and times queries and logging, in one Python process.
    pub(crate) fn measure(&self) -> Result<Measured> {
        let output = Command::new("python3")
            .arg(&self.script)
            .arg("baseline")
            .arg(&self.spec)
            .output()
            .context(|| format!("running python3 {}", self.script.display()))?;
        if !output.status.success() {
            return Err(RunqlError::internal(
                "running the DuckDB baseline (needs `pip install duckdb`)",
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        serde_json::from_slice(&output.stdout)
            .context(|| "reading the DuckDB baseline's JSON".into())
    }

    /// A fresh Python process that opens the Parquet files and answers one query.
    pub(crate) fn cold_start(&self, query: Query) -> Command {
        let mut command = Command::new("python3");
        command
            .arg(&self.script)
            .arg("query")
            .arg(&self.spec)
            .arg(query.baseline());
        command
    }
}

impl Measured {
    /// Seconds to convert metrics.csv to Parquet, per repeat.
    pub(crate) fn metrics_ingest(&self) -> Samples {
        let seconds: Vec<f64> = self
            .ingest
            .iter()
            .filter_map(|tables| tables.get(METRICS).copied())
            .collect();
        Samples::from_seconds(&seconds)
    }

    /// The other tables' conversion seconds in the last repeat, in load order.
    pub(crate) fn other_tables(&self) -> Vec<(&'static str, f64)> {
        let last = self.ingest.last();
        TABLES
            .iter()
            .map(|(table, _)| *table)
            .filter(|table| *table != METRICS)
            .map(|table| {
                (
                    table,
                    last.and_then(|t| t.get(table)).copied().unwrap_or(0.0),
                )
            })
            .collect()
    }

    pub(crate) fn query(&self, query: Query) -> Result<(Samples, &Rows)> {
        let measured = self.queries.get(query.baseline()).ok_or_else(|| {
            RunqlError::internal(
                "reading the DuckDB baseline",
                format!("no figures for {}", query.baseline()),
            )
        })?;
        Ok((Samples::from_seconds(&measured.seconds), &measured.rows))
    }

    pub(crate) fn single_logging(&self) -> Samples {
        Samples::from_seconds(&self.logging.single_seconds)
    }

    pub(crate) fn batch_logging(&self) -> Samples {
        Samples::from_seconds(&self.logging.batch_seconds)
    }
}
