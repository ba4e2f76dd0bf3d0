//! `evoflow evolve`: runs the evolution dataflow on market data, on one or many workers and processes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use evoflow::backtest::BacktestConfig;
use evoflow::evolution::{
    hall_of_fame_report, select_families, split_point, BestStrategy, Constraints, EvolveSettings, Objective,
    TradingProblem, DEFAULT_COMMISSION, DEFAULT_SLIPPAGE_BPS,
};
use evoflow::run::RunRequest;
use evoflow::storage::{self, OpenMode, Storage};
use evoflow::strategy::Genome;
use evoflow_dataflows::{stop_reason, ClusterConfig, GaConfig, GenerationReport, StopReason, StopSignal};
use serde::Serialize;

use super::generation_writer::GenerationWriter;
use super::market_args::MarketArgs;
use super::storage_args::StorageArgs;
use super::UsageError;

/// Flags of `evoflow evolve`. The cluster flags are timely's own (`-w -n -p -h -z`).
#[derive(clap::Args, Debug)]
#[command(disable_help_flag = true)]
pub struct EvolveArgs {
    #[command(flatten)]
    pub market: MarketArgs,
    /// Seed families to evolve: `all` or a comma-separated list of names (see `evoflow seeds`).
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub seeds: Vec<String>,
    /// Individuals per generation.
    #[arg(long, default_value_t = 96)]
    pub population: usize,
    /// Generations to run (with --resume: the total to reach; without it the stored plan's).
    #[arg(long, default_value_t = 25)]
    pub generations: u64,
    /// Random seed of the run: the same seed gives the same result on every topology.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// What to maximise: sharpe, sortino, calmar, return or composite.
    #[arg(long, default_value = "sharpe")]
    pub objective: String,
    /// Strategies with fewer closed trades on the training data are penalised.
    #[arg(long, default_value_t = 10)]
    pub min_trades: u64,
    /// Strategies whose max drawdown on the training data is deeper than this (in %) are penalised.
    #[arg(long, value_name = "PCT")]
    pub max_drawdown: Option<f64>,
    /// Share of the bars held out at the end for out-of-sample statistics.
    #[arg(long, default_value_t = 0.3)]
    pub test_fraction: f64,
    /// How many of the best strategies to report.
    #[arg(long, default_value_t = 10)]
    pub hall_of_fame: usize,
    /// Best individuals copied unchanged into the next generation.
    #[arg(long, default_value_t = 2)]
    pub elitism: usize,
    /// Tournament size of parent selection.
    #[arg(long, default_value_t = 3)]
    pub tournament_size: usize,
    /// Stop when the best fitness has not improved for this many generations.
    #[arg(long)]
    pub patience: Option<u32>,
    /// Commission per fill as a fraction of notional (default: 0.00045, a perp taker fee).
    #[arg(long, default_value_t = DEFAULT_COMMISSION)]
    pub commission: f64,
    /// Slippage against the trader on every fill, in basis points.
    #[arg(long, default_value_t = DEFAULT_SLIPPAGE_BPS)]
    pub slippage_bps: f64,
    /// Starting cash of every backtest.
    #[arg(long, default_value_t = 10_000.0)]
    pub cash: f64,
    /// Identifier of the run in storage (default: generated from the time and seed).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Continue the stored run with this id from its last checkpoint, with its stored plan
    /// (only --generations and --patience may be given, to extend it).
    #[arg(long, value_name = "ID", conflicts_with = "run_id")]
    pub resume: Option<String>,
    /// With --run-id: start the run if it is not stored, resume it if it is unfinished, print
    /// its stored result if it is complete (exit 0). Safe to run again and again (supervisors).
    #[arg(long, requires = "run_id", conflicts_with = "no_store")]
    pub resume_if_exists: bool,
    /// Print only a final JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print `checkpoint N` to stderr each time the checkpoint of generation N is stored.
    #[arg(long)]
    pub log_checkpoints: bool,
    /// Do not write anything to storage (no run record, no checkpoints).
    #[arg(long, conflicts_with = "resume")]
    pub no_store: bool,
    /// At the end, write the run's HTML report to FILE (as `evoflow report RUN_ID --out FILE`).
    #[arg(long, value_name = "FILE.html", conflicts_with = "no_store")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Worker threads per process (timely's -w) [default: the CPUs available to the process].
    /// With several processes on one host, give each its share.
    #[arg(short = 'w', long = "threads")]
    pub threads: Option<usize>,
    /// Number of processes (timely's -n).
    #[arg(short = 'n', long = "processes", default_value_t = 1)]
    pub processes: usize,
    /// This process's index, 0 is the coordinator (timely's -p).
    #[arg(short = 'p', long = "process", default_value_t = 0)]
    pub process: usize,
    /// Host file: one host:port per line, in process order (timely's -h).
    #[arg(short = 'h', long = "hostfile")]
    pub hostfile: Option<PathBuf>,
    /// Serialize data even between workers of one process (timely's -z).
    #[arg(short = 'z', long = "zerocopy")]
    pub zerocopy: bool,
    /// Seconds to wait for the other processes before giving up.
    #[arg(long, default_value_t = 60.0)]
    pub connect_timeout: f64,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// What `--json` prints.
#[derive(Serialize)]
struct JsonOutput<'a> {
    run_id: &'a str,
    generations: u64,
    evaluations: u64,
    cache_hits: u64,
    elapsed_s: f64,
    best: &'a [BestStrategy],
}

