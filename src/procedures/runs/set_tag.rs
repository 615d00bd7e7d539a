//! `EXEC runs.set_tag`: set (or overwrite) a tag on a run.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.set_tag",
    summary: r#"Set a run tag."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::required("key", Text, "The key."),
        Param::required("value", Text, "Its value; overwrites any earlier one."),
    ],
    example: r#"EXEC runs.set_tag @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @key='stage' @value='prod';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let (key, value) = (args.required_text("key")?, args.required_text("value")?);
    store.set_tag(&run_id, &key, &value).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::text("key", [Some(key)]),
        Column::text("value", [Some(value)]),
    ])
}
