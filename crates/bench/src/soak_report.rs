//! The soak's results: traffic summed per sampling window and per period, the resource
//! samples, the events, and the verdict; written as `report.json` and summarised on
//! stdout.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::cli::SoakEvent;
use crate::error::BenchError;
use crate::soak_load::{Capacity, Observation, RequestKind};
use crate::soak_sampler::ResourceSample;
use crate::soak_verdict::{Flatness, Stability};
use crate::stats::Latency;

/// Version of the JSON layout.
pub(crate) const SOAK_FORMAT: &str = "trustmint-soak/1";

/// How long everything lasts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SoakPlan {
    /// Steady load, seconds.
    pub(crate) run_secs: f64,
    /// Between key rotations (and between publisher changes), seconds.
    pub(crate) period_secs: f64,
    /// Between resource samples, seconds.
    pub(crate) sample_secs: f64,
    /// Samples before this are not judged for flatness, seconds.
    pub(crate) warm_up_secs: f64,
    /// Closed-loop capacity probe, seconds.
    pub(crate) probe_secs: f64,
    /// Offered load as a fraction of the probed capacity.
    pub(crate) load_fraction: f64,
    /// Events left out of the schedule (`--soak-skip`, a diagnosis).
    pub(crate) skipped: Vec<SoakEvent>,
}

/// A key rotation or a publisher change.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Event {
    /// Seconds since the steady load began.
    pub(crate) at_secs: f64,
    /// What was done (the new key id; the publishers created and deleted).
    pub(crate) what: String,
    /// How long it took until in force, milliseconds.
    pub(crate) millis: f64,
    /// Why it failed, if it did.
    pub(crate) error: Option<String>,
}

/// Requests of one sampling window (by due time).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WindowStats {
    /// Start of the window, seconds since the steady load began.
    pub(crate) at_secs: f64,
    /// Successful exchanges.
    pub(crate) exchanges: u64,
    /// Successful verifies of fresh tokens.
    pub(crate) verifies: u64,
    /// Successful verifies of tokens minted under an earlier key.
    pub(crate) older_key_verifies: u64,
    /// Failed requests of any kind.
    pub(crate) failed: u64,
    /// Exchange latency (from the due time).
    pub(crate) exchange: Latency,
    /// Verify latency (fresh and older-key tokens).
    pub(crate) verify: Latency,
}

/// One second of the steady load (by due time) among the slowest: where a p99 spike
/// sits to the second, and whether it was one stall (every request late by about the
/// same) or a slow stretch.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SlowSecond {
    /// Start of the second, seconds since the steady load began.
    pub(crate) at_secs: u64,
    /// The slowest exchange due in it, milliseconds.
    pub(crate) exchange_max_ms: f64,
    /// Its exchanges that took more than [`SLOW_EXCHANGE_MS`].
    pub(crate) slow_exchanges: u64,
    /// Every exchange due in it.
    pub(crate) exchanges: u64,
    /// The slowest verify started in it, milliseconds.
    pub(crate) verify_max_ms: f64,
}

/// An exchange slower than this counts as slow in [`SlowSecond`] (several times the
/// quiet p99 here).
pub(crate) const SLOW_EXCHANGE_MS: f64 = 20.0;

/// The slowest seconds the report keeps.
const SLOW_SECONDS_KEPT: usize = 20;

/// The p99s of one period (a minute in a full run).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PeriodStats {
    /// 0 = the first period.
    pub(crate) index: usize,
    /// Exchange p99, microseconds.
    pub(crate) exchange_p99_us: f64,
    /// Verify p99, microseconds.
    pub(crate) verify_p99_us: f64,
    /// Successful requests of every kind.
    pub(crate) requests: u64,
}

/// Every request of the steady load.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Totals {
    /// Successful exchanges.
    pub(crate) exchanges: u64,
    /// Successful verifies of fresh tokens.
    pub(crate) verifies: u64,
    /// Successful verifies of tokens minted under an earlier key.
    pub(crate) older_key_verifies: u64,
    /// Failed requests (steady load, probe, rotations and publisher changes).
    pub(crate) failed_requests: u64,
    /// Failures by `<request>: <kind>`.
    pub(crate) failures: BTreeMap<String, u64>,
}

