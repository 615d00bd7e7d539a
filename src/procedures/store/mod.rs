//! Maintenance procedures on the whole store (`store.*`).

pub mod compact;
pub mod gc;
