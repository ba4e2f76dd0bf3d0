//! `Forest`: a random-forest regressor of bootstrap-bagged CART trees with histogram splits.

use super::matrix::Matrix;
use evoflow_dataflows::Rng;

/// Settings of [`Forest::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Maximum depth of a tree: splits on a path from the root to a leaf (as scikit-learn's
    /// `max_depth`: 0 is a single leaf, 1 a stump).
    pub max_depth: usize,
    /// A split must leave at least this many samples (bootstrap draws) on each side.
    pub min_samples_leaf: usize,
    /// Features drawn at random as split candidates at each node; `None`: Breiman's default
    /// for regression (R `randomForest`'s `mtry`), max(1, ⌊features / 3⌋).
    pub max_features: Option<usize>,
    /// Seed of the bootstrap samples and of the candidate features.
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
/// While a tree grows, each sampled row travels as one record (its bins, weight and
/// weighted target) that the partitions move, so every node reads its rows contiguously;
/// prediction sends all rows down each tree at once as bitsets ([`Forest::predict_rows`]),
/// or down each tree once it is grown, without keeping the trees ([`Forest::fit_predict`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    trees: Vec<Tree>,
    /// Per feature, the training bin edges (every split's threshold is one of them).
    edges: Vec<Vec<f64>>,
}

/// A grown tree: its nodes, root first.
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

/// A split node (`feature < LEAF`: rows with `value <= threshold` go left, where `threshold`
/// is edge `bin` of the feature) or a leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    feature: u32,
    bin: u32,
    threshold: f64,
    left: u32,
    right: u32,
    value: f64,
}

const LEAF: u32 = u32::MAX;

impl Node {
    /// A leaf of rows with total weight `w` and weighted target sum `s`: it predicts their
    /// weighted mean (0 without weight).
    fn leaf(w: u32, s: f64) -> Node {
        Node {
            feature: LEAF,
            bin: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: if w > 0 { s / f64::from(w) } else { 0.0 },
        }
    }
}

impl Forest {
    /// Fits the forest on the rows of `x` and targets `y` (one per row). With no rows every
    /// tree predicts 0.
    pub fn fit(x: &Matrix, y: &[f64], params: &ForestParams) -> Result<Forest, ForestError> {
        Ok(grow_forest(x, y, params, None)?.0)
    }

    /// The predictions of the forest [`Forest::fit`] would fit, for every row of `x_new`
    /// (the same values as its [`Forest::predict_rows`]), without keeping the forest: once
    /// grown, each tree sends the rows down (as sets, as [`Forest::predict_rows`] does) and
    /// is dropped.
    pub fn fit_predict(x: &Matrix, y: &[f64], params: &ForestParams, x_new: &Matrix) -> Result<Vec<f64>, ForestError> {
        if x_new.cols() != x.cols() {
            return Err(ForestError::ColumnsDiffer {
                fitted: x.cols(),
                given: x_new.cols(),
            });
        }
        Ok(grow_forest(x, y, params, Some(x_new))?.1)
    }

    /// The mean prediction of the trees for every row of `x` (the columns the forest was fitted
    /// on), the same values as [`Forest::predict`] row by row.
    ///
    /// Rather than walking every row down every tree, the rows go down each tree as sets:
    /// once per call, each feature's rows are sorted into the training bins and, for every
    /// edge, the bitset of rows at or below it (the rows a split on that edge sends left) is
    /// built. The rows go down in words of 64: a node splits a word's set with one AND, and
    /// each leaf adds its value to the rows of its set: per tree, O(nodes × rows / 64 + rows)
    /// instead of O(depth × rows).
    pub fn predict_rows(&self, x: &Matrix) -> Vec<f64> {
        let n = x.rows();
        let mut out = vec![0.0; n];
        if self.trees.is_empty() || n == 0 {
            return out;
        }
        let sets = RowSets::new(x, &self.edges);
        for tree in &self.trees {
            add_tree_values(&tree.nodes, &sets, &mut out);
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
        self.trees.iter().map(|t| t.nodes.len()).collect()
    }
}

/// The rows of a matrix as bitsets: for feature f and edge b, `left(f, b)` holds the rows
/// with value ≤ edge b, i.e. those a split on (f, b) sends left.
struct RowSets {
    rows: usize,
    /// 64-bit words per set.
    words: usize,
    /// Per feature, the offset of its first set in `bits` (its edges' sets follow in order).
    first: Vec<usize>,
    bits: Vec<u64>,
}

impl RowSets {
    fn new(x: &Matrix, edges: &[Vec<f64>]) -> RowSets {
        let words = x.rows().div_ceil(64);
        let mut first = Vec::with_capacity(edges.len());
        let mut total = 0;
        for e in edges {
            first.push(total);
            total += e.len();
        }
        let mut bits = vec![0u64; total * words];
        for (f, e) in edges.iter().enumerate() {
            let sets = &mut bits[first[f] * words..(first[f] + e.len()) * words];
            // A row is first at or below the edge of its bin, then below every later edge.
            for (r, row) in x.iter_rows().enumerate() {
                let bin = bin_of(e, row[f]);
                if bin < e.len() {
                    sets[bin * words + r / 64] |= 1u64 << (r % 64);
                }
            }
            for b in 1..e.len() {
                let (done, rest) = sets.split_at_mut(b * words);
                for (word, below) in rest[..words].iter_mut().zip(&done[(b - 1) * words..]) {
                    *word |= below;
                }
            }
        }
        RowSets {
            rows: x.rows(),
            words,
            first,
            bits,
        }
    }

