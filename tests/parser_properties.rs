//! No-panic properties of runql's parsers on generated input: the stable-
//! toolchain stand-in for `cargo fuzz` targets (see the fuzzing requirement),
//! one module per target:
//!
//! - [`exec`]: the `EXEC` argument parser ([`parse_exec`]) and the script
//!   splitter around it ([`split_statements`], [`is_complete`],
//!   [`code_start`]), fed arbitrary text, token soups, byte-level mutations of
//!   every procedure's example, and generated well-formed statements that
//!   must parse back to what was generated.
//! - [`filter`]: the search filter and order-by parsers; every filter that
//!   parses also plans and runs, failing (if at all) only with
//!   INVALID_PARAMETER_VALUE, never an internal error.
//! - [`json_body`]: the `@@json` body decoder: the body text is parsed as a
//!   JSON object, merged with the `@name` arguments, checked by
//!   [`Args::new`] for every one of the procedures, and read through every
//!   typed getter and every `Args::json` decoder the procedures use
//!   (metrics, params/tags, datasets, models, model JSON). Bodies are
//!   arbitrary text, mutated JSON, and structure-aware JSON trees with extreme
//!   numbers (1e308, -0.0, 1e400, integers beyond `i64`/`u64`), long strings,
//!   control characters, unicode, JSON-in-strings, bounded deep nesting and
//!   wrong types. Errors must be INVALID_PARAMETER_VALUE, and a procedure's
//!   arguments that pass `Args::new` must read back through the getter of
//!   their declared kind. Finally generated `EXEC <procedure> @@json='...'`
//!   statements run through `Session::execute` on a `memory://` store, where
//!   any failure must be INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST or
//!   RESOURCE_ALREADY_EXISTS.
//!
//! The merge of `@@json` with `@name` arguments (`Session::exec`) is private,
//! so the parser-level properties repeat its few lines in [`json_body::merged`];
//! the store property reaches the real one through `Session::execute`.
//!
//! Panics are caught by proptest, which shrinks the input and reports the
//! minimal one. Failures are not persisted to files; a crashing input found
//! by a long run is added below as a plain `#[test]` holding the literal input.
//!
//! # Running
//!
//! `PROPTEST_CASES` scales every property. By default (256 cases) the whole
//! file runs in well under a minute in a debug build; properties that execute
//! statements run at most 64 (filters) or 48 (`@@json` bodies) cases then,
//! and `PROPTEST_CASES / 100` when `PROPTEST_CASES` is set. Each property
//! prints its case count and time to stderr (seen with `--nocapture`), and
//! every 30 s of a long run its progress. A long local run, one target at a
//! time, each about 10 to 12 minutes on a debug build:
//!
//! ```text
//! export CARGO_TARGET_DIR=$HOME/.cache/runql-target
//! cargo test --test parser_properties --no-run
//! BIN=$(ls -t $CARGO_TARGET_DIR/debug/deps/parser_properties-* | grep -v '\.d$' | head -1)
//! PROPTEST_CASES=130000 timeout 1500 $BIN exec:: --test-threads=1 --nocapture
//! PROPTEST_CASES=165000 timeout 1500 $BIN filter:: --test-threads=1 --nocapture
//! PROPTEST_CASES=155000 timeout 1500 $BIN json_body:: --test-threads=1 --nocapture
//! ```
//!
//! `PROPTEST_RNG_SEED=<n>` makes a run repeatable. Inputs that crashed are
//! kept in [`regressions`] as plain tests with the literal input.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use runql::procedures::{ALL, Procedure};

/// Cases for a cheap property: `PROPTEST_CASES`, or proptest's default of 256.
fn fast() -> ProptestConfig {
    ProptestConfig {
        // A failure is reported with its minimal input; it is not written to
        // a proptest-regressions file beside this one.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Cases for a property that executes statements: at most `cap` by default,
/// so CI stays fast, and `PROPTEST_CASES / 100` when that is set for a long run.
fn slow(cap: u32) -> ProptestConfig {
    let config = fast();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        (config.cases / 100).max(1)
    } else {
        config.cases.min(cap)
    };
    ProptestConfig { cases, ..config }
}

/// Runs one property, counting its cases (shrinking steps included) and
/// printing the count and time, so a long run says how much it did.
fn check<S>(
    name: &str,
    config: ProptestConfig,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let started = Instant::now();
    let cases = AtomicU64::new(0);
    let mut runner = TestRunner::new(config);
    // A long run (PROPTEST_CASES set) reports progress every 30 s, so a run
    // cut short by `timeout` still says how far it got.
    let progress = std::env::var_os("PROPTEST_CASES").is_some();
    let reported = AtomicU64::new(0);
    let result = runner.run(&strategy, |value| {
        let done = cases.fetch_add(1, Ordering::Relaxed) + 1;
        let seconds = started.elapsed().as_secs();
        if progress && seconds >= reported.load(Ordering::Relaxed) + 30 {
            reported.store(seconds, Ordering::Relaxed);
            eprintln!("{name}: {done} cases after {seconds} s");
        }
        test(value)
    });
    eprintln!(
        "{name}: {} cases in {:.1} s",
        cases.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    if let Err(error) = result {
        panic!("{name}: {error}");
    }
}

/// Byte-level mutations of a seed: insert, replace, delete or duplicate a few
/// bytes, mostly ones that matter to the parsers under test.
fn mutated(
    seed: impl Strategy<Value = String>,
    spice: &'static [u8],
) -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..4,
        prop_oneof![3 => prop::sample::select(spice), 1 => any::<u8>()],
        0usize..16,
    );
    (seed, prop::collection::vec(edit, 1..6)).prop_map(|(seed, edits)| {
        let mut bytes = seed.into_bytes();
        for (at, op, byte, len) in edits {
            let at = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => bytes[at] = byte,
                2 if at < bytes.len() => {
                    bytes.drain(at..(at + len.min(3)).min(bytes.len()));
                }
                _ => {
                    let end = (at + len).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// One of the procedures, shown by name in failure reports.
#[derive(Clone, Copy)]
struct Proc(&'static Procedure);

impl Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name)
    }
}

fn procedure() -> impl Strategy<Value = Proc> {
    (0..ALL.len()).prop_map(|i| Proc(ALL[i]))
}

/// Text with what trips up lexers and validators: control characters,
/// quotes, escapes, separators, non-ASCII letters, emoji and non-characters.
const ODD_CHARS: &[char] = &[
    '\0',
    '\u{1}',
    '\u{7}',
    '\u{8}',
    '\t',
    '\n',
    '\r',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{2028}',
    '\u{200b}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10ffff}',
    'é',
    'ß',
    'Σ',
    'İ',
    'ǅ',
    '中',
    '😀',
    '\'',
    '"',
    '`',
    '\\',
    '/',
    '.',
    ' ',
    ':',
    '-',
    '_',
    '@',
    '=',
    ';',
    ',',
    '[',
    ']',
    '{',
    '}',
    '%',
    '*',
    '$',
    'a',
    'Z',
    '0',
    '9',
];

fn odd_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ODD_CHARS), 0..16)
        .prop_map(|chars| chars.into_iter().collect())
}

mod exec {
    use proptest::prelude::*;
    use runql::procedures::{ALL, find};
    use runql::sql::exec::{ArgValue, ExecCall, code_start, parse_exec};
    use runql::sql::script::{is_complete, split_statements};

