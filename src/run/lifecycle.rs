//! The run lifecycle: start, resume or re-print a stored run on every process of a cluster, store each generation, stop on a signal, complete.

use std::sync::Arc;

use evoflow_dataflows::{ClusterConfig, GenerationReport, StopReason, StopSignal};

use super::validation::{add_population, ledger_from_individuals, problem_and_folds, validate_run, RunValidation};
use super::writer::OpenStorage;
use super::{GenerationWriter, ResumedRun, RunError};
use crate::evolution::{select_families, BestStrategy, EvolveSettings, TradingProblem};
use crate::market::MarketData;
use crate::storage::{self, OpenMode, RunStatus, Storage, StorageConfig};
use crate::strategy::Genome;
use crate::telemetry::RunTelemetry;
use crate::validation::{Fold, TrialLedger};

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
    /// The training and held-out windows (`--validation`): one fold for holdout.
    pub folds: Vec<Fold>,
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
    /// The same hall of fame with the run's validation: trials, PBO, merged behaviours.
    pub validation: Box<RunValidation>,
}

impl Prepared {
    /// The first held-out bar of a holdout run (`None` for walk-forward, whose held-out bars
    /// are several windows).
    pub fn holdout_split(&self) -> Option<usize> {
        match self.folds.as_slice() {
            [one] => Some(one.train.end),
            _ => None,
        }
    }
}

impl RunPlan {
    /// Selects the families the data can feed and builds the problem on the training data.
    pub fn prepare(&self) -> Result<Prepared, RunError> {
        let selection = select_families(&self.settings.seeds, &self.data)?;
        let (problem, folds) = problem_and_folds(&self.settings, selection.families.clone(), &self.data)?;
        Ok(Prepared {
            problem: Arc::new(problem),
            folds,
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
        // can read their data from the database that process 0 then writes the run to. A
        // single process opens it on the writer thread, while the first generations are
        // evaluated (opening a database costs tens of milliseconds); a cluster opens it
        // before the run, so that a refused open ends no other process mid-run.
        let writer = if self.writes() {
            let open: OpenStorage = if self.cluster.processes > 1 {
                let opened = self.take_storage()?;
                Box::new(move || Ok(opened))
            } else {
                self.opener()?
            };
            Some(GenerationWriter::spawn(
                open,
                self.stop.clone(),
                self.run_id.clone(),
                Arc::clone(&problem),
                self.log_checkpoints,
                self.telemetry.clone(),
            )?)
        } else {
            None
        };
        let run_id = self.run_id.clone();
        let sender = writer.as_ref().map(GenerationWriter::sender);
        let mut on_generation = on_generation;
        // Every distinct genome evaluated (the DSR's N and V), from the reports; a resumed run
        // starts from those stored before its checkpoint.
        let trials = Arc::new(std::sync::Mutex::new(self.stored_trials(&problem)?));
        let ledger = Arc::clone(&trials);
        let ledger_problem = Arc::clone(&problem);
        let telemetry = self.telemetry.clone();
        let callback = move |report: &GenerationReport<Genome>| {
            if let Ok(mut l) = ledger.lock() {
                add_population(&mut l, &ledger_problem, &report.population);
            }
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
        // A completed run is validated while the writer stores its last generations.
        let validated = match &end {
            Ok(e) if e.stop.signal().is_none() => e.result.as_ref().map(|result| {
                let trials = trials.lock().map(|l| l.clone()).unwrap_or_default();
                self.validate(prepared, result, &trials)
            }),
            _ => None,
        };
        // Every generation the dataflow reported is written before anything else is stored.
        let (mut store, write_error) = match writer.map(GenerationWriter::finish) {
            Some(f) => {
                if let Some(e) = f.open_error {
                    return Err(e);
                }
                (f.store, f.write_error)
            }
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
        let (Some(result), Some(validated)) = (end.result, validated) else {
            return Ok(RunEnding::Worker(end.stop));
        };
        let evaluations = result.stats.iter().map(|s| s.evaluations).sum();
        let cache_hits = result.stats.iter().map(|s| s.cache_hits).sum();
        let generations = result.stats.last().map_or(0, |s| s.generation + 1);
        let validation = self.store_completion(store.as_mut(), validated?)?;
        Ok(RunEnding::Completed(RunSummary {
            run_id,
            generations,
            evaluations,
            cache_hits,
            best: validation.best.clone(),
            validation: Box::new(validation),
        }))
    }

    /// Validates a completed run's hall of fame and final population against its `trials`.
    fn validate(
        &self,
        prepared: &Prepared,
        result: &evoflow_dataflows::EvolutionResult<Genome>,
        trials: &TrialLedger,
    ) -> Result<RunValidation, RunError> {
        let entries: Vec<(Genome, f64)> = result
            .hall_of_fame
            .iter()
            .map(|e| (e.genome.clone(), e.fitness.value()))
            .collect();
        let population: Vec<(Genome, f64)> = result
            .final_population
            .iter()
            .map(|s| (s.genome.clone(), s.fitness.value()))
            .collect();
        self.validated(prepared, &entries, &population, trials)
    }

    /// Opens the storage for writing on the writer thread: the checks of [`Self::take_storage`],
    /// with what they need moved into the closure.
    fn opener(&self) -> Result<OpenStorage, RunError> {
        let config = self.storage.clone().expect("writes() checked storage");
        let run_id = self.run_id.clone();
        let resumed = self.resumed.as_ref().map(|r| r.checkpoint_payload.clone());
        let record = match resumed {
            Some(_) => None,
            None => {
                storage::validate_name("run id", &run_id)?;
                Some(self.run_record()?)
            }
        };
        Ok(Box::new(move || {
            open_for_writing(&config, &run_id, resumed.as_deref(), record)
        }))
    }

    /// Takes storage for writing and records a resumed run as running (it must still have the
    /// checkpoint it was read with); a new run's record is returned for the writer to create.
    fn take_storage(&self) -> Result<(Box<dyn Storage>, Option<storage::RunRecord>), RunError> {
        let config = self.storage.as_ref().expect("writes() checked storage");
        let resumed = self.resumed.as_ref().map(|r| r.checkpoint_payload.as_slice());
        let record = match resumed {
            Some(_) => None,
            None => {
                storage::validate_name("run id", &self.run_id)?;
                Some(self.run_record()?)
            }
        };
        open_for_writing(config, &self.run_id, resumed, record)
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
        // The final population: the stored individuals of the last generation evaluated.
        let last = r.checkpoint.generation.saturating_sub(1);
        let population: Vec<(Genome, f64)> = r
            .individuals
            .iter()
            .filter(|i| u64::from(i.generation) == last)
            .filter_map(|i| {
                let genes = serde_json::from_str(&i.genome_json).ok()?;
                Some((prepared.problem.genome_from_named(&i.seed_name, &genes)?, i.fitness))
            })
            .collect();
        let trials = self.stored_trials(&prepared.problem)?;
        let validation = self.complete(prepared, store.as_mut(), &entries, &population, &trials)?;
        Ok(RunEnding::Completed(RunSummary {
            run_id: self.run_id.clone(),
            generations: r.checkpoint.generation,
            evaluations: generations.iter().map(|g| g.evaluations).sum(),
            cache_hits: generations.iter().map(|g| g.cache_hits).sum(),
            best: validation.best.clone(),
            validation: Box::new(validation),
        }))
    }

    /// The trials a resumed run evaluated before its checkpoint (none for a new run).
    fn stored_trials(&self, problem: &TradingProblem) -> Result<TrialLedger, RunError> {
        match &self.resumed {
            Some(r) => ledger_from_individuals(&r.individuals, r.checkpoint.generation, problem)
                .map_err(|e| RunError::Conflict(format!("--resume {}: {e}", self.run_id))),
            None => Ok(TrialLedger::default()),
        }
    }

    /// Validates the hall of fame (`entries`, then the rest of the `population` for distinct
    /// behaviours) over the folds against the run's `trials`, with the population's PBO.
    fn validated(
        &self,
        prepared: &Prepared,
        entries: &[(Genome, f64)],
        population: &[(Genome, f64)],
        trials: &TrialLedger,
    ) -> Result<RunValidation, RunError> {
        Ok(validate_run(
            &self.settings,
            &prepared.problem,
            &prepared.folds,
            &self.data,
            entries,
            population,
            trials,
        )?)
    }

    /// [`Self::validated`], then stored with the run marked completed when `store` is given.
    fn complete(
        &self,
        prepared: &Prepared,
        store: Option<&mut Box<dyn Storage>>,
        entries: &[(Genome, f64)],
        population: &[(Genome, f64)],
        trials: &TrialLedger,
    ) -> Result<RunValidation, RunError> {
        let validated = self.validated(prepared, entries, population, trials)?;
        self.store_completion(store, validated)
    }

    /// Stores the validated hall of fame and marks the run completed, when `store` is given.
    fn store_completion(
        &self,
        store: Option<&mut Box<dyn Storage>>,
        validated: RunValidation,
    ) -> Result<RunValidation, RunError> {
        let run_id = &self.run_id;
        if let Some(s) = store {
            let records: Vec<storage::HallOfFameRecord> = validated
                .best
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
                        validation_json: serde_json::to_string(&validated.stored(i))?,
                    })
                })
                .collect::<Result<_, serde_json::Error>>()
                .map_err(RunError::json("encoding the hall of fame"))?;
            s.complete_run(run_id, &records, now_ms())?;
        }
        Ok(validated)
    }
}

