//! The retry policy: bounded tries, a timeout per request, exponential backoff with jitter that honours `Retry-After`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How requests are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries per request in all (1 = no retry).
    pub tries: u32,
    /// The whole-request timeout (connect, send, headers and body).
    pub timeout: Duration,
    /// The backoff before the second try; it doubles with every further try.
    pub base_delay: Duration,
    /// No backoff (nor `Retry-After`) waits longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            tries: 5,
            timeout: Duration::from_secs(30),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `attempt` (1-based): `base * 2^(attempt-1)` scaled
    /// by a jitter factor in [0.5, 1), at least `retry_after` when the server sent one, and
    /// at most `max_delay`. `jitter` is a uniform draw in [0, 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exp = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let backoff = self.base_delay.as_secs_f64() * exp * (0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        let wait = backoff.max(retry_after.map_or(0.0, |d| d.as_secs_f64()));
        Duration::from_secs_f64(wait.min(self.max_delay.as_secs_f64()))
    }
}

/// A `Retry-After` header value in delay-seconds form (an HTTP date is ignored: the
/// exponential backoff applies then).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A uniform draw in [0, 1) for backoff jitter. Jitter only spreads retries of
/// concurrent clients, it decides no result, so a clock-seeded xorshift is enough.
pub fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let p = RetryPolicy {
            tries: 5,
            timeout: Duration::from_secs(1),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        };
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_millis(200));
        assert!(p.delay(3, None, 0.999) < Duration::from_millis(400));
        assert_eq!(p.delay(1, Some(Duration::from_secs(1)), 0.0), Duration::from_secs(1));
        assert_eq!(p.delay(20, None, 0.5), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), 0.5), Duration::from_secs(2));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
