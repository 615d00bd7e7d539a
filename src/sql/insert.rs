//! `INSERT INTO metrics|params|tags|runs|experiments|experiment_tags …`: the
//! source rows (VALUES, or any SELECT, including one over a CSV or Parquet
//! file) are computed by DataFusion, then written through [`Store::import`],
//! the same validation and write path as the procedures. One bad row fails
//! the statement, naming the row and the rule, and nothing is written.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::sql::sqlparser::ast::{Insert, ObjectName, ObjectNamePart, Statement, TableObject};

use crate::api::read::Rows;
use crate::api::{Import, ImportExperiment, ImportReport, ImportRun};
use crate::error::{Result, RunqlError};
use crate::model::{DEFAULT_EXPERIMENT_ID, Metric, PARENT_RUN_TAG, RunStatus, Tag, now_millis};

/// The tables INSERT writes to, with the columns each accepts (in the order a
/// column-less INSERT fills them) and which of those are required.
const TARGETS: &[(&str, &[&str], &[&str])] = &[
    (
        "metrics",
        &[
            "run_id",
            "key",
            "value",
            "timestamp",
            "step",
            "dataset_name",
            "dataset_digest",
            "model_id",
        ],
        &["run_id", "key", "value"],
    ),
    (
        "params",
        &["run_id", "key", "value"],
        &["run_id", "key", "value"],
    ),
    (
        "tags",
        &["run_id", "key", "value"],
        &["run_id", "key", "value"],
    ),
    (
        "runs",
        &[
            "run_id",
            "run_name",
            "experiment_id",
            "user_id",
            "status",
            "start_time",
            "end_time",
            "parent_run_id",
        ],
        &[],
    ),
    (
        "experiments",
        &[
            "experiment_id",
            "name",
            "artifact_location",
            "creation_time",
        ],
        &["name"],
    ),
    (
        "experiment_tags",
        &["experiment_id", "key", "value"],
        &["experiment_id", "key", "value"],
    ),
];

/// An INSERT into one of runql's tables: where, which columns, and the source query.
#[derive(Debug)]
pub struct InsertPlan {
    pub table: &'static str,
    /// The columns named, or, for an INSERT without a column list, all the
    /// table's insertable columns, of which the source fills the first ones.
    pub columns: Vec<String>,
    pub named_columns: bool,
    pub source_sql: String,
}

fn last_name(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident.value.to_ascii_lowercase()),
        ObjectNamePart::Function(_) => None,
    }
}

/// Recognises an INSERT into a runql table; other statements are not ours.
pub fn plan(statement: &Statement) -> Result<Option<InsertPlan>> {
    let Statement::Insert(Insert {
        table: TableObject::TableName(name),
        columns,
        source,
        ..
    }) = statement
    else {
        return Ok(None);
    };
    // Only unqualified or public names: raw.* and other catalogs belong to DataFusion.
    let qualified_elsewhere = name.0.len() > 1
        && !matches!(name.0.first(), Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("public"));
    let Some(table) = last_name(name).filter(|_| !qualified_elsewhere) else {
        return Ok(None);
    };
    let Some((table, accepted, _)) = TARGETS.iter().find(|(t, _, _)| *t == table) else {
        if crate::tables::USER_TABLES.contains(&table.as_str()) {
            return Err(RunqlError::invalid(format!(
                "{table} is derived and cannot be inserted into; insert into one of {}",
                TARGETS.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
            )));
        }
        return Ok(None);
    };
    let source = source.as_ref().ok_or_else(|| {
        RunqlError::invalid(format!("INSERT INTO {table} needs VALUES or a SELECT"))
    })?;
    let named_columns = !columns.is_empty();
    let columns: Vec<String> = if columns.is_empty() {
        accepted.iter().map(|c| c.to_string()).collect()
    } else {
        columns.iter().filter_map(last_name).collect()
    };
    for column in &columns {
        if !accepted.contains(&column.as_str()) {
            return Err(RunqlError::invalid(format!(
                "{table} has no insertable column '{column}'; it accepts {}",
                accepted.join(", ")
            )));
        }
    }
    Ok(Some(InsertPlan {
        table,
        columns,
        named_columns,
        source_sql: source.to_string(),
    }))
}

/// The source rows, renamed to the INSERT's column list.
struct Source<'a> {
    table: &'static str,
    rows: Rows<'a>,
    columns: &'a [String],
    count: usize,
}

impl Source<'_> {
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        match self.column(name) {
            Some(i) => self.rows.strings_at(i),
            None => Ok(vec![None; self.count]),
        }
    }

    fn required_strings(&self, name: &str) -> Result<Vec<String>> {
        self.strings(name)?
            .into_iter()
            .enumerate()
            .map(|(row, value)| {
                value.ok_or_else(|| {
                    RunqlError::invalid(format!(
                        "{} row {}: {name} must not be NULL",
                        self.table,
                        row + 1
                    ))
                })
            })
            .collect()
    }

    fn ints(&self, name: &str) -> Result<Vec<Option<i64>>> {
        match self.column(name) {
            Some(i) => self.rows.ints_at(i),
            None => Ok(vec![None; self.count]),
        }
    }

    fn millis(&self, name: &str) -> Result<Vec<Option<i64>>> {
        match self.column(name) {
            Some(i) => self.rows.millis_at(i),
            None => Ok(vec![None; self.count]),
        }
    }

    fn floats(&self, name: &str) -> Result<Vec<Option<f64>>> {
        match self.column(name) {
            Some(i) => self.rows.floats_at(i),
            None => Ok(vec![None; self.count]),
        }
    }
}

