//! `LinearSvm`: an L2-regularised squared-hinge linear classifier (scikit-learn's `LinearSVC` loss) fitted by finite Newton.

use super::matrix::{dot, Matrix};

/// Training settings of [`LinearSvm::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvmParams {
    /// The cost `C` of a squared margin violation (larger: less regularisation; positive).
    pub c: f64,
    /// Stop when the gradient's norm is at most this fraction of its norm at w = 0.
    pub tolerance: f64,
    /// At most this many Newton steps.
    pub max_iterations: usize,
}

impl Default for SvmParams {
    fn default() -> Self {
        SvmParams {
            c: 1.0,
            tolerance: 1e-10,
            max_iterations: 50,
        }
    }
}

/// A linear support-vector classifier: sign(w·x + b).
///
/// It minimises the primal of scikit-learn's default `LinearSVC` (squared hinge),
/// f(w, b) = ½‖(w, b)‖² + C Σᵢ max(0, 1 − yᵢ(w·xᵢ + b))², with the bias as an extra constant
/// feature 1 (liblinear's `-B 1`, so it is regularised like the weights). With at most a few
/// dozen features the primal is tiny, so it is solved by the finite Newton method of Keerthi
/// and DeCoste (JMLR 2005): on the rows inside the margin the objective is quadratic, each
/// step solves that quadratic exactly (Cholesky of I + 2C Σ xᵢxᵢᵀ) with a backtracking line
/// search, and it stops when the gradient vanishes, typically after 5–10 steps. There is no
/// randomness: the same rows give the same model.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSvm {
    w: Vec<f64>,
    b: f64,
    iterations: usize,
}

impl LinearSvm {
    /// Fits the classifier on the rows of `x` with labels `y` (each +1 or −1, one per row).
    /// With no rows it returns the zero classifier.
    pub fn fit(x: &Matrix, y: &[f64], params: &SvmParams) -> LinearSvm {
        debug_assert_eq!(x.rows(), y.len());
        let n = x.rows().min(y.len());
        let d = x.cols() + 1;
        let c2 = 2.0 * params.c;
        // Rows augmented with the bias feature, row i at i * d.
        let mut rows = Vec::with_capacity(n * d);
        for i in 0..n {
            rows.extend_from_slice(x.row(i));
            rows.push(1.0);
        }
        let row = |i: usize| &rows[i * d..(i + 1) * d];
        // The margins 1 − yᵢ w·xᵢ of a w: the objective and the next gradient both use them.
        let margins_of = |w: &[f64], out: &mut Vec<f64>| {
            out.clear();
            out.extend((0..n).map(|i| 1.0 - y[i] * dot(w, row(i))));
        };
        let objective = |w: &[f64], margins: &[f64]| {
            let loss: f64 = margins.iter().map(|m| m.max(0.0).powi(2)).sum();
            0.5 * dot(w, w) + params.c * loss
        };
        let mut w = vec![0.0; d];
        let (mut margins, mut candidate_margins) = (Vec::with_capacity(n), Vec::with_capacity(n));
        margins_of(&w, &mut margins);
        let mut f = objective(&w, &margins);
        let mut first_norm = None;
        let mut iterations = 0;
        while iterations < params.max_iterations && n > 0 {
            // Gradient and Hessian on the rows inside the margin.
            let mut grad = w.clone();
            let mut hess = vec![0.0; d * d];
            for a in 0..d {
                hess[a * d + a] = 1.0;
            }
            for (i, &margin) in margins.iter().enumerate() {
                if margin <= 0.0 {
                    continue;
                }
                let xi = row(i);
                for (g, v) in grad.iter_mut().zip(xi) {
                    *g -= c2 * y[i] * margin * v;
                }
                for (a, &xa) in xi.iter().enumerate() {
                    let va = c2 * xa;
                    for (h, &xb) in hess[a * d..=a * d + a].iter_mut().zip(xi) {
                        *h += va * xb;
                    }
                }
            }
            let norm = dot(&grad, &grad).sqrt();
            let reference = *first_norm.get_or_insert(norm);
            if norm <= params.tolerance * reference.max(f64::MIN_POSITIVE) {
                break;
            }
            iterations += 1;
            let Some(step) = solve_spd(&mut hess, d, &grad) else {
                break;
            };
            // The Newton direction is -step; backtrack until the objective decreases enough.
            let slope = -dot(&grad, &step);
            let mut t = 1.0;
            let mut improved = false;
            for _ in 0..40 {
                let candidate: Vec<f64> = w.iter().zip(&step).map(|(wi, si)| wi - t * si).collect();
                margins_of(&candidate, &mut candidate_margins);
                let fc = objective(&candidate, &candidate_margins);
                if fc <= f + 1e-4 * t * slope {
                    w = candidate;
                    f = fc;
                    std::mem::swap(&mut margins, &mut candidate_margins);
                    improved = true;
                    break;
                }
                t *= 0.5;
            }
            if !improved {
                break;
            }
        }
        let b = w.pop().unwrap_or(0.0);
        LinearSvm { w, b, iterations }
    }

    /// The decision value w·x + b (its sign is the predicted class).
    pub fn decision(&self, row: &[f64]) -> f64 {
        dot(&self.w, row) + self.b
    }

    /// The weights, without the bias.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// The bias.
    pub fn bias(&self) -> f64 {
        self.b
    }

    /// The Newton steps the fit took.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
}

