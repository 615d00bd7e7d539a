//! The filter language of `runs.search` and `experiments.search`: MLflow's
//! grammar (`metrics.rmse < 1 and params.model = 'LR'`) plus `OR`, `NOT`,
//! parentheses, `IN` lists, `IS [NOT] NULL` and numeric comparison of params.
//!
//! Parsing checks every comparison against the type of what it compares, so a
//! [`Filter`] that parsed always compiles; see `plan.rs` for its semantics.

use crate::error::{Result, RunqlError};
use crate::model::validation::parse_time_micros;

use super::lexer::{Comparator, Token, TokenKind, describe, tokenize};

/// What is searched: the entity prefixes and attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Runs,
    Experiments,
    LoggedModels,
}

/// A column of the searched view that a filter or ordering may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    RunId,
    RunName,
    Status,
    UserId,
    ArtifactUri,
    StartTime,
    EndTime,
    ExperimentId,
    Name,
    CreationTime,
    LastUpdateTime,
    ModelId,
    ModelType,
    SourceRunId,
}

impl Attribute {
    /// The column of the `runs` or `experiments` view.
    pub fn column(self) -> &'static str {
        match self {
            Attribute::RunId => "run_id",
            Attribute::RunName => "run_name",
            Attribute::Status => "status",
            Attribute::UserId => "user_id",
            Attribute::ArtifactUri => "artifact_uri",
            Attribute::StartTime => "start_time",
            Attribute::EndTime => "end_time",
            Attribute::ExperimentId => "experiment_id",
            Attribute::Name => "name",
            Attribute::CreationTime => "creation_time",
            Attribute::LastUpdateTime => "last_update_time",
            Attribute::ModelId => "model_id",
            Attribute::ModelType => "model_type",
            Attribute::SourceRunId => "source_run_id",
        }
    }

    pub fn is_time(self) -> bool {
        matches!(
            self,
            Attribute::StartTime
                | Attribute::EndTime
                | Attribute::CreationTime
                | Attribute::LastUpdateTime
        )
    }
}

/// The attributes each target knows, by every name a filter may use for them
/// (matched case-insensitively), canonical name first.
const RUN_ATTRIBUTES: &[(&str, Attribute)] = &[
    ("run_id", Attribute::RunId),
    ("run_name", Attribute::RunName),
    ("status", Attribute::Status),
    ("user_id", Attribute::UserId),
    ("artifact_uri", Attribute::ArtifactUri),
    ("start_time", Attribute::StartTime),
    ("end_time", Attribute::EndTime),
    ("experiment_id", Attribute::ExperimentId),
    ("created", Attribute::StartTime),
    ("run name", Attribute::RunName),
];

/// MLflow names a model's times `…_timestamp`; runql's views `…_time`, as experiments'.
const LOGGED_MODEL_ATTRIBUTES: &[(&str, Attribute)] = &[
    ("model_id", Attribute::ModelId),
    ("name", Attribute::Name),
    ("status", Attribute::Status),
    ("model_type", Attribute::ModelType),
    ("source_run_id", Attribute::SourceRunId),
    ("experiment_id", Attribute::ExperimentId),
    ("creation_timestamp", Attribute::CreationTime),
    ("last_updated_timestamp", Attribute::LastUpdateTime),
    ("creation_time", Attribute::CreationTime),
    ("last_update_time", Attribute::LastUpdateTime),
    ("artifact_uri", Attribute::ArtifactUri),
];

const EXPERIMENT_ATTRIBUTES: &[(&str, Attribute)] = &[
    ("experiment_id", Attribute::ExperimentId),
    ("name", Attribute::Name),
    ("creation_time", Attribute::CreationTime),
    ("last_update_time", Attribute::LastUpdateTime),
];

/// A field of a run's logged datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetField {
    Name,
    Digest,
    Context,
}

impl DatasetField {
    /// The column of the `inputs` view.
    pub fn column(self) -> &'static str {
        match self {
            DatasetField::Name => "dataset_name",
            DatasetField::Digest => "dataset_digest",
            DatasetField::Context => "context",
        }
    }
}

