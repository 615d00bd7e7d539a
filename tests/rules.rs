//! MLflow's tracking rules, one test per rule, checked through the public API
//! and the SQL views: every rejected call must fail with the right error code
//! and leave the store exactly as it was.

mod common;

use common::moto::{BUCKET, Moto};
use common::seaweed::SeaweedFs;
use common::{
    BASE_VIEWS as USER_VIEWS, context, count, expect_code, floats, int, listing, new_run,
    raw_tables, sorted, sql,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;

use datafusion::prelude::SessionContext;
use runql::api::{CreateRun, GcOptions};
use runql::model::{LifecycleStage, Metric, RunStatus, Tag};
use runql::{ErrorCode, RunqlError, Store, StoreOptions};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The backends every rule is proven on.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Local,
    Memory,
    S3,
}

/// Where one test's store lives: its own directory, memory, or its own prefix
/// in the moto server the test binary shares.
struct Place {
    location: String,
    options: StoreOptions,
    _dir: Option<TempDir>,
    /// A memory store exists only in its handle, so "reopening" it is that handle.
    memory: Option<Store>,
    /// The S3 server of a store that handles race on (see [`Place::for_races`]).
    _server: Option<SeaweedFs>,
}

impl Place {
    async fn new(backend: Backend) -> Place {
        static PREFIXES: AtomicUsize = AtomicUsize::new(0);
        let mut place = Place {
            location: String::new(),
            options: StoreOptions::default(),
            _dir: None,
            memory: None,
            _server: None,
        };
        match backend {
            Backend::Local => {
                let dir = tempfile::tempdir().unwrap();
                place.location = dir.path().to_str().unwrap().to_string();
                place._dir = Some(dir);
            }
            Backend::Memory => {
                place.location = "memory://".into();
                place.memory = Some(Store::open("memory://").await.unwrap());
            }
            Backend::S3 => {
                static MOTO: OnceLock<Moto> = OnceLock::new();
                let moto = MOTO.get_or_init(Moto::start);
                let prefix = PREFIXES.fetch_add(1, Ordering::SeqCst);
                place.location = format!("s3://{BUCKET}/rules-{prefix}");
                place.options = moto.options();
            }
        }
        place
    }

    /// A place for a store that several handles write at once. On S3 it is
    /// a SeaweedFS server of its own: moto's conditional creates let two racers
    /// win now and then, which would lose a commit whatever runql does.
    async fn for_races(backend: Backend) -> Place {
        if !matches!(backend, Backend::S3) {
            return Place::new(backend).await;
        }
        let server = SeaweedFs::start();
        Place {
            location: format!("s3://{}/rules", common::seaweed::BUCKET),
            options: server.options(),
            _dir: None,
            memory: None,
            _server: Some(server),
        }
    }

    /// A new handle on the store, as another process would open it.
    async fn open(&self) -> Store {
        if let Some(store) = &self.memory {
            return store.clone();
        }
        match Store::open_with(&self.location, self.options.clone()).await {
            Ok(store) => store,
            Err(e) => panic!("opening store at {}: {e}", self.location),
        }
    }
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

/// Everything observable: every view, plus row counts of every raw table (so a
/// rejected write that the views would hide, such as a second param value,
/// still shows).
async fn state(ctx: &SessionContext) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut all = views(ctx).await;
    for table in raw_tables() {
        let n = count(ctx, &format!("raw.{table}")).await;
        all.insert(format!("raw.{table} rows"), vec![vec![n.to_string()]]);
    }
    all
}

/// Asserts a rejected call left everything as it was.
async fn assert_unchanged(
    ctx: &SessionContext,
    before: &BTreeMap<String, Vec<Vec<String>>>,
    what: &str,
) {
    let after = state(ctx).await;
    for (name, rows) in before {
        assert_eq!(
            &after[name], rows,
            "{what}: {name} changed after a rejected call"
        );
    }
}

struct Fixture {
    place: Place,
    store: Store,
    ctx: SessionContext,
    experiment_id: String,
    run_id: String,
}

async fn fixture(backend: Backend) -> Fixture {
    let place = Place::new(backend).await;
    let store = place.open().await;
    let experiment_id = store.create_experiment("rules", None, &[]).await.unwrap();
    let run_id = new_run(&store, &experiment_id).await;
    let ctx = context(&store).await;
    Fixture {
        place,
        store,
        ctx,
        experiment_id,
        run_id,
    }
}

