//! GCRA (the generic cell rate algorithm), the rate limit both stores apply: one number
//! per key, the *theoretical arrival time* (TAT), instead of a window of counters. It
//! allows `burst` requests at once, then one per `1 / rate` seconds, and the state can be
//! forgotten as soon as the TAT has passed, which keeps memory bounded.
//!
//! The in-memory limiter calls [`decide`]; the Redis limiter runs the same arithmetic in
//! a Lua script (`redis/rate_limit.rs`) so replicas share one state per key.

use crate::RateDecision;
use crate::settings::RateLimitSettings;

/// The limit, in the integer microseconds the arithmetic runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GcraLimit {
    /// Microseconds between two requests at the sustained rate (the "emission interval").
    pub(crate) interval_us: i64,
    /// Requests allowed at once.
    pub(crate) burst: i64,
}

impl GcraLimit {
    /// The limit described by validated settings.
    pub(crate) fn from_settings(settings: &RateLimitSettings) -> Self {
        // Validation keeps the rate ≥ 1/day, so the interval fits easily in an i64 and is
        // at least 1 µs even for absurdly high rates.
        let interval_us = (1_000_000.0 / settings.requests_per_second).ceil() as i64;
        Self {
            interval_us: interval_us.max(1),
            burst: i64::from(settings.burst.max(1)),
        }
    }
}

/// What one request does to a key's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GcraOutcome {
    /// Allowed; store `new_tat` (it may be forgotten at `new_tat`).
    Allowed { new_tat: i64 },
    /// Limited; the state is unchanged and the request may be retried in `retry_after_us`.
    Limited { retry_after_us: i64 },
}

/// Applies one request at `now` (µs) to the stored TAT (`None` = no state).
pub(crate) fn decide(limit: GcraLimit, stored_tat: Option<i64>, now: i64) -> GcraOutcome {
    let tat = stored_tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(limit.interval_us);
    // The request is allowed if, after it, the "debt" (new_tat - now) is at most
    // burst × interval.
    let allow_at = new_tat.saturating_sub(limit.burst.saturating_mul(limit.interval_us));
    if now < allow_at {
        GcraOutcome::Limited {
            retry_after_us: allow_at - now,
        }
    } else {
        GcraOutcome::Allowed { new_tat }
    }
}

/// The decision a caller sees: retry-after rounded up to whole seconds, at least 1 (a
/// `Retry-After: 0` would invite an immediate retry that fails again).
pub(crate) fn to_decision(outcome: GcraOutcome) -> RateDecision {
    match outcome {
        GcraOutcome::Allowed { .. } => RateDecision::Allowed,
        GcraOutcome::Limited { retry_after_us } => RateDecision::Limited {
            retry_after_secs: retry_after_secs(retry_after_us),
        },
    }
}

/// Microseconds → whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(retry_after_us: i64) -> u64 {
    let micros = u64::try_from(retry_after_us).unwrap_or(0);
    micros.div_ceil(1_000_000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000;

    fn limit(rate: f64, burst: u32) -> GcraLimit {
        GcraLimit::from_settings(&RateLimitSettings {
            requests_per_second: rate,
            burst,
            ..RateLimitSettings::default()
        })
    }

    #[test]
    fn limit_from_settings() {
        assert_eq!(
            limit(5.0, 20),
            GcraLimit {
                interval_us: 200_000,
                burst: 20
            }
        );
        assert_eq!(limit(0.5, 1).interval_us, 2 * SEC);
        assert_eq!(limit(3.0, 1).interval_us, 333_334);
        assert_eq!(limit(1e9, 1).interval_us, 1);
    }

    #[test]
    fn decisions() {
        let l = limit(5.0, 2); // 200 ms interval, burst 2
        let now = 1_000 * SEC;
        // (stored TAT, now, expected)
        let cases = [
            // no state: allowed, TAT one interval ahead
            (
                None,
                now,
                GcraOutcome::Allowed {
                    new_tat: now + 200_000,
                },
            ),
            // a TAT in the past counts as no state
            (
                Some(now - SEC),
                now,
                GcraOutcome::Allowed {
                    new_tat: now + 200_000,
                },
            ),
            // second request of the burst
            (
                Some(now + 200_000),
                now,
                GcraOutcome::Allowed {
                    new_tat: now + 400_000,
                },
            ),
            // burst used up: wait one interval
            (
                Some(now + 400_000),
                now,
                GcraOutcome::Limited {
                    retry_after_us: 200_000,
                },
            ),
            // 150 ms later: 50 ms still to wait
            (
                Some(now + 400_000),
                now + 150_000,
                GcraOutcome::Limited {
                    retry_after_us: 50_000,
                },
            ),
            // one interval later: allowed again
            (
                Some(now + 400_000),
                now + 200_000,
                GcraOutcome::Allowed {
                    new_tat: now + 600_000,
                },
            ),
        ];
        for (stored, at, expected) in cases {
            assert_eq!(decide(l, stored, at), expected, "stored {stored:?} at {at}");
        }
    }

    #[test]
    fn burst_then_limited() {
        let l = limit(5.0, 20);
        let now = 42 * SEC;
        let mut tat = None;
        for i in 0..20 {
            match decide(l, tat, now) {
                GcraOutcome::Allowed { new_tat } => tat = Some(new_tat),
                other => panic!("request {i} limited: {other:?}"),
            }
        }
        assert_eq!(
            to_decision(decide(l, tat, now)),
            RateDecision::Limited {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        for (us, secs) in [
            (0, 1),
            (1, 1),
            (SEC, 1),
            (SEC + 1, 2),
            (59 * SEC + 10, 60),
            (-5, 1),
        ] {
            assert_eq!(retry_after_secs(us), secs, "{us}");
        }
    }
}
