//! `runql serve`: MLflow's tracking REST API over a runql store, so the
//! unmodified `mlflow` client logs to it (`MLFLOW_TRACKING_URI=http://…`).
//!
//! Every endpoint reads its fields ([`wire::Input`]), calls the same
//! [`Store`] method that SQL `EXEC` calls, and writes MLflow's JSON shape; no
//! tracking rule lives here. What is here is HTTP's own: routes under both
//! `/api/2.0/mlflow/` and `/ajax-api/2.0/mlflow/`, the artifact proxy,
//! MLflow's error bodies, the bearer token, read-only mode, the body limit
//! and a shutdown that finishes what is in flight. Concurrent writes share
//! commits through the store's group commit, and each answers only once its
//! rows are durable.

mod artifacts;
mod error;
mod experiments;
mod metrics;
mod models;
mod runs;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};

use crate::error::{Result, RunqlError};
use crate::store::Store;
use crate::store::artifacts::ArtifactRoot;
use error::ApiError;

/// The largest JSON request body accepted: room for a batch of 1000 entries
/// and a dataset input with MLflow's largest profile (16 MiB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The scheme of artifact URIs that resolve through this server's proxy,
/// as with MLflow's `--serve-artifacts`: `mlflow-artifacts:/<experiment_id>/…`.
pub const ARTIFACTS_SCHEME: &str = "mlflow-artifacts:";

/// The MLflow release whose client and REST API this server is tested
/// against; `GET /version` reports it, as clients read it to choose features.
pub const MLFLOW_API_VERSION: &str = "3.17.2";

/// How `runql serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    /// Where the artifact proxy keeps files; default the store's `artifacts/`.
    pub artifacts_destination: Option<String>,
    pub read_only: bool,
    /// The bearer token every request but `/health` must carry.
    pub token: Option<String>,
    /// Allow a non-loopback address without a token.
    pub insecure_no_auth: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            host: "127.0.0.1".into(),
            port: 5000,
            artifacts_destination: None,
            read_only: false,
            token: None,
            insecure_no_auth: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
struct App {
    store: Store,
    artifacts: ArtifactRoot,
    read_only: bool,
    token: Option<Arc<[u8]>>,
}

