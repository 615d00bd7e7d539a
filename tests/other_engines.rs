//! A second engine reads a runql store the same way runql does.
//!
//! The test builds a store through the library, then queries it twice: through
//! runql (DataFusion, `runql::register`) and through DuckDB, which reads the raw
//! Delta tables with the Python `deltalake` package and runs `src/tables/views.sql`
//! in DuckDB's spelling (tests/engines/read_store.py). Both render every value as canonical
//! text, and the two outputs must be identical.
//!
//! Needs python3 with `pip install duckdb deltalake pyarrow`; without them the test
//! fails (it does not skip). `RUNQL_TEST_PYTHON` names another interpreter;
//! `RUNQL_TEST_KEEP_STORE=1` keeps the store it built.

use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::prelude::SessionContext;
use runql::Store;
use runql::api::CreateRun;
use runql::model::{Metric, RunStatus, Tag};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The same queries, character for character, as QUERIES in read_store.py.
const QUERIES: &[&str] = &[
    "SELECT run_id, run_name, experiment_id, status, lifecycle_stage, parent_run_id, start_time, end_time FROM runs ORDER BY run_id",
    "SELECT run_id, key, value FROM params ORDER BY 1,2",
    "SELECT run_id, key, value FROM tags ORDER BY 1,2",
    "SELECT run_id, key, value, timestamp, step FROM metrics ORDER BY 1,2,5,4,3",
    "SELECT run_id, key, value, timestamp, step FROM latest_metrics ORDER BY 1,2",
    "SELECT experiment_id, name, lifecycle_stage FROM experiments ORDER BY 1",
];

const PIP_HINT: &str = "pip install duckdb deltalake pyarrow";

/// A fixed base time, so metric timestamps are easy to read in a failure.
const T0: i64 = 1_700_000_000_000;

/// Python's `repr` with the exponent as Rust writes it: `{:?}` of an f64.
fn render_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format!("{value:?}")
    }
}

/// One column as canonical text: see the docstring of read_store.py.
fn render_column(column: &ArrayRef) -> Vec<Option<String>> {
    let to = |data_type: &DataType| cast(column, data_type).expect("casting a result column");
    match column.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = to(&DataType::Utf8);
            let text = text.as_string::<i32>();
            (0..text.len())
                .map(|i| text.is_valid(i).then(|| text.value(i).to_string()))
                .collect()
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => to(&DataType::Float64)
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(render_float))
            .collect(),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => to(&DataType::Int64)
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        DataType::Timestamp(unit, _) => {
            let millis = |raw: i64| match unit {
                TimeUnit::Second => raw * 1000,
                TimeUnit::Millisecond => raw,
                TimeUnit::Microsecond => raw.div_euclid(1_000),
                TimeUnit::Nanosecond => raw.div_euclid(1_000_000),
            };
            to(&DataType::Int64)
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| millis(v).to_string()))
                .collect()
        }
        other => panic!("no canonical rendering for {other}"),
    }
}

fn render_rows(batches: &[RecordBatch]) -> Value {
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<Vec<Option<String>>> = batch.columns().iter().map(render_column).collect();
        for i in 0..batch.num_rows() {
            rows.push(Value::Array(
                columns
                    .iter()
                    .map(|c| c[i].clone().map_or(Value::Null, Value::String))
                    .collect(),
            ));
        }
    }
    Value::Array(rows)
}

/// The queries through runql, in the shape read_store.py prints.
async fn runql_output(store: &Store) -> Value {
    let ctx = SessionContext::new();
    runql::register(&ctx, store)
        .await
        .expect("registering runql");
    let mut out = Vec::new();
    for sql in QUERIES {
        let frame = ctx
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("runql failed to plan {sql}: {e}"));
        let batches = frame
            .collect()
            .await
            .unwrap_or_else(|e| panic!("runql failed to run {sql}: {e}"));
        out.push(json!({ "query": sql, "rows": render_rows(&batches) }));
    }
    Value::Array(out)
}

/// The queries through DuckDB, as printed by read_store.py.
fn duckdb_output(store_dir: &Path) -> Value {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("tests/engines/read_store.py");
    let views = manifest.join("src/tables/views.sql");
    let python = std::env::var("RUNQL_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let output = Command::new(&python)
        .arg(&script)
        .arg(store_dir)
        .arg(&views)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run {python} ({e}); this test needs Python 3 with DuckDB and \
                 deltalake: {PIP_HINT}"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let hint = if output.status.code() == Some(3) || stderr.contains("ModuleNotFoundError") {
            format!("Python modules are missing: {PIP_HINT}\n")
        } else {
            String::new()
        };
        panic!(
            "{hint}{} {} failed ({}):\n{stderr}",
            python,
            script.display(),
            output.status
        );
    }
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "read_store.py printed no JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn run_request(experiment_id: &str, run_name: Option<&str>, tags: Vec<Tag>) -> CreateRun {
    CreateRun {
        experiment_id: Some(experiment_id.to_string()),
        run_name: run_name.map(str::to_string),
        tags,
        ..Default::default()
    }
}

