-- import_csv.sql: bulk-load metric history from a CSV file, matching rows to
-- runs by name. The same rules as logging apply, row by row; a bad row fails
-- the whole INSERT and nothing is written. Re-running it adds nothing: exact
-- repeats of a metric value count once.
-- Run from the repository root, after quickstart.sql: runql -f queries/import_csv.sql

INSERT INTO metrics (run_id, key, value, timestamp, step)
SELECT r.run_id, h.key, h.value, h.timestamp, h.step
FROM 'queries/data/history.csv' h
JOIN runs r ON r.run_name = h.run_name;

SELECT r.run_name, m.step, m.value AS train_loss
FROM metrics m JOIN runs r ON r.run_id = m.run_id
WHERE m.key = 'train_loss'
ORDER BY r.run_name, m.step;
