//! The postgres backend through the real binary and a throw-away server: the advisory-lock lease after SIGKILL, `evolve` identical to local, TLS, `health`, and `runs` while a run writes.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use evoflow::storage::{open_storage, OpenMode, PgUrl, Storage, StorageConfig};
use serde_json::Value;
use support::postgres::PgServer;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

/// `evoflow ARGS` with no storage variables inherited from the environment.
fn evoflow(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    for var in [
        "EVOFLOW_STORAGE",
        "STORAGE_BACKEND",
        "EVOFLOW_DB",
        "EVOFLOW_SHARED_DIR",
        "EFS_MOUNT_PATH",
        "EVOFLOW_PG_URL",
        "DATABASE_URL",
    ] {
        c.env_remove(var);
    }
    c
}

fn output(args: &[&str]) -> Output {
    evoflow(args).output().expect("run evoflow")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "evoflow failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn pg(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to the test server")
}

/// Kills the child when the test ends, whatever happens.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A run that goes on for as long as the test needs it (killed or stopped by the test).
const LONG_RUN: [&str; 14] = [
    "evolve",
    "--data",
    "sample:goog-1d",
    "--seeds",
    "ema_crossover,rsi_filter,bollinger_bands",
    "--population",
    "24",
    "--generations",
    "100000",
    "--min-trades",
    "3",
    "-w",
    "1",
    "--log-checkpoints",
];

