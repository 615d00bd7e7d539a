//! A procedure's arguments: one JSON object (the `@@json` body with `@name`
//! values merged over it), checked against the procedure's declared
//! parameters, and read through typed getters that name the argument in
//! every error.
//!
//! Getters are lenient where stackql scripts are: numbers may arrive as
//! strings (`"max_runs": "500"`), ids as numbers (`@experiment_id=1`), and
//! lists as JSON text (`@run_ids='["a","b"]'`).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Result, RunqlError};
use crate::model::validation::parse_float;
use crate::model::{ViewType, json};
use crate::procedures::{ParamKind, Procedure};

/// Arguments every procedure accepts and ignores, so stackql scripts port as written.
const IGNORED: &[&str] = &["deployment_name"];

/// Deprecated spellings MLflow still accepts, and what they mean.
const ALIASES: &[(&str, &str)] = &[("run_uuid", "run_id")];

#[derive(Debug, Clone)]
pub struct Args {
    procedure: &'static str,
    values: Map<String, Value>,
}

/// The name an argument means: a deprecated spelling maps to the current one.
pub fn canonical_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, canonical)| canonical)
}

/// Renames deprecated spellings in one source of arguments; where a source has
/// both spellings, the current one wins.
pub fn canonical_names(values: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let (aliased, plain): (Vec<_>, Vec<_>) = values
        .into_iter()
        .partition(|(name, _)| canonical_name(name) != name.as_str());
    for (name, value) in plain.into_iter().chain(aliased) {
        out.entry(canonical_name(&name).to_string())
            .or_insert(value);
    }
    out
}

impl Args {
    /// Checks `values` against the procedure's parameters: unknown names and
    /// missing required ones are errors that list what the procedure accepts.
    pub fn new(procedure: &Procedure, values: Map<String, Value>) -> Result<Self> {
        let mut values = canonical_names(values);
        for ignored in IGNORED {
            values.remove(*ignored);
        }
        for name in values.keys() {
            if procedure.param(name).is_none() {
                return Err(RunqlError::invalid(format!(
                    "{} has no argument @{name}; it accepts {}",
                    procedure.name,
                    procedure.signature()
                )));
            }
        }
        for param in procedure.params {
            let present = values.get(param.name).is_some_and(|v| !v.is_null());
            if param.required && !present {
                return Err(RunqlError::invalid(format!(
                    "{} needs @{}; it accepts {}",
                    procedure.name,
                    param.name,
                    procedure.signature()
                )));
            }
        }
        let args = Args {
            procedure: procedure.name,
            values,
        };
        // Type errors surface before anything runs, not half-way through.
        for param in procedure.params {
            args.check_kind(param.name, param.kind)?;
        }
        Ok(args)
    }

    fn check_kind(&self, name: &str, kind: ParamKind) -> Result<()> {
        match kind {
            ParamKind::Text => self.text(name).map(drop),
            ParamKind::Integer => self.integer(name).map(drop),
            ParamKind::Float => self.float(name).map(drop),
            ParamKind::Boolean => self.boolean(name).map(drop),
            ParamKind::TextList => self.text_list(name).map(drop),
            ParamKind::Json => Ok(()),
        }
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    fn wrong(&self, name: &str, expected: &str, got: &Value) -> RunqlError {
        let shown = match got {
            Value::String(s) => crate::model::validation::shown(s),
            other => other.to_string(),
        };
        RunqlError::invalid(format!(
            "{} @{name} must be {expected}, got {shown}",
            self.procedure
        ))
    }

    /// Text; numbers are taken as their decimal text (ids are often written bare).
    pub fn text(&self, name: &str) -> Result<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.wrong(name, "text", other)),
        }
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a whole number", &Value::Number(n.clone()))),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| self.wrong(name, "a whole number", &Value::String(s.clone()))),
            Some(other) => Err(self.wrong(name, "a whole number", other)),
        }
    }

    /// A number; NaN and ±Infinity may be written bare or quoted.
    pub fn float(&self, name: &str) -> Result<Option<f64>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a number", &Value::Number(n.clone()))),
            Some(Value::String(s)) => parse_float(s)
                .map(Some)
                .map_err(|_| self.wrong(name, "a number", &Value::String(s.clone()))),
            Some(other) => Err(self.wrong(name, "a number", other)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.wrong(name, "true or false", other)),
        }
    }

    /// A list of text: a JSON array, JSON array text, or one bare value.
    pub fn text_list(&self, name: &str) -> Result<Option<Vec<String>>> {
        let Some(value) = self.value(name) else {
            return Ok(None);
        };
        let list = match value {
            Value::String(s) if s.trim_start().starts_with('[') => match json::parse(s) {
                Ok(Value::Array(items)) => items,
                _ => return Err(self.wrong(name, "a JSON array of text", value)),
            },
            Value::String(s) => vec![Value::String(s.clone())],
            Value::Number(n) => vec![Value::Number(n.clone())],
            Value::Array(items) => items.clone(),
            other => return Err(self.wrong(name, "a list of text", other)),
        };
        list.into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(self.wrong(name, "a list of text", &other)),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// A structured value (lists of metrics, tags, datasets): JSON, or JSON text.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let Some(value) = self.value(name) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::String(s) => json::parse(s).map_err(|e| {
                RunqlError::invalid(format!("{} @{name} is not valid JSON: {e}", self.procedure))
            })?,
            other => other.clone(),
        };
        // serde would read `[["k", "v"]]` as a list of structs by position; the
        // documented shape is objects with named fields, and only that is taken.
        if let Value::Array(items) = &parsed
            && let Some((i, _)) = items.iter().enumerate().find(|(_, item)| item.is_array())
        {
            return Err(RunqlError::invalid(format!(
                "{} @{name} has the wrong shape: item {} must be an object with named fields, got an array",
                self.procedure,
                i + 1
            )));
        }
        serde_json::from_value(parsed).map(Some).map_err(|e| {
            RunqlError::invalid(format!(
                "{} @{name} has the wrong shape: {e}",
                self.procedure
            ))
        })
    }

    /// Which lifecycle stages to list; ACTIVE_ONLY when absent, as in MLflow.
    pub fn view_type(&self, name: &str) -> Result<ViewType> {
        match self.text(name)? {
            None => Ok(ViewType::ActiveOnly),
            Some(text) => text.parse::<ViewType>().map_err(|_| {
                self.wrong(
                    name,
                    "ACTIVE_ONLY, DELETED_ONLY or ALL",
                    &Value::String(text),
                )
            }),
        }
    }

    pub fn required_text(&self, name: &str) -> Result<String> {
        self.text(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn required_integer(&self, name: &str) -> Result<i64> {
        self.integer(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn required_float(&self, name: &str) -> Result<f64> {
        self.float(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn required_boolean(&self, name: &str) -> Result<bool> {
        self.boolean(name)?.ok_or_else(|| self.missing(name))
    }

    fn missing(&self, name: &str) -> RunqlError {
        RunqlError::invalid(format!("{} needs @{name}", self.procedure))
    }
}