/// What a condition or ordering names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// The latest value of a metric.
    Metric(String),
    Param(String),
    /// A run's tag, or an experiment's when searching experiments.
    Tag(String),
    Attribute(Attribute),
    Dataset(DatasetField),
}

impl Field {
    /// The entity name used in messages: `metrics`, `params`, ….
    fn entity(&self) -> &'static str {
        match self {
            Field::Metric(_) => "metrics",
            Field::Param(_) => "params",
            Field::Tag(_) => "tags",
            Field::Attribute(a) if a.is_time() => "time attributes",
            Field::Attribute(_) => "text attributes",
            Field::Dataset(_) => "dataset fields",
        }
    }

    /// Every comparison this field's type allows, for error messages.
    fn allowed(&self) -> &'static str {
        match self {
            Field::Metric(_) => "= != < <= > >= IN NOT IN IS NULL IS NOT NULL",
            Field::Param(_) | Field::Tag(_) => {
                "= != LIKE ILIKE IN NOT IN IS NULL IS NOT NULL, and < <= > >= with a number"
            }
            Field::Attribute(a) if a.is_time() => "= != < <= > >= IS NULL IS NOT NULL",
            Field::Attribute(_) => "= != LIKE ILIKE IN NOT IN IS NULL IS NOT NULL",
            Field::Dataset(_) => "= != LIKE ILIKE IN NOT IN",
        }
    }
}

/// A test of one field, typed: numbers against numbers, text against text.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Numeric comparison: a metric, or a param or tag read as a number.
    Number {
        op: Comparator,
        value: f64,
    },
    /// A time attribute against microseconds since the epoch.
    Time {
        op: Comparator,
        micros: i64,
    },
    /// Text equality or inequality.
    Text {
        op: Comparator,
        value: String,
    },
    Like {
        pattern: String,
        negated: bool,
        case_insensitive: bool,
    },
    InNumbers {
        values: Vec<f64>,
        negated: bool,
    },
    InTexts {
        values: Vec<String>,
        negated: bool,
    },
    IsNull {
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub test: Test,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Test(Condition),
}

impl Filter {
    /// Every condition, left to right, for planning the joins they need.
    pub fn conditions(&self) -> Vec<&Condition> {
        match self {
            Filter::And(parts) | Filter::Or(parts) => {
                parts.iter().flat_map(Filter::conditions).collect()
            }
            Filter::Not(inner) => inner.conditions(),
            Filter::Test(condition) => vec![condition],
        }
    }
}

/// Parentheses and NOTs nest at most this deep, so hostile input cannot
/// exhaust the stack.
const MAX_NESTING: usize = 100;

/// Parses a filter; an empty or blank filter is `None` (everything matches).
pub fn parse(target: Target, text: &str) -> Result<Option<Filter>> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        target,
        tokens: &tokens,
        at: 0,
        end_column: text.chars().count() + 1,
    };
    let filter = parser.or(0)?;
    if let Some(token) = parser.peek() {
        return Err(if token.kind == TokenKind::Close {
            RunqlError::invalid(format!("unexpected ')' at {}", token.column))
        } else {
            parser.expected("AND, OR or the end of the filter", None)
        });
    }
    Ok(Some(filter))
}

/// Parses one `order_by` item, `<entity>.<key> [ASC|DESC]`: the field, and
/// whether it sorts descending.
pub fn parse_order(target: Target, text: &str) -> Result<(Field, bool)> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        target,
        tokens: &tokens,
        at: 0,
        end_column: text.chars().count() + 1,
    };
    let (field, subject) = parser.field()?;
    if matches!(field, Field::Dataset(_)) {
        return Err(RunqlError::invalid(format!(
            "{subject} cannot be ordered by; order by metrics, params, tags or attributes"
        )));
    }
    let descending = match parser.peek().and_then(Token::keyword).as_deref() {
        Some("ASC") => false,
        Some("DESC") => true,
        None if parser.peek().is_none() => false,
        _ => {
            return Err(parser.expected("ASC or DESC", Some(&subject)));
        }
    };
    if parser.peek().is_some() {
        parser.at += 1;
    }
    if parser.peek().is_some() {
        return Err(parser.expected("the end of the ordering", None));
    }
    Ok((field, descending))
}