    use super::{check, fast, mutated, odd_text};

    /// Bytes that matter to the EXEC parser and the splitter.
    pub(crate) const SPICE: &[u8] = b"';\"`-/*[]{}\\@=,.+ \n\r\t0eE9aNIxEXEC\xc3\xa9\x00";

    /// What must hold for any text: no panic anywhere, a call has a procedure
    /// and distinct, non-empty argument names, and an unknown procedure name
    /// is refused as invalid.
    pub(crate) fn no_panic(text: &str) -> Result<Option<ExecCall>, TestCaseError> {
        let _ = is_complete(text);
        let _ = code_start(text);
        if let Ok(statements) = split_statements(text) {
            for statement in statements {
                prop_assert!(!statement.text.is_empty(), "{:?}", text);
                prop_assert!(statement.line >= 1 && statement.column >= 1, "{:?}", text);
                let _ = parse_exec(&statement.text);
            }
        }
        let call = parse_exec(text).unwrap_or_default();
        if let Some(call) = &call {
            prop_assert!(!call.procedure.is_empty(), "{:?}", text);
            for (i, (name, _)) in call.args.iter().enumerate() {
                prop_assert!(!name.is_empty(), "{:?}", text);
                prop_assert!(
                    call.args[..i].iter().all(|(seen, _)| seen != name),
                    "{:?} gave {} twice",
                    text,
                    name
                );
            }
            if let Err(error) = find(&call.procedure) {
                prop_assert_eq!(error.code(), runql::ErrorCode::InvalidParameterValue);
            }
        }
        Ok(call)
    }

    /// Pieces of the EXEC grammar, valid and not, for token soups.
    const PIECES: &[&str] = &[
        "EXEC",
        "exec",
        "EXECUTE",
        "runs.log_metric",
        "experiments.create",
        "databricks_workspace.ml.experiment_runs.delete_bulk",
        "runs.",
        ".",
        "@",
        "@@",
        "@@json",
        "@@JSON",
        "@@data",
        "@run_id",
        "@value",
        "@tags",
        "=",
        "'x'",
        "'it''s'",
        "''",
        "\"q\"",
        "\"say \"\"hi\"\"\"",
        "'",
        "\"",
        "`x`",
        "`",
        "[",
        "]",
        "{",
        "}",
        "{\"a\": [1, \"]}\"]}",
        "[1,2,]",
        "[\"\\\"\", \";\"]",
        "{'k': 1}",
        "'{\"run_id\": \"r\"}'",
        ",",
        ";",
        "--c\n",
        "--",
        "/*",
        "*/",
        "/* c */",
        "/* /* nested */ */",
        "0.31",
        "-1.5e3",
        "+.5",
        "NaN",
        "-inf",
        "1e400",
        "18446744073709551616",
        "true",
        "NULL",
        "@var",
        "bare",
        "\n",
        "\t",
        "é",
        "\\",
        "0x10",
        "1.2.3",
        "SELECT",
        "$1",
        "\u{0}",
    ];

