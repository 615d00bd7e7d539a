//! `runql bench`: the standard workload, measured on runql and, in the
//! same run, on the baseline (DuckDB's Python package over the same data
//! exported to Parquet).
//!
//! The data comes from the shared `gen_dataset.py`, run as-is and kept per
//! run count, so both systems read byte-identical CSVs. The figures: bulk
//! ingest, batched and single logging calls, Q1 (as SQL and as
//! `runs.search`), Q2, Q3, open time from a cold start, and peak RSS per
//! query. Each is a median over repeats. Every answer is checked against
//! DuckDB's; a difference is reported as a mismatch.
//!
//! | file | concern |
//! |---|---|
//! | `dataset.rs` | sizes and the generated CSVs |
//! | `workload.rs` | the load statements and the query SQL both systems run |
//! | `runql_side.rs` / `duckdb_side.rs` (+ `duckdb_baseline.py`) | each system's measurements |
//! | `process.rs` | cold runs in a child: wall time and peak RSS |
//! | `samples.rs`, `rows.rs` | medians and percentiles; answers as comparable rows |
//! | `serve_side.rs` | the serve section: `runql serve` beside `mlflow server` under concurrent HTTP clients |
//! | `report.rs` | the printed tables |

mod dataset;
mod duckdb_side;
mod process;
mod report;
mod rows;
mod runql_side;
mod samples;
mod serve_side;
mod workload;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::error::{Context, Result};

pub use dataset::Size;
pub use report::BenchReport;

use duckdb_side::{Baseline, Counts};
use report::{Amount, Figure, Target};
use rows::Rows;
use samples::Samples;
use workload::Query;

/// Options of `runql bench`, with the defaults the README quotes.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The standard size; default S.
    pub size: Size,
    /// Runs to generate instead of the size's (100 metric points each).
    pub runs: Option<usize>,
    /// Another copy of the dataset generator, `gen_dataset.py`; default the
    /// one built into runql.
    pub generator: Option<PathBuf>,
    /// Where data (kept per run count), Parquet, stores and scripts go;
    /// default `runql-bench` in the system's temporary directory.
    pub work_dir: PathBuf,
    /// Timed repeats of each query and cold start, after one warm-up; default 5.
    pub repeats: usize,
    /// Full loads, each into a fresh store (and Parquet export); default 3.
    pub load_repeats: usize,
    /// `runs.log_metric` calls, one at a time; default 200.
    pub single_calls: usize,
    /// `runs.log_batch` calls of 1000 metrics; default 20.
    pub batch_calls: usize,
    /// The `runql` binary that cold starts run; default this process's own.
    pub runql_exe: PathBuf,
    /// Which sections to run; default both.
    pub sections: Sections,
    /// Requests each client sends in the serve section, instead of each
    /// scenario's own (300, 150, 50 and 5).
    pub serve_requests: Option<usize>,
}

/// The parts of the benchmark: the queries and logging against DuckDB, and
/// `runql serve` against `mlflow server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sections {
    All,
    Queries,
    Serve,
}

impl std::str::FromStr for Sections {
    type Err = crate::RunqlError;

    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "all" => Ok(Sections::All),
            "queries" => Ok(Sections::Queries),
            "serve" => Ok(Sections::Serve),
            _ => Err(crate::RunqlError::invalid(format!(
                "the bench sections are all, queries and serve, got '{text}'"
            ))),
        }
    }
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            size: Size::S,
            runs: None,
            generator: None,
            work_dir: std::env::temp_dir().join("runql-bench"),
            repeats: 5,
            load_repeats: 3,
            single_calls: 200,
            batch_calls: 20,
            runql_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runql")),
            sections: Sections::All,
            serve_requests: None,
        }
    }
}

/// runql's goals (README, Benchmark), for size M on a 2-core machine.
const INGEST_TARGET: f64 = 3e6;
const BATCH_TARGET: f64 = 5e5;
const SINGLE_P50_TARGET: Duration = Duration::from_millis(1);
const PEAK_RSS_TARGET: u64 = 1 << 30;

impl Query {
    fn target(self) -> Target {
        let limit = match self {
            Query::Q1Sql | Query::Q1Search | Query::Q3 => Duration::from_millis(150),
            Query::Q2 => Duration::from_millis(10),
        };
        Target::limit_and_baseline(Amount::Time(limit))
    }
}

