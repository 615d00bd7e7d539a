//! A DataFusion table over a raw Delta table that reads the latest version at
//! every scan. deltalake's own provider freezes the snapshot it was built with;
//! runql must see commits made after registration, by itself and by others.
//! On a local store, the scan adds the rows still in write journals (see
//! `store/journal.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::union::UnionExec;

use crate::error::Result;
use crate::store::Store;
use crate::store::rows::conform;
use crate::store::schema::RawTable;

#[derive(Clone)]
pub struct LiveTable {
    store: Store,
    kind: RawTable,
    schema: SchemaRef,
}

impl std::fmt::Debug for LiveTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiveTable(raw.{})", self.kind.name())
    }
}

impl LiveTable {
    pub async fn try_new(store: Store, kind: RawTable) -> Result<Self> {
        let schema = store.table(kind).provider().await?.schema();
        Ok(LiveTable {
            store,
            kind,
            schema,
        })
    }
}

#[async_trait]
impl TableProvider for LiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Delta prunes files and row groups by these; DataFusion still re-checks rows.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // A handle reads its own buffered writes.
        self.store
            .flush_for_read(self.kind)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let (provider, journaled) = self
            .store
            .scan_state(self.kind)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let stored = provider.scan(state, projection, filters, limit).await?;
        if journaled.is_empty() {
            return Ok(stored);
        }
        // Filters and limits are re-applied above the scan (pushdown is inexact).
        let schema = stored.schema();
        let journaled = journaled
            .iter()
            .map(|batch| conform(batch, &schema))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let journaled = MemTable::try_new(schema, vec![journaled])?
            .scan(state, None, &[], None)
            .await?;
        UnionExec::try_new(vec![stored, journaled])
    }
}
