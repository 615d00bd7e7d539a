//! The fast write path: the run-state cache that lets a log call skip the
//! `runs` query, and opt-in buffered logging. Two handles on one directory
//! stand in for two processes: a handle sees another's writes only through
//! the Delta tables.

mod common;

use std::time::{Duration, Instant};

use common::{cell, context, data_files, expect_code, floats, int, new_run, ok};
use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
use runql::api::{GcOptions, MetricColumns};
use runql::model::{Metric, Tag};
use runql::{ErrorCode, Store, StoreOptions, WriteBuffering};

/// Long enough that nothing flushes by age while a test looks.
const NEVER: Duration = Duration::from_secs(3600);

/// How long a test waits for the background flusher before failing: generous,
/// since the verdict must not depend on how loaded the machine is.
const PATIENCE: Duration = Duration::from_secs(180);

struct Place {
    _dir: tempfile::TempDir,
    location: String,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().join("store").to_string_lossy().to_string();
        Place {
            _dir: dir,
            location,
        }
    }

    async fn open(&self) -> Store {
        Store::open(&self.location).await.unwrap()
    }

    async fn open_buffered(&self, max_rows: usize, max_delay: Duration) -> Store {
        let options = StoreOptions::default().buffered_writes(max_rows, max_delay);
        Store::open_with(&self.location, options).await.unwrap()
    }
}

fn metric(step: i64) -> Metric {
    Metric::new("loss", step as f64, 1_700_000_000_000 + step, step)
}

/// Metric values of a run as another handle reads them: (distinct, raw rows
/// other than latest copies).
async fn metric_counts(reader: &Store, run_id: &str) -> (i64, i64) {
    let ctx = context(reader).await;
    let distinct = int(
        &ctx,
        &format!("SELECT count(*) FROM metrics WHERE run_id = '{run_id}'"),
    )
    .await;
    let raw = int(
        &ctx,
        &format!("SELECT count(*) FROM raw.metrics WHERE run_id = '{run_id}' AND NOT latest_copy"),
    )
    .await;
    (distinct, raw)
}

