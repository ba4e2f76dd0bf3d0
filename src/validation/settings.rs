//! `ValidationSettings`: the validation part of a run's plan (mode, PBO blocks, minimum held-out trades), stored with the run.

use serde::{Deserialize, Serialize};

use super::error::ValidationError;
use super::guard::DEFAULT_MIN_TEST_TRADES;
use super::pbo::{validate_blocks, DEFAULT_PBO_BLOCKS};
use super::walk_forward::ValidationMode;

/// How a run is validated. Runs stored before these settings existed read as the defaults
/// (holdout, 16 blocks, 10 trades), which is how they were run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ValidationSettings {
    /// `--validation`.
    pub mode: ValidationMode,
    /// `--pbo`: CSCV blocks S.
    pub pbo_blocks: usize,
    /// `--min-test-trades`: entries with fewer held-out trades get a warning.
    pub min_test_trades: u64,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        ValidationSettings {
            mode: ValidationMode::Holdout,
            pbo_blocks: DEFAULT_PBO_BLOCKS,
            min_test_trades: DEFAULT_MIN_TEST_TRADES,
        }
    }
}

impl ValidationSettings {
    /// Checks the block count (the mode is checked when parsed, its folds against the data).
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_blocks(self.pbo_blocks)
    }
}
