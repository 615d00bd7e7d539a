//! MLflow's run search filter: parsing into a typed AST, and compiling it to a
//! query whose keys and values are bound parameters, never SQL text.

pub mod filter;
