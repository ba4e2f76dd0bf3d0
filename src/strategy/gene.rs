//! Gene specifications (name, bounds, default, integer or real) and clamping with a report.

use serde::Serialize;

/// One gene of a strategy's genome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeneSpec {
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    /// Integer-valued genes are rounded to the nearest integer.
    pub integer: bool,
}

impl GeneSpec {
    /// A real-valued gene.
    pub const fn real(name: &'static str, min: f64, max: f64, default: f64) -> Self {
        GeneSpec {
            name,
            min,
            max,
            default,
            integer: false,
        }
    }

    /// An integer-valued gene.
    pub const fn int(name: &'static str, min: f64, max: f64, default: f64) -> Self {
        GeneSpec {
            name,
            min,
            max,
            default,
            integer: true,
        }
    }

    /// The value rounded (integer genes) and clamped to [min, max].
    pub fn normalise(&self, v: f64) -> f64 {
        let v = if self.integer { v.round() } else { v };
        if v.is_nan() {
            self.default
        } else {
            v.clamp(self.min, self.max)
        }
    }
}

/// A gene value that was changed by clamping (rounding alone is not reported).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clamp {
    pub gene: &'static str,
    pub given: f64,
    pub used: f64,
}

impl std::fmt::Display for Clamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} = {} is out of range, clamped to {}",
            self.gene, self.given, self.used
        )
    }
}

/// Rounds integer genes and clamps every gene to its bounds in place, returning the clamps.
/// A genome of the wrong length is padded with defaults / truncated.
pub fn clamp_genome(specs: &[GeneSpec], genome: &mut Vec<f64>) -> Vec<Clamp> {
    genome.resize(specs.len(), f64::NAN);
    let mut clamps = Vec::new();
    for (spec, v) in specs.iter().zip(genome.iter_mut()) {
        if v.is_nan() {
            *v = spec.default;
            continue;
        }
        let rounded = if spec.integer { v.round() } else { *v };
        let used = spec.normalise(*v);
        if used != rounded {
            clamps.push(Clamp {
                gene: spec.name,
                given: *v,
                used,
            });
        }
        *v = used;
    }
    clamps
}
