//! The REPL's meta commands, each with a psql spelling and a sqlite one
//! (`\d` and `.tables`). They are read whole from one line, without `;`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use runql::procedures;
use runql::sql::{Output, Session};
use runql::tables::USER_TABLES;

use super::chart;
use super::exec;
use super::print_format::PrintFormat;
use super::print_options::PrintOptions;

/// Every command: its spellings, what it takes, and what it does, for `\?` and completion.
pub const HELP: &[(&str, &str, &str)] = &[
    ("\\d", ".tables", "list the tables"),
    ("\\d TABLE", ".schema TABLE", "describe a table's columns"),
    ("\\procs", ".procs", "list the procedures EXEC runs"),
    (
        "\\h NAME",
        ".help NAME",
        "a procedure's arguments and an example",
    ),
    (
        "\\mode FORMAT",
        ".mode FORMAT",
        "output format: table, csv, tsv, json, ndjson, markdown",
    ),
    (
        "\\maxrows N",
        ".maxrows N",
        "rows a table shows; 0 shows all",
    ),
    (
        "\\timer on|off",
        ".timer on|off",
        "print how long each statement took",
    ),
    ("\\i FILE", ".read FILE", "run the statements of a file"),
    (
        "\\chart [bar] [--svg FILE]",
        ".chart [bar] [--svg FILE]",
        "draw the last result as lines (x, y...) or (series, x, y), or bars (label, value)",
    ),
    (
        "\\watch SECONDS",
        ".watch SECONDS",
        "rerun the last query every SECONDS until Ctrl-C",
    ),
    ("\\q", ".quit", "leave (Ctrl-D too)"),
    ("\\?", ".help", "this list"),
];

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    ListTables,
    Describe(String),
    ListProcedures,
    ProcedureHelp(String),
    Mode(PrintFormat),
    MaxRows(Option<usize>),
    Timer(bool),
    Include(PathBuf),
    Chart { bar: bool, svg: Option<PathBuf> },
    Watch(Duration),
    Quit,
    Help,
}

/// What the REPL does after a command.
pub enum Next {
    Continue,
    Quit,
}

impl Command {
    /// Whether a line is a meta command rather than SQL.
    pub fn is_command(line: &str) -> bool {
        let line = line.trim_start();
        line.starts_with('\\') || line.starts_with('.')
    }