/// Builds a store that exercises every folding rule the queried views use, with
/// some rows compacted and some still raw change rows.
async fn build_store(store: &Store) {
    let alpha = store
        .create_experiment("alpha", None, &[Tag::new("team", "vision")])
        .await
        .unwrap();
    let beta = store.create_experiment("beta", None, &[]).await.unwrap();
    let gamma = store.create_experiment("gamma", None, &[]).await.unwrap();

    let parent = store
        .create_run(CreateRun {
            start_time: Some(T0),
            user_id: Some("alice".into()),
            ..run_request(
                &alpha,
                Some("parent"),
                vec![Tag::new("purpose", "baseline")],
            )
        })
        .await
        .unwrap()
        .info
        .run_id;
    let child = store
        .create_run(run_request(
            &alpha,
            None,
            vec![
                Tag::new("mlflow.parentRunId", parent.clone()),
                Tag::new("mlflow.runName", "child-1"),
            ],
        ))
        .await
        .unwrap()
        .info
        .run_id;
    let sibling = store
        .create_run(run_request(&alpha, None, vec![]))
        .await
        .unwrap()
        .info
        .run_id;
    let doomed = store
        .create_run(run_request(&beta, Some("doomed"), vec![]))
        .await
        .unwrap()
        .info
        .run_id;
    let in_gamma = store
        .create_run(run_request(&gamma, Some("in-gamma"), vec![]))
        .await
        .unwrap()
        .info
        .run_id;
    let in_default = store
        .create_run(CreateRun {
            run_name: Some("in-default".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .info
        .run_id;

    // Params: write-once; an identical repeat is a no-op.
    store
        .log_batch(
            &parent,
            vec![],
            vec![
                Tag::new("lr", "0.01"),
                Tag::new("batch", "32"),
                Tag::new("optimizer", "adam"),
            ],
            vec![],
        )
        .await
        .unwrap();
    store.log_param(&parent, "lr", "0.01").await.unwrap();

    // Tags: overwritten, deleted.
    store.set_tag(&parent, "note", "first").await.unwrap();
    store.set_tag(&parent, "note", "second").await.unwrap();
    store.set_tag(&parent, "scratch", "x").await.unwrap();
    store.delete_tag(&parent, "scratch").await.unwrap();
    store.set_tag(&in_gamma, "kept", "yes").await.unwrap();

    // More than 20 commits to one table, so Delta writes a checkpoint.
    for step in 0..25 {
        let loss = 1.0 / (step as f64 + 1.0);
        store
            .log_metric(&parent, Metric::new("loss", loss, T0 + step * 1000, step))
            .await
            .unwrap();
    }
    // An exact repeat (a retried write) is one value.
    store
        .log_metric(&parent, Metric::new("loss", 0.25, T0 + 3000, 3))
        .await
        .unwrap();
    store
        .log_batch(
            &child,
            vec![
                Metric::new("acc", 0.5, T0, 0),
                Metric::new("acc", 0.75, T0 + 1, 1),
                // Same step, later timestamp: the latest value.
                Metric::new("acc", 0.7, T0 + 2, 1),
                Metric::new("extremes", f64::INFINITY, T0, 0),
                Metric::new("extremes", f64::NEG_INFINITY, T0, 1),
                Metric::new("extremes", 1e20, T0, 2),
                Metric::new("extremes", 2.5e-5, T0, 3),
                Metric::new("extremes", -123456.789, T0, 4),
                Metric::new("extremes", 1e16, T0, 5),
                Metric::new("extremes", 1.0 / 3.0, T0, 6),
                // Same step and timestamp: NaN ranks highest, as in MLflow.
                Metric::new("nan_tie", 1.0, T0 + 5, 2),
                Metric::new("nan_tie", f64::NAN, T0 + 5, 2),
                Metric::new("nan_tie", 9.0, T0 + 4, 2),
                // Same step and timestamp: the larger value wins.
                Metric::new("value_tie", 3.0, T0, 0),
                Metric::new("value_tie", 7.0, T0, 0),
                // A negative step sorts before step 0.
                Metric::new("neg_step", 42.0, T0 + 9, -1),
                Metric::new("neg_step", 41.0, T0, 0),
            ],
            vec![Tag::new("lr", "0.1")],
            vec![Tag::new("stage", "train")],
        )
        .await
        .unwrap();
    store
        .log_metric(&child, Metric::new("nan_tie", f64::NAN, T0 + 5, 2))
        .await
        .unwrap();
    store
        .update_run(&parent, Some(RunStatus::Finished), Some(T0 + 100_000), None)
        .await
        .unwrap();
    store.delete_run(&doomed).await.unwrap();

    let report = store.compact().await.unwrap();
    assert!(
        report
            .tables
            .iter()
            .any(|(_, before, after)| after < before),
        "compaction should have merged files: {report:?}"
    );

    // After compaction: new change rows over folded ones.
    store.set_tag(&parent, "note", "third").await.unwrap();
    store.set_tag(&child, "stage", "eval").await.unwrap();
    store.set_tag(&child, "temp", "t").await.unwrap();
    store.delete_tag(&child, "temp").await.unwrap();
    store.set_tag(&child, "purpose", "ablation").await.unwrap();
    store
        .log_batch(
            &parent,
            vec![
                // A repeat of a compacted value, and a new latest one.
                Metric::new("loss", 1.0, T0, 0),
                Metric::new("loss", 0.01, T0 + 99_000, 25),
            ],
            vec![],
            vec![],
        )
        .await
        .unwrap();
    store
        .log_batch(
            &sibling,
            vec![
                Metric::new("loss", f64::NAN, T0, 0),
                Metric::new("loss", 0.0, T0 + 1, 1),
                Metric::new("Loss", 2.0, T0 + 1, 1),
            ],
            // Keys that sort differently under case-folding or by code point.
            vec![
                Tag::new("seed", "7"),
                Tag::new("Zeta", "upper"),
                Tag::new("zeta", "lower"),
                Tag::new("ünï", "latin"),
                Tag::new("日本", "cjk"),
                Tag::new("a b/c:d", "punctuation"),
            ],
            vec![
                Tag::new("mlflow.runName", "renamed-sibling"),
                Tag::new("quote", "it's \"quoted\" — ✓"),
            ],
        )
        .await
        .unwrap();
    store
        .update_run(&sibling, Some(RunStatus::Killed), None, None)
        .await
        .unwrap();
    store
        .update_run(
            &child,
            Some(RunStatus::Failed),
            Some(T0 + 50_000),
            Some("child-renamed"),
        )
        .await
        .unwrap();
    store
        .log_metric(&in_default, Metric::new("m", -0.5, T0, 0))
        .await
        .unwrap();
    let late = store
        .create_run(run_request(&alpha, Some("late"), vec![]))
        .await
        .unwrap()
        .info
        .run_id;
    store.log_param(&late, "p", "v").await.unwrap();
    store.delete_run(&late).await.unwrap();
    store.delete_experiment(&gamma).await.unwrap();
    store
        .rename_experiment(&beta, "beta-renamed")
        .await
        .unwrap();
}

fn rows<'a>(output: &'a Value, query: &str) -> &'a Vec<Value> {
    output
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["query"].as_str().unwrap().contains(query))
        .and_then(|q| q["rows"].as_array())
        .unwrap_or_else(|| panic!("no query {query} in {output}"))
}

