//! The replay guard in Redis: `SET jti:<key> "" NX EXAT <expires_at>`, atomic across
//! replicas; releasing is `DEL`.

use async_trait::async_trait;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use crate::{ReplayGuard, StoreError};

/// [`ReplayGuard`] on Redis.
#[derive(Clone, Debug)]
pub struct RedisReplayGuard {
    redis: RedisHandle,
    keys: KeyLayout,
}

impl RedisReplayGuard {
    pub(crate) fn new(redis: RedisHandle, keys: KeyLayout) -> Self {
        Self { redis, keys }
    }
}

#[async_trait]
impl ReplayGuard for RedisReplayGuard {
    async fn claim(&self, key: &str, expires_at: i64) -> Result<bool, StoreError> {
        if expires_at <= 0 {
            return Err(StoreError::new(
                "replay_claim",
                format!("expires_at must be a positive unix time, got {expires_at}"),
            ));
        }
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.keys.replay(key))
            .arg("")
            .arg("NX")
            .arg("EXAT")
            .arg(expires_at);
        // "OK" when this call set the key, nil when it already existed.
        let set: Option<String> = self.redis.query("replay_claim", &cmd).await?;
        Ok(set.is_some())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.keys.replay(key));
        self.redis.query::<i64>("replay_release", &cmd).await?;
        Ok(())
    }
}
