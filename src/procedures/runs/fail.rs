//! `EXEC runs.fail`: end a run as FAILED, as Azure ML's fail does.

use crate::model::{RunStatus, now_millis};
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.fail",
    summary: r#"End a run as FAILED now; returns its row."#,
    params: &[Param::required("run_id", Text, "The run.")],
    example: r#"EXEC runs.fail @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    store
        .update_run(&run_id, Some(RunStatus::Failed), Some(now_millis()), None)
        .await?;
    result::runs(&store, &[run_id]).await
}