fn has_row(rows: &[Value], predicate: impl Fn(&[Value]) -> bool) -> bool {
    rows.iter().any(|row| predicate(row.as_array().unwrap()))
}

/// A store in a temporary directory; `RUNQL_TEST_KEEP_STORE=1` leaves it behind
/// (and prints where), to run read_store.py on by hand.
async fn temp_store() -> (Store, PathBuf, Option<TempDir>) {
    let dir = tempfile::tempdir().unwrap();
    let (path, guard) = if std::env::var_os("RUNQL_TEST_KEEP_STORE").is_some() {
        let kept = dir.keep();
        eprintln!("keeping the store at {}", kept.display());
        (kept, None)
    } else {
        (dir.path().to_path_buf(), Some(dir))
    };
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    (store, path, guard)
}

/// Rows of `rows` missing from `other`, counting repeats.
fn missing_from(rows: &[Value], other: &[Value]) -> Vec<String> {
    let mut left: Vec<&Value> = other.iter().collect();
    let mut missing = Vec::new();
    for row in rows {
        match left.iter().position(|o| *o == row) {
            Some(i) => {
                left.swap_remove(i);
            }
            None => missing.push(row.to_string()),
        }
    }
    missing
}

/// Asserts that DuckDB, reading the store at `store_dir`, prints `ours`.
fn assert_duckdb_agrees(ours: &Value, store_dir: &Path) {
    let theirs = duckdb_output(store_dir);
    let ours = ours.as_array().unwrap();
    let theirs = theirs
        .as_array()
        .expect("read_store.py printed a JSON list");
    assert_eq!(ours.len(), theirs.len(), "number of queries");
    let mut differences = Vec::new();
    for (mine, other) in ours.iter().zip(theirs) {
        assert_eq!(
            mine["query"], other["query"],
            "read_store.py and this test must run the same queries"
        );
        if mine["rows"] == other["rows"] {
            continue;
        }
        let (mine_rows, other_rows) = (
            mine["rows"].as_array().unwrap(),
            other["rows"].as_array().unwrap(),
        );
        let only_runql = missing_from(mine_rows, other_rows);
        let only_duckdb = missing_from(other_rows, mine_rows);
        let detail = if only_runql.is_empty() && only_duckdb.is_empty() {
            format!(
                "  same rows, different order:\n  runql:  {}\n  duckdb: {}",
                mine["rows"], other["rows"]
            )
        } else {
            format!(
                "  only in runql:  {}\n  only in DuckDB: {}",
                only_runql.join(", "),
                only_duckdb.join(", ")
            )
        };
        differences.push(format!("{}\n{detail}", mine["query"].as_str().unwrap()));
    }
    assert!(
        differences.is_empty(),
        "DuckDB reads the store differently from runql:\n{}",
        differences.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_the_store_as_runql_does() {
    let (store, store_dir, _removed_on_drop) = temp_store().await;
    build_store(&store).await;

    let ours = runql_output(&store).await;

    // Non-trivial: the store holds what the scenario wrote.
    let runs = rows(&ours, "FROM runs ");
    assert_eq!(runs.len(), 7, "runs: {runs:?}");
    assert!(has_row(runs, |r| r[3] == "FINISHED" && r[7] != Value::Null));
    assert!(has_row(runs, |r| r[1] == "renamed-sibling" && r[3] == "KILLED"));
    assert!(has_row(runs, |r| r[1] == "child-renamed" && r[5] != Value::Null));
    assert!(has_row(runs, |r| r[1] == "doomed" && r[4] == "deleted"));
    assert!(has_row(runs, |r| r[1] == "in-gamma" && r[4] == "deleted"));
    let params = rows(&ours, "FROM params ");
    assert!(has_row(params, |r| r[1] == "日本"));
    let tags = rows(&ours, "FROM tags ");
    assert!(has_row(tags, |r| r[1] == "note" && r[2] == "third"));
    assert!(!has_row(tags, |r| r[1] == "scratch" || r[1] == "temp"));
    let metrics = rows(&ours, "FROM metrics ");
    for special in ["NaN", "Infinity", "-Infinity", "1e20", "2.5e-5"] {
        assert!(
            has_row(metrics, |r| r[2] == special),
            "no metric value {special}"
        );
    }
    let latest = rows(&ours, "FROM latest_metrics ");
    assert!(has_row(latest, |r| r[1] == "nan_tie" && r[2] == "NaN"));
    assert!(has_row(latest, |r| r[1] == "loss" && r[2] == "0.01"));
    let experiments = rows(&ours, "FROM experiments ");
    assert_eq!(experiments.len(), 4, "experiments: {experiments:?}");
    assert!(has_row(experiments, |r| r[1] == "beta-renamed"));

    // runql read the journal as well; DuckDB reads the Delta tables once folded.
    store.flush().await.unwrap();
    assert_duckdb_agrees(&ours, &store_dir);
}

/// Float values that compare equal but differ in bits: `-0.0` (equal to `0.0`) and
/// a NaN with the sign bit set, which x86 produces for `0.0 / 0.0` at run time and
/// which runql stores as given. MLflow's rule ranks every NaN highest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_agrees_on_signed_zeros_and_nans() {
    let (store, store_dir, _removed_on_drop) = temp_store().await;
    let experiment = store.create_experiment("floats", None, &[]).await.unwrap();
    let run = store
        .create_run(run_request(&experiment, Some("floats"), vec![]))
        .await
        .unwrap()
        .info
        .run_id;
    let negative_nan = f64::from_bits(0xFFF8_0000_0000_0000);
    assert!(negative_nan.is_nan() && negative_nan.is_sign_negative());
    store
        .log_batch(
            &run,
            vec![
                Metric::new("negative_zero", -0.0, T0, 0),
                Metric::new("negative_nan_vs_number", negative_nan, T0, 0),
                Metric::new("negative_nan_vs_number", 5.0, T0, 0),
            ],
            vec![],
            vec![],
        )
        .await
        .unwrap();
    // Each NaN in its own write, as two clients would log them.
    store
        .log_metric(&run, Metric::new("two_nans", f64::NAN, T0, 0))
        .await
        .unwrap();
    store
        .log_metric(&run, Metric::new("two_nans", negative_nan, T0, 0))
        .await
        .unwrap();

    let ours = runql_output(&store).await;
    assert_eq!(rows(&ours, "FROM latest_metrics ").len(), 3);
    // runql read the journal as well; DuckDB reads the Delta tables once folded.
    store.flush().await.unwrap();
    assert_duckdb_agrees(&ours, &store_dir);
}
