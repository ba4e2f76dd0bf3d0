//! `Forest`: a random-forest regressor of bootstrap-bagged CART trees, grown on presorted columns.

use super::matrix::Matrix;
use super::rng::SplitMix64;

/// Settings of [`Forest::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Maximum depth of a tree (a stump has depth 1).
    pub max_depth: usize,
    /// A split must leave at least this many samples (bootstrap draws) on each side.
    pub min_samples_leaf: usize,
    /// Seed of the bootstrap samples.
    pub seed: u64,
}

/// Each feature is cut into at most this many bins (quantiles of the training rows) once per
/// forest; splits are searched between bins.
pub const MAX_BINS: usize = 32;

/// A random-forest regressor (Breiman 2001, with scikit-learn's regression default of
/// considering every feature at each split, i.e. bagged CART trees), with histogram splits.
///
/// * Binning: once per forest, each feature is cut at up to [`MAX_BINS`] − 1 edges: the
///   midpoints between consecutive distinct training values when there are at most
///   `MAX_BINS` of them, else between the values at the `b/MAX_BINS` quantiles (as
///   LightGBM and scikit-learn's `HistGradientBoostingRegressor` do, with fewer bins since
///   the windows are a few hundred rows).
/// * Each tree is grown on a bootstrap sample (n draws with replacement, used as weights) by
///   greedy variance-reduction splits "value ≤ edge", until `max_depth`, `min_samples_leaf`
///   draws on a side, or a node that no split improves; a leaf predicts its weighted mean
///   target. Ties between equally good splits go to the lower feature, then the lower edge,
///   so fitting is deterministic.
/// * The forest predicts the mean of its trees.
///
/// A node's split search reads its histogram (per feature and bin: weight and weighted target
/// sum); the smaller child's histogram is accumulated from its rows and the larger one's is
/// the parent's minus it, so a tree costs about O(depth × features × rows / 2) additions.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    trees: Vec<Tree>,
}

/// A grown tree, stored as a complete binary tree of its depth so that prediction is a fixed
/// number of branch-free steps: a leaf above the bottom fills its whole subtree (splits that
/// always go left, and its value in every leaf slot below it).
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    /// Number of split levels (0: a single leaf).
    levels: u32,
    /// Per internal slot (2^levels − 1 of them): the feature and threshold.
    features: Vec<u32>,
    thresholds: Vec<f64>,
    /// Per leaf slot (2^levels of them): the prediction.
    values: Vec<f64>,
    /// Nodes of the grown tree (splits and leaves).
    node_count: usize,
}

/// A split node (`feature < LEAF`: rows with `value <= threshold` go left) or a leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    feature: u32,
    threshold: f64,
    left: u32,
    right: u32,
    value: f64,
}

const LEAF: u32 = u32::MAX;

impl Forest {
    /// Fits the forest on the rows of `x` and targets `y` (one per row). With no rows every
    /// tree predicts 0.
    pub fn fit(x: &Matrix, y: &[f64], params: &ForestParams) -> Forest {
        let n = x.rows().min(y.len());
        let binned = Binned::new(x, n);
        let mut rng = SplitMix64::new(params.seed);
        let mut grower = Grower {
            binned: &binned,
            weight: vec![0; n],
            weighted_y: vec![0.0; n],
            rows: Vec::with_capacity(n),
            scratch: vec![0; n],
            inverse: (0..=n).map(|w| if w == 0 { 0.0 } else { 1.0 / w as f64 }).collect(),
            params,
            nodes: Vec::new(),
            spare: Vec::new(),
        };
        let trees = (0..params.trees)
            .map(|_| {
                grower.weight.iter_mut().for_each(|w| *w = 0);
                for _ in 0..n {
                    grower.weight[rng.below(n)] += 1;
                }
                for ((wy, &w), &target) in grower.weighted_y.iter_mut().zip(&grower.weight).zip(y) {
                    *wy = f64::from(w) * target;
                }
                // The drawn rows, in order (branch-free: every row is written, drawn ones kept).
                grower.rows.resize(n, 0);
                let mut kept = 0;
                for (r, &w) in grower.weight.iter().enumerate() {
                    grower.rows[kept] = r as u32;
                    kept += usize::from(w > 0);
                }
                grower.rows.truncate(kept);
                grower.nodes = Vec::new();
                let m = grower.rows.len();
                let root = grower.histogram(0, m);
                let (w, s) = root.totals();
                grower.grow(0, m, 1, w, s, Some(root));
                Tree::complete(&grower.nodes)
            })
            .collect();
        Forest { trees }
    }

