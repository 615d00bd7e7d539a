//! Run and experiment search, through SQL only, against the contract of
//! issue 5: `EXEC runs.search` filters (every entity, alias, comparator,
//! quoting form and the three-valued NULL logic), `order_by`, run view types
//! and experiment restrictions, malformed filters and arguments with their
//! messages, the `search_runs` table function, `EXEC experiments.search`, and
//! keyset paging while a second store handle writes between pages.
//!
//! Every test builds the same hand-made store (see [`RUNS`]); every expected
//! result below was worked out by hand from that data and the contract, never
//! by running the implementation.

mod common;

use common::{cell, column, millis, ok, pretty};

use std::collections::HashMap;
use std::time::Duration;

use runql::sql::{Output, Session};
use runql::{ErrorCode, RunqlError, Store};
use serde_json::{Value, json};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2026-01-01T12:00:00Z. Runs start at noon on distinct January days, so
/// ISO date filters sit half a day away from every start time.
const JAN_1_NOON: i64 = 1_767_268_800_000;

/// Noon UTC on the given day of January 2026 (day 0 and below reach back into December).
fn day(n: i64) -> i64 {
    JAN_1_NOON + (n - 1) * DAY
}

/// Experiments besides Default ("0"): short name, name, tags. E3 is deleted
/// once the runs exist; it holds none, so run searches never see the deletion.
type ExperimentSpec = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const EXPERIMENTS: &[ExperimentSpec] = &[
    (
        "E1",
        "vision-sweep",
        &[("team", "cv"), ("priority", "high")],
    ),
    ("E2", "nlp_baseline", &[("team", "nlp")]),
    ("E3", "Scratch", &[]),
    ("E4", "vision-eval", &[("team", "cv")]),
];

/// One hand-made run. Metric points are (key, value, step, milliseconds after start).
struct RunSpec {
    id: &'static str,
    experiment: &'static str,
    name: &'static str,
    user: &'static str,
    /// Start day in January 2026; the run ends an hour later if `ended`.
    day: i64,
    status: &'static str,
    ended: bool,
    deleted: bool,
    params: &'static [(&'static str, &'static str)],
    tags: &'static [(&'static str, &'static str)],
    metrics: &'static [(&'static str, f64, i64, i64)],
    /// (name, digest, mlflow.data.context)
    inputs: &'static [(&'static str, &'static str, &'static str)],
}

/// Latest metric values, by which the expectations below are reasoned
/// (max by step, then timestamp, then value; `-` = no such metric):
///
/// ```text
///       loss   acc     val_loss  grad_norm  f1-score   lr       optimizer  stage
/// r01   0.25   0.75    0.5       -          -          0.01     adam       prod
/// r02   0.375  0.875   0.625     -          -          0.001    sgd        dev
/// r03   3.0    -       1.5       -          -          1e-3     adam       prod
/// r04   0.75   0.5     -         -          -          0.1      adamw      staging
/// r05   0.5    -       -         NaN        -          0.01     sgd        dev
/// r06   0.625  -       -         inf        0.5        auto     Adam       Prod
/// r07   0.375  0.9375  0.4375    -inf       0.875      2e-5     adamw      prod
/// r08   0.25   -       0.3125    -          -          0.00002  adamw      dev
/// r09   0.75   0.8125  -         -          -          0.005    lion       prod
/// r10   -      -       -         -          -          -        -          -
/// r11   1.25   -       -         -          -          0.0001   adafactor  dev
/// r12   0.25   (deleted run)                           0.01     -          prod
/// r13   0.5    -       -         -          -          0.01     adam       prod
/// r14   0.5    -       -         -          -          0.01     -          -
/// ```
///
/// Besides: r01 logs eval/acc 0.5, r05 has the tag run:kind = sweep.
const RUNS: &[RunSpec] = &[
    RunSpec {
        id: "r01",
        experiment: "E1",
        name: "baseline",
        user: "alice",
        day: 1,
        status: "FINISHED",
        ended: true,
        deleted: false,
        params: &[
            ("lr", "0.01"),
            ("optimizer", "adam"),
            ("batch-size", "32"),
            ("layers", "4"),
        ],
        tags: &[
            ("stage", "prod"),
            ("user-name", "alice"),
            ("mlflow.note.content", "Best run so far"),
            ("pct", "100%"),
        ],
        // Loss falls steadily: latest = min = last logged.
        metrics: &[
            ("loss", 1.0, 0, 0),
            ("loss", 0.5, 1, 10),
            ("loss", 0.25, 2, 20),
            ("acc", 0.5, 0, 0),
            ("acc", 0.75, 1, 10),
            ("val_loss", 0.5, 0, 0),
            ("eval/acc", 0.5, 0, 0),
        ],
        inputs: &[("mnist", "d1", "training"), ("mnist-test", "d2", "eval")],
    },
    RunSpec {
        id: "r02",
        experiment: "E1",
        name: "baseline v2",
        user: "bob",
        day: 2,
        status: "FINISHED",
        ended: true,
        deleted: false,
        params: &[
            ("lr", "0.001"),
            ("optimizer", "sgd"),
            ("batch-size", "64"),
            ("layers", "8"),
        ],
        tags: &[("stage", "dev"), ("user-name", "bob"), ("pct", "50_50")],
        // The highest step wins although a lower step was logged last with the
        // smallest value: latest 0.375, min and last logged 0.125.
        metrics: &[
            ("loss", 0.9, 0, 0),
            ("loss", 0.375, 5, 10),
            ("loss", 0.125, 3, 20),
            ("acc", 0.875, 0, 0),
            ("val_loss", 0.75, 0, 0),
            ("val_loss", 0.625, 1, 10),
        ],
        inputs: &[("mnist", "d1", "training")],
    },
    RunSpec {
        id: "r03",
        experiment: "E1",
        name: "O'Brien's run",
        user: "carol",
        day: 3,
        status: "FAILED",
        ended: true,
        deleted: false,
        params: &[("lr", "1e-3"), ("optimizer", "adam"), ("batch-size", "32")],
        tags: &[
            ("stage", "prod"),
            ("user-name", "carol"),
            ("mlflow.note.content", "diverged"),
        ],
        // Same step: the later timestamp wins (3.0), not the larger value (4.0).
        metrics: &[
            ("loss", 4.0, 1, 100),
            ("loss", 3.0, 1, 200),
            ("val_loss", 1.5, 0, 0),
        ],
        inputs: &[],
    },
    RunSpec {
        id: "r04",
        experiment: "E1",
        name: "Ünïcödé run ☃",
        user: "alice",
        day: 4,
        status: "KILLED",
        ended: false,
        deleted: false,
        params: &[("lr", "0.1"), ("optimizer", "adamw"), ("batch-size", "128")],
        tags: &[
            ("stage", "staging"),
            ("user-name", "alice"),
            ("pct", "5%_off"),
        ],
        // Same step and timestamp: the larger value wins (0.75).
        metrics: &[
            ("loss", 0.5, 0, 0),
            ("loss", 0.75, 0, 0),
            ("acc", 0.5, 0, 0),
        ],
        inputs: &[("cifar10", "c1", "training"), ("mnist", "d9", "eval")],
    },
    RunSpec {
        id: "r05",
        experiment: "E1",
        name: "sweep-lr-1",
        user: "dave",
        day: 5,
        status: "RUNNING",
        ended: false,
        deleted: false,
        params: &[("lr", "0.01"), ("optimizer", "sgd")],
        tags: &[
            ("stage", "dev"),
            ("owner name", "Dave D"),
            ("run:kind", "sweep"),
        ],
        metrics: &[
            ("loss", 0.5, 0, 0),
            ("grad_norm", 1.0, 0, 0),
            ("grad_norm", f64::NAN, 1, 10),
        ],
        inputs: &[],
    },
    RunSpec {
        id: "r06",
        experiment: "E1",
        name: "sweep-lr-2",
        user: "dave",
        day: 6,
        status: "RUNNING",
        ended: false,
        deleted: false,
        params: &[("lr", "auto"), ("optimizer", "Adam")],
        tags: &[("stage", "Prod")],
        // A NaN that is not the latest value must not leak into comparisons.
        metrics: &[
            ("loss", f64::NAN, 0, 0),
            ("loss", 0.625, 1, 10),
            ("grad_norm", f64::INFINITY, 0, 0),
            ("f1-score", 0.5, 0, 0),
        ],
        inputs: &[],
    },
    RunSpec {
        id: "r07",
        experiment: "E2",
        name: "bert-base",
        user: "erin",
        day: 7,
        status: "FINISHED",
        ended: true,
        deleted: false,
        params: &[
            ("lr", "2e-5"),
            ("optimizer", "adamw"),
            ("model.type", "bert"),
        ],
        tags: &[("stage", "prod"), ("user-name", "erin")],
        metrics: &[
            ("loss", 0.375, 0, 0),
            ("acc", 0.9375, 0, 0),
            ("val_loss", 0.4375, 0, 0),
            ("grad_norm", f64::NEG_INFINITY, 0, 0),
            ("f1-score", 0.875, 0, 0),
        ],
        // Two inputs, both named squad.
        inputs: &[("squad", "s1", "training"), ("squad", "s2", "validation")],
    },
    RunSpec {
        id: "r08",
        experiment: "E2",
        name: "bert-large",
        user: "erin",
        day: 8,
        status: "FAILED",
        ended: true,
        deleted: false,
        params: &[
            ("lr", "0.00002"),
            ("optimizer", "adamw"),
            ("model.type", "bert-large"),
        ],
        tags: &[
            ("stage", "dev"),
            ("user-name", "erin"),
            ("mlflow.note.content", "50% of data"),
        ],
        metrics: &[
            ("loss", 0.5, 1, 0),
            ("loss", 0.25, 2, 10),
            ("val_loss", 0.3125, 0, 0),
        ],
        inputs: &[("squad", "s1", "training"), ("wiki", "w1", "pretraining")],
    },
    RunSpec {
        id: "r09",
        experiment: "E2",
        name: r#"say "hi""#,
        user: "frank",
        day: 9,
        status: "FINISHED",
        ended: true,
        deleted: false,
        params: &[("lr", "0.005"), ("optimizer", "lion"), ("layers", "12")],
        tags: &[("stage", "prod"), ("user-name", "frank")],
        // Latest (step 3) is neither the min (0.5) nor the max (2.0).
        metrics: &[
            ("loss", 2.0, 0, 0),
            ("loss", 1.0, 1, 10),
            ("loss", 0.5, 2, 20),
            ("loss", 0.75, 3, 30),
            ("acc", 0.8125, 0, 0),
        ],
        inputs: &[("wiki", "w1", "training")],
    },
    RunSpec {
        id: "r10",
        experiment: "E2",
        name: "t5-small",
        user: "grace",
        day: 10,
        status: "RUNNING",
        ended: false,
        deleted: false,
        // Nothing logged at all: every key is missing.
        params: &[],
        tags: &[],
        metrics: &[],
        inputs: &[],
    },
    RunSpec {
        id: "r11",
        experiment: "E2",
        name: "t5-large",
        user: "grace",
        day: 11,
        status: "FINISHED",
        ended: true,
        deleted: false,
        params: &[("lr", "0.0001"), ("optimizer", "adafactor")],
        // A child of r07.
        tags: &[("stage", "dev"), ("mlflow.parentRunId", "r07")],
        metrics: &[("loss", 1.25, 0, 0)],
        inputs: &[("c4", "k1", "training")],
    },
    RunSpec {
        id: "r12",
        experiment: "E1",
        name: "deleted-run",
        user: "alice",
        day: 12,
        status: "FINISHED",
        ended: true,
        deleted: true,
        params: &[("lr", "0.01")],
        tags: &[("stage", "prod")],
        metrics: &[("loss", 0.25, 0, 0)],
        inputs: &[("mnist", "d1", "training")],
    },
    RunSpec {
        id: "r13",
        experiment: "0",
        name: "default-a",
        user: "bob",
        day: 13,
        status: "FINISHED",
        ended: true,
        deleted: false,
        params: &[("lr", "0.01"), ("optimizer", "adam")],
        tags: &[("stage", "prod")],
        metrics: &[("loss", 0.5, 0, 0)],
        inputs: &[],
    },
    RunSpec {
        id: "r14",
        experiment: "0",
        name: "default-b",
        user: "bob",
        // The same start as r13: the run_id tie-break decides between them.
        day: 13,
        status: "SCHEDULED",
        ended: false,
        deleted: false,
        params: &[("lr", "0.01")],
        tags: &[],
        metrics: &[("loss", 0.5, 0, 0)],
        inputs: &[],
    },
];

