//! Bad input, table-driven: a corpus of several hundred malformed, over-limit,
//! ill-typed or hostile inputs across EXEC arguments, `@@json` bodies, INSERT
//! rows, CSV files read by INSERT, search filters / orderings / page tokens,
//! scripts and store locations.
//!
//! What it proves, for every case:
//! - the statement fails (no panic, no hang, no success);
//! - with MLflow's error code for it (`INVALID_PARAMETER_VALUE`,
//!   `RESOURCE_DOES_NOT_EXIST`, `RESOURCE_ALREADY_EXISTS`), never an
//!   `INTERNAL_ERROR` for something the caller did wrong;
//! - with a message that names the problem: the argument, key, limit or value
//!   (each case lists the words its message must contain), on one line and of
//!   a readable length;
//! - and that nothing was written: no file under the store (or the scratch
//!   directory the location cases use) appears, disappears or changes size.
//!
//! Around the whole corpus the store is snapshotted byte for byte (every raw
//! table's rows, every user view, the Delta log and data files, and the bytes
//! of every file) and must come out identical; afterwards valid writes must
//! still work, so no bad input wedged the store.
//!
//! All cases run against one store and one session, and every mismatch is
//! collected, so a failure reports the full list at once. `BAD_INPUT_SHOW=1`
//! prints every case's error message, to review them by eye.

mod common;

use common::{listing, raw_tables};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use datafusion::arrow::array::Array;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use runql::sql::{Output, Session};
use runql::{ErrorCode, Store};
use serde_json::{Value, json};

const INVALID: ErrorCode = ErrorCode::InvalidParameterValue;
const MISSING: ErrorCode = ErrorCode::ResourceDoesNotExist;
const EXISTS: ErrorCode = ErrorCode::ResourceAlreadyExists;
const INTERNAL: ErrorCode = ErrorCode::InternalError;

/// An error message longer than this floods a terminal; validation cuts long
/// values for exactly this reason (`validation::shown`).
const MAX_MESSAGE_CHARS: usize = 1500;

/// How long one case may take before it counts as a hang.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

// The fixture's fixed ids, so the corpus can be written as plain text.
const EXPERIMENT: &str = "100";
const DELETED_EXPERIMENT: &str = "200";
const ACTIVE_RUN: &str = "run-active";
const OTHER_RUN: &str = "run-other";
const DELETED_RUN: &str = "run-deleted";
/// An active run in a deleted experiment: it reads as deleted.
const DOOMED_RUN: &str = "run-doomed";

// ---------------------------------------------------------------------------
// Small text helpers
// ---------------------------------------------------------------------------

/// A SQL string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A JSON value as a SQL string literal.
fn json_lit(value: &Value) -> String {
    lit(&value.to_string())
}

