//! Storage configuration: backend choice and locations from environment variables and CLI flags, validated in one place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{PgUrl, StorageError};

/// Default database file of the local backend.
pub const DEFAULT_DB: &str = "./evoflow.duckdb";
/// File name of the results database inside the shared directory.
pub const SHARED_RESULTS_DB: &str = "results.duckdb";

/// Which storage backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// One DuckDB file on local disk.
    Local,
    /// A directory seen by every process (EFS/NFS): Parquet market data, one-writer results database.
    Shared,
    /// A PostgreSQL database (Neon included): concurrent readers, an advisory-lock writer lease.
    Postgres,
}

impl BackendKind {
    /// Parses `local`, `shared`, `efs` (an alias of `shared`) or `postgres` (aliases
    /// `postgresql`, `pg`), case-insensitively.
    pub fn parse(text: &str) -> Option<BackendKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "local" => Some(BackendKind::Local),
            "shared" | "efs" => Some(BackendKind::Shared),
            "postgres" | "postgresql" | "pg" => Some(BackendKind::Postgres),
            _ => None,
        }
    }

    /// `local`, `shared` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Local => "local",
            BackendKind::Shared => "shared",
            BackendKind::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a storage is opened for reading only (many processes at once) or for writing
/// (one process; takes the single-writer lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    ReadOnly,
    ReadWrite,
}

/// Storage settings given on the command line; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct StorageOverrides {
    /// `--storage local|shared|efs`.
    pub backend: Option<String>,
    /// `--db PATH` (local backend).
    pub db: Option<PathBuf>,
    /// `--shared-dir DIR` (shared backend).
    pub shared_dir: Option<PathBuf>,
    /// `--pg-url URL` (postgres backend).
    pub pg_url: Option<String>,
}

/// A validated storage configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    pub backend: BackendKind,
    /// The local database file (used by the local backend).
    pub db_path: PathBuf,
    /// The shared directory (always `Some` for the shared backend).
    pub shared_dir: Option<PathBuf>,
    /// The connection string (always `Some` for the postgres backend).
    pub pg_url: Option<PgUrl>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig::local(DEFAULT_DB)
    }
}

impl StorageConfig {
    /// The local backend on `db_path`.
    pub fn local(db_path: impl Into<PathBuf>) -> Self {
        StorageConfig {
            backend: BackendKind::Local,
            db_path: db_path.into(),
            shared_dir: None,
            pg_url: None,
        }
    }

    /// The shared backend on directory `dir`.
    pub fn shared(dir: impl Into<PathBuf>) -> Self {
        StorageConfig {
            backend: BackendKind::Shared,
            db_path: PathBuf::from(DEFAULT_DB),
            shared_dir: Some(dir.into()),
            pg_url: None,
        }
    }

    /// The postgres backend on `url`.
    pub fn postgres(url: PgUrl) -> Self {
        StorageConfig {
            backend: BackendKind::Postgres,
            db_path: PathBuf::from(DEFAULT_DB),
            shared_dir: None,
            pg_url: Some(url),
        }
    }

    /// Reads `EVOFLOW_STORAGE` (alias `STORAGE_BACKEND`), `EVOFLOW_DB`, `EVOFLOW_SHARED_DIR`
    /// (alias `EFS_MOUNT_PATH`) from the process environment.
    pub fn from_env() -> Result<Self, StorageError> {
        Self::resolve(|k| std::env::var(k).ok(), &StorageOverrides::default())
    }

    /// The configuration from the process environment with CLI overrides applied.
    pub fn from_env_and_flags(flags: &StorageOverrides) -> Result<Self, StorageError> {
        Self::resolve(|k| std::env::var(k).ok(), flags)
    }

