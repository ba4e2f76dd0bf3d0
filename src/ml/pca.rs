//! `Pca`: principal components from a Jacobi eigendecomposition of the covariance matrix.

use super::matrix::{dot, Matrix};

/// The first `k` principal axes of the training rows, and their mean.
///
/// The covariance matrix (d × d, d ≤ a few dozen here) is diagonalised by cyclic Jacobi
/// rotations, which is exact to rounding for symmetric matrices; axes are ordered by
/// decreasing variance, and each axis's sign is fixed so that its largest-magnitude entry is
/// positive (a deterministic choice; the sign of an eigenvector is otherwise arbitrary).
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    mean: Vec<f64>,
    /// `k` unit-length axes, each of length d.
    axes: Vec<Vec<f64>>,
    /// The variance along each axis.
    variances: Vec<f64>,
}

impl Pca {
    /// Fits `k` components (at most the column count) on the rows of `x`.
    #[allow(clippy::needless_range_loop)] // index loops read as the formulas
    pub fn fit(x: &Matrix, k: usize) -> Pca {
        let d = x.cols();
        let n = x.rows();
        let mut mean = vec![0.0; d];
        for row in x.iter_rows() {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        // Upper triangle of the covariance, accumulated row by row from centred copies.
        let mut upper = vec![0.0; d * d];
        let mut centred = vec![0.0; d];
        for row in x.iter_rows() {
            for ((c, v), m) in centred.iter_mut().zip(row).zip(&mean) {
                *c = v - m;
            }
            for (a, &ca) in centred.iter().enumerate() {
                for (acc, &cb) in upper[a * d + a..(a + 1) * d].iter_mut().zip(&centred[a..]) {
                    *acc += ca * cb;
                }
            }
        }
        let denom = n.saturating_sub(1).max(1) as f64;
        let mut cov = vec![vec![0.0; d]; d];
        for a in 0..d {
            for b in a..d {
                cov[a][b] = upper[a * d + b] / denom;
                cov[b][a] = cov[a][b];
            }
        }
        let (values, vectors) = symmetric_eigen(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&i, &j| values[j].total_cmp(&values[i]).then(i.cmp(&j)));
        let k = k.min(d);
        let axes = order[..k]
            .iter()
            .map(|&j| {
                let mut axis: Vec<f64> = (0..d).map(|i| vectors[i][j]).collect();
                let lead = axis
                    .iter()
                    .copied()
                    .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
                if lead < 0.0 {
                    axis.iter_mut().for_each(|v| *v = -*v);
                }
                axis
            })
            .collect();
        let variances = order[..k].iter().map(|&j| values[j]).collect();
        Pca { mean, axes, variances }
    }

    /// The coordinates of `row` on the axes, written into `out` (length k).
    pub fn transform_into(&self, row: &[f64], out: &mut [f64]) {
        let centred: Vec<f64> = row.iter().zip(&self.mean).map(|(v, m)| v - m).collect();
        for (o, axis) in out.iter_mut().zip(&self.axes) {
            *o = dot(&centred, axis);
        }
    }

    /// The coordinates of every row of `x` (an `x.rows() × k` matrix).
    pub fn transform(&self, x: &Matrix) -> Matrix {
        let mut out = Matrix::zeros(x.rows(), self.axes.len());
        for i in 0..x.rows() {
            self.transform_into(x.row(i), out.row_mut(i));
        }
        out
    }

    /// The unit axes, by decreasing variance.
    pub fn axes(&self) -> &[Vec<f64>] {
        &self.axes
    }

    /// The variance along each axis.
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }
}

/// Eigenvalues and eigenvectors (as the columns of the returned matrix) of a symmetric
/// matrix, by cyclic Jacobi rotations until the off-diagonal mass is negligible.
#[allow(clippy::needless_range_loop)] // index loops read as the formulas
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let d = a.len();
    let mut v: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let total: f64 = a.iter().flatten().map(|x| x * x).sum();
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        // Off-diagonal entries below ~1e-11 of the matrix's norm: eigenvectors are accurate to
        // about that, far finer than anything downstream resolves.
        if off <= 1e-22 * total.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i][i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_decomposition_reconstructs_the_matrix() {
        let m = vec![
            vec![4.0, 1.0, 0.5, 0.2],
            vec![1.0, 3.0, 0.3, 0.1],
            vec![0.5, 0.3, 2.0, 0.7],
            vec![0.2, 0.1, 0.7, 1.0],
        ];
        let (values, vectors) = symmetric_eigen(m.clone());
        for i in 0..4 {
            for j in 0..4 {
                let r: f64 = (0..4).map(|k| vectors[i][k] * values[k] * vectors[j][k]).sum();
                assert!((r - m[i][j]).abs() < 1e-9, "({i},{j}): {r} vs {}", m[i][j]);
                let o: f64 = (0..4).map(|k| vectors[k][i] * vectors[k][j]).sum();
                assert!((o - f64::from(u8::from(i == j))).abs() < 1e-9, "orthonormal");
            }
        }
    }

    #[test]
    fn first_axis_follows_the_stretched_direction() {
        // Points along (1, 1) with a little symmetric spread across it.
        let rows: Vec<Vec<f64>> = (0..50)
            .map(|i| {
                let t = f64::from(i / 2) - 12.0;
                let e = if i % 2 == 0 { 0.1 } else { -0.1 };
                vec![t + e, t - e, 1.0]
            })
            .collect();
        let x = Matrix::from_rows(3, rows.iter().map(|r| r.as_slice()));
        let pca = Pca::fit(&x, 2);
        let a = &pca.axes()[0];
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (a[0] - h).abs() < 1e-9 && (a[1] - h).abs() < 1e-9 && a[2].abs() < 1e-9,
            "{a:?}"
        );
        assert!(pca.variances()[0] > pca.variances()[1]);
        let z = pca.transform(&x);
        assert_eq!((z.rows(), z.cols()), (50, 2));
        let mean0: f64 = z.column(0).iter().sum::<f64>() / 50.0;
        assert!(mean0.abs() < 1e-9, "coordinates are centred");
    }
}
