//! The tracking store: a directory (or bucket prefix) of Delta tables, one per
//! entity, written by blind appends and read through the folding views.
//!
//! Layout under the root:
//! - `_runql/format.json`: the store's format version;
//! - `_runql/intents/`: multi-table writes in flight (see [`Store::write`]);
//! - `_runql/params/`: write-once claims of param values (see `claims.rs`);
//! - `_runql/journal/`: small writes not yet folded into the tables, on a
//!   local store (see `journal.rs`);
//! - one Delta table per [`RawTable`].
//!
//! Acknowledgement rule: a write returns only after every Delta commit it needs
//! is in the object store, or, on a local store, after it is synced to the
//! journal, so an acknowledged write survives a crash of the writer.

pub mod artifacts;
pub mod buffer;
pub(crate) mod claims;
pub mod clock;
mod group_commit;
pub(crate) mod journal;
pub mod location;
pub mod rows;
pub(crate) mod run_cache;
pub mod schema;
pub mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Once};

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use deltalake::kernel::{Add, Transaction};
use deltalake::logstore::{StorageConfig, logstore_with, store_for};
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Context, Result, RunqlError};
use crate::model::{DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, now_millis};
use buffer::{WriteBuffer, WriteBuffering};
use clock::Clock;
use location::Location;
use rows::ExperimentChange;
use schema::RawTable;
use table::{ChangeTable, CompactionScope};

/// The format this runql writes. Opening a store with a higher number fails;
/// a lower one is upgraded in place.
///
/// - 1: the first format.
/// - 2: metrics carry `latest_copy` rows (see `schema.rs`), which
///   `latest_metrics` reads instead of the whole history.
pub const FORMAT_VERSION: u32 = 2;

/// Tuning for a store handle. Every option has a documented default.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    storage_options: HashMap<String, String>,
    auto_compact_files: usize,
    write_buffering: Option<WriteBuffering>,
    default_artifact_root: Option<String>,
    write_journal: bool,
    journal_fold_delay: std::time::Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            storage_options: HashMap::new(),
            auto_compact_files: 200,
            write_buffering: None,
            default_artifact_root: None,
            write_journal: true,
            journal_fold_delay: std::time::Duration::from_millis(200),
        }
    }
}

impl StoreOptions {
    /// An object-store option, such as `aws_endpoint` or `aws_allow_http`; wins over
    /// the `AWS_*`/`GOOGLE_*`/`AZURE_*` environment.
    pub fn storage_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.storage_options.insert(key.into(), value.into());
        self
    }

    /// Fold a table's small files (in the background) once a write leaves it
    /// with more than this many of them; large files a load or compaction
    /// wrote are left alone. Default 200; 0 turns automatic compaction off.
    pub fn auto_compact_files(mut self, files: usize) -> Self {
        self.auto_compact_files = files;
        self
    }

    /// Buffer metric and tag writes, flushing once `max_rows` rows wait or the
    /// oldest is `max_delay` old (see [`buffer`] for what this trades away).
    /// Default off: every write is durable when its call returns.
    pub fn buffered_writes(mut self, max_rows: usize, max_delay: std::time::Duration) -> Self {
        self.write_buffering = Some(WriteBuffering::new(max_rows, max_delay));
        self
    }

    /// On a local store, journal small writes and fold them into the Delta
    /// tables in the background (see `store/journal.rs`): a durable log call
    /// then costs an fsync, not a Delta commit. Default on; off, every write
    /// is a Delta commit of its own (shared by concurrent callers). Object
    /// stores never journal. Either way, a handle reads what other writers journaled.
    pub fn write_journal(mut self, enabled: bool) -> Self {
        self.write_journal = enabled;
        self
    }

    /// How long journaled rows may wait before they are folded into the
    /// Delta tables, where engines other than runql see them (runql sees them
    /// at once). Longer leaves fewer, larger files. Default 200 ms.
    pub fn journal_fold_delay(mut self, delay: std::time::Duration) -> Self {
        self.journal_fold_delay = delay;
        self
    }

    /// Where new experiments keep their artifacts when created without a
    /// location: `<root>/<experiment_id>`. Default: the store's own
    /// `artifacts/` directory. `runql serve` uses `mlflow-artifacts:/`, as
    /// MLflow's server does, so clients upload through it.
    pub fn default_artifact_root(mut self, root: impl Into<String>) -> Self {
        self.default_artifact_root = Some(root.into());
        self
    }
}

