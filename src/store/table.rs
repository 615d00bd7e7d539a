//! One raw Delta table: creating or opening it, appending with group commit,
//! refreshing for reads, and folding it (compaction).
//!
//! Appends commit through deltalake's `CommitBuilder` as `WRITE (Append)`, which
//! never conflicts with other appends; retries are raised well above the default
//! because many writers may commit at once. Callers that arrive while a commit is
//! in flight are gathered and committed together by the next leader (group commit),
//! so N concurrent small writes cost about one commit, not N.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::compute::cast;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::execution::context::SessionState;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SendableRecordBatchStream, SessionStateBuilder};
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::DeltaTable;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, StructType, Transaction};
use deltalake::logstore::LogStoreRef;
use deltalake::operations::vacuum::VacuumMode;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::TryStreamExt;
use tokio::sync::{Mutex, oneshot};

use crate::error::{Context, Result, RunqlError};
use crate::store::schema::{FoldRule, RawTable};

/// Commit attempts before giving up; blind appends only ever retry on a lost race.
const MAX_COMMIT_RETRIES: usize = 100;

/// Delta table properties runql sets at creation.
fn table_properties() -> HashMap<String, Option<String>> {
    [
        // Checkpoints bound the log a reader replays; small writes make many commits.
        ("delta.checkpointInterval", "20"),
        // Expired-log cleanup lists the whole log on every commit; compaction does it instead.
        ("delta.enableExpiredLogCleanup", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
    .collect()
}

struct PendingAppend {
    adds: Vec<Add>,
    app_transaction: Option<Transaction>,
    done: oneshot::Sender<Result<i64>>,
}

pub struct ChangeTable {
    kind: RawTable,
    /// The table's latest known state; holding the lock means leading a commit.
    table: Mutex<DeltaTable>,
    pending: parking_lot::Mutex<Vec<PendingAppend>>,
    /// For probing the log without waiting behind a commit holding `table`.
    log_store: LogStoreRef,
}

impl ChangeTable {
    /// Opens the table at `log_store`, creating it with runql's schema if it is missing.
    /// Returns the table and whether this call created it.
    pub async fn open_or_create(kind: RawTable, log_store: LogStoreRef) -> Result<(Self, bool)> {
        let name = kind.name();
        let mut table = DeltaTable::new(log_store.clone());
        let exists = table
            .verify_deltatable_existence()
            .await
            .context(|| format!("looking for table {name}"))?;
        let mut created = false;
        if exists {
            table
                .load()
                .await
                .context(|| format!("opening table {name}"))?;
        } else {
            let schema: StructType = kind
                .schema()
                .as_ref()
                .try_into_kernel()
                .context(|| format!("converting the schema of {name}"))?;
            let creation = DeltaTable::new(log_store.clone())
                .create()
                .with_log_store(log_store.clone())
                .with_table_name(name)
                .with_columns(schema.fields().cloned())
                .with_configuration(table_properties())
                .with_save_mode(SaveMode::Ignore)
                .await;
            match creation {
                Ok(t) => {
                    table = t;
                    created = true;
                }
                // Another process may have created it between our check and create.
                Err(creation_error) => table.load().await.map_err(|_| {
                    RunqlError::internal(format!("creating table {name}"), creation_error)
                })?,
            }
        }
        Ok((
            ChangeTable {
                kind,
                table: Mutex::new(table),
                pending: parking_lot::Mutex::new(Vec::new()),
                log_store,
            },
            created,
        ))
    }

    pub fn kind(&self) -> RawTable {
        self.kind
    }

    /// Adds the columns of runql's schema that the table lacks (a store an
    /// older runql wrote); existing rows read them as NULL. Returns how many.
    pub async fn add_missing_columns(&self) -> Result<usize> {
        let what = || format!("adding columns to table {}", self.kind.name());
        let mut current = self.table.lock().await;
        current.update_incremental(None).await.context(what)?;
        let wanted: StructType = self
            .kind
            .schema()
            .as_ref()
            .try_into_kernel()
            .context(what)?;
        let existing = current.snapshot().context(what)?.schema();
        let missing: Vec<_> = wanted
            .fields()
            .filter(|field| existing.field(field.name()).is_none())
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let added = missing.len();
        *current = current
            .clone()
            .add_columns()
            .with_fields(missing)
            .await
            .context(what)?;
        Ok(added)
    }

    /// A writer of data files for this table, as runql lays them out; nothing
    /// it writes is visible until its files are committed.
    async fn file_writer(&self) -> Result<RecordBatchWriter> {
        let table = self.table.lock().await;
        file_writer(&table, self.kind)
    }

    /// Writes `batches` as data files without committing them, returning their Add actions.
    pub async fn stage(&self, batches: Vec<RecordBatch>) -> Result<Vec<Add>> {
        let what = || format!("writing data files for table {}", self.kind.name());
        let mut writer = self.file_writer().await?;
        for batch in batches {
            writer.write(batch).await.context(what)?;
        }
        writer.flush().await.context(what)
    }

    /// A file writer on a task of its own, so encoding Parquet overlaps
    /// reading and checking the rows that follow.
    pub async fn background_files(&self) -> Result<BackgroundFiles> {
        let mut writer = self.file_writer().await?;
        let kind = self.kind;
        let (sender, mut rows) = tokio::sync::mpsc::channel::<RecordBatch>(2);
        let task = tokio::spawn(async move {
            let what = || format!("writing data files for table {}", kind.name());
            while let Some(batch) = rows.recv().await {
                if let Err(error) = writer.write(batch).await {
                    writer.reset();
                    return Err(RunqlError::internal(what(), error));
                }
            }
            writer.flush().await.context(what)
        });
        Ok(BackgroundFiles { sender, task })
    }

    /// Appends `batches` in one commit (shared with concurrent callers).
    /// The write is durable when this returns: the Delta commit is in the store.
    pub async fn append(&self, batches: Vec<RecordBatch>) -> Result<i64> {
        let adds = self.stage(batches).await?;
        self.commit_adds(adds, None).await
    }

    /// Commits staged files, optionally with an application transaction id, in a
    /// commit shared with whoever else is waiting. Returns the committed version.
    pub async fn commit_adds(
        &self,
        adds: Vec<Add>,
        app_transaction: Option<Transaction>,
    ) -> Result<i64> {
        let (done, outcome) = oneshot::channel();
        self.pending.lock().push(PendingAppend {
            adds,
            app_transaction,
            done,
        });
        {
            let mut table = self.table.lock().await;
            let group = std::mem::take(&mut *self.pending.lock());
            if !group.is_empty() {
                let mut actions = Vec::new();
                let mut waiters = Vec::new();
                for append in group {
                    actions.extend(append.adds.into_iter().map(Action::Add));
                    actions.extend(append.app_transaction.map(Action::Txn));
                    waiters.push(append.done);
                }
                let operation = DeltaOperation::Write {
                    mode: SaveMode::Append,
                    partition_by: None,
                    predicate: None,
                };
                let result = self.commit(&mut table, actions, operation).await;
                for waiter in waiters {
                    let _ = waiter.send(result.clone());
                }
            }
        }
        outcome
            .await
            .map_err(|e| RunqlError::internal("waiting for a group commit", e))?
    }

    /// Commits `actions` on top of the table's state and adopts the new state.
    async fn commit(
        &self,
        table: &mut DeltaTable,
        actions: Vec<Action>,
        operation: DeltaOperation,
    ) -> Result<i64> {
        let what = || format!("committing to table {}", self.kind.name());
        let snapshot = table.snapshot().context(what)?.clone();
        let properties = CommitProperties::default()
            .with_max_retries(MAX_COMMIT_RETRIES)
            .with_cleanup_expired_logs(Some(false));
        let finalized = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(&snapshot), table.log_store(), operation)
            .await
            .context(what)?;
        let version = finalized.version() as i64;
        table.state = Some(finalized.snapshot());
        Ok(version)
    }

    /// The table as of now (new commits by any process included), for reading.
    pub async fn latest(&self) -> Result<DeltaTable> {
        let mut table = self.table.lock().await;
        table
            .update_incremental(None)
            .await
            .context(|| format!("refreshing table {}", self.kind.name()))?;
        Ok(table.clone())
    }

    /// The latest committed version, after catching up with every process's commits.
    pub async fn refreshed_version(&self) -> Result<u64> {
        let table = self.latest().await?;
        // Every opened table is loaded; version 0 would only make callers re-check sooner.
        Ok(table.version().unwrap_or(0))
    }

    /// Whether anyone (this process or another) has committed after `version`:
    /// one read of the next commit file, which Delta writes exactly once.
    pub async fn has_commit_after(&self, version: u64) -> Result<bool> {
        let next = self
            .log_store
            .read_commit_entry(version + 1)
            .await
            .context(|| format!("probing the log of table {}", self.kind.name()))?;
        Ok(next.is_some())
    }

    /// Data files small enough for [`CompactionScope::SmallFiles`] to fold.
    pub async fn small_file_count(&self) -> Result<usize> {
        let table = self.table.lock().await;
        Ok(table
            .snapshot()
            .context(|| format!("reading table {}", self.kind.name()))?
            .log_data()
            .iter()
            .filter(|file| file.size() < SMALL_FILE_BYTES)
            .count())
    }

    /// Whether an application transaction (a multi-table write) already committed here.
    pub async fn has_transaction(&self, app_id: &str) -> Result<bool> {
        let table = self.latest().await?;
        let state = table
            .snapshot()
            .context(|| format!("reading table {}", self.kind.name()))?;
        let version = state
            .transaction_version(table.log_store().as_ref(), app_id)
            .await
            .context(|| format!("reading transactions of table {}", self.kind.name()))?;
        Ok(version.is_some())
    }

    /// Rewrites the table as its folded state (see `tables/views.sql`), sorted for
    /// file skipping, in one commit that replaces exactly the files it read.
    ///
    /// The commit is an OPTIMIZE (no data change), which runs at snapshot isolation:
    /// rows other writers append meanwhile are in files this commit does not touch,
    /// so they survive. A concurrent compaction of the same files makes one of the
    /// two fail with a conflict, and the table is left as the winner wrote it.
    /// Returns (files before, files after).
    pub async fn compact(&self, fold_sql: &str, scope: CompactionScope) -> Result<(usize, usize)> {
        let what = || format!("compacting table {}", self.kind.name());
        let mut table = self.latest().await?;
        let files: Vec<_> = table
            .snapshot()
            .context(what)?
            .log_data()
            .iter()
            .filter(|file| scope == CompactionScope::All || file.size() < SMALL_FILE_BYTES)
            .collect();
        let nothing_to_fold = match scope {
            // A single file is already folded only if a compaction wrote it: a
            // journal fold writes its rows as they came, duplicates included.
            CompactionScope::All => {
                files.is_empty()
                    || files.len() == 1
                        && self.kind.fold_rule() == FoldRule::Distinct
                        && last_operation(&table).await?.as_deref() == Some("OPTIMIZE")
            }
            CompactionScope::SmallFiles => files.len() <= 1,
        };
        if nothing_to_fold {
            return Ok((files.len(), files.len()));
        }
        let paths: Vec<String> = files.iter().map(|file| file.path().to_string()).collect();
        let mut writer = file_writer(&table, self.kind)?;
        let mut folded = fold_table(&table, &paths, self.kind, fold_sql).await?;
        let schema = self.kind.schema();
        while let Some(batch) = folded.try_next().await.context(what)? {
            // The scan reads strings as views; the table stores plain UTF-8.
            let columns = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| cast(column, field.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .context(what)?;
            let batch = RecordBatch::try_new(schema.clone(), columns).context(what)?;
            if let Err(error) = writer.write(batch).await {
                writer.reset();
                return Err(RunqlError::internal(what(), error));
            }
        }
        let adds = writer.flush().await.context(what)?;
        let files_after = adds.len();
        let mut actions: Vec<Action> = files
            .iter()
            .map(|file| Action::Remove(file.remove_action(false)))
            .collect();
        actions.extend(adds.into_iter().map(|mut add| {
            add.data_change = false;
            Action::Add(add)
        }));
        let operation = DeltaOperation::Optimize {
            predicate: None,
            target_size: 0,
        };
        let mut current = self.table.lock().await;
        self.commit(&mut table, actions, operation).await?;
        *current = table;
        Ok((files.len(), files_after))
    }

    /// Deletes every row whose owner (run or experiment id) is in `owners`.
    /// Returns the number of rows deleted.
    pub async fn delete_owned_by(&self, owners: &[String]) -> Result<usize> {
        if owners.is_empty() {
            return Ok(0);
        }
        let what = || format!("purging rows from table {}", self.kind.name());
        let table = self.latest().await?;
        let list = owners
            .iter()
            .map(|id| format!("'{}'", id.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        let predicate = format!("{} IN ({list})", self.kind.owner_column());
        let (table, metrics) = table
            .delete()
            .with_predicate(predicate)
            .await
            .context(what)?;
        *self.table.lock().await = table;
        Ok(metrics.num_deleted_rows.unwrap_or(0))
    }

    /// Physically deletes data files: at once those that earlier commits
    /// removed (after gc or compaction), and orphans (files no version
    /// references, left by writers or compactions that stopped mid-write)
    /// once older than `orphan_age`. A concurrent writer's files are orphans
    /// until its commit lands, so `orphan_age` must outlast a write.
    /// Returns the number of files deleted.
    pub async fn vacuum(&self, orphan_age: chrono::Duration) -> Result<usize> {
        let what = || format!("vacuuming table {}", self.kind.name());
        let mut deleted = 0;
        for (mode, retention) in [
            (VacuumMode::Lite, chrono::Duration::zero()),
            (VacuumMode::Full, orphan_age),
        ] {
            let table = self.latest().await?;
            let (table, metrics) = table
                .vacuum()
                .with_mode(mode)
                .with_retention_period(retention)
                .with_enforce_retention_duration(false)
                .await
                .context(what)?;
            *self.table.lock().await = table;
            deleted += metrics.files_deleted.len();
        }
        Ok(deleted)
    }

    /// A DataFusion provider over the table as of now.
    pub async fn provider(&self) -> Result<Arc<dyn TableProvider>> {
        let table = self.latest().await?;
        scan_provider(&table).await
    }
}

/// The operation of the table's latest commit, as its log records it.
async fn last_operation(table: &DeltaTable) -> Result<Option<String>> {
    let latest: Vec<_> = table
        .history(Some(1))
        .try_collect()
        .await
        .context(|| "reading the latest commit".to_string())?;
    Ok(latest.into_iter().next().and_then(|info| info.operation))
}

/// How runql scans Delta tables: strings as plain UTF-8 (DataFusion 55's map
/// lookups and some comparisons reject a mix of Utf8 and Utf8View), with row
/// filters pushed into the Parquet reader.
fn scan_settings() -> Arc<SessionState> {
    static SETTINGS: OnceLock<Arc<SessionState>> = OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            let mut config = SessionConfig::new();
            let parquet = &mut config.options_mut().execution.parquet;
            parquet.schema_force_view_types = false;
            parquet.pushdown_filters = true;
            Arc::new(SessionStateBuilder::new().with_config(config).build())
        })
        .clone()
}

pub(crate) async fn scan_provider(table: &DeltaTable) -> Result<Arc<dyn TableProvider>> {
    table
        .table_provider()
        .with_session(scan_settings())
        .await
        .context(|| "building a table scan".to_string())
}

/// Data files being written on a task of their own (see
/// [`ChangeTable::background_files`]); nothing is visible until committed.
pub struct BackgroundFiles {
    sender: tokio::sync::mpsc::Sender<RecordBatch>,
    task: tokio::task::JoinHandle<Result<Vec<Add>>>,
}

impl BackgroundFiles {
    /// Queues rows for writing; waits only while the writer is behind.
    pub async fn write(&self, rows: RecordBatch) -> Result<()> {
        if self.sender.send(rows).await.is_err() {
            // The writer stopped early: `finish` reports why.
            return Err(RunqlError::internal(
                "writing data files",
                "the file writer stopped",
            ));
        }
        Ok(())
    }

    /// Closes the files, returning their Add actions to commit.
    pub async fn finish(self) -> Result<Vec<Add>> {
        drop(self.sender);
        self.task
            .await
            .map_err(|e| RunqlError::internal("writing data files", e))?
    }

    /// Stops writing; files already written stay unreferenced until gc.
    pub fn abort(self) {
        self.task.abort();
    }
}

/// What a compaction folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionScope {
    /// Every file: the whole table becomes sorted files.
    All,
    /// Only files under [`SMALL_FILE_BYTES`], as automatic compaction does,
    /// so many small writes cost a fold of what they wrote, not a rewrite of
    /// the large, already sorted files a load or full compaction left.
    SmallFiles,
}

/// Files under this size count as small for [`CompactionScope::SmallFiles`].
const SMALL_FILE_BYTES: i64 = 16 * 1024 * 1024;

/// Data files of at most this size (compressed), so a big load or compaction
/// leaves several files that queries can skip by their statistics.
const TARGET_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// Rows per Parquet row group: small enough that point queries (one run's
/// history) read a little of a big file.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Memory a compaction may hold before its sort and deduplication spill to
/// disk, so folding a large table stays within a small machine's memory.
const COMPACTION_MEMORY_BYTES: usize = 1024 * 1024 * 1024;

fn file_writer(table: &DeltaTable, kind: RawTable) -> Result<RecordBatchWriter> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    Ok(RecordBatchWriter::for_table(table)
        .context(|| format!("writing data files for table {}", kind.name()))?
        .with_writer_properties(properties)
        .with_target_file_size(TARGET_FILE_BYTES))
}

