//! A throw-away PostgreSQL 15 server for tests: initdb into a temp dir and `pg_ctl` as a non-root user on a free loopback port, stopped in `Drop`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = "/usr/lib/postgresql/15/bin";
const USER: &str = "evoflow-test";
const INSTALL: &str = "apt-get update && apt-get install -y postgresql openssl";

/// A running server; `url()` is a connection string for a fresh database per call to `database`.
pub struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start ({e}); install PostgreSQL with: {INSTALL}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `runuser -u evoflow-test -- <bin> args` when root, the binary itself otherwise.
fn as_test_user(bin: &Path) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", USER, "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn ensure_user() {
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let known = Command::new("id")
        .arg(USER)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !known {
        // Concurrent test processes may race here; a second useradd fails with "already exists".
        let _ = Command::new("useradd").args(["-m", USER]).output();
        run(
            Command::new("id").arg(USER),
            "id evoflow-test (after useradd -m evoflow-test)",
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PgServer {
    /// Starts a server; panics (never skips) with the install command when PostgreSQL is missing.
    pub fn start() -> PgServer {
        let initdb = PathBuf::from(BIN).join("initdb");
        assert!(
            initdb.exists(),
            "{} is missing: the postgres tests need Debian's PostgreSQL 15; install it with: {INSTALL}",
            initdb.display()
        );
        ensure_user();
        let dir = tempfile::Builder::new().prefix("evoflow-pg").tempdir().unwrap();
        if unsafe { libc::geteuid() } == 0 {
            run(
                Command::new("chown").arg(format!("{USER}:")).arg(dir.path()),
                "chown data dir",
            );
        }
        let data = dir.path().join("data");
        run(
            as_test_user(&initdb).args(["-D"]).arg(&data).args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]),
            "initdb",
        );
        let port = free_port();
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off",
            dir.path().display()
        );
        run(
            as_test_user(&PathBuf::from(BIN).join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("log"))
                .args(["-o", &opts, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        );
        PgServer { dir, port }
    }

    /// Creates database `name` and returns its URL (plain TCP on loopback, `sslmode=disable`).
    pub fn database(&self, name: &str) -> String {
        let mut c = postgres::Client::connect(&self.url_for("postgres"), postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
        self.url_for(name)
    }

    pub fn url_for(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = as_test_user(&PathBuf::from(BIN).join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
