//! The `runql` command: run SQL against a store, a demo, or the benchmark.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use runql::store::location::DEFAULT_LOCATION;
use runql::{RunqlError, Store};

#[derive(Parser)]
#[command(
    name = "runql",
    version,
    about = "SQL over MLflow-style experiment tracking data"
)]
struct Args {
    /// Store location: a path, file://, memory://, s3://bucket/prefix, gs://, az://
    #[arg(long, env = "RUNQL_STORE", default_value = DEFAULT_LOCATION, global = true)]
    store: String,
    /// SQL to run (statements separated by ';'); may repeat.
    #[arg(short = 'c', long = "command")]
    commands: Vec<String>,
    /// A .sql script to run; may repeat. -c and -f run in the order given.
    #[arg(short = 'f', long = "file")]
    files: Vec<std::path::PathBuf>,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Log a few runs through the library and answer "best val_loss per optimizer".
    Demo,
    /// Measure the baseline figures on the standard workload.
    Bench {
        /// Runs in the workload (x 100 metric points each).
        #[arg(long, default_value_t = 10_000)]
        runs: usize,
        /// Path to gen_dataset.py.
        #[arg(long, default_value = "../shared/bench/gen_dataset.py")]
        generator: std::path::PathBuf,
        /// Keep data and store here instead of a temporary directory.
        #[arg(long)]
        work_dir: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
    /// Fold change rows and merge small files in every table.
    Compact,
}

/// A `-c` string or a `-f` file, in command-line order.
enum Script {
    Text(String),
    File(std::path::PathBuf),
}

fn scripts_in_order(matches: &clap::ArgMatches, args: &Args) -> Vec<Script> {
    let mut ordered: Vec<(usize, Script)> = Vec::new();
    if let Some(indices) = matches.indices_of("commands") {
        ordered.extend(
            indices
                .zip(&args.commands)
                .map(|(i, c)| (i, Script::Text(c.clone()))),
        );
    }
    if let Some(indices) = matches.indices_of("files") {
        ordered.extend(
            indices
                .zip(&args.files)
                .map(|(i, f)| (i, Script::File(f.clone()))),
        );
    }
    ordered.sort_by_key(|(i, _)| *i);
    ordered.into_iter().map(|(_, s)| s).collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = <Args as clap::CommandFactory>::command().get_matches();
    let args = match <Args as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(error) => error.exit(),
    };
    let scripts = scripts_in_order(&matches, &args);
    match run(args, scripts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.with_code());
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, scripts: Vec<Script>) -> Result<(), RunqlError> {
    match args.action {
        Some(Action::Demo) => {
            let store = Store::open(&args.store).await?;
            let ctx = SessionContext::new();
            runql::register(&ctx, &store).await?;
            demo(&store).await?;
            print_query(
                &ctx,
                "SELECT p.value AS optimizer, min(m.value) AS best_val_loss, count(*) AS runs \
                 FROM latest_metrics m JOIN params p ON p.run_id = m.run_id AND p.key = 'optimizer' \
                 WHERE m.key = 'val_loss' GROUP BY p.value ORDER BY best_val_loss",
            )
            .await
        }
        Some(Action::Bench {
            runs,
            generator,
            work_dir,
            repeats,
        }) => {
            let report = runql::bench::run(runql::bench::BenchOptions {
                generator,
                runs,
                work_dir,
                repeats,
            })
            .await?;
            println!("{report}");
            Ok(())
        }
        Some(Action::Compact) => {
            let store = Store::open(&args.store).await?;
            for (table, before, after) in store.compact().await?.tables {
                println!("{table}: {before} files -> {after}");
            }
            Ok(())
        }
        None => {
            let store = Store::open(&args.store).await?;
            let session = store.session().await?;
            for script in scripts {
                let text = match script {
                    Script::Text(text) => text,
                    Script::File(path) => std::fs::read_to_string(&path).map_err(|e| {
                        RunqlError::invalid(format!("cannot read {}: {e}", path.display()))
                    })?,
                };
                for output in session.run_script(&text).await? {
                    if !output.schema.fields().is_empty() {
                        let table = pretty_format_batches(&output.batches)
                            .map_err(|e| RunqlError::internal("printing", e))?;
                        println!("{table}");
                    }
                }
            }
            Ok(())
        }
    }
}

async fn print_query(ctx: &SessionContext, sql: &str) -> Result<(), RunqlError> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| RunqlError::invalid(e.to_string()))?
        .collect()
        .await
        .map_err(|e| RunqlError::invalid(e.to_string()))?;
    let table = pretty_format_batches(&batches).map_err(|e| RunqlError::internal("printing", e))?;
    println!("{table}");
    Ok(())
}

/// A small training sweep: 4 optimizers x 3 learning rates, 10 epochs each.
async fn demo(store: &Store) -> Result<(), RunqlError> {
    use runql::api::CreateRun;
    use runql::model::{Metric, Param, RunStatus, Tag, now_millis};

    let name = format!("demo-sweep-{}", now_millis());
    let experiment_id = store
        .create_experiment(&name, None, &[Tag::new("team", "vision")])
        .await?;
    for (o, optimizer) in ["adam", "sgd", "adamw", "rmsprop"].iter().enumerate() {
        for (l, lr) in ["0.1", "0.01", "0.001"].iter().enumerate() {
            let run = store
                .create_run(CreateRun {
                    experiment_id: Some(experiment_id.clone()),
                    run_name: Some(format!("{optimizer}-lr{lr}")),
                    ..Default::default()
                })
                .await?;
            let run_id = run.info.run_id;
            let quality = 0.5 + ((o * 3 + l) % 5) as f64 / 10.0;
            let start = now_millis();
            let metrics: Vec<Metric> = (0..10)
                .flat_map(|epoch| {
                    let progress = (epoch + 1) as f64 / 10.0;
                    [
                        Metric::new(
                            "train_loss",
                            2.5 * (-3.0 * progress).exp() * quality,
                            start + epoch * 1000,
                            epoch,
                        ),
                        Metric::new(
                            "val_loss",
                            2.7 * (-2.5 * progress).exp() * quality,
                            start + epoch * 1000,
                            epoch,
                        ),
                    ]
                })
                .collect();
            let params = vec![Param::new("optimizer", *optimizer), Param::new("lr", *lr)];
            store
                .log_batch(&run_id, metrics, params, vec![Tag::new("stage", "dev")])
                .await?;
            store
                .update_run(&run_id, Some(RunStatus::Finished), Some(now_millis()), None)
                .await?;
        }
    }
    eprintln!(
        "logged 12 runs to experiment '{name}' in {}",
        store.location()
    );
    Ok(())
}
