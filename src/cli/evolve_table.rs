//! The validation part of `evolve`'s table: each entry's warnings, the DSR inputs and the PBO summary.

use evoflow::run::validation::RunValidation;
use evoflow::validation::DSR_THRESHOLD;

/// Prints, after the hall-of-fame table, the run's trials, the warnings of every flagged entry
/// and the PBO of the final population.
pub fn print_validation(v: &RunValidation) {
    let min_test_trades = v.min_test_trades;
    println!();
    println!(
        "validation {}: {} distinct strategies tried (DSR's N), variance of their Sharpe per period {:.3e}",
        v.mode, v.n_trials, v.sr_variance
    );
    if v.same_behaviour > 0 {
        println!(
            "{} hall-of-fame entries merged into a better one that enters on >= 95 % of the same bars",
            v.same_behaviour
        );
    }
    for (i, b) in v.best.iter().enumerate() {
        if let Some(s) = &b.validation {
            println!(
                "{:>4}  psr {:.3}  dsr {:.3}  (SR/period {:.4}, T {}, skew {:.2}, kurtosis {:.2}, E[max SR] {:.4})",
                i + 1,
                s.psr,
                s.dsr,
                s.sr_per_period,
                s.n_obs,
                s.skew,
                s.kurtosis,
                s.expected_max_sr
            );
        }
        for w in &b.warnings {
            println!("{:>4}  warning: {w}", i + 1);
        }
    }
    match &v.pbo {
        Ok(p) => println!(
            "PBO {:.3} over {} strategies ({} blocks, {} combinations); logit mean {:.3}, median {:.3}, \
             5-95 % [{:.3}, {:.3}], share below 0 {:.3}",
            p.pbo,
            p.n_strategies,
            p.blocks,
            p.combinations,
            p.logit_mean,
            p.logit_median,
            p.logit_q05,
            p.logit_q95,
            p.share_below_zero
        ),
        Err(why) => println!("PBO undefined: {why}"),
    }
    println!(
        "(!) = not to be trusted: fewer than {min_test_trades} held-out trades (--min-test-trades) or dsr < {DSR_THRESHOLD}"
    );
}
