//! `GaConfig`: the validated parameters of a genetic algorithm run.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An invalid [`GaConfig`] field; the message names the field and the offending value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// `population` must be at least 2.
    #[error("population must be at least 2 (got {0})")]
    PopulationTooSmall(usize),
    /// `generations` must be at least 1.
    #[error("generations must be at least 1 (got 0)")]
    NoGenerations,
    /// `elitism` must leave room for offspring.
    #[error("elitism must be smaller than the population ({elitism} >= {population})")]
    ElitismTooLarge {
        /// Configured number of elites.
        elitism: usize,
        /// Configured population size.
        population: usize,
    },
    /// `tournament_size` must be at least 1.
    #[error("tournament size must be at least 1 (got 0)")]
    TournamentTooSmall,
    /// A probability outside `[0, 1]` (or not a number).
    #[error("{field} must be a probability in [0, 1] (got {value})")]
    NotAProbability {
        /// The field name.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// `min_niche_share` must be in `[0, 1)`.
    #[error("min_niche_share must be in [0, 1) (got {0})")]
    BadNicheShare(f64),
    /// `patience` of zero would stop before any generation.
    #[error("patience must be at least 1 generation when set (got 0)")]
    ZeroPatience,
}

/// Parameters of a genetic algorithm run.
///
/// Semantics (shared by the sequential reference and the dataflow):
/// * `population` individuals per generation; generation 0 is random.
/// * `generations`: the run evaluates at most this many generations (0 .. generations).
/// * `elitism`: the best `elitism` individuals are copied unchanged into the next generation.
/// * `tournament_size`: parents are the best of `tournament_size` uniform draws (with replacement).
/// * `crossover_rate`: probability that an offspring is a crossover of two parents
///   (otherwise a copy of one); `mutation_rate`: probability that the offspring is then mutated.
/// * `patience`: stop early when the best fitness ever seen has not improved for this many
///   generations.
/// * `min_niche_share`: each niche present in the initial population keeps at least
///   `ceil(min_niche_share * population)` slots (0 disables niche protection).
/// * `seed`: every random draw derives from (seed, generation, slot).
/// * `hall_of_fame`: how many distinct best genomes ever seen are kept (distinct in behaviour
///   too, as [`Problem::same_behaviour`](crate::Problem::same_behaviour) tells).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaConfig {
    /// Individuals per generation.
    pub population: usize,
    /// Maximum number of generations evaluated.
    pub generations: u64,
    /// Best individuals copied unchanged.
    pub elitism: usize,
    /// Draws per tournament.
    pub tournament_size: usize,
    /// Probability of crossover per offspring.
    pub crossover_rate: f64,
    /// Probability of mutation per offspring.
    pub mutation_rate: f64,
    /// Stop when the best has not improved for this many generations.
    pub patience: Option<u32>,
    /// Minimum share of the population kept for each initial niche.
    pub min_niche_share: f64,
    /// The run seed.
    pub seed: u64,
    /// Size of the hall of fame.
    pub hall_of_fame: usize,
}

impl Default for GaConfig {
    fn default() -> Self {
        GaConfig {
            population: 100,
            generations: 50,
            elitism: 2,
            tournament_size: 3,
            crossover_rate: 0.7,
            mutation_rate: 0.3,
            patience: None,
            min_niche_share: 0.0,
            seed: 0,
            hall_of_fame: 10,
        }
    }
}

impl GaConfig {
    /// Checks every field; the first problem found is returned.
    ///
    /// ```
    /// use evoflow_dataflows::{ConfigError, GaConfig};
    /// let bad = GaConfig { population: 1, ..GaConfig::default() };
    /// assert_eq!(bad.validate(), Err(ConfigError::PopulationTooSmall(1)));
    /// assert!(GaConfig::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.population < 2 {
            return Err(ConfigError::PopulationTooSmall(self.population));
        }
        if self.generations == 0 {
            return Err(ConfigError::NoGenerations);
        }
        if self.elitism >= self.population {
            return Err(ConfigError::ElitismTooLarge {
                elitism: self.elitism,
                population: self.population,
            });
        }
        if self.tournament_size == 0 {
            return Err(ConfigError::TournamentTooSmall);
        }
        for (field, value) in [
            ("crossover_rate", self.crossover_rate),
            ("mutation_rate", self.mutation_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::NotAProbability { field, value });
            }
        }
        if !(0.0..1.0).contains(&self.min_niche_share) {
            return Err(ConfigError::BadNicheShare(self.min_niche_share));
        }
        if self.patience == Some(0) {
            return Err(ConfigError::ZeroPatience);
        }
        Ok(())
    }

    /// Slots guaranteed to each protected niche before capping: `ceil(min_niche_share * population)`,
    /// 0 when niche protection is off.
    pub fn niche_quota(&self) -> usize {
        if self.min_niche_share <= 0.0 {
            0
        } else {
            ((self.min_niche_share * self.population as f64).ceil() as usize).max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_checked() {
        let ok = GaConfig::default();
        let cases: Vec<(GaConfig, ConfigError)> = vec![
            (
                GaConfig {
                    population: 0,
                    ..ok.clone()
                },
                ConfigError::PopulationTooSmall(0),
            ),
            (
                GaConfig {
                    generations: 0,
                    ..ok.clone()
                },
                ConfigError::NoGenerations,
            ),
            (
                GaConfig {
                    elitism: 100,
                    ..ok.clone()
                },
                ConfigError::ElitismTooLarge {
                    elitism: 100,
                    population: 100,
                },
            ),
            (
                GaConfig {
                    tournament_size: 0,
                    ..ok.clone()
                },
                ConfigError::TournamentTooSmall,
            ),
            (
                GaConfig {
                    crossover_rate: 1.5,
                    ..ok.clone()
                },
                ConfigError::NotAProbability {
                    field: "crossover_rate",
                    value: 1.5,
                },
            ),
            (
                GaConfig {
                    mutation_rate: -0.1,
                    ..ok.clone()
                },
                ConfigError::NotAProbability {
                    field: "mutation_rate",
                    value: -0.1,
                },
            ),
            (
                GaConfig {
                    min_niche_share: 1.0,
                    ..ok.clone()
                },
                ConfigError::BadNicheShare(1.0),
            ),
            (
                GaConfig {
                    patience: Some(0),
                    ..ok.clone()
                },
                ConfigError::ZeroPatience,
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate(), Err(expected));
        }
        let nan = GaConfig {
            mutation_rate: f64::NAN,
            ..ok
        };
        assert!(matches!(
            nan.validate(),
            Err(ConfigError::NotAProbability {
                field: "mutation_rate",
                ..
            })
        ));
    }

    #[test]
    fn niche_quota_rounds_up() {
        let c = GaConfig {
            population: 10,
            min_niche_share: 0.25,
            ..GaConfig::default()
        };
        assert_eq!(c.niche_quota(), 3);
        assert_eq!(GaConfig::default().niche_quota(), 0);
    }
}
