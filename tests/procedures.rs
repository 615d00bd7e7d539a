//! The SQL surface, through SQL only: every EXEC procedure's happy path and
//! error paths (and that a failing statement writes nothing), the stackql
//! aliases, `@@json` merging, INSERT INTO runql's tables, session-variable
//! chaining, and every script under `queries/`.
//!
//! Only `Store::open` and `store.session()` touch the Rust API; everything else
//! goes through `Session::execute` / `Session::run_script`.

mod common;

use common::{cell, column, fails, millis, ok, pretty};

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use runql::sql::{Output, Session};
use runql::{ErrorCode, RunqlError, Store};
use serde_json::{Value, json};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A store in a temporary directory, and a session on it.
struct Fixture {
    dir: TempDir,
    store: Store,
    session: Session,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
    let session = store.session().await.unwrap();
    Fixture {
        dir,
        store,
        session,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A SQL string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A JSON value as a SQL string literal.
fn json_lit(value: &Value) -> String {
    lit(&value.to_string())
}

/// The named columns of every row, rendered as text.
fn rows(output: &Output, names: &[&str]) -> Vec<Vec<String>> {
    let columns: Vec<Vec<String>> = names.iter().map(|n| column(output, n)).collect();
    (0..output.row_count())
        .map(|row| columns.iter().map(|c| c[row].clone()).collect())
        .collect()
}

/// Owned rows from string literals, for comparing with [`rows`].
fn table(expected: &[&[&str]]) -> Vec<Vec<String>> {
    expected
        .iter()
        .map(|row| row.iter().map(|c| c.to_string()).collect())
        .collect()
}

fn ints(output: &Output, name: &str) -> Vec<Option<i64>> {
    let index = output.schema.index_of(name).unwrap();
    let mut out = Vec::new();
    for batch in &output.batches {
        let as_int = cast(batch.column(index), &DataType::Int64).unwrap();
        out.extend(as_int.as_primitive::<Int64Type>().iter());
    }
    out
}

fn floats(output: &Output, name: &str) -> Vec<Option<f64>> {
    let index = output.schema.index_of(name).unwrap();
    let mut out = Vec::new();
    for batch in &output.batches {
        let as_float = cast(batch.column(index), &DataType::Float64).unwrap();
        out.extend(as_float.as_primitive::<Float64Type>().iter());
    }
    out
}

/// The single integer a count result holds.
fn count(output: &Output, name: &str) -> i64 {
    assert_eq!(output.row_count(), 1, "{}", pretty(output));
    ints(output, name)[0].unwrap()
}

fn variable(session: &Session, name: &str) -> String {
    session
        .variable(name)
        .unwrap_or_else(|| panic!("@{name} is not set"))
        .to_string()
}

/// Each view's rows, ordered, as a text table: a before/after snapshot of the store.
const SNAPSHOT: &[(&str, &str)] = &[
    ("experiments", "experiment_id"),
    ("experiment_tags", "experiment_id, key"),
    ("runs", "run_id"),
    ("params", "run_id, key"),
    ("tags", "run_id, key"),
    ("metrics", "run_id, key, step, timestamp, value"),
    ("latest_metrics", "run_id, key"),
    ("inputs", "run_id, dataset_name, dataset_digest, context"),
    ("model_links", "run_id, model_id, direction, step"),
];

async fn snapshot(session: &Session) -> String {
    let mut text = String::new();
    for (view, order) in SNAPSHOT {
        let output = ok(session, &format!("SELECT * FROM {view} ORDER BY {order}")).await;
        text.push_str(&format!(
            "{view} ({} rows)\n{}\n",
            output.row_count(),
            pretty(&output)
        ));
    }
    text
}

/// Runs a statement that must fail with `code` and a message holding every
/// fragment, and checks that it changed nothing in any table.
async fn fails_cleanly(
    session: &Session,
    sql: &str,
    code: ErrorCode,
    fragments: &[&str],
) -> RunqlError {
    let before = snapshot(session).await;
    let error = fails(session, sql).await;
    let message = error.to_string();
    assert_eq!(error.code(), code, "{sql}\n{}", error.with_code());
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{sql}\nmessage {message:?}\ndoes not contain {fragment:?}"
        );
    }
    let after = snapshot(session).await;
    assert_eq!(before, after, "{sql} failed but changed the store");
    error
}

/// An experiment and an active run in it, with param lr=0.01, tag stage=dev and
/// metric loss=0.5 at step 0. Returns (experiment_id, run_id).
async fn experiment_with_run(session: &Session, name: &str) -> (String, String) {
    let experiment = ok(
        session,
        &format!("EXEC experiments.create @name={}", lit(name)),
    )
    .await;
    let experiment_id = cell(&experiment, "experiment_id", 0);
    let run = ok(
        session,
        "EXEC runs.create @experiment_id=@experiment_id @run_name='base' @start_time=1700000000000",
    )
    .await;
    let run_id = cell(&run, "run_id", 0);
    let logged = ok(
        session,
        r#"EXEC runs.log_batch @run_id=@run_id
             @params='[{"key": "lr", "value": "0.01"}]'
             @tags='[{"key": "stage", "value": "dev"}]'
             @metrics='[{"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 0}]'"#,
    )
    .await;
    assert_eq!(
        rows(&logged, &["metrics", "params", "tags"]),
        table(&[&["1", "1", "1"]])
    );
    (experiment_id, run_id)
}

