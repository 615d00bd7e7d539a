//! `EXEC runs.get`: a run in MLflow's GetRun shape.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.get",
    summary: r#"A run: its info, latest metrics, params, tags and inputs."#,
    params: &[Param::required("run_id", Text, "The run.")],
    example: r#"EXEC runs.get @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b';"#,
    run: |store, args| Box::pin(run(store, args)),
};

/// One row: the run's attributes, and its data as JSON, as MLflow's GetRun returns it.
async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run = store.get_run(&args.required_text("run_id")?).await?;
    let json = |value: serde_json::Value| Some(value.to_string());
    let info = &run.info;
    result::table(vec![
        Column::text("run_id", [Some(info.run_id.clone())]),
        Column::text("run_name", [Some(info.run_name.clone())]),
        Column::text("experiment_id", [Some(info.experiment_id.clone())]),
        Column::text("user_id", [Some(info.user_id.clone())]),
        Column::text("status", [Some(info.status.as_str())]),
        Column::time("start_time", [info.start_time]),
        Column::time("end_time", [info.end_time]),
        Column::text("artifact_uri", [Some(info.artifact_uri.clone())]),
        Column::text("lifecycle_stage", [Some(info.lifecycle_stage.as_str())]),
        Column::time("deleted_time", [info.deleted_time]),
        Column::text("metrics", [json(serde_json::json!(run.data.metrics))]),
        Column::text("params", [json(serde_json::json!(run.data.params))]),
        Column::text("tags", [json(serde_json::json!(run.data.tags))]),
        Column::text("inputs", [json(serde_json::json!(run.inputs))]),
    ])
}
