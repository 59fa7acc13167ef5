//! The audit stream: `XADD <prefix>audit MAXLEN ~ <n> * field value …`. The `~` lets
//! Redis trim whole stream nodes, so the stream holds roughly `n` entries (a little more,
//! never unboundedly more) at almost no cost per append.

use async_trait::async_trait;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use crate::{AuditLog, StoreError};

/// [`AuditLog`] on a Redis stream.
#[derive(Clone, Debug)]
pub struct RedisAuditLog {
    redis: RedisHandle,
    stream: String,
    max_len: u64,
}

impl RedisAuditLog {
    pub(crate) fn new(redis: RedisHandle, keys: &KeyLayout, max_len: u64) -> Self {
        Self {
            redis,
            stream: keys.audit(),
            max_len,
        }
    }
}

#[async_trait]
impl AuditLog for RedisAuditLog {
    async fn append(&self, fields: &[(&str, String)]) -> Result<(), StoreError> {
        if fields.is_empty() {
            return Err(StoreError::new(
                "audit_append",
                "an audit event needs at least one field",
            ));
        }
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_len)
            .arg("*");
        for (name, value) in fields {
            cmd.arg(*name).arg(value);
        }
        self.redis.query::<String>("audit_append", &cmd).await?;
        Ok(())
    }
}
