//! `EXEC experiments.delete_tag`: delete an experiment tag.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.delete_tag",
    summary: r#"Delete an experiment tag."#,
    params: &[
        Param::required("experiment_id", Text, "The experiment."),
        Param::required("key", Text, "The tag to delete."),
    ],
    example: r#"EXEC experiments.delete_tag @experiment_id='1' @key='team';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let experiment_id = args.required_text("experiment_id")?;
    let key = args.required_text("key")?;
    store.delete_experiment_tag(&experiment_id, &key).await?;
    result::table(vec![
        Column::text("experiment_id", [Some(experiment_id)]),
        Column::text("deleted_tag", [Some(key)]),
    ])
}
