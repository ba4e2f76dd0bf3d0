//! The storage health check: location, writability, free space, then real write/read round trips in a scratch namespace that is cleaned up.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::db::parent_dir;
use super::fsutil::{free_space, probe_writable, unique_suffix};
use super::records::{fnv1a64, Checkpoint, TimeRange};
use super::{open_storage, BackendKind, OpenMode, Storage, StorageConfig, StorageError};
use crate::market::Bars;

/// Below this much free space the storage is reported degraded.
pub const LOW_SPACE_BYTES: u64 = 1 << 30;
const SCRATCH_BARS: usize = 500;
const WINDOW: usize = 20;

/// One check of a health report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheck {
    pub name: String,
    pub ok: bool,
    pub latency_ms: f64,
    pub detail: String,
    /// A failing critical check makes the storage unhealthy; a failing non-critical one
    /// makes it degraded.
    #[serde(skip)]
    pub critical: bool,
}

/// Overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// What `evoflow health --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub backend: BackendKind,
    pub location: String,
    pub checks: Vec<HealthCheck>,
}

impl HealthReport {
    /// Builds a report, deriving the status from the checks.
    pub fn new(backend: BackendKind, location: &Path, checks: Vec<HealthCheck>) -> HealthReport {
        let status = if checks.iter().any(|c| !c.ok && c.critical) {
            HealthStatus::Unhealthy
        } else if checks.iter().any(|c| !c.ok) {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        };
        HealthReport {
            status,
            backend,
            location: location.display().to_string(),
            checks,
        }
    }
}

