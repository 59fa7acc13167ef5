//! One handle to Redis, standalone or Cluster, shared (cloned) by every Redis store.
//!
//! Three properties the service relies on live here:
//! - **bounded calls**: every command runs under `timeout_ms` (a `tokio::time::timeout`
//!   on top of the connection's own response timeout), so a stuck or absent Redis costs
//!   a caller at most that long and never queues work without limit;
//! - **lazy connection**: building the handle never waits for Redis, so the service
//!   starts while Redis is down and `/readyz` says so;
//! - **self-healing**: the standalone `ConnectionManager` reconnects after a dropped
//!   connection, and the Cluster connection refreshes its slots and node connections;
//!   both are tuned below to retry quickly, so calls succeed again shortly after Redis
//!   is back, without a restart.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{
    Client, Cmd, FromRedisValue, Pipeline, RedisFuture, ScriptInvocation, TlsCertificates, Value,
};

use crate::StoreError;
use crate::settings::StoreSettings;

/// Delays between reconnection attempts: short, because a caller waits at most
/// `timeout_ms` anyway, and a long back-off would only delay recovery once Redis is back.
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(250);
/// Attempts per reconnection round; the next command that finds the connection broken
/// starts a new round.
const RECONNECT_RETRIES: usize = 2;
/// Cluster: retries of one request (MOVED/ASK redirections, slot refreshes). The overall
/// `response_timeout` bounds them in time.
const CLUSTER_REQUEST_RETRIES: u32 = 6;

/// The underlying connection.
#[derive(Clone)]
enum Connection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Standalone(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Standalone(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Standalone(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// A cloneable, bounded handle to Redis.
#[derive(Clone)]
pub(crate) struct RedisHandle {
    connection: Connection,
    timeout: Duration,
}

impl fmt::Debug for RedisHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.connection {
            Connection::Standalone(_) => "standalone",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisHandle")
            .field("mode", &mode)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisHandle {
    /// Builds the handle without contacting Redis: fails only for unusable settings (an
    /// invalid URL). Must run inside a Tokio runtime (the connection's tasks live there).
    pub(crate) fn open(settings: &StoreSettings) -> Result<Self, StoreError> {
        let timeout = settings.timeout();
        let connection = if settings.cluster_urls.is_empty() {
            let ca = (!settings.redis_ca_file.is_empty())
                .then(|| read_ca_file(&settings.redis_ca_file))
                .transpose()?;
            Connection::Standalone(open_standalone(&settings.redis_url, ca, timeout)?)
        } else {
            Connection::Cluster(open_cluster(&settings.cluster_urls, timeout)?)
        };
        let handle = Self {
            connection,
            timeout,
        };
        handle.warm_up();
        Ok(handle)
    }

    /// Starts connecting in the background, so the first request rarely pays for it.
    /// The outcome is ignored: a failure shows up in `ping` and in the first request.
    fn warm_up(&self) {
        let handle = self.clone();
        tokio::spawn(async move {
            let _ = handle.query::<String>("connect", &redis::cmd("PING")).await;
        });
    }

    /// Whether this is a standalone Redis (not a Cluster): only there can one script
    /// touch keys of any slot.
    pub(crate) fn is_standalone(&self) -> bool {
        matches!(self.connection, Connection::Standalone(_))
    }

    /// Runs one command, bounded by the timeout.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &Cmd,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        self.bounded(op, cmd.query_async::<T>(&mut connection))
            .await
    }

    /// Runs one Lua script (EVALSHA, loading it on first use), bounded by the timeout.
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        op: &'static str,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        self.bounded(op, invocation.invoke_async::<T>(&mut connection))
            .await
    }

    async fn bounded<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::new(op, format!("redis: {e}"))),
            Err(_) => Err(StoreError::new(
                op,
                format!(
                    "redis did not answer within {} ms",
                    self.timeout.as_millis()
                ),
            )),
        }
    }
}

/// The PEM bundle of `redis_ca_file`, checked to hold at least one certificate.
fn read_ca_file(path: &str) -> Result<Vec<u8>, StoreError> {
    let pem = std::fs::read(path).map_err(|e| {
        StoreError::new(
            "connect",
            format!("store.redis_ca_file: cannot read '{path}': {e}"),
        )
    })?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(StoreError::new(
            "connect",
            format!("store.redis_ca_file: '{path}' holds no PEM certificate"),
        ));
    }
    Ok(pem)
}

/// `ca`: the PEM bundle trusted instead of the system trust store (`rediss://` only, which
/// the settings check ensures).
fn open_standalone(
    url: &str,
    ca: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<ConnectionManager, StoreError> {
    let client = match ca {
        None => Client::open(url)
            .map_err(|e| StoreError::new("connect", format!("invalid redis_url: {e}")))?,
        // native-tls: the bundle replaces the platform roots (the redis crate disables
        // them when root certificates are given); host names are still verified.
        Some(pem) => Client::build_with_tls(
            url,
            TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            },
        )
        .map_err(|e| StoreError::new("connect", format!("store.redis_ca_file: {e}")))?,
    };
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(RECONNECT_RETRIES)
        .set_min_delay(RECONNECT_MIN_DELAY)
        .set_max_delay(RECONNECT_MAX_DELAY);
    ConnectionManager::new_lazy_with_config(client, config)
        .map_err(|e| StoreError::new("connect", format!("redis: {e}")))
}

fn open_cluster(urls: &[String], timeout: Duration) -> Result<ClusterConnection, StoreError> {
    let client = ClusterClientBuilder::new(urls.iter().map(String::as_str))
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(CLUSTER_REQUEST_RETRIES)
        .min_retry_wait(u64::try_from(RECONNECT_MIN_DELAY.as_millis()).unwrap_or(50))
        .max_retry_wait(u64::try_from(RECONNECT_MAX_DELAY.as_millis()).unwrap_or(250))
        .build()
        .map_err(|e| StoreError::new("connect", format!("invalid cluster_urls: {e}")))?;
    // "Pending": the node connections and the slot map are built in the background, so
    // a cluster that is down at startup does not stop the service from starting.
    let config = ClusterConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout);
    Ok(client.get_pending_async_connection_with_config(config))
}
