//! The run lifecycle: start, resume or re-print a stored run on every process of a cluster, store each generation, stop on a signal, complete.

use std::sync::Arc;

use evoflow_dataflows::{ClusterConfig, GenerationReport, StopReason, StopSignal};

use super::{GenerationWriter, ResumedRun, RunError};
use crate::evolution::{
    hall_of_fame_report, select_families, split_point, BestStrategy, EvolveSettings, TradingProblem,
};
use crate::market::MarketData;
use crate::storage::{self, OpenMode, RunStatus, Storage, StorageConfig};
use crate::strategy::Genome;
use crate::telemetry::RunTelemetry;

/// A validated run: what to evolve, on which data, on which cluster, stored where. Every
/// process of a cluster builds one from its own flags; only process 0 reads and writes
/// storage, and only process 0 carries `resumed`.
pub struct RunPlan {
    /// The run's id in storage and output.
    pub run_id: String,
    /// Everything that shapes the result (a resumed run's are its stored plan's).
    pub settings: EvolveSettings,
    /// The whole market data: the training part is evolved on, the rest is held out.
    pub data: Arc<MarketData>,
    /// [`storage::market_fingerprint`] of `data`, stored with a new run.
    pub fingerprint: String,
    /// Threads and processes (timely's `-w/-n/-p/-h/-z`).
    pub cluster: ClusterConfig,
    /// Where process 0 stores the run; `None` stores nothing.
    pub storage: Option<StorageConfig>,
    /// The stored run this process continues ([`super::read_resumed_run`]), on process 0.
    pub resumed: Option<ResumedRun>,
    /// Print `checkpoint N` to stderr once generation N's checkpoint is stored.
    pub log_checkpoints: bool,
    /// Stops the run at the next generation boundary when requested (on any process).
    pub stop: StopSignal,
    /// This process's metrics ([`RunTelemetry::start`]): its workers, each generation (on
    /// process 0) and each storage write report to it; `None` reports nothing.
    pub telemetry: Option<Arc<RunTelemetry>>,
}

/// What a run evolves, built once from its plan.
pub struct Prepared {
    /// The problem the dataflow evolves (the training data).
    pub problem: Arc<TradingProblem>,
    /// The first held-out bar.
    pub split: usize,
    /// Families left out because the data cannot feed them (e.g. funding seeds without funding).
    pub warnings: Vec<String>,
}

/// How a run ended on this process.
#[derive(Debug)]
pub enum RunEnding {
    /// Process 0 of a run that reached its stopping rule (now or earlier): its result.
    Completed(RunSummary),
    /// A stop was requested: the last completed generation's checkpoint is stored and the run
    /// is marked `interrupted`; the process should exit with `exit_code` (128 + signal).
    Interrupted {
        signal: i32,
        /// Generations completed in all.
        generations: u64,
        exit_code: i32,
    },
    /// Another process than 0: the run ended for this reason.
    Worker(StopReason),
}

/// The result of a completed run, as process 0 prints it.
#[derive(Debug)]
pub struct RunSummary {
    pub run_id: String,
    pub generations: u64,
    pub evaluations: u64,
    pub cache_hits: u64,
    /// The hall of fame, scored on the training and the held-out data.
    pub best: Vec<BestStrategy>,
}

impl RunPlan {
    /// Selects the families the data can feed and builds the problem on the training data.
    pub fn prepare(&self) -> Result<Prepared, RunError> {
        let selection = select_families(&self.settings.seeds, &self.data)?;
        let split = split_point(self.data.bars.len(), self.settings.test_fraction)?;
        let train = Arc::new(self.data.slice(0..split));
        let problem = Arc::new(TradingProblem::new(
            selection.families.clone(),
            train,
            self.settings.objective,
            self.settings.constraints,
            self.settings.backtest,
        )?);
        Ok(Prepared {
            problem,
            split,
            warnings: selection.warnings,
        })
    }

    fn writes(&self) -> bool {
        self.cluster.is_coordinator() && self.storage.is_some()
    }