fn chars(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// `text` cut for a report line, with control characters escaped.
fn short(text: &str, max: usize) -> String {
    let escaped: String = text.chars().flat_map(char::escape_debug).collect();
    if escaped.chars().count() <= max {
        escaped
    } else {
        let head: String = escaped.chars().take(max).collect();
        format!("{head}… ({} chars)", text.chars().count())
    }
}

// ---------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------

enum Input {
    /// One statement through `Session::execute`.
    Sql(String),
    /// A whole script through `Session::run_script`.
    Script(String),
    /// `Store::open` of a location.
    Open(String),
}

impl Input {
    fn text(&self) -> &str {
        match self {
            Input::Sql(text) | Input::Script(text) | Input::Open(text) => text,
        }
    }
}

struct Case {
    category: &'static str,
    name: String,
    input: Input,
    code: ErrorCode,
    /// Words the message must contain (case-insensitive): what names the problem.
    expect: Vec<String>,
}

#[derive(Default)]
struct Corpus {
    category: &'static str,
    cases: Vec<Case>,
}

impl Corpus {
    fn section(&mut self, category: &'static str) {
        self.category = category;
    }

    fn push(&mut self, name: &str, input: Input, code: ErrorCode, expect: &[&str]) {
        self.cases.push(Case {
            category: self.category,
            name: name.to_string(),
            input,
            code,
            expect: expect.iter().map(|s| s.to_string()).collect(),
        });
    }

    fn sql(&mut self, name: &str, sql: impl Into<String>, code: ErrorCode, expect: &[&str]) {
        self.push(name, Input::Sql(sql.into()), code, expect);
    }

    fn script(&mut self, name: &str, script: impl Into<String>, code: ErrorCode, expect: &[&str]) {
        self.push(name, Input::Script(script.into()), code, expect);
    }

    fn open(&mut self, name: &str, location: impl Into<String>, code: ErrorCode, expect: &[&str]) {
        self.push(name, Input::Open(location.into()), code, expect);
    }

    /// `EXEC procedure` with its arguments written as SQL text.
    fn exec(&mut self, name: &str, procedure: &str, args: &str, code: ErrorCode, expect: &[&str]) {
        self.sql(name, format!("EXEC {procedure} {args}"), code, expect);
    }

    /// `EXEC procedure @@json='<body>'`.
    fn json(&mut self, name: &str, procedure: &str, body: &str, code: ErrorCode, expect: &[&str]) {
        self.sql(
            name,
            format!("EXEC {procedure} @@json={}", lit(body)),
            code,
            expect,
        );
    }
}

/// Things the corpus needs that only exist once the fixture is built.
struct Inputs {
    scratch: PathBuf,
    /// A real page token of `EXEC runs.search @max_results=1`.
    token: String,
}

fn corpus(inputs: &Inputs) -> Vec<Case> {
    let mut c = Corpus::default();
    exec_syntax(&mut c);
    argument_checks(&mut c);
    log_metric(&mut c);
    log_param(&mut c);
    log_batch(&mut c);
    tags(&mut c);
    run_lifecycle(&mut c);
    bulk(&mut c);
    inputs_outputs_models(&mut c);
    create_run(&mut c);
    experiments(&mut c);
    gc(&mut c);
    json_bodies(&mut c);
    inserts(&mut c);
    csv_files(&mut c, &inputs.scratch);
    filters(&mut c);
    orderings_and_pages(&mut c, &inputs.token);
    scripts(&mut c);
    locations(&mut c, &inputs.scratch);
    c.cases
}

/// The EXEC statement's own grammar: nothing may run when it does not parse.
fn exec_syntax(c: &mut Corpus) {
    c.section("EXEC syntax");
    c.sql("no procedure", "EXEC", INVALID, &["procedure name"]);
    c.sql(
        "procedure name ends in a dot",
        "EXEC runs. @run_id='run-active'",
        INVALID,
        &["name after 'runs.'"],
    );
    c.sql(
        "unknown method",
        "EXEC runs.explode @run_id='run-active'",
        INVALID,
        &["unknown procedure", "runs.explode"],
    );
    c.sql(
        "unknown resource",
        "EXEC widgets.create @name='x'",
        INVALID,
        &["unknown procedure", "widgets.create"],
    );
    c.sql(
        "text without quotes",
        "EXEC runs.log_metric @run_id='run-active' @key=val_loss @value=1",
        INVALID,
        &["@key", "bare word 'val_loss'"],
    );
    c.sql(
        "unterminated single quote",
        "EXEC runs.set_tag @run_id='run-active' @key='k' @value='unterminated",
        INVALID,
        &["unterminated string"],
    );
    c.sql(
        "unterminated double quote",
        "EXEC runs.set_tag @run_id=\"run-active @key='k' @value='v'",
        INVALID,
        &["unterminated double-quoted string"],
    );
    c.sql(
        "unterminated JSON argument",
        r#"EXEC runs.create @experiment_id='100' @tags=[{"key": "k", "value": "v"}"#,
        INVALID,
        &["unterminated JSON"],
    );
    c.sql(
        "JSON argument with trailing comma",
        r#"EXEC runs.create @experiment_id='100' @tags=[{"key": "k", "value": "v"},]"#,
        INVALID,
        &["invalid JSON for @tags", "trailing comma"],
    );
    c.sql(
        "argument given twice",
        "EXEC runs.log_param @run_id='run-active' @key='a' @KEY='b' @value='v'",
        INVALID,
        &["duplicate argument @key"],
    );
    c.sql(
        "unknown @@ argument",
        "EXEC runs.log_param @@data='{}'",
        INVALID,
        &["unknown argument @@data"],
    );
    c.sql(
        "@@json not a string literal",
        r#"EXEC runs.log_param @@json={"run_id": "run-active"}"#,
        INVALID,
        &["string literal for @@json"],
    );
    c.sql(
        "@@json given twice",
        "EXEC runs.log_param @@json='{}' @@json='{}'",
        INVALID,
        &["duplicate argument @@json"],
    );
    c.sql(
        "hex number",
        "EXEC runs.log_metric @run_id='run-active' @key='k' @value=0x10",
        INVALID,
        &["@value", "0x10"],
    );
    c.sql(
        "positional arguments",
        "EXEC runs.log_metric('run-active', 'k', 1)",
        INVALID,
        &["expected an argument (@name=value)"],
    );
    c.sql(
        "unset session variable",
        "EXEC runs.log_metric @run_id=@no_such_variable @key='k' @value=1",
        INVALID,
        &["@no_such_variable", "not set"],
    );
    c.sql(
        "unterminated block comment",
        "EXEC runs.log_metric @run_id='run-active' @key='k' @value=1 /* unterminated",
        INVALID,
        &["unterminated block comment"],
    );
    c.sql(
        "value missing after =",
        "EXEC runs.log_metric @run_id='run-active' @key='k' @value=",
        INVALID,
        &["expected a value for @value"],
    );
    c.sql(
        "argument without a name",
        "EXEC runs.log_metric @run_id='run-active' @key='k' @value=1 @=2",
        INVALID,
        &["argument name"],
    );
    c.sql(
        "statement smuggled after a semicolon",
        "EXEC runs.log_metric @run_id='run-active' @key='k' @value=1; DROP TABLE runs",
        INVALID,
        &["expected an argument", "';'"],
    );
    c.sql(
        "stray literal after the arguments",
        "EXEC runs.set_tag @run_id='run-active' @key='k' @value='v' 'extra'",
        INVALID,
        &["expected an argument"],
    );
    c.sql(
        "number with two dots",
        "EXEC runs.log_metric @run_id='run-active' @key='k' @value=1.2.3",
        INVALID,
        &["@value", "1.2.3"],
    );
}

/// Arguments checked against the procedure's declared parameters.
fn argument_checks(c: &mut Corpus) {
    c.section("EXEC arguments");
    c.exec(
        "unknown argument",
        "runs.log_param",
        "@run_id='run-active' @key='k' @value='v' @colour='red'",
        INVALID,
        &["no argument @colour", "@run_id"],
    );
    c.exec(
        "missing required argument",
        "runs.log_param",
        "@run_id='run-active' @key='k'",
        INVALID,
        &["needs @value"],
    );
    c.exec(
        "required argument null",
        "runs.log_param",
        "@run_id='run-active' @key='k' @value=null",
        INVALID,
        &["needs @value"],
    );
    c.exec(
        "missing run_id",
        "runs.log_metric",
        "@key='k' @value=1",
        INVALID,
        &["needs @run_id"],
    );
    c.exec(
        "missing key",
        "runs.log_metric",
        "@run_id='run-active' @value=1",
        INVALID,
        &["needs @key"],
    );
    c.exec(
        "missing value",
        "runs.log_metric",
        "@run_id='run-active' @key='k'",
        INVALID,
        &["needs @value"],
    );
    c.exec(
        "boolean for text",
        "runs.set_tag",
        "@run_id='run-active' @key='k' @value=true",
        INVALID,
        &["@value", "text"],
    );
    c.exec(
        "JSON object for text",
        "runs.set_tag",
        r#"@run_id='run-active' @key={"a": 1} @value='v'"#,
        INVALID,
        &["@key", "text"],
    );
    c.exec(
        "JSON array for run_id",
        "runs.set_tag",
        r#"@run_id=["run-active"] @key='k' @value='v'"#,
        INVALID,
        &["@run_id", "text"],
    );
    c.exec(
        "argument to a procedure that takes none",
        "store.compact",
        "@force=true",
        INVALID,
        &["no argument @force"],
    );
    c.exec(
        "deprecated run_uuid naming an unknown run",
        "runs.get",
        "@run_uuid='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
}

fn log_metric(c: &mut Corpus) {
    c.section("EXEC runs.log_metric");
    let metric = |key: &str| {
        format!(
            "@run_id='run-active' @key={} @value=1 @timestamp=1700000000000",
            lit(key)
        )
    };
    let bad_keys: &[(&str, String, &[&str])] = &[
        ("empty key", String::new(), &["metric key", "empty"]),
        (
            "key of 251 characters",
            chars('k', 251),
            &["metric key", "251", "250"],
        ),
        (
            "key with ../",
            "../x".into(),
            &["metric key", "'../x'", "path"],
        ),
        ("key a/../b", "a/../b".into(), &["metric key", "path"]),
        ("key ..", "..".into(), &["metric key", "path"]),
        (
            "key with leading /",
            "/abs".into(),
            &["metric key", "'/abs'", "'/'"],
        ),
        ("key with //", "a//b".into(), &["metric key", "path"]),
        ("key with ./", "./a".into(), &["metric key", "path"]),
        ("key with trailing /", "a/".into(), &["metric key", "path"]),
        (
            "key with newline",
            "a\nb".into(),
            &["metric key", "contains"],
        ),
        ("key with tab", "a\tb".into(), &["metric key", "contains"]),
        ("key with NUL", "a\0b".into(), &["metric key", "contains"]),
        (
            "key with DEL",
            "a\u{7f}b".into(),
            &["metric key", "contains"],
        ),
        (
            "key with escape",
            "a\u{1b}[31mb".into(),
            &["metric key", "contains"],
        ),
        ("key with $", "a$b".into(), &["metric key", "'$'"]),
        (
            "key with emoji",
            "loss📉".into(),
            &["metric key", "contains"],
        ),
        (
            "key with SQL injection",
            "loss'; DROP TABLE metrics; --".into(),
            &["metric key", "contains"],
        ),
        (
            "key with backslash",
            "a\\b".into(),
            &["metric key", "contains"],
        ),
    ];
    for (name, key, expect) in bad_keys {
        c.exec(name, "runs.log_metric", &metric(key), INVALID, expect);
    }
    let base = "@run_id='run-active' @key='k'";
    let bad_values: &[(&str, &str, &[&str])] = &[
        (
            "value is text",
            "@value='abc'",
            &["@value", "number", "'abc'"],
        ),
        (
            "value 1e400 as text",
            "@value='1e400'",
            &["@value", "number", "1e400"],
        ),
        (
            "value 1e400 bare",
            "@value=1e400",
            &["@value", "number", "1e400"],
        ),
        (
            "value 1.8e308 bare",
            "@value=1.8e308",
            &["@value", "number"],
        ),
        ("value is a boolean", "@value=true", &["@value", "number"]),
        ("value is a JSON array", "@value=[1]", &["@value", "number"]),
        ("value is empty text", "@value=''", &["@value", "number"]),
        (
            "value is 'NaN NaN'",
            "@value='NaN NaN'",
            &["@value", "number"],
        ),
    ];
    for (name, value, expect) in bad_values {
        c.exec(
            name,
            "runs.log_metric",
            &format!("{base} {value}"),
            INVALID,
            expect,
        );
    }
    let bad_numbers: &[(&str, &str, &[&str])] = &[
        ("negative timestamp", "@timestamp=-1", &["timestamp", "-1"]),
        (
            "timestamp as text",
            "@timestamp='now'",
            &["@timestamp", "whole number"],
        ),
        (
            "timestamp NaN",
            "@timestamp='NaN'",
            &["@timestamp", "whole number"],
        ),
        (
            "timestamp NaN bare",
            "@timestamp=NaN",
            &["@timestamp", "whole number"],
        ),
        (
            "fractional timestamp",
            "@timestamp=1.5",
            &["@timestamp", "whole number", "1.5"],
        ),
        (
            "timestamp beyond i64",
            "@timestamp=99999999999999999999",
            &["@timestamp", "whole number"],
        ),
        ("step NaN", "@step='NaN'", &["@step", "whole number"]),
        (
            "step infinite",
            "@step=Infinity",
            &["@step", "whole number"],
        ),
        ("step 1e20", "@step=1e20", &["@step", "whole number"]),
        (
            "step i64::MAX + 1",
            "@step=9223372036854775808",
            &["@step", "whole number"],
        ),
        (
            "step i64::MIN - 1",
            "@step=-9223372036854775809",
            &["@step", "whole number"],
        ),
        (
            "step as a word",
            "@step='ten'",
            &["@step", "whole number", "'ten'"],
        ),
        ("step fractional", "@step=0.5", &["@step", "whole number"]),
        ("step boolean", "@step=false", &["@step", "whole number"]),
    ];
    for (name, arg, expect) in bad_numbers {
        c.exec(
            name,
            "runs.log_metric",
            &format!("{base} @value=1 {arg}"),
            INVALID,
            expect,
        );
    }
    c.exec(
        "dataset_name over 500",
        "runs.log_metric",
        &format!("{base} @value=1 @dataset_name='{}'", chars('d', 501)),
        INVALID,
        &["dataset_name", "501", "500"],
    );
    c.exec(
        "model_id over 500",
        "runs.log_metric",
        &format!("{base} @value=1 @model_id='{}'", chars('m', 501)),
        INVALID,
        &["model_id", "501", "500"],
    );
    c.exec(
        "unknown argument",
        "runs.log_metric",
        &format!("{base} @value=1 @unit='s'"),
        INVALID,
        &["no argument @unit"],
    );
    c.exec(
        "unknown run",
        "runs.log_metric",
        "@run_id='nope' @key='k' @value=1",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "run id with SQL injection",
        "runs.log_metric",
        "@run_id='run-active'' OR ''1''=''1' @key='k' @value=1",
        INVALID,
        &["run_id", "not a valid run id"],
    );
    c.exec(
        "run id with ../",
        "runs.log_metric",
        "@run_id='../run-active' @key='k' @value=1",
        INVALID,
        &["run_id", "not a valid run id"],
    );
    c.exec(
        "run id of 257 characters",
        "runs.log_metric",
        &format!("@run_id='{}' @key='k' @value=1", chars('a', 257)),
        INVALID,
        &["run_id", "256"],
    );
    c.exec(
        "empty run id",
        "runs.log_metric",
        "@run_id='' @key='k' @value=1",
        INVALID,
        &["run_id", "not a valid run id"],
    );
    c.exec(
        "deleted run",
        "runs.log_metric",
        "@run_id='run-deleted' @key='k' @value=1",
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "run of a deleted experiment",
        "runs.log_metric",
        "@run_id='run-doomed' @key='k' @value=1",
        INVALID,
        &["run 'run-doomed'", "'active' state"],
    );
}

fn log_param(c: &mut Corpus) {
    c.section("EXEC runs.log_param");
    let param = |run: &str, key: &str, value: &str| {
        format!(
            "@run_id={} @key={} @value={}",
            lit(run),
            lit(key),
            lit(value)
        )
    };
    c.exec(
        "re-log with a different value",
        "runs.log_param",
        &param(ACTIVE_RUN, "lr", "0.02"),
        INVALID,
        &["param 'lr'", "'0.01'", "'0.02'", "write-once"],
    );
    c.exec(
        "re-log a finished run's param with a different value",
        "runs.log_param",
        &param(OTHER_RUN, "lr", "0.11"),
        INVALID,
        &["param 'lr'", "'0.1'", "'0.11'", "write-once"],
    );
    c.exec(
        "value over 6000",
        "runs.log_param",
        &param(ACTIVE_RUN, "big", &chars('v', 6001)),
        INVALID,
        &["param 'big' value", "6001", "6000"],
    );
    c.exec(
        "key over 250",
        "runs.log_param",
        &param(ACTIVE_RUN, &chars('p', 251), "v"),
        INVALID,
        &["param key", "251", "250"],
    );
    c.exec(
        "key a/../b",
        "runs.log_param",
        &param(ACTIVE_RUN, "a/../b", "v"),
        INVALID,
        &["param key", "path"],
    );
    c.exec(
        "empty key",
        "runs.log_param",
        &param(ACTIVE_RUN, "", "v"),
        INVALID,
        &["param key", "empty"],
    );
    c.exec(
        "key with carriage return",
        "runs.log_param",
        &param(ACTIVE_RUN, "a\rb", "v"),
        INVALID,
        &["param key", "contains"],
    );
    c.exec(
        "key with quote",
        "runs.log_param",
        &param(ACTIVE_RUN, "it's", "v"),
        INVALID,
        &["param key", "contains"],
    );
    c.exec(
        "deleted run",
        "runs.log_param",
        &param(DELETED_RUN, "new", "v"),
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "deleted run, same value again",
        "runs.log_param",
        &param(DELETED_RUN, "lr", "0.2"),
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "unknown run",
        "runs.log_param",
        &param("nope", "k", "v"),
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "run of a deleted experiment",
        "runs.log_param",
        &param(DOOMED_RUN, "k", "v"),
        INVALID,
        &["run 'run-doomed'", "'active' state"],
    );
    c.exec(
        "value is a JSON object",
        "runs.log_param",
        r#"@run_id='run-active' @key='k' @value={"a": 1}"#,
        INVALID,
        &["@value", "text"],
    );
    c.exec(
        "value is a boolean",
        "runs.log_param",
        "@run_id='run-active' @key='k' @value=false",
        INVALID,
        &["@value", "text"],
    );
    c.exec(
        "missing key",
        "runs.log_param",
        "@run_id='run-active' @value='v'",
        INVALID,
        &["needs @key"],
    );
}

fn metric_json(i: usize) -> Value {
    json!({"key": format!("m{i}"), "value": i, "timestamp": 1_700_000_000_000_i64 + i as i64, "step": 0})
}

fn pair_json(prefix: &str, i: usize) -> Value {
    json!({"key": format!("{prefix}{i}"), "value": format!("v{i}")})
}

/// `EXEC runs.log_batch` arguments for `run` with the given lists.
fn batch(run: &str, metrics: Vec<Value>, params: Vec<Value>, tags: Vec<Value>) -> String {
    format!(
        "@run_id={} @metrics={} @params={} @tags={}",
        lit(run),
        json_lit(&Value::Array(metrics)),
        json_lit(&Value::Array(params)),
        json_lit(&Value::Array(tags)),
    )
}

fn log_batch(c: &mut Corpus) {
    c.section("EXEC runs.log_batch");
    let metrics = |n: usize| (0..n).map(metric_json).collect::<Vec<_>>();
    let pairs = |prefix: &str, n: usize| (0..n).map(|i| pair_json(prefix, i)).collect::<Vec<_>>();
    c.exec(
        "1001 metrics",
        "runs.log_batch",
        &batch(ACTIVE_RUN, metrics(1001), vec![], vec![]),
        INVALID,
        &["at most 1000 metrics", "1001"],
    );
    c.exec(
        "101 params",
        "runs.log_batch",
        &batch(ACTIVE_RUN, vec![], pairs("p", 101), vec![]),
        INVALID,
        &["at most 100 params", "101"],
    );
    c.exec(
        "101 tags",
        "runs.log_batch",
        &batch(ACTIVE_RUN, vec![], vec![], pairs("t", 101)),
        INVALID,
        &["at most 100 tags", "101"],
    );
    c.exec(
        "1001 entries in all",
        "runs.log_batch",
        &batch(ACTIVE_RUN, metrics(801), pairs("p", 100), pairs("t", 100)),
        INVALID,
        &["1000 metrics, params and tags in all", "1001"],
    );
    c.exec(
        "same param twice with different values",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            vec![],
            vec![
                json!({"key": "dup", "value": "1"}),
                json!({"key": "dup", "value": "2"}),
            ],
            vec![],
        ),
        INVALID,
        &["param 'dup'", "twice", "'1'", "'2'"],
    );
    c.exec(
        "param conflicting with the stored value",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            metrics(3),
            vec![json!({"key": "lr", "value": "0.5"})],
            vec![],
        ),
        INVALID,
        &["param 'lr'", "'0.01'", "'0.5'", "write-once"],
    );
    let mut last_bad = metrics(50);
    last_bad.push(json!({"key": "a/../b", "value": 1, "timestamp": 1, "step": 0}));
    c.exec(
        "50 good metrics then one bad key",
        "runs.log_batch",
        &batch(ACTIVE_RUN, last_bad, vec![], vec![]),
        INVALID,
        &["metric key", "'a/../b'"],
    );
    c.exec(
        "good metrics and params then a bad tag",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            metrics(5),
            pairs("fresh", 5),
            vec![json!({"key": "", "value": "v"})],
        ),
        INVALID,
        &["tag key", "empty"],
    );
    let one_metric = |m: Value| batch(ACTIVE_RUN, vec![m], vec![], vec![]);
    c.exec(
        "metric without timestamp",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": 1})),
        INVALID,
        &["@metrics", "timestamp"],
    );
    c.exec(
        "metric without value",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "timestamp": 1})),
        INVALID,
        &["@metrics", "value"],
    );
    c.exec(
        "metric without key",
        "runs.log_batch",
        &one_metric(json!({"value": 1, "timestamp": 1})),
        INVALID,
        &["@metrics", "key"],
    );
    c.exec(
        "metric value is text",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": "abc", "timestamp": 1})),
        INVALID,
        &["@metrics", "abc"],
    );
    c.exec(
        "metric value '1e999' as text",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": "1e999", "timestamp": 1})),
        INVALID,
        &["@metrics", "1e999"],
    );
    c.exec(
        "metric value null",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": null, "timestamp": 1})),
        INVALID,
        &["@metrics", "value"],
    );
    c.exec(
        "metric timestamp is text",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": 1, "timestamp": "abc"})),
        INVALID,
        &["@metrics", "abc"],
    );
    c.exec(
        "metric timestamp NaN as text",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": 1, "timestamp": "NaN"})),
        INVALID,
        &["@metrics", "NaN"],
    );
    c.exec(
        "metric step fractional",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": 1, "timestamp": 1, "step": 1.5})),
        INVALID,
        &["@metrics", "1.5"],
    );
    c.exec(
        "metric negative timestamp",
        "runs.log_batch",
        &one_metric(json!({"key": "k", "value": 1, "timestamp": -5})),
        INVALID,
        &["metric 'k' timestamp", "-5"],
    );
    c.exec(
        "metric written as a positional array",
        "runs.log_batch",
        &one_metric(json!(["positional", 1.0, 1_700_000_000_000_i64, 0])),
        INVALID,
        &["@metrics", "wrong shape"],
    );
    c.exec(
        "param written as a positional array",
        "runs.log_batch",
        &batch(ACTIVE_RUN, vec![], vec![json!(["positional", "v"])], vec![]),
        INVALID,
        &["@params", "wrong shape"],
    );
    c.exec(
        "param value is a number",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            vec![],
            vec![json!({"key": "n", "value": 5})],
            vec![],
        ),
        INVALID,
        &["@params", "expected a string"],
    );
    c.exec(
        "param without value",
        "runs.log_batch",
        &batch(ACTIVE_RUN, vec![], vec![json!({"key": "n"})], vec![]),
        INVALID,
        &["@params", "value"],
    );
    c.exec(
        "metrics is an object, not a list",
        "runs.log_batch",
        r#"@run_id='run-active' @metrics={"key": "k", "value": 1, "timestamp": 1}"#,
        INVALID,
        &["@metrics", "wrong shape"],
    );
    c.exec(
        "metrics is text that is not JSON",
        "runs.log_batch",
        "@run_id='run-active' @metrics='not json'",
        INVALID,
        &["@metrics", "not valid JSON"],
    );
    c.exec(
        "run name tag with a control character",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            vec![],
            vec![],
            vec![json!({"key": "mlflow.runName", "value": "bad\u{7}name"})],
        ),
        INVALID,
        &["run_name", "control character"],
    );
    c.exec(
        "tag value over 8000",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            vec![],
            vec![],
            vec![json!({"key": "big", "value": chars('t', 8001)})],
        ),
        INVALID,
        &["tag 'big' value", "8001", "8000"],
    );
    c.exec(
        "tag key ..",
        "runs.log_batch",
        &batch(
            ACTIVE_RUN,
            vec![],
            vec![],
            vec![json!({"key": "..", "value": "v"})],
        ),
        INVALID,
        &["tag key", "path"],
    );
    c.exec(
        "deleted run",
        "runs.log_batch",
        &batch(DELETED_RUN, metrics(2), vec![], vec![]),
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "unknown run",
        "runs.log_batch",
        &batch("nope", metrics(2), vec![], vec![]),
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "empty batch to an unknown run",
        "runs.log_batch",
        "@run_id='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "empty batch to a deleted run",
        "runs.log_batch",
        "@run_id='run-deleted'",
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "run of a deleted experiment",
        "runs.log_batch",
        &batch(DOOMED_RUN, metrics(2), vec![], vec![]),
        INVALID,
        &["run 'run-doomed'", "'active' state"],
    );
}

