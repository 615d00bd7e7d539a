//! Group commit: writes that arrive while a commit is running join the next
//! one, so many concurrent writers share one Delta commit per round instead
//! of queueing for one each.
//!
//! The first writer to find no commit running leads: it takes every waiting
//! write, folds them into one [`WriteSet`] and commits it in a spawned task,
//! so a leader whose caller goes away (an HTTP client hanging up) still
//! finishes the round for everyone in it. Every writer returns only once the
//! round holding its rows has committed, with that round's outcome: the
//! durability of a single write is unchanged. Rows carry the `seq` stamped
//! when they were made, so folding writes together does not reorder them.
//! A failed round fails every write in it; each was validated already, so
//! the failure is the store's, and a retry writes rows the views collapse.

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::{Result, RunqlError};
use crate::store::{Store, WriteSet};

type Waiter = oneshot::Sender<Result<()>>;

#[derive(Default)]
pub(crate) struct GroupCommit {
    waiting: Mutex<Vec<(WriteSet, Waiter)>>,
    /// Held by the leader of the round being committed.
    round: tokio::sync::Mutex<()>,
}

impl Store {
    /// Commits `write` in the next round (see the module documentation).
    pub(crate) async fn commit_in_group(&self, write: WriteSet) -> Result<()> {
        let group = &self.inner.group_commit;
        let (done, outcome) = oneshot::channel();
        group.waiting.lock().push((write, done));
        let mut outcome = outcome;
        let round = group.round.lock().await;
        // A previous leader may have taken and committed this write already.
        if let Ok(result) = outcome.try_recv() {
            return result;
        }
        let taken = std::mem::take(&mut *group.waiting.lock());
        let store = self.clone();
        let committed = tokio::spawn(async move {
            let mut combined = WriteSet::new();
            let mut waiters = Vec::with_capacity(taken.len());
            for (write, waiter) in taken {
                combined.absorb(write);
                waiters.push(waiter);
            }
            let result = store.commit_write(combined).await;
            for waiter in waiters {
                let _ = waiter.send(result.clone());
            }
        });
        let finished = committed.await;
        drop(round);
        match finished {
            Ok(()) => outcome.await.unwrap_or_else(|_| Err(lost_round())),
            Err(panic) => Err(RunqlError::internal("committing a write", panic)),
        }
    }
}

fn lost_round() -> RunqlError {
    RunqlError::internal(
        "committing a write",
        "the commit round ended without an outcome",
    )
}
