//! `Matrix`: a dense row-major matrix of `f64`, the input type of the ML models.

/// A dense row-major matrix (`rows × cols`).
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A matrix of `cols` columns from rows given in order; every row must have `cols` values.
    ///
    /// # Panics
    /// When a row's length differs from `cols` (a programming error, not bad input).
    pub fn from_rows<'a>(cols: usize, rows: impl IntoIterator<Item = &'a [f64]>) -> Matrix {
        let rows = rows.into_iter();
        let mut data = Vec::with_capacity(rows.size_hint().0 * cols);
        let mut n = 0;
        for row in rows {
            assert_eq!(row.len(), cols, "row {n} has {} values, expected {cols}", row.len());
            data.extend_from_slice(row);
            n += 1;
        }
        Matrix { rows: n, cols, data }
    }

    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i`, mutable.
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j`, copied out.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.rows).map(|i| self.data[i * self.cols + j]).collect()
    }

    /// All values, row after row.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The rows in order.
    pub fn iter_rows(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks_exact(self.cols.max(1)).take(self.rows)
    }
}

/// The dot product of two equally long slices.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The dot product of two equally long slices, summed in four interleaved lanes (which the
/// compiler can keep in vector registers) and then added.
pub fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail = dot(a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for lane in 0..4 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot4_is_the_dot_product() {
        // Small integers: every sum is exact in any order.
        for len in 0..10 {
            let a: Vec<f64> = (0..len).map(|i| f64::from(i) - 3.0).collect();
            let b: Vec<f64> = (0..len).map(|i| f64::from(2 * i + 1)).collect();
            let expected: f64 = (0..len).map(|i| (f64::from(i) - 3.0) * f64::from(2 * i + 1)).sum();
            assert_eq!(dot4(&a, &b), expected, "length {len}");
            assert_eq!(dot(&a, &b), expected, "length {len}");
        }
    }

    #[test]
    fn rows_and_columns() {
        let m = Matrix::from_rows(2, [&[1.0, 2.0][..], &[3.0, 4.0][..], &[5.0, 6.0][..]]);
        assert_eq!((m.rows(), m.cols()), (3, 2));
        assert_eq!(m.row(1), &[3.0, 4.0]);
        assert_eq!(m.column(1), vec![2.0, 4.0, 6.0]);
        assert_eq!(m.iter_rows().count(), 3);
        assert_eq!(dot(m.row(0), m.row(2)), 17.0);
    }
}
