//! Rolling highest-high / lowest-low over a window that includes the current bar (monotonic deques).

use std::collections::VecDeque;

/// Calls `visit(i, highest, lowest)` for every bar `i >= period - 1`, where `highest` is the
/// maximum of `high[i + 1 - period ..= i]` and `lowest` the minimum of `low[i + 1 - period ..= i]`.
/// O(n) amortised with two monotonic deques of at most `period` indices each (the only
/// allocation). `period` must be at least 1 and the slices of equal length.
pub(crate) fn rolling_extremes(high: &[f64], low: &[f64], period: usize, mut visit: impl FnMut(usize, f64, f64)) {
    let n = high.len().min(low.len());
    if period == 0 || n < period {
        return;
    }
    let mut maxq: VecDeque<usize> = VecDeque::with_capacity(period + 1);
    let mut minq: VecDeque<usize> = VecDeque::with_capacity(period + 1);
    for i in 0..n {
        while maxq.back().is_some_and(|&j| high[j] <= high[i]) {
            maxq.pop_back();
        }
        maxq.push_back(i);
        while minq.back().is_some_and(|&j| low[j] >= low[i]) {
            minq.pop_back();
        }
        minq.push_back(i);
        if i + 1 >= period {
            let oldest = i + 1 - period;
            while maxq.front().is_some_and(|&j| j < oldest) {
                maxq.pop_front();
            }
            while minq.front().is_some_and(|&j| j < oldest) {
                minq.pop_front();
            }
            if let (Some(&hi), Some(&lo)) = (maxq.front(), minq.front()) {
                visit(i, high[hi], low[lo]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_scan() {
        let high: Vec<f64> = (0..200)
            .map(|i| ((i * 37 % 101) as f64).sin() * 10.0 + (i % 7) as f64)
            .collect();
        let low: Vec<f64> = high.iter().map(|h| h - 1.5).collect();
        for period in [1, 2, 3, 7, 20, 200] {
            let mut seen = 0;
            rolling_extremes(&high, &low, period, |i, hh, ll| {
                let w = i + 1 - period..i + 1;
                let want_h = high[w.clone()].iter().cloned().fold(f64::MIN, f64::max);
                let want_l = low[w].iter().cloned().fold(f64::MAX, f64::min);
                assert_eq!((hh, ll), (want_h, want_l), "period {period} bar {i}");
                seen += 1;
            });
            assert_eq!(seen, 200 + 1 - period);
        }
    }
}
