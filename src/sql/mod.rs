//! SQL statement routing: scripts are split into statements; `EXEC` statements
//! go to the procedures, `INSERT INTO` runql's tables to the import path, and
//! everything else to DataFusion.

pub mod exec;
pub mod insert;
#[cfg(test)]
mod mutation;
pub mod script;
pub mod session;

pub use session::{Output, Session};
