//! GCRA rate limiting in Redis: one Lua script per check, so the read-decide-write is
//! atomic and every replica shares one state per key. The script reads Redis's own clock
//! (`TIME`), so replicas with skewed clocks still agree.

use async_trait::async_trait;
use redis::Script;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use crate::gcra::{self, GcraLimit};
use crate::settings::RateLimitSettings;
use crate::{RateDecision, RateLimiter, StoreError};

/// The arithmetic of `gcra::decide`, in microseconds. Lua numbers are doubles: exact for
/// integers below 2^53 µs (year 2255). The TAT is written with `%.0f` because Lua's
/// default number formatting would round it to 14 digits. The key expires when the TAT
/// passes (from then on, no state means the same).
///
/// KEYS[1] = rl:<key>; ARGV[1] = interval µs; ARGV[2] = burst.
/// Returns {1, 0} when allowed, {0, retry_after_us} when limited.
const GCRA_SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {1, 0}
";

/// [`RateLimiter`] on Redis, shared by all replicas.
#[derive(Clone, Debug)]
pub struct RedisRateLimiter {
    redis: RedisHandle,
    keys: KeyLayout,
    limit: GcraLimit,
    script: Script,
}

impl RedisRateLimiter {
    pub(crate) fn new(redis: RedisHandle, keys: KeyLayout, settings: &RateLimitSettings) -> Self {
        Self {
            redis,
            keys,
            limit: GcraLimit::from_settings(settings),
            script: Script::new(GCRA_SCRIPT),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str) -> Result<RateDecision, StoreError> {
        let mut invocation = self.script.key(self.keys.rate(key));
        invocation.arg(self.limit.interval_us).arg(self.limit.burst);
        let (allowed, retry_after_us): (i64, i64) =
            self.redis.invoke("rate_check", &invocation).await?;
        Ok(if allowed == 1 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after_secs: gcra::retry_after_secs(retry_after_us),
            }
        })
    }
}
