//! Engineered features, forward-return labels and walk-forward bookkeeping for the two ML seeds.

use std::cell::RefCell;
use std::rc::Rc;

use super::features::realign;
use crate::indicators::{atr, ema, macd, rsi, sma, stddev, willr, IndicatorError};
use crate::market::MarketData;

/// Number of engineered features.
pub const NUM_FEATURES: usize = 15;

/// Feature names, in column order (`linear_svc_classifier` uses the first `feature_count`).
pub const FEATURE_NAMES: [&str; NUM_FEATURES] = [
    "return_1",
    "return_5",
    "rsi_14",
    "macd_hist_rel",
    "close_over_sma_20",
    "close_over_ema_50",
    "volatility_20",
    "volume_ratio_20",
    "return_1_lag_1",
    "return_1_lag_2",
    "return_10",
    "range_rel",
    "atr_14_rel",
    "return_20",
    "williams_r_14",
];

/// The label horizon: the sign (or value) of the return from bar t's close to bar t+5's close,
/// known only at bar t+5.
pub const HORIZON: usize = 5;

/// One feature row per bar; a row with any NaN (warm-up) is not usable.
pub type Row = [f64; NUM_FEATURES];

/// The feature rows of every bar, each computed from bars 0..=i only.
pub fn feature_rows(data: &MarketData) -> Result<Vec<Row>, IndicatorError> {
    let b = &data.bars;
    let (h, l, c, v) = (&b.high, &b.low, &b.close, &b.volume);
    let n = c.len();
    let ret = |k: usize, i: usize| {
        if i >= k && c[i - k] > 0.0 {
            c[i] / c[i - k] - 1.0
        } else {
            f64::NAN
        }
    };
    let r1: Vec<f64> = (0..n).map(|i| ret(1, i)).collect();
    let rsi14 = rsi(c, 14)?;
    let hist = macd(c, 12, 26, 9)?.hist;
    let sma20 = sma(c, 20)?;
    let ema50 = ema(c, 50)?;
    let vol20 = if n > 1 {
        realign(stddev(&r1[1..], 20)?)
    } else {
        vec![f64::NAN; n]
    };
    let vmean = sma(v, 20)?;
    let atr14 = atr(h, l, c, 14)?;
    let wr = willr(h, l, c, 14)?;
    Ok((0..n)
        .map(|i| {
            let lag = |k: usize| if i >= k { r1[i - k] } else { f64::NAN };
            let volume_ratio = if vmean[i] > 0.0 {
                v[i] / vmean[i] - 1.0
            } else if vmean[i] == 0.0 {
                0.0
            } else {
                f64::NAN
            };
            [
                r1[i],
                ret(5, i),
                rsi14[i] / 100.0 - 0.5,
                hist[i] / c[i],
                c[i] / sma20[i] - 1.0,
                c[i] / ema50[i] - 1.0,
                vol20[i],
                volume_ratio,
                lag(1),
                lag(2),
                ret(10, i),
                (h[i] - l[i]) / c[i],
                atr14[i] / c[i],
                ret(20, i),
                wr[i] / 100.0 + 0.5,
            ]
        })
        .collect())
}

/// Bars whose feature rows were computed last on this thread: their high, low, close and
/// volume (all that [`feature_rows`] reads), and the rows.
struct Memo {
    inputs: [Vec<f64>; 4],
    rows: Rc<Vec<Row>>,
}

/// How many sets of bars [`cached_feature_rows`] remembers per thread (evolution evaluates on
/// the training bars, and its hall of fame on the test bars too).
const MEMO_ENTRIES: usize = 2;

thread_local! {
    static MEMO: RefCell<Vec<Memo>> = const { RefCell::new(Vec::new()) };
}

