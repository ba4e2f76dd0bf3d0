//! A throw-away PostgreSQL 15 server for tests: initdb into a temp dir and `pg_ctl` as a non-root user on a free loopback port, stopped in `Drop`.
// Each test crate uses some of these helpers.
#![allow(dead_code)]

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

/// Writes a test CA and a server certificate it signs (for `127.0.0.1` and `localhost`)
/// into `dir` with openssl, owned by the server's user: `ca.crt`, `server.crt`, `server.key`.
fn make_certs(dir: &Path) {
    let openssl = PathBuf::from("/usr/bin/openssl");
    assert!(
        openssl.exists(),
        "{} is missing: the TLS tests need it; install it with: {INSTALL}",
        openssl.display()
    );
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(
        as_test_user(&openssl)
            .current_dir(dir)
            .args(["req", "-x509"])
            .args(ec)
            .args([
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=evoflow test CA",
            ])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
        "openssl: test CA",
    );
    run(
        as_test_user(&openssl).current_dir(dir).arg("req").args(ec).args([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]),
        "openssl: server key",
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(
        as_test_user(&openssl).current_dir(dir).args([
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]),
        "openssl: server certificate",
    );
    // The server refuses a key that others may read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

impl PgServer {
    /// Starts a server; panics (never skips) with the install command when PostgreSQL is missing.
    pub fn start() -> PgServer {
        PgServer::start_with(false)
    }

    /// Starts a server with TLS on (`ssl=on`, a certificate signed by [`PgServer::ca`]);
    /// clients may still connect without TLS.
    pub fn start_tls() -> PgServer {
        PgServer::start_with(true)
    }

    /// The CA certificate (PEM) that signed a TLS server's certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The PostgreSQL port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn start_with(tls: bool) -> PgServer {
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
        let mut opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off",
            dir.path().display()
        );
        if tls {
            make_certs(dir.path());
            opts.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                dir.path().display()
            ));
        }
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
