//! `EXEC runs.cancel`: end a run as KILLED, as Azure ML's cancel does.

use crate::model::{RunStatus, now_millis};
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.cancel",
    summary: r#"End a run as KILLED now; returns its row."#,
    params: &[Param::required("run_id", Text, "The run.")],
    example: r#"EXEC runs.cancel @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    store
        .update_run(&run_id, Some(RunStatus::Killed), Some(now_millis()), None)
        .await?;
    result::runs(&store, &[run_id]).await
}
