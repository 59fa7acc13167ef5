//! Every store trait on Redis, standalone or Cluster: the backend for more than one
//! replica (DESIGN §5). Key layout in `keys.rs`; connection, timeouts and reconnection
//! in `connection.rs`. `crate::Backends::connect` builds them all on one shared handle.

mod audit;
mod commit;
mod connection;
mod keys;
mod publisher_scripts;
mod publishers;
mod rate_limit;
mod replay;
mod token_codec;
mod tokens;

use async_trait::async_trait;

pub use audit::RedisAuditLog;
pub use commit::RedisExchangeStore;
pub use publishers::RedisPublisherStore;
pub use rate_limit::RedisRateLimiter;
pub use replay::RedisReplayGuard;
pub use tokens::RedisTokenStore;

pub(crate) use connection::RedisHandle;
pub(crate) use keys::KeyLayout;

use crate::{StoreError, StoreHealth};

/// [`StoreHealth`] of the Redis backend: `PING` within the timeout.
#[derive(Clone, Debug)]
pub struct RedisHealth {
    redis: RedisHandle,
}

impl RedisHealth {
    pub(crate) fn new(redis: RedisHandle) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl StoreHealth for RedisHealth {
    async fn ping(&self) -> Result<(), StoreError> {
        let reply: String = self.redis.query("ping", &redis::cmd("PING")).await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(StoreError::new(
                "ping",
                format!("unexpected reply '{reply}'"),
            ))
        }
    }
}
