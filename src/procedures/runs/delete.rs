//! `EXEC runs.delete`: soft-delete a run (restore undoes it; gc removes it for good).

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.delete",
    summary: r#"Soft-delete a run; returns its row."#,
    params: &[Param::required("run_id", Text, "The run.")],
    example: r#"EXEC runs.delete @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    store.delete_run(&run_id).await?;
    result::runs(&store, &[run_id]).await
}