#[derive(Serialize, Deserialize)]
struct FormatFile {
    format_version: u32,
}

/// A multi-table write, recorded before its first commit so that anyone can finish it.
#[derive(Serialize, Deserialize)]
struct Intent {
    app_id: String,
    tables: BTreeMap<String, Vec<Add>>,
}

pub(crate) struct StoreInner {
    location: Location,
    root_store: Arc<dyn ObjectStore>,
    root_path: ObjectPath,
    tables: BTreeMap<RawTable, ChangeTable>,
    pub(crate) clock: Clock,
    options: StoreOptions,
    query_ctx: tokio::sync::OnceCell<SessionContext>,
    pub(crate) run_cache: run_cache::RunCache,
    buffer: Arc<WriteBuffer>,
    group_commit: group_commit::GroupCommit,
    /// The write journals, on a local store: this handle's, and other writers' to read.
    journal: Option<Arc<journal::Journal>>,
    /// Tables with an automatic compaction under way.
    compacting: parking_lot::Mutex<BTreeSet<RawTable>>,
}

impl Drop for StoreInner {
    fn drop(&mut self) {
        self.buffer.close();
        if let Some(journal) = &self.journal {
            journal::close(journal);
        }
    }
}

/// A handle to a tracking store. Cheap to clone; clones share commits and caches.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<StoreInner>,
}

/// Rows to append, by table, as one logical write.
#[derive(Default, Clone)]
pub(crate) struct WriteSet {
    parts: BTreeMap<RawTable, Vec<RecordBatch>>,
}

impl WriteSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, table: RawTable, batch: RecordBatch) {
        if batch.num_rows() > 0 {
            self.parts.entry(table).or_default().push(batch);
        }
    }

    /// Adds every row of `other`.
    pub fn absorb(&mut self, other: WriteSet) {
        for (table, batches) in other.parts {
            self.parts.entry(table).or_default().extend(batches);
        }
    }

    pub fn tables(&self) -> impl Iterator<Item = RawTable> + '_ {
        self.parts.keys().copied()
    }

    pub fn rows(&self) -> usize {
        self.parts.values().flatten().map(|b| b.num_rows()).sum()
    }

    /// Adds the latest copies of the metric values the write holds (see
    /// `schema.rs`): one per run and key per commit, however many calls a
    /// buffered write gathers.
    fn with_latest_copies(mut self) -> Result<WriteSet> {
        if let Some(batches) = self.parts.get_mut(&RawTable::Metrics) {
            let copies = rows::latest_copies(batches)?;
            batches.push(copies);
        }
        Ok(self)
    }

    /// The same rows as one batch per table: many small batches (a buffer of
    /// single-metric calls) cost the data file writer far more than one.
    pub fn coalesced(self) -> Result<WriteSet> {
        let mut parts = BTreeMap::new();
        for (table, batches) in self.parts {
            let batch = concat_batches(&table.schema(), &batches)
                .context(|| format!("gathering rows for table {}", table.name()))?;
            parts.insert(table, vec![batch]);
        }
        Ok(WriteSet { parts })
    }
}

fn register_cloud_handlers() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        #[cfg(feature = "s3")]
        deltalake::aws::register_handlers(None);
        #[cfg(feature = "gcs")]
        deltalake::gcp::register_handlers(None);
        #[cfg(feature = "azure")]
        deltalake::azure::register_handlers(None);
    });
}

