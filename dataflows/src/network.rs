//! Starting timely's communication: cluster connections with a timeout, and failing fast on a lost peer.
//!
//! timely's own cluster start-up (`networking::create_sockets`) retries forever. Here a
//! similar handshake runs against a deadline: process `i` connects to every `j < i` and sends
//! its index as a big-endian `u64` (as timely does), then its [`RunHeader`]; `j` answers with
//! its own header, and both refuse to go on unless the two agree (same worker threads, same
//! run fingerprint). The connected sockets are handed to `initialize_networking_from_sockets`.
//! When a peer dies mid-run, timely's network threads panic with "timely communication
//! error"; the hook installed by [`exit_on_lost_peer`] turns that (and a worker panic in a
//! cluster) into a clear message and exit status 1 instead of a hang.

use std::any::Any;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};

use crate::cluster::{ClusterConfig, ClusterError};

/// The exit status used when a peer process is lost or a worker fails in a cluster.
pub const LOST_PEER_EXIT_CODE: i32 = 1;

/// Pause between connection attempts: short, since processes of one cluster start at about
/// the same time and a refused attempt (the peer not listening yet) costs little.
const RETRY: Duration = Duration::from_millis(10);

/// How long a cluster connection may go without an answer from its peer (keepalive probes
/// unanswered, or sent data unacknowledged) before the kernel breaks it: timely's own TCP has
/// no timeout, so a peer cut off the network (unplugged, `docker network disconnect`) would
/// leave the others waiting forever; with this they stop with "lost the connection" in
/// about this long.
pub const PEER_SILENCE_LIMIT: Duration = Duration::from_secs(6);

/// The start of every [`RunHeader`]: "evoflow" and the handshake's version.
const MAGIC: u64 = u64::from_be_bytes(*b"evoflow\x01");

/// What a process tells every peer it connects to: what must be equal in all processes of a
/// cluster for the run to work and give the same result as on one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunHeader {
    /// Worker threads per process (timely indexes workers assuming the same in every process).
    pub workers: usize,
    /// A hash of the run's configuration and problem (see [`Problem::fingerprint`](crate::Problem::fingerprint)).
    pub fingerprint: u64,
}

impl RunHeader {
    const LEN: usize = 24;

    fn to_bytes(self) -> [u8; RunHeader::LEN] {
        let mut bytes = [0u8; RunHeader::LEN];
        bytes[..8].copy_from_slice(&MAGIC.to_be_bytes());
        bytes[8..16].copy_from_slice(&(self.workers as u64).to_be_bytes());
        bytes[16..].copy_from_slice(&self.fingerprint.to_be_bytes());
        bytes
    }

    /// The header in `bytes`, or None when they do not start with [`MAGIC`] (another program,
    /// or an evoflow build with another handshake).
    fn from_bytes(bytes: &[u8; RunHeader::LEN]) -> Option<RunHeader> {
        let word = |i: usize| u64::from_be_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        (word(0) == MAGIC).then(|| RunHeader {
            workers: word(8) as usize,
            fingerprint: word(16),
        })
    }

    /// Whether process `me`, with this header, can run with process `peer`, which sent `theirs`.
    /// Both sides of a connection reach the same verdict and the same message.
    pub fn agree(self, me: usize, theirs: RunHeader, peer: usize) -> Result<(), ClusterError> {
        let ((low, low_header), (high, high_header)) = if me < peer {
            ((me, self), (peer, theirs))
        } else {
            ((peer, theirs), (me, self))
        };
        if low_header.workers != high_header.workers {
            return Err(ClusterError::WorkersDiffer {
                low,
                low_workers: low_header.workers,
                high,
                high_workers: high_header.workers,
            });
        }
        if low_header.fingerprint != high_header.fingerprint {
            return Err(ClusterError::RunsDiffer {
                low,
                low_fingerprint: low_header.fingerprint,
                high,
                high_fingerprint: high_header.fingerprint,
            });
        }
        Ok(())
    }
}

