//! `MetricsServer`: a tiny blocking HTTP/1.1 server on its own thread that answers `GET /metrics` in the Prometheus text format.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::TelemetryError;
use super::registry::Metrics;

/// A client gets this long to send its request and read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request head read (Prometheus sends a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;

/// Serves `metrics` on a socket for the life of the process (the thread is never joined:
/// the endpoint must answer until the process exits).
pub struct MetricsServer {
    addr: SocketAddr,
    scrapes: Arc<Scrapes>,
}

/// How many `GET /metrics` were begun and answered (one at a time, in order).
#[derive(Default)]
struct Scrapes {
    begun: AtomicU64,
    answered: AtomicU64,
}

/// Parses `HOST:PORT` (`:PORT` means every interface, `0.0.0.0`); port 0 picks a free one.
pub fn parse_addr(addr: &str) -> Result<SocketAddr, TelemetryError> {
    let bad = |reason: &str| TelemetryError::BadAddress {
        addr: addr.to_string(),
        reason: reason.to_string(),
    };
    let full = if addr.starts_with(':') {
        format!("0.0.0.0{addr}")
    } else {
        addr.to_string()
    };
    let Some((host, port)) = full.rsplit_once(':') else {
        return Err(bad("no port"));
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    port.parse::<u16>()
        .map_err(|_| bad(&format!("the port `{port}` is not a number from 0 to 65535")))?;
    let mut resolved = full
        .to_socket_addrs()
        .map_err(|e| bad(&format!("cannot resolve the host `{host}`: {e}")))?;
    resolved
        .next()
        .ok_or_else(|| bad(&format!("the host `{host}` has no address")))
}

impl MetricsServer {
    /// Listens on `addr` (see [`parse_addr`]) and answers scrapes on a background thread.
    pub fn start(addr: &str, metrics: Metrics) -> Result<MetricsServer, TelemetryError> {
        let socket = parse_addr(addr)?;
        let listener = TcpListener::bind(socket).map_err(|source| TelemetryError::Bind {
            addr: addr.to_string(),
            resolved: socket.to_string(),
            source,
        })?;
        let local = listener.local_addr().map_err(|source| TelemetryError::Bind {
            addr: addr.to_string(),
            resolved: socket.to_string(),
            source,
        })?;
        let scrapes = Arc::new(Scrapes::default());
        let counted = Arc::clone(&scrapes);
        std::thread::Builder::new()
            .name("evoflow-metrics".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    // A client that misbehaves only loses its own answer.
                    let _ = answer(stream, &metrics, &counted);
                }
            })
            .map_err(|source| TelemetryError::Thread {
                what: "metrics server",
                source,
            })?;
        Ok(MetricsServer { addr: local, scrapes })
    }

    /// The address listened on (with the port chosen for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The scrape URL, e.g. `http://127.0.0.1:9464/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// How many scrapes have begun so far (a mark for [`MetricsServer::wait_for_scrape_after`]).
    pub fn scrapes_begun(&self) -> u64 {
        self.scrapes.begun.load(Ordering::SeqCst)
    }

    /// Waits until a scrape that began after this call has been answered (so a scraper saw
    /// the state as it is now), at most `limit`; returns whether one was.
    pub fn wait_for_scrape(&self, limit: Duration) -> bool {
        self.wait_for_scrape_after(self.scrapes_begun(), limit)
    }

    /// Waits until a scrape that began after mark `begun` ([`MetricsServer::scrapes_begun`])
    /// has been answered, at most `limit`; returns whether one was.
    pub fn wait_for_scrape_after(&self, begun: u64, limit: Duration) -> bool {
        // Scrapes are answered one at a time, in order: one answered after `begun` began later.
        let deadline = Instant::now() + limit;
        while self.scrapes.answered.load(Ordering::SeqCst) <= begun {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }
}

/// Reads one request and answers it, closing the connection.
fn answer(stream: TcpStream, metrics: &Metrics, scrapes: &Scrapes) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers (up to the blank line); nothing in them changes the answer.
    let mut read = request_line.len();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        read += n;
        if n == 0 || line == "\r\n" || line == "\n" || read > MAX_HEAD {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let mut stream = stream;
    match (method, path) {
        ("GET", "/metrics") => {
            scrapes.begun.fetch_add(1, Ordering::SeqCst);
            let body = metrics.encode();
            let result = respond(&mut stream, "200 OK", prometheus::TEXT_FORMAT, &body);
            scrapes.answered.fetch_add(1, Ordering::SeqCst);
            result
        }
        ("GET", "/") => respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            b"<html><body><a href=\"/metrics\">/metrics</a></body></html>\n",
        ),
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", b"not found: try /metrics\n"),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET is served\n",
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn serves_the_registry_and_counts_scrapes() {
        let metrics = Metrics::new("v", "r", 0).unwrap();
        let server = MetricsServer::start("127.0.0.1:0", metrics.clone()).unwrap();
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0);
        metrics.generation.set(7);
        let text = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; version=0.0.4"), "{text}");
        assert!(text.contains("\nevoflow_generation 7\n"), "{text}");
        // The answer came before the call: it does not count as a later scrape.
        assert!(!server.wait_for_scrape(Duration::from_millis(100)));
        let mark = server.scrapes_begun();
        assert_eq!(mark, 1);
        get(addr, "GET /metrics HTTP/1.1\r\n\r\n");
        // A scrape after the mark, answered before the wait began, counts.
        assert!(server.wait_for_scrape_after(mark, Duration::ZERO));
        let mark = server.scrapes_begun();
        let later = std::thread::spawn(move || get(addr, "GET /metrics?x=1 HTTP/1.1\r\n\r\n"));
        assert!(server.wait_for_scrape_after(mark, Duration::from_secs(10)));
        assert!(later.join().unwrap().contains("evoflow_run_status 0\n"));
        assert!(get(addr, "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    }

    #[test]
    fn bad_and_busy_addresses_are_clear_errors() {
        for bad in [
            "9464",
            "localhost",
            "127.0.0.1:99999",
            "127.0.0.1:x",
            "no-such-host.invalid:1",
        ] {
            let e = parse_addr(bad).unwrap_err();
            assert!(e.is_bad_input(), "{bad}");
            assert!(e.to_string().starts_with(&format!("--metrics-addr {bad}: ")), "{e}");
        }
        assert_eq!(parse_addr(":9464").unwrap().to_string(), "0.0.0.0:9464");
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let e = match MetricsServer::start(&addr, Metrics::new("v", "r", 0).unwrap()) {
            Err(e) => e,
            Ok(_) => panic!("bound a port in use"),
        };
        assert!(matches!(e, TelemetryError::Bind { .. }), "{e}");
        assert!(e.to_string().contains("cannot listen on"), "{e}");
    }
}