/// The verdict.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SoakVerdict {
    /// Every check below passed.
    pub(crate) passed: bool,
    /// No request, rotation or publisher change failed.
    pub(crate) no_failed_requests: bool,
    /// Service RSS after the warm-up.
    pub(crate) rss: Flatness,
    /// Service open file descriptors after the warm-up.
    pub(crate) open_fds: Flatness,
    /// Exchange p99 per period against the first.
    pub(crate) exchange_p99: Stability,
    /// Verify p99 per period against the first.
    pub(crate) verify_p99: Stability,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SoakReport {
    /// [`SOAK_FORMAT`].
    pub(crate) format: &'static str,
    /// Unix seconds at the start.
    pub(crate) started_unix: i64,
    /// What ran as the service.
    pub(crate) service: String,
    /// `release` or `debug` (of the load generator; a debug service is the default
    /// `serve-config` of a debug bench).
    pub(crate) build: &'static str,
    /// Durations.
    pub(crate) plan: SoakPlan,
    /// The closed-loop probe.
    pub(crate) capacity: Capacity,
    /// Rounds (exchange + verify + older-key verify) offered per second.
    pub(crate) offered_rounds_per_sec: f64,
    /// Request counts.
    pub(crate) totals: Totals,
    /// Key rotations (SIGHUP).
    pub(crate) rotations: Vec<Event>,
    /// Publisher changes (gRPC create + delete).
    pub(crate) publisher_changes: Vec<Event>,
    /// Resource samples.
    pub(crate) samples: Vec<ResourceSample>,
    /// Traffic per sampling window.
    pub(crate) windows: Vec<WindowStats>,
    /// p99 per period.
    pub(crate) periods: Vec<PeriodStats>,
    /// The seconds with the slowest exchanges.
    pub(crate) slowest_seconds: Vec<SlowSecond>,
    /// Pass or fail, and why.
    pub(crate) verdict: SoakVerdict,
    /// Warning and error lines in the service's log.
    pub(crate) service_warning_lines: u64,
    /// The first of them.
    pub(crate) service_warnings: Vec<String>,
    /// The service drained and exited 0 on SIGTERM.
    pub(crate) stopped_gracefully: bool,
    /// The PNG, if drawn.
    pub(crate) plot: Option<String>,
    /// Anything the numbers need to be read with.
    pub(crate) notes: Vec<String>,
}

/// Requests summed per sampling window as they are answered.
#[derive(Debug)]
pub(crate) struct Traffic {
    window_secs: f64,
    windows: Vec<WindowAccumulator>,
    seconds: Vec<SecondAccumulator>,
    /// Failures by `<request>: <kind>`.
    pub(crate) failures: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
struct WindowAccumulator {
    exchange_ns: Vec<u64>,
    verify_ns: Vec<u64>,
    verifies: u64,
    older_key_verifies: u64,
    failed: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct SecondAccumulator {
    exchange_max_ns: u64,
    slow_exchanges: u64,
    exchanges: u64,
    verify_max_ns: u64,
}

impl Traffic {
    /// Windows of `window_secs`.
    pub(crate) fn new(window_secs: f64) -> Self {
        Self {
            window_secs,
            windows: Vec::new(),
            seconds: Vec::new(),
            failures: BTreeMap::new(),
        }
    }

    /// Counts one answered request in the window of its round's due time.
    pub(crate) fn record(&mut self, observation: Observation) {
        let index = (observation.at_secs / self.window_secs).floor().max(0.0) as usize;
        if self.windows.len() <= index {
            self.windows
                .resize_with(index + 1, WindowAccumulator::default);
        }
        let second = observation.at_secs.max(0.0) as usize;
        if self.seconds.len() <= second {
            self.seconds
                .resize_with(second + 1, SecondAccumulator::default);
        }
        if observation.outcome.is_ok() {
            let second = &mut self.seconds[second];
            if observation.kind == RequestKind::Exchange {
                second.exchanges += 1;
                second.exchange_max_ns = second.exchange_max_ns.max(observation.latency_ns);
                if observation.latency_ns as f64 > SLOW_EXCHANGE_MS * 1e6 {
                    second.slow_exchanges += 1;
                }
            } else {
                second.verify_max_ns = second.verify_max_ns.max(observation.latency_ns);
            }
        }
        let window = &mut self.windows[index];
        match observation.outcome {
            Err(kind) => {
                window.failed += 1;
                let name = serde_json::to_value(observation.kind)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default();
                *self.failures.entry(format!("{name}: {kind}")).or_insert(0) += 1;
            }
            Ok(()) => match observation.kind {
                RequestKind::Exchange => window.exchange_ns.push(observation.latency_ns),
                RequestKind::Verify => {
                    window.verifies += 1;
                    window.verify_ns.push(observation.latency_ns);
                }
                RequestKind::VerifyOlderKey => {
                    window.older_key_verifies += 1;
                    window.verify_ns.push(observation.latency_ns);
                }
            },
        }
    }

