//! Splitting a script into statements, and telling a REPL whether its input
//! is complete.
//!
//! Only enough SQL is lexed to find the `;` that end statements: single-quoted
//! strings (`''` escapes a quote), double-quoted and backtick identifiers,
//! `--` line comments and `/* */` block comments, which nest as they do in
//! DataFusion's default (generic) dialect. In an `EXEC` statement an unquoted
//! `[...]` or `{...}` is a JSON literal, lexed by JSON's rules (backslash
//! escapes in `"` strings), so a `;` or `\"` inside one cannot end it early.
//!
//! The lexing helpers are shared with the `EXEC` parser in [`super::exec`], so
//! both agree on where strings and comments end and report positions alike.

use std::fmt;

use crate::error::RunqlError;

/// One statement of a script, without its terminating `;`, trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The statement's text; comments inside it are kept.
    pub text: String,
    /// 1-based line where the statement starts in the script.
    pub line: usize,
    /// 1-based column, in characters, where the statement starts in the script.
    pub column: usize,
}

/// Splits a script into its statements.
///
/// Statements holding only whitespace and comments are dropped; a last
/// statement without a `;` is still returned. A string, quoted identifier,
/// block comment or `EXEC` JSON literal left open is an error naming where
/// it starts.
pub fn split_statements(script: &str) -> Result<Vec<Statement>, RunqlError> {
    let mut cur = Cursor::new(script);
    let mut statements = Vec::new();
    while let Some(span) = scan_statement(&mut cur)? {
        let text = script.get(span.start..span.end).unwrap_or_default().trim();
        if span.has_code {
            statements.push(Statement {
                text: text.to_string(),
                line: span.start_pos.line,
                column: span.start_pos.column,
            });
        }
    }
    Ok(statements)
}

/// Whether `text` is ready to run: it does not end inside a string, quoted
/// identifier, block comment or `EXEC` JSON literal, and its last statement
/// ends with `;`.
///
/// A trailing `-- comment` after the `;` does not make it incomplete, and text
/// holding only whitespace and comments is complete, as there is nothing to
/// wait for.
pub fn is_complete(text: &str) -> bool {
    let mut cur = Cursor::new(text);
    loop {
        match scan_statement(&mut cur) {
            // Every lexing error is something left open, which more input can close.
            Err(_) => return false,
            Ok(None) => return true,
            Ok(Some(span)) if span.has_code && !span.terminated => return false,
            Ok(Some(_)) => {}
        }
    }
}

/// Where one statement lies in the script.
struct Span {
    /// Byte offsets of the statement's text, from its first non-whitespace
    /// character to just before its `;` (or the end of the script).
    start: usize,
    end: usize,
    start_pos: Pos,
    /// Whether anything besides whitespace and comments was seen.
    has_code: bool,
    /// Whether the statement ended with `;` rather than the end of the script.
    terminated: bool,
}

/// Scans the next statement, consuming its `;`; `None` at the end of the script.
fn scan_statement(cur: &mut Cursor<'_>) -> Result<Option<Span>, RunqlError> {
    while cur.peek().is_some_and(char::is_whitespace) {
        cur.bump();
    }
    if cur.peek().is_none() {
        return Ok(None);
    }
    let mut span = Span {
        start: cur.offset(),
        end: cur.offset(),
        start_pos: cur.pos(),
        has_code: false,
        terminated: false,
    };
    let mut exec = false;
    loop {
        span.end = cur.offset();
        let Some(c) = cur.peek() else {
            return Ok(Some(span));
        };
        if c.is_whitespace() {
            cur.bump();
            continue;
        }
        if skip_comment(cur)? {
            continue;
        }
        if c == ';' {
            cur.bump();
            span.terminated = true;
            return Ok(Some(span));
        }
        if !span.has_code {
            span.has_code = true;
            exec = super::exec::keyword_len(cur.rest()).is_some();
        }
        match c {
            '\'' | '"' | '`' => {
                read_quoted(cur, c)?;
            }
            '[' | '{' if exec => {
                read_json_extent(cur)?;
            }
            _ => {
                cur.bump();
            }
        }
    }
}

