//! The filter grammar of MLflow's `search_runs`: `AND`-joined comparisons of
//! `metrics.*`, `params.*`, `tags.*` and run attributes with constants, e.g.
//! `metrics.rmse < 1 and params.model = 'LR' and tags."user-name" = 'Tomas'`.
//!
//! Parsing yields [`Condition`]s; [`compile`] turns them into a SQL predicate
//! over the `runs` view in which every key and value is a `$n` parameter.

use datafusion::common::ScalarValue;

use crate::error::{Result, RunqlError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Metric,
    Param,
    Tag,
    Attribute,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Like,
    ILike,
}

impl Comparator {
    fn sql(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::NotEq => "!=",
            Comparator::Lt => "<",
            Comparator::LtEq => "<=",
            Comparator::Gt => ">",
            Comparator::GtEq => ">=",
            Comparator::Like => "LIKE",
            Comparator::ILike => "ILIKE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub entity: Entity,
    pub key: String,
    pub comparator: Comparator,
    pub value: Constant,
}

/// Run attributes a filter may name, and the `runs` column each is.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("run_id", "run_id"),
    ("run_name", "run_name"),
    ("status", "status"),
    ("user_id", "user_id"),
    ("artifact_uri", "artifact_uri"),
    ("start_time", "start_time"),
    ("end_time", "end_time"),
    ("created", "start_time"),
];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(f64),
    Dot,
    Op(Comparator),
}

fn tokens(text: &str) -> Result<Vec<(usize, Token)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                out.push((start, Token::Dot));
                i += 1;
            }
            '\'' | '"' | '`' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(RunqlError::invalid(format!(
                                "unterminated {c}quoted{c} text starting at {start} in the filter"
                            )));
                        }
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            value.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                out.push((
                    start,
                    if c == '`' {
                        Token::Word(value)
                    } else {
                        Token::Quoted(value)
                    },
                ));
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('!', Some('=')) => (Comparator::NotEq, 2),
                    ('<', Some('=')) => (Comparator::LtEq, 2),
                    ('>', Some('=')) => (Comparator::GtEq, 2),
                    ('<', Some('>')) => (Comparator::NotEq, 2),
                    ('=', _) => (Comparator::Eq, 1),
                    ('<', _) => (Comparator::Lt, 1),
                    ('>', _) => (Comparator::Gt, 1),
                    _ => {
                        return Err(RunqlError::invalid(format!(
                            "unexpected '!' at {start} in the filter; did you mean '!='?"
                        )));
                    }
                };
                out.push((start, Token::Op(op)));
                i += len;
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let end = (i..chars.len())
                    .find(|&j| {
                        let d = chars[j];
                        !(d.is_ascii_alphanumeric() || matches!(d, '.' | '-' | '+'))
                    })
                    .unwrap_or(chars.len());
                let text: String = chars[i..end].iter().collect();
                let number = text.parse::<f64>().map_err(|_| {
                    RunqlError::invalid(format!(
                        "'{text}' at {start} in the filter is not a number"
                    ))
                })?;
                out.push((start, Token::Number(number)));
                i = end;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| {
                        !(chars[j].is_alphanumeric() || matches!(chars[j], '_' | '-' | ':' | '/'))
                    })
                    .unwrap_or(chars.len());
                let word: String = chars[i..end].iter().collect();
                let token = match word.to_ascii_uppercase().as_str() {
                    "LIKE" => Token::Op(Comparator::Like),
                    "ILIKE" => Token::Op(Comparator::ILike),
                    _ => Token::Word(word),
                };
                out.push((start, token));
                i = end;
            }
            other => {
                return Err(RunqlError::invalid(format!(
                    "unexpected {other:?} at {start} in the filter"
                )));
            }
        }
    }
    Ok(out)
}

fn entity_of(prefix: &str) -> Option<Entity> {
    match prefix.to_ascii_lowercase().as_str() {
        "metric" | "metrics" => Some(Entity::Metric),
        "param" | "params" | "parameter" | "parameters" => Some(Entity::Param),
        "tag" | "tags" => Some(Entity::Tag),
        "attribute" | "attributes" | "attr" | "run" => Some(Entity::Attribute),
        _ => None,
    }
}

