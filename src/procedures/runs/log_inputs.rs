//! `EXEC runs.log_inputs`: record the datasets and models a run used.

use crate::model::{DatasetInput, ModelLink};
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.log_inputs",
    summary: r#"Log dataset and model inputs."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::optional(
            "datasets",
            Json,
            "A list of {dataset: {name, digest, source_type, source, schema, profile}, tags}.",
        ),
        Param::optional("models", Json, "A list of {model_id}."),
    ],
    example: r#"EXEC runs.log_inputs @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @datasets='[{"dataset": {"name": "mnist", "digest": "d41d8cd9", "source_type": "s3", "source": "s3://data/mnist"}, "tags": [{"key": "mlflow.data.context", "value": "training"}]}]';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let datasets: Vec<DatasetInput> = args.json("datasets")?.unwrap_or_default();
    let models: Vec<ModelLink> = args.json("models")?.unwrap_or_default();
    let counts = (datasets.len() as i64, models.len() as i64);
    store.log_inputs(&run_id, datasets, models).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::int("datasets", [Some(counts.0)]),
        Column::int("models", [Some(counts.1)]),
    ])
}
