//! The single-writer lock: a `<file>.lock` created with O_EXCL holding `host:pid`, with stale-lock recovery on the same host.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::fsutil::{hostname, pid_alive};
use super::StorageError;

/// The lock file that guards `path`: `path` with `.lock` appended.
pub fn lock_path_for(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// The `host:pid` recorded in a lock file, if it can be read.
pub fn read_holder(lock: &Path) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    text.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

/// A held single-writer lock; dropping it removes the lock file (only if it is still ours).
#[derive(Debug)]
pub struct WriterLock {
    path: PathBuf,
    content: String,
}

impl WriterLock {
    /// Takes the lock guarding `guarded` (its lock file is [`lock_path_for`]). A lock left by a
    /// dead process on this host is removed and taken; a live holder, or one on another host,
    /// gives [`StorageError::InUse`] naming `host:pid`.
    pub fn acquire(guarded: &Path) -> Result<WriterLock, StorageError> {
        let path = lock_path_for(guarded);
        let host = hostname();
        let pid = std::process::id();
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let content = format!("{host}:{pid}\nnonce {nonce}\n");
        for attempt in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(content.as_bytes())
                        .map_err(|e| StorageError::io(&path, &e))?;
                    file.sync_all().map_err(|e| StorageError::io(&path, &e))?;
                    return Ok(WriterLock { path, content });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_holder(&path).unwrap_or_else(|| "an unknown process".to_string());
                    if attempt == 0 && is_stale(&holder, &host, pid) {
                        // The holder died without cleaning up; its lock is ours to remove.
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    let holder = if holder == format!("{host}:{pid}") {
                        format!("{holder} (this process)")
                    } else {
                        holder
                    };
                    return Err(StorageError::InUse {
                        path: guarded.to_path_buf(),
                        holder,
                        lock: path,
                    });
                }
                Err(e) => return Err(StorageError::io(&path, &e)),
            }
        }
        let holder = read_holder(&path).unwrap_or_else(|| "an unknown process".to_string());
        Err(StorageError::InUse {
            path: guarded.to_path_buf(),
            holder,
            lock: path,
        })
    }

    /// The lock file.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A lock is stale when it names this host and a process that no longer exists.
fn is_stale(holder: &str, host: &str, own_pid: u32) -> bool {
    let Some((h, p)) = holder.rsplit_once(':') else {
        return false;
    };
    let Ok(pid) = p.trim().parse::<u32>() else { return false };
    h == host && pid != own_pid && !pid_alive(pid)
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if std::fs::read_to_string(&self.path).is_ok_and(|c| c == self.content) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_and_stale_lock_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.duckdb");
        let first = WriterLock::acquire(&db).unwrap();
        let err = WriterLock::acquire(&db).unwrap_err().to_string();
        assert!(
            err.contains("in use by") && err.contains(&format!(":{}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(!lock_path_for(&db).exists());
        // A lock left by a process that no longer exists on this host is taken over.
        std::fs::write(lock_path_for(&db), format!("{}:{}\n", hostname(), u32::MAX - 7)).unwrap();
        let again = WriterLock::acquire(&db).unwrap();
        assert!(read_holder(again.path())
            .unwrap()
            .ends_with(&format!(":{}", std::process::id())));
        drop(again);
        // A lock held from another host is never taken over.
        std::fs::write(lock_path_for(&db), "other-host:1\n").unwrap();
        let err = WriterLock::acquire(&db).unwrap_err().to_string();
        assert!(err.contains("in use by other-host:1"), "{err}");
    }
}
