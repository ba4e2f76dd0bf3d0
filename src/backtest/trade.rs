//! `Trade` (one closed round trip, backtesting.py's trade record) and the FIFO book of open lots.

use serde::{Deserialize, Serialize};

/// A closed trade, with backtesting.py's definitions: `pnl = size * (exit - entry) - commission`
/// and `return_pct = 100 * (sign(size) * (exit / entry - 1) - commission / (|size| * entry))`,
/// where `commission` is the entry and the exit commission of this trade's units. Funding
/// payments are not part of a trade's PnL (they go straight to cash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// Units traded; negative for a short trade.
    pub size: f64,
    pub entry_bar: usize,
    pub exit_bar: usize,
    /// Entry and exit bar timestamps, UTC milliseconds.
    pub entry_time_ms: i64,
    pub exit_time_ms: i64,
    /// Fill prices (slippage included).
    pub entry_price: f64,
    pub exit_price: f64,
    pub pnl: f64,
    pub commission: f64,
    pub return_pct: f64,
}

/// An open lot: units bought (or sold short) in one fill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lot {
    pub units: f64,
    pub price: f64,
    pub bar: usize,
}

/// A closed piece of a lot, before it is turned into a [`Trade`] and accumulated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Closed {
    pub units: f64,
    pub entry_price: f64,
    pub entry_bar: usize,
    pub exit_price: f64,
    pub exit_bar: usize,
}

/// Open lots, oldest first. Reductions close the oldest lots first (FIFO), splitting a lot
/// when only part of it is closed, as backtesting.py does without hedging.
#[derive(Debug, Default)]
pub(crate) struct Book {
    lots: Vec<Lot>,
    head: usize,
}

impl Book {
    /// True when no lot is open.
    pub fn is_empty(&self) -> bool {
        self.head == self.lots.len()
    }

    /// Adds a lot.
    pub fn open(&mut self, lot: Lot) {
        if self.is_empty() {
            self.lots.clear();
            self.head = 0;
        }
        self.lots.push(lot);
    }

    /// Closes every open lot at `price` on `bar`, oldest first.
    pub fn close_all(&mut self, price: f64, bar: usize, mut on_close: impl FnMut(Closed)) {
        for lot in &self.lots[self.head..] {
            on_close(Closed {
                units: lot.units,
                entry_price: lot.price,
                entry_bar: lot.bar,
                exit_price: price,
                exit_bar: bar,
            });
        }
        self.lots.clear();
        self.head = 0;
    }

    /// Closes `amount` units (> 0, less than the open total) of the oldest lots at `price`.
    pub fn reduce(&mut self, amount: f64, price: f64, bar: usize, mut on_close: impl FnMut(Closed)) {
        let mut left = amount;
        // A residue this small relative to the amount is floating-point noise, not a position.
        let noise = amount * 1e-12;
        while left > noise && self.head < self.lots.len() {
            let lot = &mut self.lots[self.head];
            let size = lot.units.abs();
            if left >= size {
                on_close(Closed {
                    units: lot.units,
                    entry_price: lot.price,
                    entry_bar: lot.bar,
                    exit_price: price,
                    exit_bar: bar,
                });
                left -= size;
                self.head += 1;
            } else {
                let part = left.copysign(lot.units);
                on_close(Closed {
                    units: part,
                    entry_price: lot.price,
                    entry_bar: lot.bar,
                    exit_price: price,
                    exit_bar: bar,
                });
                lot.units -= part;
                left = 0.0;
            }
        }
    }
}