/// Builds timely's allocators for `cluster` (connecting to the other processes first, with
/// `cluster.connect_timeout`, and checking that they run `cluster.workers` workers each and a
/// run of the same `fingerprint`). Returns the builders and the guard timely must keep alive.
pub fn build_communication(
    cluster: &ClusterConfig,
    fingerprint: u64,
) -> Result<(Vec<AllocatorBuilder>, Box<dyn Any + Send>), ClusterError> {
    let addresses = cluster.validate()?;
    if cluster.processes == 1 {
        let config = cluster.to_timely_config()?;
        return config
            .communication
            .try_build()
            .map_err(|e| ClusterError::Io(std::io::Error::other(e)));
    }
    let header = RunHeader {
        workers: cluster.workers,
        fingerprint,
    };
    let sockets = connect(
        &addresses,
        cluster.process,
        header,
        cluster.connect_timeout,
        cluster.report,
    )?;
    let hooks = Hooks::default();
    let process_allocators = if cluster.zerocopy {
        ProcessBuilder::new_bytes_vector(cluster.workers, hooks.refill.clone(), hooks.spill.clone())
    } else {
        ProcessBuilder::new_typed_vector(cluster.workers, hooks.refill.clone(), hooks.spill.clone())
    };
    let (builders, guard) =
        initialize_networking_from_sockets(process_allocators, sockets, cluster.process, cluster.workers, hooks)?;
    Ok((
        builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
        Box::new(guard),
    ))
}

/// Connects this process (`me`, announcing `header`) to every other one within `timeout`;
/// fails unless every peer's header agrees ([`RunHeader::agree`]). Element `i` of the result
/// is the socket to process `i` (`None` for `me`).
pub fn connect(
    addresses: &[String],
    me: usize,
    header: RunHeader,
    timeout: Duration,
    report: bool,
) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let deadline = Instant::now() + timeout;
    let own = addresses.get(me).cloned().unwrap_or_default();
    let listener = TcpListener::bind(own.as_str()).map_err(|error| ClusterError::Listen {
        process: me,
        address: own.clone(),
        error,
    })?;
    let lower: Vec<String> = addresses[..me].to_vec();
    let dialer = thread::Builder::new()
        .name("evoflow:connect".into())
        .spawn(move || dial_lower(&lower, me, header, deadline, timeout, report))?;
    let accepted = accept_higher(&listener, addresses, me, header, deadline, timeout, report);
    let dialed = dialer
        .join()
        .map_err(|_| ClusterError::Handshake("connection thread panicked".into()))?;
    let mut sockets = dialed?;
    sockets.push(None);
    sockets.extend(accepted?);
    if report {
        eprintln!("process {me}: connected to all {} processes", addresses.len());
    }
    Ok(sockets)
}

/// Connects to processes `0 .. me`, retrying until `deadline`: sends this process's index and
/// header, reads the peer's header and checks that they agree.
fn dial_lower(
    addresses: &[String],
    me: usize,
    header: RunHeader,
    deadline: Instant,
    timeout: Duration,
    report: bool,
) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let mut sockets = Vec::with_capacity(addresses.len());
    for (process, address) in addresses.iter().enumerate() {
        let stream = loop {
            let last_error = match try_connect(address, deadline) {
                Ok(stream) => break stream,
                Err(e) => e.to_string(),
            };
            if let Some(gone) = first_closed(&sockets) {
                return Err(ClusterError::PeerLeft {
                    process: gone,
                    address: addresses[gone].clone(),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClusterError::ConnectTimeout {
                    process,
                    address: address.clone(),
                    timeout,
                    last_error,
                });
            }
            thread::sleep(RETRY.min(left));
        };
        stream.set_nodelay(true)?;
        detect_silent_peer(&stream)?;
        let mut hello = (me as u64).to_be_bytes().to_vec();
        hello.extend_from_slice(&header.to_bytes());
        (&stream).write_all(&hello)?;
        let theirs = peer_header(&stream, deadline, &format!("process {process} at {address}"))?;
        header.agree(me, theirs, process)?;
        if report {
            eprintln!("process {me}: connected to process {process} at {address}");
        }
        sockets.push(Some(stream));
    }
    Ok(sockets)
}