    /// The mean prediction of the trees for every row of `x` (tree by tree, so each tree's
    /// nodes stay in cache).
    pub fn predict_rows(&self, x: &Matrix) -> Vec<f64> {
        let mut out = vec![0.0; x.rows()];
        if self.trees.is_empty() {
            return out;
        }
        // Rows go down each tree in blocks, level by level, so their (independent) paths
        // overlap in the pipeline.
        const BLOCK: usize = 8;
        for tree in &self.trees {
            for (block, outs) in out.chunks_mut(BLOCK).enumerate() {
                let first = block * BLOCK;
                let mut slots = [0usize; BLOCK];
                for _ in 0..tree.levels {
                    for (k, slot) in slots.iter_mut().enumerate().take(outs.len()) {
                        let row = x.row(first + k);
                        let go_right = !goes_left(row[tree.features[*slot] as usize], tree.thresholds[*slot]);
                        *slot = 2 * *slot + 1 + usize::from(go_right);
                    }
                }
                for (o, slot) in outs.iter_mut().zip(slots) {
                    *o += tree.values[slot - tree.features.len()];
                }
            }
        }
        let count = self.trees.len() as f64;
        out.iter_mut().for_each(|o| *o /= count);
        out
    }

    /// The mean prediction of the trees for `row`.
    pub fn predict(&self, row: &[f64]) -> f64 {
        if self.trees.is_empty() {
            return 0.0;
        }
        self.trees.iter().map(|t| t.predict(row)).sum::<f64>() / self.trees.len() as f64
    }

    /// Number of nodes of every tree (for tests and diagnostics).
    pub fn node_counts(&self) -> Vec<usize> {
        self.trees.iter().map(|t| t.node_count).collect()
    }
}

impl Tree {
    /// The complete layout of the tree grown as `nodes` (root first).
    fn complete(nodes: &[Node]) -> Tree {
        fn depth(nodes: &[Node], i: usize) -> u32 {
            let n = nodes[i];
            if n.feature == LEAF {
                0
            } else {
                1 + depth(nodes, n.left as usize).max(depth(nodes, n.right as usize))
            }
        }
        let levels = if nodes.is_empty() { 0 } else { depth(nodes, 0) };
        let internal = (1usize << levels) - 1;
        let mut tree = Tree {
            levels,
            features: vec![0; internal],
            thresholds: vec![f64::INFINITY; internal],
            values: vec![0.0; internal + 1],
            node_count: nodes.len(),
        };
        if !nodes.is_empty() {
            tree.place(nodes, 0, 0, 0);
        }
        tree
    }

    /// Places `nodes[i]` at `slot` on `level` (internal slots are numbered level by level).
    fn place(&mut self, nodes: &[Node], i: usize, slot: usize, level: u32) {
        let node = nodes[i];
        if level == self.levels {
            self.values[slot - self.features.len()] = node.value;
        } else if node.feature == LEAF {
            // Every split below goes left (threshold +inf); every leaf below holds the value.
            let span = 1usize << (self.levels - level);
            let first = ((slot + 1) << (self.levels - level)) - 1 - self.features.len();
            self.values[first..first + span]
                .iter_mut()
                .for_each(|v| *v = node.value);
        } else {
            self.features[slot] = node.feature;
            self.thresholds[slot] = node.threshold;
            self.place(nodes, node.left as usize, 2 * slot + 1, level + 1);
            self.place(nodes, node.right as usize, 2 * slot + 2, level + 1);
        }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        let mut slot = 0;
        for _ in 0..self.levels {
            let go_right = !goes_left(row[self.features[slot] as usize], self.thresholds[slot]);
            slot = 2 * slot + 1 + usize::from(go_right);
        }
        self.values[slot - self.features.len()]
    }
}

/// Whether `value` takes the left branch of a split at `threshold` (NaN goes right).
fn goes_left(value: f64, threshold: f64) -> bool {
    value <= threshold
}

/// The training rows' bin of every feature, and the edges between bins.
struct Binned {
    features: usize,
    /// Row-major: `bins[r * features + f]`.
    bins: Vec<u8>,
    /// Per feature, the increasing edges; bin b holds the values in (edge[b-1], edge[b]].
    edges: Vec<Vec<f64>>,
}

