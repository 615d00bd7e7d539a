//! `runql serve` through its public surface: the real binary on a free
//! loopback port, driven by the pinned `mlflow` Python client (side by side
//! with the real `mlflow server`), by raw HTTP for what a client never sends,
//! and read back by SQL through `runql -c` while it serves.
//!
//! The mlflow client and server come from the virtual environment `.ci/run`
//! installs (`RUNQL_MLFLOW_PYTHON`, default `~/.cache/runql-mlflow/bin/python`).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::child::Guarded;

/// A bound on hangs, never a verdict: a server that is up answers in milliseconds.
const HANG: Duration = Duration::from_secs(180);

fn mlflow_python() -> PathBuf {
    let python = std::env::var_os("RUNQL_MLFLOW_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/runql-mlflow/bin/python")
        });
    assert!(
        python.exists(),
        "{} is missing: run .ci/run, which installs the pinned mlflow client and server",
        python.display()
    );
    python
}

/// A running `runql serve`; killed when dropped.
struct Runql {
    child: Guarded,
    address: SocketAddr,
    store: PathBuf,
    stderr: mpsc::Receiver<String>,
}

impl Runql {
    fn start(store: &Path, args: &[&str]) -> Runql {
        Runql::start_at(store.as_os_str(), args, &[])
    }

    /// On any store location, with extra environment (object-store settings).
    fn start_at(store: &std::ffi::OsStr, args: &[&str], env: &[(&str, String)]) -> Runql {
        let (child, stderr) = spawn_serve(store, args, env);
        let mut server = Runql {
            child,
            address: "127.0.0.1:0".parse().unwrap(),
            store: PathBuf::from(store),
            stderr,
        };
        let line = server
            .line_containing("listening on http://")
            .unwrap_or_else(|| panic!("runql serve did not start: {}", server.rest()));
        let address = line.split("http://").nth(1).unwrap();
        server.address = address.split_whitespace().next().unwrap().parse().unwrap();
        server
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn line_containing(&self, text: &str) -> Option<String> {
        let deadline = Instant::now() + HANG;
        while let Ok(line) = self
            .stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.contains(text) {
                return Some(line);
            }
        }
        None
    }

    fn rest(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(self.address, method, path, &[], body.as_bytes())
    }
}

