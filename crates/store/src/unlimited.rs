//! The limiter used when `[rate_limit] enabled = false`.

use async_trait::async_trait;

use crate::{RateDecision, RateLimiter, StoreError};

/// A [`RateLimiter`] that allows every request and touches no backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnlimitedRateLimiter;

#[async_trait]
impl RateLimiter for UnlimitedRateLimiter {
    async fn check(&self, _key: &str) -> Result<RateDecision, StoreError> {
        Ok(RateDecision::Allowed)
    }

    fn limits(&self) -> bool {
        false
    }
}
