//! Splitting a script into statements (placeholder, being written).
