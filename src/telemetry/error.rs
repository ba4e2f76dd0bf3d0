//! `TelemetryError`: why the metrics could not be set up or served.

use thiserror::Error;

/// Why the metrics registry or the `/metrics` endpoint could not be set up.
#[derive(Debug, Error)]
pub enum TelemetryError {
    /// The address is not `HOST:PORT`, or its host does not resolve.
    #[error("--metrics-addr {addr}: {reason} (expected HOST:PORT, e.g. 127.0.0.1:9464, :9464 or 127.0.0.1:0)")]
    BadAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The address is valid but cannot be listened on (in use, not local, not permitted).
    #[error("--metrics-addr {addr}: cannot listen on {resolved}: {source}")]
    Bind {
        /// The address as given.
        addr: String,
        /// The socket address tried.
        resolved: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The operating system refused a thread.
    #[error("starting the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A metric could not be registered (a bug: names and labels are fixed).
    #[error("registering metric: {0}")]
    Register(#[from] prometheus::Error),
}

impl TelemetryError {
    /// Whether the user gave a bad or unusable address (a CLI exits with status 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, TelemetryError::BadAddress { .. } | TelemetryError::Bind { .. })
    }
}
