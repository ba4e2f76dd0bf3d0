//! Timestamp parsing (ISO-8601 or epoch seconds/milliseconds) and ISO formatting, all UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Epoch values below this magnitude are read as seconds, at or above it as milliseconds
/// (1e11 s is the year 5138; 1e11 ms is March 1973).
const SECONDS_LIMIT: f64 = 1e11;

/// Parses a timestamp to UTC milliseconds: RFC 3339 / ISO-8601 (`2024-01-02T03:04:05Z`,
/// with an offset, with a space instead of `T`, without a zone = UTC, or a bare date), or
/// an epoch number in seconds or milliseconds. Returns a message on failure.
pub fn parse_timestamp_ms(text: &str) -> Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty timestamp".into());
    }
    if let Ok(n) = s.parse::<f64>() {
        if !n.is_finite() {
            return Err(format!("timestamp `{s}` is not finite"));
        }
        return Ok(if n.abs() < SECONDS_LIMIT {
            (n * 1000.0).round() as i64
        } else {
            n.round() as i64
        });
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Ok(dt.timestamp_millis());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&dt).timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let dt = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(Utc.from_utc_datetime(&dt).timestamp_millis());
    }
    Err(format!(
        "cannot parse timestamp `{s}` (expected ISO-8601 or epoch seconds/milliseconds)"
    ))
}

/// Formats UTC milliseconds as ISO-8601 with a `Z` suffix (`2024-01-02T03:04:05Z`, with
/// milliseconds only when they are non-zero).
pub fn format_timestamp_ms(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(dt) if ms % 1000 == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_and_epochs_alike() {
        let want = 1_704_164_645_000; // 2024-01-02T03:04:05Z
        for s in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T04:04:05+01:00",
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05.000",
            "1704164645",
            "1704164645000",
        ] {
            assert_eq!(parse_timestamp_ms(s), Ok(want), "{s}");
        }
        assert_eq!(parse_timestamp_ms("2024-01-02"), Ok(1_704_153_600_000));
        assert!(parse_timestamp_ms("yesterday").is_err());
        assert!(parse_timestamp_ms("").is_err());
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_timestamp_ms(1_704_164_645_000), "2024-01-02T03:04:05Z");
        assert_eq!(format_timestamp_ms(1_704_164_645_123), "2024-01-02T03:04:05.123Z");
    }
}
