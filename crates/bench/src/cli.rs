//! Command-line options. The defaults are the issue's benchmark on a 2-core machine in
//! under two minutes: the Redis store, exchange and verify at increasing concurrency,
//! the fixed-rate runs, the key-rotation storm, the hardware floor and RSS.
//! `--smoke` shrinks every count so CI can run the whole harness in seconds.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Benchmarks a real trustmint service (child process) over real sockets.
#[derive(Debug, Parser)]
#[command(name = "trustmint-bench", version)]
pub(crate) struct Cli {
    /// Use the embedded in-memory store instead of Redis.
    #[arg(long, conflicts_with = "cluster")]
    pub(crate) memory: bool,
    /// The standalone Redis (the default store; a unique key prefix, deleted afterwards).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub(crate) redis_url: String,
    /// Use a Redis Cluster: comma-separated seed URLs (every master, for the probes).
    #[arg(long, value_delimiter = ',')]
    pub(crate) cluster: Vec<String>,
    /// A few seconds: every scenario with tiny counts, to keep the harness working (CI).
    /// Exits non-zero when a request fails or the rotation storm fetches other than once.
    #[arg(long)]
    pub(crate) smoke: bool,
    /// Concurrency levels of the exchange and verify runs.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16, 64])]
    pub(crate) levels: Vec<usize>,
    /// Exchanges per concurrency level (each needs a fresh RS256 JWT, signed first).
    #[arg(long, default_value_t = 4_000)]
    pub(crate) exchanges: usize,
    /// Verifies per concurrency level.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) verifies: usize,
    /// Offered rate of the fixed-rate exchange run, per second.
    #[arg(long, default_value_t = 1_000.0)]
    pub(crate) exchange_rate: f64,
    /// Offered rate of the fixed-rate verify run, per second.
    #[arg(long, default_value_t = 5_000.0)]
    pub(crate) verify_rate: f64,
    /// Length of each fixed-rate run, seconds.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) fixed_rate_secs: f64,
    /// Concurrent exchanges signed with a new key id in the rotation storm.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) storm: usize,
    /// Exchanges before the final RSS reading (the target is judged at 1,000,000:
    /// `just bench-rss`, ~5 minutes here).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) rss_exchanges: usize,
    /// Concurrent clients of the RSS fill and of the optional scenarios.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// Requests per row of the optional scenarios (`many-projects`, `forged`).
    #[arg(long, default_value_t = 3_000)]
    pub(crate) requests: usize,
    /// actix-web workers of the service (`[server] http_workers`; its default is 2).
    #[arg(long, default_value_t = 2)]
    pub(crate) http_workers: usize,
    /// HTTP/2 connections the gRPC clients share (an index shares one `Channel`; each
    /// exchange client, a CI runner, has its own HTTP/1.1 connection).
    #[arg(long, default_value_t = 2)]
    pub(crate) grpc_connections: usize,
    /// Log output of the service, as `[telemetry] log_format` (drained by the bench).
    #[arg(long, value_enum, default_value_t = ServiceLogs::Json)]
    pub(crate) service_logs: ServiceLogs,
    /// Run the service with backtrace capture on (`RUST_LIB_BACKTRACE=1`), to show what
    /// the `RUST_LIB_BACKTRACE=0` advice saves on rejected tokens.
    #[arg(long)]
    pub(crate) backtraces: bool,
    /// Scenarios to run, comma-separated, in this order (default: all but the optional
    /// `many-projects` and `forged`).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Scenario::DEFAULT)]
    pub(crate) scenarios: Vec<Scenario>,
    /// Exit with status 1 when a target is missed or a request failed.
    #[arg(long)]
    pub(crate) check_targets: bool,
    /// Where to write the JSON report (default: `<target dir>/bench/report.json`).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Run the soak instead of the benchmark (`just soak`): a fresh redis-server, mixed
    /// exchanges and verifies at half of the measured capacity, a key rotation (SIGHUP)
    /// and a publisher change every period; exits 1 when its verdict fails.
    #[arg(long)]
    pub(crate) soak: bool,
    /// Length of the soak in minutes (fractions allowed). Under 5 minutes every period
    /// shrinks with it (rotation = a fifth of the run, sampling = a sixth of that), so
    /// `--soak-minutes 0.3` is an 18-second smoke.
    #[arg(long, default_value_t = 10.0, requires = "soak")]
    pub(crate) soak_minutes: f64,
    /// The service binary the soak runs as `BIN serve --config FILE` (`just soak` passes
    /// `target/release/trustmint`); default: this binary's `serve-config`, which runs
    /// what `trustmint serve` runs.
    #[arg(long, requires = "soak")]
    pub(crate) service_bin: Option<PathBuf>,
    /// Where the soak writes `report.json`, `plot.png` and the service's warnings
    /// (default: `<target dir>/soak`).
    #[arg(long, requires = "soak")]
    pub(crate) soak_dir: Option<PathBuf>,
    /// A TrueType font for the plot's labels (default: DejaVu Sans where Debian's
    /// fonts-dejavu-core puts it; without one the plot has no text).
    #[arg(long, requires = "soak")]
    pub(crate) soak_font: Option<PathBuf>,
    /// Leave events out of the soak's schedule, to tell which one disturbs latency
    /// (a diagnosis, not a soak: the verdict still runs, the report records the skip).
    #[arg(long, value_enum, value_delimiter = ',', requires = "soak")]
    pub(crate) soak_skip: Vec<SoakEvent>,
    /// Internal: the service side of the benchmark (started by the bench itself).
    #[command(subcommand)]
    pub(crate) child: Option<ChildCommand>,
}

