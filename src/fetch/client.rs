//! A blocking client of the Hyperliquid info API (`POST {api}/info`) that retries by a [`RetryPolicy`].

use std::time::Duration;

use serde_json::Value;

use super::retry::{jitter, parse_retry_after, RetryPolicy};
use super::FetchError;

/// The public mainnet API.
pub const MAINNET_URL: &str = "https://api.hyperliquid.xyz";
/// The public testnet API.
pub const TESTNET_URL: &str = "https://api.hyperliquid-testnet.xyz";

/// The largest response body read (a full page of 5,000 candles is about 0.8 MB).
const BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// How much of an error body an error message quotes.
const ERROR_BODY_CHARS: usize = 300;

/// One info-API endpoint with its retry policy; counts the HTTP requests it sends.
pub struct InfoClient {
    agent: ureq::Agent,
    url: String,
    policy: RetryPolicy,
    requests: u64,
}

/// What one try produced: a body, or why (and after how long) to try again.
enum Try {
    Done(String),
    Again(String, Option<Duration>),
}

impl InfoClient {
    /// A client of `{api_url}/info`.
    pub fn new(api_url: &str, policy: RetryPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(policy.timeout))
            .user_agent(concat!("evoflow/", env!("CARGO_PKG_VERSION")))
            .build();
        InfoClient {
            agent: config.into(),
            url: format!("{}/info", api_url.trim_end_matches('/')),
            policy,
            requests: 0,
        }
    }

    /// The URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Posts `body` and returns the response text. HTTP 429, 5xx, timeouts, refused or
    /// dropped connections (also mid-body) are retried up to the policy's tries; other 4xx
    /// answers fail at once. `request` names the request in errors and retry notes.
    pub fn post(&mut self, request: &str, body: &Value) -> Result<String, FetchError> {
        let tries = self.policy.tries.max(1);
        let mut last = String::new();
        for attempt in 1..=tries {
            match self.try_once(request, body)? {
                Try::Done(text) => return Ok(text),
                Try::Again(why, retry_after) => {
                    last = why;
                    if attempt < tries {
                        let wait = self.policy.delay(attempt, retry_after, jitter());
                        eprintln!(
                            "retrying {request} in {:.1} s (try {attempt} of {tries}: {last})",
                            wait.as_secs_f64()
                        );
                        std::thread::sleep(wait);
                    }
                }
            }
        }
        Err(FetchError::Unreachable {
            request: request.to_string(),
            tries,
            message: last,
        })
    }

    fn try_once(&mut self, request: &str, body: &Value) -> Result<Try, FetchError> {
        self.requests += 1;
        let mut response = match self.agent.post(&self.url).send_json(body) {
            Ok(r) => r,
            Err(e @ (ureq::Error::BadUri(_) | ureq::Error::Http(_))) => {
                return Err(FetchError::Usage(format!("{request}: {e}")));
            }
            Err(e) => return Ok(Try::Again(e.to_string(), None)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = response.body_mut().with_config().limit(BODY_LIMIT).read_to_string();
        match (status, text) {
            (200..=299, Ok(text)) => Ok(Try::Done(text)),
            (200..=299, Err(e)) => Ok(Try::Again(format!("response body cut off: {e}"), None)),
            (429, _) => Ok(Try::Again("HTTP 429 Too Many Requests".into(), retry_after)),
            (500..=599, text) => {
                let body: String = text.unwrap_or_default().chars().take(ERROR_BODY_CHARS).collect();
                Ok(Try::Again(format!("HTTP {status} {}", body.trim()), retry_after))
            }
            (_, text) => Err(FetchError::Status {
                request: request.to_string(),
                status,
                body: text.unwrap_or_default().chars().take(ERROR_BODY_CHARS).collect(),
            }),
        }
    }
}