/// A 1-based line and column; columns count characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A reader over text that knows the position of its next character.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    text: &'a str,
    offset: usize,
    pos: Pos,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor {
            text,
            offset: 0,
            pos: Pos { line: 1, column: 1 },
        }
    }

    /// The text not yet consumed.
    pub(crate) fn rest(&self) -> &'a str {
        self.text.get(self.offset..).unwrap_or_default()
    }

    /// The text consumed since byte offset `from`.
    pub(crate) fn since(&self, from: usize) -> &'a str {
        self.text.get(from..self.offset).unwrap_or_default()
    }

    /// Byte offset of the next character.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// Position of the next character.
    pub(crate) fn pos(&self) -> Pos {
        self.pos
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn starts_with(&self, prefix: &str) -> bool {
        self.rest().starts_with(prefix)
    }

    /// Consumes the next `len` bytes at once, which must end on a character
    /// boundary; the position moves as `len` bytes of [`Cursor::bump`] would.
    pub(crate) fn advance(&mut self, len: usize) {
        let skipped = self.rest().get(..len).unwrap_or_default();
        match skipped.rfind('\n') {
            Some(last) => {
                self.pos.line += skipped.bytes().filter(|&b| b == b'\n').count();
                self.pos.column = 1 + skipped[last + 1..].chars().count();
            }
            None => self.pos.column += skipped.chars().count(),
        }
        self.offset += skipped.len();
    }

    /// Consumes and returns the next character.
    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }
}

/// Consumes a `--` or `/* */` comment if one starts at the cursor, returning
/// whether one did. Block comments nest, as in DataFusion's default dialect.
pub(crate) fn skip_comment(cur: &mut Cursor<'_>) -> Result<bool, RunqlError> {
    if cur.starts_with("--") {
        while let Some(c) = cur.bump() {
            if c == '\n' {
                break;
            }
        }
        return Ok(true);
    }
    if !cur.starts_with("/*") {
        return Ok(false);
    }
    let start = cur.pos();
    cur.bump();
    cur.bump();
    let mut depth = 1usize;
    loop {
        if cur.starts_with("*/") {
            cur.bump();
            cur.bump();
            depth -= 1;
            if depth == 0 {
                return Ok(true);
            }
        } else if cur.starts_with("/*") {
            cur.bump();
            cur.bump();
            depth += 1;
        } else if cur.bump().is_none() {
            return Err(RunqlError::invalid(format!(
                "unterminated block comment starting at {start}; expected a closing */"
            )));
        }
    }
}

/// Reads a string or identifier quoted with `quote`, which must be the next
/// character, and returns its content; a doubled quote stands for one.
pub(crate) fn read_quoted(cur: &mut Cursor<'_>, quote: char) -> Result<String, RunqlError> {
    let start = cur.pos();
    cur.bump();
    let mut content = String::new();
    loop {
        // Up to the next quote in one step: a quoted JSON body can be long.
        let rest = cur.rest();
        match rest.find(quote) {
            Some(at) => {
                content.push_str(&rest[..at]);
                cur.advance(at);
                cur.bump();
                if cur.peek() != Some(quote) {
                    return Ok(content);
                }
                cur.bump();
                content.push(quote);
            }
            None => {
                let what = match quote {
                    '\'' => "string",
                    '"' => "double-quoted string or identifier",
                    _ => "quoted identifier",
                };
                return Err(RunqlError::invalid(format!(
                    "unterminated {what} starting at {start}; expected a closing {quote}"
                )));
            }
        }
    }
}

