//! `--param KEY=VALUE` lists resolved against a strategy's genes (defaults filled, clamps reported).

use super::{clamp_genome, Clamp, Strategy, StrategyError};

/// A genome built from user parameters, with the clamps that were applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParams {
    pub genome: Vec<f64>,
    pub clamps: Vec<Clamp>,
}

/// Splits `KEY=VALUE` strings into pairs with numeric values.
pub fn parse_param_assignments(items: &[String]) -> Result<Vec<(String, f64)>, StrategyError> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| StrategyError::BadAssignment(item.clone()))?;
            let value =
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| StrategyError::BadValue {
                        param: k.trim().to_string(),
                        value: v.to_string(),
                    })?;
            Ok((k.trim().to_string(), value))
        })
        .collect()
}

/// Builds a genome: defaults for missing genes, given values rounded and clamped.
pub fn resolve_params(strategy: &dyn Strategy, params: &[(String, f64)]) -> Result<ResolvedParams, StrategyError> {
    let specs = strategy.genes();
    let mut genome = strategy.default_genome();
    for (key, value) in params {
        let idx = specs
            .iter()
            .position(|g| g.name == key)
            .ok_or_else(|| StrategyError::UnknownParam {
                strategy: strategy.name().to_string(),
                param: key.clone(),
                known: specs.iter().map(|g| g.name).collect::<Vec<_>>().join(", "),
            })?;
        genome[idx] = *value;
    }
    let clamps = clamp_genome(specs, &mut genome);
    Ok(ResolvedParams { genome, clamps })
}
