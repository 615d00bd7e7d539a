//! Running statements from `-c`, a file or stdin, and from REPL input.
//!
//! Results go to stdout and errors to stderr as `error: CODE: message`, the
//! message naming where the statement starts. A failed statement does not stop
//! the ones after it unless `bail` is set.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use runql::RunqlError;
use runql::sql::Session;
use runql::sql::script::{Statement, split_statements};

use super::print_options::PrintOptions;

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
        if !run_one(session, statement, options).await {
            outcome.failed = true;
            if bail {
                outcome.stopped = true;
                break;
            }
        }
    }
    outcome
}

/// Runs one statement and prints its result or its error; true when it succeeded.
async fn run_one(session: &Session, statement: &Statement, options: &PrintOptions) -> bool {
    let started = Instant::now();
    match session.run_statement(statement).await {
        Ok(output) => match options.print(&output, started.elapsed()) {
            Ok(()) => true,
            Err(message) => {
                eprintln!("error: {message}");
                false
            }
        },
        Err(error) => {
            report_at(&error, statement);
            false
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

/// Runs the statements of REPL input. Ctrl-C cancels the statement running and
/// skips the rest of the input; the session stays.
pub async fn run_interactive(
    session: &Session,
    text: &str,
    options: &PrintOptions,
    interrupts: &Interrupts,
) {
    let statements = match split_statements(text) {
        Ok(statements) => statements,
        Err(error) => return report(&error),
    };
    for statement in statements {
        let task_session = session.clone();
        let task_options = options.clone();
        let mut task =
            tokio::spawn(async move { run_one(&task_session, &statement, &task_options).await });
        tokio::select! {
            _ = &mut task => {}
            _ = interrupts.0.notified() => {
                task.abort();
                eprintln!("cancelled");
                return;
            }
        }
    }
}

pub fn report(error: &RunqlError) {
    eprintln!("error: {}", error.with_code());
}