/// Starts `evolve` with `args` and returns it once it has logged `n` checkpoints.
fn start_until_checkpoint(args: &[&str], n: usize) -> Guard {
    let mut child = Guard(
        evoflow(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow"),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut seen = 0;
    let mut log = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("checkpoint ") {
            seen += 1;
            if seen == n {
                break;
            }
        }
        log.push(line);
    }
    assert_eq!(seen, n, "the run ended before {n} checkpoints: {}", log.join("\n"));
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// The server pids holding the writer lease of database `db`.
fn lease_holders(admin: &mut postgres::Client, db: &str) -> Vec<i32> {
    admin
        .query(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1702260582 AND l.objid = 1
               AND l.objsubid = 2 AND d.datname = $1",
            &[&db],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Every stored generation of `run` is whole: generations 0..k, each with `population`
/// individuals, and a checkpoint of the generation after the last.
fn assert_whole_generations(url: &str, run: &str, population: i64) -> i64 {
    let mut c = pg(url);
    let gens: Vec<i64> = c
        .query(
            "SELECT generation FROM generations WHERE run_id = $1 ORDER BY generation",
            &[&run],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!gens.is_empty(), "no generation of {run} stored");
    assert_eq!(gens, (0..gens.len() as i64).collect::<Vec<_>>(), "generations of {run}");
    let counts: Vec<(i64, i64)> = c
        .query(
            "SELECT generation, count(*) FROM individuals WHERE run_id = $1 GROUP BY generation ORDER BY generation",
            &[&run],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want: Vec<(i64, i64)> = gens.iter().map(|g| (*g, population)).collect();
    assert_eq!(counts, want, "individuals per generation of {run}");
    let last_checkpoint: i64 = c
        .query_one("SELECT max(generation) FROM checkpoints WHERE run_id = $1", &[&run])
        .unwrap()
        .get(0);
    assert!(
        last_checkpoint == gens.len() as i64 || last_checkpoint == gens.len() as i64 - 1,
        "checkpoint {last_checkpoint} with {} generations",
        gens.len()
    );
    gens.len() as i64
}

#[test]
fn the_lease_refuses_a_live_writer_and_is_released_by_the_server_when_the_writer_is_killed() {
    let server = PgServer::start();
    let url = server.database("lease");
    let mut args: Vec<&str> = LONG_RUN.to_vec();
    args.extend(["--run-id", "first", "--storage", "postgres", "--pg-url", &url]);
    let mut first = start_until_checkpoint(&args, 2);
    let first_pid = first.0.id();

    // A second writer is refused while the first is alive, naming it.
    let out = output(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover",
        "--population",
        "8",
        "--generations",
        "2",
        "-w",
        "1",
        "--run-id",
        "second",
        "--storage",
        "postgres",
        "--pg-url",
        &url,
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("in use by") && err.contains("advisory lock") && err.contains(&format!(":{first_pid} ")),
        "{err}"
    );
    assert!(first.0.try_wait().unwrap().is_none(), "the first writer stopped");

    // SIGKILL: no cleanup runs in the writer; the server ends its session and drops the lock.
    let mut admin = pg(&server.url_for("postgres"));
    assert_eq!(lease_holders(&mut admin, "lease").len(), 1);
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let killed = Instant::now();
    while !lease_holders(&mut admin, "lease").is_empty() {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the server kept the dead writer's lease"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    eprintln!(
        "lease released {:.1} ms after the writer was SIGKILLed",
        killed.elapsed().as_secs_f64() * 1e3
    );

    // A new writer takes the lease and completes a run.
    let out = output(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover",
        "--population",
        "8",
        "--generations",
        "2",
        "-w",
        "1",
        "--json",
        "--run-id",
        "third",
        "--storage",
        "postgres",
        "--pg-url",
        &url,
    ]);
    assert_eq!(json(&out)["generations"], 2);

    // The killed run lost no committed generation and left no half generation.
    let stored = assert_whole_generations(&url, "first", 24);
    assert!(
        stored >= 2,
        "{stored} generations stored after 2 checkpoints were logged"
    );
    let show = json(&output(&[
        "runs",
        "show",
        "first",
        "--json",
        "--storage",
        "postgres",
        "--pg-url",
        &url,
    ]));
    assert_eq!(show["status"], "running", "a killed run stays `running`: {show}");
    assert_eq!(show["generations"].as_array().unwrap().len() as i64, stored);
    let third = json(&output(&[
        "runs",
        "show",
        "third",
        "--json",
        "--storage",
        "postgres",
        "--pg-url",
        &url,
    ]));
    assert_eq!(third["status"], "completed");
    assert!(third["ended_at_ms"].as_i64().unwrap() >= third["started_at_ms"].as_i64().unwrap());
}

/// The stored generations, individuals and hall of fame of `run`, without wall times.
fn stored(config: &StorageConfig, run: &str) -> Value {
    let s: Box<dyn Storage> = open_storage(config, OpenMode::ReadOnly).unwrap();
    let mut gens = serde_json::to_value(s.read_generations(run).unwrap()).unwrap();
    for g in gens.as_array_mut().unwrap() {
        g["elapsed_ms"] = Value::Null;
    }
    serde_json::json!({
        "generations": gens,
        "individuals": serde_json::to_value(s.read_individuals(run, None).unwrap()).unwrap(),
        "hall_of_fame": serde_json::to_value(s.read_hall_of_fame(run).unwrap()).unwrap(),
        "checkpoint": s.read_checkpoint(run, None).unwrap().map(|c| (c.generation, c.payload.len())),
    })
}

#[test]
fn evolve_on_postgres_gives_the_result_of_local_with_the_same_flags() {
    let server = PgServer::start();
    let url = server.database("same");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("evoflow.duckdb");
    let db = db.to_str().unwrap();
    // The default run (all seeds, 96 x 25 on the hourly sample), one worker for speed of the test machine.
    let common = ["evolve", "--json", "-w", "1", "--run-id", "same"];
    let mut local: Vec<&str> = common.to_vec();
    local.extend(["--storage", "local", "--db", db]);
    let mut remote: Vec<&str> = common.to_vec();
    remote.extend(["--storage", "postgres", "--pg-url", &url]);
    let (a, b) = (json(&output(&local)), json(&output(&remote)));
    for key in ["run_id", "generations", "evaluations", "cache_hits", "best"] {
        assert_eq!(a[key], b[key], "{key} differs between local and postgres");
    }
    assert!(!a["best"].as_array().unwrap().is_empty());
    let pg_config = StorageConfig::postgres(PgUrl::parse(&url, "test").unwrap());
    assert_eq!(
        stored(&StorageConfig::local(db), "same"),
        stored(&pg_config, "same"),
        "stored rows differ"
    );
}

/// Whether evoflow's session (application name `evoflow HOST:PID` of this test process) on
/// `server` uses TLS, seen from the server.
fn evoflow_session_ssl(server: &PgServer) -> Vec<(bool, String)> {
    let mut admin = pg(&server.url_for("postgres"));
    admin
        .query(
            "SELECT s.ssl, coalesce(s.version, '') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name LIKE $1",
            &[&format!("evoflow %:{}", std::process::id())],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn open_url(url: &str) -> Result<Box<dyn Storage>, evoflow::storage::StorageError> {
    open_storage(
        &StorageConfig::postgres(PgUrl::parse(url, "--pg-url")?),
        OpenMode::ReadWrite,
    )
}

#[test]
fn tls_is_used_with_sslmode_require_and_verify_full_and_require_fails_without_it() {
    let server = PgServer::start_tls();
    let plain = server.database("tls");
    let base = plain.replace("?sslmode=disable", "");
    let ca = server.ca();

    // sslmode=disable: the check below sees a plain session, so it can tell them apart.
    let s = open_url(&plain).unwrap();
    assert_eq!(evoflow_session_ssl(&server), vec![(false, String::new())]);
    drop(s);

    for mode in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
        format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    ] {
        let mut s = open_url(&format!("{base}?{mode}")).unwrap_or_else(|e| panic!("{mode}: {e}"));
        s.create_run(&evoflow::storage::RunRecord {
            run_id: "tls".into(),
            config_json: "{}".into(),
            seed: 1,
            data_fingerprint: "x".into(),
            code_version: "t".into(),
            status: evoflow::storage::RunStatus::Running,
            started_at_ms: 1,
            ended_at_ms: None,
        })
        .unwrap();
        let sessions = evoflow_session_ssl(&server);
        assert_eq!(sessions.len(), 1, "{mode}: {sessions:?}");
        assert!(
            sessions[0].0 && sessions[0].1.starts_with("TLS"),
            "{mode}: {sessions:?}"
        );
        s.delete_run("tls").unwrap();
        drop(s);
    }

    // verify-full checks who signed the certificate: another CA is refused, naming the reason.
    let other = tempfile::tempdir().unwrap();
    let other_ca = other.path().join("other.crt");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(other.path().join("other.key"))
        .arg("-out")
        .arg(&other_ca)
        .args(["-days", "2", "-subj", "/CN=another CA"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let err = open_url(&format!(
        "{base}?sslmode=verify-full&sslrootcert={}",
        other_ca.display()
    ))
    .err()
    .expect("a server certificate from another CA was accepted")
    .to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // The CLI over TLS: health exercises the real paths through an encrypted session.
    let out = output(&[
        "health",
        "--json",
        "--storage",
        "postgres",
        "--pg-url",
        &format!("{base}?sslmode=require"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // sslmode=require against a server without TLS fails clearly, also through the CLI.
    let plain_server = PgServer::start();
    let no_tls = plain_server
        .database("plain")
        .replace("sslmode=disable", "sslmode=require");
    let err = open_url(&no_tls)
        .err()
        .expect("require connected without TLS")
        .to_string();
    assert!(err.contains("TLS") || err.contains("SSL"), "{err}");
    let out = output(&["health", "--storage", "postgres", "--pg-url", &no_tls]);
    assert_eq!(out.status.code(), Some(1));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("does not support TLS") || text.contains("TLS"), "{text}");
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#}"))
}

#[test]
fn health_on_postgres_writes_reads_and_queries_and_bad_urls_are_named_without_the_password() {
    let server = PgServer::start();
    let url = server.database("health");
    let out = output(&["health", "--json", "--storage", "postgres", "--pg-url", &url]);
    let report = json(&out);
    assert_eq!(report["status"], "healthy", "{report:#}");
    assert_eq!(report["backend"], "postgres");
    for name in [
        "open",
        "bars_roundtrip",
        "window_query",
        "checkpoint_roundtrip",
        "cleanup",
    ] {
        assert_eq!(check(&report, name)["ok"], true, "{name}: {report:#}");
    }
    // It created the schema and left no scratch rows.
    let mut c = pg(&url);
    let version: i32 = c
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, evoflow::storage::PG_SCHEMA_VERSION);
    for table in ["bars", "checkpoints", "runs"] {
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "health left rows in {table}");
    }
    // A database that refuses writes fails the write check, naming why.
    c.batch_execute("ALTER DATABASE health SET default_transaction_read_only = on")
        .unwrap();
    let out = output(&["health", "--json", "--storage", "postgres", "--pg-url", &url]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let bars = check(&report, "bars_roundtrip");
    assert_eq!(bars["ok"], false);
    assert!(
        bars["detail"].as_str().unwrap().contains("read-only transaction"),
        "{bars}"
    );

    // Bad URLs: non-zero, the problem named, the password never shown.
    let secret = "s3cr3t-pw";
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases = [
        (
            format!("postgres://evo:{secret}@127.0.0.1:{dead_port}/db?sslmode=disable"),
            "connect",
        ),
        (
            format!(
                "postgres://postgres:{secret}@127.0.0.1:{}/nosuchdb?sslmode=disable",
                server.port()
            ),
            "nosuchdb",
        ),
        (format!("postgres://evo:{secret}@127.0.0.1:notaport/db"), "port"),
        (
            format!("postgres://evo:{secret}@127.0.0.1/db?sslmode=sometimes"),
            "sslmode",
        ),
    ];
    for (bad, named) in &cases {
        let out = output(&["health", "--storage", "postgres", "--pg-url", bad]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(!out.status.success(), "{bad}: {text}");
        assert!(
            text.to_lowercase().contains(named),
            "{bad}: expected `{named}` in: {text}"
        );
        assert!(!text.contains(secret), "{bad}: the password leaked: {text}");
        // The same through the environment variable.
        let out = evoflow(&["health", "--storage", "postgres"])
            .env("EVOFLOW_PG_URL", bad)
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(!out.status.success() && !text.contains(secret), "{bad}: {text}");
    }
}

#[test]
fn runs_list_and_show_work_on_postgres_while_a_run_writes_and_after_it_ends() {
    let server = PgServer::start();
    let url = server.database("runs");
    let storage = ["--storage", "postgres", "--pg-url", &url];
    let mut args: Vec<&str> = LONG_RUN.to_vec();
    args.extend(["--run-id", "live"]);
    args.extend(storage);
    let mut live = start_until_checkpoint(&args, 3);

    let mut list = vec!["runs", "list", "--json"];
    list.extend(storage);
    let runs = json(&output(&list));
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["run_id"], "live");
    assert_eq!(runs[0]["status"], "running");
    assert!(runs[0]["generations"].as_array().unwrap().len() >= 3, "{runs:?}");
    let mut show = vec!["runs", "show", "live"];
    show.extend(storage);
    let out = output(&show);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("status    running") && text.contains("wall ms"), "{text}");
    assert!(
        live.0.try_wait().unwrap().is_none(),
        "the run was not running while it was read"
    );

    // SIGTERM stops it at a generation boundary: interrupted, with an end time.
    unsafe { libc::kill(live.0.id() as i32, libc::SIGTERM) };
    let status = live.0.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15));
    let mut show_json = show.clone();
    show_json.push("--json");
    let run = json(&output(&show_json));
    assert_eq!(run["status"], "interrupted");
    assert!(run["ended_at_ms"].is_i64());
    let gens = run["generations"].as_array().unwrap();
    for (i, g) in gens.iter().enumerate() {
        assert_eq!(g["generation"], i as u64);
        assert!(g["elapsed_ms"].is_u64() && g["evaluations"].is_u64(), "{g}");
    }

    // A run that ends: completed, with every generation's wall time.
    let out = output(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover",
        "--population",
        "8",
        "--generations",
        "3",
        "-w",
        "1",
        "--run-id",
        "done",
        "--storage",
        "postgres",
        "--pg-url",
        &url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = json(&output(&list));
    let ids: Vec<(&str, &str)> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["run_id"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, vec![("live", "interrupted"), ("done", "completed")]);
    let done = &runs[1];
    assert_eq!(done["generations"].as_array().unwrap().len(), 3);
    assert_eq!(done["error"], Value::Null);
    let out = output(&["runs", "show", "nope", "--storage", "postgres", "--pg-url", &url]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no run `nope`"), "{}", stderr(&out));
}