    /// Reads a meta command line; an unknown command or a bad argument is an
    /// error saying what was expected.
    pub fn parse(line: &str) -> Result<Command, String> {
        let line = line.trim().trim_end_matches(';').trim();
        let (name, arg) = match line.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, arg.trim()),
            None => (line, ""),
        };
        let name = name.to_ascii_lowercase();
        let command = match (name.as_str(), arg) {
            ("\\d" | ".tables" | ".schema", "") => Command::ListTables,
            ("\\d" | ".schema", table) => Command::Describe(table.to_string()),
            ("\\procs" | ".procs", _) => Command::ListProcedures,
            ("\\h" | ".help", "") | ("\\?", _) => Command::Help,
            ("\\h" | ".help", procedure) => Command::ProcedureHelp(procedure.to_string()),
            ("\\mode" | ".mode", format) => Command::Mode(format.parse()?),
            ("\\maxrows" | ".maxrows", n) => match n.parse::<usize>() {
                Ok(0) => Command::MaxRows(None),
                Ok(n) => Command::MaxRows(Some(n)),
                Err(_) => return Err(format!("{name} takes a row count (0 for all), got '{n}'")),
            },
            ("\\timer" | ".timer", "on") => Command::Timer(true),
            ("\\timer" | ".timer", "off") => Command::Timer(false),
            ("\\timer" | ".timer", other) => {
                return Err(format!("{name} takes on or off, got '{other}'"));
            }
            ("\\i" | ".read", "") => return Err(format!("{name} takes a file name")),
            ("\\i" | ".read", file) => Command::Include(PathBuf::from(file)),
            ("\\chart" | ".chart", args) => parse_chart(&name, args)?,
            ("\\watch" | ".watch", seconds) => match seconds.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.1 => Command::Watch(Duration::from_secs_f64(s)),
                _ => {
                    return Err(format!(
                        "{name} takes a number of seconds, at least 0.1, got '{seconds}'"
                    ));
                }
            },
            ("\\q" | ".quit" | ".exit", _) => Command::Quit,
            _ => return Err(format!("unknown command '{name}'; \\? lists them")),
        };
        Ok(command)
    }

    pub async fn run(
        self,
        session: &Session,
        options: &mut PrintOptions,
        interrupts: &exec::Interrupts,
        last: &exec::LastResult,
    ) -> Next {
        let shown = match self {
            Command::Quit => return Next::Quit,
            Command::ListTables => {
                text_table(&["table"], USER_TABLES.iter().map(|t| vec![t.to_string()]))
            }
            Command::Describe(table) => describe(session, &table).await,
            Command::ListProcedures => text_table(
                &["procedure", "summary"],
                procedures::ALL
                    .iter()
                    .map(|p| vec![p.name.to_string(), p.summary.to_string()]),
            ),
            Command::ProcedureHelp(name) => {
                match procedures::find(&name) {
                    Ok(procedure) => println!("{}", procedure_help(procedure)),
                    Err(error) => exec::report(&error),
                }
                return Next::Continue;
            }
            Command::Mode(format) => {
                options.format = format;
                return Next::Continue;
            }
            Command::MaxRows(maxrows) => {
                options.maxrows = maxrows;
                return Next::Continue;
            }
            Command::Timer(on) => {
                options.timer = on;
                return Next::Continue;
            }
            Command::Include(path) => {
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        exec::run_interactive(session, &text, options, interrupts, last).await;
                    }
                    Err(e) => eprintln!("error: cannot read {}: {e}", path.display()),
                }
                return Next::Continue;
            }
            Command::Chart { bar, svg } => {
                match last.get() {
                    Some((_, output)) => {
                        if let Err(message) = chart(&output, bar, svg.as_deref()) {
                            eprintln!("error: {message}");
                        }
                    }
                    None => eprintln!("error: no query has returned rows to chart yet"),
                }
                return Next::Continue;
            }
            Command::Watch(every) => {
                match last.get() {
                    // Rerunning an EXEC or INSERT would write each time.
                    Some((statement, _)) if !exec::is_query(&statement.text) => eprintln!(
                        "error: .watch reruns only queries; the last result came from '{}'",
                        statement.text
                    ),
                    Some((statement, _)) => {
                        exec::watch(session, &statement, every, options, interrupts).await
                    }
                    None => eprintln!("error: no query has run yet to watch"),
                }
                return Next::Continue;
            }
            Command::Help => {
                let rows = HELP.iter().map(|(psql, sqlite, what)| {
                    vec![psql.to_string(), sqlite.to_string(), what.to_string()]
                });
                text_table(&["command", "or", "does"], rows)
            }
        };
        match shown {
            Ok(output) => {
                if let Err(message) = options.print(&output, Duration::ZERO) {
                    eprintln!("error: {message}");
                }
            }
            Err(message) => eprintln!("error: {message}"),
        }
        Next::Continue
    }
}

/// Reads `.chart`'s arguments: an optional `bar`, then an optional `--svg FILE`.
fn parse_chart(name: &str, args: &str) -> Result<Command, String> {
    let mut words = args.split_whitespace();
    let mut bar = false;
    let mut svg = None;
    while let Some(word) = words.next() {
        match word {
            "bar" if !bar && svg.is_none() => bar = true,
            "line" if !bar && svg.is_none() => {}
            "--svg" if svg.is_none() => match words.next() {
                Some(file) => svg = Some(PathBuf::from(file)),
                None => return Err(format!("{name} --svg takes a file name")),
            },
            other => {
                return Err(format!("{name} takes [bar] [--svg FILE], got '{other}'"));
            }
        }
    }
    Ok(Command::Chart { bar, svg })
}

