//! `evoflow data fetch` through the real binary against a loopback fake Hyperliquid: paging, retries, incremental fetches, bad input, and `evolve` on the result.

mod fake_hyperliquid;

use std::path::Path;
use std::process::{Command, Output};

use evoflow::storage::{open_storage, OpenMode, StorageConfig, TimeRange};
use fake_hyperliquid::{hourly_market, FakeHyperliquid, Fault, Market, Recorded, CANDLE_CAP, HOUR_MS};

/// 12,001 served candles (three pages), the last still open, three missing after index 7000.
const CANDLES: usize = 12_001;

/// Runs the binary with a clean storage environment.
fn evoflow(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evoflow"));
    cmd.args(args);
    for var in [
        "EVOFLOW_STORAGE",
        "STORAGE_BACKEND",
        "EVOFLOW_DB",
        "EVOFLOW_SHARED_DIR",
        "EFS_MOUNT_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", stderr(out));
    stdout(out)
}

fn fails_with(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
    }
}

/// Waits, when less than two minutes remain in the current hour, for the next one, so that
/// a market made now keeps its last candle open for the whole test.
fn steady_hour() {
    let now = chrono::Utc::now().timestamp_millis();
    let left = HOUR_MS - now.rem_euclid(HOUR_MS);
    if left < 120_000 {
        std::thread::sleep(std::time::Duration::from_millis(left as u64 + 1_000));
    }
}

/// The fake's market for most tests.
fn market() -> Market {
    steady_hour();
    hourly_market(CANDLES, 7_000, 3)
}

fn fetch_args<'a>(server: &'a str, db: &'a str, since: &'a str) -> Vec<&'a str> {
    vec![
        "data",
        "fetch",
        "--coin",
        "BTC",
        "--interval",
        "1h",
        "--since",
        since,
        "--funding",
        "--api-url",
        server,
        "--db",
        db,
        "--tries",
        "3",
    ]
}

fn storage(db: &Path) -> Box<dyn evoflow::storage::Storage> {
    open_storage(&StorageConfig::local(db.to_path_buf()), OpenMode::ReadOnly).unwrap()
}

/// Checks that storage holds exactly the fake's closed candles and its funding rates.
fn assert_stored_all(db: &Path, market: &Market) {
    let s = storage(db);
    let bars = s.read_bars("BTC", "1h", TimeRange::all()).unwrap();
    let closed = &market.candles[..market.candles.len() - 1];
    let times: Vec<i64> = closed.iter().map(|c| c.t).collect();
    assert_eq!(
        bars.timestamp_ms, times,
        "every closed candle exactly once, the open one not"
    );
    for (i, c) in closed.iter().enumerate() {
        let want = [&c.o, &c.h, &c.l, &c.c, &c.v].map(|v| v.parse::<f64>().unwrap());
        let got = [bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]];
        assert_eq!(got, want, "candle {i}");
    }
    let funding = s.read_funding("BTC", "1h", TimeRange::all()).unwrap().unwrap();
    let want: Vec<i64> = market.funding.iter().map(|f| f.0).collect();
    assert_eq!(funding.time_ms, want);
    assert_eq!(funding.rate[5], market.funding[5].1.parse::<f64>().unwrap());
}

fn candle_starts(requests: &[Recorded]) -> Vec<(i64, u16)> {
    requests
        .iter()
        .filter(|r| r.kind() == "candleSnapshot")
        .map(|r| (r.start_time(), r.status))
        .collect()
}

