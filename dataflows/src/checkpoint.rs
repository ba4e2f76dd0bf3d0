//! `Checkpoint`: the serialisable state at a generation boundary, and the checks before resuming it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::{ConfigError, GaConfig};
use crate::fitness::Fitness;
use crate::hall_of_fame::HallOfFameEntry;
use crate::problem::Genome;
use crate::stop::StopReason;

/// The state of a run at a generation boundary: enough to continue it exactly.
///
/// No RNG state is stored: every draw derives from (seed, generation, slot). Resuming the
/// checkpoint of generation `g` and running to `G` gives the same populations, statistics
/// (except `elapsed`, `evaluations`, `cache_hits`) and hall of fame as an uninterrupted run
/// to `G`. A checkpoint is emitted after every generation, also the last one, so a finished
/// run can be extended by resuming it with a larger `generations`.
///
/// Store it with a serializer that round-trips `f64` exactly (bincode, or serde_json with its
/// `float_roundtrip` feature): a fitness off by one ulp can change a later tie-break.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct Checkpoint<G: Genome> {
    /// The configuration of the run that wrote it.
    pub config: GaConfig,
    /// The generation number of `population`, the next generation to evaluate.
    pub generation: u64,
    /// The population about to be evaluated, by slot.
    pub population: Vec<G>,
    /// The best fitness of each generation `0 .. generation` (drives `patience`).
    pub best_history: Vec<Fitness>,
    /// The hall of fame so far.
    pub hall_of_fame: Vec<HallOfFameEntry<G>>,
    /// The niches present in the initial population, kept alive by niche protection.
    pub protected_niches: Vec<u32>,
}

/// Why a checkpoint cannot be resumed with a configuration.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ResumeError {
    /// The requested configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A field that shapes the search differs from the checkpoint's run (only `generations`
    /// and `patience` may change on resume).
    #[error("cannot resume: {field} is {requested} but the checkpoint was written with {checkpoint}")]
    ConfigMismatch {
        /// The differing field.
        field: &'static str,
        /// Its value in the checkpoint.
        checkpoint: String,
        /// Its requested value.
        requested: String,
    },
    /// The checkpoint is internally inconsistent (corrupt or hand-edited).
    #[error("corrupt checkpoint: {0}")]
    Corrupt(String),
    /// The run already stopped at this checkpoint under the requested configuration.
    #[error(
        "nothing to resume: the run already stopped before generation {generation} ({reason:?}); \
         raise generations (or patience) to continue it"
    )]
    AlreadyFinished {
        /// The checkpoint's generation.
        generation: u64,
        /// Why it stopped.
        reason: StopReason,
    },
}

/// Decides whether the run stops after the generations recorded in `best_history`
/// (`best_history[g]` is the best of generation `g`). Shared by every execution path.
pub fn stop_reason(config: &GaConfig, best_history: &[Fitness]) -> Option<StopReason> {
    let evaluated = best_history.len() as u64;
    if evaluated >= config.generations {
        return Some(StopReason::Generations);
    }
    if let (Some(patience), Some(last)) = (config.patience, best_history.len().checked_sub(1)) {
        // The last generation that strictly improved on every earlier one.
        let mut best = Fitness::PENALTY;
        let mut last_improvement = 0;
        for (g, &f) in best_history.iter().enumerate() {
            if g == 0 || f > best {
                best = best.max(f);
                last_improvement = g;
            }
        }
        if last - last_improvement >= patience as usize {
            return Some(StopReason::Patience);
        }
    }
    None
}

impl<G: Genome> Checkpoint<G> {
    /// Checks that this checkpoint can continue under `config`: [`Checkpoint::check_compatible`]
    /// and generations left to run (else [`ResumeError::AlreadyFinished`]).
    pub fn check_resumable(&self, config: &GaConfig) -> Result<(), ResumeError> {
        self.check_compatible(config)?;
        if let Some(reason) = stop_reason(config, &self.best_history) {
            return Err(ResumeError::AlreadyFinished {
                generation: self.generation,
                reason,
            });
        }
        Ok(())
    }

