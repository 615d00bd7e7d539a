use runql::Store;
use runql::model::Metric;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let dir = Box::leak(Box::new(dir));
    eprintln!("DIR {}", dir.path().display());
    let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
    let exp = store.create_experiment("e1", None, &[]).await.unwrap();
    let run = store
        .create_run(runql::api::CreateRun {
            experiment_id: Some(exp.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = run.info.run_id.clone();
    store
        .log_metric(&id, Metric::new("loss", 0.5, 1000, 1))
        .await
        .unwrap();
    store.log_param(&id, "lr", "0.1").await.unwrap();
    store.set_tag(&id, "t", "v").await.unwrap();
    let got = store.get_run(&id).await.unwrap();
    println!("{got:#?}");
    store.compact().await.unwrap();
    let got2 = store.get_run(&id).await.unwrap();
    assert_eq!(got, got2);
}
