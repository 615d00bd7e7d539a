//! `EXEC runs.log_outputs`: record the models a run produced.

use crate::model::ModelLink;
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.log_outputs",
    summary: r#"Log model outputs."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::optional("models", Json, "A list of {model_id, step}."),
    ],
    example: r#"EXEC runs.log_outputs @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @models='[{"model_id": "m-1", "step": 10}]';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let models: Vec<ModelLink> = args.json("models")?.unwrap_or_default();
    let count = models.len() as i64;
    store.log_outputs(&run_id, models).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::int("models", [Some(count)]),
    ])
}
