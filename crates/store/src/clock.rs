//! Time, behind a seam so tests can pin it. The exchange and the stores take the same
//! [`Clock`] (the server wires one instance into both), so a test that pins the time
//! pins it on both sides: pending-publisher expiry, replay records and rate limits of
//! the in-memory backend, and the read-side expiry filters of the Redis backend.
//!
//! Expiry that Redis itself enforces (`EX`/`EXAT` keys, the rate-limit script's `TIME`)
//! follows Redis's clock: that is what makes replicas with skewed clocks agree.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// Now, in unix seconds.
    fn now(&self) -> i64;

    /// Now, in unix microseconds (rate limiting needs sub-second resolution).
    fn now_micros(&self) -> i64 {
        self.now().saturating_mul(1_000_000)
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        self.now_micros() / 1_000_000
    }

    fn now_micros(&self) -> i64 {
        // 0 if the clock is before 1970, which no deployment runs with.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that stands still until told to move: for tests and simulations that need
/// an exact "now" on both sides of the store seam.
#[derive(Debug, Default)]
pub struct FixedClock {
    micros: AtomicI64,
}

impl FixedClock {
    /// A clock stopped at `unix_secs`.
    pub fn at(unix_secs: i64) -> Self {
        Self {
            micros: AtomicI64::new(unix_secs.saturating_mul(1_000_000)),
        }
    }

    /// Moves the clock to `unix_secs`.
    pub fn set(&self, unix_secs: i64) {
        self.micros
            .store(unix_secs.saturating_mul(1_000_000), Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` (backward if negative).
    pub fn advance(&self, secs: i64) {
        self.advance_micros(secs.saturating_mul(1_000_000));
    }

    /// Moves the clock forward by `micros`.
    pub fn advance_micros(&self, micros: i64) {
        self.micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.now_micros().div_euclid(1_000_000)
    }

    fn now_micros(&self) -> i64 {
        self.micros.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at(1_700_000_000);
        assert_eq!(
            (clock.now(), clock.now_micros()),
            (1_700_000_000, 1_700_000_000_000_000)
        );
        clock.advance(30);
        assert_eq!(clock.now(), 1_700_000_030);
        clock.advance_micros(999_999);
        assert_eq!(clock.now(), 1_700_000_030, "whole seconds only");
        clock.set(5);
        assert_eq!(clock.now_micros(), 5_000_000);
    }
}
