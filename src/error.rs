//! The one error type of runql, and its mapping to MLflow's error codes.
//!
//! Every failure a caller can cause is a typed variant; storage and engine
//! failures are wrapped with what was being done. The MLflow code is derived
//! from the variant in exactly one place, [`RunqlError::code`].

use std::fmt;

use crate::model::validation::shown;

/// MLflow's error codes, as returned by its REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidParameterValue,
    ResourceDoesNotExist,
    ResourceAlreadyExists,
    /// The store could not be reached; the same call can succeed once it is back.
    TemporarilyUnavailable,
    InternalError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RunqlError {
    /// An argument broke a rule; the message names the argument, the rule and the value.
    #[error("{0}")]
    InvalidParameter(String),
    /// `detail` says where, such as " on run 'r1'" or " (runs row 3)".
    #[error("{kind} {}{detail} does not exist", shown(.id))]
    NotFound {
        kind: &'static str,
        id: String,
        detail: String,
    },
    #[error("{kind} {}{detail} already exists", shown(.id))]
    AlreadyExists {
        kind: &'static str,
        id: String,
        detail: String,
    },
    /// The store was written by a newer runql; it is never rewritten by this one.
    #[error(
        "store at {location} has format version {found}, newer than the {supported} this runql understands; upgrade runql to open it"
    )]
    FormatTooNew {
        location: String,
        found: u32,
        supported: u32,
    },
    /// The object store could not be reached (no connection, or none that
    /// answered in time), with what was being done.
    #[error("{context}: the store could not be reached ({message}); try again once it is back")]
    StoreUnreachable { context: String, message: String },
    /// Storage or engine failure, with what was being done.
    #[error("{context}: {message}")]
    Internal { context: String, message: String },
}

impl RunqlError {
    pub fn code(&self) -> ErrorCode {
        match self {
            RunqlError::InvalidParameter(_) => ErrorCode::InvalidParameterValue,
            RunqlError::NotFound { .. } => ErrorCode::ResourceDoesNotExist,
            RunqlError::AlreadyExists { .. } => ErrorCode::ResourceAlreadyExists,
            RunqlError::StoreUnreachable { .. } => ErrorCode::TemporarilyUnavailable,
            RunqlError::FormatTooNew { .. } | RunqlError::Internal { .. } => {
                ErrorCode::InternalError
            }
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        RunqlError::InvalidParameter(message.into())
    }

    /// A failure of the engine or the store, with what was being done; a
    /// store that could not be reached is [`RunqlError::StoreUnreachable`].
    pub fn internal(context: impl Into<String>, source: impl fmt::Display + 'static) -> Self {
        let (context, message) = (context.into(), source.to_string());
        if unreachable(&source) {
            RunqlError::StoreUnreachable { context, message }
        } else {
            RunqlError::Internal { context, message }
        }
    }

    /// The same error, an invalid-argument message prefixed (to name where
    /// the argument came from); other errors unchanged.
    pub fn prefixed(self, prefix: &str) -> Self {
        match self {
            RunqlError::InvalidParameter(message) => {
                RunqlError::InvalidParameter(format!("{prefix}{message}"))
            }
            other => other,
        }
    }

    /// `CODE: message`, the form users see at the CLI and in SQL errors.
    pub fn with_code(&self) -> String {
        format!("{}: {}", self.code(), self)
    }
}

impl RunqlError {
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        RunqlError::NotFound {
            kind,
            id: id.into(),
            detail: String::new(),
        }
    }

    pub fn already_exists(kind: &'static str, id: impl Into<String>) -> Self {
        RunqlError::AlreadyExists {
            kind,
            id: id.into(),
            detail: String::new(),
        }
    }

    /// The same error, saying where: `detail` follows the id.
    pub fn at(self, where_: impl Into<String>) -> Self {
        match self {
            RunqlError::NotFound { kind, id, .. } => RunqlError::NotFound {
                kind,
                id,
                detail: where_.into(),
            },
            RunqlError::AlreadyExists { kind, id, .. } => RunqlError::AlreadyExists {
                kind,
                id,
                detail: where_.into(),
            },
            other => other,
        }
    }
}

pub type Result<T, E = RunqlError> = std::result::Result<T, E>;

/// Wraps a fallible storage/engine call with what was being done. A failure
/// to reach the object store becomes [`RunqlError::StoreUnreachable`].
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display + 'static> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| RunqlError::internal(what(), e))
    }
}

/// Whether an error of the engine or the stores comes from a connection that
/// could not be made or was lost: somewhere in its chain of causes is an I/O
/// error of that kind, or a runql error that already says so.
fn unreachable<E: 'static>(error: &E) -> bool {
    use std::any::Any;
    let any = error as &dyn Any;
    if let Some(error) = any.downcast_ref::<RunqlError>() {
        return matches!(error, RunqlError::StoreUnreachable { .. });
    }
    let error: Option<&(dyn std::error::Error + 'static)> = any
        .downcast_ref::<datafusion::error::DataFusionError>()
        .map(|e| e as _)
        .or_else(|| {
            any.downcast_ref::<deltalake::DeltaTableError>()
                .map(|e| e as _)
        })
        .or_else(|| any.downcast_ref::<object_store::Error>().map(|e| e as _))
        .or_else(|| any.downcast_ref::<std::io::Error>().map(|e| e as _));
    error.is_some_and(caused_by_a_lost_connection)
}

fn caused_by_a_lost_connection(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::NotConnected
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            )
        {
            return true;
        }
        if let Some(RunqlError::StoreUnreachable { .. }) = current.downcast_ref::<RunqlError>() {
            return true;
        }
        #[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
        if let Some(http) = current.downcast_ref::<object_store::client::HttpError>()
            && matches!(
                http.kind(),
                object_store::client::HttpErrorKind::Connect
                    | object_store::client::HttpErrorKind::Timeout
            )
        {
            return true;
        }
        // The Delta kernel keeps the object store's error without naming it as
        // its source, so the chain is followed into it by hand.
        let kernel = match current.downcast_ref::<deltalake::DeltaTableError>() {
            Some(deltalake::DeltaTableError::KernelError(kernel)) => Some(kernel),
            _ => current.downcast_ref::<delta_kernel::Error>(),
        };
        cause = match kernel {
            Some(delta_kernel::Error::ObjectStore(store)) => Some(store as _),
            _ => current.source(),
        };
    }
    false
}
