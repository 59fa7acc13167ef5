//! The results: a compact table on stdout and the same as JSON, for comparing runs.

use std::path::PathBuf;

use serde::Serialize;

use crate::cli::{Cli, ServiceLogs};
use crate::error::BenchError;
use crate::memory::MemoryResult;
use crate::run::ScenarioResult;
use crate::scenarios::WarmUp;

/// Bumped when the JSON layout changes incompatibly.
pub(crate) const RESULTS_FORMAT: u32 = 1;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Results {
    /// Layout version of this JSON.
    pub(crate) format: u32,
    /// The machine and the options.
    pub(crate) run: RunInfo,
    /// Cold first mint and warm-up.
    pub(crate) warm_up: Option<WarmUp>,
    /// Measured scenarios, in run order.
    pub(crate) scenarios: Vec<ScenarioResult>,
    /// Memory per token (unless skipped).
    pub(crate) memory: Option<MemoryResult>,
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
    /// `memory`, `redis` or `redis-cluster`.
    pub(crate) store: String,
    /// `--requests`.
    pub(crate) requests: usize,
    /// `--concurrency`.
    pub(crate) concurrency: usize,
    /// `--duration`.
    pub(crate) duration_secs: Option<f64>,
    /// `--memory-tokens`.
    pub(crate) memory_tokens: usize,
    /// `--http-workers`.
    pub(crate) http_workers: usize,
    /// `--service-logs`.
    pub(crate) service_logs: ServiceLogs,
    /// `--backtraces`.
    pub(crate) backtraces: bool,
    /// `--scenarios`.
    pub(crate) scenarios: Vec<crate::cli::Scenario>,
    /// The service runs as a child process of the load generator, on the same cores.
    pub(crate) topology: &'static str,
}

impl RunInfo {
    /// Describes this machine and `cli`.
    pub(crate) fn new(cli: &Cli, store: &str, started_at: i64) -> Self {
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
            store: store.to_owned(),
            requests: cli.requests,
            concurrency: cli.concurrency,
            duration_secs: cli.duration,
            memory_tokens: cli.memory_tokens,
            http_workers: cli.http_workers,
            service_logs: cli.service_logs,
            backtraces: cli.backtraces,
            scenarios: cli.scenarios.clone(),
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

/// `--output`, else `$CARGO_TARGET_DIR/bench/results.json`, else the workspace's
/// `target/bench/results.json`.
pub(crate) fn output_path(cli: &Cli) -> PathBuf {
    if let Some(path) = &cli.output {
        return path.clone();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // crates/bench → the workspace root.
            let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest_dir
                .ancestors()
                .nth(2)
                .unwrap_or(manifest_dir)
                .join("target")
        });
    target.join("bench").join("results.json")
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

/// The table.
pub(crate) fn render_table(results: &Results) -> String {
    let mut out = String::new();
    let run = &results.run;
    out.push_str(&format!(
        "trustmint bench — {} store, {} clients, {} CPUs ({}), {} build, service logs {:?}{}\n",
        run.store,
        run.concurrency,
        run.cpus,
        run.cpu_model.as_deref().unwrap_or("unknown CPU"),
        if run.release_build {
            "release"
        } else {
            "DEBUG"
        },
        run.service_logs,
        if run.backtraces {
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
    out.push_str(&format!(
        "\n{:<30} {:>7} {:>5} {:>8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8}\n",
        "scenario",
        "ok",
        "fail",
        "req/s",
        "p50µs",
        "p90µs",
        "p99µs",
        "maxµs",
        "usecase",
        "svcCPU",
        "cliCPU"
    ));
    let memory_fill = results.memory.as_ref().map(|memory| &memory.fill);
    for scenario in results.scenarios.iter().chain(memory_fill) {
        let t = &scenario.throughput;
        out.push_str(&format!(
            "{:<30} {:>7} {:>5} {:>8.0} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8.0} {:>8.0}\n",
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
        ));
    }
    out.push_str("  (usecase = mean µs inside Exchange::mint/verify per the service's metrics; CPU = µs of CPU per request)\n");
    for scenario in results.scenarios.iter().chain(memory_fill) {
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
    if let Some(memory) = &results.memory {
        out.push_str(&format!(
            "\nmemory ({} store): {} tokens, service RSS {} → {}: {:.0} bytes per token\n",
            memory.store,
            memory.tokens,
            mib(memory.rss_before_bytes),
            mib(memory.rss_after_bytes),
            memory.rss_bytes_per_token,
        ));
        if let Some(redis) = &memory.redis {
            out.push_str(&format!(
                "redis: used_memory +{:.0} bytes per token; MEMORY USAGE tok: {:.0} B (n={}, {}–{}), jti: {:.0} B (n={}); audit stream {}\n",
                redis.used_memory_bytes_per_token,
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
    for note in &results.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}
