//! `EXEC store.gc`: remove deleted runs, logged models and experiments for good.

use crate::api::GcOptions;
use crate::procedures::prelude::*;

pub const PROCEDURE: Procedure = Procedure {
    name: "store.gc",
    summary: r#"Permanently remove deleted runs, logged models and experiments (all of them, or those named, or those deleted long enough ago)."#,
    params: &[
        Param::optional(
            "older_than",
            Text,
            "Only those deleted at least this long ago: 30d, 1d2h, 90m, 45s.",
        ),
        Param::optional("run_ids", TextList, "Only these deleted runs."),
        Param::optional(
            "experiment_ids",
            TextList,
            "Only these deleted experiments, with their runs.",
        ),
        Param::optional(
            "orphans_older_than",
            Text,
            "Delete files no table version uses (left by crashed writers) once this old; default 1h. 0s only while no one writes.",
        ),
    ],
    example: r#"EXEC store.gc @older_than='30d';"#,
    run: |store, args| Box::pin(run(store, args)),
};

async fn run(store: Store, args: Args) -> Result<RecordBatch> {
    let options = GcOptions {
        older_than_millis: args
            .text("older_than")?
            .map(|d| parse_duration("older_than", &d))
            .transpose()?,
        run_ids: args.text_list("run_ids")?.unwrap_or_default(),
        experiment_ids: args.text_list("experiment_ids")?.unwrap_or_default(),
        orphans_older_than_millis: args
            .text("orphans_older_than")?
            .map(|d| parse_duration("orphans_older_than", &d))
            .transpose()?,
    };
    let report = store.gc(options).await?;
    result::table(vec![
        Column::int("runs_removed", [Some(report.runs as i64)]),
        Column::int("logged_models_removed", [Some(report.logged_models as i64)]),
        Column::int("experiments_removed", [Some(report.experiments as i64)]),
        Column::int("rows_removed", [Some(report.rows as i64)]),
        Column::int("files_deleted", [Some(report.files_deleted as i64)]),
    ])
}

/// `mlflow gc --older-than` durations: `1d2h3m4s`, any subset, in that order.
fn parse_duration(name: &str, text: &str) -> Result<i64> {
    let invalid = || {
        RunqlError::invalid(format!(
            "store.gc @{name} must be a duration such as 30d, 1d2h or 90m, got '{text}'"
        ))
    };
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut last_unit = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, millis) = match c {
            'd' => (1, 86_400_000),
            'h' => (2, 3_600_000),
            'm' => (3, 60_000),
            's' => (4, 1_000),
            _ => return Err(invalid()),
        };
        if number.is_empty() || rank <= last_unit {
            return Err(invalid());
        }
        let amount: i64 = number.parse().map_err(|_| invalid())?;
        total = amount
            .checked_mul(millis)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(invalid)?;
        number.clear();
        last_unit = rank;
    }
    if !number.is_empty() || last_unit == 0 {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_are_mlflow_gc_durations() {
        assert_eq!(
            parse_duration("older_than", "30d").unwrap(),
            30 * 86_400_000
        );
        assert_eq!(
            parse_duration("older_than", "1d2h3m4s").unwrap(),
            93_784_000
        );
        for bad in ["", "10", "2h1d", "d", "1x", "1d1d", "99999999999999999999d"] {
            assert!(parse_duration("older_than", bad).is_err(), "{bad}");
        }
    }
}