/// The CPUs this process may run on (its affinity and cgroup quota), at least 1: the default
/// number of worker threads, as `sweep` uses every core.
fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl EvolveArgs {
    fn cluster(&self) -> anyhow::Result<ClusterConfig> {
        if !(self.connect_timeout.is_finite() && self.connect_timeout > 0.0) {
            return Err(UsageError(format!(
                "--connect-timeout must be a positive number of seconds, got {}",
                self.connect_timeout
            ))
            .into());
        }
        let cluster = ClusterConfig {
            workers: self.threads.unwrap_or_else(available_cpus),
            processes: self.processes,
            process: self.process,
            hostfile: self.hostfile.clone(),
            zerocopy: self.zerocopy,
            report: false,
            connect_timeout: Duration::from_secs_f64(self.connect_timeout),
        };
        cluster.validate().map_err(|e| UsageError(e.to_string()))?;
        Ok(cluster)
    }

    fn settings(&self, data_label: &str) -> anyhow::Result<EvolveSettings> {
        let objective: Objective = self.objective.parse().map_err(UsageError)?;
        let settings = EvolveSettings {
            ga: GaConfig {
                population: self.population,
                generations: self.generations,
                elitism: self.elitism,
                tournament_size: self.tournament_size,
                patience: self.patience,
                seed: self.seed,
                hall_of_fame: self.hall_of_fame,
                min_niche_share: MIN_NICHE_SHARE,
                ..GaConfig::default()
            },
            objective,
            constraints: Constraints {
                min_trades: self.min_trades,
                max_drawdown_pct: self.max_drawdown,
            },
            test_fraction: self.test_fraction,
            backtest: BacktestConfig {
                cash: self.cash,
                commission: self.commission,
                slippage_bps: self.slippage_bps,
                finalize_trades: false,
            },
            seeds: if self.seeds.iter().any(|s| s == "all") {
                Vec::new()
            } else {
                self.seeds.clone()
            },
            data: data_label.to_string(),
        };
        settings.validate().map_err(|e| UsageError(e.to_string()))?;
        Ok(settings)
    }
}

/// What `--resume` continues: the run's stored settings (with the `--generations` given now)
/// and its latest checkpoint, decoded and as stored.
struct ResumedRun {
    settings: EvolveSettings,
    /// The stored status: a `Completed` run is only printed again.
    status: storage::RunStatus,
    checkpoint: evoflow_dataflows::Checkpoint<Genome>,
    checkpoint_payload: Vec<u8>,
}

