//! `EXEC experiments.get`: an experiment by id.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.get",
    summary: r#"An experiment, with its tags."#,
    params: &[Param::required("experiment_id", Text, "The experiment.")],
    example: r#"EXEC experiments.get @experiment_id='0';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment = store
        .get_experiment(&args.required_text("experiment_id")?)
        .await?;
    result::experiment_entity(&experiment)
}
