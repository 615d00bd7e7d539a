//! `EXEC runs.restore`: restore a deleted run.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.restore",
    summary: r#"Restore a run; returns its row."#,
    params: &[Param::required("run_id", Text, "The run.")],
    example: r#"EXEC runs.restore @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    store.restore_run(&run_id).await?;
    result::runs(&store, &[run_id]).await
}
