//! Opt-in buffered logging: metric and tag writes that return once validated
//! and stamped, and reach the Delta tables in a later, shared commit.
//!
//! Like MLflow's asynchronous logging, but a failure is never silent:
//! - a log call still validates synchronously (bad input, a missing or
//!   deleted run fail at the call), then adds its rows to the buffer;
//! - a background task flushes the buffer as one write when it holds
//!   [`WriteBuffering::max_rows`] rows or its oldest row is
//!   [`WriteBuffering::max_delay`] old; [`Store::flush`] flushes on demand;
//! - every synchronous write and every read of a buffered table through the
//!   handle flushes first, so the handle reads its own writes and its writes
//!   land in the order it made them (a run is never deleted or collected
//!   while rows validated against it wait here);
//! - rows of a failed flush stay buffered and are retried by the next flush;
//!   the failure is reported once, as the error of the next call that goes
//!   through the buffer (a log call, a flush, a read of a buffered table).
//!
//! Rows carry the `seq` they were stamped with at the call, so when they land
//! does not change what the views show. A retried flush that had in fact
//! committed writes the same rows again, which the views collapse.
//! Params (write-once claims) and run names (the run state other calls check)
//! are never buffered. Rows still buffered when the process exits are lost:
//! call [`Store::flush`] before exiting (the `runql` command does). Dropping
//! the handles does not flush: the store's own query context holds a handle,
//! so the store is not dropped while the process runs.
//!
//! [`Store::flush`]: crate::Store::flush

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::error::{Result, RunqlError};
use crate::store::schema::RawTable;
use crate::store::{Store, StoreInner, WriteSet};

/// When buffered rows are flushed. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBuffering {
    /// Flush once this many rows (all tables together) wait.
    pub max_rows: usize,
    /// Flush once the oldest waiting row is this old.
    pub max_delay: Duration,
}

impl WriteBuffering {
    /// Rows a log call may leave waiting before it flushes them itself,
    /// as a multiple of `max_rows`: the background flusher is not keeping up.
    const BACKPRESSURE_FACTOR: usize = 4;

    pub fn new(max_rows: usize, max_delay: Duration) -> Self {
        WriteBuffering {
            max_rows: max_rows.max(1),
            max_delay,
        }
    }
}

impl Default for WriteBuffering {
    /// 10,000 rows or 200 ms, whichever comes first.
    fn default() -> Self {
        WriteBuffering::new(10_000, Duration::from_millis(200))
    }
}

/// Whether rows of a table may wait in the buffer.
fn can_wait(kind: RawTable) -> bool {
    matches!(kind, RawTable::Metrics | RawTable::Tags)
}

#[derive(Default)]
struct Pending {
    policy: Option<WriteBuffering>,
    write: WriteSet,
    rows: usize,
    oldest: Option<Instant>,
    /// Tables of a flush under way: readers of them wait for it.
    in_flight: Vec<RawTable>,
    /// The last flush's failure, until a caller has been told.
    failure: Option<RunqlError>,
}

impl Pending {
    fn take_failure(&mut self) -> Result<()> {
        match self.failure.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The buffer of one store handle (shared by its clones).
#[derive(Default)]
pub(crate) struct WriteBuffer {
    pending: parking_lot::Mutex<Pending>,
    /// Held for a whole flush, so a flush that returns has written every row
    /// buffered before it began, including those another flush had taken.
    flushing: tokio::sync::Mutex<()>,
    /// Wakes the background flusher: rows arrived, a limit was hit, or the store closed.
    wake: tokio::sync::Notify,
    flusher_started: std::sync::atomic::AtomicBool,
}

/// What [`WriteBuffer::offer`] did with a write.
pub(crate) enum Offered {
    /// Buffering is off, or the write touches a table that never waits.
    Declined(WriteSet),
    Buffered {
        flush_now: bool,
    },
}

impl WriteBuffer {
    pub fn policy(&self) -> Option<WriteBuffering> {
        self.pending.lock().policy
    }

    /// Adds `write` to the buffer if buffering is on and every table it touches may wait.
    /// An unreported flush failure is returned instead, and `write` is dropped.
    pub fn offer(&self, write: WriteSet) -> Result<Offered> {
        let mut pending = self.pending.lock();
        let Some(policy) = pending.policy else {
            return Ok(Offered::Declined(write));
        };
        if !write.tables().all(can_wait) {
            return Ok(Offered::Declined(write));
        }
        pending.take_failure()?;
        let was_empty = pending.rows == 0;
        pending.rows += write.rows();
        pending.write.absorb(write);
        pending.oldest.get_or_insert_with(Instant::now);
        if was_empty || pending.rows >= policy.max_rows {
            self.wake.notify_one();
        }
        Ok(Offered::Buffered {
            flush_now: pending.rows
                >= policy
                    .max_rows
                    .saturating_mul(WriteBuffering::BACKPRESSURE_FACTOR),
        })
    }

    /// Whether a read of `kind` must flush first to see this handle's writes.
    pub fn holds(&self, kind: RawTable) -> bool {
        let pending = self.pending.lock();
        pending.write.tables().any(|t| t == kind) || pending.in_flight.contains(&kind)
    }

    /// How long until the buffer is due: `None` when there is nothing to flush.
    fn due_in(&self) -> Option<Duration> {
        let pending = self.pending.lock();
        let policy = pending.policy?;
        let oldest = pending.oldest?;
        if pending.rows >= policy.max_rows {
            return Some(Duration::ZERO);
        }
        Some(policy.max_delay.saturating_sub(oldest.elapsed()))
    }

    /// Wakes the background flusher, which exits once the store is gone.
    pub fn close(&self) {
        self.wake.notify_one();
    }
}

/// Whether a flush hands an unreported failure to its caller.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// A call of the handle: it reports the failure.
    Handle,
    /// The background flusher: the failure is kept for the handle's next call.
    Background,
}

impl Store {
    /// Writes every buffered row now (see [`Store::set_write_buffering`]);
    /// returns how many rows it wrote. An earlier buffered flush's failure is
    /// returned once instead; the rows stay buffered, and the next flush retries.
    pub(crate) async fn flush_buffer(&self) -> Result<usize> {
        self.flush_as(Caller::Handle).await
    }

