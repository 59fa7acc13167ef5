//! The results: a compact table on stdout and the same as JSON, for comparing runs.

use std::path::PathBuf;

use serde::Serialize;

use crate::cli::{Cli, Profile};
use crate::error::BenchError;
use crate::floor::Floor;
use crate::rotation::RotationResult;
use crate::rss::RssResult;
use crate::run::ScenarioResult;
use crate::scenarios::WarmUp;
use crate::targets::{TargetCheck, Verdict};

/// Bumped when the JSON layout changes incompatibly.
pub(crate) const RESULTS_FORMAT: u32 = 2;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Results {
    /// Layout version of this JSON.
    pub(crate) format: u32,
    /// The machine and the options.
    pub(crate) run: RunInfo,
    /// Cold first mint and warm-up.
    pub(crate) warm_up: Option<WarmUp>,
    /// What the hardware allows.
    pub(crate) floor: Option<Floor>,
    /// Measured load rows, in run order.
    pub(crate) scenarios: Vec<ScenarioResult>,
    /// The key-rotation storm.
    pub(crate) rotation: Option<RotationResult>,
    /// RSS idle and after many exchanges.
    pub(crate) rss: Option<RssResult>,
    /// The service's peak RSS over the whole run (`VmHWM` after every scenario), bytes.
    pub(crate) service_peak_rss_bytes: Option<u64>,
    /// The targets, judged.
    pub(crate) targets: Vec<TargetCheck>,
    /// Anything the reader should know about this run.
    pub(crate) notes: Vec<String>,
}

/// Where and how the run happened.
#[derive(Debug, Serialize)]
pub(crate) struct RunInfo {
    /// Unix seconds at the start.
    pub(crate) started_at: i64,
    /// `git rev-parse --short HEAD` of the source tree, if available.
    pub(crate) git_commit: Option<String>,
    /// `model name` from /proc/cpuinfo.
    pub(crate) cpu_model: Option<String>,
    /// CPUs available to the process.
    pub(crate) cpus: usize,
    /// Whether this binary was built with optimisations.
    pub(crate) release_build: bool,
    /// What the run did (options, or the smoke profile).
    pub(crate) profile: Profile,
    /// The service runs as a child process of the load generator, on the same cores.
    pub(crate) topology: &'static str,
}

impl RunInfo {
    /// Describes this machine and `profile`.
    pub(crate) fn new(profile: &Profile, started_at: i64) -> Self {
        Self {
            started_at,
            git_commit: git_commit(),
            cpu_model: std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|info| {
                    info.lines()
                        .find_map(|line| line.strip_prefix("model name"))
                        .and_then(|rest| rest.split_once(':'))
                        .map(|(_, model)| model.trim().to_owned())
                }),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            release_build: !cfg!(debug_assertions),
            profile: profile.clone(),
            topology: "service = child process (trustmint::Application); load generator + test issuers = parent; same machine, loopback TCP",
        }
    }
}

fn git_commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `--output`, else `$CARGO_TARGET_DIR/bench/report.json`, else the workspace's
/// `target/bench/report.json`.
pub(crate) fn output_path(cli: &Cli) -> PathBuf {
    if let Some(path) = &cli.output {
        return path.clone();
    }
    target_dir().join("bench").join("report.json")
}

/// `CARGO_TARGET_DIR`, else the workspace's `target/`.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // crates/bench → the workspace root.
            let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest_dir
                .ancestors()
                .nth(2)
                .unwrap_or(manifest_dir)
                .join("target")
        })
}

/// Writes `results` as pretty JSON to `path`.
pub(crate) fn write_json(results: &Results, path: &PathBuf) -> Result<(), BenchError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(BenchError::io(format!("creating {}", dir.display())))?;
    }
    let json = serde_json::to_string_pretty(results)?;
    std::fs::write(path, json + "\n").map_err(BenchError::io(format!("writing {}", path.display())))
}