/// Parses an AND-joined filter. An empty filter has no conditions.
pub fn parse(text: &str) -> Result<Vec<Condition>> {
    let tokens = tokens(text)?;
    let mut conditions = Vec::new();
    let mut at = 0;
    let describe = |token: Option<&(usize, Token)>| match token {
        None => "the end of the filter".to_string(),
        Some((position, token)) => format!("{token:?} at {position}"),
    };
    while at < tokens.len() {
        if !conditions.is_empty() {
            match tokens.get(at) {
                Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("and") => at += 1,
                other => {
                    return Err(RunqlError::invalid(format!(
                        "expected AND between conditions, found {}",
                        describe(other)
                    )));
                }
            }
        }
        // <entity>.<key>, or a bare attribute name.
        let (entity, key) = match (tokens.get(at), tokens.get(at + 1), tokens.get(at + 2)) {
            (
                Some((_, Token::Word(prefix))),
                Some((_, Token::Dot)),
                Some((_, Token::Word(key) | Token::Quoted(key))),
            ) => {
                let entity = entity_of(prefix).ok_or_else(|| {
                    RunqlError::invalid(format!(
                        "unknown entity '{prefix}'; use metrics., params., tags. or attributes."
                    ))
                })?;
                at += 3;
                (entity, key.clone())
            }
            (Some((_, Token::Word(name))), _, _) => {
                at += 1;
                (Entity::Attribute, name.clone())
            }
            (other, _, _) => {
                return Err(RunqlError::invalid(format!(
                    "expected metrics.<key>, params.<key>, tags.<key> or an attribute, found {}",
                    describe(other)
                )));
            }
        };
        if entity == Entity::Attribute
            && !ATTRIBUTES
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(&key))
        {
            return Err(RunqlError::invalid(format!(
                "unknown attribute '{key}'; attributes are {}",
                ATTRIBUTES
                    .iter()
                    .map(|a| a.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let comparator = match tokens.get(at) {
            Some((_, Token::Op(op))) => *op,
            other => {
                return Err(RunqlError::invalid(format!(
                    "expected a comparator after {key}, found {}",
                    describe(other)
                )));
            }
        };
        at += 1;
        let value = match tokens.get(at) {
            Some((_, Token::Number(n))) => Constant::Number(*n),
            Some((_, Token::Quoted(s))) => Constant::Text(s.clone()),
            other => {
                return Err(RunqlError::invalid(format!(
                    "expected a number or quoted text after {key} {}, found {}",
                    comparator.sql(),
                    describe(other)
                )));
            }
        };
        at += 1;
        let numeric = matches!(value, Constant::Number(_));
        let allowed = match entity {
            Entity::Metric => {
                numeric && !matches!(comparator, Comparator::Like | Comparator::ILike)
            }
            Entity::Param | Entity::Tag => {
                !numeric
                    && matches!(
                        comparator,
                        Comparator::Eq | Comparator::NotEq | Comparator::Like | Comparator::ILike
                    )
            }
            Entity::Attribute => true,
        };
        if !allowed {
            return Err(RunqlError::invalid(format!(
                "{} cannot compare {key} with {} and a {}",
                match entity {
                    Entity::Metric => "metrics",
                    Entity::Param => "params",
                    Entity::Tag => "tags",
                    Entity::Attribute => "attributes",
                },
                comparator.sql(),
                if numeric { "number" } else { "text" }
            )));
        }
        conditions.push(Condition {
            entity,
            key,
            comparator,
            value,
        });
    }
    Ok(conditions)
}

/// A predicate over the `runs` view (aliased `r`), with its parameters numbered
/// from `first_parameter`. Metric conditions test the latest value; a run
/// without the key does not match.
pub fn compile(conditions: &[Condition], first_parameter: usize) -> (String, Vec<ScalarValue>) {
    let mut params = Vec::new();
    // Adds a parameter and returns its placeholder.
    let mut bind = |value: ScalarValue| {
        params.push(value);
        format!("${}", first_parameter + params.len() - 1)
    };
    let mut parts = Vec::new();
    for condition in conditions {
        let op = condition.comparator.sql();
        let value = match &condition.value {
            Constant::Number(n) => ScalarValue::Float64(Some(*n)),
            Constant::Text(t) => ScalarValue::Utf8(Some(t.clone())),
        };
        let part = match condition.entity {
            Entity::Attribute => {
                let column = ATTRIBUTES
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&condition.key))
                    .map_or("run_id", |(_, column)| column);
                let placeholder = bind(value);
                if column.ends_with("_time") {
                    format!("r.{column} {op} to_timestamp_millis(CAST({placeholder} AS BIGINT))")
                } else {
                    format!("r.{column} {op} {placeholder}")
                }
            }
            entity => {
                let view = match entity {
                    Entity::Metric => "latest_metrics",
                    Entity::Param => "params",
                    _ => "tags",
                };
                let key = bind(ScalarValue::Utf8(Some(condition.key.clone())));
                let value = bind(value);
                format!(
                    "r.run_id IN (SELECT run_id FROM {view} WHERE key = {key} AND value {op} {value})"
                )
            }
        };
        parts.push(part);
    }
    let predicate = if parts.is_empty() {
        "TRUE".to_string()
    } else {
        parts.join(" AND ")
    };
    (predicate, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mlflow_examples() {
        let parsed = parse("metrics.rmse < 1 and params.model = 'LR'").unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].entity, Entity::Metric);
        assert_eq!(parsed[1].value, Constant::Text("LR".into()));
        let quoted =
            parse("metrics.\"model class\" <= 2.5 AND tags.`user-name` LIKE 'To%'").unwrap();
        assert_eq!(quoted[0].key, "model class");
        assert_eq!(quoted[1].key, "user-name");
        assert!(parse("").unwrap().is_empty());
        assert_eq!(
            parse("status = 'FINISHED'").unwrap()[0].entity,
            Entity::Attribute
        );
    }

    #[test]
    fn rejects_malformed_filters_with_their_position() {
        for (filter, expected) in [
            ("metrics.rmse equals 1", "expected a comparator after rmse"),
            ("metrics.rmse < 'x'", "metrics cannot compare"),
            ("params.a > 'x'", "params cannot compare"),
            ("bogus.x = 1", "unknown entity"),
            ("flavour = 'x'", "unknown attribute"),
            ("metrics.a < 1 metrics.b < 2", "expected AND"),
            ("params.a = 'x", "unterminated"),
            ("metrics.a <", "expected a number or quoted text"),
        ] {
            let error = parse(filter).unwrap_err().to_string();
            assert!(error.contains(expected), "{filter}: {error}");
        }
    }
}
