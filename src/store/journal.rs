//! The write journal of a local store: a durable small write costs one
//! fsync'd append, not one Delta commit.
//!
//! A Delta commit costs tens of milliseconds of CPU however small the write
//! (a Parquet file, a log entry, the table state replayed with it). On a
//! local store, a write of rows that do not change run or experiment state
//! (metrics, params, tags, inputs, model rows) is instead appended to this
//! handle's journal and fsync'd, and acknowledged then. A background task
//! folds the journal into the Delta tables once its oldest row is the fold
//! delay old (`StoreOptions::journal_fold_delay`, default 200 ms) or
//! [`FOLD_ROWS`] rows wait, in one commit per table, then deletes what it
//! folded. Large writes, whose commit cost is already
//! shared by many rows, go to Delta directly.
//!
//! Layout under `_runql/journal/`:
//! - `<writer>.lock`: locked (flock) by the live handle for its whole life;
//! - `<writer>-<segment>.wal`: the records appended since the last fold, as
//!   `RUNQLJ1\n` then frames `[len: u32][crc32: u32][payload]`; a payload is
//!   the write's rows as one Arrow IPC stream per table.
//!
//! Readers: every runql process reads the journal segments before the Delta
//! tables (see [`Store::scan_state`]), so a journaled write is visible at
//! once to SQL from any runql process, exactly once; engines reading only the
//! Delta tables see it once folded. A fold marks its segment
//! (`<writer>-<segment>.folding`) before it commits, so a reader knows which
//! segments may already be in the tables it read. A frame cut short or
//! failing its checksum ends a segment: it is a write that never returned.
//!
//! Crashes: each table's fold commit is tagged with the segment's
//! transaction id. Segments whose writer's lock is free (the writer exited or
//! died) are adopted by the next store open or compaction, which folds each
//! table that lacks the tag and deletes the segment: an interrupted fold is
//! finished, never repeated. Before a segment is deleted, the files its fold
//! committed are fsync'd, so the data survives a power loss as well.
//!
//! Run and experiment rows are never journaled: log calls validate against
//! them through the run cache, whose freshness rests on every change of them
//! being a Delta commit (see `run_cache.rs`).

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use deltalake::kernel::Add;

use crate::error::{Context, Result, RunqlError};
use crate::store::rows::conform;
use crate::store::schema::RawTable;
use crate::store::table::scan_provider;
use crate::store::{Store, StoreInner, WriteSet};

/// Fold once this many rows wait, whatever their age.
const FOLD_ROWS: usize = 100_000;

/// A write waits for a fold once this many rows wait: folding is not keeping up.
const BACKPRESSURE_ROWS: usize = 1_000_000;

/// Writes of more rows than this go to Delta directly: one commit is cheap
/// per row for them, and journaling would write every row twice.
const MAX_JOURNALED_ROWS: usize = 100_000;

const MAGIC: &[u8; 8] = b"RUNQLJ1\n";
const FRAME_HEADER_BYTES: usize = 8;

/// Whether rows of `kind` may be journaled (see the module documentation).
pub(crate) fn journaled(kind: RawTable) -> bool {
    !matches!(kind, RawTable::Runs | RawTable::Experiments)
}

/// Records appended to one segment and not yet folded.
struct Segment {
    number: u64,
    writes: Vec<WriteSet>,
    rows: usize,
    first_write: Instant,
    /// Set before the first commit of its fold: readers can no longer be
    /// sure the tables lack its rows (see [`Store::scan_state`]).
    folding: bool,
}

/// The rows of one table in one journal segment, as a reader found them.
pub(crate) struct JournaledRows {
    writer: String,
    number: u64,
    batches: Vec<RecordBatch>,
}

/// The segment being appended to.
struct Appender {
    number: u64,
    file: File,
    len: u64,
}

/// Other writers' segments as last read, so a reader parses only what was appended since.
#[derive(Default)]
struct ReadSegment {
    parsed_bytes: u64,
    rows: BTreeMap<RawTable, Vec<RecordBatch>>,
}

pub(crate) struct Journal {
    dir: PathBuf,
    writer: String,
    /// Held locked while the handle has segments on disk: they are not orphans.
    lock: parking_lot::Mutex<Option<File>>,
    /// Held across a whole append, so records land in the order of their rounds.
    appender: Arc<tokio::sync::Mutex<Option<Appender>>>,
    /// Every record not yet folded, by segment; readers of this handle read them here.
    unfolded: parking_lot::Mutex<Vec<Segment>>,
    next_segment: std::sync::atomic::AtomicU64,
    /// Held for a whole fold, so a fold that returns has folded every record before it began.
    folding: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
    folder_started: AtomicBool,
    others: parking_lot::Mutex<HashMap<PathBuf, ReadSegment>>,
}

