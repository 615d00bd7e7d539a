//! The SQL surface: EXEC procedures, INSERT, chaining, and the example scripts.

use datafusion::arrow::util::pretty::pretty_format_batches;
use runql::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_chains_ids_through_session_variables() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
    let session = store.session().await.unwrap();
    let script = std::fs::read_to_string("queries/quickstart.sql").unwrap();
    let outputs = session.run_script(&script).await.unwrap();
    for output in &outputs {
        println!("{}", pretty_format_batches(&output.batches).unwrap());
    }
    let last = pretty_format_batches(&outputs.last().unwrap().batches)
        .unwrap()
        .to_string();
    assert!(
        last.contains("| adam-lr0.01 | FINISHED | adam      | 0.3      |"),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_statement_is_an_internal_error_and_the_session_goes_on() {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
    use runql::ErrorCode;

    let store = Store::open("memory://").await.unwrap();
    let session = store.session().await.unwrap();
    // Nothing runql ships panics on purpose, so the test brings its own bug:
    // a function that panics when a query evaluates it.
    let boom = create_udf(
        "boom",
        vec![],
        DataType::Int64,
        Volatility::Volatile,
        Arc::new(
            |_: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
                panic!("boom went off")
            },
        ),
    );
    session.context().register_udf(boom);

    let error = session.execute("SELECT boom()").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InternalError, "{error}");
    assert!(error.to_string().contains("boom went off"), "{error}");

    // The session still reads and writes.
    session
        .execute("EXEC runs.create @run_name='after'")
        .await
        .unwrap();
    let names = session.execute("SELECT run_name FROM runs").await.unwrap();
    assert_eq!(names.row_count(), 1);
}
