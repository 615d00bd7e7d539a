//! `EXEC store.compact`: fold change rows and merge small files in every table.

use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "store.compact",
    summary: r#"Compact every table; no query result changes."#,
    params: &[],
    example: r#"EXEC store.compact;"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, _args: Args) -> Result<RecordBatch> {
    let report = store.compact().await?;
    result::table(vec![
        Column::text("table", report.tables.iter().map(|t| Some(t.0.clone()))),
        Column::int(
            "files_before",
            report.tables.iter().map(|t| Some(t.1 as i64)),
        ),
        Column::int(
            "files_after",
            report.tables.iter().map(|t| Some(t.2 as i64)),
        ),
    ])
}
