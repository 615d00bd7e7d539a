-- compare_runs.sql: two runs side by side (attributes, params, latest metrics,
-- tags as rows; runs as columns; `differs` marks what changed).
-- Run after quickstart.sql: runql -f queries/compare_runs.sql

SET @run_ids = (SELECT array_agg(r.run_id)
                FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
                WHERE e.name = 'quickstart');

EXEC runs.compare @run_ids=@run_ids;

-- The same two runs: each metric's range, last value and count.
SELECT * FROM metric_summary
WHERE run_id IN (SELECT run_id FROM runs WHERE run_name IN ('adam-lr0.01', 'sgd-lr0.1'))
ORDER BY key, run_id;