impl Binned {
    fn new(x: &Matrix, n: usize) -> Binned {
        let features = x.cols();
        let edges: Vec<Vec<f64>> = (0..features)
            .map(|f| {
                let mut v = x.column(f);
                v.truncate(n);
                v.sort_by(f64::total_cmp);
                bin_edges(&v)
            })
            .collect();
        let mut bins = vec![0u8; n * features];
        for r in 0..n {
            for (f, e) in edges.iter().enumerate() {
                let value = x.row(r)[f];
                bins[r * features + f] = e.partition_point(|&edge| edge < value) as u8;
            }
        }
        Binned { features, bins, edges }
    }
}

/// Edges cutting sorted `values` into at most [`MAX_BINS`] bins (see [`Forest`]).
fn bin_edges(values: &[f64]) -> Vec<f64> {
    let mut distinct = values.to_vec();
    distinct.dedup();
    let between = |a: f64, b: f64| {
        let mid = a + (b - a) / 2.0;
        if mid < b {
            mid
        } else {
            a
        }
    };
    if distinct.len() <= MAX_BINS {
        return distinct.windows(2).map(|w| between(w[0], w[1])).collect();
    }
    let n = values.len();
    let mut edges: Vec<f64> = Vec::with_capacity(MAX_BINS - 1);
    for b in 1..MAX_BINS {
        let j = b * n / MAX_BINS;
        let (lo, hi) = (values[j - 1], values[j]);
        let edge = if lo < hi { between(lo, hi) } else { lo };
        if edges.last().is_none_or(|&last| edge > last) && edge < values[n - 1] {
            edges.push(edge);
        }
    }
    edges
}

/// Per feature and bin: the bootstrap weight (draws) and weighted target sum of a node's rows.
struct Histogram {
    w: Vec<u32>,
    s: Vec<f64>,
}

impl Histogram {
    fn totals(&self) -> (u32, f64) {
        // Every feature's bins hold the same rows; feature 0's sum them all.
        let w = self.w[..MAX_BINS].iter().sum();
        let s = self.s[..MAX_BINS].iter().sum();
        (w, s)
    }
}

/// The state of growing one tree: the bootstrap weights and the sampled rows, where every
/// node owns a range of `rows`.
struct Grower<'a> {
    binned: &'a Binned,
    weight: Vec<u32>,
    /// Weight × target of every row.
    weighted_y: Vec<f64>,
    rows: Vec<u32>,
    scratch: Vec<u32>,
    /// 1/w for every possible integer weight w (bootstrap counts), so split scores need no
    /// division.
    inverse: Vec<f64>,
    params: &'a ForestParams,
    nodes: Vec<Node>,
    /// Histogram buffers to reuse.
    spare: Vec<Histogram>,
}

