//! The statements the benchmark runs: the load from the CSVs, and the queries,
//! whose SQL text DuckDB runs unchanged over its own `metrics`, `params` and
//! `latest_metrics` views of the Parquet export.

use std::path::Path;

/// A CSV column: its name and the SQL type it is read as.
pub(crate) type Column = (&'static str, &'static str);

const KEY_VALUE: &[Column] = &[
    ("run_id", "VARCHAR"),
    ("key", "VARCHAR"),
    ("value", "VARCHAR"),
];

/// The tables loaded from the CSVs, in dependency order (runs need their
/// experiment, params/tags/metrics their run), with the CSV's columns. Types
/// are explicit in both systems, so ids stay text and timestamps stay epoch
/// milliseconds.
pub(crate) const TABLES: &[(&str, &[Column])] = &[
    (
        "experiments",
        &[("experiment_id", "VARCHAR"), ("name", "VARCHAR")],
    ),
    (
        "runs",
        &[
            ("run_id", "VARCHAR"),
            ("experiment_id", "VARCHAR"),
            ("run_name", "VARCHAR"),
            ("status", "VARCHAR"),
            ("start_time", "BIGINT"),
            ("end_time", "BIGINT"),
            ("user_id", "VARCHAR"),
        ],
    ),
    ("params", KEY_VALUE),
    ("tags", KEY_VALUE),
    (
        METRICS,
        &[
            ("run_id", "VARCHAR"),
            ("key", "VARCHAR"),
            ("value", "DOUBLE"),
            ("timestamp", "BIGINT"),
            ("step", "BIGINT"),
        ],
    ),
];

/// The figure-1 table: its INSERT is the one whose rate is reported.
pub(crate) const METRICS: &str = "metrics";

/// `CREATE EXTERNAL TABLE csv_<table>` over the generator's CSV. Names are
/// quoted: DataFusion's parser otherwise reads `key` as a keyword there.
pub(crate) fn external_table(data_dir: &Path, table: &str, columns: &[Column]) -> String {
    let columns: Vec<String> = columns
        .iter()
        .map(|(name, sql_type)| format!("\"{name}\" {sql_type}"))
        .collect();
    format!(
        "CREATE EXTERNAL TABLE csv_{table} ({}) STORED AS CSV LOCATION '{}' \
         OPTIONS ('format.has_header' 'true')",
        columns.join(", "),
        data_dir.join(format!("{table}.csv")).display()
    )
}

/// `INSERT INTO <table> (…) SELECT … FROM csv_<table>`, naming the columns in CSV order.
pub(crate) fn insert_from_csv(table: &str, columns: &[Column]) -> String {
    let names: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    let names = names.join(", ");
    format!("INSERT INTO {table} ({names}) SELECT {names} FROM csv_{table}")
}

/// The tables and column types as the DuckDB script takes them, in load order;
/// columns as `[name, type]` pairs, since a JSON object would lose their order.
pub(crate) fn tables_json() -> serde_json::Value {
    TABLES
        .iter()
        .map(|(table, columns)| serde_json::json!({ "name": table, "columns": columns }))
        .collect()
}

/// The measured queries. Q1 is asked twice: as SQL and through `runs.search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Query {
    Q1Sql,
    Q1Search,
    Q2,
    Q3,
}

impl Query {
    pub(crate) const ALL: [Query; 4] = [Query::Q1Sql, Query::Q1Search, Query::Q2, Query::Q3];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Query::Q1Sql => "Q1 SQL (latest val_loss < 0.5, adam, top 100)",
            Query::Q1Search => "Q1 as EXEC runs.search",
            Query::Q2 => "Q2 one run's val_loss history",
            Query::Q3 => "Q3 best latest val_loss per optimizer",
        }
    }

    /// The name of DuckDB's equivalent in the spec: a search is Q1's SQL there.
    pub(crate) fn baseline(self) -> &'static str {
        match self {
            Query::Q1Sql | Query::Q1Search => "q1",
            Query::Q2 => "q2",
            Query::Q3 => "q3",
        }
    }
}

/// The query text for one store: Q1's search names every experiment, Q2 one run.
#[derive(Debug, Clone)]
pub(crate) struct Queries {
    /// Experiments `runs.search` covers: all of them.
    pub experiment_ids: Vec<String>,
    /// The run whose history Q2 reads: one from the middle of the dataset.
    pub history_run: String,
}

impl Queries {
    pub(crate) fn sql(&self, query: Query) -> String {
        match query {
            Query::Q1Sql => "SELECT l.run_id, l.value AS val_loss FROM latest_metrics l \
                 JOIN params p ON p.run_id = l.run_id AND p.key = 'optimizer' \
                 WHERE l.key = 'val_loss' AND l.value < 0.5 AND p.value = 'adam' \
                 ORDER BY l.value, l.run_id LIMIT 100"
                .to_string(),
            Query::Q1Search => format!(
                r#"EXEC runs.search @experiment_ids='{}' @filter="metrics.val_loss < 0.5 and params.optimizer = 'adam'" @order_by='["metrics.val_loss ASC"]' @max_results=100"#,
                serde_json::Value::from(self.experiment_ids.clone())
            ),
            Query::Q2 => format!(
                "SELECT step, timestamp, value FROM metrics \
                 WHERE run_id = '{}' AND key = 'val_loss' ORDER BY step",
                self.history_run
            ),
            Query::Q3 => "SELECT p.value AS optimizer, min(l.value) AS best FROM latest_metrics l \
                 JOIN params p ON p.run_id = l.run_id AND p.key = 'optimizer' \
                 WHERE l.key = 'val_loss' GROUP BY p.value ORDER BY optimizer"
                .to_string(),
        }
    }

    /// The SQL DuckDB runs, by [`Query::baseline`] name.
    pub(crate) fn baseline_sql(&self) -> serde_json::Map<String, serde_json::Value> {
        [Query::Q1Sql, Query::Q2, Query::Q3]
            .into_iter()
            .map(|query| (query.baseline().to_string(), self.sql(query).into()))
            .collect()
    }
}