impl Journal {
    /// A journal of its own for a new handle on the store at `root`; nothing
    /// is written until its first record.
    pub fn new(root: &Path) -> Arc<Journal> {
        Arc::new(Journal {
            dir: root.join("_runql").join("journal"),
            writer: uuid::Uuid::new_v4().simple().to_string(),
            lock: Default::default(),
            appender: Default::default(),
            unfolded: Default::default(),
            next_segment: Default::default(),
            folding: Default::default(),
            wake: Default::default(),
            folder_started: AtomicBool::new(false),
            others: Default::default(),
        })
    }

    fn lock_path(&self, writer: &str) -> PathBuf {
        self.dir.join(format!("{writer}.lock"))
    }

    /// Takes this handle's lock, before a segment exists.
    fn take_lock(&self) -> Result<()> {
        let mut held = self.lock.lock();
        if held.is_some() {
            return Ok(());
        }
        let path = self.lock_path(&self.writer);
        let what = || format!("creating {}", path.display());
        std::fs::create_dir_all(&self.dir).context(what)?;
        let lock = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .context(what)?;
        lock.lock().context(what)?;
        *held = Some(lock);
        Ok(())
    }

    /// Gives the lock up (and removes its file) when nothing is left to fold,
    /// so a handle that is done writing leaves nothing behind. Segments are
    /// only created under the appender's lock, so none can appear meanwhile.
    async fn release_if_idle(&self) -> Result<()> {
        let appender = self.appender.lock().await;
        if appender.is_none() && self.unfolded.lock().is_empty() {
            let mut held = self.lock.lock();
            if held.is_some() {
                remove_if_present(&self.lock_path(&self.writer))?;
                *held = None;
            }
        }
        Ok(())
    }

    /// Appends `write` and syncs it to disk. On failure nothing of it is
    /// visible, and the next write starts a new segment.
    async fn append(self: &Arc<Self>, write: WriteSet) -> Result<()> {
        let frame = frame(&encode(&write)?);
        let mut appender = self.appender.clone().lock_owned().await;
        let journal = self.clone();
        tokio::task::spawn_blocking(move || journal.append_blocking(&mut appender, &frame, write))
            .await
            .map_err(|e| RunqlError::internal("appending to the write journal", e))?
    }

    fn append_blocking(
        &self,
        appender: &mut Option<Appender>,
        frame: &[u8],
        write: WriteSet,
    ) -> Result<()> {
        let mut open = match appender.take() {
            Some(open) => open,
            None => self.create_segment()?,
        };
        let path = self.segment_path(&self.writer, open.number);
        let appended = open
            .file
            .write_all(frame)
            .and_then(|()| open.file.sync_data());
        if let Err(error) = appended {
            // A frame cut short ends the segment for readers, so no later
            // record may follow it: the next write starts a new segment.
            let _ = open.file.set_len(open.len);
            if open.len == MAGIC.len() as u64 {
                // No record in it: nothing would ever fold and delete it.
                let _ = std::fs::remove_file(&path);
            }
            return Err(RunqlError::internal(
                format!("appending to the write journal {}", path.display()),
                error,
            ));
        }
        open.len += frame.len() as u64;
        let number = open.number;
        *appender = Some(open);
        let rows = write.rows();
        let mut unfolded = self.unfolded.lock();
        match unfolded.last_mut() {
            Some(segment) if segment.number == number => {
                segment.writes.push(write);
                segment.rows += rows;
            }
            _ => unfolded.push(Segment {
                number,
                writes: vec![write],
                rows,
                first_write: Instant::now(),
                folding: false,
            }),
        }
        Ok(())
    }

    fn create_segment(&self) -> Result<Appender> {
        self.take_lock()?;
        let number = self.next_segment.fetch_add(1, Ordering::SeqCst);
        let path = self.segment_path(&self.writer, number);
        let what = || format!("creating the write journal {}", path.display());
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .context(what)?;
        file.write_all(MAGIC).context(what)?;
        file.sync_data().context(what)?;
        // The new name must survive a crash as well as the records in it.
        sync_directory(&self.dir).context(what)?;
        Ok(Appender {
            number,
            file,
            len: MAGIC.len() as u64,
        })
    }

