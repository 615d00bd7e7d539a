//! The `runql` binary end to end: `-c`, `-f` and piped stdin, every output
//! format, exit codes, `--bail`, and errors on stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const QUERY: &str = "SELECT 1 AS a, 'x' AS b, NULL AS c";

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_runql"));
        command
            .arg("--store")
            .arg(self.dir.path().join("store"))
            .env_remove("RUNQL_STORE");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn every_format_prints_the_known_row_exactly() {
    let cli = Cli::new();
    let expected = [
        (
            "table",
            "+---+---+------+\n| a | b | c    |\n+---+---+------+\n| 1 | x | NULL |\n+---+---+------+\n1 row\n",
        ),
        ("csv", "a,b,c\n1,x,\n"),
        ("tsv", "a\tb\tc\n1\tx\t\n"),
        ("json", "[{\"a\":1,\"b\":\"x\",\"c\":null}]\n"),
        ("ndjson", "{\"a\":1,\"b\":\"x\",\"c\":null}\n"),
        (
            "markdown",
            "| a | b | c |\n|---|---|---|\n| 1 | x | NULL |\n",
        ),
    ];
    for (format, want) in expected {
        let output = cli.run(&["--format", format, "-c", QUERY]);
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        assert_eq!(stdout(&output), want, "format {format}");
        assert_eq!(stderr(&output), "", "format {format}");
    }
}

#[test]
fn table_tells_null_from_empty_and_cuts_long_text_only_in_tables() {
    let cli = Cli::new();
    let sql = "SELECT '' AS e, CAST(NULL AS VARCHAR) AS n, repeat('a', 100) AS l";
    let table = stdout(&cli.run(&["-q", "-c", sql]));
    let row = table.lines().nth(3).unwrap();
    assert_eq!(row, format!("|   | NULL | {}… |", "a".repeat(63)));
    let csv = stdout(&cli.run(&["--format", "csv", "-c", sql]));
    // CSV, as arrow writes it, leaves both empty; only the table tells them apart.
    assert_eq!(csv, format!("e,n,l\n,,{}\n", "a".repeat(100)));
}