/// Turns the source rows into an import for the target table.
pub fn to_import(plan: &InsertPlan, batches: &[RecordBatch]) -> Result<Import> {
    let rows = Rows::new(batches);
    let count = rows.len();
    let source_columns = batches
        .first()
        .map_or(plan.columns.len(), |b| b.num_columns());
    let fits = if plan.named_columns {
        source_columns == plan.columns.len()
    } else {
        source_columns <= plan.columns.len()
    };
    if !fits {
        return Err(RunqlError::invalid(format!(
            "INSERT INTO {} has {} columns to fill but the source has {source_columns}",
            plan.table,
            plan.columns.len(),
        )));
    }
    let source = Source {
        table: plan.table,
        rows,
        columns: &plan.columns[..source_columns.min(plan.columns.len())],
        count,
    };
    let mut import = Import::default();
    let key_values = |source: &Source| -> Result<Vec<(String, Tag)>> {
        let owner = if source.table == "experiment_tags" {
            "experiment_id"
        } else {
            "run_id"
        };
        let owners = source.required_strings(owner)?;
        let keys = source.required_strings("key")?;
        let values = source.required_strings("value")?;
        Ok(owners
            .into_iter()
            .zip(keys)
            .zip(values)
            .map(|((owner, key), value)| (owner, Tag::new(key, value)))
            .collect())
    };
    match plan.table {
        "params" => import.params = key_values(&source)?,
        "tags" => import.tags = key_values(&source)?,
        "experiment_tags" => import.experiment_tags = key_values(&source)?,
        "metrics" => {
            let run_ids = source.required_strings("run_id")?;
            let keys = source.required_strings("key")?;
            let values = source.floats("value")?;
            let (times, steps) = (source.millis("timestamp")?, source.ints("step")?);
            let (names, digests, models) = (
                source.strings("dataset_name")?,
                source.strings("dataset_digest")?,
                source.strings("model_id")?,
            );
            let now = now_millis();
            for (row, (run_id, key)) in run_ids.into_iter().zip(keys).enumerate() {
                let value = values[row].ok_or_else(|| {
                    RunqlError::invalid(format!("metrics row {}: value must not be NULL", row + 1))
                })?;
                import.metrics.push((
                    run_id,
                    Metric {
                        key,
                        value,
                        timestamp: times[row].unwrap_or(now),
                        step: steps[row].unwrap_or(0),
                        dataset_name: names[row].clone(),
                        dataset_digest: digests[row].clone(),
                        model_id: models[row].clone(),
                    },
                ));
            }
        }
        "runs" => {
            let ids = source.strings("run_id")?;
            let (names, experiments, users) = (
                source.strings("run_name")?,
                source.strings("experiment_id")?,
                source.strings("user_id")?,
            );
            let (statuses, starts, ends) = (
                source.strings("status")?,
                source.millis("start_time")?,
                source.millis("end_time")?,
            );
            let parents = source.strings("parent_run_id")?;
            for row in 0..count {
                let run_id = ids[row]
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                let status = statuses[row]
                    .as_deref()
                    .map(str::parse::<RunStatus>)
                    .transpose()
                    .map_err(|e| RunqlError::invalid(format!("runs row {}: {e}", row + 1)))?
                    .unwrap_or(RunStatus::Running);
                if let Some(parent) = &parents[row] {
                    import
                        .tags
                        .push((run_id.clone(), Tag::new(PARENT_RUN_TAG, parent.clone())));
                }
                import.runs.push(ImportRun {
                    run_id,
                    experiment_id: experiments[row]
                        .clone()
                        .unwrap_or_else(|| DEFAULT_EXPERIMENT_ID.into()),
                    run_name: names[row].clone(),
                    user_id: users[row].clone(),
                    status,
                    start_time: Some(starts[row].unwrap_or_else(now_millis)),
                    end_time: ends[row],
                });
            }
        }
        "experiments" => {
            let ids = source.strings("experiment_id")?;
            let names = source.required_strings("name")?;
            let (locations, created) = (
                source.strings("artifact_location")?,
                source.millis("creation_time")?,
            );
            for (row, name) in names.into_iter().enumerate() {
                import.experiments.push(ImportExperiment {
                    experiment_id: ids[row]
                        .clone()
                        .unwrap_or_else(crate::api::experiments::new_experiment_id),
                    name,
                    artifact_location: locations[row].clone(),
                    creation_time: created[row],
                });
            }
        }
        other => {
            return Err(RunqlError::internal(
                "routing an INSERT",
                format!("no import for {other}"),
            ));
        }
    }
    Ok(import)
}

/// How many rows of the target table an INSERT wrote, for its result.
pub fn written(table: &str, report: &ImportReport) -> usize {
    match table {
        "experiments" => report.experiments,
        "runs" => report.runs,
        "params" => report.params,
        "tags" => report.tags,
        "metrics" => report.metrics,
        _ => report.experiment_tags,
    }
}
