//! Point queries on run_id, experiment_id and key reach the Delta scan and skip
//! files by their statistics, instead of reading whole tables.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use runql::api::CreateRun;
use runql::model::{Metric, Param};
use runql::{Store, StoreOptions};

async fn plan(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

/// The `count_files_scanned` of every Delta scan in an analyzed plan.
fn files_scanned(analyzed: &str) -> Vec<usize> {
    analyzed
        .match_indices("count_files_scanned=")
        .map(|(at, label)| {
            analyzed[at + label.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_queries_skip_files() {
    let dir = tempfile::tempdir().unwrap();
    // No automatic compaction and no journal: every write stays its own file.
    let options = StoreOptions::default()
        .auto_compact_files(0)
        .write_journal(false);
    let store = Store::open_with(dir.path().to_str().unwrap(), options)
        .await
        .unwrap();
    let experiment = store
        .create_experiment("pushdown", None, &[])
        .await
        .unwrap();
    let mut run_ids = Vec::new();
    for i in 0..6 {
        let run = store
            .create_run(CreateRun {
                experiment_id: Some(experiment.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let run_id = run.info.run_id;
        let metrics = (0..10)
            .map(|s| Metric::new("loss", s as f64, 1_000 + s, s))
            .collect();
        store
            .log_batch(
                &run_id,
                metrics,
                vec![Param::new("i", i.to_string())],
                vec![],
            )
            .await
            .unwrap();
        run_ids.push(run_id);
    }
    let ctx = SessionContext::new();
    runql::register(&ctx, &store).await.unwrap();

    let target = &run_ids[3];
    for view in ["metrics", "params"] {
        let analyzed = plan(
            &ctx,
            &format!("EXPLAIN ANALYZE SELECT * FROM {view} WHERE run_id = '{target}'"),
        )
        .await;
        assert_eq!(
            files_scanned(&analyzed),
            vec![1],
            "{view} should read one of six files:\n{analyzed}"
        );
    }

    for (sql, scan) in [
        (
            format!("SELECT * FROM runs WHERE run_id = '{target}'"),
            "raw.runs.run_id = ",
        ),
        (
            format!("SELECT * FROM runs WHERE experiment_id = '{experiment}'"),
            "raw.runs.experiment_id = ",
        ),
        (
            "SELECT * FROM latest_metrics WHERE key = 'loss'".to_string(),
            "raw.metrics.key = ",
        ),
        (
            format!("SELECT * FROM tags WHERE run_id = '{target}'"),
            "raw.tags.run_id = ",
        ),
    ] {
        let explained = plan(&ctx, &format!("EXPLAIN {sql}")).await;
        let pushed = explained.lines().any(|line| {
            line.contains("TableScan") && line.contains("partial_filters") && line.contains(scan)
        });
        assert!(
            pushed,
            "{sql}: expected a scan filtered on {scan}\n{explained}"
        );
    }
}