/// Every active run, in the default order (start_time DESC, then run_id).
const ACTIVE: &[&str] = &[
    "r13", "r14", "r11", "r10", "r09", "r08", "r07", "r06", "r05", "r04", "r03", "r02", "r01",
];

/// The store above, and a session on it.
struct World {
    dir: TempDir,
    store: Store,
    session: Session,
    /// Experiment ids by short name ("0", "E1" ...).
    experiment_ids: HashMap<&'static str, String>,
}

impl World {
    fn experiment(&self, short: &str) -> &str {
        self.experiment_ids
            .get(short)
            .unwrap_or_else(|| panic!("no experiment {short}"))
    }

    fn experiment_list(&self, shorts: &[&str]) -> Value {
        json!(
            shorts
                .iter()
                .map(|s| self.experiment(s))
                .collect::<Vec<_>>()
        )
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
    let session = store.session().await.unwrap();
    let mut experiment_ids = HashMap::from([("0", "0".to_string())]);
    for (short, name, tags) in EXPERIMENTS {
        // Distinct creation times, so the default experiment order is known.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut sql = format!("EXEC experiments.create @name={}", lit(name));
        if !tags.is_empty() {
            sql.push_str(&format!(" @tags={}", json_lit(&key_values(tags))));
        }
        let created = ok(&session, &sql).await;
        experiment_ids.insert(*short, cell(&created, "experiment_id", 0));
    }
    for run in RUNS {
        create_run(&session, &experiment_ids, run).await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    ok(
        &session,
        &format!(
            "EXEC experiments.delete @experiment_id='{}'",
            experiment_ids["E3"]
        ),
    )
    .await;
    World {
        dir,
        store,
        session,
        experiment_ids,
    }
}

fn key_values(pairs: &[(&str, &str)]) -> Value {
    json!(
        pairs
            .iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect::<Vec<_>>()
    )
}

/// A metric value as log_batch takes it: JSON has no NaN or infinities, so those go as text.
fn metric_value(value: f64) -> Value {
    if value.is_nan() {
        json!("NaN")
    } else if value.is_infinite() {
        json!(if value > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(value)
    }
}

async fn create_run(session: &Session, experiment_ids: &HashMap<&str, String>, run: &RunSpec) {
    let start = day(run.day);
    ok(
        session,
        &create_run_sql(
            run.id,
            &experiment_ids[run.experiment],
            start,
            run.name,
            run.user,
        ),
    )
    .await;
    if !(run.params.is_empty() && run.tags.is_empty() && run.metrics.is_empty()) {
        let metrics: Vec<Value> = run
            .metrics
            .iter()
            .map(|(key, value, step, offset)| {
                json!({"key": key, "value": metric_value(*value), "step": step,
                       "timestamp": start + offset})
            })
            .collect();
        ok(
            session,
            &format!(
                "EXEC runs.log_batch @run_id='{}' @params={} @tags={} @metrics={}",
                run.id,
                json_lit(&key_values(run.params)),
                json_lit(&key_values(run.tags)),
                json_lit(&json!(metrics)),
            ),
        )
        .await;
    }
    if !run.inputs.is_empty() {
        let datasets: Vec<Value> = run
            .inputs
            .iter()
            .map(|(name, digest, context)| {
                json!({
                    "dataset": {"name": name, "digest": digest, "source_type": "local",
                                "source": format!("/data/{name}")},
                    "tags": [{"key": "mlflow.data.context", "value": context}],
                })
            })
            .collect();
        ok(
            session,
            &format!(
                "EXEC runs.log_inputs @run_id='{}' @datasets={}",
                run.id,
                json_lit(&json!(datasets))
            ),
        )
        .await;
    }
    if run.status != "RUNNING" || run.ended {
        let mut sql = format!(
            "EXEC runs.update @run_id='{}' @status='{}'",
            run.id, run.status
        );
        if run.ended {
            sql.push_str(&format!(" @end_time={}", start + HOUR));
        }
        ok(session, &sql).await;
    }
    if run.deleted {
        ok(session, &format!("EXEC runs.delete @run_id='{}'", run.id)).await;
    }
}

fn create_run_sql(id: &str, experiment_id: &str, start: i64, name: &str, user: &str) -> String {
    format!(
        "EXEC runs.create @run_id='{id}' @experiment_id='{experiment_id}' @run_name={} \
         @user_id={} @start_time={start}",
        lit(name),
        lit(user)
    )
}

// ---------------------------------------------------------------------------
// Statement and result helpers
// ---------------------------------------------------------------------------

/// A SQL string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A JSON value as a SQL string literal.
fn json_lit(value: &Value) -> String {
    lit(&value.to_string())
}

fn column_names(output: &Output) -> Vec<String> {
    output
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn sorted_strings(items: &[&str]) -> Vec<String> {
    let mut out = strings(items);
    out.sort();
    out
}

/// The arguments of one `EXEC runs.search`; experiments by short name.
#[derive(Default, Clone)]
struct Search<'a> {
    filter: Option<&'a str>,
    experiments: Option<&'a [&'a str]>,
    order_by: Option<&'a [&'a str]>,
    view: Option<&'a str>,
    max_results: Option<i64>,
    page_token: Option<String>,
}

impl<'a> Search<'a> {
    fn filter(filter: &'a str) -> Self {
        Search {
            filter: Some(filter),
            max_results: Some(50_000),
            ..Default::default()
        }
    }

    fn sql(&self, world: &World) -> String {
        let mut sql = "EXEC runs.search".to_string();
        if let Some(filter) = self.filter {
            sql.push_str(&format!(" @filter={}", lit(filter)));
        }
        if let Some(experiments) = self.experiments {
            sql.push_str(&format!(
                " @experiment_ids={}",
                json_lit(&world.experiment_list(experiments))
            ));
        }
        if let Some(order_by) = self.order_by {
            sql.push_str(&format!(" @order_by={}", json_lit(&json!(order_by))));
        }
        if let Some(view) = self.view {
            sql.push_str(&format!(" @run_view_type={}", lit(view)));
        }
        if let Some(max) = self.max_results {
            sql.push_str(&format!(" @max_results={max}"));
        }
        if let Some(token) = &self.page_token {
            sql.push_str(&format!(" @page_token={}", lit(token)));
        }
        sql
    }
}

/// Runs `sql` and returns its run ids in result order, or the error with its code.
async fn run_ids(session: &Session, sql: &str) -> Result<Vec<String>, String> {
    session
        .execute(sql)
        .await
        .map(|output| column(&output, "run_id"))
        .map_err(|e| format!("error {}", e.with_code()))
}

/// Mismatches gathered over a whole corpus, reported together at the end.
#[derive(Default)]
struct Mismatches {
    cases: usize,
    failures: Vec<String>,
}

impl Mismatches {
    fn check(&mut self, what: &str, expected: Vec<String>, actual: Result<Vec<String>, String>) {
        self.cases += 1;
        if actual.as_ref() != Ok(&expected) {
            let actual = match actual {
                Ok(ids) => format!("{ids:?}"),
                Err(e) => e,
            };
            self.failures.push(format!(
                "{what}\n    expected {expected:?}\n    actual   {actual}"
            ));
        }
    }

