//! Market data in the PostgreSQL tables `bars` and `funding`: span-replacing writes with binary COPY in one transaction, range reads.

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::super::market_db::span;
use super::super::records::{DatasetInfo, TimeRange};
use super::super::StorageError;
use super::PostgresStorage;
use crate::market::{Bars, FundingRates};

impl PostgresStorage {
    pub(super) fn write_bars_rows(&self, symbol: &str, timeframe: &str, bars: &Bars) -> Result<usize, StorageError> {
        let (first, last) = span(&bars.timestamp_ms)?;
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            tx.execute(
                "DELETE FROM bars WHERE symbol = $1 AND timeframe = $2 AND ts_ms BETWEEN $3 AND $4",
                &[&symbol, &timeframe, &first, &last],
            )
            .map_err(e)?;
            let sink = tx
                .copy_in(
                    "COPY bars (symbol, timeframe, ts_ms, open, high, low, close, volume) FROM STDIN (FORMAT binary)",
                )
                .map_err(e)?;
            let f8 = Type::FLOAT8;
            let types = [
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                f8.clone(),
                f8.clone(),
                f8.clone(),
                f8.clone(),
                f8,
            ];
            let mut w = BinaryCopyInWriter::new(sink, &types);
            for i in 0..bars.len() {
                w.write(&[
                    &symbol,
                    &timeframe,
                    &bars.timestamp_ms[i],
                    &bars.open[i],
                    &bars.high[i],
                    &bars.low[i],
                    &bars.close[i],
                    &bars.volume[i],
                ])
                .map_err(e)?;
            }
            w.finish().map_err(e)?;
            Ok(bars.len())
        })
    }

    pub(super) fn write_funding_rows(
        &self,
        symbol: &str,
        timeframe: &str,
        funding: &FundingRates,
    ) -> Result<usize, StorageError> {
        let (first, last) = span(&funding.time_ms)?;
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            tx.execute(
                "DELETE FROM funding WHERE symbol = $1 AND timeframe = $2 AND ts_ms BETWEEN $3 AND $4",
                &[&symbol, &timeframe, &first, &last],
            )
            .map_err(e)?;
            let sink = tx
                .copy_in("COPY funding (symbol, timeframe, ts_ms, rate) FROM STDIN (FORMAT binary)")
                .map_err(e)?;
            let mut w = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT8, Type::FLOAT8]);
            for (t, r) in funding.time_ms.iter().zip(&funding.rate) {
                w.write(&[&symbol, &timeframe, t, r]).map_err(e)?;
            }
            w.finish().map_err(e)?;
            Ok(funding.len())
        })
    }

    pub(super) fn read_bars_rows(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<Bars, StorageError> {
        let (lo, hi) = range.bounds();
        let rows = self
            .c()
            .query(
                "SELECT ts_ms, open, high, low, close, volume FROM bars
                 WHERE symbol = $1 AND timeframe = $2 AND ts_ms BETWEEN $3 AND $4 ORDER BY ts_ms",
                &[&symbol, &timeframe, &lo, &hi],
            )
            .map_err(|e| self.err(e))?;
        let mut bars = Bars::with_capacity(rows.len());
        for r in &rows {
            let g = |i: usize| r.try_get::<_, f64>(i).map_err(|e| self.err(e));
            bars.push(
                r.try_get(0).map_err(|e| self.err(e))?,
                g(1)?,
                g(2)?,
                g(3)?,
                g(4)?,
                g(5)?,
            );
        }
        Ok(bars)
    }

    pub(super) fn read_funding_rows(
        &self,
        symbol: &str,
        timeframe: &str,
        range: TimeRange,
    ) -> Result<Option<FundingRates>, StorageError> {
        let (lo, hi) = range.bounds();
        let mut c = self.c();
        let rows = c
            .query(
                "SELECT ts_ms, rate FROM funding
                 WHERE symbol = $1 AND timeframe = $2 AND ts_ms BETWEEN $3 AND $4 ORDER BY ts_ms",
                &[&symbol, &timeframe, &lo, &hi],
            )
            .map_err(|e| self.err(e))?;
        if rows.is_empty() {
            let any: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM funding WHERE symbol = $1 AND timeframe = $2)",
                    &[&symbol, &timeframe],
                )
                .and_then(|r| r.try_get(0))
                .map_err(|e| self.err(e))?;
            if !any {
                return Ok(None);
            }
        }
        let mut out = FundingRates::default();
        for r in &rows {
            out.time_ms.push(r.try_get(0).map_err(|e| self.err(e))?);
            out.rate.push(r.try_get(1).map_err(|e| self.err(e))?);
        }
        Ok(Some(out))
    }

    pub(super) fn list_market_rows(&self) -> Result<Vec<DatasetInfo>, StorageError> {
        let rows = self
            .c()
            .query(
                "WITH b AS (SELECT symbol, timeframe, count(*) AS n, min(ts_ms) AS lo, max(ts_ms) AS hi
                            FROM bars GROUP BY symbol, timeframe),
                      f AS (SELECT symbol, timeframe, count(*) AS n FROM funding GROUP BY symbol, timeframe)
                 SELECT b.symbol, b.timeframe, b.n, b.lo, b.hi, coalesce(f.n, 0)
                 FROM b LEFT JOIN f USING (symbol, timeframe) ORDER BY b.symbol COLLATE \"C\", b.timeframe COLLATE \"C\"",
                &[],
            )
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let e = |e| self.err(e);
                Ok(DatasetInfo {
                    symbol: r.try_get(0).map_err(e)?,
                    timeframe: r.try_get(1).map_err(e)?,
                    bars: self.unsigned("bar count", r.try_get(2).map_err(e)?)?,
                    first_ms: r.try_get(3).map_err(e)?,
                    last_ms: r.try_get(4).map_err(e)?,
                    funding: self.unsigned("funding count", r.try_get(5).map_err(e)?)?,
                })
            })
            .collect()
    }

    pub(super) fn delete_market_rows(&self, symbol: &str, timeframe: &str) -> Result<bool, StorageError> {
        self.in_tx(|tx| {
            let mut n = 0;
            for table in ["bars", "funding"] {
                n += tx
                    .execute(
                        &format!("DELETE FROM {table} WHERE symbol = $1 AND timeframe = $2"),
                        &[&symbol, &timeframe],
                    )
                    .map_err(|e| self.err(e))?;
            }
            Ok(n > 0)
        })
    }
}
