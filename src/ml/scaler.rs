//! `Scaler`: standardisation to zero mean and unit variance per column, fitted on training rows.

use super::matrix::Matrix;

/// Per-column mean and standard deviation (population, as scikit-learn's `StandardScaler`); a
/// constant column keeps scale 1 so it maps to 0 instead of NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Scaler {
    /// Fits the scaler on the rows of `x` (at least one row).
    pub fn fit(x: &Matrix) -> Scaler {
        let (n, d) = (x.rows().max(1) as f64, x.cols());
        let mut mean = vec![0.0; d];
        for row in x.iter_rows() {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; d];
        for row in x.iter_rows() {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let scale = var
            .iter()
            .map(|s| {
                let sd = (s / n).sqrt();
                if sd > 0.0 && sd.is_finite() {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Scaler { mean, scale }
    }

    /// Writes the standardised `row` into `out` (both as long as the fitted columns).
    pub fn transform_into(&self, row: &[f64], out: &mut [f64]) {
        for (((o, v), m), s) in out.iter_mut().zip(row).zip(&self.mean).zip(&self.scale) {
            *o = (v - m) / s;
        }
    }

    /// The standardised copy of `x`.
    pub fn transform(&self, x: &Matrix) -> Matrix {
        let mut out = Matrix::zeros(x.rows(), x.cols());
        for i in 0..x.rows() {
            self.transform_into(x.row(i), out.row_mut(i));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_and_handles_constant_columns() {
        let x = Matrix::from_rows(2, [&[1.0, 5.0][..], &[3.0, 5.0][..]]);
        let s = Scaler::fit(&x);
        let z = s.transform(&x);
        assert_eq!(z.row(0), &[-1.0, 0.0]);
        assert_eq!(z.row(1), &[1.0, 0.0]);
    }
}
