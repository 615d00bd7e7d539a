//! The serve section of `runql bench`: `runql serve` beside `mlflow server`
//! (its sqlite backend) on the same machine, each loaded by the same HTTP
//! clients doing what training code does: `log_metric` from 1, 8 and 32
//! concurrent clients, and `log_batch` of 1000 points from 8. Each client
//! logs to its own run over one keep-alive connection, and each request is
//! timed from send to the end of its answer. The clients are a minimal
//! HTTP/1.1 client on tokio, so both servers see exactly the same requests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::bench::samples::Samples;
use crate::error::{Context, Result, RunqlError};

/// One load: what clients send, how many and how many at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scenario {
    pub name: &'static str,
    pub clients: usize,
    pub requests_per_client: usize,
    /// Metric points per request: 1 for `log_metric`, 1000 for `log_batch`.
    pub points: usize,
}

pub(crate) const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "log_metric, 1 client",
        clients: 1,
        requests_per_client: 300,
        points: 1,
    },
    Scenario {
        name: "log_metric, 8 clients",
        clients: 8,
        requests_per_client: 150,
        points: 1,
    },
    Scenario {
        name: "log_metric, 32 clients",
        clients: 32,
        requests_per_client: 50,
        points: 1,
    },
    Scenario {
        name: "log_batch x1000, 8 clients",
        clients: 8,
        requests_per_client: 5,
        points: 1000,
    },
];

/// What one server did under one scenario.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    pub requests: usize,
    pub points: usize,
    pub elapsed: Duration,
    pub latencies: Samples,
}

impl Load {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn points_per_second(&self) -> f64 {
        self.points as f64 / self.elapsed.as_secs_f64()
    }
}

/// A server under test, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    pub address: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        // mlflow server runs its workers in the child's process group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_in_own_group(command: &mut Command) -> std::io::Result<Child> {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    command.spawn()
}

