//! Parsing `EXEC` statements: stackql-style procedure calls such as
//! `EXEC runs.log_metric @run_id='3f2a' @key='val_loss' @value=0.31`.
//!
//! ```text
//! call      = (EXEC | EXECUTE) procedure { argument }
//! procedure = name { '.' name }
//! argument  = '@' name '=' value | '@@json' '=' string
//! value     = string | number | true | false | null | json | '@' name
//! ```
//!
//! Keywords and names are case-insensitive and come out lowercased. Whitespace,
//! newlines, commas and comments may separate the procedure and arguments, and
//! whitespace and comments may surround `=`. Strings are `'...'` or `"..."`,
//! with a doubled quote standing for one. A number is whatever Rust's `f64`
//! parser accepts (including NaN and infinities), kept as written so integers
//! lose no precision; any other bare word is an error, as it is most likely
//! text missing its quotes. JSON is an unquoted array or object literal.
//!
//! Error positions are relative to the statement text given to [`parse_exec`].

use super::script::{Cursor, Pos, read_json_extent, read_quoted, skip_comment};
use crate::error::RunqlError;

/// The value of one `@name=value` argument.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// A `'...'` or `"..."` string, quotes removed and doubled quotes unescaped.
    Text(String),
    /// A number as written, e.g. `42`, `-1.5e3`, `NaN`, `-Infinity`; it always parses as `f64`.
    Number(String),
    /// `true` or `false`, in any case.
    Bool(bool),
    /// `null`, in any case.
    Null,
    /// An unquoted JSON array or object literal.
    Json(serde_json::Value),
    /// `@name` as a value: a reference to a session variable (name lowercased, without `@`).
    Variable(String),
}

/// A parsed `EXEC` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecCall {
    /// The dotted procedure name, lowercased, e.g. `runs.log_metric`.
    pub procedure: String,
    /// The `@name=value` arguments in order, names lowercased without `@`.
    pub args: Vec<(String, ArgValue)>,
    /// The text of the `@@json=` string literal, unescaped; its JSON is not checked here.
    pub json: Option<String>,
    /// Line where the statement starts in its script: 1 from [`parse_exec`],
    /// for the caller to set from the statement's position.
    pub line: usize,
    /// Column where the statement starts in its script: 1 from [`parse_exec`].
    pub column: usize,
}

/// Parses `statement` as an `EXEC` call, or returns `Ok(None)` if it does not
/// start with `EXEC` or `EXECUTE` (after any whitespace and comments).
pub fn parse_exec(statement: &str) -> Result<Option<ExecCall>, RunqlError> {
    let mut cur = Cursor::new(statement);
    // A comment left open means this is no EXEC; DataFusion will say what is wrong.
    if skip_gaps(&mut cur, false).is_err() {
        return Ok(None);
    }
    let Some(len) = keyword_len(cur.rest()) else {
        return Ok(None);
    };
    let start = cur.offset();
    while cur.offset() < start + len && cur.bump().is_some() {}
    let keyword = cur.since(start).to_uppercase();
    let mut call = ExecCall {
        procedure: parse_procedure(&mut cur, &keyword)?,
        args: Vec::new(),
        json: None,
        line: 1,
        column: 1,
    };
    loop {
        skip_gaps(&mut cur, true)?;
        match cur.peek() {
            None => return Ok(Some(call)),
            Some('@') => parse_argument(&mut cur, &mut call)?,
            Some(_) => {
                return Err(RunqlError::invalid(format!(
                    "expected an argument (@name=value) at {}, found {}",
                    cur.pos(),
                    found(&cur)
                )));
            }
        }
    }
}

/// The statement from its first token on: leading whitespace and comments
/// skipped, so routing can look at the first keyword. An unclosed comment
/// leaves the text as it is, for DataFusion to report.
pub fn code_start(statement: &str) -> &str {
    let mut cur = Cursor::new(statement);
    match skip_gaps(&mut cur, false) {
        Ok(()) => cur.rest(),
        Err(_) => statement,
    }
}