/// Reads a JSON array or object whose opening bracket is the next character,
/// up to its matching close, and returns its text. Brackets inside JSON
/// strings don't count; whether the text is valid JSON is left to a JSON
/// parser.
pub(crate) fn read_json_extent<'a>(cur: &mut Cursor<'a>) -> Result<&'a str, RunqlError> {
    let start = cur.offset();
    let start_pos = cur.pos();
    let what = if cur.peek() == Some('{') {
        "JSON object"
    } else {
        "JSON array"
    };
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    while let Some(c) = cur.bump() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(cur.since(start));
                }
            }
            _ => {}
        }
    }
    let open = if in_string {
        "a string inside it"
    } else {
        "its brackets"
    };
    Err(RunqlError::invalid(format!(
        "unterminated {what} starting at {start_pos}; expected {open} to be closed"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::mutation::{self, Rng};

    fn stmt(text: &str, line: usize, column: usize) -> Statement {
        Statement {
            text: text.to_string(),
            line,
            column,
        }
    }

    fn split(script: &str) -> Vec<Statement> {
        match split_statements(script) {
            Ok(statements) => statements,
            Err(e) => panic!("split of {script:?} failed: {e}"),
        }
    }

    fn texts(script: &str) -> Vec<String> {
        split(script).into_iter().map(|s| s.text).collect()
    }

    fn split_error(script: &str) -> String {
        match split_statements(script) {
            Ok(statements) => panic!("split of {script:?} succeeded: {statements:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// The examples from the EXEC syntax's documentation, one script.
    const EXAMPLES: &str = r#"EXEC runs.log_metric @run_id='3f2a' @key='val_loss' @value=0.31 @step=4;
EXEC runs.log_batch @@json='{"run_id": "3f2a", "metrics": [{"key":"a","value":1,"timestamp":5,"step":0}]}';
EXEC databricks_workspace.ml.experiment_runs.delete_bulk
  @deployment_name='x' --required
  @@json=
  '{
  "experiment_id": "1",
  "max_timestamp_millis": 1700000000000,
  "max_runs": "500"
  }'
;
EXEC runs.compare @run_ids='["a","b","c"]';
EXEC runs.create, @experiment_id = @experiment_id, @tags = [{"key": "k", "value": "v"}];
EXEC runs.search @experiment_ids=["1"] @filter="metrics.rmse < 1 and params.model = 'LR'" @max_results=10 @flag=true @none=null @value=NaN @neg=-Infinity;
"#;

    #[test]
    fn splits_the_documented_examples() {
        let statements = split(EXAMPLES);
        let starts: Vec<(usize, usize)> = statements.iter().map(|s| (s.line, s.column)).collect();
        assert_eq!(starts, [(1, 1), (2, 1), (3, 1), (12, 1), (13, 1), (14, 1)]);
        assert_eq!(
            statements[0].text,
            "EXEC runs.log_metric @run_id='3f2a' @key='val_loss' @value=0.31 @step=4"
        );
        assert_eq!(
            statements[2].text,
            "EXEC databricks_workspace.ml.experiment_runs.delete_bulk\n  \
             @deployment_name='x' --required\n  @@json=\n  '{\n  \"experiment_id\": \"1\",\n  \
             \"max_timestamp_millis\": 1700000000000,\n  \"max_runs\": \"500\"\n  }'"
        );
        assert_eq!(
            statements[5].text,
            "EXEC runs.search @experiment_ids=[\"1\"] @filter=\"metrics.rmse < 1 and params.model = 'LR'\" \
             @max_results=10 @flag=true @none=null @value=NaN @neg=-Infinity"
        );
        assert!(is_complete(EXAMPLES));
    }

    #[test]
    fn reports_where_each_statement_starts() {
        assert_eq!(
            split("SELECT 1;  SELECT 2;\n\n   SELECT\n 3"),
            [
                stmt("SELECT 1", 1, 1),
                stmt("SELECT 2", 1, 12),
                stmt("SELECT\n 3", 3, 4),
            ]
        );
        // Columns count characters, and \r is just another character.
        assert_eq!(
            split("SELECT 'é';\r\nSELECT 2; SELECT 3"),
            [
                stmt("SELECT 'é'", 1, 1),
                stmt("SELECT 2", 2, 1),
                stmt("SELECT 3", 2, 11),
            ]
        );
    }

    #[test]
    fn semicolons_inside_strings_identifiers_and_comments_do_not_split() {
        assert_eq!(
            texts("SELECT 'a;b'; SELECT 2"),
            ["SELECT 'a;b'", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT 'it''s; fine', 'x'; SELECT 2"),
            ["SELECT 'it''s; fine', 'x'", "SELECT 2"]
        );
        assert_eq!(
            texts(r#"SELECT "a;""b" FROM t; SELECT 2"#),
            [r#"SELECT "a;""b" FROM t"#, "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT `a;b`; SELECT 2"),
            ["SELECT `a;b`", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT 1 -- one; two\n; SELECT 2"),
            ["SELECT 1 -- one; two", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT /* a; /* nested; */ still; */ 1; SELECT 2"),
            ["SELECT /* a; /* nested; */ still; */ 1", "SELECT 2"]
        );
        // Quotes of one kind inside another are plain characters.
        assert_eq!(
            texts(r#"SELECT '"', "'", '`--/*'; SELECT 2"#),
            [r#"SELECT '"', "'", '`--/*'"#, "SELECT 2"]
        );
        // `-` and `/` alone start nothing.
        assert_eq!(
            texts("SELECT 4-2/1; SELECT -1"),
            ["SELECT 4-2/1", "SELECT -1"]
        );
    }

    #[test]
    fn drops_empty_and_comment_only_statements_but_keeps_comments_in_others() {
        assert_eq!(split(""), []);
        assert_eq!(split(" \n\t "), []);
        assert_eq!(split(";; ;\n-- nothing\n; /* nor; this */ ;"), []);
        assert_eq!(split("SELECT 1; -- done"), [stmt("SELECT 1", 1, 1)]);
        assert_eq!(
            split("-- the answer\nSELECT 42 /* why */ -- sure\n;"),
            [stmt("-- the answer\nSELECT 42 /* why */ -- sure", 1, 1)]
        );
    }

    #[test]
    fn json_literals_in_exec_statements_follow_json_rules() {
        // In JSON `\"` escapes a quote, so the `;` after it is still inside the string.
        let script =
            r#"EXEC runs.create @tags=[{"key": "note", "value": "say \"hi; there\""}]; SELECT 2"#;
        assert_eq!(
            texts(script),
            [
                r#"EXEC runs.create @tags=[{"key": "note", "value": "say \"hi; there\""}]"#,
                "SELECT 2"
            ]
        );
        assert_eq!(
            texts("execute x @a={\"b\": \"it's; ok\"}; SELECT 2"),
            ["execute x @a={\"b\": \"it's; ok\"}", "SELECT 2"]
        );
        // Outside EXEC, brackets are SQL and `"a\"` is the identifier a\.
        assert_eq!(
            texts(r#"SELECT [1, 2] AS "a\"; SELECT 2"#),
            [r#"SELECT [1, 2] AS "a\""#, "SELECT 2"]
        );
        // A word that merely starts with EXEC is not the keyword.
        assert_eq!(
            texts(r#"EXECUTED [1, "a\"; SELECT 2"#),
            [r#"EXECUTED [1, "a\""#, "SELECT 2"]
        );
    }

    #[test]
    fn unterminated_strings_and_comments_name_their_start() {
        assert_eq!(
            split_error("SELECT 1;\n\n  SELECT 'abc;\nSELECT 2;"),
            "unterminated string starting at line 3, column 10; expected a closing '"
        );
        assert_eq!(
            split_error("SELECT 'it''s"),
            "unterminated string starting at line 1, column 8; expected a closing '"
        );
        assert_eq!(
            split_error("SELECT \"a"),
            "unterminated double-quoted string or identifier starting at line 1, column 8; \
             expected a closing \""
        );
        assert_eq!(
            split_error("SELECT `a"),
            "unterminated quoted identifier starting at line 1, column 8; expected a closing `"
        );
        assert_eq!(
            split_error("SELECT 1; /* a /* b */ c"),
            "unterminated block comment starting at line 1, column 11; expected a closing */"
        );
        assert_eq!(
            split_error("EXEC x\n @a=[{\"b\": 1}; SELECT 2"),
            "unterminated JSON array starting at line 2, column 5; expected its brackets to be closed"
        );
        assert_eq!(
            split_error("EXEC x @a={\"b]}"),
            "unterminated JSON object starting at line 1, column 11; \
             expected a string inside it to be closed"
        );
    }

    #[test]
    fn is_complete_wants_a_final_semicolon_outside_strings_and_comments() {
        for complete in [
            "",
            "  \n",
            "-- just a comment",
            "SELECT 1;",
            "SELECT 1;  \n",
            "SELECT 1; -- done",
            "SELECT 1; /* done */",
            "SELECT ';';",
            "EXEC x @a=[\"]\", 1];",
            EXAMPLES,
        ] {
            assert!(is_complete(complete), "{complete:?} should be complete");
        }
        for incomplete in [
            "SELECT 1",
            "SELECT 1; SELECT 2",
            "SELECT 1 -- ;",
            "SELECT 'a;",
            "SELECT 'a'';'",
            "SELECT \"a;",
            "SELECT `a;",
            "SELECT 1 /* ; */",
            "SELECT 1; /* ;",
            "SELECT 1; /* /* */ ;",
            "EXEC x @a=[1,\n",
            "EXEC x @a=[\"];",
            "EXEC x @@json='{\n",
        ] {
            assert!(
                !is_complete(incomplete),
                "{incomplete:?} should be incomplete"
            );
        }
    }

    /// Bytes that matter to the lexer, so mutations hit its edge cases often.
    const SPICE: &[u8] = b"';\"`-/*[]{}\\@=, \n\rEXEC\xc3\xa9\x00";

    fn mutate(rng: &mut Rng, input: &[u8]) -> String {
        mutation::mutate(rng, input, SPICE)
    }

    /// What must hold for any input: no panic, and each statement's text is
    /// found at the position reported for it.
    fn check(script: &str) {
        let complete = is_complete(script);
        let Ok(statements) = split_statements(script) else {
            assert!(!complete, "{script:?} failed to split but is complete");
            return;
        };
        let lines: Vec<&str> = script.split('\n').collect();
        for statement in statements {
            assert!(!statement.text.is_empty());
            let line = lines[statement.line - 1];
            let at: String = line.chars().skip(statement.column - 1).collect();
            let rest = format!("{at}\n{}", lines[statement.line..].join("\n"));
            assert!(
                rest.starts_with(&statement.text),
                "{statement:?} is not where reported in {script:?}"
            );
        }
    }

    #[test]
    fn garbled_input_never_panics() {
        for (i, c) in EXAMPLES.char_indices() {
            check(&EXAMPLES[..i + c.len_utf8()]);
        }
        let seeds = [
            EXAMPLES,
            "SELECT 'a''b', \"c\"\"d\", `e` -- f\n/* g /* h */ */;",
            "EXEC x @a=[{\"k\": \"\\\"]\"}] @b='c';",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for seed in seeds {
            for _ in 0..3000 {
                check(&mutate(&mut rng, seed.as_bytes()));
            }
        }
        for _ in 0..3000 {
            let noise: Vec<u8> = (0..rng.below(40))
                .map(|_| SPICE[rng.below(SPICE.len())])
                .collect();
            check(&String::from_utf8_lossy(&noise));
        }
    }
}
