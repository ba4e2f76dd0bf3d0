//! Memoised indicator columns per worker thread, keyed by indicator and parameters, for the bars of one evaluation scope.
//!
//! Evolution evaluates thousands of genomes of a family on the same training bars, and many
//! share integer periods: an EMA, RSI or channel of a given period is the same column for all
//! of them. Inside [`with_columns`] (the evolution's evaluation of one genome on its training
//! bars), [`column`] computes a column once per worker thread and hands out the kept copy
//! afterwards; anywhere else it just computes. A column is exactly what the computation
//! returns, so results are the same bit for bit with or without the memo.
//!
//! Safety of the memo: a scope is opened for an `owner` (one id per evolution problem, whose
//! bars never change) and one `&MarketData`; columns are only handed out for that very data,
//! and the memo is emptied whenever another owner opens a scope on the thread. Memory is
//! bounded: once the kept columns exceed [`MAX_BYTES`] per thread, the memo starts afresh.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::market::MarketData;

/// The memo of one thread keeps at most this many bytes of columns (then it is emptied).
pub const MAX_BYTES: usize = 64 << 20;

/// A column's identity within a scope: a name unique to the computation (e.g.
/// `"rsi_filter/rsi+trend+divergence"`) and its integer (or bit-cast real) parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColumnKey {
    pub name: &'static str,
    pub params: [u64; 3],
}

impl ColumnKey {
    /// A key with up to three parameters (missing ones are 0).
    pub fn new(name: &'static str, params: &[u64]) -> Self {
        let mut p = [0u64; 3];
        p[..params.len()].copy_from_slice(params);
        ColumnKey { name, params: p }
    }
}

/// Hits, misses and restarts of the memo, over all threads since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColumnStats {
    pub hits: u64,
    pub misses: u64,
    /// Times a thread's memo was emptied because it was full.
    pub resets: u64,
}

impl ColumnStats {
    /// hits / (hits + misses), NaN before any lookup.
    pub fn hit_rate(&self) -> f64 {
        self.hits as f64 / (self.hits + self.misses) as f64
    }
}

static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);
static RESETS: AtomicU64 = AtomicU64::new(0);
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// The memo's counters (all threads).
pub fn stats() -> ColumnStats {
    ColumnStats {
        hits: HITS.load(Ordering::Relaxed),
        misses: MISSES.load(Ordering::Relaxed),
        resets: RESETS.load(Ordering::Relaxed),
    }
}

/// A fresh owner id (one per problem whose bars never change).
pub fn new_owner() -> u64 {
    NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
}

/// A kept column (or tuple of columns).
type Entry = Rc<dyn Any>;

struct Memo {
    owner: u64,
    /// The data of the open scope (null: no scope open).
    data: *const MarketData,
    entries: HashMap<ColumnKey, Entry>,
    bytes: usize,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo {
        owner: 0,
        data: std::ptr::null(),
        entries: HashMap::new(),
        bytes: 0,
    });
}

/// Runs `f` with the memo open for `data` on behalf of `owner` (see the module docs).
pub fn with_columns<T>(owner: u64, data: &MarketData, f: impl FnOnce() -> T) -> T {
    MEMO.with_borrow_mut(|m| {
        if m.owner != owner {
            m.entries.clear();
            m.bytes = 0;
            m.owner = owner;
        }
        m.data = data;
    });
    struct Close;
    impl Drop for Close {
        fn drop(&mut self) {
            MEMO.with_borrow_mut(|m| m.data = std::ptr::null());
        }
    }
    let _close = Close;
    f()
}

/// Something a memo can keep: its size in bytes.
pub trait Kept: Any {
    fn bytes(&self) -> usize;
}

impl Kept for Vec<f64> {
    fn bytes(&self) -> usize {
        self.len() * 8
    }
}

impl Kept for Vec<u16> {
    fn bytes(&self) -> usize {
        self.len() * 2
    }
}

impl<const K: usize> Kept for [Vec<f64>; K] {
    fn bytes(&self) -> usize {
        self.iter().map(|v| v.len() * 8).sum()
    }
}

/// The value of `compute` for `key` on `data`: kept and shared inside a [`with_columns`]
/// scope for the same data, computed afresh anywhere else. `compute` must depend only on
/// `data` and the key's parameters.
pub fn column<T: Kept, E>(
    data: &MarketData,
    key: ColumnKey,
    compute: impl FnOnce() -> Result<T, E>,
) -> Result<Rc<T>, E> {
    let open = MEMO.with_borrow(|m| std::ptr::eq(m.data, data));
    if !open {
        return compute().map(Rc::new);
    }
    let kept = MEMO.with_borrow(|m| m.entries.get(&key).cloned());
    if let Some(entry) = kept {
        if let Ok(value) = entry.downcast::<T>() {
            HITS.fetch_add(1, Ordering::Relaxed);
            return Ok(value);
        }
    }
    MISSES.fetch_add(1, Ordering::Relaxed);
    // Computed with the memo released: `compute` may look up columns itself.
    let value = Rc::new(compute()?);
    let size = value.bytes();
    MEMO.with_borrow_mut(|m| {
        if m.bytes + size > MAX_BYTES {
            m.entries.clear();
            m.bytes = 0;
            RESETS.fetch_add(1, Ordering::Relaxed);
        }
        m.bytes += size;
        if let Some(old) = m.entries.insert(key, value.clone() as Entry) {
            m.bytes -= old.downcast_ref::<T>().map_or(0, Kept::bytes);
        }
    });
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::sample::load_sample;

    #[test]
    fn kept_inside_a_scope_only_and_per_owner() {
        let data = load_sample("goog-1d").unwrap();
        let other = data.slice(0..100);
        let calls = std::cell::Cell::new(0);
        let get = |d: &MarketData, p: u64| {
            column(d, ColumnKey::new("test/len", &[p]), || {
                calls.set(calls.get() + 1);
                Ok::<_, ()>(vec![d.bars.len() as f64 + p as f64])
            })
            .unwrap()
        };
        // Outside a scope: always computed.
        get(&data, 1);
        get(&data, 1);
        assert_eq!(calls.get(), 2);
        let owner = new_owner();
        with_columns(owner, &data, || {
            assert_eq!(get(&data, 1)[0], 2149.0);
            assert_eq!(get(&data, 1)[0], 2149.0);
            assert_eq!(calls.get(), 3, "the second lookup is a hit");
            assert_eq!(get(&data, 2)[0], 2150.0, "other parameters: another column");
            assert_eq!(get(&other, 1)[0], 101.0, "other data: computed, not kept");
            assert_eq!(get(&other, 1)[0], 101.0);
            assert_eq!(calls.get(), 6);
        });
        with_columns(owner, &data, || get(&data, 1));
        assert_eq!(calls.get(), 6, "kept across scopes of the same owner");
        with_columns(new_owner(), &data, || get(&data, 1));
        assert_eq!(calls.get(), 7, "a new owner starts afresh");
        get(&data, 1);
        assert_eq!(calls.get(), 8, "closed again after the scope");
    }
}