    /// Word `word` of the set of all rows.
    fn all(&self, word: usize) -> u64 {
        match self.rows - word * 64 {
            64.. => u64::MAX,
            here => (1u64 << here) - 1,
        }
    }

    /// The rows a split on edge `bin` of `feature` sends left.
    fn left(&self, feature: usize, bin: usize) -> &[u64] {
        let at = (self.first[feature] + bin) * self.words;
        &self.bits[at..at + self.words]
    }
}

/// Adds the value of the tree of `nodes` (root first) to `out` for every row of `sets`. Words
/// of 64 rows go down the tree independently (a row's leaf is found within its word).
fn add_tree_values(nodes: &[Node], sets: &RowSets, out: &mut [f64]) {
    for word in 0..sets.words {
        add_leaf_values(nodes, 0, sets.all(word), word, sets, out);
    }
}

/// Adds the value of every leaf under `nodes[i]` to the rows of `set`, the rows of word
/// `word` (rows `64 * word ..`) that reach node `i`.
fn add_leaf_values(nodes: &[Node], i: usize, set: u64, word: usize, sets: &RowSets, out: &mut [f64]) {
    let node = nodes[i];
    if node.feature == LEAF {
        let mut bits = set;
        while bits != 0 {
            out[word * 64 + bits.trailing_zeros() as usize] += node.value;
            bits &= bits - 1;
        }
        return;
    }
    let left = sets.left(node.feature as usize, node.bin as usize)[word];
    if set & left != 0 {
        add_leaf_values(nodes, node.left as usize, set & left, word, sets, out);
    }
    if set & !left != 0 {
        add_leaf_values(nodes, node.right as usize, set & !left, word, sets, out);
    }
}

impl Tree {
    fn predict(&self, row: &[f64]) -> f64 {
        let mut node = self.nodes[0];
        while node.feature != LEAF {
            let next = if goes_left(row[node.feature as usize], node.threshold) {
                node.left
            } else {
                node.right
            };
            node = self.nodes[next as usize];
        }
        node.value
    }
}

/// Whether `value` takes the left branch of a split at `threshold` (NaN goes right).
fn goes_left(value: f64, threshold: f64) -> bool {
    value <= threshold
}

/// The bin of `value` among increasing `edges`: how many edges it goes right of, so bin b
/// holds the values in (edge[b-1], edge[b]] and a split on edge b sends bins 0..=b left (a
/// NaN goes right of every edge, as [`goes_left`] sends it). Training and prediction both
/// bin with it.
fn bin_of(edges: &[f64], value: f64) -> usize {
    edges.partition_point(|&edge| !goes_left(value, edge))
}

/// The most features [`Forest::fit`] takes.
pub const MAX_FEATURES: usize = 60;

/// Why a forest could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForestError {
    #[error("a forest takes at most {MAX_FEATURES} features, got {features}")]
    TooManyFeatures { features: usize },
    #[error("the rows to predict have {given} features, the training rows {fitted}")]
    ColumnsDiffer { fitted: usize, given: usize },
}

