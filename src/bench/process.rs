//! Cold runs in a child process: wall time from spawn to exit, or the child's
//! own peak resident set. Both systems are measured by this code, so open time
//! and memory include each one's process start (runql's binary, or Python and
//! the duckdb module) the same way.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Context, Result, RunqlError};

/// Runs `command` to completion with its output discarded (errors still reach
/// stderr); a nonzero exit is an error naming `what`.
pub(crate) fn wall_time(command: &mut Command, what: &str) -> Result<Duration> {
    let started = Instant::now();
    run(command.stdin(Stdio::null()).stdout(Stdio::null()), what)?;
    Ok(started.elapsed())
}

/// Runs `command` (its program and arguments) through [`PEAK_RSS_WRAPPER`]
/// and returns its peak RSS in bytes.
pub(crate) fn peak_rss(command: &Command, what: &str) -> Result<u64> {
    let output = run(
        Command::new("python3")
            .args(["-c", PEAK_RSS_WRAPPER])
            .arg(command.get_program())
            .args(command.get_args())
            .stdin(Stdio::null()),
        what,
    )?;
    let text = String::from_utf8_lossy(&output);
    text.trim()
        .parse()
        .context(|| format!("reading the peak RSS of {what}: the wrapper printed {text:?}"))
}

/// Measures a command from a small Python process rather than from here.
/// Linux starts a child's `ru_maxrss` at its parent's high-water mark (it is
/// carried across fork and exec), so measured directly from this process,
/// which has just loaded and queried the data, every child would show at
/// least this process's peak. The wrapper is small (about 14 MiB), so what
/// it reports is the child's own peak.
const PEAK_RSS_WRAPPER: &str = "import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss * 1024)  # Linux reports KiB
sys.exit(os.waitstatus_to_exitcode(status))
";

/// Runs `command` and returns its stdout; a failure is an error naming `what`.
fn run(command: &mut Command, what: &str) -> Result<Vec<u8>> {
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .context(|| format!("starting {what}: {command:?}"))?;
    if !output.status.success() {
        return Err(RunqlError::internal(
            format!("running {what}"),
            format!("{command:?} exited with {}", output.status),
        ));
    }
    Ok(output.stdout)
}
