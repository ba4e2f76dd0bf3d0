//! backtesting.py's time conventions: data period, annualisation days, resampling periods, duration rounding.

use chrono::{DateTime, Datelike};

const MS_PER_DAY: i64 = 86_400_000;
const NS_PER_MS: i64 = 1_000_000;
const NS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// How equity is resampled for "daily" returns (pandas `resample(freq).last()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resample {
    /// `'D'`: calendar days (UTC).
    Day,
    /// `'W'` (= `W-SUN`): calendar weeks Monday..Sunday.
    Week,
    /// `'ME'`: calendar months.
    Month,
    /// `'YE'`: calendar years.
    Year,
}

/// The calendar facts backtesting.py derives from the bar index.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    /// `annual_trading_days`: 52 for weekly data, 12 monthly, 1 yearly, otherwise 365 when
    /// weekends hold more than 60 % of their 2/7 share of the bars, else 252.
    pub annual_trading_days: f64,
    /// The unit durations are rounded up to: the resolution of `_data_period(index)` (its
    /// finest non-zero component: a day, an hour, a minute, a second, ...), in nanoseconds.
    pub round_unit_ns: i64,
    /// `group_end[i]`: bar i is the last bar of its resampling period.
    pub group_end: Vec<bool>,
}

/// `_data_period(index)`: the median difference between the last 100 timestamps, in ns.
/// Returns 0 for fewer than two bars.
pub(crate) fn data_period_ns(ts_ms: &[i64]) -> i64 {
    let tail = &ts_ms[ts_ms.len().saturating_sub(100)..];
    let mut diffs: Vec<i64> = tail.windows(2).map(|w| (w[1] - w[0]) * NS_PER_MS).collect();
    if diffs.is_empty() {
        return 0;
    }
    diffs.sort_unstable();
    let m = diffs.len();
    if m % 2 == 1 {
        diffs[m / 2]
    } else {
        // pandas' median of an even count: the mean of the two middle values (ns; these are
        // whole milliseconds, so the halving is exact).
        (diffs[m / 2 - 1] + diffs[m / 2]) / 2
    }
}

/// `pd.Timedelta.resolution_string` as a unit in ns: the finest non-zero component.
pub(crate) fn resolution_unit_ns(period_ns: i64) -> i64 {
    const US: i64 = 1_000;
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    const MIN: i64 = 60 * S;
    const HOUR: i64 = 60 * MIN;
    let p = period_ns;
    if p % US != 0 {
        1
    } else if p % MS != 0 {
        US
    } else if p % S != 0 {
        MS
    } else if p % MIN != 0 {
        S
    } else if p % HOUR != 0 {
        MIN
    } else if p % NS_PER_DAY != 0 {
        HOUR
    } else {
        NS_PER_DAY
    }
}

/// `Timedelta.ceil(resolution)` for a non-negative duration in ns.
pub(crate) fn ceil_to_unit(ns: i64, unit: i64) -> i64 {
    let r = ns.rem_euclid(unit);
    if r == 0 {
        ns
    } else {
        ns - r + unit
    }
}

/// Day number since 1970-01-01 (UTC) of a millisecond timestamp.
fn day_number(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_DAY)
}

/// Day of week, Monday = 0 .. Sunday = 6 (pandas `dayofweek`); 1970-01-01 was a Thursday.
fn day_of_week(ms: i64) -> i64 {
    (day_number(ms) + 3).rem_euclid(7)
}

/// The resampling period a timestamp falls in, as a comparable key.
fn period_key(ms: i64, resample: Resample) -> i64 {
    match resample {
        Resample::Day => day_number(ms),
        Resample::Week => (day_number(ms) + 3).div_euclid(7),
        Resample::Month | Resample::Year => {
            let dt = DateTime::from_timestamp_millis(ms).unwrap_or_default();
            if resample == Resample::Month {
                dt.year() as i64 * 12 + dt.month0() as i64
            } else {
                dt.year() as i64
            }
        }
    }
}

