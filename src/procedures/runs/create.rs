//! `EXEC runs.create`: create a run in an experiment.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.create",
    summary: r#"Create a run; returns its row."#,
    params: &[
        Param::optional(
            "experiment_id",
            Text,
            "The experiment; default 0 (Default).",
        ),
        Param::optional("run_name", Text, "A name; generated when absent."),
        Param::optional(
            "start_time",
            Integer,
            "Milliseconds since the epoch; default now.",
        ),
        Param::optional("tags", Json, "A list of {key, value}."),
        Param::optional("user_id", Text, "Who ran it; default the mlflow.user tag."),
        Param::optional("run_id", Text, "An explicit id, for importing history."),
    ],
    example: r#"EXEC runs.create @experiment_id='0' @run_name='baseline' @tags='[{"key": "team", "value": "vision"}]';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let request = crate::api::CreateRun {
        experiment_id: args.text("experiment_id")?,
        run_name: args.text("run_name")?,
        user_id: args.text("user_id")?,
        start_time: args.integer("start_time")?,
        tags: args.json("tags")?.unwrap_or_default(),
        run_id: args.text("run_id")?,
    };
    let run = store.create_run(request).await?;
    result::runs(&store, &[run.info.run_id]).await
}
