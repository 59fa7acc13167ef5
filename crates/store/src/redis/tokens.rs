//! Token records in Redis: `SET tok:<id> <record> EX <ttl>`; revoking is `DEL`. The
//! value's layout is `token_codec`'s business.

use async_trait::async_trait;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use super::token_codec;
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
        let value = token_codec::encode(record)?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.keys.token(&record.token_id))
            .arg(value)
            .arg("EX")
            .arg(ttl_secs);
        self.redis.query::<()>("token_put", &cmd).await
    }

    async fn get(&self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.token(token_id));
        let value: Option<Vec<u8>> = self.redis.query("token_get", &cmd).await?;
        value
            .map(|value| token_codec::decode(token_id, &value))
            .transpose()
    }

    async fn delete(&self, token_id: &str) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.keys.token(token_id));
        let removed: i64 = self.redis.query("token_delete", &cmd).await?;
        Ok(removed > 0)
    }
}