fn row(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn metrics(n: usize) -> Vec<Metric> {
    (0..n)
        .map(|i| Metric::new(format!("m{i}"), i as f64, 1_000 + i as i64, 0))
        .collect()
}

fn params(n: usize) -> Vec<Tag> {
    (0..n)
        .map(|i| Tag::new(format!("p{i}"), format!("v{i}")))
        .collect()
}

fn tags(n: usize) -> Vec<Tag> {
    (0..n)
        .map(|i| Tag::new(format!("t{i}"), format!("v{i}")))
        .collect()
}

// ---------------------------------------------------------------------------
// Params, tags, metrics
// ---------------------------------------------------------------------------

async fn params_are_write_once(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    f.store.log_param(run, "lr", "0.1").await.unwrap();
    let before = state(&f.ctx).await;

    // The same value again is a no-op.
    let logged = f.store.log_param(run, "lr", "0.1").await.unwrap();
    assert_eq!(logged.params, 0, "a repeated param is not a new write");
    let q = format!("SELECT key, value FROM params WHERE run_id = '{run}'");
    assert_eq!(sql(&f.ctx, &q).await, vec![row(&["lr", "0.1"])]);
    assert_unchanged(&f.ctx, &before, "same param value again").await;

    // A different value is refused, and the old value stays.
    expect_code(
        f.store.log_param(run, "lr", "0.2").await,
        ErrorCode::InvalidParameterValue,
        "param with a different value",
    );
    assert_eq!(sql(&f.ctx, &q).await, vec![row(&["lr", "0.1"])]);
    assert_unchanged(&f.ctx, &before, "param with a different value").await;
    let got = f.store.get_run(run).await.unwrap();
    assert_eq!(got.data.params, vec![Tag::new("lr", "0.1")]);
}

async fn tags_overwrite_and_delete(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let q = format!("SELECT key, value FROM tags WHERE run_id = '{run}' AND key = 'stage'");

    f.store.set_tag(run, "stage", "train").await.unwrap();
    f.store.set_tag(run, "stage", "eval").await.unwrap();
    assert_eq!(sql(&f.ctx, &q).await, vec![row(&["stage", "eval"])]);
    let got = f.store.get_run(run).await.unwrap();
    assert_eq!(
        got.data
            .tags
            .iter()
            .filter(|t| t.key == "stage")
            .collect::<Vec<_>>(),
        vec![&Tag::new("stage", "eval")]
    );

    f.store.delete_tag(run, "stage").await.unwrap();
    assert!(sql(&f.ctx, &q).await.is_empty(), "deleted tag still shows");
    assert!(
        !f.store
            .get_run(run)
            .await
            .unwrap()
            .data
            .tags
            .iter()
            .any(|t| t.key == "stage")
    );

    let before = state(&f.ctx).await;
    expect_code(
        f.store.delete_tag(run, "stage").await,
        ErrorCode::ResourceDoesNotExist,
        "deleting a tag twice",
    );
    expect_code(
        f.store.delete_tag(run, "never-set").await,
        ErrorCode::ResourceDoesNotExist,
        "deleting a tag never set",
    );
    assert_unchanged(&f.ctx, &before, "delete_tag of a missing tag").await;

    // Setting it again after deletion works.
    f.store.set_tag(run, "stage", "again").await.unwrap();
    assert_eq!(sql(&f.ctx, &q).await, vec![row(&["stage", "again"])]);
}

async fn metrics_append_and_exact_duplicates_collapse(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let n = |key: &'static str| format!("metrics WHERE run_id = '{run}' AND key = '{key}'");

    for (value, ts, step) in [(1.0, 100, 0), (2.0, 200, 1), (3.0, 300, 2)] {
        f.store
            .log_metric(run, Metric::new("loss", value, ts, step))
            .await
            .unwrap();
    }
    assert_eq!(count(&f.ctx, &n("loss")).await, 3, "metrics append");

    // An exact repeat in a later call collapses.
    f.store
        .log_metric(run, Metric::new("loss", 2.0, 200, 1))
        .await
        .unwrap();
    assert_eq!(count(&f.ctx, &n("loss")).await, 3, "repeat across calls");

    // Exact repeats within one batch collapse too.
    let logged = f
        .store
        .log_batch(
            run,
            vec![
                Metric::new("acc", 0.5, 100, 0),
                Metric::new("acc", 0.5, 100, 0),
                Metric::new("acc", 0.5, 100, 0),
            ],
            vec![],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(logged.metrics, 1);
    assert_eq!(count(&f.ctx, &n("acc")).await, 1, "repeat within a batch");

    // Differing in any one of value, timestamp or step is a new value.
    for metric in [
        Metric::new("acc", 0.6, 100, 0),
        Metric::new("acc", 0.5, 101, 0),
        Metric::new("acc", 0.5, 100, 1),
    ] {
        f.store.log_metric(run, metric).await.unwrap();
    }
    assert_eq!(count(&f.ctx, &n("acc")).await, 4);
    assert_eq!(
        sorted(
            &f.ctx,
            &format!(
                "SELECT value, step FROM metrics WHERE run_id = '{run}' AND key = 'acc' \
                 ORDER BY value, step"
            )
        )
        .await,
        vec![
            row(&["0.5", "0"]),
            row(&["0.5", "0"]),
            row(&["0.5", "1"]),
            row(&["0.6", "0"])
        ]
    );
    assert_eq!(
        f.store.get_metric_history(run, "loss").await.unwrap(),
        vec![
            Metric::new("loss", 1.0, 100, 0),
            Metric::new("loss", 2.0, 200, 1),
            Metric::new("loss", 3.0, 300, 2),
        ]
    );
}

async fn latest_metric_is_max_by_step_timestamp_value(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let cases = vec![
        // Same step, different timestamps: the later timestamp wins.
        Metric::new("a", 5.0, 100, 1),
        Metric::new("a", 0.5, 200, 1),
        // Same step and timestamp: the highest value wins.
        Metric::new("b", 1.0, 100, 1),
        Metric::new("b", 3.0, 100, 1),
        Metric::new("b", 2.0, 100, 1),
        // A higher step with an older timestamp wins.
        Metric::new("c", 7.0, 500, 1),
        Metric::new("c", 9.0, 50, 2),
        Metric::new("c", 8.0, 400, 1),
    ];
    // Logged one by one, in an order unrelated to the answer.
    for metric in cases.into_iter().rev() {
        f.store.log_metric(run, metric).await.unwrap();
    }
    assert_eq!(
        sql(
            &f.ctx,
            &format!(
                "SELECT key, value, CAST(timestamp AS BIGINT) / 1000, step FROM latest_metrics \
                 WHERE run_id = '{run}' ORDER BY key"
            )
        )
        .await,
        vec![
            row(&["a", "0.5", "200", "1"]),
            row(&["b", "3.0", "100", "1"]),
            row(&["c", "9.0", "50", "2"]),
        ]
    );
    let got = f.store.get_run(run).await.unwrap();
    assert_eq!(
        got.data.metrics,
        vec![
            Metric::new("a", 0.5, 200, 1),
            Metric::new("b", 3.0, 100, 1),
            Metric::new("c", 9.0, 50, 2),
        ]
    );
}

async fn deleted_runs_refuse_writes_until_restored(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    f.store.set_tag(run, "kept", "yes").await.unwrap();
    f.store.delete_run(run).await.unwrap();
    assert_eq!(
        f.store.get_run(run).await.unwrap().info.lifecycle_stage,
        LifecycleStage::Deleted
    );
    let before = state(&f.ctx).await;

    let bad = ErrorCode::InvalidParameterValue;
    expect_code(
        f.store.log_metric(run, Metric::new("m", 1.0, 1, 0)).await,
        bad,
        "log_metric to a deleted run",
    );
    expect_code(
        f.store.log_param(run, "p", "v").await,
        bad,
        "log_param to a deleted run",
    );
    expect_code(
        f.store.set_tag(run, "t", "v").await,
        bad,
        "set_tag on a deleted run",
    );
    expect_code(
        f.store.delete_tag(run, "kept").await,
        bad,
        "delete_tag on a deleted run",
    );
    expect_code(
        f.store
            .log_batch(
                run,
                vec![Metric::new("m", 1.0, 1, 0)],
                vec![Tag::new("p", "v")],
                vec![Tag::new("t", "v")],
            )
            .await,
        bad,
        "log_batch to a deleted run",
    );
    expect_code(
        f.store
            .update_run(run, Some(RunStatus::Finished), Some(5), None)
            .await,
        bad,
        "update_run of a deleted run",
    );
    assert_unchanged(&f.ctx, &before, "writes to a deleted run").await;

    f.store.restore_run(run).await.unwrap();
    f.store
        .log_metric(run, Metric::new("m", 1.0, 1, 0))
        .await
        .unwrap();
    f.store.log_param(run, "p", "v").await.unwrap();
    f.store.set_tag(run, "t", "v").await.unwrap();
    let got = f.store.get_run(run).await.unwrap();
    assert_eq!(got.info.lifecycle_stage, LifecycleStage::Active);
    assert_eq!(got.data.metrics, vec![Metric::new("m", 1.0, 1, 0)]);
    assert_eq!(got.data.params, vec![Tag::new("p", "v")]);
    assert!(got.data.tags.contains(&Tag::new("t", "v")));
}

// ---------------------------------------------------------------------------
// Batch limits and validation
// ---------------------------------------------------------------------------

async fn batches_over_the_limits_are_refused_whole(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let before = state(&f.ctx).await;
    // (what, metrics, params, tags)
    type Batch = (&'static str, Vec<Metric>, Vec<Tag>, Vec<Tag>);
    let over: Vec<Batch> = vec![
        ("1001 metrics", metrics(1001), vec![], vec![]),
        ("101 params", vec![], params(101), vec![]),
        ("101 tags", vec![], vec![], tags(101)),
        (
            "900 metrics + 50 params + 51 tags",
            metrics(900),
            params(50),
            tags(51),
        ),
    ];
    for (what, m, p, t) in over {
        expect_code(
            f.store.log_batch(run, m, p, t).await,
            ErrorCode::InvalidParameterValue,
            what,
        );
        assert_unchanged(&f.ctx, &before, what).await;
    }
    // create_run's tags obey the tag limit too.
    expect_code(
        f.store
            .create_run(CreateRun {
                experiment_id: Some(f.experiment_id.clone()),
                tags: tags(101),
                ..Default::default()
            })
            .await,
        ErrorCode::InvalidParameterValue,
        "create_run with 101 tags",
    );
    assert_unchanged(&f.ctx, &before, "create_run with 101 tags").await;
}

async fn batches_at_the_limits_are_accepted(backend: Backend) {
    let f = fixture(backend).await;
    let r1 = new_run(&f.store, &f.experiment_id).await;
    let r2 = new_run(&f.store, &f.experiment_id).await;
    let r3 = new_run(&f.store, &f.experiment_id).await;
    let r4 = new_run(&f.store, &f.experiment_id).await;

    let logged = f
        .store
        .log_batch(&r1, metrics(1000), vec![], vec![])
        .await
        .unwrap();
    assert_eq!(logged.metrics, 1000);
    assert_eq!(
        count(&f.ctx, &format!("metrics WHERE run_id = '{r1}'")).await,
        1000
    );

    f.store
        .log_batch(&r2, vec![], params(100), vec![])
        .await
        .unwrap();
    assert_eq!(
        count(&f.ctx, &format!("params WHERE run_id = '{r2}'")).await,
        100
    );

    f.store
        .log_batch(&r3, vec![], vec![], tags(100))
        .await
        .unwrap();
    assert_eq!(
        count(
            &f.ctx,
            &format!("tags WHERE run_id = '{r3}' AND key LIKE 't%'")
        )
        .await,
        100
    );

    // 1000 in all, each kind within its own limit.
    f.store
        .log_batch(&r4, metrics(800), params(100), tags(100))
        .await
        .unwrap();
    assert_eq!(
        count(&f.ctx, &format!("metrics WHERE run_id = '{r4}'")).await,
        800
    );
    assert_eq!(
        count(&f.ctx, &format!("params WHERE run_id = '{r4}'")).await,
        100
    );
    assert_eq!(
        count(
            &f.ctx,
            &format!("tags WHERE run_id = '{r4}' AND key LIKE 't%'")
        )
        .await,
        100
    );
}

async fn key_and_value_lengths_are_limited(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let k250 = "k".repeat(250);
    let k251 = "k".repeat(251);
    let bad = ErrorCode::InvalidParameterValue;

    let before = state(&f.ctx).await;
    expect_code(
        f.store.log_metric(run, Metric::new(&k251, 1.0, 1, 0)).await,
        bad,
        "metric key of 251",
    );
    expect_code(
        f.store.log_param(run, &k251, "v").await,
        bad,
        "param key of 251",
    );
    expect_code(
        f.store.set_tag(run, &k251, "v").await,
        bad,
        "tag key of 251",
    );
    expect_code(
        f.store.log_param(run, "pv", &"x".repeat(6001)).await,
        bad,
        "param value of 6001",
    );
    expect_code(
        f.store.set_tag(run, "tv", &"x".repeat(8001)).await,
        bad,
        "tag value of 8001",
    );
    assert_unchanged(&f.ctx, &before, "over-long keys and values").await;

    f.store
        .log_metric(run, Metric::new(&k250, 1.0, 1, 0))
        .await
        .unwrap();
    f.store.log_param(run, &k250, "v").await.unwrap();
    f.store.set_tag(run, &k250, "v").await.unwrap();
    f.store
        .log_param(run, "pv", &"x".repeat(6000))
        .await
        .unwrap();
    f.store.set_tag(run, "tv", &"x".repeat(8000)).await.unwrap();
    let got = f.store.get_run(run).await.unwrap();
    assert_eq!(got.data.metrics, vec![Metric::new(&k250, 1.0, 1, 0)]);
    assert!(got.data.params.contains(&Tag::new(&k250, "v")));
    assert!(got.data.params.contains(&Tag::new("pv", "x".repeat(6000))));
    assert!(got.data.tags.contains(&Tag::new(&k250, "v")));
    assert!(got.data.tags.contains(&Tag::new("tv", "x".repeat(8000))));
    assert_eq!(
        int(
            &f.ctx,
            &format!("SELECT length(value) FROM params WHERE run_id = '{run}' AND key = 'pv'")
        )
        .await,
        6000
    );
    assert_eq!(
        int(
            &f.ctx,
            &format!("SELECT length(value) FROM tags WHERE run_id = '{run}' AND key = 'tv'")
        )
        .await,
        8000
    );
}

async fn keys_must_be_safe_paths(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let before = state(&f.ctx).await;
    for key in ["a/../b", "/abs", "..", "a\nb"] {
        expect_code(
            f.store.log_metric(run, Metric::new(key, 1.0, 1, 0)).await,
            ErrorCode::InvalidParameterValue,
            &format!("metric key {key:?}"),
        );
        expect_code(
            f.store.log_param(run, key, "v").await,
            ErrorCode::InvalidParameterValue,
            &format!("param key {key:?}"),
        );
        expect_code(
            f.store.set_tag(run, key, "v").await,
            ErrorCode::InvalidParameterValue,
            &format!("tag key {key:?}"),
        );
        expect_code(
            f.store.set_experiment_tag(&f.experiment_id, key, "v").await,
            ErrorCode::InvalidParameterValue,
            &format!("experiment tag key {key:?}"),
        );
    }
    assert_unchanged(&f.ctx, &before, "unsafe keys").await;
    // A nested but normal path is fine.
    f.store
        .log_metric(run, Metric::new("val/loss", 1.0, 1, 0))
        .await
        .unwrap();
    assert_eq!(
        count(
            &f.ctx,
            &format!("metrics WHERE run_id = '{run}' AND key = 'val/loss'")
        )
        .await,
        1
    );
}

async fn one_bad_entry_fails_the_whole_batch(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    f.store.log_param(run, "fixed", "1").await.unwrap();
    let before = state(&f.ctx).await;
    let good_metrics = || {
        vec![
            Metric::new("loss", 0.1, 10, 0),
            Metric::new("acc", 0.9, 10, 0),
        ]
    };
    let good_params = || vec![Tag::new("lr", "0.01"), Tag::new("bs", "32")];
    let good_tags = || vec![Tag::new("stage", "train")];

    let mut with_bad_metric = good_metrics();
    with_bad_metric.push(Metric::new("bad/../key", 1.0, 10, 0));
    let mut with_negative_timestamp = good_metrics();
    with_negative_timestamp.push(Metric::new("neg", 1.0, -1, 0));
    let mut with_bad_param = good_params();
    with_bad_param.push(Tag::new("long", "x".repeat(6001)));
    let mut with_changed_param = good_params();
    with_changed_param.push(Tag::new("fixed", "2"));
    let mut with_bad_tag = good_tags();
    with_bad_tag.push(Tag::new("/abs", "v"));

    let cases = vec![
        (
            "bad metric key",
            with_bad_metric,
            good_params(),
            good_tags(),
        ),
        (
            "negative metric timestamp",
            with_negative_timestamp,
            good_params(),
            good_tags(),
        ),
        (
            "over-long param value",
            good_metrics(),
            with_bad_param,
            good_tags(),
        ),
        (
            "param conflicting with a logged one",
            good_metrics(),
            with_changed_param,
            good_tags(),
        ),
        ("bad tag key", good_metrics(), good_params(), with_bad_tag),
    ];
    for (what, m, p, t) in cases {
        expect_code(
            f.store.log_batch(run, m, p, t).await,
            ErrorCode::InvalidParameterValue,
            what,
        );
        assert_unchanged(&f.ctx, &before, what).await;
    }
    // The good parts alone go in.
    f.store
        .log_batch(run, good_metrics(), good_params(), good_tags())
        .await
        .unwrap();
    assert_eq!(
        count(&f.ctx, &format!("metrics WHERE run_id = '{run}'")).await,
        2
    );
    assert_eq!(
        count(&f.ctx, &format!("params WHERE run_id = '{run}'")).await,
        3
    );
}

async fn conflicting_param_values_in_one_batch_are_refused(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let before = state(&f.ctx).await;
    expect_code(
        f.store
            .log_batch(
                run,
                vec![Metric::new("m", 1.0, 1, 0)],
                vec![
                    Tag::new("a", "1"),
                    Tag::new("lr", "0.1"),
                    Tag::new("lr", "0.2"),
                ],
                vec![Tag::new("t", "v")],
            )
            .await,
        ErrorCode::InvalidParameterValue,
        "one param key with two values in a batch",
    );
    assert_unchanged(&f.ctx, &before, "conflicting params in one batch").await;

    // The same value twice is one param.
    f.store
        .log_batch(
            run,
            vec![],
            vec![Tag::new("lr", "0.1"), Tag::new("lr", "0.1")],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        sql(
            &f.ctx,
            &format!("SELECT key, value FROM params WHERE run_id = '{run}'")
        )
        .await,
        vec![row(&["lr", "0.1"])]
    );
}

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------

async fn run_statuses_are_mlflows(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    for status in [
        RunStatus::Running,
        RunStatus::Scheduled,
        RunStatus::Finished,
        RunStatus::Failed,
        RunStatus::Killed,
    ] {
        let info = f
            .store
            .update_run(run, Some(status), None, None)
            .await
            .unwrap();
        assert_eq!(info.status, status);
        assert_eq!(f.store.get_run(run).await.unwrap().info.status, status);
        assert_eq!(
            sql(
                &f.ctx,
                &format!("SELECT status FROM runs WHERE run_id = '{run}'")
            )
            .await,
            vec![row(&[status.as_str()])]
        );
        assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), status);
    }
    let before = state(&f.ctx).await;
    match "BOGUS".parse::<RunStatus>() {
        Ok(s) => panic!("BOGUS parsed as {s}"),
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidParameterValue),
    }
    assert_unchanged(&f.ctx, &before, "parsing a bogus status").await;
    // end_time and name update too.
    let info = f
        .store
        .update_run(run, None, Some(1_700_000_000_000), Some("renamed"))
        .await
        .unwrap();
    assert_eq!(info.status, RunStatus::Killed, "status kept when not given");
    let got = f.store.get_run(run).await.unwrap();
    assert_eq!(got.info.end_time, Some(1_700_000_000_000));
    assert_eq!(got.info.run_name, "renamed");
    assert!(
        got.data
            .tags
            .contains(&Tag::new("mlflow.runName", "renamed"))
    );
}

