//! `EXEC runs.log_param`: log a param (write-once) to a run.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.log_param",
    summary: r#"Log a param; the same value again is a no-op."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::required("key", Text, "The key."),
        Param::required("value", Text, "Its value; params are write-once."),
    ],
    example: r#"EXEC runs.log_param @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @key='lr' @value='0.01';"#,
    run: |store, args| Box::pin(run(store, args)),
};

/// One row: the param, and whether this call wrote it (false: it was already logged).
async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let (key, value) = (args.required_text("key")?, args.required_text("value")?);
    let logged = store.log_param(&run_id, &key, &value).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::text("key", [Some(key)]),
        Column::text("value", [Some(value)]),
        Column::boolean("written", [Some(logged.params == 1)]),
    ])
}
