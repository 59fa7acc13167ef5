//! The performance targets of a 2-core machine (load generator and Redis on the same
//! machine), judged from a run's results. A target is judged only when the run measured
//! what it is about at full size: never in `--smoke` mode (except the storm's one
//! fetch, which is a correctness property), never on a debug build.

use serde::Serialize;

use crate::report::Results;
use crate::run::ScenarioResult;

/// The verdict on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Verdict {
    /// Measured and met.
    Met,
    /// Measured and missed.
    Missed,
    /// Not measured at the size the target is about (the reason says why).
    NotJudged(String),
}

/// One target and what the run measured for it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TargetCheck {
    /// The target, as the issue states it.
    pub(crate) target: &'static str,
    /// What was measured, human-readable.
    pub(crate) measured: String,
    /// Met, missed or not judged.
    pub(crate) verdict: Verdict,
}

const MIB: f64 = 1024.0 * 1024.0;

/// The storm's target: also judged in `--smoke` (a correctness property).
pub(crate) const STORM_TARGET: &str = "exactly 1 JWKS fetch in the rotation storm";

fn failed(row: &ScenarioResult) -> u64 {
    row.throughput.failures.values().sum()
}

/// The best throughput among rows whose name starts with `prefix`.
fn best<'a>(results: &'a Results, prefix: &str) -> Option<&'a ScenarioResult> {
    results
        .scenarios
        .iter()
        .filter(|row| row.name.starts_with(prefix))
        .max_by(|a, b| a.throughput.per_sec.total_cmp(&b.throughput.per_sec))
}

fn row<'a>(results: &'a Results, name: &str) -> Option<&'a ScenarioResult> {
    results.scenarios.iter().find(|row| row.name == name)
}

