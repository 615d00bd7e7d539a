//! `EXEC runs.log_batch`: log metrics, params and tags to a run, all or nothing.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.log_batch",
    summary: r#"Log up to 1000 metrics, 100 params and 100 tags at once; all or nothing."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::optional("metrics", Json, "A list of {key, value, timestamp, step}."),
        Param::optional("params", Json, "A list of {key, value}."),
        Param::optional("tags", Json, "A list of {key, value}."),
    ],
    example: r#"EXEC runs.log_batch @@json='{"run_id": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b", "metrics": [{"key": "loss", "value": 0.3, "timestamp": 1700000000000, "step": 1}], "params": [{"key": "lr", "value": "0.01"}]}';"#,
    run: |store, args| Box::pin(run(store, args)),
};

/// One row: how many metrics, params and tags were written (repeats are no-ops).
async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let logged = store
        .log_batch(
            &run_id,
            args.json("metrics")?.unwrap_or_default(),
            args.json("params")?.unwrap_or_default(),
            args.json("tags")?.unwrap_or_default(),
        )
        .await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::int("metrics", [Some(logged.metrics as i64)]),
        Column::int("params", [Some(logged.params as i64)]),
        Column::int("tags", [Some(logged.tags as i64)]),
    ])
}
