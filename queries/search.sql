-- search.sql: MLflow-style search, with OR, NOT, IN, IS NULL and paging.
-- Run after quickstart.sql: runql -f queries/search.sql

-- MLflow's grammar, as the MLflow client writes it.
EXEC runs.search @filter="metrics.val_loss < 1 and params.optimizer = 'adam'";

-- Beyond MLflow: OR, parentheses, IN lists, numeric params, NULL tests.
EXEC runs.search
  @filter="(params.optimizer IN ('adam', 'adamw') OR params.lr > 0.05) AND metrics.accuracy IS NULL"
  @order_by='["metrics.val_loss ASC"]';

-- One run per page: the token of each page leads to the next.
EXEC runs.search @order_by='["metrics.val_loss"]' @max_results=1;
EXEC runs.search @order_by='["metrics.val_loss"]' @max_results=1 @page_token=@next_page_token;

-- The same search as a table, to join and aggregate.
SELECT params['optimizer'] AS optimizer,
       min(metrics['val_loss']) AS best_val_loss,
       count(*) AS runs
FROM search_runs('metrics.val_loss IS NOT NULL AND NOT status = ''KILLED''')
GROUP BY optimizer
ORDER BY best_val_loss;

-- Experiments by name or tag.
EXEC experiments.search @filter="name LIKE 'quick%' OR tags.team = 'vision'" @order_by='["name"]';
