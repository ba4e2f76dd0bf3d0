//! The five SEEDS.md properties for every seed in the registry, on the embedded real samples.
//!
//! `funding_rate_carry` needs funding data that the samples do not have; its tests use a
//! synthetic funding series generated deterministically below. That series is TEST DATA ONLY
//! (an AR(1) process around 0.01% per 8 hours), never fed to the seed by the library.

use evoflow::market::{sample::load_sample, FundingRates, MarketData};
use evoflow::seeds::{all_seeds, features::count_entries};
use evoflow::strategy::{clamp_genome, Strategy, StrategyError};

/// The real samples, each with synthetic 8-hourly funding attached (used only by the carry seed).
fn samples() -> Vec<MarketData> {
    ["eurusd-1h", "goog-1d"]
        .iter()
        .map(|name| {
            let mut d = load_sample(name).expect("sample loads");
            d.funding = Some(synthetic_funding(&d));
            d
        })
        .collect()
}

/// TEST DATA: funding events every 8 hours over the bars' span, an AR(1) process
/// `f' = m + 0.97 (f - m) + 0.00004 e` with m = 0.0001 and e uniform in [-1.7, 1.7] from a fixed
/// linear congruential generator.
fn synthetic_funding(d: &MarketData) -> FundingRates {
    const EIGHT_HOURS: i64 = 8 * 3_600_000;
    let ts = &d.bars.timestamp_ms;
    let (first, last) = (
        ts[0] + (EIGHT_HOURS - ts[0].rem_euclid(EIGHT_HOURS)) % EIGHT_HOURS,
        *ts.last().unwrap(),
    );
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let (mean, mut f) = (0.0001, 0.0001);
    let mut out = FundingRates::default();
    let mut t = first;
    while t <= last {
        out.time_ms.push(t);
        out.rate.push(f);
        f = mean + 0.97 * (f - mean) + 0.00004 * 1.7 * uniform();
        t += EIGHT_HOURS;
    }
    out
}

fn is_ml(s: &dyn Strategy) -> bool {
    s.kind() == evoflow::strategy::StrategyType::MlClassifier
}

