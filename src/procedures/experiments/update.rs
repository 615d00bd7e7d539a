//! `EXEC experiments.update`: rename an experiment.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.update",
    summary: r#"Rename an experiment; returns its row."#,
    params: &[
        Param::required("experiment_id", Text, "The experiment."),
        Param::required("new_name", Text, "A name no active experiment holds."),
    ],
    example: r#"EXEC experiments.update @experiment_id='1' @new_name='resnet-sweep-v2';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment_id = args.required_text("experiment_id")?;
    store
        .rename_experiment(&experiment_id, &args.required_text("new_name")?)
        .await?;
    result::experiment(&store, &experiment_id).await
}