    fn soup() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(prop::sample::select(PIECES), 0..24),
            prop::sample::select(&["", " ", "\n", ""][..]),
        )
            .prop_map(|(pieces, glue)| pieces.join(glue))
    }

    fn examples() -> impl Strategy<Value = String> {
        super::procedure().prop_map(|procedure| procedure.0.example.to_string())
    }

    /// A generated argument value, and what the parser must make of it.
    #[derive(Debug, Clone)]
    pub(crate) struct Rendered {
        pub(crate) text: String,
        pub(crate) value: ArgValue,
    }

    /// A SQL string literal with either quote, the quote doubled inside.
    pub(crate) fn quoted(text: &str, double: bool) -> String {
        let quote = if double { '"' } else { '\'' };
        let doubled = text.replace(quote, &format!("{quote}{quote}"));
        format!("{quote}{doubled}{quote}")
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(
                &[
                    "run_id", "RUN_ID", "key", "value", "json", "tags", "Metrics", "experiment_id", "run_uuid",
                    "deployment_name", "x", "_", "a1", "ÉTÉ", "Σx", "名前",
                ][..]
            )
            .prop_map(str::to_string),
            1 => "[a-zA-Z_][a-zA-Z0-9_]{0,12}",
        ]
    }

    pub(crate) fn value() -> impl Strategy<Value = Rendered> {
        let number = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:?}")),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            prop::sample::select(
                &[
                    "NaN",
                    "-NaN",
                    "inf",
                    "-Infinity",
                    "+.5",
                    "1e400",
                    "-0",
                    "-0.0",
                    "1E+308",
                    "4.9e-324",
                    "123456789012345678901234567890",
                    "1700000000000",
                ][..]
            )
            .prop_map(str::to_string),
        ];
        prop_oneof![
            (super::json_body::text(), any::<bool>()).prop_map(|(text, double)| Rendered {
                text: quoted(&text, double),
                value: ArgValue::Text(text),
            }),
            number.prop_map(|text| Rendered {
                value: ArgValue::Number(text.clone()),
                text,
            }),
            prop::sample::select(&["true", "FALSE", "True", "fAlSe"][..]).prop_map(|text| {
                Rendered {
                    text: text.to_string(),
                    value: ArgValue::Bool(text.eq_ignore_ascii_case("true")),
                }
            }),
            prop::sample::select(&["null", "NULL", "Null"][..]).prop_map(|text| Rendered {
                text: text.to_string(),
                value: ArgValue::Null,
            }),
            // JSON literals; a tree that is no array or object, or that runql
            // refuses (bad JSON, a repeated key), goes as text instead (a
            // filter would reject too often).
            (super::json_body::tree(), any::<bool>()).prop_map(|(tree, double)| {
                let text = tree.to_text();
                match runql::model::json::parse(&text) {
                    Ok(value) if value.is_array() || value.is_object() => Rendered {
                        text,
                        value: ArgValue::Json(value),
                    },
                    _ => Rendered {
                        text: quoted(&text, double),
                        value: ArgValue::Text(text),
                    },
                }
            }),
            name().prop_map(|name| Rendered {
                text: format!("@{name}"),
                value: ArgValue::Variable(name.to_lowercase()),
            }),
        ]
    }

    /// Gaps the grammar allows between arguments (commas too), and around `=`.
    const GAPS: &[&str] = &[
        " ",
        "\n",
        "\t",
        ", ",
        ",",
        " /* c */ ",
        "/**/",
        " -- c;'\n",
        "\r\n  ",
    ];
    const EQUALS_GAPS: &[&str] = &["", " ", "\n", " /* = */ ", "/**/"];

    /// A well-formed EXEC statement (without `;`) and the call it must parse to.
    pub(crate) fn statement() -> impl Strategy<Value = (String, ExecCall)> {
        let procedure = prop_oneof![
            super::procedure().prop_map(|p| p.0.name.to_string()),
            super::procedure().prop_map(|p| format!(
                "DataBricks_Workspace.ML.{}",
                p.0.name.replace("runs.", "experiment_runs.")
            )),
            "[a-zA-Z_é][a-zA-Z0-9_]{0,8}(\\.[a-zA-Z0-9_]{1,8}){0,3}",
        ];
        let argument = (
            name(),
            value(),
            prop::sample::select(GAPS),
            prop::sample::select(EQUALS_GAPS),
            prop::sample::select(EQUALS_GAPS),
        );
        let json = prop::option::of((super::json_body::body_text(), any::<bool>(), 0usize..8));
        (
            prop::sample::select(
                &[
                    "",
                    "  ",
                    "-- lead\n",
                    "/* lead */ ",
                    "\n/* a /* nested */ b */\n",
                ][..],
            ),
            prop::sample::select(&["EXEC", "exec", "Execute", "EXECUTE"][..]),
            prop::sample::select(&[" ", "\n", "/**/", " -- x\n "][..]),
            procedure,
            prop::collection::vec(argument, 0..6),
            json,
        )
            .prop_map(|(lead, keyword, gap, procedure, arguments, json)| {
                let mut text = format!("{lead}{keyword}{gap}{procedure}");
                let mut call = ExecCall {
                    procedure: procedure.to_lowercase(),
                    args: Vec::new(),
                    json: None,
                    line: 1,
                    column: 1,
                };
                let json_at = json.as_ref().map_or(usize::MAX, |(_, _, at)| *at);
                for (i, (name, value, gap, before, after)) in arguments.into_iter().enumerate() {
                    if i == json_at
                        && let Some((body, double, _)) = &json
                    {
                        text.push_str(&format!(
                            "{gap}@@json{before}={after}{}",
                            quoted(body, *double)
                        ));
                        call.json = Some(body.clone());
                    }
                    let lowered = name.to_lowercase();
                    if call.args.iter().any(|(seen, _)| *seen == lowered) {
                        continue;
                    }
                    text.push_str(&format!("{gap}@{name}{before}={after}{}", value.text));
                    call.args.push((lowered, value.value));
                }
                if call.json.is_none()
                    && let Some((body, double, _)) = &json
                {
                    text.push_str(&format!(" @@JSON={}", quoted(body, *double)));
                    call.json = Some(body.clone());
                }
                (text, call)
            })
    }

    #[test]
    fn arbitrary_text_never_panics() {
        check("exec::arbitrary_text", fast(), any::<String>(), |text| {
            no_panic(&text)?;
            no_panic(&format!("EXEC {text}"))?;
            Ok(())
        });
    }

    #[test]
    fn token_soup_never_panics() {
        check("exec::token_soup", fast(), soup(), |text| {
            no_panic(&text)?;
            no_panic(&format!("EXEC p {text}"))?;
            Ok(())
        });
    }

    /// Every procedure's documented example, with a few bytes changed.
    #[test]
    fn mutated_examples_never_panic() {
        check(
            "exec::mutated_examples",
            fast(),
            mutated(examples(), SPICE),
            |text| no_panic(&text).map(drop),
        );
    }

    /// The documented examples themselves split, parse and name a procedure.
    #[test]
    fn every_example_parses() {
        for procedure in ALL {
            let statements = split_statements(procedure.example).unwrap();
            assert_eq!(statements.len(), 1, "{}", procedure.example);
            assert!(is_complete(procedure.example), "{}", procedure.example);
            let call = parse_exec(&statements[0].text).unwrap().unwrap();
            assert_eq!(find(&call.procedure).unwrap().name, procedure.name);
        }
    }

    /// Generated well-formed statements: a script of them splits into them,
    /// each parses back to the call it was generated from, the script is
    /// complete only with its last `;`, and mutations of it never panic.
    #[test]
    fn generated_statements_parse_back() {
        let script = prop::collection::vec(statement(), 1..4);
        check("exec::generated_statements", fast(), script, |statements| {
            let mut script = String::new();
            for (text, _) in &statements {
                script.push_str(text);
                script.push_str(";\n");
            }
            prop_assert!(is_complete(&script), "{:?}", script);
            let unterminated = script.trim_end().trim_end_matches(';');
            prop_assert!(!is_complete(unterminated), "{:?}", unterminated);
            let split = split_statements(&script)
                .map_err(|e| TestCaseError::fail(format!("{script:?}: {e}")))?;
            prop_assert_eq!(split.len(), statements.len(), "{:?}", script);
            for (piece, (text, expected)) in split.iter().zip(&statements) {
                let call = parse_exec(&piece.text);
                prop_assert!(matches!(call, Ok(Some(_))), "{:?} -> {:?}", text, call);
                prop_assert_eq!(call.unwrap().unwrap(), expected.clone(), "{:?}", text);
                // The statement alone parses the same, without its `;`.
                prop_assert_eq!(
                    parse_exec(text).unwrap().unwrap(),
                    expected.clone(),
                    "{:?}",
                    text
                );
            }
            Ok(())
        });
    }

    #[test]
    fn mutated_statements_never_panic() {
        let seed = statement().prop_map(|(text, _)| text);
        check(
            "exec::mutated_statements",
            fast(),
            mutated(seed, SPICE),
            |text| {
                no_panic(&text)?;
                no_panic(&format!("{text};{text}")).map(drop)
            },
        );
    }

    /// Scripts that are mostly odd characters around EXEC keywords and quotes.
    #[test]
    fn odd_scripts_never_panic() {
        let odd = prop::collection::vec(prop_oneof![odd_text(), soup()], 0..6)
            .prop_map(|parts| parts.concat());
        check("exec::odd_scripts", fast(), odd, |text| {
            no_panic(&text)?;
            no_panic(&format!("EXEC p @a={text}")).map(drop)
        });
    }
}

mod filter {
    use proptest::prelude::*;
    use runql::search::Search;
    use runql::search::filter::{Target, parse, parse_order};
    use runql::{ErrorCode, Store};

    use super::{check, fast, mutated, slow};

    /// Pieces of the filter language, valid and not, for token-soup inputs that
    /// reach deeper into the parser than random text does.
    const PIECES: &[&str] = &[
        "metrics.loss",
        "metric.`val loss`",
        "params.lr",
        "parameter.\"opt\"",
        "tags.mlflow.runName",
        "tag.`a-b`",
        "attributes.status",
        "attr.run_name",
        "run.start_time",
        "created",
        "\"Run Name\"",
        "`run name`",
        "end_time",
        "run_id",
        "user_id",
        "datasets.name",
        "dataset.context",
        "datasets.digest",
        "name",
        "creation_time",
        "bogus.x",
        "metrics.",
        "(",
        ")",
        ",",
        "AND",
        "and",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "LIKE",
        "ILIKE",
        "=",
        "==",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "!",
        "'adam'",
        "'%a_'",
        "\"x\"",
        "'it''s'",
        "'0.001'",
        "'2026-01-02'",
        "'",
        "`",
        "0",
        "-1.5e-3",
        "1e400",
        "3",
        "1x",
        ".5",
        "ASC",
        "DESC",
    ];