/// Runs the table's fold view over exactly the given files of the table
/// state, as a stream in the table's sort order.
async fn fold_table(
    table: &DeltaTable,
    files: &[String],
    kind: RawTable,
    fold_sql: &str,
) -> Result<SendableRecordBatchStream> {
    let what = || format!("folding table {}", kind.name());
    // A fair pool: the sort and the aggregates each get their share and
    // spill, where a greedy pool lets one starve another into failing.
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(COMPACTION_MEMORY_BYTES)))
        .build_arc()
        .context(what)?;
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
    ctx.sql("CREATE SCHEMA raw").await.context(what)?;
    let provider = table
        .table_provider()
        .with_session(scan_settings())
        .with_file_paths(files.iter().cloned())
        .await
        .context(what)?;
    ctx.register_table(format!("raw.{}", kind.name()), provider)
        .context(what)?;
    let statements: Vec<&str> = fold_sql
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .collect();
    crate::tables::execute_all(&ctx, &statements).await?;
    let columns: Vec<String> = kind
        .schema()
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let query = format!(
        "SELECT {} FROM fold.{} ORDER BY {}",
        columns.join(", "),
        kind.name(),
        kind.sort_order().join(", ")
    );
    let frame = ctx.sql(&query).await.context(what)?;
    frame.execute_stream().await.context(what)
}
