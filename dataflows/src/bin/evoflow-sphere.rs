//! A tiny evolution binary (sphere problem) taking timely's cluster flags, for multi-process tests.
//!
//! Usage: `evoflow-sphere [-w N] [-n N -p I [-h hosts.txt]] [-z] [--connect-timeout S]
//! [--population N] [--generations N] [--seed N] [--dims N] [--eval-micros N]`.
//! Process 0 prints one `generation` line per generation and one `individual` line per member
//! of the final population (fitness as `f64` bits in hex, then the coordinates); other
//! processes print `not coordinator`. Bad flags exit with status 2, other failures with 1.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run, ClusterConfig, GaConfig, RunOutcome};

fn parse<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value.parse().map_err(|_| format!("invalid value {value:?} for {flag}"))
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
    let mut args = rest.into_iter();
    while let Some(flag) = args.next() {
        let parsed = match flag.as_str() {
            "--population" => parse(&flag, args.next()).map(|v| config.population = v),
            "--generations" => parse(&flag, args.next()).map(|v| config.generations = v),
            "--seed" => parse(&flag, args.next()).map(|v| config.seed = v),
            "--dims" => parse(&flag, args.next()).map(|v| dims = v),
            "--eval-micros" => parse(&flag, args.next()).map(|v| eval_micros = v),
            other => Err(format!("unknown argument {other:?}")),
        };
        if let Err(e) = parsed {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let problem = Sphere::new(dims).with_eval_cost(Duration::from_micros(eval_micros));
    match run(Arc::new(problem), &config, &cluster, None, |_| {}) {
        Ok(RunOutcome::Coordinator(result)) => {
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
            ExitCode::SUCCESS
        }
        Ok(RunOutcome::NotCoordinator) => {
            println!("not coordinator");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_usage_error() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
