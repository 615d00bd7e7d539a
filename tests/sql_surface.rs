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