/// Reads run `id` to resume from storage, opened read-only (process 0 opens it for writing
/// only once every process has connected), and checks that this process was started for it:
/// the same market data (of fingerprint `data_fingerprint`), and with several processes the
/// flags of the original run.
fn read_resumed_run(
    config: &storage::StorageConfig,
    id: &str,
    request: &RunRequest,
    data_fingerprint: &str,
    cluster: &ClusterConfig,
) -> anyhow::Result<ResumedRun> {
    let s = match storage::open_storage(config, OpenMode::ReadOnly) {
        Err(storage::StorageError::NotFound { path, .. }) => {
            return Err(UsageError(format!(
                "--resume {id}: no such run ({} does not exist)",
                path.display()
            ))
            .into())
        }
        opened => opened?,
    };
    let record = s
        .get_run(id)?
        .ok_or_else(|| UsageError(format!("--resume {id}: no such run in {}", s.location().display())))?;
    let stored: EvolveSettings = serde_json::from_str(&record.config_json)
        .with_context(|| format!("run {id}: stored configuration is unreadable"))?;
    let stored = request
        .resume_plan(&stored)
        .map_err(|e| UsageError(format!("--resume {id}: {e}")))?;
    stored
        .validate()
        .map_err(|e| UsageError(format!("--resume {id}: {e}")))?;
    if cluster.processes > 1 && stored != request.settings {
        // The other processes build their problem from their own flags: they must match.
        return Err(UsageError(format!(
            "--resume {id} with several processes: give every process the flags of the original run (only \
             --generations may change); stored configuration: {}",
            record.config_json
        ))
        .into());
    }
    if data_fingerprint != record.data_fingerprint {
        return Err(UsageError(format!(
            "--resume {id}: the market data differs from the run's ({}); pass the same --data",
            stored.data
        ))
        .into());
    }
    if record.code_version != evoflow::BUILD {
        eprintln!(
            "warning: run {id} was started by evoflow {} and resumes with {}: if the change touched how strategies \
             are scored, the resumed run will not match an uninterrupted one",
            record.code_version,
            evoflow::BUILD
        );
    }
    let stored_checkpoint = s
        .read_checkpoint(id, None)?
        .ok_or_else(|| UsageError(format!("--resume {id}: the run has no checkpoint")))?;
    let checkpoint = serde_json::from_slice(&stored_checkpoint.payload).with_context(|| {
        format!(
            "run {id}: checkpoint of generation {} is unreadable",
            stored_checkpoint.generation
        )
    })?;
    Ok(ResumedRun {
        settings: stored,
        status: record.status,
        checkpoint,
        checkpoint_payload: stored_checkpoint.payload,
    })
}

/// Every family keeps at least this share of the population (niche protection).
const MIN_NICHE_SHARE: f64 = 0.02;