    fn segment_path(&self, writer: &str, number: u64) -> PathBuf {
        self.dir.join(format!("{writer}-{number:010}.wal"))
    }

    fn unfolded_rows(&self) -> usize {
        self.unfolded.lock().iter().map(|s| s.rows).sum()
    }

    /// How long until a fold is due: `None` when nothing waits.
    fn due_in(&self, fold_delay: Duration) -> Option<Duration> {
        let unfolded = self.unfolded.lock();
        let oldest = unfolded.first()?.first_write;
        if unfolded.iter().map(|s| s.rows).sum::<usize>() >= FOLD_ROWS {
            return Some(Duration::ZERO);
        }
        Some(fold_delay.saturating_sub(oldest.elapsed()))
    }

    /// Ends the segment being appended to and returns every unfolded
    /// segment's records, each marked as being folded; they stay readable
    /// until [`Journal::forget`].
    async fn seal(&self) -> Result<Vec<(u64, WriteSet)>> {
        *self.appender.lock().await = None;
        let mut sealed = Vec::new();
        for segment in self.unfolded.lock().iter_mut() {
            if !segment.folding {
                mark_folding(&self.marker_path(&self.writer, segment.number))?;
                segment.folding = true;
            }
            let mut write = WriteSet::new();
            for part in &segment.writes {
                write.absorb(part.clone());
            }
            sealed.push((segment.number, write));
        }
        Ok(sealed)
    }

    /// Drops a folded segment, from memory and from disk: the segment file
    /// before its marker, so that no reader sees it unmarked once folded.
    fn forget(&self, number: u64) -> Result<()> {
        self.unfolded.lock().retain(|s| s.number != number);
        remove_if_present(&self.segment_path(&self.writer, number))?;
        remove_if_present(&self.marker_path(&self.writer, number))
    }

    /// The file whose presence says a segment's fold has begun.
    fn marker_path(&self, writer: &str, number: u64) -> PathBuf {
        self.dir.join(format!("{writer}-{number:010}.folding"))
    }

    /// Whether a segment read before the tables was, when this is called,
    /// neither being folded nor folded: then the tables read meanwhile
    /// cannot hold its rows.
    fn settled(&self, segment: &JournaledRows) -> bool {
        if segment.writer == self.writer {
            return self
                .unfolded
                .lock()
                .iter()
                .any(|s| s.number == segment.number && !s.folding);
        }
        self.segment_path(&segment.writer, segment.number).exists()
            && !self.marker_path(&segment.writer, segment.number).exists()
    }

    /// The transaction id that tags the commits folding a segment.
    fn fold_id(writer: &str, number: u64) -> String {
        format!("runql-journal-{writer}-{number}")
    }

    /// Every journaled row of `kind` not yet deleted after its fold, by
    /// segment: this handle's, and those in other writers' segments on disk.
    fn rows(&self, kind: RawTable) -> Result<Vec<JournaledRows>> {
        let mut found: Vec<JournaledRows> = self
            .unfolded
            .lock()
            .iter()
            .map(|segment| JournaledRows {
                writer: self.writer.clone(),
                number: segment.number,
                batches: segment
                    .writes
                    .iter()
                    .filter_map(|write| write.parts.get(&kind))
                    .flatten()
                    .cloned()
                    .collect(),
            })
            .collect();
        let mut others = self.others.lock();
        let listed: Vec<(String, u64, PathBuf)> = self
            .segments()?
            .into_iter()
            .filter(|(writer, _, _)| *writer != self.writer)
            .collect();
        others.retain(|path, _| listed.iter().any(|(_, _, listed)| listed == path));
        for (writer, number, path) in listed {
            let read = others.entry(path.clone()).or_default();
            match read_new_records(&path, read) {
                Ok(()) => found.push(JournaledRows {
                    writer,
                    number,
                    batches: read.rows.get(&kind).cloned().unwrap_or_default(),
                }),
                // Folded and deleted since it was listed: the Delta tables,
                // read after this, have its rows.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    others.remove(&path);
                }
                Err(error) => {
                    return Err(RunqlError::internal(
                        format!("reading the write journal {}", path.display()),
                        error,
                    ));
                }
            }
        }
        found.retain(|segment| !segment.batches.is_empty());
        Ok(found)
    }

    /// Every segment file in the journal directory: (writer, number, path).
    fn segments(&self) -> Result<Vec<(String, u64, PathBuf)>> {
        let mut found = Vec::new();
        for (name, path) in self.listing()? {
            let Some(stem) = name.strip_suffix(".wal") else {
                continue;
            };
            let Some((writer, number)) = stem.rsplit_once('-') else {
                continue;
            };
            if let Ok(number) = number.parse::<u64>() {
                found.push((writer.to_string(), number, path));
            }
        }
        found.sort();
        Ok(found)
    }

    fn listing(&self) -> Result<Vec<(String, PathBuf)>> {
        let what = || format!("listing the write journal {}", self.dir.display());
        let mut listed = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            // Nothing was ever journaled here.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(listed),
            Err(error) => return Err(RunqlError::internal(what(), error)),
        };
        for entry in entries {
            let entry = entry.context(what)?;
            if let Some(name) = entry.file_name().to_str() {
                listed.push((name.to_string(), entry.path()));
            }
        }
        Ok(listed)
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Nothing left to adopt: the lock file would only be litter.
        if self.lock.get_mut().is_some() && self.unfolded.get_mut().is_empty() {
            let _ = std::fs::remove_file(self.lock_path(&self.writer));
        }
    }
}

