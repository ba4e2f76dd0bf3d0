//! A tiny evolution binary (sphere problem) taking timely's cluster flags, for multi-process tests.
//!
//! Usage: `evoflow-sphere [-w N] [-n N -p I [-h hosts.txt]] [-z] [--connect-timeout S]
//! [--population N] [--generations N] [--seed N] [--dims N] [--eval-micros N]
//! [--checkpoint FILE [--checkpoint-delay-ms N]]`.
//! Process 0 prints one `generation` line per generation, one `individual` line per member
//! of the final population (fitness as `f64` bits in hex, then the coordinates) and one `hall`
//! line per hall-of-fame entry; other processes print `not coordinator`. Bad flags exit with
//! status 2, other failures with 1.
//!
//! SIGTERM or SIGINT to any process stops the whole run at the next generation boundary: every
//! process prints `interrupted by signal S` to stderr and exits with 128 + S; a second signal
//! exits at once. With `--checkpoint FILE`, process 0 writes the checkpoint after every
//! generation to FILE (bincode, exact `f64`s, written to `FILE.tmp`, synced, renamed: never torn), printing
//! `checkpoint G` to stderr once it is durable, and a run started while FILE exists resumes it:
//! the same command, run again after a stop or a crash, continues the run.
//! `--checkpoint-delay-ms` sleeps between writing and renaming (for tests that kill a process
//! while a checkpoint is being written; stderr shows `writing checkpoint G` first).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{connect, Checkpoint, ClusterConfig, GaConfig, StopSignal};

fn parse<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value.parse().map_err(|_| format!("invalid value {value:?} for {flag}"))
}

/// Writes `checkpoint` to `path` atomically: a temporary file, synced, renamed over `path`.
fn write_checkpoint(path: &Path, checkpoint: &Checkpoint<Vec<i64>>, delay: Duration) -> std::io::Result<()> {
    let bytes = bincode::serialize(checkpoint).map_err(std::io::Error::other)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::thread::sleep(delay);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let (cluster, rest) = match ClusterConfig::parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = GaConfig {
        population: 40,
        generations: 20,
        seed: 1,
        ..GaConfig::default()
    };
    let mut dims = 4usize;
    let mut eval_micros = 0u64;
    let mut checkpoint_path: Option<PathBuf> = None;
    let mut delay_ms = 0u64;
    let mut args = rest.into_iter();
    while let Some(flag) = args.next() {
        let parsed = match flag.as_str() {
            "--population" => parse(&flag, args.next()).map(|v| config.population = v),
            "--generations" => parse(&flag, args.next()).map(|v| config.generations = v),
            "--seed" => parse(&flag, args.next()).map(|v| config.seed = v),
            "--dims" => parse(&flag, args.next()).map(|v| dims = v),
            "--eval-micros" => parse(&flag, args.next()).map(|v| eval_micros = v),
            "--checkpoint" => parse(&flag, args.next()).map(|v: PathBuf| checkpoint_path = Some(v)),
            "--checkpoint-delay-ms" => parse(&flag, args.next()).map(|v| delay_ms = v),
            other => Err(format!("unknown argument {other:?}")),
        };
        if let Err(e) = parsed {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let stop = match StopSignal::on_termination_signals() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("error: cannot install the signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Only the coordinator reads and writes the checkpoint (the other processes may not see it).
    let resume = match checkpoint_path
        .as_ref()
        .filter(|p| cluster.is_coordinator() && p.exists())
    {
        None => None,
        Some(path) => match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| bincode::deserialize::<Checkpoint<Vec<i64>>>(&bytes).map_err(|e| e.to_string()))
        {
            Ok(checkpoint) => Some(checkpoint),
            Err(e) => {
                eprintln!("error: cannot read checkpoint {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    let problem = Sphere::new(dims).with_eval_cost(Duration::from_micros(eval_micros));
    let writer = checkpoint_path.clone().filter(|_| cluster.is_coordinator());
    let delay = Duration::from_millis(delay_ms);
    let on_generation = move |report: &evoflow_dataflows::GenerationReport<Vec<i64>>| {
        if let Some(path) = &writer {
            let g = report.stats.generation;
            eprintln!("writing checkpoint {g}");
            match write_checkpoint(path, &report.checkpoint, delay) {
                Ok(()) => eprintln!("checkpoint {g}"),
                Err(e) => eprintln!("error: cannot write checkpoint {}: {e}", path.display()),
            }
        }
    };
    let ended = connect(Arc::new(problem), &config, &cluster)
        .and_then(|connection| connection.stop_on(stop).execute(resume, on_generation));
    let end = match ended {
        Ok(end) => end,
        Err(e) => {
            eprintln!("error: {e}");
            return if e.is_usage_error() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            };
        }
    };
    match &end.result {
        Some(result) => {
            for s in &result.stats {
                println!(
                    "generation {} best {:x} evaluations {} cache_hits {}",
                    s.generation,
                    s.best.value().to_bits(),
                    s.evaluations,
                    s.cache_hits
                );
            }
            for member in &result.final_population {
                let coords: Vec<String> = member.genome.iter().map(|c| c.to_string()).collect();
                let metrics: Vec<String> = member.metrics.iter().map(|m| format!("{:x}", m.to_bits())).collect();
                println!(
                    "individual {:x} {} metrics {}",
                    member.fitness.value().to_bits(),
                    coords.join(","),
                    metrics.join(",")
                );
            }
            for entry in &result.hall_of_fame {
                let coords: Vec<String> = entry.genome.iter().map(|c| c.to_string()).collect();
                println!(
                    "hall {:x} {} generation {}",
                    entry.fitness.value().to_bits(),
                    coords.join(","),
                    entry.generation
                );
            }
        }
        None => println!("not coordinator"),
    }
    match (end.stop.signal(), end.exit_code()) {
        (Some(signal), Some(code)) => {
            eprintln!("interrupted by signal {signal}");
            ExitCode::from(code.clamp(1, 255) as u8)
        }
        _ => ExitCode::SUCCESS,
    }
}
