//! Parsing `EXEC` statements (placeholder, being written).
