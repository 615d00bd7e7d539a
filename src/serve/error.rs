//! Errors as MLflow's REST API reports them: `{"error_code": …, "message": …}`
//! with the HTTP status MLflow's server gives that code. A [`RunqlError`]
//! keeps its own code; the errors only HTTP has (an unknown route, a missing
//! token, a body over the limit) have theirs here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{ErrorCode, RunqlError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Store(#[from] RunqlError),
    #[error("no endpoint {method} {path}; see MLflow's REST API for the routes runql serves")]
    EndpointNotFound { method: String, path: String },
    #[error("this server is read-only (started with --read-only); {0} would write")]
    ReadOnly(String),
    #[error("this server needs a bearer token: send 'Authorization: Bearer <token>'")]
    Unauthenticated,
    #[error("the request body is larger than this server's limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
}

impl ApiError {
    fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            ApiError::Store(error) => match error.code() {
                ErrorCode::InvalidParameterValue => {
                    ("INVALID_PARAMETER_VALUE", StatusCode::BAD_REQUEST)
                }
                ErrorCode::ResourceDoesNotExist => {
                    ("RESOURCE_DOES_NOT_EXIST", StatusCode::NOT_FOUND)
                }
                ErrorCode::ResourceAlreadyExists => {
                    ("RESOURCE_ALREADY_EXISTS", StatusCode::BAD_REQUEST)
                }
                ErrorCode::TemporarilyUnavailable => {
                    ("TEMPORARILY_UNAVAILABLE", StatusCode::SERVICE_UNAVAILABLE)
                }
                ErrorCode::InternalError => ("INTERNAL_ERROR", StatusCode::INTERNAL_SERVER_ERROR),
            },
            ApiError::EndpointNotFound { .. } => ("ENDPOINT_NOT_FOUND", StatusCode::NOT_FOUND),
            ApiError::ReadOnly(_) => ("PERMISSION_DENIED", StatusCode::FORBIDDEN),
            ApiError::Unauthenticated => ("UNAUTHENTICATED", StatusCode::UNAUTHORIZED),
            ApiError::BodyTooLarge { .. } => {
                ("INVALID_PARAMETER_VALUE", StatusCode::PAYLOAD_TOO_LARGE)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        let body = serde_json::json!({ "error_code": code, "message": self.to_string() });
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