struct Parser<'a> {
    target: Target,
    tokens: &'a [Token],
    at: usize,
    end_column: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    /// "expected X [after Y] at N, found Z", about the current token.
    fn expected(&self, what: &str, after: Option<&str>) -> RunqlError {
        let after = after.map(|a| format!(" after {a}")).unwrap_or_default();
        RunqlError::invalid(format!(
            "expected {what}{after} at {}, found {}",
            self.column(),
            describe(self.peek())
        ))
    }

    fn or(&mut self, depth: usize) -> Result<Filter> {
        self.joined("OR", depth, Self::and, Filter::Or)
    }

    fn and(&mut self, depth: usize) -> Result<Filter> {
        self.joined("AND", depth, Self::not, Filter::And)
    }

    /// `operand (keyword operand)*`, one operand standing for itself.
    fn joined(
        &mut self,
        keyword: &str,
        depth: usize,
        operand: fn(&mut Self, usize) -> Result<Filter>,
        combine: fn(Vec<Filter>) -> Filter,
    ) -> Result<Filter> {
        let mut parts = vec![operand(self, depth)?];
        while self.peek().is_some_and(|t| t.is_keyword(keyword)) {
            self.at += 1;
            parts.push(operand(self, depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            combine(parts)
        })
    }

    fn not(&mut self, depth: usize) -> Result<Filter> {
        if depth >= MAX_NESTING {
            return Err(RunqlError::invalid(format!(
                "the filter nests parentheses or NOT more than {MAX_NESTING} deep at {}",
                self.column()
            )));
        }
        if self.peek().is_some_and(|t| t.is_keyword("NOT")) {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.not(depth + 1)?)));
        }
        if self.peek().is_some_and(|t| t.kind == TokenKind::Open) {
            self.at += 1;
            let inner = self.or(depth + 1)?;
            if self.peek().is_some_and(|t| t.kind == TokenKind::Close) {
                self.at += 1;
                return Ok(inner);
            }
            return Err(self.expected("')'", None));
        }
        self.condition()
    }

    /// `<field> <test>`.
    fn condition(&mut self) -> Result<Filter> {
        let subject_column = self.column();
        let (field, subject) = self.field()?;
        let at = |message: String| {
            RunqlError::invalid(format!("{subject} at {subject_column} {message}"))
        };
        let cannot = |what: &str| {
            at(format!(
                "cannot use {what}; {} allow {}",
                field.entity(),
                field.allowed()
            ))
        };
        let keyword = self.peek().and_then(Token::keyword);
        let test = match (self.peek().map(|t| &t.kind), keyword.as_deref()) {
            (Some(TokenKind::Op(op)), _) => {
                let op = *op;
                self.at += 1;
                let value = self.value(&format!("{subject} {}", op.symbol()))?;
                compare(&field, op, value, &at, &cannot)?
            }
            (_, Some("LIKE" | "ILIKE")) => self.like(&field, &subject, false, &at, &cannot)?,
            (_, Some("IN")) => self.in_list(&field, &subject, false, &at, &cannot)?,
            (_, Some("IS")) => {
                self.at += 1;
                let negated = self.peek().is_some_and(|t| t.is_keyword("NOT"));
                if negated {
                    self.at += 1;
                }
                if !self.peek().is_some_and(|t| t.is_keyword("NULL")) {
                    return Err(self.expected(
                        "NULL",
                        Some(&format!(
                            "{subject} IS{}",
                            if negated { " NOT" } else { "" }
                        )),
                    ));
                }
                self.at += 1;
                if matches!(field, Field::Dataset(_)) {
                    return Err(cannot(if negated { "IS NOT NULL" } else { "IS NULL" }));
                }
                Test::IsNull { negated }
            }
            (_, Some("NOT")) => {
                self.at += 1;
                match self.peek().and_then(Token::keyword).as_deref() {
                    Some("LIKE" | "ILIKE") => self.like(&field, &subject, true, &at, &cannot)?,
                    Some("IN") => self.in_list(&field, &subject, true, &at, &cannot)?,
                    _ => {
                        return Err(
                            self.expected("LIKE, ILIKE or IN", Some(&format!("{subject} NOT")))
                        );
                    }
                }
            }
            _ => return Err(self.expected("a comparator", Some(&subject))),
        };
        Ok(Filter::Test(Condition { field, test }))
    }

    /// `[NOT] LIKE|ILIKE 'pattern'`, the current token being LIKE or ILIKE.
    fn like(
        &mut self,
        field: &Field,
        subject: &str,
        negated: bool,
        at: &dyn Fn(String) -> RunqlError,
        cannot: &dyn Fn(&str) -> RunqlError,
    ) -> Result<Test> {
        let keyword = self.next().and_then(Token::keyword).unwrap_or_default();
        let written = if negated {
            format!("NOT {keyword}")
        } else {
            keyword.clone()
        };
        // Patterns match text: not metrics, not times.
        if matches!(field, Field::Metric(_)) || matches!(field, Field::Attribute(a) if a.is_time())
        {
            return Err(cannot(&written));
        }
        match self.value(&format!("{subject} {written}"))? {
            Value::Text(pattern) => Ok(Test::Like {
                pattern,
                negated,
                case_insensitive: keyword == "ILIKE",
            }),
            Value::Number(n, _) => Err(at(format!(
                "needs text for {written}, found the number {n}"
            ))),
        }
    }

    /// `[NOT] IN (v, …)`, the current token being IN.
    fn in_list(
        &mut self,
        field: &Field,
        subject: &str,
        negated: bool,
        at: &dyn Fn(String) -> RunqlError,
        cannot: &dyn Fn(&str) -> RunqlError,
    ) -> Result<Test> {
        self.at += 1;
        let written = if negated { "NOT IN" } else { "IN" };
        if matches!(field, Field::Attribute(a) if a.is_time()) {
            return Err(cannot(written));
        }
        if !self.peek().is_some_and(|t| t.kind == TokenKind::Open) {
            return Err(self.expected("'('", Some(&format!("{subject} {written}"))));
        }
        self.at += 1;
        let mut values = Vec::new();
        loop {
            if values.is_empty() && self.peek().is_some_and(|t| t.kind == TokenKind::Close) {
                return Err(RunqlError::invalid(format!(
                    "{written} needs at least one value at {}",
                    self.column()
                )));
            }
            values.push(self.value(&format!("{subject} {written} ("))?);
            match self.next().map(|t| &t.kind) {
                Some(TokenKind::Comma) => {}
                Some(TokenKind::Close) => break,
                _ => {
                    self.at -= 1;
                    return Err(self.expected("',' or ')'", Some("a value in the list")));
                }
            }
        }
        if matches!(field, Field::Metric(_)) {
            let numbers = values
                .into_iter()
                .map(|v| match v {
                    Value::Number(n, _) => Ok(n),
                    Value::Text(t) => Err(at(format!("needs a number, found text '{t}'"))),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Test::InNumbers {
                values: numbers,
                negated,
            })
        } else {
            let texts = values
                .into_iter()
                .map(|v| match v {
                    Value::Text(t) => Ok(t),
                    Value::Number(n, _) => Err(at(format!(
                        "needs text for {written}, found the number {n}"
                    ))),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Test::InTexts {
                values: texts,
                negated,
            })
        }
    }

    /// A number or quoted text.
    fn value(&mut self, after: &str) -> Result<Value> {
        let value = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Number(n)) => Value::Number(*n, self.peek().map(|t| t.written.clone())),
            Some(TokenKind::Text { value, .. }) => Value::Text(value.clone()),
            _ => return Err(self.expected("a value", Some(after))),
        };
        self.at += 1;
        Ok(value)
    }

    /// `<entity>.<key>`, `<entity>.` followed by a quoted key, or a bare
    /// (possibly quoted) attribute. Returns the field and how it was written.
    fn field(&mut self) -> Result<(Field, String)> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.expected("a key such as metrics.<name> or an attribute", None));
        };
        self.at += 1;
        let (prefix, key, written) = match &token.kind {
            TokenKind::Word(word) => match word.split_once('.') {
                Some((prefix, "")) => {
                    let key = match self.peek().map(|t| &t.kind) {
                        Some(TokenKind::QuotedName(key))
                        | Some(TokenKind::Text {
                            value: key,
                            double: true,
                        }) => key.clone(),
                        _ => {
                            return Err(self.expected("a key", Some(&format!("'{word}'"))));
                        }
                    };
                    let written = format!("{word}{}", self.next().map_or("", |t| &t.written));
                    (Some(prefix.to_string()), key, written)
                }
                Some((prefix, key)) => (Some(prefix.to_string()), key.to_string(), word.clone()),
                None => (None, word.clone(), word.clone()),
            },
            TokenKind::QuotedName(name)
            | TokenKind::Text {
                value: name,
                double: true,
            } => (None, name.clone(), token.written.clone()),
            _ => {
                self.at -= 1;
                return Err(self.expected("a key such as metrics.<name> or an attribute", None));
            }
        };
        let field = match prefix {
            None => Field::Attribute(self.attribute(&key, token.column)?),
            Some(prefix) => self.entity_field(&prefix, key, token.column)?,
        };
        if let Field::Metric(k) | Field::Param(k) | Field::Tag(k) = &field
            && k.is_empty()
        {
            return Err(RunqlError::invalid(format!(
                "empty key in {written} at {}",
                token.column
            )));
        }
        Ok((field, written))
    }

    fn entity_field(&self, prefix: &str, key: String, column: usize) -> Result<Field> {
        let entity = prefix.to_ascii_lowercase();
        let field = match (self.target, entity.as_str()) {
            (Target::Runs, "metric" | "metrics") => Field::Metric(key),
            (
                Target::Runs | Target::LoggedModels,
                "param" | "params" | "parameter" | "parameters",
            ) => Field::Param(key),
            (_, "tag" | "tags") => Field::Tag(key),
            (Target::Runs, "attribute" | "attributes" | "attr" | "run")
            | (Target::Experiments | Target::LoggedModels, "attribute" | "attributes" | "attr") => {
                Field::Attribute(self.attribute(&key, column)?)
            }
            (Target::Runs, "dataset" | "datasets") => {
                Field::Dataset(match key.to_ascii_lowercase().as_str() {
                    "name" => DatasetField::Name,
                    "digest" => DatasetField::Digest,
                    "context" => DatasetField::Context,
                    _ => {
                        return Err(RunqlError::invalid(format!(
                            "unknown dataset field '{key}' at {column}; dataset fields are name, digest, context"
                        )));
                    }
                })
            }
            (Target::Runs, _) => {
                return Err(RunqlError::invalid(format!(
                    "unknown entity '{prefix}' at {column}; use metrics., params., tags., attributes. or datasets."
                )));
            }
            (Target::Experiments, _) => {
                return Err(RunqlError::invalid(format!(
                    "unknown entity '{prefix}' at {column}; experiments have tags. and attributes."
                )));
            }
            (Target::LoggedModels, _) => {
                return Err(RunqlError::invalid(format!(
                    "unknown entity '{prefix}' at {column}; logged models have params., tags. and attributes."
                )));
            }
        };
        Ok(field)
    }

    fn attribute(&self, name: &str, column: usize) -> Result<Attribute> {
        let known = match self.target {
            Target::Runs => RUN_ATTRIBUTES,
            Target::Experiments => EXPERIMENT_ATTRIBUTES,
            Target::LoggedModels => LOGGED_MODEL_ATTRIBUTES,
        };
        known
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map(|(_, attribute)| *attribute)
            .ok_or_else(|| {
                RunqlError::invalid(format!(
                    "unknown attribute '{name}' at {column}; attributes are {}",
                    known.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
                ))
            })
    }
}

