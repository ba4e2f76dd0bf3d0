//! `evoflow evolve`: runs the evolution dataflow on market data, on one or many workers and processes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use evoflow::backtest::BacktestConfig;
use evoflow::evolution::{
    BestStrategy, Constraints, EvolveSettings, Objective, DEFAULT_COMMISSION, DEFAULT_SLIPPAGE_BPS,
};
use evoflow::run::{self, RunEnding, RunError, RunPlan, RunRequest, RunSummary, StoredBars};
use evoflow::storage::{self, OpenMode};
use evoflow::strategy::Genome;
use evoflow_dataflows::{ClusterConfig, GaConfig, GenerationReport, StopSignal};
use serde::Serialize;

use super::market_args::MarketArgs;
use super::metrics_args::MetricsArgs;
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
    /// How the bars are split: `holdout` (train on the first bars, hold out the last
    /// --test-fraction) or `walk-forward:K` (K consecutive folds, each training on its first
    /// bars and holding out its last --test-fraction; fitness from the training windows,
    /// held-out statistics from the held-out windows joined).
    #[arg(long, default_value = "holdout", value_name = "MODE")]
    pub validation: String,
    /// Blocks S of the PBO's combinatorially symmetric cross-validation over the final
    /// population (even, 2 to 24).
    #[arg(long = "pbo", default_value_t = evoflow::validation::DEFAULT_PBO_BLOCKS, value_name = "S")]
    pub pbo: usize,
    /// Hall-of-fame entries with fewer closed held-out trades get a warning.
    #[arg(long, default_value_t = evoflow::validation::DEFAULT_MIN_TEST_TRADES)]
    pub min_test_trades: u64,
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
    #[command(flatten)]
    pub metrics: MetricsArgs,
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
    /// `holdout` or `walk-forward:K`.
    validation: String,
    /// Distinct genomes evaluated (the DSR's N) and the variance of their Sharpe per period.
    n_trials: u64,
    sr_variance: f64,
    /// Hall-of-fame entries merged into a better one that trades the same bars.
    same_behaviour_merged: usize,
    pbo: Option<&'a evoflow::validation::PboSummary>,
    pbo_undefined: Option<&'a str>,
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
            validation: evoflow::validation::ValidationSettings {
                mode: self
                    .validation
                    .parse()
                    .map_err(|e: evoflow::validation::ValidationError| UsageError(e.to_string()))?,
                pbo_blocks: self.pbo,
                min_test_trades: self.min_test_trades,
            },
        };
        settings.validate().map_err(|e| UsageError(e.to_string()))?;
        Ok(settings)
    }
}

/// Every family keeps at least this share of the population (niche protection).
const MIN_NICHE_SHARE: f64 = 0.02;