impl Server {
    /// `runql serve` on the store in `dir`, on a port the OS picks.
    pub fn runql(runql_exe: &Path, dir: &Path) -> Result<Server> {
        let log = dir.with_extension("serve.log");
        let mut child = spawn_in_own_group(
            Command::new(runql_exe)
                .arg("--store")
                .arg(dir)
                .args(["serve", "--port", "0"])
                .stdout(Stdio::null())
                .stderr(
                    std::fs::File::create(&log)
                        .context(|| format!("creating {}", log.display()))?,
                ),
        )
        .context(|| format!("starting {} serve", runql_exe.display()))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(address) = text
                .split("listening on http://")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|a| a.parse().ok())
            {
                return Ok(Server { child, address });
            }
            if matches!(child.try_wait(), Ok(Some(_))) || Instant::now() > deadline {
                let _ = child.kill();
                return Err(RunqlError::internal("starting runql serve", text));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `mlflow server` with a sqlite backend in `dir`, if `mlflow` is installed.
    pub fn mlflow(mlflow_exe: &Path, dir: &Path) -> Result<Server> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context(|| "finding a free port".to_string())?
            .port();
        let log = dir.join("server.log");
        let child = spawn_in_own_group(
            Command::new(mlflow_exe)
                .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
                .arg("--backend-store-uri")
                .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
                .arg("--artifacts-destination")
                .arg(dir.join("artifacts"))
                .env("MLFLOW_DISABLE_TELEMETRY", "true")
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(
                    std::fs::File::create(&log)
                        .context(|| format!("creating {}", log.display()))?,
                ),
        )
        .context(|| format!("starting {} server", mlflow_exe.display()))?;
        let server = Server {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        while std::net::TcpStream::connect(server.address).is_err() {
            if Instant::now() > deadline {
                return Err(RunqlError::internal(
                    "starting mlflow server",
                    std::fs::read_to_string(&log).unwrap_or_default(),
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(server)
    }
}

/// The `mlflow` command to compare with: `RUNQL_MLFLOW_PYTHON`'s sibling, the
/// virtual environment `.ci/run` makes, or `mlflow` on the PATH.
pub(crate) fn find_mlflow() -> Option<PathBuf> {
    let from_python = std::env::var_os("RUNQL_MLFLOW_PYTHON")
        .map(PathBuf::from)
        .and_then(|python| python.parent().map(|dir| dir.join("mlflow")));
    let cached = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/runql-mlflow/bin/mlflow"));
    from_python
        .into_iter()
        .chain(cached)
        .find(|path| path.exists())
        .or_else(|| {
            Command::new("mlflow")
                .arg("--version")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|_| PathBuf::from("mlflow"))
        })
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    async fn open(address: SocketAddr) -> Result<Connection> {
        let stream = TcpStream::connect(address)
            .await
            .context(|| format!("connecting to {address}"))?;
        stream
            .set_nodelay(true)
            .context(|| "setting TCP_NODELAY".to_string())?;
        Ok(Connection {
            stream: BufReader::new(stream),
            host: address.to_string(),
        })
    }

    /// POSTs JSON; the answer's body, or an error naming the status.
    async fn post(&mut self, path: &str, body: &str) -> Result<Vec<u8>> {
        let what = || format!("POST {path}");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .context(what)?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await.context(what)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| RunqlError::internal(what(), format!("no status line: {line:?}")))?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.context(what)?;
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            chunked |= header.starts_with("transfer-encoding:") && header.contains("chunked");
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await.context(what)?;
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk).await.context(what)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            body.resize(length, 0);
            self.stream.read_exact(&mut body).await.context(what)?;
        }
        if status != 200 {
            return Err(RunqlError::internal(
                what(),
                format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
            ));
        }
        Ok(body)
    }
}

/// A run for each client, in a fresh experiment; their ids.
async fn create_runs(address: SocketAddr, experiment: &str, count: usize) -> Result<Vec<String>> {
    let mut connection = Connection::open(address).await?;
    let answer = connection
        .post(
            "/api/2.0/mlflow/experiments/create",
            &serde_json::json!({ "name": experiment }).to_string(),
        )
        .await?;
    let experiment_id = json_field(&answer, &["experiment_id"])?;
    let mut runs = Vec::new();
    for client in 0..count {
        let answer = connection
            .post(
                "/api/2.0/mlflow/runs/create",
                &serde_json::json!({
                    "experiment_id": experiment_id,
                    "run_name": format!("client-{client}"),
                    "start_time": crate::model::now_millis(),
                })
                .to_string(),
            )
            .await?;
        runs.push(json_field(&answer, &["run", "info", "run_id"])?);
    }
    Ok(runs)
}

fn json_field(body: &[u8], path: &[&str]) -> Result<String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .context(|| format!("reading {}", String::from_utf8_lossy(body)))?;
    path.iter()
        .try_fold(&value, |v, key| v.get(key))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| RunqlError::internal("reading an answer", value.to_string()))
}