#[test]
fn csv_and_tsv_write_maps_and_lists_as_text() {
    let cli = Cli::new();
    let sql =
        "SELECT map(['lr'], ['0.01']) AS params, [1, 2] AS steps, CAST(NULL AS INT[]) AS none";
    let csv = cli.run(&["--format", "csv", "-c", sql]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    assert_eq!(stdout(&csv), "params,steps,none\n{lr: 0.01},\"[1, 2]\",\n");
    let tsv = stdout(&cli.run(&["--format", "tsv", "-c", sql]));
    assert_eq!(tsv, "params\tsteps\tnone\n{lr: 0.01}\t[1, 2]\t\n");
}

#[test]
fn maxrows_limits_the_table_and_says_so() {
    let cli = Cli::new();
    let sql = "SELECT * FROM (VALUES (1), (2), (3)) AS t(v)";
    let output = stdout(&cli.run(&["--maxrows", "2", "-c", sql]));
    assert_eq!(
        output,
        "+---+\n| v |\n+---+\n| 1 |\n| 2 |\n+---+\n3 rows (showing first 2)\n"
    );
    // Machine formats print every row whatever the limit.
    let csv = stdout(&cli.run(&["--maxrows", "2", "--format", "csv", "-c", sql]));
    assert_eq!(csv, "v\n1\n2\n3\n");
    let quiet = stdout(&cli.run(&["-q", "-c", "SELECT 1 AS v WHERE false"]));
    assert_eq!(quiet, "+---+\n| v |\n+---+\n+---+\n");
}

#[test]
fn commands_and_files_run_in_order() {
    let cli = Cli::new();
    let file = cli.dir.path().join("two.sql");
    std::fs::write(&file, "SELECT 2 AS n;\n-- a comment\nSELECT 3 AS n;\n").unwrap();
    let file = file.to_str().unwrap();
    let output = cli.run(&[
        "--format",
        "csv",
        "-c",
        "SELECT 1 AS n",
        "-f",
        file,
        "-c",
        "SELECT 4 AS n",
    ]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "n\n1\nn\n2\nn\n3\nn\n4\n");
}

#[test]
fn a_command_may_begin_with_a_comment_or_a_minus_sign() {
    let cli = Cli::new();
    let output = cli.run(&["--format", "csv", "-c", "-- setup\nSELECT 1 AS x"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "x\n1\n");
    // Not SQL, but runql's to judge: the SQL parser answers, not the argument parser.
    let output = cli.run(&["-c", "-1"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("INVALID_PARAMETER_VALUE")
            && !stderr(&output).contains("unexpected argument"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_demo_draws_a_sweep_whose_optimizers_differ_and_says_what_next() {
    let cli = Cli::new();
    let output = cli.run(&["demo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The table: | optimizer | best_val_loss | runs |, one row per optimizer.
    let bests: Vec<String> = stdout(&output)
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() == 5 && cells[1] != "optimizer").then(|| cells[2].to_string())
        })
        .collect();
    assert_eq!(bests.len(), 4, "{}", stdout(&output));
    let distinct: std::collections::BTreeSet<&String> = bests.iter().collect();
    assert_eq!(
        distinct.len(),
        4,
        "every optimizer has its own best: {bests:?}"
    );
    assert!(stderr(&output).contains("next:"), "{}", stderr(&output));
    // The demo's writes are in the Delta tables when it returns.
    let journal = cli.dir.path().join("store/_runql/journal");
    let pending = std::fs::read_dir(&journal)
        .map(|entries| {
            entries
                .filter(|e| e.as_ref().unwrap().path().extension() == Some("wal".as_ref()))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(pending, 0, "the demo folded its journal");
}

#[test]
fn piped_stdin_runs_its_statements() {
    let cli = Cli::new();
    let output = cli.run_stdin(
        &["--format", "ndjson"],
        "SELECT 1 AS a;\nSELECT 'two'\n  AS b;\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "{\"a\":1}\n{\"b\":\"two\"}\n");
}

#[test]
fn a_failure_sets_the_exit_code_and_goes_to_stderr_with_its_position() {
    let cli = Cli::new();
    let script = "SELECT 1 AS a;\nSELECT nope;\nSELECT 2 AS b;\n";
    let output = cli.run_stdin(&["--format", "csv"], script);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "a\n1\nb\n2\n");
    let errors = stderr(&output);
    assert!(
        errors.starts_with("error: INVALID_PARAMETER_VALUE: statement at line 2, column 1: "),
        "{errors}"
    );
    assert!(errors.contains("nope"), "{errors}");
    assert_eq!(errors.lines().count(), 1, "{errors}");
}

#[test]
fn bail_stops_at_the_first_failure_across_sources() {
    let cli = Cli::new();
    let output = cli.run(&[
        "--bail",
        "--format",
        "csv",
        "-c",
        "SELECT 1 AS a; SELECT nope; SELECT 2 AS b",
        "-c",
        "SELECT 3 AS c",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "a\n1\n");
    assert_eq!(stderr(&output).lines().count(), 1);

    let output = cli.run(&[
        "--format",
        "csv",
        "-c",
        "SELECT nope",
        "-c",
        "SELECT 3 AS c",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "c\n3\n");
}

#[test]
fn exec_errors_carry_their_mlflow_code() {
    let cli = Cli::new();
    let output = cli.run(&["-c", "EXEC runs.get @run_id='no-such-run'"]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.starts_with("error: RESOURCE_DOES_NOT_EXIST: "),
        "{errors}"
    );

    let output = cli.run(&["-f", "/no/such/file.sql"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("cannot read /no/such/file.sql"));
}

#[test]
fn an_unclosed_string_is_reported_not_run() {
    let cli = Cli::new();
    let output = cli.run(&["-c", "SELECT 'open"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).starts_with("error: INVALID_PARAMETER_VALUE: "));
}

#[test]
fn writes_then_reads_through_exec_and_variables() {
    let cli = Cli::new();
    let output = cli.run(&[
        "--format",
        "csv",
        "-c",
        "EXEC experiments.create @name='e1'; \
         EXEC runs.create @experiment_id=@experiment_id @run_name='r1'; \
         EXEC runs.log_metric @run_id=@run_id @key='loss' @value=0.5 @step=1",
        "-c",
        "SELECT r.run_name, m.key, m.value FROM metrics m JOIN runs r ON r.run_id = m.run_id",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).ends_with("run_name,key,value\nr1,loss,0.5\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_subcommands_still_parse() {
    let output = Cli::new().run(&["compact", "--help"]);
    assert!(output.status.success());
    let output = Cli::new().run(&["--help"]);
    for flag in ["--format", "--maxrows", "--bail", "--quiet", "--history"] {
        assert!(stdout(&output).contains(flag), "{flag}");
    }
}

/// `runql bench` needs nothing beside the binary but python3 with DuckDB: it
/// generates the standard workload with the generator built into it, from a
/// directory where no other copy lies, and DuckDB agrees with every answer.
#[test]
fn bench_runs_from_any_directory_with_its_own_generator() {
    let cli = Cli::new();
    let work_dir = cli.dir.path().join("bench");
    let output = cli
        .command()
        .current_dir(cli.dir.path())
        .args([
            "bench",
            "--runs",
            "20",
            "--repeats",
            "1",
            "--load-repeats",
            "1",
        ])
        .args([
            "--single-calls",
            "2",
            "--batch-calls",
            "1",
            "--serve-requests",
            "2",
        ])
        .arg("--work-dir")
        .arg(&work_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report.contains("answers: every query's answer equals DuckDB's"),
        "{report}"
    );
    // The serve section: every scenario on runql serve beside mlflow server
    // (which .ci/run installs), and the search through REST on the loaded store.
    for scenario in [
        "log_metric, 1 client",
        "log_metric, 32 clients",
        "log_batch x1000, 8 clients",
    ] {
        let row = report
            .lines()
            .find(|l| l.starts_with(scenario))
            .unwrap_or_else(|| panic!("no serve row {scenario}: {report}"));
        assert_eq!(row.matches("req/s").count(), 2, "{row}");
    }
    assert!(report.contains("runs/search through REST"), "{report}");
    assert!(!report.contains("issue"), "{report}");
    let metrics = std::fs::read_to_string(work_dir.join("data-20/metrics.csv")).unwrap();
    // 20 runs x 20 steps x 5 metrics, below a header.
    assert_eq!(metrics.lines().count(), 1 + 20 * 20 * 5);
}

/// The REPL on a pseudo-terminal: a statement over two lines, meta commands,
/// Tab completing a table name and an EXEC argument, Ctrl-C cancelling a query, Ctrl-D leaving, and
/// the history file written.
#[cfg(unix)]
#[test]
fn the_repl_on_a_terminal() {
    use expectrl::{Eof, Session};
    use std::time::Duration;

    let cli = Cli::new();
    let history = cli.dir.path().join("nested").join("history");
    let mut command = cli.command();
    command.arg("--history").arg(&history).env("TERM", "xterm");
    let mut repl = Session::spawn(command).unwrap();
    repl.set_expect_timeout(Some(Duration::from_secs(120)));
    // rustyline drops what is typed while a statement runs, so each input
    // waits for an empty prompt (one the editor has not redrawn with text).
    let prompt = |repl: &mut Session| {
        repl.expect("runql> \r").unwrap();
    };
    prompt(&mut repl);

    repl.send("SELECT 40 +\r").unwrap();
    repl.send("2 AS answer;\r").unwrap();
    repl.expect("| 42     |").unwrap();
    repl.expect("1 row").unwrap();
    prompt(&mut repl);

    repl.send(".mode csv\r").unwrap();
    prompt(&mut repl);
    repl.send("SELECT 'modeok' AS k;\r").unwrap();
    repl.expect("k\r\nmodeok").unwrap();
    prompt(&mut repl);

    repl.send("SELECT count(*) AS n FROM latest_me\t").unwrap();
    repl.expect("latest_metrics").unwrap();
    repl.send(";\r").unwrap();
    repl.expect("n\r\n0").unwrap();
    prompt(&mut repl);

    repl.send("\\h runs.log_metric\r").unwrap();
    repl.expect("@step (integer, optional)").unwrap();
    repl.expect("example:").unwrap();
    prompt(&mut repl);
    repl.send("EXEC runs.restore_b\t").unwrap();
    repl.expect("runs.restore_bulk").unwrap();
    repl.send("\x03").unwrap();
    prompt(&mut repl);
    repl.send("EXEC runs.log_metric @ste\t").unwrap();
    repl.expect("@step=").unwrap();
    // Ctrl-C at the prompt drops the half-typed input.
    repl.send("\x03").unwrap();
    prompt(&mut repl);

    // Ctrl-C cancels a running query and keeps the session.
    repl.send("SELECT count(*) FROM range(100000000000);\r")
        .unwrap();
    // The spinner shows once the statement has run for a second, so Ctrl-C
    // surely lands while it runs, however slow the machine.
    repl.expect(" running ").unwrap();
    repl.send("\x03").unwrap();
    repl.expect("cancelled").unwrap();
    prompt(&mut repl);
    repl.send("SELECT 'still here' AS s;\r").unwrap();
    repl.expect("s\r\nstill here").unwrap();
    prompt(&mut repl);

    repl.send("\x04").unwrap();
    repl.expect(Eof).unwrap();

    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("2 AS answer;"), "{saved}");
    assert!(saved.contains(".mode csv"), "{saved}");
    assert!(saved.contains("FROM latest_metrics;"), "{saved}");
}

/// `.chart` in the terminal and to SVG, `.chart bar`, and `.watch` stopped by Ctrl-C.
#[cfg(unix)]
#[test]
fn the_repl_charts_and_watches() {
    use expectrl::{Eof, Session};
    use std::time::Duration;

    let cli = Cli::new();
    let svg = cli.dir.path().join("chart.svg");
    let mut command = cli.command();
    command
        .arg("--history")
        .arg(cli.dir.path().join("history"))
        .env("TERM", "xterm");
    let mut repl = Session::spawn(command).unwrap();
    repl.set_expect_timeout(Some(Duration::from_secs(120)));
    let prompt = |repl: &mut Session| {
        repl.expect("runql> \r").unwrap();
    };
    prompt(&mut repl);

    repl.send(".chart\r").unwrap();
    repl.expect("no query has returned rows").unwrap();
    prompt(&mut repl);

    repl.send("SELECT * FROM (VALUES (1, 2.0, 1.0), (2, 4.0, 3.0)) AS t(step, loss, acc);\r")
        .unwrap();
    repl.expect("2 rows").unwrap();
    prompt(&mut repl);
    repl.send(".chart\r").unwrap();
    repl.expect("x: step").unwrap();
    repl.expect("loss").unwrap();
    repl.expect("acc").unwrap();
    prompt(&mut repl);
    repl.send(format!("\\chart --svg {}\r", svg.display()))
        .unwrap();
    prompt(&mut repl);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains(r#"data-series="loss" data-values="1,2 2,4""#),
        "{text}"
    );
    assert!(
        text.contains(r#"data-series="acc" data-values="1,1 2,3""#),
        "{text}"
    );

    repl.send("SELECT * FROM (VALUES ('alpha', 4), ('beta', 2)) AS t(name, n);\r")
        .unwrap();
    repl.expect("2 rows").unwrap();
    prompt(&mut repl);
    repl.send(".chart bar\r").unwrap();
    repl.expect("beta  │").unwrap();
    prompt(&mut repl);

    repl.send(".watch 0.2\r").unwrap();
    repl.expect("Every 0.2s").unwrap();
    repl.expect("Every 0.2s").unwrap();
    repl.send("\x03").unwrap();
    prompt(&mut repl);

    repl.send("\x04").unwrap();
    repl.expect(Eof).unwrap();
}

/// Store keys complete inside the string after `key = '`, reread after a write adds them.
#[cfg(unix)]
#[test]
fn the_repl_completes_store_keys() {
    use expectrl::{Eof, Session};
    use std::time::Duration;

    let cli = Cli::new();
    let mut command = cli.command();
    command
        .arg("--history")
        .arg(cli.dir.path().join("history"))
        .env("TERM", "xterm");
    let mut repl = Session::spawn(command).unwrap();
    repl.set_expect_timeout(Some(Duration::from_secs(60)));
    let prompt = |repl: &mut Session| {
        repl.expect("runql> \r").unwrap();
    };
    prompt(&mut repl);
    repl.send(
        "EXEC experiments.create @name='e1'; \
         EXEC runs.create @experiment_id=@experiment_id @run_name='r1'; \
         EXEC runs.log_metric @run_id=@run_id @key='throughput' @value=0.5;\r",
    )
    .unwrap();
    repl.expect("| throughput |").unwrap();
    prompt(&mut repl);
    // Short input: a line that wraps is redrawn in pieces.
    repl.send("metrics key='thr\t").unwrap();
    repl.expect("'throughput").unwrap();
    repl.send("\x03").unwrap();
    prompt(&mut repl);
    repl.send("\x04").unwrap();
    repl.expect(Eof).unwrap();
}