impl Store {
    /// Journals `write` when this store keeps a journal and the write may
    /// wait in it; otherwise hands it back.
    pub(crate) async fn journal_write(&self, write: WriteSet) -> Result<Option<WriteSet>> {
        let Some(journal) = &self.inner.journal else {
            return Ok(Some(write));
        };
        if !self.journals(&write) {
            return Ok(Some(write));
        }
        journal.append(write).await?;
        self.start_folder(journal);
        let rows = journal.unfolded_rows();
        if rows >= BACKPRESSURE_ROWS {
            self.fold_journal().await?;
        } else if rows >= FOLD_ROWS {
            journal.wake.notify_one();
        }
        Ok(None)
    }

    /// Whether `write` would be journaled (see the module documentation).
    pub(crate) fn journals(&self, write: &WriteSet) -> bool {
        self.inner.journal.is_some()
            && self.inner.options.write_journal
            && write.rows() <= MAX_JOURNALED_ROWS
            && write.tables().all(journaled)
    }

    /// What a scan of `kind` reads: a provider over the Delta table as of
    /// now, and the journaled rows that table does not hold.
    ///
    /// The journal is read first, so a segment folded between the two reads
    /// is not missed. Such a segment is then dropped if the table read holds
    /// its fold (its transaction id), so no row is read twice. Only segments
    /// whose fold began meanwhile need that look into the table's log.
    pub(crate) async fn scan_state(
        &self,
        kind: RawTable,
    ) -> Result<(Arc<dyn TableProvider>, Vec<RecordBatch>)> {
        let journal = self.inner.journal.as_ref();
        let journaled = match journal {
            Some(journal) => journal.rows(kind)?,
            None => Vec::new(),
        };
        let table = self.table(kind).latest().await?;
        let provider = scan_provider(&table).await?;
        let mut rows = Vec::new();
        for segment in journaled {
            if !journal.is_some_and(|journal| journal.settled(&segment)) {
                let fold_id = Journal::fold_id(&segment.writer, segment.number);
                let what = || format!("reading transactions of table {}", kind.name());
                let folded = table
                    .snapshot()
                    .context(what)?
                    .transaction_version(table.log_store().as_ref(), fold_id)
                    .await
                    .context(what)?;
                if folded.is_some() {
                    continue;
                }
            }
            rows.extend(segment.batches);
        }
        Ok((provider, rows))
    }

    /// Folds every record this handle journaled into the Delta tables.
    /// Returns the number of rows folded.
    pub(crate) async fn fold_journal(&self) -> Result<usize> {
        let Some(journal) = &self.inner.journal else {
            return Ok(0);
        };
        let _folding = journal.folding.lock().await;
        let mut folded = 0;
        for (number, write) in journal.seal().await? {
            folded += write.rows();
            self.fold_segment(&Journal::fold_id(&journal.writer, number), write)
                .await?;
            journal.forget(number)?;
        }
        journal.release_if_idle().await?;
        Ok(folded)
    }

