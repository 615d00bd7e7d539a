//! Maintenance procedures on the whole store (`store.*`).

pub mod buffer_writes;
pub mod compact;
pub mod flush;
pub mod gc;