    /// Runs the plan on this process: a new run is created in storage, a resumed one continues
    /// from its checkpoint, a run already over (complete, or killed after its last checkpoint)
    /// runs no generation and gives its stored result, also on a cluster, whose other
    /// processes end cleanly. Each generation is stored on a background thread, in order;
    /// `on_generation` sees every report on process 0 first.
    pub fn execute<F>(self, prepared: &Prepared, on_generation: F) -> Result<RunEnding, RunError>
    where
        F: FnMut(&GenerationReport<Genome>) + Send + 'static,
    {
        if self.resumed.as_ref().is_some_and(ResumedRun::is_over) {
            return self.reprint(prepared);
        }
        let problem = Arc::clone(&prepared.problem);
        let mut connection = evoflow_dataflows::connect(Arc::clone(&problem), &self.settings.ga, &self.cluster)?
            .stop_on(self.stop.clone());
        if let Some(t) = &self.telemetry {
            t.connected(connection.peers());
            connection = connection.observe(t.observer());
        }
        // Process 0 opens storage for writing only once every process has connected: DuckDB
        // lets no process read a file while another writes it, so the processes of one host
        // can read their data from the database that process 0 then writes the run to.
        let store = if self.writes() {
            Some(self.take_storage()?)
        } else {
            None
        };
        let run_id = self.run_id.clone();
        let writer = store
            .map(|(s, create)| {
                let telemetry = self.telemetry.clone();
                GenerationWriter::spawn(
                    s,
                    create,
                    run_id.clone(),
                    Arc::clone(&problem),
                    self.log_checkpoints,
                    telemetry,
                )
            })
            .transpose()?;
        let sender = writer.as_ref().map(GenerationWriter::sender);
        let mut on_generation = on_generation;
        let telemetry = self.telemetry.clone();
        let callback = move |report: &GenerationReport<Genome>| {
            if let Some(t) = &telemetry {
                t.generation(report);
            }
            on_generation(report);
            if let Some(sender) = &sender {
                sender.send(report);
            }
        };
        let resume = self.resumed.as_ref().map(|r| r.checkpoint.clone());
        let end = connection.execute(resume, callback);
        // The hall of fame is scored (pure computation, no storage) while the writer drains.
        let scored = match &end {
            Ok(e) if !matches!(e.stop, StopReason::Interrupted { .. }) => e.result.as_ref().map(|r| {
                let entries: Vec<(Genome, f64)> = r
                    .hall_of_fame
                    .iter()
                    .map(|e| (e.genome.clone(), e.fitness.value()))
                    .collect();
                hall_of_fame_report(&prepared.problem, &entries, &self.data, prepared.split)
            }),
            _ => None,
        };
        // Every generation the dataflow reported is written before anything else is stored.
        let (mut store, write_error) = match writer.map(GenerationWriter::finish) {
            Some((s, e)) => (Some(s), e),
            None => (None, None),
        };
        let end = match end {
            Ok(end) => end,
            Err(e) => {
                let e = RunError::from(e);
                mark_failed(&mut store, &run_id, &e);
                return Err(e);
            }
        };
        if let Some(e) = write_error {
            let e = RunError::Write(Box::new(e));
            mark_failed(&mut store, &run_id, &e);
            return Err(e);
        }
        if let StopReason::Interrupted { signal } = end.stop {
            // The last completed generation's checkpoint is stored (the writer drained above).
            mark(&mut store, &run_id, RunStatus::Interrupted);
            let generations = end.result.as_ref().map_or(0, |r| r.last_checkpoint.generation);
            return Ok(RunEnding::Interrupted {
                signal,
                generations,
                exit_code: 128 + signal,
            });
        }
        let Some(result) = end.result else {
            return Ok(RunEnding::Worker(end.stop));
        };
        let entries: Vec<(Genome, f64)> = result
            .hall_of_fame
            .iter()
            .map(|e| (e.genome.clone(), e.fitness.value()))
            .collect();
        let evaluations = result.stats.iter().map(|s| s.evaluations).sum();
        let cache_hits = result.stats.iter().map(|s| s.cache_hits).sum();
        let generations = result.stats.last().map_or(0, |s| s.generation + 1);
        let best = match scored {
            Some(best) => self.store_result(store.as_mut(), best?)?,
            None => self.complete(prepared, store.as_mut(), &entries)?,
        };
        Ok(RunEnding::Completed(RunSummary {
            run_id,
            generations,
            evaluations,
            cache_hits,
            best,
        }))
    }

    /// Takes storage for writing and records a resumed run as running (it must still have the
    /// checkpoint it was read with); a new run's record is returned for the writer to create.
    fn take_storage(&self) -> Result<(Box<dyn Storage>, Option<storage::RunRecord>), RunError> {
        let config = self.storage.as_ref().expect("writes() checked storage");
        let mut s = storage::open_storage(config, OpenMode::ReadWrite)?;
        s.claim_writer()?;
        match &self.resumed {
            Some(r) => {
                let latest = s.read_checkpoint(&self.run_id, None)?;
                if latest.as_ref().map(|c| &c.payload) != Some(&r.checkpoint_payload) {
                    return Err(RunError::Conflict(format!(
                        "--resume {}: the run's checkpoint changed while this process started (is another process \
                         resuming it?)",
                        self.run_id
                    )));
                }
                // An interrupted or crashed run is running again.
                s.finish_run(&self.run_id, RunStatus::Running, now_ms())?;
            }
            None => {
                // Created by the writer thread before the first generation (its commit then
                // overlaps the first generation's evaluation); a taken id is refused now.
                storage::validate_name("run id", &self.run_id)?;
                if s.get_run(&self.run_id)?.is_some() {
                    return Err(storage::StorageError::InvalidInput(format!(
                        "run `{}` already exists in {}",
                        self.run_id,
                        s.location().display()
                    ))
                    .into());
                }
                return Ok((s, Some(self.run_record()?)));
            }
        }
        Ok((s, None))
    }