    /// Bytes that matter to the filter lexer.
    const SPICE: &[u8] = b"'\"`()!=<>,. \n\t%_\\-+eE019aLIKEANDORNOT\xc3\xa9\x00";

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..14)
            .prop_map(|pieces| pieces.join(" "))
    }

    /// Well-formed run filters: every comparison each type allows, combined with
    /// AND, OR, NOT and parentheses.
    fn valid_filter() -> impl Strategy<Value = String> {
        let condition = prop::sample::select(
            &[
                "metrics.loss < 0.5",
                "metrics.`loss` >= -1e3",
                "metrics.loss != 0.25",
                "metrics.missing = 1",
                "metrics.loss IN (0.25, 1)",
                "metrics.loss NOT IN (2)",
                "metrics.loss IS NULL",
                "params.lr = '0.001'",
                "params.lr > 0.0001",
                "params.lr <= '1e-2'",
                "params.lr = 0.001",
                "params.lr LIKE '0.%'",
                "params.lr NOT ILIKE '%E%'",
                "params.lr IN ('a', 'b')",
                "params.lr IS NOT NULL",
                "tags.`a-b` = \"x\"",
                "tags.mlflow.runName ILIKE 'A%'",
                "tags.`a-b` NOT IN ('y')",
                "attributes.status = 'RUNNING'",
                "status IN ('FINISHED', 'RUNNING')",
                "run_name LIKE '%b'",
                "`Run Name` != 'other'",
                "created > 0",
                "start_time <= '2030-01-01'",
                "end_time IS NULL",
                "run_id NOT IN ('x')",
                "user_id = ''",
                "datasets.name = 'mnist'",
                "dataset.context IN ('training')",
                "datasets.digest NOT LIKE 'a%'",
            ][..],
        )
        .prop_map(str::to_string);
        condition.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
                inner.clone().prop_map(|a| format!("NOT {a}")),
                inner.prop_map(|a| format!("({a})")),
            ]
        })
    }

    fn parse_all(text: &str) {
        let _ = parse(Target::Runs, text);
        let _ = parse(Target::Experiments, text);
        let _ = parse_order(Target::Runs, text);
        let _ = parse_order(Target::Experiments, text);
    }

    #[test]
    fn arbitrary_text_never_panics_the_parsers() {
        check("filter::arbitrary_text", fast(), any::<String>(), |text| {
            parse_all(&text);
            Ok(())
        });
    }

    #[test]
    fn token_soup_never_panics_the_parsers() {
        check("filter::token_soup", fast(), soup(), |text| {
            parse_all(&text);
            Ok(())
        });
    }

    #[test]
    fn mutated_filters_never_panic_the_parsers() {
        check(
            "filter::mutated_filters",
            fast(),
            mutated(valid_filter(), SPICE),
            |text| {
                parse_all(&text);
                Ok(())
            },
        );
    }

    /// One small store for the properties that run searches: two runs, one
    /// with a metric, a param and a tag.
    fn small_store() -> (tokio::runtime::Runtime, Store) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = runtime.block_on(async {
            let store = Store::open("memory://").await.unwrap();
            let session = store.session().await.unwrap();
            session
                .run_script(
                    "EXEC runs.create @run_name='a b' @start_time=1000;
                     EXEC runs.log_metric @run_id=@run_id @key='loss' @value=0.25;
                     EXEC runs.log_param @run_id=@run_id @key='lr' @value='0.001';
                     EXEC runs.set_tag @run_id=@run_id @key='a-b' @value='x';
                     EXEC runs.create @run_name='other';",
                )
                .await
                .unwrap();
            store
        });
        (runtime, store)
    }

    /// Filters that parse must run. Execution is slower than parsing, so this
    /// property runs fewer cases against one small store.
    #[test]
    fn every_filter_that_parses_runs() {
        let (runtime, store) = small_store();
        let valid = (valid_filter(), prop::sample::select(PIECES));
        check(
            "filter::valid_filters_run",
            slow(64),
            valid,
            |(filter, order)| {
                prop_assert!(parse(Target::Runs, &filter).is_ok(), "{}", filter);
                let outcome = runtime.block_on(store.search(&Search {
                    filter: filter.clone(),
                    ..Search::runs()
                }));
                prop_assert!(outcome.is_ok(), "{}: {:?}", filter, outcome.err());
                // Any order item either is refused as invalid or runs.
                let ordered = runtime.block_on(store.search(&Search {
                    filter: filter.clone(),
                    order_by: vec![order.to_string()],
                    ..Search::runs()
                }));
                if let Err(error) = &ordered {
                    prop_assert_eq!(
                        error.code(),
                        ErrorCode::InvalidParameterValue,
                        "{}: {}",
                        order,
                        error
                    );
                }
                Ok(())
            },
        );
    }

    /// Any filter and order item run or are refused as invalid, never as an
    /// internal error; those that parse run.
    #[test]
    fn any_filter_runs_or_is_refused() {
        let (runtime, store) = small_store();
        let any_filter = (
            prop_oneof![soup(), mutated(valid_filter(), SPICE)],
            prop::sample::select(PIECES),
        );
        check(
            "filter::any_filter_runs",
            slow(64),
            any_filter,
            |(filter, order)| {
                let runs_parse = parse(Target::Runs, &filter);
                let outcome = runtime.block_on(store.search(&Search {
                    filter: filter.clone(),
                    order_by: vec![order.to_string()],
                    ..Search::runs()
                }));
                if let Err(error) = &outcome {
                    prop_assert_eq!(
                        error.code(),
                        ErrorCode::InvalidParameterValue,
                        "{}: {}",
                        filter,
                        error
                    );
                }
                if runs_parse.is_ok() && parse_order(Target::Runs, order).is_ok() {
                    prop_assert!(
                        outcome.is_ok(),
                        "{} ordered by {}: {:?}",
                        filter,
                        order,
                        outcome.err()
                    );
                }
                let experiments = runtime.block_on(store.search(&Search {
                    filter: filter.clone(),
                    ..Search::experiments()
                }));
                if let Err(error) = &experiments {
                    prop_assert_eq!(
                        error.code(),
                        ErrorCode::InvalidParameterValue,
                        "{}: {}",
                        filter,
                        error
                    );
                }
                Ok(())
            },
        );
    }
}

pub(crate) mod json_body {
    use proptest::prelude::*;
    use runql::model::validation::{
        parse_float, validate_batch_size, validate_experiment_id, validate_experiment_tag,
        validate_metric, validate_param, validate_run_id, validate_run_tag,
    };
    use runql::model::{DatasetInput, Metric, ModelLink, Tag};
    use runql::procedures::args::canonical_names;
    use runql::procedures::{ALL, Args, ParamKind, Procedure, find};
    use runql::sql::exec::{ArgValue, ExecCall, parse_exec};
    use runql::sql::script::split_statements;
    use runql::{ErrorCode, RunqlError, Store};
    use serde_json::{Map, Value};

    use super::exec::{Rendered, quoted};
    use super::{Proc, check, fast, mutated, odd_text, slow};

