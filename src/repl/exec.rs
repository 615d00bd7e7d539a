//! Running statements from `-c`, a file or stdin, and from REPL input.
//!
//! Results go to stdout and errors to stderr as `error: CODE: message`, the
//! message naming where the statement starts. A failed statement does not stop
//! the ones after it unless `bail` is set.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;

use runql::RunqlError;
use runql::sql::script::{Statement, split_statements};
use runql::sql::{Output, Session};

use super::print_options::PrintOptions;
use super::progress;

/// Where statements come from, in the order the command line gave them.
pub enum Source {
    Text(String),
    File(PathBuf),
    Stdin,
}

impl Source {
    fn read(&self) -> Result<String, RunqlError> {
        match self {
            Source::Text(text) => Ok(text.clone()),
            Source::File(path) => std::fs::read_to_string(path)
                .map_err(|e| RunqlError::invalid(format!("cannot read {}: {e}", path.display()))),
            Source::Stdin => std::io::read_to_string(std::io::stdin())
                .map_err(|e| RunqlError::invalid(format!("cannot read stdin: {e}"))),
        }
    }
}

/// How statements ran: whether any failed, and whether the rest were skipped.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    pub failed: bool,
    pub stopped: bool,
}

/// Runs every source in order; with `bail`, nothing runs after the first failure.
pub async fn run_sources(
    session: &Session,
    sources: &[Source],
    options: &PrintOptions,
    bail: bool,
) -> Outcome {
    let mut outcome = Outcome::default();
    for source in sources {
        let text = match source.read() {
            Ok(text) => text,
            Err(error) => {
                report(&error);
                outcome.failed = true;
                if bail {
                    outcome.stopped = true;
                    return outcome;
                }
                continue;
            }
        };
        let step = run_text(session, &text, options, bail).await;
        outcome.failed |= step.failed;
        if step.stopped {
            outcome.stopped = true;
            return outcome;
        }
    }
    outcome
}

/// Runs the statements of one script.
pub async fn run_text(
    session: &Session,
    text: &str,
    options: &PrintOptions,
    bail: bool,
) -> Outcome {
    let statements = match split_statements(text) {
        Ok(statements) => statements,
        Err(error) => {
            report(&error);
            return Outcome {
                failed: true,
                stopped: bail,
            };
        }
    };
    let mut outcome = Outcome::default();
    for statement in &statements {
        if run_one(session, statement, options).await.is_none() {
            outcome.failed = true;
            if bail {
                outcome.stopped = true;
                break;
            }
        }
    }
    outcome
}

/// Runs one statement and prints its result or its error; the result when it succeeded.
async fn run_one(
    session: &Session,
    statement: &Statement,
    options: &PrintOptions,
) -> Option<Output> {
    let started = Instant::now();
    let progress = progress::Progress::start();
    let result = session.run_statement(statement).await;
    drop(progress);
    match result {
        Ok(output) => match options.print(&output, started.elapsed()) {
            Ok(()) => Some(output),
            Err(message) => {
                eprintln!("error: {message}");
                None
            }
        },
        Err(error) => {
            report_at(&error, statement);
            None
        }
    }
}

/// Reports a statement's error, adding where the statement starts when the
/// session's message does not already say (it does for the two variants that
/// carry free text).
fn report_at(error: &RunqlError, statement: &Statement) {
    match error {
        RunqlError::InvalidParameter(_) | RunqlError::Internal { .. } => report(error),
        _ => eprintln!(
            "error: {} (statement at line {}, column {})",
            error.with_code(),
            statement.line,
            statement.column
        ),
    }
}

/// Ctrl-C, listened for from the REPL's start: a Ctrl-C pressed just as a
/// statement starts then neither goes unseen nor ends the process.
#[derive(Clone)]
pub struct Interrupts(Arc<Notify>);

impl Interrupts {
    pub fn listen() -> Self {
        let notify = Arc::new(Notify::new());
        let sender = notify.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                sender.notify_waiters();
            }
        });
        Interrupts(notify)
    }
}

