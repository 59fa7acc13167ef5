//! What the token store costs in Redis: `MEMORY USAGE` of a sample of this run's keys,
//! `used_memory` before and after, and the clean-up of the run's unique key prefix.
//!
//! Talks to each node directly (the standalone server, or every Cluster seed given):
//! `SCAN` only sees the node it runs on, so for a Cluster pass every master as a seed.

use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use serde::Serialize;

use crate::error::BenchError;

/// Keys `MEMORY USAGE` is asked about per key family.
const SAMPLE_KEYS: usize = 1_000;

/// Keys fetched per `SCAN` step of a sample.
const BATCH: usize = 1_000;

/// Keys walked per `SCAN` step of the clean-up (a million-exchange run leaves ~2
/// million keys).
const DELETE_SCAN_COUNT: usize = 10_000;

/// One connection per node.
#[derive(Clone)]
pub(crate) struct RedisProbe {
    nodes: Vec<MultiplexedConnection>,
    prefix: String,
}

impl std::fmt::Debug for RedisProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProbe")
            .field("nodes", &self.nodes.len())
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// `MEMORY USAGE` of a sample of keys, in bytes.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct KeySample {
    /// Keys measured.
    pub(crate) keys: usize,
    /// Mean bytes per key (key, value, and Redis' per-key overhead).
    pub(crate) mean_bytes: f64,
    /// Smallest.
    pub(crate) min_bytes: u64,
    /// Largest.
    pub(crate) max_bytes: u64,
}

impl RedisProbe {
    /// Connects to every URL in `node_urls`; keys of interest start with `prefix`.
    pub(crate) async fn connect(node_urls: &[String], prefix: &str) -> Result<Self, BenchError> {
        let mut nodes = Vec::with_capacity(node_urls.len());
        for url in node_urls {
            let client = redis::Client::open(url.as_str())?;
            nodes.push(client.get_multiplexed_async_connection().await?);
        }
        Ok(Self {
            nodes,
            prefix: prefix.to_owned(),
        })
    }

    /// A connection to the first node (the floor's round trips).
    pub(crate) fn first_node(&self) -> Option<MultiplexedConnection> {
        self.nodes.first().cloned()
    }

    /// `used_memory` summed over the nodes, in bytes.
    pub(crate) async fn used_memory(&self) -> Result<u64, BenchError> {
        let mut total = 0;
        for node in &self.nodes {
            let info: String = redis::cmd("INFO")
                .arg("memory")
                .query_async(&mut node.clone())
                .await?;
            total += info
                .lines()
                .find_map(|line| line.strip_prefix("used_memory:"))
                .and_then(|value| value.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
        Ok(total)
    }

    /// Up to `limit` keys of this run matching `<prefix><pattern>`.
    async fn scan(&self, pattern: &str, limit: usize) -> Result<Vec<(usize, String)>, BenchError> {
        let matching = format!("{}{pattern}", self.prefix);
        let mut found = Vec::new();
        for (index, node) in self.nodes.iter().enumerate() {
            let mut cursor: u64 = 0;
            loop {
                let (next, keys) = scan_page(node, cursor, &matching, BATCH).await?;
                found.extend(keys.into_iter().map(|key| (index, key)));
                if next == 0 || found.len() >= limit {
                    break;
                }
                cursor = next;
            }
            if found.len() >= limit {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// `MEMORY USAGE … SAMPLES 0` of up to [`SAMPLE_KEYS`] keys matching `pattern` (after
    /// the prefix), e.g. `tok:*`.
    pub(crate) async fn sample(&self, pattern: &str) -> Result<KeySample, BenchError> {
        let keys = self.scan(pattern, SAMPLE_KEYS).await?;
        let mut sizes = Vec::with_capacity(keys.len());
        for (node, key) in &keys {
            let mut connection = self.nodes[*node].clone();
            let size: Option<u64> = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(key)
                .arg("SAMPLES")
                .arg(0)
                .query_async(&mut connection)
                .await?;
            sizes.extend(size);
        }
        Ok(KeySample {
            keys: sizes.len(),
            mean_bytes: if sizes.is_empty() {
                0.0
            } else {
                sizes.iter().sum::<u64>() as f64 / sizes.len() as f64
            },
            min_bytes: sizes.iter().copied().min().unwrap_or(0),
            max_bytes: sizes.iter().copied().max().unwrap_or(0),
        })
    }

    /// `MEMORY USAGE` of the one key `<prefix><name>` (e.g. the audit stream), if any.
    pub(crate) async fn key_usage(&self, name: &str) -> Result<Option<u64>, BenchError> {
        let key = format!("{}{name}", self.prefix);
        for node in &self.nodes {
            let exists: bool = node.clone().exists(&key).await?;
            if exists {
                let size: Option<u64> = redis::cmd("MEMORY")
                    .arg("USAGE")
                    .arg(&key)
                    .query_async(&mut node.clone())
                    .await?;
                return Ok(size);
            }
        }
        Ok(None)
    }

    /// Deletes every key of this run: one `SCAN` pass per node, each page's keys
    /// `UNLINK`ed in one pipeline (one key per command: multi-key commands would fail
    /// across Cluster slots). Returns how many were deleted.
    pub(crate) async fn delete_run_keys(&self) -> Result<u64, BenchError> {
        let matching = format!("{}*", self.prefix);
        let mut deleted = 0;
        for node in &self.nodes {
            let mut cursor: u64 = 0;
            loop {
                let (next, keys) = scan_page(node, cursor, &matching, DELETE_SCAN_COUNT).await?;
                if !keys.is_empty() {
                    let mut pipeline = redis::pipe();
                    for key in &keys {
                        pipeline.cmd("UNLINK").arg(key).ignore();
                    }
                    pipeline.query_async::<()>(&mut node.clone()).await?;
                    deleted += keys.len() as u64;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(deleted)
    }
}

/// One `SCAN cursor MATCH matching COUNT count` step: the next cursor and the keys.
async fn scan_page(
    node: &MultiplexedConnection,
    cursor: u64,
    matching: &str,
    count: usize,
) -> Result<(u64, Vec<String>), redis::RedisError> {
    redis::cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(matching)
        .arg("COUNT")
        .arg(count)
        .query_async(&mut node.clone())
        .await
}
