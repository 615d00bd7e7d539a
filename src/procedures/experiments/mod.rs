//! Procedures on experiments (`experiments.*`).

pub mod create;
pub mod delete;
pub mod delete_tag;
pub mod get;
pub mod get_by_name;
pub mod restore;
pub mod search;
pub mod set_tag;
pub mod update;