/// [`feature_rows`] of `data`, computed once per thread for the same bars: every ML genome an
/// evolution worker evaluates reads the same bars, and their 15 indicators are a quarter of a
/// `linear_svc_classifier` evaluation. Bars are recognised by content, bit for bit, so other
/// bars (another slice, another file) are computed afresh; the two most recently
/// used are kept.
pub fn cached_feature_rows(data: &MarketData) -> Result<Rc<Vec<Row>>, IndicatorError> {
    let b = &data.bars;
    let inputs = [&b.high, &b.low, &b.close, &b.volume];
    let same = |memo: &Memo| {
        memo.inputs.iter().zip(inputs).all(|(kept, now)| {
            kept.len() == now.len() && kept.iter().zip(now.iter()).all(|(x, y)| x.to_bits() == y.to_bits())
        })
    };
    let hit = MEMO.with_borrow_mut(|memos| {
        let at = memos.iter().position(same)?;
        // The most recently used first.
        let memo = memos.remove(at);
        let rows = Rc::clone(&memo.rows);
        memos.insert(0, memo);
        Some(rows)
    });
    if let Some(rows) = hit {
        return Ok(rows);
    }
    let rows = Rc::new(feature_rows(data)?);
    MEMO.with_borrow_mut(|memos| {
        memos.insert(
            0,
            Memo {
                inputs: inputs.map(|v| v.clone()),
                rows: Rc::clone(&rows),
            },
        );
        memos.truncate(MEMO_ENTRIES);
    });
    Ok(rows)
}

/// True when every feature of the row is finite.
pub fn usable(row: &Row) -> bool {
    row.iter().all(|x| x.is_finite())
}

/// Forward return of bar t over [`HORIZON`] bars (NaN when bar t + HORIZON does not exist).
/// Only known at bar t + HORIZON: callers must use it for rows t with t + HORIZON <= the
/// current bar.
pub fn forward_returns(close: &[f64]) -> Vec<f64> {
    (0..close.len())
        .map(|t| match close.get(t + HORIZON) {
            Some(&later) if close[t] > 0.0 => later / close[t] - 1.0,
            _ => f64::NAN,
        })
        .collect()
}

/// The ML seeds retrain every this many bars (at bars that are multiples of it), and predict
/// the bars up to the next retraining with the model trained at the last one.
///
/// 500 bars is about a month of hourly FX bars (three weeks of round-the-clock crypto bars)
/// and two years of daily bars: monthly refits for intraday models, a common walk-forward
/// choice. It was 250 until the evolution's cost target: a random `pca_tree_quantile` genome
/// grows about 105 trees per retraining, so retraining is most of the work of a first
/// generation, and at 500 a generation of 1,000 random strategies on the hourly sample costs
/// about two thirds of what it did. On the two samples neither cadence is better out of
/// sample: the median held-out Sharpe ratio of 150 random genomes per ML seed rose on one
/// sample and fell on the other, each time by less than its interquartile range.
pub const RETRAIN_EVERY: usize = 500;

/// One retraining of a walk-forward model: at the close of bar `at` it trains on the rows
/// `train` (whose labels are known by then) and predicts the usable bars `targets`
/// (`at .. at + RETRAIN_EVERY`).
#[derive(Debug, Clone, PartialEq)]
pub struct Retraining {
    pub at: usize,
    pub train: std::ops::Range<usize>,
    pub targets: Vec<usize>,
}

/// The retrainings of a model trained on the last `window` labelled rows, every
/// [`RETRAIN_EVERY`] bars; a retraining point is skipped while its window reaches before bar 0
/// or holds a row that is not usable or not yet labelled, and when it has nothing to predict.
pub fn retrainings<'a>(rows: &'a [Row], fwd: &'a [f64], window: usize) -> impl Iterator<Item = Retraining> + 'a {
    let n = rows.len();
    (0..n).step_by(RETRAIN_EVERY).filter_map(move |at| {
        let train = training_range(at, window)?;
        let labelled = train
            .clone()
            .all(|t| usable(&rows[t]) && fwd[t].is_finite() && t + HORIZON <= at);
        let targets: Vec<usize> = (at..(at + RETRAIN_EVERY).min(n))
            .filter(|&i| usable(&rows[i]))
            .collect();
        (labelled && !targets.is_empty()).then_some(Retraining { at, train, targets })
    })
}

