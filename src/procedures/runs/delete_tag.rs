//! `EXEC runs.delete_tag`: delete a tag from a run.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.delete_tag",
    summary: r#"Delete a run tag."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::required("key", Text, "The tag to delete."),
    ],
    example: r#"EXEC runs.delete_tag @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @key='stage';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let (run_id, key) = (args.required_text("run_id")?, args.required_text("key")?);
    store.delete_tag(&run_id, &key).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::text("deleted_tag", [Some(key)]),
    ])
}
