//! `EXEC runs.restore_bulk`: restore an experiment's runs deleted at or after a time.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.restore_bulk",
    summary: r#"Restore runs deleted at or after a time; returns the count."#,
    params: &[
        Param::required("experiment_id", Text, "The experiment."),
        Param::required(
            "min_timestamp_millis",
            Integer,
            "Milliseconds since the epoch.",
        ),
        Param::optional(
            "max_runs",
            Integer,
            "At most this many runs (1 to 10000, default 10000).",
        ),
    ],
    example: r#"EXEC runs.restore_bulk @experiment_id='1' @min_timestamp_millis=1700000000000 @max_runs=500;"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let changed = store
        .restore_runs(
            &args.required_text("experiment_id")?,
            args.required_integer("min_timestamp_millis")?,
            args.integer("max_runs")?,
        )
        .await?;
    result::count("runs_restored", changed)
}
