//! Starting timely's communication: cluster connections with a timeout, and failing fast on a lost peer.
//!
//! timely's own cluster start-up (`networking::create_sockets`) retries forever. Here the
//! same handshake (process `i` connects to every `j < i` and sends its index as a big-endian
//! `u64`; it accepts connections from every `j > i`) runs against a deadline, and the
//! connected sockets are handed to `initialize_networking_from_sockets`. When a peer dies
//! mid-run, timely's network threads panic with "timely communication error"; the hook
//! installed by [`exit_on_lost_peer`] turns that (and a worker panic in a cluster) into a
//! clear message and exit status 1 instead of a hang.

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

/// Builds timely's allocators for `cluster` (connecting to the other processes first, with
/// `cluster.connect_timeout`). Returns the builders and the guard timely must keep alive.
pub fn build_communication(
    cluster: &ClusterConfig,
) -> Result<(Vec<AllocatorBuilder>, Box<dyn Any + Send>), ClusterError> {
    let addresses = cluster.validate()?;
    if cluster.processes == 1 {
        let config = cluster.to_timely_config()?;
        return config
            .communication
            .try_build()
            .map_err(|e| ClusterError::Io(std::io::Error::other(e)));
    }
    let sockets = connect(&addresses, cluster.process, cluster.connect_timeout, cluster.report)?;
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

/// Connects this process (`me`) to every other one within `timeout`, using timely's
/// handshake. Element `i` of the result is the socket to process `i` (`None` for `me`).
pub fn connect(
    addresses: &[String],
    me: usize,
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
        .spawn(move || dial_lower(&lower, me, deadline, timeout, report))?;
    let accepted = accept_higher(&listener, addresses, me, deadline, timeout, report);
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

/// Connects to processes `0 .. me`, retrying until `deadline`.
fn dial_lower(
    addresses: &[String],
    me: usize,
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
        (&stream).write_all(&(me as u64).to_be_bytes())?;
        if report {
            eprintln!("process {me}: connected to process {process} at {address}");
        }
        sockets.push(Some(stream));
    }
    Ok(sockets)
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

/// Accepts connections from processes `me + 1 ..`, until `deadline`.
fn accept_higher(
    listener: &TcpListener,
    addresses: &[String],
    me: usize,
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
                if report {
                    eprintln!("process {me}: accepted process {process} from {peer}");
                }
                sockets[process - me - 1] = Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
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
