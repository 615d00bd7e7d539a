//! `EXEC store.flush`: write every buffered row now, and fold the write
//! journal into the Delta tables.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "store.flush",
    summary: r#"Write the rows buffered logging holds (returns how many), and fold the write journal into the Delta tables so other engines see every write."#,
    params: &[],
    example: r#"EXEC store.flush;"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, _args: Args) -> Result<RecordBatch> {
    let rows = store.flush().await?;
    result::count("rows_flushed", rows)
}
