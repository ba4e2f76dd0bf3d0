//! `evoflow indicator`: computes one technical indicator on market data and prints it as CSV.

use std::io::Write;

use anyhow::Context;
use evoflow::indicators::{compute, indicator_names};
use evoflow::market::format_timestamp_ms;

use super::market_args::MarketArgs;
use super::UsageError;

/// Flags of `evoflow indicator`.
#[derive(clap::Args, Debug)]
pub struct IndicatorArgs {
    /// Indicator (TA-Lib lowercase name): sma, ema, wma, rsi, trange, atr, bbands, stoch, macd,
    /// willr, adx, stddev, roc, donchian, vwap, ichimoku.
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub market: MarketArgs,
    /// A parameter, e.g. `timeperiod=20` (repeatable; the others keep TA-Lib's defaults):
    /// sma/ema/wma timeperiod=30; rsi/willr/adx/atr timeperiod=14; bbands timeperiod=5
    /// nbdevup=2 nbdevdn=2; stoch fastk_period=5 slowk_period=3 slowd_period=3; macd fastperiod=12
    /// slowperiod=26 signalperiod=9; stddev timeperiod=5 nbdev=1; roc timeperiod=10; donchian
    /// timeperiod=20; vwap timeperiod=20; ichimoku tenkan=9 kijun=26 senkou_b=52; trange none.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
}

/// Runs `evoflow indicator`: CSV with a `timestamp` column then the indicator's outputs in
/// TA-Lib's order; an empty cell where the indicator has no value (its look-back).
pub fn run(args: IndicatorArgs) -> anyhow::Result<()> {
    let name = args.name.to_ascii_lowercase();
    if !indicator_names().contains(&name.as_str()) {
        return Err(UsageError(format!(
            "unknown indicator `{}`; known: {}",
            args.name,
            indicator_names().join(", ")
        ))
        .into());
    }
    let params = args
        .params
        .iter()
        .map(|p| parse_param(p))
        .collect::<Result<Vec<_>, _>>()?;
    let data = args.market.load(None)?;
    let out = compute(&name, &data.bars, &params)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut line = String::from("timestamp");
    for (col, _) in &out.columns {
        line.push(',');
        line.push_str(col);
    }
    writeln!(w, "{line}").context("writing to stdout")?;
    for (i, &ts) in data.bars.timestamp_ms.iter().enumerate() {
        line.clear();
        line.push_str(&format_timestamp_ms(ts));
        for (_, values) in &out.columns {
            line.push(',');
            let v = values[i];
            if !v.is_nan() {
                line.push_str(&v.to_string());
            }
        }
        writeln!(w, "{line}").context("writing to stdout")?;
    }
    w.flush().context("writing to stdout")?;
    Ok(())
}

/// Parses `KEY=VALUE` with a numeric value.
fn parse_param(text: &str) -> Result<(String, f64), UsageError> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| UsageError(format!("--param `{text}`: expected KEY=VALUE, e.g. timeperiod=14")))?;
    let key = key.trim().to_ascii_lowercase();
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| UsageError(format!("--param `{text}`: value `{}` is not a number", value.trim())))?;
    if key.is_empty() {
        return Err(UsageError(format!("--param `{text}`: empty parameter name")));
    }
    Ok((key, value))
}