    /// Folds the segments of writers that are gone (their lock is free).
    /// Returns the number of segments folded.
    pub(crate) async fn adopt_orphan_journals(&self) -> Result<usize> {
        let Some(journal) = &self.inner.journal else {
            return Ok(0);
        };
        let mut by_writer: BTreeMap<String, Vec<(u64, PathBuf)>> = BTreeMap::new();
        for (name, _) in journal.listing()? {
            let marked = name
                .strip_suffix(".folding")
                .and_then(|stem| stem.rsplit_once('-'))
                .map(|(writer, _)| writer);
            if let Some(writer) = name.strip_suffix(".lock").or(marked) {
                by_writer.entry(writer.to_string()).or_default();
            }
        }
        for (writer, number, path) in journal.segments()? {
            by_writer.entry(writer).or_default().push((number, path));
        }
        by_writer.remove(&journal.writer);
        let mut adopted = 0;
        for (writer, segments) in by_writer {
            let lock_path = journal.lock_path(&writer);
            let what = || format!("adopting the write journal {}", lock_path.display());
            let lock = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .context(what)?;
            match lock.try_lock() {
                Ok(()) => {}
                // Its writer is alive and folds its own segments.
                Err(std::fs::TryLockError::WouldBlock) => continue,
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(RunqlError::internal(what(), error));
                }
            }
            for (number, path) in segments {
                let mut read = ReadSegment::default();
                match read_new_records(&path, &mut read) {
                    Ok(()) => {}
                    // Another process adopted it first.
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(RunqlError::internal(what(), error)),
                }
                let mut write = WriteSet::new();
                for (kind, batches) in read.rows {
                    for batch in batches {
                        write.add(kind, batch);
                    }
                }
                let marker = journal.marker_path(&writer, number);
                mark_folding(&marker)?;
                self.fold_segment(&Journal::fold_id(&writer, number), write)
                    .await?;
                remove_if_present(&path)?;
                remove_if_present(&marker)?;
                adopted += 1;
            }
            // Markers of folds that finished but for their cleanup.
            let prefix = format!("{writer}-");
            for (name, path) in journal.listing()? {
                if name.starts_with(&prefix) && name.ends_with(".folding") {
                    remove_if_present(&path)?;
                }
            }
            remove_if_present(&lock_path)?;
        }
        Ok(adopted)
    }

    /// Commits a segment's rows, one commit per table tagged `fold_id`,
    /// skipping tables that already have it, then syncs what was committed.
    async fn fold_segment(&self, fold_id: &str, write: WriteSet) -> Result<()> {
        let write = write.coalesced()?;
        let touched: Vec<RawTable> = write.tables().collect();
        for (kind, batches) in write.parts {
            let table = self.table(kind);
            if table.has_transaction(fold_id).await? {
                continue;
            }
            let adds = table.stage(batches).await?;
            if let Some(version) = self.commit_once(kind, fold_id, adds.clone()).await? {
                self.sync_committed(kind, version, &adds)?;
            }
        }
        self.auto_compact(&touched).await;
        Ok(())
    }

    /// Syncs the data files and log entry of a local commit to disk.
    fn sync_committed(&self, kind: RawTable, version: i64, adds: &[Add]) -> Result<()> {
        let location = &self.inner.location;
        let Some(table_dir) = location.local_dir(&location.join(kind.name())) else {
            return Ok(());
        };
        let log_dir = table_dir.join("_delta_log");
        let mut files: Vec<PathBuf> = adds.iter().map(|add| table_dir.join(&add.path)).collect();
        files.push(log_dir.join(format!("{version:020}.json")));
        for path in files {
            match File::open(&path).and_then(|file| file.sync_all()) {
                // A compaction and vacuum made it obsolete meanwhile.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                other => other.context(|| format!("syncing {}", path.display()))?,
            }
        }
        for dir in [&table_dir, &log_dir] {
            sync_directory(dir).context(|| format!("syncing {}", dir.display()))?;
        }
        Ok(())
    }

    fn start_folder(&self, journal: &Arc<Journal>) {
        if !journal.folder_started.swap(true, Ordering::SeqCst) {
            tokio::spawn(fold_when_due(Arc::downgrade(&self.inner), journal.clone()));
        }
    }
}

