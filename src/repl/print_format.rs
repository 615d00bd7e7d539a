//! The output formats: how a statement's rows become text.
//!
//! Only `table` is for eyes: it aligns columns, shows NULL as `NULL` (an empty
//! string stays empty), cuts long text and can stop at a row limit. The others
//! are for programs and print every row and every character; CSV and TSV leave
//! NULL empty, the JSON forms write `null`.

use std::fmt;
use std::str::FromStr;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The widest a table cell gets, in characters, before it is cut with `…`.
pub const MAX_CELL_WIDTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintFormat {
    Table,
    Csv,
    Tsv,
    Json,
    Ndjson,
    Markdown,
}

impl PrintFormat {
    pub const NAMES: &'static [&'static str] =
        &["table", "csv", "tsv", "json", "ndjson", "markdown"];

    /// Formats rows. `maxrows` limits how many a table shows; the footer says
    /// how many there were when `footer` is set.
    pub fn format(
        self,
        schema: &SchemaRef,
        batches: &[RecordBatch],
        maxrows: Option<usize>,
        footer: bool,
    ) -> Result<String, ArrowError> {
        match self {
            PrintFormat::Table => table(schema, batches, maxrows, footer),
            PrintFormat::Markdown => markdown(schema, batches),
            PrintFormat::Csv => delimited(schema, batches, b','),
            PrintFormat::Tsv => delimited(schema, batches, b'\t'),
            PrintFormat::Json => {
                let mut out = Vec::new();
                let mut writer = datafusion::arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, datafusion::arrow::json::writer::JsonArray>(&mut out);
                for batch in batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
                drop(writer);
                out.push(b'\n');
                utf8(out)
            }
            PrintFormat::Ndjson => {
                let mut out = Vec::new();
                let mut writer = datafusion::arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, datafusion::arrow::json::writer::LineDelimited>(&mut out);
                for batch in batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
                drop(writer);
                utf8(out)
            }
        }
    }
}

impl FromStr for PrintFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <PrintFormat as clap::ValueEnum>::from_str(s, true).map_err(|_| {
            format!(
                "unknown format '{s}'; the formats are {}",
                PrintFormat::NAMES.join(", ")
            )
        })
    }
}

impl fmt::Display for PrintFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = *self as usize;
        f.write_str(PrintFormat::NAMES[index])
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, ArrowError> {
    String::from_utf8(bytes).map_err(|e| ArrowError::ExternalError(Box::new(e)))
}

fn delimited(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    delimiter: u8,
) -> Result<String, ArrowError> {
    let mut out = Vec::new();
    {
        let mut writer = datafusion::arrow::csv::WriterBuilder::new()
            .with_delimiter(delimiter)
            .build(&mut out);
        // The writer writes the header with the first batch, so an empty result still gets one.
        let empty = RecordBatch::new_empty(schema.clone());
        for batch in batches.iter().chain(batches.is_empty().then_some(&empty)) {
            writer.write(&nested_as_text(batch)?)?;
        }
    }
    utf8(out)
}

/// The batch with maps, lists and structs rendered as text (`{lr: 0.01}`),
/// which the CSV writer cannot write otherwise; NULL stays NULL.
fn nested_as_text(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| f.data_type().is_nested())
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if field.data_type().is_nested() {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
            let text: StringArray = (0..column.len())
                .map(|row| (!column.is_null(row)).then(|| formatter.value(row).to_string()))
                .collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(text));
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Every cell as display text, NULL as `NULL`, up to `limit` rows.
fn cells(batches: &[RecordBatch], limit: usize) -> Result<Vec<Vec<String>>, ArrowError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        if rows.len() >= limit {
            break;
        }
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows().min(limit - rows.len()) {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).try_to_string())
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
    }
    Ok(rows)
}

fn headers(schema: &SchemaRef) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// Cuts text to [`MAX_CELL_WIDTH`] characters and keeps it on one line.
fn cut(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if one_line.chars().count() <= MAX_CELL_WIDTH {
        return one_line;
    }
    let mut kept: String = one_line.chars().take(MAX_CELL_WIDTH - 1).collect();
    kept.push('…');
    kept
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    maxrows: Option<usize>,
    footer: bool,
) -> Result<String, ArrowError> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let shown = maxrows.unwrap_or(usize::MAX).min(total);
    let header: Vec<String> = headers(schema).iter().map(|h| cut(h)).collect();
    let rows: Vec<Vec<String>> = cells(batches, shown)?
        .into_iter()
        .map(|row| row.iter().map(|c| cut(c)).collect())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| width(&r[i]))
                .chain([width(&header[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: String = widths.iter().fold("+".to_string(), |mut line, w| {
        line.push_str(&"-".repeat(w + 2));
        line.push('+');
        line
    });
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .fold("|".to_string(), |mut line, (cell, w)| {
                line.push(' ');
                line.push_str(cell);
                line.push_str(&" ".repeat(w - width(cell) + 1));
                line.push('|');
                line
            })
    };
    let mut out = String::new();
    if !header.is_empty() {
        out.push_str(&format!("{rule}\n{}\n{rule}\n", line(&header)));
        for row in &rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out.push_str(&rule);
        out.push('\n');
    }
    if footer {
        let noun = if total == 1 { "row" } else { "rows" };
        if shown < total {
            out.push_str(&format!("{total} {noun} (showing first {shown})\n"));
        } else {
            out.push_str(&format!("{total} {noun}\n"));
        }
    }
    Ok(out)
}

fn markdown(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<String, ArrowError> {
    let escape = |text: &str| text.replace('|', "\\|").replace('\n', "<br>");
    let line = |cells: &[String]| {
        let inner: Vec<String> = cells.iter().map(|c| escape(c)).collect();
        format!("| {} |\n", inner.join(" | "))
    };
    let header = headers(schema);
    let mut out = line(&header);
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for row in cells(batches, usize::MAX)? {
        out.push_str(&line(&row));
    }
    Ok(out)
}