/// Byte length of the `EXEC` or `EXECUTE` keyword (in any case) that `text`
/// starts with, if it starts with one rather than some other word.
pub(super) fn keyword_len(text: &str) -> Option<usize> {
    let len = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    let word = text.get(..len)?;
    (word.eq_ignore_ascii_case("exec") || word.eq_ignore_ascii_case("execute")).then_some(len)
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that end a bare word, and that are shown alone after "found".
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || ",;'\"`@=()[]{}".contains(c)
}

/// Skips whitespace and comments, and commas too if `commas`.
fn skip_gaps(cur: &mut Cursor<'_>, commas: bool) -> Result<(), RunqlError> {
    loop {
        match cur.peek() {
            Some(c) if c.is_whitespace() || (commas && c == ',') => {
                cur.bump();
            }
            _ => {
                if !skip_comment(cur)? {
                    return Ok(());
                }
            }
        }
    }
}

fn read_name<'a>(cur: &mut Cursor<'a>) -> &'a str {
    let start = cur.offset();
    while cur.peek().is_some_and(is_name_char) {
        cur.bump();
    }
    cur.since(start)
}

fn parse_procedure(cur: &mut Cursor<'_>, keyword: &str) -> Result<String, RunqlError> {
    skip_gaps(cur, false)?;
    let mut procedure = String::new();
    loop {
        let part = read_name(cur);
        if part.is_empty() {
            let what = if procedure.is_empty() {
                format!("a procedure name after {keyword}")
            } else {
                format!("a name after '{procedure}' in the procedure name")
            };
            return Err(RunqlError::invalid(format!(
                "expected {what} at {}, found {}",
                cur.pos(),
                found(cur)
            )));
        }
        procedure.push_str(&part.to_lowercase());
        if cur.peek() != Some('.') {
            return Ok(procedure);
        }
        cur.bump();
        procedure.push('.');
    }
}

/// Parses one `@name=value` or `@@json='...'` argument into `call`.
fn parse_argument(cur: &mut Cursor<'_>, call: &mut ExecCall) -> Result<(), RunqlError> {
    let at = cur.pos();
    cur.bump();
    let is_json = cur.peek() == Some('@');
    if is_json {
        cur.bump();
    }
    let sigil = if is_json { "@@" } else { "@" };
    let name = read_name(cur).to_lowercase();
    if name.is_empty() {
        return Err(RunqlError::invalid(format!(
            "expected an argument name after '{sigil}' at {}, found {}",
            cur.pos(),
            found(cur)
        )));
    }
    let shown = format!("{sigil}{name}");
    if is_json && name != "json" {
        return Err(RunqlError::invalid(format!(
            "unknown argument {shown} at {at}; @@json is the only @@ argument"
        )));
    }
    let duplicate = if is_json {
        call.json.is_some()
    } else {
        call.args.iter().any(|(seen, _)| *seen == name)
    };
    if duplicate {
        return Err(RunqlError::invalid(format!(
            "duplicate argument {shown} at {at}; each argument may be given once"
        )));
    }
    skip_gaps(cur, false)?;
    if cur.peek() != Some('=') {
        return Err(RunqlError::invalid(format!(
            "expected '=' after {shown} at {}, found {}",
            cur.pos(),
            found(cur)
        )));
    }
    cur.bump();
    skip_gaps(cur, false)?;
    if is_json {
        let Some(quote @ ('\'' | '"')) = cur.peek() else {
            return Err(RunqlError::invalid(format!(
                "expected a string literal for @@json at {}, found {}",
                cur.pos(),
                found(cur)
            )));
        };
        call.json = Some(read_quoted(cur, quote)?);
    } else {
        let value = parse_value(cur, &shown)?;
        call.args.push((name, value));
    }
    Ok(())
}