/// Runs `evoflow evolve`.
pub fn run(mut args: EvolveArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let cluster = args.cluster()?;
    let coordinator = cluster.process == 0;
    let storage_config = args.storage.config()?;
    // Only the coordinator reads a run to resume and writes storage; other processes never
    // touch it.
    let writes = coordinator && !args.no_store;
    let resume_id = match (&args.resume, &args.run_id, args.resume_if_exists) {
        (Some(id), _, _) => Some(id.clone()),
        (None, Some(id), true) if writes && run_is_stored(&storage_config, id)? => Some(id.clone()),
        _ => None,
    };
    // A resume without data flags reads the run's own data (its stored plan names it).
    let no_data_flags = args.market.data.is_none() && args.market.symbol.is_none();
    if let (Some(id), true, true) = (&resume_id, writes, no_data_flags) {
        restore_data_flags(&mut args.market, &storage_config, id)?;
    }
    // Every process reads its market data before it connects to the others, and process 0
    // opens storage for writing only once all of them have connected: DuckDB lets no process
    // read a file while another writes it, so this lets the processes of one host read their
    // data from the local database that process 0 then writes the run to.
    let data = args
        .market
        .load_from(Some(evoflow::market::sample::DEFAULT_SAMPLE), Some(&storage_config))?;
    let label = args.market.label(Some(evoflow::market::sample::DEFAULT_SAMPLE));
    let mut settings = args.settings(&label)?;
    // A run id names the run in storage and in output, stored or not.
    if let Some(id) = &args.run_id {
        storage::validate_name("run id", id)?;
    }
    let run_id = args
        .resume
        .clone()
        .or(args.run_id.clone())
        .unwrap_or_else(|| default_run_id(settings.ga.seed));

    let fingerprint = storage::market_fingerprint(&data);
    let request = RunRequest {
        settings: settings.clone(),
        given: evoflow::run::given_flags(std::env::args()),
    };
    let resumed = match &resume_id {
        Some(id) if writes => Some(read_resumed_run(&storage_config, id, &request, &fingerprint, &cluster)?),
        _ => None,
    };
    if let Some(r) = &resumed {
        settings = r.settings.clone();
    }

    let selection = select_families(&settings.seeds, &data)?;
    if coordinator && !args.json {
        for w in &selection.warnings {
            eprintln!("warning: {w}");
        }
    }
    let split = split_point(data.bars.len(), settings.test_fraction)?;
    let train = Arc::new(data.slice(0..split));
    let problem = Arc::new(TradingProblem::new(
        selection.families.clone(),
        train,
        settings.objective,
        settings.constraints,
        settings.backtest,
    )?);
    let finish = Finish {
        args: &args,
        run_id: &run_id,
        problem: &problem,
        data: &data,
        split,
        started,
    };

    // A run that reached its stopping rule before it printed its result (killed after its last
    // checkpoint), or a completed one: its result is its last checkpoint's hall of fame.
    if let Some(r) = resumed
        .as_ref()
        .filter(|r| stop_reason(&r.settings.ga, &r.checkpoint.best_history).is_some())
    {
        let mut store = if r.status == storage::RunStatus::Completed {
            None
        } else {
            let mut s = storage::open_storage(&storage_config, OpenMode::ReadWrite)?;
            s.claim_writer()?;
            Some(s)
        };
        let reader = storage::open_storage(&storage_config, OpenMode::ReadOnly);
        let generations = match store.as_ref() {
            Some(s) => s.read_generations(&run_id)?,
            None => reader?.read_generations(&run_id)?,
        };
        let evaluations = generations.iter().map(|g| g.evaluations).sum();
        let cache_hits = generations.iter().map(|g| g.cache_hits).sum();
        let entries: Vec<(Genome, f64)> = r
            .checkpoint
            .hall_of_fame
            .iter()
            .map(|e| (e.genome.clone(), e.fitness.value()))
            .collect();
        return finish.complete(
            store.as_mut(),
            &entries,
            r.checkpoint.generation,
            evaluations,
            cache_hits,
        );
    }

    // Installed before connecting, so that a signal while the processes connect stops the run
    // after its first generation instead of killing this process (a second signal exits at once).
    let stop = StopSignal::on_termination_signals().context("installing the SIGINT/SIGTERM handlers")?;
    let connection = evoflow_dataflows::connect(Arc::clone(&problem), &settings.ga, &cluster)?.stop_on(stop);
    let mut store: Option<Box<dyn Storage>> = None;
    if writes {
        let mut s = storage::open_storage(&storage_config, OpenMode::ReadWrite)?;
        s.claim_writer()?;
        match &resumed {
            // The checkpoint was read before this process held the storage: it must still be
            // the run's latest.
            Some(r) => {
                let latest = s.read_checkpoint(&run_id, None)?;
                if latest.as_ref().map(|c| &c.payload) != Some(&r.checkpoint_payload) {
                    anyhow::bail!(
                        "--resume {run_id}: the run's checkpoint changed while this process started (is another \
                         process resuming it?)"
                    );
                }
                // An interrupted or crashed run is running again.
                s.finish_run(&run_id, storage::RunStatus::Running, now_ms())?;
            }
            None => s.create_run(&storage::RunRecord {
                run_id: run_id.clone(),
                config_json: serde_json::to_string(&settings)?,
                seed: settings.ga.seed,
                data_fingerprint: fingerprint.clone(),
                code_version: evoflow::BUILD.to_string(),
                status: storage::RunStatus::Running,
                started_at_ms: now_ms(),
                ended_at_ms: None,
            })?,
        }
        store = Some(s);
    }
    let resume = resumed.map(|r| r.checkpoint);

    let progress = if coordinator && !args.json {
        Some(progress_bar(settings.ga.generations))
    } else {
        None
    };
    let writer = store
        .map(|s| GenerationWriter::spawn(s, run_id.clone(), Arc::clone(&problem), args.log_checkpoints))
        .transpose()
        .context("starting the storage writer thread")?;
    let callback = {
        let sender = writer.as_ref().map(GenerationWriter::sender);
        let progress = progress.clone();
        let loop_start = Instant::now();
        let mut rate = EvaluationRate::default();
        move |report: &GenerationReport<Genome>| {
            let per_second = rate.after_generation(report.stats.evaluations, loop_start.elapsed());
            if let Some(pb) = &progress {
                pb.set_position(report.stats.generation + 1);
                pb.set_message(format!(
                    "best {:.4}  mean {:.4}  {per_second:.0} evals/s",
                    report.stats.best.value(),
                    report.stats.mean,
                ));
            }
            if let Some(sender) = &sender {
                sender.send(report);
            }
        }
    };

    let end = connection.execute(resume, callback);
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }
    // Every generation the dataflow reported is written before anything else happens.
    let (mut store, write_error) = match writer.map(GenerationWriter::finish) {
        Some((s, e)) => (Some(s), e),
        None => (None, None),
    };
    let end = match end {
        Ok(o) => o,
        Err(e) => {
            let e = anyhow::Error::from(e);
            mark_failed(&mut store, &run_id, &e);
            return Err(e);
        }
    };
    if let Some(e) = write_error {
        let e = e.context("writing the run to storage");
        mark_failed(&mut store, &run_id, &e);
        return Err(e);
    }
    if let (StopReason::Interrupted { signal }, Some(code)) = (&end.stop, end.exit_code()) {
        // The last completed generation's checkpoint is stored (the writer drained above).
        mark(&mut store, &run_id, storage::RunStatus::Interrupted);
        drop(store);
        if coordinator {
            let generation = end
                .result
                .as_ref()
                .and_then(|r| r.stats.last())
                .map(|s| s.generation + 1);
            eprintln!(
                "interrupted by signal {signal} after {} generations; `evoflow evolve --resume {run_id}` continues it",
                generation.unwrap_or(0)
            );
        }
        std::process::exit(code);
    }
    let result = match end.result {
        None => return Ok(()),
        Some(result) => result,
    };

    let entries: Vec<(Genome, f64)> = result
        .hall_of_fame
        .iter()
        .map(|e| (e.genome.clone(), e.fitness.value()))
        .collect();
    let evaluations: u64 = result.stats.iter().map(|s| s.evaluations).sum();
    let cache_hits: u64 = result.stats.iter().map(|s| s.cache_hits).sum();
    let generations = result.stats.last().map(|s| s.generation + 1).unwrap_or(0);
    finish.complete(store.as_mut(), &entries, generations, evaluations, cache_hits)
}

