-- metric_history.sql: one run's val_loss over steps, and over time since the run
-- started (the two modes of a training curve).
-- Run after quickstart.sql: runql -f queries/metric_history.sql

SET @run_id = (SELECT run_id FROM runs WHERE run_name = 'adam-lr0.01' LIMIT 1);

SELECT step, value AS val_loss
FROM metrics
WHERE run_id = @run_id AND key = 'val_loss'
ORDER BY step;

SELECT m.run_id, m.step, m.value,
       m.timestamp - min(m.timestamp) OVER (PARTITION BY m.run_id) AS since_first_value
FROM metrics m
WHERE m.key = 'val_loss'
ORDER BY m.run_id, m.step;
