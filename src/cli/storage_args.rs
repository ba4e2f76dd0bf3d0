//! The storage flags shared by `data`, `health` (and `evolve`): `--storage`, `--db`, `--shared-dir`, `--pg-url`, over the environment.

use std::path::PathBuf;

use evoflow::storage::{StorageConfig, StorageError, StorageOverrides};

/// Which storage to use; each flag overrides its environment variable.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct StorageArgs {
    /// Storage backend: local (one DuckDB file), shared (a directory on EFS/NFS; `efs` is an alias)
    /// or postgres (a PostgreSQL/Neon database, see --pg-url).
    /// Default: $EVOFLOW_STORAGE, $STORAGE_BACKEND, else local.
    #[arg(long = "storage", value_name = "local|shared|postgres")]
    pub storage: Option<String>,
    /// Database file of the local backend. Default: $EVOFLOW_DB, else ./evoflow.duckdb.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Directory of the shared backend. Default: $EVOFLOW_SHARED_DIR, else $EFS_MOUNT_PATH.
    #[arg(long, value_name = "DIR")]
    pub shared_dir: Option<PathBuf>,
    /// PostgreSQL connection string of the postgres backend, e.g.
    /// postgres://user:pw@host/db?sslmode=require. Default: $EVOFLOW_PG_URL, else $DATABASE_URL.
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
}

impl StorageArgs {
    /// The validated configuration: these flags over the environment.
    pub fn config(&self) -> Result<StorageConfig, StorageError> {
        StorageConfig::from_env_and_flags(&StorageOverrides {
            backend: self.storage.clone(),
            db: self.db.clone(),
            shared_dir: self.shared_dir.clone(),
            pg_url: self.pg_url.clone(),
        })
    }
}