fn fmt_us(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1}ms", us / 1000.0)
    } else {
        format!("{us:.0}")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Store calls per request of `row` (from the service's metrics).
fn store_calls_per_request(row: &ScenarioResult) -> f64 {
    let sent = row.throughput.ok + row.throughput.failures.values().sum::<u64>();
    if sent == 0 {
        return 0.0;
    }
    row.store_calls.values().map(|mean| mean.calls).sum::<f64>() / sent as f64
}

/// `row`'s throughput as a fraction of the floor: of what the machine's cores can
/// verify (exchange rows), and of the Redis commands one connection carries.
fn of_floor(row: &ScenarioResult, floor: Option<&Floor>) -> String {
    let Some(floor) = floor else {
        return "-".to_owned();
    };
    let mut parts = Vec::new();
    if row.name.starts_with("exchange") && floor.jwt_verifies_per_sec_one_thread > 0.0 {
        let bound = floor.jwt_verifies_per_sec_one_thread * floor.cpus as f64;
        parts.push(format!(
            "jwt {:.0}%",
            100.0 * row.throughput.per_sec / bound
        ));
    }
    if let Some(redis) = floor
        .redis_pipelined_per_sec
        .filter(|per_sec| *per_sec > 0.0)
    {
        let commands = row.throughput.per_sec * store_calls_per_request(row);
        if commands > 0.0 {
            parts.push(format!("redis {:.0}%", 100.0 * commands / redis));
        }
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The table.
pub(crate) fn render_table(results: &Results) -> String {
    let mut out = String::new();
    let run = &results.run;
    let profile = &run.profile;
    out.push_str(&format!(
        "trustmint bench — {} store, {} CPUs ({}), {} build{}, service logs {:?}{}\n",
        profile.store,
        run.cpus,
        run.cpu_model.as_deref().unwrap_or("unknown CPU"),
        if run.release_build {
            "release"
        } else {
            "DEBUG"
        },
        if profile.smoke { ", SMOKE" } else { "" },
        profile.service_logs,
        if profile.backtraces {
            ", BACKTRACES ON"
        } else {
            ""
        },
    ));
    if let Some(warm) = &results.warm_up {
        out.push_str(&format!(
            "cold first mint (discovery + JWKS fetch): {:.1} ms\n",
            warm.cold_first_mint_us / 1000.0
        ));
    }
    let floor = results.floor.as_ref();
    if let Some(floor) = floor {
        out.push_str(&format!(
            "floor: JWT verification (RS256, one thread) {:.0}/s × {} CPUs; Redis PING {} sequential, {} with 64 in flight\n",
            floor.jwt_verifies_per_sec_one_thread,
            floor.cpus,
            floor
                .redis_round_trips_per_sec
                .map_or("-".to_owned(), |per_sec| format!("{per_sec:.0}/s")),
            floor
                .redis_pipelined_per_sec
                .map_or("-".to_owned(), |per_sec| format!("{per_sec:.0}/s")),
        ));
    }
    out.push_str(&format!(
        "\n{:<26} {:>7} {:>5} {:>8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7} {:>7} {:>5}  {}\n",
        "row",
        "ok",
        "fail",
        "req/s",
        "p50µs",
        "p90µs",
        "p99µs",
        "maxµs",
        "usecase",
        "svcCPU",
        "cliCPU",
        "calls",
        "of floor"
    ));
    for scenario in &results.scenarios {
        let t = &scenario.throughput;
        out.push_str(&format!(
            "{:<26} {:>7} {:>5} {:>8.0} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7.0} {:>7.0} {:>5.1}  {}\n",
            scenario.name,
            t.ok,
            t.failures.values().sum::<u64>(),
            t.per_sec,
            fmt_us(t.latency.p50_us),
            fmt_us(t.latency.p90_us),
            fmt_us(t.latency.p99_us),
            fmt_us(t.latency.max_us),
            scenario
                .in_use_case
                .as_ref()
                .map_or("-".to_owned(), |m| fmt_us(m.mean_us)),
            scenario.service_cpu_us_per_request,
            scenario.client_cpu_us_per_request,
            store_calls_per_request(scenario),
            of_floor(scenario, floor),
        ));
    }
    out.push_str("  (usecase = mean µs inside Exchange::mint/verify per the service's metrics; CPU = µs of CPU per request;\n   calls = store calls per request; of floor = share of the cores' JWT verifications and of one Redis connection's commands;\n   *_per_sec rows are open-loop: latency counts from each request's due time)\n");
    for scenario in &results.scenarios {
        if !scenario.throughput.failures.is_empty() {
            out.push_str(&format!(
                "  {} failures: {:?}\n",
                scenario.name, scenario.throughput.failures
            ));
        }
        if !scenario.store_calls.is_empty() {
            let calls: Vec<String> = scenario
                .store_calls
                .iter()
                .map(|(op, mean)| format!("{op} {:.1}", mean.mean_us))
                .collect();
            out.push_str(&format!(
                "  {} store µs: {}\n",
                scenario.name,
                calls.join(", ")
            ));
        }
    }
    if let Some(storm) = &results.rotation {
        out.push_str(&format!(
            "\nrotation storm: {} concurrent exchanges with a new kid → {} JWKS fetch(es) (service counted {:.0}, {:.0} cooldown skips); {} minted in {:.2} s, p50 {:.1} ms, p99 {:.1} ms{}\n",
            storm.exchanges,
            storm.jwks_fetches,
            storm.service_jwks_fetches,
            storm.cooldown_skips,
            storm.ok,
            storm.elapsed_secs,
            storm.latency.p50_us / 1000.0,
            storm.latency.p99_us / 1000.0,
            if storm.failures.is_empty() {
                String::new()
            } else {
                format!(", failures {:?}", storm.failures)
            },
        ));
    }
    if let Some(rss) = &results.rss {
        out.push_str(&format!(
            "\nRSS ({} store): idle {}, {} after the warm-up, {} after {} exchanges ({} ok, {:.0}/s), peak so far {}: {:.1} bytes per exchange\n",
            rss.store,
            mib(rss.idle_rss_bytes),
            mib(rss.start_rss_bytes),
            mib(rss.final_rss_bytes),
            rss.exchanges,
            rss.ok,
            rss.per_sec,
            mib(rss.peak_rss_bytes),
            rss.rss_bytes_per_exchange,
        ));
        if !rss.failures.is_empty() {
            out.push_str(&format!("  failures: {:?}\n", rss.failures));
        }
        if let Some(redis) = &rss.redis {
            out.push_str(&format!(
                "redis: used_memory {:+.0} bytes per exchange; MEMORY USAGE tok: {:.0} B (n={}, {}–{}), jti: {:.0} B (n={}); audit stream {}\n",
                redis.used_memory_bytes_per_exchange,
                redis.token_keys.mean_bytes,
                redis.token_keys.keys,
                redis.token_keys.min_bytes,
                redis.token_keys.max_bytes,
                redis.replay_keys.mean_bytes,
                redis.replay_keys.keys,
                redis.audit_stream_bytes.map_or("absent".to_owned(), mib),
            ));
        }
    }
    if let Some(peak) = results.service_peak_rss_bytes {
        out.push_str(&format!(
            "service peak RSS over the whole run (after every scenario): {}\n",
            mib(peak)
        ));
    }
    if !results.targets.is_empty() {
        out.push_str("\ntargets:\n");
        for check in &results.targets {
            let (verdict, why) = match &check.verdict {
                Verdict::Met => ("met", String::new()),
                Verdict::Missed => ("MISSED", String::new()),
                Verdict::NotJudged(why) => ("not judged", format!(" ({why})")),
            };
            out.push_str(&format!(
                "  {:<44} {:<10} {}{}\n",
                check.target, verdict, check.measured, why
            ));
        }
    }
    for note in &results.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}
