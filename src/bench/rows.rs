//! Query answers as JSON rows, the form the DuckDB script prints, so the two
//! systems' answers compare with `==`: text as strings, integers and
//! timestamps as whole numbers (epoch milliseconds), floats as floats, the
//! rest in its display form. Both sides parse the same CSV text, so equal
//! floats are bit-for-bit equal.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value;

use crate::error::{Context, Result};

/// One answer: rows of cells.
pub(crate) type Rows = Vec<Vec<Value>>;

/// The rows of all batches, every column converted as the module doc says.
pub(crate) fn from_batches(batches: &[RecordBatch]) -> Result<Rows> {
    let mut rows = Rows::new();
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .map(column_values)
            .collect::<Result<Vec<_>>>()?;
        for row in 0..batch.num_rows() {
            rows.push(columns.iter().map(|column| column[row].clone()).collect());
        }
    }
    Ok(rows)
}

/// The first cell of every row, as text (run ids, experiment ids).
pub(crate) fn first_column_text(rows: &Rows) -> Vec<String> {
    rows.iter()
        .map(|row| match row.first() {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        })
        .collect()
}

fn column_values(array: &ArrayRef) -> Result<Vec<Value>> {
    let converting = |to: &DataType| {
        cast(array, to).context(|| format!("reading a {} column", array.data_type()))
    };
    let data_type = array.data_type();
    let values = if data_type.is_integer() || matches!(data_type, DataType::Timestamp(..)) {
        let millis = match data_type {
            DataType::Timestamp(..) => {
                converting(&DataType::Timestamp(TimeUnit::Millisecond, None))?
            }
            _ => array.clone(),
        };
        let ints = cast(&millis, &DataType::Int64).context(|| "reading whole numbers".into())?;
        ints.as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map_or(Value::Null, Value::from))
            .collect()
    } else if data_type.is_floating() {
        converting(&DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| {
                v.and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            })
            .collect()
    } else {
        // Display form covers text and the maps and lists a search returns.
        let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
            .context(|| format!("reading a {data_type} column"))?;
        (0..array.len())
            .map(|row| {
                if array.is_null(row) {
                    Value::Null
                } else {
                    Value::String(formatter.value(row).to_string())
                }
            })
            .collect()
    };
    Ok(values)
}
