//! Procedures on runs (`runs.*`, alias `experiment_runs.*`), as in stackql's experiment_runs.

pub mod cancel;
pub mod children;
pub mod compare;
pub mod create;
pub mod delete;
pub mod delete_bulk;
pub mod delete_tag;
pub mod fail;
pub mod get;
pub mod log_batch;
pub mod log_inputs;
pub mod log_metric;
pub mod log_model;
pub mod log_outputs;
pub mod log_param;
pub mod restore;
pub mod restore_bulk;
pub mod search;
pub mod set_tag;
pub mod update;
