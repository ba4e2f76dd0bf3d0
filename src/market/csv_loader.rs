//! CSV bars loader: header `timestamp,open,high,low,close,volume` (any order, extra columns ignored).

use std::path::Path;

use super::{parse_timestamp_ms, validate_bars, Bars, MarketError};

const COLUMNS: [&str; 6] = ["timestamp", "open", "high", "low", "close", "volume"];

/// Reads and validates a CSV file of bars.
pub fn read_bars_csv(path: &Path) -> Result<Bars, MarketError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| MarketError::Io {
        file: file.clone(),
        error,
    })?;
    parse_bars_csv(&file, &text)
}

/// Parses and validates CSV text of bars; `file` names the source in errors. Column names
/// are matched case-insensitively; `time`/`date`/`datetime` are accepted for `timestamp`.
pub fn parse_bars_csv(file: &str, text: &str) -> Result<Bars, MarketError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| MarketError::Format {
            file: file.to_string(),
            message: format!("cannot read the header: {e}"),
        })?
        .clone();
    let find = |name: &str| -> Option<usize> {
        let aliases: &[&str] = if name == "timestamp" {
            &["timestamp", "time", "date", "datetime"]
        } else {
            &[name]
        };
        headers
            .iter()
            .position(|h| aliases.iter().any(|a| h.eq_ignore_ascii_case(a)))
    };
    let mut index = [0usize; 6];
    for (k, name) in COLUMNS.iter().enumerate() {
        index[k] = find(name).ok_or_else(|| MarketError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
        })?;
    }
    let mut bars = Bars::with_capacity(text.len() / 48);
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = record.map_err(|e| MarketError::Format {
            file: file.to_string(),
            message: format!("row {row}: {e}"),
        })?;
        let cell = |k: usize| record.get(index[k]).unwrap_or("");
        let ts = parse_timestamp_ms(cell(0)).map_err(|m| MarketError::field(file, row, "timestamp", m))?;
        let mut v = [0.0f64; 5];
        for k in 1..6 {
            let s = cell(k);
            v[k - 1] = s
                .parse::<f64>()
                .map_err(|_| MarketError::field(file, row, COLUMNS[k], format!("`{s}` is not a number")))?;
        }
        bars.push(ts, v[0], v[1], v[2], v[3], v[4]);
    }
    validate_bars(file, &bars)?;
    Ok(bars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_bars_csv("t.csv", text).unwrap_err().to_string()
    }

    #[test]
    fn reads_valid_rows_in_any_column_order_with_extras() {
        let bars = parse_bars_csv(
            "t.csv",
            "close,extra,open,high,low,volume,timestamp\n2,x,1,3,0.5,10,1700000000\n",
        )
        .unwrap();
        assert_eq!(bars.timestamp_ms, vec![1_700_000_000_000]);
        assert_eq!(
            (bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]),
            (1.0, 3.0, 0.5, 2.0, 10.0)
        );
    }

    #[test]
    fn names_file_row_and_field() {
        let head = "timestamp,open,high,low,close,volume\n";
        assert_eq!(
            err("timestamp,open,high,low,close\n1,1,1,1,1\n"),
            "t.csv: missing column `volume`"
        );
        assert_eq!(err(head), "t.csv: no data rows");
        let e = err(&format!("{head}1,1,2,1,1,5\n2,1,2,1,abc,5\n"));
        assert_eq!(e, "t.csv: row 2, field `close`: `abc` is not a number");
        assert!(err(&format!("{head}1,1,2,1,NaN,5\n")).contains("row 1, field `close`"));
        assert!(err(&format!("{head}1,1,2,1,1,-5\n")).contains("field `volume`: value -5 is negative"));
        assert!(err(&format!("{head}1,1,0.5,0.2,1,5\n")).contains("field `high`"));
        assert!(err(&format!("{head}1,1,2,1.5,1,5\n")).contains("field `low`"));
        assert!(err(&format!("{head}5,1,2,1,1,5\n5,1,2,1,1,5\n")).contains("row 2, field `timestamp`: duplicate"));
        assert!(err(&format!("{head}5,1,2,1,1,5\n4,1,2,1,1,5\n"))
            .contains("row 2, field `timestamp`: timestamp is earlier"));
        assert!(err(&format!("{head}soon,1,2,1,1,5\n")).contains("row 1, field `timestamp`"));
    }
}
