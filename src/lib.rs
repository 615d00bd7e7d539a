//! runql: SQL over MLflow-style experiment tracking data, stored as Delta Lake tables.
//!
//! - [`Store`] opens a store on a local path or an object store and carries the
//!   whole tracking API (experiments, runs, logging, gc), one method per MLflow
//!   operation, each validating with MLflow's rules before anything is written.
//! - [`register`] makes the tables queryable in any DataFusion `SessionContext`.

pub mod api;
pub mod bench;
pub mod error;
pub mod model;
pub mod procedures;
pub mod search;
pub mod serve;
pub mod sql;
pub mod store;
pub mod tables;

pub use error::{ErrorCode, Result, RunqlError};
pub use store::buffer::WriteBuffering;
pub use store::{CompactionReport, FORMAT_VERSION, Store, StoreOptions};
pub use tables::register;