fn spawn_serve(
    store: &std::ffi::OsStr,
    args: &[&str],
    env: &[(&str, String)],
) -> (Guarded, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_runql"))
        .arg("--store")
        .arg(store)
        .args(["serve", "--port", "0"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, stderr) = mpsc::channel();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (Guarded(child), stderr)
}

/// `mlflow server` on sqlite, in its own process group so its workers go with it.
struct MlflowServer {
    child: Guarded,
    address: SocketAddr,
}

impl MlflowServer {
    fn start(dir: &Path) -> MlflowServer {
        let python = mlflow_python();
        let mlflow = python.parent().unwrap().join("mlflow");
        // A free port: the OS picks one, and the server binds it right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(mlflow)
            .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
            .arg("--artifacts-destination")
            .arg(dir.join("artifacts"))
            .args(["--workers", "1"])
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
            .process_group(0)
            .spawn()
            .unwrap();
        let server = MlflowServer {
            child: Guarded(child),
            address: format!("127.0.0.1:{port}").parse().unwrap(),
        };
        let deadline = Instant::now() + HANG;
        loop {
            let up = TcpStream::connect(server.address).is_ok()
                && http(server.address, "GET", "/health", &[], b"").0 == 200;
            if up {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "mlflow server did not come up: {}",
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
}

/// One HTTP/1.1 request on a fresh connection: the status and the body.
fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let (status, _, body) = http_exchange(address, method, path, headers, body);
    (status, body)
}

/// The status, the response's head (lowercased) and its body.
fn http_exchange(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(HANG)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // The server may answer before reading all of a body it refuses.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response to {method} {path}: {text:?}"));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let head = head.to_ascii_lowercase();
    let body = if head.contains("transfer-encoding: chunked") {
        unchunked(rest)
    } else {
        rest.to_string()
    };
    (status, head, body)
}

fn unchunked(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Runs SQL on a store through the `runql` binary; its stdout as CSV.
fn runql_sql(store: &Path, sql: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_runql"))
        .arg("--store")
        .arg(store)
        .args(["--format", "csv", "-q", "-c", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "runql -c {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_mlflow_client_gets_the_same_answers_as_from_mlflow_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let reference = dir.path().join("mlflow");
    std::fs::create_dir_all(&reference).unwrap();
    let runql = Runql::start(&store, &[]);
    let mlflow = MlflowServer::start(&reference);

    let output = Command::new(mlflow_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/serve/workload.py"))
        .arg(runql.url())
        .arg(format!("http://{}", mlflow.address))
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "the workload disagrees with mlflow server:\n{}\n{}",
        report
            .lines()
            .filter(|l| !l.starts_with("ok "))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: usize = report
        .lines()
        .find_map(|l| {
            l.split_once(" steps;")
                .map(|(n, _)| n.trim().parse().unwrap())
        })
        .expect("the workload's summary line");
    assert!(steps > 100, "the workload ran only {steps} steps");

    // What the client logged is in the tables at once, while the server runs.
    let answer = runql_sql(
        &runql.store,
        "SELECT (SELECT count(*) FROM metrics WHERE key = 'long') AS long_history, \
                (SELECT value FROM params WHERE key = 'optimizer' AND run_id IN \
                   (SELECT run_id FROM runs WHERE run_name = 'first-final')) AS optimizer, \
                (SELECT count(*) FROM logged_models) AS models, \
                (SELECT count(*) FROM inputs WHERE dataset_name = 'training-set') AS datasets",
    );
    assert_eq!(
        answer.lines().nth(1),
        Some("30000,adam,1,1"),
        "SQL over the served store: {answer}"
    );
}

#[test]
fn errors_are_mlflow_error_bodies_with_mlflow_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let runql = Runql::start(dir.path(), &[]);

    let (status, body) = runql.http("GET", "/api/2.0/mlflow/no/such/route", "");
    assert_eq!(status, 404);
    let error = json(&body);
    assert_eq!(error["error_code"], "ENDPOINT_NOT_FOUND");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("/api/2.0/mlflow/no/such/route")
    );

    let (status, body) = runql.http("DELETE", "/api/2.0/mlflow/runs/get", "");
    assert_eq!(
        (status, json(&body)["error_code"].clone()),
        (404, "ENDPOINT_NOT_FOUND".into())
    );

    let (status, body) = runql.http(
        "GET",
        "/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef",
        "",
    );
    assert_eq!(
        (status, json(&body)["error_code"].clone()),
        (404, "RESOURCE_DOES_NOT_EXIST".into())
    );

    let (status, body) = runql.http("POST", "/api/2.0/mlflow/experiments/create", "{}");
    assert_eq!(status, 400);
    let error = json(&body);
    assert_eq!(error["error_code"], "INVALID_PARAMETER_VALUE");
    assert!(
        error["message"].as_str().unwrap().contains("'name'"),
        "{error}"
    );

    // A location with a query or fragment would move every run's artifacts.
    for location in ["file:///?", "file:///etc#"] {
        let (status, body) = runql.http(
            "POST",
            "/api/2.0/mlflow/experiments/create",
            &format!(r#"{{"name": "sneaky", "artifact_location": "{location}"}}"#),
        );
        assert_eq!(status, 400, "{location}: {body}");
    }
    // A run whose artifacts are not behind the proxy is not listed through it.
    let (_, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/experiments/create",
        r#"{"name": "elsewhere", "artifact_location": "file:///tmp/elsewhere"}"#,
    );
    let elsewhere = json(&body)["experiment_id"].as_str().unwrap().to_string();
    let (_, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/runs/create",
        &format!(r#"{{"experiment_id": "{elsewhere}"}}"#),
    );
    let outside = json(&body)["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = runql.http(
        "GET",
        &format!("/api/2.0/mlflow/artifacts/list?run_id={outside}&path=x"),
        "",
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        json(&body)["message"].as_str().unwrap().contains("outside"),
        "{body}"
    );

    let (status, body) = runql.http("POST", "/api/2.0/mlflow/experiments/create", "{not json");
    assert_eq!(
        (status, json(&body)["error_code"].clone()),
        (400, "INVALID_PARAMETER_VALUE".into())
    );

    let (status, body) = runql.http(
        "POST",
        "/ajax-api/2.0/mlflow/experiments/create",
        r#"{"name": "from-ajax"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let experiment_id = json(&body)["experiment_id"].as_str().unwrap().to_string();
    let (_, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/runs/create",
        &format!(r#"{{"experiment_id": "{experiment_id}", "start_time": 5}}"#),
    );
    let run_id = json(&body)["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        &format!(r#"{{"run_id": "{run_id}", "key": "x", "value": "oops", "timestamp": 1}}"#),
    );
    assert_eq!(status, 400);
    assert!(
        json(&body)["message"].as_str().unwrap().contains("'value'"),
        "{body}"
    );

    // Values JSON cannot hold travel as MLflow's strings, and come back exactly.
    for value in [
        "\"NaN\"",
        "\"Infinity\"",
        "\"-Infinity\"",
        "1.5e308",
        "5e-324",
    ] {
        let (status, body) = runql.http(
            "POST",
            "/api/2.0/mlflow/runs/log-metric",
            &format!(
                r#"{{"run_id": "{run_id}", "key": "v{}", "value": {value}, "timestamp": 1}}"#,
                value.len()
            ),
        );
        assert_eq!(status, 200, "{value}: {body}");
        let (_, body) = runql.http(
            "GET",
            &format!(
                "/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=v{}",
                value.len()
            ),
            "",
        );
        assert_eq!(json(&body)["metrics"][0]["value"], json(value), "{body}");
    }

    // CORS is off: a browser page elsewhere gets no permission to call the API.
    for method in ["OPTIONS", "GET"] {
        let (_, head, _) = http_exchange(
            runql.address,
            method,
            "/api/2.0/mlflow/experiments/get?experiment_id=0",
            &[
                ("Origin", "http://elsewhere.example"),
                ("Access-Control-Request-Method", "POST"),
            ],
            b"",
        );
        assert!(!head.contains("access-control-allow"), "{method}: {head}");
    }

    // The body limit answers with an error, not a dropped connection.
    let huge = format!(
        r#"{{"name": "{}"}}"#,
        "x".repeat(runql::serve::MAX_BODY_BYTES)
    );
    let (status, body) = runql.http("POST", "/api/2.0/mlflow/experiments/create", &huge);
    assert_eq!(status, 413, "{}", &body[..body.len().min(300)]);
    assert!(json(&body)["message"].as_str().unwrap().contains("limit"));
}

#[test]
fn artifact_paths_cannot_leave_the_artifact_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let runql = Runql::start(&store, &[]);
    let put = |path: &str| {
        http(
            runql.address,
            "PUT",
            &format!("/api/2.0/mlflow-artifacts/artifacts/{path}"),
            &[("Content-Type", "application/octet-stream")],
            b"payload",
        )
    };
    let (status, body) = put("1/run/artifacts/ok.txt");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        std::fs::read(store.join("artifacts/1/run/artifacts/ok.txt")).unwrap(),
        b"payload"
    );
    for attack in [
        "..%2F..%2Fescaped.txt",
        "1/%2e%2e/%2e%2e/%2e%2e/escaped.txt",
        "1/%252e%252e/escaped.txt",
        "%2Fetc%2Fescaped.txt",
        "1/..%5C..%5Cescaped.txt",
        "1/./escaped.txt",
        "1//escaped.txt",
    ] {
        let (status, body) = put(attack);
        assert_eq!(status, 400, "{attack}: {body}");
        assert_eq!(
            json(&body)["error_code"],
            "INVALID_PARAMETER_VALUE",
            "{attack}"
        );
        let (status, _) = http(
            runql.address,
            "GET",
            &format!("/api/2.0/mlflow-artifacts/artifacts/{attack}"),
            &[],
            b"",
        );
        assert_eq!(status, 400, "GET {attack}");
    }
    let (status, _) = http(
        runql.address,
        "GET",
        "/api/2.0/mlflow-artifacts/artifacts?path=..%2F..",
        &[],
        b"",
    );
    assert_eq!(status, 400);
    let escaped: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.ends_with("escaped.txt"))
        .collect();
    assert!(
        escaped.is_empty(),
        "files written outside the root: {escaped:?}"
    );

    let (status, body) = http(
        runql.address,
        "GET",
        "/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/ok.txt",
        &[],
        b"",
    );
    assert_eq!((status, body.as_str()), (200, "payload"));
    let (status, body) = runql.http("GET", "/api/2.0/mlflow-artifacts/artifacts?path=1/run", "");
    assert_eq!(status, 200);
    assert_eq!(json(&body)["files"][0]["path"], "artifacts");
    // A run's artifacts, listed from its artifact root, which the proxy serves.
    let (_, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/runs/create",
        r#"{"experiment_id": "0", "run_name": "with-files"}"#,
    );
    let run = json(&body)["run"]["info"].clone();
    let run_id = run["run_id"].as_str().unwrap();
    let uri = run["artifact_uri"].as_str().unwrap();
    assert_eq!(uri, format!("mlflow-artifacts:/0/{run_id}/artifacts"));
    let (status, _) = put(&format!("0/{run_id}/artifacts/plots/loss.txt"));
    assert_eq!(status, 200);
    let listing = |path: &str| {
        let (status, body) = runql.http(
            "GET",
            &format!("/api/2.0/mlflow/artifacts/list?run_id={run_id}&path={path}"),
            "",
        );
        assert_eq!(status, 200, "{body}");
        json(&body)
    };
    let root = listing("");
    assert_eq!(root["root_uri"], uri);
    assert_eq!(root["files"][0]["path"], "plots");
    assert_eq!(root["files"][0]["is_dir"], true);
    let plots = listing("plots");
    assert_eq!(plots["files"][0]["path"], "plots/loss.txt");
    assert_eq!(plots["files"][0]["file_size"], 7);

    let (status, _) = runql.http("DELETE", "/api/2.0/mlflow-artifacts/artifacts/1/run", "");
    assert_eq!(status, 200);
    assert!(!store.join("artifacts/1/run/artifacts/ok.txt").exists());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn read_only_mode_refuses_every_write_and_answers_reads() {
    let dir = tempfile::tempdir().unwrap();
    let runql = Runql::start(dir.path(), &["--read-only"]);
    for (method, path, body) in [
        (
            "POST",
            "/api/2.0/mlflow/experiments/create",
            r#"{"name": "x"}"#,
        ),
        ("POST", "/api/2.0/mlflow/runs/log-metric", "{}"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/x.txt", "data"),
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/x.txt", ""),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-1", "{}"),
        // Paths that end like a search are still writes.
        (
            "PUT",
            "/api/2.0/mlflow-artifacts/artifacts/0/x/search",
            "data",
        ),
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/search", ""),
        (
            "DELETE",
            "/api/2.0/mlflow/logged-models/m-1/tags/search",
            "",
        ),
    ] {
        let (status, answer) = runql.http(method, path, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(json(&answer)["error_code"], "PERMISSION_DENIED");
    }
    let (status, body) = runql.http("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/experiments/search",
        r#"{"max_results": 10}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["experiments"][0]["name"], "Default");
}

#[test]
fn a_token_guards_every_route_but_health_and_other_machines_need_one() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let runql = Runql::start(
        &dir.path().join("store"),
        &["--token-file", token_file.to_str().unwrap()],
    );
    let experiments = "/api/2.0/mlflow/experiments/get?experiment_id=0";
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Authorization", "Bearer s3cret-toke")],
        vec![("Authorization", "Basic s3cret-token")],
    ] {
        let (status, body) = http(runql.address, "GET", experiments, &headers, b"");
        assert_eq!(status, 401, "{headers:?}: {body}");
        assert_eq!(json(&body)["error_code"], "UNAUTHENTICATED");
    }
    let authorized = [("Authorization", "Bearer s3cret-token")];
    assert_eq!(
        http(runql.address, "GET", experiments, &authorized, b"").0,
        200
    );
    assert_eq!(http(runql.address, "GET", "/health", &[], b"").0, 200);

    // The mlflow client sends MLFLOW_TRACKING_TOKEN as that bearer token.
    let script = "import sys, mlflow\n\
                  mlflow.set_tracking_uri(sys.argv[1])\n\
                  print(mlflow.get_experiment('0').name)\n";
    let output = Command::new(mlflow_python())
        .args(["-c", script, &runql.url()])
        .env("MLFLOW_TRACKING_TOKEN", "s3cret-token")
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Default",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let exposed = Command::new(env!("CARGO_BIN_EXE_runql"))
        .arg("--store")
        .arg(dir.path().join("store"))
        .args(["serve", "--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!exposed.status.success());
    let message = String::from_utf8_lossy(&exposed.stderr);
    assert!(
        message.contains("--token-file") && message.contains("--insecure-no-auth"),
        "{message}"
    );
    let open = Runql::start(
        &dir.path().join("store"),
        &["--host", "0.0.0.0", "--insecure-no-auth"],
    );
    assert!(open.address.ip().is_unspecified());
}

/// Every acknowledged write survives a SIGKILL; SIGTERM and SIGINT stop the server cleanly.
#[test]
fn acknowledged_writes_survive_kill_9_and_sigterm_or_sigint_exit_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut runql = Runql::start(&store, &[]);
    let (_, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/runs/create",
        r#"{"experiment_id": "0", "run_name": "survivor"}"#,
    );
    let run_id = json(&body)["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Clients on threads, each writing until told to stop: the kill lands mid-stream.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (address, run_id) = (runql.address, run_id.clone());
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut step = 0;
                let mut acked = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let body = format!(
                        r#"{{"run_id": "{run_id}", "key": "w{writer}", "value": {step}, "timestamp": 1, "step": {step}}}"#
                    );
                    let Ok(mut stream) = TcpStream::connect(address) else { break };
                    let request = format!(
                        "POST /api/2.0/mlflow/runs/log-metric HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(request.as_bytes()).is_err() {
                        break;
                    }
                    let mut response = String::new();
                    let _ = stream.read_to_string(&mut response);
                    if response.starts_with("HTTP/1.1 200") {
                        acked.push(step);
                        acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    } else {
                        break;
                    }
                    step += 1;
                }
                acked
            })
        })
        .collect();
    while acknowledged.load(std::sync::atomic::Ordering::SeqCst) < 40 {
        assert!(runql.child.running(), "the server died: {}", runql.rest());
        std::thread::sleep(Duration::from_millis(10));
    }
    runql.child.kill();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let acked: Vec<Vec<i64>> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    for (writer, steps) in acked.iter().enumerate() {
        let stored = runql_sql(
            &store,
            &format!("SELECT step FROM metrics WHERE key = 'w{writer}' ORDER BY step"),
        );
        let stored: Vec<i64> = stored.lines().skip(1).map(|l| l.parse().unwrap()).collect();
        for step in steps {
            assert!(
                stored.contains(step),
                "writer {writer}: step {step} was acknowledged but is lost ({} stored)",
                stored.len()
            );
        }
    }

    for signal in ["-TERM", "-INT"] {
        let mut runql = Runql::start(&store, &[]);
        let pid = runql.child.0.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success());
        let status = runql
            .child
            .wait_until(Instant::now() + HANG)
            .unwrap_or_else(|| panic!("runql serve did not stop on {signal}"));
        assert!(
            status.success(),
            "{signal}: exit status {status}: {}",
            runql.rest()
        );
    }
}

/// A TCP forwarder on a fixed loopback port: the way to a server that the
/// test can cut (refusing connections and dropping open ones, as a network
/// failure does) and restore on the same port.
struct Proxy {
    port: u16,
    target: SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            target,
            up: Default::default(),
            open: Default::default(),
            accepting: None,
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        use std::sync::atomic::Ordering::SeqCst;
        listener.set_nonblocking(true).unwrap();
        self.up.store(true, SeqCst);
        let (up, open, target) = (self.up.clone(), self.open.clone(), self.target);
        self.accepting = Some(std::thread::spawn(move || {
            while up.load(SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let mut tracked = open.lock().unwrap();
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server.try_clone().unwrap(), client.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                tracked.extend([client, server]);
            }
        }));
    }

    /// Refuses new connections and drops the open ones.
    fn cut(&mut self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        if let Some(accepting) = self.accepting.take() {
            accepting.join().unwrap();
        }
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&mut self) {
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

#[test]
fn an_unreachable_store_answers_503_and_the_server_recovers() {
    let moto = common::moto::Moto::start();
    let moto_address: SocketAddr = moto
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let mut proxy = Proxy::start(moto_address);
    let env = s3_env(&format!("http://127.0.0.1:{}", proxy.port));
    let location = format!("s3://{}/served", common::moto::BUCKET);
    let runql = Runql::start_at(location.as_ref(), &[], &env);
    let (status, body) = runql.http(
        "POST",
        "/api/2.0/mlflow/runs/create",
        r#"{"experiment_id": "0", "run_name": "through-an-outage"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let run_id = json(&body)["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = |value: i64| {
        runql.http(
            "POST",
            "/api/2.0/mlflow/runs/log-metric",
            &format!(r#"{{"run_id": "{run_id}", "key": "loss", "value": {value}, "timestamp": {value}, "step": {value}}}"#),
        )
    };
    assert_eq!(log(1).0, 200);

    proxy.cut();
    let (status, body) = log(2);
    assert_eq!(status, 503, "{body}");

    let error = json(&body);
    assert_eq!(error["error_code"], "TEMPORARILY_UNAVAILABLE");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{error}"
    );
    let (status, body) = runql.http(
        "GET",
        &format!("/api/2.0/mlflow/runs/get?run_id={run_id}"),
        "",
    );
    assert_eq!(status, 503, "{body}");

    proxy.restore();
    assert_eq!(log(3).0, 200, "the server did not recover");
    let (status, body) = runql.http(
        "GET",
        &format!("/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=loss"),
        "",
    );
    assert_eq!(status, 200, "{body}");
    let steps: Vec<i64> = json(&body)["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, [1, 3], "the refused write must have written nothing");
}

/// The environment that points runql at a moto server (or a proxy in front of it).
fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT", endpoint.to_string()),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ]
}

#[test]
fn artifacts_stream_to_and_from_an_s3_store() {
    let moto = common::moto::Moto::start();
    let location = format!("s3://{}/with-artifacts", common::moto::BUCKET);
    let runql = Runql::start_at(location.as_ref(), &[], &s3_env(&moto.endpoint()));
    // Over the single-request size, so it goes up in parts; and a small one.
    let large: Vec<u8> = (0..9 * 1024 * 1024 + 123)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    for (name, body) in [
        ("model/weights.bin", &large[..]),
        ("notes.txt", &b"small"[..]),
    ] {
        let (status, answer) = http(
            runql.address,
            "PUT",
            &format!("/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/{name}"),
            &[("Content-Type", "application/octet-stream")],
            body,
        );
        assert_eq!(status, 200, "{name}: {answer}");
    }
    let keys = moto.list("with-artifacts/artifacts/0/run/artifacts/");
    assert_eq!(keys.len(), 2, "{keys:?}");

    let mut stream = TcpStream::connect(runql.address).unwrap();
    write!(
        stream,
        "GET /api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/model/weights.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains(&format!("content-length: {}", large.len())),
        "{head}"
    );
    assert!(
        response[split..] == large[..],
        "the download differs from the upload"
    );

    let (status, body) = runql.http(
        "GET",
        "/api/2.0/mlflow-artifacts/artifacts?path=0/run/artifacts",
        "",
    );
    assert_eq!(status, 200);
    let files = json(&body)["files"].clone();
    assert_eq!(files[0]["path"], "model");
    assert_eq!(files[1]["path"], "notes.txt");
    assert_eq!(files[1]["file_size"], 5);
    let (status, _) = runql.http(
        "DELETE",
        "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/model",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(
        moto.list("with-artifacts/artifacts/0/run/artifacts/"),
        ["with-artifacts/artifacts/0/run/artifacts/notes.txt"]
    );
}