    /// Turns buffered logging on with `policy`, or off with `None` (flushing
    /// first). Applies to this handle and its clones. Default: off, as set by
    /// [`StoreOptions::buffered_writes`](crate::StoreOptions::buffered_writes).
    pub async fn set_write_buffering(&self, policy: Option<WriteBuffering>) -> Result<()> {
        self.inner.buffer.pending.lock().policy = policy;
        if policy.is_some() {
            self.start_flusher();
            return Ok(());
        }
        // Off first, so no row arrives after this flush took the buffer.
        self.flush_buffer().await.map(|_| ())
    }

    /// The buffering in effect, if any.
    pub fn write_buffering(&self) -> Option<WriteBuffering> {
        self.inner.buffer.policy()
    }

    /// Writes `write` through the buffer when it may wait, else at once.
    pub(crate) async fn write_or_buffer(&self, write: WriteSet) -> Result<()> {
        match self.inner.buffer.offer(write)? {
            Offered::Declined(write) => self.write(write).await,
            Offered::Buffered { flush_now: false } => Ok(()),
            Offered::Buffered { flush_now: true } => self.flush_buffer().await.map(|_| ()),
        }
    }

    /// Flushes before a read of `kind` if this handle has rows of it waiting.
    pub(crate) async fn flush_for_read(&self, kind: RawTable) -> Result<()> {
        if self.inner.buffer.holds(kind) {
            self.flush_buffer().await?;
        }
        Ok(())
    }

    async fn flush_as(&self, caller: Caller) -> Result<usize> {
        let buffer = &self.inner.buffer;
        let _flushing = buffer.flushing.lock().await;
        let write = {
            let mut pending = buffer.pending.lock();
            if caller == Caller::Handle {
                pending.take_failure()?;
            }
            pending.rows = 0;
            pending.oldest = None;
            let write = std::mem::take(&mut pending.write);
            pending.in_flight = write.tables().collect();
            write
        };
        let rows = write.rows();
        if rows == 0 {
            return Ok(0);
        }
        let attempt = match write.clone().coalesced() {
            Ok(coalesced) => self.commit_write(coalesced).await,
            Err(error) => Err(error),
        };
        let mut pending = buffer.pending.lock();
        pending.in_flight.clear();
        match attempt {
            Ok(()) => Ok(rows),
            Err(error) => {
                pending.rows += rows;
                pending.write.absorb(write);
                // Counted from now, so a failing store is retried at the
                // buffer's pace rather than in a tight loop.
                pending.oldest = Some(Instant::now());
                let error = RunqlError::internal(
                    format!(
                        "flushing {rows} buffered rows (they stay buffered; the next flush retries them)"
                    ),
                    error,
                );
                if caller == Caller::Background {
                    pending.failure = Some(error.clone());
                }
                Err(error)
            }
        }
    }

    /// Starts the task that flushes when the buffer is due, once per handle.
    pub(crate) fn start_flusher(&self) {
        use std::sync::atomic::Ordering;
        let buffer = &self.inner.buffer;
        if buffer.flusher_started.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::spawn(flush_when_due(
            Arc::downgrade(&self.inner),
            self.inner.buffer.clone(),
        ));
    }
}

/// The background flusher. It holds the store only while flushing, so
/// dropping the last handle ends it.
async fn flush_when_due(store: Weak<StoreInner>, buffer: Arc<WriteBuffer>) {
    loop {
        let Some(inner) = store.upgrade() else {
            return;
        };
        let wake = buffer.wake.notified();
        match buffer.due_in() {
            Some(wait) if wait.is_zero() => {
                drop(wake);
                // A failure is kept for the handle's next call to report.
                let _ = Store { inner }.flush_as(Caller::Background).await;
                continue;
            }
            Some(wait) => {
                let sleep = tokio::time::sleep(wait);
                drop(inner);
                tokio::select! {
                    _ = sleep => {}
                    _ = wake => {}
                }
            }
            None => {
                drop(inner);
                wake.await;
            }
        }
    }
}
