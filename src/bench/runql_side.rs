//! runql's figures, through the public surfaces only: a [`Store`], its SQL
//! session, and the `runql` binary for cold starts. Whatever the storage
//! engine does underneath, the benchmark sees what a user sees.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::{Context, Result, RunqlError};
use crate::sql::session::{Output, Session};
use crate::store::Store;

use super::rows::{self, Rows};
use super::samples::Samples;
use super::workload::{self, Queries, Query};

/// A loaded store and what loading it cost.
pub(crate) struct Load {
    /// The metrics INSERT of each repeat, each into a fresh store.
    pub metrics: Samples,
    /// Metric points the INSERT reported written.
    pub points: u64,
    /// The other tables' INSERTs, in load order, from the last repeat: time and rows written.
    pub other_tables: Vec<(&'static str, Duration, u64)>,
    pub compaction: Duration,
    /// `EXEC store.compact`'s answer: table, data files before, after.
    pub files: Rows,
}

/// Loads the CSVs into a fresh store at `store_dir` `repeats` times through
/// INSERT … SELECT, then compacts the last one, which the queries then read.
pub(crate) async fn load(store_dir: &Path, data_dir: &Path, repeats: usize) -> Result<Load> {
    let mut metrics = Samples::default();
    let mut points = 0;
    let mut other_tables = Vec::new();
    for _ in 0..repeats.max(1) {
        if store_dir.exists() {
            std::fs::remove_dir_all(store_dir)
                .context(|| format!("removing the old store {}", store_dir.display()))?;
        }
        let session = open(store_dir).await?;
        other_tables.clear();
        for (table, columns) in workload::TABLES {
            execute(
                &session,
                &workload::external_table(data_dir, table, columns),
            )
            .await?;
            let started = Instant::now();
            let written = execute(&session, &workload::insert_from_csv(table, columns)).await?;
            let took = started.elapsed();
            let count = single_count(&written)?;
            if *table == workload::METRICS {
                metrics.push(took);
                points = count;
            } else {
                other_tables.push((*table, took, count));
            }
        }
    }
    let session = open(store_dir).await?;
    let started = Instant::now();
    let compacted = execute(&session, "EXEC store.compact").await?;
    let compaction = started.elapsed();
    Ok(Load {
        metrics,
        points,
        other_tables,
        compaction,
        files: rows::from_batches(&compacted.batches)?,
    })
}

/// A session on the store at `store_dir`, opened as a user would.
pub(crate) async fn open(store_dir: &Path) -> Result<Session> {
    let location = store_dir.to_str().ok_or_else(|| {
        RunqlError::invalid(format!(
            "the bench work dir must be valid UTF-8: {}",
            store_dir.display()
        ))
    })?;
    Store::open(location).await?.session().await
}

async fn execute(session: &Session, sql: &str) -> Result<Output> {
    session.execute(sql).await.map_err(|error| {
        RunqlError::internal(format!("bench statement `{}`", abbreviated(sql)), error)
    })
}

fn abbreviated(sql: &str) -> String {
    const SHOWN: usize = 120;
    match sql.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &sql[..end]),
        None => sql.to_string(),
    }
}

fn single_count(output: &Output) -> Result<u64> {
    match rows::from_batches(&output.batches)?
        .first()
        .and_then(|row| row.first())
    {
        Some(serde_json::Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or(0)),
        other => Err(RunqlError::internal(
            "reading an INSERT's count",
            format!("expected one whole number, got {other:?}"),
        )),
    }
}

/// The query text for the loaded store: every experiment for the search, and
/// the run in the middle of the generated ones (named `run-<n>`) for Q2.
pub(crate) async fn queries(session: &Session, runs: usize) -> Result<Queries> {
    let experiments = execute(session, "SELECT experiment_id FROM experiments ORDER BY 1").await?;
    let middle = format!("run-{}", runs / 2);
    let found = execute(
        session,
        &format!("SELECT run_id FROM runs WHERE run_name = '{middle}'"),
    )
    .await?;
    let history_run = rows::first_column_text(&rows::from_batches(&found.batches)?)
        .pop()
        .ok_or_else(|| {
            RunqlError::internal("picking Q2's run", format!("no run named {middle}"))
        })?;
    Ok(Queries {
        experiment_ids: rows::first_column_text(&rows::from_batches(&experiments.batches)?),
        history_run,
    })
}

/// One query's warm timings and its answer.
pub(crate) struct Timed {
    pub samples: Samples,
    pub rows: Rows,
}

