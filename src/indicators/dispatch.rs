//! By-name dispatch of the indicators (TA-Lib lowercase names, parameters and defaults), for the CLI.

use super::{
    adx, atr, bbands, donchian, ema, ichimoku, macd, roc, rolling_vwap, rsi, sma, stddev, stoch, true_range, willr,
    wma, IndicatorError,
};
use crate::market::Bars;

/// The named output series of one indicator, in TA-Lib's output order.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorOutput {
    pub columns: Vec<(String, Vec<f64>)>,
}

/// One indicator: its name, its parameters with their (TA-Lib) defaults, its output names.
struct Spec {
    name: &'static str,
    params: &'static [(&'static str, f64)],
    outputs: &'static [&'static str],
}

const SPECS: &[Spec] = &[
    Spec {
        name: "sma",
        params: &[("timeperiod", 30.0)],
        outputs: &["sma"],
    },
    Spec {
        name: "ema",
        params: &[("timeperiod", 30.0)],
        outputs: &["ema"],
    },
    Spec {
        name: "wma",
        params: &[("timeperiod", 30.0)],
        outputs: &["wma"],
    },
    Spec {
        name: "rsi",
        params: &[("timeperiod", 14.0)],
        outputs: &["rsi"],
    },
    Spec {
        name: "trange",
        params: &[],
        outputs: &["trange"],
    },
    Spec {
        name: "atr",
        params: &[("timeperiod", 14.0)],
        outputs: &["atr"],
    },
    Spec {
        name: "bbands",
        params: &[("timeperiod", 5.0), ("nbdevup", 2.0), ("nbdevdn", 2.0)],
        outputs: &["upperband", "middleband", "lowerband"],
    },
    Spec {
        name: "stoch",
        params: &[("fastk_period", 5.0), ("slowk_period", 3.0), ("slowd_period", 3.0)],
        outputs: &["slowk", "slowd"],
    },
    Spec {
        name: "macd",
        params: &[("fastperiod", 12.0), ("slowperiod", 26.0), ("signalperiod", 9.0)],
        outputs: &["macd", "macdsignal", "macdhist"],
    },
    Spec {
        name: "willr",
        params: &[("timeperiod", 14.0)],
        outputs: &["willr"],
    },
    Spec {
        name: "adx",
        params: &[("timeperiod", 14.0)],
        outputs: &["adx"],
    },
    Spec {
        name: "stddev",
        params: &[("timeperiod", 5.0), ("nbdev", 1.0)],
        outputs: &["stddev"],
    },
    Spec {
        name: "roc",
        params: &[("timeperiod", 10.0)],
        outputs: &["roc"],
    },
    Spec {
        name: "donchian",
        params: &[("timeperiod", 20.0)],
        outputs: &["upper", "middle", "lower"],
    },
    Spec {
        name: "vwap",
        params: &[("timeperiod", 20.0)],
        outputs: &["vwap"],
    },
    Spec {
        name: "ichimoku",
        params: &[("tenkan", 9.0), ("kijun", 26.0), ("senkou_b", 52.0)],
        outputs: &["tenkan", "kijun", "senkou_a", "senkou_b"],
    },
];

/// Names `compute` accepts, in a fixed order.
pub fn indicator_names() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.name).collect()
}

