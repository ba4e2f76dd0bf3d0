//! Ichimoku cloud without chikou: tenkan, kijun and the causal (displayed) senkou spans.

use super::rolling_extremes::rolling_extremes;
use super::{check_lengths, check_period, IndicatorError};

/// Tenkan-sen, kijun-sen and the two senkou spans as displayed at each bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Ichimoku {
    pub tenkan: Vec<f64>,
    pub kijun: Vec<f64>,
    pub senkou_a: Vec<f64>,
    pub senkou_b: Vec<f64>,
}

/// `tenkan[i] = (HH + LL) / 2` over the last `tenkan` bars, `kijun[i]` likewise over `kijun`
/// bars (current bar included; look-backs `tenkan - 1` and `kijun - 1`).
/// The spans are the cloud *displayed* at bar `i`, i.e. computed `kijun` bars earlier:
/// `senkou_a[i] = (tenkan[i - kijun] + kijun[i - kijun]) / 2` and
/// `senkou_b[i] = (HH + LL) / 2` over the `senkou_b` bars ending at `i - kijun`
/// (look-backs `max(tenkan, kijun) - 1 + kijun` and `senkou_b - 1 + kijun`). Nothing reads a
/// bar after `i`; the chikou span (which needs future closes) is deliberately absent.
/// Every period must be at least 1.
pub fn ichimoku(
    high: &[f64],
    low: &[f64],
    tenkan: usize,
    kijun: usize,
    senkou_b: usize,
) -> Result<Ichimoku, IndicatorError> {
    check_period("ichimoku", "tenkan", tenkan, 1)?;
    check_period("ichimoku", "kijun", kijun, 1)?;
    check_period("ichimoku", "senkou_b", senkou_b, 1)?;
    check_lengths("ichimoku", &[("high", high.len()), ("low", low.len())])?;
    let n = high.len();
    let mut out = Ichimoku {
        tenkan: vec![f64::NAN; n],
        kijun: vec![f64::NAN; n],
        senkou_a: vec![f64::NAN; n],
        senkou_b: vec![f64::NAN; n],
    };
    rolling_extremes(high, low, tenkan, |i, hh, ll| out.tenkan[i] = (hh + ll) / 2.0);
    rolling_extremes(high, low, kijun, |i, hh, ll| out.kijun[i] = (hh + ll) / 2.0);
    let shift = kijun;
    let senkou_b_out = &mut out.senkou_b;
    rolling_extremes(high, low, senkou_b, |i, hh, ll| {
        if let Some(slot) = i.checked_add(shift).and_then(|j| senkou_b_out.get_mut(j)) {
            *slot = (hh + ll) / 2.0;
        }
    });
    for i in shift..n {
        let (t, k) = (out.tenkan[i - shift], out.kijun[i - shift]);
        if !t.is_nan() && !k.is_nan() {
            out.senkou_a[i] = (t + k) / 2.0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let high = [10.0, 12.0, 11.0, 13.0, 9.0, 10.0];
        let low = [8.0, 9.0, 7.0, 10.0, 6.0, 8.0];
        let ic = ichimoku(&high, &low, 2, 3, 4).unwrap();
        assert!(ic.tenkan[0].is_nan());
        assert_eq!(ic.tenkan[1], (12.0 + 8.0) / 2.0);
        assert_eq!(ic.tenkan[4], (13.0 + 6.0) / 2.0);
        assert!(ic.kijun[1].is_nan());
        assert_eq!(ic.kijun[2], (12.0 + 7.0) / 2.0);
        assert_eq!(ic.kijun[5], (13.0 + 6.0) / 2.0);
        // senkou_a at bar 5 is from bar 2: tenkan (12+7)/2 = 9.5, kijun 9.5
        assert!(ic.senkou_a[..5].iter().all(|v| v.is_nan()));
        assert_eq!(ic.senkou_a[5], 9.5);
        // senkou_b needs bar 3 (4-bar window) displayed 3 bars later: bar 6 does not exist
        assert!(ic.senkou_b.iter().all(|v| v.is_nan()));
        let ic = ichimoku(&high, &low, 2, 2, 3).unwrap();
        // senkou_b at bar 4: 3-bar midpoint as of bar 2 = (12 + 7) / 2; at 5: as of bar 3 = (13+7)/2
        assert!(ic.senkou_b[3].is_nan());
        assert_eq!(ic.senkou_b[4], 9.5);
        assert_eq!(ic.senkou_b[5], 10.0);
        assert!(ichimoku(&high, &low, 0, 2, 3).is_err());
    }

    #[test]
    fn truncation_does_not_change_past_values() {
        let high: Vec<f64> = (0..400)
            .map(|i| 50.0 + ((i * 23 % 41) as f64) * 0.5 + (i / 10) as f64)
            .collect();
        let low: Vec<f64> = high.iter().enumerate().map(|(i, h)| h - 0.5 - (i % 4) as f64).collect();
        let full = ichimoku(&high, &low, 9, 26, 52).unwrap();
        assert!(!full.senkou_b[77].is_nan() && full.senkou_b[76].is_nan());
        assert!(!full.senkou_a[51].is_nan() && full.senkou_a[50].is_nan());
        for cut in [1, 30, 78, 200, 399] {
            let part = ichimoku(&high[..cut], &low[..cut], 9, 26, 52).unwrap();
            for (a, b) in [
                (&part.tenkan, &full.tenkan),
                (&part.kijun, &full.kijun),
                (&part.senkou_a, &full.senkou_a),
                (&part.senkou_b, &full.senkou_b),
            ] {
                assert!(
                    a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "cut {cut}"
                );
            }
        }
    }
}
