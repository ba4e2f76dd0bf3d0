//! A DuckDB database file opened the safe way: writer lock taken, header checked, schema inspected before any write, then created or migrated.

use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection};

use super::lock::WriterLock;
use super::schema::{self, Inspection, SCHEMA_VERSION};
use super::{OpenMode, StorageError};

/// An open evoflow database file with its schema verified.
pub struct DbFile {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) mode: OpenMode,
    _lock: Option<WriterLock>,
    /// The last status document this writer published ([`super::run_status`]): a stored
    /// batch of generations updates it without reading the run back.
    pub(crate) published: std::sync::Mutex<Option<super::run_status::RunOverview>>,
    /// The runs this handle created, with what it has stored of each since
    /// ([`super::batch`]: their next batches have no earlier attempt to replace).
    pub(crate) created: std::sync::Mutex<std::collections::HashMap<String, super::batch::Stored>>,
}

impl std::fmt::Debug for DbFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbFile")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish()
    }
}

fn open_read_only(path: &Path) -> Result<Connection, StorageError> {
    let config = Config::default()
        .access_mode(AccessMode::ReadOnly)
        .map_err(|e| StorageError::db(path, e))?;
    Connection::open_with_flags(path, config).map_err(|e| StorageError::db(path, e))
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl DbFile {
    /// Opens `path`. Read-only: the file must exist and hold the current schema; many
    /// processes may do this at once. Read-write: takes the single-writer lock
    /// (`PATH.lock`), creates the file and schema if missing, migrates an older schema.
    /// Either way a file that is not a DuckDB database, a DuckDB database without
    /// evoflow's schema, or a newer schema is refused before anything is written to it.
    pub fn open(path: &Path, mode: OpenMode) -> Result<DbFile, StorageError> {
        match mode {
            OpenMode::ReadOnly => {
                if !path.exists() {
                    return Err(StorageError::NotFound {
                        path: path.to_path_buf(),
                        hint: " (no evoflow database yet; create it with `evoflow data import`)".into(),
                    });
                }
                schema::check_magic(path)?;
                let conn = open_read_only(path)?;
                match schema::inspect(&conn, path)? {
                    Inspection::Empty => Err(StorageError::Foreign {
                        path: path.to_path_buf(),
                        reason: "an empty DuckDB database (no evoflow schema)".into(),
                    }),
                    // Version 1 files read as they are (their hall of fame has no validation).
                    Inspection::Version(v) if v < schema::OLDEST_READABLE => Err(StorageError::NeedsMigration {
                        path: path.to_path_buf(),
                        found: v,
                        supported: SCHEMA_VERSION,
                    }),
                    Inspection::Version(_) => Ok(DbFile {
                        conn,
                        path: path.to_path_buf(),
                        mode,
                        _lock: None,
                        published: Default::default(),
                        created: Default::default(),
                    }),
                }
            }
            OpenMode::ReadWrite => {
                let dir = parent_dir(path);
                if !dir.is_dir() {
                    return Err(StorageError::NotFound {
                        path: dir,
                        hint: format!(" (the directory for database {} is missing)", path.display()),
                    });
                }
                if path.is_dir() {
                    return Err(StorageError::Foreign {
                        path: path.to_path_buf(),
                        reason: "a directory, not a file".into(),
                    });
                }
                let lock = WriterLock::acquire(path)?;
                let existed = path.exists();
                if existed {
                    schema::check_magic(path)?;
                }
                // One thread: the writer's statements are small, and DuckDB's pool would take
                // CPUs from the evolution's workers (and cost time to start and stop).
                let config = Config::default().threads(1).map_err(|e| StorageError::db(path, e))?;
                let conn = Connection::open_with_flags(path, config).map_err(|e| StorageError::db(path, e))?;
                // Inspected before anything is written: a foreign or newer file is closed
                // unmodified (one DuckDB instance instead of a read-only one first: opening
                // an instance costs tens of milliseconds of every run).
                let found = if existed {
                    schema::inspect(&conn, path)?
                } else {
                    Inspection::Empty
                };
                schema::ensure(&conn, path, &found)?;
                Ok(DbFile {
                    conn,
                    path: path.to_path_buf(),
                    mode,
                    _lock: Some(lock),
                    published: Default::default(),
                    created: Default::default(),
                })
            }
        }
    }

    /// Fails with [`StorageError::OpenedReadOnly`] unless opened for writing.
    pub fn require_write(&self) -> Result<(), StorageError> {
        match self.mode {
            OpenMode::ReadWrite => Ok(()),
            OpenMode::ReadOnly => Err(StorageError::OpenedReadOnly {
                path: self.path.clone(),
            }),
        }
    }

    /// Maps a DuckDB error on this file.
    pub fn err(&self, e: duckdb::Error) -> StorageError {
        StorageError::db(&self.path, e)
    }

    /// Runs `f` inside a transaction: committed when it returns `Ok`, rolled back otherwise
    /// (so a failed or interrupted write leaves what was stored before).
    pub fn in_transaction<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        self.require_write()?;
        self.conn.execute_batch("BEGIN TRANSACTION").map_err(|e| self.err(e))?;
        match f(&self.conn) {
            Ok(v) => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    Err(self.err(e))
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}
