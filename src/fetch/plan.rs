//! The incremental planner: which time ranges storage still lacks, and which gaps the stored series has.

/// An inclusive range of UTC milliseconds to ask the API for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The ranges of `[since, until]` outside the stored span `stored` (first and last stored
/// time within `[since, until]`). `step_ms` is the least time between two entries (an
/// interval for candles, a little under the funding period for funding): the part before
/// the first stored time is asked for only when an entry could fit there (`first - since
/// >= step`), and the part after the last from `last + step` on. Holes inside the stored
/// span are not asked for again: the fetch writes in time order, so they are gaps of the
/// exchange's data, which [`find_gaps`] reports.
pub fn missing_ranges(since_ms: i64, until_ms: i64, stored: Option<(i64, i64)>, step_ms: i64) -> Vec<Range> {
    if since_ms > until_ms {
        return Vec::new();
    }
    let Some((first, last)) = stored else {
        return vec![Range {
            start_ms: since_ms,
            end_ms: until_ms,
        }];
    };
    let mut out = Vec::new();
    if first.saturating_sub(since_ms) >= step_ms {
        out.push(Range {
            start_ms: since_ms,
            end_ms: first - 1,
        });
    }
    let next = last.saturating_add(step_ms);
    if next <= until_ms {
        out.push(Range {
            start_ms: next,
            end_ms: until_ms,
        });
    }
    out
}

/// A hole in a stored candle series: no candle opened strictly between `after_ms` and
/// `before_ms`, `missing` candles' worth of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub after_ms: i64,
    pub before_ms: i64,
    pub missing: i64,
}

/// The gaps of sorted candle open times: consecutive times further apart than `interval_ms`
/// (for `1M`, whose months differ in length, further apart than 31 days).
pub fn find_gaps(times_ms: &[i64], interval_ms: i64) -> Vec<Gap> {
    let month = 28 * 86_400_000;
    let (limit, unit) = if interval_ms == month {
        (31 * 86_400_000, 30 * 86_400_000)
    } else {
        (interval_ms, interval_ms)
    };
    times_ms
        .windows(2)
        .filter(|w| w[1] - w[0] > limit)
        .map(|w| Gap {
            after_ms: w[0],
            before_ms: w[1],
            missing: ((w[1] - w[0]) / unit - 1).max(1),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn plans_only_what_is_missing() {
        assert_eq!(
            missing_ranges(0, 10 * H, None, H),
            vec![Range {
                start_ms: 0,
                end_ms: 10 * H
            }]
        );
        assert_eq!(
            missing_ranges(0, 10 * H, Some((2 * H, 5 * H)), H),
            vec![
                Range {
                    start_ms: 0,
                    end_ms: 2 * H - 1
                },
                Range {
                    start_ms: 6 * H,
                    end_ms: 10 * H
                }
            ]
        );
        assert!(missing_ranges(0, 10 * H + 5, Some((0, 10 * H)), H).is_empty());
        // Nothing can open between `since` and the first stored entry less than a step later.
        assert!(missing_ranges(5, 10 * H, Some((H, 10 * H)), H).is_empty());
        assert_eq!(
            missing_ranges(0, 10 * H, Some((H, 10 * H)), H),
            vec![Range {
                start_ms: 0,
                end_ms: H - 1
            }]
        );
        assert!(missing_ranges(5, 4, None, H).is_empty());
    }

    #[test]
    fn gaps_are_found() {
        let t = [0, H, 2 * H, 6 * H, 7 * H, 9 * H];
        assert_eq!(
            find_gaps(&t, H),
            vec![
                Gap {
                    after_ms: 2 * H,
                    before_ms: 6 * H,
                    missing: 3
                },
                Gap {
                    after_ms: 7 * H,
                    before_ms: 9 * H,
                    missing: 1
                }
            ]
        );
        assert!(find_gaps(&[0, H], H).is_empty());
    }
}
