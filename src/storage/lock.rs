//! The single-writer lock: `<file>.lock` held with `flock`, so the kernel (or the NFS server) releases it when its holder dies.
//!
//! The lock file's content (`host:pid`, boot id, process start time) only names the holder in
//! error messages; whether the lock is held is the kernel's `flock` state, never the content.
//! A lock file left by a dead writer (SIGKILL, a crashed container that comes back with the
//! same hostname and pid 1) is therefore not a held lock, and the next writer takes it at once.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::fsutil::hostname;
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

/// A held single-writer lock. Dropping it removes the lock file and then releases the lock;
/// the kernel releases it too if the process dies without dropping it.
#[derive(Debug)]
pub struct WriterLock {
    path: PathBuf,
    /// The open lock file: the `flock` lives as long as this descriptor.
    _file: File,
}

/// Attempts at taking a lock whose file a releasing holder removed under us.
const ATTEMPTS: usize = 8;

impl WriterLock {
    /// Takes the lock guarding `guarded` (its lock file is [`lock_path_for`]) without
    /// waiting. A lock file that no live process holds (its writer died) is taken over; a
    /// live holder, in this process or another, on this host or another that shares the
    /// file system, gives [`StorageError::InUse`] naming it.
    pub fn acquire(guarded: &Path) -> Result<WriterLock, StorageError> {
        let path = lock_path_for(guarded);
        for _ in 0..ATTEMPTS {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| StorageError::io(&path, &e))?;
            // SAFETY: `file` is an open descriptor for the duration of the call.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    let holder = read_holder(&path).unwrap_or_else(|| "another process".to_string());
                    let holder = if holder == own_holder() {
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
                return Err(StorageError::io(&path, &err));
            }
            // A releasing holder removes the file before it unlocks: a lock on a removed file
            // guards nothing, so open the path again.
            if !same_file(&file, &path) {
                continue;
            }
            let content = format!(
                "{}\nboot_id {}\nstarted {}\n",
                own_holder(),
                boot_id(),
                process_start_ticks()
            );
            file.set_len(0)
                .and_then(|()| file.write_all(content.as_bytes()))
                .and_then(|()| file.sync_all())
                .map_err(|e| StorageError::io(&path, &e))?;
            return Ok(WriterLock { path, _file: file });
        }
        Err(StorageError::InUse {
            path: guarded.to_path_buf(),
            holder: read_holder(&path).unwrap_or_else(|| "another process".to_string()),
            lock: path,
        })
    }

    /// The lock file.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Removed while still locked: a process that opened the file meanwhile sees that the
        // path no longer names its file and opens it again.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `host:pid` of this process.
fn own_holder() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

/// Whether `path` still names the open `file` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// This boot's id (Linux), written beside `host:pid` so that a reader can tell a holder of an
/// earlier boot or container start from a live one.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// This process's start time in clock ticks since boot (`/proc/self/stat` field 22).
fn process_start_ticks() -> String {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after_name = s.rsplit_once(')')?.1;
            after_name.split_whitespace().nth(19).map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_writer_is_refused_and_a_released_lock_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.duckdb");
        let first = WriterLock::acquire(&db).unwrap();
        let err = WriterLock::acquire(&db).unwrap_err().to_string();
        assert!(
            err.contains("in use by") && err.contains(&format!(":{} (this process)", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(!lock_path_for(&db).exists());
        let again = WriterLock::acquire(&db).unwrap();
        let text = std::fs::read_to_string(again.path()).unwrap();
        assert!(text.starts_with(&own_holder()), "{text}");
        assert!(text.contains("boot_id ") && text.contains("started "), "{text}");
    }

    #[test]
    fn a_lock_file_of_a_dead_writer_with_this_host_and_pid_is_taken_over() {
        // What a container restarted with the same hostname and pid finds: its own host:pid
        // in a lock file nobody holds.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.duckdb");
        std::fs::write(
            lock_path_for(&db),
            format!("{}\nboot_id old\nstarted 1\n", own_holder()),
        )
        .unwrap();
        let taken = WriterLock::acquire(&db).unwrap();
        assert!(read_holder(taken.path()).unwrap() == own_holder());
    }
}
