-- from_mlflow.sql: what mlflow clients logged through `runql serve`, queried while
-- the server runs. Start it with `runql serve`, point Python at it with
-- MLFLOW_TRACKING_URI=http://127.0.0.1:5000, train, then:
--   runql -f queries/from_mlflow.sql

-- Models logged with mlflow.<flavor>.log_model, newest first, with the run that made them.
SELECT m.name AS model, m.status, r.run_name AS source_run, m.artifact_uri, m.creation_time
FROM logged_models m
LEFT JOIN runs r ON r.run_id = m.source_run_id
ORDER BY m.creation_time DESC
LIMIT 20;

-- Datasets the runs trained and evaluated on (mlflow.log_input).
SELECT r.run_name, i.dataset_name, i.context, i.source_type
FROM inputs i JOIN runs r USING (run_id)
ORDER BY r.start_time DESC
LIMIT 20;

-- Every run's latest metrics, newest runs first; nested runs name their parent.
SELECT e.name AS experiment, r.run_name, r.status, r.user_id,
       parent.run_name AS parent_run, l.key, l.value, l.step
FROM runs r
JOIN experiments e USING (experiment_id)
JOIN latest_metrics l USING (run_id)
LEFT JOIN runs parent ON parent.run_id = r.parent_run_id
ORDER BY r.start_time DESC, r.run_name, l.key
LIMIT 50;
