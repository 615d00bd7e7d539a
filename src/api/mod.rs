//! The tracking API: every MLflow tracking-store operation as one method on
//! [`Store`](crate::Store). SQL `EXEC`, `INSERT` and library callers all reach
//! these methods, so each rule is enforced in exactly one place: validate
//! everything, then write everything in one atomic store write.

pub mod experiments;
pub mod gc;
pub mod import;
pub mod logging;
pub mod models;
pub(crate) mod read;
pub mod runs;
mod search;

pub use experiments::ExperimentFilter;
pub use gc::{GcOptions, GcReport};
pub use import::{Import, ImportExperiment, ImportReport, ImportRun, MetricColumns};
pub use models::CreateLoggedModel;
pub use runs::CreateRun;