fn parse_value(cur: &mut Cursor<'_>, shown: &str) -> Result<ArgValue, RunqlError> {
    let at = cur.pos();
    match cur.peek() {
        Some(quote @ ('\'' | '"')) => Ok(ArgValue::Text(read_quoted(cur, quote)?)),
        Some('[' | '{') => {
            let text = read_json_extent(cur)?;
            crate::model::json::parse(text)
                .map(ArgValue::Json)
                .map_err(|e| json_error(shown, at, &e))
        }
        Some('@') => {
            cur.bump();
            let name = read_name(cur);
            if name.is_empty() {
                return Err(RunqlError::invalid(format!(
                    "expected a variable name after '@' in the value of {shown} at {}, found {}",
                    cur.pos(),
                    found(cur)
                )));
            }
            Ok(ArgValue::Variable(name.to_lowercase()))
        }
        _ => {
            let start = cur.offset();
            while cur.peek().is_some_and(|c| !is_delimiter(c))
                && !cur.starts_with("--")
                && !cur.starts_with("/*")
            {
                cur.bump();
            }
            let word = cur.since(start);
            if word.is_empty() {
                return Err(RunqlError::invalid(format!(
                    "expected a value for {shown} at {at}, found {}",
                    found(cur)
                )));
            }
            if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") {
                Ok(ArgValue::Bool(word.eq_ignore_ascii_case("true")))
            } else if word.eq_ignore_ascii_case("null") {
                Ok(ArgValue::Null)
            } else if word.parse::<f64>().is_ok() {
                Ok(ArgValue::Number(word.to_string()))
            } else {
                let word = printable(word);
                Err(RunqlError::invalid(format!(
                    "expected a string, number, true, false, null, JSON or @variable \
                     for {shown} at {at}, found bare word '{word}'; \
                     put text in quotes: {shown}='{word}'"
                )))
            }
        }
    }
}

/// Rewords a JSON parse error with its position in the statement rather than
/// in the JSON text.
fn json_error(shown: &str, start: Pos, e: &serde_json::Error) -> RunqlError {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    // serde_json counts columns in bytes, so positions after non-ASCII text are approximate.
    let pos = if e.line() <= 1 {
        Pos {
            line: start.line,
            column: start.column.saturating_add(e.column().saturating_sub(1)),
        }
    } else {
        Pos {
            line: start.line.saturating_add(e.line().saturating_sub(1)),
            column: e.column().max(1),
        }
    };
    RunqlError::invalid(format!("invalid JSON for {shown} at {pos}: {message}"))
}

/// Describes what is at the cursor, for the "found ..." of error messages.
fn found(cur: &Cursor<'_>) -> String {
    let rest = cur.rest();
    let Some(first) = rest.chars().next() else {
        return "end of statement".to_string();
    };
    if first == '\'' {
        return "\"'\"".to_string();
    }
    const LONGEST: usize = 24;
    let token: String = if is_delimiter(first) {
        first.to_string()
    } else {
        rest.chars()
            .take_while(|c| !is_delimiter(*c))
            .take(LONGEST + 1)
            .collect()
    };
    let mut shown = printable(&token.chars().take(LONGEST).collect::<String>());
    if token.chars().count() > LONGEST {
        shown.push_str("...");
    }
    format!("'{shown}'")
}

