//! Tokens of the search languages (`@filter` and `@order_by` items), each with
//! the 1-based column where it starts, so every parse error can point at it.

use crate::error::{Result, RunqlError};

/// A comparison operator written with symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl Comparator {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::NotEq => "!=",
            Comparator::Lt => "<",
            Comparator::LtEq => "<=",
            Comparator::Gt => ">",
            Comparator::GtEq => ">=",
        }
    }

    pub fn is_ordering(self) -> bool {
        !matches!(self, Comparator::Eq | Comparator::NotEq)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An unquoted name or keyword; after an entity prefix it may hold dots,
    /// as in `tags.mlflow.runName`.
    Word(String),
    /// A name in backticks.
    QuotedName(String),
    /// Text in single quotes, or in double quotes (`double`), which in key
    /// position is a quoted name instead, as MLflow reads it.
    Text {
        value: String,
        double: bool,
    },
    Number(f64),
    Op(Comparator),
    Open,
    Close,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    /// 1-based character column of the token's first character.
    pub column: usize,
    /// The token as written, for error messages.
    pub written: String,
}

impl Token {
    /// The keyword this token spells (upper case), if it is an unquoted word.
    pub fn keyword(&self) -> Option<String> {
        match &self.kind {
            TokenKind::Word(word) => Some(word.to_ascii_uppercase()),
            _ => None,
        }
    }

    pub fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

/// How a token (or the end of input) is named in "found …" messages.
pub fn describe(token: Option<&Token>) -> String {
    match token {
        // Quoted tokens already show their quotes.
        Some(token) if matches!(token.written.chars().next(), Some('\'' | '"' | '`')) => {
            token.written.clone()
        }
        Some(token) => format!("'{}'", token.written),
        None => "the end of the filter".to_string(),
    }
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/')
}

/// Splits `text` into tokens. Fails on an unterminated quote, a malformed
/// number or a character the languages do not use.
pub fn tokenize(text: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let start = at;
        let kind = match c {
            c if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' | ')' | ',' => {
                at += 1;
                match c {
                    '(' => TokenKind::Open,
                    ')' => TokenKind::Close,
                    _ => TokenKind::Comma,
                }
            }
            '\'' | '"' | '`' => {
                let (value, end) = quoted(&chars, at)?;
                at = end;
                match c {
                    '`' => TokenKind::QuotedName(value),
                    _ => TokenKind::Text {
                        value,
                        double: c == '"',
                    },
                }
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(at + 1).copied();
                let (op, len) = match (c, next) {
                    ('!', Some('=')) | ('<', Some('>')) => (Comparator::NotEq, 2),
                    ('<', Some('=')) => (Comparator::LtEq, 2),
                    ('>', Some('=')) => (Comparator::GtEq, 2),
                    ('=', Some('=')) => (Comparator::Eq, 2),
                    ('=', _) => (Comparator::Eq, 1),
                    ('<', _) => (Comparator::Lt, 1),
                    ('>', _) => (Comparator::Gt, 1),
                    _ => {
                        return Err(RunqlError::invalid(format!(
                            "unexpected character '!' at {}; did you mean '!='?",
                            start + 1
                        )));
                    }
                };
                at += len;
                TokenKind::Op(op)
            }
            _ if starts_number(&chars, at) => {
                let (number, end) = number(&chars, at)?;
                at = end;
                TokenKind::Number(number)
            }
            c if is_name_start(c) => {
                let end = (at..chars.len())
                    .find(|&j| !is_name_char(chars[j]))
                    .unwrap_or(chars.len());
                let word: String = chars[at..end].iter().collect();
                at = end;
                TokenKind::Word(word)
            }
            other => {
                return Err(RunqlError::invalid(format!(
                    "unexpected character {} at {}",
                    shown_char(other),
                    start + 1
                )));
            }
        };
        tokens.push(Token {
            kind,
            column: start + 1,
            written: chars[start..at].iter().collect(),
        });
    }
    Ok(tokens)
}