/// Opens `config` for writing run `run_id` and claims the writer's lease. A resumed run
/// (`resumed`: the checkpoint payload it was read with) must still have that checkpoint and is
/// marked running again; a new run's id must be free, and its `record` is returned for the
/// writer to create.
fn open_for_writing(
    config: &StorageConfig,
    run_id: &str,
    resumed: Option<&[u8]>,
    record: Option<storage::RunRecord>,
) -> Result<(Box<dyn Storage>, Option<storage::RunRecord>), RunError> {
    let mut s = storage::open_storage(config, OpenMode::ReadWrite)?;
    s.claim_writer()?;
    match resumed {
        Some(payload) => {
            let latest = s.read_checkpoint(run_id, None)?;
            if latest.as_ref().map(|c| c.payload.as_slice()) != Some(payload) {
                return Err(RunError::Conflict(format!(
                    "--resume {run_id}: the run's checkpoint changed while this process started (is another process \
                     resuming it?)"
                )));
            }
            // An interrupted or crashed run is running again.
            s.finish_run(run_id, RunStatus::Running, now_ms())?;
            Ok((s, None))
        }
        None => {
            // Created by the writer thread before the first generation (its commit then
            // overlaps the first generation's evaluation); a taken id is refused now.
            if s.get_run(run_id)?.is_some() {
                return Err(storage::StorageError::InvalidInput(format!(
                    "run `{run_id}` already exists in {}",
                    s.location().display()
                ))
                .into());
            }
            Ok((s, record))
        }
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