#[test]
fn fetch_pages_retries_stores_each_candle_once_then_asks_only_for_the_new_ones() {
    let mut m = market();
    m.faults.insert(1, Fault::TooManyRequests(Some(1)));
    m.faults.insert(2, Fault::TooManyRequests(None));
    m.faults.insert(4, Fault::DropMidBody);
    let first = m.candles[0].t;
    let server = FakeHyperliquid::start(m);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fetch.duckdb");
    let (url, dbs, since) = (server.url(), db.display().to_string(), first.to_string());

    let out = evoflow(&fetch_args(&url, &dbs, &since));
    let text = ok(&out);
    let err = stderr(&out);
    assert!(text.contains("fetched 12000 new bars of BTC/1h"), "{text}");
    assert!(text.contains("skipped 1 still-open candle"), "{text}");
    assert!(text.contains("fetched 12001 new funding rates of BTC/1h"), "{text}");
    // The first 429 said `Retry-After: 1`, which outweighs the first backoff (under 0.5 s).
    assert!(
        err.contains("in 1.0 s (try 1 of 3: HTTP 429 Too Many Requests)"),
        "{err}"
    );
    assert!(err.contains("(try 2 of 3: HTTP 429"), "{err}");
    assert!(err.contains("response body cut off"), "{err}");
    let gap_after = server.with_market(|m| m.candles[7_000].t);
    let gap_line = format!(
        "gap in BTC/1h: no candles between {} and {} (3 missing)",
        evoflow::market::format_timestamp_ms(gap_after),
        evoflow::market::format_timestamp_ms(gap_after + 4 * HOUR_MS)
    );
    assert!(err.contains(&gap_line), "{err}");
    server.with_market(|m| assert_stored_all(&db, m));

    // Pages: 429, 429, page 1, dropped page 2, page 2 again, page 3 (fewer than 5,000: the end).
    let requests = server.requests();
    let (t5000, t10000) = server.with_market(|m| (m.candles[CANDLE_CAP - 1].t, m.candles[2 * CANDLE_CAP - 1].t));
    assert_eq!(
        candle_starts(&requests),
        vec![
            (first, 429),
            (first, 429),
            (first, 200),
            (t5000 + 1, 200),
            (t5000 + 1, 200),
            (t10000 + 1, 200)
        ]
    );
    let funding_requests = requests.iter().filter(|r| r.kind() == "fundingHistory").count();
    assert_eq!(funding_requests, 12_001usize.div_ceil(500));

    // A second fetch of the same range asks only for what follows the stored data: the
    // candles after the last closed one (the open one comes back, and is skipped again).
    // No funding request: the next hourly rate is not due before the end of the range.
    let out = evoflow(&fetch_args(&url, &dbs, &since));
    let text = ok(&out);
    assert!(text.contains("fetched 0 new bars"), "{text}");
    assert!(text.contains("fetched 0 new funding rates"), "{text}");
    let again = &server.requests()[requests.len()..];
    let last_closed = server.with_market(|m| m.candles[m.candles.len() - 2].t);
    let asked: Vec<(&str, i64)> = again.iter().map(|r| (r.kind(), r.start_time())).collect();
    assert_eq!(asked, vec![("candleSnapshot", last_closed + HOUR_MS)]);
    server.with_market(|m| assert_stored_all(&db, m));

    // evolve reads the fetched series by symbol and timeframe.
    let out = evoflow(&[
        "evolve",
        "--symbol",
        "BTC",
        "--timeframe",
        "1h",
        "--db",
        &dbs,
        "--seeds",
        "ema_crossover,rsi_filter",
        "--population",
        "8",
        "--generations",
        "2",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(json["generations"], 2);
    // The held-out statistics end at the last fetched (closed) candle.
    let end = evoflow::market::format_timestamp_ms(last_closed);
    assert_eq!(json["best"][0]["test"]["end"], end.as_str());
}

#[test]
fn an_interrupted_fetch_keeps_its_pages_and_the_next_one_continues() {
    let mut m = market();
    m.fail_from = Some(3);
    let first = m.candles[0].t;
    let server = FakeHyperliquid::start(m);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fetch.duckdb");
    let (url, dbs, since) = (server.url(), db.display().to_string(), first.to_string());
    let mut args = fetch_args(&url, &dbs, &since);
    *args.last_mut().unwrap() = "2";

    let out = evoflow(&args);
    let t10000 = server.with_market(|m| m.candles[2 * CANDLE_CAP - 1].t);
    let request = format!(
        "candleSnapshot BTC 1h {}..",
        evoflow::market::format_timestamp_ms(t10000 + 1)
    );
    fails_with(&out, 1, &[&request, "failed after 2 tries: HTTP 503", &url]);
    let bars = storage(&db).read_bars("BTC", "1h", TimeRange::all()).unwrap();
    let want: Vec<i64> = server.with_market(|m| m.candles[..2 * CANDLE_CAP].iter().map(|c| c.t).collect());
    assert_eq!(bars.timestamp_ms, want, "the two committed pages are kept");

    server.with_market(|m| m.fail_from = None);
    let before = server.requests().len();
    let text = ok(&evoflow(&args));
    assert!(text.contains("fetched 2000 new bars"), "{text}");
    let starts = candle_starts(&server.requests()[before..]);
    assert_eq!(
        starts,
        vec![(t10000 + HOUR_MS, 200)],
        "it continues after the stored pages"
    );
    server.with_market(|m| assert_stored_all(&db, m));
}

#[test]
fn bad_input_names_the_request_exits_non_zero_and_writes_nothing() {
    let mut m = market();
    m.faults.insert(1, Fault::Malformed);
    let first = m.candles[0].t;
    let server = FakeHyperliquid::start(m);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fetch.duckdb");
    let (url, dbs, since) = (server.url(), db.display().to_string(), first.to_string());
    let nothing_stored = || assert!(storage(&db).list_market().unwrap().is_empty());

    // Malformed JSON (request 1).
    let out = evoflow(&fetch_args(&url, &dbs, &since));
    fails_with(
        &out,
        1,
        &["candleSnapshot BTC 1h", "malformed response: invalid JSON", &url],
    );
    nothing_stored();

    // An unknown coin: the API answers an empty list.
    let mut args = fetch_args(&url, &dbs, &since);
    args[3] = "NOPE";
    let out = evoflow(&args);
    fails_with(
        &out,
        2,
        &[
            "candleSnapshot NOPE 1h",
            "returned no candles (unknown coin or interval",
        ],
    );
    nothing_stored();

    // An interval Hyperliquid does not serve, and a bad time.
    let mut args = fetch_args(&url, &dbs, &since);
    args[5] = "7h";
    fails_with(&evoflow(&args), 2, &["--interval 7h: not a Hyperliquid interval"]);
    let args = fetch_args(&url, &dbs, "yesterday");
    fails_with(&evoflow(&args), 2, &["--since yesterday"]);

    // No server listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = format!("http://127.0.0.1:{port}");
    let mut args = fetch_args(&gone, &dbs, &since);
    *args.last_mut().unwrap() = "2";
    let out = evoflow(&args);
    fails_with(&out, 1, &["candleSnapshot BTC 1h", "failed after 2 tries", &gone]);
    nothing_stored();

    // A server that never answers: each try ends at the per-request timeout.
    let mut m = market();
    m.faults.insert(1, Fault::Stall(1_500));
    m.faults.insert(2, Fault::Stall(1_500));
    let stalling = FakeHyperliquid::start(m);
    let url = stalling.url();
    let mut args = fetch_args(&url, &dbs, &since);
    *args.last_mut().unwrap() = "2";
    args.extend(["--timeout", "0.3"]);
    let out = evoflow(&args);
    fails_with(
        &out,
        1,
        &["candleSnapshot BTC 1h", "failed after 2 tries", "timeout", &url],
    );
    nothing_stored();
}

#[test]
fn fetch_writes_to_the_shared_backend() {
    steady_hour();
    let m = hourly_market(300, 100, 2);
    let first = m.candles[0].t;
    let want: Vec<i64> = m.candles[..m.candles.len() - 1].iter().map(|c| c.t).collect();
    let server = FakeHyperliquid::start(m);
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("efs");
    std::fs::create_dir(&shared).unwrap();
    let (url, since, shared_s) = (server.url(), first.to_string(), shared.display().to_string());
    let args = [
        "data",
        "fetch",
        "--coin",
        "BTC",
        "--interval",
        "1h",
        "--since",
        &since,
        "--api-url",
        &url,
        "--storage",
        "shared",
        "--shared-dir",
        &shared_s,
    ];
    let text = ok(&evoflow(&args));
    assert!(
        text.contains(&format!(
            "fetched {} new bars of BTC/1h into shared storage",
            want.len()
        )),
        "{text}"
    );
    let s = open_storage(&StorageConfig::shared(shared.clone()), OpenMode::ReadOnly).unwrap();
    assert_eq!(s.read_bars("BTC", "1h", TimeRange::all()).unwrap().timestamp_ms, want);
    assert!(
        s.read_funding("BTC", "1h", TimeRange::all()).unwrap().is_none(),
        "no --funding, no funding"
    );
}
