//! What the soak reads every sampling interval: the service's RSS, open file
//! descriptors and CPU time from `/proc`, and its Redis' memory (`INFO memory`) and
//! round-trip latency (`PING`), plus the machine's load (the soak shares its cores with
//! whatever else runs, and a latency spike is read against it).

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use serde::Serialize;

use crate::error::BenchError;
use crate::soak_service::SoakService;

/// PINGs per sample; the median is kept (one slow PING is scheduling noise).
const PINGS: usize = 5;

/// One reading.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ResourceSample {
    /// Seconds since the steady load began.
    pub(crate) at_secs: f64,
    /// Service `VmRSS`, bytes.
    pub(crate) rss_bytes: u64,
    /// Service open file descriptors.
    pub(crate) open_fds: u64,
    /// Service CPU time (user + system) so far, seconds.
    pub(crate) service_cpu_secs: f64,
    /// Redis `used_memory`, bytes.
    pub(crate) redis_used_memory_bytes: u64,
    /// Redis `used_memory_rss`, bytes.
    pub(crate) redis_used_memory_rss_bytes: u64,
    /// Median `PING` round trip, microseconds.
    pub(crate) redis_ping_us: f64,
    /// 1-minute load average of the machine.
    pub(crate) load_average_1m: f64,
}

/// Takes one sample.
pub(crate) async fn sample(
    service: &SoakService,
    redis: &MultiplexedConnection,
    at_secs: f64,
) -> Result<ResourceSample, BenchError> {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut redis.clone())
        .await?;
    let mut pings = Vec::with_capacity(PINGS);
    for _ in 0..PINGS {
        let started = Instant::now();
        let _: String = redis::cmd("PING").query_async(&mut redis.clone()).await?;
        pings.push(started.elapsed());
    }
    pings.sort_unstable();
    Ok(ResourceSample {
        at_secs,
        rss_bytes: service.rss_bytes()?,
        open_fds: service.open_fds()?,
        service_cpu_secs: service.cpu_time()?.as_secs_f64(),
        redis_used_memory_bytes: info_field(&info, "used_memory").unwrap_or(0),
        redis_used_memory_rss_bytes: info_field(&info, "used_memory_rss").unwrap_or(0),
        redis_ping_us: pings
            .get(PINGS / 2)
            .copied()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64()
            * 1e6,
        load_average_1m: load_average().unwrap_or(0.0),
    })
}

/// A numeric `field:value` line of an `INFO` answer.
fn info_field(info: &str, field: &str) -> Option<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().parse().ok())
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info_fields_by_exact_name() {
        let info = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_rss:4194304\r\n";
        assert_eq!(info_field(info, "used_memory"), Some(1_048_576));
        assert_eq!(info_field(info, "used_memory_rss"), Some(4_194_304));
        assert_eq!(info_field(info, "used_memory_peak"), None);
        assert!(load_average().is_some_and(|load| load >= 0.0));
    }
}