    /// A JSON document as text, built so that its numbers can be written in
    /// ways `serde_json::Value` cannot hold (1e400, integers beyond u64) and
    /// strings can hold JSON text of their own, as `@tags='[...]'` does.
    #[derive(Debug, Clone)]
    pub(crate) enum Json {
        /// A token written as is: odd numbers, literals, escapes, deep nesting.
        Raw(String),
        Int(i128),
        Float(f64),
        Str(String),
        /// Another document's text, as a JSON string.
        Embedded(Box<Json>),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl Json {
        pub(crate) fn to_text(&self) -> String {
            let mut out = String::new();
            self.write(&mut out);
            out
        }

        fn write(&self, out: &mut String) {
            match self {
                Json::Raw(text) => out.push_str(text),
                Json::Int(n) => out.push_str(&n.to_string()),
                Json::Float(f) => out.push_str(&format!("{f:?}")),
                Json::Str(s) => out.push_str(&Value::String(s.clone()).to_string()),
                Json::Embedded(inner) => out.push_str(&Value::String(inner.to_text()).to_string()),
                Json::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        item.write(out);
                    }
                    out.push(']');
                }
                Json::Object(entries) => {
                    out.push('{');
                    for (i, (key, value)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&Value::String(key.clone()).to_string());
                        out.push(':');
                        value.write(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    /// Numbers at the edges, as JSON text: subnormal, negative zero, the
    /// largest doubles, an underflow to zero, and integers beyond i64 and u64
    /// (serde_json reads those as f64).
    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "-0.0",
        "1e308",
        "-1e308",
        "1.7976931348623157e308",
        "1E+308",
        "4.9e-324",
        "1e-400",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "-123456789012345678901234567890e-10",
        "1700000000000",
        "0.5",
        "1.0",
        "-1",
    ];

    /// Tokens that make a document invalid JSON: numbers beyond f64 or not in
    /// JSON's grammar, lone surrogates, bad escapes, broken structure.
    const NOT_JSON: &[&str] = &[
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "-Infinity",
        "01",
        ".5",
        "1.",
        "+1",
        "0x10",
        "TRUE",
        "\"\\ud800\"",
        "\"\\uDFFF\"",
        "\"\\x41\"",
        "\"\t\"",
        "[,]",
        "{\"a\"}",
        "\"",
        "'a'",
    ];

    /// Valid JSON tokens written as is: edge numbers, literals, escapes, and
    /// nesting around serde_json's recursion limit of 128.
    fn raw() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => prop::sample::select(NUMBERS).prop_map(str::to_string),
            3 => prop::sample::select(
                &[
                    "true", "false", "null", "\"\\u0000\"", "\"\\udbff\\udfff\"", "\"a\\\"b\"", "\"\\/\"",
                    "{}", "[]",
                ][..]
            )
            .prop_map(str::to_string),
            1 => (1usize..140, any::<bool>()).prop_map(|(depth, object)| if object {
                format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
            } else {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            }),
        ]
    }

    fn not_json() -> impl Strategy<Value = Json> {
        prop::sample::select(NOT_JSON).prop_map(|token| Json::Raw(token.to_string()))
    }

    /// Words the procedures and validators give meaning to, among others.
    const WORDS: &[&str] = &[
        "",
        " ",
        "r1",
        "r2",
        "missing",
        "0",
        "1",
        "2",
        "-1",
        " 42 ",
        "42",
        "3.5",
        "1e3",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "+infinity",
        "1e400",
        "9223372036854775808",
        "0x10",
        "true",
        "FALSE",
        "null",
        "loss",
        "val/loss",
        "a/../b",
        "/abs",
        "a//b",
        "..",
        "mlflow.runName",
        "mlflow.parentRunId",
        "mlflow.user",
        "mlflow.data.context",
        "mlflow.log-model.history",
        "Default",
        "e1",
        "ACTIVE_ONLY",
        "DELETED_ONLY",
        "ALL",
        "all",
        "RUNNING",
        "FINISHED",
        "FAILED",
        "KILLED",
        "SCHEDULED",
        "finished",
        "30d",
        "1d2h3m4s",
        "2h1d",
        "99999999999999999999d",
        "0s",
        "metrics.loss < 1",
        "params.lr = 'x' OR NOT tags.t IS NULL",
        "name LIKE 'e%'",
        "start_time DESC",
        "metrics.loss ASC",
        "bogus",
        "[\"r1\",\"r2\"]",
        "[\"r1\", 2, null]",
        "[1e400]",
        "[",
        " [\"a\"]",
        "{}",
        "{\"key\":\"k\",\"value\":\"v\"}",
        "[{\"key\":\"k\",\"value\":\"v\"}]",
        "[{\"key\":\"m\",\"value\":\"NaN\",\"timestamp\":1,\"step\":2}]",
        "eyJ4IjoxfQ",
        "AAAA",
        "!!",
        "s3://data/mnist",
        "d41d8cd9",
        "m-1",
    ];

