//! The artifact proxy, `/api/2.0/mlflow-artifacts/artifacts/…`: clients
//! upload (PUT), download (GET), list (`?path=`) and delete files under the
//! server's artifact root, to which `mlflow-artifacts:/` URIs resolve. Bodies
//! are streamed both ways. Every path is checked before use, so none can
//! leave the root.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::error::RunqlError;
use crate::serve::error::ApiResult;
use crate::serve::wire::Input;
use crate::serve::{ARTIFACTS_SCHEME, App, done};
use crate::store::artifacts::ArtifactFile;

/// MLflow's `FileInfo` list; each path is `prefix` joined with the file's name.
fn file_infos(files: Vec<ArtifactFile>, prefix: &str) -> Vec<Value> {
    files
        .into_iter()
        .map(|file| {
            let path = match prefix.trim_matches('/') {
                "" => file.path,
                dir => format!("{dir}/{}", file.path),
            };
            let mut entry = json!({ "path": path, "is_dir": file.is_dir });
            // MLflow leaves out the size of directories and of empty files.
            if let Some(size) = file.file_size.filter(|s| *s > 0) {
                entry["file_size"] = json!(size);
            }
            entry
        })
        .collect()
}

/// The proxy's listing, `GET …/mlflow-artifacts/artifacts?path=`: names only.
pub async fn list(State(app): State<App>, input: Input) -> ApiResult<Json<Value>> {
    let path = input.text("path")?.unwrap_or_default();
    let files = file_infos(app.artifacts.list(&path).await?, "");
    Ok(Json(if files.is_empty() {
        json!({})
    } else {
        json!({ "files": files })
    }))
}

/// `GET /artifacts/list?run_id=&path=`: a run's artifacts, with paths from
/// the run's artifact root. Only roots behind this proxy are listed; a run
/// whose artifacts live elsewhere is listed there by the client.
pub async fn list_run(State(app): State<App>, input: Input) -> ApiResult<Json<Value>> {
    let run = app.store.get_run(&input.run_id()?).await?;
    let path = input.text("path")?.unwrap_or_default();
    let uri = run.info.artifact_uri;
    let relative = proxied_path(&uri).ok_or_else(|| {
        RunqlError::invalid(format!(
            "run '{}' keeps its artifacts at {uri}, outside this server's artifact proxy; list them there",
            run.info.run_id
        ))
    })?;
    let under = match path.trim_matches('/') {
        "" => relative.to_string(),
        dir => format!("{relative}/{dir}"),
    };
    let mut answer = json!({ "root_uri": uri });
    let files = file_infos(app.artifacts.list(&under).await?, &path);
    if !files.is_empty() {
        answer["files"] = Value::Array(files);
    }
    Ok(Json(answer))
}

/// The path under the proxy's root of a `mlflow-artifacts:` URI, with or
/// without an authority (`mlflow-artifacts://host:port/1/…`).
fn proxied_path(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix(ARTIFACTS_SCHEME)?;
    let rest = match rest.strip_prefix("//") {
        Some(authority_and_path) => authority_and_path.split_once('/').map_or("", |(_, p)| p),
        None => rest,
    };
    Some(rest.trim_start_matches('/'))
}
pub async fn download(State(app): State<App>, Path(path): Path<String>) -> ApiResult<Response> {
    let (size, stream) = app.artifacts.download(&path).await?;
    let name = path.rsplit('/').next().unwrap_or_default().replace('"', "");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

pub async fn upload(
    State(app): State<App>,
    Path(path): Path<String>,
    request: Request,
) -> ApiResult<Json<Value>> {
    if path.ends_with('/') {
        return Err(RunqlError::invalid(format!(
            "artifact path '{path}' must name a file, not end with '/'"
        ))
        .into());
    }
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(|e| e.to_string());
    app.artifacts.upload(&path, body).await?;
    Ok(done())
}

pub async fn delete(State(app): State<App>, Path(path): Path<String>) -> ApiResult<Json<Value>> {
    app.artifacts.delete(&path).await?;
    Ok(done())
}