    /// Checks that this checkpoint was written by a run of `config` (population, seed and the
    /// other fields that shape the result) and is consistent, whether or not its stopping
    /// rule already holds.
    pub fn check_compatible(&self, config: &GaConfig) -> Result<(), ResumeError> {
        config.validate()?;
        let old = &self.config;
        let mismatch = |field: &'static str, checkpoint: String, requested: String| {
            Err(ResumeError::ConfigMismatch {
                field,
                checkpoint,
                requested,
            })
        };
        if old.population != config.population {
            return mismatch("population", old.population.to_string(), config.population.to_string());
        }
        if old.seed != config.seed {
            return mismatch("seed", old.seed.to_string(), config.seed.to_string());
        }
        if old.elitism != config.elitism {
            return mismatch("elitism", old.elitism.to_string(), config.elitism.to_string());
        }
        if old.tournament_size != config.tournament_size {
            return mismatch(
                "tournament_size",
                old.tournament_size.to_string(),
                config.tournament_size.to_string(),
            );
        }
        if old.crossover_rate != config.crossover_rate {
            return mismatch(
                "crossover_rate",
                old.crossover_rate.to_string(),
                config.crossover_rate.to_string(),
            );
        }
        if old.mutation_rate != config.mutation_rate {
            return mismatch(
                "mutation_rate",
                old.mutation_rate.to_string(),
                config.mutation_rate.to_string(),
            );
        }
        if old.min_niche_share != config.min_niche_share {
            return mismatch(
                "min_niche_share",
                old.min_niche_share.to_string(),
                config.min_niche_share.to_string(),
            );
        }
        if old.hall_of_fame != config.hall_of_fame {
            return mismatch(
                "hall_of_fame",
                old.hall_of_fame.to_string(),
                config.hall_of_fame.to_string(),
            );
        }
        if self.population.len() != config.population {
            return Err(ResumeError::Corrupt(format!(
                "population has {} genomes, expected {}",
                self.population.len(),
                config.population
            )));
        }
        if self.best_history.len() as u64 != self.generation {
            return Err(ResumeError::Corrupt(format!(
                "best_history has {} entries for generation {}",
                self.best_history.len(),
                self.generation
            )));
        }
        if self.hall_of_fame.len() > config.hall_of_fame {
            return Err(ResumeError::Corrupt(format!(
                "hall of fame has {} entries, more than {}",
                self.hall_of_fame.len(),
                config.hall_of_fame
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(values: &[f64]) -> Vec<Fitness> {
        values.iter().copied().map(Fitness::new).collect()
    }

    #[test]
    fn generations_limit() {
        let config = GaConfig {
            generations: 3,
            ..GaConfig::default()
        };
        assert_eq!(stop_reason(&config, &history(&[1.0, 2.0])), None);
        assert_eq!(
            stop_reason(&config, &history(&[1.0, 2.0, 3.0])),
            Some(StopReason::Generations)
        );
    }

    #[test]
    fn patience_counts_generations_without_strict_improvement() {
        let config = GaConfig {
            generations: 100,
            patience: Some(2),
            ..GaConfig::default()
        };
        assert_eq!(stop_reason(&config, &history(&[1.0])), None);
        assert_eq!(stop_reason(&config, &history(&[1.0, 1.0])), None);
        assert_eq!(
            stop_reason(&config, &history(&[1.0, 1.0, 1.0])),
            Some(StopReason::Patience)
        );
        assert_eq!(stop_reason(&config, &history(&[1.0, 1.0, 2.0, 0.5])), None);
        assert_eq!(
            stop_reason(&config, &history(&[1.0, 1.0, 2.0, 0.5, 2.0])),
            Some(StopReason::Patience)
        );
    }

    #[test]
    fn resume_checks_name_the_field() {
        let config = GaConfig::default();
        let cp: Checkpoint<u8> = Checkpoint {
            config: config.clone(),
            generation: 1,
            population: vec![0; config.population],
            best_history: history(&[1.0]),
            hall_of_fame: vec![],
            protected_niches: vec![0],
        };
        assert_eq!(cp.check_resumable(&config), Ok(()));
        let longer = GaConfig {
            generations: 500,
            patience: Some(3),
            ..config.clone()
        };
        assert_eq!(cp.check_resumable(&longer), Ok(()));
        let err = cp
            .check_resumable(&GaConfig {
                seed: 9,
                ..config.clone()
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resume: seed is 9 but the checkpoint was written with 0"
        );
        let done = cp
            .check_resumable(&GaConfig {
                generations: 1,
                ..config.clone()
            })
            .unwrap_err();
        assert!(matches!(
            done,
            ResumeError::AlreadyFinished {
                generation: 1,
                reason: StopReason::Generations
            }
        ));
        let corrupt = Checkpoint {
            best_history: vec![],
            ..cp
        };
        assert!(matches!(corrupt.check_resumable(&config), Err(ResumeError::Corrupt(_))));
    }
}
