//! Choosing the seed families of a run: `--seeds all|a,b,...`, leaving out those the data cannot feed.

use super::settings::EvolveError;
use crate::market::MarketData;
use crate::seeds::all_seeds;
use crate::strategy::Strategy;

/// The families a run evolves, and warnings about those left out.
pub struct FamilySelection {
    pub families: Vec<&'static dyn Strategy>,
    pub warnings: Vec<String>,
}

/// Resolves seed names (empty or `["all"]` = every seed) against the registry. A seed that
/// needs funding data is left out with a warning when the data has none and other seeds
/// remain; when nothing remains, that is an error saying funding data is missing.
pub fn select_families(names: &[String], data: &MarketData) -> Result<FamilySelection, EvolveError> {
    let registry = all_seeds();
    let wanted: Vec<&'static dyn Strategy> = if names.is_empty() || names.iter().any(|n| n == "all") {
        registry.clone()
    } else {
        let mut out: Vec<&'static dyn Strategy> = Vec::new();
        for name in names {
            let seed = registry
                .iter()
                .copied()
                .find(|s| s.name() == name)
                .ok_or_else(|| EvolveError::UnknownSeed {
                    name: name.clone(),
                    known: registry.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
                })?;
            if !out.iter().any(|s| s.name() == seed.name()) {
                out.push(seed);
            }
        }
        out
    };
    let has_funding = data.funding.as_ref().is_some_and(|f| !f.is_empty());
    let mut warnings = Vec::new();
    let mut families = Vec::new();
    for seed in wanted {
        if seed.needs_funding() && !has_funding {
            warnings.push(format!(
                "seed `{}` needs perp funding data and {} has none (pass --funding FILE); leaving it out",
                seed.name(),
                data.source
            ));
        } else {
            families.push(seed);
        }
    }
    if families.is_empty() {
        return Err(EvolveError::NoFamilies(match warnings.first() {
            Some(_) => format!("no seed can run: funding data is missing for {}", data.source),
            None => "no seed families selected".to_string(),
        }));
    }
    Ok(FamilySelection { families, warnings })
}