/// Solves A x = b for a symmetric positive definite `a` (d × d, row-major, lower triangle
/// used; overwritten by its Cholesky factor). None when `a` is not positive definite.
fn solve_spd(a: &mut [f64], d: usize, b: &[f64]) -> Option<Vec<f64>> {
    for j in 0..d {
        let mut diag = a[j * d + j];
        for k in 0..j {
            diag -= a[j * d + k] * a[j * d + k];
        }
        if diag.is_nan() || diag <= 0.0 {
            return None;
        }
        let diag = diag.sqrt();
        a[j * d + j] = diag;
        for i in j + 1..d {
            let mut v = a[i * d + j];
            for k in 0..j {
                v -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = v / diag;
        }
    }
    // L z = b, then Lᵀ x = z.
    let mut z = b.to_vec();
    for i in 0..d {
        for k in 0..i {
            z[i] -= a[i * d + k] * z[k];
        }
        z[i] /= a[i * d + i];
    }
    for i in (0..d).rev() {
        for k in i + 1..d {
            z[i] -= a[k * d + i] * z[k];
        }
        z[i] /= a[i * d + i];
    }
    Some(z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evoflow_dataflows::Rng;

    fn primal(svm: &LinearSvm, x: &Matrix, y: &[f64], c: f64) -> f64 {
        let reg = 0.5 * (dot(svm.weights(), svm.weights()) + svm.bias() * svm.bias());
        let loss: f64 = (0..x.rows())
            .map(|i| (1.0 - y[i] * svm.decision(x.row(i))).max(0.0).powi(2))
            .sum();
        reg + c * loss
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let mut a = vec![4.0, 0.0, 2.0, 3.0];
        let x = solve_spd(&mut a, 2, &[8.0, 7.0]).unwrap();
        // [[4, 2], [2, 3]] x = [8, 7]  ->  x = [1.25, 1.5]
        assert!((x[0] - 1.25).abs() < 1e-12 && (x[1] - 1.5).abs() < 1e-12, "{x:?}");
        assert!(solve_spd(&mut [0.0, 0.0, 0.0, 1.0], 2, &[1.0, 1.0]).is_none());
    }

    /// A noisy two-class problem: label = sign(x0 − 0.5 x1 + noise).
    fn noisy(n: usize, seed: u64) -> (Matrix, Vec<f64>) {
        let mut rng = Rng::from_seed(seed);
        let mut unit = || rng.next_f64() * 2.0 - 1.0;
        let rows: Vec<Vec<f64>> = (0..n).map(|_| vec![unit(), unit(), unit()]).collect();
        let y = rows
            .iter()
            .map(|r| {
                if r[0] - 0.5 * r[1] + 0.3 * unit() > 0.0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        (Matrix::from_rows(3, rows.iter().map(|r| r.as_slice())), y)
    }

    #[test]
    fn separates_separable_data() {
        let x = Matrix::from_rows(1, [&[-2.0][..], &[-1.0][..], &[1.0][..], &[2.0][..]]);
        let y = [-1.0, -1.0, 1.0, 1.0];
        let svm = LinearSvm::fit(&x, &y, &SvmParams::default());
        for (i, label) in y.iter().enumerate() {
            assert_eq!(svm.decision(x.row(i)).signum(), *label);
        }
    }

    #[test]
    fn reaches_the_optimum_of_the_primal() {
        // Perturbing the solution in any coordinate direction does not lower the primal
        // objective by more than the solver's tolerance allows.
        let (x, y) = noisy(200, 1);
        let c = 1.0;
        let svm = LinearSvm::fit(&x, &y, &SvmParams::default());
        assert!(svm.iterations() <= 20, "{} Newton steps", svm.iterations());
        let best = primal(&svm, &x, &y, c);
        for j in 0..4 {
            for step in [-1e-3, 1e-3] {
                let mut other = svm.clone();
                if j < 3 {
                    other.w[j] += step;
                } else {
                    other.b += step;
                }
                assert!(primal(&other, &x, &y, c) >= best, "coordinate {j} step {step}");
            }
        }
        let accuracy = (0..200).filter(|&i| svm.decision(x.row(i)) * y[i] > 0.0).count();
        assert!(accuracy > 170, "{accuracy}/200");
    }

    #[test]
    fn regularisation_changes_the_solution() {
        let (x, y) = noisy(100, 2);
        let weak = LinearSvm::fit(
            &x,
            &y,
            &SvmParams {
                c: 0.01,
                ..SvmParams::default()
            },
        );
        let strong = LinearSvm::fit(
            &x,
            &y,
            &SvmParams {
                c: 2.0,
                ..SvmParams::default()
            },
        );
        let norm = |s: &LinearSvm| dot(s.weights(), s.weights());
        assert!(norm(&weak) < norm(&strong), "smaller C shrinks the weights");
    }

    #[test]
    fn deterministic_and_total_on_degenerate_input() {
        let (x, y) = noisy(50, 3);
        let p = SvmParams::default();
        assert_eq!(LinearSvm::fit(&x, &y, &p), LinearSvm::fit(&x, &y, &p));
        let empty = LinearSvm::fit(&Matrix::zeros(0, 3), &[], &p);
        assert_eq!(empty.decision(&[1.0, 2.0, 3.0]), 0.0);
        // More features than rows, and identical rows with opposite labels: finite answers.
        let x = Matrix::from_rows(3, [&[1.0, 1.0, 1.0][..], &[1.0, 1.0, 1.0][..]]);
        let svm = LinearSvm::fit(&x, &[1.0, -1.0], &p);
        assert!(svm.decision(x.row(0)).is_finite());
    }
}