/// Runs the benchmark; progress goes to stderr, the report is returned.
pub async fn run(options: BenchOptions) -> Result<BenchReport> {
    let work = &options.work_dir;
    std::fs::create_dir_all(work).context(|| format!("creating {}", work.display()))?;
    let (mut report, loaded) = match options.sections {
        Sections::Serve => (
            BenchReport {
                header: vec!["runql bench: the serve section".into()],
                figures: Vec::new(),
                notes: Vec::new(),
                mismatches: Vec::new(),
                serve: None,
            },
            None,
        ),
        _ => {
            let (report, loaded) = queries_and_logging(&options).await?;
            (report, Some(loaded))
        }
    };
    if options.sections != Sections::Queries {
        report.serve = Some(serve_side::run(&options, loaded.as_ref()).await?);
    }
    Ok(report)
}

/// The standard workload on runql and DuckDB: load, logging, queries, cold
/// starts; with the loaded store, for the serve section's search.
async fn queries_and_logging(
    options: &BenchOptions,
) -> Result<(BenchReport, serve_side::LoadedStore)> {
    let runs = options.runs.unwrap_or(options.size.runs());
    let work = &options.work_dir;
    let data_dir = dataset::ensure(options.generator.as_deref(), work, runs)?;
    let store_dir = runql_side::store_dir(work, runs);

    progress(&format!(
        "runql: loading {} ({} time(s))",
        data_dir.display(),
        options.load_repeats.max(1)
    ));
    let load = runql_side::load(&store_dir, &data_dir, options.load_repeats).await?;
    let session = runql_side::open(&store_dir).await?;
    let queries = runql_side::queries(&session, runs).await?;
    progress("runql: warm queries");
    let mut answers = Vec::new();
    for query in Query::ALL {
        answers.push(runql_side::time_query(&session, &queries, query, options.repeats).await?);
    }
    progress("runql: cold starts");
    let runql_start =
        |query: Query| runql_side::cold_start(&options.runql_exe, &store_dir, &queries.sql(query));
    let runql_cold = ColdRuns::measure("runql", options.repeats, runql_start)?;
    progress("runql: logging calls");
    let mut logging = Vec::new();
    for mode in runql_side::LOGGING_MODES {
        let timed =
            runql_side::time_logging(&session, mode, options.single_calls, options.batch_calls)
                .await?;
        logging.push((mode.name, timed));
    }

    progress("DuckDB: Parquet export, warm queries, logging calls");
    let counts = Counts {
        repeats: options.repeats,
        load_repeats: options.load_repeats,
        single_calls: options.single_calls,
        batch_calls: options.batch_calls,
        batch_size: runql_side::BATCH_SIZE,
    };
    let baseline = Baseline::prepare(work, &data_dir, runs, &queries, &counts)?;
    let duckdb = baseline.measure()?;
    progress("DuckDB: cold starts");
    let duckdb_cold = ColdRuns::measure("DuckDB", options.repeats, |query| {
        baseline.cold_start(query)
    })?;

    let mut mismatches = Vec::new();
    if load.points != duckdb.points {
        mismatches.push(format!(
            "runql loaded {} metric points, DuckDB {}",
            load.points, duckdb.points
        ));
    }
    let mut figures = vec![Figure {
        name: "1 bulk ingest: INSERT INTO metrics SELECT FROM CSV".into(),
        runql: rate(load.points, load.metrics.median()),
        duckdb: rate(duckdb.points, duckdb.metrics_ingest().median()),
        target: Target::limit(Amount::Rate(INGEST_TARGET)),
    }];
    for (mode, timed) in &logging {
        let batch_points = runql_side::BATCH_SIZE as u64;
        figures.push(Figure {
            name: format!("2 batched logging: log_batch x1000 ({mode})"),
            runql: rate(batch_points, timed.batch.median()),
            duckdb: rate(batch_points, duckdb.batch_logging().median()),
            target: Target::limit(Amount::Rate(BATCH_TARGET)),
        });
        figures.push(Figure {
            name: format!("3 single log_metric p50 ({mode})"),
            runql: Amount::Time(timed.single.median()),
            duckdb: Amount::Time(duckdb.single_logging().median()),
            target: Target::limit(Amount::Time(SINGLE_P50_TARGET)),
        });
        figures.push(Figure {
            name: format!("3 single log_metric p99 ({mode})"),
            runql: Amount::Time(timed.single.percentile(0.99)),
            duckdb: Amount::Time(duckdb.single_logging().percentile(0.99)),
            target: Target::NONE,
        });
    }
    for (query, timed) in Query::ALL.iter().zip(&answers) {
        let (samples, expected) = duckdb.query(*query)?;
        if let Some(mismatch) = compare(*query, &timed.rows, expected) {
            mismatches.push(mismatch);
        }
        figures.push(Figure {
            name: format!("{} {}", number(*query), query.label()),
            runql: Amount::Time(timed.samples.median()),
            duckdb: Amount::Time(samples.median()),
            target: query.target(),
        });
    }
    figures.push(Figure {
        name: "7 open: cold start to first Q1 result".into(),
        runql: Amount::Time(runql_cold.open.median()),
        duckdb: Amount::Time(duckdb_cold.open.median()),
        target: Target::NONE,
    });
    for ((query, ours), theirs) in Query::ALL
        .iter()
        .zip(&runql_cold.peak_rss)
        .zip(&duckdb_cold.peak_rss)
    {
        figures.push(Figure {
            name: format!("8 peak RSS, {}", short_name(*query)),
            runql: Amount::Bytes(*ours),
            duckdb: Amount::Bytes(*theirs),
            target: Target::limit(Amount::Bytes(PEAK_RSS_TARGET)),
        });
    }

    let other_counts: Vec<String> = load
        .other_tables
        .iter()
        .map(|(table, _, rows)| format!("{rows} {table}"))
        .collect();
    let header = vec![
        format!(
            "runql bench, size {}: {} metric points, {} (gen_dataset.py)",
            size_name(options.size, options.runs),
            load.points,
            other_counts.join(", ")
        ),
        format!(
            "machine: {} cores; medians of {} warm repeats after one warm-up, {} cold starts, {} load(s); {} single calls, {} batches of {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            options.repeats,
            options.repeats,
            options.load_repeats.max(1),
            options.single_calls,
            options.batch_calls,
            runql_side::BATCH_SIZE,
        ),
        format!(
            "baseline: DuckDB {} (Python) over the same CSVs exported to Parquet; runql on a local store",
            duckdb.version
        ),
        "runql vs DuckDB: how many times faster (or leaner) runql is; targets are runql's goals (README, Benchmark), set for size M"
            .into(),
    ];
    let notes = vec![
        format!(
            "load, runql (INSERT ... SELECT from CSV, last load): {}",
            table_times(
                load.other_tables
                    .iter()
                    .map(|(table, time, _)| (*table, *time)),
            )
        ),
        format!(
            "load, DuckDB (CSV to Parquet, last load): {}",
            table_times(
                duckdb
                    .other_tables()
                    .into_iter()
                    .map(|(table, seconds)| (table, Duration::from_secs_f64(seconds)))
            )
        ),
        format!(
            "compaction after the load (EXEC store.compact): {}; data files before -> after: {}",
            Amount::Time(load.compaction),
            data_files(&load.files)
        ),
        format!(
            "Q2 reads run {}; runs.search covers experiments {}",
            queries.history_run,
            queries.experiment_ids.join(", ")
        ),
        format!("data {}, store {}", data_dir.display(), store_dir.display()),
    ];
    let loaded = serve_side::LoadedStore {
        store: store_dir.clone(),
        runs,
        experiment_ids: queries.experiment_ids.clone(),
        repeats: options.repeats,
    };
    let report = BenchReport {
        header,
        figures,
        notes,
        mismatches,
        serve: None,
    };
    Ok((report, loaded))
}