    /// Per-window figures.
    pub(crate) fn windows(&mut self) -> Vec<WindowStats> {
        let window_secs = self.window_secs;
        self.windows
            .iter_mut()
            .enumerate()
            .map(|(index, window)| WindowStats {
                at_secs: index as f64 * window_secs,
                exchanges: window.exchange_ns.len() as u64,
                verifies: window.verifies,
                older_key_verifies: window.older_key_verifies,
                failed: window.failed,
                exchange: Latency::of(&mut window.exchange_ns),
                verify: Latency::of(&mut window.verify_ns),
            })
            .collect()
    }

    /// The p99 of each period of `windows_per_period` windows; a trailing partial
    /// period is left out (its few requests would judge the run on noise).
    pub(crate) fn periods(&self, windows_per_period: usize) -> Vec<PeriodStats> {
        self.windows
            .chunks_exact(windows_per_period.max(1))
            .enumerate()
            .map(|(index, chunk)| {
                let mut exchange: Vec<u64> = chunk
                    .iter()
                    .flat_map(|w| w.exchange_ns.iter().copied())
                    .collect();
                let mut verify: Vec<u64> = chunk
                    .iter()
                    .flat_map(|w| w.verify_ns.iter().copied())
                    .collect();
                let requests = (exchange.len() + verify.len()) as u64;
                PeriodStats {
                    index,
                    exchange_p99_us: Latency::of(&mut exchange).p99_us,
                    verify_p99_us: Latency::of(&mut verify).p99_us,
                    requests,
                }
            })
            .collect()
    }

    /// The [`SLOW_SECONDS_KEPT`] seconds with the slowest exchange, slowest first.
    pub(crate) fn slowest_seconds(&self) -> Vec<SlowSecond> {
        let mut seconds: Vec<SlowSecond> = self
            .seconds
            .iter()
            .enumerate()
            .filter(|(_, second)| second.exchanges > 0)
            .map(|(at, second)| SlowSecond {
                at_secs: at as u64,
                exchange_max_ms: second.exchange_max_ns as f64 / 1e6,
                slow_exchanges: second.slow_exchanges,
                exchanges: second.exchanges,
                verify_max_ms: second.verify_max_ns as f64 / 1e6,
            })
            .collect();
        seconds.sort_by(|a, b| b.exchange_max_ms.total_cmp(&a.exchange_max_ms));
        seconds.truncate(SLOW_SECONDS_KEPT);
        seconds
    }

    /// Totals over every window.
    pub(crate) fn totals(&self) -> Totals {
        Totals {
            exchanges: self
                .windows
                .iter()
                .map(|w| w.exchange_ns.len() as u64)
                .sum(),
            verifies: self.windows.iter().map(|w| w.verifies).sum(),
            older_key_verifies: self.windows.iter().map(|w| w.older_key_verifies).sum(),
            failed_requests: self.failures.values().sum(),
            failures: self.failures.clone(),
        }
    }
}

/// Writes `report` as pretty JSON to `path`.
pub(crate) fn write_json(report: &SoakReport, path: &Path) -> Result<(), BenchError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(BenchError::io(format!("creating {}", dir.display())))?;
    }
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(path, json).map_err(BenchError::io(format!("writing {}", path.display())))
}