impl Grower<'_> {
    /// The histogram of the rows at positions `start..end`.
    fn histogram(&mut self, start: usize, end: usize) -> Histogram {
        let k = self.binned.features;
        let mut h = self.spare.pop().unwrap_or_else(|| Histogram {
            w: vec![0; k * MAX_BINS],
            s: vec![0.0; k * MAX_BINS],
        });
        h.w.iter_mut().for_each(|v| *v = 0);
        h.s.iter_mut().for_each(|v| *v = 0.0);
        for &r in &self.rows[start..end] {
            let r = r as usize;
            let (w, ws) = (self.weight[r], self.weighted_y[r]);
            let bins = &self.binned.bins[r * k..(r + 1) * k];
            for (f, &b) in bins.iter().enumerate() {
                let at = f * MAX_BINS + b as usize;
                h.w[at] += w;
                h.s[at] += ws;
            }
        }
        h
    }

    /// Whether a node of weight `w` at `depth` may split (and so needs a histogram).
    fn may_split(&self, w: u32, depth: usize) -> bool {
        depth < self.params.max_depth && w as usize >= 2 * self.params.min_samples_leaf.max(1)
    }

    /// Grows the subtree over row positions `start..end` at `depth`, with weight `total_w`,
    /// weighted target sum `total_s` and (when it may split) its histogram; returns its index.
    fn grow(
        &mut self,
        start: usize,
        end: usize,
        depth: usize,
        total_w: u32,
        total_s: f64,
        hist: Option<Histogram>,
    ) -> u32 {
        let index = self.nodes.len() as u32;
        let value = if total_w > 0 { total_s / f64::from(total_w) } else { 0.0 };
        self.nodes.push(Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value,
        });
        let Some(mut hist) = hist.filter(|_| self.may_split(total_w, depth)) else {
            return index;
        };
        let Some((feature, bin, left_w, left_s)) = self.best_split(&hist, total_w, total_s) else {
            self.spare.push(hist);
            return index;
        };
        // Stable, branch-free partition: every row is written to both places and only the
        // matching counter advances (the write position never passes the read one).
        let k = self.binned.features;
        let (mut write, mut spilled) = (start, 0);
        for i in start..end {
            let r = self.rows[i];
            let go_left = self.binned.bins[r as usize * k + feature] as usize <= bin;
            self.rows[write] = r;
            self.scratch[spilled] = r;
            write += usize::from(go_left);
            spilled += usize::from(!go_left);
        }
        self.rows[write..end].copy_from_slice(&self.scratch[..spilled]);
        let split = write;
        let (right_w, right_s) = (total_w - left_w, total_s - left_s);

        let (left_needs, right_needs) = (self.may_split(left_w, depth + 1), self.may_split(right_w, depth + 1));
        let (left_hist, right_hist) = match (left_needs, right_needs) {
            (true, true) => {
                // Accumulate the smaller child; the larger is the parent minus it.
                let left_smaller = split - start <= end - split;
                let small = if left_smaller {
                    self.histogram(start, split)
                } else {
                    self.histogram(split, end)
                };
                for (p, c) in hist.w.iter_mut().zip(&small.w) {
                    *p -= c;
                }
                for (p, c) in hist.s.iter_mut().zip(&small.s) {
                    *p -= c;
                }
                if left_smaller {
                    (Some(small), Some(hist))
                } else {
                    (Some(hist), Some(small))
                }
            }
            (true, false) => {
                self.spare.push(hist);
                (Some(self.histogram(start, split)), None)
            }
            (false, true) => {
                self.spare.push(hist);
                (None, Some(self.histogram(split, end)))
            }
            (false, false) => {
                self.spare.push(hist);
                (None, None)
            }
        };
        let left = self.grow(start, split, depth + 1, left_w, left_s, left_hist);
        let right = self.grow(split, end, depth + 1, right_w, right_s, right_hist);
        self.nodes[index as usize] = Node {
            feature: feature as u32,
            threshold: self.binned.edges[feature][bin],
            left,
            right,
            value,
        };
        index
    }

    /// The split that most reduces the weighted squared error: (feature, last bin going left,
    /// left weight, left weighted target sum), or None when no split improves the node.
    fn best_split(&self, hist: &Histogram, total_w: u32, total_s: f64) -> Option<(usize, usize, u32, f64)> {
        let min_leaf = self.params.min_samples_leaf.max(1) as u32;
        // Maximising Sₗ²/Wₗ + Sᵣ²/Wᵣ minimises the children's squared error.
        let parent = total_s * total_s / f64::from(total_w);
        let mut best = None;
        let mut best_score = parent + 1e-12 * parent.abs().max(f64::MIN_POSITIVE);
        for (f, edges) in self.binned.edges.iter().enumerate() {
            let (w, s) = (&hist.w[f * MAX_BINS..], &hist.s[f * MAX_BINS..]);
            let (mut lw, mut ls) = (0u32, 0.0);
            // A split after bin b needs an edge b: bins 0..edges.len() can end a left side.
            // Visit only the non-empty ones (deep nodes have few).
            let mut bins = w[..edges.len()]
                .iter()
                .enumerate()
                .fold(0u32, |mask, (b, &count)| mask | (u32::from(count != 0) << b));
            while bins != 0 {
                let b = bins.trailing_zeros() as usize;
                bins &= bins - 1;
                lw += w[b];
                ls += s[b];
                if lw < min_leaf {
                    continue;
                }
                let rw = total_w - lw;
                if rw < min_leaf {
                    break;
                }
                let rs = total_s - ls;
                let score = ls * ls * self.inverse[lw as usize] + rs * rs * self.inverse[rw as usize];
                if score > best_score {
                    best_score = score;
                    best = Some((f, b, lw, ls));
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(trees: usize, max_depth: usize, min_samples_leaf: usize) -> ForestParams {
        ForestParams {
            trees,
            max_depth,
            min_samples_leaf,
            seed: 5,
        }
    }

    #[test]
    fn a_tree_recovers_a_step_function() {
        // y = 1 when x0 >= 0.5 (a bin edge: the median), with an irrelevant second feature.
        let rows: Vec<[f64; 2]> = (0..100).map(|i| [f64::from(i) / 100.0, f64::from(i % 7)]).collect();
        let y: Vec<f64> = rows.iter().map(|r| if r[0] >= 0.5 { 1.0 } else { 0.0 }).collect();
        let x = Matrix::from_rows(2, rows.iter().map(|r| r.as_slice()));
        let forest = Forest::fit(&x, &y, &params(1, 3, 1));
        // Away from the step, whatever rows the bootstrap left out.
        for (r, target) in rows.iter().zip(&y).filter(|(r, _)| (r[0] - 0.495).abs() > 0.05) {
            assert_eq!(forest.predict(r), *target, "{r:?}");
        }
    }

    #[test]
    fn bins_are_distinct_values_or_quantiles() {
        assert_eq!(bin_edges(&[1.0, 1.0, 2.0, 4.0]), vec![1.5, 3.0]);
        assert!(bin_edges(&[3.0; 10]).is_empty());
        let many: Vec<f64> = (0..1000).map(|i| f64::from(i / 3)).collect();
        let edges = bin_edges(&many);
        assert_eq!(edges.len(), MAX_BINS - 1);
        assert!(edges.windows(2).all(|w| w[0] < w[1]));
        // Quantile edges: about n / MAX_BINS values per bin.
        let per_bin = many.iter().filter(|&&v| v <= edges[0]).count();
        assert!((28..=34).contains(&per_bin), "{per_bin}");
    }

    #[test]
    fn depth_and_leaf_size_limit_the_trees() {
        let rows: Vec<[f64; 1]> = (0..64).map(|i| [f64::from(i)]).collect();
        let y: Vec<f64> = rows.iter().map(|r| (r[0] * 0.3).sin()).collect();
        let x = Matrix::from_rows(1, rows.iter().map(|r| r.as_slice()));
        let stump = Forest::fit(&x, &y, &params(3, 1, 1));
        assert!(stump.node_counts().iter().all(|&c| c == 1), "depth 1 is a single leaf");
        let deep = Forest::fit(&x, &y, &params(3, 4, 1));
        assert!(deep.node_counts().iter().all(|&c| c <= 15));
        let big_leaves = Forest::fit(&x, &y, &params(3, 10, 20));
        assert!(
            big_leaves.node_counts().iter().all(|&c| c <= 5),
            "{:?}",
            big_leaves.node_counts()
        );
    }

    #[test]
    fn a_forest_fits_a_smooth_function_better_than_the_mean() {
        let mut rng = SplitMix64::new(11);
        let rows: Vec<[f64; 3]> = (0..300)
            .map(|_| {
                let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                [u(), u(), u()]
            })
            .collect();
        let f = |r: &[f64; 3]| (3.0 * r[0]).sin() + r[1] * r[1];
        let y: Vec<f64> = rows.iter().map(f).collect();
        let x = Matrix::from_rows(3, rows.iter().map(|r| r.as_slice()));
        let forest = Forest::fit(&x, &y, &params(50, 6, 5));
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let sse =
            |pred: &dyn Fn(&[f64; 3]) -> f64| rows.iter().zip(&y).map(|(r, t)| (pred(r) - t).powi(2)).sum::<f64>();
        let model = sse(&|r| forest.predict(r));
        let baseline = sse(&|_| mean);
        assert!(model < 0.1 * baseline, "{model} vs {baseline}");
    }

    #[test]
    fn deterministic_and_total_on_degenerate_input() {
        let rows: Vec<[f64; 2]> = (0..40).map(|i| [f64::from(i % 5), 1.0]).collect();
        let y: Vec<f64> = (0..40).map(|i| f64::from(i % 3)).collect();
        let x = Matrix::from_rows(2, rows.iter().map(|r| r.as_slice()));
        let p = params(10, 5, 2);
        assert_eq!(Forest::fit(&x, &y, &p), Forest::fit(&x, &y, &p));
        let other = Forest::fit(&x, &y, &ForestParams { seed: 6, ..p });
        assert_ne!(Forest::fit(&x, &y, &p), other, "the seed drives the bootstrap");
        assert_eq!(Forest::fit(&Matrix::zeros(0, 2), &[], &p).predict(&[1.0, 1.0]), 0.0);
        let constant = Forest::fit(&x, &vec![2.5; 40], &p);
        assert_eq!(constant.predict(&[3.0, 1.0]), 2.5);
        assert!(constant.node_counts().iter().all(|&c| c == 1), "nothing to split");
    }
}
