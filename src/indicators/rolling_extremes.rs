//! Rolling highest-high / lowest-low over a window that includes the current bar (monotonic deques).

/// Calls `visit(i, highest, lowest)` for every bar `i >= period - 1`, where `highest` is the
/// maximum of `high[i + 1 - period ..= i]` and `lowest` the minimum of `low[i + 1 - period ..= i]`.
/// O(n): two monotonic deques (ring buffers of indices, the only allocation) in which every bar
/// is pushed and popped at most once. `period` must be at least 1 and the slices of equal length.
pub(crate) fn rolling_extremes(high: &[f64], low: &[f64], period: usize, mut visit: impl FnMut(usize, f64, f64)) {
    let n = high.len().min(low.len());
    if period == 0 || n < period {
        return;
    }
    // After a push a deque holds indices of bars i - period ..= i at most: period + 1 slots.
    let cap = (period + 1).next_power_of_two();
    let mask = cap - 1;
    let mut maxq = vec![0usize; cap];
    let mut minq = vec![0usize; cap];
    // Deque = slots head..tail (counters only grow or shrink by one; used modulo cap).
    let (mut max_head, mut max_tail, mut min_head, mut min_tail) = (0usize, 0usize, 0usize, 0usize);
    for i in 0..n {
        let (h, l) = (high[i], low[i]);
        while max_tail != max_head && high[maxq[(max_tail - 1) & mask]] <= h {
            max_tail -= 1;
        }
        maxq[max_tail & mask] = i;
        max_tail += 1;
        while min_tail != min_head && low[minq[(min_tail - 1) & mask]] >= l {
            min_tail -= 1;
        }
        minq[min_tail & mask] = i;
        min_tail += 1;
        if i + 1 >= period {
            // The window moves one bar at a time, so at most one index leaves each deque.
            let oldest = i + 1 - period;
            if maxq[max_head & mask] < oldest {
                max_head += 1;
            }
            if minq[min_head & mask] < oldest {
                min_head += 1;
            }
            visit(i, high[maxq[max_head & mask]], low[minq[min_head & mask]]);
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

    #[test]
    fn monotone_and_flat_series() {
        let up: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let down: Vec<f64> = up.iter().rev().cloned().collect();
        let flat = vec![1.0; 100];
        for (high, low) in [(&up, &down), (&down, &up), (&flat, &flat), (&up, &up), (&down, &down)] {
            for period in [1, 2, 5, 64, 100] {
                rolling_extremes(high, low, period, |i, hh, ll| {
                    let w = i + 1 - period..i + 1;
                    assert_eq!(hh, high[w.clone()].iter().cloned().fold(f64::MIN, f64::max));
                    assert_eq!(ll, low[w].iter().cloned().fold(f64::MAX, f64::min));
                });
            }
        }
    }
}