    /// The stored record of this new run.
    fn run_record(&self) -> Result<storage::RunRecord, RunError> {
        Ok(storage::RunRecord {
            run_id: self.run_id.clone(),
            config_json: serde_json::to_string(&self.settings).map_err(RunError::json("encoding the run plan"))?,
            seed: self.settings.ga.seed,
            data_fingerprint: self.fingerprint.clone(),
            code_version: crate::BUILD.to_string(),
            status: RunStatus::Running,
            started_at_ms: now_ms(),
            ended_at_ms: None,
        })
    }

    /// A run already over: its result is its last checkpoint's hall of fame. A run killed
    /// after its last checkpoint is completed in storage now; a completed one is only read.
    /// On a cluster the other processes were started too: connect and end them cleanly.
    fn reprint(self, prepared: &Prepared) -> Result<RunEnding, RunError> {
        let r = self.resumed.as_ref().expect("reprint of a resumed run");
        if self.cluster.processes > 1 {
            evoflow_dataflows::connect(Arc::clone(&prepared.problem), &self.settings.ga, &self.cluster)?
                .execute(Some(r.checkpoint.clone()), |_| {})?;
        }
        let config = self.storage.as_ref().expect("a resumed run is stored");
        let mut store = if r.status == RunStatus::Completed {
            None
        } else {
            let mut s = storage::open_storage(config, OpenMode::ReadWrite)?;
            s.claim_writer()?;
            Some(s)
        };
        let generations = match store.as_ref() {
            Some(s) => s.read_generations(&self.run_id)?,
            None => storage::open_storage(config, OpenMode::ReadOnly)?.read_generations(&self.run_id)?,
        };
        let entries: Vec<(Genome, f64)> = r
            .checkpoint
            .hall_of_fame
            .iter()
            .map(|e| (e.genome.clone(), e.fitness.value()))
            .collect();
        let best = self.complete(prepared, store.as_mut(), &entries)?;
        Ok(RunEnding::Completed(RunSummary {
            run_id: self.run_id.clone(),
            generations: r.checkpoint.generation,
            evaluations: generations.iter().map(|g| g.evaluations).sum(),
            cache_hits: generations.iter().map(|g| g.cache_hits).sum(),
            best,
        }))
    }

    /// Scores the hall of fame on the training and held-out data and, when `store` is given,
    /// stores it and marks the run completed.
    fn complete(
        &self,
        prepared: &Prepared,
        store: Option<&mut Box<dyn Storage>>,
        entries: &[(Genome, f64)],
    ) -> Result<Vec<BestStrategy>, RunError> {
        let best = hall_of_fame_report(&prepared.problem, entries, &self.data, prepared.split)?;
        self.store_result(store, best)
    }

    /// Stores the scored hall of fame and marks the run completed (when `store` is given).
    fn store_result(
        &self,
        store: Option<&mut Box<dyn Storage>>,
        best: Vec<BestStrategy>,
    ) -> Result<Vec<BestStrategy>, RunError> {
        let run_id = &self.run_id;
        if let Some(s) = store {
            let records: Vec<storage::HallOfFameRecord> = best
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    Ok(storage::HallOfFameRecord {
                        run_id: run_id.to_string(),
                        rank: i as u32 + 1,
                        seed_name: b.seed.clone(),
                        genome_json: serde_json::to_string(&b.params)?,
                        fitness: b.fitness,
                        train_stats_json: serde_json::to_string(&b.train)?,
                        test_stats_json: serde_json::to_string(&b.test)?,
                    })
                })
                .collect::<Result<_, serde_json::Error>>()
                .map_err(RunError::json("encoding the hall of fame"))?;
            s.complete_run(run_id, &records, now_ms())?;
        }
        Ok(best)
    }
}

/// Marks the run failed with `error`, kept for `runs show` (best effort: the run's own error
/// is the one reported).
fn mark_failed(store: &mut Option<Box<dyn Storage>>, run_id: &str, error: &RunError) {
    if let Some(s) = store.as_mut() {
        let mut text = error.to_string();
        let mut cause = std::error::Error::source(error);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        let _ = s.fail_run(run_id, &text, now_ms());
    }
}

/// Stores the run's status (best effort: the run's own error is the one reported).
fn mark(store: &mut Option<Box<dyn Storage>>, run_id: &str, status: RunStatus) {
    if let Some(s) = store.as_mut() {
        let _ = s.finish_run(run_id, status, now_ms());
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new run's id when none is given: the UTC time and the seed.
pub fn default_run_id(seed: u64) -> String {
    format!("run-{}-s{seed}", chrono::Utc::now().format("%Y%m%dT%H%M%S"))
}