/// The first bar a walk-forward model trained on `window` rows predicts (its first
/// retraining's first target): the ML seeds' warm-up; the number of bars when the model
/// never predicts, or when the features cannot be computed.
pub fn first_prediction(data: &MarketData, window: usize) -> usize {
    let Ok(rows) = cached_feature_rows(data) else {
        return data.bars.len();
    };
    let fwd = forward_returns(&data.bars.close);
    let first = retrainings(&rows, &fwd, window)
        .next()
        .map_or(data.bars.len(), |step| step.targets[0]);
    first
}

/// The training rows for a model (re)trained at the close of bar `at` on the last `window`
/// rows whose label is known then: t in `at - HORIZON - window + 1 ..= at - HORIZON`. None
/// while that range would start before bar 0.
pub fn training_range(at: usize, window: usize) -> Option<std::ops::Range<usize>> {
    let end = at.checked_sub(HORIZON)? + 1;
    let start = end.checked_sub(window)?;
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_used_only_once_known() {
        let r = training_range(100, 20).unwrap();
        assert_eq!(r, 76..96);
        assert!(
            r.end - 1 + HORIZON <= 100,
            "the last training row's label is known at bar 100"
        );
        assert!(training_range(10, 20).is_none());
    }

    #[test]
    fn retrainings_use_known_labels_and_cover_the_next_bars() {
        let data = crate::market::sample::load_sample("eurusd-1h").unwrap().slice(0..1200);
        let rows = feature_rows(&data).unwrap();
        let fwd = forward_returns(&data.bars.close);
        let all: Vec<Retraining> = retrainings(&rows, &fwd, 100).collect();
        // Bar 0's window would start before the data.
        let expected: Vec<usize> = (1..=1199 / RETRAIN_EVERY).map(|k| k * RETRAIN_EVERY).collect();
        assert!(!expected.is_empty());
        assert_eq!(all.iter().map(|r| r.at).collect::<Vec<_>>(), expected);
        for r in &all {
            assert_eq!(r.train.len(), 100);
            assert!(r.train.end - 1 + HORIZON <= r.at, "labels known at the retraining bar");
            assert_eq!(r.targets.first(), Some(&r.at));
            assert!(r.targets.iter().all(|&i| i < r.at + RETRAIN_EVERY && i < 1200));
        }
        // A window longer than the history at the first retraining waits for the next.
        let first = retrainings(&rows, &fwd, RETRAIN_EVERY + 100).next().map(|r| r.at);
        assert_eq!(first, Some(2 * RETRAIN_EVERY));
    }

    #[test]
    fn cached_rows_are_the_rows_of_the_same_bars() {
        let all = crate::market::sample::load_sample("eurusd-1h").unwrap();
        let (a, b) = (all.slice(0..600), all.slice(100..700));
        // Rows hold NaN during warm-up: compare bits.
        let bits = |rows: &[Row]| rows.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
        let first = cached_feature_rows(&a).unwrap();
        assert_eq!(bits(&first), bits(&feature_rows(&a).unwrap()));
        assert!(
            Rc::ptr_eq(&first, &cached_feature_rows(&a.clone()).unwrap()),
            "same bars: no recompute"
        );
        let other = cached_feature_rows(&b).unwrap();
        assert_eq!(bits(&other), bits(&feature_rows(&b).unwrap()));
        assert!(Rc::ptr_eq(&first, &cached_feature_rows(&a).unwrap()), "both kept");
        // A third set of bars evicts the least recently used.
        cached_feature_rows(&all.slice(0..300)).unwrap();
        assert!(!Rc::ptr_eq(&other, &cached_feature_rows(&b).unwrap()));
    }

    #[test]
    fn forward_return_horizon() {
        let c: Vec<f64> = (1..=10).map(f64::from).collect();
        let f = forward_returns(&c);
        assert_eq!(f[0], 6.0 / 1.0 - 1.0);
        assert!(f[5].is_nan());
    }
}
