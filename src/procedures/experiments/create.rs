//! `EXEC experiments.create`: create an experiment.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.create",
    summary: r#"Create an experiment; returns its row."#,
    params: &[
        Param::required("name", Text, "A name no active experiment holds."),
        Param::optional(
            "artifact_location",
            Text,
            "Where artifacts go; default under the store.",
        ),
        Param::optional("tags", Json, "A list of {key, value}."),
    ],
    example: r#"EXEC experiments.create @name='resnet-sweep' @tags='[{"key": "team", "value": "vision"}]';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let tags: Vec<crate::model::Tag> = args.json("tags")?.unwrap_or_default();
    let location = args.text("artifact_location")?;
    let experiment_id = store
        .create_experiment(&args.required_text("name")?, location.as_deref(), &tags)
        .await?;
    result::experiment(&store, &experiment_id).await
}
