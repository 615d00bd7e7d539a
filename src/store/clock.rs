//! The order of change rows across processes.
//!
//! Each writer stamps rows with `seq`, a hybrid logical clock in microseconds:
//! the wall clock, but never less than one past the last value it issued, so a
//! writer's own rows are strictly increasing even if the clock steps back.
//! `writer_id` is random per store handle and breaks ties between writers, so
//! (seq, writer_id) is a total order every process computes the same way.

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug)]
pub struct Clock {
    last: AtomicI64,
    writer_id: i64,
}

impl Clock {
    pub fn new() -> Self {
        // Positive, so the id reads naturally in raw tables.
        let writer_id = (uuid::Uuid::new_v4().as_u64_pair().0 >> 1) as i64;
        Clock {
            last: AtomicI64::new(0),
            writer_id,
        }
    }

    pub fn writer_id(&self) -> i64 {
        self.writer_id
    }

    /// The next sequence number: strictly greater than every earlier one from this clock.
    pub fn next(&self) -> i64 {
        let now = chrono::Utc::now().timestamp_micros();
        let mut previous = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(previous + 1);
            match self.last.compare_exchange_weak(
                previous,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => previous = actual,
            }
        }
    }

    /// Moves the clock past a sequence number seen in the store, so a row written
    /// after reading another is ordered after it even across skewed clocks.
    pub fn observe(&self, seen: i64) {
        self.last.fetch_max(seen, Ordering::Relaxed);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
