//! `EXEC experiments.restore`: restore a deleted experiment and its runs.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.restore",
    summary: r#"Restore an experiment; returns its row."#,
    params: &[Param::required("experiment_id", Text, "The experiment.")],
    example: r#"EXEC experiments.restore @experiment_id='1';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment_id = args.required_text("experiment_id")?;
    store.restore_experiment(&experiment_id).await?;
    result::experiment(&store, &experiment_id).await
}