/// Serves until SIGINT or SIGTERM, then stops accepting, lets the requests
/// in flight finish and flushes the store. `listening` is told the bound
/// address first (a port of 0 picks a free one).
pub async fn serve(
    store: Store,
    options: ServeOptions,
    listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((options.host.as_str(), options.port))
        .await
        .map_err(|e| RunqlError::invalid(format!("cannot resolve --host '{}': {e}", options.host)))?
        .collect();
    let address = *addresses.first().ok_or_else(|| {
        RunqlError::invalid(format!("--host '{}' resolves to no address", options.host))
    })?;
    if addresses.iter().any(|a| !a.ip().is_loopback())
        && options.token.is_none()
        && !options.insecure_no_auth
    {
        return Err(RunqlError::invalid(format!(
            "--host '{}' is reachable from other machines; give --token-file FILE so clients must \
             send a bearer token, or --insecure-no-auth to serve without one",
            options.host
        )));
    }
    let artifacts = match &options.artifacts_destination {
        Some(location) => ArtifactRoot::open(location, &Default::default())?,
        None => store.artifacts(),
    };
    let app = App {
        store: store.clone(),
        artifacts,
        read_only: options.read_only,
        token: options.token.map(|t| Arc::from(t.trim().as_bytes())),
    };
    let stop = stop_signals()?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| RunqlError::invalid(format!("cannot listen on {address}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| RunqlError::internal("reading the bound address", e))?;
    listening(bound);
    axum::serve(listener, router(app))
        .with_graceful_shutdown(stop)
        .await
        .map_err(|e| RunqlError::internal("serving", e))?;
    store.flush().await?;
    Ok(())
}

/// SIGINT and SIGTERM, listened for from before the server announces its
/// address, so a signal sent right after it is handled, not fatal.
#[cfg(unix)]
fn stop_signals() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind| signal(kind).map_err(|e| RunqlError::internal("listening for signals", e));
    let (mut interrupt, mut terminate) = (
        listen(SignalKind::interrupt())?,
        listen(SignalKind::terminate())?,
    );
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signals() -> Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// MLflow's tracking routes, the same under `/api/2.0/mlflow` and `/ajax-api/2.0/mlflow`.
fn tracking_routes() -> Router<App> {
    Router::new()
        .route("/experiments/create", post(experiments::create))
        .route("/experiments/get", get(experiments::get))
        .route("/experiments/get-by-name", get(experiments::get_by_name))
        .route(
            "/experiments/search",
            get(experiments::search).post(experiments::search),
        )
        .route("/experiments/update", post(experiments::update))
        .route("/experiments/delete", post(experiments::delete))
        .route("/experiments/restore", post(experiments::restore))
        .route(
            "/experiments/set-experiment-tag",
            post(experiments::set_tag),
        )
        .route(
            "/experiments/delete-experiment-tag",
            post(experiments::delete_tag),
        )
        .route("/runs/create", post(runs::create))
        .route("/runs/get", get(runs::get))
        .route("/runs/update", post(runs::update))
        .route("/runs/delete", post(runs::delete))
        .route("/runs/restore", post(runs::restore))
        .route("/runs/search", get(runs::search).post(runs::search))
        .route("/runs/log-metric", post(runs::log_metric))
        .route("/runs/log-parameter", post(runs::log_param))
        .route("/runs/set-tag", post(runs::set_tag))
        .route("/runs/delete-tag", post(runs::delete_tag))
        .route("/runs/log-batch", post(runs::log_batch))
        .route("/runs/log-model", post(runs::log_model))
        .route("/runs/log-inputs", post(runs::log_inputs))
        .route("/runs/outputs", post(runs::log_outputs))
        .route("/artifacts/list", get(artifacts::list_run))
        .route("/metrics/get-history", get(metrics::history))
        .route(
            "/metrics/get-history-bulk-interval",
            get(metrics::history_bulk_interval),
        )
        .route("/logged-models", post(models::create))
        .route("/logged-models/search", post(models::search))
        .route(
            "/logged-models/{model_id}",
            get(models::get)
                .patch(models::finalize)
                .delete(models::delete),
        )
        .route("/logged-models/{model_id}/tags", patch(models::set_tags))
        .route(
            "/logged-models/{model_id}/tags/{tag_key}",
            delete(models::delete_tag),
        )
        .route("/logged-models/{model_id}/params", post(models::log_params))
}

fn artifact_routes() -> Router<App> {
    Router::new()
        .route("/artifacts", get(artifacts::list))
        .route(
            "/artifacts/{*path}",
            get(artifacts::download)
                .put(artifacts::upload)
                .delete(artifacts::delete),
        )
}

fn router(app: App) -> Router {
    let mut router = Router::new()
        .route("/health", get(|| async { "OK" }))
        .route("/version", get(|| async { MLFLOW_API_VERSION }));
    for prefix in ["/api", "/ajax-api"] {
        router = router
            .nest(&format!("{prefix}/2.0/mlflow"), tracking_routes())
            .nest(&format!("{prefix}/2.0/mlflow-artifacts"), artifact_routes())
            .route(
                &format!("{prefix}/3.0/mlflow/server-info"),
                get(server_info),
            );
    }
    router
        .fallback(endpoint_not_found)
        .method_not_allowed_fallback(endpoint_not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// What this server offers, in MLflow's shape: artifacts go through plain
/// proxied GET and PUT, never multipart or presigned URLs.
async fn server_info() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "store_type": "RunqlStore",
        "workspaces_enabled": false,
        "trace_archival_enabled": false,
        "multipart_uploads_enabled": false,
        "multipart_downloads_enabled": false,
        "presigned_upload_run_id_supported": false,
        "presigned_upload_model_id_supported": false,
    }))
}

async fn endpoint_not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::EndpointNotFound {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

/// Checks the bearer token (all routes but `/health`) and refuses writes
/// in read-only mode, before any handler runs.
async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if let Some(token) = &app.token
        && path != "/health"
    {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|v| v.trim().as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(given, token) {
            return ApiError::Unauthenticated.into_response();
        }
    }
    // Searches are POSTs that read; every other method but GET writes.
    let reads = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || (request.method() == Method::POST && is_search(path));
    if app.read_only && !reads {
        let what = format!("{} {path}", request.method());
        return ApiError::ReadOnly(what).into_response();
    }
    next.run(request).await
}

/// The POST routes that only read: MLflow's searches.
fn is_search(path: &str) -> bool {
    ["/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"]
        .iter()
        .filter_map(|prefix| path.strip_prefix(prefix))
        .any(|route| {
            matches!(
                route,
                "experiments/search" | "runs/search" | "logged-models/search"
            )
        })
}

/// Equality that takes the same time wherever the first difference is, so
/// response times do not reveal a token byte by byte.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (i, byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(i).copied().unwrap_or(0));
    }
    difference == 0
}

/// An empty JSON object: the answer of MLflow's write endpoints.
fn done() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({}))
}
