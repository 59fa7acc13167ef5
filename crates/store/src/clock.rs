//! Wall-clock time for the stores. Expiry in Redis follows Redis's clock; the in-memory
//! store and the read-side filters (expired pending publishers) follow this one.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds (0 if the clock is before 1970, which no deployment runs with).
pub(crate) fn unix_now() -> i64 {
    unix_now_micros() / 1_000_000
}

/// Unix time in microseconds, for rate limiting.
pub(crate) fn unix_now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
