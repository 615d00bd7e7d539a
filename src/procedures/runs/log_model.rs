//! `EXEC runs.log_model`: record an MLmodel on a run (MLflow's LogModel).

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.log_model",
    summary: r#"Append an MLmodel JSON to the run's mlflow.log-model.history tag."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::required("model_json", Json, "The MLmodel file as JSON."),
    ],
    example: r#"EXEC runs.log_model @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @model_json='{"artifact_path": "model", "flavors": {}}';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let model: serde_json::Value = args
        .json("model_json")?
        .ok_or_else(|| RunqlError::invalid("runs.log_model needs @model_json"))?;
    store.log_model(&run_id, &model.to_string()).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::text("model_json", [Some(model.to_string())]),
    ])
}
