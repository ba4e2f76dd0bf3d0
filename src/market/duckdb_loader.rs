//! Parquet files and DuckDB tables read through DuckDB, validated like CSV rows.

use std::path::Path;

use duckdb::Connection;

use super::{parse_timestamp_ms, validate_bars, Bars, MarketError};

fn db_error(file: &str, e: duckdb::Error) -> MarketError {
    MarketError::Format {
        file: file.to_string(),
        message: format!("DuckDB: {e}"),
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Reads bars from a Parquet file, or from a DuckDB database file as `FILE.duckdb#TABLE`
/// (table `bars` when no table is given). Columns are found by name, case-insensitively, and
/// every cell is cast to text and parsed like a CSV cell, so errors name the row and field.
pub fn read_bars_table(path: &Path) -> Result<Bars, MarketError> {
    let full = path.display().to_string();
    let (file_part, table) = match full.split_once('#') {
        Some((f, t)) => (f.to_string(), t.to_string()),
        None => (full.clone(), "bars".to_string()),
    };
    let file = file_part.clone();
    if !Path::new(&file_part).exists() {
        return Err(MarketError::Io {
            file,
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let is_parquet = file_part.to_ascii_lowercase().ends_with(".parquet");
    let conn = Connection::open_in_memory().map_err(|e| db_error(&file, e))?;
    let relation = if is_parquet {
        format!("read_parquet({})", quote_literal(&file_part))
    } else {
        conn.execute_batch(&format!("ATTACH {} AS src (READ_ONLY)", quote_literal(&file_part)))
            .map_err(|e| db_error(&file, e))?;
        format!("src.{}", quote_ident(&table))
    };
    let columns: Vec<String> = {
        let mut stmt = conn
            .prepare(&format!("SELECT column_name FROM (DESCRIBE SELECT * FROM {relation})"))
            .map_err(|e| db_error(&file, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| db_error(&file, e))?;
        rows.collect::<Result<_, _>>().map_err(|e| db_error(&file, e))?
    };
    let names = ["timestamp", "open", "high", "low", "close", "volume"];
    let mut select = Vec::new();
    for name in names {
        let aliases: &[&str] = if name == "timestamp" {
            &["timestamp", "time", "date", "datetime"]
        } else {
            &[name]
        };
        let col = columns
            .iter()
            .find(|c| aliases.iter().any(|a| c.eq_ignore_ascii_case(a)))
            .ok_or_else(|| MarketError::MissingColumn {
                file: file.clone(),
                column: name.to_string(),
            })?;
        select.push(format!("CAST({} AS VARCHAR)", quote_ident(col)));
    }
    let sql = format!("SELECT {} FROM {relation}", select.join(", "));
    let mut stmt = conn.prepare(&sql).map_err(|e| db_error(&file, e))?;
    let mut rows = stmt.query([]).map_err(|e| db_error(&file, e))?;
    let mut bars = Bars::default();
    let mut row = 0usize;
    while let Some(r) = rows.next().map_err(|e| db_error(&file, e))? {
        row += 1;
        let cell = |k: usize| -> Option<String> { r.get::<_, Option<String>>(k).ok().flatten() };
        let ts_text = cell(0).ok_or_else(|| MarketError::field(&file, row, "timestamp", "missing value"))?;
        let ts = parse_timestamp_ms(&ts_text).map_err(|m| MarketError::field(&file, row, "timestamp", m))?;
        let mut v = [0.0f64; 5];
        for k in 1..6 {
            let s = cell(k).ok_or_else(|| MarketError::field(&file, row, names[k], "missing value"))?;
            v[k - 1] = s
                .parse()
                .map_err(|_| MarketError::field(&file, row, names[k], format!("`{s}` is not a number")))?;
        }
        bars.push(ts, v[0], v[1], v[2], v[3], v[4]);
    }
    validate_bars(&file, &bars)?;
    Ok(bars)
}