/// Makes the kernel break `stream` when its peer stays silent for [`PEER_SILENCE_LIMIT`]:
/// keepalive probes every second after a second idle, and (Linux) `TCP_USER_TIMEOUT` for
/// unacknowledged data and unanswered probes. An idle but live peer answers the probes.
fn detect_silent_peer(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let set = |level: libc::c_int, name: libc::c_int, value: libc::c_int| -> std::io::Result<()> {
        // SAFETY: fd is an open socket owned by `stream`; the option value is a c_int that
        // lives for the duration of the call, and its size is passed with it.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    let limit_s = PEER_SILENCE_LIMIT.as_secs() as libc::c_int;
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 1)?;
        set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 1)?;
        set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, limit_s)?;
        set(libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, limit_s * 1000)?;
    }
    Ok(())
}

/// One connection attempt to `address` (resolved afresh, so a host that appears late works).
fn try_connect(address: &str, deadline: Instant) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(ErrorKind::NotFound, format!("{address} resolved to no address"));
    for addr in address.to_socket_addrs()? {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(10));
        match TcpStream::connect_timeout(&addr, left.min(Duration::from_secs(1))) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Reads the [`RunHeader`] of the peer `who` (e.g. "process 1 at host:port") from `stream`,
/// waiting until `deadline` (at least 100 ms); a handshake error when none comes or the bytes
/// are not a header.
fn peer_header(mut stream: &TcpStream, deadline: Instant, who: &str) -> Result<RunHeader, ClusterError> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    stream.set_read_timeout(Some(left))?;
    let mut bytes = [0u8; RunHeader::LEN];
    let read = stream.read_exact(&mut bytes);
    stream.set_read_timeout(None)?;
    read.map_err(|e| ClusterError::Handshake(format!("{who} sent no handshake header: {e}")))?;
    RunHeader::from_bytes(&bytes).ok_or_else(|| {
        ClusterError::Handshake(format!(
            "{who} does not speak evoflow's handshake (another program, or another evoflow version)"
        ))
    })
}