/// Whether `source` has `EXEC <name>` followed by something that can't continue the name.
fn mentions_exec(source: &str, name: &str) -> bool {
    let needle = format!("EXEC {name}");
    source.match_indices(&needle).any(|(at, _)| {
        source[at + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
    })
}

// ---------------------------------------------------------------------------
// Happy paths: every procedure runs here (checked by every_procedure_is_tested).
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiments_procedures_happy_path() {
    let f = fixture().await;
    let s = &f.session;

    // create → the new row, as SELECT shows it; its columns become variables.
    let created = ok(
        s,
        r#"EXEC experiments.create @name='vision' @tags='[{"key": "team", "value": "cv"}]'"#,
    )
    .await;
    assert_eq!(created.row_count(), 1, "{}", pretty(&created));
    let id = cell(&created, "experiment_id", 0);
    assert_eq!(cell(&created, "name", 0), "vision");
    assert_eq!(cell(&created, "lifecycle_stage", 0), "active");
    let created_at = millis(&created, "creation_time")[0].expect("creation_time");
    assert!((now_ms() - created_at).abs() < 600_000, "{created_at}");
    assert_eq!(variable(s, "experiment_id"), id);
    let selected = ok(
        s,
        "SELECT * FROM experiments WHERE experiment_id = @experiment_id",
    )
    .await;
    assert_eq!(pretty(&selected), pretty(&created));
    let tags = ok(
        s,
        &format!("SELECT key, value FROM experiment_tags WHERE experiment_id = '{id}'"),
    )
    .await;
    assert_eq!(rows(&tags, &["key", "value"]), table(&[&["team", "cv"]]));

    // get → the entity with its tags.
    let got = ok(s, &format!("EXEC experiments.get @experiment_id='{id}'")).await;
    assert_eq!(
        rows(&got, &["experiment_id", "name", "lifecycle_stage"]),
        table(&[&[&id, "vision", "active"]])
    );
    let got_tags: Value = serde_json::from_str(&cell(&got, "tags", 0)).unwrap();
    assert_eq!(got_tags, json!({"team": "cv"}));
    assert_eq!(
        cell(&got, "artifact_location", 0),
        cell(&created, "artifact_location", 0)
    );

    // get_by_name → the same entity.
    let by_name = ok(s, "EXEC experiments.get_by_name @experiment_name='vision'").await;
    assert_eq!(pretty(&by_name), pretty(&got));

    // update → renamed row; the old name is gone.
    let renamed = ok(
        s,
        &format!("EXEC experiments.update @experiment_id='{id}' @new_name='vision-v2'"),
    )
    .await;
    assert_eq!(
        rows(&renamed, &["experiment_id", "name", "lifecycle_stage"]),
        table(&[&[&id, "vision-v2", "active"]])
    );
    let names = ok(
        s,
        &format!("SELECT name FROM experiments WHERE experiment_id = '{id}'"),
    )
    .await;
    assert_eq!(column(&names, "name"), ["vision-v2"]);
    let gone = fails(s, "EXEC experiments.get_by_name @experiment_name='vision'").await;
    assert_eq!(gone.code(), ErrorCode::ResourceDoesNotExist, "{gone}");

    // set_tag → the tag written; delete_tag → the tag removed.
    let tagged = ok(
        s,
        &format!("EXEC experiments.set_tag @experiment_id='{id}' @key='stage' @value='dev'"),
    )
    .await;
    assert_eq!(
        rows(&tagged, &["experiment_id", "key", "value"]),
        table(&[&[&id, "stage", "dev"]])
    );
    let all_tags =
        format!("SELECT key, value FROM experiment_tags WHERE experiment_id = '{id}' ORDER BY key");
    assert_eq!(
        rows(&ok(s, &all_tags).await, &["key", "value"]),
        table(&[&["stage", "dev"], &["team", "cv"]])
    );
    let untagged = ok(
        s,
        &format!("EXEC experiments.delete_tag @experiment_id='{id}' @key='team'"),
    )
    .await;
    assert_eq!(
        rows(&untagged, &["experiment_id", "deleted_tag"]),
        table(&[&[&id, "team"]])
    );
    assert_eq!(
        rows(&ok(s, &all_tags).await, &["key", "value"]),
        table(&[&["stage", "dev"]])
    );

    // delete → deleted row; search sees it only among deleted ones.
    let deleted = ok(s, &format!("EXEC experiments.delete @experiment_id='{id}'")).await;
    assert_eq!(
        rows(&deleted, &["experiment_id", "name", "lifecycle_stage"]),
        table(&[&[&id, "vision-v2", "deleted"]])
    );
    assert!(millis(&deleted, "last_update_time")[0].unwrap() >= created_at);

    let active = ok(s, "EXEC experiments.search").await;
    assert_eq!(column(&active, "name"), ["Default"]);
    let only_deleted = ok(s, "EXEC experiments.search @view_type='DELETED_ONLY'").await;
    assert_eq!(
        rows(&only_deleted, &["experiment_id", "name", "lifecycle_stage"]),
        table(&[&[&id, "vision-v2", "deleted"]])
    );
    // Newest first, as MLflow orders them.
    let all = ok(s, "EXEC experiments.search @view_type='ALL'").await;
    assert_eq!(column(&all, "name"), ["vision-v2", "Default"]);
    let first = ok(s, "EXEC experiments.search @view_type='ALL' @max_results=1").await;
    assert_eq!(column(&first, "name"), ["vision-v2"]);

    // restore → active again.
    let restored = ok(
        s,
        &format!("EXEC experiments.restore @experiment_id='{id}'"),
    )
    .await;
    assert_eq!(
        rows(&restored, &["experiment_id", "name", "lifecycle_stage"]),
        table(&[&[&id, "vision-v2", "active"]])
    );
    let active = ok(s, "EXEC experiments.search").await;
    assert_eq!(column(&active, "name"), ["vision-v2", "Default"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_lifecycle_procedures_happy_path() {
    let f = fixture().await;
    let s = &f.session;
    let experiment = ok(s, "EXEC experiments.create @name='lifecycle'").await;
    let exp = cell(&experiment, "experiment_id", 0);

    // create → the new row, as SELECT shows it.
    let created = ok(
        s,
        r#"EXEC runs.create @experiment_id=@experiment_id @run_name='first' @user_id='alice'
             @start_time=1700000000000 @tags='[{"key": "team", "value": "nlp"}]'"#,
    )
    .await;
    let first = cell(&created, "run_id", 0);
    assert_eq!(first.len(), 32, "{first}");
    assert_eq!(
        rows(
            &created,
            &[
                "run_name",
                "experiment_id",
                "user_id",
                "status",
                "lifecycle_stage",
                "end_time",
                "parent_run_id",
                "deleted_time"
            ]
        ),
        table(&[&[
            "first", &exp, "alice", "RUNNING", "active", "NULL", "NULL", "NULL"
        ]])
    );
    assert_eq!(millis(&created, "start_time"), [Some(1_700_000_000_000)]);
    assert!(cell(&created, "artifact_uri", 0).ends_with(&format!("{first}/artifacts")));
    assert_eq!(variable(s, "run_id"), first);
    let selected = ok(s, "SELECT * FROM runs WHERE run_id = @run_id").await;
    assert_eq!(pretty(&selected), pretty(&created));
    let tags = ok(
        s,
        &format!("SELECT key, value FROM tags WHERE run_id = '{first}' ORDER BY key"),
    )
    .await;
    assert_eq!(
        rows(&tags, &["key", "value"]),
        table(&[&["mlflow.runName", "first"], &["team", "nlp"]])
    );

    // get → the run in GetRun shape.
    let got = ok(s, &format!("EXEC runs.get @run_id='{first}'")).await;
    assert_eq!(
        rows(
            &got,
            &[
                "run_id",
                "run_name",
                "experiment_id",
                "user_id",
                "status",
                "lifecycle_stage"
            ]
        ),
        table(&[&[&first, "first", &exp, "alice", "RUNNING", "active"]])
    );
    assert_eq!(millis(&got, "start_time"), [Some(1_700_000_000_000)]);
    let got_tags: Value = serde_json::from_str(&cell(&got, "tags", 0)).unwrap();
    assert_eq!(
        got_tags,
        json!([{"key": "mlflow.runName", "value": "first"}, {"key": "team", "value": "nlp"}])
    );
    assert_eq!(cell(&got, "params", 0), "[]");
    assert_eq!(cell(&got, "metrics", 0), "[]");
    assert_eq!(cell(&got, "inputs", 0), "[]");

    // update → status, end time and name changed.
    let updated = ok(
        s,
        &format!(
            "EXEC runs.update @run_id='{first}' @status='FINISHED' @end_time=1700000100000 \
             @run_name='first-final'"
        ),
    )
    .await;
    assert_eq!(
        rows(
            &updated,
            &["run_id", "run_name", "status", "lifecycle_stage"]
        ),
        table(&[&[&first, "first-final", "FINISHED", "active"]])
    );
    assert_eq!(millis(&updated, "end_time"), [Some(1_700_000_100_000)]);
    let name_tag = ok(
        s,
        &format!("SELECT value FROM tags WHERE run_id = '{first}' AND key = 'mlflow.runName'"),
    )
    .await;
    assert_eq!(column(&name_tag, "value"), ["first-final"]);

    // delete → deleted with a deleted_time; search hides it unless asked.
    let before_delete = now_ms();
    let deleted = ok(s, &format!("EXEC runs.delete @run_id='{first}'")).await;
    assert_eq!(
        rows(&deleted, &["run_id", "lifecycle_stage", "status"]),
        table(&[&[&first, "deleted", "FINISHED"]])
    );
    let deleted_at = millis(&deleted, "deleted_time")[0].expect("deleted_time");
    assert!(deleted_at >= before_delete && deleted_at <= now_ms());
    let search = format!("EXEC runs.search @experiment_ids='[\"{exp}\"]'");
    assert_eq!(ok(s, &search).await.row_count(), 0);
    let search_deleted = ok(
        s,
        &format!("EXEC runs.search @experiment_ids='[\"{exp}\"]' @run_view_type='DELETED_ONLY'"),
    )
    .await;
    assert_eq!(column(&search_deleted, "run_id"), [first.as_str()]);

    // restore → active again, no deleted_time.
    let restored = ok(s, &format!("EXEC runs.restore @run_id='{first}'")).await;
    assert_eq!(
        rows(&restored, &["run_id", "lifecycle_stage", "deleted_time"]),
        table(&[&[&first, "active", "NULL"]])
    );
    assert_eq!(column(&ok(s, &search).await, "run_id"), [first.as_str()]);

    // cancel → KILLED with an end time now; fail → FAILED with an end time now.
    let second = cell(
        &ok(
            s,
            &format!("EXEC runs.create @experiment_id='{exp}' @run_name='second'"),
        )
        .await,
        "run_id",
        0,
    );
    let third = cell(
        &ok(
            s,
            &format!("EXEC runs.create @experiment_id='{exp}' @run_name='third'"),
        )
        .await,
        "run_id",
        0,
    );
    let before = now_ms();
    let cancelled = ok(s, &format!("EXEC runs.cancel @run_id='{second}'")).await;
    let failed = ok(s, &format!("EXEC runs.fail @run_id='{third}'")).await;
    let after = now_ms();
    assert_eq!(
        rows(
            &cancelled,
            &["run_id", "run_name", "status", "lifecycle_stage"]
        ),
        table(&[&[&second, "second", "KILLED", "active"]])
    );
    assert_eq!(
        rows(
            &failed,
            &["run_id", "run_name", "status", "lifecycle_stage"]
        ),
        table(&[&[&third, "third", "FAILED", "active"]])
    );
    for ended in [&cancelled, &failed] {
        let end = millis(ended, "end_time")[0].expect("end_time");
        assert!(
            end >= before && end <= after,
            "{end} not in {before}..{after}"
        );
    }
    let statuses = ok(
        s,
        &format!(
            "SELECT run_name, status FROM runs WHERE experiment_id = '{exp}' ORDER BY run_name"
        ),
    )
    .await;
    assert_eq!(
        rows(&statuses, &["run_name", "status"]),
        table(&[
            &["first-final", "FINISHED"],
            &["second", "KILLED"],
            &["third", "FAILED"]
        ])
    );

    // search → newest first, paged by max_results.
    let found = ok(s, &search).await;
    assert_eq!(found.row_count(), 3, "{}", pretty(&found));
    assert_eq!(cell(&found, "run_id", 2), first);
    let mut newest: Vec<String> = column(&found, "run_name")[..2].to_vec();
    newest.sort();
    assert_eq!(newest, ["second", "third"]);
    let paged = ok(
        s,
        &format!("EXEC runs.search @experiment_ids='[\"{exp}\"]' @max_results=1"),
    )
    .await;
    assert_eq!(column(&paged, "run_id"), [cell(&found, "run_id", 0)]);
    // Without experiment ids, every experiment's runs.
    let everywhere = ok(s, "EXEC runs.search @run_view_type='ALL'").await;
    assert_eq!(everywhere.row_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_procedures_happy_path() {
    let f = fixture().await;
    let s = &f.session;
    ok(s, "EXEC experiments.create @name='logging'").await;
    let run = cell(
        &ok(
            s,
            "EXEC runs.create @experiment_id=@experiment_id @run_name='logger'",
        )
        .await,
        "run_id",
        0,
    );

    // log_metric → the value written.
    let metric = ok(
        s,
        &format!(
            "EXEC runs.log_metric @run_id='{run}' @key='loss' @value=0.5 @step=3 \
             @timestamp=1700000000000 @dataset_name='mnist' @dataset_digest='d41d8cd9' @model_id='m-1'"
        ),
    )
    .await;
    assert_eq!(
        rows(&metric, &["run_id", "key", "value", "step"]),
        table(&[&[&run, "loss", "0.5", "3"]])
    );
    assert_eq!(millis(&metric, "timestamp"), [Some(1_700_000_000_000)]);
    let metrics = ok(
        s,
        &format!(
            "SELECT key, value, step, dataset_name, dataset_digest, model_id FROM metrics \
             WHERE run_id = '{run}'"
        ),
    )
    .await;
    assert_eq!(
        rows(
            &metrics,
            &[
                "key",
                "value",
                "step",
                "dataset_name",
                "dataset_digest",
                "model_id"
            ]
        ),
        table(&[&["loss", "0.5", "3", "mnist", "d41d8cd9", "m-1"]])
    );
    assert_eq!(
        millis(
            &ok(
                s,
                &format!("SELECT timestamp FROM metrics WHERE run_id = '{run}'")
            )
            .await,
            "timestamp"
        ),
        [Some(1_700_000_000_000)]
    );
    // A timestamp defaults to now, a step to 0.
    let before = now_ms();
    let defaulted = ok(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='lr_now' @value=1"),
    )
    .await;
    let stamped = millis(&defaulted, "timestamp")[0].unwrap();
    assert!(stamped >= before && stamped <= now_ms());
    assert_eq!(ints(&defaulted, "step"), [Some(0)]);

    // log_param → written once; the same value again is a no-op.
    let param = ok(
        s,
        &format!("EXEC runs.log_param @run_id='{run}' @key='lr' @value='0.01'"),
    )
    .await;
    assert_eq!(
        rows(&param, &["run_id", "key", "value", "written"]),
        table(&[&[&run, "lr", "0.01", "true"]])
    );
    let again = ok(
        s,
        &format!("EXEC runs.log_param @run_id='{run}' @key='lr' @value='0.01'"),
    )
    .await;
    assert_eq!(cell(&again, "written", 0), "false");
    let params = format!("SELECT key, value FROM params WHERE run_id = '{run}' ORDER BY key");
    assert_eq!(
        rows(&ok(s, &params).await, &["key", "value"]),
        table(&[&["lr", "0.01"]])
    );

    // set_tag → written, and overwrites; delete_tag → gone.
    let tag = ok(
        s,
        &format!("EXEC runs.set_tag @run_id='{run}' @key='stage' @value='dev'"),
    )
    .await;
    assert_eq!(
        rows(&tag, &["run_id", "key", "value"]),
        table(&[&[&run, "stage", "dev"]])
    );
    ok(
        s,
        &format!("EXEC runs.set_tag @run_id='{run}' @key='stage' @value='prod'"),
    )
    .await;
    let tags = format!(
        "SELECT key, value FROM tags WHERE run_id = '{run}' AND key <> 'mlflow.runName' ORDER BY key"
    );
    assert_eq!(
        rows(&ok(s, &tags).await, &["key", "value"]),
        table(&[&["stage", "prod"]])
    );
    let untagged = ok(
        s,
        &format!("EXEC runs.delete_tag @run_id='{run}' @key='stage'"),
    )
    .await;
    assert_eq!(
        rows(&untagged, &["run_id", "deleted_tag"]),
        table(&[&[&run, "stage"]])
    );
    assert_eq!(ok(s, &tags).await.row_count(), 0);

    // log_batch → counts of what was written; a repeated param is not rewritten.
    let batch = ok(
        s,
        &format!(
            r#"EXEC runs.log_batch @run_id='{run}'
                 @metrics='[{{"key": "acc", "value": 0.8, "timestamp": 1700000000000, "step": 1}},
                            {{"key": "acc", "value": 0.9, "timestamp": 1700000001000, "step": 2}}]'
                 @params='[{{"key": "optimizer", "value": "adam"}}, {{"key": "lr", "value": "0.01"}}]'
                 @tags='[{{"key": "stage", "value": "final"}}]'"#
        ),
    )
    .await;
    assert_eq!(
        rows(&batch, &["run_id", "metrics", "params", "tags"]),
        table(&[&[&run, "2", "1", "1"]])
    );
    let acc = ok(
        s,
        &format!(
            "SELECT value, step FROM metrics WHERE run_id = '{run}' AND key = 'acc' ORDER BY step"
        ),
    )
    .await;
    assert_eq!(
        rows(&acc, &["value", "step"]),
        table(&[&["0.8", "1"], &["0.9", "2"]])
    );
    let latest = ok(
        s,
        &format!("SELECT value, step FROM latest_metrics WHERE run_id = '{run}' AND key = 'acc'"),
    )
    .await;
    assert_eq!(rows(&latest, &["value", "step"]), table(&[&["0.9", "2"]]));
    assert_eq!(
        rows(&ok(s, &params).await, &["key", "value"]),
        table(&[&["lr", "0.01"], &["optimizer", "adam"]])
    );
    assert_eq!(
        rows(&ok(s, &tags).await, &["key", "value"]),
        table(&[&["stage", "final"]])
    );

    // log_inputs → counts; the inputs and model_links tables show them.
    let inputs = ok(
        s,
        &format!(
            r#"EXEC runs.log_inputs @run_id='{run}'
                 @datasets='[{{"dataset": {{"name": "mnist", "digest": "d41d8cd9", "source_type": "s3",
                               "source": "s3://data/mnist"}},
                              "tags": [{{"key": "mlflow.data.context", "value": "training"}}]}}]'
                 @models='[{{"model_id": "m-0"}}]'"#
        ),
    )
    .await;
    assert_eq!(
        rows(&inputs, &["run_id", "datasets", "models"]),
        table(&[&[&run, "1", "1"]])
    );
    let stored_inputs = ok(
        s,
        &format!(
            "SELECT dataset_name, dataset_digest, source_type, source, context FROM inputs \
             WHERE run_id = '{run}'"
        ),
    )
    .await;
    assert_eq!(
        rows(
            &stored_inputs,
            &[
                "dataset_name",
                "dataset_digest",
                "source_type",
                "source",
                "context"
            ]
        ),
        table(&[&["mnist", "d41d8cd9", "s3", "s3://data/mnist", "training"]])
    );
    let got = ok(s, &format!("EXEC runs.get @run_id='{run}'")).await;
    let got_inputs: Value = serde_json::from_str(&cell(&got, "inputs", 0)).unwrap();
    assert_eq!(got_inputs[0]["dataset"]["name"], "mnist");
    assert_eq!(got_inputs[0]["tags"][0]["value"], "training");
    let got_params: Value = serde_json::from_str(&cell(&got, "params", 0)).unwrap();
    assert_eq!(
        got_params,
        json!([{"key": "lr", "value": "0.01"}, {"key": "optimizer", "value": "adam"}])
    );

    // log_outputs → count; model_links shows the output with its step.
    let outputs = ok(
        s,
        &format!(
            r#"EXEC runs.log_outputs @run_id='{run}' @models='[{{"model_id": "m-1", "step": 10}}]'"#
        ),
    )
    .await;
    assert_eq!(
        rows(&outputs, &["run_id", "models"]),
        table(&[&[&run, "1"]])
    );
    let links = ok(
        s,
        &format!(
            "SELECT model_id, direction, step FROM model_links WHERE run_id = '{run}' ORDER BY model_id"
        ),
    )
    .await;
    assert_eq!(
        rows(&links, &["model_id", "direction", "step"]),
        table(&[&["m-0", "input", "NULL"], &["m-1", "output", "10"]])
    );

    // log_model → the model recorded in the log-model history tag, appended to.
    let model = json!({"artifact_path": "model", "flavors": {"python_function": {}}});
    let logged = ok(
        s,
        &format!(
            "EXEC runs.log_model @run_id='{run}' @model_json={}",
            json_lit(&model)
        ),
    )
    .await;
    assert_eq!(cell(&logged, "run_id", 0), run);
    let logged_json: Value = serde_json::from_str(&cell(&logged, "model_json", 0)).unwrap();
    assert_eq!(logged_json, model);
    ok(
        s,
        &format!(
            r#"EXEC runs.log_model @run_id='{run}' @model_json='{{"artifact_path": "model2", "flavors": {{}}}}'"#
        ),
    )
    .await;
    let history = ok(
        s,
        &format!(
            "SELECT value FROM tags WHERE run_id = '{run}' AND key = 'mlflow.log-model.history'"
        ),
    )
    .await;
    let history: Value = serde_json::from_str(&cell(&history, "value", 0)).unwrap();
    assert_eq!(
        history,
        json!([model, {"artifact_path": "model2", "flavors": {}}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_procedures_return_counts() {
    let f = fixture().await;
    let s = &f.session;
    let exp = cell(
        &ok(s, "EXEC experiments.create @name='bulk'").await,
        "experiment_id",
        0,
    );
    for (name, start) in [
        ("old", 1_700_000_000_000_i64),
        ("mid", 1_700_000_001_000),
        ("new", 1_700_000_002_000),
    ] {
        ok(
            s,
            &format!(
                "EXEC runs.create @experiment_id='{exp}' @run_name='{name}' @start_time={start}"
            ),
        )
        .await;
    }
    let stages = format!(
        "SELECT run_name, lifecycle_stage FROM runs WHERE experiment_id = '{exp}' ORDER BY start_time"
    );

    // delete_bulk → how many runs started at or before the time were deleted.
    let before_delete = now_ms();
    let deleted = ok(
        s,
        &format!(
            "EXEC runs.delete_bulk @experiment_id='{exp}' @max_timestamp_millis=1700000001000"
        ),
    )
    .await;
    assert_eq!(count(&deleted, "runs_deleted"), 2);
    assert_eq!(
        rows(&ok(s, &stages).await, &["run_name", "lifecycle_stage"]),
        table(&[&["old", "deleted"], &["mid", "deleted"], &["new", "active"]])
    );
    // Nothing left to delete in that window.
    let none = ok(
        s,
        &format!(
            "EXEC runs.delete_bulk @experiment_id='{exp}' @max_timestamp_millis=1700000001000"
        ),
    )
    .await;
    assert_eq!(count(&none, "runs_deleted"), 0);

    // restore_bulk → how many runs deleted at or after the time were restored, up to max_runs.
    let one = ok(
        s,
        &format!(
            "EXEC runs.restore_bulk @experiment_id='{exp}' @min_timestamp_millis={before_delete} @max_runs=1"
        ),
    )
    .await;
    assert_eq!(count(&one, "runs_restored"), 1);
    let rest = ok(
        s,
        &format!(
            "EXEC runs.restore_bulk @experiment_id='{exp}' @min_timestamp_millis={before_delete}"
        ),
    )
    .await;
    assert_eq!(count(&rest, "runs_restored"), 1);
    assert_eq!(
        rows(&ok(s, &stages).await, &["run_name", "lifecycle_stage"]),
        table(&[&["old", "active"], &["mid", "active"], &["new", "active"]])
    );
    // A window after the deletions restores nothing.
    let later = ok(
        s,
        &format!(
            "EXEC runs.restore_bulk @experiment_id='{exp}' @min_timestamp_millis={}",
            now_ms() + 60_000
        ),
    )
    .await;
    assert_eq!(count(&later, "runs_restored"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_and_compare() {
    let f = fixture().await;
    let s = &f.session;
    let exp = cell(
        &ok(s, "EXEC experiments.create @name='tree'").await,
        "experiment_id",
        0,
    );
    let create = |name: &str, parent: Option<&str>| {
        let tags = parent.map_or(
            json!([]),
            |p| json!([{"key": "mlflow.parentRunId", "value": p}]),
        );
        format!(
            "EXEC runs.create @experiment_id='{exp}' @run_name='{name}' @tags={}",
            json_lit(&tags)
        )
    };
    let parent = cell(&ok(s, &create("parent", None)).await, "run_id", 0);
    let child1 = cell(&ok(s, &create("child-1", Some(&parent))).await, "run_id", 0);
    let child2 = cell(&ok(s, &create("child-2", Some(&parent))).await, "run_id", 0);
    let grandchild = cell(
        &ok(s, &create("grandchild", Some(&child1))).await,
        "run_id",
        0,
    );

    let sorted = |output: &Output| {
        let mut found = rows(output, &["run_name", "parent_run_id"]);
        found.sort();
        found
    };
    // children → direct children only.
    let children = ok(s, &format!("EXEC runs.children @run_id='{parent}'")).await;
    assert_eq!(
        sorted(&children),
        table(&[&["child-1", &parent], &["child-2", &parent]])
    );
    // @recursive=true → grandchildren too.
    let tree = ok(
        s,
        &format!("EXEC runs.children @run_id='{parent}' @recursive=true"),
    )
    .await;
    assert_eq!(
        sorted(&tree),
        table(&[
            &["child-1", &parent],
            &["child-2", &parent],
            &["grandchild", &child1]
        ])
    );
    let mut ids = column(&tree, "run_id");
    ids.sort();
    let mut expected = vec![child1.clone(), child2.clone(), grandchild.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    // A leaf has none.
    let leaf = ok(
        s,
        &format!("EXEC runs.children @run_id='{grandchild}' @recursive=true"),
    )
    .await;
    assert_eq!(leaf.row_count(), 0);

    // compare → attributes, params, latest metrics and tags side by side, with `differs`.
    ok(
        s,
        &format!(
            r#"EXEC runs.log_batch @run_id='{child1}'
                 @params='[{{"key": "lr", "value": "0.01"}}, {{"key": "optimizer", "value": "adam"}}]'
                 @metrics='[{{"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 0}},
                            {{"key": "loss", "value": 0.25, "timestamp": 1700000001000, "step": 1}}]'"#
        ),
    )
    .await;
    ok(
        s,
        &format!(
            r#"EXEC runs.log_batch @run_id='{child2}'
                 @params='[{{"key": "lr", "value": "0.02"}}, {{"key": "optimizer", "value": "adam"}},
                           {{"key": "seed", "value": "7"}}]'
                 @metrics='[{{"key": "loss", "value": 0.25, "timestamp": 1700000000000, "step": 0}}]'"#
        ),
    )
    .await;
    let compared = ok(
        s,
        &format!(r#"EXEC runs.compare @run_ids='["{child1}", "{child2}"]'"#),
    )
    .await;
    let names: Vec<String> = compared
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["kind", "key", "child-1", "child-2", "differs"]);
    let found = rows(&compared, &["kind", "key", "child-1", "child-2", "differs"]);
    let find = |kind: &str, key: &str| -> Vec<String> {
        found
            .iter()
            .find(|r| r[0] == kind && r[1] == key)
            .unwrap_or_else(|| panic!("no {kind} {key} in\n{}", pretty(&compared)))
            .clone()
    };
    assert_eq!(
        find("attribute", "run_name"),
        ["attribute", "run_name", "child-1", "child-2", "true"]
    );
    assert_eq!(
        find("attribute", "experiment_id"),
        ["attribute", "experiment_id", &exp, &exp, "false"]
    );
    assert_eq!(
        find("attribute", "status"),
        ["attribute", "status", "RUNNING", "RUNNING", "false"]
    );
    assert_eq!(find("param", "lr"), ["param", "lr", "0.01", "0.02", "true"]);
    assert_eq!(
        find("param", "optimizer"),
        ["param", "optimizer", "adam", "adam", "false"]
    );
    assert_eq!(
        find("param", "seed"),
        ["param", "seed", "NULL", "7", "true"]
    );
    // The latest value of each metric: child-1's is 0.25 at step 1, child-2's 0.25 at step 0.
    assert_eq!(
        find("metric", "loss"),
        ["metric", "loss", "0.25", "0.25", "false"]
    );
    assert_eq!(
        find("tag", "mlflow.parentRunId"),
        ["tag", "mlflow.parentRunId", &parent, &parent, "false"]
    );
    let kinds: Vec<String> = column(&compared, "kind");
    let order: Vec<&str> = ["attribute", "param", "metric", "tag"]
        .into_iter()
        .filter(|k| kinds.iter().any(|x| x == k))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for kind in &kinds {
        if seen.last() != Some(&kind.as_str()) {
            seen.push(kind);
        }
    }
    assert_eq!(seen, order, "sections in order: {kinds:?}");

    // Three runs: one column per run.
    let three = ok(
        s,
        &format!(r#"EXEC runs.compare @run_ids='["{child1}", "{child2}", "{grandchild}"]'"#),
    )
    .await;
    assert_eq!(three.schema.fields().len(), 6, "{}", pretty(&three));
    let parents = rows(
        &three,
        &["kind", "key", "child-1", "child-2", "grandchild", "differs"],
    );
    assert!(
        parents.contains(&vec![
            "tag".to_string(),
            "mlflow.parentRunId".to_string(),
            parent.clone(),
            parent.clone(),
            child1.clone(),
            "true".to_string()
        ]),
        "{}",
        pretty(&three)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_gc_and_compact() {
    let f = fixture().await;
    let s = &f.session;
    let (_, keep) = experiment_with_run(s, "maintenance").await;
    let doomed = cell(
        &ok(
            s,
            "EXEC runs.create @experiment_id=@experiment_id @run_name='doomed'",
        )
        .await,
        "run_id",
        0,
    );
    ok(
        s,
        &format!("EXEC runs.log_metric @run_id='{doomed}' @key='loss' @value=1"),
    )
    .await;
    ok(
        s,
        &format!("EXEC runs.log_param @run_id='{doomed}' @key='lr' @value='1'"),
    )
    .await;
    ok(s, &format!("EXEC runs.delete @run_id='{doomed}'")).await;

    // Only runs deleted 30 days ago: none.
    let nothing = ok(s, "EXEC store.gc @older_than='30d'").await;
    assert_eq!(
        rows(
            &nothing,
            &["runs_removed", "experiments_removed", "rows_removed"]
        ),
        table(&[&["0", "0", "0"]])
    );
    let doomed_rows = format!(
        "SELECT (SELECT count(*) FROM runs WHERE run_id = '{doomed}') AS runs, \
                (SELECT count(*) FROM metrics WHERE run_id = '{doomed}') AS metrics, \
                (SELECT count(*) FROM params WHERE run_id = '{doomed}') AS params"
    );
    assert_eq!(
        rows(&ok(s, &doomed_rows).await, &["runs", "metrics", "params"]),
        table(&[&["1", "1", "1"]])
    );

    // Every deleted run: the doomed one goes for good, with its data; the other stays.
    let kept_before = ok(
        s,
        &format!("SELECT * FROM runs_long WHERE run_id = '{keep}' ORDER BY kind, key"),
    )
    .await;
    let removed = ok(s, "EXEC store.gc").await;
    assert_eq!(count(&removed, "runs_removed"), 1);
    assert_eq!(count(&removed, "experiments_removed"), 0);
    assert!(count(&removed, "rows_removed") >= 3, "{}", pretty(&removed));
    assert_eq!(
        rows(&ok(s, &doomed_rows).await, &["runs", "metrics", "params"]),
        table(&[&["0", "0", "0"]])
    );
    let kept_after = ok(
        s,
        &format!("SELECT * FROM runs_long WHERE run_id = '{keep}' ORDER BY kind, key"),
    )
    .await;
    assert_eq!(pretty(&kept_before), pretty(&kept_after));
    assert!(kept_after.row_count() >= 3);
    let restore = fails(s, &format!("EXEC runs.restore @run_id='{doomed}'")).await;
    assert_eq!(restore.code(), ErrorCode::ResourceDoesNotExist, "{restore}");

    // compact → a row per table, and no query result changes.
    for step in 1..=3 {
        ok(
            s,
            &format!(
                "EXEC runs.log_metric @run_id='{keep}' @key='loss' @value=0.{step} @step={step}"
            ),
        )
        .await;
    }
    let before = snapshot(s).await;
    let compacted = ok(s, "EXEC store.compact").await;
    let tables = column(&compacted, "table");
    for table in ["experiments", "runs", "params", "tags", "metrics"] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from\n{}",
            pretty(&compacted)
        );
    }
    let files = rows(&compacted, &["table", "files_before", "files_after"]);
    for row in &files {
        let (before_files, after_files): (i64, i64) =
            (row[1].parse().unwrap(), row[2].parse().unwrap());
        assert!(after_files <= before_files.max(1), "{}", pretty(&compacted));
    }
    let metrics_files = files.iter().find(|r| r[0] == "metrics").unwrap();
    assert!(
        metrics_files[1].parse::<i64>().unwrap() > 1,
        "{}",
        pretty(&compacted)
    );
    assert_eq!(metrics_files[2], "1", "{}", pretty(&compacted));
    assert_eq!(before, snapshot(s).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_buffer_writes_and_flush() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "buffered").await;
    let mode = ok(
        s,
        "EXEC store.buffer_writes @enabled=true @max_rows=50 @max_delay_ms=3600000",
    )
    .await;
    assert_eq!(
        rows(&mode, &["buffered", "max_rows", "max_delay_ms"]),
        table(&[&["true", "50", "3600000"]])
    );
    for step in 0..3 {
        ok(
            s,
            &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=1 @step={step}"),
        )
        .await;
    }
    let flushed = ok(s, "EXEC store.flush").await;
    assert_eq!(rows(&flushed, &["rows_flushed"]), table(&[&["3"]]));
    let again = ok(s, "EXEC store.flush").await;
    assert_eq!(rows(&again, &["rows_flushed"]), table(&[&["0"]]));
    let off = ok(s, "EXEC store.buffer_writes @enabled=false").await;
    assert_eq!(
        rows(&off, &["buffered", "max_rows", "max_delay_ms"]),
        table(&[&["false", "NULL", "NULL"]])
    );
    let count = ok(
        s,
        &format!("SELECT count(*) AS n FROM metrics WHERE run_id = '{run}'"),
    )
    .await;
    // The three flushed, and the one `experiment_with_run` logged.
    assert_eq!(rows(&count, &["n"]), table(&[&["4"]]));
}

// ---- beyond the happy paths ----

#[test]
fn every_procedure_is_tested() {
    // Every procedure in the registry runs in a happy-path test above the
    // marker, so adding a procedure without a test fails here.
    let source = include_str!("procedures.rs");
    let marker = concat!("// ---- ", "beyond the happy paths ----");
    let (happy, _) = source
        .split_once(marker)
        .expect("the marker is in this file");
    let missing: Vec<&str> = runql::procedures::ALL
        .iter()
        .map(|p| p.name)
        .filter(|name| !mentions_exec(happy, name))
        .collect();
    assert!(
        missing.is_empty(),
        "procedures without a happy-path test: {missing:?}"
    );
    // The check itself tells names apart.
    assert!(mentions_exec("EXEC runs.delete @x=1", "runs.delete"));
    assert!(!mentions_exec("EXEC runs.delete_bulk @x=1", "runs.delete"));
    assert!(mentions_exec("\"EXEC store.compact\"", "store.compact"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_procedure_lists_the_resources_procedures() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "unknown-procedure").await;

    let error = fails_cleanly(
        s,
        &format!("EXEC runs.log_metrics @run_id='{run}' @key='loss' @value=1"),
        ErrorCode::InvalidParameterValue,
        &["unknown procedure 'runs.log_metrics'; runs has "],
    )
    .await;
    let message = error.to_string();
    for procedure in runql::procedures::ALL {
        let listed = message.contains(procedure.name);
        assert_eq!(
            listed,
            procedure.name.starts_with("runs."),
            "{} listed={listed} in {message}",
            procedure.name
        );
    }

    let error = fails_cleanly(
        s,
        "EXEC experiments.rename @experiment_id='0' @new_name='x'",
        ErrorCode::InvalidParameterValue,
        &["unknown procedure 'experiments.rename'; experiments has "],
    )
    .await;
    for procedure in runql::procedures::ALL {
        assert_eq!(
            error.to_string().contains(procedure.name),
            procedure.name.starts_with("experiments."),
            "{}: {error}",
            procedure.name
        );
    }

    // The alias names the canonical resource's procedures.
    fails_cleanly(
        s,
        "EXEC experiment_runs.frobnicate",
        ErrorCode::InvalidParameterValue,
        &[
            "unknown procedure 'experiment_runs.frobnicate'",
            "runs.log_metric",
        ],
    )
    .await;
    // An unknown resource lists the resources.
    fails_cleanly(
        s,
        "EXEC models.list",
        ErrorCode::InvalidParameterValue,
        &[
            "unknown procedure 'models.list'",
            "the resources are experiments, runs (alias experiment_runs) and store",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_missing_arguments_list_what_is_accepted() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "arguments").await;
    let signature = runql::procedures::find("runs.log_metric")
        .unwrap()
        .signature();
    assert!(
        signature.starts_with("@run_id (text), @key (text), @value (number), [@timestamp (integer)], [@step (integer)]"),
        "{signature}"
    );

    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=1 @stepp=2"),
        ErrorCode::InvalidParameterValue,
        &[&format!(
            "runs.log_metric has no argument @stepp; it accepts {signature}"
        )],
    )
    .await;
    // Unknown names inside @@json too.
    fails_cleanly(
        s,
        &format!(
            r#"EXEC runs.log_metric @@json='{{"run_id": "{run}", "key": "loss", "value": 1, "colour": "red"}}'"#
        ),
        ErrorCode::InvalidParameterValue,
        &["runs.log_metric has no argument @colour; it accepts @run_id (text)"],
    )
    .await;
    // Missing required arguments, and null counts as missing.
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss'"),
        ErrorCode::InvalidParameterValue,
        &[&format!(
            "runs.log_metric needs @value; it accepts {signature}"
        )],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=null"),
        ErrorCode::InvalidParameterValue,
        &["runs.log_metric needs @value"],
    )
    .await;
    fails_cleanly(
        s,
        "EXEC runs.log_param @key='lr' @value='0.5'",
        ErrorCode::InvalidParameterValue,
        &["runs.log_param needs @run_id; it accepts @run_id (text), @key (text), @value (text)"],
    )
    .await;
    fails_cleanly(
        s,
        "EXEC experiments.create",
        ErrorCode::InvalidParameterValue,
        &["experiments.create needs @name"],
    )
    .await;
    // A procedure without arguments says so.
    fails_cleanly(
        s,
        "EXEC store.compact @now=true",
        ErrorCode::InvalidParameterValue,
        &["store.compact has no argument @now; it accepts no arguments"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_are_refused_before_anything_runs() {
    let f = fixture().await;
    let s = &f.session;
    let (exp, run) = experiment_with_run(s, "types").await;
    let invalid = ErrorCode::InvalidParameterValue;

    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=1 @step='abc'"),
        invalid,
        &["runs.log_metric @step must be a whole number, got 'abc'"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value='x'"),
        invalid,
        &["runs.log_metric @value must be a number, got 'x'"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=1 @step=1.5"),
        invalid,
        &["runs.log_metric @step must be a whole number, got 1.5"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=true"),
        invalid,
        &["runs.log_metric @value must be a number, got true"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.children @run_id='{run}' @recursive='maybe'"),
        invalid,
        &["runs.children @recursive must be true or false, got 'maybe'"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.delete_bulk @experiment_id='{exp}' @max_timestamp_millis='soon'"),
        invalid,
        &["runs.delete_bulk @max_timestamp_millis must be a whole number, got 'soon'"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_batch @run_id='{run}' @metrics='not json'"),
        invalid,
        &["runs.log_batch @metrics is not valid JSON"],
    )
    .await;
    fails_cleanly(
        s,
        &format!(r#"EXEC runs.log_batch @run_id='{run}' @metrics='[{{"key": "a"}}]'"#),
        invalid,
        &["runs.log_batch @metrics has the wrong shape"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.update @run_id='{run}' @status='DONE'"),
        invalid,
        &["DONE"],
    )
    .await;
    fails_cleanly(
        s,
        &format!(r#"EXEC runs.compare @run_ids='["{run}"]'"#),
        invalid,
        &["runs.compare @run_ids must name 2 or 3 runs, got 1"],
    )
    .await;
    fails_cleanly(
        s,
        "EXEC store.gc @older_than='2h1d'",
        invalid,
        &["store.gc @older_than must be a duration such as 30d, 1d2h or 90m, got '2h1d'"],
    )
    .await;
    // A type error in one argument stops the call even when the others are fine,
    // including the log_batch's valid metrics.
    fails_cleanly(
        s,
        &format!(
            r#"EXEC runs.log_batch @run_id='{run}'
                 @metrics='[{{"key": "fresh", "value": 1, "timestamp": 1700000000000, "step": 0}}]'
                 @params='{{"key": "not", "value": "a list"}}'"#
        ),
        invalid,
        &["runs.log_batch @params has the wrong shape"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_violations_write_nothing() {
    let f = fixture().await;
    let s = &f.session;
    let (exp, run) = experiment_with_run(s, "rules").await;
    let invalid = ErrorCode::InvalidParameterValue;

    // A param rewrite.
    fails_cleanly(
        s,
        &format!("EXEC runs.log_param @run_id='{run}' @key='lr' @value='0.02'"),
        invalid,
        &[&format!(
            "param 'lr' of run {run} already has value '0.01'; params are write-once (got '0.02')"
        )],
    )
    .await;
    // A batch with good metrics, params and tags and one param rewrite writes none of it.
    fails_cleanly(
        s,
        &format!(
            r#"EXEC runs.log_batch @run_id='{run}'
                 @metrics='[{{"key": "fresh", "value": 1, "timestamp": 1700000000000, "step": 0}}]'
                 @params='[{{"key": "new_param", "value": "1"}}, {{"key": "lr", "value": "0.02"}}]'
                 @tags='[{{"key": "new_tag", "value": "x"}}]'"#
        ),
        invalid,
        &["param 'lr'", "params are write-once"],
    )
    .await;
    // Over-limit keys and values.
    let long_key = "k".repeat(251);
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='{long_key}' @value=1"),
        invalid,
        &[
            "metric key 'kkk",
            "has length 251, which exceeds the limit of 250",
        ],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.set_tag @run_id='{run}' @key='{long_key}' @value='v'"),
        invalid,
        &["tag key", "exceeds the limit of 250"],
    )
    .await;
    fails_cleanly(
        s,
        &format!(
            "EXEC runs.log_param @run_id='{run}' @key='big' @value='{}'",
            "v".repeat(6001)
        ),
        invalid,
        &[
            "param 'big' value",
            "has length 6001, which exceeds the limit of 6000",
        ],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='a/../b' @value=1"),
        invalid,
        &["metric key 'a/../b' would resolve to 'b'"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key='a$b' @value=1"),
        invalid,
        &["metric key 'a$b' contains '$'"],
    )
    .await;
    let params: Vec<Value> = (0..101)
        .map(|i| json!({"key": format!("p{i}"), "value": "1"}))
        .collect();
    fails_cleanly(
        s,
        &format!(
            "EXEC runs.log_batch @run_id='{run}' @params={}",
            json_lit(&Value::Array(params))
        ),
        invalid,
        &["a batch may hold at most 100 params, got 101"],
    )
    .await;
    // Names held by an active experiment.
    fails_cleanly(
        s,
        "EXEC experiments.create @name='rules'",
        ErrorCode::ResourceAlreadyExists,
        &["rules"],
    )
    .await;
    // Deleting a tag that isn't set.
    fails_cleanly(
        s,
        &format!("EXEC runs.delete_tag @run_id='{run}' @key='never_set'"),
        ErrorCode::ResourceDoesNotExist,
        &["never_set"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("EXEC experiments.delete_tag @experiment_id='{exp}' @key='never_set'"),
        ErrorCode::ResourceDoesNotExist,
        &["never_set"],
    )
    .await;
    // bulk limits
    fails_cleanly(
        s,
        &format!(
            "EXEC runs.delete_bulk @experiment_id='{exp}' @max_timestamp_millis=1800000000000 @max_runs=0"
        ),
        invalid,
        &["max_runs must be between 1 and 10000, got 0"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_runs_refuse_writes() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "deleted").await;
    ok(s, &format!("EXEC runs.delete @run_id='{run}'")).await;
    let refused =
        format!("run '{run}' must be in the 'active' state to be written to; it is 'deleted'");
    for statement in [
        format!("EXEC runs.log_metric @run_id='{run}' @key='loss' @value=1"),
        format!("EXEC runs.log_param @run_id='{run}' @key='new' @value='1'"),
        format!("EXEC runs.set_tag @run_id='{run}' @key='stage' @value='prod'"),
        format!("EXEC runs.delete_tag @run_id='{run}' @key='stage'"),
        format!("EXEC runs.update @run_id='{run}' @status='FINISHED'"),
        format!("EXEC runs.cancel @run_id='{run}'"),
        format!("EXEC runs.fail @run_id='{run}'"),
        format!(
            r#"EXEC runs.log_batch @run_id='{run}'
                 @metrics='[{{"key": "m", "value": 1, "timestamp": 1700000000000, "step": 0}}]'"#
        ),
        format!(r#"EXEC runs.log_outputs @run_id='{run}' @models='[{{"model_id": "m"}}]'"#),
        format!(r#"EXEC runs.log_model @run_id='{run}' @model_json='{{"artifact_path": "m"}}'"#),
    ] {
        fails_cleanly(s, &statement, ErrorCode::InvalidParameterValue, &[&refused]).await;
    }
    // Reading still works: the run is deleted, not gone.
    let got = ok(s, &format!("EXEC runs.get @run_id='{run}'")).await;
    assert_eq!(cell(&got, "lifecycle_stage", 0), "deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_resource_does_not_exist() {
    let f = fixture().await;
    let s = &f.session;
    experiment_with_run(s, "unknown-ids").await;
    let missing = "ffffffffffffffffffffffffffffffff";
    let not_found = format!("run '{missing}' does not exist");
    for statement in [
        format!("EXEC runs.get @run_id='{missing}'"),
        format!("EXEC runs.log_metric @run_id='{missing}' @key='loss' @value=1"),
        format!("EXEC runs.log_param @run_id='{missing}' @key='lr' @value='1'"),
        format!("EXEC runs.set_tag @run_id='{missing}' @key='k' @value='v'"),
        format!("EXEC runs.update @run_id='{missing}' @status='FINISHED'"),
        format!("EXEC runs.delete @run_id='{missing}'"),
        format!("EXEC runs.restore @run_id='{missing}'"),
        format!("EXEC runs.cancel @run_id='{missing}'"),
        format!("EXEC runs.children @run_id='{missing}'"),
    ] {
        let error = fails_cleanly(
            s,
            &statement,
            ErrorCode::ResourceDoesNotExist,
            &[&not_found],
        )
        .await;
        assert_eq!(
            error.with_code(),
            format!("RESOURCE_DOES_NOT_EXIST: {not_found}")
        );
    }
    for statement in [
        "EXEC experiments.get @experiment_id='424242'",
        "EXEC experiments.delete @experiment_id='424242'",
        "EXEC experiments.set_tag @experiment_id='424242' @key='k' @value='v'",
        "EXEC runs.create @experiment_id='424242'",
        "EXEC runs.delete_bulk @experiment_id='424242' @max_timestamp_millis=1",
    ] {
        fails_cleanly(
            s,
            statement,
            ErrorCode::ResourceDoesNotExist,
            &["experiment '424242' does not exist"],
        )
        .await;
    }
    fails_cleanly(
        s,
        "EXEC experiments.get_by_name @experiment_name='nope'",
        ErrorCode::ResourceDoesNotExist,
        &["nope"],
    )
    .await;
    // A malformed id is a bad argument, not a missing run.
    fails_cleanly(
        s,
        "EXEC runs.get @run_id='not a run id'",
        ErrorCode::InvalidParameterValue,
        &["run_id 'not a run id' is not a valid"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_statements_write_nothing() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "malformed").await;
    let invalid = ErrorCode::InvalidParameterValue;

    fails_cleanly(
        s,
        &format!(r#"EXEC runs.log_param @@json='{{"run_id": "{run}", "key": '"#),
        invalid,
        &["@@json is not valid JSON"],
    )
    .await;
    fails_cleanly(
        s,
        &format!(r#"EXEC runs.log_param @@json='["{run}", "lr", "1"]'"#),
        invalid,
        &[&format!(
            r#"@@json must be a JSON object, got '["{run}","lr","1"]'"#
        )],
    )
    .await;
    // An unterminated string, alone and at the end of a script.
    let unterminated = format!("EXEC runs.set_tag @run_id='{run}' @key='stage' @value='oops");
    let column = unterminated.find("'oops").unwrap() + 1;
    fails_cleanly(
        s,
        &unterminated,
        invalid,
        &[&format!(
            "unterminated string starting at line 1, column {column}; expected a closing '"
        )],
    )
    .await;
    let before = snapshot(s).await;
    let script = format!(
        "EXEC runs.set_tag @run_id='{run}' @key='first' @value='ran';\n\
         EXEC runs.set_tag @run_id='{run}' @key='second' @value='oops;\n"
    );
    let error = match s.run_script(&script).await {
        Ok(_) => panic!("an unterminated string ran"),
        Err(e) => e,
    };
    assert_eq!(error.code(), invalid);
    assert!(
        error
            .to_string()
            .contains("unterminated string starting at line 2, column"),
        "{error}"
    );
    // The script is split before anything runs, so even its first statement did not run.
    assert_eq!(before, snapshot(s).await);
    // A bare word where a value belongs.
    fails_cleanly(
        s,
        &format!("EXEC runs.log_metric @run_id='{run}' @key=loss @value=1"),
        invalid,
        &["found bare word 'loss'; put text in quotes: @key='loss'"],
    )
    .await;
    // A script that fails part-way names the statement; earlier statements stay written.
    let script = format!(
        "EXEC runs.set_tag @run_id='{run}' @key='first' @value='ran';\n\
         EXEC runs.log_param @run_id='{run}' @key='lr' @value='0.5';\n\
         EXEC runs.set_tag @run_id='{run}' @key='third' @value='never';\n"
    );
    let error = match s.run_script(&script).await {
        Ok(_) => panic!("a param rewrite succeeded"),
        Err(e) => e,
    };
    assert!(
        error
            .to_string()
            .starts_with("statement at line 2, column 1: param 'lr'"),
        "{error}"
    );
    let tags = ok(
        s,
        &format!(
            "SELECT key, value FROM tags WHERE run_id = '{run}' AND key IN ('first', 'third')"
        ),
    )
    .await;
    assert_eq!(rows(&tags, &["key", "value"]), table(&[&["first", "ran"]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stackql_aliases_and_run_uuid() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "aliases").await;

    // experiment_runs.* is runs.*.
    let logged = ok(
        s,
        &format!(
            "EXEC experiment_runs.log_metric @run_id='{run}' @key='alias_metric' @value=2.5 @step=1"
        ),
    )
    .await;
    assert_eq!(
        rows(&logged, &["run_id", "key", "value", "step"]),
        table(&[&[&run, "alias_metric", "2.5", "1"]])
    );
    let metric = ok(
        s,
        &format!("SELECT value, step FROM metrics WHERE run_id = '{run}' AND key = 'alias_metric'"),
    )
    .await;
    assert_eq!(rows(&metric, &["value", "step"]), table(&[&["2.5", "1"]]));

    // The full stackql path, with @deployment_name ignored and arguments in @@json.
    let param = ok(
        s,
        &format!(
            r#"EXEC databricks_workspace.ml.experiment_runs.log_param @deployment_name='x'
                 @@json='{{"run_id": "{run}", "key": "stackql", "value": "yes"}}'"#
        ),
    )
    .await;
    assert_eq!(
        rows(&param, &["run_id", "key", "value", "written"]),
        table(&[&[&run, "stackql", "yes", "true"]])
    );
    let params = ok(
        s,
        &format!("SELECT value FROM params WHERE run_id = '{run}' AND key = 'stackql'"),
    )
    .await;
    assert_eq!(column(&params, "value"), ["yes"]);

    // run_uuid is run_id, as an argument and inside @@json, in any case.
    ok(
        s,
        &format!(
            r#"EXEC databricks_workspace.ml.experiment_runs.set_tag @deployment_name='x'
                 @@json='{{"run_uuid": "{run}", "key": "via", "value": "uuid"}}'"#
        ),
    )
    .await;
    let tag = ok(
        s,
        &format!("SELECT value FROM tags WHERE run_id = '{run}' AND key = 'via'"),
    )
    .await;
    assert_eq!(column(&tag, "value"), ["uuid"]);
    let by_id = ok(s, &format!("EXEC runs.get @run_id='{run}'")).await;
    let by_uuid = ok(s, &format!("EXEC experiment_runs.get @run_uuid='{run}'")).await;
    let shouted = ok(
        s,
        &format!("EXECUTE Databricks_Workspace.ML.Experiment_Runs.GET @RUN_UUID='{run}'"),
    )
    .await;
    assert_eq!(pretty(&by_uuid), pretty(&by_id));
    assert_eq!(pretty(&shouted), pretty(&by_id));
    assert_eq!(cell(&by_uuid, "run_id", 0), run);
    let via_uuid = ok(
        s,
        &format!("EXEC runs.log_metric @run_uuid='{run}' @key='uuid_metric' @value=3"),
    )
    .await;
    assert_eq!(cell(&via_uuid, "run_id", 0), run);
    // Other resources take the alias prefix too.
    let experiment = ok(
        s,
        "EXEC databricks_workspace.ml.experiments.get_by_name @deployment_name='x' \
         @experiment_name='aliases'",
    )
    .await;
    assert_eq!(cell(&experiment, "name", 0), "aliases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_body_and_named_arguments_merge() {
    let f = fixture().await;
    let s = &f.session;
    let (exp, run) = experiment_with_run(s, "merge").await;

    // @name wins over the same key in @@json; other keys come from @@json.
    let logged = ok(
        s,
        &format!(
            r#"EXEC runs.log_metric
                 @@json='{{"run_id": "{run}", "key": "from_json", "value": 1, "step": 5}}'
                 @key='from_arg' @value=2"#
        ),
    )
    .await;
    assert_eq!(
        rows(&logged, &["key", "value", "step"]),
        table(&[&["from_arg", "2.0", "5"]])
    );
    let metrics = ok(
        s,
        &format!(
            "SELECT key, value, step FROM metrics WHERE run_id = '{run}' AND key LIKE 'from%'"
        ),
    )
    .await;
    assert_eq!(
        rows(&metrics, &["key", "value", "step"]),
        table(&[&["from_arg", "2.0", "5"]])
    );

    // Numbers given as strings in @@json are accepted, as stackql writes them.
    let bulk = cell(
        &ok(s, "EXEC experiments.create @name='merge-bulk'").await,
        "experiment_id",
        0,
    );
    for (name, start) in [
        ("early", 1_700_000_000_000_i64),
        ("late", 1_700_000_002_000),
    ] {
        ok(
            s,
            &format!(
                "EXEC runs.create @experiment_id='{bulk}' @run_name='{name}' @start_time={start}"
            ),
        )
        .await;
    }
    let deleted = ok(
        s,
        &format!(
            r#"EXEC databricks_workspace.ml.experiment_runs.delete_bulk @deployment_name='x'
                 @@json='{{"experiment_id": "{bulk}", "max_timestamp_millis": "1700000001000", "max_runs": "500"}}'"#
        ),
    )
    .await;
    assert_eq!(count(&deleted, "runs_deleted"), 1);
    let stages = ok(
        s,
        &format!(
            "SELECT run_name, lifecycle_stage FROM runs WHERE experiment_id = '{bulk}' ORDER BY run_name"
        ),
    )
    .await;
    assert_eq!(
        rows(&stages, &["run_name", "lifecycle_stage"]),
        table(&[&["early", "deleted"], &["late", "active"]])
    );
    let restored = ok(
        s,
        &format!(
            r#"EXEC runs.restore_bulk @@json='{{"experiment_id": "{bulk}", "min_timestamp_millis": "0", "max_runs": "500"}}'"#
        ),
    )
    .await;
    assert_eq!(count(&restored, "runs_restored"), 1);
    // Numeric ids may be given bare.
    let bare = ok(s, &format!("EXEC experiments.get @experiment_id={bulk}")).await;
    assert_eq!(cell(&bare, "name", 0), "merge-bulk");
    // A number-as-string that is not a number is still refused.
    fails_cleanly(
        s,
        &format!(
            r#"EXEC runs.delete_bulk @@json='{{"experiment_id": "{exp}", "max_timestamp_millis": "1700000001000", "max_runs": "lots"}}'"#
        ),
        ErrorCode::InvalidParameterValue,
        &["runs.delete_bulk @max_runs must be a whole number, got 'lots'"],
    )
    .await;
    // The @name override also applies to a bad @@json value.
    let fixed = ok(
        s,
        &format!(
            r#"EXEC runs.log_metric @@json='{{"run_id": "{run}", "key": "fixed", "value": "x"}}' @value=3"#
        ),
    )
    .await;
    assert_eq!(cell(&fixed, "value", 0), "3.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_uuid_argument_wins_over_run_id_in_json() {
    // run_uuid is run_id, and a named argument wins over the same key in @@json,
    // so @run_uuid overrides @@json's run_id.
    let f = fixture().await;
    let s = &f.session;
    let (_, target) = experiment_with_run(s, "uuid-wins").await;
    let other = cell(
        &ok(
            s,
            "EXEC runs.create @experiment_id=@experiment_id @run_name='other'",
        )
        .await,
        "run_id",
        0,
    );
    let logged = ok(
        s,
        &format!(
            r#"EXEC runs.log_metric @@json='{{"run_id": "{other}", "key": "where", "value": 1}}'
                 @run_uuid='{target}'"#
        ),
    )
    .await;
    assert_eq!(cell(&logged, "run_id", 0), target, "{}", pretty(&logged));
    let written = ok(s, "SELECT run_id FROM metrics WHERE key = 'where'").await;
    assert_eq!(column(&written, "run_id"), [target]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_into_runql_tables() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "inserts").await;

    // metrics with the timestamp left out: it defaults to now.
    let before = now_ms();
    let inserted = ok(
        s,
        &format!(
            "INSERT INTO metrics (run_id, key, value, step) VALUES \
             ('{run}', 'ins_loss', 0.5, 1), ('{run}', 'ins_loss', 0.25, 2)"
        ),
    )
    .await;
    let after = now_ms();
    assert_eq!(count(&inserted, "count"), 2);
    let metrics = ok(
        s,
        &format!(
            "SELECT value, step, timestamp FROM metrics WHERE run_id = '{run}' AND key = 'ins_loss' \
             ORDER BY step"
        ),
    )
    .await;
    assert_eq!(
        rows(&metrics, &["value", "step"]),
        table(&[&["0.5", "1"], &["0.25", "2"]])
    );
    for stamp in millis(&metrics, "timestamp") {
        let stamp = stamp.unwrap();
        assert!(stamp >= before && stamp <= after, "{stamp}");
    }

    // params: column-less and with columns; a repeat of the same value writes nothing.
    let params = ok(
        s,
        &format!("INSERT INTO params VALUES ('{run}', 'batch', '32')"),
    )
    .await;
    assert_eq!(count(&params, "count"), 1);
    let repeat = ok(
        s,
        &format!("INSERT INTO params (run_id, key, value) VALUES ('{run}', 'batch', '32')"),
    )
    .await;
    assert_eq!(count(&repeat, "count"), 0);
    let stored = ok(
        s,
        &format!("SELECT key, value FROM params WHERE run_id = '{run}' ORDER BY key"),
    )
    .await;
    assert_eq!(
        rows(&stored, &["key", "value"]),
        table(&[&["batch", "32"], &["lr", "0.01"]])
    );

    // tags: written, and overwriting.
    let tags = ok(
        s,
        &format!(
            "INSERT INTO tags (run_id, key, value) VALUES ('{run}', 'stage', 'prod'), ('{run}', 'owner', 'me')"
        ),
    )
    .await;
    assert_eq!(count(&tags, "count"), 2);
    let stored = ok(
        s,
        &format!(
            "SELECT key, value FROM tags WHERE run_id = '{run}' AND key IN ('stage', 'owner') ORDER BY key"
        ),
    )
    .await;
    assert_eq!(
        rows(&stored, &["key", "value"]),
        table(&[&["owner", "me"], &["stage", "prod"]])
    );

    // experiments, experiment_tags and runs, with explicit ids.
    let experiments = ok(
        s,
        "INSERT INTO experiments (experiment_id, name, creation_time) \
         VALUES ('imported', 'imported-exp', 1600000000000)",
    )
    .await;
    assert_eq!(count(&experiments, "count"), 1);
    let experiment = ok(s, "EXEC experiments.get @experiment_id='imported'").await;
    assert_eq!(
        rows(&experiment, &["experiment_id", "name", "lifecycle_stage"]),
        table(&[&["imported", "imported-exp", "active"]])
    );
    assert_eq!(
        millis(&experiment, "creation_time"),
        [Some(1_600_000_000_000)]
    );
    let experiment_tags = ok(
        s,
        "INSERT INTO experiment_tags VALUES ('imported', 'source', 'legacy')",
    )
    .await;
    assert_eq!(count(&experiment_tags, "count"), 1);
    let stored = ok(
        s,
        "SELECT key, value FROM experiment_tags WHERE experiment_id = 'imported'",
    )
    .await;
    assert_eq!(
        rows(&stored, &["key", "value"]),
        table(&[&["source", "legacy"]])
    );
    let runs = ok(
        s,
        "INSERT INTO runs (run_id, run_name, experiment_id, user_id, status, start_time, end_time) \
         VALUES ('legacyrun1', 'legacy', 'imported', 'bob', 'FINISHED', 1600000000000, 1600000060000)",
    )
    .await;
    assert_eq!(count(&runs, "count"), 1);
    let child = ok(
        s,
        "INSERT INTO runs (run_id, experiment_id, parent_run_id) \
         VALUES ('legacychild', 'imported', 'legacyrun1')",
    )
    .await;
    let stored = ok(
        s,
        "SELECT run_id, run_name, user_id, status, lifecycle_stage, parent_run_id, start_time, end_time \
         FROM runs WHERE experiment_id = 'imported' ORDER BY run_id",
    )
    .await;
    assert_eq!(
        rows(
            &stored,
            &[
                "run_id",
                "run_name",
                "user_id",
                "status",
                "lifecycle_stage",
                "parent_run_id"
            ]
        ),
        table(&[
            &[
                "legacychild",
                "legacychild",
                "",
                "RUNNING",
                "active",
                "legacyrun1"
            ],
            &["legacyrun1", "legacy", "bob", "FINISHED", "active", "NULL"],
        ])
    );
    assert_eq!(
        millis(&stored, "start_time")[1..],
        [Some(1_600_000_000_000)]
    );
    assert_eq!(millis(&stored, "end_time"), [None, Some(1_600_000_060_000)]);
    let children = ok(s, "EXEC runs.children @run_id='legacyrun1'").await;
    assert_eq!(column(&children, "run_id"), ["legacychild"]);

    // The run's parent is stored as its mlflow.parentRunId tag, but the INSERT
    // wrote one row into runs, and says so.
    assert_eq!(
        count(&child, "count"),
        1,
        "INSERT INTO runs of one row with a parent_run_id reports its parent tag as a second row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_from_a_csv_file() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "csv").await;
    // Columns run_id,key,value,timestamp,step; DataFusion reads the integer
    // timestamps as Int64, which runql takes as milliseconds.
    let csv = f.dir.path().join("history.csv");
    std::fs::write(
        &csv,
        format!(
            "run_id,key,value,timestamp,step\n\
             {run},csv_loss,0.9,1700000000000,0\n\
             {run},csv_loss,0.7,1700000060000,1\n\
             {run},csv_acc,0.6,1700000060000,1\n"
        ),
    )
    .unwrap();
    let csv_path = csv.to_str().unwrap();
    let loaded = |key_pattern: &str| {
        format!(
            "SELECT key, value, step, timestamp FROM metrics WHERE run_id = '{run}' \
             AND key LIKE '{key_pattern}' ORDER BY key, step"
        )
    };

    // With a column list.
    let listed = ok(
        s,
        &format!(
            "INSERT INTO metrics (run_id, key, value, timestamp, step) \
             SELECT run_id, key, value, timestamp, step FROM '{csv_path}'"
        ),
    )
    .await;
    assert_eq!(count(&listed, "count"), 3);
    let stored = ok(s, &loaded("csv%")).await;
    assert_eq!(
        rows(&stored, &["key", "value", "step"]),
        table(&[
            &["csv_acc", "0.6", "1"],
            &["csv_loss", "0.9", "0"],
            &["csv_loss", "0.7", "1"]
        ])
    );
    assert_eq!(
        millis(&stored, "timestamp"),
        [
            Some(1_700_000_060_000),
            Some(1_700_000_000_000),
            Some(1_700_000_060_000)
        ]
    );
    // Any SELECT over the file: renamed keys, a filter.
    let copied = ok(
        s,
        &format!(
            "INSERT INTO metrics (run_id, key, value, timestamp, step) \
             SELECT run_id, 'copy_' || key, value, timestamp, step FROM '{csv_path}' \
             WHERE key = 'csv_loss'"
        ),
    )
    .await;
    assert_eq!(count(&copied, "count"), 2);
    let latest = ok(
        s,
        &format!(
            "SELECT value, step FROM latest_metrics WHERE run_id = '{run}' AND key = 'copy_csv_loss'"
        ),
    )
    .await;
    assert_eq!(rows(&latest, &["value", "step"]), table(&[&["0.7", "1"]]));

    // Without a column list, the SELECT's columns fill the table's leading
    // columns in order (run_id, key, value, timestamp, step), as in PostgreSQL.
    let before = snapshot(s).await;
    let bare = format!(
        "INSERT INTO metrics SELECT run_id, 'bare_' || key, value, timestamp, step FROM '{csv_path}'"
    );
    let filled = match s.execute(&bare).await {
        Ok(output) => output,
        Err(e) => {
            assert_eq!(before, snapshot(s).await, "{bare} failed but wrote");
            panic!("{bare}\nfailed: {}", e.with_code());
        }
    };
    assert_eq!(count(&filled, "count"), 3);
    let stored = ok(s, &loaded("bare_%")).await;
    assert_eq!(
        rows(&stored, &["key", "value", "step"]),
        table(&[
            &["bare_csv_acc", "0.6", "1"],
            &["bare_csv_loss", "0.9", "0"],
            &["bare_csv_loss", "0.7", "1"]
        ])
    );
    assert_eq!(
        millis(&stored, "timestamp"),
        [
            Some(1_700_000_060_000),
            Some(1_700_000_000_000),
            Some(1_700_000_060_000)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_inserts_write_nothing() {
    let f = fixture().await;
    let s = &f.session;
    let (_, run) = experiment_with_run(s, "bad-inserts").await;
    let invalid = ErrorCode::InvalidParameterValue;

    // A param rewrite in row 2 of 3.
    fails_cleanly(
        s,
        &format!(
            "INSERT INTO params VALUES ('{run}', 'p1', '1'), ('{run}', 'lr', '0.2'), ('{run}', 'p3', '3')"
        ),
        invalid,
        &[&format!(
            "params row 2: param 'lr' of run {run} already has value '0.01'; params are write-once (got '0.2')"
        )],
    )
    .await;
    // A key with '..' in row 2.
    fails_cleanly(
        s,
        &format!(
            "INSERT INTO metrics (run_id, key, value) VALUES ('{run}', 'ok', 1), ('{run}', 'a/../b', 2)"
        ),
        invalid,
        &["metrics row 2: metric key 'a/../b' would resolve to 'b'"],
    )
    .await;
    // An unknown run in row 3.
    let missing = "ffffffffffffffffffffffffffffffff";
    fails_cleanly(
        s,
        &format!(
            "INSERT INTO metrics (run_id, key, value) VALUES \
             ('{run}', 'ok', 1), ('{run}', 'ok2', 2), ('{missing}', 'ok', 3)"
        ),
        ErrorCode::ResourceDoesNotExist,
        &[missing, "metrics row 3"],
    )
    .await;
    // An over-limit tag value in row 2.
    fails_cleanly(
        s,
        &format!(
            "INSERT INTO tags VALUES ('{run}', 'fine', 'x'), ('{run}', 'huge', '{}')",
            "v".repeat(8001)
        ),
        invalid,
        &["tags row 2: tag 'huge' value", "exceeds the limit of 8000"],
    )
    .await;
    // A deleted run's rows.
    let deleted = cell(
        &ok(
            s,
            "EXEC runs.create @experiment_id=@experiment_id @run_name='gone'",
        )
        .await,
        "run_id",
        0,
    );
    ok(s, &format!("EXEC runs.delete @run_id='{deleted}'")).await;
    fails_cleanly(
        s,
        &format!("INSERT INTO params VALUES ('{run}', 'p1', '1'), ('{deleted}', 'p2', '2')"),
        invalid,
        &[&format!(
            "params row 2: run '{deleted}' must be in the 'active' state to be written to"
        )],
    )
    .await;
    // A bad status in a runs row, and a run id that already exists.
    fails_cleanly(
        s,
        "INSERT INTO runs (run_id, status) VALUES ('fresh1', 'FINISHED'), ('fresh2', 'DONE')",
        invalid,
        &["runs row 2", "DONE"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("INSERT INTO runs (run_id) VALUES ('fresh3'), ('{run}')"),
        ErrorCode::ResourceAlreadyExists,
        &[&run],
    )
    .await;
    // An experiment name an active experiment holds.
    fails_cleanly(
        s,
        "INSERT INTO experiments (name) VALUES ('new-one'), ('bad-inserts')",
        ErrorCode::ResourceAlreadyExists,
        &["bad-inserts", "experiments row 2"],
    )
    .await;
    // A NULL where a value is required.
    fails_cleanly(
        s,
        &format!(
            "INSERT INTO params (run_id, key, value) VALUES ('{run}', 'p1', '1'), ('{run}', NULL, '2')"
        ),
        invalid,
        &["params row 2: key must not be NULL"],
    )
    .await;
    // Columns the table does not take, and a column count mismatch.
    fails_cleanly(
        s,
        &format!("INSERT INTO metrics (run_id, key, colour) VALUES ('{run}', 'k', 'red')"),
        invalid,
        &["metrics has no insertable column 'colour'; it accepts run_id, key, value, timestamp, step"],
    )
    .await;
    fails_cleanly(
        s,
        &format!("INSERT INTO metrics (run_id, key, value) VALUES ('{run}', 'k')"),
        invalid,
        &[],
    )
    .await;
    // Derived views are refused.
    for view in ["latest_metrics", "runs_wide", "metric_summary"] {
        fails_cleanly(
            s,
            &format!("INSERT INTO {view} (run_id, key, value) VALUES ('{run}', 'k', 1)"),
            invalid,
            &[&format!(
                "{view} is derived and cannot be inserted into; insert into one of \
                 metrics, params, tags, runs, experiments, experiment_tags"
            )],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaining_and_non_finite_values() {
    let f = fixture().await;
    let s = &f.session;
    let outputs = s
        .run_script(
            "EXEC experiments.create @name='chained';
             EXEC runs.create @experiment_id=@experiment_id @run_name='chain' @start_time=1700000000000;
             EXEC runs.update @run_id=@run_id @end_time=@start_time;
             EXEC runs.log_metric @run_id=@run_id @key='nan' @value=NaN;
             EXEC runs.log_metric @run_id=@run_id @key='neg_inf' @value='-Infinity';
             EXEC runs.log_metric @run_id=@run_id @key='pos_inf' @value=Infinity @step=1;
             EXEC runs.log_metric @run_id=@run_id @key='copy' @value=@value @step=@step;
             SELECT r.run_name, e.name AS experiment FROM runs r
               JOIN experiments e ON e.experiment_id = r.experiment_id
              WHERE r.run_id = @run_id AND e.experiment_id = @experiment_id;",
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.with_code()));
    assert_eq!(outputs.len(), 8);
    let experiment_id = cell(&outputs[0], "experiment_id", 0);
    let run_id = cell(&outputs[1], "run_id", 0);
    assert_eq!(cell(&outputs[1], "experiment_id", 0), experiment_id);
    // A timestamp variable chains as milliseconds.
    assert_eq!(millis(&outputs[2], "end_time"), [Some(1_700_000_000_000)]);
    // Each returned value is the one written.
    assert!(floats(&outputs[3], "value")[0].unwrap().is_nan());
    assert_eq!(floats(&outputs[4], "value"), [Some(f64::NEG_INFINITY)]);
    assert_eq!(floats(&outputs[5], "value"), [Some(f64::INFINITY)]);
    assert_eq!(floats(&outputs[6], "value"), [Some(f64::INFINITY)]);
    assert_eq!(ints(&outputs[6], "step"), [Some(1)]);
    assert_eq!(
        rows(&outputs[7], &["run_name", "experiment"]),
        table(&[&["chain", "chained"]])
    );
    assert_eq!(variable(s, "run_id"), run_id);
    assert_eq!(variable(s, "experiment_id"), experiment_id);

    // They round-trip through the tables.
    let stored = ok(
        s,
        "SELECT key, value, isnan(value) AS is_nan FROM metrics WHERE run_id = @run_id ORDER BY key",
    )
    .await;
    assert_eq!(
        column(&stored, "key"),
        ["copy", "nan", "neg_inf", "pos_inf"]
    );
    let values = floats(&stored, "value");
    assert_eq!(values[0], Some(f64::INFINITY));
    assert!(values[1].unwrap().is_nan());
    assert_eq!(values[2], Some(f64::NEG_INFINITY));
    assert_eq!(values[3], Some(f64::INFINITY));
    assert_eq!(
        column(&stored, "is_nan"),
        ["false", "true", "false", "false"]
    );
    let infinite = ok(
        s,
        "SELECT count(*) AS n FROM metrics \
         WHERE run_id = @run_id AND value > 1.0e308 AND NOT isnan(value)",
    )
    .await;
    assert_eq!(count(&infinite, "n"), 2);
    // GetRun spells them as MLflow's REST API does.
    let got = ok(s, "EXEC runs.get @run_id=@run_id").await;
    let metrics: Value = serde_json::from_str(&cell(&got, "metrics", 0)).unwrap();
    let by_key = |key: &str| {
        metrics
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {metrics}"))["value"]
            .clone()
    };
    assert_eq!(by_key("nan"), "NaN");
    assert_eq!(by_key("neg_inf"), "-Infinity");
    assert_eq!(by_key("pos_inf"), "Infinity");
    // A NaN variable chains as NaN.
    ok(
        s,
        "EXEC runs.log_metric @run_id=@run_id @key='nan' @value=NaN @step=7",
    )
    .await;
    ok(
        s,
        "EXEC runs.log_metric @run_id=@run_id @key='nan_copy' @value=@value",
    )
    .await;
    let copied = ok(
        s,
        "SELECT value FROM metrics WHERE run_id = @run_id AND key = 'nan_copy'",
    )
    .await;
    assert!(floats(&copied, "value")[0].unwrap().is_nan());

    // An unset variable is an error in EXEC and in SQL, and writes nothing.
    fails_cleanly(
        s,
        "EXEC runs.log_metric @run_id=@nope @key='x' @value=1",
        ErrorCode::InvalidParameterValue,
        &["session variable @nope is not set"],
    )
    .await;
    let error = fails(s, "SELECT * FROM runs WHERE run_id = @nope").await;
    assert!(error.to_string().contains("@nope"), "{}", error.with_code());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_script_runs_against_the_quickstart_store() {
    let f = fixture().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    scripts.sort();
    let quickstart = dir.join("quickstart.sql");
    assert!(scripts.contains(&quickstart), "{scripts:?}");
    scripts.retain(|p| *p != quickstart);
    scripts.insert(0, quickstart);

    for script in &scripts {
        let text = std::fs::read_to_string(script).unwrap();
        // Each script runs as `runql -f` would: a fresh session on the same store.
        let session = f.store.session().await.unwrap();
        let outputs = session
            .run_script(&text)
            .await
            .unwrap_or_else(|e| panic!("{} failed: {}", script.display(), e.with_code()));
        let last = outputs
            .last()
            .unwrap_or_else(|| panic!("{} has no statements", script.display()));
        assert!(
            last.row_count() > 0,
            "{}: the final result is empty",
            script.display()
        );
    }
    // quickstart built what the others query.
    let runs = ok(
        &f.session,
        "SELECT run_name FROM runs WHERE run_name = 'adam-lr0.01'",
    )
    .await;
    assert!(runs.row_count() >= 1);
}