async fn create_run_returns_the_getrun_shape(backend: Backend) {
    let f = fixture(backend).await;
    let created = f
        .store
        .create_run(CreateRun {
            experiment_id: Some(f.experiment_id.clone()),
            run_name: Some("my-run".into()),
            user_id: Some("alice".into()),
            start_time: Some(1_600_000_000_000),
            tags: vec![Tag::new("team", "ml")],
            run_id: None,
        })
        .await
        .unwrap();
    let run = created.info.run_id.clone();
    assert_eq!(run.len(), 32, "run id {run}");
    assert!(
        run.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "run id {run} is not lowercase hex"
    );
    assert_eq!(created.info.run_name, "my-run");
    assert_eq!(created.info.experiment_id, f.experiment_id);
    assert_eq!(created.info.user_id, "alice");
    assert_eq!(created.info.status, RunStatus::Running);
    assert_eq!(created.info.lifecycle_stage, LifecycleStage::Active);
    assert_eq!(created.info.start_time, Some(1_600_000_000_000));
    assert_eq!(created.info.end_time, None);
    assert_eq!(created.info.deleted_time, None);
    assert!(created.info.artifact_uri.contains(&run));
    assert!(
        created
            .data
            .tags
            .contains(&Tag::new("mlflow.runName", "my-run"))
    );

    f.store
        .log_batch(
            &run,
            vec![
                Metric::new("loss", 0.9, 1_600_000_000_100, 0),
                Metric::new("loss", 0.5, 1_600_000_000_200, 1),
                Metric::new("loss", 0.7, 1_600_000_000_300, 0),
                Metric::new("acc", 0.8, 1_600_000_000_200, 3),
            ],
            vec![Tag::new("lr", "0.01")],
            vec![Tag::new("note", "x")],
        )
        .await
        .unwrap();
    let got = f.store.get_run(&run).await.unwrap();
    assert_eq!(got.info, created.info, "get_run info matches create_run");
    assert_eq!(
        got.data.metrics,
        vec![
            Metric::new("acc", 0.8, 1_600_000_000_200, 3),
            Metric::new("loss", 0.5, 1_600_000_000_200, 1),
        ]
    );
    assert_eq!(got.data.params, vec![Tag::new("lr", "0.01")]);
    let mut expected_tags = vec![
        Tag::new("mlflow.runName", "my-run"),
        Tag::new("note", "x"),
        Tag::new("team", "ml"),
    ];
    expected_tags.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(got.data.tags, expected_tags);
    assert!(got.inputs.is_empty());

    // A run created with nothing still has a generated name, shown as a tag.
    let bare = f.store.create_run(CreateRun::default()).await.unwrap();
    assert_eq!(bare.info.experiment_id, "0");
    assert!(!bare.info.run_name.is_empty());
    let got = f.store.get_run(&bare.info.run_id).await.unwrap();
    assert!(
        got.data
            .tags
            .contains(&Tag::new("mlflow.runName", bare.info.run_name.clone()))
    );
    assert_ne!(bare.info.run_id, run);

    // Unknown runs are RESOURCE_DOES_NOT_EXIST.
    expect_code(
        f.store.get_run("0123456789abcdef0123456789abcdef").await,
        ErrorCode::ResourceDoesNotExist,
        "get_run of an unknown run",
    );
}

