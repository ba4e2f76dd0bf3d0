//! `Forest`: a random-forest regressor of bootstrap-bagged CART trees, grown on presorted columns.

use super::matrix::Matrix;
use evoflow_dataflows::Rng;

/// Settings of [`Forest::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Maximum depth of a tree (a stump has depth 1).
    pub max_depth: usize,
    /// A split must leave at least this many samples (bootstrap draws) on each side.
    pub min_samples_leaf: usize,
    /// Features drawn at random as split candidates at each node; `None`: Breiman's default
    /// for regression (R `randomForest`'s `mtry`), max(1, ⌊features / 3⌋).
    pub max_features: Option<usize>,
    /// Seed of the bootstrap samples.
    pub seed: u64,
}

/// Each feature is cut into at most this many bins (quantiles of the training rows) once per
/// forest; splits are searched between bins.
pub const MAX_BINS: usize = 32;

/// A random-forest regressor (Breiman 2001) of CART trees with histogram splits.
///
/// * Binning: once per forest, each feature is cut at up to [`MAX_BINS`] − 1 edges: the
///   midpoints between consecutive distinct training values when there are at most
///   `MAX_BINS` of them, else between the values at the `b/MAX_BINS` quantiles (as
///   LightGBM and scikit-learn's `HistGradientBoostingRegressor` do, with fewer bins since
///   the windows are a few hundred rows).
/// * Each tree is grown on a bootstrap sample (n draws with replacement, used as weights) by
///   greedy variance-reduction splits "value ≤ edge". At each node `max_features` features,
///   drawn at random, are the candidates (Breiman's mtry; regression default max(1, ⌊p/3⌋));
///   as in scikit-learn, more are tried when none of them can split the node. Growth stops at
///   `max_depth`, at `min_samples_leaf` draws on a side, or when no split improves the node;
///   a leaf predicts its weighted mean target. Ties between equally good splits keep the
///   first candidate, then the lower edge, so fitting is deterministic for a seed.
/// * The forest predicts the mean of its trees.
///
/// A node's split search accumulates a histogram (per bin: weight and weighted target sum)
/// of the candidate feature over its rows, so a tree costs about O(depth × rows × mtry).
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
    splits: Vec<SlotSplit>,
    /// Per leaf slot (2^levels of them): the prediction.
    values: Vec<f64>,
    /// Nodes of the grown tree (splits and leaves).
    node_count: usize,
}

