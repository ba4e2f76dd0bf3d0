//! Parameter grids: `KEY=LO:HI:STEP` axes and the cartesian product of their values.

use super::SweepError;

/// One grid axis: a gene name and its values (`LO`, `LO + STEP`, ... up to `HI` inclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct GridAxis {
    pub key: String,
    pub values: Vec<f64>,
}

impl GridAxis {
    /// Parses `KEY=LO:HI:STEP` (or `KEY=VALUE` for a single value, or `KEY=LO:HI` with step 1).
    pub fn parse(spec: &str) -> Result<GridAxis, SweepError> {
        let bad = |message: &str| SweepError::BadGrid {
            spec: spec.to_string(),
            message: message.to_string(),
        };
        let (key, range) = spec.split_once('=').ok_or_else(|| bad("expected KEY=LO:HI:STEP"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("empty parameter name"));
        }
        let nums: Vec<f64> = range
            .split(':')
            .map(|p| p.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("LO, HI and STEP must be finite numbers"))?;
        let (lo, hi, step) = match nums[..] {
            [v] => (v, v, 1.0),
            [lo, hi] => (lo, hi, 1.0),
            [lo, hi, step] => (lo, hi, step),
            _ => return Err(bad("expected KEY=LO:HI:STEP")),
        };
        if step <= 0.0 {
            return Err(bad("STEP must be > 0"));
        }
        if hi < lo {
            return Err(bad("HI must be >= LO"));
        }
        let count = ((hi - lo) / step + 1e-9).floor() + 1.0;
        if count > 1e7 {
            return Err(bad("more than 10 million values"));
        }
        // Computed as lo + k * step (no accumulated rounding).
        let values = (0..count as usize).map(|k| lo + k as f64 * step).collect();
        Ok(GridAxis {
            key: key.to_string(),
            values,
        })
    }
}

/// The number of points of the cartesian product of `axes`.
pub fn grid_size(axes: &[GridAxis]) -> u128 {
    axes.iter().map(|a| a.values.len() as u128).product()
}

/// The `index`-th point of the cartesian product (the last axis varies fastest).
pub fn grid_point(axes: &[GridAxis], mut index: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(axes.len(), 0.0);
    for (slot, axis) in out.iter_mut().zip(axes).rev() {
        let len = axis.values.len();
        *slot = axis.values[index % len];
        index /= len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_rejects_nonsense() {
        assert_eq!(GridAxis::parse("fast=2:10:4").unwrap().values, vec![2.0, 6.0, 10.0]);
        assert_eq!(GridAxis::parse("slow=5:500:5").unwrap().values.len(), 100);
        assert_eq!(GridAxis::parse("x=0.1:0.3:0.1").unwrap().values.len(), 3);
        assert_eq!(GridAxis::parse("x=3").unwrap().values, vec![3.0]);
        for bad in [
            "fast",
            "=1:2:1",
            "fast=a:2:1",
            "fast=1:2:0",
            "fast=5:2:1",
            "fast=1:2:3:4",
        ] {
            assert!(GridAxis::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn points_enumerate_the_product_last_axis_fastest() {
        let axes = [
            GridAxis::parse("a=1:2:1").unwrap(),
            GridAxis::parse("b=10:30:10").unwrap(),
        ];
        assert_eq!(grid_size(&axes), 6);
        let mut p = Vec::new();
        let all: Vec<Vec<f64>> = (0..6)
            .map(|i| {
                grid_point(&axes, i, &mut p);
                p.clone()
            })
            .collect();
        assert_eq!(all[0], vec![1.0, 10.0]);
        assert_eq!(all[2], vec![1.0, 30.0]);
        assert_eq!(all[3], vec![2.0, 10.0]);
    }
}