async fn wait_for_metrics(reader: &Store, run_id: &str, expected: i64, what: &str) {
    let started = Instant::now();
    loop {
        let (distinct, _) = metric_counts(reader, run_id).await;
        if distinct == expected {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: another handle sees {distinct} metric values, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_deleted_through_another_handle_refuses_the_next_log() {
    let place = Place::new();
    let logger = place.open().await;
    let admin = place.open().await;
    let experiment = admin.create_experiment("e", None, &[]).await.unwrap();
    let run_id = new_run(&admin, &experiment).await;

    // The logger has the run's state cached after its first call.
    logger.log_metric(&run_id, metric(0)).await.unwrap();
    logger.log_metric(&run_id, metric(1)).await.unwrap();

    admin.delete_run(&run_id).await.unwrap();
    let message = expect_code(
        logger.log_metric(&run_id, metric(2)).await,
        ErrorCode::InvalidParameterValue,
        "log to a run another handle deleted",
    );
    assert!(message.contains("'deleted'"), "{message}");

    admin.restore_run(&run_id).await.unwrap();
    logger.log_metric(&run_id, metric(3)).await.unwrap();

    admin.delete_experiment(&experiment).await.unwrap();
    expect_code(
        logger.log_metric(&run_id, metric(4)).await,
        ErrorCode::InvalidParameterValue,
        "log to a run whose experiment another handle deleted",
    );
    admin.restore_experiment(&experiment).await.unwrap();
    logger.log_metric(&run_id, metric(5)).await.unwrap();

    admin.delete_run(&run_id).await.unwrap();
    admin
        .gc(GcOptions {
            run_ids: vec![run_id.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    expect_code(
        logger.log_metric(&run_id, metric(6)).await,
        ErrorCode::ResourceDoesNotExist,
        "log to a run another handle removed for good",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_state_follows_changes_made_through_the_same_handle() {
    let place = Place::new();
    let store = place.open().await;
    let run_id = new_run(&store, "0").await;
    store.log_metric(&run_id, metric(0)).await.unwrap();
    store
        .update_run(&run_id, None, None, Some("renamed"))
        .await
        .unwrap();
    assert_eq!(
        store.get_run(&run_id).await.unwrap().info.run_name,
        "renamed"
    );

    store.delete_run(&run_id).await.unwrap();
    expect_code(
        store.log_metric(&run_id, metric(1)).await,
        ErrorCode::InvalidParameterValue,
        "log to a run this handle deleted",
    );
    store.restore_run(&run_id).await.unwrap();
    store.log_metric(&run_id, metric(2)).await.unwrap();
    assert_eq!(metric_counts(&place.open().await, &run_id).await, (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_logs_are_read_back_by_their_handle_and_flushed_on_demand() {
    let place = Place::new();
    let store = place.open_buffered(10_000, NEVER).await;
    let other = place.open().await;
    let run_id = new_run(&store, "0").await;
    // Out of step order: the latest value is neither the first nor the last call's.
    for step in [3, 0, 4, 1, 2] {
        store.log_metric(&run_id, metric(step)).await.unwrap();
    }
    store.set_tag(&run_id, "phase", "warmup").await.unwrap();
    assert_eq!(
        metric_counts(&other, &run_id).await,
        (0, 0),
        "buffered rows are not in the tables yet"
    );

    // Reading through the handle flushes what it buffered for the tables read.
    let ctx = context(&store).await;
    let seen = int(
        &ctx,
        &format!("SELECT count(*) FROM metrics WHERE run_id = '{run_id}'"),
    )
    .await;
    assert_eq!(seen, 5);
    assert_eq!(metric_counts(&other, &run_id).await, (5, 5));
    let copies =
        format!("SELECT count(*) FROM raw.metrics WHERE run_id = '{run_id}' AND latest_copy");
    assert_eq!(
        int(&ctx, &copies).await,
        1,
        "one latest copy per key per flush, not per call"
    );
    let latest = format!("SELECT value FROM latest_metrics WHERE run_id = '{run_id}'");
    assert_eq!(floats(&ctx, &latest).await, [4.0]);
    let tags = store.get_run(&run_id).await.unwrap().data.tags;
    assert!(tags.contains(&Tag::new("phase", "warmup")), "{tags:?}");

    store.log_metric(&run_id, metric(5)).await.unwrap();
    assert_eq!(store.flush().await.unwrap(), 1);
    assert_eq!(store.flush().await.unwrap(), 0, "nothing left to flush");
    assert_eq!(metric_counts(&other, &run_id).await, (6, 6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_logging_still_validates_at_the_call() {
    let place = Place::new();
    let store = place.open_buffered(10_000, NEVER).await;
    let run_id = new_run(&store, "0").await;
    expect_code(
        store.log_metric(&run_id, Metric::new("", 1.0, 0, 0)).await,
        ErrorCode::InvalidParameterValue,
        "empty metric key",
    );
    expect_code(
        store
            .log_metric("0123456789abcdef0123456789abcdef", metric(0))
            .await,
        ErrorCode::ResourceDoesNotExist,
        "missing run",
    );
    store.log_metric(&run_id, metric(0)).await.unwrap();
    place.open().await.delete_run(&run_id).await.unwrap();
    expect_code(
        store.log_metric(&run_id, metric(1)).await,
        ErrorCode::InvalidParameterValue,
        "run deleted through another handle",
    );
    assert_eq!(
        store.flush().await.unwrap(),
        1,
        "only the accepted row waits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_writes_land_after_the_buffered_rows_before_them() {
    let place = Place::new();
    let store = place.open_buffered(10_000, NEVER).await;
    let other = place.open().await;
    let run_id = new_run(&store, "0").await;
    store.log_metric(&run_id, metric(0)).await.unwrap();
    // Params are written at once (their write-once claim cannot wait), and
    // the metric buffered before them lands first.
    store.log_param(&run_id, "lr", "0.1").await.unwrap();
    assert_eq!(metric_counts(&other, &run_id).await, (1, 1));
    assert_eq!(other.get_run(&run_id).await.unwrap().data.params.len(), 1);

    // A deletion through the handle lands after what it buffered for the run.
    store.log_metric(&run_id, metric(1)).await.unwrap();
    store.delete_run(&run_id).await.unwrap();
    assert_eq!(metric_counts(&other, &run_id).await, (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_flusher_writes_a_full_buffer_and_an_old_one() {
    let place = Place::new();
    let other = place.open().await;

    let by_size = place.open_buffered(10, NEVER).await;
    let run_id = new_run(&by_size, "0").await;
    for step in 0..9 {
        by_size.log_metric(&run_id, metric(step)).await.unwrap();
    }
    assert_eq!(
        metric_counts(&other, &run_id).await,
        (0, 0),
        "below the size"
    );
    by_size.log_metric(&run_id, metric(9)).await.unwrap();
    wait_for_metrics(&other, &run_id, 10, "flush at max_rows").await;

    let by_age = place.open_buffered(10_000, Duration::from_millis(50)).await;
    let run_id = new_run(&by_age, "0").await;
    by_age.log_metric(&run_id, metric(0)).await.unwrap();
    wait_for_metrics(&other, &run_id, 1, "flush at max_delay").await;
}

/// Makes the metrics table unwritable: its log directory becomes a file.
struct BrokenLog {
    log: std::path::PathBuf,
    aside: std::path::PathBuf,
}

impl BrokenLog {
    fn break_metrics(place: &Place) -> BrokenLog {
        let log = std::path::Path::new(&place.location).join("metrics/_delta_log");
        let aside = log.with_file_name("_delta_log.aside");
        std::fs::rename(&log, &aside).unwrap();
        std::fs::write(&log, b"not a directory").unwrap();
        BrokenLog { log, aside }
    }

    fn repair(self) {
        std::fs::remove_file(&self.log).unwrap();
        std::fs::rename(&self.aside, &self.log).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_background_flush_is_reported_by_the_next_call_and_retried() {
    let place = Place::new();
    // Without the journal, so that a flush is a commit to the broken table.
    let options = StoreOptions::default()
        .buffered_writes(10_000, Duration::from_millis(20))
        .write_journal(false);
    let store = Store::open_with(&place.location, options).await.unwrap();
    let run_id = new_run(&store, "0").await;
    store.log_metric(&run_id, metric(0)).await.unwrap();
    store.flush().await.unwrap();

    let broken = BrokenLog::break_metrics(&place);
    let mut acknowledged = 1;
    let started = Instant::now();
    let message = loop {
        match store.log_metric(&run_id, metric(acknowledged)).await {
            Ok(_) => acknowledged += 1,
            Err(error) => {
                break expect_code(Err::<(), _>(error), ErrorCode::InternalError, "flush");
            }
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no call reported the failed background flush"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(message.contains("buffered rows"), "{message}");
    // Reported once; the rows still wait, and a flush on demand fails too.
    store
        .log_metric(&run_id, metric(acknowledged))
        .await
        .unwrap();
    acknowledged += 1;
    expect_code(
        store.flush().await,
        ErrorCode::InternalError,
        "flush while the table is broken",
    );

    broken.repair();
    // The background flusher may have recorded one more failure meanwhile.
    if store.flush().await.is_err() {
        store.flush().await.unwrap();
    }
    let (distinct, _) = metric_counts(&place.open().await, &run_id).await;
    assert_eq!(
        distinct, acknowledged,
        "every acknowledged row landed, and only those"
    );
}

#[test]
fn concurrent_buffered_logging_loses_and_duplicates_nothing() {
    const TASKS: i64 = 16;
    const CALLS: i64 = 150;
    let place = Place::new();
    common::runtime(4).block_on(async {
        let store = place.open_buffered(500, Duration::from_millis(5)).await;
        let run_id = new_run(&store, "0").await;
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let store = store.clone();
            let run_id = run_id.clone();
            tasks.push(tokio::spawn(async move {
                for call in 0..CALLS {
                    store
                        .log_metric(&run_id, metric(task * CALLS + call))
                        .await
                        .unwrap();
                }
                store
                    .set_tag(&run_id, &format!("task{task}"), "done")
                    .await
                    .unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        store.flush().await.unwrap();
        let reader = place.open().await;
        assert_eq!(
            metric_counts(&reader, &run_id).await,
            (TASKS * CALLS, TASKS * CALLS)
        );
        let tags = reader.get_run(&run_id).await.unwrap().data.tags;
        assert_eq!(
            tags.iter().filter(|t| t.key.starts_with("task")).count() as i64,
            TASKS
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffering_is_switched_from_sql() {
    let place = Place::new();
    let store = place.open().await;
    let other = place.open().await;
    let session = store.session().await.unwrap();
    let run_id = new_run(&store, "0").await;

    let mode = ok(
        &session,
        "EXEC store.buffer_writes @enabled=true @max_rows=100 @max_delay_ms=3600000",
    )
    .await;
    assert_eq!(cell(&mode, "buffered", 0), "true");
    assert_eq!(
        store.write_buffering(),
        Some(WriteBuffering::new(100, NEVER))
    );
    ok(
        &session,
        &format!("EXEC runs.log_metric @run_id='{run_id}' @key='loss' @value=0.5"),
    )
    .await;
    assert_eq!(metric_counts(&other, &run_id).await, (0, 0));
    let flushed = ok(&session, "EXEC store.flush").await;
    assert_eq!(cell(&flushed, "rows_flushed", 0), "1");
    assert_eq!(metric_counts(&other, &run_id).await, (1, 1));

    ok(
        &session,
        &format!("EXEC runs.log_metric @run_id='{run_id}' @key='loss' @value=0.25"),
    )
    .await;
    // Turning buffering off flushes what waits.
    ok(&session, "EXEC store.buffer_writes @enabled=false").await;
    assert_eq!(store.write_buffering(), None);
    assert_eq!(metric_counts(&other, &run_id).await, (2, 2));
    common::fails(
        &session,
        "EXEC store.buffer_writes @enabled=true @max_rows=0",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_small_writes_are_folded_in_the_background() {
    let place = Place::new();
    // Without the journal, so that each write is a commit of its own.
    let options = StoreOptions::default()
        .auto_compact_files(4)
        .write_journal(false);
    let store = Store::open_with(&place.location, options).await.unwrap();
    let run_id = new_run(&store, "0").await;
    const WRITES: i64 = 12;
    for step in 0..WRITES {
        store.log_metric(&run_id, metric(step)).await.unwrap();
    }
    // Each write commits a file of its own; past four, a write starts a fold
    // of the small files, and writes that land meanwhile get another round.
    let metrics_dir = std::path::Path::new(&place.location).join("metrics");
    let started = Instant::now();
    loop {
        let live = data_files(&metrics_dir).await.0.len();
        if live <= 4 {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "metrics still has {live} data files after {WRITES} writes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metric_counts(&place.open().await, &run_id).await.0, WRITES);
}

/// One metric value per run id, as `Store::import_metrics` takes them.
fn metric_columns(run_ids: &[&str], key: &str) -> MetricColumns {
    let rows = run_ids.len();
    MetricColumns {
        run_id: StringArray::from(run_ids.to_vec()),
        key: StringArray::from(vec![key; rows]),
        value: Float64Array::from(vec![0.5; rows]),
        timestamp: Int64Array::from(vec![1_700_000_000_000; rows]),
        step: Int64Array::from(vec![100; rows]),
        dataset_name: StringArray::new_null(rows),
        dataset_digest: StringArray::new_null(rows),
        model_id: StringArray::new_null(rows),
    }
}

/// Commits of the metrics table so far.
fn metrics_commits(place: &Place) -> usize {
    let log = std::path::Path::new(&place.location).join("metrics/_delta_log");
    std::fs::read_dir(log)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("json".as_ref()))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_lands_after_the_buffered_calls_before_it() {
    let place = Place::new();
    let store = place.open_buffered(10_000, NEVER).await;
    let other = place.open().await;
    let run_id = new_run(&store, "0").await;
    store.log_metric(&run_id, metric(0)).await.unwrap();

    let load = futures::stream::iter([Ok(metric_columns(&[&run_id], "loss"))]);
    assert_eq!(store.import_metrics(load).await.unwrap(), 1);
    assert_eq!(
        metric_counts(&other, &run_id).await,
        (2, 2),
        "the buffered value was flushed before the load"
    );

    // An empty load writes nothing, not even an empty commit.
    let commits = metrics_commits(&place);
    let empty = futures::stream::iter(Vec::<runql::Result<MetricColumns>>::new());
    assert_eq!(store.import_metrics(empty).await.unwrap(), 0);
    assert_eq!(metrics_commits(&place), commits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_with_columns_of_unequal_length_is_refused() {
    let place = Place::new();
    let store = place.open().await;
    let run_id = new_run(&store, "0").await;
    let mut columns = metric_columns(&[&run_id, &run_id], "loss");
    columns.step = Int64Array::from(vec![1]);
    let message = expect_code(
        store
            .import_metrics(futures::stream::iter([Ok(columns)]))
            .await,
        ErrorCode::InvalidParameterValue,
        "a step column one value short",
    );
    assert!(message.contains("equal length"), "{message}");
    assert_eq!(metric_counts(&store, &run_id).await, (0, 0));
}

/// The write journal's segment files under a local store.
fn journal_segments(place: &Place) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(&place.location).join("_runql/journal");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut segments: Vec<_> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension() == Some("wal".as_ref()))
        .collect();
    segments.sort();
    segments
}

/// `SELECT count(*) FROM metrics` for the run, answered by a `runql` process.
fn metric_count_in_another_process(place: &Place, run_id: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_runql"))
        .args(["--store", &place.location, "-q", "--format", "csv", "-c"])
        .arg(format!(
            "SELECT count(*) AS n FROM metrics WHERE run_id = '{run_id}'"
        ))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A handle that never folds by age, and a run with `values` metric values
/// logged through it (so they wait in its journal).
async fn journaled_run(place: &Place, values: i64) -> (Store, String) {
    let options = StoreOptions::default().journal_fold_delay(NEVER);
    let store = Store::open_with(&place.location, options).await.unwrap();
    let run_id = new_run(&store, "0").await;
    for step in 0..values {
        store.log_metric(&run_id, metric(step)).await.unwrap();
    }
    (store, run_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journaled_writes_are_read_by_other_processes_at_once_and_folded_on_flush() {
    let place = Place::new();
    let (store, run_id) = journaled_run(&place, 5).await;
    let metrics_dir = std::path::Path::new(&place.location).join("metrics");
    assert_eq!(journal_segments(&place).len(), 1);
    assert!(
        data_files(&metrics_dir).await.0.is_empty(),
        "nothing is folded yet"
    );
    assert_eq!(metric_count_in_another_process(&place, &run_id), "n\n5");

    store.flush().await.unwrap();
    let journal_dir = std::path::Path::new(&place.location).join("_runql/journal");
    assert_eq!(
        std::fs::read_dir(&journal_dir).unwrap().count(),
        0,
        "a fold deletes what it folded (segment and marker), and an idle handle holds no lock"
    );
    assert!(!data_files(&metrics_dir).await.0.is_empty());
    assert_eq!(metric_count_in_another_process(&place, &run_id), "n\n5");
    // Writes after a fold start a new segment.
    store.log_metric(&run_id, metric(5)).await.unwrap();
    assert_eq!(journal_segments(&place).len(), 1);
    assert_eq!(metric_counts(&store, &run_id).await.0, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_left_by_a_writer_that_died_is_folded_by_the_next_open() {
    let place = Place::new();
    let (store, run_id) = journaled_run(&place, 3).await;
    // A writer that died: its segment, with no live lock, and a record it
    // was appending when it died, cut short.
    let live = journal_segments(&place).pop().unwrap();
    let orphan = live.with_file_name("0123456789abcdef0123456789abcdef-0000000000.wal");
    let mut bytes = std::fs::read(&live).unwrap();
    let intact = bytes.len();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 5]);
    std::fs::write(&orphan, &bytes).unwrap();
    std::fs::remove_file(&live).unwrap();
    assert!(intact > 8, "the segment holds records");

    let reader = place.open().await;
    assert_eq!(
        journal_segments(&place),
        Vec::<std::path::PathBuf>::new(),
        "the orphan segment was folded and removed"
    );
    // The three values reached the Delta table, once (the live writer's own
    // copy is gone from disk, and its memory is not the reader's).
    assert_eq!(metric_counts(&reader, &run_id).await, (3, 3), "folded once");
    // Adoption is idempotent: a second open finds nothing to do.
    drop(place.open().await);
    assert_eq!(metric_counts(&reader, &run_id).await, (3, 3));
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fold_that_fails_keeps_the_journal_and_a_later_fold_lands_it() {
    let place = Place::new();
    let options = StoreOptions::default().journal_fold_delay(Duration::from_millis(20));
    let store = Store::open_with(&place.location, options).await.unwrap();
    let run_id = new_run(&store, "0").await;
    store.log_metric(&run_id, metric(0)).await.unwrap();
    store.flush().await.unwrap();

    let broken = BrokenLog::break_metrics(&place);
    // Journaled writes are acknowledged while no fold can land.
    for step in 1..=5 {
        store.log_metric(&run_id, metric(step)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let message = expect_code(
        store.flush().await,
        ErrorCode::InternalError,
        "a fold into the broken table",
    );
    assert!(message.contains("metrics"), "{message}");
    assert_eq!(
        journal_segments(&place).len(),
        1,
        "the journal keeps what it could not fold"
    );

    broken.repair();
    store.flush().await.unwrap();
    assert!(journal_segments(&place).is_empty());
    assert_eq!(
        metric_counts(&place.open().await, &run_id).await,
        (6, 6),
        "every acknowledged value landed once"
    );
}
