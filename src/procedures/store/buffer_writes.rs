//! `EXEC store.buffer_writes`: turn buffered logging on or off for this store handle.

use std::time::Duration;

use crate::procedures::prelude::*;
use crate::store::buffer::WriteBuffering;

pub const PROCEDURE: Procedure = Procedure {
    name: "store.buffer_writes",
    summary: r#"Buffer metric and tag logging (calls return once validated; rows land within @max_delay_ms or @max_rows), or turn it off, flushing."#,
    params: &[
        Param::required(
            "enabled",
            Boolean,
            "true to buffer; false to write every call at once (the default).",
        ),
        Param::optional(
            "max_rows",
            Integer,
            "Flush once this many rows wait; default 10000.",
        ),
        Param::optional(
            "max_delay_ms",
            Integer,
            "Flush once the oldest row is this old; default 200.",
        ),
    ],
    example: r#"EXEC store.buffer_writes @enabled=true @max_delay_ms=500;"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let enabled = args.required_boolean("enabled")?;
    let defaults = WriteBuffering::default();
    let max_rows = positive("max_rows", args.integer("max_rows")?)?
        .map_or(defaults.max_rows, |rows| rows as usize);
    let max_delay = positive("max_delay_ms", args.integer("max_delay_ms")?)?
        .map_or(defaults.max_delay, |ms| Duration::from_millis(ms as u64));
    let policy = enabled.then(|| WriteBuffering::new(max_rows, max_delay));
    store.set_write_buffering(policy).await?;
    result::table(vec![
        Column::boolean("buffered", [Some(enabled)]),
        Column::int("max_rows", [policy.map(|p| p.max_rows as i64)]),
        Column::int(
            "max_delay_ms",
            [policy.map(|p| p.max_delay.as_millis() as i64)],
        ),
    ])
}

fn positive(name: &str, value: Option<i64>) -> Result<Option<i64>> {
    match value {
        Some(v) if v <= 0 => Err(RunqlError::invalid(format!(
            "@{name} must be positive, got {v}"
        ))),
        other => Ok(other),
    }
}