pub(crate) fn progress(step: &str) {
    eprintln!("bench: {step} ...");
}

/// One system's fresh processes: open time, and peak RSS per query.
struct ColdRuns {
    /// From spawn to exit of a process answering Q1 SQL, per repeat.
    open: Samples,
    /// Bytes, in [`Query::ALL`] order.
    peak_rss: Vec<u64>,
}

impl ColdRuns {
    fn measure(system: &str, repeats: usize, start: impl Fn(Query) -> Command) -> Result<Self> {
        let what = format!("{system} from a cold start");
        let open = (0..repeats.max(1))
            .map(|_| process::wall_time(&mut start(Query::Q1Sql), &what))
            .collect::<Result<Samples>>()?;
        let peak_rss = Query::ALL
            .iter()
            .map(|query| process::peak_rss(&start(*query), &what))
            .collect::<Result<Vec<_>>>()?;
        Ok(ColdRuns { open, peak_rss })
    }
}

fn rate(points: u64, time: Duration) -> Amount {
    Amount::Rate(points as f64 / time.as_secs_f64())
}

fn size_name(size: Size, runs_override: Option<usize>) -> String {
    match runs_override {
        Some(runs) => format!("custom ({runs} runs)"),
        None => format!("{size:?} ({} runs)", size.runs()),
    }
}

