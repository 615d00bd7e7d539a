//! `.chart`: a query result drawn as a line or bar chart, in the terminal
//! (braille dots) or as an SVG file. Pure functions over record batches; the
//! caller decides where the text goes.
//!
//! A line chart reads either a wide result (the first column is x, a number or
//! a time, and every other numeric column is a series) or a long one: exactly
//! three columns with a text first, read as (series, x, y). A bar chart reads
//! a text label from the first column and a value from the first numeric one
//! after it.

use std::fmt::Write;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

/// Series colours: ANSI codes in the terminal, and the same hues in SVG.
const ANSI: &[u8] = &[34, 33, 32, 31, 35, 36];
const SVG_COLOURS: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#17becf",
];

/// One line of a line chart, its points in the order the rows gave them.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// What a line chart draws. When `x_is_time`, x is milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct LineData {
    pub x_name: String,
    pub x_is_time: bool,
    pub series: Vec<Series>,
}

/// One bar: its label and value.
pub type Bar = (String, f64);

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn is_time(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
    )
}

/// A column's values as numbers; times become milliseconds since the epoch.
fn numbers(column: &ArrayRef) -> Result<Vec<Option<f64>>, String> {
    let data_type = column.data_type();
    let floats = if is_time(data_type) {
        let millis = cast(column, &DataType::Timestamp(TimeUnit::Millisecond, None))
            .and_then(|c| cast(&c, &DataType::Int64))
            .map_err(|e| format!("reading {data_type} as time: {e}"))?;
        let ints = millis
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or("a time column did not read as integers")?;
        return Ok(ints.iter().map(|v| v.map(|v| v as f64)).collect());
    } else {
        cast(column, &DataType::Float64).map_err(|e| format!("reading {data_type}: {e}"))?
    };
    let floats = floats
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or("a numeric column did not read as numbers")?;
    Ok(floats.iter().collect())
}

fn texts(column: &ArrayRef) -> Result<Vec<Option<String>>, String> {
    let strings = cast(column, &DataType::Utf8).map_err(|e| e.to_string())?;
    let strings = strings
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("a text column did not read as text")?;
    Ok(strings.iter().map(|v| v.map(str::to_string)).collect())
}

/// The rows of column `index` across every batch.
fn column_numbers(batches: &[RecordBatch], index: usize) -> Result<Vec<Option<f64>>, String> {
    let mut all = Vec::new();
    for batch in batches {
        all.extend(numbers(batch.column(index))?);
    }
    Ok(all)
}

fn column_texts(batches: &[RecordBatch], index: usize) -> Result<Vec<Option<String>>, String> {
    let mut all = Vec::new();
    for batch in batches {
        all.extend(texts(batch.column(index))?);
    }
    Ok(all)
}