/// Runs `evoflow evolve`: flags → a validated [`RunPlan`] → [`RunPlan::execute`], then prints.
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
        (None, Some(id), true) if writes && run::run_is_stored(&storage_config, id).map_err(usage)? => Some(id.clone()),
        _ => None,
    };
    // A resume without data flags reads the run's own data (its stored plan names it).
    let no_data_flags = args.market.data.is_none() && args.market.symbol.is_none();
    if let (Some(id), true, true) = (&resume_id, writes, no_data_flags) {
        // Not stored: read_resumed_run reports it.
        if let Some(stored) = run::stored_data_source(&storage_config, id).map_err(usage)? {
            match stored.bars {
                StoredBars::Series { symbol, timeframe } => {
                    args.market.symbol = Some(symbol);
                    args.market.timeframe = Some(timeframe);
                }
                StoredBars::Source(data) => args.market.data = Some(data),
            }
            if args.market.funding.is_none() {
                args.market.funding = stored.funding.map(PathBuf::from);
            }
        }
    }
    // Every process reads its market data before it connects to the others.
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
        .unwrap_or_else(|| run::default_run_id(settings.ga.seed));

    let fingerprint = storage::market_fingerprint(&data);
    let request = RunRequest {
        settings: settings.clone(),
        given: run::given_flags(std::env::args()),
    };
    let resumed = match &resume_id {
        Some(id) if writes => {
            Some(run::read_resumed_run(&storage_config, id, &request, &fingerprint, cluster.processes).map_err(usage)?)
        }
        _ => None,
    };
    if let Some(r) = &resumed {
        if let Some(w) = &r.warning {
            eprintln!("warning: {w}");
        }
        settings = r.settings.clone();
    }
    // Installed before connecting, so that a signal while the processes connect stops the run
    // after its first generation instead of killing this process (a second signal exits at once).
    let stop = StopSignal::on_termination_signals().context("installing the SIGINT/SIGTERM handlers")?;
    let data = Arc::new(data);
    let mut plan = RunPlan {
        run_id: run_id.clone(),
        settings,
        data: Arc::clone(&data),
        fingerprint,
        cluster,
        storage: (!args.no_store).then(|| storage_config.clone()),
        resumed,
        log_checkpoints: args.log_checkpoints,
        stop,
        telemetry: None,
    };
    let prepared = plan.prepare().map_err(usage)?;
    let metrics = args.metrics.start(&plan, &prepared)?;
    plan.telemetry = metrics.handle();
    if coordinator && !args.json {
        for w in &prepared.warnings {
            eprintln!("warning: {w}");
        }
    }
    let progress = (coordinator && !args.json).then(|| progress_bar(plan.settings.ga.generations));
    let callback = {
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
        }
    };
    let ending = plan.execute(&prepared, callback);
    metrics.ended(&ending);
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }
    match ending.map_err(usage)? {
        RunEnding::Completed(summary) => {
            if let (Some(path), false) = (&args.report, args.no_store) {
                let s = storage::open_storage(&storage_config, OpenMode::ReadOnly)?;
                super::report::write_run_report(s.as_ref(), &run_id, &data, path, None, evoflow::report::DEFAULT_TOP)
                    .with_context(|| format!("run {run_id} is stored; writing --report {}", path.display()))?;
            }
            print_result(&args, &summary, started.elapsed().as_secs_f64())
        }
        RunEnding::Interrupted {
            signal,
            generations,
            exit_code,
        } => {
            if coordinator {
                eprintln!(
                    "interrupted by signal {signal} after {generations} generations; `evoflow evolve --resume {run_id}` \
                     continues it"
                );
            }
            drop(metrics);
            std::process::exit(exit_code);
        }
        RunEnding::Worker(_) => Ok(()),
    }
}

/// A run error as the CLI reports it: the user's input exits 2.
fn usage(e: RunError) -> anyhow::Error {
    if e.is_bad_input() {
        UsageError(e.to_string()).into()
    } else {
        e.into()
    }
}

/// Prints a completed run's result: the `--json` object or the table.
fn print_result(args: &EvolveArgs, summary: &RunSummary, elapsed_s: f64) -> anyhow::Result<()> {
    if args.json {
        let out = JsonOutput {
            run_id: &summary.run_id,
            generations: summary.generations,
            evaluations: summary.evaluations,
            cache_hits: summary.cache_hits,
            elapsed_s,
            validation: summary.validation.mode.to_string(),
            n_trials: summary.validation.n_trials,
            sr_variance: summary.validation.sr_variance,
            same_behaviour_merged: summary.validation.same_behaviour,
            pbo: summary.validation.pbo.as_ref().ok(),
            pbo_undefined: summary.validation.pbo.as_ref().err().map(String::as_str),
            best: &summary.validation.best,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_table(
            &summary.run_id,
            summary.generations,
            summary.evaluations,
            summary.cache_hits,
            elapsed_s,
            &summary.validation.best,
        );
        super::evolve_table::print_validation(&summary.validation);
    }
    Ok(())
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
        "{:>4}  {:<24} {:>9}  {:>8} {:>8} {:>7} {:>6}  {:>8} {:>8} {:>7} {:>6} {:>6} {:>6}",
        "rank",
        "seed",
        "fitness",
        "sharpe",
        "return%",
        "maxdd%",
        "trades",
        "t.sharpe",
        "t.ret%",
        "t.dd%",
        "t.trd",
        "dsr",
        "warn"
    );
    for (i, b) in best.iter().enumerate() {
        let t = b.test.as_ref();
        println!(
            "{:>4}  {:<24} {:>9.4}  {:>8} {:>8.2} {:>7.2} {:>6}  {:>8} {:>8} {:>7} {:>6} {:>6} {:>6}",
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
            fmt_opt(b.validation.map(|v| v.dsr)),
            if b.warnings.is_empty() { "" } else { "(!)" },
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
