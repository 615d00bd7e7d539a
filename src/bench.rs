//! `runql bench`: the foundation's baseline figures, on the standard workload
//! from `shared/bench/gen_dataset.py` (run as-is, so the data is byte-identical
//! to what other systems are measured on).
//!
//! Figures: bulk import rate, a single `log_metric` (p50/p99), a 1000-metric
//! `log_batch`, opening a store to its first result, and `count(*)` over metrics.
//! Each is the median of repeated runs; nothing here is a pass/fail test.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::{CsvReadOptions, SessionContext};

use crate::api::read::Rows;
use crate::api::{CreateRun, Import, ImportExperiment, ImportRun};
use crate::error::{Context, Result, RunqlError};
use crate::model::{Metric, Tag, now_millis};
use crate::{Store, StoreOptions};

/// Options of `runql bench`, with the defaults the README quotes.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The dataset generator; default `../shared/bench/gen_dataset.py`.
    pub generator: PathBuf,
    /// Runs in the workload (20 steps x 5 metrics each): 10,000 runs = 1M points.
    pub runs: usize,
    /// Where the CSVs and the store go; a temporary directory by default.
    pub work_dir: Option<PathBuf>,
    /// Repetitions per figure.
    pub repeats: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            generator: PathBuf::from("../shared/bench/gen_dataset.py"),
            runs: 10_000,
            work_dir: None,
            repeats: 5,
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub async fn run(options: BenchOptions) -> Result<String> {
    let temp = tempfile_dir()?;
    let work = options.work_dir.clone().unwrap_or_else(|| temp.clone());
    let data = work.join("data");
    let store_dir = work.join("store");
    let _ = std::fs::remove_dir_all(&store_dir);
    let mut report = vec![format!(
        "runql bench: {} runs x 20 steps x 5 metrics (gen_dataset.py), {} repeats, local disk",
        options.runs, options.repeats
    )];

    if !data.join("metrics.csv").exists() {
        let status = std::process::Command::new("python3")
            .arg(&options.generator)
            .arg(&data)
            .arg("--runs")
            .arg(options.runs.to_string())
            .status()
            .context(|| format!("running {}", options.generator.display()))?;
        if !status.success() {
            return Err(RunqlError::internal(
                "generating the dataset",
                format!("{} exited with {status}", options.generator.display()),
            ));
        }
    }

    let store = Store::open_with(
        store_dir.to_str().unwrap_or("runql-bench-store"),
        StoreOptions::default(),
    )
    .await?;
    let import = read_dataset(&data).await?;
    let points = import.metrics.len();
    let started = Instant::now();
    store.import(import).await?;
    let import_time = started.elapsed();
    report.push(format!(
        "bulk import (library, all tables, one atomic write): {points} points in {} = {:.0} points/s",
        ms(import_time),
        points as f64 / import_time.as_secs_f64()
    ));

    let location = store_dir.to_string_lossy().to_string();
    let mut opens = Vec::new();
    for _ in 0..options.repeats {
        let started = Instant::now();
        let fresh = Store::open(&location).await?;
        let count = count(&fresh, "SELECT count(*) AS n FROM runs").await?;
        opens.push(started.elapsed());
        if count != options.runs as i64 {
            return Err(RunqlError::internal(
                "bench",
                format!("expected {} runs, found {count}", options.runs),
            ));
        }
    }
    report.push(format!(
        "open a store of {} runs to the first result (count of runs): median {}",
        options.runs,
        ms(median(opens))
    ));

    let mut counts = Vec::new();
    for _ in 0..options.repeats {
        let started = Instant::now();
        let n = count(&store, "SELECT count(*) AS n FROM metrics").await?;
        counts.push(started.elapsed());
        if n != points as i64 {
            return Err(RunqlError::internal(
                "bench",
                format!("expected {points} points, found {n}"),
            ));
        }
    }
    report.push(format!(
        "SELECT count(*) FROM metrics over {points} points: median {}",
        ms(median(counts))
    ));

    let run = store
        .create_run(CreateRun {
            experiment_id: Some("1".into()),
            tags: vec![Tag::new("bench", "single")],
            ..Default::default()
        })
        .await?;
    let run_id = run.info.run_id;
    let calls = 200;
    let mut singles = Vec::with_capacity(calls);
    for step in 0..calls {
        let metric = Metric::new("loss", 1.0 / (step as f64 + 1.0), now_millis(), step as i64);
        let started = Instant::now();
        store.log_metric(&run_id, metric).await?;
        singles.push(started.elapsed());
    }
    report.push(format!(
        "single log_metric, {calls} calls one at a time: p50 {}, p99 {}",
        ms(percentile(&singles, 0.5)),
        ms(percentile(&singles, 0.99))
    ));

    let mut batches = Vec::new();
    for round in 0..options.repeats.max(5) {
        let metrics: Vec<Metric> = (0..1000)
            .map(|i| {
                Metric::new(
                    format!("m{}", i % 10),
                    i as f64,
                    now_millis(),
                    (round * 1000 + i) as i64,
                )
            })
            .collect();
        let started = Instant::now();
        store.log_batch(&run_id, metrics, vec![], vec![]).await?;
        batches.push(started.elapsed());
    }
    let batch_median = median(batches);
    report.push(format!(
        "log_batch of 1000 metrics: median {} = {:.0} points/s",
        ms(batch_median),
        1000.0 / batch_median.as_secs_f64()
    ));
    if options.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    Ok(report.join("\n"))
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("runql-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

async fn count(store: &Store, sql: &str) -> Result<i64> {
    let batches = store.query(sql, vec![]).await?;
    Ok(Rows::new(&batches)
        .ints("n")?
        .first()
        .copied()
        .flatten()
        .unwrap_or(0))
}

/// Reads the generator's CSVs into an import, with explicit schemas so ids stay text.
async fn read_dataset(dir: &Path) -> Result<Import> {
    let ctx = SessionContext::new();
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let int = |name: &str| Field::new(name, DataType::Int64, true);
    let read = |file: &str, fields: Vec<Field>| {
        let ctx = ctx.clone();
        let path = dir.join(file);
        async move {
            let schema = Arc::new(Schema::new(fields));
            let options = CsvReadOptions::new().schema(&schema).has_header(true);
            let path_text = path.to_string_lossy().to_string();
            let frame = ctx
                .read_csv(&path_text, options)
                .await
                .context(|| format!("reading {path_text}"))?;
            frame
                .collect()
                .await
                .context(|| format!("reading {path_text}"))
        }
    };
    let experiments = read("experiments.csv", vec![text("experiment_id"), text("name")]).await?;
    let runs = read(
        "runs.csv",
        vec![
            text("run_id"),
            text("experiment_id"),
            text("run_name"),
            text("status"),
            int("start_time"),
            int("end_time"),
            text("user_id"),
        ],
    )
    .await?;
    let params = read(
        "params.csv",
        vec![text("run_id"), text("key"), text("value")],
    )
    .await?;
    let tags = read("tags.csv", vec![text("run_id"), text("key"), text("value")]).await?;
    let metrics = read(
        "metrics.csv",
        vec![
            text("run_id"),
            text("key"),
            Field::new("value", DataType::Float64, true),
            int("timestamp"),
            int("step"),
        ],
    )
    .await?;

    let mut import = Import::default();
    let rows = Rows::new(&experiments);
    for (id, name) in rows
        .strings("experiment_id")?
        .into_iter()
        .zip(rows.strings("name")?)
    {
        import.experiments.push(ImportExperiment {
            experiment_id: id.unwrap_or_default(),
            name: name.unwrap_or_default(),
            artifact_location: None,
            creation_time: None,
        });
    }
    let rows = Rows::new(&runs);
    let (ids, experiment_ids, names) = (
        rows.strings("run_id")?,
        rows.strings("experiment_id")?,
        rows.strings("run_name")?,
    );
    let (statuses, starts, ends, users) = (
        rows.strings("status")?,
        rows.ints("start_time")?,
        rows.ints("end_time")?,
        rows.strings("user_id")?,
    );
    for i in 0..ids.len() {
        import.runs.push(ImportRun {
            run_id: ids[i].clone().unwrap_or_default(),
            experiment_id: experiment_ids[i].clone().unwrap_or_default(),
            run_name: names[i].clone(),
            user_id: users[i].clone(),
            status: statuses[i].as_deref().unwrap_or("FINISHED").parse()?,
            start_time: starts[i],
            end_time: ends[i],
        });
    }
    for (batches, target) in [(&params, &mut import.params), (&tags, &mut import.tags)] {
        let rows = Rows::new(batches);
        for ((run_id, key), value) in rows
            .strings("run_id")?
            .into_iter()
            .zip(rows.strings("key")?)
            .zip(rows.strings("value")?)
        {
            target.push((
                run_id.unwrap_or_default(),
                Tag::new(key.unwrap_or_default(), value.unwrap_or_default()),
            ));
        }
    }
    let rows = Rows::new(&metrics);
    let (ids, keys, values) = (
        rows.strings("run_id")?,
        rows.strings("key")?,
        rows.floats("value")?,
    );
    let (times, steps) = (rows.ints("timestamp")?, rows.ints("step")?);
    import.metrics.reserve(ids.len());
    for i in 0..ids.len() {
        import.metrics.push((
            ids[i].clone().unwrap_or_default(),
            Metric::new(
                keys[i].clone().unwrap_or_default(),
                values[i].unwrap_or(f64::NAN),
                times[i].unwrap_or_default(),
                steps[i].unwrap_or_default(),
            ),
        ));
    }
    Ok(import)
}
