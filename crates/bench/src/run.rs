//! One benchmark run: the test issuers, the service child, the clients, and the
//! measurement wrapper every scenario goes through.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use trustmint_testkit::{IssuerOptions, KeyAlgorithm, TestIssuer};

use crate::child::{ChildSpec, IssuerSpec, JWKS_REFRESH_COOLDOWN_SECS, RedisSpec};
use crate::cli::{Cli, Profile};
use crate::clients::{self, TokenClient};
use crate::error::BenchError;
use crate::load::{LoadPlan, LoadResult, RatePlan};
use crate::redis_probe::RedisProbe;
use crate::service::{ServiceProcess, own_cpu_time};
use crate::service_metrics::{MeanDuration, MetricsSnapshot};
use crate::stats::Throughput;

/// The use-case histogram of mint.
pub(crate) const MINT_HISTOGRAM: &str = "trustmint_exchange_duration_seconds";
/// The use-case histogram of verify.
pub(crate) const VERIFY_HISTOGRAM: &str = "trustmint_verify_duration_seconds";
/// The store-call histogram (label `op`).
const STORE_HISTOGRAM: &str = "trustmint_store_duration_seconds";

/// One measured scenario.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScenarioResult {
    /// Stable identifier (JSON key for comparing runs).
    pub(crate) name: String,
    /// What was sent and what counts as success.
    pub(crate) what: String,
    /// Requests per second and latency, successes only.
    pub(crate) throughput: Throughput,
    /// Service CPU time (user + system) per request sent, in microseconds.
    pub(crate) service_cpu_us_per_request: f64,
    /// Load-generator CPU time per request sent, in microseconds.
    pub(crate) client_cpu_us_per_request: f64,
    /// Mean time inside the use case (mint or verify), from the service's metrics.
    pub(crate) in_use_case: Option<MeanDuration>,
    /// Mean time of each store call during the scenario, from the service's metrics.
    pub(crate) store_calls: std::collections::BTreeMap<String, MeanDuration>,
    /// Requests in flight at once (1 = sequential: unloaded latency); for a fixed-rate
    /// run, the most allowed in flight.
    pub(crate) concurrency: usize,
    /// The offered rate of a fixed-rate (open-loop) run, per second; latencies then run
    /// from each request's due time.
    pub(crate) offered_rate: Option<f64>,
    /// Wall time spent signing this scenario's JWTs before it started, in seconds.
    pub(crate) signing_secs: Option<f64>,
}

/// How a load was offered, as a result records it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Requests in flight at once (at most, for an open loop).
    pub(crate) concurrency: usize,
    /// Offered rate of an open loop.
    pub(crate) offered_rate: Option<f64>,
}

impl From<LoadPlan> for Shape {
    fn from(plan: LoadPlan) -> Self {
        Self {
            concurrency: plan.concurrency,
            offered_rate: None,
        }
    }
}

impl From<RatePlan> for Shape {
    fn from(plan: RatePlan) -> Self {
        Self {
            concurrency: plan.max_in_flight,
            offered_rate: Some(plan.rate),
        }
    }
}

/// The issuers, the service and the clients of one run.
#[derive(Debug)]
pub(crate) struct Bench {
    /// RS256 issuer (what GitHub uses): every measured mint scenario.
    pub(crate) rs256: TestIssuer,
    /// ES256 issuer: only to sign the RSS run's many JWTs quickly.
    pub(crate) es256: TestIssuer,
    /// RS256 issuer used only by the rotation storm, so its key state is its own.
    pub(crate) rotation: TestIssuer,
    /// The service child.
    pub(crate) service: ServiceProcess,
    /// One per load worker.
    pub(crate) http_clients: Vec<reqwest::Client>,
    /// One per load worker.
    pub(crate) token_clients: Vec<TokenClient>,
    /// The index's gRPC bearer token.
    pub(crate) grpc_auth_token: String,
    /// The Redis store's probe (only with `--redis`/`--cluster`).
    pub(crate) redis_probe: Option<RedisProbe>,
    /// Clients of the RSS fill and the optional scenarios.
    pub(crate) concurrency: usize,
}