/// `text` with control characters escaped, so messages stay on one line.
fn printable(text: &str) -> String {
    let mut shown = String::new();
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use crate::sql::mutation::{self, Rng};
    use serde_json::json;

    use super::*;
    use crate::sql::script::split_statements;

    fn text(s: &str) -> ArgValue {
        ArgValue::Text(s.to_string())
    }

    fn number(s: &str) -> ArgValue {
        ArgValue::Number(s.to_string())
    }

    fn call(procedure: &str, args: Vec<(&str, ArgValue)>, json: Option<&str>) -> ExecCall {
        ExecCall {
            procedure: procedure.to_string(),
            args: args
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
            json: json.map(str::to_string),
            line: 1,
            column: 1,
        }
    }

    /// Parses a statement as a script would reach it: split off its `;` first.
    fn parse(script: &str) -> ExecCall {
        let statements = match split_statements(script) {
            Ok(statements) => statements,
            Err(e) => panic!("split of {script:?} failed: {e}"),
        };
        assert_eq!(statements.len(), 1, "{script:?}");
        match parse_exec(&statements[0].text) {
            Ok(Some(call)) => call,
            other => panic!("{script:?} parsed to {other:?}"),
        }
    }

    fn error(statement: &str) -> String {
        match parse_exec(statement) {
            Err(e) => e.to_string(),
            other => panic!("{statement:?} parsed to {other:?}"),
        }
    }

    const EXAMPLES: [&str; 6] = [
        "EXEC runs.log_metric @run_id='3f2a' @key='val_loss' @value=0.31 @step=4;",
        r#"EXEC runs.log_batch @@json='{"run_id": "3f2a", "metrics": [{"key":"a","value":1,"timestamp":5,"step":0}]}';"#,
        r#"EXEC databricks_workspace.ml.experiment_runs.delete_bulk
  @deployment_name='x' --required
  @@json=
  '{
  "experiment_id": "1",
  "max_timestamp_millis": 1700000000000,
  "max_runs": "500"
  }'
;"#,
        r#"EXEC runs.compare @run_ids='["a","b","c"]';"#,
        r#"EXEC runs.create, @experiment_id = @experiment_id, @tags = [{"key": "k", "value": "v"}];"#,
        r#"EXEC runs.search @experiment_ids=["1"] @filter="metrics.rmse < 1 and params.model = 'LR'" @max_results=10 @flag=true @none=null @value=NaN @neg=-Infinity;"#,
    ];

    #[test]
    fn parses_the_documented_examples() {
        let expected = [
            call(
                "runs.log_metric",
                vec![
                    ("run_id", text("3f2a")),
                    ("key", text("val_loss")),
                    ("value", number("0.31")),
                    ("step", number("4")),
                ],
                None,
            ),
            call(
                "runs.log_batch",
                vec![],
                Some(
                    r#"{"run_id": "3f2a", "metrics": [{"key":"a","value":1,"timestamp":5,"step":0}]}"#,
                ),
            ),
            call(
                "databricks_workspace.ml.experiment_runs.delete_bulk",
                vec![("deployment_name", text("x"))],
                Some(
                    "{\n  \"experiment_id\": \"1\",\n  \"max_timestamp_millis\": 1700000000000,\n  \
                     \"max_runs\": \"500\"\n  }",
                ),
            ),
            call(
                "runs.compare",
                vec![("run_ids", text(r#"["a","b","c"]"#))],
                None,
            ),
            call(
                "runs.create",
                vec![
                    (
                        "experiment_id",
                        ArgValue::Variable("experiment_id".to_string()),
                    ),
                    ("tags", ArgValue::Json(json!([{"key": "k", "value": "v"}]))),
                ],
                None,
            ),
            call(
                "runs.search",
                vec![
                    ("experiment_ids", ArgValue::Json(json!(["1"]))),
                    ("filter", text("metrics.rmse < 1 and params.model = 'LR'")),
                    ("max_results", number("10")),
                    ("flag", ArgValue::Bool(true)),
                    ("none", ArgValue::Null),
                    ("value", number("NaN")),
                    ("neg", number("-Infinity")),
                ],
                None,
            ),
        ];
        for (example, expected) in EXAMPLES.iter().zip(expected) {
            assert_eq!(parse(example), expected, "{example}");
        }
    }

    #[test]
    fn only_exec_and_execute_statements_are_calls() {
        for other in [
            "",
            "SELECT 1",
            "executed x",
            "exec_x @a=1",
            "'EXEC x'",
            "-- EXEC x\nSELECT 1",
            "/* EXEC x */ SELECT 1",
            "/* unterminated EXEC x",
        ] {
            assert_eq!(parse_exec(other).ok(), Some(None), "{other:?}");
        }
        let expected = call("runs.get", vec![("run_id", text("a"))], None);
        for statement in [
            "EXEC runs.get @run_id='a'",
            "execute Runs.GET @RUN_ID='a'",
            "  -- why\n /* how */ ExEc\n\truns.get\n@run_id\n=\n'a'",
            "EXEC/**/runs.get/**/@run_id/**/=/**/'a'/**/",
            "EXEC runs.get, @run_id='a',",
            "EXEC runs.get@run_id='a'",
        ] {
            assert_eq!(
                parse_exec(statement).ok(),
                Some(Some(expected.clone())),
                "{statement:?}"
            );
        }
    }

    #[test]
    fn parses_every_kind_of_value() {
        let parsed = parse(
            r#"EXEC p @a='it''s' @b="say ""hi""" @c='' @d=-1.5e3 @e=+.5 @f=inf @g=-INF
               @h=nan @i=TRUE @j=False @k=NULL @l={"x": [1, "]}"], "y": "\"{"} @m=[]
               @n=@Some_Var @o = 42 , @p=1700000000000"#,
        );
        assert_eq!(
            parsed.args,
            [
                ("a".to_string(), text("it's")),
                ("b".to_string(), text("say \"hi\"")),
                ("c".to_string(), text("")),
                ("d".to_string(), number("-1.5e3")),
                ("e".to_string(), number("+.5")),
                ("f".to_string(), number("inf")),
                ("g".to_string(), number("-INF")),
                ("h".to_string(), number("nan")),
                ("i".to_string(), ArgValue::Bool(true)),
                ("j".to_string(), ArgValue::Bool(false)),
                ("k".to_string(), ArgValue::Null),
                (
                    "l".to_string(),
                    ArgValue::Json(json!({"x": [1, "]}"], "y": "\"{"})),
                ),
                ("m".to_string(), ArgValue::Json(json!([]))),
                ("n".to_string(), ArgValue::Variable("some_var".to_string())),
                ("o".to_string(), number("42")),
                ("p".to_string(), number("1700000000000")),
            ]
        );
        // @@json keeps its text as written, valid JSON or not, and may be double-quoted.
        assert_eq!(
            parse(r#"EXEC p @@JSON = "{not json ""x""}" @json=1"#),
            call("p", vec![("json", number("1"))], Some(r#"{not json "x"}"#))
        );
    }

    #[test]
    fn errors_say_what_was_expected_and_where() {
        for (statement, message) in [
            (
                "EXEC",
                "expected a procedure name after EXEC at line 1, column 5, found end of statement",
            ),
            (
                "execute @a=1",
                "expected a procedure name after EXECUTE at line 1, column 9, found '@'",
            ),
            (
                "EXEC runs. @a=1",
                "expected a name after 'runs.' in the procedure name at line 1, column 11, found ' '",
            ),
            (
                "EXEC runs.log_metric @run_id 0.3",
                "expected '=' after @run_id at line 1, column 30, found '0.3'",
            ),
            (
                "EXEC p @a",
                "expected '=' after @a at line 1, column 10, found end of statement",
            ),
            (
                "EXEC p @='x'",
                "expected an argument name after '@' at line 1, column 9, found '='",
            ),
            (
                "EXEC p @a=1\n  @A=2",
                "duplicate argument @a at line 2, column 3; each argument may be given once",
            ),
            (
                "EXEC p @@json='{}' @@json='{}'",
                "duplicate argument @@json at line 1, column 20; each argument may be given once",
            ),
            (
                "EXEC p @@data='{}'",
                "unknown argument @@data at line 1, column 8; @@json is the only @@ argument",
            ),
            (
                "EXEC p @@json={\"a\": 1}",
                "expected a string literal for @@json at line 1, column 15, found '{'",
            ),
            (
                "EXEC p @key=val_loss",
                "expected a string, number, true, false, null, JSON or @variable for @key \
                 at line 1, column 13, found bare word 'val_loss'; put text in quotes: @key='val_loss'",
            ),
            (
                "EXEC p @v=1.2.3",
                "expected a string, number, true, false, null, JSON or @variable for @v \
                 at line 1, column 11, found bare word '1.2.3'; put text in quotes: @v='1.2.3'",
            ),
            (
                "EXEC p @v=0x10",
                "expected a string, number, true, false, null, JSON or @variable for @v \
                 at line 1, column 11, found bare word '0x10'; put text in quotes: @v='0x10'",
            ),
            (
                "EXEC p @v= -- nothing\n",
                "expected a value for @v at line 2, column 1, found end of statement",
            ),
            (
                "EXEC p @v=, @w=1",
                "expected a value for @v at line 1, column 11, found ','",
            ),
            (
                "EXEC p @v=@",
                "expected a variable name after '@' in the value of @v at line 1, column 12, \
                 found end of statement",
            ),
            (
                "EXEC p @a=1 2",
                "expected an argument (@name=value) at line 1, column 13, found '2'",
            ),
            (
                "EXEC runs.log_metric('a', 1)",
                "expected an argument (@name=value) at line 1, column 21, found '('",
            ),
            (
                "EXEC p @a='x''y'z",
                "expected an argument (@name=value) at line 1, column 17, found 'z'",
            ),
            (
                "EXEC p @a=1 'x'",
                "expected an argument (@name=value) at line 1, column 13, found \"'\"",
            ),
            (
                "EXEC p @a=[1]]",
                "expected an argument (@name=value) at line 1, column 14, found ']'",
            ),
            (
                "EXEC p @a=1;",
                "expected an argument (@name=value) at line 1, column 12, found ';'",
            ),
            (
                "EXEC p @a=1 averyveryverylongwordthatgoesonandon",
                "expected an argument (@name=value) at line 1, column 13, \
                 found 'averyveryverylongwordtha...'",
            ),
            (
                "EXEC p\n\n  @a='abc",
                "unterminated string starting at line 3, column 6; expected a closing '",
            ),
            (
                "EXEC p @a=\"abc",
                "unterminated double-quoted string or identifier starting at line 1, column 11; \
                 expected a closing \"",
            ),
            (
                "EXEC p @a=1 /* and",
                "unterminated block comment starting at line 1, column 13; expected a closing */",
            ),
            (
                "EXEC p @a=[{\"b\": 1}",
                "unterminated JSON array starting at line 1, column 11; \
                 expected its brackets to be closed",
            ),
            (
                "EXEC p @a=[1, 2,]",
                "invalid JSON for @a at line 1, column 17: trailing comma",
            ),
            (
                "EXEC p\n  @tags = [{\"key\": \"k\",\n    \"value\": v}]",
                "invalid JSON for @tags at line 3, column 14: expected value",
            ),
            (
                "EXEC p @a={'k': 1}",
                "invalid JSON for @a at line 1, column 12: key must be a string",
            ),
        ] {
            assert_eq!(error(statement), message, "{statement:?}");
        }
    }

    #[test]
    fn control_characters_in_messages_are_escaped() {
        assert_eq!(
            error("EXEC p @a=x\u{7}y"),
            "expected a string, number, true, false, null, JSON or @variable for @a \
             at line 1, column 11, found bare word 'x\\u{7}y'; put text in quotes: @a='x\\u{7}y'"
        );
    }

    /// Bytes that matter to the parser, so mutations hit its edge cases often.
    const SPICE: &[u8] = b"';\"`-/*[]{}\\@=,.+ \n\r0eE9aNIxEXEC\xc3\xa9\x00";

    fn mutate(rng: &mut Rng, input: &[u8]) -> String {
        mutation::mutate(rng, input, SPICE)
    }

    /// What must hold for any input: no panic, and a call has a procedure and
    /// distinct argument names.
    fn check(statement: &str) {
        if let Ok(Some(call)) = parse_exec(statement) {
            assert!(!call.procedure.is_empty(), "{statement:?}");
            for (i, (name, _)) in call.args.iter().enumerate() {
                assert!(!name.is_empty(), "{statement:?}");
                assert!(
                    call.args[..i].iter().all(|(seen, _)| seen != name),
                    "{statement:?} gave {name} twice"
                );
            }
        }
        if let Ok(statements) = split_statements(statement) {
            for piece in statements {
                let _ = parse_exec(&piece.text);
            }
        }
    }

    #[test]
    fn garbled_input_never_panics() {
        for example in EXAMPLES {
            for (i, c) in example.char_indices() {
                check(&example[..i]);
                check(&example[i + c.len_utf8()..]);
            }
        }
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for example in EXAMPLES {
            for _ in 0..3000 {
                check(&mutate(&mut rng, example.as_bytes()));
            }
        }
        for _ in 0..3000 {
            let mut noise: Vec<u8> = b"EXEC ".to_vec();
            noise.extend((0..rng.below(40)).map(|_| SPICE[rng.below(SPICE.len())]));
            check(&String::from_utf8_lossy(&noise));
        }
    }
}
