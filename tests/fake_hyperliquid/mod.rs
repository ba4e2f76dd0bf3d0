//! A loopback fake of the Hyperliquid info API for the fetch tests: enforces the 5,000-candle and 500-funding caps, injects faults, records requests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{json, Value};

pub const CANDLE_CAP: usize = 5_000;
pub const FUNDING_CAP: usize = 500;
pub const HOUR_MS: i64 = 3_600_000;

/// One served candle; prices are decimal strings as the real API sends them.
#[derive(Clone, Debug)]
pub struct Candle {
    pub t: i64,
    pub close_time: i64,
    pub o: String,
    pub h: String,
    pub l: String,
    pub c: String,
    pub v: String,
}

/// What the server does to one request instead of answering it normally.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// HTTP 429, with `Retry-After: N` when given.
    TooManyRequests(Option<u64>),
    /// Sends the headers and half of the body, then closes the connection.
    DropMidBody,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// HTTP 503.
    Unavailable,
    /// Reads the request, waits this many milliseconds, and closes without an answer.
    Stall(u64),
}

/// One request the server got, with the status it answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub body: Value,
    pub status: u16,
}

impl Recorded {
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }
    pub fn start_time(&self) -> i64 {
        let v = if self.kind() == "candleSnapshot" {
            &self.body["req"]["startTime"]
        } else {
            &self.body["startTime"]
        };
        v.as_i64().unwrap()
    }
}

/// The data and the fault script.
pub struct Market {
    pub coin: String,
    pub interval: String,
    pub candles: Vec<Candle>,
    pub funding: Vec<(i64, String)>,
    /// Faults by 1-based request number.
    pub faults: HashMap<usize, Fault>,
    /// From this 1-based request number on, every request gets HTTP 503.
    pub fail_from: Option<usize>,
}

struct Shared {
    market: Mutex<Market>,
    log: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
}

/// The running server; it stops when dropped.
pub struct FakeHyperliquid {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// An hourly BTC market whose last candle opens at the current hour (and so is still open),
/// `count` candles in all, with the `gap` candles after index `gap_at` missing; hourly
/// funding 76 ms after each served candle's open time.
pub fn hourly_market(count: usize, gap_at: usize, gap: usize) -> Market {
    let now = chrono::Utc::now().timestamp_millis();
    let current_hour = now - now.rem_euclid(HOUR_MS);
    let first = current_hour - (count + gap - 1) as i64 * HOUR_MS;
    let mut candles = Vec::new();
    let mut price = 40_000.0f64;
    for k in 0..count + gap {
        let t = first + k as i64 * HOUR_MS;
        let step = ((k as f64 * 0.37).sin() + (k as f64 * 0.051).cos() * 0.6) * 120.0;
        let open = (price * 10.0).round() / 10.0;
        price = (price + step).max(1_000.0);
        let close = (price * 10.0).round() / 10.0;
        if k > gap_at && k <= gap_at + gap {
            continue;
        }
        let high = open.max(close) + 15.5;
        let low = open.min(close) - 12.25;
        candles.push(Candle {
            t,
            close_time: t + HOUR_MS - 1,
            o: format!("{open}"),
            h: format!("{high}"),
            l: format!("{low}"),
            c: format!("{close}"),
            v: format!("{}", 10.0 + (k % 17) as f64 * 0.5),
        });
    }
    let funding = candles
        .iter()
        .enumerate()
        .map(|(k, c)| (c.t + 76, format!("{}", ((k % 23) as f64 - 11.0) * 1e-6)))
        .collect();
    Market {
        coin: "BTC".into(),
        interval: "1h".into(),
        candles,
        funding,
        faults: HashMap::new(),
        fail_from: None,
    }
}

impl FakeHyperliquid {
    /// Starts serving `market` on a free port of 127.0.0.1.
    pub fn start(market: Market) -> FakeHyperliquid {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            market: Mutex::new(market),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = serve(&s, stream);
                }
            }
        });
        FakeHyperliquid {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// The base URL to pass as `--api-url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Changes the data or the fault script.
    pub fn with_market<R>(&self, f: impl FnOnce(&mut Market) -> R) -> R {
        f(&mut self.shared.market.lock().unwrap())
    }
}

impl Drop for FakeHyperliquid {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &TcpStream) -> std::io::Result<Value> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn respond(mut stream: &TcpStream, status: u16, extra: &str, body: &str, cut: bool) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    let bytes = body.as_bytes();
    stream.write_all(if cut { &bytes[..bytes.len() / 2] } else { bytes })?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)
}

fn serve(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    let request = read_request(&stream)?;
    let market = shared.market.lock().unwrap();
    let number = shared.log.lock().unwrap().len() + 1;
    let fault = match market.fail_from {
        Some(n) if number >= n => Some(Fault::Unavailable),
        _ => market.faults.get(&number).copied(),
    };
    let body = answer(&market, &request);
    drop(market);
    let status = match fault {
        Some(Fault::TooManyRequests(_)) => 429,
        Some(Fault::Unavailable) => 503,
        Some(Fault::Stall(_)) => 0,
        _ => 200,
    };
    shared.log.lock().unwrap().push(Recorded { body: request, status });
    match fault {
        None => respond(&stream, 200, "", &body, false),
        Some(Fault::DropMidBody) => respond(&stream, 200, "", &body, true),
        Some(Fault::Malformed) => respond(&stream, 200, "", "[{\"t\": 17, \"o\": ", false),
        Some(Fault::TooManyRequests(after)) => {
            let extra = after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
            respond(&stream, 429, &extra, "rate limited", false)
        }
        Some(Fault::Unavailable) => respond(&stream, 503, "", "unavailable", false),
        Some(Fault::Stall(ms)) => {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Ok(())
        }
    }
}

/// The normal answer: candles or funding of `[startTime, endTime]`, capped; `[]` for an
/// unknown coin or interval.
fn answer(market: &Market, request: &Value) -> String {
    match request["type"].as_str() {
        Some("candleSnapshot") => {
            let req = &request["req"];
            let (start, end) = (req["startTime"].as_i64().unwrap(), req["endTime"].as_i64().unwrap());
            if req["coin"] != market.coin.as_str() || req["interval"] != market.interval.as_str() {
                return "[]".into();
            }
            let page: Vec<Value> = market
                .candles
                .iter()
                .filter(|c| c.t >= start && c.t <= end)
                .take(CANDLE_CAP)
                .map(|c| {
                    json!({"t": c.t, "T": c.close_time, "s": market.coin, "i": market.interval,
                           "o": c.o, "c": c.c, "h": c.h, "l": c.l, "v": c.v, "n": 42})
                })
                .collect();
            Value::Array(page).to_string()
        }
        Some("fundingHistory") => {
            let (start, end) = (
                request["startTime"].as_i64().unwrap(),
                request["endTime"].as_i64().unwrap(),
            );
            if request["coin"] != market.coin.as_str() {
                return "[]".into();
            }
            let page: Vec<Value> = market
                .funding
                .iter()
                .filter(|(t, _)| *t >= start && *t <= end)
                .take(FUNDING_CAP)
                .map(|(t, r)| json!({"coin": market.coin, "fundingRate": r, "premium": "0.0001", "time": t}))
                .collect();
            Value::Array(page).to_string()
        }
        _ => "null".into(),
    }
}