/// Draws a result on stdout, or writes it to an SVG file.
fn chart(output: &Output, bar: bool, svg: Option<&Path>) -> Result<(), String> {
    let text = if bar {
        let bars = chart::bar_data(&output.schema, &output.batches)?;
        match svg {
            Some(_) => chart::bar_svg(&bars),
            None => chart::render_bars(&bars, chart_width().min(60)),
        }
    } else {
        let data = chart::line_data(&output.schema, &output.batches)?;
        match svg {
            Some(_) => chart::line_svg(&data),
            None => {
                let colour = std::io::stdout().is_terminal();
                chart::render_line(&data, chart_width(), 15, colour)
            }
        }
    };
    match svg {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write the chart to {}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Characters across for a chart's plot: the terminal's width from `COLUMNS`
/// less room for labels, or 60.
fn chart_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .map_or(60, |c| c.saturating_sub(16).clamp(10, 120))
}

async fn describe(session: &Session, table: &str) -> Result<Output, String> {
    let frame = session.context().table(table).await.map_err(|_| {
        format!(
            "no table '{table}'; the tables are {}",
            USER_TABLES.join(", ")
        )
    })?;
    let rows = frame.schema().fields().iter().map(|f| {
        vec![
            f.name().clone(),
            f.data_type().to_string(),
            if f.is_nullable() { "YES" } else { "NO" }.to_string(),
        ]
    });
    text_table(
        &["column_name", "data_type", "is_nullable"],
        rows.collect::<Vec<_>>(),
    )
}

/// A procedure's summary, arguments and example, as `\h` shows it.
pub fn procedure_help(procedure: &procedures::Procedure) -> String {
    let mut text = format!("{}: {}\n\narguments:\n", procedure.name, procedure.summary);
    if procedure.params.is_empty() {
        text.push_str("  none\n");
    }
    for param in procedure.params {
        let required = if param.required {
            "required"
        } else {
            "optional"
        };
        text.push_str(&format!(
            "  @{} ({}, {required}): {}\n",
            param.name,
            param.kind.as_str(),
            param.doc
        ));
    }
    text.push_str(&format!("\nexample:\n  {}", procedure.example));
    text
}

/// Rows of text as an [`Output`], so commands print in the chosen format.
fn text_table(
    names: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Output, String> {
    let rows: Vec<Vec<String>> = rows.into_iter().collect();
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    Ok(Output {
        schema,
        batches: vec![batch],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_parse_alike() {
        assert_eq!(Command::parse("\\d"), Ok(Command::ListTables));
        assert_eq!(Command::parse(".tables"), Ok(Command::ListTables));
        assert_eq!(Command::parse("\\d runs"), Command::parse(".schema runs"));
        assert_eq!(
            Command::parse(".mode csv"),
            Ok(Command::Mode(PrintFormat::Csv))
        );
        assert_eq!(Command::parse(".maxrows 0"), Ok(Command::MaxRows(None)));
        assert_eq!(Command::parse("\\q"), Command::parse(".quit"));
        assert!(Command::parse(".mode xml").unwrap_err().contains("ndjson"));
        assert!(Command::parse("\\zz").is_err());
        assert_eq!(
            Command::parse(".chart"),
            Ok(Command::Chart {
                bar: false,
                svg: None
            })
        );
        assert_eq!(
            Command::parse("\\chart bar --svg out.svg"),
            Ok(Command::Chart {
                bar: true,
                svg: Some(PathBuf::from("out.svg"))
            })
        );
        assert!(Command::parse(".chart --svg").unwrap_err().contains("file"));
        assert_eq!(
            Command::parse("\\watch 2"),
            Ok(Command::Watch(Duration::from_secs(2)))
        );
        assert!(
            Command::parse(".watch soon")
                .unwrap_err()
                .contains("'soon'")
        );
    }
}
