//! What the user chose about output, and printing a statement's result with it.

use std::io::Write;
use std::time::Duration;

use runql::sql::Output;

use super::print_format::PrintFormat;

/// The rows a table shows in the REPL unless `--maxrows` or `.maxrows` says otherwise.
pub const REPL_MAXROWS: usize = 40;

#[derive(Debug, Clone)]
pub struct PrintOptions {
    pub format: PrintFormat,
    /// Rows a table shows; `None` shows them all.
    pub maxrows: Option<usize>,
    /// Leaves out the row-count footer and timings.
    pub quiet: bool,
    /// Prints how long each statement took, on stderr.
    pub timer: bool,
}

impl PrintOptions {
    /// Prints a statement's rows to stdout. A statement without columns (DDL)
    /// prints nothing. A closed pipe is not an error worth reporting.
    pub fn print(&self, output: &Output, elapsed: Duration) -> Result<(), String> {
        if !output.schema.fields().is_empty() {
            let text = self
                .format
                .format(&output.schema, &output.batches, self.maxrows, !self.quiet)
                .map_err(|e| format!("printing: {e}"))?;
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        }
        if self.timer && !self.quiet {
            eprintln!("Elapsed {:.3} s", elapsed.as_secs_f64());
        }
        Ok(())
    }
}