/// Reads a result as line series. Rows with a NULL x or y are left out of that series.
pub fn line_data(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<LineData, String> {
    let fields = schema.fields();
    let plottable = |t: &DataType| t.is_numeric() || is_time(t);
    if fields.len() == 3 && is_text(fields[0].data_type()) {
        for field in &fields[1..] {
            if !plottable(field.data_type()) {
                return Err(format!(
                    "a (series, x, y) result needs numeric x and y; '{}' is {}",
                    field.name(),
                    field.data_type()
                ));
            }
        }
        let names = column_texts(batches, 0)?;
        let xs = column_numbers(batches, 1)?;
        let ys = column_numbers(batches, 2)?;
        let mut series: Vec<Series> = Vec::new();
        for ((name, x), y) in names.into_iter().zip(xs).zip(ys) {
            let (Some(x), Some(y)) = (x, y) else { continue };
            let name = name.unwrap_or_else(|| "NULL".to_string());
            match series.iter_mut().find(|s| s.name == name) {
                Some(s) => s.points.push((x, y)),
                None => series.push(Series {
                    name,
                    points: vec![(x, y)],
                }),
            }
        }
        return Ok(LineData {
            x_name: fields[1].name().clone(),
            x_is_time: is_time(fields[1].data_type()),
            series,
        });
    }
    let Some(x_field) = fields.first() else {
        return Err("the last result has no columns".to_string());
    };
    if !plottable(x_field.data_type()) {
        return Err(format!(
            "a line chart needs a numeric or time first column (x), or columns (series, x, y); \
             '{}' is {} (.chart bar draws text labels)",
            x_field.name(),
            x_field.data_type()
        ));
    }
    let xs = column_numbers(batches, 0)?;
    let mut series = Vec::new();
    for (index, field) in fields.iter().enumerate().skip(1) {
        if !field.data_type().is_numeric() {
            continue;
        }
        let ys = column_numbers(batches, index)?;
        let points = xs
            .iter()
            .zip(ys)
            .filter_map(|(x, y)| Some(((*x)?, y?)))
            .collect();
        series.push(Series {
            name: field.name().clone(),
            points,
        });
    }
    if series.is_empty() {
        return Err(format!(
            "a line chart needs a numeric column after '{}' for y",
            x_field.name()
        ));
    }
    Ok(LineData {
        x_name: x_field.name().clone(),
        x_is_time: is_time(x_field.data_type()),
        series,
    })
}

/// Reads a result as bars: labels from the first column, values from the first
/// numeric column after it. Rows with a NULL value are left out.
pub fn bar_data(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<Bar>, String> {
    let fields = schema.fields();
    let value = fields
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, f)| f.data_type().is_numeric())
        .map(|(i, _)| i)
        .ok_or("a bar chart needs a label column then a numeric column")?;
    let labels = column_texts(batches, 0)?;
    let values = column_numbers(batches, value)?;
    Ok(labels
        .into_iter()
        .zip(values)
        .filter_map(|(label, value)| Some((label.unwrap_or_else(|| "NULL".to_string()), value?)))
        .collect())
}

/// A number as an axis label: integers whole, others to four significant digits.
fn number_label(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(0, 10) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn x_label(value: f64, is_time: bool) -> String {
    if is_time {
        chrono::DateTime::from_timestamp_millis(value as i64)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| number_label(value))
    } else {
        number_label(value)
    }
}

/// The smallest and largest of some values, widened when they are equal so
/// that a flat line still has a range to sit in.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() {
        (0.0, 1.0)
    } else if low == high {
        (low - 1.0, high + 1.0)
    } else {
        (low, high)
    }
}

impl LineData {
    fn x_range(&self) -> (f64, f64) {
        range(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.0)),
        )
    }

    fn y_range(&self) -> (f64, f64) {
        range(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1)),
        )
    }
}

