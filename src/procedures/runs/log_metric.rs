//! `EXEC runs.log_metric`: log one metric value to a run.

use crate::model::{Metric, now_millis};
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.log_metric",
    summary: r#"Log a metric value; metrics append."#,
    params: &[
        Param::required("run_id", Text, "The run."),
        Param::required("key", Text, "The metric."),
        Param::required(
            "value",
            Float,
            "A number; NaN, Infinity and -Infinity are kept exactly.",
        ),
        Param::optional(
            "timestamp",
            Integer,
            "Milliseconds since the epoch; default now.",
        ),
        Param::optional("step", Integer, "The step; default 0."),
        Param::optional(
            "dataset_name",
            Text,
            "The dataset the value was measured on.",
        ),
        Param::optional("dataset_digest", Text, "That dataset's digest."),
        Param::optional("model_id", Text, "The logged model the value belongs to."),
    ],
    example: r#"EXEC runs.log_metric @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @key='val_loss' @value=0.31 @step=4;"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_id = args.required_text("run_id")?;
    let metric = Metric {
        key: args.required_text("key")?,
        value: args.required_float("value")?,
        timestamp: args.integer("timestamp")?.unwrap_or_else(now_millis),
        step: args.integer("step")?.unwrap_or(0),
        dataset_name: args.text("dataset_name")?,
        dataset_digest: args.text("dataset_digest")?,
        model_id: args.text("model_id")?,
    };
    store.log_metric(&run_id, metric.clone()).await?;
    result::table(vec![
        Column::text("run_id", [Some(run_id)]),
        Column::text("key", [Some(metric.key)]),
        Column::float("value", [Some(metric.value)]),
        Column::time("timestamp", [Some(metric.timestamp)]),
        Column::int("step", [Some(metric.step)]),
    ])
}
