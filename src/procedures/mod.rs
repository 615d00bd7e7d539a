//! Procedures: every tracking operation as an `EXEC resource.method @arg=…`
//! statement. Each procedure lives in its own file with its parameters, its
//! help and example, and a `run` that decodes the arguments and calls the one
//! [`Store`] method that implements it. This file is the registry and the
//! dispatch, and nothing else.

pub mod args;
pub(crate) mod experiments;
pub mod result;
pub(crate) mod runs;
mod store;

use datafusion::arrow::record_batch::RecordBatch;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::error::{Result, RunqlError};
use crate::store::Store;
pub use args::Args;

/// What every procedure file uses.
mod prelude {
    pub use datafusion::arrow::record_batch::RecordBatch;

    pub use crate::error::{Result, RunqlError};
    pub use crate::procedures::ParamKind::{Boolean, Float, Integer, Json, Text, TextList};
    pub use crate::procedures::result::{self, Column};
    pub use crate::procedures::{Args, Param, Procedure};
    pub use crate::store::Store;
}

/// How an argument is read; used to check types before anything runs, and in help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Text,
    Integer,
    Float,
    Boolean,
    TextList,
    Json,
}

impl ParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Text => "text",
            ParamKind::Integer => "integer",
            ParamKind::Float => "number",
            ParamKind::Boolean => "boolean",
            ParamKind::TextList => "list of text",
            ParamKind::Json => "JSON",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
    pub required: bool,
    pub doc: &'static str,
}

impl Param {
    pub const fn required(name: &'static str, kind: ParamKind, doc: &'static str) -> Self {
        Param {
            name,
            kind,
            required: true,
            doc,
        }
    }

    pub const fn optional(name: &'static str, kind: ParamKind, doc: &'static str) -> Self {
        Param {
            name,
            kind,
            required: false,
            doc,
        }
    }
}

type Runner = fn(Store, Args) -> BoxFuture<'static, Result<RecordBatch>>;

/// A procedure: its name, what it takes, how to use it, and what runs it.
pub struct Procedure {
    /// `resource.method`, e.g. `runs.log_metric`.
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    pub example: &'static str,
    pub run: Runner,
}

impl Procedure {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// `@run_id (text), [@step (integer)], …` for messages and help.
    pub fn signature(&self) -> String {
        if self.params.is_empty() {
            return "no arguments".into();
        }
        self.params
            .iter()
            .map(|p| {
                let shown = format!("@{} ({})", p.name, p.kind.as_str());
                if p.required {
                    shown
                } else {
                    format!("[{shown}]")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every procedure, by resource then method.
pub static ALL: &[&Procedure] = &[
    &experiments::create::PROCEDURE,
    &experiments::delete::PROCEDURE,
    &experiments::delete_tag::PROCEDURE,
    &experiments::get::PROCEDURE,
    &experiments::get_by_name::PROCEDURE,
    &experiments::restore::PROCEDURE,
    &experiments::search::PROCEDURE,
    &experiments::set_tag::PROCEDURE,
    &experiments::update::PROCEDURE,
    &runs::cancel::PROCEDURE,
    &runs::children::PROCEDURE,
    &runs::compare::PROCEDURE,
    &runs::create::PROCEDURE,
    &runs::delete::PROCEDURE,
    &runs::delete_bulk::PROCEDURE,
    &runs::delete_tag::PROCEDURE,
    &runs::fail::PROCEDURE,
    &runs::get::PROCEDURE,
    &runs::log_batch::PROCEDURE,
    &runs::log_inputs::PROCEDURE,
    &runs::log_metric::PROCEDURE,
    &runs::log_model::PROCEDURE,
    &runs::log_outputs::PROCEDURE,
    &runs::log_param::PROCEDURE,
    &runs::restore::PROCEDURE,
    &runs::restore_bulk::PROCEDURE,
    &runs::search::PROCEDURE,
    &runs::set_tag::PROCEDURE,
    &runs::update::PROCEDURE,
    &store::buffer_writes::PROCEDURE,
    &store::compact::PROCEDURE,
    &store::flush::PROCEDURE,
    &store::gc::PROCEDURE,
];

/// Resource names accepted for another, so stackql scripts port by prefix alone.
const RESOURCE_ALIASES: &[(&str, &str)] = &[("experiment_runs", "runs")];

/// Finds a procedure by the dotted name an `EXEC` gave. Only the last two parts
/// count, so `databricks_workspace.ml.experiment_runs.log_metric` works too.
pub fn find(name: &str) -> Result<&'static Procedure> {
    let lowered = name.to_ascii_lowercase();
    let mut parts = lowered.rsplit('.');
    let method = parts.next().unwrap_or_default();
    let resource = parts.next().unwrap_or_default();
    let resource = RESOURCE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == resource)
        .map_or(resource, |(_, canonical)| canonical);
    let wanted = format!("{resource}.{method}");
    ALL.iter()
        .copied()
        .find(|p| p.name == wanted)
        .ok_or_else(|| {
            let same_resource: Vec<&str> = ALL
                .iter()
                .filter(|p| p.name.starts_with(&format!("{resource}.")))
                .map(|p| p.name)
                .collect();
            let known = if same_resource.is_empty() {
                "the resources are experiments, runs (alias experiment_runs) and store".to_string()
            } else {
                format!("{resource} has {}", same_resource.join(", "))
            };
            RunqlError::invalid(format!("unknown procedure '{name}'; {known}"))
        })
}

/// Runs a procedure with its arguments merged into one JSON object.
pub async fn call(store: &Store, name: &str, values: Map<String, Value>) -> Result<RecordBatch> {
    let procedure = find(name)?;
    let args = Args::new(procedure, values)?;
    (procedure.run)(store.clone(), args).await
}
