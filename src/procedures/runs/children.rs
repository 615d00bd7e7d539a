//! `EXEC runs.children`: a run's child runs (by `mlflow.parentRunId`), or its whole subtree.

use std::collections::HashSet;

use crate::api::read::Rows;
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.children",
    summary: "Child runs of a run; with @recursive=true, the whole tree below it.",
    params: &[
        Param::required("run_id", Text, "The parent run."),
        Param::optional(
            "recursive",
            Boolean,
            "Include children of children; default false.",
        ),
    ],
    example: "EXEC runs.children @run_id='3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b' @recursive=true;",
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let root = args.required_text("run_id")?;
    store.get_run(&root).await?;
    let recursive = args.boolean("recursive")?.unwrap_or(false);
    let mut seen: HashSet<String> = HashSet::from([root.clone()]);
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for parent in frontier {
            let batches = store
                .query(
                    "SELECT run_id FROM runs WHERE parent_run_id = $1",
                    vec![result::text(&parent)],
                )
                .await?;
            // A tag cycle (a run naming its own descendant as parent) must not loop forever.
            for child in Rows::new(&batches).strings("run_id")?.into_iter().flatten() {
                if seen.insert(child.clone()) {
                    found.push(child.clone());
                    next.push(child);
                }
            }
        }
        frontier = if recursive { next } else { Vec::new() };
    }
    result::runs(&store, &found).await
}