impl Calendar {
    /// Derives the calendar of a (non-empty, increasing) timestamp column.
    pub fn new(ts_ms: &[i64]) -> Calendar {
        let period_ns = data_period_ns(ts_ms);
        // `_data_period(index).days`: whole days of the median period.
        let freq_days = period_ns.div_euclid(NS_PER_DAY);
        let weekend_bars = ts_ms.iter().filter(|&&t| day_of_week(t) >= 5).count();
        // `index.dayofweek.to_series().between(5, 6).mean() > 2 / 7 * .6`
        let have_weekends = !ts_ms.is_empty() && (weekend_bars as f64 / ts_ms.len() as f64) > 2.0 / 7.0 * 0.6;
        let (annual_trading_days, resample) = match freq_days {
            7 => (52.0, Resample::Week),
            31 => (12.0, Resample::Month),
            365 => (1.0, Resample::Year),
            _ => (if have_weekends { 365.0 } else { 252.0 }, Resample::Day),
        };
        let n = ts_ms.len();
        let group_end = (0..n)
            .map(|i| i + 1 == n || period_key(ts_ms[i], resample) != period_key(ts_ms[i + 1], resample))
            .collect();
        Calendar {
            annual_trading_days,
            round_unit_ns: resolution_unit_ns(period_ns),
            group_end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn resolution_is_the_finest_nonzero_component() {
        assert_eq!(resolution_unit_ns(NS_PER_DAY), NS_PER_DAY);
        assert_eq!(resolution_unit_ns(3 * NS_PER_DAY), NS_PER_DAY);
        assert_eq!(resolution_unit_ns(0), NS_PER_DAY);
        assert_eq!(resolution_unit_ns(H * NS_PER_MS), 3_600_000_000_000);
        assert_eq!(resolution_unit_ns(NS_PER_DAY + H * NS_PER_MS), 3_600_000_000_000);
        assert_eq!(resolution_unit_ns(15 * 60_000_000_000), 60_000_000_000);
        assert_eq!(resolution_unit_ns(90 * 1_000_000_000), 1_000_000_000);
        assert_eq!(resolution_unit_ns(1_500_000), 1_000);
        assert_eq!(resolution_unit_ns(1_000_000), 1_000_000);
        assert_eq!(resolution_unit_ns(7), 1);
    }

    #[test]
    fn ceil_rounds_up_to_the_unit() {
        assert_eq!(ceil_to_unit(0, 10), 0);
        assert_eq!(ceil_to_unit(10, 10), 10);
        assert_eq!(ceil_to_unit(11, 10), 20);
    }

    #[test]
    fn hourly_bars_group_by_day_and_weekly_bars_by_week() {
        // 2024-01-01 was a Monday.
        let monday = 1_704_067_200_000;
        let ts: Vec<i64> = (0..30).map(|k| monday + k * H).collect();
        let cal = Calendar::new(&ts);
        assert_eq!(cal.annual_trading_days, 252.0);
        let ends: Vec<usize> = cal
            .group_end
            .iter()
            .enumerate()
            .filter(|(_, &e)| e)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(ends, vec![23, 29]);
        assert_eq!(cal.round_unit_ns, 3_600_000_000_000);

        let ts: Vec<i64> = (0..10).map(|k| monday + k * 7 * MS_PER_DAY).collect();
        let cal = Calendar::new(&ts);
        assert_eq!(cal.annual_trading_days, 52.0);
        assert!(cal.group_end.iter().all(|&e| e));
    }

    #[test]
    fn every_day_data_is_365_days() {
        let ts: Vec<i64> = (0..60).map(|k| k * MS_PER_DAY).collect();
        assert_eq!(Calendar::new(&ts).annual_trading_days, 365.0);
        assert_eq!(day_of_week(0), 3);
    }
}
