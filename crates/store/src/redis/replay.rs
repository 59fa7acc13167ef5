//! The replay guard in Redis: `SET jti:<key> <owner> NX EXAT <expires_at>`, atomic
//! across replicas; releasing deletes the key only while it still holds the releasing
//! exchange's owner value (compare-and-delete in a Lua script).

use async_trait::async_trait;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use crate::{ReplayGuard, StoreError};

/// `KEYS[1]` = the replay key, `ARGV[1]` = the owner: deletes the key only if this owner
/// holds it. A plain `DEL` could drop a later claim of the same JWT (after this one's
/// reply was lost), letting the JWT be exchanged once more.
const RELEASE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// [`ReplayGuard`] on Redis.
#[derive(Clone, Debug)]
pub struct RedisReplayGuard {
    redis: RedisHandle,
    keys: KeyLayout,
    release_if_owner: redis::Script,
}

impl RedisReplayGuard {
    pub(crate) fn new(redis: RedisHandle, keys: KeyLayout) -> Self {
        Self {
            redis,
            keys,
            release_if_owner: redis::Script::new(RELEASE_IF_OWNER),
        }
    }
}

#[async_trait]
impl ReplayGuard for RedisReplayGuard {
    async fn claim(&self, key: &str, owner: &str, expires_at: i64) -> Result<bool, StoreError> {
        if expires_at <= 0 {
            return Err(StoreError::new(
                "replay_claim",
                format!("expires_at must be a positive unix time, got {expires_at}"),
            ));
        }
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.keys.replay(key))
            .arg(owner)
            .arg("NX")
            .arg("EXAT")
            .arg(expires_at);
        // "OK" when this call set the key, nil when it already existed.
        let set: Option<String> = self.redis.query("replay_claim", &cmd).await?;
        Ok(set.is_some())
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let mut invocation = self.release_if_owner.prepare_invoke();
        invocation.key(self.keys.replay(key)).arg(owner);
        self.redis
            .invoke::<i64>("replay_release", &invocation)
            .await?;
        Ok(())
    }
}
