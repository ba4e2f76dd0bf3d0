//! Donchian channel: highest high and lowest low of the last `period` bars (current bar included).

use super::rolling_extremes::rolling_extremes;
use super::{check_lengths, check_period, IndicatorError};

/// Upper, middle and lower channel line, one value per bar each.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

/// `upper[i] = max(high[i+1-period..=i])`, `lower[i] = min(low[i+1-period..=i])`,
/// `middle = (upper + lower) / 2`. Look-back: `period - 1` (not a TA-Lib function; same
/// convention as TA-Lib's `MAX`/`MIN`). A breakout rule that compares the close with the
/// channel of the bars *before* it reads index `i - 1`. `period` must be at least 1.
pub fn donchian(high: &[f64], low: &[f64], period: usize) -> Result<Channel, IndicatorError> {
    check_period("donchian", "timeperiod", period, 1)?;
    check_lengths("donchian", &[("high", high.len()), ("low", low.len())])?;
    let n = high.len();
    let mut upper = vec![f64::NAN; n];
    let mut middle = vec![f64::NAN; n];
    let mut lower = vec![f64::NAN; n];
    rolling_extremes(high, low, period, |i, hh, ll| {
        upper[i] = hh;
        lower[i] = ll;
        middle[i] = (hh + ll) / 2.0;
    });
    Ok(Channel { upper, middle, lower })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let high = [5.0, 7.0, 6.0, 4.0, 8.0];
        let low = [3.0, 4.0, 2.0, 3.0, 5.0];
        let c = donchian(&high, &low, 3).unwrap();
        assert!(c.upper[1].is_nan() && c.middle[1].is_nan() && c.lower[1].is_nan());
        assert_eq!((c.upper[2], c.lower[2], c.middle[2]), (7.0, 2.0, 4.5));
        assert_eq!((c.upper[3], c.lower[3], c.middle[3]), (7.0, 2.0, 4.5));
        assert_eq!((c.upper[4], c.lower[4], c.middle[4]), (8.0, 2.0, 5.0));
        assert!(donchian(&high, &low, 0).is_err());
        assert!(donchian(&high, &low[..4], 2).is_err());
    }

    #[test]
    fn truncation_does_not_change_past_values() {
        let high: Vec<f64> = (0..300)
            .map(|i| 100.0 + ((i * 13 % 29) as f64) - (i % 5) as f64)
            .collect();
        let low: Vec<f64> = high.iter().enumerate().map(|(i, h)| h - 1.0 - (i % 3) as f64).collect();
        let full = donchian(&high, &low, 20).unwrap();
        for cut in [1, 19, 20, 21, 150, 299] {
            let part = donchian(&high[..cut], &low[..cut], 20).unwrap();
            for i in 0..cut {
                assert_eq!(part.upper[i].to_bits(), full.upper[i].to_bits());
                assert_eq!(part.lower[i].to_bits(), full.lower[i].to_bits());
                assert_eq!(part.middle[i].to_bits(), full.middle[i].to_bits());
            }
        }
    }
}
