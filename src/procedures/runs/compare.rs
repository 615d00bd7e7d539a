//! `EXEC runs.compare`: two or three runs side by side, one row per attribute,
//! param, latest metric and tag, with a column that flags differences.

use std::collections::BTreeSet;

use crate::model::Run;
use crate::model::validation::format_float;
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "runs.compare",
    summary: "Compare 2-3 runs: attributes, params, latest metrics and tags as rows, runs as columns.",
    params: &[Param::required(
        "run_ids",
        TextList,
        "Two or three run ids.",
    )],
    example: r#"EXEC runs.compare @run_ids='["3f2a…", "9c1b…"]';"#,
    run: |store, args| Box::pin(run(store, args)),
};

/// Reads one attribute of a run as text.
type Attribute = fn(&Run) -> Option<String>;

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let run_ids = args.text_list("run_ids")?.unwrap_or_default();
    if !(2..=3).contains(&run_ids.len()) {
        return Err(RunqlError::invalid(format!(
            "runs.compare @run_ids must name 2 or 3 runs, got {}",
            run_ids.len()
        )));
    }
    let mut runs = Vec::new();
    for run_id in &run_ids {
        runs.push(store.get_run(run_id).await?);
    }

    let mut sections: Vec<(&str, String, Vec<Option<String>>)> = Vec::new();
    let attributes: [(&str, Attribute); 7] = [
        ("run_name", |r| Some(r.info.run_name.clone())),
        ("experiment_id", |r| Some(r.info.experiment_id.clone())),
        ("status", |r| Some(r.info.status.to_string())),
        ("user_id", |r| Some(r.info.user_id.clone())),
        ("start_time", |r| r.info.start_time.map(|t| t.to_string())),
        ("end_time", |r| r.info.end_time.map(|t| t.to_string())),
        ("lifecycle_stage", |r| {
            Some(r.info.lifecycle_stage.to_string())
        }),
    ];
    for (name, read) in attributes {
        sections.push((
            "attribute",
            name.to_string(),
            runs.iter().map(read).collect(),
        ));
    }
    let keys = |pick: fn(&Run) -> Vec<String>| -> BTreeSet<String> {
        runs.iter().flat_map(pick).collect()
    };
    for key in keys(|r| r.data.params.iter().map(|p| p.key.clone()).collect()) {
        let values = runs
            .iter()
            .map(|r| {
                r.data
                    .params
                    .iter()
                    .find(|p| p.key == key)
                    .map(|p| p.value.clone())
            })
            .collect();
        sections.push(("param", key, values));
    }
    for key in keys(|r| r.data.metrics.iter().map(|m| m.key.clone()).collect()) {
        let values = runs
            .iter()
            .map(|r| {
                r.data
                    .metrics
                    .iter()
                    .find(|m| m.key == key)
                    .map(|m| format_float(m.value))
            })
            .collect();
        sections.push(("metric", key, values));
    }
    for key in keys(|r| r.data.tags.iter().map(|t| t.key.clone()).collect()) {
        let values = runs
            .iter()
            .map(|r| {
                r.data
                    .tags
                    .iter()
                    .find(|t| t.key == key)
                    .map(|t| t.value.clone())
            })
            .collect();
        sections.push(("tag", key, values));
    }

    let mut columns = vec![
        Column::text("kind", sections.iter().map(|s| Some(s.0))),
        Column::text("key", sections.iter().map(|s| Some(s.1.clone()))),
    ];
    for (i, run) in runs.iter().enumerate() {
        // Names label the columns; a repeated name gets its run id prefix to stay unique.
        let name = &run.info.run_name;
        let repeated = runs.iter().filter(|r| &r.info.run_name == name).count() > 1;
        let label = if repeated || name.is_empty() {
            format!(
                "{name} ({})",
                &run.info.run_id[..run.info.run_id.len().min(8)]
            )
        } else {
            name.clone()
        };
        columns.push(Column::text(
            &label,
            sections.iter().map(|s| s.2[i].clone()),
        ));
    }
    columns.push(Column::boolean(
        "differs",
        sections
            .iter()
            .map(|s| Some(s.2.iter().any(|v| *v != s.2[0]))),
    ));
    result::table(columns)
}