async fn delete_and_restore_runs_by_time(backend: Backend) {
    let f = fixture(backend).await;
    let exp = &f.experiment_id;
    // The fixture's run started now; these five started long ago, in order.
    let mut old = Vec::new();
    for i in 1..=5i64 {
        let run = f
            .store
            .create_run(CreateRun {
                experiment_id: Some(exp.clone()),
                start_time: Some(i * 1_000),
                ..Default::default()
            })
            .await
            .unwrap();
        old.push(run.info.run_id);
    }
    let stage = |run: &str| {
        format!("SELECT lifecycle_stage, deleted_time IS NULL FROM runs WHERE run_id = '{run}'")
    };

    let before = state(&f.ctx).await;
    for bad in [0, 10_001, -1] {
        expect_code(
            f.store.delete_runs(exp, 3_000, Some(bad)).await,
            ErrorCode::InvalidParameterValue,
            &format!("delete_runs with max_runs {bad}"),
        );
        expect_code(
            f.store.restore_runs(exp, 0, Some(bad)).await,
            ErrorCode::InvalidParameterValue,
            &format!("restore_runs with max_runs {bad}"),
        );
    }
    assert_unchanged(&f.ctx, &before, "bad max_runs").await;

    // Oldest first, at most max_runs.
    assert_eq!(f.store.delete_runs(exp, 3_000, Some(2)).await.unwrap(), 2);
    for run in &old[..2] {
        assert_eq!(
            sql(&f.ctx, &stage(run)).await,
            vec![row(&["deleted", "false"])]
        );
    }
    for run in &old[2..] {
        assert_eq!(
            sql(&f.ctx, &stage(run)).await,
            vec![row(&["active", "true"])]
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second_delete = chrono_now();
    // The rest up to 3000: only the third.
    assert_eq!(f.store.delete_runs(exp, 3_000, None).await.unwrap(), 1);
    assert_eq!(
        sql(&f.ctx, &stage(&old[2])).await,
        vec![row(&["deleted", "false"])]
    );
    assert_eq!(
        sql(&f.ctx, &stage(&f.run_id)).await,
        vec![row(&["active", "true"])]
    );
    let info = f.store.get_run(&old[2]).await.unwrap().info;
    assert_eq!(info.lifecycle_stage, LifecycleStage::Deleted);
    let deleted_time = info.deleted_time.expect("deleted_time set");
    assert!(
        deleted_time >= second_delete,
        "{deleted_time} < {second_delete}"
    );
    assert_eq!(
        int(
            &f.ctx,
            &format!(
                "SELECT count(*) FROM runs WHERE experiment_id = '{exp}' AND lifecycle_stage = 'deleted'"
            )
        )
        .await,
        3
    );

    // Restore: most recently deleted first, at most max_runs.
    assert_eq!(f.store.restore_runs(exp, 0, Some(1)).await.unwrap(), 1);
    assert_eq!(
        sql(&f.ctx, &stage(&old[2])).await,
        vec![row(&["active", "true"])]
    );
    for run in &old[..2] {
        assert_eq!(
            sql(&f.ctx, &stage(run)).await,
            vec![row(&["deleted", "false"])]
        );
    }
    // Only runs deleted at or after the given time.
    assert_eq!(
        f.store
            .restore_runs(exp, second_delete + 60_000, None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(f.store.restore_runs(exp, 0, None).await.unwrap(), 2);
    for run in &old {
        assert_eq!(
            sql(&f.ctx, &stage(run)).await,
            vec![row(&["active", "true"])]
        );
        let info = f.store.get_run(run).await.unwrap().info;
        assert_eq!(info.lifecycle_stage, LifecycleStage::Active);
        assert_eq!(info.deleted_time, None);
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn deleting_an_experiment_deletes_its_runs_until_restored(backend: Backend) {
    let f = fixture(backend).await;
    let exp = &f.experiment_id;
    let second = new_run(&f.store, exp).await;
    let other_exp = f.store.create_experiment("other", None, &[]).await.unwrap();
    let bystander = new_run(&f.store, &other_exp).await;
    let stages = || {
        format!(
            "SELECT run_id, lifecycle_stage, deleted_time IS NULL FROM runs \
             WHERE experiment_id = '{exp}' ORDER BY run_id"
        )
    };
    let mut ids = [f.run_id.clone(), second.clone()];
    ids.sort();

    f.store.delete_experiment(exp).await.unwrap();
    assert_eq!(
        sql(&f.ctx, &stages()).await,
        ids.iter()
            .map(|id| row(&[id, "deleted", "false"]))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sql(
            &f.ctx,
            &format!("SELECT lifecycle_stage FROM experiments WHERE experiment_id = '{exp}'")
        )
        .await,
        vec![row(&["deleted"])]
    );
    let info = f.store.get_run(&second).await.unwrap().info;
    assert_eq!(info.lifecycle_stage, LifecycleStage::Deleted);
    assert!(info.deleted_time.is_some());
    assert_eq!(
        f.store
            .get_run(&bystander)
            .await
            .unwrap()
            .info
            .lifecycle_stage,
        LifecycleStage::Active
    );
    // Its runs refuse writes, and new runs cannot be created in it.
    let before = state(&f.ctx).await;
    expect_code(
        f.store.set_tag(&second, "t", "v").await,
        ErrorCode::InvalidParameterValue,
        "set_tag on a run of a deleted experiment",
    );
    expect_code(
        f.store
            .create_run(CreateRun {
                experiment_id: Some(exp.clone()),
                ..Default::default()
            })
            .await,
        ErrorCode::InvalidParameterValue,
        "create_run in a deleted experiment",
    );
    assert_unchanged(&f.ctx, &before, "writes into a deleted experiment").await;

    f.store.restore_experiment(exp).await.unwrap();
    assert_eq!(
        sql(&f.ctx, &stages()).await,
        ids.iter()
            .map(|id| row(&[id, "active", "true"]))
            .collect::<Vec<_>>()
    );
    let info = f.store.get_run(&second).await.unwrap().info;
    assert_eq!(info.lifecycle_stage, LifecycleStage::Active);
    assert_eq!(info.deleted_time, None);
    f.store.set_tag(&second, "t", "v").await.unwrap();
}

async fn parent_run_id_comes_from_the_parent_tag(backend: Backend) {
    let f = fixture(backend).await;
    let parent = &f.run_id;
    let child = f
        .store
        .create_run(CreateRun {
            experiment_id: Some(f.experiment_id.clone()),
            tags: vec![Tag::new("mlflow.parentRunId", parent.clone())],
            ..Default::default()
        })
        .await
        .unwrap()
        .info
        .run_id;
    let late_child = new_run(&f.store, &f.experiment_id).await;
    let q = |run: &str| format!("SELECT parent_run_id FROM runs WHERE run_id = '{run}'");

    assert_eq!(sql(&f.ctx, &q(&child)).await, vec![row(&[parent])]);
    assert_eq!(sql(&f.ctx, &q(parent)).await, vec![row(&["NULL"])]);
    assert_eq!(sql(&f.ctx, &q(&late_child)).await, vec![row(&["NULL"])]);

    f.store
        .set_tag(&late_child, "mlflow.parentRunId", parent)
        .await
        .unwrap();
    assert_eq!(sql(&f.ctx, &q(&late_child)).await, vec![row(&[parent])]);
    assert_eq!(
        int(
            &f.ctx,
            &format!("SELECT count(*) FROM runs WHERE parent_run_id = '{parent}'")
        )
        .await,
        2
    );
    // One row per run, whatever the tag history.
    assert_eq!(count(&f.ctx, "runs").await, 3);

    f.store
        .delete_tag(&late_child, "mlflow.parentRunId")
        .await
        .unwrap();
    assert_eq!(sql(&f.ctx, &q(&late_child)).await, vec![row(&["NULL"])]);
    assert_eq!(count(&f.ctx, "runs").await, 3);
}

// ---------------------------------------------------------------------------
// Experiments
// ---------------------------------------------------------------------------

async fn only_one_active_experiment_holds_a_name(backend: Backend) {
    let place = Place::new(backend).await;
    let store = place.open().await;
    let ctx = context(&store).await;
    let first = store.create_experiment("shared", None, &[]).await.unwrap();

    let before = state(&ctx).await;
    expect_code(
        store.create_experiment("shared", None, &[]).await,
        ErrorCode::ResourceAlreadyExists,
        "creating a name twice",
    );
    assert_unchanged(&ctx, &before, "creating a name twice").await;
    assert_eq!(count(&ctx, "experiments WHERE name = 'shared'").await, 1);

    let other = store.create_experiment("other", None, &[]).await.unwrap();
    let before = state(&ctx).await;
    expect_code(
        store.rename_experiment(&other, "shared").await,
        ErrorCode::ResourceAlreadyExists,
        "renaming onto a held name",
    );
    assert_unchanged(&ctx, &before, "renaming onto a held name").await;

    store.delete_experiment(&first).await.unwrap();
    let second = store.create_experiment("shared", None, &[]).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        store
            .get_experiment_by_name("shared")
            .await
            .unwrap()
            .experiment_id,
        second,
        "the active holder is found by name"
    );

    let before = state(&ctx).await;
    expect_code(
        store.restore_experiment(&first).await,
        ErrorCode::ResourceAlreadyExists,
        "restoring onto a held name",
    );
    assert_unchanged(&ctx, &before, "restoring onto a held name").await;
    assert_eq!(
        store.get_experiment(&first).await.unwrap().lifecycle_stage,
        LifecycleStage::Deleted
    );
    assert_eq!(
        sorted(
            &ctx,
            "SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = 'shared'"
        )
        .await,
        {
            let mut rows = vec![row(&[&first, "deleted"]), row(&[&second, "active"])];
            rows.sort();
            rows
        }
    );
}

async fn default_experiment_exists_and_cannot_be_deleted(backend: Backend) {
    let place = Place::new(backend).await;
    let store = place.open().await;
    let ctx = context(&store).await;
    let default = store.get_experiment("0").await.unwrap();
    assert_eq!(default.name, "Default");
    assert_eq!(default.lifecycle_stage, LifecycleStage::Active);
    assert_eq!(
        store
            .get_experiment_by_name("Default")
            .await
            .unwrap()
            .experiment_id,
        "0"
    );
    assert_eq!(
        sql(
            &ctx,
            "SELECT experiment_id, name, lifecycle_stage FROM experiments"
        )
        .await,
        vec![row(&["0", "Default", "active"])]
    );

    let before = state(&ctx).await;
    expect_code(
        store.delete_experiment("0").await,
        ErrorCode::InvalidParameterValue,
        "deleting the Default experiment",
    );
    assert_unchanged(&ctx, &before, "deleting the Default experiment").await;
    assert_eq!(
        store.get_experiment("0").await.unwrap().lifecycle_stage,
        LifecycleStage::Active
    );

    // Reopening does not create it again.
    let reopened = place.open().await;
    let ctx2 = context(&reopened).await;
    assert_eq!(count(&ctx2, "experiments").await, 1);
    assert_eq!(count(&ctx2, "raw.experiments").await, 1);
}

async fn experiment_ids_from_two_handles_do_not_collide(backend: Backend) {
    let place = Place::for_races(backend).await;
    let a = place.open().await;
    let b = place.open().await;
    let (ids_a, ids_b) = tokio::join!(
        async {
            let mut ids = Vec::new();
            for i in 0..20 {
                ids.push(
                    a.create_experiment(&format!("a{i}"), None, &[])
                        .await
                        .unwrap(),
                );
            }
            ids
        },
        async {
            let mut ids = Vec::new();
            for i in 0..20 {
                ids.push(
                    b.create_experiment(&format!("b{i}"), None, &[])
                        .await
                        .unwrap(),
                );
            }
            ids
        }
    );
    let mut all: Vec<String> = ids_a.iter().chain(&ids_b).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 40, "experiment ids collided");
    assert!(!all.contains(&"0".to_string()));

    // Both handles (and a fresh one) see all 41 experiments, each under its own name.
    for store in [&a, &b, &place.open().await] {
        let ctx = context(store).await;
        assert_eq!(count(&ctx, "experiments").await, 41);
        assert_eq!(
            int(
                &ctx,
                "SELECT count(DISTINCT experiment_id) FROM experiments"
            )
            .await,
            41
        );
        for (i, id) in ids_a.iter().enumerate() {
            assert_eq!(
                store.get_experiment(id).await.unwrap().name,
                format!("a{i}")
            );
        }
        for (i, id) in ids_b.iter().enumerate() {
            assert_eq!(
                store.get_experiment(id).await.unwrap().name,
                format!("b{i}")
            );
        }
    }
}

// ---------------------------------------------------------------------------
// gc, values, times, persistence
// ---------------------------------------------------------------------------

async fn gc_removes_deleted_runs_for_good(backend: Backend) {
    let f = fixture(backend).await;
    let keep = &f.run_id;
    let gone = new_run(&f.store, &f.experiment_id).await;
    for run in [keep, &gone] {
        f.store
            .log_batch(
                run,
                vec![
                    Metric::new("loss", 1.0, 1, 0),
                    Metric::new("loss", 0.5, 2, 1),
                ],
                vec![Tag::new("lr", "0.1")],
                vec![Tag::new("t", "v")],
            )
            .await
            .unwrap();
    }
    let kept_state = |ctx: &SessionContext| {
        let ctx = ctx.clone();
        let keep = keep.clone();
        async move {
            let mut rows = BTreeMap::new();
            for view in ["runs", "params", "tags", "metrics", "latest_metrics"] {
                rows.insert(
                    view,
                    sorted(
                        &ctx,
                        &format!("SELECT * FROM {view} WHERE run_id = '{keep}'"),
                    )
                    .await,
                );
            }
            rows
        }
    };
    let kept_before = kept_state(&f.ctx).await;
    let kept_run = f.store.get_run(keep).await.unwrap();

    // gc of an active run is refused and removes nothing.
    let before = state(&f.ctx).await;
    expect_code(
        f.store
            .gc(GcOptions {
                run_ids: vec![keep.clone()],
                ..Default::default()
            })
            .await,
        ErrorCode::InvalidParameterValue,
        "gc of an active run",
    );
    assert_unchanged(&f.ctx, &before, "gc of an active run").await;

    f.store.delete_run(&gone).await.unwrap();
    let report = f.store.gc(GcOptions::default()).await.unwrap();
    assert_eq!(report.runs, 1, "{report:?}");
    assert_eq!(report.experiments, 0, "{report:?}");

    for view in ["runs", "params", "tags", "metrics", "latest_metrics"] {
        assert_eq!(
            count(&f.ctx, &format!("{view} WHERE run_id = '{gone}'")).await,
            0,
            "{view} still holds rows of the collected run"
        );
    }
    let run_tables = runql::store::schema::RawTable::ALL
        .into_iter()
        .filter(|t| t.owner_column() == "run_id")
        .map(|t| t.name());
    for table in run_tables {
        assert_eq!(
            count(&f.ctx, &format!("raw.{table} WHERE run_id = '{gone}'")).await,
            0,
            "raw.{table} still holds rows of the collected run"
        );
    }
    expect_code(
        f.store.get_run(&gone).await,
        ErrorCode::ResourceDoesNotExist,
        "get_run of a collected run",
    );
    expect_code(
        f.store.restore_run(&gone).await,
        ErrorCode::ResourceDoesNotExist,
        "restore_run of a collected run",
    );

    assert_eq!(
        kept_state(&f.ctx).await,
        kept_before,
        "the active run changed"
    );
    assert_eq!(f.store.get_run(keep).await.unwrap(), kept_run);

    // A fresh handle agrees: nothing comes back.
    let reopened = f.place.open().await;
    let ctx2 = context(&reopened).await;
    assert_eq!(
        count(&ctx2, &format!("metrics WHERE run_id = '{gone}'")).await,
        0
    );
    assert_eq!(
        count(&ctx2, &format!("runs WHERE run_id = '{gone}'")).await,
        0
    );
    assert_eq!(kept_state(&ctx2).await, kept_before);
}

async fn non_finite_metric_values_round_trip(backend: Backend) {
    let f = fixture(backend).await;
    let run = &f.run_id;
    let values = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for (step, value) in values.iter().enumerate() {
        f.store
            .log_metric(run, Metric::new("x", *value, 10, step as i64))
            .await
            .unwrap();
    }
    let history = f.store.get_metric_history(run, "x").await.unwrap();
    assert_eq!(history.len(), 3);
    for (metric, value) in history.iter().zip(values) {
        assert_eq!(
            metric.value.to_bits(),
            value.to_bits(),
            "step {} came back as {}",
            metric.step,
            metric.value
        );
    }
    let from_sql = floats(
        &f.ctx,
        &format!("SELECT value FROM metrics WHERE run_id = '{run}' AND key = 'x' ORDER BY step"),
    )
    .await;
    assert_eq!(from_sql.len(), 3);
    for (got, want) in from_sql.iter().zip(values) {
        assert_eq!(got.to_bits(), want.to_bits(), "SQL gave {got}, want {want}");
    }
    assert_eq!(
        int(
            &f.ctx,
            &format!("SELECT count(*) FROM metrics WHERE run_id = '{run}' AND isnan(value)")
        )
        .await,
        1
    );

    // An exact repeat of a NaN value is a duplicate like any other.
    f.store
        .log_metric(run, Metric::new("x", f64::NAN, 10, 0))
        .await
        .unwrap();
    assert_eq!(
        count(
            &f.ctx,
            &format!("metrics WHERE run_id = '{run}' AND key = 'x'")
        )
        .await,
        3,
        "a repeated NaN value was kept twice"
    );
}

async fn times_are_sql_timestamps(backend: Backend) {
    let f = fixture(backend).await;
    // 2021-06-15T12:00:00Z
    let start = 1_623_758_400_000i64;
    let run = f
        .store
        .create_run(CreateRun {
            experiment_id: Some(f.experiment_id.clone()),
            start_time: Some(start),
            ..Default::default()
        })
        .await
        .unwrap()
        .info
        .run_id;
    // 2019-03-01T00:00:00Z
    f.store
        .log_metric(&run, Metric::new("m", 1.0, 1_551_398_400_000, 0))
        .await
        .unwrap();
    // 2022-01-01T00:00:00Z
    f.store
        .update_run(
            &run,
            Some(RunStatus::Finished),
            Some(1_640_995_200_000),
            None,
        )
        .await
        .unwrap();

    assert_eq!(
        sql(
            &f.ctx,
            &format!(
                "SELECT date_part('year', start_time), date_part('month', start_time), \
                 date_part('day', start_time), date_part('year', end_time) \
                 FROM runs WHERE run_id = '{run}'"
            )
        )
        .await,
        vec![row(&["2021", "6", "15", "2022"])]
    );
    assert_eq!(
        sql(
            &f.ctx,
            &format!("SELECT date_part('year', timestamp) FROM metrics WHERE run_id = '{run}'")
        )
        .await,
        vec![row(&["2019"])]
    );
    assert_eq!(
        int(
            &f.ctx,
            &format!(
                "SELECT count(*) FROM runs WHERE run_id = '{run}' \
                 AND start_time = TIMESTAMP '2021-06-15T12:00:00Z' \
                 AND end_time > start_time"
            )
        )
        .await,
        1
    );
    let this_year = chrono_year();
    assert_eq!(
        int(
            &f.ctx,
            "SELECT CAST(date_part('year', creation_time) AS BIGINT) FROM experiments \
             WHERE experiment_id = '0'"
        )
        .await,
        this_year
    );
    for (view, column) in [
        ("runs", "start_time"),
        ("runs", "end_time"),
        ("runs", "deleted_time"),
        ("metrics", "timestamp"),
        ("latest_metrics", "timestamp"),
        ("experiments", "creation_time"),
        ("experiments", "last_update_time"),
    ] {
        let ty = sql(
            &f.ctx,
            &format!("SELECT arrow_typeof({column}) FROM {view} LIMIT 1"),
        )
        .await;
        assert!(
            ty[0][0].starts_with("Timestamp"),
            "{view}.{column} has type {}",
            ty[0][0]
        );
    }
}

fn chrono_year() -> i64 {
    // Days since the epoch to a civil year (Howard Hinnant's algorithm).
    let days = chrono_now().div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + if month <= 2 { 1 } else { 0 }
}

async fn reopening_and_compaction_change_no_query_result(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let exp = &f.experiment_id;
    let a = &f.run_id;
    let b = new_run(store, exp).await;
    let c = new_run(store, exp).await;
    let other = store
        .create_experiment("doomed", None, &[Tag::new("k", "v")])
        .await
        .unwrap();
    let d = new_run(store, &other).await;

    store
        .set_experiment_tag(exp, "owner", "alice")
        .await
        .unwrap();
    store.set_experiment_tag(exp, "owner", "bob").await.unwrap();
    store.set_experiment_tag(exp, "gone", "x").await.unwrap();
    store.delete_experiment_tag(exp, "gone").await.unwrap();
    for i in 0..5 {
        store
            .log_batch(
                a,
                vec![
                    Metric::new("loss", 1.0 / (i + 1) as f64, 100 * i, i),
                    Metric::new("loss", 1.0 / (i + 1) as f64, 100 * i, i),
                ],
                vec![Tag::new(format!("p{i}"), i.to_string())],
                vec![Tag::new("stage", format!("s{i}"))],
            )
            .await
            .unwrap();
        // A retried batch: exact duplicate metric values in a separate commit.
        store
            .log_metric(a, Metric::new("loss", 1.0 / (i + 1) as f64, 100 * i, i))
            .await
            .unwrap();
    }
    store
        .log_metric(a, Metric::new("weird", f64::NAN, 5, 0))
        .await
        .unwrap();
    store.log_param(a, "p0", "0").await.unwrap();
    store.set_tag(&b, "doomed", "1").await.unwrap();
    store.delete_tag(&b, "doomed").await.unwrap();
    store.set_tag(&b, "mlflow.parentRunId", a).await.unwrap();
    store
        .update_run(&b, Some(RunStatus::Finished), Some(9_999), Some("bee"))
        .await
        .unwrap();
    store.set_tag(&b, "mlflow.runName", "bee2").await.unwrap();
    store.delete_run(&c).await.unwrap();
    let e = new_run(store, exp).await;
    store.delete_run(&e).await.unwrap();
    store.restore_run(&e).await.unwrap();
    store.delete_experiment(&other).await.unwrap();
    store
        .log_inputs(
            a,
            vec![runql::model::DatasetInput {
                dataset: runql::model::Dataset {
                    name: "train".into(),
                    digest: "abc123".into(),
                    source_type: "local".into(),
                    source: "/data/train.csv".into(),
                    schema: None,
                    profile: None,
                },
                tags: vec![Tag::new("mlflow.data.context", "training")],
            }],
            vec![runql::model::ModelLink {
                model_id: "m-1".into(),
                step: Some(3),
            }],
        )
        .await
        .unwrap();
    store
        .log_outputs(
            a,
            vec![runql::model::ModelLink {
                model_id: "m-2".into(),
                step: None,
            }],
        )
        .await
        .unwrap();

    let before = views(&f.ctx).await;
    // Sanity: the mix shows what it should, so the comparison below means something.
    assert_eq!(before["metrics"].len(), 6, "{:?}", before["metrics"]);
    assert_eq!(
        sql(
            &f.ctx,
            &format!("SELECT value FROM tags WHERE run_id = '{a}' AND key = 'stage'")
        )
        .await,
        vec![row(&["s4"])]
    );
    assert_eq!(
        sql(
            &f.ctx,
            &format!("SELECT run_name, parent_run_id FROM runs WHERE run_id = '{b}'")
        )
        .await,
        vec![row(&["bee2", a])]
    );
    assert_eq!(
        sql(
            &f.ctx,
            &format!("SELECT lifecycle_stage FROM runs WHERE run_id = '{d}'")
        )
        .await,
        vec![row(&["deleted"])]
    );
    let runs_before: Vec<_> = {
        let mut ids = vec![a.clone(), b.clone(), c.clone(), d.clone(), e.clone()];
        ids.sort();
        let mut runs = Vec::new();
        for id in ids {
            runs.push(store.get_run(&id).await.unwrap());
        }
        runs
    };

    // A new handle on the same directory sees everything.
    let reopened = f.place.open().await;
    let ctx2 = context(&reopened).await;
    assert_eq!(views(&ctx2).await, before, "reopening changed a view");

    let report = store.compact().await.unwrap();
    assert!(!report.tables.is_empty());
    assert_eq!(views(&f.ctx).await, before, "compaction changed a view");
    assert_eq!(
        views(&ctx2).await,
        before,
        "compaction changed a view seen from another handle"
    );
    let third = f.place.open().await;
    let ctx3 = context(&third).await;
    assert_eq!(
        views(&ctx3).await,
        before,
        "compaction changed a view after reopening"
    );
    for run in &runs_before {
        assert_eq!(&third.get_run(&run.info.run_id).await.unwrap(), run);
    }
    // Duplicate metric values are folded away in the raw table too, and the
    // latest copies (one per write) down to one per key.
    assert_eq!(
        count(
            &ctx3,
            &format!("raw.metrics WHERE run_id = '{a}' AND NOT latest_copy")
        )
        .await,
        6
    );
    assert_eq!(
        count(
            &ctx3,
            &format!("raw.metrics WHERE run_id = '{a}' AND latest_copy")
        )
        .await,
        2
    );

    // The rules still hold on compacted tables.
    expect_code(
        third.log_param(a, "p0", "changed").await,
        ErrorCode::InvalidParameterValue,
        "param overwrite after compaction",
    );
    third.set_tag(a, "stage", "s5").await.unwrap();
    assert_eq!(
        sql(
            &ctx3,
            &format!("SELECT value FROM tags WHERE run_id = '{a}' AND key = 'stage'")
        )
        .await,
        vec![row(&["s5"])]
    );
    third.set_tag(&b, "doomed", "again").await.unwrap();
    assert_eq!(
        sql(
            &ctx3,
            &format!("SELECT value FROM tags WHERE run_id = '{b}' AND key = 'doomed'")
        )
        .await,
        vec![row(&["again"])]
    );
}

/// Files no table version references (a crashed writer's) are never read;
/// gc leaves young ones alone, since a running writer's files look the same
/// until its commit lands, and deletes them once old enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_deletes_orphan_files_only_once_old_enough() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
    let run = new_run(&store, "0").await;
    store
        .log_metric(&run, Metric::new("loss", 0.5, 1_700_000_000_000, 1))
        .await
        .unwrap();
    // Folded from the journal, so the value is in a data file.
    store.flush().await.unwrap();
    let metrics_dir = dir.path().join("metrics");
    let live = std::fs::read_dir(&metrics_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("a metrics data file");
    // A copy of live rows under a name no commit mentions: a crashed writer's file.
    let orphan =
        metrics_dir.join("part-00000-00000000-0000-4000-8000-00000000beef-c000.snappy.parquet");
    std::fs::copy(&live, &orphan).unwrap();
    let ctx = context(&store).await;
    assert_eq!(count(&ctx, "metrics").await, 1, "an orphan was read");

    store.gc(GcOptions::default()).await.unwrap();
    assert!(orphan.exists(), "gc deleted a file younger than an hour");
    store
        .gc(GcOptions {
            orphans_older_than_millis: Some(0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!orphan.exists(), "gc kept an orphan older than the limit");
    assert!(live.exists(), "gc deleted a live file");
    assert_eq!(count(&ctx, "metrics").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_store_format_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        store.create_experiment("e", None, &[]).await.unwrap();
    }
    let format = dir.path().join("_runql").join("format.json");
    assert!(format.exists(), "a new store writes {}", format.display());
    let body = br#"{"format_version": 999}"#;
    std::fs::write(&format, body).unwrap();
    let listing_before = listing(dir.path());

    match Store::open(dir.path().to_str().unwrap()).await {
        Ok(_) => panic!("a store of format 999 opened"),
        Err(RunqlError::FormatTooNew {
            found, supported, ..
        }) => {
            assert_eq!(found, 999);
            assert!(supported < 999);
        }
        Err(other) => panic!("expected FormatTooNew, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&format).unwrap(),
        body,
        "format.json was rewritten"
    );
    assert_eq!(
        listing(dir.path()),
        listing_before,
        "opening wrote to the store"
    );
}

/// Copies a directory tree (the format-1 fixture into a scratch directory).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `tests/fixtures/format1-store` was written by runql's format 1 (before
/// metrics carried latest copies). Opening it upgrades it in place: every
/// answer stays the same, later writes count, and opening again adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_1_store_is_upgraded_with_its_answers_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format1-store");
    copy_tree(&fixture, dir.path());
    let location = dir.path().to_str().unwrap();
    let latest = "SELECT run_id, key, CAST(value AS VARCHAR), step, CAST(timestamp AS BIGINT) FROM latest_metrics";
    let expected_latest = vec![
        row(&["a1", "acc", "inf", "0", "1000000"]),
        row(&["a1", "loss", "0.2", "2", "500000"]),
        row(&["b2", "loss", "NaN", "0", "1000000"]),
    ];
    for _ in 0..2 {
        let store = Store::open(location).await.unwrap();
        let ctx = context(&store).await;
        assert_eq!(sorted(&ctx, latest).await, expected_latest);
        assert_eq!(count(&ctx, "metrics").await, 7);
        assert_eq!(count(&ctx, "raw.metrics WHERE latest_copy").await, 3);
    }
    let format = std::fs::read_to_string(dir.path().join("_runql/format.json")).unwrap();
    assert!(
        format.contains(&format!("\"format_version\": {}", runql::FORMAT_VERSION)),
        "{format}"
    );

    let store = Store::open(location).await.unwrap();
    store
        .log_metric("a1", Metric::new("loss", 0.1, 100, 3))
        .await
        .unwrap();
    let ctx = context(&store).await;
    assert_eq!(
        sorted(
            &ctx,
            &format!("{latest} WHERE run_id = 'a1' AND key = 'loss'")
        )
        .await,
        vec![row(&["a1", "loss", "0.1", "3", "100000"])]
    );
    assert_eq!(count(&ctx, "metrics").await, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_supports_the_basic_flow() {
    let store = match Store::open("memory://").await {
        Ok(store) => store,
        Err(e) => panic!("opening memory://: {e}"),
    };
    let ctx = context(&store).await;
    assert_eq!(
        sql(&ctx, "SELECT experiment_id, name FROM experiments").await,
        vec![row(&["0", "Default"])]
    );
    let exp = store.create_experiment("mem", None, &[]).await.unwrap();
    let run = new_run(&store, &exp).await;
    store
        .log_batch(
            &run,
            vec![
                Metric::new("loss", 0.25, 1, 0),
                Metric::new("loss", 0.125, 2, 1),
            ],
            vec![Tag::new("lr", "0.1")],
            vec![Tag::new("t", "v")],
        )
        .await
        .unwrap();
    expect_code(
        store.log_param(&run, "lr", "0.2").await,
        ErrorCode::InvalidParameterValue,
        "param overwrite in memory",
    );
    let got = store.get_run(&run).await.unwrap();
    assert_eq!(got.data.metrics, vec![Metric::new("loss", 0.125, 2, 1)]);
    assert_eq!(got.data.params, vec![Tag::new("lr", "0.1")]);
    assert!(got.data.tags.contains(&Tag::new("t", "v")));
    assert_eq!(
        sorted(
            &ctx,
            &format!("SELECT key, value, step FROM metrics WHERE run_id = '{run}'")
        )
        .await,
        vec![row(&["loss", "0.125", "1"]), row(&["loss", "0.25", "0"])]
    );
    assert_eq!(
        sql(
            &ctx,
            &format!("SELECT experiment_id FROM runs WHERE run_id = '{run}'")
        )
        .await,
        vec![row(&[&exp])]
    );
    store.compact().await.unwrap();
    assert_eq!(store.get_run(&run).await.unwrap(), got);

    // Two memory stores are separate.
    let other = match Store::open("memory://").await {
        Ok(store) => store,
        Err(e) => panic!("opening a second memory://: {e}"),
    };
    expect_code(
        other.get_run(&run).await,
        ErrorCode::ResourceDoesNotExist,
        "a run from another memory store",
    );
}

// ---------------------------------------------------------------------------
// Every rule on every backend
// ---------------------------------------------------------------------------

/// One test per rule and backend: `local::params_are_write_once`,
/// `memory::…`, `s3::…` (moto on loopback, shared by the binary's S3 tests).
macro_rules! on_every_backend {
    ($($rule:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $rule() {
                super::$rule(super::Backend::Local).await
            })*
        }
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $rule() {
                super::$rule(super::Backend::Memory).await
            })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $rule() {
                super::$rule(super::Backend::S3).await
            })*
        }
    };
}

on_every_backend!(
    params_are_write_once,
    tags_overwrite_and_delete,
    metrics_append_and_exact_duplicates_collapse,
    latest_metric_is_max_by_step_timestamp_value,
    deleted_runs_refuse_writes_until_restored,
    batches_over_the_limits_are_refused_whole,
    batches_at_the_limits_are_accepted,
    key_and_value_lengths_are_limited,
    keys_must_be_safe_paths,
    one_bad_entry_fails_the_whole_batch,
    conflicting_param_values_in_one_batch_are_refused,
    run_statuses_are_mlflows,
    create_run_returns_the_getrun_shape,
    delete_and_restore_runs_by_time,
    deleting_an_experiment_deletes_its_runs_until_restored,
    parent_run_id_comes_from_the_parent_tag,
    only_one_active_experiment_holds_a_name,
    default_experiment_exists_and_cannot_be_deleted,
    experiment_ids_from_two_handles_do_not_collide,
    gc_removes_deleted_runs_for_good,
    non_finite_metric_values_round_trip,
    times_are_sql_timestamps,
    reopening_and_compaction_change_no_query_result,
);
