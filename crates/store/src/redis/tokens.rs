//! Token records in Redis: `SET tok:<id> <json> EX <ttl>`; revoking is `DEL`.

use async_trait::async_trait;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use crate::{StoreError, TokenRecord, TokenStore};

/// [`TokenStore`] on Redis.
#[derive(Clone, Debug)]
pub struct RedisTokenStore {
    redis: RedisHandle,
    keys: KeyLayout,
}

impl RedisTokenStore {
    pub(crate) fn new(redis: RedisHandle, keys: KeyLayout) -> Self {
        Self { redis, keys }
    }
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn put(&self, record: &TokenRecord, ttl_secs: u64) -> Result<(), StoreError> {
        if ttl_secs == 0 {
            return Err(StoreError::new(
                "token_put",
                "ttl must be at least 1 second",
            ));
        }
        // Compact JSON with the record's one-letter field names: the whole key stays
        // well under 512 bytes of Redis memory (docs/operations.md, "Sizing").
        let json = serde_json::to_string(record)
            .map_err(|e| StoreError::new("token_put", format!("encoding the record: {e}")))?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.keys.token(&record.token_id))
            .arg(json)
            .arg("EX")
            .arg(ttl_secs);
        self.redis.query::<()>("token_put", &cmd).await
    }

    async fn get(&self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.token(token_id));
        let json: Option<String> = self.redis.query("token_get", &cmd).await?;
        json.map(|json| {
            serde_json::from_str(&json)
                .map_err(|e| StoreError::new("token_get", format!("unreadable record: {e}")))
        })
        .transpose()
    }

    async fn delete(&self, token_id: &str) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.keys.token(token_id));
        let removed: i64 = self.redis.query("token_delete", &cmd).await?;
        Ok(removed > 0)
    }
}
