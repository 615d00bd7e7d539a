//! Group commit: writes that arrive while a commit is running join the next
//! one, so many concurrent writers share one Delta commit per round instead
//! of queueing for one each.
//!
//! A write joins the waiting list and spawns a round task. Rounds run one at
//! a time (the task holds the round lock for its whole life); a round takes
//! every write waiting when it starts, folds them into one [`WriteSet`] per
//! path (journaled, or committed to Delta; see `journal.rs`) and writes
//! each, then answers each write. A round that starts after its write was
//! taken by an earlier round finds nothing to do. Because the round is a task
//! of its own, a caller that goes away (an HTTP client hanging up) neither
//! strands its write nor cuts a round short for the others. Each writer
//! returns only once the round holding its rows has committed, with that
//! round's outcome: the durability of a single write is unchanged. Rows
//! carry the `seq` stamped when they were made, so folding writes together
//! does not reorder them. A failed round fails every write in it; each was
//! validated already, so the failure is the store's, and a retry writes rows
//! the views collapse.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::{Result, RunqlError};
use crate::store::{Store, WriteSet};

type Waiter = oneshot::Sender<Result<()>>;

/// The writes of a round that take one path, and whom to answer.
#[derive(Default)]
struct Round {
    write: WriteSet,
    waiters: Vec<Waiter>,
}

#[derive(Default)]
pub(crate) struct GroupCommit {
    waiting: Mutex<Vec<(WriteSet, Waiter)>>,
    /// Held by the task of the round being committed.
    round: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Commits `write` in the next round (see the module documentation).
    pub(crate) async fn commit_in_group(&self, write: WriteSet) -> Result<()> {
        let group = &self.inner.group_commit;
        let (done, outcome) = oneshot::channel();
        group.waiting.lock().push((write, done));
        let round = group.round.clone();
        let store = self.clone();
        tokio::spawn(async move {
            let _round = round.lock_owned().await;
            let taken = std::mem::take(&mut *store.inner.group_commit.waiting.lock());
            if taken.is_empty() {
                return;
            }
            // Journaled writes are not held up by a Delta commit of the
            // others (run and experiment changes, large writes).
            let (mut journaled, mut committed) = (Round::default(), Round::default());
            for (write, waiter) in taken {
                let round = match store.journals(&write) {
                    true => &mut journaled,
                    false => &mut committed,
                };
                round.write.absorb(write);
                round.waiters.push(waiter);
            }
            let (journaled_result, committed_result) = futures::join!(
                store.commit_write(journaled.write),
                store.commit_write(committed.write)
            );
            for (waiters, result) in [
                (journaled.waiters, journaled_result),
                (committed.waiters, committed_result),
            ] {
                for waiter in waiters {
                    let _ = waiter.send(result.clone());
                }
            }
        });
        outcome.await.unwrap_or_else(|_| {
            Err(RunqlError::internal(
                "committing a write",
                "the commit round ended without an outcome",
            ))
        })
    }
}