    /// Text: meaningful words, arbitrary strings, odd characters, and long runs.
    pub(crate) fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            5 => prop::sample::select(WORDS).prop_map(str::to_string),
            2 => any::<String>(),
            2 => odd_text(),
            1 => (prop::sample::select(&["a", "é", "\u{0}", "x/", "😀", "'"][..]), 0usize..9000)
                .prop_map(|(unit, count)| unit.repeat(count)),
        ]
    }

    /// Keys of objects: argument names, the fields of the structures the
    /// procedures decode, deprecated and ignored names, and strangers.
    const KEYS: &[&str] = &[
        "run_id",
        "run_uuid",
        "deployment_name",
        "experiment_id",
        "experiment_ids",
        "key",
        "value",
        "timestamp",
        "step",
        "tags",
        "metrics",
        "params",
        "datasets",
        "models",
        "model_id",
        "dataset",
        "name",
        "digest",
        "source_type",
        "source",
        "schema",
        "profile",
        "dataset_name",
        "dataset_digest",
        "artifact_path",
        "flavors",
        "model_json",
        "filter",
        "order_by",
        "max_results",
        "bogus",
        "",
        "KEY",
    ];

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => prop::sample::select(KEYS).prop_map(str::to_string),
            1 => text(),
        ]
    }

    /// Finite floats (JSON has no others), without rejecting any draw: a long
    /// run would otherwise exceed proptest's limit on rejections.
    fn finite() -> impl Strategy<Value = f64> {
        any::<f64>().prop_map(|f| if f.is_finite() { f } else { f64::MAX })
    }

    fn leaf() -> impl Strategy<Value = Json> {
        prop_oneof![
            15 => raw().prop_map(Json::Raw),
            10 => any::<i64>().prop_map(|n| Json::Int(n.into())),
            5 => any::<i128>().prop_map(Json::Int),
            10 => finite().prop_map(Json::Float),
            25 => text().prop_map(Json::Str),
            // Rarely, so that most documents stay valid and reach the decoders.
            1 => not_json(),
        ]
    }

    /// Any JSON tree, nested up to 6 deep (deeper through [`raw`]).
    pub(crate) fn tree() -> impl Strategy<Value = Json> {
        leaf().prop_recursive(6, 48, 6, |inner| {
            prop_oneof![
                3 => prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                3 => prop::collection::vec((key(), inner.clone()), 0..6).prop_map(Json::Object),
                1 => inner.prop_map(|json| Json::Embedded(Box::new(json))),
            ]
        })
    }

    fn int_ish() -> BoxedStrategy<Json> {
        prop_oneof![
            4 => prop_oneof![0i128..2_000_000_000_000, any::<i64>().prop_map(i128::from), any::<i128>()]
                .prop_map(Json::Int),
            2 => prop::sample::select(NUMBERS).prop_map(|n| Json::Raw(n.to_string())),
            1 => finite().prop_map(Json::Float),
            1 => prop::sample::select(&["42", " 7 ", "-0", "1e3", "x", "9223372036854775808"][..])
                .prop_map(|s| Json::Str(s.to_string())),
        ]
        .boxed()
    }

    fn float_ish() -> BoxedStrategy<Json> {
        prop_oneof![
            3 => finite().prop_map(Json::Float),
            1 => any::<i64>().prop_map(|n| Json::Int(n.into())),
            2 => prop::sample::select(NUMBERS).prop_map(|n| Json::Raw(n.to_string())),
            2 => prop::sample::select(NUMBERS).prop_map(|n| Json::Str(n.to_string())),
            1 => prop::sample::select(NOT_JSON).prop_map(|n| Json::Str(n.to_string())),
            1 => prop::sample::select(&[" nan ", "+inf", "-INFINITY", "1e400", "1,5", ""][..])
                .prop_map(|s| Json::Str(s.to_string())),
        ]
        .boxed()
    }

    fn text_ish() -> BoxedStrategy<Json> {
        prop_oneof![
            6 => text().prop_map(Json::Str),
            1 => any::<i64>().prop_map(|n| Json::Int(n.into())),
            1 => raw().prop_map(Json::Raw),
        ]
        .boxed()
    }

    /// An object with the given fields, each usually of the right kind,
    /// sometimes missing, and now and then of any kind.
    fn shaped(fields: Vec<(&'static str, BoxedStrategy<Json>)>) -> BoxedStrategy<Json> {
        let fields: Vec<_> = fields
            .into_iter()
            .map(|(name, good)| {
                prop_oneof![
                    16 => good.prop_map(Some),
                    1 => Just(None),
                    1 => tree().prop_map(Some),
                ]
                .prop_map(move |value| value.map(|value| (name.to_string(), value)))
            })
            .collect();
        (fields, prop::option::of((key(), tree())))
            .prop_map(|(fields, extra)| {
                Json::Object(fields.into_iter().flatten().chain(extra).collect())
            })
            .boxed()
    }

    fn tag() -> BoxedStrategy<Json> {
        shaped(vec![("key", text_ish()), ("value", text_ish())])
    }

    fn metric() -> BoxedStrategy<Json> {
        shaped(vec![
            ("key", text_ish()),
            ("value", float_ish()),
            ("timestamp", int_ish()),
            ("step", int_ish()),
            ("dataset_name", text_ish()),
            ("dataset_digest", text_ish()),
            ("model_id", text_ish()),
        ])
    }

    fn dataset_input() -> BoxedStrategy<Json> {
        let dataset = shaped(vec![
            ("name", text_ish()),
            ("digest", text_ish()),
            ("source_type", text_ish()),
            ("source", text_ish()),
            ("schema", text_ish()),
            ("profile", text_ish()),
        ]);
        shaped(vec![("dataset", dataset), ("tags", list(tag()))])
    }

    fn model_link() -> BoxedStrategy<Json> {
        shaped(vec![("model_id", text_ish()), ("step", int_ish())])
    }

    /// A list of `item`s, as JSON or, as scripts often write it, as JSON text.
    fn list(item: BoxedStrategy<Json>) -> BoxedStrategy<Json> {
        prop::collection::vec(item, 0..5)
            .prop_flat_map(|items| {
                prop_oneof![
                    4 => Just(Json::Array(items.clone())),
                    1 => Just(Json::Embedded(Box::new(Json::Array(items)))),
                ]
            })
            .boxed()
    }

    /// A value for one of a procedure's parameters: usually of the kind it
    /// declares, the structures decoded as the procedures decode them.
    fn argument(name: &'static str, kind: ParamKind) -> BoxedStrategy<Json> {
        let good = match kind {
            ParamKind::Text if name.ends_with("_id") => prop_oneof![
                3 => prop::sample::select(&["r1", "r2", "0", "1", "missing", "", "r1 "][..])
                    .prop_map(|id| Json::Str(id.to_string())),
                1 => int_ish(),
                1 => text_ish(),
            ]
            .boxed(),
            ParamKind::Text => text_ish(),
            ParamKind::Integer => int_ish(),
            ParamKind::Float => float_ish(),
            ParamKind::Boolean => prop::sample::select(
                &["true", "false", "\"TRUE\"", "\"False\"", "\"yes\"", "1"][..],
            )
            .prop_map(|b| Json::Raw(b.to_string()))
            .boxed(),
            ParamKind::TextList => prop_oneof![
                2 => list(text_ish()),
                1 => text_ish(),
            ]
            .boxed(),
            ParamKind::Json => match name {
                "metrics" => list(metric()),
                "params" | "tags" => list(tag()),
                "datasets" => list(dataset_input()),
                "models" => list(model_link()),
                _ => prop_oneof![
                    tree(),
                    shaped(vec![
                        ("artifact_path", text_ish()),
                        ("flavors", tree().boxed())
                    ]),
                    shaped(vec![
                        ("artifact_path", text_ish()),
                        ("flavors", tree().boxed())
                    ])
                    .prop_map(|json| Json::Embedded(Box::new(json))),
                ]
                .boxed(),
            },
        };
        prop_oneof![
            38 => good,
            1 => tree(),
            1 => Just(Json::Raw("null".to_string())),
        ]
        .boxed()
    }

    /// An `@@json` body for `procedure`: most of its parameters, now and then
    /// under a deprecated or ignored name, or with an unknown one.
    pub(crate) fn body_for(procedure: &'static Procedure) -> BoxedStrategy<Json> {
        let params: Vec<_> = procedure
            .params
            .iter()
            .map(|param| {
                let renamed = if param.name == "run_id" {
                    "run_uuid"
                } else {
                    param.name
                };
                let absent = if param.required { 1 } else { 12 };
                (
                    prop_oneof![
                        36 => Just(Some(param.name)),
                        3 => Just(Some(renamed)),
                        absent => Just(None),
                    ],
                    argument(param.name, param.kind),
                )
                    .prop_map(|(name, value)| name.map(|name| (name.to_string(), value)))
            })
            .collect();
        let extra = prop_oneof![
            12 => Just(None),
            1 => text_ish().prop_map(|v| Some(("deployment_name".to_string(), v))),
            1 => (key(), tree()).prop_map(Some),
        ];
        (params, extra)
            .prop_map(|(params, extra)| {
                Json::Object(params.into_iter().flatten().chain(extra).collect())
            })
            .boxed()
    }

    /// A body for some procedure, and that procedure.
    fn procedure_body() -> impl Strategy<Value = (Proc, Json)> {
        super::procedure().prop_flat_map(|procedure| (Just(procedure), body_for(procedure.0)))
    }

    /// Text of `@@json` bodies: structured, any tree, or a mutation of one.
    pub(crate) fn body_text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => procedure_body().prop_map(|(_, body)| body.to_text()),
            2 => tree().prop_map(|tree| tree.to_text()),
            1 => mutated(procedure_body().prop_map(|(_, body)| body.to_text()), SPICE),
            1 => any::<String>(),
        ]
    }

    /// Bytes that matter to a JSON parser.
    const SPICE: &[u8] = b"{}[]\":,\\ \n\t0-+.eE9tfnu\xc3\xa9\x00";

    /// The body an `@@json` argument carries, as `Session::exec` reads it.
    fn body_object(body: &str) -> Result<Map<String, Value>, RunqlError> {
        // Strictly, as the session does: a key given twice is an error.
        match runql::model::json::parse(body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(RunqlError::invalid("@@json must be a JSON object")),
            Err(e) => Err(RunqlError::invalid(format!(
                "@@json is not valid JSON: {e}"
            ))),
        }
    }

    /// What `Session::exec` hands to `Args::new`: the `@@json` body with the
    /// `@name` arguments over it (private there, so repeated here). Session
    /// variables are taken as unset.
    pub(crate) fn merged(call: &ExecCall) -> Result<Map<String, Value>, RunqlError> {
        let mut values = match &call.json {
            None => Map::new(),
            Some(body) => body_object(body)?,
        };
        values = canonical_names(values);
        let mut named = Map::new();
        for (name, value) in &call.args {
            let value = match value {
                ArgValue::Text(text) => Value::String(text.clone()),
                ArgValue::Number(text) => serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(Value::is_number)
                    .unwrap_or(Value::String(text.clone())),
                ArgValue::Bool(b) => Value::Bool(*b),
                ArgValue::Null | ArgValue::Variable(_) => Value::Null,
                ArgValue::Json(json) => json.clone(),
            };
            named.insert(name.clone(), value);
        }
        values.extend(canonical_names(named));
        Ok(values)
    }

    fn invalid(context: &str, result: Result<(), RunqlError>) -> Result<(), TestCaseError> {
        if let Err(error) = result {
            prop_assert_eq!(
                error.code(),
                ErrorCode::InvalidParameterValue,
                "{}: {}",
                context,
                error
            );
        }
        Ok(())
    }

    /// Decodes `values` as `procedure`'s arguments and reads them every way
    /// the procedures do (and every other way): nothing panics, every error is
    /// INVALID_PARAMETER_VALUE, and arguments `Args::new` accepts read back
    /// through the getter of their declared kind.
    pub(crate) fn decode(
        procedure: &Procedure,
        values: &Map<String, Value>,
    ) -> Result<(), TestCaseError> {
        let context = procedure.name;
        let args = match Args::new(procedure, values.clone()) {
            Ok(args) => args,
            Err(error) => return invalid(context, Err(error)),
        };
        for param in procedure.params {
            let name = param.name;
            let typed = match param.kind {
                ParamKind::Text if param.required => args.required_text(name).map(drop),
                ParamKind::Integer if param.required => args.required_integer(name).map(drop),
                ParamKind::Float if param.required => args.required_float(name).map(drop),
                ParamKind::Text => args.text(name).map(drop),
                ParamKind::Integer => args.integer(name).map(drop),
                ParamKind::Float => args.float(name).map(drop),
                ParamKind::Boolean => args.boolean(name).map(drop),
                ParamKind::TextList => args.text_list(name).map(drop),
                ParamKind::Json => Ok(()),
            };
            prop_assert!(
                typed.is_ok(),
                "{} @{} passed Args::new but reads as {:?}",
                context,
                name,
                typed
            );
        }
        let mut names: Vec<&str> = procedure.params.iter().map(|p| p.name).collect();
        names.extend(["bogus", "deployment_name", "run_uuid"]);
        for name in names {
            invalid(context, args.text(name).map(drop))?;
            invalid(context, args.integer(name).map(drop))?;
            invalid(context, args.float(name).map(drop))?;
            invalid(context, args.boolean(name).map(drop))?;
            invalid(context, args.required_text(name).map(drop))?;
            invalid(context, args.required_integer(name).map(drop))?;
            invalid(context, args.required_float(name).map(drop))?;
            invalid(context, args.json::<Value>(name).map(drop))?;
            invalid(context, args.json::<Vec<ModelLink>>(name).map(drop))?;
            if let Ok(Some(text)) = args.text(name) {
                let _ = validate_run_id(&text);
                let _ = validate_experiment_id(&text);
                let _ = parse_float(&text);
            }
            if let Ok(Some(list)) = args.text_list(name) {
                for item in &list {
                    let _ = validate_run_id(item);
                }
            }
            let tags = args.json::<Vec<Tag>>(name);
            if let Ok(Some(tags)) = &tags {
                for tag in tags {
                    let _ = validate_run_tag(tag);
                    let _ = validate_param(tag);
                    let _ = validate_experiment_tag(tag);
                }
            }
            invalid(context, tags.map(drop))?;
            let metrics = args.json::<Vec<Metric>>(name);
            if let Ok(Some(metrics)) = &metrics {
                for metric in metrics {
                    let _ = validate_metric(metric);
                    // Metrics go back out as JSON (MLflow's NaN and infinities as text).
                    let _ = serde_json::to_string(metric);
                }
                let _ = validate_batch_size(metrics.len(), 0, 0);
            }
            invalid(context, metrics.map(drop))?;
            let datasets = args.json::<Vec<DatasetInput>>(name);
            if let Ok(Some(datasets)) = &datasets {
                for dataset in datasets {
                    let _ = dataset.context();
                }
            }
            invalid(context, datasets.map(drop))?;
        }
        Ok(())
    }

    /// Decodes a body text for every procedure.
    fn decode_everywhere(body: &str) -> Result<(), TestCaseError> {
        let Ok(values) = body_object(body) else {
            return Ok(());
        };
        let values = canonical_names(values);
        for procedure in ALL {
            decode(procedure, &values)?;
        }
        Ok(())
    }

    #[test]
    fn arbitrary_bodies_decode_or_are_refused() {
        check(
            "json_body::arbitrary_bodies",
            fast(),
            prop_oneof![any::<String>(), tree().prop_map(|t| t.to_text())],
            |body| decode_everywhere(&body),
        );
    }

    #[test]
    fn mutated_bodies_decode_or_are_refused() {
        let seed = procedure_body().prop_map(|(_, body)| body.to_text());
        check(
            "json_body::mutated_bodies",
            fast(),
            mutated(seed, SPICE),
            |body| decode_everywhere(&body),
        );
    }

    /// Bodies shaped for one procedure, decoded as every procedure's.
    #[test]
    fn structured_bodies_decode_or_are_refused() {
        check(
            "json_body::structured_bodies",
            fast(),
            procedure_body(),
            |(procedure, body)| {
                let text = body.to_text();
                if let Ok(values) = body_object(&text) {
                    let values = canonical_names(values);
                    decode(procedure.0, &values)?;
                    for other in ALL {
                        decode(other, &values)?;
                    }
                }
                Ok(())
            },
        );
    }

    /// An `EXEC` statement calling `procedure` with `body` as `@@json` and
    /// perhaps one `@name` argument over it.
    fn statement_for(procedure: Proc) -> impl Strategy<Value = (Proc, String, String)> {
        let Proc(procedure) = procedure;
        // One of its parameters given again as `@name=value`, which wins.
        let over = if procedure.params.is_empty() {
            Just(None).boxed()
        } else {
            prop_oneof![
                4 => Just(None),
                1 => (prop::sample::select(procedure.params), super::exec::value()).prop_map(Some),
            ]
            .boxed()
        };
        (body_for(procedure), over, any::<bool>()).prop_map(move |(body, over, double)| {
            let body = body.to_text();
            let mut statement = format!("EXEC {} @@json={}", procedure.name, quoted(&body, double));
            if let Some((param, Rendered { text, .. })) = over {
                statement.push_str(&format!(" @{}={text}", param.name));
            }
            (Proc(procedure), body, statement)
        })
    }

    fn any_statement() -> impl Strategy<Value = (Proc, String, String)> {
        super::procedure().prop_flat_map(statement_for)
    }

    /// Whole statements: the body survives the EXEC parser exactly, and the
    /// merged arguments decode or are refused as invalid.
    #[test]
    fn bodies_in_statements_decode_or_are_refused() {
        check(
            "json_body::statements",
            fast(),
            any_statement(),
            |(Proc(procedure), body, statement)| {
                let script = format!("{statement};");
                let split = split_statements(&script)
                    .map_err(|e| TestCaseError::fail(format!("{script:?}: {e}")))?;
                prop_assert_eq!(split.len(), 1, "{:?}", script);
                let call = parse_exec(&split[0].text);
                let Ok(Some(call)) = call else {
                    return Err(TestCaseError::fail(format!("{statement:?} -> {call:?}")));
                };
                prop_assert_eq!(call.json.as_deref(), Some(body.as_str()));
                prop_assert_eq!(
                    find(&call.procedure).map(|p| p.name).ok(),
                    Some(procedure.name)
                );
                if let Ok(values) = merged(&call) {
                    decode(procedure, &values)?;
                }
                Ok(())
            },
        );
    }

    /// Statements with generated bodies run on a store: they succeed or fail
    /// as a caller's mistake, never as an internal error.
    #[test]
    fn bodies_execute_or_fail_as_invalid() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let session = runtime.block_on(async {
            let store = Store::open("memory://").await.unwrap();
            let session = store.session().await.unwrap();
            session
                .run_script(
                    "EXEC experiments.create @name='e1';
                     EXEC runs.create @run_id='r1' @experiment_id='0' @run_name='one';
                     EXEC runs.create @run_id='r2' @experiment_id=@experiment_id @run_name='two';
                     EXEC runs.set_tag @run_id='r2' @key='mlflow.parentRunId' @value='r1';
                     EXEC runs.log_metric @run_id='r1' @key='loss' @value=0.5;",
                )
                .await
                .unwrap();
            session
        });
        check(
            "json_body::execute",
            slow(48),
            any_statement(),
            |(Proc(procedure), _, statement)| {
                if let Err(error) = runtime.block_on(session.execute(&statement)) {
                    prop_assert!(
                        matches!(
                            error.code(),
                            ErrorCode::InvalidParameterValue
                                | ErrorCode::ResourceDoesNotExist
                                | ErrorCode::ResourceAlreadyExists
                        ),
                        "{}: {:?} failed with {}",
                        procedure.name,
                        statement,
                        error.with_code()
                    );
                }
                Ok(())
            },
        );
    }
}

