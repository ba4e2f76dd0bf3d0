//! What a run reports: scored individuals, per-generation statistics and reports, final result.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::fitness::Fitness;
use crate::hall_of_fame::HallOfFameEntry;
use crate::problem::Genome;
pub use crate::scored::{same_metrics, Scored};
pub use crate::stop::StopReason;

/// How many individuals of one niche a generation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicheCount {
    /// The niche id ([`Problem::niche`](crate::Problem::niche)).
    pub niche: u32,
    /// Individuals in it.
    pub count: usize,
}

/// Statistics of one evaluated generation.
///
/// Everything but `elapsed` is deterministic for a given seed and configuration, at any
/// worker/process count. `evaluations` and `cache_hits` also depend on the workers' fitness
/// caches, which start empty after a resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    /// The generation number (0 is the random initial population).
    pub generation: u64,
    /// Best fitness of this generation.
    pub best: Fitness,
    /// Worst fitness of this generation.
    pub worst: Fitness,
    /// Best fitness of the run so far (this generation included).
    pub best_ever: Fitness,
    /// Mean fitness over individuals that are not [`Fitness::PENALTY`] (0 if none).
    pub mean: f64,
    /// Population standard deviation over the same individuals (0 if fewer than two).
    pub std_dev: f64,
    /// Individuals whose fitness is [`Fitness::PENALTY`].
    pub penalized: usize,
    /// Distinct genomes (a diversity measure).
    pub distinct: usize,
    /// Fitness evaluations actually run (cache misses), over all workers.
    pub evaluations: u64,
    /// Fitness values served from a worker's cache.
    pub cache_hits: u64,
    /// Individuals per niche, by ascending niche id.
    pub niches: Vec<NicheCount>,
    /// Wall time since the run (or the resumed part of it) started, on the coordinator.
    pub elapsed: Duration,
    /// `Some` when the run stops after this generation.
    pub stop: Option<StopReason>,
}

/// Everything the coordinator knows at the end of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct GenerationReport<G: Genome> {
    /// The generation's statistics.
    pub stats: GenerationStats,
    /// The evaluated population in canonical order (fitness descending, then genome ascending).
    pub population: Vec<Scored<G>>,
    /// The hall of fame after this generation.
    pub hall_of_fame: Vec<HallOfFameEntry<G>>,
    /// The state to resume from: the next generation's population, before evaluation.
    pub checkpoint: Checkpoint<G>,
}

/// The outcome of a whole run, on the coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct EvolutionResult<G: Genome> {
    /// Statistics of every generation this run evaluated (after a resume: from the resume point).
    pub stats: Vec<GenerationStats>,
    /// The last evaluated population, in canonical order.
    pub final_population: Vec<Scored<G>>,
    /// The final hall of fame.
    pub hall_of_fame: Vec<HallOfFameEntry<G>>,
    /// The checkpoint after the last generation (resuming it with more generations continues
    /// the run exactly).
    pub last_checkpoint: Checkpoint<G>,
    /// Why the run stopped.
    pub stop: StopReason,
}

impl<G: Genome> EvolutionResult<G> {
    /// Assembles a result from the statistics of every generation and the last report.
    pub fn from_last(stats: Vec<GenerationStats>, last: GenerationReport<G>) -> EvolutionResult<G> {
        EvolutionResult {
            stop: last.stats.stop.unwrap_or(StopReason::Generations),
            stats,
            final_population: last.population,
            hall_of_fame: last.hall_of_fame,
            last_checkpoint: last.checkpoint,
        }
    }
}

/// Collects what [`EvolutionResult`] needs from a stream of reports, keeping only the last
/// report in full.
#[derive(Debug)]
pub struct ResultCollector<G: Genome> {
    stats: Vec<GenerationStats>,
    last: Option<GenerationReport<G>>,
}

impl<G: Genome> Default for ResultCollector<G> {
    fn default() -> Self {
        ResultCollector {
            stats: Vec::new(),
            last: None,
        }
    }
}

impl<G: Genome> ResultCollector<G> {
    /// Records one generation's report (reports arrive in generation order).
    pub fn push(&mut self, report: GenerationReport<G>) {
        self.stats.push(report.stats.clone());
        self.last = Some(report);
    }

    /// The result, or `None` if no generation was reported.
    pub fn finish(self) -> Option<EvolutionResult<G>> {
        let last = self.last?;
        Some(EvolutionResult::from_last(self.stats, last))
    }
}
