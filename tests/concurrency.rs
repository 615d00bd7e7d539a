//! Concurrent writers on one local store, with compaction running at the same
//! time: four independent `Store` handles, each on its own Tokio runtime and OS
//! thread (as separate processes would be), plus a compactor. Afterwards every
//! acknowledged metric, param and tag is present exactly once.

mod common;

use common::{compact_until_stopped, runtime};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use runql::api::CreateRun;
use runql::model::{Metric, Param, Tag};
use runql::{Store, StoreOptions};

const WRITERS: usize = 4;
const ROUNDS: usize = 25;

/// What one writer logged and had acknowledged: (run_id, kind, key, value).
type Acknowledged = Vec<(String, &'static str, String, String)>;

fn writer(location: String, writer: usize) -> Acknowledged {
    runtime(1).block_on(async move {
        // A low threshold so writers also trigger compaction themselves.
        let store = Store::open_with(&location, StoreOptions::default().auto_compact_files(8))
            .await
            .unwrap();
        let run = store
            .create_run(CreateRun {
                experiment_id: Some("0".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let run_id = run.info.run_id;
        let mut acknowledged = Acknowledged::new();
        for round in 0..ROUNDS {
            let value = (writer * 1000 + round) as f64;
            if round % 2 == 0 {
                store
                    .log_metric(
                        &run_id,
                        Metric::new(
                            "single",
                            value,
                            1_700_000_000_000 + round as i64,
                            round as i64,
                        ),
                    )
                    .await
                    .unwrap();
                acknowledged.push((
                    run_id.clone(),
                    "metric",
                    "single".into(),
                    format!("{value:?}"),
                ));
            } else {
                let metrics = vec![
                    Metric::new("batched", value, 1_700_000_000_000, round as i64),
                    Metric::new("batched", value + 0.5, 1_700_000_000_001, round as i64),
                ];
                let params = vec![Param::new(format!("p{round}"), format!("v{writer}"))];
                let tags = vec![Tag::new(format!("t{round}"), format!("w{writer}"))];
                store
                    .log_batch(&run_id, metrics, params, tags)
                    .await
                    .unwrap();
                acknowledged.push((
                    run_id.clone(),
                    "metric",
                    "batched".into(),
                    format!("{value:?}"),
                ));
                acknowledged.push((
                    run_id.clone(),
                    "metric",
                    "batched".into(),
                    format!("{:?}", value + 0.5),
                ));
                acknowledged.push((
                    run_id.clone(),
                    "param",
                    format!("p{round}"),
                    format!("v{writer}"),
                ));
                acknowledged.push((
                    run_id.clone(),
                    "tag",
                    format!("t{round}"),
                    format!("w{writer}"),
                ));
            }
        }
        acknowledged
    })
}

async fn rows(ctx: &SessionContext, sql: &str) -> Vec<(String, String, String)> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for batch in &batches {
        let text: Vec<_> = (0..3)
            .map(|i| cast(batch.column(i), &DataType::Utf8).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            let cell = |i: usize| text[i].as_string::<i32>().value(row).to_string();
            assert!(text.iter().all(|c| c.is_valid(row)));
            out.push((cell(0), cell(1), cell(2)));
        }
    }
    out
}

#[test]
fn concurrent_writers_and_compaction_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    // Create the store once, so writers race on data, not on table creation.
    runtime(1).block_on(Store::open(&location)).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let compactor = {
        let (location, stop) = (location.clone(), stop.clone());
        std::thread::spawn(move || {
            let runtime = runtime(1);
            let store = runtime.block_on(Store::open(&location)).unwrap();
            compact_until_stopped(&stop, || {
                runtime
                    .block_on(store.compact())
                    .map(drop)
                    .map_err(|error| error.to_string())
            })
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let location = location.clone();
            std::thread::spawn(move || writer(location, w))
        })
        .collect();
    let acknowledged: Vec<_> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    stop.store(true, Ordering::Relaxed);
    let (compactions, failures) = compactor.join().unwrap();
    assert!(
        compactions > 0,
        "the compactor never completed a compaction: {failures:?}"
    );

    runtime(1).block_on(async {
        let store = Store::open(&location).await.unwrap();
        let ctx = SessionContext::new();
        runql::register(&ctx, &store).await.unwrap();
        let metrics = rows(
            &ctx,
            "SELECT run_id, key, CAST(value AS VARCHAR) FROM metrics",
        )
        .await;
        let params = rows(&ctx, "SELECT run_id, key, value FROM params").await;
        let tags = rows(
            &ctx,
            "SELECT run_id, key, value FROM tags WHERE key <> 'mlflow.runName'",
        )
        .await;
        for (kind, found) in [("metric", &metrics), ("param", &params), ("tag", &tags)] {
            let expected: Vec<_> = acknowledged
                .iter()
                .filter(|a| a.1 == kind)
                .map(|a| (a.0.clone(), a.2.clone(), a.3.clone()))
                .collect();
            let unique: HashSet<_> = found.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                found.len(),
                "duplicate {kind}s after concurrent writes"
            );
            assert_eq!(found.len(), expected.len(), "{kind} count");
            for entry in &expected {
                assert!(
                    unique.contains(entry),
                    "acknowledged {kind} {entry:?} is missing"
                );
            }
        }
        // Even rounds log one metric, odd rounds two.
        assert_eq!(
            metrics.len(),
            WRITERS * (ROUNDS.div_ceil(2) + ROUNDS / 2 * 2)
        );
    });
}

/// Processes racing to create one experiment name: at most one succeeds, and at
/// most one active experiment holds the name afterwards.
#[test]
fn racing_creators_leave_one_active_holder_of_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    runtime(1).block_on(Store::open(&location)).unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(WRITERS));
    let creators: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (location, barrier) = (location.clone(), barrier.clone());
            std::thread::spawn(move || {
                runtime(1).block_on(async move {
                    let store = Store::open(&location).await.unwrap();
                    barrier.wait();
                    store.create_experiment("contested", None, &[]).await
                })
            })
        })
        .collect();
    let results: Vec<_> = creators.into_iter().map(|c| c.join().unwrap()).collect();
    let winners: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(
        winners.len() <= 1,
        "two creators both succeeded: {results:?}"
    );
    for failure in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            failure.code(),
            runql::ErrorCode::ResourceAlreadyExists,
            "{failure}"
        );
    }
    runtime(1).block_on(async {
        let store = Store::open(&location).await.unwrap();
        let ctx = SessionContext::new();
        runql::register(&ctx, &store).await.unwrap();
        let active = rows(
            &ctx,
            "SELECT experiment_id, name, lifecycle_stage FROM experiments \
             WHERE name = 'contested' AND lifecycle_stage = 'active'",
        )
        .await;
        assert!(active.len() <= 1, "{active:?}");
        let active_ids: Vec<&String> = active.iter().map(|row| &row.0).collect();
        assert_eq!(
            active_ids, winners,
            "the active holder is the creator that succeeded"
        );
    });
}

