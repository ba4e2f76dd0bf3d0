//! `HeldOutScorer`: scores the best genome on the held-out bars on its own thread, for `evoflow_fitness_test_best`.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

use prometheus::Gauge;

use crate::evolution::{objective_value, Objective, TradingProblem};
use crate::market::MarketData;
use crate::strategy::Genome;

use super::error::TelemetryError;

/// What the held-out fitness is computed from.
pub struct HeldOut {
    /// The run's problem (families, costs, objective's constraints).
    pub problem: Arc<TradingProblem>,
    /// The training and held-out bars (the signal is computed on all of them, as the final
    /// report does).
    pub full: Arc<MarketData>,
    /// The first held-out bar.
    pub split: usize,
    /// The run's objective.
    pub objective: Objective,
}

/// Backtests genomes on the bars after the train/test split, one at a time, off the
/// coordinating worker (an ML genome's backtest can take a good part of a second), and sets
/// the gauge to the objective's value there.
pub struct HeldOutScorer {
    queue: SyncSender<Genome>,
}

impl HeldOutScorer {
    /// A scorer of genomes on the held-out bars of `held_out`, into `gauge`.
    pub fn spawn(held_out: HeldOut, gauge: Gauge) -> Result<HeldOutScorer, TelemetryError> {
        let HeldOut {
            problem,
            full,
            split,
            objective,
        } = held_out;
        // One genome waits while another is scored; later ones are dropped (a newer best
        // follows with the next generation).
        let (queue, inbox) = sync_channel::<Genome>(1);
        std::thread::Builder::new()
            .name("evoflow-held-out".into())
            .spawn(move || {
                yield_to_workers();
                for genome in inbox {
                    if let Ok((_, Some(test))) = problem.split_stats(&genome, &full, split) {
                        gauge.set(objective_value(objective, &test));
                    }
                }
            })
            .map_err(|source| TelemetryError::Thread {
                what: "held-out scorer",
                source,
            })?;
        Ok(HeldOutScorer { queue })
    }

    /// Queues `genome` unless the scorer is busy with two already; returns whether it did.
    pub fn score(&self, genome: &Genome) -> bool {
        match self.queue.try_send(genome.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

/// Gives the calling thread the lowest priority (Linux: nice 19 for this thread only): the
/// held-out score is a gauge and should not take a core from an evaluating worker, which then
/// gets about 98 % of a shared core; unlike `SCHED_IDLE` the scorer still progresses on a
/// machine that is never idle. Elsewhere, or if refused, it is a no-op.
fn yield_to_workers() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain syscalls on the calling thread's id.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            let _ = libc::setpriority(libc::PRIO_PROCESS, tid, 19);
        }
    }
}
