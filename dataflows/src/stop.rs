//! Why a run stops ([`StopReason`]) and [`StopSignal`], the flag that asks a running evolution to stop at the next generation boundary.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// `SIGINT` (Ctrl-C) on Unix.
pub const SIGINT: i32 = 2;
/// `SIGTERM` (what supervisors send first) on Unix.
pub const SIGTERM: i32 = 15;

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// The configured number of generations was reached.
    Generations,
    /// The best fitness did not improve for `patience` generations.
    Patience,
    /// A stop was requested ([`StopSignal`]) on some process of the run, e.g. by `SIGTERM`;
    /// every process of the run stopped after the same generation, whose checkpoint resumes
    /// the run exactly. `signal` is the requested number (the signal's, when a handler set it).
    Interrupted {
        /// The signal (or other number) given to [`StopSignal::request`].
        signal: i32,
    },
}

impl StopReason {
    /// The signal of an interrupted run, `None` when the run ended by its own rule.
    pub fn signal(&self) -> Option<i32> {
        match self {
            StopReason::Interrupted { signal } => Some(*signal),
            _ => None,
        }
    }

    /// The exit status a process of an interrupted run should end with: `128 + signal`, the
    /// shell's convention for a process ended by a signal (`None` when not interrupted).
    pub fn exit_code(&self) -> Option<i32> {
        self.signal().map(|signal| 128 + signal)
    }
}

/// A request to stop a run at the next generation boundary, shared between whatever asks
/// (a signal handler, another thread, a test) and the dataflow that reads it.
///
/// Cloning shares the flag. The dataflow reads it on every worker once every worker has
/// evaluated a generation and sends what it read to the selector with that generation's
/// results; the selector stops the run after that generation if any worker of any process
/// saw a request (the lowest-numbered such worker's signal is reported), and tells every
/// worker so. Every process therefore stops after the same generation, and that
/// generation's report (with its checkpoint) is the last one every `on_generation` sees.
///
/// ```
/// use evoflow_dataflows::{StopReason, StopSignal};
/// let stop = StopSignal::new();
/// assert_eq!(stop.requested(), None);
/// stop.request(15);
/// assert_eq!(stop.requested(), Some(15));
/// assert_eq!(StopReason::Interrupted { signal: 15 }.exit_code(), Some(143));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    /// 0 while no stop was requested, else the signal number.
    requested: Arc<AtomicUsize>,
    /// Set by the handlers of [`StopSignal::install`] after their first signal: a second one
    /// exits the process at once.
    armed: Arc<AtomicBool>,
}

impl StopSignal {
    /// A flag with no stop requested.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Asks the run to stop at the next generation boundary, reporting `signal` (a positive
    /// number; 0 or less is taken as 1). The first request wins.
    pub fn request(&self, signal: i32) {
        let value = signal.max(1) as usize;
        let _ = self
            .requested
            .compare_exchange(0, value, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The signal of the first request, if any.
    pub fn requested(&self) -> Option<i32> {
        match self.requested.load(Ordering::SeqCst) {
            0 => None,
            value => Some(value as i32),
        }
    }

    /// Installs process-wide handlers (Unix) so that each of `signals` requests a stop with
    /// its number, and a second arrival of any of them exits the process at once with status
    /// `128 + signal` (no destructors run: storage must make each write atomic, as DuckDB's
    /// transactions and a write-then-rename file do). Handlers stay installed for the life of
    /// the process; a signal that arrives before the run starts stops it after its first
    /// generation.
    pub fn install(&self, signals: &[i32]) -> io::Result<()> {
        for &signal in signals {
            // Order matters: the exit check runs before `armed` is set by the same signal.
            signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&self.armed))?;
            signal_hook::flag::register_usize(signal, Arc::clone(&self.requested), signal.max(1) as usize)?;
            signal_hook::flag::register(signal, Arc::clone(&self.armed))?;
        }
        Ok(())
    }

    /// A flag set by `SIGINT` and `SIGTERM` ([`StopSignal::install`]): what a command-line
    /// program that runs an evolution wants.
    pub fn on_termination_signals() -> io::Result<StopSignal> {
        let stop = StopSignal::new();
        stop.install(&[SIGINT, SIGTERM])?;
        Ok(stop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_wins_and_clones_share_it() {
        let stop = StopSignal::new();
        let other = stop.clone();
        other.request(SIGTERM);
        stop.request(SIGINT);
        assert_eq!(stop.requested(), Some(SIGTERM));
        assert_eq!(StopReason::Interrupted { signal: 2 }.exit_code(), Some(130));
        assert_eq!(StopReason::Generations.exit_code(), None);
    }
}