impl Interrupts {
    /// Waits for the next Ctrl-C.
    pub async fn next(&self) {
        self.0.notified().await;
    }
}

/// The last statement the REPL ran that returned columns, and its result, for
/// `.chart` and `.watch`.
#[derive(Clone, Default)]
pub struct LastResult(Arc<Mutex<Option<(Statement, Output)>>>);

impl LastResult {
    pub fn get(&self) -> Option<(Statement, Output)> {
        self.0.lock().clone()
    }

    fn set(&self, statement: Statement, output: Output) {
        if !output.schema.fields().is_empty() {
            *self.0.lock() = Some((statement, output));
        }
    }
}

/// Runs one statement in a task that Ctrl-C aborts; `None` when it failed or was cancelled.
async fn run_cancellable(
    session: &Session,
    statement: &Statement,
    options: &PrintOptions,
    interrupts: &Interrupts,
) -> Result<Option<Output>, Cancelled> {
    let task_session = session.clone();
    let task_options = options.clone();
    let task_statement = statement.clone();
    let mut task =
        tokio::spawn(async move { run_one(&task_session, &task_statement, &task_options).await });
    tokio::select! {
        done = &mut task => Ok(done.ok().flatten()),
        _ = interrupts.next() => {
            task.abort();
            Err(Cancelled)
        }
    }
}

/// Ctrl-C stopped a statement.
pub struct Cancelled;

/// Runs the statements of REPL input. Ctrl-C cancels the statement running and
/// skips the rest of the input; the session stays. Returns whether any
/// statement may have written (anything but a plain query ran).
pub async fn run_interactive(
    session: &Session,
    text: &str,
    options: &PrintOptions,
    interrupts: &Interrupts,
    last: &LastResult,
) -> bool {
    let statements = match split_statements(text) {
        Ok(statements) => statements,
        Err(error) => {
            report(&error);
            return false;
        }
    };
    let mut wrote = false;
    for statement in statements {
        wrote |= !is_query(&statement.text);
        match run_cancellable(session, &statement, options, interrupts).await {
            Ok(Some(output)) => last.set(statement, output),
            Ok(None) => {}
            Err(Cancelled) => {
                eprintln!("cancelled");
                return wrote;
            }
        }
    }
    wrote
}

/// Whether a statement only reads: it starts with SELECT, WITH, SHOW, DESCRIBE,
/// EXPLAIN or VALUES.
pub fn is_query(text: &str) -> bool {
    let first = text
        .split(|c: char| c.is_whitespace() || c == '(')
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "select" | "with" | "show" | "describe" | "explain" | "values"
    )
}

/// `.watch`: clears the screen and reruns a statement every `every` until Ctrl-C.
pub async fn watch(
    session: &Session,
    statement: &Statement,
    every: Duration,
    options: &PrintOptions,
    interrupts: &Interrupts,
) {
    loop {
        // Clear the screen and go home, then say what is being watched.
        print!("\x1b[2J\x1b[H");
        println!(
            "Every {}s: {}  ({}; Ctrl-C stops)\n",
            every.as_secs_f64(),
            statement.text,
            chrono::Local::now().format("%H:%M:%S")
        );
        if run_cancellable(session, statement, options, interrupts)
            .await
            .is_err()
        {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = interrupts.next() => return,
        }
    }
}

pub fn report(error: &RunqlError) {
    eprintln!("error: {}", error.with_code());
}

#[cfg(test)]
mod tests {
    use super::is_query;

    #[test]
    fn only_reads_count_as_queries() {
        assert!(is_query("SELECT 1"));
        assert!(is_query("  with t AS (SELECT 1) SELECT * FROM t"));
        assert!(is_query("(SELECT 1)"));
        assert!(!is_query("EXEC runs.create @experiment_id='0'"));
        assert!(!is_query("INSERT INTO runs VALUES (1)"));
    }
}
