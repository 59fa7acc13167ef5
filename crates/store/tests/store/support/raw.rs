//! A plain connection for looking at what the stores wrote (TTL, EXPIRETIME, MEMORY
//! USAGE, stream entries), independent of the code under test.

use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue};

/// Standalone or Cluster; both route a keyed command to the right node.
#[derive(Clone)]
pub enum RawRedis {
    Standalone(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl RawRedis {
    pub async fn standalone(url: &str) -> Self {
        let client = redis::Client::open(url).expect("valid url");
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("cannot reach {url}: {e}; {}", super::START_REDIS_HINT));
        Self::Standalone(connection)
    }

    pub async fn cluster(urls: &[String]) -> Self {
        let client = redis::cluster::ClusterClient::new(urls.to_vec()).expect("valid urls");
        Self::Cluster(
            client
                .get_async_connection()
                .await
                .expect("cluster connection"),
        )
    }

    /// Runs `cmd`; panics (the test fails) on any error.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> T {
        let result = match self.clone() {
            RawRedis::Standalone(mut c) => cmd.query_async(&mut c).await,
            RawRedis::Cluster(mut c) => cmd.query_async(&mut c).await,
        };
        result.unwrap_or_else(|e| panic!("raw redis command failed: {e}"))
    }

    pub async fn pttl(&self, key: &str) -> i64 {
        self.query(redis::cmd("PTTL").arg(key)).await
    }

    pub async fn ttl(&self, key: &str) -> i64 {
        self.query(redis::cmd("TTL").arg(key)).await
    }

    pub async fn exists(&self, key: &str) -> bool {
        self.query::<i64>(redis::cmd("EXISTS").arg(key)).await == 1
    }

    pub async fn is_member(&self, set: &str, member: &str) -> bool {
        self.query::<i64>(redis::cmd("SISMEMBER").arg(set).arg(member))
            .await
            == 1
    }
}
