//! rustyline's view of runql: when input is complete, and what Tab offers.
//!
//! Input runs once its last statement ends with `;` (meta commands run at
//! Enter). Tab completes, by what comes before the word:
//! - after `EXEC`, procedure names;
//! - an `@word` inside an `EXEC`, that procedure's argument names;
//! - after `\d`/`.schema`, table names, and after `\h`, procedure names;
//! - after `key = '`, the store's metric, param or tag keys, by the table the
//!   input names (all three when it names none), from a [`KeyCache`];
//! - otherwise keywords, table names, and the columns of tables the input names.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use runql::procedures;
use runql::sql::Session;
use runql::sql::script::is_complete;
use runql::tables::USER_TABLES;

use super::command::{Command, HELP};

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "FULL",
    "CROSS",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "UNION",
    "ALL",
    "WITH",
    "ASC",
    "DESC",
    "INSERT",
    "INTO",
    "VALUES",
    "EXEC",
    "SET",
    "EXPLAIN",
    "ANALYZE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "COUNT",
    "MIN",
    "MAX",
    "AVG",
    "SUM",
    "OVER",
    "PARTITION",
    "CAST",
    "TRUE",
    "FALSE",
];

/// The tables whose `key` column completes, in the order [`KeyCache`] holds them.
const KEYED_TABLES: [&str; 3] = ["metrics", "params", "tags"];

/// Where each table's keys are read from. Metric and param keys are the same in
/// the raw change tables, which skip the views' folding (the metrics view is a
/// DISTINCT over every value); tag keys come from the view, which drops deleted tags.
const KEY_SOURCES: [&str; 3] = ["raw.metrics", "raw.params", "tags"];

/// How long read keys stay fresh when nothing in the session wrote.
pub const KEYS_FRESH_FOR: Duration = Duration::from_secs(30);

/// The distinct metric, param and tag keys of the store, read for completion
/// and kept for the session; reread after a write or once stale.
#[derive(Default)]
pub struct KeyCache {
    keys: [Vec<String>; 3],
    read_at: Option<Instant>,
}

/// A [`KeyCache`] shared by the REPL loop, which refreshes it, and the helper.
pub type SharedKeys = Arc<RwLock<KeyCache>>;

impl KeyCache {
    /// Whether the keys should be read again.
    pub fn stale(&self) -> bool {
        self.read_at.is_none_or(|at| at.elapsed() > KEYS_FRESH_FOR)
    }

    /// Marks the keys for rereading, after a statement that may have written.
    pub fn invalidate(&mut self) {
        self.read_at = None;
    }

    /// Reads every table's distinct keys; a table that fails to read keeps none.
    pub async fn read(session: &Session) -> KeyCache {
        let mut keys: [Vec<String>; 3] = Default::default();
        for (slot, source) in keys.iter_mut().zip(KEY_SOURCES) {
            let query = format!("SELECT DISTINCT key FROM {source} ORDER BY key");
            if let Ok(outputs) = session.run_script(&query).await {
                for output in outputs {
                    for batch in &output.batches {
                        if let Ok(strings) = datafusion::arrow::compute::cast(
                            batch.column(0),
                            &datafusion::arrow::datatypes::DataType::Utf8,
                        ) && let Some(strings) = strings
                            .as_any()
                            .downcast_ref::<datafusion::arrow::array::StringArray>(
                        ) {
                            slot.extend(strings.iter().flatten().map(str::to_string));
                        }
                    }
                }
            }
        }
        KeyCache {
            keys,
            read_at: Some(Instant::now()),
        }
    }

    /// Keys of the tables `input` names (`latest_metrics` counts as metrics),
    /// or of all three when it names none.
    fn for_input(&self, input: &str) -> Vec<String> {
        let words: Vec<String> = input
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map(str::to_ascii_lowercase)
            .collect();
        let named: Vec<usize> = (0..3)
            .filter(|&i| {
                words
                    .iter()
                    .any(|w| w == KEYED_TABLES[i] || (i == 0 && w == "latest_metrics"))
            })
            .collect();
        let tables = if named.is_empty() {
            vec![0, 1, 2]
        } else {
            named
        };
        tables
            .into_iter()
            .flat_map(|i| self.keys[i].iter().cloned())
            .collect()
    }
}

/// Where an open string after `key =` starts, when the cursor is inside one.
fn key_string_start(before: &str) -> Option<usize> {
    if before.matches('\'').count().is_multiple_of(2) {
        return None;
    }
    let quote = before.rfind('\'')?;
    let head = before[..quote].trim_end().strip_suffix('=')?.trim_end();
    let lower = head.to_ascii_lowercase();
    let stem = lower.strip_suffix("key")?;
    let boundary = stem
        .chars()
        .last()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    boundary.then_some(quote + 1)
}

/// Completion and validation for the REPL; knows every table's columns.
pub struct ReplHelper {
    columns: BTreeMap<String, Vec<String>>,
    keys: SharedKeys,
}

impl ReplHelper {
    /// `columns`: each user table's column names, read once when the REPL
    /// starts; `keys`: the store's keys, which the REPL loop keeps fresh.
    pub fn new(columns: BTreeMap<String, Vec<String>>, keys: SharedKeys) -> Self {
        ReplHelper { columns, keys }
    }

