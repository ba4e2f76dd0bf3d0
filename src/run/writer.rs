//! `GenerationWriter`: stores each generation of a run on a background thread, in order, every generation queued since the last write in one transaction, so the coordinating worker never waits for the disk.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use evoflow_dataflows::GenerationReport;

use super::RunError;
use crate::evolution::{KeyStats, TradingProblem};
use crate::storage::{self, Storage};
use crate::strategy::Genome;
use crate::telemetry::RunTelemetry;

/// The number a failed open gives [`evoflow_dataflows::StopSignal::request`] (the run ends
/// with the storage error, not with this number).
const OPEN_FAILED_STOP: i32 = 1;

/// Reports waiting to be written; a full queue makes the coordinator wait (backpressure).
const QUEUE: usize = 64;

enum Message {
    Generation(Box<GenerationReport<Genome>>),
    Finish,
}

/// Writes every generation's statistics, individuals and checkpoint, in generation order, on
/// its own thread. After the first failed write it writes nothing more (a later checkpoint
/// must never land after a missing generation) and reports that error from
/// [`GenerationWriter::finish`].
pub struct GenerationWriter {
    queue: SyncSender<Message>,
    thread: JoinHandle<Finished>,
}

/// Opens the run's storage for writing on the writer thread: the storage, and the record of a
/// new run to create first (`None` for a resumed run).
pub type OpenStorage = Box<dyn FnOnce() -> Result<(Box<dyn Storage>, Option<storage::RunRecord>), RunError> + Send>;

/// What the writer leaves when it is finished.
pub struct Finished {
    /// The storage, once opened (`None` when opening failed).
    pub store: Option<Box<dyn Storage>>,
    /// Why the storage could not be opened: nothing was written.
    pub open_error: Option<RunError>,
    /// The first failed write: nothing after it was written.
    pub write_error: Option<RunError>,
}

/// The handle the per-generation callback sends reports through.
#[derive(Clone)]
pub struct ReportSender(SyncSender<Message>);

impl ReportSender {
    /// Queues `report` for writing (waits while the queue is full).
    pub fn send(&self, report: &GenerationReport<Genome>) {
        // The writer only stops receiving after `finish`, which runs after the dataflow.
        let _ = self.0.send(Message::Generation(Box::new(report.clone())));
    }
}

impl GenerationWriter {
    /// Starts the writer for run `run_id`: it first opens the storage with `open` (while the
    /// first generations are evaluated; reports wait in the queue) and creates the new run's
    /// record when `open` gives one. When opening fails it asks `stop` to end the run at the
    /// next generation boundary and writes nothing. With `log_checkpoints` it prints
    /// `checkpoint N` to stderr once the checkpoint of generation N is stored, and it tells
    /// `telemetry` how long each write took.
    pub fn spawn(
        open: OpenStorage,
        stop: evoflow_dataflows::StopSignal,
        run_id: String,
        problem: Arc<TradingProblem>,
        log_checkpoints: bool,
        telemetry: Option<Arc<RunTelemetry>>,
    ) -> Result<GenerationWriter, RunError> {
        let (queue, inbox) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("evoflow-writer".into())
            .spawn(move || match open() {
                Ok((store, create)) => {
                    let (store, write_error) =
                        write_all(store, create, &run_id, &problem, log_checkpoints, telemetry, inbox);
                    Finished {
                        store: Some(store),
                        open_error: None,
                        write_error,
                    }
                }
                Err(e) => {
                    stop.request(OPEN_FAILED_STOP);
                    // Receive until `finish`, so that the dataflow never waits on a full queue.
                    for message in inbox.iter() {
                        if matches!(message, Message::Finish) {
                            break;
                        }
                    }
                    Finished {
                        store: None,
                        open_error: Some(e),
                        write_error: None,
                    }
                }
            })
            .map_err(RunError::WriterThread)?;
        Ok(GenerationWriter { queue, thread })
    }

    /// A sender for the per-generation callback.
    pub fn sender(&self) -> ReportSender {
        ReportSender(self.queue.clone())
    }

