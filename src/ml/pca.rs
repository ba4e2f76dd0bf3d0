//! `Pca`: principal components from an eigendecomposition (Householder + QL) of the covariance matrix.

use super::matrix::{dot4, Matrix};

/// The first `k` principal axes of the training rows, and their mean.
///
/// The covariance matrix (d × d, d ≤ a few dozen here) is diagonalised by Householder
/// reduction and implicit QL (see `symmetric_eigen`), exact to rounding; axes are ordered by
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
        // The centred columns, each contiguous, so every covariance entry is one dot product.
        let mut columns = vec![0.0; d * n];
        for (r, row) in x.iter_rows().enumerate() {
            for (a, (v, m)) in row.iter().zip(&mean).enumerate() {
                columns[a * n + r] = v - m;
            }
        }
        let column = |a: usize| &columns[a * n..(a + 1) * n];
        let denom = n.saturating_sub(1).max(1) as f64;
        let mut cov = vec![vec![0.0; d]; d];
        for a in 0..d {
            for b in a..d {
                cov[a][b] = dot4(column(a), column(b)) / denom;
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
        for (o, axis) in out.iter_mut().zip(&self.axes) {
            *o = row
                .iter()
                .zip(&self.mean)
                .zip(axis)
                .map(|((v, m), a)| (v - m) * a)
                .sum();
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
/// matrix: Householder reduction to tridiagonal form, then the implicit QL algorithm (the
/// EISPACK `tred2`/`tql2` pair, as in JAMA's `EigenvalueDecomposition`), O(d³) with no
/// iteration over the whole matrix.
#[allow(clippy::needless_range_loop)] // index loops read as the formulas
fn symmetric_eigen(a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut v = a;
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];

    // tred2: Householder reduction to tridiagonal form.
    d.copy_from_slice(&v[n - 1]);
    for i in (1..n).rev() {
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[i - 1][j];
                v[i][j] = 0.0;
                v[j][i] = 0.0;
            }
        } else {
            for k in 0..i {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            let mut f = d[i - 1];
            let mut g = h.sqrt();
            if f > 0.0 {
                g = -g;
            }
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for j in 0..i {
                e[j] = 0.0;
            }
            for j in 0..i {
                f = d[j];
                v[j][i] = f;
                g = e[j] + v[j][j] * f;
                for k in j + 1..i {
                    g += v[k][j] * d[k];
                    e[k] += v[k][j] * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                f = d[j];
                g = e[j];
                for k in j..i {
                    v[k][j] -= f * e[k] + g * d[k];
                }
                d[j] = v[i - 1][j];
                v[i][j] = 0.0;
            }
        }
        d[i] = h;
    }
    for i in 0..n - 1 {
        v[n - 1][i] = v[i][i];
        v[i][i] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[k][i + 1] / h;
            }
            for j in 0..=i {
                let mut g = 0.0;
                for k in 0..=i {
                    g += v[k][i + 1] * v[k][j];
                }
                for k in 0..=i {
                    v[k][j] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[k][i + 1] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[n - 1][j];
        v[n - 1][j] = 0.0;
    }
    v[n - 1][n - 1] = 1.0;
    e[0] = 0.0;

    // tql2: implicit QL on the tridiagonal matrix, accumulating the rotations into v.
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0;
    let mut tst1 = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * tst1 {
            m += 1;
        }
        if m > l {
            for _iteration in 0..60 {
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for i in l + 2..n {
                    d[i] -= h;
                }
                f += h;
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0, 0.0);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for row in v.iter_mut() {
                        let h = row[i + 1];
                        row[i + 1] = s * row[i] + c * h;
                        row[i] = c * row[i] - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    (d, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test oracle: cyclic Jacobi rotations.
    #[allow(clippy::needless_range_loop)]
    /// Eigenvalues and eigenvectors (as the columns of the returned matrix) of a symmetric
    /// matrix, by cyclic Jacobi rotations until the off-diagonal mass is negligible.
    fn jacobi_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
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
    fn householder_ql_agrees_with_jacobi_on_random_covariances() {
        let mut state = 11u64;
        let mut unit = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for d in [1usize, 2, 3, 7, 15] {
            // A covariance of correlated columns: B Bᵀ with B random, plus a repeated eigenvalue
            // case (the identity) for d = 3.
            let b: Vec<Vec<f64>> = (0..d).map(|_| (0..d).map(|_| unit()).collect()).collect();
            let m: Vec<Vec<f64>> = (0..d)
                .map(|i| (0..d).map(|j| (0..d).map(|k| b[i][k] * b[j][k]).sum()).collect())
                .collect();
            for matrix in [
                m,
                (0..d)
                    .map(|i| (0..d).map(|j| f64::from(u8::from(i == j))).collect())
                    .collect(),
            ] {
                let (values, vectors) = symmetric_eigen(matrix.clone());
                let (mut expected, _) = jacobi_eigen(matrix.clone());
                let mut got = values.clone();
                got.sort_by(f64::total_cmp);
                expected.sort_by(f64::total_cmp);
                for (g, e) in got.iter().zip(&expected) {
                    assert!((g - e).abs() < 1e-9, "d {d}: eigenvalues {got:?} vs {expected:?}");
                }
                for i in 0..d {
                    for j in 0..d {
                        let r: f64 = (0..d).map(|k| vectors[i][k] * values[k] * vectors[j][k]).sum();
                        assert!((r - matrix[i][j]).abs() < 1e-9, "d {d}: reconstruction ({i},{j})");
                        let o: f64 = (0..d).map(|k| vectors[k][i] * vectors[k][j]).sum();
                        assert!((o - f64::from(u8::from(i == j))).abs() < 1e-9, "d {d}: orthonormal");
                    }
                }
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