/// Inputs the properties found that panicked, kept as plain tests: a
/// timestamp in milliseconds that overflows `i64` when stored in microseconds
/// (`src/store/rows.rs`, `times`: `ms * 1000`). Each must be accepted or
/// refused as INVALID_PARAMETER_VALUE, never panic.
mod regressions {
    use runql::{ErrorCode, Store};

    /// The smallest millisecond value whose microseconds overflow `i64`.
    const TOO_LATE: i64 = i64::MAX / 1000 + 1;

    fn accepted_or_invalid(statement: &str) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = Store::open("memory://").await.unwrap();
            let session = store.session().await.unwrap();
            session
                .execute("EXEC runs.create @run_id='r1'")
                .await
                .unwrap();
            if let Err(error) = session.execute(statement).await {
                assert_eq!(
                    error.code(),
                    ErrorCode::InvalidParameterValue,
                    "{statement}: {error}"
                );
            }
        });
    }

    #[test]
    fn metric_timestamp_beyond_microseconds() {
        accepted_or_invalid(&format!(
            "EXEC runs.log_metric @run_id='r1' @key='loss' @value=1 @timestamp={TOO_LATE}"
        ));
    }

    #[test]
    fn batch_metric_timestamp_beyond_microseconds() {
        accepted_or_invalid(&format!(
            r#"EXEC runs.log_batch @@json='{{"run_id": "r1", "metrics": [{{"key": "loss", "value": 1, "timestamp": {TOO_LATE}, "step": 0}}]}}'"#
        ));
    }

    #[test]
    fn run_start_time_beyond_microseconds() {
        accepted_or_invalid(&format!("EXEC runs.create @start_time={TOO_LATE}"));
        accepted_or_invalid(&format!("EXEC runs.create @start_time=-{TOO_LATE}"));
    }

    #[test]
    fn run_end_time_beyond_microseconds() {
        accepted_or_invalid(&format!(
            "EXEC runs.update @run_id='r1' @end_time={TOO_LATE}"
        ));
    }

    /// Found by `bodies_execute_or_fail_as_invalid`: the largest `@max_rows`
    /// overflowed the buffer's back-pressure limit at the first buffered call.
    #[test]
    fn largest_buffer_limits() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = Store::open("memory://").await.unwrap();
            let session = store.session().await.unwrap();
            for statement in [
                "EXEC runs.create @run_id='r1'".to_string(),
                format!(
                    "EXEC store.buffer_writes @enabled=true @max_rows={0} @max_delay_ms={0}",
                    i64::MAX
                ),
                "EXEC runs.log_metric @run_id='r1' @key='loss' @value=1".to_string(),
                "EXEC store.flush".to_string(),
            ] {
                session
                    .execute(&statement)
                    .await
                    .unwrap_or_else(|error| panic!("{statement}: {error}"));
            }
        });
    }

    /// Found by `bodies_execute_or_fail_as_invalid`: a time past chrono's last
    /// year (about 262,000 AD) but inside microseconds failed a cast inside
    /// DataFusion with INTERNAL_ERROR. Bulk changes take any in-range time.
    #[test]
    fn bulk_times_beyond_chrono_years() {
        let far_future: i64 = 8_210_266_876_800_000;
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = Store::open("memory://").await.unwrap();
            let session = store.session().await.unwrap();
            session
                .execute("EXEC runs.create @run_id='r1'")
                .await
                .unwrap();
            let count = |statement: String| {
                let session = session.clone();
                async move {
                    use datafusion::arrow::{array::AsArray, compute::cast, datatypes};
                    let output = session.execute(&statement).await.unwrap();
                    let column = output.batches[0].column(0);
                    let column = cast(column, &datatypes::DataType::Int64).unwrap();
                    column.as_primitive::<datatypes::Int64Type>().value(0)
                }
            };
            assert_eq!(
                count(format!(
                    "EXEC runs.delete_bulk @experiment_id='0' @max_timestamp_millis={far_future}"
                ))
                .await,
                1
            );
            assert_eq!(
                count(format!(
                    "EXEC runs.restore_bulk @experiment_id='0' @min_timestamp_millis={far_future}"
                ))
                .await,
                0
            );
            let error = session
                .execute(&format!(
                    "EXEC runs.restore_bulk @experiment_id='0' @min_timestamp_millis={TOO_LATE}"
                ))
                .await
                .unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{error}");
            session
                .execute("EXEC store.gc @older_than='99999999999d'")
                .await
                .unwrap();
            assert_eq!(
                count("SELECT count(*) FROM runs WHERE run_id = 'r1'".into()).await,
                1,
                "a cutoff before the epoch collects nothing"
            );
        });
    }
}
