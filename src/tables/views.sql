-- runql folding views: the one definition of how change rows become state.
--
-- runql registers these in DataFusion, compaction writes the fold.* views back
-- as the tables' new contents, and other engines (DuckDB, Spark, Trino, Polars) run them
-- over the raw Delta tables registered as raw.<table>.
-- Written in DataFusion's SQL, which DuckDB shares but for one name: the
-- ordered aggregate first_value(x ORDER BY …) is DuckDB's first(x ORDER BY …).
--
-- Ordering: a row with a higher (seq, writer_id) is newer. NULL in a change row
-- means "this row does not set that field"; a NULL tag value is a deletion.
--
-- "The newest row" is first_value(… ORDER BY seq DESC, writer_id DESC)
-- grouped by key; (seq, writer_id) is unique, so there are no ties. A grouped
-- aggregate runs about twice as fast as row_number() over a window with one
-- partition per key, and filters on the grouped columns reach the scan.

CREATE SCHEMA IF NOT EXISTS fold;

-- fold.<table>: what compaction writes back, in the raw schema. Folding any
-- subset of a table's rows this way leaves every view's answer unchanged, even
-- when a slow writer later commits rows stamped earlier than folded ones.

-- Runs and experiments: keep each field's winning row with its own (seq, writer_id),
-- with the fields it did not win nulled, and drop rows that win nothing.
-- Every run row carries its (never changing) experiment_id, so filters on it
-- reach the scan.
CREATE VIEW fold.experiments AS
SELECT experiment_id,
       CASE WHEN row_rank = name_rank THEN name END AS name,
       CASE WHEN row_rank = artifact_location_rank THEN artifact_location END AS artifact_location,
       CASE WHEN row_rank = lifecycle_stage_rank THEN lifecycle_stage END AS lifecycle_stage,
       CASE WHEN row_rank = creation_time_rank THEN creation_time END AS creation_time,
       CASE WHEN row_rank = last_update_time_rank THEN last_update_time END AS last_update_time,
       seq, writer_id
FROM (
  SELECT *,
         min(CASE WHEN name IS NOT NULL THEN row_rank END) OVER (PARTITION BY experiment_id) AS name_rank,
         min(CASE WHEN artifact_location IS NOT NULL THEN row_rank END) OVER (PARTITION BY experiment_id) AS artifact_location_rank,
         min(CASE WHEN lifecycle_stage IS NOT NULL THEN row_rank END) OVER (PARTITION BY experiment_id) AS lifecycle_stage_rank,
         min(CASE WHEN creation_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY experiment_id) AS creation_time_rank,
         min(CASE WHEN last_update_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY experiment_id) AS last_update_time_rank
  FROM (
    SELECT *, row_number() OVER (PARTITION BY experiment_id ORDER BY seq DESC, writer_id DESC) AS row_rank
    FROM raw.experiments
  ) ranked
) winners
WHERE row_rank IN (name_rank, artifact_location_rank, lifecycle_stage_rank, creation_time_rank, last_update_time_rank);

CREATE VIEW fold.experiment_tags AS
SELECT experiment_id, key,
       first_value(value ORDER BY seq DESC, writer_id DESC) AS value,
       max(seq) AS seq,
       first_value(writer_id ORDER BY seq DESC, writer_id DESC) AS writer_id
FROM raw.experiment_tags
GROUP BY experiment_id, key;

CREATE VIEW fold.runs AS
SELECT run_id,
       experiment_id,
       CASE WHEN row_rank = run_name_rank THEN run_name END AS run_name,
       CASE WHEN row_rank = user_id_rank THEN user_id END AS user_id,
       CASE WHEN row_rank = status_rank THEN status END AS status,
       CASE WHEN row_rank = start_time_rank THEN start_time END AS start_time,
       CASE WHEN row_rank = end_time_rank THEN end_time END AS end_time,
       CASE WHEN row_rank = artifact_uri_rank THEN artifact_uri END AS artifact_uri,
       CASE WHEN row_rank = lifecycle_stage_rank THEN lifecycle_stage END AS lifecycle_stage,
       CASE WHEN row_rank = deleted_time_rank THEN deleted_time END AS deleted_time,
       seq, writer_id
