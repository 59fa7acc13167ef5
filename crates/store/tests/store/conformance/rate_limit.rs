//! GCRA limits: a burst, then a wait; shared by replicas; off when disabled.

use trustmint_store::{RateDecision, RateLimitSettings};

use crate::support::Subject;

/// One request per second sustained, so refills cannot sneak in while a test makes its
/// burst of requests.
pub fn slow_limit(burst: u32) -> RateLimitSettings {
    RateLimitSettings {
        requests_per_second: 1.0,
        burst,
        ..RateLimitSettings::default()
    }
}

fn unique_key() -> String {
    format!("mint:192.0.2.{}", uuid::Uuid::new_v4())
}

/// Expects a subject built with `slow_limit(20)`.
pub async fn burst_then_limited(s: &Subject) {
    let limiter = &s.backends.rate_limiter;
    let key = unique_key();
    for i in 0..20 {
        assert_eq!(
            limiter.check(&key).await,
            Ok(RateDecision::Allowed),
            "request {i}"
        );
    }
    assert_eq!(
        limiter.check(&key).await,
        Ok(RateDecision::Limited {
            retry_after_secs: 1
        })
    );
    // other clients are not affected
    assert_eq!(
        limiter.check(&unique_key()).await,
        Ok(RateDecision::Allowed)
    );
    if let Some(raw) = &s.raw {
        let pttl = raw.pttl(&s.key(&format!("rl:{key}"))).await;
        assert!(
            (19_000..=21_000).contains(&pttl),
            "state lives one burst: {pttl}"
        );
    }
}

/// Expects a subject built with `slow_limit(20)`; Redis only (memory is per process).
pub async fn shared_across_replicas(s: &Subject) {
    let Some(replica) = s.replica().await else {
        return;
    };
    let key = unique_key();
    for i in 0..10 {
        assert_eq!(
            s.backends.rate_limiter.check(&key).await,
            Ok(RateDecision::Allowed),
            "{i}"
        );
        assert_eq!(
            replica.rate_limiter.check(&key).await,
            Ok(RateDecision::Allowed),
            "{i}"
        );
    }
    for limiter in [&s.backends.rate_limiter, &replica.rate_limiter] {
        assert!(
            matches!(
                limiter.check(&key).await,
                Ok(RateDecision::Limited { retry_after_secs }) if retry_after_secs >= 1
            ),
            "the burst of 20 is shared"
        );
    }
}

/// Expects a subject built with `enabled = false`.
pub async fn disabled_always_allows(s: &Subject) {
    let key = unique_key();
    for _ in 0..100 {
        assert_eq!(
            s.backends.rate_limiter.check(&key).await,
            Ok(RateDecision::Allowed)
        );
    }
    if let Some(raw) = &s.raw {
        assert!(
            !raw.exists(&s.key(&format!("rl:{key}"))).await,
            "no state written"
        );
    }
}