/// The report's figure number of a query.
fn number(query: Query) -> &'static str {
    match query {
        Query::Q1Sql | Query::Q1Search => "4",
        Query::Q2 => "5",
        Query::Q3 => "6",
    }
}

fn short_name(query: Query) -> &'static str {
    match query {
        Query::Q1Sql => "Q1 SQL",
        Query::Q1Search => "Q1 runs.search",
        Query::Q2 => "Q2",
        Query::Q3 => "Q3",
    }
}

fn table_times<'a>(times: impl Iterator<Item = (&'a str, Duration)>) -> String {
    times
        .map(|(table, time)| format!("{table} {}", Amount::Time(time)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `table before -> after` for the tables that have data files.
fn data_files(compacted: &Rows) -> String {
    compacted
        .iter()
        .filter(|row| row.get(1).and_then(|v| v.as_i64()).unwrap_or(0) > 0)
        .map(|row| {
            let cell = |i: usize| row.get(i).map(|v| v.to_string()).unwrap_or_default();
            format!("{} {} -> {}", cell(0).trim_matches('"'), cell(1), cell(2))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A description of how runql's answer differs from DuckDB's; `None` when equal.
/// A search is compared by its run ids, in order, against Q1's.
fn compare(query: Query, ours: &Rows, theirs: &Rows) -> Option<String> {
    let (ours, theirs): (Vec<String>, Vec<String>) = match query {
        Query::Q1Search => (
            rows::first_column_text(ours),
            rows::first_column_text(theirs),
        ),
        _ => (
            ours.iter()
                .map(|row| serde_json::json!(row).to_string())
                .collect(),
            theirs
                .iter()
                .map(|row| serde_json::json!(row).to_string())
                .collect(),
        ),
    };
    if ours == theirs {
        return None;
    }
    let first_difference = ours
        .iter()
        .zip(&theirs)
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(theirs.len()));
    Some(format!(
        "{}: runql returned {} rows, DuckDB {}; first difference at row {}: runql {}, DuckDB {}",
        query.label(),
        ours.len(),
        theirs.len(),
        first_difference + 1,
        ours.get(first_difference).map_or("(none)", String::as_str),
        theirs
            .get(first_difference)
            .map_or("(none)", String::as_str),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_different_float_is_a_mismatch_naming_the_row() {
        let duckdb: Rows = vec![
            vec![json!("adam"), json!(0.12)],
            vec![json!("sgd"), json!(0.2)],
        ];
        let mut runql = duckdb.clone();
        assert_eq!(compare(Query::Q3, &runql, &duckdb), None);
        runql[1][1] = json!(0.200_000_000_000_000_04);
        let mismatch = compare(Query::Q3, &runql, &duckdb).expect("a mismatch");
        assert!(mismatch.contains("first difference at row 2"), "{mismatch}");
    }

    #[test]
    fn a_search_is_compared_by_run_ids_only() {
        let duckdb: Rows = vec![vec![json!("r1"), json!(0.1)], vec![json!("r2"), json!(0.2)]];
        let search: Rows = vec![
            vec![json!("r1"), json!("run-1")],
            vec![json!("r2"), json!("x")],
        ];
        assert_eq!(compare(Query::Q1Search, &search, &duckdb), None);
        let reordered: Rows = search.iter().rev().cloned().collect();
        assert!(compare(Query::Q1Search, &reordered, &duckdb).is_some());
    }
}