/// Sets the data flags to those of stored run `id` (as its plan's data label names them);
/// a run that is not stored is left to [`read_resumed_run`] to report.
fn restore_data_flags(
    market: &mut super::market_args::MarketArgs,
    config: &storage::StorageConfig,
    id: &str,
) -> anyhow::Result<()> {
    let record = match storage::open_storage(config, OpenMode::ReadOnly) {
        Err(storage::StorageError::NotFound { .. }) => return Ok(()),
        opened => opened?.get_run(id)?,
    };
    let Some(record) = record else { return Ok(()) };
    let stored: EvolveSettings = serde_json::from_str(&record.config_json)
        .with_context(|| format!("run {id}: stored configuration is unreadable"))?;
    match stored.data.strip_prefix("storage:").and_then(|st| st.split_once('/')) {
        Some((symbol, timeframe)) => {
            market.symbol = Some(symbol.to_string());
            market.timeframe = Some(timeframe.to_string());
        }
        None => market.data = Some(stored.data),
    }
    Ok(())
}

/// Whether run `id` is stored (a missing database holds no run).
fn run_is_stored(config: &storage::StorageConfig, id: &str) -> anyhow::Result<bool> {
    match storage::open_storage(config, OpenMode::ReadOnly) {
        Err(storage::StorageError::NotFound { .. }) => Ok(false),
        opened => Ok(opened?.get_run(id)?.is_some()),
    }
}

/// What the end of a run needs to store and print its result.
struct Finish<'a> {
    args: &'a EvolveArgs,
    run_id: &'a str,
    problem: &'a TradingProblem,
    data: &'a evoflow::market::MarketData,
    split: usize,
    started: Instant,
}

impl Finish<'_> {
    /// Scores the hall of fame on train and test data, stores it and marks the run completed
    /// (when `store` is given), and prints the result.
    fn complete(
        &self,
        store: Option<&mut Box<dyn Storage>>,
        entries: &[(Genome, f64)],
        generations: u64,
        evaluations: u64,
        cache_hits: u64,
    ) -> anyhow::Result<()> {
        let run_id = self.run_id;
        let best = hall_of_fame_report(self.problem, entries, self.data, self.split)?;
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
                .collect::<Result<_, serde_json::Error>>()?;
            s.complete_run(run_id, &records, now_ms())?;
            if let Some(path) = &self.args.report {
                super::report::write_run_report(
                    s.as_ref(),
                    run_id,
                    self.data,
                    path,
                    None,
                    evoflow::report::DEFAULT_TOP,
                )
                .with_context(|| format!("run {run_id} is stored; writing --report {}", path.display()))?;
            }
        }
        let elapsed_s = self.started.elapsed().as_secs_f64();
        if self.args.json {
            let out = JsonOutput {
                run_id,
                generations,
                evaluations,
                cache_hits,
                elapsed_s,
                best: &best,
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
        } else {
            print_table(run_id, generations, evaluations, cache_hits, elapsed_s, &best);
        }
        Ok(())
    }
}

