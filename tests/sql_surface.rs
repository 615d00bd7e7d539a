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

/// `INSERT INTO metrics` streams its source batch by batch (DataFusion reads
/// a CSV in batches of 8192 rows): a bad row deep in the file fails the whole
/// load with its row number counted across batches, and nothing is stored;
/// a good load stores every row and the latest value per run and key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_metric_load_is_all_or_nothing_across_batches() {
    use runql::ErrorCode;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store").to_str().unwrap())
        .await
        .unwrap();
    let session = store.session().await.unwrap();
    for run in ["r1", "r2"] {
        session
            .execute(&format!("EXEC runs.create @run_id='{run}'"))
            .await
            .unwrap();
    }
    let rows = 30_000;
    let csv = |bad_row: Option<usize>| {
        let mut text = String::from("run_id,key,value,timestamp,step\n");
        for i in 0..rows {
            let run = if i % 2 == 0 { "r1" } else { "r2" };
            let key = if Some(i + 1) == bad_row {
                "bad key!"
            } else {
                "loss"
            };
            text.push_str(&format!(
                "{run},{key},{},{},{}\n",
                i as f64 / 10.0,
                1000 + i,
                i
            ));
        }
        text
    };
    let path = dir.path().join("history.csv");
    let load = format!(
        "INSERT INTO metrics SELECT run_id, key, value, timestamp, step FROM '{}'",
        path.display()
    );
    let count =
        |output: &runql::sql::Output| pretty_format_batches(&output.batches).unwrap().to_string();

    std::fs::write(&path, csv(Some(25_000))).unwrap();
    let error = session.execute(&load).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{error}");
    assert!(error.to_string().contains("metrics row 25000"), "{error}");
    let stored = session
        .execute("SELECT count(*) AS n FROM raw.metrics")
        .await
        .unwrap();
    assert!(count(&stored).contains("| 0 |"), "{}", count(&stored));

    std::fs::write(&path, csv(None)).unwrap();
    let loaded = session.execute(&load).await.unwrap();
    assert!(
        count(&loaded).contains(&format!("| {rows} ")),
        "{}",
        count(&loaded)
    );
    let latest = session
        .execute("SELECT run_id, value, step FROM latest_metrics ORDER BY run_id")
        .await
        .unwrap();
    let latest = count(&latest);
    assert!(latest.contains("| r1     | 2999.8 | 29998 |"), "{latest}");
    assert!(latest.contains("| r2     | 2999.9 | 29999 |"), "{latest}");
    let history = session
        .execute("SELECT count(*) AS n FROM metrics")
        .await
        .unwrap();
    assert!(
        count(&history).contains(&format!("| {rows} ")),
        "{}",
        count(&history)
    );
}

/// Params inserted into many stored runs at once (read in one scan, not a
/// lookup per run) keep the write-once rule: the same value again is a
/// no-op, a different one fails the INSERT and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_inserted_into_many_stored_runs_stay_write_once() {
    use runql::ErrorCode;

    let store = Store::open("memory://").await.unwrap();
    let session = store.session().await.unwrap();
    let runs = 40;
    for i in 0..runs {
        session
            .execute(&format!("EXEC runs.create @run_id='r{i}'"))
            .await
            .unwrap();
    }
    session
        .execute("EXEC runs.log_param @run_id='r7' @key='lr' @value='0.1'")
        .await
        .unwrap();
    let values = |lr_of_r7: &str| {
        (0..runs)
            .map(|i| {
                let lr = if i == 7 { lr_of_r7 } else { "0.5" };
                format!("('r{i}', 'lr', '{lr}')")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let table = |sql: &str| {
        let session = session.clone();
        let sql = sql.to_string();
        async move {
            let output = session.execute(&sql).await.unwrap();
            pretty_format_batches(&output.batches).unwrap().to_string()
        }
    };

    let error = session
        .execute(&format!("INSERT INTO params VALUES {}", values("0.2")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{error}");
    assert!(error.to_string().contains("write-once"), "{error}");
    assert!(
        table("SELECT count(*) AS n FROM params")
            .await
            .contains("| 1 |"),
        "a refused INSERT wrote params"
    );

    let inserted = table(&format!("INSERT INTO params VALUES {}", values("0.1"))).await;
    assert!(inserted.contains(&format!("| {} ", runs - 1)), "{inserted}");
    let stored =
        table("SELECT value, count(*) AS n FROM params GROUP BY value ORDER BY value").await;
    assert!(stored.contains("| 0.1   | 1  |"), "{stored}");
    assert!(
        stored.contains(&format!("| 0.5   | {} |", runs - 1)),
        "{stored}"
    );
}