/// The background folder. It holds the store only while folding, so dropping
/// the last handle ends it.
async fn fold_when_due(store: Weak<StoreInner>, journal: Arc<Journal>) {
    loop {
        let Some(inner) = store.upgrade() else {
            return;
        };
        let wake = journal.wake.notified();
        let fold_delay = inner.options.journal_fold_delay;
        match journal.due_in(fold_delay) {
            Some(wait) if wait.is_zero() => {
                drop(wake);
                // A failed fold keeps its records (still read from memory) and
                // is retried at the fold pace; an explicit flush reports it.
                if (Store { inner }).fold_journal().await.is_err() {
                    tokio::time::sleep(fold_delay).await;
                }
            }
            Some(wait) => {
                drop(inner);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
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

/// Wakes the folder so it sees the store is gone.
pub(crate) fn close(journal: &Journal) {
    journal.wake.notify_one();
}

fn encode(write: &WriteSet) -> Result<Vec<u8>> {
    let what = || "encoding a journal record".to_string();
    let mut payload = Vec::new();
    for (kind, batches) in &write.parts {
        let schema = kind.schema();
        let mut stream = StreamWriter::try_new(Vec::new(), &schema).context(what)?;
        for batch in batches {
            stream.write(batch).context(what)?;
        }
        stream.finish().context(what)?;
        let stream = stream.into_inner().context(what)?;
        let name = kind.name().as_bytes();
        payload.push(name.len() as u8);
        payload.extend_from_slice(name);
        payload.extend_from_slice(&(stream.len() as u64).to_le_bytes());
        payload.extend_from_slice(&stream);
    }
    Ok(payload)
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Reads the records appended to a segment since `read` last saw it. A
/// frame cut short or failing its checksum ends what is read.
fn read_new_records(path: &Path, read: &mut ReadSegment) -> std::io::Result<()> {
    let mut file = File::open(path)?;
    let start = read.parsed_bytes.max(MAGIC.len() as u64);
    let mut bytes = Vec::new();
    if read.parsed_bytes == 0 {
        let mut magic = [0u8; MAGIC.len()];
        if file.read_exact(&mut magic).is_err() || &magic != MAGIC {
            // Created but not yet written, or not a journal: nothing to read.
            return Ok(());
        }
    }
    file.seek(SeekFrom::Start(start))?;
    file.read_to_end(&mut bytes)?;
    let mut offset = 0;
    while let Some(payload) = next_frame(&bytes[offset..]) {
        let Ok(parts) = decode(payload) else { break };
        for (kind, batches) in parts {
            read.rows.entry(kind).or_default().extend(batches);
        }
        offset += FRAME_HEADER_BYTES + payload.len();
    }
    read.parsed_bytes = start + offset as u64;
    Ok(())
}

/// The payload of the frame at the start of `bytes`, if whole and intact.
fn next_frame(bytes: &[u8]) -> Option<&[u8]> {
    let header = bytes.get(..FRAME_HEADER_BYTES)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let payload = bytes.get(FRAME_HEADER_BYTES..FRAME_HEADER_BYTES + len)?;
    (crc32fast::hash(payload) == crc).then_some(payload)
}

type Parts = Vec<(RawTable, Vec<RecordBatch>)>;

fn decode(mut payload: &[u8]) -> std::result::Result<Parts, String> {
    let mut parts = Vec::new();
    while let Some((&name_len, rest)) = payload.split_first() {
        let (name, rest) = rest
            .split_at_checked(name_len as usize)
            .ok_or("a table name cut short")?;
        let name = std::str::from_utf8(name).map_err(|e| e.to_string())?;
        let kind = RawTable::from_name(name).ok_or_else(|| format!("unknown table {name}"))?;
        let (len, rest) = rest.split_at_checked(8).ok_or("a length cut short")?;
        let len = u64::from_le_bytes(len.try_into().map_err(|_| "a bad length")?) as usize;
        let (stream, rest) = rest.split_at_checked(len).ok_or("rows cut short")?;
        let reader = StreamReader::try_new(stream, None).map_err(|e| e.to_string())?;
        // In today's schema, whichever runql wrote the record.
        let schema = kind.schema();
        let batches = reader
            .map(|batch| conform(&batch?, &schema))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        parts.push((kind, batches));
        payload = rest;
    }
    Ok(parts)
}

/// Creates the marker that says a segment's fold has begun.
fn mark_folding(marker: &Path) -> Result<()> {
    File::create(marker)
        .map(drop)
        .context(|| format!("creating {}", marker.display()))
}

fn sync_directory(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(RunqlError::internal(
            format!("removing {}", path.display()),
            error,
        )),
        _ => Ok(()),
    }
}