FROM (
  SELECT *,
         min(CASE WHEN run_name IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS run_name_rank,
         min(CASE WHEN user_id IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS user_id_rank,
         min(CASE WHEN status IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS status_rank,
         min(CASE WHEN start_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS start_time_rank,
         min(CASE WHEN end_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS end_time_rank,
         min(CASE WHEN artifact_uri IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS artifact_uri_rank,
         min(CASE WHEN lifecycle_stage IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS lifecycle_stage_rank,
         min(CASE WHEN deleted_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY run_id, experiment_id) AS deleted_time_rank
  FROM (
    SELECT *, row_number() OVER (PARTITION BY run_id, experiment_id ORDER BY seq DESC, writer_id DESC) AS row_rank
    FROM raw.runs
  ) ranked
) winners
WHERE row_rank IN (run_name_rank, user_id_rank, status_rank, start_time_rank, end_time_rank, artifact_uri_rank, lifecycle_stage_rank, deleted_time_rank);

CREATE VIEW fold.logged_models AS
SELECT model_id,
       experiment_id,
       CASE WHEN row_rank = name_rank THEN name END AS name,
       CASE WHEN row_rank = artifact_uri_rank THEN artifact_uri END AS artifact_uri,
       CASE WHEN row_rank = status_rank THEN status END AS status,
       CASE WHEN row_rank = status_message_rank THEN status_message END AS status_message,
       CASE WHEN row_rank = model_type_rank THEN model_type END AS model_type,
       CASE WHEN row_rank = source_run_id_rank THEN source_run_id END AS source_run_id,
       CASE WHEN row_rank = lifecycle_stage_rank THEN lifecycle_stage END AS lifecycle_stage,
       CASE WHEN row_rank = creation_time_rank THEN creation_time END AS creation_time,
       CASE WHEN row_rank = last_update_time_rank THEN last_update_time END AS last_update_time,
       seq, writer_id
FROM (
  SELECT *,
         min(CASE WHEN name IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS name_rank,
         min(CASE WHEN artifact_uri IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS artifact_uri_rank,
         min(CASE WHEN status IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS status_rank,
         min(CASE WHEN status_message IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS status_message_rank,
         min(CASE WHEN model_type IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS model_type_rank,
         min(CASE WHEN source_run_id IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS source_run_id_rank,
         min(CASE WHEN lifecycle_stage IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS lifecycle_stage_rank,
         min(CASE WHEN creation_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS creation_time_rank,
         min(CASE WHEN last_update_time IS NOT NULL THEN row_rank END) OVER (PARTITION BY model_id, experiment_id) AS last_update_time_rank
  FROM (
    SELECT *, row_number() OVER (PARTITION BY model_id, experiment_id ORDER BY seq DESC, writer_id DESC) AS row_rank
    FROM raw.logged_models
  ) ranked
) winners
WHERE row_rank IN (name_rank, artifact_uri_rank, status_rank, status_message_rank, model_type_rank,
                   source_run_id_rank, lifecycle_stage_rank, creation_time_rank, last_update_time_rank);

-- A logged model's tags and params: the latest row wins (MLflow lets a model's
-- param be logged again); a NULL value is a deleted tag.
CREATE VIEW fold.logged_model_tags AS
SELECT model_id, key,
       first_value(value ORDER BY seq DESC, writer_id DESC) AS value,
       max(seq) AS seq,
       first_value(writer_id ORDER BY seq DESC, writer_id DESC) AS writer_id
FROM raw.logged_model_tags
GROUP BY model_id, key;

CREATE VIEW fold.logged_model_params AS
SELECT model_id, key,
       first_value(value ORDER BY seq DESC, writer_id DESC) AS value,
       max(seq) AS seq,
       first_value(writer_id ORDER BY seq DESC, writer_id DESC) AS writer_id
FROM raw.logged_model_params
GROUP BY model_id, key;

-- Params are write-once: the earliest row wins.
CREATE VIEW fold.params AS
SELECT run_id, key,
       first_value(value ORDER BY seq, writer_id) AS value,
       min(seq) AS seq,
       first_value(writer_id ORDER BY seq, writer_id) AS writer_id
FROM raw.params
GROUP BY run_id, key;

CREATE VIEW fold.tags AS
SELECT run_id, key,
       first_value(value ORDER BY seq DESC, writer_id DESC) AS value,
       max(seq) AS seq,
       first_value(writer_id ORDER BY seq DESC, writer_id DESC) AS writer_id
FROM raw.tags
GROUP BY run_id, key;

-- Metric values are facts: an exact repeat (a retried batch) is one value.
-- Rows with latest_copy are copies of each write's latest value per run and
-- key (see latest_metrics); folding keeps the latest of them.
CREATE VIEW fold.metrics AS
SELECT DISTINCT run_id, key, value, timestamp, step, dataset_name, dataset_digest, model_id,
       false AS latest_copy
FROM raw.metrics
WHERE latest_copy IS NOT TRUE
UNION ALL
SELECT run_id, key,
       first_value(value ORDER BY step DESC, timestamp DESC, value DESC) AS value,
       first_value(timestamp ORDER BY step DESC, timestamp DESC, value DESC) AS timestamp,
       max(step) AS step,
       first_value(dataset_name ORDER BY step DESC, timestamp DESC, value DESC) AS dataset_name,
       first_value(dataset_digest ORDER BY step DESC, timestamp DESC, value DESC) AS dataset_digest,
       first_value(model_id ORDER BY step DESC, timestamp DESC, value DESC) AS model_id,
       true AS latest_copy
FROM raw.metrics
WHERE latest_copy
GROUP BY run_id, key;

CREATE VIEW fold.inputs AS
SELECT DISTINCT run_id, dataset_name, dataset_digest, source_type, source, schema, profile, context
FROM raw.inputs;

CREATE VIEW fold.model_links AS
SELECT DISTINCT run_id, model_id, direction, step
FROM raw.model_links;

-- The tables users query.

-- Each field of an experiment or run is its latest non-null value.
CREATE VIEW experiments AS
SELECT experiment_id,
       first_value(name ORDER BY seq DESC, writer_id DESC) FILTER (WHERE name IS NOT NULL) AS name,
       first_value(artifact_location ORDER BY seq DESC, writer_id DESC) FILTER (WHERE artifact_location IS NOT NULL) AS artifact_location,
       first_value(lifecycle_stage ORDER BY seq DESC, writer_id DESC) FILTER (WHERE lifecycle_stage IS NOT NULL) AS lifecycle_stage,
       first_value(creation_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE creation_time IS NOT NULL) AS creation_time,
       first_value(last_update_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE last_update_time IS NOT NULL) AS last_update_time
FROM raw.experiments
GROUP BY experiment_id;

CREATE VIEW experiment_tags AS
SELECT experiment_id, key, value
FROM fold.experiment_tags
WHERE value IS NOT NULL;

-- A run's state without its parent: what a search filters and sorts on,
-- which need not fold the tags table for `mlflow.parentRunId`.
-- A run of a deleted experiment is deleted too, as in MLflow, and comes back with it.
CREATE VIEW fold.run_state AS
SELECT r.run_id, r.run_name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time,
       r.artifact_uri,
       CASE WHEN e.lifecycle_stage = 'deleted' THEN 'deleted' ELSE r.lifecycle_stage END AS lifecycle_stage,
       CASE WHEN r.lifecycle_stage = 'deleted' THEN r.deleted_time
            WHEN e.lifecycle_stage = 'deleted' THEN e.last_update_time END AS deleted_time
FROM (
  SELECT run_id,
         experiment_id,
         first_value(run_name ORDER BY seq DESC, writer_id DESC) FILTER (WHERE run_name IS NOT NULL) AS run_name,
         first_value(user_id ORDER BY seq DESC, writer_id DESC) FILTER (WHERE user_id IS NOT NULL) AS user_id,
         first_value(status ORDER BY seq DESC, writer_id DESC) FILTER (WHERE status IS NOT NULL) AS status,
         first_value(start_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE start_time IS NOT NULL) AS start_time,
         first_value(end_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE end_time IS NOT NULL) AS end_time,
         first_value(artifact_uri ORDER BY seq DESC, writer_id DESC) FILTER (WHERE artifact_uri IS NOT NULL) AS artifact_uri,
         first_value(lifecycle_stage ORDER BY seq DESC, writer_id DESC) FILTER (WHERE lifecycle_stage IS NOT NULL) AS lifecycle_stage,
         first_value(deleted_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE deleted_time IS NOT NULL) AS deleted_time
  FROM raw.runs
  GROUP BY run_id, experiment_id
) r
-- The experiment's state folded here rather than read from the `experiments`
-- view: inside a `fold.` view, DuckDB would resolve that name to `fold.experiments`.
LEFT JOIN (
  SELECT experiment_id,
         first_value(lifecycle_stage ORDER BY seq DESC, writer_id DESC) FILTER (WHERE lifecycle_stage IS NOT NULL) AS lifecycle_stage,
         first_value(last_update_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE last_update_time IS NOT NULL) AS last_update_time
  FROM raw.experiments
  GROUP BY experiment_id
) e ON e.experiment_id = r.experiment_id;

CREATE VIEW runs AS
SELECT s.run_id, s.run_name, s.experiment_id, s.user_id, s.status, s.start_time, s.end_time,
       s.artifact_uri, s.lifecycle_stage, parent.value AS parent_run_id, s.deleted_time
FROM fold.run_state s
LEFT JOIN fold.tags parent
       ON parent.run_id = s.run_id AND parent.key = 'mlflow.parentRunId' AND parent.value IS NOT NULL;

CREATE VIEW params AS
SELECT run_id, key, value FROM fold.params;

-- mlflow.runName is kept on the run itself and shown as a tag, as MLflow does.
CREATE VIEW tags AS
SELECT run_id, key, value FROM fold.tags WHERE value IS NOT NULL
UNION ALL
SELECT run_id, 'mlflow.runName' AS key, run_name AS value FROM runs WHERE run_name IS NOT NULL;

CREATE VIEW metrics AS
SELECT DISTINCT run_id, key, value, timestamp, step, dataset_name, dataset_digest, model_id
FROM raw.metrics
WHERE latest_copy IS NOT TRUE;

-- MLflow's rule: the latest value is the max by (step, timestamp, value); NaN ranks highest.
-- Every write also stores a copy of its own latest value per run and key, so
-- the latest of those copies is the latest of all values, found without
-- reading the history.
CREATE VIEW latest_metrics AS
SELECT run_id, key,
       first_value(value ORDER BY step DESC, timestamp DESC, value DESC) AS value,
       first_value(timestamp ORDER BY step DESC, timestamp DESC, value DESC) AS timestamp,
       max(step) AS step
FROM raw.metrics
WHERE latest_copy
GROUP BY run_id, key;

CREATE VIEW inputs AS
SELECT run_id, dataset_name, dataset_digest, source_type, source, schema, profile, context
FROM fold.inputs;

CREATE VIEW model_links AS
SELECT run_id, model_id, direction, step FROM fold.model_links;

-- MLflow 3's logged models: each field its latest non-null value, as runs.
CREATE VIEW logged_models AS
SELECT model_id,
       experiment_id,
       first_value(name ORDER BY seq DESC, writer_id DESC) FILTER (WHERE name IS NOT NULL) AS name,
       first_value(artifact_uri ORDER BY seq DESC, writer_id DESC) FILTER (WHERE artifact_uri IS NOT NULL) AS artifact_uri,
       first_value(status ORDER BY seq DESC, writer_id DESC) FILTER (WHERE status IS NOT NULL) AS status,
       first_value(status_message ORDER BY seq DESC, writer_id DESC) FILTER (WHERE status_message IS NOT NULL) AS status_message,
       first_value(model_type ORDER BY seq DESC, writer_id DESC) FILTER (WHERE model_type IS NOT NULL) AS model_type,
       first_value(source_run_id ORDER BY seq DESC, writer_id DESC) FILTER (WHERE source_run_id IS NOT NULL) AS source_run_id,
       first_value(lifecycle_stage ORDER BY seq DESC, writer_id DESC) FILTER (WHERE lifecycle_stage IS NOT NULL) AS lifecycle_stage,
       first_value(creation_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE creation_time IS NOT NULL) AS creation_time,
       first_value(last_update_time ORDER BY seq DESC, writer_id DESC) FILTER (WHERE last_update_time IS NOT NULL) AS last_update_time
FROM raw.logged_models
GROUP BY model_id, experiment_id;

CREATE VIEW logged_model_tags AS
SELECT model_id, key, value FROM fold.logged_model_tags WHERE value IS NOT NULL;

CREATE VIEW logged_model_params AS
SELECT model_id, key, value FROM fold.logged_model_params WHERE value IS NOT NULL;

-- The metric values logged with a model_id: the model's metrics.
CREATE VIEW logged_model_metrics AS
SELECT model_id, run_id, key, value, timestamp, step, dataset_name, dataset_digest
FROM metrics
WHERE model_id IS NOT NULL;

-- One row per run with params, tags and latest metrics as maps: params['lr'].
-- Entries are in key order, so a map prints the same on every read.
CREATE VIEW runs_wide AS
SELECT r.*, p.params, t.tags, m.metrics
FROM runs r
LEFT JOIN (SELECT run_id, map(array_agg(key ORDER BY key), array_agg(value ORDER BY key)) AS params
           FROM params GROUP BY run_id) p ON p.run_id = r.run_id
LEFT JOIN (SELECT run_id, map(array_agg(key ORDER BY key), array_agg(value ORDER BY key)) AS tags
           FROM tags GROUP BY run_id) t ON t.run_id = r.run_id
LEFT JOIN (SELECT run_id, map(array_agg(key ORDER BY key), array_agg(value ORDER BY key)) AS metrics
           FROM latest_metrics GROUP BY run_id) m ON m.run_id = r.run_id;

-- One row per metric value, param and tag of every run.
CREATE VIEW runs_long AS
SELECT run_id, 'metric' AS kind, key, CAST(value AS VARCHAR) AS value, step, timestamp FROM metrics
UNION ALL
SELECT run_id, 'param' AS kind, key, value, CAST(NULL AS BIGINT) AS step, CAST(NULL AS TIMESTAMP) AS timestamp FROM params
UNION ALL
SELECT run_id, 'tag' AS kind, key, value, CAST(NULL AS BIGINT) AS step, CAST(NULL AS TIMESTAMP) AS timestamp FROM tags;

-- Per run and metric: minimum, maximum, last (the latest value) and how many values.
-- NaN orders above every number, as in sorting (and DuckDB): the maximum is NaN
-- if any value is, the minimum only if all are. Plain min/max would depend on
-- the order rows arrive in, since comparisons with NaN are false.
CREATE VIEW metric_summary AS
SELECT s.run_id, s.key,
       CASE WHEN s.numbers > 0 THEN s.min_number ELSE CAST('NaN' AS DOUBLE) END AS min_value,
       CASE WHEN s.numbers < s.value_count THEN CAST('NaN' AS DOUBLE) ELSE s.max_number END AS max_value,
       l.value AS last_value, s.value_count
FROM (SELECT run_id, key,
             min(CASE WHEN isnan(value) THEN NULL ELSE value END) AS min_number,
             max(CASE WHEN isnan(value) THEN NULL ELSE value END) AS max_number,
             count(CASE WHEN isnan(value) THEN NULL ELSE value END) AS numbers,
             count(*) AS value_count
      FROM metrics GROUP BY run_id, key) s
JOIN latest_metrics l ON l.run_id = s.run_id AND l.key = s.key;
