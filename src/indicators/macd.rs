//! Moving average convergence/divergence (TA-Lib `MACD`): fast EMA minus slow EMA, with a signal EMA.

use super::ema::ema_with_k;
use super::{check_period, IndicatorError};

/// MACD line, signal line and histogram, one value per bar each.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    pub macd: Vec<f64>,
    pub signal: Vec<f64>,
    pub hist: Vec<f64>,
}

/// `macd = EMA(close, fast) - EMA(close, slow)`, `signal = EMA(macd, signal)`,
/// `hist = macd - signal`, every EMA with `k = 2 / (n + 1)`.
///
/// Seeding (TA-Lib's shared seed index): both EMAs start at bar `slow - 1`; the slow EMA is
/// seeded with the mean of bars `0..slow`, the fast EMA with the mean of the `fast` bars ending
/// at `slow - 1` (not at `fast - 1`). The signal EMA is seeded with the mean of the first
/// `signal` MACD values. All three outputs start at TA-Lib's look-back
/// `(slow - 1) + (signal - 1)`. As in TA-Lib, `fast` and `slow` are swapped when `slow < fast`.
/// `fast` and `slow` must be at least 2, `signal` at least 1 (with `signal == 1` the signal
/// equals the MACD line and the histogram is 0; TA-Lib 0.6.4 misaligns that case by two bars,
/// a TA-Lib bug this function does not copy).
pub fn macd(close: &[f64], fast: usize, slow: usize, signal: usize) -> Result<Macd, IndicatorError> {
    check_period("macd", "fastperiod", fast, 2)?;
    check_period("macd", "slowperiod", slow, 2)?;
    check_period("macd", "signalperiod", signal, 1)?;
    let (fast, slow) = if slow < fast { (slow, fast) } else { (fast, slow) };
    let n = close.len();
    let lookback = (slow - 1).saturating_add(signal - 1);
    let mut line = vec![f64::NAN; n];
    let mut sig = vec![f64::NAN; n];
    let mut hist = vec![f64::NAN; n];
    if n <= lookback {
        return Ok(Macd {
            macd: line,
            signal: sig,
            hist,
        });
    }
    let start = slow - 1;
    let k_slow = 2.0 / (slow as f64 + 1.0);
    let k_fast = 2.0 / (fast as f64 + 1.0);
    let mut slow_ema = close[..slow].iter().sum::<f64>() / slow as f64;
    let mut fast_ema = close[slow - fast..slow].iter().sum::<f64>() / fast as f64;
    line[start] = fast_ema - slow_ema;
    for i in slow..n {
        slow_ema = (close[i] - slow_ema) * k_slow + slow_ema;
        fast_ema = (close[i] - fast_ema) * k_fast + fast_ema;
        line[i] = fast_ema - slow_ema;
    }
    let signal_ema = ema_with_k(&line[start..], signal, 2.0 / (signal as f64 + 1.0));
    sig[start..].copy_from_slice(&signal_ema);
    for i in lookback..n {
        hist[i] = line[i] - sig[i];
    }
    for v in line[..lookback].iter_mut() {
        *v = f64::NAN;
    }
    Ok(Macd {
        macd: line,
        signal: sig,
        hist,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_seed_index() {
        let close = [1.0, 2.0, 4.0, 8.0, 16.0];
        let m = macd(&close, 2, 3, 2).unwrap();
        // slow seed at bar 2: 7/3; fast seed at bar 2: (2+4)/2 = 3
        let line2 = 3.0 - 7.0 / 3.0;
        let (slow3, fast3) = ((8.0 - 7.0 / 3.0) * 0.5 + 7.0 / 3.0, (8.0 - 3.0) * (2.0 / 3.0) + 3.0);
        let line3 = fast3 - slow3;
        assert!(m.macd[2].is_nan() && m.signal[2].is_nan() && m.hist[2].is_nan());
        assert!((m.macd[3] - line3).abs() < 1e-12);
        assert!((m.signal[3] - (line2 + line3) / 2.0).abs() < 1e-12);
        assert!((m.hist[3] - (line3 - (line2 + line3) / 2.0)).abs() < 1e-12);
        let swapped = macd(&close, 3, 2, 2).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&swapped.macd), bits(&m.macd));
        assert_eq!(bits(&swapped.signal), bits(&m.signal));
        assert!(macd(&close, 1, 3, 2).is_err());
    }
}