/// The object store holding `location`, rooted at its bucket (or the
/// filesystem root), as each table's log store adds its own path prefix;
/// deltalake's local factory would root it at the path.
pub(crate) fn object_store_at(location: &Location) -> Result<Arc<dyn ObjectStore>> {
    register_cloud_handlers();
    Ok(match location.root.scheme() {
        "file" => Arc::new(object_store::local::LocalFileSystem::new()),
        "memory" => Arc::new(object_store::memory::InMemory::new()),
        _ => {
            // deltalake's factories root the store at the URL's path; give them the bucket.
            let mut bucket = location.root.clone();
            bucket.set_path("/");
            store_for(&bucket, location.options.clone())
                .context(|| format!("connecting to store {}", location.display()))?
        }
    })
}

impl Store {
    /// Opens the store at `location`, creating it if it does not exist.
    /// See [`Store::open_with`] for options.
    pub async fn open(location: &str) -> Result<Store> {
        Self::open_with(location, StoreOptions::default()).await
    }

    pub async fn open_with(location: &str, options: StoreOptions) -> Result<Store> {
        register_cloud_handlers();
        let location = Location::parse(location, &options.storage_options)?;
        let shown = location.display();
        let root_store = object_store_at(&location)?;
        let root_path = ObjectPath::from_url_path(location.root.path())
            .context(|| format!("reading store path {shown}"))?;

        let format_path = root_path.clone().join("_runql").join("format.json");
        let existing_format = match root_store.get(&format_path).await {
            Ok(found) => {
                let bytes = found
                    .bytes()
                    .await
                    .context(|| format!("reading {format_path}"))?;
                let format: FormatFile =
                    serde_json::from_slice(&bytes).context(|| format!("parsing {format_path}"))?;
                if format.format_version > FORMAT_VERSION {
                    return Err(RunqlError::FormatTooNew {
                        location: shown,
                        found: format.format_version,
                        supported: FORMAT_VERSION,
                    });
                }
                Some(format.format_version)
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(RunqlError::internal(format!("reading {format_path}"), e)),
        };

        let storage_config = StorageConfig::parse_options(location.options.clone())
            .context(|| format!("parsing storage options for {shown}"))?;
        let mut tables = BTreeMap::new();
        let mut created_experiments = false;
        for kind in RawTable::ALL {
            let url = location.join(kind.name());
            if let Some(path) = location.local_dir(&url) {
                // The local object store will not create a table's first directory.
                std::fs::create_dir_all(&path)
                    .context(|| format!("creating directory {}", path.display()))?;
            }
            let log_store = logstore_with(root_store.clone(), &url, storage_config.clone())
                .context(|| format!("opening table {url}"))?;
            let (table, created) = ChangeTable::open_or_create(kind, log_store).await?;
            created_experiments |= created && kind == RawTable::Experiments;
            tables.insert(kind, table);
        }

        // Kept even when this handle does not journal: it reads other writers' journals.
        let journal = location
            .local_dir(&location.root)
            .map(|root| journal::Journal::new(&root));
        let store = Store {
            inner: Arc::new(StoreInner {
                location,
                root_store,
                root_path,
                tables,
                clock: Clock::new(),
                options,
                query_ctx: tokio::sync::OnceCell::new(),
                run_cache: Default::default(),
                buffer: Default::default(),
                group_commit: Default::default(),
                journal,
                compacting: Default::default(),
            }),
        };
        // Writes a crashed writer left half-done are finished first, so an
        // upgrade also covers their rows.
        store.recover_intents().await?;
        store.adopt_orphan_journals().await?;
        if existing_format == Some(1) {
            store.add_latest_copies().await?;
        }
        if existing_format != Some(FORMAT_VERSION) {
            let body = serde_json::to_vec_pretty(&FormatFile {
                format_version: FORMAT_VERSION,
            })
            .context(|| "encoding the format file".to_string())?;
            store
                .inner
                .root_store
                .put(&format_path, PutPayload::from(body))
                .await
                .context(|| format!("writing {format_path}"))?;
        }
        if created_experiments {
            store.create_default_experiment().await?;
        }
        if let Some(policy) = store.inner.options.write_buffering {
            store.set_write_buffering(Some(policy)).await?;
        }
        Ok(store)
    }

    /// Upgrades a format-1 store: adds the `latest_copy` column to metrics and
    /// writes one copy of each run's latest value per key. Safe to repeat
    /// after a crash or to run twice at once: extra copies change no answer.
    async fn add_latest_copies(&self) -> Result<()> {
        let what = || "writing latest copies to upgrade the store".to_string();
        let metrics = self.table(RawTable::Metrics);
        metrics.add_missing_columns().await?;
        let mut history = self
            .query_context()
            .await?
            .sql("SELECT * FROM raw.metrics")
            .await
            .context(what)?
            .execute_stream()
            .await
            .context(what)?;
        // The history is streamed; only the latest value per run and key so
        // far is kept. Each batch's latest values are candidates, folded into
        // the kept set whenever the candidates outgrow it, so memory follows
        // the number of (run, key) pairs, not the number of values.
        let mut candidates = Vec::new();
        let (mut pending, mut kept) = (0, 0);
        while let Some(batch) = history.try_next().await.context(what)? {
            let facts = RecordBatch::try_new(RawTable::Metrics.schema(), batch.columns().to_vec())
                .context(what)?;
            let latest = rows::latest_copies(std::slice::from_ref(&facts))?;
            pending += latest.num_rows();
            candidates.push(latest);
            if pending > kept.max(UPGRADE_FOLD_ROWS) {
                let folded = rows::latest_copies(&candidates)?;
                (pending, kept) = (folded.num_rows(), folded.num_rows());
                candidates = vec![folded];
            }
        }
        let copies = rows::latest_copies(&candidates)?;
        if copies.num_rows() > 0 {
            metrics.append(vec![copies]).await?;
        }
        Ok(())
    }

    /// MLflow's experiment `0`, "Default", which exists from the start.
    async fn create_default_experiment(&self) -> Result<()> {
        let change = ExperimentChange::created(
            DEFAULT_EXPERIMENT_ID,
            DEFAULT_EXPERIMENT_NAME,
            self.artifact_root(DEFAULT_EXPERIMENT_ID),
            now_millis(),
        );
        let mut write = WriteSet::new();
        write.add(
            RawTable::Experiments,
            rows::experiment_changes(&[change], &self.inner.clock)?,
        );
        self.write(write).await
    }

    /// Where an experiment's artifacts go by default: `<root>/artifacts/<experiment_id>`,
    /// or under [`StoreOptions::default_artifact_root`].
    pub(crate) fn artifact_root(&self, experiment_id: &str) -> String {
        match &self.inner.options.default_artifact_root {
            Some(root) => format!("{}/{experiment_id}", root.trim_end_matches('/')),
            None => format!("{}{experiment_id}", self.artifacts().url()),
        }
    }

    /// The store's root URL, without credentials.
    pub fn location(&self) -> String {
        self.inner.location.display()
    }

    pub(crate) fn table(&self, kind: RawTable) -> &ChangeTable {
        &self.inner.tables[&kind]
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Appends a logical write. One table: one commit. Several tables: the data
    /// files are written first, then an intent naming them, then one commit per
    /// table tagged with the intent's transaction id, then the intent is removed.
    /// A writer that dies part-way leaves the intent, and the next open or
    /// compaction commits the rest, so the write ends whole, never half-visible.
    /// Rows this handle buffered are flushed first, so writes land in the
    /// order they were made (see [`buffer`]). Writes made while another is
    /// committing share the next commit (see [`group_commit`]).
    pub(crate) async fn write(&self, write: WriteSet) -> Result<()> {
        self.flush_buffer().await?;
        self.commit_in_group(write).await
    }

    /// Journals `write` or commits it to the Delta tables (see `journal.rs`).
    async fn commit_write(&self, write: WriteSet) -> Result<()> {
        if write.parts.is_empty() {
            return Ok(());
        }
        let write = write.with_latest_copies()?;
        let Some(write) = self.journal_write(write).await? else {
            return Ok(());
        };
        let touched: Vec<RawTable> = write.parts.keys().copied().collect();
        let single = (write.parts.len() == 1)
            .then(|| write.parts.first_key_value().map(|(kind, _)| *kind))
            .flatten();
        match single {
            Some(kind) => {
                let batches = write.parts.into_values().flatten().collect();
                self.table(kind).append(batches).await?;
            }
            None => {
                let mut staged = BTreeMap::new();
                for (kind, batches) in write.parts {
                    let adds = self.table(kind).stage(batches).await?;
                    staged.insert(kind.name().to_string(), adds);
                }
                let intent = Intent {
                    app_id: format!("runql-{}", uuid::Uuid::new_v4().simple()),
                    tables: staged,
                };
                let path = self.intent_path(&intent.app_id);
                let body = serde_json::to_vec(&intent).context(|| "encoding an intent".into())?;
                self.inner
                    .root_store
                    .put(&path, PutPayload::from(body))
                    .await
                    .context(|| format!("writing {path}"))?;
                self.finish_intent(intent).await?;
            }
        }
        self.auto_compact(&touched).await;
        Ok(())
    }

    /// Writes every row buffered logging holds and folds the write journal
    /// into the Delta tables, so that engines reading the tables alone see
    /// every write this handle made. Returns how many buffered rows it wrote.
    /// An earlier buffered flush's failure is returned once instead; the rows
    /// stay buffered, and the next flush retries.
    pub async fn flush(&self) -> Result<usize> {
        let rows = self.flush_buffer().await?;
        self.fold_journal().await?;
        Ok(rows)
    }

    /// The store's root within its object store (`_runql/` and the tables live under it).
    pub(crate) fn root_path(&self) -> &ObjectPath {
        &self.inner.root_path
    }

    /// The object store the whole store lives in, rooted at its bucket.
    pub(crate) fn root_object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner.root_store
    }

    fn intent_path(&self, app_id: &str) -> ObjectPath {
        self.inner
            .root_path
            .clone()
            .join("_runql")
            .clone()
            .join("intents")
            .clone()
            .join(format!("{app_id}.json"))
    }

    /// Commits every table of the intent that does not have it yet, then removes it.
    async fn finish_intent(&self, intent: Intent) -> Result<()> {
        for (name, adds) in intent.tables {
            let kind = RawTable::from_name(&name).ok_or_else(|| {
                RunqlError::internal("reading an intent", format!("unknown table {name}"))
            })?;
            if !self.table(kind).has_transaction(&intent.app_id).await? {
                self.commit_once(kind, &intent.app_id, adds).await?;
            }
        }
        let path = self.intent_path(&intent.app_id);
        match self.inner.root_store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(RunqlError::internal(format!("removing {path}"), e)),
        }
    }