fn tags(c: &mut Corpus) {
    c.section("EXEC runs.set_tag / delete_tag");
    let tag = |run: &str, key: &str, value: &str| {
        format!(
            "@run_id={} @key={} @value={}",
            lit(run),
            lit(key),
            lit(value)
        )
    };
    c.exec(
        "value of a million characters",
        "runs.set_tag",
        &tag(ACTIVE_RUN, "huge", &chars('v', 1_000_000)),
        INVALID,
        &["tag 'huge' value", "1000000", "8000"],
    );
    c.exec(
        "key ..",
        "runs.set_tag",
        &tag(ACTIVE_RUN, "..", "v"),
        INVALID,
        &["tag key", "path"],
    );
    c.exec(
        "empty key",
        "runs.set_tag",
        &tag(ACTIVE_RUN, "", "v"),
        INVALID,
        &["tag key", "empty"],
    );
    c.exec(
        "key over 250",
        "runs.set_tag",
        &tag(ACTIVE_RUN, &chars('t', 251), "v"),
        INVALID,
        &["tag key", "251", "250"],
    );
    c.exec(
        "value over 8000",
        "runs.set_tag",
        &tag(ACTIVE_RUN, "big", &chars('v', 8001)),
        INVALID,
        &["tag 'big' value", "8001", "8000"],
    );
    c.exec(
        "run name with an escape character",
        "runs.set_tag",
        &tag(ACTIVE_RUN, "mlflow.runName", "bad\u{1b}name"),
        INVALID,
        &["run_name", "control character"],
    );
    c.exec(
        "run name over 8000",
        "runs.set_tag",
        &tag(ACTIVE_RUN, "mlflow.runName", &chars('n', 8001)),
        INVALID,
        &["8001", "8000"],
    );
    c.exec(
        "deleted run",
        "runs.set_tag",
        &tag(DELETED_RUN, "k", "v"),
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "unknown run",
        "runs.set_tag",
        &tag("nope", "k", "v"),
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "run of a deleted experiment",
        "runs.set_tag",
        &tag(DOOMED_RUN, "k", "v"),
        INVALID,
        &["run 'run-doomed'", "'active' state"],
    );
    c.exec(
        "missing value",
        "runs.set_tag",
        "@run_id='run-active' @key='k'",
        INVALID,
        &["needs @value"],
    );
    c.exec(
        "delete a tag that is not set",
        "runs.delete_tag",
        "@run_id='run-active' @key='never-set'",
        MISSING,
        &["tag 'never-set'", "run-active"],
    );
    c.exec(
        "delete the run name tag",
        "runs.delete_tag",
        "@run_id='run-active' @key='mlflow.runName'",
        INVALID,
        &["mlflow.runName", "cannot be deleted"],
    );
    c.exec(
        "delete a tag of a deleted run",
        "runs.delete_tag",
        "@run_id='run-deleted' @key='stage'",
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "delete a tag of an unknown run",
        "runs.delete_tag",
        "@run_id='nope' @key='stage'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "delete a tag with a leading /",
        "runs.delete_tag",
        "@run_id='run-active' @key='/stage'",
        INVALID,
        &["tag key", "'/stage'"],
    );
    c.exec(
        "delete without a key",
        "runs.delete_tag",
        "@run_id='run-active'",
        INVALID,
        &["needs @key"],
    );
}

fn run_lifecycle(c: &mut Corpus) {
    c.section("EXEC runs.update / delete / restore / get");
    let long_name = format!("@run_name='{}'", chars('n', 8001));
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown status",
            "@status='DONE'",
            &["status", "RUNNING", "'DONE'"],
        ),
        (
            "status with SQL injection",
            "@status='FINISHED; DROP TABLE runs'",
            &["status must be one of", "FINISHED; DROP TABLE runs"],
        ),
        ("empty status", "@status=''", &["status must be one of"]),
        (
            "status as a number",
            "@status=3",
            &["status must be one of", "'3'"],
        ),
        ("negative end_time", "@end_time=-5", &["end_time", "-5"]),
        (
            "end_time as text",
            "@end_time='tomorrow'",
            &["@end_time", "whole number"],
        ),
        (
            "end_time 1e400",
            "@end_time=1e400",
            &["@end_time", "whole number"],
        ),
        (
            "run_name over 8000",
            &long_name,
            &["run_name", "8001", "8000"],
        ),
        (
            "run_name with a bell",
            "@run_name='a\u{7}b'",
            &["run_name", "control character"],
        ),
        (
            "lifecycle_stage is not an argument",
            "@lifecycle_stage='deleted'",
            &["no argument @lifecycle_stage"],
        ),
    ];
    for (name, args, expect) in cases {
        c.exec(
            name,
            "runs.update",
            &format!("@run_id='run-active' {args}"),
            INVALID,
            expect,
        );
    }
    c.exec(
        "deleted run",
        "runs.update",
        "@run_id='run-deleted' @status='FINISHED'",
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "unknown run",
        "runs.update",
        "@run_id='nope' @status='FINISHED'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "run of a deleted experiment",
        "runs.update",
        "@run_id='run-doomed' @status='FINISHED'",
        INVALID,
        &["run 'run-doomed'", "'active' state"],
    );
    c.exec(
        "missing run_id",
        "runs.update",
        "@status='FINISHED'",
        INVALID,
        &["needs @run_id"],
    );
    c.exec(
        "cancel a deleted run",
        "runs.cancel",
        "@run_id='run-deleted'",
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "fail an unknown run",
        "runs.fail",
        "@run_id='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "cancel without a run",
        "runs.cancel",
        "",
        INVALID,
        &["needs @run_id"],
    );
    c.exec(
        "delete an unknown run",
        "runs.delete",
        "@run_id='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "delete a run id with a space",
        "runs.delete",
        "@run_id='a b'",
        INVALID,
        &["run_id", "'a b'"],
    );
    c.exec(
        "delete with SQL injection",
        "runs.delete",
        "@run_id='run-active'' OR 1=1 --'",
        INVALID,
        &["run_id", "not a valid run id"],
    );
    c.exec(
        "delete without a run",
        "runs.delete",
        "",
        INVALID,
        &["needs @run_id"],
    );
    c.exec(
        "restore an unknown run",
        "runs.restore",
        "@run_id='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "restore a run id with a slash",
        "runs.restore",
        "@run_id='x/y'",
        INVALID,
        &["run_id", "'x/y'"],
    );
    c.exec(
        "get an unknown run",
        "runs.get",
        "@run_id='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "get with SQL injection",
        "runs.get",
        "@run_id='x'' UNION SELECT * FROM raw.params --'",
        INVALID,
        &["run_id", "not a valid run id"],
    );
    c.exec(
        "compare one run",
        "runs.compare",
        r#"@run_ids='["run-active"]'"#,
        INVALID,
        &["2 or 3", "got 1"],
    );
    c.exec(
        "compare four runs",
        "runs.compare",
        r#"@run_ids='["run-active", "run-other", "run-deleted", "run-doomed"]'"#,
        INVALID,
        &["2 or 3", "got 4"],
    );
    c.exec(
        "compare with an unknown run",
        "runs.compare",
        r#"@run_ids='["run-active", "nope"]'"#,
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "compare with broken JSON",
        "runs.compare",
        r#"@run_ids='["run-active",'"#,
        INVALID,
        &["@run_ids", "JSON array"],
    );
    c.exec(
        "children of an unknown run",
        "runs.children",
        "@run_id='nope'",
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "children with a non-boolean recursive",
        "runs.children",
        "@run_id='run-active' @recursive='yes'",
        INVALID,
        &["@recursive", "true or false"],
    );
}

fn bulk(c: &mut Corpus) {
    c.section("EXEC runs.delete_bulk / restore_bulk");
    let delete =
        |args: &str| format!("@experiment_id='100' @max_timestamp_millis=1800000000000 {args}");
    let restore = |args: &str| format!("@experiment_id='100' @min_timestamp_millis=0 {args}");
    let bad_max_runs: &[(&str, &str, &[&str])] = &[
        ("max_runs 0", "@max_runs=0", &["max_runs", "10000", "got 0"]),
        ("max_runs -1", "@max_runs=-1", &["max_runs", "got -1"]),
        (
            "max_runs 10001",
            "@max_runs=10001",
            &["max_runs", "got 10001"],
        ),
        (
            "max_runs as a word",
            "@max_runs='many'",
            &["@max_runs", "whole number"],
        ),
        (
            "max_runs NaN",
            "@max_runs='NaN'",
            &["@max_runs", "whole number"],
        ),
        (
            "max_runs fractional",
            "@max_runs=2.5",
            &["@max_runs", "whole number"],
        ),
    ];
    for (name, arg, expect) in bad_max_runs {
        c.exec(
            &format!("delete: {name}"),
            "runs.delete_bulk",
            &delete(arg),
            INVALID,
            expect,
        );
        c.exec(
            &format!("restore: {name}"),
            "runs.restore_bulk",
            &restore(arg),
            INVALID,
            expect,
        );
    }
    c.exec(
        "delete: unknown experiment",
        "runs.delete_bulk",
        "@experiment_id='999' @max_timestamp_millis=1800000000000",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "delete: missing max_timestamp_millis",
        "runs.delete_bulk",
        "@experiment_id='100'",
        INVALID,
        &["needs @max_timestamp_millis"],
    );
    c.exec(
        "delete: max_timestamp_millis as text",
        "runs.delete_bulk",
        "@experiment_id='100' @max_timestamp_millis='yesterday'",
        INVALID,
        &["@max_timestamp_millis", "whole number"],
    );
    c.exec(
        "delete: fractional max_timestamp_millis",
        "runs.delete_bulk",
        "@experiment_id='100' @max_timestamp_millis=1.5",
        INVALID,
        &["@max_timestamp_millis", "whole number"],
    );
    c.exec(
        "delete: experiment id with ../",
        "runs.delete_bulk",
        "@experiment_id='../100' @max_timestamp_millis=1800000000000",
        INVALID,
        &["experiment_id", "not a valid experiment id"],
    );
    c.exec(
        "delete: missing experiment_id",
        "runs.delete_bulk",
        "@max_timestamp_millis=1800000000000",
        INVALID,
        &["needs @experiment_id"],
    );
    c.exec(
        "restore: unknown experiment",
        "runs.restore_bulk",
        "@experiment_id='999' @min_timestamp_millis=0",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "restore: missing min_timestamp_millis",
        "runs.restore_bulk",
        "@experiment_id='100'",
        INVALID,
        &["needs @min_timestamp_millis"],
    );
    c.exec(
        "restore: min_timestamp_millis as text",
        "runs.restore_bulk",
        "@experiment_id='100' @min_timestamp_millis='x'",
        INVALID,
        &["@min_timestamp_millis", "whole number"],
    );
}

fn inputs_outputs_models(c: &mut Corpus) {
    c.section("EXEC runs.log_inputs / log_outputs / log_model");
    let dataset = |name: &str, digest: &str| json!({"name": name, "digest": digest, "source_type": "s3", "source": "s3://data/x"});
    let inputs = |run: &str, datasets: Value| {
        format!("@run_id={} @datasets={}", lit(run), json_lit(&datasets))
    };
    c.exec(
        "dataset without digest",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": {"name": "d", "source_type": "s3", "source": "s"}}]),
        ),
        INVALID,
        &["@datasets", "digest"],
    );
    c.exec(
        "dataset without source_type",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": {"name": "d", "digest": "x", "source": "s"}}]),
        ),
        INVALID,
        &["@datasets", "source_type"],
    );
    c.exec(
        "dataset with an empty name",
        "runs.log_inputs",
        &inputs(ACTIVE_RUN, json!([{"dataset": dataset("", "abc")}])),
        INVALID,
        &["dataset", "name"],
    );
    c.exec(
        "digest over 36",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": dataset("d", &chars('0', 37))}]),
        ),
        INVALID,
        &["dataset digest", "37", "36"],
    );
    c.exec(
        "dataset name over 500",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": dataset(&chars('n', 501), "abc")}]),
        ),
        INVALID,
        &["dataset name", "501", "500"],
    );
    c.exec(
        "input tag value over 500",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": dataset("d", "abc"), "tags": [{"key": "mlflow.data.context", "value": chars('c', 501)}]}]),
        ),
        INVALID,
        &["input tag value", "501", "500"],
    );
    c.exec(
        "input tag key over 255",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": dataset("d", "abc"), "tags": [{"key": chars('k', 256), "value": "v"}]}]),
        ),
        INVALID,
        &["input tag key", "256", "255"],
    );
    c.exec(
        "datasets is an object, not a list",
        "runs.log_inputs",
        &inputs(ACTIVE_RUN, json!({"dataset": dataset("d", "abc")})),
        INVALID,
        &["@datasets", "wrong shape"],
    );
    c.exec(
        "datasets is text that is not JSON",
        "runs.log_inputs",
        "@run_id='run-active' @datasets='[{dataset}]'",
        INVALID,
        &["@datasets", "not valid JSON"],
    );
    c.exec(
        "second dataset bad",
        "runs.log_inputs",
        &inputs(
            ACTIVE_RUN,
            json!([{"dataset": dataset("fine", "abc")}, {"dataset": dataset("d", "")}]),
        ),
        INVALID,
        &["dataset", "digest"],
    );
    c.exec(
        "deleted run",
        "runs.log_inputs",
        &inputs(DELETED_RUN, json!([{"dataset": dataset("d", "abc")}])),
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "unknown run",
        "runs.log_inputs",
        &inputs("nope", json!([{"dataset": dataset("d", "abc")}])),
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "model id is a number",
        "runs.log_inputs",
        r#"@run_id='run-active' @models='[{"model_id": 5}]'"#,
        INVALID,
        &["@models", "wrong shape"],
    );
    c.exec(
        "input model id over 500",
        "runs.log_inputs",
        &format!(
            "@run_id='run-active' @models={}",
            json_lit(&json!([{"model_id": chars('m', 501)}]))
        ),
        INVALID,
        &["model_id", "501", "500"],
    );
    c.exec(
        "outputs: models is an object",
        "runs.log_outputs",
        r#"@run_id='run-active' @models='{"model_id": "m"}'"#,
        INVALID,
        &["@models", "wrong shape"],
    );
    c.exec(
        "outputs: step is text",
        "runs.log_outputs",
        r#"@run_id='run-active' @models='[{"model_id": "m", "step": "abc"}]'"#,
        INVALID,
        &["@models", "abc"],
    );
    c.exec(
        "outputs: deleted run",
        "runs.log_outputs",
        r#"@run_id='run-deleted' @models='[{"model_id": "m"}]'"#,
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "outputs: model id over 500",
        "runs.log_outputs",
        &format!(
            "@run_id='run-active' @models={}",
            json_lit(&json!([{"model_id": chars('m', 501)}]))
        ),
        INVALID,
        &["model_id", "501", "500"],
    );
    c.exec(
        "model_json is an array",
        "runs.log_model",
        "@run_id='run-active' @model_json='[1, 2]'",
        INVALID,
        &["model_json", "JSON object"],
    );
    c.exec(
        "model_json is not JSON",
        "runs.log_model",
        "@run_id='run-active' @model_json='artifact_path: model'",
        INVALID,
        &["@model_json", "not valid JSON"],
    );
    c.exec(
        "model_json is a number",
        "runs.log_model",
        "@run_id='run-active' @model_json=5",
        INVALID,
        &["model_json", "JSON object"],
    );
    c.exec(
        "model_json missing",
        "runs.log_model",
        "@run_id='run-active'",
        INVALID,
        &["needs @model_json"],
    );
    c.exec(
        "model on a deleted run",
        "runs.log_model",
        r#"@run_id='run-deleted' @model_json='{"artifact_path": "m"}'"#,
        INVALID,
        &["run 'run-deleted'", "'active' state"],
    );
    c.exec(
        "model on an unknown run",
        "runs.log_model",
        r#"@run_id='nope' @model_json='{"artifact_path": "m"}'"#,
        MISSING,
        &["run 'nope'", "does not exist"],
    );
}