/// Runs `f` and records it as a check named `name`.
fn timed(name: &str, critical: bool, f: impl FnOnce() -> Result<String, String>) -> HealthCheck {
    let start = Instant::now();
    let result = f();
    let latency_ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let (ok, detail) = match result {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    HealthCheck {
        name: name.to_string(),
        ok,
        latency_ms,
        detail,
        critical,
    }
}

/// Backend-specific queries the scratch checks need.
pub(crate) trait ScratchOps: Storage {
    /// Rolling mean of `close` over `window` bars, computed by the backend's SQL window function.
    fn rolling_mean_close(&self, symbol: &str, timeframe: &str, window: usize) -> Result<Vec<f64>, StorageError>;
}

fn scratch_bars() -> Bars {
    let mut bars = Bars::with_capacity(SCRATCH_BARS);
    let mut price = 100.0f64;
    for i in 0..SCRATCH_BARS {
        let step = ((i * 7919) % 13) as f64 / 10.0 - 0.6;
        let open = price;
        price = (price + step).max(1.0);
        let (hi, lo) = (open.max(price) + 0.25, open.min(price) - 0.25);
        bars.push(
            1_600_000_000_000 + i as i64 * 3_600_000,
            open,
            hi,
            lo,
            price,
            1000.0 + i as f64,
        );
    }
    bars
}

/// The round trips of the real write and read paths, in a scratch namespace (a unique
/// symbol and run id) removed at the end whatever happened before.
pub(crate) fn scratch_checks<S: ScratchOps>(s: &mut S) -> Vec<HealthCheck> {
    let tag = format!("_health_{:016x}", fnv1a64(unique_suffix().as_bytes()));
    let (symbol, timeframe, run_id) = (tag.clone(), "1h", tag.clone());
    let bars = scratch_bars();
    let mut checks = Vec::new();
    checks.push(timed("bars_roundtrip", true, || {
        let n = s.write_bars(&symbol, timeframe, &bars).map_err(|e| e.to_string())?;
        let back = s
            .read_bars(&symbol, timeframe, TimeRange::all())
            .map_err(|e| e.to_string())?;
        if back != bars {
            return Err(format!("wrote {n} bars but read back {} different ones", back.len()));
        }
        let mid = bars.timestamp_ms[100];
        let part = s
            .read_bars(&symbol, timeframe, TimeRange::between(mid, mid + 9 * 3_600_000))
            .map_err(|e| e.to_string())?;
        if part != bars.slice(100..110) {
            return Err("a time-range read returned the wrong bars".into());
        }
        Ok(format!(
            "wrote {n} bars to scratch symbol {symbol}, read them back equal (whole and a 10-bar range)"
        ))
    }));
    checks.push(timed("window_query", true, || {
        let got = s
            .rolling_mean_close(&symbol, timeframe, WINDOW)
            .map_err(|e| e.to_string())?;
        let want: Vec<f64> = (0..bars.len())
            .map(|i| {
                let lo = (i + 1).saturating_sub(WINDOW);
                bars.close[lo..=i].iter().sum::<f64>() / (i + 1 - lo) as f64
            })
            .collect();
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        if got.len() != want.len() || worst > 1e-9 {
            return Err(format!(
                "rolling mean over {WINDOW} bars differs (rows {} vs {}, max error {worst})",
                got.len(),
                want.len()
            ));
        }
        Ok(format!(
            "AVG(close) OVER (ROWS {} PRECEDING) matched on {} rows",
            WINDOW - 1,
            got.len()
        ))
    }));
    let payload: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let checkpoint = Checkpoint {
        run_id: run_id.clone(),
        generation: 7,
        payload,
    };
    let mut in_use = false;
    let mut cp_check = timed("checkpoint_roundtrip", true, || {
        let r = s
            .write_checkpoint(&checkpoint)
            .and_then(|_| s.read_checkpoint(&run_id, None));
        match r {
            Ok(Some(back)) if back == checkpoint => Ok(format!(
                "wrote and read back a {} byte checkpoint (checksum verified)",
                checkpoint.payload.len()
            )),
            Ok(_) => Err("the checkpoint read back differs from the one written".into()),
            Err(e @ (StorageError::InUse { .. } | StorageError::LeaseHeld { .. })) => {
                in_use = true;
                Err(format!("results database not checked: {e}"))
            }
            Err(e) => Err(e.to_string()),
        }
    });
    // The coordinator holding the results database is normal operation: degraded, not unhealthy.
    cp_check.critical = !in_use;
    checks.push(cp_check);
    checks.push(timed("cleanup", true, || {
        s.delete_market(&symbol, timeframe).map_err(|e| e.to_string())?;
        if !in_use {
            s.delete_run(&run_id).map_err(|e| e.to_string())?;
        }
        match s.read_bars(&symbol, timeframe, TimeRange::all()) {
            Err(StorageError::NoData { .. }) => {}
            Ok(_) => return Err(format!("scratch symbol {symbol} is still there after deletion")),
            Err(e) => return Err(e.to_string()),
        }
        if !in_use && s.read_checkpoint(&run_id, None).map_err(|e| e.to_string())?.is_some() {
            return Err(format!("scratch checkpoint of {run_id} is still there after deletion"));
        }
        Ok(format!("removed scratch symbol and run {symbol}"))
    }));
    checks
}

fn location_checks(dir: &Path, what: &str, checks: &mut Vec<HealthCheck>) -> bool {
    let exists = timed("location", true, || {
        if dir.is_dir() {
            Ok(format!("{what} {} exists", dir.display()))
        } else if dir.exists() {
            Err(format!("{}: not a directory", dir.display()))
        } else {
            Err(format!(
                "{}: does not exist{}",
                dir.display(),
                if what == "shared directory" {
                    " (is the volume mounted?)"
                } else {
                    ""
                }
            ))
        }
    });
    let ok = exists.ok;
    checks.push(exists);
    if !ok {
        return false;
    }
    checks.push(timed("writable", true, || {
        probe_writable(dir)
            .map(|_| format!("created, wrote, fsynced and removed a probe file in {}", dir.display()))
            .map_err(|e| e.to_string())
    }));
    checks.push(timed("free_space", false, || {
        let free = free_space(dir).map_err(|e| e.to_string())?;
        let text = format!("{:.2} GiB free in {}", free as f64 / (1u64 << 30) as f64, dir.display());
        if free < LOW_SPACE_BYTES {
            Err(format!("only {text} (below 1 GiB)"))
        } else {
            Ok(text)
        }
    }));
    true
}

/// Checks only the configured storage's location (exists, writable, free space), without
/// opening the database: safe to run next to a live writer (e.g. as a container healthcheck).
pub fn check_location(config: &StorageConfig) -> HealthReport {
    let mut checks = Vec::new();
    let location = config.location().to_path_buf();
    let (dir, what) = match config.backend {
        BackendKind::Local => (parent_dir(&config.db_path), "database directory"),
        BackendKind::Shared => (location.clone(), "shared directory"),
        // A server, not a directory: nothing to check on disk; `evoflow health` opens it.
        BackendKind::Postgres => {
            checks.push(HealthCheck {
                name: "location".into(),
                ok: false,
                latency_ms: 0.0,
                detail: "--location-only checks a directory; a postgres backend has none \
                         (run `evoflow health` without --location-only)"
                    .into(),
                critical: true,
            });
            return HealthReport::new(config.backend, &location, checks);
        }
    };
    location_checks(&dir, what, &mut checks);
    HealthReport::new(config.backend, &location, checks)
}

/// Checks the configured storage end to end: its location exists, is writable and has
/// free space; it opens for writing (schema, lock); and bars, a window query and a
/// checkpoint round-trip through it in a scratch namespace that is then removed. An
/// unusable location (missing, read-only, corrupt or foreign database, held by another
/// writer) is reported in the checks, with its path, and makes the report unhealthy.
///
/// For a local database file that does not exist yet, the round trips run on a scratch
/// database in the same directory (removed afterwards), so the check creates nothing.
pub fn check_health(config: &StorageConfig) -> HealthReport {
    let mut checks = Vec::new();
    let location = config.location().to_path_buf();
    let (dir, what) = match config.backend {
        BackendKind::Local => (parent_dir(&config.db_path), "database directory"),
        BackendKind::Shared => (location.clone(), "shared directory"),
        // A server, not a directory: the open and the round trips below are the checks.
        BackendKind::Postgres => (PathBuf::new(), ""),
    };
    if config.backend != BackendKind::Postgres && !location_checks(&dir, what, &mut checks) {
        return HealthReport::new(config.backend, &location, checks);
    }
    let mut scratch_db: Option<PathBuf> = None;
    let mut target = config.clone();
    if config.backend == BackendKind::Local && !config.db_path.exists() {
        let p = dir.join(format!(".evoflow-health-{}.duckdb", unique_suffix()));
        target.db_path = p.clone();
        scratch_db = Some(p);
    }
    let mut storage: Option<Box<dyn Storage>> = None;
    let mut held_elsewhere = false;
    let mut open = timed("open", true, || match open_storage(&target, OpenMode::ReadWrite) {
        Ok(s) => {
            storage = Some(s);
            Ok(match &scratch_db {
                Some(p) => format!(
                    "{} does not exist yet; opened a scratch database {} in its directory",
                    config.db_path.display(),
                    p.display()
                ),
                None => format!("opened {} for writing (schema checked)", target.location().display()),
            })
        }
        Err(e) => {
            held_elsewhere = matches!(e, StorageError::InUse { .. } | StorageError::LeaseHeld { .. });
            Err(e.to_string())
        }
    });
    // Another live writer holding the database is normal operation: degraded, not unhealthy.
    open.critical = !held_elsewhere;
    checks.push(open);
    if let Some(mut s) = storage {
        checks.extend(s.health_check());
        drop(s);
    }
    if let Some(p) = scratch_db {
        let mut wal = p.clone().into_os_string();
        wal.push(".wal");
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_file(PathBuf::from(wal));
    }
    HealthReport::new(config.backend, &location, checks)
}