/// Each query once to warm up (its answer is kept), then `repeats` timed runs.
pub(crate) async fn time_query(
    session: &Session,
    queries: &Queries,
    query: Query,
    repeats: usize,
) -> Result<Timed> {
    let sql = queries.sql(query);
    let rows = rows::from_batches(&execute(session, &sql).await?.batches)?;
    let samples = time_each(session, &vec![sql; repeats]).await?;
    Ok(Timed { samples, rows })
}

/// Runs the statements one at a time, timing each.
async fn time_each(session: &Session, statements: &[String]) -> Result<Samples> {
    let mut samples = Samples::default();
    for statement in statements {
        let started = Instant::now();
        execute(session, statement).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// How logging calls reach the store; each mode is its own pair of report
/// lines. A buffered mode is one more entry whose `setup` turns it on.
pub(crate) struct LoggingMode {
    pub name: &'static str,
    /// Statements run on the session before its calls are timed.
    pub setup: &'static [&'static str],
    /// Statements run after the timed calls, untimed.
    pub teardown: &'static [&'static str],
}

pub(crate) const LOGGING_MODES: &[LoggingMode] = &[
    LoggingMode {
        name: "direct",
        setup: &[],
        teardown: &[],
    },
    // Opt-in buffered logging: calls return once validated; a background task
    // commits every 200 ms or 10k rows, so commits overlap the calls.
    LoggingMode {
        name: "buffered",
        setup: &["EXEC store.buffer_writes @enabled=true"],
        teardown: &[
            "EXEC store.flush",
            "EXEC store.buffer_writes @enabled=false",
        ],
    },
];

/// Metrics per `runs.log_batch` call in the standard workload.
pub(crate) const BATCH_SIZE: usize = 1000;

/// Logging latencies of one mode.
pub(crate) struct Logging {
    pub single: Samples,
    pub batch: Samples,
}

/// `single_calls` `runs.log_metric` calls one at a time, then `batch_calls`
/// `runs.log_batch` calls of [`BATCH_SIZE`] metrics, into a new run. Call text
/// is built before the clock starts: the figure is the store's, not formatting's.
pub(crate) async fn time_logging(
    session: &Session,
    mode: &LoggingMode,
    single_calls: usize,
    batch_calls: usize,
) -> Result<Logging> {
    for statement in mode.setup {
        execute(session, statement).await?;
    }
    execute(
        session,
        &format!(
            "EXEC runs.create @experiment_id='1' @run_name='bench-logging-{}'",
            mode.name
        ),
    )
    .await?;
    let run_id = session
        .variable("run_id")
        .map(|id| id.to_string())
        .ok_or_else(|| RunqlError::internal("creating the logging run", "no run_id returned"))?;
    let first_timestamp = crate::model::now_millis();

    let single_statements: Vec<String> = (0..single_calls)
        .map(|step| {
            format!(
                "EXEC runs.log_metric @run_id='{run_id}' @key='loss' @value={:?} @timestamp={} @step={step}",
                1.0 / (step as f64 + 1.0),
                first_timestamp + step as i64
            )
        })
        .collect();
    let single = time_each(session, &single_statements).await?;

    let batch_statements: Vec<String> = (0..batch_calls)
        .map(|call| {
            let metrics: Vec<serde_json::Value> = (0..BATCH_SIZE)
                .map(|i| {
                    serde_json::json!({
                        "key": format!("m{}", i % 10),
                        "value": i as f64,
                        "timestamp": first_timestamp + i as i64,
                        "step": (call * BATCH_SIZE + i) as i64,
                    })
                })
                .collect();
            let body = serde_json::json!({ "run_id": run_id, "metrics": metrics });
            format!("EXEC runs.log_batch @@json='{body}'")
        })
        .collect();
    let batch = time_each(session, &batch_statements).await?;
    for statement in mode.teardown {
        execute(session, statement).await?;
    }
    Ok(Logging { single, batch })
}

/// The `runql` binary answering one statement from a cold start, as a user's
/// script would: `runql --store DIR -q --format csv -c SQL`.
pub(crate) fn cold_start(exe: &Path, store_dir: &Path, sql: &str) -> Command {
    let mut command = Command::new(exe);
    command
        .arg("--store")
        .arg(store_dir)
        .args(["-q", "--format", "csv", "--bail", "-c", sql]);
    command
}

/// The store of a bench: `<work>/store-<runs>`.
pub(crate) fn store_dir(work_dir: &Path, runs: usize) -> PathBuf {
    work_dir.join(format!("store-{runs}"))
}