/// Grows the forest of [`Forest::fit`]: the forest (its trees kept unless `x_new` is given)
/// and the predictions for the rows of `x_new` (none without it).
fn grow_forest(
    x: &Matrix,
    y: &[f64],
    params: &ForestParams,
    x_new: Option<&Matrix>,
) -> Result<(Forest, Vec<f64>), ForestError> {
    // Growth moves whole rows (bins, weight, target) with every partition; the record
    // holding a row's bins is sized to the number of features.
    match x.cols() {
        0..=4 => Ok(fit_with::<4>(x, y, params, x_new)),
        5..=12 => Ok(fit_with::<12>(x, y, params, x_new)),
        13..=28 => Ok(fit_with::<28>(x, y, params, x_new)),
        29..=MAX_FEATURES => Ok(fit_with::<MAX_FEATURES>(x, y, params, x_new)),
        features => Err(ForestError::TooManyFeatures { features }),
    }
}

/// [`grow_forest`] for rows whose bins fit a [`Record<N>`].
fn fit_with<const N: usize>(
    x: &Matrix,
    y: &[f64],
    params: &ForestParams,
    x_new: Option<&Matrix>,
) -> (Forest, Vec<f64>) {
    let n = x.rows().min(y.len());
    let features = x.cols();
    let edges: Vec<Vec<f64>> = (0..features)
        .map(|f| {
            let mut v = x.column(f);
            v.truncate(n);
            // Edges cut the values that have an order; a NaN is binned right of all of them.
            v.retain(|value| !value.is_nan());
            sort_total(&mut v);
            bin_edges(&v)
        })
        .collect();
    let bins: Vec<[u8; N]> = (0..n)
        .map(|r| {
            let mut b = [0u8; N];
            for (f, e) in edges.iter().enumerate() {
                b[f] = bin_of(e, x.row(r)[f]) as u8;
            }
            b
        })
        .collect();
    let mut grower = Grower::<N>::new(&edges, n, params);
    // With rows to predict, each tree adds its values to their sums once grown, and is dropped.
    let targets = x_new.map(|x_new| RowSets::new(x_new, &edges));
    let mut sums = vec![0.0; targets.as_ref().map_or(0, |t| t.rows)];
    let mut weight = vec![0u32; n];
    let mut trees = Vec::new();
    for _ in 0..params.trees {
        weight.fill(0);
        bootstrap(&mut grower.rng, &mut weight);
        // The drawn rows, in order (branch-free: every row is written, drawn ones kept).
        let records = &mut grower.buffers[0];
        let mut kept = 0;
        for ((&w, b), &target) in weight.iter().zip(&bins).zip(y) {
            records[kept] = Record {
                weighted_y: f64::from(w) * target,
                weight: w,
                bins: *b,
            };
            kept += usize::from(w > 0);
        }
        let total_w = records[..kept].iter().map(|r| r.weight).sum();
        let total_s = records[..kept].iter().map(|r| r.weighted_y).sum();
        grower.grow_tree(kept, total_w, total_s);
        match &targets {
            Some(sets) => add_tree_values(&grower.nodes, sets, &mut sums),
            None => trees.push(Tree {
                nodes: grower.nodes.clone(),
            }),
        }
    }
    if params.trees > 0 {
        let count = params.trees as f64;
        sums.iter_mut().for_each(|s| *s /= count);
    }
    (Forest { trees, edges }, sums)
}

/// Draws a bootstrap sample of `weight.len()` rows with replacement: `weight[r]` counts the
/// draws of row r. Each 64-bit draw gives two 32-bit halves, each mapped to a row by
/// Lemire's multiply-shift with rejection (unbiased).
fn bootstrap(rng: &mut Rng, weight: &mut [u32]) {
    let n = weight.len();
    if n == 0 {
        return;
    }
    let range = u32::try_from(n).unwrap_or(u32::MAX);
    let threshold = range.wrapping_neg() % range;
    let draw = |half: u32| {
        let m = u64::from(half) * u64::from(range);
        ((m as u32) >= threshold).then_some((m >> 32) as usize)
    };
    let mut drawn = 0;
    while drawn < n {
        let bits = rng.next_u64();
        for half in [bits as u32, (bits >> 32) as u32] {
            if drawn < n {
                if let Some(r) = draw(half) {
                    weight[r] += 1;
                    drawn += 1;
                }
            }
        }
    }
}