/// The human summary.
pub(crate) fn render_summary(report: &SoakReport) -> String {
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let first = report.samples.first();
    let last = report.samples.last();
    let verdict = &report.verdict;
    let mark = |passed: bool| if passed { "ok" } else { "FAILED" };
    let mut out = String::new();
    out.push_str(&format!(
        "soak: {:.1} min at {:.0} rounds/s (half of {:.0}/s probed), {} exchanges, {} verifies, {} older-key verifies, {} failed\n",
        report.plan.run_secs / 60.0,
        report.offered_rounds_per_sec,
        report.capacity.rounds_per_sec,
        report.totals.exchanges,
        report.totals.verifies,
        report.totals.older_key_verifies,
        report.totals.failed_requests,
    ));
    out.push_str(&format!(
        "  rotations {} ({} failed), publisher changes {} ({} failed)\n",
        report.rotations.len(),
        report
            .rotations
            .iter()
            .filter(|e| e.error.is_some())
            .count(),
        report.publisher_changes.len(),
        report
            .publisher_changes
            .iter()
            .filter(|e| e.error.is_some())
            .count(),
    ));
    if let (Some(first), Some(last)) = (first, last) {
        out.push_str(&format!(
            "  RSS {:.1} → {:.1} MiB, fds {} → {}, Redis used_memory {:.1} → {:.1} MiB, PING {:.0} → {:.0} µs\n",
            mib(first.rss_bytes),
            mib(last.rss_bytes),
            first.open_fds,
            last.open_fds,
            mib(first.redis_used_memory_bytes),
            mib(last.redis_used_memory_bytes),
            first.redis_ping_us,
            last.redis_ping_us,
        ));
    }
    out.push_str(&format!(
        "  no failed requests: {}\n  RSS flat: {} (trend {:+.2} MiB after warm-up, allowed +{:.2} MiB)\n  fds flat: {} (trend {:+.1}, allowed ±{:.0})\n",
        mark(verdict.no_failed_requests),
        mark(verdict.rss.passed),
        verdict.rss.growth / (1024.0 * 1024.0),
        verdict.rss.allowed / (1024.0 * 1024.0),
        mark(verdict.open_fds.passed),
        verdict.open_fds.growth,
        verdict.open_fds.allowed,
    ));
    for (name, stability) in [
        ("exchange", &verdict.exchange_p99),
        ("verify", &verdict.verify_p99),
    ] {
        out.push_str(&format!(
            "  {name} p99 within 2x of the first period: {} (first {:.2} ms, last {:.2} ms, worst {:.2} ms in period {})\n",
            mark(stability.passed),
            stability.first_us / 1000.0,
            stability.last_us / 1000.0,
            stability.worst_us / 1000.0,
            stability.worst_period,
        ));
    }
    let slowest: Vec<String> = report
        .slowest_seconds
        .iter()
        .take(5)
        .map(|second| {
            format!(
                "{} s ({:.0} ms, {} of {} over {SLOW_EXCHANGE_MS} ms)",
                second.at_secs, second.exchange_max_ms, second.slow_exchanges, second.exchanges
            )
        })
        .collect();
    out.push_str(&format!("  slowest seconds: {}\n", slowest.join(", ")));
    out.push_str(&format!(
        "verdict: {}\n",
        if verdict.passed { "PASS" } else { "FAIL" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(kind: RequestKind, at_secs: f64, latency_us: u64, ok: bool) -> Observation {
        Observation {
            kind,
            at_secs,
            latency_ns: latency_us * 1000,
            outcome: if ok {
                Ok(())
            } else {
                Err("http 503 unavailable".to_owned())
            },
        }
    }

    #[test]
    fn sums_requests_per_window_and_period() {
        let mut traffic = Traffic::new(10.0);
        for n in 0..100_u64 {
            let at = n as f64 * 0.25; // 25 s: windows 0, 1 and a partial 2
            traffic.record(observation(RequestKind::Exchange, at, 1_000 + n, true));
            traffic.record(observation(RequestKind::Verify, at, 100, true));
        }
        traffic.record(observation(RequestKind::VerifyOlderKey, 3.0, 200, true));
        traffic.record(observation(RequestKind::Exchange, 12.0, 0, false));
        let windows = traffic.windows();
        assert_eq!(windows.len(), 3);
        assert_eq!(
            (
                windows[0].exchanges,
                windows[0].verifies,
                windows[0].older_key_verifies
            ),
            (40, 40, 1)
        );
        assert_eq!((windows[1].failed, windows[2].exchanges), (1, 20));
        assert_eq!(windows[0].verify.max_us, 200.0);
        let periods = traffic.periods(2);
        assert_eq!(periods.len(), 1, "the partial period is left out");
        assert_eq!(periods[0].requests, 161);
        assert_eq!(periods[0].exchange_p99_us, 1_079.0);
        let totals = traffic.totals();
        assert_eq!((totals.exchanges, totals.failed_requests), (100, 1));
        assert_eq!(
            totals.failures,
            BTreeMap::from([("exchange: http 503 unavailable".to_owned(), 1)])
        );
    }

    #[test]
    fn keeps_the_slowest_seconds_slowest_first() {
        let mut traffic = Traffic::new(10.0);
        for second in 0..30_u64 {
            for k in 0..4_u64 {
                let at = second as f64 + k as f64 * 0.25;
                let latency_us = if second == 7 {
                    50_000 + k
                } else {
                    1_000 + second
                };
                traffic.record(observation(RequestKind::Exchange, at, latency_us, true));
            }
        }
        traffic.record(observation(RequestKind::Verify, 7.5, 3_000, true));
        traffic.record(observation(RequestKind::Exchange, 3.0, 900_000, false));
        let slowest = traffic.slowest_seconds();
        assert_eq!(slowest.len(), SLOW_SECONDS_KEPT);
        assert_eq!(slowest[0].at_secs, 7);
        assert_eq!(slowest[0].exchange_max_ms, 50.003);
        assert_eq!((slowest[0].slow_exchanges, slowest[0].exchanges), (4, 4));
        assert_eq!(slowest[0].verify_max_ms, 3.0);
        assert_eq!(slowest[1].at_secs, 29, "failures do not count as slow");
        assert_eq!(slowest[1].slow_exchanges, 0);
    }
}