/// A literal: a number (with how it was written) or text.
enum Value {
    Number(f64, Option<String>),
    Text(String),
}

/// The typed test for `<field> <op> <value>`, or why the types don't fit.
fn compare(
    field: &Field,
    op: Comparator,
    value: Value,
    at: &dyn Fn(String) -> RunqlError,
    cannot: &dyn Fn(&str) -> RunqlError,
) -> Result<Test> {
    match (field, value) {
        (Field::Metric(_), Value::Number(value, _)) => Ok(Test::Number { op, value }),
        (Field::Metric(_), Value::Text(text)) => {
            Err(at(format!("needs a number, found text '{text}'")))
        }
        (Field::Param(_) | Field::Tag(_), Value::Number(value, _)) => {
            Ok(Test::Number { op, value })
        }
        (Field::Param(_) | Field::Tag(_), Value::Text(text)) if op.is_ordering() => {
            match text.trim().parse::<f64>() {
                Ok(value) => Ok(Test::Number { op, value }),
                Err(_) => Err(at(format!(
                    "needs a number for {}, found text '{text}'",
                    op.symbol()
                ))),
            }
        }
        (Field::Attribute(a), value) if a.is_time() => {
            let micros = match value {
                Value::Number(ms, written) => millis_to_micros(ms).ok_or_else(|| {
                    at(format!(
                        "needs milliseconds since the epoch, found {}",
                        written.unwrap_or_else(|| ms.to_string())
                    ))
                })?,
                Value::Text(text) => parse_time_micros(&text).ok_or_else(|| {
                    at(format!(
                        "needs milliseconds since the epoch or a date such as '2026-01-31' or '2026-01-31T12:00:00Z', found '{text}'"
                    ))
                })?,
            };
            Ok(Test::Time { op, micros })
        }
        (_, _) if op.is_ordering() => Err(cannot(op.symbol())),
        (_, Value::Text(value)) => Ok(Test::Text { op, value }),
        (_, Value::Number(n, _)) => Err(at(format!(
            "needs text for {}, found the number {n}",
            op.symbol()
        ))),
    }
}

