//! Gathers what a run's report shows: the run from storage and its top strategies re-backtested on the run's market data.

use std::collections::BTreeMap;

use crate::backtest::{BacktestContext, BacktestReport, Stats};
use crate::evolution::{split_point, EvolveSettings};
use crate::market::MarketData;
use crate::seeds::lookup;
use crate::storage::{market_fingerprint, GenerationRecord, HallOfFameRecord, RunRecord, Storage};
use crate::strategy::Strategy;

use super::error::ReportError;

/// One hall-of-fame strategy backtested again on the training and the held-out bars.
#[derive(Debug, Clone)]
pub struct StrategyRun {
    pub rank: u32,
    pub seed: String,
    /// Genes by name, as stored.
    pub params: BTreeMap<String, f64>,
    pub fitness: f64,
    pub train: BacktestReport,
    /// `None` when the run held no bars out.
    pub test: Option<BacktestReport>,
    /// The hall of fame's `validation_json` (overfitting figures), when the run has it.
    pub validation: Option<serde_json::Value>,
}

/// The share of each family in each generation's population.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FamilyShares {
    pub generations: Vec<u32>,
    /// Family name → share (0..=1) per generation, in `generations` order.
    pub shares: BTreeMap<String, Vec<f64>>,
}

/// Everything a run's report shows.
#[derive(Debug, Clone)]
pub struct RunData {
    pub run: RunRecord,
    pub settings: EvolveSettings,
    pub data: MarketData,
    /// The first held-out bar.
    pub split: usize,
    pub generations: Vec<GenerationRecord>,
    pub families: FamilyShares,
    /// The top strategies, best first.
    pub top: Vec<StrategyRun>,
    /// Things the reader should know (e.g. statistics that differ from the stored ones).
    pub notes: Vec<String>,
}

impl RunData {
    /// Reads run `run_id` from `storage` and backtests its `top` best strategies on `data`,
    /// which must be the run's market data (its fingerprint is checked).
    pub fn gather(storage: &dyn Storage, run_id: &str, data: &MarketData, top: usize) -> Result<RunData, ReportError> {
        let run = storage.get_run(run_id)?.ok_or_else(|| ReportError::NoSuchRun {
            run_id: run_id.to_string(),
            location: storage.location().display().to_string(),
        })?;
        let settings: EvolveSettings = serde_json::from_str(&run.config_json).map_err(|e| ReportError::BadConfig {
            run_id: run_id.to_string(),
            message: e.to_string(),
        })?;
        let given = market_fingerprint(data);
        if given != run.data_fingerprint {
            return Err(ReportError::DataMismatch {
                run_id: run_id.to_string(),
                stored: run.data_fingerprint.clone(),
                given,
                source_label: data.source.clone(),
            });
        }
        let hall = storage.read_hall_of_fame(run_id)?;
        if hall.is_empty() {
            return Err(ReportError::NoHallOfFame {
                run_id: run_id.to_string(),
            });
        }
        let split = split_point(data.bars.len(), settings.test_fraction)?;
        let mut notes = Vec::new();
        let mut strategies = Vec::new();
        for record in hall.iter().take(top.max(1)) {
            let s = backtest_entry(record, data, split, &settings)?;
            if let Some(note) = differs_from_stored(record, &s, &run.code_version) {
                notes.push(note);
            }
            strategies.push(s);
        }
        let generations = storage.read_generations(run_id)?;
        let families = family_shares(storage, run_id)?;
        Ok(RunData {
            run,
            settings,
            data: data.clone(),
            split,
            generations,
            families,
            top: strategies,
            notes,
        })
    }
}

/// The genome of a stored entry in its strategy's gene order.
fn genome_of(
    strategy: &dyn Strategy,
    record: &HallOfFameRecord,
) -> Result<(BTreeMap<String, f64>, Vec<f64>), ReportError> {
    let bad = |message: String| ReportError::BadEntry {
        run_id: record.run_id.clone(),
        rank: record.rank,
        message,
    };
    let params: BTreeMap<String, f64> =
        serde_json::from_str(&record.genome_json).map_err(|e| bad(format!("genome is unreadable: {e}")))?;
    let genes = strategy
        .genes()
        .iter()
        .map(|g| {
            params
                .get(g.name)
                .copied()
                .ok_or_else(|| bad(format!("genome of `{}` lacks gene `{}`", record.seed_name, g.name)))
        })
        .collect::<Result<Vec<f64>, _>>()?;
    Ok((params, genes))
}

