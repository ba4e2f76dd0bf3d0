//! Validation modes (`holdout`, `walk-forward:K`) and their folds: each a training window followed by its held-out window.
//!
//! * `holdout` (the default) is one fold over all bars: the first `1 - test_fraction` of them
//!   train, the last `test_fraction` are held out.
//! * `walk-forward:K` cuts the bars into K consecutive equal folds (the remainder spread one
//!   bar each over the first folds); in each fold the first `1 - test_fraction` of its bars
//!   are its training window and the rest, the window right after it, are held out.
//!   Fitness comes from the training windows only, the reported held-out statistics from the
//!   held-out windows joined, so no held-out bar ever reaches selection.
//!
//! `holdout` is exactly `walk-forward:1`.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::ValidationError;

/// How the bars are split into training and held-out windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ValidationMode {
    /// One training window, then one held-out window at the end.
    #[default]
    Holdout,
    /// `folds` consecutive folds, each a training window followed by a held-out window.
    WalkForward { folds: u32 },
}

impl ValidationMode {
    /// The number of folds (1 for holdout).
    pub fn folds(self) -> u32 {
        match self {
            ValidationMode::Holdout => 1,
            ValidationMode::WalkForward { folds } => folds,
        }
    }
}

impl fmt::Display for ValidationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationMode::Holdout => f.write_str("holdout"),
            ValidationMode::WalkForward { folds } => write!(f, "walk-forward:{folds}"),
        }
    }
}

impl FromStr for ValidationMode {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| ValidationError::InvalidMode {
            given: s.to_string(),
            why: why.to_string(),
        };
        if s == "holdout" {
            return Ok(ValidationMode::Holdout);
        }
        let Some(k) = s.strip_prefix("walk-forward:") else {
            return Err(bad("unknown validation mode"));
        };
        let folds: u32 = k
            .parse()
            .map_err(|_| bad("K (the number of folds) must be a whole number from 1 to 100"))?;
        if !(1..=100).contains(&folds) {
            return Err(bad("K (the number of folds) must be a whole number from 1 to 100"));
        }
        Ok(ValidationMode::WalkForward { folds })
    }
}

impl TryFrom<String> for ValidationMode {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, ValidationError> {
        s.parse()
    }
}

impl From<ValidationMode> for String {
    fn from(m: ValidationMode) -> String {
        m.to_string()
    }
}

/// One fold: its training window and the held-out window right after it (bar index ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    pub train: Range<usize>,
    pub test: Range<usize>,
}

/// The folds of `mode` over `bars` bars with `test_fraction` of each fold held out. Every
/// training window must have at least `min_train` bars; walk-forward needs held-out windows
/// of at least 2 bars (holdout may hold out nothing, `--test-fraction 0`).
pub fn folds(
    bars: usize,
    mode: ValidationMode,
    test_fraction: f64,
    min_train: usize,
) -> Result<Vec<Fold>, ValidationError> {
    let k = mode.folds() as usize;
    let walk_forward = matches!(mode, ValidationMode::WalkForward { .. });
    let mut out = Vec::with_capacity(k);
    let mut start = 0;
    for i in 0..k {
        let len = bars / k + usize::from(i < bars % k);
        let end = start + len;
        let test = (len as f64 * test_fraction).round() as usize;
        let split = end - test.min(len);
        if split - start < min_train {
            return Err(ValidationError::FoldTooSmall {
                mode: mode.to_string(),
                fold: i + 1,
                train: split - start,
                bars,
                min_train,
            });
        }
        if walk_forward && end - split < 2 {
            return Err(ValidationError::NoHeldOut {
                mode: mode.to_string(),
                fold: i + 1,
                test: end - split,
            });
        }
        out.push(Fold {
            train: start..split,
            test: split..end,
        });
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_is_one_fold_split_at_the_test_fraction() {
        let f = folds(1000, ValidationMode::Holdout, 0.3, 100).unwrap();
        assert_eq!(
            f,
            vec![Fold {
                train: 0..700,
                test: 700..1000
            }]
        );
        let none = folds(1000, ValidationMode::Holdout, 0.0, 100).unwrap();
        assert_eq!(
            none,
            vec![Fold {
                train: 0..1000,
                test: 1000..1000
            }]
        );
        assert_eq!(
            folds(1000, ValidationMode::WalkForward { folds: 1 }, 0.3, 100).unwrap(),
            f
        );
    }

    #[test]
    fn walk_forward_folds_are_consecutive_and_cover_every_bar() {
        let f = folds(1001, ValidationMode::WalkForward { folds: 3 }, 0.3, 100).unwrap();
        assert_eq!(
            f,
            vec![
                Fold {
                    train: 0..234,
                    test: 234..334
                },
                Fold {
                    train: 334..568,
                    test: 568..668
                },
                Fold {
                    train: 668..901,
                    test: 901..1001
                },
            ]
        );
        for w in f.windows(2) {
            assert_eq!(w[0].test.end, w[1].train.start);
        }
        assert!(f.iter().all(|x| x.train.end == x.test.start));
    }

    #[test]
    fn too_small_windows_and_bad_modes_are_refused() {
        let e = folds(300, ValidationMode::WalkForward { folds: 3 }, 0.3, 100).unwrap_err();
        assert!(e.to_string().contains("fold 1"), "{e}");
        let e = folds(3000, ValidationMode::WalkForward { folds: 3 }, 0.0, 100).unwrap_err();
        assert!(e.to_string().contains("--test-fraction"), "{e}");
        for bad in [
            "walk-forward:0",
            "walk-forward:x",
            "walk-forward:",
            "kfold",
            "walk-forward:101",
        ] {
            let e = bad.parse::<ValidationMode>().unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("walk-forward:K"), "{e}");
        }
        assert_eq!("walk-forward:4".parse(), Ok(ValidationMode::WalkForward { folds: 4 }));
        let m: ValidationMode = serde_json::from_str("\"walk-forward:2\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"walk-forward:2\"");
    }
}