/// Sorts `values` in [`f64::total_cmp`]'s order, as integers: the bits of each value, its
/// magnitude bits flipped when negative, order as `total_cmp` does (one integer comparison
/// each instead of its bit twiddling).
fn sort_total(values: &mut [f64]) {
    // Flipping a negative value's magnitude bits is its own inverse.
    let flip = |bits: i64| bits ^ (((bits >> 63) as u64) >> 1) as i64;
    let mut keys: Vec<i64> = values.iter().map(|v| flip(v.to_bits() as i64)).collect();
    keys.sort_unstable();
    for (v, k) in values.iter_mut().zip(keys) {
        *v = f64::from_bits(flip(k) as u64);
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

/// A sampled row while a tree grows: its bootstrap weight, weight × target and bin of every
/// feature, moved as one by the partitions so that a node's rows are contiguous.
#[derive(Debug, Clone, Copy)]
struct Record<const N: usize> {
    weighted_y: f64,
    weight: u32,
    bins: [u8; N],
}

/// The state of growing one tree: the sampled rows, where every node owns a range of
/// positions. A node at depth d reads its rows from `buffers[d % 2]` and its partition writes
/// them to the same range of the other buffer for its children, left rows first and the
/// right ones in reverse order (siblings own disjoint ranges, so no row is overwritten before
/// it is read). The root is at depth 0.
struct Grower<'a, const N: usize> {
    /// Per feature, the increasing bin edges.
    edges: &'a [Vec<f64>],
    buffers: [Vec<Record<N>>; 2],
    /// 1/w for every possible integer weight w (bootstrap counts), so split scores need no
    /// division.
    inverse: Vec<f64>,
    params: &'a ForestParams,
    /// Candidate features per node.
    mtry: usize,
    /// The features in the order drawn for the node being split.
    order: Vec<usize>,
    /// Bootstrap draws and feature orders, in growth order.
    rng: Rng,
    /// The nodes of the tree being grown.
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

impl<'a, const N: usize> Grower<'a, N> {
    fn new(edges: &'a [Vec<f64>], rows: usize, params: &'a ForestParams) -> Grower<'a, N> {
        let features = edges.len();
        let empty = Record {
            weighted_y: 0.0,
            weight: 0,
            bins: [0; N],
        };
        Grower {
            edges,
            buffers: [vec![empty; rows], vec![empty; rows]],
            inverse: (0..=rows).map(|w| if w == 0 { 0.0 } else { 1.0 / w as f64 }).collect(),
            params,
            mtry: params.max_features.unwrap_or(features / 3).clamp(1, features.max(1)),
            order: (0..features).collect(),
            rng: Rng::from_seed(params.seed),
            nodes: Vec::new(),
        }
    }

    /// Grows a tree (into `nodes`) on the `rows` records at the start of `buffers[0]`, of
    /// weight `total_w` and weighted target sum `total_s`.
    fn grow_tree(&mut self, rows: usize, total_w: u32, total_s: f64) {
        self.nodes.clear();
        self.grow(0, rows, 0, total_w, total_s);
    }

    /// Grows the subtree over record positions `start..end` at `depth`, with weight `total_w`
    /// and weighted target sum `total_s`; returns its node index.
    fn grow(&mut self, start: usize, end: usize, depth: usize, total_w: u32, total_s: f64) -> u32 {
        let index = self.nodes.len() as u32;
        let leaf = Node::leaf(total_w, total_s);
        let value = leaf.value;
        self.nodes.push(leaf);
        if self.stops(depth, total_w) {
            return index;
        }
        let Some(best) = self.best_split(start, end, depth, total_w, total_s) else {
            return index;
        };
        let (right_w, right_s) = (total_w - best.left_w, total_s - best.left_s);
        // Children that will be leaves never read their rows: no partition for them.
        let mid = if self.stops(depth + 1, best.left_w) && self.stops(depth + 1, right_w) {
            start
        } else {
            self.partition(start, end, depth, best.feature, best.bin)
        };
        let left = self.grow(start, mid, depth + 1, best.left_w, best.left_s);
        let right = self.grow(mid, end, depth + 1, right_w, right_s);
        self.nodes[index as usize] = Node {
            feature: best.feature as u32,
            bin: best.bin as u32,
            threshold: self.edges[best.feature][best.bin],
            left,
            right,
            value,
        };
        index
    }

    /// Whether a node at `depth` with weight `w` is a leaf without looking at its rows: at the
    /// maximum depth, or too light to leave `min_samples_leaf` draws on both sides.
    fn stops(&self, depth: usize, w: u32) -> bool {
        depth >= self.params.max_depth || (w as usize) < 2 * self.params.min_samples_leaf.max(1)
    }

    /// The best split of the node at `depth` over `start..end` that reduces its squared error.
    /// Its feature order is drawn (a shuffle of 0..features) and the first `mtry` features are
    /// its candidates; when none of them can split it, the next features are tried one at a
    /// time, as scikit-learn does.
    fn best_split(&mut self, start: usize, end: usize, depth: usize, total_w: u32, total_s: f64) -> Option<Split> {
        let min_leaf = self.params.min_samples_leaf.max(1) as u32;
        // Maximising Sₗ²/Wₗ + Sᵣ²/Wᵣ minimises the children's squared error.
        let parent = total_s * total_s / f64::from(total_w);
        let floor = parent + 1e-12 * parent.abs().max(f64::MIN_POSITIVE);
        self.order.iter_mut().enumerate().for_each(|(f, o)| *o = f);
        self.rng.shuffle(&mut self.order);
        let rows = &self.buffers[depth % 2][start..end];
        let mut best: Option<Split> = None;
        for (tried, &feature) in self.order.iter().enumerate() {
            if tried >= self.mtry && best.is_some() {
                break;
            }
            let (mut hist_w, mut hist_s) = ([0u32; MAX_BINS], [0.0f64; MAX_BINS]);
            for record in rows {
                let b = usize::from(record.bins[feature]) % MAX_BINS;
                hist_w[b] += record.weight;
                hist_s[b] += record.weighted_y;
            }
            let split = self.scan(feature, &hist_w, &hist_s, total_w, total_s, min_leaf);
            if let Some(split) = split.filter(|s| s.score > floor) {
                if best.is_none_or(|b| split.score > b.score) {
                    best = Some(split);
                }
            }
        }
        best
    }

    /// The best split after some bin of `feature`, from its histogram (None: no split leaves
    /// `min_leaf` draws on both sides). A split after bin b needs an edge b (bins
    /// 0..edges.len()); an empty bin b repeats the split after the last non-empty bin, so it
    /// is skipped; ties keep the lower bin.
    fn scan(
        &self,
        feature: usize,
        hist_w: &[u32],
        hist_s: &[f64],
        total_w: u32,
        total_s: f64,
        min_leaf: u32,
    ) -> Option<Split> {
        let (mut lw, mut ls) = (0u32, 0.0);
        let mut best = Split {
            feature,
            bin: usize::MAX,
            left_w: 0,
            left_s: 0.0,
            score: f64::NEG_INFINITY,
        };
        // A split needs min_leaf <= lw <= total_w - min_leaf, i.e. lw - min_leaf <= span.
        let span = total_w.checked_sub(min_leaf.saturating_mul(2))?;
        let edges = self.edges[feature].len().min(MAX_BINS);
        for (b, (&w, &s)) in hist_w[..edges].iter().zip(&hist_s[..edges]).enumerate() {
            lw += w;
            ls += s;
            // The left weight only grows: bins before it reaches `min_leaf` are skipped, and
            // once the right side is lighter than `min_leaf` no later bin can split.
            if lw < min_leaf {
                continue;
            }
            if lw - min_leaf > span {
                break;
            }
            let rw = total_w - lw;
            let rs = total_s - ls;
            let score = ls * ls * self.inverse[lw as usize] + rs * rs * self.inverse[rw as usize];
            // An empty bin repeats the previous bin's split and score exactly, so the strict
            // comparison already skips it.
            if score > best.score {
                best = Split {
                    feature,
                    bin: b,
                    left_w: lw,
                    left_s: ls,
                    score,
                };
            }
        }
        (best.bin != usize::MAX).then_some(best)
    }

    /// Partitions the rows of a node at `depth` over `start..end` into the other buffer: those
    /// with `bins[feature] <= bin` from `start` on, the rest from `end` down; returns where the
    /// rest begins. Branch-free: each row goes to one of two cursors.
    fn partition(&mut self, start: usize, end: usize, depth: usize, feature: usize, bin: usize) -> usize {
        let [even, odd] = &mut self.buffers;
        let (from, to) = if depth.is_multiple_of(2) {
            (&*even, odd)
        } else {
            (&*odd, even)
        };
        let (from, to) = (&from[start..end], &mut to[start..end]);
        let (mut left, mut right) = (0, to.len());
        for record in from {
            let go_left = usize::from(record.bins[feature]) <= bin;
            let at = if go_left { left } else { right - 1 };
            to[at] = *record;
            left += usize::from(go_left);
            right -= usize::from(!go_left);
        }
        start + left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings and data of the reference grower.
    struct Reference<'a> {
        x: &'a Matrix,
        y: &'a [f64],
        p: &'a ForestParams,
        edges: Vec<Vec<f64>>,
        weight: Vec<u32>,
        mtry: usize,
    }

    impl Reference<'_> {
        fn bin(&self, r: usize, f: usize) -> usize {
            bin_of(&self.edges[f], self.x.row(r)[f])
        }

        fn stops(&self, depth: usize, w: u32) -> bool {
            depth >= self.p.max_depth || (w as usize) < 2 * self.p.min_samples_leaf.max(1)
        }

        fn order(&self, rng: &mut Rng) -> Vec<usize> {
            let mut order: Vec<usize> = (0..self.x.cols()).collect();
            rng.shuffle(&mut order);
            order
        }

        /// The best split on `f` of the rows, summed in the order given.
        fn split(&self, rows: &[usize], f: usize, tw: u32, ts: f64) -> Option<(f64, usize, u32, f64)> {
            let (mut hw, mut hs) = ([0u32; MAX_BINS], [0.0f64; MAX_BINS]);
            for &r in rows {
                hw[self.bin(r, f)] += self.weight[r];
                hs[self.bin(r, f)] += f64::from(self.weight[r]) * self.y[r];
            }
            let min_leaf = self.p.min_samples_leaf.max(1) as u32;
            let (mut lw, mut ls, mut best) = (0, 0.0, None::<(f64, usize, u32, f64)>);
            for b in 0..self.edges[f].len() {
                lw += hw[b];
                ls += hs[b];
                let (rw, rs) = (tw - lw, ts - ls);
                let score = ls * ls * (1.0 / f64::from(lw)) + rs * rs * (1.0 / f64::from(rw));
                if hw[b] != 0 && lw >= min_leaf && rw >= min_leaf && best.is_none_or(|(s, ..)| score > s) {
                    best = Some((score, b, lw, ls));
                }
            }
            best
        }

        /// Grows the node of `rows` (in the order the node stores them).
        fn grow(
            &self,
            rows: &[usize],
            depth: usize,
            (tw, ts): (u32, f64),
            rng: &mut Rng,
            nodes: &mut Vec<Node>,
        ) -> u32 {
            let index = nodes.len() as u32;
            let leaf = Node::leaf(tw, ts);
            let value = leaf.value;
            nodes.push(leaf);
            if self.stops(depth, tw) {
                return index;
            }
            let parent = ts * ts / f64::from(tw);
            let floor = parent + 1e-12 * parent.abs().max(f64::MIN_POSITIVE);
            let order = self.order(rng);
            let mut best: Option<(f64, usize, u32, f64, usize)> = None;
            for &f in &order[..self.mtry] {
                if let Some((score, b, lw, ls)) = self.split(rows, f, tw, ts) {
                    if score > floor && best.is_none_or(|(s, ..)| score > s) {
                        best = Some((score, b, lw, ls, f));
                    }
                }
            }
            for &f in &order[self.mtry..] {
                if best.is_some() {
                    break;
                }
                best = self
                    .split(rows, f, tw, ts)
                    .filter(|&(score, ..)| score > floor)
                    .map(|(score, b, lw, ls)| (score, b, lw, ls, f));
            }
            let Some((_, b, lw, ls, f)) = best else {
                return index;
            };
            let goes_left = |r: &&usize| self.bin(**r, f) <= b;
            let left: Vec<usize> = rows.iter().filter(goes_left).copied().collect();
            // The partition leaves the right child's rows in reverse order.
            let right: Vec<usize> = rows.iter().rev().filter(|r| !goes_left(r)).copied().collect();
            let l = self.grow(&left, depth + 1, (lw, ls), rng, nodes);
            let r = self.grow(&right, depth + 1, (tw - lw, ts - ls), rng, nodes);
            nodes[index as usize] = Node {
                feature: f as u32,
                bin: b as u32,
                threshold: self.edges[f][b],
                left: l,
                right: r,
                value,
            };
            index
        }
    }

    /// The trees of [`Forest::fit`] grown the plain way (each node's rows as a list, its
    /// histograms counted from them), with the same random draws in the same order: per tree
    /// the bootstrap, then depth first the feature order of every node that may split.
    fn reference_trees(x: &Matrix, y: &[f64], p: &ForestParams) -> Vec<Vec<Node>> {
        let k = x.cols();
        let mut reference = Reference {
            x,
            y,
            p,
            edges: (0..k)
                .map(|f| {
                    let mut v = x.column(f);
                    v.sort_by(f64::total_cmp);
                    bin_edges(&v)
                })
                .collect(),
            weight: vec![0; x.rows()],
            mtry: p.max_features.unwrap_or(k / 3).clamp(1, k.max(1)),
        };
        let mut rng = Rng::from_seed(p.seed);
        (0..p.trees)
            .map(|_| {
                reference.weight.fill(0);
                bootstrap(&mut rng, &mut reference.weight);
                let rows: Vec<usize> = (0..x.rows()).filter(|&r| reference.weight[r] > 0).collect();
                let tw = rows.iter().map(|&r| reference.weight[r]).sum();
                let ts = rows.iter().map(|&r| f64::from(reference.weight[r]) * y[r]).sum();
                let mut nodes = Vec::new();
                reference.grow(&rows, 0, (tw, ts), &mut rng, &mut nodes);
                nodes
            })
            .collect()
    }

    #[test]
    fn trees_are_those_of_the_plain_algorithm() {
        let mut rng = Rng::from_seed(77);
        for case in 0..200 {
            let k = 1 + case % 9;
            let n = 10 + rng.index(300);
            // Some features with few distinct values (ties, few bins), some continuous.
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|_| {
                    (0..k)
                        .map(|f| {
                            let u = rng.next_f64();
                            match f % 3 {
                                1 => (u * 6.0).floor(),
                                2 => u - 0.5,
                                _ => u,
                            }
                        })
                        .collect()
                })
                .collect();
            let y: Vec<f64> = rows.iter().map(|r| (3.0 * r[0]).sin() + rng.next_f64()).collect();
            let x = Matrix::from_rows(k, rows.iter().map(|r| r.as_slice()));
            let p = ForestParams {
                trees: 1 + case % 7,
                max_depth: case % 8,
                min_samples_leaf: 1 + case % 6,
                max_features: [None, Some(1), Some(2), Some(usize::MAX)][case % 4],
                seed: case as u64,
            };
            let forest = fit(&x, &y, &p);
            let grown: Vec<Vec<Node>> = forest.trees.iter().map(|t| t.nodes.clone()).collect();
            assert_eq!(grown, reference_trees(&x, &y, &p), "case {case}");
            let predicted = forest.predict_rows(&x);
            for (r, row) in x.iter_rows().enumerate() {
                assert_eq!(predicted[r], forest.predict(row), "case {case} row {r}");
            }
            // Other rows, some beyond the training values, some NaN.
            let new_rows: Vec<f64> = (0..(case % 150) * k)
                .map(|i| {
                    if i % 13 == 0 {
                        f64::NAN
                    } else {
                        1.5 * rng.next_f64() - 0.25
                    }
                })
                .collect();
            let x_new = Matrix::from_rows(k, new_rows.chunks(k));
            let grown_and_predicted = Forest::fit_predict(&x, &y, &p, &x_new).expect("at most MAX_FEATURES features");
            assert_eq!(grown_and_predicted, forest.predict_rows(&x_new), "case {case}");
            assert_eq!(
                Forest::fit_predict(&x, &y, &p, &x).expect("k <= 9"),
                predicted,
                "case {case}"
            );
            let other_width = Matrix::from_rows(k + 1, std::iter::empty());
            assert_eq!(
                Forest::fit_predict(&x, &y, &p, &other_width),
                Err(ForestError::ColumnsDiffer {
                    fitted: k,
                    given: k + 1
                })
            );
        }
    }

    /// The number of splits on the longest path below `nodes[i]` (a leaf: 0).
    fn tree_depth(nodes: &[Node], i: usize) -> usize {
        let n = nodes[i];
        if n.feature == LEAF {
            0
        } else {
            1 + tree_depth(nodes, n.left as usize).max(tree_depth(nodes, n.right as usize))
        }
    }

    fn fit(x: &Matrix, y: &[f64], params: &ForestParams) -> Forest {
        Forest::fit(x, y, params).expect("at most MAX_FEATURES features")
    }

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
        let forest = fit(&x, &y, &params(1, 3, 1));
        // Away from the step, whatever rows the bootstrap left out.
        for (r, target) in rows.iter().zip(&y).filter(|(r, _)| (r[0] - 0.495).abs() > 0.05) {
            assert_eq!(forest.predict(r), *target, "{r:?}");
        }
    }

    #[test]
    fn sort_total_is_total_cmp_order() {
        let mut rng = Rng::from_seed(4);
        let mut values: Vec<f64> = (0..500).map(|_| (rng.next_f64() - 0.5) * 1e3).collect();
        values.extend([
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            1e-310,
            -1e-310,
        ]);
        let mut expected = values.clone();
        expected.sort_by(f64::total_cmp);
        sort_total(&mut values);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&values), bits(&expected));
    }

    #[test]
    fn nan_features_go_right_when_fitting_as_when_predicting() {
        // y = 1 for x >= 0.5 and for the rows whose x is NaN: with NaN binned right of every
        // edge, a stump separates them exactly.
        let mut xs: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        xs.extend([f64::NAN; 10]);
        let y: Vec<f64> = xs
            .iter()
            .map(|&v| if v.is_nan() || v >= 0.5 { 1.0 } else { 0.0 })
            .collect();
        let x = Matrix::from_rows(1, xs.iter().map(std::slice::from_ref));
        let forest = fit(&x, &y, &params(5, 1, 1));
        assert_eq!(forest.predict(&[f64::NAN]), 1.0);
        assert_eq!(forest.predict(&[0.1]), 0.0);
        assert_eq!(forest.predict_rows(&x), y);
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
        let leaf = fit(&x, &y, &params(3, 0, 1));
        assert!(leaf.node_counts().iter().all(|&c| c == 1), "depth 0 is a single leaf");
        let stump = fit(&x, &y, &params(3, 1, 1));
        assert!(stump.node_counts().iter().all(|&c| c == 3), "depth 1 is a stump");
        let deep = fit(&x, &y, &params(3, 4, 1));
        assert!(deep.node_counts().iter().all(|&c| c <= 31));
        assert!(deep.trees.iter().all(|t| tree_depth(&t.nodes, 0) <= 4));
        assert!(deep.trees.iter().any(|t| tree_depth(&t.nodes, 0) == 4));
        let big_leaves = fit(&x, &y, &params(3, 10, 20));
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
        let forest = fit(&x, &y, &params(50, 6, 5));
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
            let mut f: Vec<u32> = forest.trees.iter().map(|t| t.nodes[0].feature).collect();
            f.sort_unstable();
            f.dedup();
            f
        };
        let breiman = fit(
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
        let bagged = fit(&x, &y, &params(30, 4, 5));
        assert_eq!(roots(&bagged), vec![0]);
    }

    #[test]
    fn deterministic_and_total_on_degenerate_input() {
        let rows: Vec<[f64; 2]> = (0..40).map(|i| [f64::from(i % 5), 1.0]).collect();
        let y: Vec<f64> = (0..40).map(|i| f64::from(i % 3)).collect();
        let x = Matrix::from_rows(2, rows.iter().map(|r| r.as_slice()));
        let p = params(10, 5, 2);
        assert_eq!(fit(&x, &y, &p), fit(&x, &y, &p));
        let other = fit(&x, &y, &ForestParams { seed: 6, ..p });
        assert_ne!(fit(&x, &y, &p), other, "the seed drives the bootstrap");
        assert_eq!(fit(&Matrix::zeros(0, 2), &[], &p).predict(&[1.0, 1.0]), 0.0);
        let constant = fit(&x, &vec![2.5; 40], &p);
        assert_eq!(constant.predict(&[3.0, 1.0]), 2.5);
        assert!(constant.node_counts().iter().all(|&c| c == 1), "nothing to split");
    }
}