    /// Commits `adds` to `kind` tagged with the transaction `app_id`, which
    /// the caller found missing there (checked before staging files, so no
    /// work is wasted). A commit that fails because someone recovering the
    /// same write committed it meanwhile is no failure. Returns the version
    /// this call committed, if it did.
    async fn commit_once(
        &self,
        kind: RawTable,
        app_id: &str,
        adds: Vec<Add>,
    ) -> Result<Option<i64>> {
        let table = self.table(kind);
        let transaction =
            Transaction::new_with_last_update(app_id.to_string(), 1, Some(now_millis()));
        match table.commit_adds(adds, Some(transaction)).await {
            Ok(version) => Ok(Some(version)),
            // Someone recovering the same write may have committed it first.
            Err(e) => match table.has_transaction(app_id).await? {
                true => Ok(None),
                false => Err(e),
            },
        }
    }

    /// Finishes multi-table writes left behind by writers that stopped part-way.
    pub(crate) async fn recover_intents(&self) -> Result<usize> {
        let prefix = self.inner.root_path.clone().join("_runql").join("intents");
        let listed: Vec<_> = self
            .inner
            .root_store
            .list(Some(&prefix))
            .try_collect()
            .await
            .context(|| format!("listing {prefix}"))?;
        let mut recovered = 0;
        for object in listed {
            let bytes = match self.inner.root_store.get(&object.location).await {
                Ok(found) => found
                    .bytes()
                    .await
                    .context(|| format!("reading {}", object.location))?,
                // Its writer finished it while we listed.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => {
                    return Err(RunqlError::internal(
                        format!("reading {}", object.location),
                        e,
                    ));
                }
            };
            let intent: Intent = serde_json::from_slice(&bytes)
                .context(|| format!("parsing {}", object.location))?;
            self.finish_intent(intent).await?;
            recovered += 1;
        }
        Ok(recovered)
    }

    /// Compacts tables a write left with too many files, in the background:
    /// folding a large table takes seconds, which must not land on the one
    /// log call that crossed the threshold. At most one such compaction per
    /// table and handle runs at a time. Best effort: a failed compaction
    /// (typically a concurrent compaction of the same files winning) commits
    /// nothing, and a later write tries again. Writes that land while a
    /// compaction runs are folded by another round once it ends, so the
    /// small files stay bounded even when the writes then stop.
    pub(crate) async fn auto_compact(&self, touched: &[RawTable]) {
        for &kind in touched {
            if self.crowded(kind).await && self.inner.compacting.lock().insert(kind) {
                let store = self.clone();
                tokio::spawn(async move {
                    loop {
                        let folded = store.compact_table(kind, CompactionScope::SmallFiles).await;
                        // Released before looking again, so a write that
                        // lands after the look starts the next round itself.
                        store.inner.compacting.lock().remove(&kind);
                        let again = folded.is_ok()
                            && store.crowded(kind).await
                            && store.inner.compacting.lock().insert(kind);
                        if !again {
                            break;
                        }
                    }
                });
            }
        }
    }

    /// Whether a table holds more small files than automatic compaction allows.
    async fn crowded(&self, kind: RawTable) -> bool {
        let threshold = self.inner.options.auto_compact_files;
        threshold > 0
            && matches!(self.table(kind).small_file_count().await, Ok(files) if files > threshold)
    }

    /// Folds every table: superseded change rows and exact duplicate metric values
    /// are dropped, small files are merged and sorted by owner. No query result
    /// changes. Also finishes any multi-table write a crashed writer left
    /// behind, and folds the write journals of this handle and of writers that are gone.
    pub async fn compact(&self) -> Result<CompactionReport> {
        self.recover_intents().await?;
        self.fold_journal().await?;
        self.adopt_orphan_journals().await?;
        let mut report = CompactionReport::default();
        for kind in RawTable::ALL {
            let (before, after) = self.compact_table(kind, CompactionScope::All).await?;
            report.tables.push((kind.name().to_string(), before, after));
        }
        Ok(report)
    }

    async fn compact_table(
        &self,
        kind: RawTable,
        scope: CompactionScope,
    ) -> Result<(usize, usize)> {
        let fold_sql = crate::tables::fold_sql(kind);
        self.table(kind).compact(&fold_sql, scope).await
    }

    /// The session runql itself queries the views through.
    pub(crate) async fn query_context(&self) -> Result<&SessionContext> {
        self.inner
            .query_ctx
            .get_or_try_init(|| async {
                let ctx = SessionContext::new();
                crate::tables::register(&ctx, self).await?;
                Ok(ctx)
            })
            .await
    }

    /// Runs a query with `$1, $2, …` placeholders bound to `params`.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<Vec<RecordBatch>> {
        Ok(self.query_with_schema(sql, params).await?.1)
    }

    /// Like [`Store::query`], with the result's schema even when there are no rows.
    pub(crate) async fn query_with_schema(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let ctx = self.query_context().await?;
        let what = || format!("running query {sql}");
        let frame = ctx.sql(sql).await.context(what)?;
        let frame = if params.is_empty() {
            frame
        } else {
            frame.with_param_values(params).context(what)?
        };
        let schema = Arc::new(frame.schema().as_arrow().clone());
        Ok((schema, frame.collect().await.context(what)?))
    }
}

/// What [`Store::compact`] did: per table, data files before and after.
#[derive(Debug, Default, Clone)]
pub struct CompactionReport {
    pub tables: Vec<(String, usize, usize)>,
}

/// Candidate rows gathered while upgrading a store, before they are folded.
const UPGRADE_FOLD_ROWS: usize = 1 << 20;