impl Bench {
    /// Starts the issuers and the service, and connects the clients.
    pub(crate) async fn start(cli: &Cli, profile: &Profile) -> Result<Self, BenchError> {
        let rs256 = TestIssuer::start().await;
        let es256 = TestIssuer::start_with(IssuerOptions {
            algorithm: KeyAlgorithm::ES256,
            ..IssuerOptions::default()
        })
        .await;
        let rotation = TestIssuer::start().await;
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let redis = cli.uses_redis().then(|| RedisSpec {
            url: cli.redis_url.clone(),
            cluster_urls: cli.cluster.clone(),
            key_prefix: format!("trustmint-bench-{}:", &run_id[..12]),
        });
        let grpc_auth_token = format!("bench-{run_id}");
        let spec = ChildSpec {
            issuers: vec![
                IssuerSpec {
                    url: rs256.url(),
                    algorithm: "RS256".to_owned(),
                },
                IssuerSpec {
                    url: es256.url(),
                    algorithm: "ES256".to_owned(),
                },
                IssuerSpec {
                    url: rotation.url(),
                    algorithm: "RS256".to_owned(),
                },
            ],
            redis: redis.clone(),
            http_workers: profile.http_workers,
            grpc_auth_token: grpc_auth_token.clone(),
            logs: profile.service_logs,
            jwks_refresh_cooldown_secs: JWKS_REFRESH_COOLDOWN_SECS,
        };
        // Redis first: without it the service would start, report not-ready and refuse
        // every exchange; better to say so at once.
        let redis_probe = match &redis {
            Some(redis) => {
                let nodes = if redis.cluster_urls.is_empty() {
                    vec![redis.url.clone()]
                } else {
                    redis.cluster_urls.clone()
                };
                let probe = RedisProbe::connect(&nodes, &redis.key_prefix)
                    .await
                    .map_err(|error| {
                        BenchError::Setup(format!(
                            "cannot reach Redis at {} ({error}); start one with `redis-server --daemonize yes --port 6379 --save \"\" --appendonly no`, pass --redis-url, or run with --memory",
                            nodes.join(",")
                        ))
                    })?;
                Some(probe)
            }
            None => None,
        };
        let service = ServiceProcess::start(&spec, profile.backtraces)?;
        eprintln!(
            "service pid {} (http {}, grpc {})",
            service.pid(),
            service.http_url,
            service.grpc_url
        );
        let clients = profile.max_level();
        let http_clients = clients::http_clients(clients)?;
        let token_clients = clients::token_clients(
            &service.grpc_url,
            &grpc_auth_token,
            clients,
            profile.grpc_connections,
        )
        .await?;
        Ok(Self {
            rs256,
            es256,
            rotation,
            service,
            http_clients,
            token_clients,
            grpc_auth_token,
            redis_probe,
            concurrency: profile.concurrency,
        })
    }

    /// A plan for `requests` requests at the run's default concurrency.
    pub(crate) fn plan(&self, requests: usize) -> LoadPlan {
        self.plan_at(requests, self.concurrency)
    }

    /// A plan for `requests` requests, `concurrency` at a time.
    pub(crate) fn plan_at(&self, requests: usize, concurrency: usize) -> LoadPlan {
        LoadPlan {
            requests,
            concurrency,
            duration: None,
        }
    }

    /// The first HTTP client (for setup calls and scrapes).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http_clients[0]
    }

    /// Runs `load` (which follows `plan`), with CPU times and the service's metrics
    /// taken around it.
    pub(crate) async fn measure(
        &self,
        name: &str,
        what: &str,
        use_case_histogram: &str,
        signing_secs: Option<f64>,
        shape: impl Into<Shape>,
        load: impl Future<Output = LoadResult>,
    ) -> Result<ScenarioResult, BenchError> {
        let shape = shape.into();
        let metrics_before = MetricsSnapshot::fetch(self.http(), &self.service.http_url).await?;
        let service_cpu_before = self.service.cpu_time()?;
        let client_cpu_before = own_cpu_time()?;
        let result = load.await;
        let client_cpu = own_cpu_time()?.saturating_sub(client_cpu_before);
        let service_cpu = self.service.cpu_time()?.saturating_sub(service_cpu_before);
        let metrics_after = MetricsSnapshot::fetch(self.http(), &self.service.http_url).await?;
        let sent = (result.successes() + result.failure_count()).max(1) as f64;
        let per_request_us = |cpu: Duration| cpu.as_secs_f64() * 1e6 / sent;
        let scenario = ScenarioResult {
            name: name.to_owned(),
            what: what.to_owned(),
            service_cpu_us_per_request: per_request_us(service_cpu),
            client_cpu_us_per_request: per_request_us(client_cpu),
            in_use_case: metrics_after.mean_since(&metrics_before, use_case_histogram, None),
            store_calls: metrics_after.means_by_label(&metrics_before, STORE_HISTOGRAM, "op"),
            concurrency: shape.concurrency,
            offered_rate: shape.offered_rate,
            signing_secs,
            throughput: Throughput::of(result),
        };
        eprintln!(
            "  {name}: {:.0}/s, p50 {:.0} µs, p99 {:.0} µs, {} ok, {} failed",
            scenario.throughput.per_sec,
            scenario.throughput.latency.p50_us,
            scenario.throughput.latency.p99_us,
            scenario.throughput.ok,
            scenario.throughput.failures.values().sum::<u64>(),
        );
        Ok(scenario)
    }

    /// Stops the service and deletes this run's Redis keys. Returns notes for the report.
    pub(crate) async fn finish(self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.service.stop() {
            notes.push("the service did not stop gracefully and was killed".to_owned());
        }
        if let Some(probe) = &self.redis_probe {
            match probe.delete_run_keys().await {
                Ok(deleted) => eprintln!("deleted {deleted} Redis keys of this run"),
                Err(error) => {
                    notes.push(format!("could not delete this run's Redis keys: {error}"))
                }
            }
        }
        notes
    }
}
