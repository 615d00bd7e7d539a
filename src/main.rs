//! The `runql` command: run SQL against a store, interactively or from
//! `-c`, files and stdin; or run the demo, the benchmark, compaction, or
//! MLflow's tracking server on the store.

mod repl;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use runql::store::location::DEFAULT_LOCATION;
use runql::{RunqlError, Store};

use repl::exec::Source;
use repl::print_format::PrintFormat;
use repl::print_options::{PrintOptions, REPL_MAXROWS};

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
    /// SQL to run (statements separated by ';'); may repeat. It may start
    /// with '-' (a `-- comment`), as in other SQL shells.
    #[arg(short = 'c', long = "command", allow_hyphen_values = true)]
    commands: Vec<String>,
    /// A .sql script to run; may repeat. -c and -f run in the order given.
    #[arg(short = 'f', long = "file", allow_hyphen_values = true)]
    files: Vec<std::path::PathBuf>,
    /// How results are printed.
    #[arg(long, value_enum, default_value_t = PrintFormat::Table)]
    format: PrintFormat,
    /// Rows a table shows (all by default in scripts, 40 in the REPL; 0 shows all).
    #[arg(long)]
    maxrows: Option<usize>,
    /// Stop at the first statement that fails.
    #[arg(long)]
    bail: bool,
    /// Leave out the banner, row-count footers and timings.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The REPL's history file (default: runql/history in the user's data directory).
    #[arg(long)]
    history: Option<std::path::PathBuf>,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Log a few runs through the library and answer "best val_loss per optimizer".
    Demo,
    /// Measure the standard workload on runql and on DuckDB over Parquet, and
    /// runql serve beside mlflow server.
    Bench {
        /// The standard size: S (1k runs, 100k points), M (100k runs, 10M), L (1M runs, 100M).
        #[arg(long, default_value = "S")]
        size: runql::bench::Size,
        /// Runs to generate instead of the size's (x 100 metric points each).
        #[arg(long)]
        runs: Option<usize>,
        /// Another gen_dataset.py to generate the data with
        /// [default: the copy built into runql].
        #[arg(long)]
        generator: Option<std::path::PathBuf>,
        /// Data (kept per run count), stores and Parquet go here
        /// [default: runql-bench in the temporary directory].
        #[arg(long)]
        work_dir: Option<std::path::PathBuf>,
        /// Timed repeats of each query and cold start, after one warm-up.
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// Full loads, each into a fresh store; the ingest figure is their median.
        #[arg(long, default_value_t = 3)]
        load_repeats: usize,
        /// runs.log_metric calls, one at a time.
        #[arg(long, default_value_t = 200)]
        single_calls: usize,
        /// runs.log_batch calls of 1000 metrics each.
        #[arg(long, default_value_t = 20)]
        batch_calls: usize,
        /// Run one section: queries (runql vs DuckDB) or serve (runql serve vs
        /// mlflow server under concurrent clients) [default: all].
        #[arg(long)]
        only: Option<runql::bench::Sections>,
        /// Requests each client sends in the serve section
        /// [default: 300, 150 and 50 log_metric calls at 1, 8 and 32 clients; 5 batches].
        #[arg(long)]
        serve_requests: Option<usize>,
    },
    /// Fold change rows and merge small files in every table.
    Compact,
    /// Serve MLflow's tracking REST API on the store, so mlflow clients log to it
    /// (MLFLOW_TRACKING_URI=http://127.0.0.1:5000).
    Serve {
        /// The address to listen on; anything but loopback needs --token-file or --insecure-no-auth.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// The port to listen on; 0 picks a free one (the address is printed).
        #[arg(long, default_value_t = 5000)]
        port: u16,
        /// Where uploaded artifacts go (a path or object-store URL)
        /// [default: artifacts/ in the store].
        #[arg(long)]
        artifacts_destination: Option<String>,
        /// Answer every write with PERMISSION_DENIED.
        #[arg(long)]
        read_only: bool,
        /// A file holding the bearer token clients must send (MLFLOW_TRACKING_TOKEN).
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
        /// Serve a non-loopback address without a token.
        #[arg(long)]
        insecure_no_auth: bool,
    },
}

/// The `-c` strings and `-f` files, in command-line order.
fn scripts_in_order(matches: &clap::ArgMatches, args: &Args) -> Vec<Source> {
    let mut ordered: Vec<(usize, Source)> = Vec::new();
    if let Some(indices) = matches.indices_of("commands") {
        ordered.extend(
            indices
                .zip(&args.commands)
                .map(|(i, c)| (i, Source::Text(c.clone()))),
        );
    }
    if let Some(indices) = matches.indices_of("files") {
        ordered.extend(
            indices
                .zip(&args.files)
                .map(|(i, f)| (i, Source::File(f.clone()))),
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
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {}", error.with_code());
            ExitCode::FAILURE
        }
    }
}

