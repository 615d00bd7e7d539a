-- best_per_param.sql: the best (lowest) latest val_loss for each optimizer,
-- the question teams otherwise answer by pulling every run into pandas.
-- Run after quickstart.sql: runql -f queries/best_per_param.sql

SELECT p.value AS optimizer,
       min(m.value) AS best_val_loss,
       count(*) AS runs
FROM latest_metrics m
JOIN params p ON p.run_id = m.run_id AND p.key = 'optimizer'
JOIN runs r ON r.run_id = m.run_id AND r.lifecycle_stage = 'active'
WHERE m.key = 'val_loss'
GROUP BY p.value
ORDER BY best_val_loss;

-- The same from the wide view, where params and metrics are maps.
SELECT run_name, params['optimizer'] AS optimizer, params['lr'] AS lr, metrics['val_loss'] AS val_loss
FROM runs_wide
WHERE metrics['val_loss'] IS NOT NULL
ORDER BY val_loss
LIMIT 10;
