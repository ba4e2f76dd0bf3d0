//! Errors of the storage layer; each names the path (file or directory) it is about.

use std::path::PathBuf;

use crate::market::MarketError;

/// A storage error. Every variant that concerns a file or directory carries its path.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The storage configuration (environment variables or flags) is invalid.
    #[error("storage configuration: {0}")]
    Config(String),
    /// A symbol, timeframe or run id that cannot be stored (it becomes a directory name).
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// An argument that cannot be stored (e.g. an empty series).
    #[error("{0}")]
    InvalidInput(String),
    /// The database file or shared directory does not exist.
    #[error("{}: does not exist{hint}", path.display())]
    NotFound { path: PathBuf, hint: String },
    /// Another process holds the single-writer lock.
    #[error("{}: in use by {holder} (one writer at a time: it holds {} with flock, which is released when that process ends)", path.display(), lock.display())]
    InUse {
        path: PathBuf,
        holder: String,
        lock: PathBuf,
    },
    /// Another session holds the PostgreSQL writer lease (an advisory lock).
    #[error("{location}: in use by {holder} (one writer at a time: it holds the PostgreSQL advisory lock, which the server releases when that session ends)")]
    LeaseHeld { location: String, holder: String },
    /// Any other PostgreSQL error (connection, TLS, SQL).
    #[error("{location}: PostgreSQL: {message}")]
    Postgres { location: String, message: String },
    /// The file is not a DuckDB database, or is a DuckDB database that evoflow did not create.
    #[error("{}: not an evoflow database: {reason}; the file was not modified", path.display())]
    Foreign { path: PathBuf, reason: String },
    /// The file claims to be ours but cannot be read back consistently.
    #[error("{}: corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    /// The schema was written by a newer evoflow.
    #[error("{}: schema version {found} is newer than this evoflow supports ({supported}); upgrade evoflow (the file was not modified)", path.display())]
    TooNew { path: PathBuf, found: u32, supported: u32 },
    /// A read-only open of a file whose schema needs a migration first.
    #[error("{}: schema version {found} is older than {supported}; open it once for writing (e.g. `evoflow health`) to migrate it", path.display())]
    NeedsMigration { path: PathBuf, found: u32, supported: u32 },
    /// A write was attempted through a storage opened read-only.
    #[error("{}: opened read-only; this operation writes", path.display())]
    OpenedReadOnly { path: PathBuf },
    /// The file system refused a write because it is mounted read-only or not writable.
    #[error("{}: read-only or not writable: {message}", path.display())]
    ReadOnly { path: PathBuf, message: String },
    /// The file system is full (or a file size limit was hit); nothing already stored was lost.
    #[error("{}: no space left: {message}; the write was rolled back, stored data is intact", path.display())]
    DiskFull { path: PathBuf, message: String },
    /// No bars (or funding) stored for this symbol and timeframe.
    #[error("{location}: no {what} stored for symbol `{symbol}` timeframe `{timeframe}` (see `evoflow data ls`)")]
    NoData {
        location: String,
        what: &'static str,
        symbol: String,
        timeframe: String,
    },
    /// Any other file-system error.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// Any other DuckDB error.
    #[error("{}: DuckDB: {message}", path.display())]
    Database { path: PathBuf, message: String },
    /// Bars or funding rates that fail validation.
    #[error(transparent)]
    Market(#[from] MarketError),
}

impl StorageError {
    /// True for errors caused by what the user supplied (flags, names, files), which the
    /// CLI reports with exit status 2; false for environmental failures (lock held, I/O).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StorageError::Config(_)
                | StorageError::InvalidName { .. }
                | StorageError::InvalidInput(_)
                | StorageError::NotFound { .. }
                | StorageError::Foreign { .. }
                | StorageError::Corrupt { .. }
                | StorageError::TooNew { .. }
                | StorageError::NoData { .. }
                | StorageError::Market(_)
        )
    }

    /// Classifies an I/O error on `path` (read-only file system, full disk, other).
    pub fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> StorageError {
        let path = path.into();
        let message = err.to_string();
        use std::io::ErrorKind as K;
        match err.kind() {
            K::ReadOnlyFilesystem | K::PermissionDenied => StorageError::ReadOnly { path, message },
            K::StorageFull | K::FileTooLarge => StorageError::DiskFull { path, message },
            K::NotFound => StorageError::NotFound {
                path,
                hint: format!(" ({message})"),
            },
            _ => StorageError::Io { path, message },
        }
    }

    /// Classifies a DuckDB error on `path` by its message (full disk, read-only, lock held).
    pub fn db(path: impl Into<PathBuf>, err: duckdb::Error) -> StorageError {
        let path = path.into();
        let message = err.to_string();
        let lower = message.to_ascii_lowercase();
        if lower.contains("no space left") || lower.contains("file too large") || lower.contains("disk quota") {
            StorageError::DiskFull { path, message }
        } else if lower.contains("read-only file system") || lower.contains("permission denied") {
            StorageError::ReadOnly { path, message }
        } else if lower.contains("could not set lock") || lower.contains("conflicting lock") {
            let holder = super::lock::read_holder(&super::lock::lock_path_for(&path))
                .unwrap_or_else(|| format!("another process ({message})"));
            let lock = super::lock::lock_path_for(&path);
            StorageError::InUse { path, holder, lock }
        } else {
            StorageError::Database { path, message }
        }
    }
}