    /// Waits until every queued report is written; returns the storage and the errors.
    pub fn finish(self) -> Finished {
        let _ = self.queue.send(Message::Finish);
        match self.thread.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn write_all(
    mut store: Box<dyn Storage>,
    create: Option<storage::RunRecord>,
    run_id: &str,
    problem: &TradingProblem,
    log_checkpoints: bool,
    telemetry: Option<Arc<RunTelemetry>>,
    inbox: Receiver<Message>,
) -> (Box<dyn Storage>, Option<RunError>) {
    let mut error = create.and_then(|run| store.create_run(&run).err().map(RunError::from));
    let mut finished = false;
    // The reports carry the time since the loop started; storage keeps each generation's own.
    let mut loop_time = Duration::ZERO;
    while !finished {
        // Wait for one report, then take every one queued behind it: one transaction (one
        // commit) stores them all, so a writer that fell behind catches up at once.
        let Ok(first) = inbox.recv() else { break };
        let mut reports = Vec::new();
        for message in std::iter::once(first).chain(std::iter::from_fn(|| inbox.try_recv().ok())) {
            match message {
                Message::Finish => {
                    finished = true;
                    break;
                }
                Message::Generation(report) => reports.push(report),
            }
        }
        if error.is_some() || reports.is_empty() {
            continue;
        }
        let started = Instant::now();
        let written = reports
            .iter()
            .map(|r| {
                let wall = r.stats.elapsed.saturating_sub(loop_time);
                loop_time = r.stats.elapsed;
                generation_write(run_id, r, wall, problem)
            })
            .collect::<Result<Vec<_>, RunError>>()
            .and_then(|batch| Ok(store.record_generations(&batch)?));
        match written {
            Ok(()) => {
                // One write stored them all, each in the time it took.
                if let Some(t) = &telemetry {
                    let took = started.elapsed();
                    for r in &reports {
                        t.stored(r.checkpoint.generation, took);
                    }
                }
                if log_checkpoints {
                    for r in &reports {
                        eprintln!("checkpoint {}", r.checkpoint.generation);
                    }
                }
            }
            Err(e) => error = Some(e),
        }
    }
    (store, error)
}

/// Stores one generation: its statistics, its individuals and the checkpoint of the next
/// generation, in one transaction (see [`generation_write`]).
pub fn record_generation(
    s: &mut dyn Storage,
    run_id: &str,
    report: &GenerationReport<Genome>,
    problem: &TradingProblem,
) -> Result<(), RunError> {
    let write = generation_write(run_id, report, report.stats.elapsed, problem)?;
    Ok(s.record_generations(std::slice::from_ref(&write))?)
}

/// One generation as stored: its statistics with its wall time `wall`, its individuals (with
/// the key statistics that came with their fitness) and the checkpoint of the next generation.
pub fn generation_write(
    run_id: &str,
    report: &GenerationReport<Genome>,
    wall: Duration,
    problem: &TradingProblem,
) -> Result<storage::GenerationWrite, RunError> {
    let st = &report.stats;
    let generation = st.generation as u32;
    let stats = storage::GenerationRecord {
        run_id: run_id.to_string(),
        generation,
        best: st.best.value(),
        mean: st.mean,
        std: st.std_dev,
        diversity: st.distinct as f64 / report.population.len().max(1) as f64,
        evaluations: st.evaluations,
        cache_hits: st.cache_hits,
        elapsed_ms: wall.as_millis() as u64,
    };
    let individuals: Vec<storage::IndividualRecord> = report
        .population
        .iter()
        .map(|scored| {
            let g = &scored.genome;
            let params = problem.named_genes(g);
            let genome_json = serde_json::to_string(&params)?;
            let key = KeyStats::from_metrics(&scored.metrics);
            Ok(storage::IndividualRecord {
                run_id: run_id.to_string(),
                generation,
                seed_name: g.seed.clone(),
                genome_hash: format!("{:016x}", g.stable_hash()),
                genome_json,
                fitness: scored.fitness.value(),
                sharpe: key.sharpe,
                return_pct: key.return_pct,
                max_drawdown_pct: key.max_drawdown_pct,
                num_trades: key.num_trades,
            })
        })
        .collect::<Result<_, serde_json::Error>>()
        .map_err(RunError::json("encoding a genome"))?;
    let payload = serde_json::to_vec(&report.checkpoint).map_err(RunError::json("encoding a checkpoint"))?;
    Ok(storage::GenerationWrite {
        stats,
        individuals,
        checkpoint: storage::Checkpoint {
            run_id: run_id.to_string(),
            generation: report.checkpoint.generation as u32,
            payload,
        },
    })
}
