-- quickstart.sql: create an experiment and a run, log to it, and query it.
-- Run: runql -f queries/quickstart.sql   (or cargo run --release -- -f queries/quickstart.sql)
--
-- Chaining: the columns of the first row an EXEC returns become session
-- variables, so @experiment_id and @run_id below are the ids just created.

EXEC experiments.create @name='quickstart' @tags='[{"key": "team", "value": "vision"}]';

EXEC runs.create @experiment_id=@experiment_id @run_name='adam-lr0.01';

EXEC runs.log_batch @run_id=@run_id
  @params='[{"key": "optimizer", "value": "adam"}, {"key": "lr", "value": "0.01"}]'
  @metrics='[{"key": "val_loss", "value": 0.9, "timestamp": 1700000000000, "step": 0},
             {"key": "val_loss", "value": 0.5, "timestamp": 1700000001000, "step": 1},
             {"key": "val_loss", "value": 0.3, "timestamp": 1700000002000, "step": 2}]';

EXEC runs.log_metric @run_id=@run_id @key='accuracy' @value=0.91 @step=2;

EXEC runs.update @run_id=@run_id @status='FINISHED' @end_time=1700000003000;

-- A second run to compare against: sgd, which does worse.
EXEC runs.create @experiment_id=@experiment_id @run_name='sgd-lr0.1';

EXEC runs.log_batch @run_id=@run_id
  @params='[{"key": "optimizer", "value": "sgd"}, {"key": "lr", "value": "0.1"}]'
  @metrics='[{"key": "val_loss", "value": 1.1, "timestamp": 1700000000000, "step": 0},
             {"key": "val_loss", "value": 0.8, "timestamp": 1700000001000, "step": 1},
             {"key": "val_loss", "value": 0.7, "timestamp": 1700000002000, "step": 2}]';

EXEC runs.fail @run_id=@run_id;

SELECT key, value, step FROM metrics WHERE run_id = @run_id ORDER BY key, step;

SELECT r.run_name, r.status, p.value AS optimizer, m.value AS val_loss
FROM runs r
JOIN params p ON p.run_id = r.run_id AND p.key = 'optimizer'
JOIN latest_metrics m ON m.run_id = r.run_id AND m.key = 'val_loss'
WHERE r.experiment_id = @experiment_id
ORDER BY val_loss;