/// Processes racing to log different values for one param of one run: every
/// writer told "ok" logged the value that is stored, and every other writer
/// was told its value was not kept. Repeated over several keys, since a
/// single race may happen to be serialized.
#[test]
fn racing_param_writers_are_told_whether_their_value_was_kept() {
    const KEYS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    let run_id = runtime(1).block_on(async {
        let store = Store::open(&location).await.unwrap();
        let run = store.create_run(CreateRun::default()).await.unwrap();
        run.info.run_id
    });
    let barrier = Arc::new(std::sync::Barrier::new(WRITERS));
    let racers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (location, barrier, run_id) = (location.clone(), barrier.clone(), run_id.clone());
            std::thread::spawn(move || {
                runtime(1).block_on(async move {
                    let store = Store::open(&location).await.unwrap();
                    let mut outcomes = Vec::new();
                    for key in 0..KEYS {
                        barrier.wait();
                        let result = store
                            .log_param(&run_id, &format!("p{key}"), &format!("writer-{w}"))
                            .await;
                        outcomes.push((key, format!("writer-{w}"), result));
                    }
                    outcomes
                })
            })
        })
        .collect();
    let outcomes: Vec<_> = racers.into_iter().flat_map(|r| r.join().unwrap()).collect();
    let stored: Vec<(String, String, String)> = runtime(1).block_on(async {
        let store = Store::open(&location).await.unwrap();
        let ctx = SessionContext::new();
        runql::register(&ctx, &store).await.unwrap();
        rows(&ctx, "SELECT run_id, key, value FROM params").await
    });
    assert_eq!(stored.len(), KEYS, "one value per key: {stored:?}");
    for (key, value, result) in &outcomes {
        let kept = stored
            .iter()
            .any(|(_, k, v)| *k == format!("p{key}") && v == value);
        match result {
            Ok(_) => assert!(
                kept,
                "p{key}={value} acknowledged but not stored: {stored:?}"
            ),
            Err(error) => {
                assert!(!kept, "p{key}={value} stored but refused: {error}");
                assert_eq!(error.code(), runql::ErrorCode::InvalidParameterValue);
            }
        }
    }
}
