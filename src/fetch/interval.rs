//! Hyperliquid candle intervals (`1m` .. `1M`) and their lengths in milliseconds.

use super::FetchError;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The intervals the Hyperliquid info API serves, with their lengths (`1M` counts as its
/// shortest month, 28 days, so that "the next candle opens no earlier than" stays true).
pub const INTERVALS: [(&str, i64); 14] = [
    ("1m", MINUTE),
    ("3m", 3 * MINUTE),
    ("5m", 5 * MINUTE),
    ("15m", 15 * MINUTE),
    ("30m", 30 * MINUTE),
    ("1h", HOUR),
    ("2h", 2 * HOUR),
    ("4h", 4 * HOUR),
    ("8h", 8 * HOUR),
    ("12h", 12 * HOUR),
    ("1d", DAY),
    ("3d", 3 * DAY),
    ("1w", 7 * DAY),
    ("1M", 28 * DAY),
];

/// The length of `interval` in milliseconds, or a usage error listing the valid ones.
pub fn interval_ms(interval: &str) -> Result<i64, FetchError> {
    INTERVALS
        .iter()
        .find(|(name, _)| *name == interval)
        .map(|&(_, ms)| ms)
        .ok_or_else(|| {
            let names: Vec<&str> = INTERVALS.iter().map(|(n, _)| *n).collect();
            FetchError::Usage(format!(
                "--interval {interval}: not a Hyperliquid interval (one of {})",
                names.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_intervals() {
        assert_eq!(interval_ms("1h").unwrap(), 3_600_000);
        assert_eq!(interval_ms("1M").unwrap(), 28 * 86_400_000);
        let e = interval_ms("1H").unwrap_err().to_string();
        assert!(
            e.starts_with("--interval 1H: not a Hyperliquid interval (one of 1m, 3m"),
            "{e}"
        );
    }
}
