//! The PostgreSQL backend (`--storage postgres`, Neon included): every table in one database, versioned migrations, COPY-batched writes, an advisory-lock writer lease, and readers that never wait for the writer.

mod batch;
mod lease;
mod market;
mod results;
mod run_status;
mod store;
mod tls;
mod url;

use std::cell::{RefCell, RefMut};
use std::path::{Path, PathBuf};

use postgres::{Client, NoTls, Transaction};

use super::fsutil::hostname;
use super::health::{self, ScratchOps};
use super::{BackendKind, HealthCheck, OpenMode, StorageError};

pub use url::{PgUrl, SslMode};

refinery::embed_migrations!("src/storage/postgres/migrations");

/// The newest migration this build knows (the `V<N>__*.sql` files in `migrations/`).
pub const PG_SCHEMA_VERSION: i32 = 3;
/// Advisory lock keys that serialise concurrent migrations of one database.
const MIGRATION_LOCK: (i32, i32) = (0x6576_6f66, 2);

/// Maps a PostgreSQL error on `location` (the redacted URL).
pub(crate) fn pg_err(location: &str, e: &postgres::Error) -> StorageError {
    let message = match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(src) if !e.to_string().contains(&src.to_string()) => format!("{e}: {src}"),
            _ => e.to_string(),
        },
    };
    StorageError::Postgres {
        location: location.to_string(),
        message,
    }
}

/// One PostgreSQL database holding market data and results. Many processes may open it
/// for reading and for writing market data at once; results need the writer lease (see
/// [`Storage::claim_writer`](super::Storage::claim_writer)), which the first results write
/// takes when it was not claimed before.
pub struct PostgresStorage {
    client: RefCell<Client>,
    location: PathBuf,
    loc: String,
    mode: OpenMode,
    leased: bool,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("location", &self.location)
            .field("mode", &self.mode)
            .field("leased", &self.leased)
            .finish()
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        if self.leased {
            lease::release(self.client.get_mut());
        }
    }
}

impl PostgresStorage {
    /// Connects to `url`. Read-write: creates or migrates the schema (refinery, serialised
    /// by an advisory lock). Read-only: the schema must be current; the session is set
    /// `default_transaction_read_only`. A schema newer than this build is refused untouched.
    pub fn open(url: &PgUrl, mode: OpenMode) -> Result<PostgresStorage, StorageError> {
        let loc = url.redacted().display().to_string();
        let mut config = url.config()?;
        config.application_name(&format!("evoflow {}:{}", hostname(), std::process::id()));
        let connected = match url.ssl_mode {
            SslMode::Disable => config.connect(NoTls),
            _ => config.connect(tls::connector(url)?),
        };
        let mut client = connected.map_err(|e| pg_err(&loc, &e))?;
        let found = schema_version(&mut client, &loc)?;
        let path = PathBuf::from(&loc);
        if found > PG_SCHEMA_VERSION {
            return Err(StorageError::TooNew {
                path,
                found: found as u32,
                supported: PG_SCHEMA_VERSION as u32,
            });
        }
        match mode {
            OpenMode::ReadWrite if found < PG_SCHEMA_VERSION => migrate(&mut client, &loc)?,
            OpenMode::ReadWrite => {}
            OpenMode::ReadOnly if found == 0 => {
                return Err(StorageError::NotFound {
                    path,
                    hint: " (no evoflow schema in this database yet; open it for writing once, e.g. `evoflow health --storage postgres`)".into(),
                })
            }
            OpenMode::ReadOnly if found < PG_SCHEMA_VERSION => {
                return Err(StorageError::NeedsMigration {
                    path,
                    found: found as u32,
                    supported: PG_SCHEMA_VERSION as u32,
                })
            }
            OpenMode::ReadOnly => client
                .batch_execute("SET default_transaction_read_only = on")
                .map_err(|e| pg_err(&loc, &e))?,
        }
        Ok(PostgresStorage {
            client: RefCell::new(client),
            location: path,
            loc,
            mode,
            leased: false,
        })
    }

    fn c(&self) -> RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    fn err(&self, e: postgres::Error) -> StorageError {
        pg_err(&self.loc, &e)
    }

    fn require_write(&self) -> Result<(), StorageError> {
        match self.mode {
            OpenMode::ReadWrite => Ok(()),
            OpenMode::ReadOnly => Err(StorageError::OpenedReadOnly {
                path: self.location.clone(),
            }),
        }
    }

    /// Write mode and the writer lease (taken now if not yet held).
    fn require_lease(&mut self) -> Result<(), StorageError> {
        self.require_write()?;
        if !self.leased {
            lease::acquire(self.client.get_mut(), &self.loc)?;
            self.leased = true;
        }
        Ok(())
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise
    /// (also when the process dies before the commit).
    fn in_tx<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StorageError>) -> Result<T, StorageError> {
        self.require_write()?;
        let mut client = self.c();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let v = f(&mut tx)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(v)
    }

    fn corrupt(&self, reason: String) -> StorageError {
        StorageError::Corrupt {
            path: self.location.clone(),
            reason,
        }
    }

    /// A stored non-negative integer as `u32`/`u64`, or a corruption error naming `what`.
    fn unsigned<T: TryFrom<i64>>(&self, what: &str, v: i64) -> Result<T, StorageError> {
        T::try_from(v).map_err(|_| self.corrupt(format!("{what} {v} is out of range")))
    }

    /// The backend name for the health report.
    pub fn backend(&self) -> BackendKind {
        BackendKind::Postgres
    }

    /// The redacted URL.
    pub fn location(&self) -> &Path {
        &self.location
    }

    fn health(&mut self) -> Vec<HealthCheck> {
        health::scratch_checks(self)
    }
}

/// The highest applied migration, 0 when the database has no evoflow schema.
fn schema_version(client: &mut Client, loc: &str) -> Result<i32, StorageError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| pg_err(loc, &e))?;
    if !exists {
        return Ok(0);
    }
    let v: Option<i32> = client
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| pg_err(loc, &e))?;
    Ok(v.unwrap_or(0))
}

fn migrate(client: &mut Client, loc: &str) -> Result<(), StorageError> {
    let (k1, k2) = MIGRATION_LOCK;
    client
        .execute("SELECT pg_advisory_lock($1, $2)", &[&k1, &k2])
        .map_err(|e| pg_err(loc, &e))?;
    let result = migrations::runner()
        .run(client)
        .map(|_| ())
        .map_err(|e| StorageError::Postgres {
            location: loc.to_string(),
            message: format!("schema migration failed: {e}"),
        });
    let unlocked = client.execute("SELECT pg_advisory_unlock($1, $2)", &[&k1, &k2]);
    result?;
    unlocked.map_err(|e| pg_err(loc, &e))?;
    Ok(())
}

impl ScratchOps for PostgresStorage {
    fn rolling_mean_close(&self, symbol: &str, timeframe: &str, window: usize) -> Result<Vec<f64>, StorageError> {
        let sql = format!(
            "SELECT avg(close) OVER (ORDER BY ts_ms ROWS BETWEEN {} PRECEDING AND CURRENT ROW) FROM bars
             WHERE symbol = $1 AND timeframe = $2 ORDER BY ts_ms",
            window.saturating_sub(1)
        );
        let rows = self.c().query(&sql, &[&symbol, &timeframe]).map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| r.try_get::<_, f64>(0).map_err(|e| self.err(e)))
            .collect()
    }
}