/// Runs one scenario against a server: every client at once, each over its
/// own connection to its own run.
pub(crate) async fn measure(address: SocketAddr, scenario: Scenario) -> Result<Load> {
    let experiment = format!(
        "bench-{}-{}",
        scenario.name.replace([' ', ','], "-"),
        uuid::Uuid::new_v4().simple()
    );
    let runs = create_runs(address, &experiment, scenario.clients).await?;
    let started = Instant::now();
    let clients = runs.into_iter().map(|run_id| {
        tokio::spawn(async move {
            let mut connection = Connection::open(address).await?;
            let mut latencies = Vec::with_capacity(scenario.requests_per_client);
            let base = crate::model::now_millis();
            for request in 0..scenario.requests_per_client {
                let (path, body) = request_body(&run_id, scenario.points, request, base);
                let sent = Instant::now();
                connection.post(path, &body).await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, RunqlError>(latencies)
        })
    });
    let mut latencies = Samples::default();
    for client in futures::future::join_all(clients).await {
        let client = client.map_err(|e| RunqlError::internal("running a bench client", e))??;
        for latency in client {
            latencies.push(latency);
        }
    }
    let requests = scenario.clients * scenario.requests_per_client;
    Ok(Load {
        requests,
        points: requests * scenario.points,
        elapsed: started.elapsed(),
        latencies,
    })
}

fn request_body(run_id: &str, points: usize, request: usize, base: i64) -> (&'static str, String) {
    if points == 1 {
        let body = serde_json::json!({
            "run_id": run_id, "key": "loss", "value": 1.0 / (request as f64 + 1.0),
            "timestamp": base + request as i64, "step": request,
        });
        return ("/api/2.0/mlflow/runs/log-metric", body.to_string());
    }
    let metrics: Vec<serde_json::Value> = (0..points)
        .map(|i| {
            let step = request * points + i;
            serde_json::json!({
                "key": format!("m{}", i % 10), "value": step as f64 * 0.5,
                "timestamp": base + step as i64, "step": step,
            })
        })
        .collect();
    let body = serde_json::json!({ "run_id": run_id, "metrics": metrics });
    ("/api/2.0/mlflow/runs/log-batch", body.to_string())
}

/// The serve section of the report.
pub(crate) struct ServeReport {
    /// Each scenario with runql's load and, when it ran, MLflow's.
    rows: Vec<(Scenario, Load, Option<Load>)>,
    notes: Vec<String>,
}

/// The bench's loaded store, searched through REST as clients search it.
pub(crate) struct LoadedStore {
    pub store: PathBuf,
    pub runs: usize,
    pub experiment_ids: Vec<String>,
    pub repeats: usize,
}

/// runql's goal for a search through REST at size M (README, Benchmark).
const SEARCH_P95_TARGET: Duration = Duration::from_millis(50);

/// Q1 through `runs/search` on `runql serve` over the loaded store: one
/// warm-up, then `repeats` timed requests (at least 20, for a p95).
async fn time_search(runql_exe: &Path, loaded: &LoadedStore) -> Result<Samples> {
    let server = Server::runql(runql_exe, &loaded.store)?;
    let mut connection = Connection::open(server.address).await?;
    let body = serde_json::json!({
        "experiment_ids": loaded.experiment_ids,
        "filter": "metrics.val_loss < 0.5 and params.optimizer = 'adam'",
        "order_by": ["metrics.val_loss ASC"],
        "max_results": 100,
    })
    .to_string();
    connection
        .post("/api/2.0/mlflow/runs/search", &body)
        .await?;
    let mut samples = Samples::default();
    for _ in 0..loaded.repeats.max(20) {
        let sent = Instant::now();
        connection
            .post("/api/2.0/mlflow/runs/search", &body)
            .await?;
        samples.push(sent.elapsed());
    }
    Ok(samples)
}

/// Measures every scenario on `runql serve` and, when `mlflow` is found, on
/// `mlflow server`; each server starts fresh for each scenario. With a
/// loaded store, also times Q1 through `runs/search`.
pub(crate) async fn run(
    options: &crate::bench::BenchOptions,
    loaded: Option<&LoadedStore>,
) -> Result<ServeReport> {
    let (runql_exe, work) = (options.runql_exe.as_path(), options.work_dir.as_path());
    let mlflow = find_mlflow();
    let mut rows = Vec::new();
    for mut scenario in SCENARIOS {
        if let Some(requests) = options.serve_requests {
            scenario.requests_per_client = requests.max(1);
        }
        crate::bench::progress(&format!("serve: {} on runql serve", scenario.name));
        let runql = {
            let store = work.join("serve-runql");
            let _ = std::fs::remove_dir_all(&store);
            let server = Server::runql(runql_exe, &store)?;
            measure(server.address, scenario).await?
        };
        let theirs = match &mlflow {
            Some(exe) => {
                crate::bench::progress(&format!("serve: {} on mlflow server", scenario.name));
                let server = Server::mlflow(exe, &work.join("serve-mlflow"))?;
                Some(measure(server.address, scenario).await?)
            }
            None => None,
        };
        rows.push((scenario, runql, theirs));
    }
    let mut notes = Vec::new();
    if let Some(loaded) = loaded {
        crate::bench::progress("serve: runs/search on the loaded store");
        let search = time_search(runql_exe, loaded).await?;
        let p95 = search.percentile(0.95);
        notes.push(format!(
            "runs/search through REST, Q1 (metric and param filter, order by metric, 100 of {} runs): p50 {}, p95 {}; target p95 <= {}: {}",
            loaded.runs,
            millis(search.median()),
            millis(p95),
            millis(SEARCH_P95_TARGET),
            if p95 <= SEARCH_P95_TARGET { "met" } else { "not met" }
        ));
    }
    notes.push(format!(
        "serve: each scenario on a fresh server; every client logs to its own run over one keep-alive connection; runql on a local store in {}",
        work.join("serve-runql").display()
    ));
    match &mlflow {
        Some(exe) => notes.push(format!(
            "baseline: {} server, sqlite backend, its default workers",
            exe.display()
        )),
        None => notes.push(
            "mlflow server was not found, so runql serve's figures stand alone; to measure it side by side: \
             python3 -m venv ~/.cache/runql-mlflow && ~/.cache/runql-mlflow/bin/pip install mlflow==3.17.2 \
             (or set RUNQL_MLFLOW_PYTHON to a python that has mlflow)"
                .into(),
        ),
    }
    Ok(ServeReport { rows, notes })
}

/// runql's goals for the serve section (README, Benchmark).
const CONCURRENT_SPEEDUP_TARGET: f64 = 10.0;

impl ServeReport {
    fn target(scenario: &Scenario) -> &'static str {
        match (scenario.points, scenario.clients) {
            (1, 1) => "p50 <= mlflow's",
            (1, 8) => ">= 10x mlflow's req/s",
            _ => "-",
        }
    }

    fn met(scenario: &Scenario, ours: &Load, theirs: Option<&Load>) -> &'static str {
        let Some(theirs) = theirs else { return "-" };
        let met = match (scenario.points, scenario.clients) {
            (1, 1) => ours.latencies.median() <= theirs.latencies.median(),
            (1, 8) => {
                ours.requests_per_second()
                    >= CONCURRENT_SPEEDUP_TARGET * theirs.requests_per_second()
            }
            _ => return "-",
        };
        if met { "yes" } else { "no" }
    }
}