/// Runs what the arguments ask; `Ok(false)` when a statement failed.
async fn run(args: Args, scripts: Vec<Source>) -> Result<bool, RunqlError> {
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
            .await?;
            // Into the Delta tables, for engines other than runql.
            store.flush().await?;
            let store_arg = store.location();
            eprintln!(
                "next:\n  \
                 runql --store {store_arg}          open the REPL on this store; try\n    \
                 SELECT m.step, m.value FROM metrics m JOIN runs r USING (run_id) WHERE r.run_name = 'adam-lr0.01' AND m.key = 'val_loss' ORDER BY m.step;\n    \
                 then .chart to draw it\n  \
                 runql --store {store_arg} -f queries/best_per_param.sql   run an example script (see queries/)"
            );
            Ok(true)
        }
        Some(Action::Bench {
            size,
            runs,
            generator,
            work_dir,
            repeats,
            load_repeats,
            single_calls,
            batch_calls,
            only,
            serve_requests,
        }) => {
            let defaults = runql::bench::BenchOptions::default();
            let report = runql::bench::run(runql::bench::BenchOptions {
                size,
                runs,
                generator,
                work_dir: work_dir.unwrap_or(defaults.work_dir.clone()),
                repeats,
                load_repeats,
                single_calls,
                batch_calls,
                sections: only.unwrap_or(runql::bench::Sections::All),
                serve_requests,
                ..defaults
            })
            .await?;
            println!("{report}");
            for mismatch in report.mismatches() {
                eprintln!("error: runql's answer differs from DuckDB's: {mismatch}");
            }
            Ok(report.mismatches().is_empty())
        }
        Some(Action::Compact) => {
            let store = Store::open(&args.store).await?;
            for (table, before, after) in store.compact().await?.tables {
                println!("{table}: {before} files -> {after}");
            }
            Ok(true)
        }
        Some(Action::Serve {
            host,
            port,
            artifacts_destination,
            read_only,
            token_file,
            insecure_no_auth,
        }) => {
            let token = token_file
                .map(|file| {
                    std::fs::read_to_string(&file).map_err(|e| {
                        RunqlError::invalid(format!(
                            "cannot read --token-file {}: {e}",
                            file.display()
                        ))
                    })
                })
                .transpose()?;
            if token.as_deref().is_some_and(|t| t.trim().is_empty()) {
                return Err(RunqlError::invalid("--token-file holds no token"));
            }
            // New experiments keep artifacts behind the proxy, as with MLflow's --serve-artifacts.
            let options =
                runql::StoreOptions::default().default_artifact_root("mlflow-artifacts:/");
            let store = Store::open_with(&args.store, options).await?;
            let location = store.location();
            runql::serve::serve(
                store,
                runql::serve::ServeOptions {
                    host,
                    port,
                    artifacts_destination,
                    read_only,
                    token,
                    insecure_no_auth,
                },
                |address| {
                    eprintln!("runql serve: listening on http://{address} (store {location})");
                },
            )
            .await?;
            Ok(true)
        }
        None => {
            let store = Store::open(&args.store).await?;
            let session = store.session().await?;
            let interactive = scripts.is_empty() && std::io::stdin().is_terminal();
            let mut options = PrintOptions {
                format: args.format,
                maxrows: args.maxrows.filter(|n| *n > 0),
                quiet: args.quiet,
                timer: false,
            };
            if interactive {
                if args.maxrows.is_none() {
                    options.maxrows = Some(REPL_MAXROWS);
                }
                let history = args.history.or_else(repl::default_history);
                repl::run(&session, options, history.as_deref())
                    .await
                    .map_err(|e| RunqlError::internal("REPL", e))?;
                // Rows `EXEC store.buffer_writes` left waiting land before exit,
                // where a failure can still be reported.
                store.flush().await?;
                return Ok(true);
            }
            let sources = if scripts.is_empty() {
                vec![Source::Stdin]
            } else {
                scripts
            };
            let outcome = repl::exec::run_sources(&session, &sources, &options, args.bail).await;
            store.flush().await?;
            Ok(!outcome.failed)
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
/// Each optimizer and learning rate gives its own noisy curve, as in a real
/// sweep: how low it gets depends on both, and every epoch jitters a little.
async fn demo(store: &Store) -> Result<(), RunqlError> {
    use runql::api::CreateRun;
    use runql::model::{Metric, Param, RunStatus, Tag, now_millis};

    let name = format!("demo-sweep-{}", now_millis());
    let experiment_id = store
        .create_experiment(&name, None, &[Tag::new("team", "vision")])
        .await?;
    // How low each optimizer's loss gets, and how far each rate is from the best one.
    let optimizers = [
        ("adam", 0.31),
        ("sgd", 0.47),
        ("adamw", 0.28),
        ("rmsprop", 0.36),
    ];
    let rates = [("0.1", 1.35), ("0.01", 1.0), ("0.001", 1.18)];
    for (o, (optimizer, floor)) in optimizers.iter().enumerate() {
        for (l, (lr, penalty)) in rates.iter().enumerate() {
            let run = store
                .create_run(CreateRun {
                    experiment_id: Some(experiment_id.clone()),
                    run_name: Some(format!("{optimizer}-lr{lr}")),
                    ..Default::default()
                })
                .await?;
            let run_id = run.info.run_id;
            let quality = floor * penalty;
            let start = now_millis();
            let metrics: Vec<Metric> = (0..10)
                .flat_map(|epoch| {
                    let progress = (epoch + 1) as f64 / 10.0;
                    let noise = |salt: u64| {
                        1.0 + 0.06 * (jitter((o * 3 + l) as u64, epoch as u64, salt) - 0.5)
                    };
                    [
                        Metric::new(
                            "train_loss",
                            (2.5 * (-3.0 * progress).exp() + quality * 0.8) * noise(1),
                            start + epoch * 1000,
                            epoch,
                        ),
                        Metric::new(
                            "val_loss",
                            (2.7 * (-2.5 * progress).exp() + quality) * noise(2),
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

/// A number in [0, 1) fixed by its inputs: the demo's noise, the same on every machine.
fn jitter(run: u64, epoch: u64, salt: u64) -> f64 {
    let mut x = run
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(epoch.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(salt.wrapping_mul(0x94D0_49BB_1331_11EB));
    x ^= x >> 31;
    x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    x ^= x >> 32;
    (x >> 11) as f64 / (1u64 << 53) as f64
}