/// Computes indicator `name` (TA-Lib lowercase: `sma`, `bbands`, `macd`, ...) on `bars` with
/// `params` overriding TA-Lib's defaults (`timeperiod`, `nbdevup`, `fastk_period`, ...).
/// Single-input indicators read the close. Unknown names and parameters, non-integer or
/// negative periods give an error listing what is valid.
pub fn compute(name: &str, bars: &Bars, params: &[(String, f64)]) -> Result<IndicatorOutput, IndicatorError> {
    let spec = SPECS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| IndicatorError::Unknown {
            name: name.to_string(),
            known: indicator_names().join(", "),
        })?;
    let mut values: Vec<f64> = spec.params.iter().map(|p| p.1).collect();
    for (key, value) in params {
        let slot = spec.params.iter().position(|p| p.0 == key).ok_or_else(|| {
            let valid: Vec<&str> = spec.params.iter().map(|p| p.0).collect();
            let valid = if valid.is_empty() {
                "none".to_string()
            } else {
                valid.join(", ")
            };
            IndicatorError::InvalidParam {
                indicator: spec.name,
                message: format!("unknown parameter `{key}`; valid parameters: {valid}"),
            }
        })?;
        values[slot] = *value;
    }
    let ind = spec.name;
    let int = |slot: usize| period(ind, spec.params[slot].0, values[slot]);
    let (h, l, c) = (&bars.high[..], &bars.low[..], &bars.close[..]);
    let series: Vec<Vec<f64>> = match ind {
        "sma" => vec![sma(c, int(0)?)?],
        "ema" => vec![ema(c, int(0)?)?],
        "wma" => vec![wma(c, int(0)?)?],
        "rsi" => vec![rsi(c, int(0)?)?],
        "trange" => vec![true_range(h, l, c)?],
        "atr" => vec![atr(h, l, c, int(0)?)?],
        "bbands" => {
            let b = bbands(c, int(0)?, values[1], values[2])?;
            vec![b.upper, b.middle, b.lower]
        }
        "stoch" => {
            let s = stoch(h, l, c, int(0)?, int(1)?, int(2)?)?;
            vec![s.slowk, s.slowd]
        }
        "macd" => {
            let m = macd(c, int(0)?, int(1)?, int(2)?)?;
            vec![m.macd, m.signal, m.hist]
        }
        "willr" => vec![willr(h, l, c, int(0)?)?],
        "adx" => vec![adx(h, l, c, int(0)?)?],
        "stddev" => {
            let nbdev = values[1];
            if !nbdev.is_finite() {
                return Err(IndicatorError::InvalidParam {
                    indicator: ind,
                    message: "nbdev must be finite".into(),
                });
            }
            let mut s = stddev(c, int(0)?)?;
            if nbdev != 1.0 {
                s.iter_mut().for_each(|v| *v *= nbdev);
            }
            vec![s]
        }
        "roc" => vec![roc(c, int(0)?)?],
        "donchian" => {
            let ch = donchian(h, l, int(0)?)?;
            vec![ch.upper, ch.middle, ch.lower]
        }
        "vwap" => vec![rolling_vwap(h, l, c, &bars.volume, int(0)?)?],
        "ichimoku" => {
            let ic = ichimoku(h, l, int(0)?, int(1)?, int(2)?)?;
            vec![ic.tenkan, ic.kijun, ic.senkou_a, ic.senkou_b]
        }
        other => unreachable!("indicator `{other}` is in SPECS but not dispatched"),
    };
    Ok(IndicatorOutput {
        columns: spec.outputs.iter().map(|o| o.to_string()).zip(series).collect(),
    })
}

/// A period parameter: a non-negative whole number.
fn period(indicator: &'static str, key: &str, value: f64) -> Result<usize, IndicatorError> {
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 || value > 1e9 {
        return Err(IndicatorError::InvalidParam {
            indicator,
            message: format!("{key} must be a whole number of bars, got {value}"),
        });
    }
    Ok(value as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Bars {
        let mut b = Bars::with_capacity(40);
        for i in 0..40 {
            let c = 100.0 + (i as f64 * 0.7).sin() * 5.0;
            b.push(i * 60_000, c, c + 1.0, c - 1.0, c, 1000.0 + i as f64);
        }
        b
    }

    #[test]
    fn every_indicator_runs_with_defaults_and_names_its_outputs() {
        let b = bars();
        for spec in SPECS {
            let out = compute(spec.name, &b, &[]).unwrap();
            let names: Vec<&str> = out.columns.iter().map(|c| c.0.as_str()).collect();
            assert_eq!(names, spec.outputs);
            assert!(out.columns.iter().all(|c| c.1.len() == 40));
        }
    }

    #[test]
    fn params_override_defaults_and_errors_are_clear() {
        let b = bars();
        let out = compute("sma", &b, &[("timeperiod".into(), 3.0)]).unwrap();
        let want = sma(&b.close, 3).unwrap();
        assert!(out.columns[0]
            .1
            .iter()
            .zip(&want)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        let err = compute("nope", &b, &[]).unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("bbands"), "{err}");
        let err = compute("bbands", &b, &[("period".into(), 3.0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("period") && err.contains("nbdevup"), "{err}");
        let err = compute("rsi", &b, &[("timeperiod".into(), 2.5)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("whole number"), "{err}");
        assert!(compute("rsi", &b, &[("timeperiod".into(), 1.0)]).is_err());
    }
}
