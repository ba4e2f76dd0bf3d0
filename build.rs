//! Build script: sets `EVOFLOW_SOURCE_HASH`, a hash of the sources that decide results, so a run records the build that made it.
//!
//! The hash covers every file under `src/` and `dataflows/src/`, and the manifests and lock
//! file (dependency versions), by relative path and content, in path order: two builds from
//! the same sources get the same hash on any machine, and any change to them (even a comment)
//! gives another. Tests, benches and docs do not count.

use std::path::{Path, PathBuf};

/// What the hash covers, relative to the package root (missing entries are skipped).
const INPUTS: [&str; 5] = [
    "src",
    "dataflows/src",
    "Cargo.toml",
    "Cargo.lock",
    "dataflows/Cargo.toml",
];

fn main() {
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
    }
    let mut files = Vec::new();
    for input in INPUTS {
        collect(Path::new(input), &mut files);
    }
    files.sort();
    let mut hash = Fnv1a::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        // Path separators as '/', so the hash is the same on every platform.
        let name: Vec<String> = file
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        hash.write(name.join("/").as_bytes());
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
    }
    println!("cargo:rustc-env=EVOFLOW_SOURCE_HASH={:016x}", hash.0);
}

/// Every file at or under `path`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_file() {
        files.push(path.to_path_buf());
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            collect(&entry.path(), files);
        }
    }
}

/// 64-bit FNV-1a.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
