//! A spinner on stderr for a statement that runs longer than a second, shown
//! only when stderr is a terminal so that scripts and pipes never see it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

/// How long a statement runs before the spinner shows.
pub const DELAY: Duration = Duration::from_secs(1);

/// The spinner of one statement; dropping it clears it.
pub struct Progress {
    bar: ProgressBar,
    shower: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the clock; the spinner appears after [`DELAY`] if stderr is a terminal.
    pub fn start() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let shower = std::io::stderr().is_terminal().then(|| {
            let bar = bar.clone();
            tokio::spawn(async move {
                tokio::time::sleep(DELAY).await;
                bar.set_style(
                    ProgressStyle::with_template("{spinner} running {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(100));
            })
        });
        Progress { bar, shower }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(shower) = self.shower.take() {
            shower.abort();
        }
        self.bar.finish_and_clear();
    }
}