/// Backtests one entry on the training part and on the held-out part of `data`, exactly as
/// the run scored it (the signal is computed on all bars, then each part is backtested alone).
fn backtest_entry(
    record: &HallOfFameRecord,
    data: &MarketData,
    split: usize,
    settings: &EvolveSettings,
) -> Result<StrategyRun, ReportError> {
    let strategy = lookup(&record.seed_name)?;
    let (params, genes) = genome_of(strategy, record)?;
    let targets = strategy.signal(data, &genes)?;
    let warmup = strategy.warmup(data, &genes);
    let train_data = data.slice(0..split);
    let train = BacktestContext::new(&train_data)?.run(&targets[..split], &settings.backtest, warmup)?;
    let test = if split < data.bars.len() {
        let test_data = data.slice(split..data.bars.len());
        Some(BacktestContext::new(&test_data)?.run(
            &targets[split..],
            &settings.backtest,
            warmup.saturating_sub(split),
        )?)
    } else {
        None
    };
    Ok(StrategyRun {
        rank: record.rank,
        seed: record.seed_name.clone(),
        params,
        fitness: record.fitness,
        train,
        test,
        validation: validation_of(record),
    })
}

/// The overfitting figures of an entry: its `validation_json` field, read through serde so
/// that a record without the field (older schema) simply has none.
pub fn validation_of(record: &HallOfFameRecord) -> Option<serde_json::Value> {
    validation_in(&serde_json::to_value(record).ok()?)
}

/// The `validation_json` field of a serialised hall-of-fame record: JSON text or a value.
fn validation_in(record: &serde_json::Value) -> Option<serde_json::Value> {
    match record.get("validation_json")? {
        serde_json::Value::String(text) => serde_json::from_str(text)
            .ok()
            .filter(|v: &serde_json::Value| !v.is_null()),
        serde_json::Value::Null => None,
        other => Some(other.clone()),
    }
}

/// A note when the recomputed statistics are not the stored ones (another build scored the run).
fn differs_from_stored(record: &HallOfFameRecord, run: &StrategyRun, code_version: &str) -> Option<String> {
    let stored: Option<Stats> = serde_json::from_str(&record.train_stats_json).ok();
    match stored {
        Some(s) if s == run.train.stats => None,
        Some(_) => Some(format!(
            "rank {} ({}): the training statistics recomputed now differ from the stored ones (the run was scored by \
             evoflow {code_version}, this is {})",
            record.rank,
            record.seed_name,
            crate::BUILD
        )),
        None => Some(format!(
            "rank {}: stored training statistics are unreadable",
            record.rank
        )),
    }
}

/// Each family's share of the evaluated population, per generation.
fn family_shares(storage: &dyn Storage, run_id: &str) -> Result<FamilyShares, ReportError> {
    let individuals = storage.read_individuals(run_id, None)?;
    let mut counts: BTreeMap<u32, BTreeMap<&str, usize>> = BTreeMap::new();
    for i in &individuals {
        *counts
            .entry(i.generation)
            .or_default()
            .entry(i.seed_name.as_str())
            .or_default() += 1;
    }
    let generations: Vec<u32> = counts.keys().copied().collect();
    let mut shares: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for name in counts.values().flat_map(|c| c.keys()) {
        shares.entry(name.to_string()).or_default();
    }
    for (name, values) in shares.iter_mut() {
        for c in counts.values() {
            let total: usize = c.values().sum();
            values.push(c.get(name.as_str()).copied().unwrap_or(0) as f64 / total.max(1) as f64);
        }
    }
    Ok(FamilyShares { generations, shares })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_figures_are_read_when_present() {
        let record = HallOfFameRecord {
            run_id: "r".into(),
            rank: 1,
            seed_name: "ema_crossover".into(),
            genome_json: "{}".into(),
            fitness: 1.0,
            train_stats_json: "{}".into(),
            test_stats_json: "{}".into(),
            validation_json: "null".into(),
        };
        assert_eq!(validation_of(&record), None);
        let mut value = serde_json::to_value(&record).unwrap();
        value["validation_json"] = serde_json::json!(r#"{"dsr":0.93,"pbo":0.2}"#);
        assert_eq!(
            validation_in(&value),
            Some(serde_json::json!({"dsr": 0.93, "pbo": 0.2}))
        );
        value["validation_json"] = serde_json::Value::Null;
        assert_eq!(validation_in(&value), None);
    }
}
