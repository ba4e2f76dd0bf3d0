//! The run plan: the flags that shape a run's result, stored with the run and restored on resume.

use crate::evolution::EvolveSettings;

/// Flags that may differ on resume: the stopping rule, to extend a run.
pub const STOPPING_FLAGS: [&str; 2] = ["--generations", "--patience"];

/// Why a resume request does not fit the stored plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A plan flag was given on resume with another value than the stored run's.
    #[error("{flag} {given} differs from the stored run's {flag} {stored}: a resumed run keeps its plan (only --generations and --patience may be given)")]
    Differs {
        flag: &'static str,
        given: String,
        stored: String,
    },
}

/// The one table of plan flags: every flag that shapes the result, with its value in `s`
/// rendered as the user would type it. The data flags are checked by the market fingerprint.
pub fn plan_values(s: &EvolveSettings) -> Vec<(&'static str, String)> {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "(none)".to_string());
    vec![
        (
            "--seeds",
            if s.seeds.is_empty() {
                "all".to_string()
            } else {
                s.seeds.join(",")
            },
        ),
        ("--population", s.ga.population.to_string()),
        ("--generations", s.ga.generations.to_string()),
        ("--patience", opt(s.ga.patience.map(|p| p.to_string()))),
        ("--seed", s.ga.seed.to_string()),
        ("--objective", s.objective.as_str().to_string()),
        ("--min-trades", s.constraints.min_trades.to_string()),
        (
            "--max-drawdown",
            opt(s.constraints.max_drawdown_pct.map(|d| d.to_string())),
        ),
        ("--test-fraction", s.test_fraction.to_string()),
        ("--hall-of-fame", s.ga.hall_of_fame.to_string()),
        ("--elitism", s.ga.elitism.to_string()),
        ("--tournament-size", s.ga.tournament_size.to_string()),
        ("--commission", s.backtest.commission.to_string()),
        ("--slippage-bps", s.backtest.slippage_bps.to_string()),
        ("--cash", s.backtest.cash.to_string()),
        ("--validation", s.validation.mode.to_string()),
        ("--pbo", s.validation.pbo_blocks.to_string()),
        ("--min-test-trades", s.validation.min_test_trades.to_string()),
    ]
}

/// The long flags present in a command line (`--name` or `--name=value`), up to a bare `--`.
pub fn given_flags<I: IntoIterator<Item = String>>(args: I) -> Vec<String> {
    args.into_iter()
        .take_while(|a| a != "--")
        .filter(|a| a.starts_with("--"))
        .map(|a| a.split('=').next().unwrap_or_default().to_string())
        .collect()
}

/// What a resume asks for: the settings built from this command's flags and which flags it
/// actually gave (the others hold their defaults and are not compared).
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub settings: EvolveSettings,
    pub given: Vec<String>,
}

impl RunRequest {
    fn gave(&self, flag: &str) -> bool {
        self.given.iter().any(|g| g == flag)
    }

    /// The plan to resume: `stored`, with the stopping rule of this request where it gave one.
    /// A given plan flag with another value than the stored one is an error naming it.
    pub fn resume_plan(&self, stored: &EvolveSettings) -> Result<EvolveSettings, PlanError> {
        let wanted = plan_values(&self.settings);
        for ((flag, was), (_, now)) in plan_values(stored).into_iter().zip(wanted) {
            if STOPPING_FLAGS.contains(&flag) || !self.gave(flag) {
                continue;
            }
            if was != now {
                return Err(PlanError::Differs {
                    flag,
                    given: now,
                    stored: was,
                });
            }
        }
        let mut plan = stored.clone();
        if self.gave("--generations") {
            plan.ga.generations = self.settings.ga.generations;
        }
        if self.gave("--patience") {
            plan.ga.patience = self.settings.ga.patience;
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EvolveSettings {
        EvolveSettings {
            ga: evoflow_dataflows::GaConfig {
                population: 40,
                generations: 10,
                ..evoflow_dataflows::GaConfig::default()
            },
            objective: crate::evolution::Objective::Sharpe,
            constraints: crate::evolution::Constraints {
                min_trades: 10,
                max_drawdown_pct: None,
            },
            test_fraction: 0.3,
            backtest: crate::backtest::BacktestConfig::default(),
            seeds: Vec::new(),
            data: "sample:x".into(),
            validation: crate::validation::ValidationSettings::default(),
        }
    }

    #[test]
    fn a_plain_resume_keeps_the_stored_generations() {
        let stored = settings();
        let mut now = settings();
        now.ga.generations = 25;
        now.ga.population = 96;
        let req = RunRequest {
            settings: now,
            given: vec!["--resume".into()],
        };
        assert_eq!(req.resume_plan(&stored).unwrap(), stored);
    }

    #[test]
    fn generations_may_extend_but_population_may_not_differ() {
        let stored = settings();
        let mut now = settings();
        now.ga.generations = 30;
        let req = RunRequest {
            settings: now.clone(),
            given: vec!["--generations".into()],
        };
        assert_eq!(req.resume_plan(&stored).unwrap().ga.generations, 30);
        now.ga.population = 50;
        let req = RunRequest {
            settings: now,
            given: vec!["--population".into()],
        };
        let err = req.resume_plan(&stored).unwrap_err().to_string();
        assert!(
            err.contains("--population 50") && err.contains("--population 40"),
            "{err}"
        );
    }

    #[test]
    fn the_validation_mode_is_part_of_the_plan() {
        let stored = settings();
        let mut now = settings();
        now.validation.mode = "walk-forward:3".parse().unwrap();
        let req = RunRequest {
            settings: now,
            given: vec!["--validation".into()],
        };
        let err = req.resume_plan(&stored).unwrap_err().to_string();
        assert!(
            err.contains("--validation walk-forward:3") && err.contains("--validation holdout"),
            "{err}"
        );
        let json = serde_json::to_string(&stored).unwrap();
        let before = json.replace(
            r#","validation":{"mode":"holdout","pbo_blocks":16,"min_test_trades":10}"#,
            "",
        );
        assert_ne!(before, json, "the stored form names the validation settings");
        let old: EvolveSettings = serde_json::from_str(&before).unwrap();
        assert_eq!(old, stored, "a plan stored before validation settings reads as holdout");
    }

    #[test]
    fn given_flags_reads_both_spellings() {
        let args = ["evolve", "--population=5", "--seed", "3", "-w", "2", "--", "--cash"];
        assert_eq!(
            given_flags(args.iter().map(|s| s.to_string())),
            vec!["--population", "--seed"]
        );
    }
}