fn rate(load: &Load, points: usize) -> String {
    if points == 1 {
        format!("{:.0} req/s", load.requests_per_second())
    } else {
        format!(
            "{:.0} req/s, {:.0}k points/s",
            load.requests_per_second(),
            load.points_per_second() / 1e3
        )
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

impl std::fmt::Display for ServeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut table = vec![
            [
                "serve scenario",
                "runql serve",
                "mlflow server",
                "runql vs mlflow",
                "p50 runql / mlflow",
                "p99 runql / mlflow",
                "target",
                "met?",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for (scenario, ours, theirs) in &self.rows {
            let dash = || "-".to_string();
            table.push(vec![
                scenario.name.to_string(),
                rate(ours, scenario.points),
                theirs
                    .as_ref()
                    .map_or_else(dash, |t| rate(t, scenario.points)),
                theirs.as_ref().map_or_else(dash, |t| {
                    format!(
                        "{:.1}x",
                        ours.requests_per_second() / t.requests_per_second()
                    )
                }),
                format!(
                    "{} / {}",
                    millis(ours.latencies.median()),
                    theirs
                        .as_ref()
                        .map_or_else(dash, |t| millis(t.latencies.median()))
                ),
                format!(
                    "{} / {}",
                    millis(ours.latencies.percentile(0.99)),
                    theirs
                        .as_ref()
                        .map_or_else(dash, |t| millis(t.latencies.percentile(0.99)))
                ),
                Self::target(scenario).to_string(),
                Self::met(scenario, ours, theirs.as_ref()).to_string(),
            ]);
        }
        crate::bench::report::write_table(f, &table)?;
        writeln!(f)?;
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        Ok(())
    }
}