/// An event of the soak's schedule that `--soak-skip` can leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SoakEvent {
    /// The key rotation (SIGHUP) at each period boundary.
    Rotations,
    /// The publisher create + delete half a period later.
    PublisherChanges,
}

/// The hidden subcommand the bench re-executes itself with.
#[derive(Debug, Subcommand)]
pub(crate) enum ChildCommand {
    /// Run the service described by `spec` (JSON) until stdin closes.
    #[command(hide = true)]
    ServeChild {
        /// A `ChildSpec` as JSON.
        #[arg(long)]
        spec: String,
    },
    /// Run the service from a config file as `trustmint serve --config FILE` does
    /// (SIGHUP reloads `[keys]`, SIGTERM drains), until SIGTERM or stdin closes.
    #[command(hide = true)]
    ServeConfig {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
}

/// A measured scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scenario {
    /// The hardware floor: single-thread RS256 verifies/s, Redis round trips/s.
    Floor,
    /// HTTP mint-token at each concurrency level.
    Exchange,
    /// gRPC VerifyToken at each concurrency level.
    Verify,
    /// Exchanges and verifies at a fixed offered rate (coordinated-omission-aware).
    FixedRate,
    /// Concurrent exchanges signed with a new key id: JWKS fetches.
    Rotation,
    /// Service RSS idle and after `--rss-exchanges` exchanges; Redis memory per key.
    Rss,
    /// Optional: mint and verify with a 250-project publisher (PyPI #18514).
    ManyProjects,
    /// Optional: forged JWTs (broken signature), what attack traffic costs.
    Forged,
}

impl Scenario {
    /// What `just bench` runs.
    pub(crate) const DEFAULT: [Scenario; 6] = [
        Scenario::Floor,
        Scenario::Exchange,
        Scenario::Verify,
        Scenario::FixedRate,
        Scenario::Rotation,
        Scenario::Rss,
    ];

    /// Every scenario (what `--smoke` runs).
    pub(crate) const ALL: [Scenario; 8] = [
        Scenario::Floor,
        Scenario::Exchange,
        Scenario::Verify,
        Scenario::FixedRate,
        Scenario::Rotation,
        Scenario::Rss,
        Scenario::ManyProjects,
        Scenario::Forged,
    ];
}

/// The service's log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ServiceLogs {
    /// No subscriber: log calls cost only their level check.
    Off,
    /// Human-readable lines.
    Text,
    /// JSON lines (what a production deployment ships to a collector).
    Json,
}