/// Judges every target against `results`.
pub(crate) fn judge(results: &Results) -> Vec<TargetCheck> {
    let timing_judged = if results.run.profile.smoke {
        Err("smoke run".to_owned())
    } else if !results.run.release_build {
        Err("debug build".to_owned())
    } else {
        Ok(())
    };
    let throughput = |prefix: &str, minimum: f64, needs_redis: bool| {
        let Some(best) = best(results, prefix) else {
            return not_run();
        };
        let measured = format!(
            "{:.0}/s ({}{})",
            best.throughput.per_sec,
            best.name,
            if failed(best) > 0 {
                ", with failures"
            } else {
                ""
            }
        );
        let verdict = match &timing_judged {
            Err(why) => Verdict::NotJudged(why.clone()),
            Ok(()) if needs_redis && results.run.profile.store == "memory" => {
                Verdict::NotJudged("memory store (the target is with Redis)".to_owned())
            }
            Ok(()) if best.throughput.per_sec >= minimum && failed(best) == 0 => Verdict::Met,
            Ok(()) => Verdict::Missed,
        };
        (measured, verdict)
    };
    let tail = |name: &str, max_p99_us: f64| {
        let Some(row) = row(results, name) else {
            return ("-".to_owned(), Verdict::NotJudged(format!("no {name} row")));
        };
        let p99 = row.throughput.latency.p99_us;
        let measured = format!(
            "p99 {:.2} ms, p50 {:.2} ms, {} failed",
            p99 / 1000.0,
            row.throughput.latency.p50_us / 1000.0,
            failed(row)
        );
        let verdict = match &timing_judged {
            Err(why) => Verdict::NotJudged(why.clone()),
            Ok(()) if p99 <= max_p99_us && failed(row) == 0 => Verdict::Met,
            Ok(()) => Verdict::Missed,
        };
        (measured, verdict)
    };

    let rss = match &results.rss {
        None => not_run(),
        Some(rss) => (
            format!(
                "peak {:.1} MiB, final {:.1} MiB after {} exchanges (idle {:.1} MiB)",
                rss.peak_rss_bytes as f64 / MIB,
                rss.final_rss_bytes as f64 / MIB,
                rss.exchanges,
                rss.idle_rss_bytes as f64 / MIB
            ),
            if rss.exchanges < 1_000_000 {
                Verdict::NotJudged(format!(
                    "{} exchanges (run `just bench-rss` for 1,000,000)",
                    rss.exchanges
                ))
            } else if rss.peak_rss_bytes as f64 <= 64.0 * MIB && rss.ok == rss.exchanges {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        ),
    };
    let storm = match &results.rotation {
        None => not_run(),
        Some(storm) => (
            format!(
                "{} fetch(es) for {} concurrent exchanges, {} minted",
                storm.jwks_fetches, storm.exchanges, storm.ok
            ),
            if storm.jwks_fetches == 1 && storm.ok == storm.exchanges {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        ),
    };
    [
        (
            "exchange >= 5,000/s with Redis",
            throughput("exchange_c", 5_000.0, true),
        ),
        (
            "exchange p99 <= 10 ms at 1,000/s",
            tail("exchange_at_1000_per_sec", 10_000.0),
        ),
        (
            "verify >= 20,000/s",
            throughput("verify_c", 20_000.0, false),
        ),
        (
            "verify p99 <= 5 ms at 5,000/s",
            tail("verify_at_5000_per_sec", 5_000.0),
        ),
        ("RSS <= 64 MiB after 1,000,000 exchanges", rss),
        (STORM_TARGET, storm),
    ]
    .into_iter()
    .map(|(target, (measured, verdict))| TargetCheck {
        target,
        measured,
        verdict,
    })
    .collect()
}

/// What a target whose scenario did not run shows.
fn not_run() -> (String, Verdict) {
    ("-".to_owned(), Verdict::NotJudged("not run".to_owned()))
}

/// Requests that failed anywhere in the run.
pub(crate) fn failed_requests(results: &Results) -> u64 {
    let rows: u64 = results.scenarios.iter().map(failed).sum();
    let storm: u64 = results
        .rotation
        .as_ref()
        .map_or(0, |storm| storm.failures.values().sum());
    let rss: u64 = results
        .rss
        .as_ref()
        .map_or(0, |rss| rss.failures.values().sum());
    rows + storm + rss
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::Parser as _;

    use super::*;
    use crate::cli::Cli;
    use crate::report::RunInfo;
    use crate::rotation::RotationResult;
    use crate::stats::{Latency, Throughput};

    fn row(name: &str, per_sec: f64, p99_us: f64, failed: u64) -> ScenarioResult {
        ScenarioResult {
            name: name.to_owned(),
            what: String::new(),
            throughput: Throughput {
                ok: 1_000,
                failures: if failed > 0 {
                    BTreeMap::from([("http 503 unavailable".to_owned(), failed)])
                } else {
                    BTreeMap::new()
                },
                elapsed_secs: 1.0,
                per_sec,
                latency: Latency {
                    p99_us,
                    ..Latency::default()
                },
            },
            service_cpu_us_per_request: 0.0,
            client_cpu_us_per_request: 0.0,
            in_use_case: None,
            store_calls: BTreeMap::new(),
            concurrency: 1,
            offered_rate: None,
            signing_secs: None,
        }
    }

    fn results(args: &[&str], scenarios: Vec<ScenarioResult>, fetches: usize) -> Results {
        let cli = Cli::parse_from(std::iter::once("trustmint-bench").chain(args.iter().copied()));
        let mut run = RunInfo::new(&cli.profile(), 0);
        run.release_build = true;
        Results {
            format: crate::report::RESULTS_FORMAT,
            run,
            warm_up: None,
            floor: None,
            scenarios,
            rotation: Some(RotationResult {
                exchanges: 1_000,
                ok: 1_000,
                failures: BTreeMap::new(),
                jwks_fetches: fetches,
                service_jwks_fetches: fetches as f64,
                cooldown_skips: 0.0,
                elapsed_secs: 0.3,
                latency: Latency::default(),
            }),
            rss: None,
            service_peak_rss_bytes: None,
            targets: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn verdicts(results: &Results) -> Vec<(&'static str, Verdict)> {
        judge(results)
            .into_iter()
            .map(|check| (check.target, check.verdict))
            .collect()
    }

    #[test]
    fn judges_each_target_from_its_rows() {
        let rows = vec![
            row("exchange_c16", 4_900.0, 4_000.0, 0),
            row("exchange_c64", 5_200.0, 15_000.0, 0),
            row("verify_c64", 19_000.0, 6_000.0, 0),
            row("exchange_at_1000_per_sec", 1_000.0, 9_900.0, 0),
            row("verify_at_5000_per_sec", 5_000.0, 4_000.0, 3),
        ];
        assert_eq!(
            verdicts(&results(&[], rows, 2)),
            vec![
                ("exchange >= 5,000/s with Redis", Verdict::Met),
                ("exchange p99 <= 10 ms at 1,000/s", Verdict::Met),
                ("verify >= 20,000/s", Verdict::Missed),
                // p99 met, but requests failed.
                ("verify p99 <= 5 ms at 5,000/s", Verdict::Missed),
                (
                    "RSS <= 64 MiB after 1,000,000 exchanges",
                    Verdict::NotJudged("not run".to_owned())
                ),
                (
                    "exactly 1 JWKS fetch in the rotation storm",
                    Verdict::Missed
                ),
            ]
        );
    }

    #[test]
    fn a_smoke_run_judges_only_the_storm_and_memory_runs_not_the_redis_target() {
        let rows = vec![row("exchange_c4", 9_000.0, 1_000.0, 0)];
        let smoke = results(&["--smoke"], rows.clone(), 1);
        assert_eq!(
            verdicts(&smoke)[0].1,
            Verdict::NotJudged("smoke run".to_owned())
        );
        assert_eq!(verdicts(&smoke)[5].1, Verdict::Met);
        let memory = results(&["--memory"], rows, 1);
        assert_eq!(
            verdicts(&memory)[0].1,
            Verdict::NotJudged("memory store (the target is with Redis)".to_owned())
        );
        assert_eq!(failed_requests(&memory), 0);
    }
}
