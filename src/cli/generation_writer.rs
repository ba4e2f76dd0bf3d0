//! `GenerationWriter`: stores each generation of an `evolve` run on a background thread, in order, so the coordinating worker never waits for the disk.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use evoflow::evolution::TradingProblem;
use evoflow::storage::Storage;
use evoflow::strategy::Genome;
use evoflow::telemetry::RunTelemetry;
use evoflow_dataflows::GenerationReport;

/// Reports waiting to be written; a full queue makes the coordinator wait (backpressure).
const QUEUE: usize = 4;

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
    thread: JoinHandle<(Box<dyn Storage>, Option<anyhow::Error>)>,
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
    /// Starts the writer for run `run_id`; with `log_checkpoints` it prints
    /// `checkpoint N` to stderr once the checkpoint of generation N is stored, and it tells
    /// `telemetry` how long each write took. Errors when the operating system refuses a thread.
    pub fn spawn(
        store: Box<dyn Storage>,
        run_id: String,
        problem: Arc<TradingProblem>,
        log_checkpoints: bool,
        telemetry: Option<Arc<RunTelemetry>>,
    ) -> std::io::Result<GenerationWriter> {
        let (queue, inbox) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("evoflow-writer".into())
            .spawn(move || write_all(store, &run_id, &problem, log_checkpoints, telemetry, inbox))?;
        Ok(GenerationWriter { queue, thread })
    }

    /// A sender for the per-generation callback.
    pub fn sender(&self) -> ReportSender {
        ReportSender(self.queue.clone())
    }

    /// Waits until every queued report is written; returns the storage and the first write
    /// error, if any.
    pub fn finish(self) -> (Box<dyn Storage>, Option<anyhow::Error>) {
        let _ = self.queue.send(Message::Finish);
        match self.thread.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn write_all(
    mut store: Box<dyn Storage>,
    run_id: &str,
    problem: &TradingProblem,
    log_checkpoints: bool,
    telemetry: Option<Arc<RunTelemetry>>,
    inbox: Receiver<Message>,
) -> (Box<dyn Storage>, Option<anyhow::Error>) {
    let mut error = None;
    for message in inbox {
        match message {
            Message::Finish => break,
            Message::Generation(_) if error.is_some() => {}
            Message::Generation(report) => {
                let started = Instant::now();
                match super::evolve::record_generation(store.as_mut(), run_id, &report, problem) {
                    Ok(()) => {
                        if let Some(t) = &telemetry {
                            t.stored(report.checkpoint.generation, started.elapsed());
                        }
                        if log_checkpoints {
                            eprintln!("checkpoint {}", report.checkpoint.generation);
                        }
                    }
                    Err(e) => error = Some(e),
                }
            }
        }
    }
    (store, error)
}
