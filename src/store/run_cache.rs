//! Run state remembered between calls, so a log call checks that its run is
//! active without querying the `runs` view.
//!
//! A run's info (lifecycle, experiment, status, …) is folded from the `runs`
//! and `experiments` tables only. Each cached entry is stamped with the
//! versions of those two tables that it reflects at least; it is served only
//! while neither table has a commit past its stamp. Every change of a run's
//! state, by this handle, another handle or another process (delete, restore,
//! bulk forms, experiment deletion, gc, compaction), is such a commit, so a
//! served entry is exactly as fresh as a query made at the same moment: a log
//! call that starts after a deletion's commit always sees the deletion.
//! Checking costs one read of each table's next commit file, which does not
//! exist in the common case.

use std::collections::HashMap;

use crate::model::RunInfo;

/// Entries beyond this are dropped all at once; a miss only costs one query.
const MAX_ENTRIES: usize = 10_000;

/// The versions of the tables a run's info is folded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunStateVersions {
    pub runs: u64,
    pub experiments: u64,
}

impl RunStateVersions {
    fn at_least(self, other: RunStateVersions) -> bool {
        self.runs >= other.runs && self.experiments >= other.experiments
    }
}

#[derive(Default)]
struct Entries {
    versions: Option<RunStateVersions>,
    runs: HashMap<String, RunInfo>,
}

/// Run infos valid as of one pair of table versions.
#[derive(Default)]
pub(crate) struct RunCache {
    entries: parking_lot::Mutex<Entries>,
}

impl RunCache {
    /// The cached info of `run_id` and the versions it must be checked against.
    pub fn get(&self, run_id: &str) -> Option<(RunInfo, RunStateVersions)> {
        let entries = self.entries.lock();
        let versions = entries.versions?;
        entries
            .runs
            .get(run_id)
            .map(|info| (info.clone(), versions))
    }

    /// Remembers `info`, read after the tables were at `versions`. Entries of
    /// older versions are dropped; an info read at older versions than the
    /// cache holds is not kept, as it may already be stale.
    pub fn insert(&self, versions: RunStateVersions, info: RunInfo) {
        let mut entries = self.entries.lock();
        match entries.versions {
            Some(held) if held == versions => {}
            Some(held) if !versions.at_least(held) => return,
            _ => {
                entries.runs.clear();
                entries.versions = Some(versions);
            }
        }
        if entries.runs.len() >= MAX_ENTRIES {
            entries.runs.clear();
        }
        entries.runs.insert(info.run_id.clone(), info);
    }

    /// Drops every entry stamped `versions`: a table has moved past them.
    pub fn invalidate(&self, versions: RunStateVersions) {
        let mut entries = self.entries.lock();
        if entries.versions == Some(versions) {
            *entries = Entries::default();
        }
    }
}
