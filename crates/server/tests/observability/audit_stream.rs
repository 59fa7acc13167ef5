//! The audit stream in the Redis at 127.0.0.1:6379, read back with XRANGE.

use std::collections::BTreeMap;

/// How to get the Redis these tests need.
pub const START_REDIS: &str = "the audit tests need a Redis at 127.0.0.1:6379: start one with \
     `redis-server --daemonize yes --port 6379 --save \"\" --appendonly no` (or run .ci/run, \
     which starts it)";

/// The local Redis URL.
pub const LOCAL_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// One audit event as stored: field → value.
pub type StoredEvent = BTreeMap<String, String>;

/// A connection to the local Redis; fails the test with [`START_REDIS`] if it is down.
pub async fn local_redis() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(LOCAL_REDIS_URL).expect("redis url");
    let connect = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        client.get_multiplexed_async_connection(),
    )
    .await;
    match connect {
        Ok(Ok(mut connection)) => {
            let pong: redis::RedisResult<String> =
                redis::cmd("PING").query_async(&mut connection).await;
            assert_eq!(pong.as_deref().ok(), Some("PONG"), "{START_REDIS}");
            connection
        }
        Ok(Err(error)) => panic!("Redis at 127.0.0.1:6379 unreachable ({error}); {START_REDIS}"),
        Err(_) => panic!("Redis at 127.0.0.1:6379 did not answer within 3 s; {START_REDIS}"),
    }
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("test:audit:{}:", uuid::Uuid::new_v4().simple())
}

/// Every entry of `<prefix>audit`, oldest first.
pub async fn read_events(
    connection: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> Vec<StoredEvent> {
    let entries: Vec<(String, StoredEvent)> = redis::cmd("XRANGE")
        .arg(format!("{prefix}audit"))
        .arg("-")
        .arg("+")
        .query_async(connection)
        .await
        .expect("XRANGE");
    entries.into_iter().map(|(_, fields)| fields).collect()
}

/// `XLEN <prefix>audit`.
pub async fn stream_len(connection: &mut redis::aio::MultiplexedConnection, prefix: &str) -> u64 {
    redis::cmd("XLEN")
        .arg(format!("{prefix}audit"))
        .query_async(connection)
        .await
        .expect("XLEN")
}

/// Deletes every key under `prefix` (the test's own).
pub async fn delete_prefix(connection: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(connection)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query_async(connection).await;
    }
}
