//! `EXEC experiments.search`: list experiments by lifecycle stage.

use crate::api::ExperimentFilter;
use crate::model::ViewType;
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "experiments.search",
    summary: r#"Experiments, oldest first."#,
    params: &[
        Param::optional(
            "view_type",
            Text,
            "ACTIVE_ONLY (default), DELETED_ONLY or ALL.",
        ),
        Param::optional("max_results", Integer, "At most this many; default all."),
    ],
    example: r#"EXEC experiments.search @view_type='ALL';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let view_type = args
        .text("view_type")?
        .map(|v| v.parse::<ViewType>())
        .transpose()?;
    let mut experiments = store
        .list_experiments(ExperimentFilter { view_type })
        .await?;
    if let Some(max) = args.integer("max_results")? {
        if max < 1 {
            return Err(RunqlError::invalid(format!(
                "experiments.search @max_results must be at least 1, got {max}"
            )));
        }
        experiments.truncate(max as usize);
    }
    result::experiments(&experiments)
}
