//! `EXEC runs.update`: change a run's status, end time or name.

use crate::model::RunStatus;
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.update",
    summary: r#"Update a run; returns its row."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::optional(
            "status",
            Text,
            "RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.",
        ),
        Param::optional("end_time", Integer, "Milliseconds since the epoch."),
        Param::optional("run_name", Text, "A new name."),
    ],
    example: r#"EXEC runs.update @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @status='FINISHED' @end_time=1700000100000;"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let status = args
        .text("status")?
        .map(|s| s.parse::<RunStatus>())
        .transpose()?;
    let run_name = args.text("run_name")?;
    store
        .update_run(
            &run_id,
            status,
            args.integer("end_time")?,
            run_name.as_deref(),
        )
        .await?;
    result::runs(&store, &[run_id]).await
}
