//! rustyline's view of runql: when input is complete, and what Tab offers.
//!
//! Input runs once its last statement ends with `;` (meta commands run at
//! Enter). Tab completes, by what comes before the word:
//! - after `EXEC`, procedure names;
//! - an `@word` inside an `EXEC`, that procedure's argument names;
//! - after `\d`/`.schema`, table names, and after `\h`, procedure names;
//! - otherwise keywords, table names, and the columns of tables the input names.

use std::collections::BTreeMap;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use runql::procedures;
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

/// Completion and validation for the REPL; knows every table's columns.
pub struct ReplHelper {
    columns: BTreeMap<String, Vec<String>>,
}

impl ReplHelper {
    /// `columns`: each user table's column names, read once when the REPL starts.
    pub fn new(columns: BTreeMap<String, Vec<String>>) -> Self {
        ReplHelper { columns }
    }

    /// Where the word before the cursor starts, and what could replace it.
    pub fn candidates(&self, before: &str) -> (usize, Vec<String>) {
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
        ReplHelper::new(columns)
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
}