/// Marks the run failed with `error` (best effort: the run's own error is the one reported).
fn mark_failed(store: &mut Option<Box<dyn Storage>>, run_id: &str, error: &anyhow::Error) {
    if let Some(s) = store.as_mut() {
        let _ = s.fail_run(run_id, &format!("{error:#}"), now_ms());
    }
}

/// Stores the run's status (best effort: the run's own error is the one reported).
fn mark(store: &mut Option<Box<dyn Storage>>, run_id: &str, status: storage::RunStatus) {
    if let Some(s) = store.as_mut() {
        let _ = s.finish_run(run_id, status, now_ms());
    }
}

fn progress_bar(generations: u64) -> indicatif::ProgressBar {
    let pb = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(generations)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let style = indicatif::ProgressStyle::with_template("generation {pos}/{len} [{bar:30}] {msg} ({elapsed})")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb
}

/// The progress bar's evaluations per second: every evaluation of the run so far (cache hits
/// are not evaluations) over the time since the loop started.
#[derive(Default)]
struct EvaluationRate {
    evaluated: u64,
}

impl EvaluationRate {
    /// The rate once a generation with `evaluations` evaluations has ended, `elapsed` after
    /// the loop started.
    fn after_generation(&mut self, evaluations: u64, elapsed: Duration) -> f64 {
        self.evaluated += evaluations;
        self.evaluated as f64 / elapsed.as_secs_f64().max(1e-9)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn default_run_id(seed: u64) -> String {
    format!("run-{}-s{seed}", chrono::Utc::now().format("%Y%m%dT%H%M%S"))
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into())
}

fn print_table(
    run_id: &str,
    generations: u64,
    evaluations: u64,
    cache_hits: u64,
    elapsed_s: f64,
    best: &[BestStrategy],
) {
    println!("run {run_id}: {generations} generations, {evaluations} evaluations ({cache_hits} cache hits) in {elapsed_s:.1} s");
    println!();
    println!(
        "{:>4}  {:<24} {:>9}  {:>8} {:>8} {:>7} {:>6}  {:>8} {:>8} {:>7} {:>6}",
        "rank", "seed", "fitness", "sharpe", "return%", "maxdd%", "trades", "t.sharpe", "t.ret%", "t.dd%", "t.trd"
    );
    for (i, b) in best.iter().enumerate() {
        let t = b.test.as_ref();
        println!(
            "{:>4}  {:<24} {:>9.4}  {:>8} {:>8.2} {:>7.2} {:>6}  {:>8} {:>8} {:>7} {:>6}",
            i + 1,
            b.seed,
            b.fitness,
            fmt_opt(b.train.sharpe_ratio),
            b.train.return_pct,
            b.train.max_drawdown_pct,
            b.train.num_trades,
            fmt_opt(t.and_then(|s| s.sharpe_ratio)),
            t.map(|s| format!("{:.2}", s.return_pct)).unwrap_or_else(|| "-".into()),
            t.map(|s| format!("{:.2}", s.max_drawdown_pct))
                .unwrap_or_else(|| "-".into()),
            t.map(|s| s.num_trades.to_string()).unwrap_or_else(|| "-".into()),
        );
    }
    println!();
    for (i, b) in best.iter().enumerate() {
        let params: Vec<String> = b.params.iter().map(|(k, v)| format!("{k}={}", trim_num(*v))).collect();
        println!("{:>4}  {}: {}", i + 1, b.seed, params.join(" "));
    }
}

fn trim_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_every_evaluation_of_the_run_so_far() {
        // Later generations evaluate fewer new genomes: 400, 100 and 50 evaluations, ending
        // 1, 1.5 and 2 s into the run, are 275 per second at the end (not 50 / 2 s).
        let mut rate = EvaluationRate::default();
        let ms = Duration::from_millis;
        assert_eq!(rate.after_generation(400, ms(1000)), 400.0);
        assert_eq!(rate.after_generation(100, ms(1500)), 500.0 / 1.5);
        assert_eq!(rate.after_generation(50, ms(2000)), 275.0);
    }
}