/// Accepts connections from processes `me + 1 ..`, until `deadline`: reads each one's index and
/// header, answers with this process's header and checks that they agree.
fn accept_higher(
    listener: &TcpListener,
    addresses: &[String],
    me: usize,
    header: RunHeader,
    deadline: Instant,
    timeout: Duration,
    report: bool,
) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let mut sockets: Vec<Option<TcpStream>> = (me + 1..addresses.len()).map(|_| None).collect();
    listener.set_nonblocking(true)?;
    while let Some(missing) = sockets.iter().position(Option::is_none) {
        match listener.accept() {
            Ok((mut stream, peer)) => {
                stream.set_nonblocking(false)?;
                stream.set_nodelay(true)?;
                detect_silent_peer(&stream)?;
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(100));
                stream.set_read_timeout(Some(left))?;
                let mut bytes = [0u8; 8];
                if let Err(e) = stream.read_exact(&mut bytes) {
                    return Err(ClusterError::Handshake(format!("{peer} sent no process index: {e}")));
                }
                stream.set_read_timeout(None)?;
                let process = u64::from_be_bytes(bytes) as usize;
                if process <= me || process >= addresses.len() || sockets[process - me - 1].is_some() {
                    return Err(ClusterError::Handshake(format!(
                        "{peer} claims to be process {process}, which process {me} does not expect"
                    )));
                }
                let theirs = peer_header(&stream, deadline, &format!("process {process} at {peer}"))?;
                // Answer before judging, so the peer reaches the same verdict.
                stream.write_all(&header.to_bytes())?;
                header.agree(me, theirs, process)?;
                if report {
                    eprintln!("process {me}: accepted process {process} from {peer}");
                }
                sockets[process - me - 1] = Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if let Some(gone) = first_closed(&sockets) {
                    let process = me + 1 + gone;
                    return Err(ClusterError::PeerLeft {
                        process,
                        address: addresses[process].clone(),
                    });
                }
                if Instant::now() >= deadline {
                    let process = me + 1 + missing;
                    return Err(ClusterError::AcceptTimeout {
                        process,
                        address: addresses[process].clone(),
                        timeout,
                    });
                }
                thread::sleep(RETRY);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(sockets)
}

/// The index of the first of `sockets` whose peer has closed its end, while this process is
/// still connecting to others. A peer that agreed sends nothing until every process has
/// connected (and then timely's own traffic), so a socket that reads end-of-file means the
/// peer left: it refused another process, or failed. Peeking leaves any bytes for timely.
fn first_closed(sockets: &[Option<TcpStream>]) -> Option<usize> {
    sockets.iter().position(|socket| {
        socket.as_ref().is_some_and(|s| {
            let mut byte = [0u8; 1];
            let closed = s.set_nonblocking(true).is_ok()
                && match s.peek(&mut byte) {
                    Ok(read) => read == 0,
                    Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
                };
            let _ = s.set_nonblocking(false);
            closed
        })
    })
}

/// The text of a panic payload.
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Installs (once per process) a panic hook that, when a timely network thread fails (a peer
/// died or the connection broke) or a timely worker thread panics, prints
/// `error: ...` and exits the process with [`LOST_PEER_EXIT_CODE`]; other panics go to the
/// previous hook. Used by [`crate::run()`] for multi-process runs, where the surviving
/// processes would otherwise wait for the lost peer forever.
pub fn exit_on_lost_peer() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = thread::current().name().unwrap_or("").to_string();
            let message = panic_text(info.payload());
            let peer = name
                .strip_prefix("timely:send-")
                .or_else(|| name.strip_prefix("timely:recv-"));
            if let Some(peer) = peer {
                eprintln!("error: lost the connection to process {peer} ({message}); stopping");
                std::process::exit(LOST_PEER_EXIT_CODE);
            }
            if let Some(worker) = name.strip_prefix("timely:work-") {
                previous(info);
                eprintln!("error: worker {worker} failed ({message}); stopping the cluster");
                std::process::exit(LOST_PEER_EXIT_CODE);
            }
            previous(info)
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_other_bytes_are_refused() {
        let header = RunHeader {
            workers: 3,
            fingerprint: 0xfeed_beef_0123_4567,
        };
        assert_eq!(RunHeader::from_bytes(&header.to_bytes()), Some(header));
        let mut other = header.to_bytes();
        other[0] ^= 1;
        assert_eq!(RunHeader::from_bytes(&other), None, "not evoflow's magic");
    }

    /// Connects processes 0 and 1 (each on its own thread, as two processes would) announcing
    /// `headers`; returns what `connect` gave each.
    fn connect_pair(headers: [RunHeader; 2]) -> Vec<Result<usize, ClusterError>> {
        let ports: Vec<u16> = (0..2)
            .map(|_| {
                TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .expect("a free port")
                    .port()
            })
            .collect();
        let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let threads: Vec<_> = (0..2)
            .map(|me| {
                let addresses = addresses.clone();
                thread::spawn(move || {
                    connect(&addresses, me, headers[me], Duration::from_secs(10), false)
                        .map(|sockets| sockets.iter().filter(|s| s.is_some()).count())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("no panic")).collect()
    }

    #[test]
    fn peers_that_disagree_both_refuse_with_the_same_message() {
        let header = |workers, fingerprint| RunHeader { workers, fingerprint };
        let agreed = connect_pair([header(2, 7), header(2, 7)]);
        assert!(agreed.iter().all(|r| matches!(r, Ok(1))), "{agreed:?}");

        let workers = connect_pair([header(2, 7), header(1, 7)]);
        for result in &workers {
            let message = result.as_ref().expect_err("different -w").to_string();
            assert_eq!(
                message,
                "processes 0 and 1 run 2 and 1 worker threads: every process needs the same -w (give it \
                 explicitly when the hosts have different numbers of CPUs)"
            );
        }

        let runs = connect_pair([header(2, 7), header(2, 8)]);
        for result in &runs {
            let error = result.as_ref().expect_err("different runs");
            assert!(
                matches!(
                    error,
                    ClusterError::RunsDiffer {
                        low: 0,
                        low_fingerprint: 7,
                        high: 1,
                        high_fingerprint: 8
                    }
                ),
                "{error}"
            );
            assert!(error
                .to_string()
                .contains("same flags, apart from -p, and the same market data"));
        }
    }
}
