//! moto's standalone S3 server for the tests: started on a free loopback
//! port, with a bucket, and killed when dropped or when the test process ends.
//!
//! Requires python3 with `pip install "moto[server]"`; without it the tests
//! that use it fail (never skip), saying so.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runql::StoreOptions;

pub const BUCKET: &str = "runql-test";
const INSTALL: &str = "pip install \"moto[server]\"";

/// Starts moto on the port given as argv[1]. A thread exits the server when its
/// stdin closes, so it dies with the test process even if that is killed outright.
const MOTO_MAIN: &str = r#"
import os, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

/// A running moto server; dropping it kills the server.
pub struct Moto {
    pub child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        check_moto_installed();
        let mut last_error = String::new();
        // A port found free may be taken before moto binds it; try a few.
        for _ in 0..3 {
            match Moto::try_start() {
                Ok(moto) => {
                    moto.create_bucket(BUCKET);
                    return moto;
                }
                Err(e) => last_error = e,
            }
        }
        panic!("moto server did not start: {last_error}");
    }

    fn try_start() -> Result<Moto, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = dir.path().join("moto.log");
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("python3")
            .args(["-c", MOTO_MAIN, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and {INSTALL}"));
        let mut moto = Moto {
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!(
                    "moto on port {port} exited with {status}:\n{}",
                    moto.log_tail(30)
                ));
            }
            if matches!(http(port, "GET", "/"), Ok((200, _))) {
                return Ok(moto);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto on port {port} did not answer within 60 s:\n{}",
                    moto.log_tail(30)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn create_bucket(&self, bucket: &str) {
        match http(self.port, "PUT", &format!("/{bucket}")) {
            Ok((200, _)) => {}
            other => panic!("creating bucket {bucket}: {other:?}\n{}", self.log_tail(30)),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Options for a store in this server, as a user would pass them.
    pub fn options(&self) -> StoreOptions {
        StoreOptions::default()
            .storage_option("aws_endpoint", self.endpoint())
            .storage_option("aws_allow_http", "true")
            .storage_option("aws_access_key_id", "testing")
            .storage_option("aws_secret_access_key", "testing")
            .storage_option("aws_region", "us-east-1")
    }

    /// Object keys under `prefix` in the bucket, straight from the server.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let (status, body) = http(
            self.port,
            "GET",
            &format!("/{BUCKET}?list-type=2&max-keys=1000&prefix={prefix}"),
        )
        .expect("listing the bucket");
        assert_eq!(status, 200, "listing {prefix}: {body}");
        body.split("<Key>")
            .skip(1)
            .map(|s| s.split("</Key>").next().unwrap_or_default().to_string())
            .collect()
    }

    /// Requests the server answered with `status`, from its request log.
    pub fn responses_with(&self, status: u16) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let needle = format!("\" {status} ");
        log.lines().filter(|l| l.contains(&needle)).count()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- last lines of the moto log ---\n{}", self.log_tail(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check_moto_installed() {
    let checked = Command::new("python3")
        .args(["-c", "import flask, werkzeug, moto.server"])
        .stdin(Stdio::null())
        .output();
    match checked {
        Err(e) => panic!(
            "the S3 tests need python3 with moto's server, but python3 cannot run ({e}); \
             install Python 3, then {INSTALL}"
        ),
        Ok(out) if !out.status.success() => panic!(
            "the S3 tests need moto's server: run {INSTALL}\npython3 said: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
}

/// One unsigned HTTP/1.1 request to the server. moto lets anyone create buckets and
/// list them, but refuses unsigned reads of objects a signed client wrote.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let address = ([127, 0, 0, 1], port).into();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