/// A character as error messages show it: quoted, or escaped when it is a
/// control character that would garble the message.
fn shown_char(c: char) -> String {
    if c.is_control() {
        format!("{:?}", c)
    } else {
        format!("'{c}'")
    }
}

/// Reads the quoted text starting at `open`; a doubled quote stands for itself.
/// Returns the text and the index just past the closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize)> {
    let quote = chars[open];
    let mut value = String::new();
    let mut at = open + 1;
    loop {
        match chars.get(at) {
            None => {
                return Err(RunqlError::invalid(format!(
                    "unterminated quoted text starting at {}",
                    open + 1
                )));
            }
            Some(&c) if c == quote && chars.get(at + 1) == Some(&quote) => {
                value.push(quote);
                at += 2;
            }
            Some(&c) if c == quote => return Ok((value, at + 1)),
            Some(&c) => {
                value.push(c);
                at += 1;
            }
        }
    }
}

fn starts_number(chars: &[char], at: usize) -> bool {
    let digit_at = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    match chars[at] {
        c if c.is_ascii_digit() => true,
        '.' => digit_at(at + 1),
        '-' | '+' => digit_at(at + 1) || (chars.get(at + 1) == Some(&'.') && digit_at(at + 2)),
        _ => false,
    }
}

/// Reads a number: sign, digits, fraction and exponent. Letters or digits
/// running on after it (`1x`, `1.2.3`) make it an error rather than two tokens.
fn number(chars: &[char], start: usize) -> Result<(f64, usize)> {
    let mut end = start;
    let digits = |mut i: usize| {
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        i
    };
    if matches!(chars[end], '-' | '+') {
        end += 1;
    }
    end = digits(end);
    if chars.get(end) == Some(&'.') {
        end = digits(end + 1);
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let mut exponent = end + 1;
        if matches!(chars.get(exponent), Some('-' | '+')) {
            exponent += 1;
        }
        if chars.get(exponent).is_some_and(char::is_ascii_digit) {
            end = digits(exponent);
        }
    }
    let run_on = (end..chars.len())
        .find(|&j| !(chars[j].is_alphanumeric() || matches!(chars[j], '.' | '_')))
        .unwrap_or(chars.len());
    let written: String = chars[start..run_on].iter().collect();
    if run_on > end {
        return Err(RunqlError::invalid(format!(
            "'{written}' at {} is not a number",
            start + 1
        )));
    }
    let value = written.parse::<f64>().map_err(|_| {
        RunqlError::invalid(format!("'{written}' at {} is not a number", start + 1))
    })?;
    Ok((value, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn splits_names_values_and_operators() {
        assert_eq!(
            kinds("tags.mlflow.runName != 'it''s' AND (x<=-1e-3)"),
            vec![
                TokenKind::Word("tags.mlflow.runName".into()),
                TokenKind::Op(Comparator::NotEq),
                TokenKind::Text {
                    value: "it's".into(),
                    double: false
                },
                TokenKind::Word("AND".into()),
                TokenKind::Open,
                TokenKind::Word("x".into()),
                TokenKind::Op(Comparator::LtEq),
                TokenKind::Number(-1e-3),
                TokenKind::Close,
            ]
        );
        let columns: Vec<usize> = tokenize("metrics.`a b` <> .5")
            .unwrap()
            .iter()
            .map(|t| t.column)
            .collect();
        assert_eq!(columns, [1, 9, 15, 18]);
    }

    #[test]
    fn reports_where_tokens_go_wrong() {
        for (text, expected) in [
            ("a = 'open", "unterminated quoted text starting at 5"),
            ("a = 1x", "'1x' at 5 is not a number"),
            ("a = 1.2.3", "'1.2.3' at 5 is not a number"),
            ("a # 1", "unexpected character '#' at 3"),
            ("a ! 1", "unexpected character '!' at 3"),
        ] {
            let error = tokenize(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