    fn assert_none(self, corpus: &str) {
        assert!(
            self.failures.is_empty(),
            "{} of {} {corpus} cases disagree with the contract:\n\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Filters: the corpus
// ---------------------------------------------------------------------------

/// Filters over every active run of every experiment, and the runs each
/// matches (as a set), worked out by hand from [`RUNS`].
const FILTERS: &[(&str, &[&str])] = &[
    // Empty and whitespace-only filters match every run.
    ("", ACTIVE),
    ("   ", ACTIVE),
    ("\n\t ", ACTIVE),
    // --- Metrics: every comparator, on the latest value. ---
    ("metrics.loss < 0.5", &["r01", "r02", "r07", "r08"]),
    (
        "metrics.loss <= 0.5",
        &["r01", "r02", "r05", "r07", "r08", "r13", "r14"],
    ),
    ("metrics.loss = 0.25", &["r01", "r08"]),
    (
        "metrics.loss != 0.25",
        &[
            "r02", "r03", "r04", "r05", "r06", "r07", "r09", "r11", "r13", "r14",
        ],
    ),
    (
        "metrics.loss <> 0.25",
        &[
            "r02", "r03", "r04", "r05", "r06", "r07", "r09", "r11", "r13", "r14",
        ],
    ),
    ("metrics.loss > 1", &["r03", "r11"]),
    ("metrics.loss >= 0.75", &["r03", "r04", "r09", "r11"]),
    // r02: the highest step wins, not the last logged or the smallest.
    ("metrics.loss = 0.375", &["r02", "r07"]),
    ("metrics.loss = 0.125", &[]),
    // r03: within a step the later timestamp wins, not the larger value.
    ("metrics.loss = 3", &["r03"]),
    ("metrics.loss = 4", &[]),
    // r04: same step and timestamp, the larger value wins; r09 step 3.
    ("metrics.loss = 0.75", &["r04", "r09"]),
    // r04, r08 and r09 logged 0.5 once, but not as their latest value.
    ("metrics.loss = 0.5", &["r05", "r13", "r14"]),
    // r06 logged NaN first; its latest is 0.625.
    ("metrics.loss = 0.625", &["r06"]),
    (
        "metrics.loss IN (0.25, 0.375)",
        &["r01", "r02", "r07", "r08"],
    ),
    (
        "metrics.loss NOT IN (0.25, 0.375, 0.5)",
        &["r03", "r04", "r06", "r09", "r11"],
    ),
    ("metrics.loss IN (0.125)", &[]),
    ("metrics.loss <= 2.5e-1", &["r01", "r08"]),
    ("metrics.loss <= 2.5E-1", &["r01", "r08"]),
    (
        "metrics.loss > -2.5",
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11", "r13", "r14",
        ],
    ),
    ("metrics.loss IS NULL", &["r10"]),
    (
        "metrics.loss NOT IN (3)",
        &[
            "r01", "r02", "r04", "r05", "r06", "r07", "r08", "r09", "r11", "r13", "r14",
        ],
    ),
    ("metrics.grad_norm <= -1", &["r07"]),
    (
        "NOT metrics.acc IS NOT NULL",
        &["r03", "r05", "r06", "r08", "r10", "r11", "r13", "r14"],
    ),
    (
        "metrics.acc IS NULL",
        &["r03", "r05", "r06", "r08", "r10", "r11", "r13", "r14"],
    ),
    (
        "metrics.acc IS NOT NULL",
        &["r01", "r02", "r04", "r07", "r09"],
    ),
    ("metrics.acc > 0.8", &["r02", "r07", "r09"]),
    // Negation does not reach runs without the metric.
    ("NOT metrics.acc > 0.8", &["r01", "r04"]),
    ("metric.val_loss < 0.5", &["r07", "r08"]),
    ("METRICS.val_loss >= 0.5", &["r01", "r02", "r03"]),
    ("metrics.`f1-score` > 0.6", &["r07"]),
    (r#"metrics."f1-score" = 0.5"#, &["r06"]),
    // Unquoted keys may hold dashes.
    ("metrics.f1-score >= 0.5", &["r06", "r07"]),
    // NaN and infinities are present values; -inf is below any number.
    ("metrics.grad_norm IS NOT NULL", &["r05", "r06", "r07"]),
    ("metrics.grad_norm < -1e308", &["r07"]),
    ("metrics.nonexistent IS NULL", ACTIVE),
    ("metrics.nonexistent > 0", &[]),
    ("metrics.Loss < 1", &[]),
    // After the prefix a keyword is just a key.
    ("params.and IS NOT NULL", &[]),
    ("tags.not IS NULL", ACTIVE),
    // Unquoted keys may hold slashes and colons.
    ("metrics.eval/acc = 0.5", &["r01"]),
    // --- Params: text comparisons. ---
    ("params.optimizer = 'adam'", &["r01", "r03", "r13"]),
    (r#"params.optimizer = "adam""#, &["r01", "r03", "r13"]),
    (
        "params.optimizer != 'adam'",
        &["r02", "r04", "r05", "r06", "r07", "r08", "r09", "r11"],
    ),
    (
        "params.optimizer LIKE 'adam%'",
        &["r01", "r03", "r04", "r07", "r08", "r13"],
    ),
    (
        "params.optimizer ILIKE 'adam%'",
        &["r01", "r03", "r04", "r06", "r07", "r08", "r13"],
    ),
    (
        "params.optimizer NOT LIKE 'adam%'",
        &["r02", "r05", "r06", "r09", "r11"],
    ),
    (
        "params.optimizer NOT ILIKE 'ADAM%'",
        &["r02", "r05", "r09", "r11"],
    ),
    ("params.optimizer LIKE 'ada_'", &["r01", "r03", "r13"]),
    (
        "params.optimizer IN ('sgd', 'lion')",
        &["r02", "r05", "r09"],
    ),
    (
        "params.optimizer NOT IN ('sgd', 'lion', 'adamw')",
        &["r01", "r03", "r06", "r11", "r13"],
    ),
    ("params.optimizer IS NULL", &["r10", "r14"]),
    (
        "params.optimizer IS NOT NULL",
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11", "r13",
        ],
    ),
    ("params.lr = 'auto'", &["r06"]),
    // Quoted: text equality. Unquoted number: numeric equality.
    ("params.lr = '0.001'", &["r02"]),
    ("params.lr = 0.001", &["r02", "r03"]),
    ("params.lr = 1e-3", &["r02", "r03"]),
    ("params.lr = '2e-5'", &["r07"]),
    ("params.lr = 0.00002", &["r07", "r08"]),
    (
        "params.lr != 0.001",
        &[
            "r01", "r04", "r05", "r07", "r08", "r09", "r11", "r13", "r14",
        ],
    ),
    (
        "params.lr != '0.001'",
        &[
            "r01", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11", "r13", "r14",
        ],
    ),
    // Numeric order: 'auto' is no number and never matches.
    ("params.lr < 0.005", &["r02", "r03", "r07", "r08", "r11"]),
    (
        "params.lr <= '0.005'",
        &["r02", "r03", "r07", "r08", "r09", "r11"],
    ),
    ("params.lr > 0.005", &["r01", "r04", "r05", "r13", "r14"]),
    ("params.lr >= 0.01", &["r01", "r04", "r05", "r13", "r14"]),
    (
        "params.lr > 0 AND params.lr < 1",
        &[
            "r01", "r02", "r03", "r04", "r05", "r07", "r08", "r09", "r11", "r13", "r14",
        ],
    ),
    ("params.lr LIKE '%e-%'", &["r03", "r07"]),
    ("params.layers = 8", &["r02"]),
    ("params.layers = 4.0", &["r01"]),
    ("params.layers = '4.0'", &[]),
    ("params.layers != 8", &["r01", "r09"]),
    // Numerically 32 and 64 are below 100; as text none of '32', '64', '128' is.
    ("params.batch-size < 100", &["r01", "r02", "r03"]),
    ("params.batch-size <= 32", &["r01", "r03"]),
    (
        r#"params.optimizer IN ("sgd", 'lion')"#,
        &["r02", "r05", "r09"],
    ),
    // Numerically 8 and 12 exceed 5; as text '12' would not.
    ("param.layers > 5", &["r02", "r09"]),
    ("parameter.layers >= '10'", &["r09"]),
    ("NOT params.layers > 5", &["r01"]),
    ("parameters.optimizer = 'lion'", &["r09"]),
    ("params.batch-size = '32'", &["r01", "r03"]),
    ("params.`batch-size` = 32", &["r01", "r03"]),
    (r#"params."batch-size" IN ('64', '128')"#, &["r02", "r04"]),
    // Dots after the prefix belong to the key.
    ("params.model.type = 'bert'", &["r07"]),
    ("params.model.type LIKE 'bert%'", &["r07", "r08"]),
    ("Params.model.type = 'BERT'", &[]),
    // --- Tags. ---
    ("tags.stage = 'prod'", &["r01", "r03", "r07", "r09", "r13"]),
    (
        "tag.stage ILIKE 'PROD'",
        &["r01", "r03", "r06", "r07", "r09", "r13"],
    ),
    ("TAGS.stage = 'staging'", &["r04"]),
    (
        "tags.stage != 'prod'",
        &["r02", "r04", "r05", "r06", "r08", "r11"],
    ),
    ("tags.stage IS NULL", &["r10", "r14"]),
    (
        "tags.stage NOT LIKE '%e%'",
        &["r01", "r03", "r04", "r06", "r07", "r09", "r13"],
    ),
    ("NOT tags.stage IN ('dev', 'prod')", &["r04", "r06"]),
    // No pct value is a number.
    ("tags.pct >= 0", &[]),
    (
        "tags.stage IN ('dev', 'staging')",
        &["r02", "r04", "r05", "r08", "r11"],
    ),
    (
        "tags.stage NOT IN ('dev', 'staging')",
        &["r01", "r03", "r06", "r07", "r09", "r13"],
    ),
    ("tags.user-name = 'alice'", &["r01", "r04"]),
    ("tags.`user-name` LIKE '%e%'", &["r01", "r04", "r07", "r08"]),
    (r#"tags."owner name" = 'Dave D'"#, &["r05"]),
    ("tags.`owner name` IS NOT NULL", &["r05"]),
    // % and _ in values: literal under =, wildcards under LIKE.
    ("tags.pct = '100%'", &["r01"]),
    ("tags.pct LIKE '%'", &["r01", "r02", "r04"]),
    ("tags.pct LIKE '5%'", &["r02", "r04"]),
    ("tags.pct LIKE '_0%'", &["r01", "r02"]),
    ("tags.pct LIKE '%_off'", &["r04"]),
    ("tags.mlflow.note.content ILIKE '%BEST%'", &["r01"]),
    ("tags.mlflow.note.content LIKE '%BEST%'", &[]),
    ("tags.mlflow.note.content LIKE '%50% of%'", &["r08"]),
    // The run name is also the tag mlflow.runName.
    ("tags.mlflow.runName = 'baseline'", &["r01"]),
    ("tags.run:kind = 'sweep'", &["r05"]),
    ("tags.mlflow.parentRunId = 'r07'", &["r11"]),
    ("tags.mlflow.parentRunId IS NOT NULL", &["r11"]),
    // --- Attributes. ---
    (
        "attributes.status = 'FINISHED'",
        &["r01", "r02", "r07", "r09", "r11", "r13"],
    ),
    (
        "status != 'FINISHED'",
        &["r03", "r04", "r05", "r06", "r08", "r10", "r14"],
    ),
    ("STATUS = 'RUNNING'", &["r05", "r06", "r10"]),
    ("status = 'running'", &[]),
    (
        "attr.status IN ('FAILED', 'KILLED')",
        &["r03", "r04", "r08"],
    ),
    (
        "run.status NOT IN ('RUNNING', 'FINISHED')",
        &["r03", "r04", "r08", "r14"],
    ),
    ("attribute.user_id = 'alice'", &["r01", "r04"]),
    (
        "user_id LIKE '%a%'",
        &["r01", "r03", "r04", "r05", "r06", "r09", "r10", "r11"],
    ),
    ("run_name = 'baseline v2'", &["r02"]),
    ("run_name LIKE 'baseline%'", &["r01", "r02"]),
    (r#""Run Name" = 'baseline'"#, &["r01"]),
    ("`run name` ILIKE 'BERT%'", &["r07", "r08"]),
    ("attributes.run_name = 't5-small'", &["r10"]),
    // Quotes inside values: doubled, or the other kind of quote.
    ("run_name = 'O''Brien''s run'", &["r03"]),
    (r#"run_name = "O'Brien's run""#, &["r03"]),
    (r#"run_name = "say ""hi""""#, &["r09"]),
    (r#"run_name = 'say "hi"'"#, &["r09"]),
    ("run_name = 'Ünïcödé run ☃'", &["r04"]),
    ("run_name LIKE '%☃'", &["r04"]),
    ("run_id = 'r05'", &["r05"]),
    ("run_id LIKE 'r1_'", &["r10", "r11", "r13", "r14"]),
    (r#""user_id" = 'bob'"#, &["r02", "r13", "r14"]),
    ("attributes.`run name` = 'baseline'", &["r01"]),
    ("ATTRIBUTES.STATUS = 'KILLED'", &["r04"]),
    (
        "run_name NOT LIKE '%-%'",
        &["r01", "r02", "r03", "r04", "r09"],
    ),
    (
        "user_id NOT ILIKE '%A%'",
        &["r02", "r07", "r08", "r13", "r14"],
    ),
    ("run_name IS NULL", &[]),
    ("user_id IS NOT NULL", ACTIVE),
    (
        "run_name IN ('O''Brien''s run', 'say \"hi\"')",
        &["r03", "r09"],
    ),
    ("RUN_ID IN ('r01', 'r12', 'r13')", &["r01", "r13"]),
    (
        "run_id NOT IN ('r01', 'r02')",
        &[
            "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r13", "r14",
        ],
    ),
    ("artifact_uri LIKE '%/r07/artifacts'", &["r07"]),
    // Times: milliseconds, or quoted ISO-8601.
    ("start_time = 1767441600000", &["r03"]),
    ("start_time > 1768046400000", &["r11", "r13", "r14"]),
    ("Start_Time < 1767355200000", &["r01"]),
    ("attributes.created <= 1767355200000", &["r01", "r02"]),
    ("start_time >= '2026-01-10'", &["r10", "r11", "r13", "r14"]),
    ("created < '2026-01-03T00:00:00Z'", &["r01", "r02"]),
    ("start_time = '2026-01-03T12:00:00Z'", &["r03"]),
    ("start_time = 1768305600000", &["r13", "r14"]),
    ("end_time IS NULL", &["r04", "r05", "r06", "r10", "r14"]),
    ("`start_time` < 1767355200000", &["r01"]),
    ("attr.CREATED > 1768132800000", &["r13", "r14"]),
    ("end_time <= '2026-01-02T13:00:00Z'", &["r01", "r02"]),
    (
        "end_time IS NOT NULL",
        &["r01", "r02", "r03", "r07", "r08", "r09", "r11", "r13"],
    ),
    (
        "end_time > '2026-01-08T12:30:00Z'",
        &["r08", "r09", "r11", "r13"],
    ),
    (
        "end_time != 1767272400000",
        &["r02", "r03", "r07", "r08", "r09", "r11", "r13"],
    ),
    // --- Datasets: existence over a run's inputs. ---
    ("dataset.name = 'mnist'", &["r01", "r02", "r04"]),
    ("datasets.name = 'squad'", &["r07", "r08"]),
    // Some input not named squad: r07 has only squad inputs.
    (
        "dataset.name != 'squad'",
        &["r01", "r02", "r04", "r08", "r09", "r11"],
    ),
    // No input named mnist, runs without inputs included.
    (
        "NOT dataset.name = 'mnist'",
        &[
            "r03", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r13", "r14",
        ],
    ),
    (
        "NOT dataset.name != 'squad'",
        &["r03", "r05", "r06", "r07", "r10", "r13", "r14"],
    ),
    ("dataset.digest = 'd1'", &["r01", "r02"]),
    ("dataset.digest LIKE 'd_'", &["r01", "r02", "r04"]),
    ("dataset.context = 'eval'", &["r01", "r04"]),
    // Each dataset condition is its own existence test.
    (
        "dataset.name = 'mnist' AND dataset.context = 'eval'",
        &["r01", "r04"],
    ),
    ("dataset.name LIKE 'mnist%'", &["r01", "r02", "r04"]),
    ("dataset.name ILIKE 'SQUAD'", &["r07", "r08"]),
    (
        "dataset.name NOT LIKE 'mnist%'",
        &["r04", "r07", "r08", "r09", "r11"],
    ),
    ("dataset.name IN ('wiki', 'c4')", &["r08", "r09", "r11"]),
    (
        "dataset.name NOT IN ('squad', 'mnist')",
        &["r01", "r04", "r08", "r09", "r11"],
    ),
    (
        "datasets.context = 'training' AND datasets.digest = 's1'",
        &["r07", "r08"],
    ),
    (
        "dataset.name NOT ILIKE 'MNIST%'",
        &["r04", "r07", "r08", "r09", "r11"],
    ),
    (
        "dataset.digest != 'd1'",
        &["r01", "r04", "r07", "r08", "r09", "r11"],
    ),
    // Dataset conditions are never NULL; tags.stage is for r10 and r14.
    (
        "NOT (dataset.name = 'squad' OR tags.stage = 'prod')",
        &["r02", "r04", "r05", "r06", "r11"],
    ),
    (
        "NOT datasets.context = 'training'",
        &["r03", "r05", "r06", "r10", "r13", "r14"],
    ),
    (
        "dataset.name = 'squad' OR metrics.acc < 0.6",
        &["r04", "r07", "r08"],
    ),
    // --- Boolean structure, precedence and three-valued logic. ---
    (
        "metrics.loss < 0.5 and params.optimizer = 'adamw'",
        &["r07", "r08"],
    ),
    (
        "tags.stage = 'dev' OR metrics.loss > 1",
        &["r02", "r03", "r05", "r08", "r11"],
    ),
    // AND binds tighter than OR.
    (
        "tags.stage = 'prod' OR tags.stage = 'dev' AND params.optimizer = 'sgd'",
        &["r01", "r02", "r03", "r05", "r07", "r09", "r13"],
    ),
    (
        "(tags.stage = 'prod' OR tags.stage = 'dev') AND params.optimizer = 'sgd'",
        &["r02", "r05"],
    ),
    // NOT binds tighter than AND.
    (
        "NOT tags.stage = 'prod' AND params.optimizer = 'adamw'",
        &["r04", "r08"],
    ),
    // NOT over a NULL conjunction (r10, r14 lack both keys) stays NULL.
    (
        "NOT (tags.stage = 'prod' AND params.optimizer = 'adamw')",
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r08", "r09", "r11", "r13",
        ],
    ),
    // NULL OR FALSE is NULL, so NOT of it matches nothing; NULL OR TRUE is TRUE.
    (
        "NOT (metrics.acc > 0.8 OR tags.stage = 'dev')",
        &["r01", "r04"],
    ),
    ("NOT NOT tags.stage = 'dev'", &["r02", "r05", "r08", "r11"]),
    (
        "metrics.acc > 0.8 or metrics.acc < 0.6 and tags.stage = 'staging'",
        &["r02", "r04", "r07", "r09"],
    ),
    (
        "(metrics.acc > 0.8 or metrics.acc < 0.6) and tags.stage = 'prod'",
        &["r07", "r09"],
    ),
    ("((params.optimizer = 'sgd'))", &["r02", "r05"]),
    (
        "tags.stage = 'dev' AnD metrics.loss <= 0.5 Or run_name = 't5-small'",
        &["r02", "r05", "r08", "r10"],
    ),
    (
        "params.optimizer is null and metrics.loss is not null",
        &["r14"],
    ),
    (
        "NOT params.optimizer IS NULL",
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11", "r13",
        ],
    ),
    (
        "NOT params.optimizer = 'adam' AND NOT params.optimizer = 'sgd'",
        &["r04", "r06", "r07", "r08", "r09", "r11"],
    ),
    // Not a tautology: runs without loss are neither.
    (
        "metrics.loss < 0.5 OR NOT metrics.loss < 0.5",
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11", "r13", "r14",
        ],
    ),
    (
        "tags.stage = 'prod' AND NOT tags.user-name = 'frank'",
        &["r01", "r03", "r07"],
    ),
    (
        "metrics.acc > 0.8 OR params.optimizer IS NULL",
        &["r02", "r07", "r09", "r10", "r14"],
    ),
    // --- Layout and keyword case. ---
    ("metrics.loss<0.5", &["r01", "r02", "r07", "r08"]),
    (
        "tags.stage = 'dev'\n\tAND\tmetrics.loss>0.3",
        &["r02", "r05", "r11"],
    ),
    (
        "params.optimizer in ('sgd') OR tags.stage like 'stag%'",
        &["r02", "r04", "r05"],
    ),
    (
        "params.optimizer Not In ('adam', 'adamw', 'sgd')",
        &["r06", "r09", "r11"],
    ),
    (
        "tags.stage IS not NULL and tags.stage not ilike 'p%'",
        &["r02", "r04", "r05", "r08", "r11"],
    ),
];

/// Filters with a view type and experiments (short names; empty = all).
type ScopedCase = (
    Option<&'static str>,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
);

const SCOPED: &[ScopedCase] = &[
    (
        Some("ACTIVE_ONLY"),
        &[],
        "tags.stage = 'prod'",
        &["r01", "r03", "r07", "r09", "r13"],
    ),
    (Some("DELETED_ONLY"), &[], "", &["r12"]),
    (Some("DELETED_ONLY"), &[], "tags.stage = 'prod'", &["r12"]),
    (Some("DELETED_ONLY"), &[], "metrics.loss > 1", &[]),
    (
        Some("ALL"),
        &[],
        "",
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r12",
            "r13", "r14",
        ],
    ),
    (
        Some("ALL"),
        &[],
        "dataset.name = 'mnist'",
        &["r01", "r02", "r04", "r12"],
    ),
    (
        Some("ALL"),
        &[],
        "params.lr = 0.01",
        &["r01", "r05", "r12", "r13", "r14"],
    ),
    (
        None,
        &["E1"],
        "",
        &["r01", "r02", "r03", "r04", "r05", "r06"],
    ),
    (None, &["E2"], "tags.stage = 'dev'", &["r08", "r11"]),
    (
        None,
        &["E1", "0"],
        "params.lr = 0.01",
        &["r01", "r05", "r13", "r14"],
    ),
    (Some("ALL"), &["0"], "", &["r13", "r14"]),
    (Some("DELETED_ONLY"), &["E1"], "", &["r12"]),
    (Some("DELETED_ONLY"), &["E2"], "", &[]),
    (None, &["E4"], "", &[]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_the_runs_the_contract_says() {
    let w = world().await;
    let mut mismatches = Mismatches::default();
    for (filter, expected) in FILTERS {
        let sql = Search::filter(filter).sql(&w);
        let actual = run_ids(&w.session, &sql).await.map(|mut ids| {
            ids.sort();
            ids
        });
        mismatches.check(
            &format!("filter {filter:?}"),
            sorted_strings(expected),
            actual,
        );
    }
    for (view, experiments, filter, expected) in SCOPED {
        let search = Search {
            view: *view,
            experiments: (!experiments.is_empty()).then_some(*experiments),
            ..Search::filter(filter)
        };
        let actual = run_ids(&w.session, &search.sql(&w)).await.map(|mut ids| {
            ids.sort();
            ids
        });
        mismatches.check(
            &format!("filter {filter:?} view {view:?} experiments {experiments:?}"),
            sorted_strings(expected),
            actual,
        );
    }
    mismatches.assert_none("filter");
}

/// The table function takes the same filters and must agree on every one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_runs_table_function_agrees_with_runs_search() {
    let w = world().await;
    let mut mismatches = Mismatches::default();
    // The table function runs the same search as EXEC, which the corpus
    // covers in full; every third case checks the plumbing around it.
    for (filter, expected) in FILTERS.iter().step_by(3) {
        let sql = format!(
            "SELECT run_id FROM search_runs({}, NULL, NULL, 50000)",
            lit(filter)
        );
        let actual = run_ids(&w.session, &sql).await.map(|mut ids| {
            ids.sort();
            ids
        });
        mismatches.check(
            &format!("search_runs({filter:?})"),
            sorted_strings(expected),
            actual,
        );
    }
    mismatches.assert_none("search_runs filter");
}

// ---------------------------------------------------------------------------
// order_by
// ---------------------------------------------------------------------------

/// (experiments, filter, order_by, the exact result order).
type OrderCase = (
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const ORDERS: &[OrderCase] = &[
    // Default: start_time DESC, then run_id (r13 and r14 started together).
    (&[], "", &[], ACTIVE),
    // Ties keep start_time DESC then run_id whichever way the key goes;
    // r10 has no loss and comes last both ways.
    (
        &[],
        "",
        &["metrics.loss ASC"],
        &[
            "r08", "r01", "r07", "r02", "r13", "r14", "r05", "r06", "r09", "r04", "r11", "r03",
            "r10",
        ],
    ),
    (
        &[],
        "",
        &["metrics.loss DESC"],
        &[
            "r03", "r11", "r09", "r04", "r06", "r13", "r14", "r05", "r07", "r02", "r08", "r01",
            "r10",
        ],
    ),
    (
        &[],
        "",
        &["metrics.acc DESC"],
        &[
            "r07", "r02", "r09", "r01", "r04", "r13", "r14", "r11", "r10", "r08", "r06", "r05",
            "r03",
        ],
    ),
    (
        &[],
        "metrics.loss < 1",
        &["metrics.val_loss"],
        &[
            "r08", "r07", "r01", "r02", "r13", "r14", "r09", "r06", "r05", "r04",
        ],
    ),
    // Params order as text: '0.00002' < '0.0001' < ... < '1e-3' < '2e-5' < 'auto'.
    (
        &[],
        "",
        &["params.lr"],
        &[
            "r08", "r11", "r02", "r09", "r13", "r14", "r05", "r01", "r04", "r03", "r07", "r06",
            "r10",
        ],
    ),
    // A quoted key; as text '64' > '32' > '128'.
    (
        &[],
        "params.batch-size IS NOT NULL",
        &["params.`batch-size` DESC"],
        &["r02", "r03", "r01", "r04"],
    ),
    // As text '8' > '4' > '12'.
    (
        &[],
        "params.layers IS NOT NULL",
        &["params.layers DESC"],
        &["r02", "r01", "r09"],
    ),
    // Byte order: 'staging' > 'prod' > 'dev' > 'Prod'; then loss within a stage.
    (
        &[],
        "tags.stage IS NOT NULL",
        &["tags.stage DESC", "metrics.loss ASC"],
        &[
            "r04", "r01", "r07", "r13", "r09", "r03", "r08", "r02", "r05", "r11", "r06",
        ],
    ),
    (
        &[],
        "tags.user-name IS NOT NULL",
        &["tags.user-name ASC", "params.optimizer DESC"],
        &["r04", "r01", "r02", "r03", "r08", "r07", "r09"],
    ),
    (
        &["E2"],
        "",
        &["attributes.run_name ASC"],
        &["r07", "r08", "r09", "r11", "r10"],
    ),
    // start_time given ASC: only run_id breaks the r13/r14 tie.
    (
        &[],
        "",
        &["attributes.start_time ASC"],
        &[
            "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r13",
            "r14",
        ],
    ),
    (
        &[],
        "",
        &["attributes.end_time DESC"],
        &[
            "r13", "r11", "r09", "r08", "r07", "r03", "r02", "r01", "r14", "r10", "r06", "r05",
            "r04",
        ],
    ),
    // Missing tags and params sort last ascending too.
    (
        &[],
        "",
        &["tags.stage ASC"],
        &[
            "r06", "r11", "r08", "r05", "r02", "r13", "r09", "r07", "r03", "r01", "r04", "r14",
            "r10",
        ],
    ),
    (
        &[],
        "",
        &["params.optimizer DESC"],
        &[
            "r05", "r02", "r09", "r08", "r07", "r04", "r13", "r03", "r01", "r11", "r06", "r14",
            "r10",
        ],
    ),
    (
        &[],
        "",
        &["attributes.user_id ASC", "attributes.start_time ASC"],
        &[
            "r01", "r04", "r02", "r13", "r14", "r03", "r05", "r06", "r07", "r08", "r09", "r10",
            "r11",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_by_gives_the_exact_order() {
    let w = world().await;
    let mut mismatches = Mismatches::default();
    for (experiments, filter, order_by, expected) in ORDERS {
        let search = Search {
            experiments: (!experiments.is_empty()).then_some(*experiments),
            order_by: (!order_by.is_empty()).then_some(*order_by),
            ..Search::filter(filter)
        };
        let what = format!("order_by {order_by:?} filter {filter:?} experiments {experiments:?}");
        let actual = run_ids(&w.session, &search.sql(&w)).await;
        mismatches.check(&what, strings(expected), actual);
        // Paged five at a time, the pages continue one another exactly. Five
        // divides some of these results, whose last page must be full and
        // carry no token.
        let paged = Search {
            max_results: Some(5),
            ..search
        };
        let actual = pages(&w, &paged, &w.session, &[])
            .await
            .map(|pages| pages.concat());
        mismatches.check(&format!("{what}, paged by 5"), strings(expected), actual);
    }
    mismatches.assert_none("order_by");
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Malformed filters and fragments their message must hold. Where the
/// contract spells a message out, the fragment is that message; otherwise it
/// is the position (1-based characters) and what the contract fixes.
const MALFORMED_FILTERS: &[(&str, &[&str])] = &[
    (
        "metrics.rmse equals 1",
        &["expected a comparator after metrics.rmse at 14, found 'equals'"],
    ),
    (
        "metrics.rmse",
        &["expected a comparator after metrics.rmse at 13, found the end of the filter"],
    ),
    (
        "metrics.",
        &["expected a key after 'metrics.' at 9, found the end of the filter"],
    ),
    (
        "tags.",
        &["expected a key after 'tags.' at 6, found the end of the filter"],
    ),
    ("params. = 'a'", &["expected a key after 'params.' at 9"]),
    (
        "metrics.rmse <",
        &["expected a value after metrics.rmse < at 15, found the end of the filter"],
    ),
    (
        "metrics.rmse <1 metrics.mae > 2",
        &["expected AND, OR or the end of the filter at 17, found 'metrics"],
    ),
    (
        "params.model = 'a' 'b'",
        &["expected AND, OR or the end of the filter at 20"],
    ),
    (
        "(metrics.rmse < 1",
        &["expected ')' at 18, found the end of the filter"],
    ),
    (
        "metrics.rmse < 1 AND (params.a = 'b' OR params.c = 'd'",
        &["expected ')' at 55, found the end of the filter"],
    ),
    ("metrics.rmse < 1)", &["unexpected ')' at 17"]),
    (
        "metrics.rmse < 1 AND (metrics.mae > 2))",
        &["unexpected ')' at 39"],
    ),
    // Nothing to close yet: either "unexpected ')'" or "expected a key ..., found ')'".
    (")", &["at 1", "')'"]),
    ("(", &["at 2", "found the end of the filter"]),
    (
        "params.model = 'abc",
        &["unterminated quoted text starting at 16"],
    ),
    (
        r#"params.model = "abc"#,
        &["unterminated quoted text starting at 16"],
    ),
    (
        "run_name = 'it''s",
        &["unterminated quoted text starting at 12"],
    ),
    (
        r#"metrics."rmse = 1"#,
        &["unterminated quoted text starting at 9"],
    ),
    (
        "metrics.`rmse = 1",
        &["unterminated quoted text starting at 9"],
    ),
    (
        r#"tags."user name"#,
        &["unterminated quoted text starting at 6"],
    ),
    ("metrics.rmse # 1", &["unexpected character '#' at 14"]),
    (
        "metrics.loss BETWEEN 0 AND 1",
        &["expected a comparator after metrics.loss at 14, found 'BETWEEN'"],
    ),
    (
        "metrics.rmse < 1 ; drop table runs",
        &["unexpected character ';' at 18"],
    ),
    // Positions count characters, not bytes.
    ("run_name = 'ÜÜÜ' #", &["unexpected character '#' at 18"]),
    ("metrics.rmse < 1x", &["'1x' at 16 is not a number"]),
    ("metrics.loss < 1e", &["'1e' at 16 is not a number"]),
    ("metrics.loss < 1.2.3", &["'1.2.3' at 16 is not a number"]),
    (
        "bogus.key = 1",
        &["unknown entity 'bogus' at 1; use metrics., params., tags., attributes. or datasets."],
    ),
    (
        "tags.a = 'b' AND bogus.x = 1",
        &["unknown entity 'bogus' at 18"],
    ),
    (
        "flavour = 'x'",
        &["unknown attribute 'flavour' at 1; attributes are run_id, run_name"],
    ),
    ("runname = 'x'", &["unknown attribute 'runname' at 1"]),
    ("attributes.flavour = 'x'", &["unknown attribute 'flavour'"]),
    (
        "dataset.size = 'x'",
        &[
            "unknown dataset field 'size' at",
            "; dataset fields are name, digest, context",
        ],
    ),
    (
        "metrics.rmse LIKE 'x'",
        &[
            "metrics.rmse at 1 cannot use LIKE; metrics allow = != < <= > >= IN NOT IN IS NULL IS NOT NULL",
        ],
    ),
    (
        "metrics.rmse ILIKE 'x'",
        &["metrics.rmse at 1 cannot use ILIKE"],
    ),
    (
        "metrics.rmse NOT LIKE 'x'",
        &["metrics.rmse at 1 cannot use NOT LIKE"],
    ),
    (
        "tags.a = 'b' AND metrics.x LIKE '%'",
        &["metrics.x at 18 cannot use LIKE"],
    ),
    (
        "metrics.rmse = 'x'",
        &["metrics.rmse at 1 needs a number, found text 'x'"],
    ),
    (
        "metrics.rmse < 'abc'",
        &["metrics.rmse at 1 needs a number, found text 'abc'"],
    ),
    (
        "metrics.rmse IN ('a')",
        &["metrics.rmse at 1 needs a number, found text 'a'"],
    ),
    (
        "params.model LIKE 3",
        &["params.model at 1 needs text for ", "found the number 3"],
    ),
    (
        "params.model IN (3, 4)",
        &["params.model at 1 needs text for ", "found the number 3"],
    ),
    (
        "params.lr = 0.01 AND params.model LIKE 5",
        &["params.model at 22 needs text for LIKE, found the number 5"],
    ),
    (
        "params.lr > 'abc'",
        &["params.lr at 1 needs a number", "found text 'abc'"],
    ),
    (
        "tags.x < 'b'",
        &["tags.x at 1 needs a number", "found text 'b'"],
    ),
    (
        "run_name = 3",
        &["run_name at 1 needs text", "found the number 3"],
    ),
    ("status < 'x'", &["status at 1 cannot use <"]),
    ("start_time LIKE 'x'", &["start_time at 1 cannot use LIKE"]),
    ("dataset.name < 'x'", &["dataset.name at 1 cannot use <"]),
    (
        "dataset.name IS NULL",
        &["dataset.name at 1 cannot use IS NULL"],
    ),
    (
        "params.model IN 'a'",
        &["expected '(' after params.model IN at 17, found 'a'"],
    ),
    ("params.model IN ()", &["IN needs at least one value at"]),
    (
        "metrics.rmse IN (1, 2",
        &["at 22", "found the end of the filter"],
    ),
    (
        "metrics.rmse < 1 AND",
        &["at 21", "found the end of the filter"],
    ),
    (
        "metrics.rmse < 1 OR",
        &["at 20", "found the end of the filter"],
    ),
    (
        "metrics.rmse < 1 AND NOT",
        &["at 25", "found the end of the filter"],
    ),
    ("metrics.loss < 1 OR OR metrics.loss > 2", &["at 21"]),
    ("metrics.rmse IS 1", &["at 17"]),
    ("params.model NOT = 'a'", &["at 18"]),
];

/// Runs a statement that must fail with INVALID_PARAMETER_VALUE and a message
/// holding every fragment; returns a description of what went wrong, if anything.
async fn misreported(session: &Session, sql: &str, fragments: &[&str]) -> Option<String> {
    let error: RunqlError = match session.execute(sql).await {
        Ok(output) => return Some(format!("{sql}\n    succeeded:\n{}", pretty(&output))),
        Err(e) => e,
    };
    let message = error.to_string();
    let missing: Vec<&&str> = fragments
        .iter()
        .filter(|f| !message.contains(**f))
        .collect();
    if error.code() != ErrorCode::InvalidParameterValue || !missing.is_empty() {
        Some(format!(
            "{sql}\n    error   {}\n    missing {missing:?}",
            error.with_code()
        ))
    } else {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_filters_are_rejected_with_their_position() {
    let w = world().await;
    let mut failures = Vec::new();
    for (filter, fragments) in MALFORMED_FILTERS {
        let sql = format!("EXEC runs.search @filter={}", lit(filter));
        let mut expected = vec!["runs.search @filter: "];
        expected.extend_from_slice(fragments);
        failures.extend(misreported(&w.session, &sql, &expected).await);
    }
    assert!(
        failures.is_empty(),
        "{} of {} malformed filters misreported:\n\n{}",
        failures.len(),
        MALFORMED_FILTERS.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_arguments_are_rejected() {
    let w = world().await;
    // (arguments after EXEC runs.search, fragments)
    let cases: &[(&str, &[&str])] = &[
        (
            r#"@order_by='["metrics.rmse up"]'"#,
            &["runs.search @order_by: expected ASC or DESC after metrics.rmse at 14, found 'up'"],
        ),
        (
            r#"@order_by='["metrics.rmse ASC DESC"]'"#,
            &["runs.search @order_by: ", "at 18"],
        ),
        (
            r#"@order_by='["metrics."]'"#,
            &["runs.search @order_by: expected a key after 'metrics.' at 9"],
        ),
        (
            r#"@order_by='["bogus.key"]'"#,
            &["runs.search @order_by: unknown entity 'bogus' at 1"],
        ),
        (
            r#"@order_by='["attributes.flavour"]'"#,
            &["runs.search @order_by: unknown attribute 'flavour'"],
        ),
        // Datasets are not orderable.
        (
            r#"@order_by='["datasets.name"]'"#,
            &["runs.search @order_by: "],
        ),
        (
            r#"@order_by='["metrics.loss", "params.lr sideways"]'"#,
            &["runs.search @order_by: ", "'sideways'"],
        ),
        ("@max_results=0", &["@max_results"]),
        ("@max_results=50001", &["@max_results"]),
        ("@max_results=-1", &["@max_results"]),
        ("@run_view_type='SOME'", &["SOME"]),
        (
            "@page_token='garbage!'",
            &["runs.search @page_token: not a valid page token"],
        ),
        ("@page_token='e30='", &["runs.search @page_token: "]),
    ];
    let mut failures = Vec::new();
    for (arguments, fragments) in cases {
        let sql = format!("EXEC runs.search {arguments}");
        failures.extend(misreported(&w.session, &sql, fragments).await);
    }
    // The bounds themselves are fine.
    for max in [1, 50_000] {
        let sql = format!("EXEC runs.search @max_results={max}");
        if let Err(e) = w.session.execute(&sql).await {
            failures.push(format!("{sql}\n    failed: {}", e.with_code()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} argument cases misreported:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------
// Result shape and the table function
// ---------------------------------------------------------------------------

const RUN_COLUMNS: &[&str] = &[
    "run_id",
    "run_name",
    "experiment_id",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
    "lifecycle_stage",
    "parent_run_id",
    "deleted_time",
    "params",
    "tags",
    "metrics",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_carry_the_run_and_its_latest_values() {
    let w = world().await;
    let found = ok(
        &w.session,
        &Search::filter("run_id IN ('r11', 'r02')").sql(&w),
    )
    .await;
    let mut expected_columns = strings(RUN_COLUMNS);
    expected_columns.push("next_page_token".into());
    assert_eq!(column_names(&found), expected_columns);
    assert_eq!(column(&found, "run_id"), ["r11", "r02"]);
    assert_eq!(column(&found, "run_name"), ["t5-large", "baseline v2"]);
    assert_eq!(
        column(&found, "experiment_id"),
        [w.experiment("E2"), w.experiment("E1")]
    );
    assert_eq!(column(&found, "status"), ["FINISHED", "FINISHED"]);
    assert_eq!(column(&found, "parent_run_id"), ["r07", "NULL"]);
    assert_eq!(column(&found, "next_page_token"), ["NULL", "NULL"]);
    assert_eq!(millis(&found, "start_time"), [Some(day(11)), Some(day(2))]);
    assert_eq!(
        millis(&found, "end_time"),
        [Some(day(11) + HOUR), Some(day(2) + HOUR)]
    );

    // The maps, through the table function: latest metric values, not the last logged.
    let ctx = common::context(&w.store).await;
    let maps = common::sql(
        &ctx,
        "SELECT run_id, params['lr'], params['optimizer'], tags['stage'], metrics['loss'], \
                metrics['val_loss'], metrics['acc'] \
         FROM search_runs('run_id IN (''r02'', ''r03'')', NULL, '[\"attributes.run_id ASC\"]')",
    )
    .await;
    assert_eq!(
        maps,
        [
            ["r02", "0.001", "sgd", "dev", "0.375", "0.625", "0.875"],
            ["r03", "1e-3", "adam", "prod", "3.0", "1.5", "NULL"],
        ]
    );
    // Map entries are in key order, whatever order they were logged in.
    let keys = common::sql(
        &ctx,
        "SELECT map_keys(params), map_keys(tags), map_keys(metrics) FROM runs_wide \
         WHERE run_id = 'r03'",
    )
    .await;
    assert_eq!(
        keys,
        [[
            "[batch-size, lr, optimizer]",
            "[mlflow.note.content, mlflow.runName, stage, user-name]",
            "[loss, val_loss]",
        ]]
    );
    let all = common::sql(&ctx, "SELECT * FROM search_runs('run_id = ''r01''')").await;
    assert_eq!(all.len(), 1);
    let shape = ok(&w.session, "SELECT * FROM search_runs('run_id = ''r01''')").await;
    assert_eq!(column_names(&shape), strings(RUN_COLUMNS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_runs_table_function() {
    let w = world().await;
    let ctx = common::context(&w.store).await;
    let ids = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();

    let cheap = common::sorted(
        &ctx,
        "SELECT run_id FROM search_runs('metrics.val_loss < 0.5')",
    )
    .await;
    assert_eq!(ids(cheap), ["r07", "r08"]);

    // experiment_ids and order_by as JSON text.
    let e2 = w.experiment("E2");
    let by_loss = common::sql(
        &ctx,
        &format!("SELECT run_id FROM search_runs('', '[\"{e2}\"]', '[\"metrics.loss ASC\"]')"),
    )
    .await;
    assert_eq!(ids(by_loss), ["r08", "r07", "r09", "r11", "r10"]);

    // ... and as SQL arrays, with max_results. lr as text DESC:
    // 'auto' (r06) > '1e-3' (r03) > '0.1' (r04) > '0.01' ...
    let e1 = w.experiment("E1");
    let top = common::sql(
        &ctx,
        &format!("SELECT run_id FROM search_runs('', ['{e1}', '0'], ['params.lr DESC'], 3)"),
    )
    .await;
    assert_eq!(ids(top), ["r06", "r03", "r04"]);

    // The view type, with a filter quoted inside a SQL string.
    let deleted = common::sql(
        &ctx,
        "SELECT run_id FROM search_runs('tags.stage = ''prod''', NULL, NULL, 100, 'DELETED_ONLY')",
    )
    .await;
    assert_eq!(ids(deleted), ["r12"]);
    let everywhere = common::sorted(
        &ctx,
        "SELECT run_id FROM search_runs('params.lr = 0.01', NULL, NULL, 1000, 'ALL')",
    )
    .await;
    assert_eq!(ids(everywhere), ["r01", "r05", "r12", "r13", "r14"]);

    // Default order when order_by is NULL.
    let newest = common::sql(
        &ctx,
        "SELECT run_id FROM search_runs('tags.stage = ''dev''', NULL, NULL)",
    )
    .await;
    assert_eq!(ids(newest), ["r11", "r08", "r05", "r02"]);

    // Joined with params and aggregated. Loss below 1: r01 adam, r02 sgd,
    // r04 adamw, r05 sgd, r06 Adam, r07 adamw, r08 adamw, r09 lion, r13 adam,
    // and r14 without an optimizer.
    let per_optimizer = common::sql(
        &ctx,
        "SELECT p.value AS optimizer, count(*) AS runs \
         FROM search_runs('metrics.loss < 1') s \
         JOIN params p ON p.run_id = s.run_id AND p.key = 'optimizer' \
         GROUP BY p.value ORDER BY p.value",
    )
    .await;
    assert_eq!(
        per_optimizer,
        [
            ["Adam", "1"],
            ["adam", "2"],
            ["adamw", "3"],
            ["lion", "1"],
            ["sgd", "2"],
        ]
    );

    // Mean latest val_loss per stage over the runs that have one.
    let per_stage = common::sql(
        &ctx,
        "SELECT tags['stage'] AS stage, count(*) AS runs, avg(metrics['val_loss']) AS mean \
         FROM search_runs('metrics.val_loss IS NOT NULL') \
         GROUP BY tags['stage'] ORDER BY stage",
    )
    .await;
    // dev: r02 0.625, r08 0.3125; prod: r01 0.5, r03 1.5, r07 0.4375.
    assert_eq!(
        per_stage,
        [["dev", "2", "0.46875"], ["prod", "3", "0.8125"]]
    );

    // A malformed filter fails with the same message as through EXEC.
    let error = w
        .session
        .execute("SELECT run_id FROM search_runs('metrics.rmse equals 1')")
        .await
        .expect_err("a malformed filter must fail");
    assert!(
        error
            .to_string()
            .contains("expected a comparator after metrics.rmse at 14, found 'equals'"),
        "{}",
        error.with_code()
    );
}

// ---------------------------------------------------------------------------
// Experiments
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiments_search() {
    let w = world().await;
    let s = &w.session;
    let created = ok(
        s,
        "SELECT experiment_id, creation_time FROM experiments ORDER BY experiment_id",
    )
    .await;
    let created: HashMap<String, i64> = column(&created, "experiment_id")
        .into_iter()
        .zip(millis(&created, "creation_time"))
        .map(|(id, ms)| (id, ms.unwrap()))
        .collect();
    let e1_created = created[w.experiment("E1")];
    let e4_created = created[w.experiment("E4")];

    // (view type, filter, order_by, experiment names in result order)
    type Case = (
        Option<&'static str>,
        String,
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: Vec<Case> = vec![
        (
            None,
            String::new(),
            &[],
            &["vision-eval", "nlp_baseline", "vision-sweep", "Default"],
        ),
        (None, "name = 'nlp_baseline'".into(), &[], &["nlp_baseline"]),
        (
            None,
            r#"name = "vision-sweep""#.into(),
            &[],
            &["vision-sweep"],
        ),
        (
            None,
            "name != 'Default'".into(),
            &[],
            &["vision-eval", "nlp_baseline", "vision-sweep"],
        ),
        (
            None,
            "name LIKE 'vision%'".into(),
            &[],
            &["vision-eval", "vision-sweep"],
        ),
        (None, "name LIKE 'VISION%'".into(), &[], &[]),
        (
            None,
            "name ILIKE 'VISION-S%'".into(),
            &[],
            &["vision-sweep"],
        ),
        (
            None,
            "NOT name LIKE 'vision%'".into(),
            &[],
            &["nlp_baseline", "Default"],
        ),
        (
            None,
            "tags.team = 'cv'".into(),
            &[],
            &["vision-eval", "vision-sweep"],
        ),
        // Default has no team tag, so != does not reach it.
        (None, "tags.team != 'cv'".into(), &[], &["nlp_baseline"]),
        (
            None,
            "tags.team = 'nlp' OR tags.priority = 'high'".into(),
            &[],
            &["nlp_baseline", "vision-sweep"],
        ),
        (
            None,
            "tags.team = 'cv' AND name LIKE '%eval'".into(),
            &[],
            &["vision-eval"],
        ),
        (
            None,
            format!("creation_time > {e1_created}"),
            &[],
            &["vision-eval", "nlp_baseline"],
        ),
        (
            None,
            format!("creation_time <= {e1_created}"),
            &[],
            &["vision-sweep", "Default"],
        ),
        (
            None,
            String::new(),
            &["name ASC"],
            &["Default", "nlp_baseline", "vision-eval", "vision-sweep"],
        ),
        (
            None,
            String::new(),
            &["name DESC"],
            &["vision-sweep", "vision-eval", "nlp_baseline", "Default"],
        ),
        (
            None,
            "name LIKE 'vision%'".into(),
            &["name ASC"],
            &["vision-eval", "vision-sweep"],
        ),
        (Some("DELETED_ONLY"), String::new(), &[], &["Scratch"]),
        (
            Some("ALL"),
            String::new(),
            &[],
            &[
                "vision-eval",
                "Scratch",
                "nlp_baseline",
                "vision-sweep",
                "Default",
            ],
        ),
        (Some("ALL"), "name = 'Scratch'".into(), &[], &["Scratch"]),
        (Some("ACTIVE_ONLY"), "name = 'Scratch'".into(), &[], &[]),
        // Deleting Scratch updated it after every creation.
        (
            Some("ALL"),
            format!("last_update_time > {e4_created}"),
            &[],
            &["Scratch"],
        ),
    ];
    let mut mismatches = Mismatches::default();
    for (view, filter, order_by, expected) in &cases {
        let mut sql = format!("EXEC experiments.search @filter={}", lit(filter));
        if !order_by.is_empty() {
            sql.push_str(&format!(" @order_by={}", json_lit(&json!(order_by))));
        }
        if let Some(view) = view {
            sql.push_str(&format!(" @view_type='{view}'"));
        }
        let actual = s
            .execute(&sql)
            .await
            .map(|output| column(&output, "name"))
            .map_err(|e| format!("error {}", e.with_code()));
        mismatches.check(&sql, strings(expected), actual);
    }
    mismatches.assert_none("experiments.search");

    let columns = ok(s, "EXEC experiments.search").await;
    assert_eq!(
        column_names(&columns),
        [
            "experiment_id",
            "name",
            "artifact_location",
            "lifecycle_stage",
            "creation_time",
            "last_update_time",
            "tags",
            "next_page_token",
        ]
    );

    // Paging: two pages of two; the second is the last, so its token is NULL.
    let first = ok(s, "EXEC experiments.search @max_results=2").await;
    assert_eq!(column(&first, "name"), ["vision-eval", "nlp_baseline"]);
    let token = cell(&first, "next_page_token", 0);
    assert_ne!(token, "NULL", "{}", pretty(&first));
    assert_eq!(cell(&first, "next_page_token", 1), token);
    let second = ok(
        s,
        &format!(
            "EXEC experiments.search @max_results=2 @page_token={}",
            lit(&token)
        ),
    )
    .await;
    assert_eq!(column(&second, "name"), ["vision-sweep", "Default"]);
    assert_eq!(column(&second, "next_page_token"), ["NULL", "NULL"]);

    // The table form: (filter, order_by, max_results, view_type), lists as
    // SQL arrays or JSON text, NULL for the default.
    for (sql, expected) in [
        (
            "SELECT name FROM search_experiments('name LIKE ''vision%''', ['name DESC'])",
            &["vision-sweep", "vision-eval"][..],
        ),
        (
            "SELECT name FROM search_experiments('', '[\"name\"]', 2, 'ALL')",
            &["Default", "Scratch"][..],
        ),
        (
            "SELECT count(*) AS n FROM search_experiments('tags.team = ''cv''', NULL, NULL, NULL)",
            &["2"][..],
        ),
    ] {
        let output = ok(s, sql).await;
        let first = output.schema.field(0).name().clone();
        assert_eq!(column(&output, &first), expected, "{sql}");
    }

    let bad = misreported(
        s,
        "EXEC experiments.search @filter='name LIKE'",
        &["experiments.search @filter"],
    )
    .await;
    assert!(bad.is_none(), "{}", bad.unwrap());
}

// ---------------------------------------------------------------------------
// Paging under concurrent writes
// ---------------------------------------------------------------------------

/// Pages through a search with `search.max_results` rows a page, following
/// `next_page_token` until it is NULL. After page `i` (counting from 1),
/// `writer` runs the statements `writes[i - 1]`. Returns the run ids of each
/// page, or what went wrong: a failed search, a token that differs between
/// the rows of a page, an empty page after a token, or paging without end.
async fn pages(
    w: &World,
    search: &Search<'_>,
    writer: &Session,
    writes: &[Vec<String>],
) -> Result<Vec<Vec<String>>, String> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut search = search.clone();
    loop {
        let sql = search.sql(w);
        let output = w
            .session
            .execute(&sql)
            .await
            .map_err(|e| format!("{sql}\nfailed after pages {pages:?}: {}", e.with_code()))?;
        let tokens = column(&output, "next_page_token");
        if tokens.windows(2).any(|pair| pair[0] != pair[1]) {
            return Err(format!(
                "{sql}\ntokens differ between rows:\n{}",
                pretty(&output)
            ));
        }
        let ids = column(&output, "run_id");
        if ids.is_empty() && !pages.is_empty() {
            return Err(format!(
                "{sql}\nan empty page after a token, after {pages:?}"
            ));
        }
        pages.push(ids);
        if pages.len() > 50 {
            return Err(format!("{sql}\npaging does not end: {pages:?}"));
        }
        if let Some(statements) = writes.get(pages.len() - 1) {
            for statement in statements {
                ok(writer, statement).await;
            }
        }
        match tokens.first().map(String::as_str) {
            None | Some("NULL") => return Ok(pages),
            Some(token) => search.page_token = Some(token.to_string()),
        }
    }
}

/// Every run in `before` appears exactly once over the pages, and no run twice.
fn assert_each_once(pages: &[Vec<String>], before: &[&str]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in pages.iter().flatten() {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let missing: Vec<_> = before.iter().filter(|id| !seen.contains_key(*id)).collect();
    assert!(
        twice.is_empty() && missing.is_empty(),
        "pages {pages:?}\nseen twice: {twice:?}\nmissing: {missing:?}"
    );
}

fn page_list(pages: &[&[&str]]) -> Vec<Vec<String>> {
    pages.iter().map(|page| strings(page)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_is_keyset_based_while_another_handle_writes() {
    let w = world().await;
    // A second handle on the same directory, as another process would have.
    let other = Store::open(w.dir.path().to_str().unwrap()).await.unwrap();
    let writer = other.session().await.unwrap();
    let create = |id: &str, start: i64| create_run_sql(id, "0", start, id, "zed");
    let log_loss = |id: &str, value: f64| {
        format!("EXEC runs.log_metric @run_id='{id}' @key='loss' @value={value} @step=0")
    };

    // Default order, three a page. After page 1 (cursor r11 at day 11): n01 is
    // newer than all, n02 older than all, n03 and s03 start with r11 but sort
    // before and after it by run_id. After page 2 (cursor r09): n04 falls
    // between r09 and r08, n05 ties r09 but sorts before it.
    let writes = vec![
        vec![
            create("n01", day(20)),
            create("n02", day(-30)),
            create("n03", day(11)),
            create("s03", day(11)),
        ],
        vec![create("n04", day(8) + HOUR), create("n05", day(9))],
    ];
    let search = Search {
        filter: Some(""),
        max_results: Some(3),
        ..Default::default()
    };
    let got = pages(&w, &search, &writer, &writes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_each_once(&got, ACTIVE);
    assert_eq!(
        got,
        page_list(&[
            &["r13", "r14", "r11"],
            &["s03", "r10", "r09"],
            &["n04", "r08", "r07"],
            &["r06", "r05", "r04"],
            &["r03", "r02", "r01"],
            &["n02"],
        ])
    );

    // By loss, four a page. After page 1 (cursor r02 at 0.375): r01 and r07,
    // already returned, are deleted; m01 sorts before the cursor; m02 ties r02
    // on loss but started earlier, so comes after it; m03 leads the 0.5 group.
    // After page 2 (cursor r14): m05 has the largest loss and m04 none at all,
    // so both come at the end.
    let writes = vec![
        vec![
            "EXEC runs.delete @run_id='r01'".to_string(),
            "EXEC runs.delete @run_id='r07'".to_string(),
            create("m01", day(20)),
            log_loss("m01", 0.1),
            create("m02", day(1)),
            log_loss("m02", 0.375),
            create("m03", day(14)),
            log_loss("m03", 0.5),
        ],
        vec![
            create("m04", day(1)),
            create("m05", day(5)),
            log_loss("m05", 9.0),
        ],
    ];
    let order_by: &[&str] = &["metrics.loss ASC"];
    let search = Search {
        filter: Some("run_id NOT LIKE 'n%' AND run_id NOT LIKE 's%'"),
        order_by: Some(order_by),
        max_results: Some(4),
        ..Default::default()
    };
    let got = pages(&w, &search, &writer, &writes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_each_once(&got, ACTIVE);
    assert_eq!(
        got,
        page_list(&[
            &["r08", "r01", "r07", "r02"],
            &["m02", "m03", "r13", "r14"],
            &["r05", "r06", "r09", "r04"],
            &["r11", "r03", "m05", "r10"],
            &["m04"],
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_tokens_only_continue_their_own_search() {
    let w = world().await;
    let e1: &[&str] = &["E1"];
    let by_loss: &[&str] = &["metrics.loss ASC"];
    let search = Search {
        filter: Some("metrics.loss > 0"),
        max_results: Some(3),
        ..Default::default()
    };
    let first = ok(&w.session, &search.sql(&w)).await;
    let token = cell(&first, "next_page_token", 0);
    assert_ne!(token, "NULL", "{}", pretty(&first));

    // The same search continues: loss > 0 is every run but r10.
    let next = Search {
        page_token: Some(token.clone()),
        ..search.clone()
    };
    assert_eq!(
        run_ids(&w.session, &next.sql(&w)).await,
        Ok(strings(&["r09", "r08", "r07"]))
    );
    // A token is no cursor that moves: used again, it gives the same page.
    assert_eq!(
        run_ids(&w.session, &next.sql(&w)).await,
        Ok(strings(&["r09", "r08", "r07"]))
    );
    // The page size is not part of the search: it may change between pages.
    let longer = Search {
        max_results: Some(5),
        ..next.clone()
    };
    assert_eq!(
        run_ids(&w.session, &longer.sql(&w)).await,
        Ok(strings(&["r09", "r08", "r07", "r06", "r05"]))
    );

    let others = [
        Search {
            filter: Some("metrics.loss > 1"),
            ..next.clone()
        },
        Search {
            filter: None,
            ..next.clone()
        },
        Search {
            order_by: Some(by_loss),
            ..next.clone()
        },
        Search {
            experiments: Some(e1),
            ..next.clone()
        },
        Search {
            view: Some("ALL"),
            ..next.clone()
        },
    ];
    let mut failures = Vec::new();
    for other in &others {
        failures.extend(
            misreported(
                &w.session,
                &other.sql(&w),
                &[
                    "runs.search @page_token: ",
                    "was issued for a different search",
                ],
            )
            .await,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
