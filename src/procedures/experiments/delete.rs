//! `EXEC experiments.delete`: soft-delete an experiment; its runs read as deleted until it is restored.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.delete",
    summary: r#"Soft-delete an experiment; returns its row."#,
    params: &[Param::required("experiment_id", Text, "The experiment.")],
    example: r#"EXEC experiments.delete @experiment_id='1';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment_id = args.required_text("experiment_id")?;
    store.delete_experiment(&experiment_id).await?;
    result::experiment(&store, &experiment_id).await
}
