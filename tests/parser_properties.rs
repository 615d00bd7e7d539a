//! Properties of the search parsers on generated input: no input makes them
//! panic, and every filter that parses also plans and runs, failing (if at
//! all) only with INVALID_PARAMETER_VALUE, never an internal error.
//!
//! `PROPTEST_CASES` scales the run: CI uses the default, a long local run
//! sets it to millions.

use proptest::prelude::*;
use runql::search::Search;
use runql::search::filter::{Target, parse, parse_order};
use runql::{ErrorCode, Store};

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

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..14).prop_map(|pieces| pieces.join(" "))
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

proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_parsers(text in any::<String>()) {
        let _ = parse(Target::Runs, &text);
        let _ = parse(Target::Experiments, &text);
        let _ = parse_order(Target::Runs, &text);
    }

    #[test]
    fn token_soup_never_panics_the_parsers(text in soup()) {
        let _ = parse(Target::Runs, &text);
        let _ = parse(Target::Experiments, &text);
        let _ = parse_order(Target::Experiments, &text);
    }
}

/// Filters that parse must run. Execution is slower than parsing, so this
/// property runs fewer cases against one small store.
#[test]
fn every_filter_that_parses_runs() {
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
    let config = ProptestConfig {
        cases: ProptestConfig::default().cases.min(64),
        ..ProptestConfig::default()
    };
    proptest!(config.clone(), |(filter in valid_filter(), order in prop::sample::select(PIECES))| {
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
            prop_assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{}: {}", order, error);
        }
    });
    proptest!(config, |(filter in soup(), order in prop::sample::select(PIECES))| {
        let runs_parse = parse(Target::Runs, &filter);
        let outcome = runtime.block_on(store.search(&Search {
            filter: filter.clone(),
            order_by: vec![order.to_string()],
            ..Search::runs()
        }));
        if let Err(error) = &outcome {
            prop_assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{}: {}", filter, error);
        }
        if runs_parse.is_ok() && parse_order(Target::Runs, order).is_ok() {
            prop_assert!(outcome.is_ok(), "{} ordered by {}: {:?}", filter, order, outcome.err());
        }
        let experiments = runtime.block_on(store.search(&Search {
            filter: filter.clone(),
            ..Search::experiments()
        }));
        if let Err(error) = &experiments {
            prop_assert_eq!(error.code(), ErrorCode::InvalidParameterValue, "{}: {}", filter, error);
        }
    });
}