    /// Resolves the configuration from environment lookups (`env(name)`) and CLI flags.
    /// Precedence: flag, then `EVOFLOW_*` variable, then its alias, then the default
    /// (`local`, `./evoflow.duckdb`). Empty variables count as unset. Errors name the
    /// variable or flag at fault: an unknown backend, the shared backend without a
    /// directory, `--db` with the shared backend, `--shared-dir` with the local backend.
    pub fn resolve(env: impl Fn(&str) -> Option<String>, flags: &StorageOverrides) -> Result<Self, StorageError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let (backend_text, source) = match (&flags.backend, var("EVOFLOW_STORAGE"), var("STORAGE_BACKEND")) {
            (Some(f), _, _) => (Some(f.clone()), "--storage"),
            (None, Some(v), _) => (Some(v), "EVOFLOW_STORAGE"),
            (None, None, Some(v)) => (Some(v), "STORAGE_BACKEND"),
            (None, None, None) => (None, ""),
        };
        let backend = match backend_text {
            None => BackendKind::Local,
            Some(text) => BackendKind::parse(&text).ok_or_else(|| {
                StorageError::Config(format!(
                    "{source}=`{text}`: unknown backend (expected local, shared, efs or postgres)"
                ))
            })?,
        };
        let db_path = match (&flags.db, var("EVOFLOW_DB")) {
            (Some(p), _) => p.clone(),
            (None, Some(v)) => PathBuf::from(v),
            (None, None) => PathBuf::from(DEFAULT_DB),
        };
        let shared_dir = match (&flags.shared_dir, var("EVOFLOW_SHARED_DIR"), var("EFS_MOUNT_PATH")) {
            (Some(p), _, _) => Some(p.clone()),
            (None, Some(v), _) | (None, None, Some(v)) => Some(PathBuf::from(v)),
            (None, None, None) => None,
        };
        let pg_text = match (&flags.pg_url, var("EVOFLOW_PG_URL"), var("DATABASE_URL")) {
            (Some(u), _, _) => Some((u.clone(), "--pg-url")),
            (None, Some(u), _) => Some((u, "EVOFLOW_PG_URL")),
            (None, None, Some(u)) => Some((u, "DATABASE_URL")),
            (None, None, None) => None,
        };
        if backend != BackendKind::Postgres && flags.pg_url.is_some() {
            return Err(StorageError::Config(format!(
                "--pg-url is given but the backend is {backend}; add --storage postgres"
            )));
        }
        if backend == BackendKind::Postgres {
            if flags.db.is_some() || flags.shared_dir.is_some() {
                return Err(StorageError::Config(
                    "--db and --shared-dir are for the DuckDB backends; the postgres backend takes --pg-url".into(),
                ));
            }
            let (text, source) = pg_text.ok_or_else(|| {
                StorageError::Config(
                    "the postgres backend needs a connection string: pass --pg-url URL or set EVOFLOW_PG_URL (or DATABASE_URL)"
                        .into(),
                )
            })?;
            return Ok(StorageConfig::postgres(PgUrl::parse(&text, source)?));
        }
        match backend {
            BackendKind::Local if flags.shared_dir.is_some() => {
                return Err(StorageError::Config(
                    "--shared-dir is given but the backend is local; add --storage shared".into(),
                ))
            }
            BackendKind::Shared if flags.db.is_some() => {
                return Err(StorageError::Config(format!(
                    "--db is for the local backend; the shared backend keeps its database in the shared directory ({SHARED_RESULTS_DB})"
                )))
            }
            BackendKind::Shared if shared_dir.is_none() => {
                return Err(StorageError::Config(
                    "the shared backend needs a directory: pass --shared-dir DIR or set EVOFLOW_SHARED_DIR (or EFS_MOUNT_PATH)"
                        .into(),
                ))
            }
            _ => {}
        }
        if db_path.as_os_str().is_empty() {
            return Err(StorageError::Config("the database path is empty".into()));
        }
        let shared_dir = if backend == BackendKind::Shared {
            shared_dir
        } else {
            None
        };
        Ok(StorageConfig {
            backend,
            db_path,
            shared_dir,
            pg_url: None,
        })
    }

    /// The database file (local) or directory (shared) this configuration points at.
    pub fn location(&self) -> &Path {
        match (&self.backend, &self.shared_dir, &self.pg_url) {
            (BackendKind::Shared, Some(dir), _) => dir,
            (BackendKind::Postgres, _, Some(url)) => url.redacted(),
            _ => &self.db_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(vars: &[(&str, &str)], flags: StorageOverrides) -> Result<StorageConfig, StorageError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        StorageConfig::resolve(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()), &flags)
    }

    #[test]
    fn defaults_to_local_file() {
        let c = resolve(&[], StorageOverrides::default()).unwrap();
        assert_eq!(c, StorageConfig::local(DEFAULT_DB));
    }

    #[test]
    fn env_aliases_and_precedence() {
        let c = resolve(
            &[("STORAGE_BACKEND", "efs"), ("EFS_MOUNT_PATH", "/mnt/efs")],
            Default::default(),
        )
        .unwrap();
        assert_eq!(c, StorageConfig::shared("/mnt/efs"));
        let c = resolve(
            &[
                ("EVOFLOW_STORAGE", "local"),
                ("STORAGE_BACKEND", "efs"),
                ("EVOFLOW_DB", "/x.duckdb"),
            ],
            Default::default(),
        )
        .unwrap();
        assert_eq!(c, StorageConfig::local("/x.duckdb"));
        let c = resolve(
            &[
                ("EVOFLOW_SHARED_DIR", "/a"),
                ("EFS_MOUNT_PATH", "/b"),
                ("EVOFLOW_STORAGE", "shared"),
            ],
            Default::default(),
        )
        .unwrap();
        assert_eq!(c.shared_dir, Some(PathBuf::from("/a")));
        let flags = StorageOverrides {
            backend: Some("local".into()),
            db: Some("/f.duckdb".into()),
            shared_dir: None,
            pg_url: None,
        };
        let c = resolve(&[("EVOFLOW_STORAGE", "shared"), ("EVOFLOW_SHARED_DIR", "/a")], flags).unwrap();
        assert_eq!(c, StorageConfig::local("/f.duckdb"));
    }

    #[test]
    fn errors_name_the_variable_or_flag() {
        let e = resolve(&[("EVOFLOW_STORAGE", "s3")], Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("EVOFLOW_STORAGE=`s3`"), "{e}");
        let e = resolve(&[("STORAGE_BACKEND", "shared")], Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("EVOFLOW_SHARED_DIR"), "{e}");
        let flags = StorageOverrides {
            shared_dir: Some("/d".into()),
            ..Default::default()
        };
        assert!(resolve(&[], flags)
            .unwrap_err()
            .to_string()
            .contains("--storage shared"));
        let flags = StorageOverrides {
            backend: Some("shared".into()),
            db: Some("/x".into()),
            shared_dir: Some("/d".into()),
            pg_url: None,
        };
        assert!(resolve(&[], flags).unwrap_err().to_string().contains("--db"));
    }

    #[test]
    fn postgres_url_from_flag_then_env() {
        let c = resolve(
            &[
                ("EVOFLOW_STORAGE", "postgres"),
                ("DATABASE_URL", "postgres://u:pw@db/x?sslmode=require"),
            ],
            Default::default(),
        )
        .unwrap();
        assert_eq!(c.backend, BackendKind::Postgres);
        assert_eq!(c.location(), Path::new("postgres://u@db:5432/x"));
        let c = resolve(
            &[
                ("EVOFLOW_STORAGE", "pg"),
                ("EVOFLOW_PG_URL", "postgres://a@h/one"),
                ("DATABASE_URL", "postgres://b@h/two"),
            ],
            Default::default(),
        )
        .unwrap();
        assert_eq!(c.location(), Path::new("postgres://a@h:5432/one"));
        let e = resolve(&[("EVOFLOW_STORAGE", "postgres")], Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("--pg-url") && e.contains("EVOFLOW_PG_URL"), "{e}");
        let flags = StorageOverrides {
            pg_url: Some("postgres://h/d".into()),
            ..Default::default()
        };
        assert!(resolve(&[], flags)
            .unwrap_err()
            .to_string()
            .contains("--storage postgres"));
    }
}
