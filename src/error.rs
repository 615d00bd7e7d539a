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
    InternalError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
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
            RunqlError::FormatTooNew { .. } | RunqlError::Internal { .. } => {
                ErrorCode::InternalError
            }
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        RunqlError::InvalidParameter(message.into())
    }

    pub fn internal(context: impl Into<String>, source: impl fmt::Display) -> Self {
        RunqlError::Internal {
            context: context.into(),
            message: source.to_string(),
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

/// Wraps a fallible storage/engine call with what was being done.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| RunqlError::internal(what(), e))
    }
}
