//! The end-to-end tests of the service, one test binary: wiring, CLI, processes and
//! transports (HTTP, gRPC, TLS), metrics, audit and logs, each former test file one
//! module here (`cargo test -p trustmint --test end_to_end http_mint::` runs one). One
//! binary links the whole service once instead of once per file.
//!
//! Not here, each its own binary in `crates/server/tests/`: the tests that must not share
//! a process with others — they install a process-wide panic hook or tracing subscriber,
//! own Redis processes they kill or pause, or time signals to real processes
//! (`redis_faults`, `redis_cluster_failover`, `redis_tls`, `config_reload`,
//! `shutdown_drain`, `jwks_outage`, `otlp_trace`).
//!
//! The helpers are shared with those binaries: `support/` (the app spawner, Redis
//! targets, `trustmint` processes) and `observability/` (metrics parser, OTLP collector,
//! audit stream reader) stay next to them.

#[path = "../observability/mod.rs"]
mod observability;
#[path = "../support/mod.rs"]
mod support;

mod audit;
mod ci_platforms;
mod cli;
mod custom_issuers;
mod deploy_manifests;
mod docs_configuration;
mod doors;
mod gateway;
mod grpc_api;
mod http_mint;
mod metrics;
mod metrics_cardinality;
mod metrics_verify;
mod no_secrets_in_logs;
mod publisher_policy;
mod rate_limit;
mod redis_replicas;
