//! Helpers the integration tests share: a session over a store's views,
//! statements that must succeed or fail, and results read back as strings.

// Each test crate compiles its own copy and uses only some of these.
#![allow(dead_code)]

pub mod child;
pub mod moto;
pub mod seaweed;

/// The raw Delta tables: `raw.<name>` in SQL, a directory each in a store.
pub fn raw_tables() -> impl Iterator<Item = &'static str> {
    runql::store::schema::RawTable::ALL
        .into_iter()
        .map(|kind| kind.name())
}

/// The views that hold the tracking data (the derived views are built on them).
pub const BASE_VIEWS: [&str; 9] = [
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "metrics",
    "latest_metrics",
    "inputs",
    "model_links",
];

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float64Type, Int64Type, TimeUnit,
};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use runql::sql::{Output, Session};
use runql::{RunqlError, Store};

/// A new run in the experiment; its id.
pub async fn new_run(store: &Store, experiment_id: &str) -> String {
    store
        .create_run(runql::api::CreateRun {
            experiment_id: Some(experiment_id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap()
        .info
        .run_id
}

/// A DataFusion session with the store's tables registered.
pub async fn context(store: &Store) -> SessionContext {
    let ctx = SessionContext::new();
    runql::register(&ctx, store).await.expect("register views");
    ctx
}

/// Runs SQL and returns every row as strings (NULL as "NULL"), in result order.
pub async fn sql(ctx: &SessionContext, query: &str) -> Vec<Vec<String>> {
    let batches = ctx
        .sql(query)
        .await
        .unwrap_or_else(|e| panic!("planning {query}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("running {query}: {e}"));
    let mut rows = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| {
                        if column.is_null(row) {
                            "NULL".to_string()
                        } else {
                            array_value_to_string(column, row).unwrap()
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// As [`sql`], rows sorted, so results compare regardless of order.
pub async fn sorted(ctx: &SessionContext, query: &str) -> Vec<Vec<String>> {
    let mut rows = sql(ctx, query).await;
    rows.sort();
    rows
}

/// Runs one statement that must succeed.
pub async fn ok(session: &Session, sql: &str) -> Output {
    match session.execute(sql).await {
        Ok(output) => output,
        Err(e) => panic!("{sql}\nfailed: {}", e.with_code()),
    }
}

/// Runs one statement that must fail, and returns its error.
pub async fn fails(session: &Session, sql: &str) -> RunqlError {
    match session.execute(sql).await {
        Ok(output) => panic!("{sql}\nsucceeded unexpectedly:\n{}", pretty(&output)),
        Err(e) => e,
    }
}

pub fn pretty(output: &Output) -> String {
    pretty_format_batches(&output.batches).unwrap().to_string()
}

/// A column's cells rendered as text; NULL as "NULL".
pub fn column(output: &Output, name: &str) -> Vec<String> {
    let index = output
        .schema
        .index_of(name)
        .unwrap_or_else(|_| panic!("no column {name} in\n{}", pretty(output)));
    let mut cells = Vec::new();
    for batch in &output.batches {
        let array = batch.column(index);
        for row in 0..array.len() {
            cells.push(if array.is_null(row) {
                "NULL".to_string()
            } else {
                array_value_to_string(array, row).unwrap()
            });
        }
    }
    cells
}

pub fn cell(output: &Output, name: &str, row: usize) -> String {
    column(output, name)
        .get(row)
        .cloned()
        .unwrap_or_else(|| panic!("no row {row} of column {name} in\n{}", pretty(output)))
}

/// A time column as milliseconds since the epoch.
pub fn millis(output: &Output, name: &str) -> Vec<Option<i64>> {
    let index = output.schema.index_of(name).unwrap();
    let mut out = Vec::new();
    for batch in &output.batches {
        let as_ms = cast(
            batch.column(index),
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )
        .unwrap();
        let as_int = cast(&as_ms, &DataType::Int64).unwrap();
        out.extend(as_int.as_primitive::<Int64Type>().iter());
    }
    out
}

/// Runs `compact` over and over beside writers until `stop` is set, and then
/// until one run has succeeded: on a loaded machine the writers may all finish
/// before the first compaction does, and a compaction of a quiet store must
/// succeed. Three failures with no writer left end the loop, so the caller's
/// check that one succeeded fails rather than hangs. Returns the successes and
/// the failures' messages (losing a race to a writer's own compaction is allowed).
pub fn compact_until_stopped(
    stop: &std::sync::atomic::AtomicBool,
    mut compact: impl FnMut() -> Result<(), String>,
) -> (usize, Vec<String>) {
    use std::sync::atomic::Ordering;
    let (mut succeeded, mut failures, mut failed_after_stop) = (0, Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) || (succeeded == 0 && failed_after_stop < 3) {
        let stopped = stop.load(Ordering::Relaxed);
        match compact() {
            Ok(()) => succeeded += 1,
            Err(message) => {
                failed_after_stop += usize::from(stopped);
                failures.push(message);
            }
        }
    }
    (succeeded, failures)
}

/// A Tokio runtime of its own, as a separate process would have one.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// The first column of a query, cast to `T` (no text round trip); NULL fails.
async fn first_column<T: ArrowPrimitiveType>(
    ctx: &SessionContext,
    query: &str,
    as_type: DataType,
) -> Vec<T::Native> {
    let batches = ctx.sql(query).await.unwrap().collect().await.unwrap();
    batches
        .iter()
        .flat_map(|b| {
            let col = cast(b.column(0), &as_type).unwrap();
            col.as_primitive::<T>()
                .iter()
                .map(|v| v.expect("non-null"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A single integer (such as a count) from SQL.
pub async fn int(ctx: &SessionContext, query: &str) -> i64 {
    let values = first_column::<Int64Type>(ctx, query, DataType::Int64).await;
    assert_eq!(values.len(), 1, "{query} returned {values:?}");
    values[0]
}

/// `SELECT count(*) FROM <from_where>`.
pub async fn count(ctx: &SessionContext, from_where: &str) -> i64 {
    int(ctx, &format!("SELECT count(*) FROM {from_where}")).await
}

/// The first column of a query as f64s, exactly (no text round trip).
pub async fn floats(ctx: &SessionContext, query: &str) -> Vec<f64> {
    first_column::<Float64Type>(ctx, query, DataType::Float64).await
}

/// Asserts `result` is an error with `code`; returns its message.
pub fn expect_code<T>(result: runql::Result<T>, code: runql::ErrorCode, what: &str) -> String {
    match result {
        Ok(_) => panic!("{what}: expected {code}, but it succeeded"),
        Err(e) => {
            assert_eq!(e.code(), code, "{what}: wrong code for error: {e}");
            e.to_string()
        }
    }
}

/// Every file under `root`, by path relative to it, with its size, sorted.
pub fn listing(root: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(root).unwrap().to_path_buf();
                out.push((relative.display().to_string(), meta.len()));
            }
        }
    }
    out.sort();
    out
}

/// Data files of a local table: (referenced by the table's current version,
/// the rest). The rest were written and never committed (a killed writer or
/// compaction), or removed by a compaction and not yet deleted.
pub async fn data_files(
    table_dir: &std::path::Path,
) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let url = url::Url::from_directory_path(table_dir).unwrap();
    let delta = deltalake::open_table(url).await.unwrap();
    let referenced: std::collections::HashSet<String> = delta
        .get_file_uris()
        .unwrap()
        .map(|uri| uri.rsplit('/').next().unwrap().to_string())
        .collect();
    std::fs::read_dir(table_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .partition(|p| referenced.contains(p.file_name().unwrap().to_str().unwrap()))
}
