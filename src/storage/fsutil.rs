//! File-system helpers: atomic write (temp file + fsync + rename), free space, writability probe, host and pid checks.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::StorageError;

/// This machine's host name (`unknown-host` if it cannot be read).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
        if !name.is_empty() {
            return name;
        }
    }
    "unknown-host".to_string()
}

/// Bytes available to unprivileged users on the file system holding `path`.
pub fn free_space(path: &Path) -> Result<u64, StorageError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| StorageError::Io {
        path: path.to_path_buf(),
        message: "path contains a NUL byte".into(),
    })?;
    // SAFETY: `c` is a valid NUL-terminated path and `stat` a valid out-pointer.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut stat) };
    if rc != 0 {
        return Err(StorageError::io(path, &std::io::Error::last_os_error()));
    }
    // The field types differ between platforms (u32 on some, u64 on Linux x86_64).
    #[allow(clippy::useless_conversion)]
    let (avail, frsize) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    Ok(avail.saturating_mul(frsize))
}

/// A name that no other process or call uses: `host-pid-nanos-counter`.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let host: String = hostname()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{host}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The temporary name next to `path` used before an atomic rename: `.NAME.tmp-UNIQUE`.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", unique_suffix()))
}

/// True for names made by [`temp_path_for`].
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// Flushes a directory entry change (rename, create) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    let f = std::fs::File::open(dir).map_err(|e| StorageError::io(dir, &e))?;
    f.sync_all().map_err(|e| StorageError::io(dir, &e))
}

/// Flushes a file's contents to disk.
pub fn sync_file(path: &Path) -> Result<(), StorageError> {
    let f = std::fs::File::open(path).map_err(|e| StorageError::io(path, &e))?;
    f.sync_all().map_err(|e| StorageError::io(path, &e))
}

/// Moves a fully written temporary file into place: fsync it, rename over `path`, fsync
/// the directory. Readers see the old file or the new one, never a torn one. On error the
/// temporary file is removed and `path` is untouched.
pub fn commit_temp(tmp: &Path, path: &Path) -> Result<(), StorageError> {
    let result = sync_file(tmp).and_then(|_| std::fs::rename(tmp, path).map_err(|e| StorageError::io(path, &e)));
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
        return result;
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Writes `bytes` to a temporary file, fsyncs it and renames it over `path`, leaving the
/// directory's fsync to the caller (one [`sync_dir`] for several files).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let tmp = temp_path_for(path);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| StorageError::io(path, &e));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync directory).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let tmp = temp_path_for(path);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .map_err(|e| StorageError::io(path, &e));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    commit_temp(&tmp, path)
}

/// Creates, writes, fsyncs and removes a probe file in `dir`, proving it is writable.
pub fn probe_writable(dir: &Path) -> Result<(), StorageError> {
    let probe = dir.join(format!(".evoflow-probe-{}", unique_suffix()));
    let result = std::fs::File::create(&probe)
        .and_then(|mut f| f.write_all(b"evoflow write probe\n").and_then(|_| f.sync_all()))
        .map_err(|e| StorageError::io(dir, &e));
    let removed = std::fs::remove_file(&probe);
    result?;
    removed.map_err(|e| StorageError::io(dir, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        atomic_write(&p, b"first").unwrap();
        atomic_write(&p, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(is_temp_name(&temp_path_for(&p).file_name().unwrap().to_string_lossy()));
        assert!(free_space(dir.path()).unwrap() > 0);
        probe_writable(dir.path()).unwrap();
    }
}