/// The split at an internal slot of a complete tree (threshold +inf: always left).
#[derive(Debug, Clone, Copy, PartialEq)]
struct SlotSplit {
    threshold: f64,
    feature: u32,
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
        let features = x.cols();
        let mut grower = Grower {
            binned: &binned,
            weight: vec![0; n],
            weighted_y: vec![0.0; n],
            rows: Vec::with_capacity(n),
            scratch: vec![0; n],
            inverse: (0..=n).map(|w| if w == 0 { 0.0 } else { 1.0 / w as f64 }).collect(),
            params,
            mtry: params.max_features.unwrap_or(features / 3).clamp(1, features.max(1)),
            order: (0..features).collect(),
            rng: Rng::from_seed(params.seed),
            nodes: Vec::new(),
        };
        let trees = (0..params.trees)
            .map(|_| {
                grower.weight.iter_mut().for_each(|w| *w = 0);
                for _ in 0..n {
                    let r = grower.rng.index(n);
                    grower.weight[r] += 1;
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
                let (w, s) = grower.rows.iter().fold((0u32, 0.0), |(w, s), &r| {
                    (w + grower.weight[r as usize], s + grower.weighted_y[r as usize])
                });
                let m = grower.rows.len();
                grower.grow(0, m, 1, w, s);
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
        const BLOCK: usize = 16;
        let (data, cols) = (x.as_slice(), x.cols());
        for tree in &self.trees {
            for (block, outs) in out.chunks_mut(BLOCK).enumerate() {
                let base = block * BLOCK * cols;
                let mut slots = [0usize; BLOCK];
                for _ in 0..tree.levels {
                    for (j, slot) in slots.iter_mut().enumerate().take(outs.len()) {
                        let split = tree.splits[*slot];
                        let value = data[base + j * cols + split.feature as usize];
                        let go_right = !goes_left(value, split.threshold);
                        *slot = 2 * *slot + 1 + usize::from(go_right);
                    }
                }
                for (o, slot) in outs.iter_mut().zip(slots) {
                    *o += tree.values[slot - tree.splits.len()];
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
            splits: vec![
                SlotSplit {
                    threshold: f64::INFINITY,
                    feature: 0
                };
                internal
            ],
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
            self.values[slot - self.splits.len()] = node.value;
        } else if node.feature == LEAF {
            // Every split below goes left (threshold +inf); every leaf below holds the value.
            let span = 1usize << (self.levels - level);
            let first = ((slot + 1) << (self.levels - level)) - 1 - self.splits.len();
            self.values[first..first + span]
                .iter_mut()
                .for_each(|v| *v = node.value);
        } else {
            self.splits[slot] = SlotSplit {
                threshold: node.threshold,
                feature: node.feature,
            };
            self.place(nodes, node.left as usize, 2 * slot + 1, level + 1);
            self.place(nodes, node.right as usize, 2 * slot + 2, level + 1);
        }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        let mut slot = 0;
        for _ in 0..self.levels {
            let split = self.splits[slot];
            let go_right = !goes_left(row[split.feature as usize], split.threshold);
            slot = 2 * slot + 1 + usize::from(go_right);
        }
        self.values[slot - self.splits.len()]
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
    /// Candidate features per node.
    mtry: usize,
    /// The features, shuffled at each node.
    order: Vec<usize>,
    /// Bootstrap draws and candidate features, in growth order.
    rng: Rng,
    nodes: Vec<Node>,
}

/// A candidate split: feature, last bin going left, left weight and weighted target sum, and
/// its score (higher is better).
#[derive(Clone, Copy)]
struct Split {
    feature: usize,
    bin: usize,
    left_w: u32,
    left_s: f64,
    score: f64,
}

impl Grower<'_> {
    /// Grows the subtree over row positions `start..end` at `depth`, with weight `total_w`
    /// and weighted target sum `total_s`; returns its node index.
    fn grow(&mut self, start: usize, end: usize, depth: usize, total_w: u32, total_s: f64) -> u32 {
        let index = self.nodes.len() as u32;
        let value = if total_w > 0 { total_s / f64::from(total_w) } else { 0.0 };
        self.nodes.push(Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value,
        });
        let min_leaf = self.params.min_samples_leaf.max(1);
        if depth >= self.params.max_depth || (total_w as usize) < 2 * min_leaf {
            return index;
        }
        // Maximising Sₗ²/Wₗ + Sᵣ²/Wᵣ minimises the children's squared error.
        let parent = total_s * total_s / f64::from(total_w);
        let floor = parent + 1e-12 * parent.abs().max(f64::MIN_POSITIVE);
        self.rng.shuffle(&mut self.order);
        let mut best: Option<Split> = None;
        for tried in 0..self.order.len() {
            if tried >= self.mtry && best.is_some() {
                break;
            }
            let feature = self.order[tried];
            if let Some(split) = self.best_split(feature, start, end, total_w, total_s, min_leaf as u32) {
                if split.score > best.map_or(floor, |b| b.score) {
                    best = Some(split);
                }
            }
        }
        let Some(best) = best else {
            return index;
        };
        // Stable, branch-free partition: every row is written to both places and only the
        // matching counter advances (the write position never passes the read one).
        let k = self.binned.features;
        let (rows, scratch, bins) = (&mut self.rows[..], &mut self.scratch[..], &self.binned.bins[..]);
        let (mut write, mut spilled) = (start, 0);
        for i in start..end {
            let r = rows[i];
            let go_left = bins[r as usize * k + best.feature] as usize <= best.bin;
            rows[write] = r;
            scratch[spilled] = r;
            write += usize::from(go_left);
            spilled += usize::from(!go_left);
        }
        rows[write..end].copy_from_slice(&scratch[..spilled]);
        let left = self.grow(start, write, depth + 1, best.left_w, best.left_s);
        let right = self.grow(write, end, depth + 1, total_w - best.left_w, total_s - best.left_s);
        self.nodes[index as usize] = Node {
            feature: best.feature as u32,
            threshold: self.binned.edges[best.feature][best.bin],
            left,
            right,
            value,
        };
        index
    }

    /// The best split of the rows at `start..end` on `feature` (None: no split leaves
    /// `min_leaf` draws on both sides).
    fn best_split(
        &self,
        feature: usize,
        start: usize,
        end: usize,
        total_w: u32,
        total_s: f64,
        min_leaf: u32,
    ) -> Option<Split> {
        let k = self.binned.features;
        let (bins, weight, weighted_y) = (&self.binned.bins[..], &self.weight[..], &self.weighted_y[..]);
        let mut hist_w = [0u32; MAX_BINS];
        let mut hist_s = [0.0f64; MAX_BINS];
        for &r in &self.rows[start..end] {
            let r = r as usize;
            let b = usize::from(bins[r * k + feature]) % MAX_BINS;
            hist_w[b] += weight[r];
            hist_s[b] += weighted_y[r];
        }
        let (mut lw, mut ls) = (0u32, 0.0);
        let mut best: Option<Split> = None;
        // A split after bin b needs an edge b: bins 0..edges.len() can end a left side.
        for b in 0..self.binned.edges[feature].len() {
            if hist_w[b] == 0 {
                continue;
            }
            lw += hist_w[b];
            ls += hist_s[b];
            if lw < min_leaf {
                continue;
            }
            let rw = total_w - lw;
            if rw < min_leaf {
                break;
            }
            let rs = total_s - ls;
            let score = ls * ls * self.inverse[lw as usize] + rs * rs * self.inverse[rw as usize];
            if best.is_none_or(|s| score > s.score) {
                best = Some(Split {
                    feature,
                    bin: b,
                    left_w: lw,
                    left_s: ls,
                    score,
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bagged trees considering every feature at each node.
    fn params(trees: usize, max_depth: usize, min_samples_leaf: usize) -> ForestParams {
        ForestParams {
            trees,
            max_depth,
            min_samples_leaf,
            max_features: Some(usize::MAX),
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
        let mut rng = Rng::from_seed(11);
        let rows: Vec<[f64; 3]> = (0..300)
            .map(|_| {
                let mut u = || rng.next_f64();
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
    fn breiman_default_draws_the_split_features_at_random() {
        // Feature 0 is the most informative: with every feature a candidate every root splits
        // on it; with mtry = 1 the roots split on all three.
        let mut rng = Rng::from_seed(3);
        let rows: Vec<[f64; 3]> = (0..200)
            .map(|_| {
                let mut u = || rng.next_f64();
                [u(), u(), u()]
            })
            .collect();
        let y: Vec<f64> = rows.iter().map(|r| 3.0 * r[0] + r[1] + r[2]).collect();
        let x = Matrix::from_rows(3, rows.iter().map(|r| r.as_slice()));
        let roots = |forest: &Forest| {
            let mut f: Vec<u32> = forest.trees.iter().map(|t| t.splits[0].feature).collect();
            f.sort_unstable();
            f.dedup();
            f
        };
        let breiman = Forest::fit(
            &x,
            &y,
            &ForestParams {
                max_features: None,
                ..params(30, 4, 5)
            },
        );
        assert_eq!(roots(&breiman), vec![0, 1, 2]);
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let sse = |f: &dyn Fn(&[f64]) -> f64| rows.iter().zip(&y).map(|(r, t)| (f(r) - t).powi(2)).sum::<f64>();
        assert!(sse(&|r| breiman.predict(r)) < 0.3 * sse(&|_| mean));
        let bagged = Forest::fit(&x, &y, &params(30, 4, 5));
        assert_eq!(roots(&bagged), vec![0]);
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
