//! A child process that a test owns: SIGKILLed and reaped when dropped, so a
//! failing test leaves nothing running.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

pub struct Guarded(pub Child);

impl Guarded {
    pub fn running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    pub fn kill(&mut self) -> ExitStatus {
        let _ = self.0.kill(); // SIGKILL on Unix
        self.0.wait().unwrap()
    }

    /// Waits until `deadline`; kills the process and returns `None` past it.
    pub fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
