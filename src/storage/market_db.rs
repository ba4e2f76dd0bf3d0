//! Market data in DuckDB tables `bars` and `funding` (local backend): span-replacing writes with the appender, range reads.

use duckdb::params;

use super::db::DbFile;
use super::records::{DatasetInfo, TimeRange};
use super::StorageError;
use crate::market::{Bars, FundingRates};

impl DbFile {
    /// Replaces the stored bars of `symbol`/`timeframe` over the time span of `bars`
    /// (bars outside it are kept) in one transaction, bulk-written with the appender.
    pub fn write_bars_table(&self, symbol: &str, timeframe: &str, bars: &Bars) -> Result<usize, StorageError> {
        let (first, last) = span(&bars.timestamp_ms)?;
        self.in_transaction(|conn| {
            conn.execute(
                "DELETE FROM bars WHERE symbol = ? AND timeframe = ? AND ts_ms BETWEEN ? AND ?",
                params![symbol, timeframe, first, last],
            )
            .map_err(|e| self.err(e))?;
            let mut app = conn.appender("bars").map_err(|e| self.err(e))?;
            for i in 0..bars.len() {
                app.append_row(params![
                    symbol,
                    timeframe,
                    bars.timestamp_ms[i],
                    bars.open[i],
                    bars.high[i],
                    bars.low[i],
                    bars.close[i],
                    bars.volume[i]
                ])
                .map_err(|e| self.err(e))?;
            }
            app.flush().map_err(|e| self.err(e))?;
            Ok(bars.len())
        })
    }

    /// Replaces the stored funding of `symbol`/`timeframe` over the time span of `funding`.
    pub fn write_funding_table(
        &self,
        symbol: &str,
        timeframe: &str,
        funding: &FundingRates,
    ) -> Result<usize, StorageError> {
        let (first, last) = span(&funding.time_ms)?;
        self.in_transaction(|conn| {
            conn.execute(
                "DELETE FROM funding WHERE symbol = ? AND timeframe = ? AND ts_ms BETWEEN ? AND ?",
                params![symbol, timeframe, first, last],
            )
            .map_err(|e| self.err(e))?;
            let mut app = conn.appender("funding").map_err(|e| self.err(e))?;
            for (t, r) in funding.time_ms.iter().zip(&funding.rate) {
                app.append_row(params![symbol, timeframe, t, r])
                    .map_err(|e| self.err(e))?;
            }
            app.flush().map_err(|e| self.err(e))?;
            Ok(funding.len())
        })
    }

    /// Stored bars in `range`, in time order (empty when none).
    pub fn read_bars_table(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<Bars, StorageError> {
        let (lo, hi) = range.bounds();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ts_ms, open, high, low, close, volume FROM bars
                 WHERE symbol = ? AND timeframe = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![symbol, timeframe, lo, hi])
            .map_err(|e| self.err(e))?;
        let mut bars = Bars::default();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = |i: usize| r.get::<_, f64>(i);
            bars.push(
                r.get(0).map_err(|e| self.err(e))?,
                get(1).map_err(|e| self.err(e))?,
                get(2).map_err(|e| self.err(e))?,
                get(3).map_err(|e| self.err(e))?,
                get(4).map_err(|e| self.err(e))?,
                get(5).map_err(|e| self.err(e))?,
            );
        }
        Ok(bars)
    }

    /// Stored funding in `range`, in time order (empty when none).
    pub fn read_funding_table(
        &self,
        symbol: &str,
        timeframe: &str,
        range: TimeRange,
    ) -> Result<FundingRates, StorageError> {
        let (lo, hi) = range.bounds();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ts_ms, rate FROM funding
                 WHERE symbol = ? AND timeframe = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![symbol, timeframe, lo, hi], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = FundingRates::default();
        for row in rows {
            let (t, r) = row.map_err(|e| self.err(e))?;
            out.time_ms.push(t);
            out.rate.push(r);
        }
        Ok(out)
    }

    /// Every stored series with its size and span.
    pub fn list_market_tables(&self) -> Result<Vec<DatasetInfo>, StorageError> {
        let mut stmt = self
            .conn
            .prepare(
                "WITH b AS (SELECT symbol, timeframe, count(*) AS n, min(ts_ms) AS lo, max(ts_ms) AS hi FROM bars GROUP BY ALL),
                      f AS (SELECT symbol, timeframe, count(*) AS n FROM funding GROUP BY ALL)
                 SELECT b.symbol, b.timeframe, b.n, b.lo, b.hi, coalesce(f.n, 0)
                 FROM b LEFT JOIN f USING (symbol, timeframe) ORDER BY b.symbol, b.timeframe",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DatasetInfo {
                    symbol: r.get(0)?,
                    timeframe: r.get(1)?,
                    bars: r.get::<_, i64>(2)?.max(0) as u64,
                    first_ms: r.get(3)?,
                    last_ms: r.get(4)?,
                    funding: r.get::<_, i64>(5)?.max(0) as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Deletes a series (bars and funding); true when something was stored.
    pub fn delete_market_tables(&self, symbol: &str, timeframe: &str) -> Result<bool, StorageError> {
        self.in_transaction(|conn| {
            let mut n = 0;
            for table in ["bars", "funding"] {
                n += conn
                    .execute(
                        &format!("DELETE FROM {table} WHERE symbol = ? AND timeframe = ?"),
                        params![symbol, timeframe],
                    )
                    .map_err(|e| self.err(e))?;
            }
            Ok(n > 0)
        })
    }

    /// Rolling mean of `close` over `window` bars computed by a SQL window function.
    pub fn rolling_mean_table(&self, symbol: &str, timeframe: &str, window: usize) -> Result<Vec<f64>, StorageError> {
        let sql = format!(
            "SELECT avg(close) OVER (ORDER BY ts_ms ROWS BETWEEN {} PRECEDING AND CURRENT ROW) FROM bars
             WHERE symbol = ? AND timeframe = ? ORDER BY ts_ms",
            window.saturating_sub(1)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![symbol, timeframe], |r| r.get::<_, f64>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// First and last timestamp of a non-empty series.
pub fn span(ts: &[i64]) -> Result<(i64, i64), StorageError> {
    match (ts.first(), ts.last()) {
        (Some(&a), Some(&b)) => Ok((a, b)),
        _ => Err(StorageError::InvalidInput(
            "nothing to write: the series is empty".into(),
        )),
    }
}