fn millis_to_micros(ms: f64) -> Option<i64> {
    // Whole milliseconds within chrono's range; fractions would silently round.
    const LIMIT: f64 = 8.0e15;
    (ms.fract() == 0.0 && ms.abs() < LIMIT).then(|| ms as i64 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(text: &str) -> Filter {
        parse(Target::Runs, text).unwrap().unwrap()
    }

    fn condition(field: Field, test: Test) -> Filter {
        Filter::Test(Condition { field, test })
    }

    #[test]
    fn parses_mlflow_filters_and_the_extensions() {
        assert_eq!(
            runs("metrics.rmse < 1 and params.model = 'LR'"),
            Filter::And(vec![
                condition(
                    Field::Metric("rmse".into()),
                    Test::Number {
                        op: Comparator::Lt,
                        value: 1.0
                    }
                ),
                condition(
                    Field::Param("model".into()),
                    Test::Text {
                        op: Comparator::Eq,
                        value: "LR".into()
                    }
                ),
            ])
        );
        assert_eq!(
            runs("NOT (tags.`user-name` IN ('a', \"b\") OR \"Run Name\" ILIKE 'x%')"),
            Filter::Not(Box::new(Filter::Or(vec![
                condition(
                    Field::Tag("user-name".into()),
                    Test::InTexts {
                        values: vec!["a".into(), "b".into()],
                        negated: false
                    }
                ),
                condition(
                    Field::Attribute(Attribute::RunName),
                    Test::Like {
                        pattern: "x%".into(),
                        negated: false,
                        case_insensitive: true
                    }
                ),
            ])))
        );
        assert_eq!(
            runs("params.lr > '1e-3'"),
            condition(
                Field::Param("lr".into()),
                Test::Number {
                    op: Comparator::Gt,
                    value: 0.001
                }
            )
        );
        assert_eq!(
            runs("created >= '1970-01-01T00:00:01Z'"),
            condition(
                Field::Attribute(Attribute::StartTime),
                Test::Time {
                    op: Comparator::GtEq,
                    micros: 1_000_000
                }
            )
        );
        assert_eq!(
            runs("tags.mlflow.runName IS NOT NULL"),
            condition(
                Field::Tag("mlflow.runName".into()),
                Test::IsNull { negated: true }
            )
        );
        assert!(parse(Target::Runs, "  ").unwrap().is_none());
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        for (filter, expected) in [
            (
                "metrics.rmse equals 1",
                "expected a comparator after metrics.rmse at 14, found 'equals'",
            ),
            (
                "metrics.a < 1 metrics.b < 2",
                "expected AND, OR or the end of the filter at 15, found 'metrics.b'",
            ),
            (
                "metrics.a <",
                "expected a value after metrics.a < at 12, found the end of the filter",
            ),
            ("(metrics.a < 1", "expected ')' at 15"),
            ("metrics.a < 1)", "unexpected ')' at 14"),
            ("metrics.rmse LIKE 'x'", "metrics.rmse at 1 cannot use LIKE"),
            ("metrics.rmse = 'x'", "needs a number, found text 'x'"),
            ("params.a < 'x'", "needs a number for <, found text 'x'"),
            ("params.a LIKE 3", "needs text for LIKE, found the number 3"),
            ("bogus.x = 1", "unknown entity 'bogus' at 1"),
            ("flavour = 'x'", "unknown attribute 'flavour' at 1"),
            ("datasets.size = 'x'", "unknown dataset field 'size' at 1"),
            ("metrics. < 1", "expected a key after 'metrics.' at 10"),
            ("params.a IN ()", "IN needs at least one value at 14"),
            ("params.a IN 'x'", "expected '(' after params.a IN at 13"),
            ("start_time LIKE 'x'", "cannot use LIKE"),
            (
                "start_time > 'yesterday'",
                "needs milliseconds since the epoch",
            ),
            ("status < 'x'", "cannot use <"),
            ("params.a IS 'x'", "expected NULL after params.a IS at 13"),
            ("metrics.`` > 1", "empty key"),
        ] {
            let error = parse(Target::Runs, filter).unwrap_err().to_string();
            assert!(error.contains(expected), "{filter}: {error}");
        }
        let deep = format!("{}metrics.a < 1{}", "(".repeat(500), ")".repeat(500));
        assert!(
            parse(Target::Runs, &deep)
                .unwrap_err()
                .to_string()
                .contains("more than 100 deep")
        );
    }

    #[test]
    fn experiments_have_their_own_attributes() {
        assert!(parse(Target::Experiments, "name LIKE 'a%' AND tags.team = 'x'").is_ok());
        assert!(parse(Target::Experiments, "metrics.a < 1").is_err());
        assert!(parse(Target::Experiments, "run_name = 'a'").is_err());
    }

    #[test]
    fn order_items_name_a_field_and_a_direction() {
        assert_eq!(
            parse_order(Target::Runs, "metrics.rmse DESC").unwrap(),
            (Field::Metric("rmse".into()), true)
        );
        assert_eq!(
            parse_order(Target::Runs, "`Run name`").unwrap(),
            (Field::Attribute(Attribute::RunName), false)
        );
        let error = parse_order(Target::Runs, "metrics.rmse up")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("expected ASC or DESC after metrics.rmse at 14, found 'up'"),
            "{error}"
        );
        assert!(parse_order(Target::Runs, "datasets.name").is_err());
        assert!(parse_order(Target::Runs, "metrics.a ASC DESC").is_err());
    }
}
