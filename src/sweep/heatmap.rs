//! The sweep heatmap: the ranked statistic over the first two grid keys, as a CSV matrix.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{grid_point, GridAxis, SweepResult};

/// A CSV matrix: one row per value of the first grid key, one column per value of the second,
/// each cell the best (largest) value of the statistic over the other keys; empty where no
/// point was evaluated or the value is undefined. The top-left cell is `KEY1\KEY2`.
/// Returns `None` when the grid has fewer than two keys.
pub fn heatmap_csv(axes: &[GridAxis], result: &SweepResult) -> Option<String> {
    let (a0, a1) = (axes.first()?, axes.get(1)?);
    let mut cells: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let mut point = Vec::new();
    for &(idx, value) in &result.values {
        grid_point(axes, idx, &mut point);
        let (Some(i), Some(j), Some(v)) = (
            a0.values.iter().position(|x| *x == point[0]),
            a1.values.iter().position(|x| *x == point[1]),
            value,
        ) else {
            continue;
        };
        let cell = cells.entry((i, j)).or_insert(v);
        *cell = cell.max(v);
    }
    let mut out = format!("{}\\{}", a0.key, a1.key);
    for v in &a1.values {
        let _ = write!(out, ",{v}");
    }
    out.push('\n');
    for (i, v0) in a0.values.iter().enumerate() {
        let _ = write!(out, "{v0}");
        for j in 0..a1.values.len() {
            match cells.get(&(i, j)) {
                Some(v) => {
                    let _ = write!(out, ",{v}");
                }
                None => out.push(','),
            }
        }
        out.push('\n');
    }
    Some(out)
}
