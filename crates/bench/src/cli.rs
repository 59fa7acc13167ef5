//! Command-line options. Defaults suit a 2-core machine: enough requests for a stable
//! p99 (10,000 samples put 100 above it) without the run taking more than a few
//! minutes, most of which is signing RS256 JWTs up front.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Benchmarks a real trustmint service (child process) over real sockets.
#[derive(Debug, Parser)]
#[command(name = "trustmint-bench", version)]
pub(crate) struct Cli {
    /// Measured requests per scenario (mint scenarios pre-sign this many fresh JWTs).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) requests: usize,
    /// Concurrent clients (each an async task with its own connection).
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// Stop each scenario after this many seconds even if `--requests` are not done.
    #[arg(long)]
    pub(crate) duration: Option<f64>,
    /// Tokens minted for the memory scenario (0 skips it).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) memory_tokens: usize,
    /// Use the Redis store at `--redis-url` (a unique key prefix, deleted afterwards).
    #[arg(long)]
    pub(crate) redis: bool,
    /// The standalone Redis for `--redis`.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub(crate) redis_url: String,
    /// Use a Redis Cluster: comma-separated seed URLs (implies `--redis`).
    #[arg(long, value_delimiter = ',')]
    pub(crate) cluster: Vec<String>,
    /// actix-web workers of the service (`[server] http_workers`; its default is 2).
    #[arg(long, default_value_t = 2)]
    pub(crate) http_workers: usize,
    /// Log output of the service, as `[telemetry] log_format` (drained by the bench).
    #[arg(long, value_enum, default_value_t = ServiceLogs::Json)]
    pub(crate) service_logs: ServiceLogs,
    /// Run the service with backtrace capture on (`RUST_LIB_BACKTRACE=1`), to show what
    /// the `RUST_LIB_BACKTRACE=0` advice saves on rejected tokens.
    #[arg(long)]
    pub(crate) backtraces: bool,
    /// Scenarios to run, comma-separated (default: all, in this order).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Scenario::ALL)]
    pub(crate) scenarios: Vec<Scenario>,
    /// Where to write the JSON results (default: `<target dir>/bench/results.json`).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Internal: the service side of the benchmark (started by the bench itself).
    #[command(subcommand)]
    pub(crate) child: Option<ChildCommand>,
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
}

/// A measured scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scenario {
    /// 1. HTTP mint-token with the declared publisher.
    Mint,
    /// 2. gRPC VerifyToken.
    Verify,
    /// 3. Mint and verify with a 250-project publisher (PyPI #18514).
    ManyProjects,
    /// 4. Forged JWTs (broken signature).
    Forged,
    /// 5. Memory per token.
    Memory,
}

impl Scenario {
    /// Every scenario, in run order.
    pub(crate) const ALL: [Scenario; 5] = [
        Scenario::Mint,
        Scenario::Verify,
        Scenario::ManyProjects,
        Scenario::Forged,
        Scenario::Memory,
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

impl Cli {
    /// Whether any Redis store is in use.
    pub(crate) fn uses_redis(&self) -> bool {
        self.redis || !self.cluster.is_empty()
    }

    /// Whether `scenario` was selected.
    pub(crate) fn runs(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }

    /// The per-scenario time cap.
    pub(crate) fn duration_cap(&self) -> Option<std::time::Duration> {
        self.duration
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map(std::time::Duration::from_secs_f64)
    }
}