fn sig(s: &dyn Strategy, d: &MarketData, genome: &[f64]) -> Vec<f64> {
    s.signal(d, genome)
        .unwrap_or_else(|e| panic!("{}: signal failed on {}: {e}", s.name(), d.source))
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Values to try for a gene, most different from the default first.
fn trial_values(min: f64, max: f64, integer: bool) -> Vec<f64> {
    let mut v = vec![min, max];
    for k in 1..8 {
        let x = min + (max - min) * f64::from(k) / 8.0;
        v.push(if integer { x.round() } else { x });
    }
    v
}

/// Property 1: every gene changes the signal on each real sample.
#[test]
fn every_gene_changes_the_signal_on_both_samples() {
    let data = samples();
    let mut failures = Vec::new();
    for s in all_seeds() {
        for d in &data {
            let base_genome = s.default_genome();
            let base = sig(s, d, &base_genome);
            for (gi, spec) in s.genes().iter().enumerate() {
                let changed = trial_values(spec.min, spec.max, spec.integer).into_iter().any(|v| {
                    if v == spec.default {
                        return false;
                    }
                    let mut g = base_genome.clone();
                    g[gi] = v;
                    !same_bits(&sig(s, d, &g), &base)
                });
                if !changed {
                    failures.push(format!(
                        "{}: gene `{}` never changes the signal on {}",
                        s.name(),
                        spec.name,
                        d.source
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Property 2: the signal up to bar k is identical when the bars after k are removed.
#[test]
fn no_look_ahead_under_truncation() {
    for s in all_seeds() {
        for d in samples() {
            // ML seeds are the slow ones: check them on the first 1,500 bars.
            let d = if is_ml(s) {
                d.slice(0..1500.min(d.bars.len()))
            } else {
                d
            };
            let n = d.bars.len();
            let genomes = [
                s.default_genome(),
                s.genes().iter().map(|g| g.min).collect(),
                s.genes().iter().map(|g| g.max).collect(),
            ];
            for genome in &genomes {
                let full = sig(s, &d, genome);
                for k in [n / 3, n / 2 + 1, 2 * n / 3 + 7, 1000, 1001, n - 1] {
                    if k == 0 || k > n {
                        continue;
                    }
                    let cut = sig(s, &d.slice(0..k), genome);
                    assert_eq!(cut.len(), k);
                    if let Some(i) = (0..k).find(|&i| cut[i].to_bits() != full[i].to_bits()) {
                        panic!(
                            "{} reads the future on {}: genome {genome:?}, bars cut at {k}, bar {i}: {} (cut) vs {} (full)",
                            s.name(),
                            d.source,
                            cut[i],
                            full[i]
                        );
                    }
                }
            }
        }
    }
}

/// Property 3: same genome and data give the same signal, across runs and threads.
#[test]
fn deterministic_across_runs_and_threads() {
    let data = samples();
    for s in all_seeds() {
        let d = &data[0];
        let d = if is_ml(s) { d.slice(0..1500) } else { d.clone() };
        let genome: Vec<f64> = s
            .genes()
            .iter()
            .map(|g| g.normalise(0.3 * g.min + 0.7 * g.max))
            .collect();
        let first = sig(s, &d, &genome);
        assert!(same_bits(&first, &sig(s, &d, &genome)), "{}: two runs differ", s.name());
        let from_threads: Vec<Vec<f64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| sig(s, &d, &genome))).collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        for (t, other) in from_threads.iter().enumerate() {
            assert!(same_bits(&first, other), "{}: thread {t} differs", s.name());
        }
    }
}

/// Property 4a: values are finite and in [-1, 1]; warm-up bars (and tiny inputs) give 0.
#[test]
fn finite_bounded_and_flat_during_warm_up() {
    for s in all_seeds() {
        for d in samples() {
            for genome in [s.default_genome(), s.genes().iter().map(|g| g.max).collect()] {
                let out = sig(s, &d, &genome);
                assert_eq!(out.len(), d.bars.len(), "{}: one value per bar", s.name());
                for (i, v) in out.iter().enumerate() {
                    assert!(
                        v.is_finite() && (-1.0..=1.0).contains(v),
                        "{}: bar {i} = {v} on {}",
                        s.name(),
                        d.source
                    );
                }
                assert_eq!(
                    out[0],
                    0.0,
                    "{}: bar 0 must be flat (warm-up) on {}",
                    s.name(),
                    d.source
                );
                if s.needs_funding() {
                    continue; // its warm-up counts funding events, not bars: see carry_flat_until_enough_funding_events
                }
                let first_nonzero = out.iter().position(|&v| v != 0.0).unwrap_or(out.len());
                assert!(
                    first_nonzero >= 5,
                    "{}: trades at bar {first_nonzero}, inside any warm-up",
                    s.name()
                );
            }
            if s.needs_funding() {
                continue;
            }
            for n in [0, 1, 2, 5] {
                let tiny = d.slice(0..n);
                let out = sig(s, &tiny, &s.default_genome());
                assert_eq!(out, vec![0.0; n], "{}: {n} bars must give all-flat", s.name());
            }
        }
    }
}

/// Property 4a for the carry seed: flat while fewer than `funding_persistence` events are known.
#[test]
fn carry_flat_until_enough_funding_events() {
    let carry = evoflow::seeds::seed("funding_rate_carry").expect("registered");
    let persist_idx = carry
        .genes()
        .iter()
        .position(|g| g.name == "funding_persistence")
        .unwrap();
    for d in samples() {
        let f = d.funding.clone().unwrap();
        for persist in [2.0, 4.0, 24.0] {
            let mut genome = carry.default_genome();
            genome[persist_idx] = persist;
            let out = sig(carry, &d, &genome);
            for (i, &t) in d.bars.timestamp_ms.iter().enumerate() {
                let known = f.time_ms.partition_point(|&e| e <= t);
                if known < persist as usize {
                    assert_eq!(out[i], 0.0, "bar {i} with {known} known events on {}", d.source);
                }
            }
        }
        let none_yet = d.slice(0..1);
        assert_eq!(sig(carry, &none_yet, &carry.default_genome()), vec![0.0]);
    }
}

/// Property 4b: out-of-range genes are clamped with a report, integer genes rounded, and the
/// signal of a raw out-of-range genome equals that of its clamped version.
#[test]
fn out_of_range_genes_are_clamped_and_reported() {
    let d = &samples()[1];
    for s in all_seeds() {
        let specs = s.genes();
        let mut raw: Vec<f64> = specs.iter().map(|g| g.max + (g.max - g.min) + 1.0).collect();
        raw[0] = specs[0].min - 10.0;
        let mut clamped = raw.clone();
        let clamps = clamp_genome(specs, &mut clamped);
        assert_eq!(
            clamps.len(),
            specs.len(),
            "{}: every gene out of range must be reported",
            s.name()
        );
        assert_eq!(clamped[0], specs[0].min, "{}", s.name());
        for (g, v) in specs.iter().zip(&clamped).skip(1) {
            assert_eq!(*v, g.max, "{}: {}", s.name(), g.name);
        }
        let d = if is_ml(s) { d.slice(0..800) } else { d.clone() };
        assert!(
            same_bits(&sig(s, &d, &raw), &sig(s, &d, &clamped)),
            "{}: raw genome not clamped inside signal",
            s.name()
        );

        let mut rounded: Vec<f64> = s.default_genome();
        for (g, v) in specs.iter().zip(rounded.iter_mut()) {
            if g.integer {
                *v += 0.3;
            }
        }
        let mut norm = rounded.clone();
        assert!(
            clamp_genome(specs, &mut norm).is_empty(),
            "{}: rounding alone is not a clamp",
            s.name()
        );
        assert_eq!(norm, s.default_genome(), "{}: integer genes are rounded", s.name());
    }
}

/// Property 5: with default genes every seed trades at least once on the hourly sample.
#[test]
fn default_genome_trades_on_hourly_sample() {
    let d = &samples()[0];
    for s in all_seeds() {
        let out = sig(s, d, &s.default_genome());
        let entries = count_entries(&out);
        let bars_in_market = out.iter().filter(|&&v| v != 0.0).count();
        eprintln!(
            "{:<24} entries {entries:>5}  bars in market {bars_in_market:>5}",
            s.name()
        );
        assert!(
            entries >= 1,
            "{} never trades on {} with default genes",
            s.name(),
            d.source
        );
    }
}

/// The carry seed refuses to run without funding data, and says so.
#[test]
fn carry_requires_funding() {
    let carry = evoflow::seeds::seed("funding_rate_carry").expect("registered");
    assert!(carry.needs_funding());
    let d = load_sample("eurusd-1h").unwrap();
    match carry.signal(&d, &carry.default_genome()) {
        Err(e @ StrategyError::MissingFunding { .. }) => assert!(e.to_string().contains("funding"), "{e}"),
        other => panic!("expected MissingFunding, got {other:?}"),
    }
    for s in all_seeds() {
        assert_eq!(s.needs_funding(), s.name() == "funding_rate_carry", "{}", s.name());
    }
}

/// Funding events are used only once their time is at or before the bar's timestamp.
#[test]
fn carry_uses_funding_only_once_known() {
    let carry = evoflow::seeds::seed("funding_rate_carry").expect("registered");
    let mut d = samples().remove(0);
    let base = sig(carry, &d, &carry.default_genome());
    // Changing every event after bar 3000's timestamp must leave bars 0..=3000 unchanged.
    let t = d.bars.timestamp_ms[3000];
    let f = d.funding.as_mut().unwrap();
    for (time, rate) in f.time_ms.iter().zip(f.rate.iter_mut()) {
        if *time > t {
            *rate = -*rate * 5.0;
        }
    }
    let changed = sig(carry, &d, &carry.default_genome());
    assert!(
        same_bits(&base[..=3000], &changed[..=3000]),
        "future funding leaked into the past"
    );
    assert!(
        !same_bits(&base, &changed),
        "the later funding change should matter after bar 3000"
    );
}

/// The declared warm-up (`Strategy::warmup`, backtesting.py's first bar at which every
/// indicator is defined): the signal is 0 on every bar before it, for genomes across the
/// gene ranges, and the warm-up is below the number of bars on these samples.
#[test]
fn flat_before_the_declared_warm_up() {
    for s in all_seeds() {
        for d in samples() {
            let specs = s.genes();
            let mut genomes = vec![
                s.default_genome(),
                specs.iter().map(|g| g.min).collect(),
                specs.iter().map(|g| g.max).collect(),
            ];
            if !is_ml(s) {
                for k in 1..8 {
                    genomes.push(
                        specs
                            .iter()
                            .enumerate()
                            .map(|(j, g)| trial_values(g.min, g.max, g.integer)[(k + j) % 8 + 1])
                            .collect(),
                    );
                }
            }
            for genome in genomes {
                let out = sig(s, &d, &genome);
                let w = s.warmup(&d, &genome);
                assert!(
                    w > 0 && w < out.len(),
                    "{}: warm-up {w} on {} bars",
                    s.name(),
                    out.len()
                );
                if let Some(i) = out[..w].iter().position(|&v| v != 0.0) {
                    panic!(
                        "{}: {} at bar {i}, before its warm-up {w} on {} ({genome:?})",
                        s.name(),
                        out[i],
                        d.source
                    );
                }
            }
        }
    }
}
