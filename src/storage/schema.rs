//! The database schema (version 2), its creation, and the version check and migration run on every open.

use std::path::Path;

use duckdb::Connection;

use super::StorageError;

/// The schema version this code writes. Files with a lower version are migrated on a
/// read-write open; files with a higher one are refused untouched.
pub const SCHEMA_VERSION: u32 = 2;
/// The oldest version a read-only open accepts without migrating: version 1 differs only
/// by the hall of fame's missing `validation_json`, which reads as `null`.
pub const OLDEST_READABLE: u32 = 1;

/// The tables evoflow creates; a database holding none of them but other tables is foreign.
pub const TABLES: [&str; 9] = [
    "schema_version",
    "bars",
    "funding",
    "runs",
    "generations",
    "individuals",
    "hall_of_fame",
    "checkpoints",
    "fitness_cache",
];

/// Version 1 of the schema. Timestamps are UTC milliseconds; JSON is stored as text.
const CREATE_V1: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL, written_by VARCHAR NOT NULL, updated_at_ms BIGINT NOT NULL);
CREATE TABLE bars (
    symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts_ms BIGINT NOT NULL,
    open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL);
CREATE TABLE funding (
    symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts_ms BIGINT NOT NULL, rate DOUBLE NOT NULL);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY, config_json VARCHAR NOT NULL, seed UBIGINT NOT NULL,
    data_fingerprint VARCHAR NOT NULL, code_version VARCHAR NOT NULL, status VARCHAR NOT NULL,
    started_at_ms BIGINT NOT NULL, ended_at_ms BIGINT);
CREATE TABLE generations (
    run_id VARCHAR NOT NULL, generation INTEGER NOT NULL, best DOUBLE, mean DOUBLE, std DOUBLE,
    diversity DOUBLE, evaluations UBIGINT NOT NULL, cache_hits UBIGINT NOT NULL, elapsed_ms UBIGINT NOT NULL);
CREATE TABLE individuals (
    run_id VARCHAR NOT NULL, generation INTEGER NOT NULL, seed_name VARCHAR NOT NULL, genome_json VARCHAR NOT NULL,
    genome_hash VARCHAR NOT NULL, fitness DOUBLE, sharpe DOUBLE, return_pct DOUBLE, max_drawdown_pct DOUBLE,
    num_trades UBIGINT NOT NULL);
CREATE TABLE hall_of_fame (
    run_id VARCHAR NOT NULL, rank INTEGER NOT NULL, seed_name VARCHAR NOT NULL, genome_json VARCHAR NOT NULL,
    fitness DOUBLE, train_stats_json VARCHAR NOT NULL, test_stats_json VARCHAR NOT NULL);
CREATE TABLE checkpoints (
    run_id VARCHAR NOT NULL, generation INTEGER NOT NULL, created_at_ms BIGINT NOT NULL,
    payload BLOB, file VARCHAR, bytes UBIGINT NOT NULL, checksum VARCHAR NOT NULL);
CREATE TABLE fitness_cache (
    data_fingerprint VARCHAR NOT NULL, objective VARCHAR NOT NULL, genome_hash VARCHAR NOT NULL,
    genome_json VARCHAR NOT NULL, fitness DOUBLE NOT NULL, created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (data_fingerprint, objective, genome_hash));
";

/// Migrations: `(to_version, sql)` upgrades a file from `to_version - 1`; a new file is
/// version 1 plus every migration. A later version appends here and bumps [`SCHEMA_VERSION`].
/// * 2: `hall_of_fame.validation_json` (PSR, DSR and inputs, warnings, PBO); version 1 rows
///   keep NULL there and read as `null`.
const MIGRATIONS: &[(u32, &str)] = &[(2, "ALTER TABLE hall_of_fame ADD COLUMN validation_json VARCHAR")];

/// What an existing database file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspection {
    /// No tables at all: a new file, safe to initialise.
    Empty,
    /// An evoflow database with this schema version.
    Version(u32),
}

/// The first 16 bytes of a DuckDB file hold the magic `DUCK` at offset 8. Files that are
/// not DuckDB databases (random bytes, a CSV, an empty file) are refused before DuckDB
/// opens them, so they are never modified.
pub fn check_magic(path: &Path) -> Result<(), StorageError> {
    use std::io::Read;
    let mut head = [0u8; 12];
    let mut file = std::fs::File::open(path).map_err(|e| StorageError::io(path, &e))?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(StorageError::io(path, &e)),
        }
    }
    if n < head.len() || &head[8..12] != b"DUCK" {
        return Err(StorageError::Foreign {
            path: path.to_path_buf(),
            reason: "not a DuckDB database file (no DuckDB header)".into(),
        });
    }
    Ok(())
}

/// Looks at the tables of an open database without changing it.
pub fn inspect(conn: &Connection, path: &Path) -> Result<Inspection, StorageError> {
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() ORDER BY 1",
            )
            .map_err(|e| StorageError::db(path, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| StorageError::db(path, e))?;
        rows.collect::<Result<_, _>>().map_err(|e| StorageError::db(path, e))?
    };
    if tables.is_empty() {
        return Ok(Inspection::Empty);
    }
    if !tables.iter().any(|t| t == "schema_version") {
        let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        return Err(StorageError::Foreign {
            path: path.to_path_buf(),
            reason: format!(
                "a DuckDB database without evoflow's `schema_version` table (it has: {})",
                shown.join(", ")
            ),
        });
    }
    let version: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .map_err(|e| StorageError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("cannot read schema_version: {e}"),
        })?;
    let version = version.ok_or_else(|| StorageError::Corrupt {
        path: path.to_path_buf(),
        reason: "the schema_version table is empty".into(),
    })?;
    let version = u32::try_from(version).map_err(|_| StorageError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("schema version {version} is out of range"),
    })?;
    if version > SCHEMA_VERSION {
        return Err(StorageError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let missing: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !tables.iter().any(|x| x == t))
        .collect();
    if version == SCHEMA_VERSION && !missing.is_empty() {
        return Err(StorageError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "schema version {version} but tables are missing: {}",
                missing.join(", ")
            ),
        });
    }
    Ok(Inspection::Version(version))
}

/// Creates the schema in an empty database, or migrates an older one, in one transaction.
pub fn ensure(conn: &Connection, path: &Path, found: &Inspection) -> Result<(), StorageError> {
    let now = now_ms();
    let written_by = format!("evoflow {}", crate::BUILD);
    let sql = match found {
        Inspection::Empty => {
            let steps: Vec<&str> = MIGRATIONS.iter().map(|(_, sql)| *sql).collect();
            format!(
                "BEGIN TRANSACTION;{CREATE_V1}{};INSERT INTO schema_version VALUES ({SCHEMA_VERSION}, '{written_by}', {now});COMMIT;",
                steps.join(";")
            )
        }
        Inspection::Version(v) if *v == SCHEMA_VERSION => return Ok(()),
        Inspection::Version(v) => {
            let mut sql = String::from("BEGIN TRANSACTION;");
            for (to, step) in MIGRATIONS.iter().filter(|(to, _)| to > v) {
                sql.push_str(step);
                sql.push_str(&format!(
                    ";INSERT INTO schema_version VALUES ({to}, '{written_by}', {now});"
                ));
            }
            sql.push_str("COMMIT;");
            sql
        }
    };
    conn.execute_batch(&sql).map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        StorageError::db(path, e)
    })
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
