//! The printed report: a header, one row per figure with DuckDB's figure, how
//! runql compares, the goal and whether it is met, then notes on the
//! load, and loudly, any answer that differs from DuckDB's. Plain text, to be
//! pasted into a report or a review as is.

use std::fmt;
use std::time::Duration;

/// One measured amount; which way is better depends on the kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Amount {
    /// Metric points per second: more is better.
    Rate(f64),
    /// Less is better.
    Time(Duration),
    /// Peak resident memory in bytes: less is better.
    Bytes(u64),
}

impl Amount {
    /// How many times better `self` is than `other`, when both are known and of one kind.
    fn times_better_than(self, other: Amount) -> Option<f64> {
        let ratio = match (self, other) {
            (Amount::Rate(ours), Amount::Rate(theirs)) => ours / theirs,
            (Amount::Time(ours), Amount::Time(theirs)) => theirs.as_secs_f64() / ours.as_secs_f64(),
            (Amount::Bytes(ours), Amount::Bytes(theirs)) => theirs as f64 / ours as f64,
            _ => return None,
        };
        ratio.is_finite().then_some(ratio)
    }

    fn within(self, limit: Amount) -> bool {
        self.times_better_than(limit)
            .is_some_and(|ratio| ratio >= 1.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Amount::Rate(per_second) if per_second >= 1e6 => {
                write!(f, "{:.2}M points/s", per_second / 1e6)
            }
            Amount::Rate(per_second) => write!(f, "{:.0}k points/s", per_second / 1e3),
            Amount::Time(time) if time >= Duration::from_secs(10) => {
                write!(f, "{:.1} s", time.as_secs_f64())
            }
            Amount::Time(time) if time >= Duration::from_millis(100) => {
                write!(f, "{:.0} ms", time.as_secs_f64() * 1e3)
            }
            Amount::Time(time) => write!(f, "{:.2} ms", time.as_secs_f64() * 1e3),
            Amount::Bytes(bytes) => write!(f, "{:.0} MiB", bytes as f64 / (1u64 << 20) as f64),
        }
    }
}

/// runql's goal for a figure: a limit, and for queries also beating DuckDB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    limit: Option<Amount>,
    beat_baseline: bool,
}

impl Target {
    pub(crate) const NONE: Target = Target {
        limit: None,
        beat_baseline: false,
    };

    pub(crate) fn limit(limit: Amount) -> Self {
        Target {
            limit: Some(limit),
            beat_baseline: false,
        }
    }

    pub(crate) fn limit_and_baseline(limit: Amount) -> Self {
        Target {
            limit: Some(limit),
            beat_baseline: true,
        }
    }

    fn is_set(&self) -> bool {
        self.limit.is_some() || self.beat_baseline
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = match self.limit {
            Some(Amount::Rate(_)) => ">=",
            Some(_) => "<=",
            None => return write!(f, "-"),
        };
        let limit = self.limit.map(|l| l.to_string()).unwrap_or_default();
        write!(f, "{bound} {limit}")?;
        if self.beat_baseline {
            write!(f, ", <= DuckDB")?;
        }
        Ok(())
    }
}

/// One row of the report.
pub(crate) struct Figure {
    pub name: String,
    pub runql: Amount,
    pub duckdb: Amount,
    pub target: Target,
}

impl Figure {
    fn comparison(&self) -> String {
        let Some(ratio) = self.runql.times_better_than(self.duckdb) else {
            return "-".to_string();
        };
        let (better, worse) = match self.runql {
            Amount::Bytes(_) => ("less memory", "more memory"),
            _ => ("faster", "slower"),
        };
        if ratio >= 1.0 {
            format!("{ratio:.1}x {better}")
        } else {
            format!("{:.1}x {worse}", 1.0 / ratio)
        }
    }

    fn met(&self) -> &'static str {
        if !self.target.is_set() {
            return "-";
        }
        let within_limit = self.target.limit.is_none_or(|l| self.runql.within(l));
        let beats_baseline = !self.target.beat_baseline
            || self
                .runql
                .times_better_than(self.duckdb)
                .is_some_and(|r| r >= 1.0);
        if within_limit && beats_baseline {
            "yes"
        } else {
            "no"
        }
    }
}

/// What `runql bench` prints. Its answers must agree with DuckDB's: see [`BenchReport::mismatches`].
pub struct BenchReport {
    pub(crate) header: Vec<String>,
    pub(crate) figures: Vec<Figure>,
    pub(crate) notes: Vec<String>,
    pub(crate) mismatches: Vec<String>,
    /// `runql serve` beside `mlflow server`, when measured.
    pub(crate) serve: Option<crate::bench::serve_side::ServeReport>,
}

impl BenchReport {
    /// The queries whose answer differed from DuckDB's, described; a fast wrong
    /// answer is worthless, so the command fails when this is not empty.
    pub fn mismatches(&self) -> &[String] {
        &self.mismatches
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.header {
            writeln!(f, "{line}")?;
        }
        if !self.figures.is_empty() {
            writeln!(f)?;
            let mut table = vec![
                [
                    "figure",
                    "runql",
                    "DuckDB",
                    "runql vs DuckDB",
                    "target",
                    "met?",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for figure in &self.figures {
                table.push(vec![
                    figure.name.clone(),
                    figure.runql.to_string(),
                    figure.duckdb.to_string(),
                    figure.comparison(),
                    figure.target.to_string(),
                    figure.met().to_string(),
                ]);
            }
            write_table(f, &table)?;
            writeln!(f)?;
        }
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        if self.mismatches.is_empty() && !self.figures.is_empty() {
            writeln!(f, "answers: every query's answer equals DuckDB's")?;
        }
        for mismatch in &self.mismatches {
            writeln!(f, "MISMATCH: {mismatch}")?;
        }
        if let Some(serve) = &self.serve {
            writeln!(f)?;
            write!(f, "{serve}")?;
        }
        Ok(())
    }
}

/// Rows of cells as an aligned text table, the first row a header.
pub(crate) fn write_table(f: &mut fmt::Formatter<'_>, table: &[Vec<String>]) -> fmt::Result {
    let columns = table.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            table
                .iter()
                .map(|row| row.get(column).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (index, row) in table.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(f, "{}", cells.join(" | ").trim_end())?;
        if index == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            writeln!(f, "{}", rule.join("-|-"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(runql: Amount, duckdb: Amount, target: Target) -> Figure {
        Figure {
            name: "f".into(),
            runql,
            duckdb,
            target,
        }
    }

    #[test]
    fn times_compare_inversely_and_rates_directly() {
        let ms = Duration::from_millis;
        let query = figure(
            Amount::Time(ms(50)),
            Amount::Time(ms(100)),
            Target::limit_and_baseline(Amount::Time(ms(150))),
        );
        assert_eq!(query.comparison(), "2.0x faster");
        assert_eq!(query.met(), "yes");
        let slow = figure(
            Amount::Time(ms(120)),
            Amount::Time(ms(60)),
            Target::limit_and_baseline(Amount::Time(ms(150))),
        );
        assert_eq!(slow.comparison(), "2.0x slower");
        assert_eq!(slow.met(), "no", "within 150 ms but slower than DuckDB");
        let ingest = figure(
            Amount::Rate(2e6),
            Amount::Rate(1e6),
            Target::limit(Amount::Rate(3e6)),
        );
        assert_eq!(ingest.comparison(), "2.0x faster");
        assert_eq!(ingest.met(), "no");
        assert_eq!(
            figure(Amount::Bytes(1), Amount::Bytes(2), Target::NONE).met(),
            "-"
        );
    }
}
