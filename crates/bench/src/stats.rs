//! Throughput and latency percentiles of a load run.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::load::LoadResult;

/// Latency percentiles of the successful requests, in microseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub(crate) struct Latency {
    /// Median.
    pub(crate) p50_us: f64,
    /// 90th percentile.
    pub(crate) p90_us: f64,
    /// 99th percentile.
    pub(crate) p99_us: f64,
    /// Slowest.
    pub(crate) max_us: f64,
    /// Arithmetic mean.
    pub(crate) mean_us: f64,
}

/// What a load run amounts to.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Throughput {
    /// Successful requests.
    pub(crate) ok: u64,
    /// Failed requests by kind (empty when all succeeded).
    pub(crate) failures: BTreeMap<String, u64>,
    /// Wall time of the run, in seconds.
    pub(crate) elapsed_secs: f64,
    /// Successful requests per second of wall time.
    pub(crate) per_sec: f64,
    /// Latency of the successful requests.
    pub(crate) latency: Latency,
}

/// The value at `quantile` (0..=1) of sorted samples, nearest-rank.
fn nearest_rank(sorted: &[u64], quantile: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latency {
    /// Percentiles of `latencies_ns` (sorted in place).
    pub(crate) fn of(latencies_ns: &mut [u64]) -> Self {
        latencies_ns.sort_unstable();
        let us = |ns: u64| ns as f64 / 1000.0;
        let mean = if latencies_ns.is_empty() {
            0.0
        } else {
            latencies_ns.iter().map(|&ns| ns as f64).sum::<f64>() / latencies_ns.len() as f64
        };
        Self {
            p50_us: us(nearest_rank(latencies_ns, 0.50)),
            p90_us: us(nearest_rank(latencies_ns, 0.90)),
            p99_us: us(nearest_rank(latencies_ns, 0.99)),
            max_us: us(latencies_ns.last().copied().unwrap_or(0)),
            mean_us: mean / 1000.0,
        }
    }
}

impl Throughput {
    /// Summarises a load run.
    pub(crate) fn of(mut result: LoadResult) -> Self {
        let elapsed_secs = result.elapsed.as_secs_f64();
        let ok = result.successes();
        Self {
            ok,
            failures: std::mem::take(&mut result.failures),
            elapsed_secs,
            per_sec: if elapsed_secs > 0.0 {
                ok as f64 / elapsed_secs
            } else {
                0.0
            },
            latency: Latency::of(&mut result.latencies_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().map(|n| n * 1000).collect();
        assert_eq!(
            Latency::of(&mut samples),
            Latency {
                p50_us: 50.0,
                p90_us: 90.0,
                p99_us: 99.0,
                max_us: 100.0,
                mean_us: 50.5,
            }
        );
        assert_eq!(Latency::of(&mut []), Latency::default());
        assert_eq!(nearest_rank(&[7], 0.99), 7);
    }
}