fn create_run(c: &mut Corpus) {
    c.section("EXEC runs.create");
    let create = |args: &str| format!("@experiment_id='100' {args}");
    c.exec(
        "unknown experiment",
        "runs.create",
        "@experiment_id='999'",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "deleted experiment",
        "runs.create",
        "@experiment_id='200'",
        INVALID,
        &["experiment '200'", "'active' state"],
    );
    c.exec(
        "experiment id with ../",
        "runs.create",
        "@experiment_id='../100'",
        INVALID,
        &["experiment_id", "not a valid experiment id"],
    );
    c.exec(
        "experiment id with SQL injection",
        "runs.create",
        "@experiment_id='100'' OR ''1''=''1'",
        INVALID,
        &["experiment_id", "not a valid experiment id"],
    );
    c.exec(
        "experiment id is a boolean",
        "runs.create",
        "@experiment_id=true",
        INVALID,
        &["@experiment_id", "text"],
    );
    c.exec(
        "run_name over 8000",
        "runs.create",
        &create(&format!("@run_name='{}'", chars('n', 8001))),
        INVALID,
        &["run_name", "8001", "8000"],
    );
    c.exec(
        "run_name with a newline",
        "runs.create",
        &create("@run_name='line1\nline2'"),
        INVALID,
        &["run_name", "control character"],
    );
    c.exec(
        "explicit run id already taken",
        "runs.create",
        &create("@run_id='run-active'"),
        EXISTS,
        &["run 'run-active'", "already exists"],
    );
    c.exec(
        "explicit run id of a deleted run",
        "runs.create",
        &create("@run_id='run-deleted'"),
        EXISTS,
        &["run 'run-deleted'", "already exists"],
    );
    c.exec(
        "explicit run id with a slash",
        "runs.create",
        &create("@run_id='a/b'"),
        INVALID,
        &["run_id", "'a/b'"],
    );
    c.exec(
        "explicit run id of 257 characters",
        "runs.create",
        &create(&format!("@run_id='{}'", chars('r', 257))),
        INVALID,
        &["run_id", "256"],
    );
    c.exec(
        "start_time as text",
        "runs.create",
        &create("@start_time='yesterday'"),
        INVALID,
        &["@start_time", "whole number"],
    );
    c.exec(
        "start_time 1e300",
        "runs.create",
        &create("@start_time=1e300"),
        INVALID,
        &["@start_time", "whole number"],
    );
    c.exec(
        "tags is an object",
        "runs.create",
        &create(r#"@tags='{"key": "k", "value": "v"}'"#),
        INVALID,
        &["@tags", "wrong shape"],
    );
    c.exec(
        "tag without value",
        "runs.create",
        &create(r#"@tags='[{"key": "k"}]'"#),
        INVALID,
        &["@tags", "value"],
    );
    c.exec(
        "tag key ..",
        "runs.create",
        &create(r#"@tags='[{"key": "..", "value": "v"}]'"#),
        INVALID,
        &["tag key", "path"],
    );
    c.exec(
        "101 tags",
        "runs.create",
        &create(&format!(
            "@tags={}",
            json_lit(&Value::Array((0..101).map(|i| pair_json("t", i)).collect()))
        )),
        INVALID,
        &["at most 100 tags", "101"],
    );
    c.exec(
        "tag value over 8000",
        "runs.create",
        &create(&format!(
            "@tags={}",
            json_lit(&json!([{"key": "big", "value": chars('v', 8001)}]))
        )),
        INVALID,
        &["tag 'big' value", "8001", "8000"],
    );
    c.exec(
        "run_name and mlflow.runName disagree",
        "runs.create",
        &create(r#"@run_name='a' @tags='[{"key": "mlflow.runName", "value": "b"}]'"#),
        INVALID,
        &["run_name", "disagree"],
    );
    c.exec(
        "mlflow.runName tag with a control character",
        "runs.create",
        &create(r#"@tags='[{"key": "mlflow.runName", "value": "a\u0007b"}]'"#),
        INVALID,
        &["run_name", "control character"],
    );
    c.exec(
        "unknown argument",
        "runs.create",
        &create("@colour='red'"),
        INVALID,
        &["no argument @colour"],
    );
}

fn experiments(c: &mut Corpus) {
    c.section("EXEC experiments.*");
    let bad_names: &[(&str, String, &[&str])] = &[
        (
            "empty name",
            String::new(),
            &["experiment name", "non-empty"],
        ),
        (
            "blank name",
            "   ".into(),
            &["experiment name", "non-empty"],
        ),
        (
            "name over 500",
            chars('e', 501),
            &["experiment name", "501", "500"],
        ),
        (
            "name with a newline",
            "a\nb".into(),
            &["experiment name", "control character"],
        ),
    ];
    for (name, value, expect) in bad_names {
        c.exec(
            &format!("create: {name}"),
            "experiments.create",
            &format!("@name={}", lit(value)),
            INVALID,
            expect,
        );
        c.exec(
            &format!("update: {name}"),
            "experiments.update",
            &format!("@experiment_id='100' @new_name={}", lit(value)),
            INVALID,
            expect,
        );
    }
    c.exec(
        "create: name held by an active experiment",
        "experiments.create",
        "@name='bad-input'",
        EXISTS,
        &["bad-input", "already exists"],
    );
    c.exec(
        "update: name held by another experiment",
        "experiments.update",
        "@experiment_id='100' @new_name='spare'",
        EXISTS,
        &["spare", "already exists"],
    );
    c.exec(
        "create: name null",
        "experiments.create",
        "@name=null",
        INVALID,
        &["needs @name"],
    );
    c.exec(
        "create: no name",
        "experiments.create",
        "",
        INVALID,
        &["needs @name"],
    );
    c.exec(
        "create: name is a JSON object",
        "experiments.create",
        r#"@name={"a": 1}"#,
        INVALID,
        &["@name", "text"],
    );
    c.exec(
        "create: tag key ..",
        "experiments.create",
        r#"@name='fresh-1' @tags='[{"key": "..", "value": "v"}]'"#,
        INVALID,
        &["experiment tag key", "path"],
    );
    c.exec(
        "create: tag value over 5000",
        "experiments.create",
        &format!(
            "@name='fresh-2' @tags={}",
            json_lit(&json!([{"key": "k", "value": chars('v', 5001)}]))
        ),
        INVALID,
        &["experiment tag 'k' value", "5001", "5000"],
    );
    c.exec(
        "create: tags wrong shape",
        "experiments.create",
        r#"@name='fresh-3' @tags='[["k", "v"]]'"#,
        INVALID,
        &["@tags", "wrong shape"],
    );
    c.exec(
        "create: artifact_location over 65535",
        "experiments.create",
        &format!(
            "@name='fresh-4' @artifact_location='{}'",
            chars('a', 65_536)
        ),
        INVALID,
        &["artifact_location", "65536", "65535"],
    );
    c.exec(
        "create: unknown argument",
        "experiments.create",
        "@name='fresh-5' @owner='me'",
        INVALID,
        &["no argument @owner"],
    );
    c.exec(
        "update: unknown experiment",
        "experiments.update",
        "@experiment_id='999' @new_name='x'",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "update: deleted experiment",
        "experiments.update",
        "@experiment_id='200' @new_name='revived'",
        INVALID,
        &["experiment '200'", "'active' state"],
    );
    c.exec(
        "update: missing new_name",
        "experiments.update",
        "@experiment_id='100'",
        INVALID,
        &["needs @new_name"],
    );
    c.exec(
        "delete: the Default experiment",
        "experiments.delete",
        "@experiment_id='0'",
        INVALID,
        &["experiment '0'", "cannot be deleted"],
    );
    c.exec(
        "delete: unknown experiment",
        "experiments.delete",
        "@experiment_id='999'",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    // MLflow looks the experiment up among active ones only: RESOURCE_DOES_NOT_EXIST.
    c.exec(
        "delete: already deleted",
        "experiments.delete",
        "@experiment_id='200'",
        MISSING,
        &["experiment '200'"],
    );
    c.exec(
        "delete: id with SQL injection",
        "experiments.delete",
        "@experiment_id='1; DROP TABLE experiments'",
        INVALID,
        &["experiment_id", "not a valid experiment id"],
    );
    c.exec(
        "restore: unknown experiment",
        "experiments.restore",
        "@experiment_id='999'",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    // MLflow looks the experiment up among deleted ones only: RESOURCE_DOES_NOT_EXIST.
    c.exec(
        "restore: an active experiment",
        "experiments.restore",
        "@experiment_id='100'",
        MISSING,
        &["experiment '100'"],
    );
    let set_tag = |experiment: &str, key: &str, value: &str| {
        format!(
            "@experiment_id={} @key={} @value={}",
            lit(experiment),
            lit(key),
            lit(value)
        )
    };
    c.exec(
        "set_tag: deleted experiment",
        "experiments.set_tag",
        &set_tag(DELETED_EXPERIMENT, "k", "v"),
        INVALID,
        &["experiment '200'", "'active' state"],
    );
    c.exec(
        "set_tag: unknown experiment",
        "experiments.set_tag",
        &set_tag("999", "k", "v"),
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "set_tag: key ..",
        "experiments.set_tag",
        &set_tag(EXPERIMENT, "..", "v"),
        INVALID,
        &["experiment tag key", "path"],
    );
    c.exec(
        "set_tag: key over 250",
        "experiments.set_tag",
        &set_tag(EXPERIMENT, &chars('k', 251), "v"),
        INVALID,
        &["experiment tag key", "251", "250"],
    );
    c.exec(
        "set_tag: value over 5000",
        "experiments.set_tag",
        &set_tag(EXPERIMENT, "team", &chars('v', 5001)),
        INVALID,
        &["experiment tag 'team' value", "5001", "5000"],
    );
    c.exec(
        "set_tag: missing value",
        "experiments.set_tag",
        "@experiment_id='100' @key='team'",
        INVALID,
        &["needs @value"],
    );
    c.exec(
        "delete_tag: tag not set",
        "experiments.delete_tag",
        "@experiment_id='100' @key='never-set'",
        MISSING,
        &["tag 'never-set'", "experiment '100'"],
    );
    c.exec(
        "delete_tag: deleted experiment",
        "experiments.delete_tag",
        "@experiment_id='200' @key='team'",
        INVALID,
        &["experiment '200'", "'active' state"],
    );
    c.exec(
        "delete_tag: unknown experiment",
        "experiments.delete_tag",
        "@experiment_id='999' @key='team'",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "delete_tag: key with leading /",
        "experiments.delete_tag",
        "@experiment_id='100' @key='/team'",
        INVALID,
        &["experiment tag key", "'/team'"],
    );
    c.exec(
        "get: unknown experiment",
        "experiments.get",
        "@experiment_id='999'",
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "get: id with a slash",
        "experiments.get",
        "@experiment_id='a/b'",
        INVALID,
        &["experiment_id", "'a/b'"],
    );
    c.exec(
        "get: id over 64",
        "experiments.get",
        &format!("@experiment_id='{}'", chars('1', 65)),
        INVALID,
        &["experiment_id", "64"],
    );
    c.exec(
        "get_by_name: unknown name",
        "experiments.get_by_name",
        "@experiment_name='no such experiment'",
        MISSING,
        &["no such experiment", "does not exist"],
    );
    c.exec(
        "get_by_name: SQL injection",
        "experiments.get_by_name",
        "@experiment_name='x'' OR ''1''=''1'",
        MISSING,
        &["x' OR '1'='1", "does not exist"],
    );
}

fn gc(c: &mut Corpus) {
    c.section("EXEC store.gc");
    for duration in [
        "30x",
        "",
        "-1d",
        "2h1d",
        "10",
        "d",
        "99999999999999999999d",
        "1d1d",
        "1.5d",
        "1 day",
        "30d; DROP TABLE runs",
    ] {
        c.exec(
            &format!("older_than {duration:?}"),
            "store.gc",
            &format!("@older_than={}", lit(duration)),
            INVALID,
            &["@older_than", &format!("'{duration}'")],
        );
    }
    c.exec(
        "older_than as a bare number",
        "store.gc",
        "@older_than=30",
        INVALID,
        &["@older_than", "'30'"],
    );
    c.exec(
        "an active run",
        "store.gc",
        r#"@run_ids='["run-active"]'"#,
        INVALID,
        &["run 'run-active'", "not deleted"],
    );
    c.exec(
        "an unknown run",
        "store.gc",
        r#"@run_ids='["nope"]'"#,
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    c.exec(
        "a deleted run and an active one",
        "store.gc",
        r#"@run_ids='["run-deleted", "run-active"]'"#,
        INVALID,
        &["run 'run-active'", "not deleted"],
    );
    c.exec(
        "a run id with ../",
        "store.gc",
        r#"@run_ids='["../x"]'"#,
        INVALID,
        &["run_id", "'../x'"],
    );
    c.exec(
        "the Default experiment",
        "store.gc",
        r#"@experiment_ids='["0"]'"#,
        INVALID,
        &["experiment '0'", "not deleted"],
    );
    c.exec(
        "an unknown experiment",
        "store.gc",
        r#"@experiment_ids='["999"]'"#,
        MISSING,
        &["experiment '999'", "does not exist"],
    );
    c.exec(
        "a deleted experiment and an active one",
        "store.gc",
        r#"@experiment_ids='["200", "100"]'"#,
        INVALID,
        &["experiment '100'", "not deleted"],
    );
    c.exec(
        "run_ids holds an object",
        "store.gc",
        r#"@run_ids='[{"a": 1}]'"#,
        INVALID,
        &["@run_ids", "list of text"],
    );
    c.exec(
        "unknown argument",
        "store.gc",
        "@dry_run=true",
        INVALID,
        &["no argument @dry_run"],
    );
}

fn json_bodies(c: &mut Corpus) {
    c.section("@@json bodies");
    let lm = "runs.log_metric";
    c.json(
        "not JSON",
        lm,
        "{not json",
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json("empty body", lm, "", INVALID, &["@@json", "not valid JSON"]);
    c.json("an array", lm, "[]", INVALID, &["@@json", "JSON object"]);
    c.json(
        "a string",
        lm,
        r#""run-active""#,
        INVALID,
        &["@@json", "JSON object"],
    );
    c.json("a number", lm, "42", INVALID, &["@@json", "JSON object"]);
    c.json("null", lm, "null", INVALID, &["@@json", "JSON object"]);
    c.json(
        "single-quoted JSON",
        lm,
        "{'run_id': 'run-active', 'key': 'k', 'value': 1}",
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json(
        "value 1e400",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1e400, "timestamp": 1}"#,
        INVALID,
        &["@@json", "out of range"],
    );
    c.json(
        "bare NaN",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": NaN}"#,
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json(
        "value is text",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": "abc"}"#,
        INVALID,
        &["@value", "number", "'abc'"],
    );
    c.json(
        "value '1e400' as text",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": "1e400"}"#,
        INVALID,
        &["@value", "number"],
    );
    c.json(
        "timestamp NaN as text",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1, "timestamp": "NaN"}"#,
        INVALID,
        &["@timestamp", "whole number"],
    );
    c.json(
        "fractional step",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1, "step": 1.5}"#,
        INVALID,
        &["@step", "whole number"],
    );
    c.json(
        "timestamp beyond i64",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1, "timestamp": 99999999999999999999}"#,
        INVALID,
        &["@timestamp", "whole number"],
    );
    c.json(
        "step -1e30",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1, "step": -1e30}"#,
        INVALID,
        &["@step", "whole number"],
    );
    c.json(
        "run_id is an object",
        lm,
        r#"{"run_id": {"id": "run-active"}, "key": "k", "value": 1}"#,
        INVALID,
        &["@run_id", "text"],
    );
    c.json(
        "run_id is a list",
        lm,
        r#"{"run_id": ["run-active"], "key": "k", "value": 1}"#,
        INVALID,
        &["@run_id", "text"],
    );
    c.json(
        "unknown key",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1, "colour": "red"}"#,
        INVALID,
        &["no argument @colour"],
    );
    c.json(
        "key with an escaped control character",
        lm,
        r#"{"run_id": "run-active", "key": "a\u0001b", "value": 1}"#,
        INVALID,
        &["metric key", "contains"],
    );
    c.json(
        "raw control character inside a string",
        lm,
        "{\"run_id\": \"run-active\", \"key\": \"a\u{1}b\", \"value\": 1}",
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json(
        "lone surrogate",
        lm,
        r#"{"run_id": "run-active", "key": "\ud800", "value": 1}"#,
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json(
        "trailing garbage",
        lm,
        r#"{"run_id": "run-active", "key": "k", "value": 1} x"#,
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json(
        "byte order mark",
        lm,
        "\u{feff}{\"run_id\": \"run-active\", \"key\": \"k\", \"value\": 1}",
        INVALID,
        &["@@json", "not valid JSON"],
    );
    let deep = format!("{}{}", chars('[', 200), chars(']', 200));
    c.json(
        "nested 200 deep",
        lm,
        &deep,
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.json(
        "nested 200 deep inside an argument",
        "runs.log_batch",
        &format!(r#"{{"run_id": "run-active", "metrics": {deep}}}"#),
        INVALID,
        &["@@json", "not valid JSON"],
    );
    c.sql(
        "@key given alongside overrides the body with a bad key",
        format!(
            "EXEC runs.log_metric @@json={} @key='..'",
            lit(r#"{"run_id": "run-active", "key": "ok", "value": 1}"#)
        ),
        INVALID,
        &["metric key", "'..'"],
    );
    c.json(
        "run_uuid naming an unknown run",
        lm,
        r#"{"run_uuid": "nope", "key": "k", "value": 1}"#,
        MISSING,
        &["run 'nope'", "does not exist"],
    );
    // Duplicate keys are ambiguous: JSON parsers disagree on which one wins, and
    // EXEC refuses a repeated @argument for the same reason.
    c.json(
        "duplicate key: two values",
        "runs.log_param",
        r#"{"run_id": "run-active", "key": "dupkey", "value": "1", "value": "2"}"#,
        INVALID,
        &["duplicate", "value"],
    );
    c.json(
        "duplicate key: a bad key then a good one",
        "runs.log_param",
        r#"{"run_id": "run-active", "key": "..", "key": "fine", "value": "x"}"#,
        INVALID,
        &["duplicate", "key"],
    );
    c.json(
        "duplicate key: a deleted run then an active one",
        "runs.set_tag",
        r#"{"run_id": "run-deleted", "run_id": "run-active", "key": "k2", "value": "v"}"#,
        INVALID,
        &["duplicate", "run_id"],
    );
    c.json(
        "delete_bulk: max_runs NaN as text",
        "runs.delete_bulk",
        r#"{"experiment_id": "100", "max_timestamp_millis": 1800000000000, "max_runs": "NaN"}"#,
        INVALID,
        &["@max_runs", "whole number"],
    );
    c.json(
        "delete_bulk: max_runs \"0\" as text",
        "runs.delete_bulk",
        r#"{"experiment_id": "100", "max_timestamp_millis": 1800000000000, "max_runs": "0"}"#,
        INVALID,
        &["max_runs", "got 0"],
    );
    c.json(
        "delete_bulk: experiment_id is a list",
        "runs.delete_bulk",
        r#"{"experiment_id": ["100"], "max_timestamp_millis": 1800000000000}"#,
        INVALID,
        &["@experiment_id", "text"],
    );
    c.json(
        "create experiment: name is a boolean",
        "experiments.create",
        r#"{"name": true}"#,
        INVALID,
        &["@name", "text"],
    );
    c.json(
        "create experiment: name null",
        "experiments.create",
        r#"{"name": null}"#,
        INVALID,
        &["needs @name"],
    );
    let metrics: Vec<Value> = (0..1001).map(metric_json).collect();
    c.json(
        "log_batch: 1001 metrics",
        "runs.log_batch",
        &json!({"run_id": ACTIVE_RUN, "metrics": metrics}).to_string(),
        INVALID,
        &["at most 1000 metrics", "1001"],
    );
    c.json(
        "log_batch: metric is a list",
        "runs.log_batch",
        r#"{"run_id": "run-active", "metrics": [[1, 2]]}"#,
        INVALID,
        &["@metrics", "wrong shape"],
    );
    c.json(
        "log_batch: metric value is an object",
        "runs.log_batch",
        r#"{"run_id": "run-active", "metrics": [{"key": "k", "value": {"nested": 1}, "timestamp": 1}]}"#,
        INVALID,
        &["@metrics", "wrong shape"],
    );
    c.json(
        "log_batch: param value is a number",
        "runs.log_batch",
        r#"{"run_id": "run-active", "params": [{"key": "n", "value": 5}]}"#,
        INVALID,
        &["@params", "expected a string"],
    );
    c.json(
        "log_batch: tag value null",
        "runs.log_batch",
        r#"{"run_id": "run-active", "tags": [{"key": "t", "value": null}]}"#,
        INVALID,
        &["@tags", "wrong shape"],
    );
    c.json(
        "log_batch: params is text that is not JSON",
        "runs.log_batch",
        r#"{"run_id": "run-active", "params": "[{"}"#,
        INVALID,
        &["@params", "not valid JSON"],
    );
    c.json(
        "log_inputs: dataset missing",
        "runs.log_inputs",
        r#"{"run_id": "run-active", "datasets": [{"tags": []}]}"#,
        INVALID,
        &["@datasets", "dataset"],
    );
    c.json(
        "search: max_results -1",
        "runs.search",
        r#"{"max_results": -1}"#,
        INVALID,
        &["max_results", "-1"],
    );
    c.json(
        "search: experiment_ids is an object",
        "runs.search",
        r#"{"experiment_ids": {"id": "100"}}"#,
        INVALID,
        &["@experiment_ids", "list of text"],
    );
    c.json(
        "gc: older_than 1x",
        "store.gc",
        r#"{"older_than": "1x"}"#,
        INVALID,
        &["@older_than", "'1x'"],
    );
}

fn inserts(c: &mut Corpus) {
    c.section("INSERT rows");
    let metrics = "INSERT INTO metrics (run_id, key, value, timestamp, step) VALUES";
    c.sql(
        "metrics: NULL run_id",
        format!("{metrics} (NULL, 'k', 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "run_id"],
    );
    c.sql(
        "metrics: NULL key",
        format!("{metrics} ('run-active', NULL, 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "key"],
    );
    c.sql(
        "metrics: NULL value",
        format!("{metrics} ('run-active', 'k', NULL, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "value"],
    );
    c.sql(
        "metrics: value is text",
        format!("{metrics} ('run-active', 'k', 'abc', 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "value", "abc"],
    );
    c.sql(
        "metrics: value '1e400' as text",
        format!("{metrics} ('run-active', 'k', '1e400', 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "value", "1e400"],
    );
    c.sql(
        "metrics: unknown run",
        format!("{metrics} ('nope', 'k', 1.0, 1700000000000, 0)"),
        MISSING,
        &["run 'nope'", "metrics row 1"],
    );
    c.sql(
        "metrics: deleted run",
        format!("{metrics} ('run-deleted', 'k', 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "run 'run-deleted'", "'active' state"],
    );
    c.sql(
        "metrics: run of a deleted experiment",
        format!("{metrics} ('run-doomed', 'k', 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "run 'run-doomed'", "'active' state"],
    );
    c.sql(
        "metrics: key ..",
        format!("{metrics} ('run-active', '..', 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "metric key", "path"],
    );
    c.sql(
        "metrics: empty key",
        format!("{metrics} ('run-active', '', 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "metric key", "empty"],
    );
    c.sql(
        "metrics: key over 250",
        format!("{metrics} ('run-active', repeat('k', 251), 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "metric key", "250"],
    );
    c.sql(
        "metrics: key with a bell",
        format!("{metrics} ('run-active', 'a' || chr(7) || 'b', 1.0, 1700000000000, 0)"),
        INVALID,
        &["metrics row 1", "metric key", "contains"],
    );
    c.sql(
        "metrics: negative timestamp",
        format!("{metrics} ('run-active', 'k', 1.0, -1, 0)"),
        INVALID,
        &["metrics row 1", "timestamp", "-1"],
    );
    c.sql(
        "metrics: timestamp is a word",
        format!("{metrics} ('run-active', 'k', 1.0, 'yesterday', 0)"),
        INVALID,
        &["metrics row 1", "timestamp", "yesterday"],
    );
    c.sql(
        "metrics: step NaN as text",
        format!("{metrics} ('run-active', 'k', 1.0, 1700000000000, 'NaN')"),
        INVALID,
        &["metrics row 1", "step", "NaN"],
    );
    c.sql(
        "metrics: fractional step",
        format!("{metrics} ('run-active', 'k', 1.0, 1700000000000, 1.5)"),
        INVALID,
        &["metrics row 1", "step", "1.5"],
    );
    c.sql(
        "metrics: step 1e20",
        format!("{metrics} ('run-active', 'k', 1.0, 1700000000000, 1e20)"),
        INVALID,
        &["metrics row 1", "step"],
    );
    c.sql(
        "metrics: three rows, the last one with a bad key",
        format!(
            "{metrics} ('run-active', 'ok1', 1.0, 1700000000000, 0), \
             ('run-other', 'ok2', 2.0, 1700000000000, 0), ('run-active', 'a//b', 3.0, 1700000000000, 0)"
        ),
        INVALID,
        &["metrics row 3", "metric key", "'a//b'"],
    );
    c.sql(
        "metrics: three rows, the last one for an unknown run",
        format!(
            "{metrics} ('run-active', 'ok1', 1.0, 1700000000000, 0), \
             ('run-other', 'ok2', 2.0, 1700000000000, 0), ('nope', 'ok3', 3.0, 1700000000000, 0)"
        ),
        MISSING,
        &["run 'nope'", "metrics row 3"],
    );
    c.sql(
        "metrics: three rows, the last one for a deleted run",
        format!(
            "{metrics} ('run-active', 'ok1', 1.0, 1700000000000, 0), \
             ('run-other', 'ok2', 2.0, 1700000000000, 0), ('run-deleted', 'ok3', 3.0, 1700000000000, 0)"
        ),
        INVALID,
        &["metrics row 3", "run 'run-deleted'"],
    );
    c.sql(
        "metrics: more values than columns",
        format!("{metrics} ('run-active', 'k', 1.0, 1700000000000, 0, 'extra')"),
        INVALID,
        &["metrics", "5 columns", "6"],
    );
    c.sql(
        "metrics: nine values without a column list",
        "INSERT INTO metrics VALUES ('run-active', 'k', 1.0, 1, 0, 'd', 'x', 'm', 'extra')",
        INVALID,
        &["metrics", "8 columns", "9"],
    );
    c.sql(
        "metrics: unknown column",
        "INSERT INTO metrics (run_id, key, value, colour) VALUES ('run-active', 'k', 1.0, 'red')",
        INVALID,
        &["no insertable column 'colour'"],
    );
    c.sql(
        "metrics: required column left out",
        "INSERT INTO metrics (run_id, key) VALUES ('run-active', 'k')",
        INVALID,
        &["metrics row 1", "value"],
    );
    c.sql(
        "metrics: one value only",
        "INSERT INTO metrics VALUES ('run-active')",
        INVALID,
        &["metrics row 1", "key"],
    );
    c.sql(
        "metrics: dataset_name over 500",
        "INSERT INTO metrics (run_id, key, value, dataset_name) VALUES ('run-active', 'k', 1.0, repeat('d', 501))",
        INVALID,
        &["metrics row 1", "dataset_name", "500"],
    );
    let params = "INSERT INTO params (run_id, key, value) VALUES";
    c.sql(
        "params: NULL value",
        format!("{params} ('run-active', 'k', NULL)"),
        INVALID,
        &["params row 1", "value"],
    );
    c.sql(
        "params: value over 6000",
        "INSERT INTO params SELECT 'run-active', 'big', repeat('v', 6001)",
        INVALID,
        &["params row 1", "param 'big' value", "6001", "6000"],
    );
    c.sql(
        "params: key with a newline",
        format!("{params} ('run-active', 'a' || chr(10) || 'b', 'v')"),
        INVALID,
        &["params row 1", "param key", "contains"],
    );
    c.sql(
        "params: conflicting with the stored value",
        format!("{params} ('run-active', 'lr', '0.02')"),
        INVALID,
        &["params row 1", "param 'lr'", "'0.01'", "write-once"],
    );
    c.sql(
        "params: one key twice with different values",
        format!("{params} ('run-active', 'twice', 'a'), ('run-active', 'twice', 'b')"),
        INVALID,
        &["params row 2", "param 'twice'", "write-once"],
    );
    c.sql(
        "params: unknown run",
        format!("{params} ('nope', 'k', 'v')"),
        MISSING,
        &["run 'nope'", "params row 1"],
    );
    c.sql(
        "params: deleted run",
        format!("{params} ('run-deleted', 'k', 'v')"),
        INVALID,
        &["params row 1", "run 'run-deleted'"],
    );
    c.sql(
        "params: leading /",
        format!("{params} ('run-active', '/k', 'v')"),
        INVALID,
        &["params row 1", "param key", "'/k'"],
    );
    c.sql(
        "params: two good rows then a conflicting one",
        format!("{params} ('run-active', 'p-ok1', 'a'), ('run-other', 'p-ok2', 'b'), ('run-other', 'lr', '0.9')"),
        INVALID,
        &["params row 3", "param 'lr'", "write-once"],
    );
    let tags = "INSERT INTO tags (run_id, key, value) VALUES";
    c.sql(
        "tags: value over 8000",
        "INSERT INTO tags SELECT 'run-active', 'big', repeat('v', 8001)",
        INVALID,
        &["tags row 1", "tag 'big' value", "8001", "8000"],
    );
    c.sql(
        "tags: key ..",
        format!("{tags} ('run-active', '..', 'v')"),
        INVALID,
        &["tags row 1", "tag key", "path"],
    );
    c.sql(
        "tags: NULL key",
        format!("{tags} ('run-active', NULL, 'v')"),
        INVALID,
        &["tags row 1", "key"],
    );
    c.sql(
        "tags: deleted run",
        format!("{tags} ('run-deleted', 'k', 'v')"),
        INVALID,
        &["tags row 1", "run 'run-deleted'"],
    );
    c.sql(
        "tags: run name with a newline",
        format!("{tags} ('run-active', 'mlflow.runName', 'a' || chr(10) || 'b')"),
        INVALID,
        &["tags row 1", "run_name", "control character"],
    );
    c.sql(
        "tags: run name over 8000",
        "INSERT INTO tags SELECT 'run-active', 'mlflow.runName', repeat('n', 8001)",
        INVALID,
        &["tags row 1", "8001", "8000"],
    );
    let runs =
        "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time) VALUES";
    c.sql(
        "runs: unknown status",
        format!("{runs} ('ins-run-status', '100', 'n', 'DONE', 1700000000000, NULL)"),
        INVALID,
        &["runs row 1", "status", "'DONE'"],
    );
    c.sql(
        "runs: unknown experiment",
        format!("{runs} ('ins-run-noexp', '999', 'n', 'RUNNING', 1700000000000, NULL)"),
        MISSING,
        &["experiment '999'", "runs row 1"],
    );
    c.sql(
        "runs: deleted experiment",
        format!("{runs} ('ins-run-delexp', '200', 'n', 'RUNNING', 1700000000000, NULL)"),
        INVALID,
        &["runs row 1", "experiment '200'", "'active' state"],
    );
    c.sql(
        "runs: id already taken",
        format!("{runs} ('run-active', '100', 'n', 'RUNNING', 1700000000000, NULL)"),
        EXISTS,
        &["run 'run-active'", "already exists"],
    );
    c.sql(
        "runs: id repeated in the insert",
        format!(
            "{runs} ('ins-run-twice', '100', 'a', 'RUNNING', 1700000000000, NULL), \
             ('ins-run-twice', '100', 'b', 'RUNNING', 1700000000000, NULL)"
        ),
        EXISTS,
        &["ins-run-twice", "runs row 2"],
    );
    c.sql(
        "runs: id with a slash",
        format!("{runs} ('a/b', '100', 'n', 'RUNNING', 1700000000000, NULL)"),
        INVALID,
        &["runs row 1", "run_id", "'a/b'"],
    );
    c.sql(
        "runs: run_name over 8000",
        "INSERT INTO runs (run_id, experiment_id, run_name) SELECT 'ins-run-longname', '100', repeat('n', 8001)",
        INVALID,
        &["runs row 1", "run_name", "8000"],
    );
    c.sql(
        "runs: run_name with a tab",
        format!(
            "{runs} ('ins-run-tab', '100', 'a' || chr(9) || 'b', 'RUNNING', 1700000000000, NULL)"
        ),
        INVALID,
        &["runs row 1", "run_name", "control character"],
    );
    c.sql(
        "runs: start_time is a word",
        format!("{runs} ('ins-run-garbage', '100', 'n', 'RUNNING', 'garbage', NULL)"),
        INVALID,
        &["runs row 1", "start_time", "garbage"],
    );
    c.sql(
        "runs: negative end_time",
        format!("{runs} ('ins-run-negend', '100', 'n', 'FINISHED', 1700000000000, -5)"),
        INVALID,
        &["runs row 1", "end_time", "-5"],
    );
    c.sql(
        "runs: experiment id with ../",
        format!("{runs} ('ins-run-badexp', '../100', 'n', 'RUNNING', 1700000000000, NULL)"),
        INVALID,
        &["runs row 1", "experiment_id", "'../100'"],
    );
    c.sql(
        "runs: two good rows then a bad status",
        format!(
            "{runs} ('ins-run-good1', '100', 'a', 'RUNNING', 1700000000000, NULL), \
             ('ins-run-good2', '100', 'b', 'FINISHED', 1700000000000, 1700000001000), \
             ('ins-run-bad3', '100', 'c', 'EXPLODED', 1700000000000, NULL)"
        ),
        INVALID,
        &["runs row 3", "status", "'EXPLODED'"],
    );
    let experiments = "INSERT INTO experiments (experiment_id, name) VALUES";
    c.sql(
        "experiments: NULL name",
        format!("{experiments} ('300', NULL)"),
        INVALID,
        &["experiments row 1", "name"],
    );
    c.sql(
        "experiments: empty name",
        format!("{experiments} ('301', '')"),
        INVALID,
        &["experiments row 1", "experiment name", "non-empty"],
    );
    c.sql(
        "experiments: name already held",
        format!("{experiments} ('302', 'bad-input')"),
        EXISTS,
        &["bad-input", "already exists"],
    );
    c.sql(
        "experiments: id already taken",
        format!("{experiments} ('100', 'brand-new')"),
        EXISTS,
        &["experiment '100'", "already exists"],
    );
    c.sql(
        "experiments: id of a deleted experiment",
        format!("{experiments} ('200', 'brand-new')"),
        EXISTS,
        &["experiment '200'", "already exists"],
    );
    c.sql(
        "experiments: id with a space",
        format!("{experiments} ('3 0', 'brand-new')"),
        INVALID,
        &["experiments row 1", "experiment_id", "'3 0'"],
    );
    c.sql(
        "experiments: name over 500",
        "INSERT INTO experiments (experiment_id, name) SELECT '303', repeat('e', 501)",
        INVALID,
        &["experiments row 1", "experiment name", "500"],
    );
    c.sql(
        "experiments: name with a NUL",
        format!("{experiments} ('304', 'a' || chr(0) || 'b')"),
        INVALID,
        &["experiments row 1", "experiment name", "control character"],
    );
    c.sql(
        "experiments: one name twice",
        format!("{experiments} ('305', 'twin'), ('306', 'twin')"),
        EXISTS,
        &["twin", "experiments row 2"],
    );
    c.sql(
        "experiments: creation_time is a word",
        "INSERT INTO experiments (experiment_id, name, creation_time) VALUES ('307', 'timeless', 'abc')",
        INVALID,
        &["experiments row 1", "creation_time", "abc"],
    );
    let experiment_tags = "INSERT INTO experiment_tags (experiment_id, key, value) VALUES";
    c.sql(
        "experiment_tags: unknown experiment",
        format!("{experiment_tags} ('999', 'k', 'v')"),
        MISSING,
        &["experiment '999'", "experiment_tags row 1"],
    );
    c.sql(
        "experiment_tags: deleted experiment",
        format!("{experiment_tags} ('200', 'k', 'v')"),
        INVALID,
        &[
            "experiment_tags row 1",
            "experiment '200'",
            "'active' state",
        ],
    );
    c.sql(
        "experiment_tags: key ..",
        format!("{experiment_tags} ('100', '..', 'v')"),
        INVALID,
        &["experiment_tags row 1", "experiment tag key", "path"],
    );
    c.sql(
        "experiment_tags: value over 5000",
        "INSERT INTO experiment_tags SELECT '100', 'k', repeat('v', 5001)",
        INVALID,
        &["experiment_tags row 1", "5001", "5000"],
    );
    c.sql(
        "experiment_tags: NULL value",
        format!("{experiment_tags} ('100', 'k', NULL)"),
        INVALID,
        &["experiment_tags row 1", "value"],
    );
    c.sql(
        "a derived view",
        "INSERT INTO latest_metrics VALUES ('run-active', 'k', 1.0, 1, 0)",
        INVALID,
        &["latest_metrics", "derived"],
    );
    c.sql(
        "another derived view",
        "INSERT INTO runs_wide (run_id) VALUES ('x')",
        INVALID,
        &["runs_wide", "derived"],
    );
    c.sql(
        "a raw table, past the rules",
        "INSERT INTO raw.params (run_id, key, value) VALUES ('run-active', 'lr', '0.5')",
        INVALID,
        &["not implemented"],
    );
    c.sql(
        "a source over a missing table",
        "INSERT INTO metrics SELECT run_id, key, value FROM no_such_table",
        INVALID,
        &["no_such_table"],
    );
    c.sql(
        "a source with a syntax error",
        "INSERT INTO metrics VALUES ('run-active', 'k', 1.0",
        INVALID,
        &["expected"],
    );
}

/// CSV files with bad content, read by `INSERT INTO … SELECT … FROM 'file.csv'`.
/// They are written by [`write_csv_files`].
const CSV_FILES: &[(&str, &[u8])] = &[
    (
        "invalid_utf8.csv",
        b"run_id,key,value,timestamp,step\nrun-active,good,1.0,1700000000000,0\nrun-active,bad\xff\xfekey,2.0,1700000000000,1\n",
    ),
    (
        "wrong_columns.csv",
        b"run,name,score\nrun-active,loss,1.0\n",
    ),
    (
        "bad_number.csv",
        b"run_id,key,value,timestamp,step\nrun-active,loss,1.0,1700000000000,0\nrun-active,loss,abc,1700000000000,1\n",
    ),
    (
        // A column DataFusion infers as floats is parsed by arrow, which
        // reads 1e400 as +inf (indistinguishable from a logged inf by then);
        // the second row keeps the column text, so runql's parser sees 1e400.
        "huge_number.csv",
        b"run_id,key,value,timestamp,step\nrun-active,loss,1e400,1700000000000,0\nrun-active,loss,n/a,1700000000000,1\n",
    ),
    (
        "nan_step.csv",
        b"run_id,key,value,timestamp,step\nrun-active,loss,1.0,1700000000000,NaN\n",
    ),
    (
        "unknown_run.csv",
        b"run_id,key,value,timestamp,step\nrun-active,loss,1.0,1700000000000,0\nnope,loss,1.0,1700000000000,0\n",
    ),
    (
        "deleted_run.csv",
        b"run_id,key,value,timestamp,step\nrun-deleted,loss,1.0,1700000000000,0\n",
    ),
    (
        "last_row_bad.csv",
        b"run_id,key,value,timestamp,step\nrun-active,l1,1.0,1700000000000,0\nrun-active,l2,2.0,1700000000000,0\nrun-other,l3,3.0,1700000000000,0\nrun-active,../l4,4.0,1700000000000,0\n",
    ),
    (
        "ragged.csv",
        b"run_id,key,value,timestamp,step\nrun-active,loss,1.0,1700000000000,0,extra,fields\n",
    ),
    (
        "control_char_key.csv",
        b"run_id,key,value,timestamp,step\nrun-active,lo\x07ss,1.0,1700000000000,0\n",
    ),
    (
        "params_invalid_utf8.csv",
        b"run_id,key,value\nrun-active,fresh,caf\xc3\n",
    ),
    (
        "params_conflict.csv",
        b"run_id,key,value\nrun-active,new1,a\nrun-active,lr,0.99\n",
    ),
];

fn write_csv_files(dir: &Path) {
    for (name, bytes) in CSV_FILES {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn csv_files(c: &mut Corpus, scratch: &Path) {
    c.section("CSV input");
    let file = |name: &str| lit(&scratch.join(name).display().to_string());
    let metrics = |name: &str| {
        format!(
            "INSERT INTO metrics SELECT run_id, key, value, timestamp, step FROM {}",
            file(name)
        )
    };
    c.sql(
        "invalid UTF-8 in a key",
        metrics("invalid_utf8.csv"),
        INVALID,
        &["utf-8"],
    );
    c.sql(
        "columns named differently",
        metrics("wrong_columns.csv"),
        INVALID,
        &["no field named run_id"],
    );
    c.sql(
        "a value that is not a number",
        metrics("bad_number.csv"),
        INVALID,
        &["metrics row 2", "value", "abc"],
    );
    c.sql(
        "a value of 1e400",
        metrics("huge_number.csv"),
        INVALID,
        &["metrics row 1", "value", "1e400"],
    );
    c.sql(
        "a step of NaN",
        metrics("nan_step.csv"),
        INVALID,
        &["metrics row 1", "step", "NaN"],
    );
    c.sql(
        "an unknown run on the last row",
        metrics("unknown_run.csv"),
        MISSING,
        &["run 'nope'", "metrics row 2"],
    );
    c.sql(
        "a deleted run",
        metrics("deleted_run.csv"),
        INVALID,
        &["metrics row 1", "run 'run-deleted'"],
    );
    c.sql(
        "three good rows then a bad key",
        metrics("last_row_bad.csv"),
        INVALID,
        &["metrics row 4", "metric key", "'../l4'"],
    );
    c.sql(
        "a row with extra fields",
        metrics("ragged.csv"),
        INVALID,
        &["unequal lengths", "line 2"],
    );
    c.sql(
        "a key with a bell",
        metrics("control_char_key.csv"),
        INVALID,
        &["metrics row 1", "metric key", "contains"],
    );
    c.sql(
        "a missing file",
        format!(
            "INSERT INTO metrics SELECT run_id, key, value FROM {}",
            file("no_such_file.csv")
        ),
        INVALID,
        &["no_such_file.csv"],
    );
    c.sql(
        "params: invalid UTF-8 in a value",
        format!(
            "INSERT INTO params SELECT run_id, key, value FROM {}",
            file("params_invalid_utf8.csv")
        ),
        INVALID,
        &["utf-8"],
    );
    c.sql(
        "params: a new param then a conflicting one",
        format!(
            "INSERT INTO params SELECT run_id, key, value FROM {}",
            file("params_conflict.csv")
        ),
        INVALID,
        &["params row 2", "param 'lr'", "write-once"],
    );
    c.sql(
        "a key smuggled through the CSV as SQL",
        format!(
            "INSERT INTO metrics SELECT run_id, key || '''; DROP TABLE runs; --', value, timestamp, step FROM {}",
            file("deleted_run.csv")
        ),
        INVALID,
        &["metrics row 1", "metric key", "contains"],
    );
}

fn filters(c: &mut Corpus) {
    c.section("search filters");
    let runs = |filter: &str| format!("EXEC runs.search @filter={}", lit(filter));
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "statement injection",
            "params.a = 'x'; DROP TABLE runs; --",
            &["filter", "';'"],
        ),
        (
            "quote injection",
            "' OR 1=1 --",
            &["filter", "unterminated"],
        ),
        (
            "quote injection after a value",
            "params.a = '' OR 1=1 --'",
            &["filter", "unexpected character '-'"],
        ),
        (
            "tautology",
            "metrics.loss < 1 OR 1=1",
            &["filter", "expected a key"],
        ),
        (
            "UNION injection",
            "attributes.run_id = 'x' UNION SELECT * FROM raw.params",
            &["filter", "unexpected character '*'"],
        ),
        (
            "comment injection",
            "params.a = 'x' /* hidden */",
            &["filter", "'/'"],
        ),
        (
            "subquery",
            "attributes.run_id IN (SELECT run_id FROM runs)",
            &["filter", "expected a value"],
        ),
        (
            "unterminated single quote",
            "params.a = 'x",
            &["filter", "unterminated"],
        ),
        (
            "unterminated double quote",
            "params.\"a = 'x'",
            &["filter", "unterminated"],
        ),
        (
            "unterminated backtick",
            "tags.`user = 'x'",
            &["filter", "unterminated"],
        ),
        (
            "no comparator",
            "metrics.loss",
            &["filter", "comparator", "metrics.loss"],
        ),
        (
            "no value",
            "metrics.loss <",
            &["filter", "expected a value"],
        ),
        (
            "comparator spelled out",
            "metrics.loss equals 1",
            &["filter", "comparator", "'equals'"],
        ),
        (
            "LIKE on a metric",
            "metrics.loss LIKE 'a%'",
            &["filter", "LIKE"],
        ),
        (
            "text compared with a metric",
            "metrics.loss = 'abc'",
            &["filter", "number", "'abc'"],
        ),
        (
            "ordering with text",
            "params.lr > 'abc'",
            &["filter", "number", "'abc'"],
        ),
        (
            "time compared with garbage",
            "start_time = 'not a date'",
            &["filter", "'not a date'"],
        ),
        (
            "LIKE on a time",
            "start_time LIKE '2020%'",
            &["filter", "LIKE"],
        ),
        (
            "fractional millis",
            "start_time > 1.5",
            &["filter", "milliseconds"],
        ),
        (
            "unknown attribute",
            "colour = 'red'",
            &["filter", "unknown attribute 'colour'"],
        ),
        (
            "unknown entity",
            "foo.bar = 1",
            &["filter", "unknown entity 'foo'"],
        ),
        (
            "unknown dataset field",
            "datasets.size = 'x'",
            &["filter", "unknown dataset field 'size'"],
        ),
        (
            "entity without key",
            "metrics. = 1",
            &["filter", "expected a key"],
        ),
        (
            "empty quoted key",
            "metrics.`` = 1",
            &["filter", "empty key"],
        ),
        (
            "unclosed parenthesis",
            "(metrics.loss < 1",
            &["filter", "')'"],
        ),
        (
            "stray closing parenthesis",
            "metrics.loss < 1)",
            &["filter", "unexpected ')'"],
        ),
        (
            "empty IN list",
            "metrics.loss IN ()",
            &["filter", "at least one value"],
        ),
        (
            "IN list without commas",
            "params.a IN ('x' 'y')",
            &["filter", "','"],
        ),
        ("lone !", "metrics.loss ! 1", &["filter", "'!'"]),
        (
            "number run into letters",
            "metrics.loss < 1x",
            &["filter", "'1x'", "not a number"],
        ),
        (
            "number with two dots",
            "metrics.loss < 1.2.3",
            &["filter", "'1.2.3'"],
        ),
        ("IS without NULL", "status IS 'x'", &["filter", "NULL"]),
        (
            "dangling AND",
            "metrics.loss < 1 AND",
            &["filter", "expected a key"],
        ),
        ("leading AND", "AND metrics.loss < 1", &["filter", "AND"]),
        (
            "two conditions without AND",
            "metrics.loss < 1 metrics.acc > 0",
            &["filter", "AND, OR"],
        ),
        (
            "NUL in a key",
            "metrics.lo\u{0}ss < 1",
            &["filter", "unexpected character"],
        ),
        ("semicolon alone", ";", &["filter", "';'"]),
        ("number for LIKE", "params.a LIKE 5", &["filter", "number"]),
        (
            "NOT without LIKE or IN",
            "params.a NOT = 'x'",
            &["filter", "LIKE, ILIKE or IN"],
        ),
        (
            "metric IN with text",
            "metrics.loss IN ('a')",
            &["filter", "number", "'a'"],
        ),
    ];
    for (name, filter, expect) in cases {
        c.sql(name, runs(filter), INVALID, expect);
    }
    c.sql(
        "nested 101 parentheses",
        runs(&format!(
            "{}metrics.loss < 1{}",
            chars('(', 101),
            chars(')', 101)
        )),
        INVALID,
        &["filter", "100 deep"],
    );
    c.sql(
        "NOT nested 150 deep",
        runs(&format!("{}metrics.loss < 1", "NOT ".repeat(150))),
        INVALID,
        &["filter", "100 deep"],
    );
    c.sql(
        "filter is a JSON object",
        r#"EXEC runs.search @filter={"metrics.loss": 1}"#,
        INVALID,
        &["@filter", "text"],
    );
    c.sql(
        "experiment_ids holds an object",
        r#"EXEC runs.search @experiment_ids='[1, {"a": 2}]'"#,
        INVALID,
        &["@experiment_ids", "list of text"],
    );
    c.sql(
        "experiment_ids is broken JSON",
        r#"EXEC runs.search @experiment_ids='["1"'"#,
        INVALID,
        &["@experiment_ids", "JSON array"],
    );
    c.sql(
        "unknown run_view_type",
        "EXEC runs.search @run_view_type='EVERYTHING'",
        INVALID,
        &["run_view_type", "'EVERYTHING'"],
    );
    let experiments = |filter: &str| format!("EXEC experiments.search @filter={}", lit(filter));
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "metrics on experiments",
            "metrics.loss < 1",
            &["filter", "unknown entity 'metrics'"],
        ),
        (
            "params on experiments",
            "params.a = 'x'",
            &["filter", "unknown entity 'params'"],
        ),
        (
            "statement injection",
            "name = 'x'; DELETE FROM experiments",
            &["filter", "';'"],
        ),
        (
            "quote injection",
            "name = '' OR '1'='1",
            &["filter", "unterminated"],
        ),
        (
            "creation_time with garbage",
            "creation_time = 'someday'",
            &["filter", "'someday'"],
        ),
        (
            "run attribute on experiments",
            "run_name = 'x'",
            &["filter", "unknown attribute"],
        ),
        (
            "unterminated quote",
            "name LIKE 'vision%",
            &["filter", "unterminated"],
        ),
    ];
    for (name, filter, expect) in cases {
        c.sql(
            &format!("experiments: {name}"),
            experiments(filter),
            INVALID,
            expect,
        );
    }
    c.sql(
        "experiments: unknown view_type",
        "EXEC experiments.search @view_type='DELETED'",
        INVALID,
        // experiments.search has no run_view_type: the message must name @view_type.
        &["@view_type", "'DELETED'"],
    );
    c.sql(
        "search_runs: statement injection",
        "SELECT * FROM search_runs('params.a = ''x''; DROP TABLE runs; --')",
        INVALID,
        &["filter", "';'"],
    );
    c.sql(
        "search_runs: dangling comparator",
        "SELECT * FROM search_runs('metrics.loss <', ['100'])",
        INVALID,
        &["filter", "expected a value"],
    );
    c.sql(
        "search_runs: max_results 0",
        "SELECT * FROM search_runs('', NULL, NULL, 0)",
        INVALID,
        &["max_results", "got 0"],
    );
    c.sql(
        "search_runs: unknown order field",
        r#"SELECT * FROM search_runs('', NULL, '["bogus.x"]')"#,
        INVALID,
        &["order_by", "unknown entity 'bogus'"],
    );
    c.sql(
        "search_experiments: quote injection",
        "SELECT * FROM search_experiments(''' OR 1=1 --')",
        INVALID,
        &["filter", "unterminated"],
    );
}

fn orderings_and_pages(c: &mut Corpus, token: &str) {
    c.section("search order_by, max_results, page tokens");
    let order = |items: &str| format!("EXEC runs.search @order_by={}", lit(items));
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown direction",
            r#"["metrics.loss SIDEWAYS"]"#,
            &["order_by", "ASC or DESC"],
        ),
        (
            "ordering by a dataset",
            r#"["datasets.name"]"#,
            &["order_by", "cannot be ordered by"],
        ),
        (
            "words after the direction",
            r#"["metrics.loss ASC extra"]"#,
            &["order_by", "end of the ordering"],
        ),
        (
            "unknown entity",
            r#"["nope.x"]"#,
            &["order_by", "unknown entity 'nope'"],
        ),
        (
            "statement injection",
            r#"["metrics.loss; DROP TABLE runs"]"#,
            &["order_by", "';'"],
        ),
        ("empty item", r#"[""]"#, &["order_by", "expected a key"]),
        (
            "broken JSON",
            r#"["metrics.loss""#,
            &["order_by", "JSON array"],
        ),
        (
            "unknown attribute",
            r#"["colour DESC"]"#,
            &["order_by", "unknown attribute 'colour'"],
        ),
    ];
    for (name, items, expect) in cases {
        c.sql(&format!("order_by: {name}"), order(items), INVALID, expect);
    }
    let max = |value: &str| format!("EXEC runs.search @max_results={value}");
    let cases: &[(&str, &str, &[&str])] = &[
        ("0", "0", &["max_results", "50000", "got 0"]),
        ("-1", "-1", &["max_results", "got -1"]),
        ("50001", "50001", &["max_results", "got 50001"]),
        ("1e10", "1e10", &["@max_results", "whole number"]),
        ("NaN", "'NaN'", &["@max_results", "whole number"]),
        (
            "a word",
            "'ten'",
            &["@max_results", "whole number", "'ten'"],
        ),
        (
            "beyond i64",
            "9223372036854775808",
            &["@max_results", "whole number"],
        ),
        ("i64::MAX", "9223372036854775807", &["max_results", "50000"]),
    ];
    for (name, value, expect) in cases {
        c.sql(&format!("max_results {name}"), max(value), INVALID, expect);
    }
    c.sql(
        "experiments: max_results 0",
        "EXEC experiments.search @max_results=0",
        INVALID,
        &["max_results", "got 0"],
    );

    // Tokens: garbage, tampered with, truncated, and real ones replayed elsewhere.
    let page = |token: &str, filter: &str| {
        format!(
            "EXEC runs.search @max_results=1 @filter={} @page_token={}",
            lit(filter),
            lit(token)
        )
    };
    let encoded = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let mut tampered: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).expect("a token is base64"))
            .expect("a token is JSON");
    let fingerprint = tampered["q"].clone();
    let keys = tampered["after"].as_array().map_or(0, Vec::len);
    tampered["after"] = Value::Array(vec![json!({"f": "abc"}); keys]);
    let cases: Vec<(&str, String, &str, &[&str])> = vec![
        (
            "not base64",
            "not-a-token!!".into(),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "base64 of text",
            URL_SAFE_NO_PAD.encode("hello"),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "JSON array",
            encoded(json!([])),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "a newer version",
            encoded(json!({"v": 2, "q": fingerprint, "after": []})),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "wrong number of keys",
            encoded(json!({"v": 1, "q": fingerprint, "after": []})),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "a float key that is not a number",
            URL_SAFE_NO_PAD.encode(tampered.to_string()),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "truncated",
            token[..token.len() / 2].to_string(),
            "",
            &["page_token", "not a valid page token"],
        ),
        (
            "from a different search",
            token.to_string(),
            "metrics.loss > 0",
            &["page_token", "different search"],
        ),
        (
            "with SQL in it",
            "x' OR '1'='1".into(),
            "",
            &["page_token", "not a valid page token"],
        ),
    ];
    for (name, token, filter, expect) in cases {
        c.sql(
            &format!("page_token: {name}"),
            page(&token, filter),
            INVALID,
            expect,
        );
    }
    c.sql(
        "page_token: a run-search token on experiments",
        format!("EXEC experiments.search @page_token={}", lit(token)),
        INVALID,
        &["page_token"],
    );
}

/// Scripts are split before anything runs: a script that does not lex runs nothing.
fn scripts(c: &mut Corpus) {
    c.section("scripts");
    c.script(
        "good statement, then an unterminated quote",
        "EXEC runs.set_tag @run_id='run-active' @key='script-ok' @value='fine';\n\
         EXEC runs.set_tag @run_id='run-active' @key='k' @value='oops;",
        INVALID,
        &["unterminated string", "line 2"],
    );
    c.script(
        "good statement, then an unterminated comment",
        "EXEC runs.set_tag @run_id='run-active' @key='script-ok' @value='fine';\n/* never closed",
        INVALID,
        &["unterminated block comment"],
    );
    c.script(
        "good statement, then an unterminated double quote",
        "INSERT INTO params VALUES ('run-active', 'script-ok', 'v');\nSELECT \"oops FROM runs;",
        INVALID,
        &["unterminated"],
    );
    c.script(
        "good statement, then an unterminated JSON argument",
        "EXEC runs.set_tag @run_id='run-active' @key='script-ok' @value='fine';\n\
         EXEC runs.create @tags=[{\"key\": \"k\"",
        INVALID,
        &["unterminated JSON"],
    );
}

fn locations(c: &mut Corpus, scratch: &Path) {
    c.section("store locations");
    let path = |name: &str| scratch.join(name).display().to_string();
    c.open("empty", "", INVALID, &["store location", "empty"]);
    c.open("blank", "   ", INVALID, &["store location", "empty"]);
    for scheme in ["ftp", "http", "hdfs", "sftp"] {
        c.open(
            &format!("{scheme}:// scheme"),
            format!("{scheme}://example.com/store"),
            INVALID,
            &["unsupported scheme", &format!("'{scheme}'")],
        );
    }
    for location in [
        "s3://",
        "s3:///prefix",
        "S3://",
        "s3a://",
        "gs://",
        "az://",
        "abfss://",
    ] {
        c.open(
            &format!("{location} without a bucket"),
            location,
            INVALID,
            &[
                "names no bucket or container",
                location.to_ascii_lowercase().trim_end_matches("/prefix"),
            ],
        );
    }
    c.open(
        "no scheme",
        "://nothing",
        INVALID,
        &["'://nothing'", "not a valid URL"],
    );
    c.open(
        "broken IPv6 host",
        "http://[::1/store",
        INVALID,
        &["not a valid URL"],
    );
    c.open(
        "file:// on another host",
        "file://remote-host/tmp/store",
        INVALID,
        &["not a local path"],
    );
    c.open(
        "a regular file",
        path("plain-file"),
        INVALID,
        &["cannot create store directory", "plain-file"],
    );
    c.open(
        "a directory under a regular file",
        path("plain-file/store"),
        INVALID,
        &["cannot create store directory", "plain-file/store"],
    );
    c.open(
        "file:// under a regular file",
        format!("file://{}", path("plain-file/store")),
        INVALID,
        &["cannot create store directory", "plain-file/store"],
    );
    c.open(
        "a path with a NUL byte",
        path("nul\0byte"),
        INVALID,
        &["store directory"],
    );
    c.open(
        "under /dev/null",
        "/dev/null/store",
        INVALID,
        &["cannot create store directory", "/dev/null/store"],
    );
    // A store written by a newer runql is refused and never rewritten; that is
    // the store's state rather than a bad argument, so it is an internal error
    // (error.rs maps FormatTooNew there), with a message that says what to do.
    c.open(
        "a store of a newer format",
        path("newer-store"),
        INTERNAL,
        &["format version 99", "upgrade runql"],
    );
    c.open(
        "a store whose format file is not JSON",
        path("corrupt-store"),
        INTERNAL,
        &["format.json"],
    );
}

// ---------------------------------------------------------------------------
// Running the corpus
// ---------------------------------------------------------------------------

enum Outcome {
    Succeeded(String),
    Failed(runql::RunqlError),
    Panicked(String),
    TimedOut,
}

async fn run_case(session: &Session, input: &Input) -> Outcome {
    let session = session.clone();
    let input = match input {
        Input::Sql(text) => Input::Sql(text.clone()),
        Input::Script(text) => Input::Script(text.clone()),
        Input::Open(text) => Input::Open(text.clone()),
    };
    // Its own task, so a panic is one failed case rather than the end of the corpus.
    let task = tokio::spawn(async move {
        match input {
            Input::Sql(sql) => session.execute(&sql).await.map(|o| describe(&[o])),
            Input::Script(script) => session.run_script(&script).await.map(|o| describe(&o)),
            Input::Open(location) => Store::open(&location)
                .await
                .map(|store| format!("opened {}", store.location())),
        }
    });
    match tokio::time::timeout(CASE_TIMEOUT, task).await {
        Err(_) => Outcome::TimedOut,
        Ok(Err(join)) => Outcome::Panicked(match join.try_into_panic() {
            Ok(payload) => payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a non-text panic".into()),
            Err(e) => e.to_string(),
        }),
        Ok(Ok(Ok(shown))) => Outcome::Succeeded(shown),
        Ok(Ok(Err(e))) => Outcome::Failed(e),
    }
}

/// A short description of what a statement that should have failed returned.
fn describe(outputs: &[Output]) -> String {
    let Some(last) = outputs.last() else {
        return "no output".into();
    };
    let mut cells = Vec::new();
    if let Some(batch) = last.batches.first()
        && batch.num_rows() > 0
    {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()).take(6) {
            let value = if column.is_null(0) {
                "NULL".to_string()
            } else {
                array_value_to_string(column, 0).unwrap_or_default()
            };
            cells.push(format!("{}={}", field.name(), short(&value, 40)));
        }
    }
    format!("{} row(s); first: {}", last.row_count(), cells.join(", "))
}

/// Why an error does not match its case, if it does not.
fn mismatch(case: &Case, error: &runql::RunqlError) -> Option<String> {
    let message = error.to_string();
    let lower = message.to_lowercase();
    let mut problems = Vec::new();
    if error.code() != case.code {
        problems.push(format!("code {} instead of {}", error.code(), case.code));
    }
    let missing: Vec<&String> = case
        .expect
        .iter()
        .filter(|word| !lower.contains(&word.to_lowercase()))
        .collect();
    if !missing.is_empty() {
        problems.push(format!("message lacks {missing:?}"));
    }
    // "kind 'id' does not exist" / "already exists": the text before it must
    // read as a whole, not as an id with a half-open "(… row 3" glued on.
    for tail in [" does not exist", " already exists"] {
        if let Some(head) = message.strip_suffix(tail)
            && head.matches('(').count() != head.matches(')').count()
        {
            problems.push(format!(
                "garbled message: unbalanced parenthesis before{tail:?}"
            ));
        }
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        problems.push(format!(
            "message is {} characters long",
            message.chars().count()
        ));
    }
    // A message may break lines where the engine does (DataFusion's "caused
    // by"), but must not echo the caller's control characters raw: they garble
    // one-line output and let input drive the terminal (ESC sequences).
    let echoed = |c: char| c.is_control() && (c != '\n' || case.input.text().contains('\n'));
    if let Some(c) = message.chars().find(|c| echoed(*c)) {
        problems.push(format!("message holds the raw control character {c:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{}\n    actual: {}: {}",
            problems.join("; "),
            error.code(),
            short(&message, 400)
        )
    })
}

// ---------------------------------------------------------------------------
// Snapshots: what "unchanged" means
// ---------------------------------------------------------------------------

/// The store as bytes and as rows.
#[derive(PartialEq, Debug)]
struct Snapshot {
    /// Every raw table's change rows and every user view, rendered and sorted.
    rows: BTreeMap<String, Vec<Vec<String>>>,
    /// Per table, how many files its `_delta_log` holds (its version history).
    delta_logs: BTreeMap<String, usize>,
    /// Every data file (outside `_delta_log`) with its size.
    data_files: Vec<(String, u64)>,
    /// Every file's bytes.
    bytes: BTreeMap<String, Vec<u8>>,
}

async fn snapshot(ctx: &SessionContext, root: &Path) -> Snapshot {
    let mut rows = BTreeMap::new();
    for table in raw_tables() {
        let name = format!("raw.{table}");
        rows.insert(
            name.clone(),
            common::sorted(ctx, &format!("SELECT * FROM {name}")).await,
        );
    }
    for view in runql::tables::USER_TABLES {
        rows.insert(
            view.to_string(),
            common::sorted(ctx, &format!("SELECT * FROM {view}")).await,
        );
    }
    let files = listing(root);
    let mut delta_logs = BTreeMap::new();
    for table in raw_tables() {
        let prefix = format!("{table}/_delta_log/");
        delta_logs.insert(
            table.to_string(),
            files.iter().filter(|(p, _)| p.starts_with(&prefix)).count(),
        );
    }
    let data_files = files
        .iter()
        .filter(|(p, _)| !p.contains("_delta_log/") && !p.starts_with("_runql/"))
        .cloned()
        .collect();
    let bytes = files
        .iter()
        .map(|(p, _)| (p.clone(), std::fs::read(root.join(p)).unwrap()))
        .collect();
    Snapshot {
        rows,
        delta_logs,
        data_files,
        bytes,
    }
}

/// What differs between two snapshots, part by part.
fn snapshot_differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (name, rows) in &before.rows {
        let now = &after.rows[name];
        if rows != now {
            let added: Vec<_> = now.iter().filter(|r| !rows.contains(r)).take(5).collect();
            let removed: Vec<_> = rows.iter().filter(|r| !now.contains(r)).take(5).collect();
            out.push(format!(
                "{name}: {} rows became {}; added {added:?}; removed {removed:?}",
                rows.len(),
                now.len()
            ));
        }
    }
    if before.delta_logs != after.delta_logs {
        out.push(format!(
            "Delta log files per table: {:?} became {:?}",
            before.delta_logs, after.delta_logs
        ));
    }
    if before.data_files != after.data_files {
        out.push(format!(
            "data files: {} became {}",
            before.data_files.len(),
            after.data_files.len()
        ));
    }
    for (path, bytes) in &before.bytes {
        match after.bytes.get(path) {
            None => out.push(format!("{path} was removed")),
            Some(now) if now != bytes => out.push(format!("{path} changed")),
            Some(_) => {}
        }
    }
    for path in after.bytes.keys() {
        if !before.bytes.contains_key(path) {
            out.push(format!("{path} was added"));
        }
    }
    out
}

/// Files added, removed or resized between two listings.
fn listing_differences(before: &[(String, u64)], after: &[(String, u64)]) -> Option<String> {
    if before == after {
        return None;
    }
    let added: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
    let removed: Vec<_> = before.iter().filter(|f| !after.contains(f)).collect();
    Some(format!(
        "files added or resized {added:?}; removed or resized {removed:?}"
    ))
}

// ---------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------

/// Known content, built through SQL only: an experiment with a tag, an active
/// run with params, tags, metrics (NaN and ±inf among them), a dataset, an
/// input and an output model and a logged model; a finished run; a deleted
/// run; a run in a deleted experiment; and a spare experiment to collide with.
const FIXTURE: &str = r#"
INSERT INTO experiments (experiment_id, name) VALUES ('100', 'bad-input'), ('200', 'doomed');
EXEC experiments.create @name='spare' @tags='[{"key": "purpose", "value": "collisions"}]';
EXEC experiments.set_tag @experiment_id='100' @key='team' @value='vision';
EXEC runs.create @experiment_id='100' @run_id='run-active' @run_name='active'
     @start_time=1700000000000 @tags='[{"key": "stage", "value": "dev"}]';
EXEC runs.create @experiment_id='100' @run_id='run-other' @run_name='other' @start_time=1700000001000;
EXEC runs.create @experiment_id='100' @run_id='run-deleted' @run_name='deleted' @start_time=1700000002000;
EXEC runs.create @experiment_id='200' @run_id='run-doomed' @run_name='doomed' @start_time=1700000003000;
EXEC runs.log_batch @@json='{"run_id": "run-active",
  "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1700000000100, "step": 0},
              {"key": "loss", "value": "NaN", "timestamp": 1700000000200, "step": 1},
              {"key": "acc", "value": "Infinity", "timestamp": 1700000000300, "step": 1},
              {"key": "acc", "value": "-Infinity", "timestamp": 1700000000400, "step": 2}],
  "params": [{"key": "lr", "value": "0.01"}, {"key": "optimizer", "value": "adam"}],
  "tags": [{"key": "note", "value": "fixture"}]}';
EXEC runs.log_metric @run_id='run-other' @key='loss' @value=NaN @timestamp=1700000001100 @step=0;
EXEC runs.log_param @run_id='run-other' @key='lr' @value='0.1';
EXEC runs.log_param @run_id='run-deleted' @key='lr' @value='0.2';
EXEC runs.set_tag @run_id='run-deleted' @key='stage' @value='old';
EXEC runs.log_param @run_id='run-doomed' @key='lr' @value='0.3';
EXEC runs.log_inputs @run_id='run-active'
     @datasets='[{"dataset": {"name": "mnist", "digest": "d41d8cd9", "source_type": "s3", "source": "s3://data/mnist"},
                  "tags": [{"key": "mlflow.data.context", "value": "training"}]}]'
     @models='[{"model_id": "m-in"}]';
EXEC runs.log_outputs @run_id='run-active' @models='[{"model_id": "m-out", "step": 3}]';
EXEC runs.log_model @run_id='run-active' @model_json='{"artifact_path": "model", "flavors": {}}';
EXEC runs.update @run_id='run-other' @status='FINISHED' @end_time=1700000009000;
INSERT INTO metrics (run_id, key, value, timestamp, step) VALUES ('run-other', 'acc', 0.75, 1700000001200, 1);
INSERT INTO params VALUES ('run-other', 'batch', '32');
INSERT INTO tags VALUES ('run-other', 'team', 'nlp');
EXEC runs.delete @run_id='run-deleted';
EXEC experiments.delete @experiment_id='200';
"#;

/// Files the location cases need in the scratch directory.
fn write_location_fixtures(scratch: &Path) {
    std::fs::write(scratch.join("plain-file"), b"not a directory").unwrap();
    let newer = scratch.join("newer-store").join("_runql");
    std::fs::create_dir_all(&newer).unwrap();
    std::fs::write(newer.join("format.json"), br#"{"format_version": 99}"#).unwrap();
    let corrupt = scratch.join("corrupt-store").join("_runql");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("format.json"), b"{\"format_version\": \"one\"").unwrap();
}

async fn ok(session: &Session, sql: &str) -> Output {
    match session.execute(sql).await {
        Ok(output) => output,
        Err(e) => panic!("{sql}\nfailed: {}", e.with_code()),
    }
}

fn cell(output: &Output, column: &str) -> Option<String> {
    let index = output.schema.index_of(column).ok()?;
    let batch = output.batches.iter().find(|b| b.num_rows() > 0)?;
    let array = batch.column(index);
    (!array.is_null(0)).then(|| array_value_to_string(array, 0).unwrap())
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_fails_clearly_and_writes_nothing() {
    let started = Instant::now();
    let store_dir = tempfile::tempdir().unwrap();
    let scratch_dir = tempfile::tempdir().unwrap();
    let (root, scratch) = (store_dir.path(), scratch_dir.path());
    write_csv_files(scratch);
    write_location_fixtures(scratch);

    let store = Store::open(root.to_str().unwrap())
        .await
        .unwrap_or_else(|e| panic!("opening the fixture store: {e}"));
    let session = store.session().await.unwrap();
    if let Err(e) = session.run_script(FIXTURE).await {
        panic!("building the fixture: {}", e.with_code());
    }
    let first_page = ok(&session, "EXEC runs.search @max_results=1").await;
    let token = cell(&first_page, "next_page_token").expect("a first page of one run has a token");

    let ctx = common::context(&store).await;
    let before = snapshot(&ctx, root).await;
    assert!(
        before.rows["metrics"].len() >= 6 && before.rows["runs"].len() == 4,
        "the fixture is not what the corpus assumes: {:?}",
        before.rows["runs"]
    );

    let cases = corpus(&Inputs {
        scratch: scratch.to_path_buf(),
        token,
    });
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *counts.entry(case.category).or_default() += 1;
    }

    let watched = [root, scratch];
    let mut baseline: Vec<_> = watched.iter().map(|dir| listing(dir)).collect();
    let mut failures = Vec::new();
    // BAD_INPUT_SHOW=1 prints every case's error, to review the messages by eye.
    let show_all = std::env::var_os("BAD_INPUT_SHOW").is_some();
    for case in &cases {
        let outcome = run_case(&session, &case.input).await;
        if show_all && let Outcome::Failed(error) = &outcome {
            eprintln!(
                "[{}] {}: {}",
                case.category,
                case.name,
                short(&error.with_code(), 300)
            );
        }
        let mut problems = Vec::new();
        match &outcome {
            Outcome::Succeeded(shown) => problems.push(format!("succeeded: {shown}")),
            Outcome::Panicked(message) => problems.push(format!("panicked: {message}")),
            Outcome::TimedOut => problems.push(format!("no answer within {CASE_TIMEOUT:?}")),
            Outcome::Failed(error) => problems.extend(mismatch(case, error)),
        }
        // A failed call must write nothing; attribute any write to this case.
        for (dir, before) in watched.iter().zip(baseline.iter_mut()) {
            let now = listing(dir);
            if let Some(change) = listing_differences(before, &now) {
                problems.push(format!("wrote to {}: {change}", dir.display()));
                *before = now;
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "[{}] {}\n    input: {}\n    expected: {} with {:?}\n    {}",
                case.category,
                case.name,
                short(case.input.text(), 200),
                case.code,
                case.expect,
                problems.join("\n    ")
            ));
        }
    }
    let corpus_time = started.elapsed();

    let after = snapshot(&ctx, root).await;
    let differences = snapshot_differences(&before, &after);

    // The store still takes valid writes after all that: no bad input wedged it.
    for sql in [
        "EXEC runs.log_metric @run_id='run-active' @key='after' @value=1 @timestamp=1700000005000",
        "EXEC runs.log_param @run_id='run-active' @key='after' @value='yes'",
        "EXEC runs.set_tag @run_id='run-active' @key='after' @value='yes'",
        "INSERT INTO metrics VALUES ('run-other', 'after', 2.0, 1700000005000, 0)",
        "EXEC runs.create @experiment_id='100' @run_id='run-after' @run_name='after'",
        "EXEC experiments.set_tag @experiment_id='100' @key='after' @value='yes'",
    ] {
        if let Err(e) = session.execute(sql).await {
            failures.push(format!(
                "a valid write failed after the corpus: {sql}\n    {}",
                e.with_code()
            ));
        }
    }
    let written = common::sql(
        &ctx,
        "SELECT (SELECT count(*) FROM metrics WHERE key = 'after') AS metrics, \
                (SELECT count(*) FROM params WHERE key = 'after') AS params, \
                (SELECT count(*) FROM runs WHERE run_id = 'run-after') AS runs",
    )
    .await;
    if written != vec![vec!["2", "1", "1"]] {
        failures.push(format!(
            "valid writes after the corpus: expected 2 metrics, 1 param and 1 run, found {written:?}"
        ));
    }

    let summary: Vec<String> = counts
        .iter()
        .map(|(category, n)| format!("  {n:>4}  {category}"))
        .collect();
    eprintln!(
        "bad-input corpus: {} cases in {:.1?} (whole test {:.1?})\n{}",
        cases.len(),
        corpus_time,
        started.elapsed(),
        summary.join("\n")
    );
    assert!(cases.len() >= 200, "the corpus shrank to {}", cases.len());
    if !differences.is_empty() {
        failures.push(format!(
            "the store changed across the corpus:\n    {}",
            differences.join("\n    ")
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not handled as documented:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
