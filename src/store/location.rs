//! Turning a store location (a path, `file://`, `memory://`, `s3://`, `gs://`,
//! `az://`) into a URL and the object-store options that reach it.

use std::collections::HashMap;
use std::path::Path;

use url::Url;

use crate::error::{Result, RunqlError};
use crate::model::validation::shown;

/// The store used when none is named: a directory in the working directory.
pub const DEFAULT_LOCATION: &str = "./runql-store";

/// Environment variables read for each cloud, passed to object_store as options.
/// object_store reads most of these itself; naming them keeps explicit options
/// and the environment in one map where explicit options win.
/// Client settings for object stores unless the user gives their own. With
/// object_store's defaults a request to a stopped server is retried for three
/// minutes; these make a writer fail within about a minute with the server's
/// error instead, which callers can retry (a repeated `log_batch` is
/// deduplicated).
const CLOUD_CLIENT_DEFAULTS: &[(&str, &str)] = &[
    ("connect_timeout", "5s"),
    ("timeout", "30s"),
    ("max_retries", "5"),
    ("retry_timeout", "30s"),
];

const ENV_PREFIXES: &[(&str, &str)] = &[
    ("s3", "AWS_"),
    ("s3a", "AWS_"),
    ("gs", "GOOGLE_"),
    ("az", "AZURE_"),
    ("abfs", "AZURE_"),
    ("abfss", "AZURE_"),
];

#[derive(Debug, Clone)]
pub struct Location {
    /// The store root, always ending in '/'.
    pub root: Url,
    pub options: HashMap<String, String>,
}

impl Location {
    pub fn parse(location: &str, explicit: &HashMap<String, String>) -> Result<Self> {
        let location = location.trim();
        if location.is_empty() {
            return Err(RunqlError::invalid("store location must not be empty"));
        }
        let mut root = if location.contains("://") {
            Url::parse(location).map_err(|e| {
                RunqlError::invalid(format!(
                    "store location {} is not a valid URL: {e}",
                    shown(location)
                ))
            })?
        } else {
            let path = Path::new(location);
            std::fs::create_dir_all(path).map_err(|e| {
                RunqlError::invalid(format!(
                    "cannot create store directory {}: {e}",
                    shown(location)
                ))
            })?;
            let absolute = path.canonicalize().map_err(|e| {
                RunqlError::invalid(format!(
                    "cannot resolve store directory {}: {e}",
                    shown(location)
                ))
            })?;
            Url::from_directory_path(&absolute).map_err(|_| {
                RunqlError::invalid(format!("store path {} is not absolute", shown(location)))
            })?
        };
        let scheme = root.scheme().to_string();
        match scheme.as_str() {
            "file" => {
                let path = root.to_file_path().map_err(|_| {
                    RunqlError::invalid(format!(
                        "store location {} is not a local path",
                        shown(location)
                    ))
                })?;
                std::fs::create_dir_all(&path).map_err(|e| {
                    RunqlError::invalid(format!(
                        "cannot create store directory {}: {e}",
                        shown(&path.display().to_string())
                    ))
                })?;
            }
            "memory" => {}
            "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" => {
                if root.host_str().is_none_or(str::is_empty) {
                    return Err(RunqlError::invalid(format!(
                        "store location {} names no bucket or container",
                        shown(location)
                    )));
                }
                if !cfg!(feature = "s3") && scheme.starts_with("s3")
                    || !cfg!(feature = "gcs") && scheme == "gs"
                    || !cfg!(feature = "azure") && scheme.starts_with('a')
                {
                    return Err(RunqlError::invalid(format!(
                        "store location {}: this runql was built without {scheme}:// support",
                        shown(location)
                    )));
                }
            }
            other => {
                return Err(RunqlError::invalid(format!(
                    "store location {} has unsupported scheme '{other}'; use a path, file://, memory://, s3://, gs:// or az://",
                    shown(location)
                )));
            }
        }
        if !root.path().ends_with('/') {
            let path = format!("{}/", root.path());
            root.set_path(&path);
        }
        let mut options = HashMap::new();
        if let Some((_, prefix)) = ENV_PREFIXES.iter().find(|(s, _)| *s == scheme) {
            for (key, value) in std::env::vars() {
                if key.starts_with(prefix) {
                    options.insert(key.to_ascii_lowercase(), value);
                }
            }
        }
        for (key, value) in explicit {
            options.insert(key.to_ascii_lowercase(), value.clone());
        }
        if scheme != "file" && scheme != "memory" {
            for (key, value) in CLOUD_CLIENT_DEFAULTS {
                options
                    .entry(key.to_string())
                    .or_insert_with(|| value.to_string());
            }
        }
        Ok(Location { root, options })
    }

    /// The URL of a directory under the root.
    pub fn join(&self, name: &str) -> Url {
        // The root ends in '/', and names are fixed identifiers, so this cannot fail.
        self.root
            .join(&format!("{name}/"))
            .unwrap_or_else(|_| self.root.clone())
    }

    /// The local directory of `url` (the root or a directory under it), on a
    /// local store only: a `memory:///` URL has a path too, but no directory.
    pub fn local_dir(&self, url: &Url) -> Option<std::path::PathBuf> {
        (self.root.scheme() == "file")
            .then(|| url.to_file_path().ok())
            .flatten()
    }

    /// The location as users wrote it, without credentials.
    pub fn display(&self) -> String {
        let mut shown = self.root.clone();
        let _ = shown.set_password(None);
        shown.to_string()
    }
}