/// Pixels in the order of x, so that a line joins neighbours.
fn sorted(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut points = points.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// Draws a line chart `width` by `height` characters (plus axes, labels and a
/// legend) in braille dots. With `colour`, each series gets an ANSI colour;
/// without, a cell where series cross shows the last one drawn.
pub fn render_line(data: &LineData, width: usize, height: usize, colour: bool) -> String {
    let (width, height) = (width.max(2), height.max(2));
    let (px, py) = (width * 2, height * 4);
    let (x_lo, x_hi) = data.x_range();
    let (y_lo, y_hi) = data.y_range();
    // Each cell: its braille dots, and the series that drew there last.
    let mut cells = vec![(0u8, 0usize); width * height];
    const DOTS: [[u8; 2]; 4] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]];
    let to_pixel = |(x, y): (f64, f64)| {
        let col = ((x - x_lo) / (x_hi - x_lo) * (px - 1) as f64).round() as i64;
        let row = ((y_hi - y) / (y_hi - y_lo) * (py - 1) as f64).round() as i64;
        (col, row)
    };
    for (index, series) in data.series.iter().enumerate() {
        let mut plot = |(col, row): (i64, i64)| {
            let (col, row) = (col as usize, row as usize);
            let cell = &mut cells[(row / 4) * width + col / 2];
            cell.0 |= DOTS[row % 4][col % 2];
            cell.1 = index;
        };
        let pixels: Vec<(i64, i64)> = sorted(&series.points).into_iter().map(to_pixel).collect();
        if let [only] = pixels.as_slice() {
            plot(*only);
        }
        for pair in pixels.windows(2) {
            // Bresenham between neighbouring points.
            let ((mut x0, mut y0), (x1, y1)) = (pair[0], pair[1]);
            let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
            let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
            let mut error = dx + dy;
            loop {
                plot((x0, y0));
                if x0 == x1 && y0 == y1 {
                    break;
                }
                let doubled = 2 * error;
                if doubled >= dy {
                    error += dy;
                    x0 += sx;
                }
                if doubled <= dx {
                    error += dx;
                    y0 += sy;
                }
            }
        }
    }
    let paint = |text: &str, index: usize| {
        if colour {
            format!("\x1b[{}m{text}\x1b[0m", ANSI[index % ANSI.len()])
        } else {
            text.to_string()
        }
    };
    let (top, bottom) = (number_label(y_hi), number_label(y_lo));
    let margin = top.chars().count().max(bottom.chars().count());
    let mut out = String::new();
    for row in 0..height {
        let (label, tick) = match row {
            0 => (top.as_str(), '┤'),
            r if r == height - 1 => (bottom.as_str(), '┤'),
            _ => ("", '│'),
        };
        let _ = write!(out, "{label:>margin$} {tick}");
        let mut line = String::new();
        for &(dots, index) in &cells[row * width..(row + 1) * width] {
            if dots == 0 {
                line.push(' ');
            } else {
                let dot = char::from_u32(0x2800 + dots as u32).unwrap_or(' ');
                line.push_str(&paint(&dot.to_string(), index));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(out, "{:margin$} └{}", "", "─".repeat(width));
    let (left, right) = (x_label(x_lo, data.x_is_time), x_label(x_hi, data.x_is_time));
    let gap = width.saturating_sub(left.chars().count() + right.chars().count());
    let _ = writeln!(out, "{:margin$}  {left}{:gap$}{right}", "", "");
    let legend: Vec<String> = data
        .series
        .iter()
        .enumerate()
        .map(|(index, s)| format!("{} {}", paint("━━", index), s.name))
        .collect();
    let _ = writeln!(
        out,
        "{:margin$}  x: {}   {}",
        "",
        data.x_name,
        legend.join("   ")
    );
    out
}

/// Draws horizontal bars, the longest `width` characters, each followed by its value.
pub fn render_bars(bars: &[Bar], width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let largest = bars.iter().map(|b| b.1.abs()).fold(0.0, f64::max);
    let label_width = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in bars {
        let eighths = if largest > 0.0 {
            (value.max(0.0) / largest * (width * 8) as f64).round() as usize
        } else {
            0
        };
        let mut bar = "█".repeat(eighths / 8);
        if eighths % 8 > 0 {
            bar.push(EIGHTHS[eighths % 8]);
        }
        let _ = writeln!(out, "{label:<label_width$} │{bar} {}", number_label(*value));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const SVG_WIDTH: f64 = 640.0;
const SVG_HEIGHT: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;

/// A line chart as an SVG document: one `<polyline>` per series, carrying its
/// name in `data-series` and its data values in `data-values` (`x,y x,y`, x in
/// epoch milliseconds for times), plus axes, min/max labels and a legend.
pub fn line_svg(data: &LineData) -> String {
    let (x_lo, x_hi) = data.x_range();
    let (y_lo, y_hi) = data.y_range();
    let (plot_w, plot_h) = (SVG_WIDTH - LEFT - RIGHT, SVG_HEIGHT - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w;
    let sy = |y: f64| TOP + (y_hi - y) / (y_hi - y_lo) * plot_h;
    let mut out = svg_start();
    axes(&mut out);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
        LEFT - 6.0,
        TOP + 4.0,
        escape(&number_label(y_hi))
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
        LEFT - 6.0,
        TOP + plot_h,
        escape(&number_label(y_lo))
    );
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="{}" text-anchor="start">{}</text>"#,
        TOP + plot_h + 18.0,
        escape(&x_label(x_lo, data.x_is_time))
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
        LEFT + plot_w,
        TOP + plot_h + 18.0,
        escape(&x_label(x_hi, data.x_is_time))
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 34.0,
        escape(&data.x_name)
    );
    for (index, series) in data.series.iter().enumerate() {
        let points = sorted(&series.points);
        let pixels: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.2},{:.2}", sx(x), sy(y)))
            .collect();
        let values: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let colour = SVG_COLOURS[index % SVG_COLOURS.len()];
        let _ = writeln!(
            out,
            r#"<polyline data-series="{}" data-values="{}" fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>"#,
            escape(&series.name),
            values.join(" "),
            pixels.join(" ")
        );
        let y = TOP + 10.0 + index as f64 * 18.0;
        let x = SVG_WIDTH - RIGHT + 12.0;
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            x + 20.0,
            x + 26.0,
            y + 4.0,
            escape(&series.name)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Bars as an SVG document: one `<rect>` per bar with `data-label` and `data-value`.
pub fn bar_svg(bars: &[Bar]) -> String {
    let largest = bars.iter().map(|b| b.1.abs()).fold(0.0, f64::max);
    let plot_w = SVG_WIDTH - LEFT - RIGHT;
    let step = (SVG_HEIGHT - TOP - BOTTOM) / bars.len().max(1) as f64;
    let mut out = svg_start();
    axes(&mut out);
    for (index, (label, value)) in bars.iter().enumerate() {
        let length = if largest > 0.0 {
            value.max(0.0) / largest * plot_w
        } else {
            0.0
        };
        let y = TOP + index as f64 * step;
        let colour = SVG_COLOURS[0];
        let _ = writeln!(
            out,
            r#"<rect data-label="{}" data-value="{value}" x="{LEFT}" y="{:.2}" width="{length:.2}" height="{:.2}" fill="{colour}"/>"#,
            escape(label),
            y + step * 0.1,
            step * 0.8
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{:.2}" text-anchor="end">{}</text><text x="{:.2}" y="{:.2}">{}</text>"#,
            LEFT - 6.0,
            y + step * 0.5 + 4.0,
            escape(label),
            LEFT + length + 4.0,
            y + step * 0.5 + 4.0,
            escape(&number_label(*value))
        );
    }
    out.push_str("</svg>\n");
    out
}

fn svg_start() -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{SVG_HEIGHT}" viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
"#
    )
}

fn axes(out: &mut String) {
    let (x0, y0) = (LEFT, SVG_HEIGHT - BOTTOM);
    let _ = writeln!(
        out,
        r#"<g class="axes" stroke="black"><line x1="{x0}" y1="{TOP}" x2="{x0}" y2="{y0}"/><line x1="{x0}" y1="{y0}" x2="{}" y2="{y0}"/></g>"#,
        SVG_WIDTH - RIGHT
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn wide() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "step",
                Arc::new(Int64Array::from(vec![0, 1, 2, 3])) as ArrayRef,
            ),
            (
                "loss",
                Arc::new(Float64Array::from(vec![4.0, 2.0, 1.0, 0.5])) as ArrayRef,
            ),
            (
                "acc",
                Arc::new(Float64Array::from(vec![
                    Some(0.0),
                    Some(1.0),
                    None,
                    Some(4.0),
                ])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn a_wide_result_is_one_series_per_numeric_column() {
        let batch = wide();
        let data = line_data(&batch.schema(), &[batch]).unwrap();
        assert_eq!(data.x_name, "step");
        assert_eq!(data.series.len(), 2);
        assert_eq!(data.series[1].name, "acc");
        assert_eq!(
            data.series[1].points,
            vec![(0.0, 0.0), (1.0, 1.0), (3.0, 4.0)]
        );
    }

    #[test]
    fn a_text_first_column_of_three_is_series_x_y() {
        let batch = RecordBatch::try_from_iter([
            (
                "run",
                Arc::new(StringArray::from(vec!["a", "b", "a"])) as ArrayRef,
            ),
            (
                "step",
                Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef,
            ),
            (
                "value",
                Arc::new(Float64Array::from(vec![1.0, 5.0, 2.0])) as ArrayRef,
            ),
        ])
        .unwrap();
        let data = line_data(&batch.schema(), &[batch]).unwrap();
        assert_eq!(
            data.series,
            vec![
                Series {
                    name: "a".into(),
                    points: vec![(1.0, 1.0), (2.0, 2.0)]
                },
                Series {
                    name: "b".into(),
                    points: vec![(1.0, 5.0)]
                },
            ]
        );
    }

    #[test]
    fn a_time_x_reads_as_milliseconds_and_labels_as_dates() {
        use datafusion::arrow::array::TimestampSecondArray;
        let batch = RecordBatch::try_from_iter([
            (
                "at",
                Arc::new(TimestampSecondArray::from(vec![0, 60])) as ArrayRef,
            ),
            ("v", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .unwrap();
        let data = line_data(&batch.schema(), &[batch]).unwrap();
        assert!(data.x_is_time);
        assert_eq!(data.series[0].points, vec![(0.0, 1.0), (60_000.0, 2.0)]);
        let text = render_line(&data, 40, 2, false);
        assert!(
            text.contains("1970-01-01 00:00:00") && text.contains("1970-01-01 00:01:00"),
            "{text}"
        );
    }

    #[test]
    fn a_text_x_is_refused_with_the_column_named() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let error = line_data(&schema, &[]).unwrap_err();
        assert!(error.contains("'name' is Utf8"), "{error}");
    }

    #[test]
    fn the_terminal_line_chart_is_exact() {
        let data = LineData {
            x_name: "step".into(),
            x_is_time: false,
            series: vec![Series {
                name: "loss".into(),
                points: vec![(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)],
            }],
        };
        let expected = "\
3 ┤      ⡠⠊
  │    ⡠⠊
  │  ⡠⠊
0 ┤⡠⠊
  └────────
   0      3
   x: step   ━━ loss
";
        assert_eq!(render_line(&data, 8, 4, false), expected);
    }

    #[test]
    fn bars_scale_to_the_largest() {
        let bars = vec![("a".to_string(), 4.0), ("bb".to_string(), 1.0)];
        assert_eq!(render_bars(&bars, 4), "a  │████ 4\nbb │█ 1\n");
    }

    #[test]
    fn the_svg_holds_each_series_points() {
        let batch = wide();
        let data = line_data(&batch.schema(), &[batch]).unwrap();
        let svg = line_svg(&data);
        assert!(svg.starts_with("<svg "));
        assert!(svg.trim_end().ends_with("</svg>"));
        let polyline = |name: &str| {
            let start = svg
                .find(&format!("<polyline data-series=\"{name}\""))
                .unwrap_or_else(|| panic!("no polyline for {name}: {svg}"));
            svg[start..svg[start..].find("/>").unwrap() + start].to_string()
        };
        let attribute = |element: &str, name: &str| {
            let from = element.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            element[from..from + element[from..].find('"').unwrap()].to_string()
        };
        let loss = polyline("loss");
        assert_eq!(attribute(&loss, "data-values"), "0,4 1,2 2,1 3,0.5");
        let acc = polyline("acc");
        assert_eq!(attribute(&acc, "data-values"), "0,0 1,1 3,4");
        // The drawn points: x from the left edge to the right, y top for the largest.
        let points: Vec<(f64, f64)> = attribute(&acc, "points")
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(points.len(), 3);
        assert_eq!(points[0], (LEFT, SVG_HEIGHT - BOTTOM));
        assert_eq!(points[2], (SVG_WIDTH - RIGHT, TOP));
        assert!(svg.contains(">loss</text>") && svg.contains(">acc</text>"));
        assert!(svg.contains("class=\"axes\""));
    }

    #[test]
    fn the_bar_svg_has_a_rect_per_bar() {
        let svg = bar_svg(&[("a<b".to_string(), 2.0), ("c".to_string(), 1.0)]);
        assert!(
            svg.contains(r#"data-label="a&lt;b" data-value="2""#),
            "{svg}"
        );
        assert!(svg.contains(r#"data-label="c" data-value="1""#), "{svg}");
    }
}
