//! `EXEC experiments.set_tag`: set (or overwrite) an experiment tag.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.set_tag",
    summary: r#"Set an experiment tag."#,
    params: &[
        Param::required("experiment_id", Text, "The experiment."),
        Param::required("key", Text, "The tag."),
        Param::required("value", Text, "Its value."),
    ],
    example: r#"EXEC experiments.set_tag @experiment_id='1' @key='team' @value='vision';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment_id = args.required_text("experiment_id")?;
    let (key, value) = (args.required_text("key")?, args.required_text("value")?);
    store
        .set_experiment_tag(&experiment_id, &key, &value)
        .await?;
    result::table(vec![
        Column::text("experiment_id", [Some(experiment_id)]),
        Column::text("key", [Some(key)]),
        Column::text("value", [Some(value)]),
    ])
}
