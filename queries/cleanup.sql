-- cleanup.sql: soft delete, restore, and permanent removal (gc), on a scratch
-- experiment so the runs of quickstart.sql are left alone. Safe to run again.
-- Run: runql -f queries/cleanup.sql

EXEC experiments.create @name='scratch';
EXEC runs.create @experiment_id=@experiment_id @run_name='scratch-1' @start_time=1600000000000;
EXEC runs.create @experiment_id=@experiment_id @run_name='scratch-2' @start_time=1600000001000;

-- Soft-delete every run of the experiment that started before 2021.
EXEC runs.delete_bulk @experiment_id=@experiment_id @max_timestamp_millis=1609459200000;
SELECT run_name, lifecycle_stage FROM runs WHERE experiment_id = @experiment_id ORDER BY run_name;

-- Undo it: restore runs deleted in the last hour.
SET @an_hour_ago = (SELECT CAST(to_unixtime(now()) * 1000 AS BIGINT) - 3600000);
EXEC runs.restore_bulk @experiment_id=@experiment_id @min_timestamp_millis=@an_hour_ago;
SELECT run_name, lifecycle_stage FROM runs WHERE experiment_id = @experiment_id ORDER BY run_name;

-- Delete the experiment (its runs read as deleted), then remove it for good.
EXEC experiments.delete @experiment_id=@experiment_id;
EXEC store.gc @experiment_ids=@experiment_id;
SELECT count(*) AS scratch_runs_left FROM runs WHERE run_name LIKE 'scratch-%';
