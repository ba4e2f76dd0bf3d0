//! Plain, serde-friendly records that the storage keeps: runs, generations, individuals, hall of fame, checkpoints, cache keys.

use serde::{Deserialize, Serialize};

use crate::market::MarketData;

/// Life cycle of a run. A run is `Completed` only after an explicit
/// [`Storage::finish_run`](super::Storage::finish_run) following its last write; a crash leaves it `Running`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Completed,
    /// Stopped by a signal at a generation boundary; its last checkpoint resumes it.
    Interrupted,
    Failed,
}

impl RunStatus {
    /// `running`, `completed`, `interrupted` or `failed` (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<RunStatus> {
        match text {
            "running" => Some(RunStatus::Running),
            "completed" => Some(RunStatus::Completed),
            "interrupted" => Some(RunStatus::Interrupted),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

/// One evolution run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    /// The validated run configuration, as JSON.
    pub config_json: String,
    pub seed: u64,
    /// Fingerprint of the market data the run used (see [`market_fingerprint`]).
    pub data_fingerprint: String,
    /// evoflow version (and git revision when known) that ran it.
    pub code_version: String,
    pub status: RunStatus,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
}

/// Statistics of one generation of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    pub run_id: String,
    pub generation: u32,
    pub best: f64,
    pub mean: f64,
    pub std: f64,
    /// Population diversity (the engine's definition, e.g. distinct genomes / population).
    pub diversity: f64,
    pub evaluations: u64,
    pub cache_hits: u64,
    /// Wall time of this generation in the evolution loop (on the coordinator), in ms.
    pub elapsed_ms: u64,
}

/// One evaluated individual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndividualRecord {
    pub run_id: String,
    pub generation: u32,
    /// Strategy family (seed) name.
    pub seed_name: String,
    /// Genome as JSON: gene name → value.
    pub genome_json: String,
    /// [`genome_hash`] of `genome_json`.
    pub genome_hash: String,
    pub fitness: f64,
    pub sharpe: f64,
    pub return_pct: f64,
    pub max_drawdown_pct: f64,
    pub num_trades: u64,
}

/// One entry of a run's hall of fame (rank 1 is the best).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallOfFameRecord {
    pub run_id: String,
    pub rank: u32,
    pub seed_name: String,
    pub genome_json: String,
    pub fitness: f64,
    /// Backtest statistics on the training data, as JSON.
    pub train_stats_json: String,
    /// Backtest statistics on the test data, as JSON.
    pub test_stats_json: String,
    /// The entry's validation (PSR, DSR and inputs, warnings, the run's PBO), as JSON;
    /// `null` in rows stored before schema version 2.
    pub validation_json: String,
}

/// Everything needed to resume a run at a generation boundary, as opaque bytes the
/// evolution engine serialises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub run_id: String,
    /// The generation the run resumes at.
    pub generation: u32,
    pub payload: Vec<u8>,
}

/// Key of the persistent fitness cache: the same genome, on the same data, under the same
/// objective has the same fitness.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FitnessKey {
    pub data_fingerprint: String,
    /// Objective name (and its parameters), e.g. `sharpe` or `calmar:min_trades=10`.
    pub objective: String,
    /// Canonical genome JSON (same genes, same order, same formatting for equal genomes).
    pub genome_json: String,
}

/// One stored market series (for `evoflow data ls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub symbol: String,
    pub timeframe: String,
    pub bars: u64,
    pub first_ms: i64,
    pub last_ms: i64,
    /// Number of funding events stored with the bars.
    pub funding: u64,
}

/// An inclusive time range in UTC milliseconds; `None` bounds are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

impl TimeRange {
    /// Every timestamp.
    pub fn all() -> TimeRange {
        TimeRange::default()
    }

    /// `start_ms <= t <= end_ms`.
    pub fn between(start_ms: i64, end_ms: i64) -> TimeRange {
        TimeRange {
            start_ms: Some(start_ms),
            end_ms: Some(end_ms),
        }
    }

    /// The bounds with open ends replaced by `i64::MIN` / `i64::MAX`.
    pub fn bounds(&self) -> (i64, i64) {
        (self.start_ms.unwrap_or(i64::MIN), self.end_ms.unwrap_or(i64::MAX))
    }
}

/// 64-bit FNV-1a over `bytes`, a stable (platform- and run-independent) hash.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_update(0xcbf2_9ce4_8422_2325, bytes)
}

fn fnv1a64_update(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Stable hash of a canonical genome JSON, as 16 lowercase hex digits.
pub fn genome_hash(genome_json: &str) -> String {
    format!("{:016x}", fnv1a64(genome_json.as_bytes()))
}

/// Stable fingerprint of market data (every bar's time and OHLCV bits, and funding), as
/// `bars:N:HEX`. Equal data gives an equal fingerprint on every machine.
pub fn market_fingerprint(data: &MarketData) -> String {
    let b = &data.bars;
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for i in 0..b.len() {
        h = fnv1a64_update(h, &b.timestamp_ms[i].to_le_bytes());
        for v in [b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]] {
            h = fnv1a64_update(h, &v.to_bits().to_le_bytes());
        }
    }
    if let Some(f) = &data.funding {
        h = fnv1a64_update(h, b"funding");
        for (t, r) in f.time_ms.iter().zip(&f.rate) {
            h = fnv1a64_update(h, &t.to_le_bytes());
            h = fnv1a64_update(h, &r.to_bits().to_le_bytes());
        }
    }
    format!("bars:{}:{h:016x}", b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::Bars;

    #[test]
    fn hashes_are_stable_and_sensitive() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(genome_hash(r#"{"fast":10}"#), genome_hash(r#"{"fast":11}"#));
        let mut bars = Bars::default();
        bars.push(1, 1.0, 2.0, 0.5, 1.5, 10.0);
        let a = MarketData::new("x", bars.clone());
        bars.close[0] = 1.25;
        let b = MarketData::new("y", bars);
        assert_ne!(market_fingerprint(&a), market_fingerprint(&b));
        assert_eq!(
            market_fingerprint(&a),
            market_fingerprint(&MarketData::new("z", a.bars.clone()))
        );
    }
}