/// The counts a run uses: the options, or the smoke profile's tiny ones.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Profile {
    /// `memory`, `redis` or `redis-cluster`.
    pub(crate) store: &'static str,
    /// `--smoke`.
    pub(crate) smoke: bool,
    /// Concurrency levels of the exchange and verify runs.
    pub(crate) levels: Vec<usize>,
    /// Exchanges per level.
    pub(crate) exchanges: usize,
    /// Verifies per level.
    pub(crate) verifies: usize,
    /// Fixed-rate exchange run, per second.
    pub(crate) exchange_rate: f64,
    /// Fixed-rate verify run, per second.
    pub(crate) verify_rate: f64,
    /// Length of each fixed-rate run, seconds.
    pub(crate) fixed_rate_secs: f64,
    /// Rotation storm size.
    pub(crate) storm: usize,
    /// Exchanges of the RSS run.
    pub(crate) rss_exchanges: usize,
    /// Clients of the RSS fill and the optional scenarios.
    pub(crate) concurrency: usize,
    /// Requests per row of the optional scenarios.
    pub(crate) requests: usize,
    /// Scenarios, in run order.
    pub(crate) scenarios: Vec<Scenario>,
    /// `--http-workers`.
    pub(crate) http_workers: usize,
    /// `--grpc-connections`.
    pub(crate) grpc_connections: usize,
    /// `--service-logs`.
    pub(crate) service_logs: ServiceLogs,
    /// `--backtraces`.
    pub(crate) backtraces: bool,
}

impl Cli {
    /// What this run does.
    pub(crate) fn profile(&self) -> Profile {
        let store = match (self.memory, self.cluster.is_empty()) {
            (true, _) => "memory",
            (false, true) => "redis",
            (false, false) => "redis-cluster",
        };
        let mut levels: Vec<usize> = self.levels.iter().map(|&level| level.max(1)).collect();
        levels.dedup();
        let full = Profile {
            store,
            smoke: self.smoke,
            levels,
            exchanges: self.exchanges.max(1),
            verifies: self.verifies.max(1),
            exchange_rate: positive_or(self.exchange_rate, 1_000.0),
            verify_rate: positive_or(self.verify_rate, 5_000.0),
            fixed_rate_secs: positive_or(self.fixed_rate_secs, 5.0),
            storm: self.storm.max(1),
            rss_exchanges: self.rss_exchanges,
            concurrency: self.concurrency.max(1),
            requests: self.requests.max(1),
            scenarios: self.scenarios.clone(),
            http_workers: self.http_workers,
            grpc_connections: self.grpc_connections.max(1),
            service_logs: self.service_logs,
            backtraces: self.backtraces,
        };
        if !self.smoke {
            return full;
        }
        Profile {
            levels: vec![1, 4],
            exchanges: 40,
            verifies: 200,
            exchange_rate: 100.0,
            verify_rate: 500.0,
            fixed_rate_secs: 1.0,
            storm: 50,
            rss_exchanges: 300,
            concurrency: 4,
            requests: 40,
            scenarios: Scenario::ALL.to_vec(),
            ..full
        }
    }

    /// Whether a Redis store is in use.
    pub(crate) fn uses_redis(&self) -> bool {
        !self.memory
    }
}

fn positive_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        fallback
    }
}

impl Profile {
    /// Whether `scenario` was selected.
    pub(crate) fn runs(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }

    /// The largest concurrency level (clients to create).
    pub(crate) fn max_level(&self) -> usize {
        self.levels
            .iter()
            .copied()
            .chain([self.concurrency])
            .max()
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(args: &[&str]) -> Profile {
        Cli::parse_from(std::iter::once("trustmint-bench").chain(args.iter().copied())).profile()
    }

    #[test]
    fn defaults_are_the_issues_benchmark_on_redis() {
        let default = profile(&[]);
        assert_eq!(default.store, "redis");
        assert_eq!(default.levels, [1, 4, 16, 64]);
        assert_eq!(
            (default.exchange_rate, default.verify_rate, default.storm),
            (1_000.0, 5_000.0, 1_000)
        );
        assert_eq!(default.scenarios, Scenario::DEFAULT);
        assert!(!default.runs(Scenario::Forged));
        assert_eq!(profile(&["--memory"]).store, "memory");
        assert_eq!(
            profile(&["--cluster", "redis://a:7000,redis://b:7000"]).store,
            "redis-cluster"
        );
    }

    #[test]
    fn smoke_runs_every_scenario_small_and_ignores_bad_rates() {
        let smoke = profile(&["--smoke", "--exchanges", "100000"]);
        assert_eq!(smoke.levels, [1, 4]);
        assert_eq!(
            (smoke.exchanges, smoke.storm, smoke.rss_exchanges),
            (40, 50, 300)
        );
        assert_eq!(smoke.scenarios, Scenario::ALL);
        let odd = profile(&["--exchange-rate=-5", "--levels", "0,8"]);
        assert_eq!(odd.exchange_rate, 1_000.0);
        assert_eq!(odd.levels, [1, 8]);
        assert_eq!(odd.max_level(), 16, "the --concurrency default is larger");
    }
}
