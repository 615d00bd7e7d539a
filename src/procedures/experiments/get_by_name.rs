//! `EXEC experiments.get_by_name`: an experiment by name.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.get_by_name",
    summary: r#"An experiment by name (an active one first), with its tags."#,
    params: &[Param::required("experiment_name", Text, "The name.")],
    example: r#"EXEC experiments.get_by_name @experiment_name='Default';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment = store
        .get_experiment_by_name(&args.required_text("experiment_name")?)
        .await?;
    result::experiment_entity(&experiment)
}