    /// Where the word before the cursor starts, and what could replace it.
    pub fn candidates(&self, before: &str) -> (usize, Vec<String>) {
        if let Some(start) = key_string_start(before) {
            let typed = &before[start..];
            let mut found: Vec<String> = self
                .keys
                .read()
                .for_input(before)
                .into_iter()
                .filter(|k| k.starts_with(typed))
                .collect();
            found.sort();
            found.dedup();
            return (start, found);
        }
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '\\')))
            .map_or(0, |i| {
                i + before[i..].chars().next().map_or(1, char::len_utf8)
            });
        let word = &before[start..];
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let previous = words.last().map(|w| w.to_ascii_lowercase());
        let first = words.first().map(|w| w.to_ascii_lowercase());

        let found: Vec<String> = if start == 0 && Command::is_command(word) {
            HELP.iter()
                .flat_map(|(psql, sqlite, _)| [psql, sqlite])
                .map(|spelling| spelling.split(' ').next().unwrap_or_default().to_string())
                .collect()
        } else if matches!(first.as_deref(), Some("\\d" | ".schema")) {
            USER_TABLES.iter().map(|t| t.to_string()).collect()
        } else if matches!(first.as_deref(), Some("\\h" | ".help"))
            || previous.as_deref() == Some("exec")
        {
            procedure_names()
        } else if word.starts_with('@') {
            self.exec_procedure(before)
                .map(|p| {
                    p.params
                        .iter()
                        .map(|param| format!("@{}=", param.name))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            let lower_input = before.to_ascii_lowercase();
            let named: Vec<&String> = self
                .columns
                .keys()
                .filter(|table| {
                    lower_input
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|w| w == table.as_str())
                })
                .collect();
            let lowercase = word.chars().next().is_some_and(char::is_lowercase);
            KEYWORDS
                .iter()
                .map(|k| {
                    if lowercase {
                        k.to_ascii_lowercase()
                    } else {
                        k.to_string()
                    }
                })
                .chain(USER_TABLES.iter().map(|t| t.to_string()))
                .chain(
                    named
                        .into_iter()
                        .flat_map(|t| self.columns[t].iter().cloned()),
                )
                .collect()
        };
        let lowered = word.to_ascii_lowercase();
        let mut matching: Vec<String> = found
            .into_iter()
            .filter(|c| c.to_ascii_lowercase().starts_with(&lowered))
            .collect();
        matching.sort();
        matching.dedup();
        (start, matching)
    }

    /// The procedure named by the last `EXEC` before the cursor.
    fn exec_procedure(&self, before: &str) -> Option<&'static procedures::Procedure> {
        let words: Vec<&str> = before.split_whitespace().collect();
        let at = words.iter().rposition(|w| w.eq_ignore_ascii_case("exec"))?;
        procedures::find(words.get(at + 1)?).ok()
    }
}

fn procedure_names() -> Vec<String> {
    procedures::ALL.iter().map(|p| p.name.to_string()).collect()
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = self.candidates(&line[..pos]);
        let pairs = found
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if Command::is_command(input) || is_complete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ReplHelper {
        let mut columns = BTreeMap::new();
        columns.insert(
            "runs".to_string(),
            vec!["run_id".to_string(), "run_name".to_string()],
        );
        columns.insert(
            "metrics".to_string(),
            vec!["key".to_string(), "value".to_string()],
        );
        let keys = KeyCache {
            keys: [
                vec!["loss".to_string(), "lr_decay".to_string()],
                vec!["lr".to_string()],
                vec!["mlflow.user".to_string()],
            ],
            read_at: Some(Instant::now()),
        };
        ReplHelper::new(columns, Arc::new(RwLock::new(keys)))
    }

    #[test]
    fn completes_by_context() {
        let h = helper();
        assert_eq!(
            h.candidates("SELECT * FROM late"),
            (14, vec!["latest_metrics".to_string()])
        );
        assert_eq!(h.candidates("sel"), (0, vec!["select".to_string()]));
        assert_eq!(h.candidates("SELECT run_n").1, Vec::<String>::new());
        assert_eq!(
            h.candidates("SELECT * FROM runs WHERE run_n").1,
            vec!["run_name".to_string()]
        );
        assert_eq!(
            h.candidates("EXEC runs.log_me").1,
            vec!["runs.log_metric".to_string()]
        );
        assert_eq!(
            h.candidates("EXEC runs.log_metric @run_id='x' @st").1,
            vec!["@step=".to_string()]
        );
        assert_eq!(h.candidates(".sch").1, vec![".schema".to_string()]);
        assert_eq!(h.candidates("\\d par").1, vec!["params".to_string()]);
    }

    #[test]
    fn completes_keys_inside_key_strings_by_table() {
        let h = helper();
        let keys = |input: &str| h.candidates(input).1;
        assert_eq!(
            h.candidates("SELECT * FROM metrics WHERE key = 'l"),
            (35, vec!["loss".to_string(), "lr_decay".to_string()])
        );
        assert_eq!(
            keys("SELECT * FROM params WHERE key='l"),
            vec!["lr".to_string()]
        );
        assert_eq!(
            keys("SELECT * FROM latest_metrics m WHERE m.key = '"),
            vec!["loss".to_string(), "lr_decay".to_string()]
        );
        assert_eq!(
            keys("SELECT * FROM tags t WHERE t.KEY = 'mlflow."),
            vec!["mlflow.user".to_string()]
        );
        assert!(!keys("SELECT 'l").contains(&"loss".to_string()));
        assert!(!keys("SELECT * WHERE monkey = 'l").contains(&"loss".to_string()));
        assert_eq!(
            keys("SELECT 1 WHERE key = 'l"),
            vec!["loss".to_string(), "lr".to_string(), "lr_decay".to_string()]
        );
    }
}
